"""The stand-in's forms and static lists refuse what Adobe's pages say Marketo refuses (tests/fake_marketo_forms.py),
so a client that drifts from them fails here and in tests/test_marketo_forms.py."""

from __future__ import annotations

import pytest

from marketo_support import client, fake  # noqa: F401

from programkit.workspaces.marketo.client import MarketoError

A = "/rest/asset/v1"


@pytest.fixture
def program(fake, client):
    pid = client.post(f"{A}/programs.json", {"name": "P", "folder": {"id": 8, "type": "Folder"}, "type": "Default",
                                             "channel": "Operational"})[0]["id"]
    return {"id": pid, "type": "Program"}


def _code(call) -> str:
    with pytest.raises(MarketoError) as err:
        call()
    return err.value.marketo_code


def test_a_new_form_has_three_fields_and_takes_css_only_on_update(client, program):
    form = client.post(f"{A}/forms.json", {"name": "F", "folder": program})[0]
    assert (form["status"], form["buttonLabel"], form["thankYouList"][0]["followupType"]) == ("draft", "Submit", "none")
    assert [f["id"] for f in client.get(f"{A}/form/{form['id']}/fields.json")] == ["FirstName", "LastName", "Email"]
    assert [f["dataType"] for f in client.get(f"{A}/form/{form['id']}/fields.json")] == ["text", "text", "email"]
    # CreateLpFormRequest has no customCss: the stand-in refuses a parameter outside Adobe's contract
    assert _code(lambda: client.post(f"{A}/forms.json", {"name": "G", "folder": program, "customCss": "x"})) == "1003"
    client.post(f"{A}/form/{form['id']}.json", {"customCss": ".mktoForm{}"})


def test_fields_values_and_layout_as_the_guide_says(fake, client, program):
    fid = client.post(f"{A}/forms.json", {"name": "F", "folder": program})[0]["id"]
    assert _code(lambda: client.post(f"{A}/form/{fid}/fields.json", {"fieldId": "SfdcType"})) == "709"  # CRM's
    assert _code(lambda: client.post(f"{A}/form/{fid}/fields.json", {"fieldId": "Email"})) == "709"  # twice
    # on add, values are a comma-separated list; on update, the JSON array with labels
    added = client.post(f"{A}/form/{fid}/fields.json", {"fieldId": "Country", "fieldType": "picklist",
                                                        "values": "DK,SE"})[0]
    assert added["fieldMetaData"]["values"] == [{"label": "DK", "value": "DK"}, {"label": "SE", "value": "SE"}]
    assert added["dataType"] == "select"
    client.post(f"{A}/form/{fid}/field/Country.json", {"values": [{"label": "Denmark", "value": "DK"}]})
    rows = [{"columnNumber": 0, "rowNumber": i, "fieldName": n} for i, n in
            enumerate(["Country", "Email", "FirstName", "LastName"])]
    assert _code(lambda: client.post(f"{A}/form/{fid}/reArrange.json", {"positions": rows[:3]})) == "1003"  # all
    assert _code(lambda: client.post(f"{A}/form/{fid}/reArrange.json", {"positions": rows[:3] + [
        {"columnNumber": 0, "rowNumber": 10, "fieldName": "LastName"}]})) == "1003"  # ten rows
    client.post(f"{A}/form/{fid}/reArrange.json", {"positions": rows})
    assert [f["id"] for f in client.get(f"{A}/form/{fid}/fields.json")] == ["Country", "Email", "FirstName",
                                                                           "LastName"]
    rule = {"ruleType": "show", "rules": [{"subjectField": "Email", "operator": "matches", "values": []}]}
    assert _code(lambda: client.post(f"{A}/form/{fid}/field/Country/visibility.json",
                                     {"visibilityRule": rule})) == "1003"
    # a follow-up rule is lp or url, exactly one the default; an lp names a landing page that exists
    stay = {"followupType": "none", "followupValue": None, "default": True, "operator": None, "subjectField": None,
            "values": []}
    assert _code(lambda: client.post(f"{A}/form/{fid}/thankYouPage.json", {"thankyou": [stay]})) == "1003"
    assert _code(lambda: client.post(f"{A}/form/{fid}/thankYouPage.json", {"thankyou": [
        {**stay, "followupType": "lp", "followupValue": 77}]})) == "702"


def test_static_lists_keep_id_folders_unique_names_and_refuse_deleting_a_list_in_use(fake, client, program):
    made = client.post(f"{A}/staticLists.json", {"name": "Invitees", "folder": program})[0]
    assert made["folder"] == program and "description" not in made  # EL static-lists: as the guide shows it
    assert _code(lambda: client.post(f"{A}/staticLists.json", {"name": "invitees", "folder": program})) == "709"
    with fake.lock:
        fake.assets["smartCampaign"][1] = {"id": 1, "name": "C", "_rules": {"filters": [
            {"name": "Member of List", "conditions": [{"values": ["Invitees"]}]}]}}
    assert _code(lambda: client.post(f"{A}/staticList/{made['id']}/delete.json")) == "709"
