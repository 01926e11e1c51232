"""Forms and static lists on the Marketo target (issue #15), against the stand-in (tests/fake_marketo_forms.py,
which models Adobe's Forms and Static Lists pages). The bundle is the event program's form and lists (its
form sends people to a URL here: the thank-you landing page is the landing-page kind's, tested with it)."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fake_marketo
from bundle_edits import edit_asset, edit_manifest
from fake_marketo import FakeMarketo
from marketo_support import CLIENT_ID, SECRET, cli_env, marketo_env  # noqa: F401

from programkit import canonical
from programkit.validate import validate_path

ROOT = Path(__file__).resolve().parent.parent
EVENT = ROOT / "samples" / "event-program"
FORM = "forms/event-registration-form.json"
LISTS = ("lists/invitees.json", "lists/attendees.json")
THANKS = "https://example.com/customer-day/thank-you"
#: the event program's channel, as a Marketo instance has it (Admin > Tags > Channels; Webinar is one of the
#: channels every subscription starts with)
WEBINAR = ("Event", [("Not in Program", 0, False), ("Invited", 10, False), ("Registered", 20, False),
                     ("No Show", 30, False), ("Attended", 40, True)])


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setitem(fake_marketo.CHANNELS, "Webinar", WEBINAR)
    server = FakeMarketo(CLIENT_ID, SECRET, rate_limit=100, rate_window=1.0, max_concurrent=10,
                         tag_types={"Program Purpose": ["Lead Management", "Event"]})
    server.start()
    yield server
    server.stop()


def form_bundle(tmp_path: Path) -> Path:
    """The event program with only its form and its two static lists; the form thanks with a URL."""
    bundle = tmp_path / "ev-form"
    shutil.copytree(EVENT, bundle)
    edit_manifest(bundle, lambda m: m.update(assets=[a for a in m["assets"] if a["kind"] in ("form", "staticList")]))
    edit_asset(bundle, FORM, lambda d: d.update(thankYou={"type": "url", "url": THANKS}))
    return bundle


def _program(fake: FakeMarketo) -> dict:
    return next(p for p in fake.programs.values() if p["name"] == "EV-Customer Event")


def _state(fake: FakeMarketo) -> dict:
    with fake.lock:
        return copy.deepcopy({"programs": fake.programs, "folders": fake.folders,
                              "assets": {k: {i: {f: v for f, v in a.items() if f != "updatedAt"} for i, a in v.items()}
                                         for k, v in fake.assets.items() if v}})


def test_form_and_lists_import_as_marketo_holds_them_then_noop(fake, cli_env, invoke, tmp_path):
    bundle = form_bundle(tmp_path)
    done = invoke("import", str(bundle), "--target", fake.url, "--yes", "--approve")
    assert done.exit_code == 0, done.output
    prog = _program(fake)
    lists = {a["name"]: a for a in fake.assets["staticList"].values()}
    assert sorted(lists) == ["Attendees", "Invitees"]
    for name, rel in (("Invitees", LISTS[0]), ("Attendees", LISTS[1])):
        assert lists[name]["_path"] == f"{prog['_path']}/Lists/{name}"
        assert lists[name]["description"] == json.loads((bundle / rel).read_text())["description"]
        assert lists[name]["_members"] == 0  # members are never carried
    (form,) = fake.assets["form"].values()
    assert form["name"] == "Event Registration Form" and form["_path"] == f"{prog['_path']}/Assets/Event Registration Form"
    assert form["status"] == "approved"  # --approve
    assert (form["theme"], form["labelPosition"], form["buttonLabel"], form["waitingLabel"]) == (
        "simple", "above", "Register", "Please wait...")
    assert form["description"] == "Registration for the event: who is coming, and how to reach them."
    assert [(t["followupType"], t["followupValue"], t["default"]) for t in form["thankYouList"]] == [
        ("url", THANKS, True)]
    fields = form["_fields"]
    assert [f["id"] for f in fields] == ["Email", "FirstName", "LastName", "Company", "Title", "Country", "LeadSource"]
    assert [f.get("label") for f in fields] == ["Email address", "First name", "Last name", "Company", "Job title",
                                                "Country", ""]
    assert [f["required"] for f in fields] == [True, True, True, True, False, False, False]
    assert fields[0]["validationMessage"] == "Please give a valid email address."
    assert fields[5]["_type"] == "picklist" and fields[5]["fieldMetaData"]["values"] == [
        {"label": "Select...", "selected": True, "value": ""}, {"label": "Denmark", "value": "Denmark"},
        {"label": "France", "value": "France"}, {"label": "Sweden", "value": "Sweden"},
        {"label": "Other", "value": "Other"}]
    assert (fields[6]["_type"], fields[6]["defaultValue"]) == ("hidden", "Event Registration")
    # what the Forms API cannot write is on the checklist, with the reason
    steps = [line for line in done.output.splitlines() if line.startswith("- [ ] ")]
    assert [s for s in steps if "Person Source" in s] == [
        "- [ ] Field \"Person Source\" (hidden): set Autofill to URL Parameter \"source\" (the Forms API has no "
        "autofill setting for a hidden field)"]

    before = _state(fake)
    again = invoke("import", str(bundle), "--target", fake.url, "--yes", "--approve")
    assert again.exit_code == 0, again.output
    assert "nothing else was written" in again.output
    assert _state(fake) == before
    checked = invoke("verify", "--target", fake.url)
    assert checked.exit_code == 0, checked.output  # approved (--approve); the autofill cannot be read
    assert "manual    Field \"Person Source\" (hidden): set Autofill to URL Parameter" in checked.output
    assert "PK824 [marketo-step-unconfirmable] 1 step(s) cannot be checked through the API (1 form)" in checked.output


def test_export_gives_the_form_and_lists_back(fake, cli_env, invoke, tmp_path):
    bundle = form_bundle(tmp_path)
    assert invoke("import", str(bundle), "--target", fake.url, "--yes", "--approve").exit_code == 0
    out = tmp_path / "exported"
    exported = invoke("export", "EV-Customer Event", "--target", fake.url, "--out", str(out))
    assert exported.exit_code == 0, exported.output
    assert [f for f in validate_path(out).findings if f.severity.value == "error"] == []
    for rel in LISTS:
        assert (out / rel).read_bytes() == (bundle / rel).read_bytes()
    # the form comes back byte-identical but for what the Forms API cannot read: a hidden field's autofill
    assert canonical.dump_bytes(json.loads((EVENT / FORM).read_bytes())) == (EVENT / FORM).read_bytes()
    want = json.loads((bundle / FORM).read_text())
    del want["fields"][6]["autofill"]
    assert (out / FORM).read_bytes() == canonical.dump_bytes(want)  # the sample's bytes, less that one key
    needs = json.loads((out / "bundle.json").read_text())["needsCompletion"]
    assert sorted((n["path"], n["what"]) for n in needs if n.get("path") == FORM) == [
        (FORM, "autofill of hidden field 'Person Source'"), (FORM, "custom CSS")]


def test_rollback_deletes_the_form_and_lists(fake, cli_env, invoke, tmp_path):
    before = _state(fake)
    bundle = form_bundle(tmp_path)
    assert invoke("import", str(bundle), "--target", fake.url, "--yes", "--approve").exit_code == 0
    rolled = invoke("rollback", "--target", fake.url)
    assert rolled.exit_code == 0, rolled.output
    assert _state(fake) == before


def test_preflight_lists_every_refusal_at_once_and_writes_nothing(fake, cli_env, invoke, tmp_path):
    bundle = form_bundle(tmp_path)
    with fake.lock:  # a list of that name elsewhere in the instance: Marketo's list names are unique
        fake.assets["staticList"][900] = {"id": 900, "name": "Invitees", "description": "", "createdAt": "",
                                          "updatedAt": "", "folder": {"id": 7, "type": "Folder"}, "computedUrl": "",
                                          "_path": "/Marketing Activities/Default/Operational/Invitees",
                                          "_members": 12}
    fake.unformable_fields = {"title"}  # a person field the instance does not offer to forms

    def form(doc):
        doc["fields"][1]["visibility"] = {"rules": [{"field": "Email Address", "operator": "matches",
                                                     "values": ["@example.com"]}]}
    edit_asset(bundle, FORM, form)
    before = _state(fake)
    done = invoke("import", str(bundle), "--target", fake.url, "--yes")
    assert done.exit_code == 1, done.output
    codes = [line.split()[1] for line in done.output.splitlines() if " PK84" in line and line.split()[1].startswith("PK84")]
    assert sorted(codes) == ["PK840", "PK841", "PK843"], done.output
    assert "'Job Title' (title) is not a field Marketo offers to forms" in done.output
    assert "static list name 'Invitees' is already in use" in done.output
    assert "'matches'" in done.output
    assert _state(fake) == before


def _settings(doc):
    """The form with a visibility rule, two-rule visibility, progressive profiling, custom CSS, French, and a
    thank-you that stays on the page; the profiled fields last, as Marketo's field list gives them back."""
    fields = {f["field"]: f for f in doc["fields"]}
    fields["Job Title"]["visibility"] = {"rules": [{"field": "Company Name", "operator": "isNotEmpty", "values": []}]}
    fields["Last Name"]["visibility"] = {"rules": [{"field": "First Name", "operator": "isNotEmpty", "values": []},
                                                   {"field": "Email Address", "operator": "contains",
                                                    "values": ["@"]}]}
    order = ["Email Address", "First Name", "Last Name", "Company Name", "Person Source", "Job Title", "Country"]
    doc["fields"] = [fields[n] for n in order]
    doc["progressiveProfiling"] = {"enabled": True, "blankFields": 2, "fields": ["Job Title", "Country"]}
    doc["customCss"] = ".mktoForm { width: 100% }"
    doc["language"] = "French"
    doc["thankYou"] = {"type": "stay"}


def test_visibility_profiling_css_and_stay_are_written_and_read_back(fake, cli_env, invoke, tmp_path):
    bundle = form_bundle(tmp_path)
    edit_asset(bundle, FORM, _settings)
    done = invoke("import", str(bundle), "--target", fake.url, "--yes")
    assert done.exit_code == 0, done.output
    (form,) = fake.assets["form"].values()
    assert form["status"] == "draft" and "- [ ] Approve the form (import with --approve" in done.output
    assert (form["language"], form["progressiveProfiling"], form["_css"]) == ("French", True,
                                                                             ".mktoForm { width: 100% }")
    assert [t["followupType"] for t in form["thankYouList"]] == ["none"]  # a new form stays on the page
    top = [f["id"] for f in form["_fields"]]
    assert top == ["Email", "FirstName", "LastName", "Company", "LeadSource", "Profiling"]
    profiling = form["_fields"][-1]
    assert [c["id"] for c in profiling["_children"]] == ["Title", "Country"] and profiling["blankFields"] == 2
    title = profiling["_children"][0]
    assert title["visibilityRules"] == {"ruleType": "show", "rules": [
        {"subjectField": "Company", "operator": "isNotEmpty", "values": []}]}
    assert len(form["_fields"][2]["visibilityRules"]["rules"]) == 2
    # "all of two rules" cannot be said through the API: Marketo applies the first rule that matches
    assert ("- [ ] Field \"Last Name\": set its visibility to show when All of its rules match (the Forms API has "
            "no all/any setting: Marketo applies the first of a field's rules that matches (Adobe's Forms page, "
            "Visibility Rule))") in done.output

    out = tmp_path / "exported"
    assert invoke("export", "EV-Customer Event", "--target", fake.url, "--out", str(out)).exit_code == 0
    want = json.loads((bundle / FORM).read_text())
    del want["customCss"], want["fields"][4]["autofill"]
    want["fields"][2]["visibility"]["show"] = "any"
    assert json.loads((out / FORM).read_text()) == want
    needs = json.loads((out / "bundle.json").read_text())["needsCompletion"]
    assert sorted(n["what"] for n in needs if n.get("path") == FORM) == [
        "autofill of hidden field 'Person Source'", "custom CSS",
        "whether field 'Last Name' shows when all or any of its rules match"]


def test_resume_after_a_refusal_mid_form_writes_each_field_once(fake, cli_env, invoke, tmp_path):
    bundle = form_bundle(tmp_path)
    fake.add_fault({"code": "611", "path": "POST /rest/asset/v1/form/{id}/reArrange.json"})
    stopped = invoke("import", str(bundle), "--target", fake.url, "--yes")
    assert stopped.exit_code == 1 and "PK811" in stopped.output, stopped.output
    resumed = invoke("import", str(bundle), "--target", fake.url, "--resume")
    assert resumed.exit_code == 0, resumed.output
    (form,) = fake.assets["form"].values()
    assert [f["id"] for f in form["_fields"]] == ["Email", "FirstName", "LastName", "Company", "Title", "Country",
                                                  "LeadSource"]
    paths = fake.snapshot()["paths"]
    assert paths["POST /rest/asset/v1/forms.json"] == 1
    assert paths["POST /rest/asset/v1/form/{id}/fields.json"] == 4  # Company, Title, Country, LeadSource: once each
    assert paths["POST /rest/asset/v1/form/{id}/reArrange.json"] == 2  # refused, then done
    assert sorted(a["name"] for a in fake.assets["staticList"].values()) == ["Attendees", "Invitees"]


def test_an_upgrade_rewrites_a_changed_form_and_list(fake, cli_env, invoke, tmp_path):
    bundle = form_bundle(tmp_path)
    edit_asset(bundle, FORM, lambda d: d["fields"][5].update(visibility={"rules": [
        {"field": "Company Name", "operator": "isNotEmpty", "values": []}]}))
    assert invoke("import", str(bundle), "--target", fake.url, "--yes", "--approve").exit_code == 0
    edit_manifest(bundle, lambda m: m.update(version="1.1.0"))
    edit_asset(bundle, LISTS[0], lambda d: d.update(description="Who to invite (from the CRM export)."))

    def form(doc):
        doc["fields"][4]["label"] = "Your role"
        del doc["fields"][4]["type"], doc["fields"][3]  # Company goes; Job Title becomes a plain string field
        del doc["fields"][4]["visibility"]  # Country shows always again
        doc["thankYou"] = {"type": "stay"}
    edit_asset(bundle, FORM, form)
    done = invoke("import", str(bundle), "--target", fake.url, "--yes", "--approve")
    assert done.exit_code == 0, done.output
    assert next(a for a in fake.assets["staticList"].values() if a["name"] == "Invitees")["description"] == \
        "Who to invite (from the CRM export)."
    (rec,) = fake.assets["form"].values()
    assert [f["id"] for f in rec["_fields"]] == ["Email", "FirstName", "LastName", "Title", "Country", "LeadSource"]
    assert rec["_fields"][3]["label"] == "Your role" and rec["status"] == "approved"
    assert rec["_fields"][4]["visibilityRules"] == {"ruleType": "alwaysShow"}
    # "stay on the page" cannot be written back through the API: said, not pretended
    assert [t["followupType"] for t in rec["thankYouList"]] == ["url"]
    assert ("PK845 [marketo-form-stay-unwritable] form 'Event Registration Form' (id 1001): its thank-you behaviour "
            "is to stay") in done.output


def test_more_fields_than_marketo_lays_out_is_refused_in_preflight(monkeypatch, cli_env, invoke, tmp_path):
    monkeypatch.setitem(fake_marketo.CHANNELS, "Webinar", WEBINAR)
    fake = FakeMarketo(CLIENT_ID, SECRET, rate_limit=100, rate_window=1.0, tag_types={"Program Purpose": ["Event"]},
                       extra_fields=(("industry", "Industry", "string"), ("website", "Website", "string")))
    fake.start()
    try:
        bundle = form_bundle(tmp_path)
        extra = ["Phone Number", "Industry", "Website", "Person Status"]
        edit_asset(bundle, FORM, lambda d: d["fields"].extend({"field": n, "type": "string"} for n in extra))
        done = invoke("import", str(bundle), "--target", fake.url, "--yes")
        assert done.exit_code == 1, done.output
        assert "PK842" in done.output and "11 rows in the form" in done.output
        assert fake.programs == {} and not fake.assets["form"]
    finally:
        fake.stop()


def _write_form_with_page(fake, tmp_path, page_id):
    """Write the event form through the library as apply does, with a landing page step in the journal as the
    landing-page kind leaves one (its page created after the form), then finish the import (--approve)."""
    import hashlib

    from marketo_support import FAST

    from programkit.workspaces.base import ImportRecord
    from programkit.workspaces.marketo.client import MarketoClient
    from programkit.workspaces.marketo.workspace import MarketoWorkspace

    ws = MarketoWorkspace(fake.url, client=MarketoClient(fake.url, CLIENT_ID, SECRET, FAST), state_dir=tmp_path / "st")
    ws.approve = True
    program = json.loads((EVENT / "bundle.json").read_text())["program"]
    content = (EVENT / FORM).read_bytes()  # thanks with the landing page "Event Thank You Page"
    with ws.transaction() as w:
        pid = w.create_program(dict(program))
        w.put_asset("form", "Event Registration Form", content, hashlib.sha256(content).hexdigest(), folder="Assets",
                    program_id=pid, meta={"index": 0})
        if page_id is not None:  # what the landing-page kind journals when it creates the page
            with fake.lock:
                fake.assets["landingPage"][page_id] = {"id": page_id, "name": "Event Thank You Page",
                                                      "status": "draft", "_sections": {}}
            w.journal.add({"key": "asset:landingPage:thanks", "op": "create", "kind": "landingPage", "id": page_id,
                           "name": "Event Thank You Page"})
        w.record_import(ImportRecord("ev-customer-event", "1.0.0", "d", program["name"], {}, {}, [], "2026-12-03"))
    return ws


def test_the_thank_you_page_is_set_once_the_page_exists_and_before_approval(fake, tmp_path):
    _write_form_with_page(fake, tmp_path, 5001)
    (form,) = fake.assets["form"].values()
    assert [(t["followupType"], t["followupValue"], t["default"]) for t in form["thankYouList"]] == [
        ("lp", 5001, True)]
    assert form["status"] == "approved"  # approved after the follow-up was written: nothing left in a draft


def test_a_thank_you_page_missing_from_marketo_stops_the_import_with_a_code(fake, tmp_path):
    from programkit.errors import ProgramkitError

    with pytest.raises(ProgramkitError) as err:
        _write_form_with_page(fake, tmp_path, None)
    assert [f.code for f in err.value.findings] == ["PK844", "PK811"]
    assert "thank-you landing page 'Event Thank You Page' is not in the program in Marketo" in err.value.message


def test_the_plan_estimates_the_calls_the_import_makes(fake, cli_env, invoke, tmp_path):
    bundle = form_bundle(tmp_path)
    plan = invoke("import", str(bundle), "--target", fake.url, "--dry-run")
    assert plan.exit_code == 0, plan.output
    before = fake.snapshot()["paths"]
    done = invoke("import", str(bundle), "--target", fake.url, "--yes")
    assert done.exit_code == 0, done.output
    after = fake.snapshot()["paths"]
    writes = sum(n - before.get(p, 0) for p, n in after.items() if p.startswith("POST"))
    # program, 3 tokens, 4 folders, 2 lists; the form: create, its field list, 3 updates (First Name, Last Name,
    # Email) and 4 adds, the Country values, the layout, the button, the thank-you URL and its updatedAt read back
    assert writes + 2 == 1 + 3 + 4 + 2 + 14
    assert "applying takes about 24 more" in plan.output


def test_an_upgrade_knows_what_it_wrote_and_leaves_the_unchanged_form_alone(fake, cli_env, invoke, tmp_path):
    bundle = form_bundle(tmp_path)
    assert invoke("import", str(bundle), "--target", fake.url, "--yes").exit_code == 0  # no --approve: drafts
    edit_manifest(bundle, lambda m: m.update(version="1.1.0"))
    edit_asset(bundle, LISTS[1], lambda d: d.update(description="Checked in at the door."))
    plan = invoke("import", str(bundle), "--target", fake.url, "--dry-run", "--format", "json")
    actions = {(a["kind"], a["name"]): a["action"] for a in json.loads(plan.output)["plan"]["actions"]}
    assert (actions[("form", "Event Registration Form")], actions[("staticList", "Attendees")],
            actions[("staticList", "Invitees")]) == ("noop", "update", "noop")
    assert invoke("import", str(bundle), "--target", fake.url, "--yes").exit_code == 0
    edit_manifest(bundle, lambda m: m.update(version="1.2.0"))
    plan = invoke("import", str(bundle), "--target", fake.url, "--dry-run", "--format", "json")
    assert {a["action"] for a in json.loads(plan.output)["plan"]["actions"]
            if a["kind"] in ("form", "staticList")} == {"noop"}


#: person fields the stand-in offers to forms, by the names a bundle uses
POOL = ["Email Address", "First Name", "Last Name", "Phone Number", "Job Title", "Company Name", "Country",
        "Person Source"]
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20)
PICK = ("select", "checkboxes", "radioButtons")


@st.composite
def forms(draw):
    names = draw(st.permutations(POOL).map(lambda p: p[:draw(st.integers(1, len(POOL)))]))
    fields = []
    for name in names:
        f = {"field": name, "type": draw(st.sampled_from(["string", "email", "phone", "number", "date", "textArea",
                                                          "checkbox", "url", "range", "hidden", *PICK]))}
        if draw(st.booleans()):
            f["label"] = draw(TEXT)
        if draw(st.booleans()):
            f["required"] = True
        if draw(st.booleans()):
            f["validationMessage"] = draw(TEXT)
        if draw(st.booleans()):
            f["defaultValue"] = draw(TEXT)
        if draw(st.booleans()):
            f["maxLength"] = draw(st.integers(1, 254))  # 255 is the fields' default, which export leaves out
        if f["type"] in PICK:
            f["values"] = [{"label": draw(TEXT), "value": v} for v in draw(st.lists(TEXT, min_size=1, max_size=4))]
            if draw(st.booleans()):
                f["values"][0]["selected"] = True
        fields.append(f)
    return {"buttonText": draw(TEXT), "description": draw(TEXT), "fields": fields,
            "labelPosition": draw(st.sampled_from(["left", "above"])), "progressiveProfiling": {"enabled": False},
            "thankYou": draw(st.sampled_from([{"type": "stay"}, {"type": "url", "url": THANKS}])),
            "theme": draw(st.sampled_from(["simple", "inset", "glow"])), "waitingText": draw(TEXT)}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=forms())
def test_any_form_the_api_can_hold_comes_back_as_it_was_imported(monkeypatch, invoke, tmp_path_factory, doc):
    """import → Marketo (the stand-in) → export gives the form back: fields, order, labels, types, values,
    messages, defaults, button, thank-you -- all but a hidden field's autofill and the custom CSS, which the
    Forms API cannot read (and the generated forms leave out)."""
    tmp = tmp_path_factory.mktemp("rt")
    monkeypatch.setenv("MARKETO_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("MARKETO_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("PROGRAMKIT_STATE_DIR", str(tmp / "state"))
    monkeypatch.setenv("PROGRAMKIT_MARKETO_RATE", "1000/1")
    monkeypatch.setitem(fake_marketo.CHANNELS, "Webinar", WEBINAR)
    server = FakeMarketo(CLIENT_ID, SECRET, rate_limit=1000, rate_window=1.0,
                         tag_types={"Program Purpose": ["Event"]})
    server.start()
    try:
        bundle = form_bundle(tmp)
        edit_asset(bundle, FORM, lambda d: (d.clear(), d.update(doc)))
        done = invoke("import", str(bundle), "--target", server.url, "--yes", "--quiet")
        assert done.exit_code == 0, done.output
        out = tmp / "out"
        assert invoke("export", "EV-Customer Event", "--target", server.url, "--out", str(out)).exit_code == 0
        assert json.loads((out / FORM).read_text(encoding="utf-8")) == doc
    finally:
        server.stop()


def test_a_list_name_another_program_of_this_machine_uses_is_refused_too(fake, cli_env, invoke, tmp_path):
    bundle = form_bundle(tmp_path)
    assert invoke("import", str(bundle), "--target", fake.url, "--yes").exit_code == 0
    # the same bundle as another program: its lists' names are taken by the first program's
    again = invoke("import", str(bundle), "--target", fake.url, "--as", "EV-Partner Event", "--yes")
    assert again.exit_code == 1, again.output
    assert sorted(line.split("static list name ")[1].split(" is")[0] for line in again.output.splitlines()
                  if "PK841" in line) == ["'Attendees'", "'Invitees'"]
    assert len(fake.programs) == 1
