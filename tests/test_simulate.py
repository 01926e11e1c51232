"""programkit simulate: the seeds' rules walked through the sample bundles."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SAMPLES
from programkit.errors import BadInput
from programkit.simulate import simulate
from programkit.simulate.digits import long_digit_run, seconds_in_hour
from programkit.simulate.inputs import _MIN_SEC

PC = SAMPLES / "partner-center-referrals"
HS = SAMPLES / "hubspot-lead-settings"
SO = SAMPLES / "superoffice-lead-status"


def write_events(tmp_path: Path, *events: dict, name: str = "events.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


def write_people(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(text, encoding="utf-8")
    return path


def ev(at: str, person: str, type_: str, **data) -> dict:
    return {"at": at, "person": person, "type": type_, "data": data}


def person(result, pid):
    return next(p for p in result.people if p["id"] == pid)


def path_of(p) -> list[str]:
    return [h["to"] for h in p["history"] if "to" in h and h["from"] != h["to"]]


REFERRAL = {"Lead Type": "Customer inquiry", "Company Name": "Fabrikam", "Email Address": "anna@fabrikam.example"}


# --- Partner Center -----------------------------------------------------------------


def test_partner_center_no_answer_in_14_days_expires_then_archives(tmp_path):
    events = write_events(tmp_path, ev("2026-03-02T09:00:00Z", "r1", "created", **REFERRAL))
    before = simulate(PC, events=events, until="2026-03-16T08:59:59Z")
    assert person(before, "r1")["state"] == "Received"
    after = simulate(PC, events=events, until="2026-03-16T09:00:00Z")
    p = person(after, "r1")
    assert path_of(p) == ["Received", "Expired", "Archived"]
    assert [h["at"] for h in p["history"]][-2:] == ["2026-03-16T09:00:00Z", "2026-03-16T09:00:00Z"]
    assert [a["email"] for a in after.alerts] == ["02 - Email - ALERT - Referral Expired"]
    assert after.states == {"Archived": 1}


def test_partner_center_decline_needs_a_reason_from_the_list(tmp_path):
    events = write_events(
        tmp_path,
        ev("2026-03-02T09:00:00Z", "r1", "created", **REFERRAL),
        ev("2026-03-03T09:00:00Z", "r1", "decline"),
        ev("2026-03-03T09:01:00Z", "r1", "decline", **{"Decline Reason": "Too busy"}),
        ev("2026-03-03T09:02:00Z", "r1", "decline", **{"Decline Reason": "Outside our region"}),
    )
    result = simulate(PC, events=events)
    assert [(r["line"], r["reason"]) for r in result.rejected] == [
        (2, "'decline' requires a reason (Decline Reason) from 'Decline reasons'"),
        (3, "'Too busy' is not in 'Decline reasons' (Not a fit for our solutions, Outside our region, Deal too small, "
            "Deal too large, Customer unreachable, Duplicate referral, Other)"),
    ]
    assert path_of(person(result, "r1")) == ["Received", "Declined", "Archived"]


def test_partner_center_accept_without_deal_value_rejected(tmp_path):
    deal = {"Deal Name": "Fabrikam Azure migration", "Purchase Timeframe": "Q2 2026"}
    events = write_events(
        tmp_path,
        ev("2026-03-02T09:00:00Z", "r1", "created", **REFERRAL),
        ev("2026-03-03T09:00:00Z", "r1", "accept", **deal),
        ev("2026-03-03T10:00:00Z", "r1", "accept", **deal, **{"Deal Value": 120000}),
    )
    result = simulate(PC, events=events, until="2026-04-30T00:00:00Z")
    assert [r["reason"] for r in result.rejected] == ["'accept' requires Deal Value: missing"]
    p = person(result, "r1")
    assert p["state"] == "Accepted"  # accepted in time: the 14-day timer no longer applies
    assert p["history"][-1]["data"] == {"Deal Name": "Fabrikam Azure migration", "Deal Value": 120000,
                                        "Purchase Timeframe": "Q2 2026"}


@pytest.mark.parametrize("outcome,state", [("win", "Won"), ("lose", "Lost")])
def test_partner_center_won_or_lost_ends_archived(tmp_path, outcome, state):
    events = write_events(
        tmp_path,
        ev("2026-03-02T09:00:00Z", "r1", "created", **REFERRAL),
        ev("2026-03-03T09:00:00Z", "r1", "accept", **{"Deal Name": "D", "Deal Value": 5, "Purchase Timeframe": "Q3"}),
        ev("2026-03-20T09:00:00Z", "r1", outcome),
        ev("2026-03-21T09:00:00Z", "r1", "edit", **{"Referral Notes": "too late"}),
    )
    result = simulate(PC, events=events)
    assert path_of(person(result, "r1")) == ["Received", "Accepted", state, "Archived"]
    assert [r["reason"] for r in result.rejected] == ["no 'edit' transition from state 'Archived'"]
    assert result.funnel[2] == {"state": "Won", "reached": 1 if state == "Won" else 0,
                                "conversion": 1.0 if state == "Won" else 0.0, "overall": 1.0 if state == "Won" else 0.0}


def test_partner_center_hot_flag_only_for_72_hours(tmp_path):
    events = write_events(
        tmp_path,
        ev("2026-03-02T09:00:00Z", "hot", "created", **REFERRAL, **{"Contact Requested": True}),
        ev("2026-03-02T09:00:00Z", "cold", "created", **REFERRAL),
    )
    at_71h = simulate(PC, events=events, until="2026-03-05T08:00:00Z")
    assert person(at_71h, "hot")["flags"] == ["hot"]
    assert person(at_71h, "cold")["flags"] == []
    assert [(a["person"], a["email"]) for a in at_71h.alerts] == [("hot", "01 - Email - ALERT - Hot Referral")]
    at_72h = simulate(PC, events=events, until="2026-03-05T09:00:00Z")
    hot = person(at_72h, "hot")
    assert hot["flags"] == [] and hot["state"] == "Received"  # still active, no longer hot
    assert [h for h in hot["history"] if "flag" in h] == [
        {"at": "2026-03-02T09:00:00Z", "flag": "hot", "on": True},
        {"at": "2026-03-05T09:00:00Z", "flag": "hot", "on": False}]


# --- SuperOffice --------------------------------------------------------------------


def test_superoffice_new_lead_is_open_and_outside_potential_customer_has_no_status(tmp_path):
    people = write_people(tmp_path, "id,Category,Category Group\nc1,Prospect,Potential customer\nc2,Customer,Customer\n")
    events = write_events(
        tmp_path,
        ev("2026-03-02T09:00:00Z", "c3", "created", **{"Category": "Lead", "Category Group": "Potential customer"}),
        ev("2026-03-02T10:00:00Z", "c2", "set-contacting"),
        ev("2026-03-02T11:00:00Z", "c1", "set-contacting"),
        ev("2026-03-03T09:00:00Z", "c1", "change", **{"Category": "Customer", "Category Group": "Customer"}),
        ev("2026-03-03T10:00:00Z", "c1", "set-qualified"),
        ev("2026-03-04T09:00:00Z", "c1", "change", **{"Category": "Prospect", "Category Group": "Potential customer"}),
    )
    result = simulate(SO, people=people, events=events)
    assert person(result, "c3")["state"] == "Open"
    assert person(result, "c2")["state"] is None
    assert [(r["person"], r["reason"]) for r in result.rejected] == [
        ("c2", "the person has no lifecycle state (the lifecycle does not apply to them)"),
        ("c1", "the lifecycle no longer applies to the person; state 'Contacting' cannot change"),
    ]
    # moved back into a potential-customer category: starts Open again
    assert path_of(person(result, "c1")) == ["Open", "Contacting", "Open"]
    assert result.states == {"Open": 2, "(no state)": 1}
    # the batch selection (Lead Status Open/Reprocessing, Potential customer) picks c1 and c3
    assert result.campaigns == {"01 - Selection - Leads to Follow Up": 2}
    assert [p["programStatus"] for p in result.people] == ["01-Member", None, "01-Member"]


# --- HubSpot ------------------------------------------------------------------------

HS_EVENTS = [
    ev("2026-03-02T09:00:00Z", "k1", "created", **{"Email Address": "k1@example.com", "Lifecycle Stage": "Lead"}),
    {"at": "2026-03-02T09:30:00Z", "person": "k1", "type": "change", "data": {"Lifecycle Stage": "Marketing Qualified Lead"}},
    ev("2026-03-03T09:00:00Z", "k1", "disqualify"),
]


def test_hubspot_lead_created_from_lifecycle_stage_and_stage_set_on_association(tmp_path):
    result = simulate(HS, events=write_events(tmp_path, *HS_EVENTS[:2]), until="2026-03-03T00:00:00Z")
    k1 = person(result, "k1")
    assert k1["state"] == "New"
    assert k1["fields"] == {"Email Address": "k1@example.com", "Lead Stage": "New",
                            "Lifecycle Stage": "Sales Qualified Lead"}  # set when the lead was associated
    assert result.campaigns == {"01 - Create Lead from Lifecycle Stage": 1,
                                "02 - Set Lifecycle Stage on Lead Association": 1}


def test_hubspot_lifecycle_stage_sync_does_not_create_leads(tmp_path):
    synced = dict(HS_EVENTS[1], source="Lifecycle stage sync")
    result = simulate(HS, events=write_events(tmp_path, HS_EVENTS[0], synced))
    assert person(result, "k1")["state"] is None
    assert result.campaigns == {}


def test_hubspot_disqualification_reason_switch(tmp_path):
    events = write_events(tmp_path, *HS_EVENTS)
    on = simulate(HS, events=events)
    assert [r["reason"] for r in on.rejected] == [
        "'disqualify' requires a reason (Disqualification Reason) from 'Disqualification reasons'"]
    assert person(on, "k1")["state"] == "New"
    off = simulate(HS, events=events, settings={"requireDisqualificationReason": False})
    assert off.rejected == []
    assert person(off, "k1")["state"] == "Disqualified"


def test_hubspot_qualification_requires_a_deal_when_switched_on(tmp_path):
    events = write_events(tmp_path, *HS_EVENTS[:2], ev("2026-03-03T09:00:00Z", "k1", "qualify"))
    assert [r["reason"] for r in simulate(HS, events=events).rejected] == ["'qualify' requires Deal Name: missing"]
    off = simulate(HS, events=events, settings={"requireDealOnQualification": False})
    assert person(off, "k1")["state"] == "Qualified"
    with pytest.raises(BadInput, match="has no setting of that name"):
        simulate(HS, events=events, settings={"requireDeal": False})


# --- Marketo ------------------------------------------------------------------------


def test_marketo_created_synced_then_mql_with_one_alert(tmp_path):
    people = write_people(tmp_path, "id,Email Address,Person Owner Email Address\n")
    events = write_events(
        tmp_path,
        ev("2026-03-02T09:00:00Z", "m1", "created", **{"Email Address": "m1@example.com", "Person Owner Email Address": "olivia@example.com"}),
        ev("2026-03-02T09:00:00Z", "m2", "created"),  # no email address: not synced
        ev("2026-03-03T09:00:00Z", "m1", "score", change="+60"),
        ev("2026-03-04T09:00:00Z", "m1", "score", change="+50"),
        ev("2026-03-05T09:00:00Z", "m1", "change", **{"Person Status": "Open"}),
        ev("2026-03-06T09:00:00Z", "m1", "score", change="+10"),
    )
    result = simulate(SAMPLES / "op-lead-management", people=people, events=events)
    m1 = person(result, "m1")
    assert path_of(m1)[:3] == ["New", "Synced to CRM", "MQL"]
    assert result.alerts == [{"at": "2026-03-04T09:00:00Z", "person": "m1", "campaign": "02 - Marketing Qualified",
                              "email": "01 - Email - ALERT - MQL", "to": ["olivia@example.com"]}]
    # qualification rule "once": the second threshold crossing runs nothing
    assert result.campaigns == {"01 - Sync New People to CRM": 1, "02 - Marketing Qualified": 1}
    assert person(result, "m2")["state"] == "New"
    assert m1["fields"] == {"Email Address": "m1@example.com", "Person Owner Email Address": "olivia@example.com",
                            "Person Score": 120, "Person Status": "Open", "Synced to SFDC": True}
    assert m1["programStatus"] == "01-Member"


# --- input errors and determinism ------------------------------------------------------


def test_malformed_and_out_of_order_lines_are_findings_with_line_numbers(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join([
        json.dumps(ev("2026-03-02T09:00:00Z", "r1", "created", **REFERRAL)),
        "{not json",
        json.dumps({"at": "2026-13-01", "person": "r1", "type": "accept"}),
        json.dumps(ev("2026-03-01T09:00:00Z", "r1", "decline")),
        "[1, 2]",
        json.dumps({"at": "2026-03-03T09:00:00Z", "type": "accept"}),
        "",
        json.dumps(ev("2026-03-04T09:00:00Z", "r9", "accept")),
    ]) + "\n", encoding="utf-8")
    result = simulate(PC, events=path)
    assert [(f.code, f.line) for f in result.findings] == [
        ("PK751", 2), ("PK751", 3), ("PK752", 4), ("PK751", 5), ("PK751", 6)]
    assert result.failed
    assert [r["line"] for r in result.rejected] == [8]
    assert result.events == {"read": 2, "simulated": 1, "rejected": 1, "invalid": 5}


def test_unreadable_people_csv_is_bad_input(tmp_path):
    with pytest.raises(BadInput, match="'id' column"):
        simulate(PC, people=write_people(tmp_path, "name,Email Address\nx,y\n"))
    # the library says what the CLI says: one wording, PK413, a hint naming the option and the layout
    with pytest.raises(BadInput, match="missing.csv: no such file or directory") as caught:
        simulate(PC, people=tmp_path / "missing.csv")
    assert [f.code for f in caught.value.findings] == ["PK413"]
    assert caught.value.hint.startswith("--people names a CSV file: a header row with an 'id' column")
    with pytest.raises(BadInput, match="gone.jsonl: no such file or directory") as caught:
        simulate(PC, events=tmp_path / "gone.jsonl")
    assert caught.value.hint.startswith("--events names a JSON Lines file")


def test_duplicate_person_ids_are_findings(tmp_path):
    result = simulate(SO, people=write_people(tmp_path, "id,Category Group\na,Potential customer\na,Customer\n,x\n"))
    assert [(f.code, f.line, f.message) for f in result.findings] == [
        ("PK753", 3, "id 'a' is already used on line 2"), ("PK753", 4, "empty id")]


def test_same_input_gives_identical_bytes(tmp_path, invoke):
    events = write_events(tmp_path, *[
        ev(f"2026-03-{1 + i // 5:02d}T{9 + i % 5:02d}:00:00Z", f"r{i % 7}",
           "created" if i < 7 else ("accept", "decline", "win", "lose")[i % 4],
           **(REFERRAL if i < 7 else {"Deal Name": "D", "Deal Value": 1, "Purchase Timeframe": "Q1",
                                      "Decline Reason": "Other"}))
        for i in range(40)])
    outs = []
    for n in range(2):
        out = tmp_path / f"out{n}.json"
        r = invoke("simulate", str(PC), "--events", str(events), "--until", "2026-05-01T00:00:00Z",
                   "--format", "json", "--out", str(out))
        assert r.exit_code == 0, r.output
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    data = json.loads(outs[0])
    assert data["states"] == {"Archived": 7}
    text = [invoke("simulate", str(PC), "--events", str(events)).output for _ in range(2)]
    assert text[0] == text[1]


def test_cli_exit_codes(tmp_path, invoke):
    assert invoke("simulate", str(PC), "--people", str(tmp_path / "nope.csv")).exit_code == 2
    assert invoke("simulate", str(PC), "--until", "tomorrow").exit_code == 2
    assert invoke("simulate", str(HS), "--setting", "requireDealOnQualification").exit_code == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text("oops\n")
    r = invoke("simulate", str(PC), "--events", str(bad))
    assert r.exit_code == 1
    assert f"{bad}:1: error PK751 [malformed-event]" in r.output


def test_simulate_installed_command(tmp_path):
    events = write_events(tmp_path, ev("2026-03-02T09:00:00Z", "r1", "created", **REFERRAL),
                          ev("2026-03-03T09:00:00Z", "r1", "decline"))
    proc = subprocess.run([sys.executable, "-m", "programkit", "simulate", str(PC), "--events", str(events),
                           "--until", "2026-03-20T00:00:00Z"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "people per state:\n  Archived  1\n" in proc.stdout
    assert "line 2  2026-03-03T09:00:00Z  r1  decline: 'decline' requires a reason" in proc.stdout
    assert "r1: Archived  (Received → Expired → Archived)" in proc.stdout


def test_whitespace_around_a_line_is_fine_extra_data_is_not(tmp_path):
    path = tmp_path / "events.jsonl"
    line = json.dumps(ev("2026-03-02T09:00:00Z", "r1", "created", **REFERRAL))
    path.write_bytes(("   " + line + "  \r\n" + line.replace("r1", "r2") + " {}\n").encode() + b"\xff\xfe\n"
                     + line.replace("r1", "r3").encode().replace(b"Fabrikam", b"Fabr\xffkam") + b"\n")
    result = simulate(PC, events=path)
    assert [p["id"] for p in result.people] == ["r1", "r3"]
    json.dumps(result.to_dict(), ensure_ascii=False).encode("utf-8")  # undecodable bytes became U+FFFD
    assert [(f.code, f.line, f.message) for f in result.findings] == [
        ("PK751", 2, "not JSON: Extra data"), ("PK751", 3, "not JSON: Expecting value")]


def test_empty_time_on_the_first_line_is_a_finding(tmp_path):
    path = write_events(tmp_path, {"at": "", "person": "r1", "type": "created", "data": REFERRAL},
                        ev("2026-03-02T09:00:00Z", "r2", "created", **REFERRAL))
    result = simulate(PC, events=path, until="2026-03-03T00:00:00Z")
    assert [(f.code, f.line, f.message) for f in result.findings] == [
        ("PK751", 1, "'at' is not an ISO-8601 time: ''")]
    assert [p["id"] for p in result.people] == ["r2"]


def test_deep_nesting_and_long_integers_parse_as_the_json_module_does(tmp_path):
    deep = '{"at": "2026-03-02T09:00:00Z", "person": "r1", "type": "created", "data": {"x": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    path = tmp_path / "events.jsonl"
    path.write_text(deep + "\n" + json.dumps(ev("2026-03-02T09:00:00Z", "r2", "created", **REFERRAL, Big=2 ** 70)) + "\n",
                    encoding="utf-8")
    result = simulate(PC, events=path)
    assert [(f.code, f.line) for f in result.findings] == [("PK751", 1)]
    assert "recursion" in result.findings[0].message
    assert person(result, "r2")["fields"]["Big"] == 2 ** 70  # exact, not a float


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 25).map(lambda n: b"7" * n), st.sampled_from([b"a", b'"', b" ", b"/", b":"])),
                max_size=40).map(b"".join))
def test_the_long_digit_scan_finds_exactly_the_runs_of_19_digits(block):
    # the compiled core probes every 19th byte instead of scanning all: it must find what a scan finds
    assert long_digit_run(block) is (re.search(rb"[0-9]{19}", block) is not None)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["2026-01-05T08:", "2026-01-05T09:", "X026-01-05T08:"]),
       st.text(alphabet="0123456789:Z+", max_size=8), st.sampled_from(["2026-01-05T08:", None]))
def test_the_time_fast_path_takes_exactly_minutes_and_seconds_in_the_same_hour(hour, rest, prefix):
    # compiled, the characters are read in place: the same times as the slices and the table
    at = hour + rest
    expected = _MIN_SEC.get(at[14:], -1) if at[:14] == prefix else -1
    assert seconds_in_hour(at, prefix) == expected


def test_long_lines_and_a_last_line_without_newline(tmp_path):
    path = tmp_path / "events.jsonl"
    long = json.dumps(ev("2026-03-02T09:00:00Z", "r1", "created", **REFERRAL, Notes="x" * 700_000))  # > a read block
    path.write_text(long + "\n" + long.replace('"r1"', '"r2"') + "\n\n"
                    + json.dumps(ev("2026-03-02T09:00:00Z", "r3", "created", **REFERRAL)) + "\n{\"at\": \"\\", encoding="utf-8")
    result = simulate(PC, events=path)
    assert [p["id"] for p in result.people] == ["r1", "r2", "r3"]
    assert len(person(result, "r2")["fields"]["Notes"]) == 700_000
    assert [(f.code, f.line, f.message) for f in result.findings] == [("PK751", 5, "not JSON: Unterminated string starting at")]


def test_out_writes_the_file_and_nothing_else(tmp_path, invoke):
    events = write_events(tmp_path, ev("2026-03-02T09:00:00Z", "r1", "created", **REFERRAL))
    out = tmp_path / "result.txt"
    r = invoke("simulate", str(PC), "--events", str(events), "--out", str(out))
    assert (r.exit_code, r.output) == (0, "")
    assert out.read_text(encoding="utf-8").startswith("simulated partner-center-referrals 1.0.0, lifecycle 'Referral Lifecycle'\n")


from hypothesis import given, settings, strategies as st  # noqa: E402

_values = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=6),
                    st.sampled_from(["2026-03-02T09:00:00Z", "2026-03-01", "created", "accept", "decline", "score",
                                     "change", "win", "+5", "=x", "r1", "Outside our region"]))
_event = st.fixed_dictionaries({}, optional={
    "at": _values, "person": _values, "type": _values, "source": _values,
    "data": st.one_of(_values, st.dictionaries(st.sampled_from(["Deal Name", "Deal Value", "Purchase Timeframe",
                                                                "Decline Reason", "change", "Lead Type",
                                                                "Contact Requested"]), _values, max_size=4))})


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(st.one_of(_event.map(json.dumps), st.text(max_size=20).map(lambda t: t.replace("\n", " "))),
                      max_size=12))
def test_hostile_events_give_findings_or_rejections_never_a_traceback(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("ev") / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    result = simulate(PC, events=path, until="2026-04-01T00:00:00Z")
    assert result.events["read"] + result.events["invalid"] <= len(lines)
    json.dumps(result.to_dict())  # always serialisable


def test_a_bundle_with_errors_is_not_simulated(tmp_path, invoke):
    import shutil

    from conftest import edit_json

    bundle = tmp_path / "pc"
    shutil.copytree(PC, bundle)
    edit_json(bundle / "lifecycle/referral-lifecycle.json", lambda d: d["timers"][0].update(to="Expird"))
    r = invoke("simulate", str(bundle))
    assert r.exit_code == 1
    assert "PK106 [digest-mismatch]" in r.output  # the edit changed the file's digest
    from programkit.canonical import refresh_digests

    refresh_digests(bundle)
    r = invoke("simulate", str(bundle))
    assert r.exit_code == 1
    assert "lifecycle/referral-lifecycle.json:" in r.output and "PK702 [unknown-state] /timers/0/to: 'Expird'" in r.output


def test_simulate_reads_a_packed_archive(tmp_path, invoke):
    archive = tmp_path / "pc.zip"
    assert invoke("pack", str(PC), "-o", str(archive)).exit_code == 0
    events = write_events(tmp_path, ev("2026-03-02T09:00:00Z", "r1", "created", **REFERRAL))
    r = invoke("simulate", str(archive), "--events", str(events), "--until", "2026-03-20T00:00:00Z")
    assert r.exit_code == 0, r.output
    assert "r1: Archived  (Received → Expired → Archived)" in r.output


def test_conditions_the_simulator_cannot_evaluate_are_reported_not_raised(tmp_path, invoke):
    import shutil

    from conftest import edit_json
    from programkit.canonical import refresh_digests

    bundle = tmp_path / "pc"
    shutil.copytree(PC, bundle)
    edit_json(bundle / "campaigns/02-alert-on-expired-referral.json", lambda d: d["smartList"]["triggers"][0][
        "constraints"].append({"name": "Previous Value", "operator": "at least", "values": ["many"]}))
    refresh_digests(bundle)
    r = invoke("simulate", str(bundle))
    assert r.exit_code == 0, r.output
    assert ("campaigns/02-alert-on-expired-referral.json: warning PK754 [not-simulated] /smartList/triggers/0: "
            "operator 'at least' with values ['many'] is not supported; the trigger never fires") in r.output
    edit_json(bundle / "lifecycle/referral-lifecycle.json",
              lambda d: d["flags"][0]["conditions"].append({"field": "Deal Value", "operator": "at least", "values": ["x"]}))
    refresh_digests(bundle)
    r = invoke("simulate", str(bundle))
    assert r.exit_code == 1
    assert "error: cannot simulate the lifecycle lifecycle/referral-lifecycle.json: operator 'at least'" in r.output


def test_records_spill_to_disk_and_read_back_the_same(tmp_path, monkeypatch):
    """Alerts, rejections and findings go to disk in chunks while the run goes (memory grows
    with people, not events); with tiny chunks and runs the output is the same, byte for byte."""
    import random

    import programkit.simulate.records as sim  # where the spill sizes live
    from programkit.findings import make, sort_key
    from programkit.simulate import FindingSink, render_json, render_text

    lines = []
    for i in range(40):
        lines.append(json.dumps(ev(f"2026-03-01T00:{i:02d}:00Z", f"ghost{i}", "score", change="+1")))
        lines.append("{not json" if i % 3 else json.dumps(ev("2026-01-01T00:00:00Z", "x", "score")))
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    big = simulate(PC, events=events)
    expected = (render_json(big), render_text(big, None), render_text(big))
    monkeypatch.setattr(sim, "_CHUNK", 3)
    monkeypatch.setattr(sim, "_RUN", 4)
    monkeypatch.setattr(sim, "_MAX_RUNS", 2)
    monkeypatch.setattr(sim, "_FINDING_CHUNK", 2)
    small = simulate(PC, events=events)
    assert small.rejected._n == 40 and small.findings._n == len(big.findings) == 40
    assert (render_json(small), render_text(small, None), render_text(small)) == expected
    assert small.rejected == big.rejected and small.findings == list(big.findings) and small.failed
    assert small.rejected[7] == big.rejected[7] and small.rejected[-1] == big.rejected[-1]
    assert small.rejected[2:9:3] == big.rejected[2:9:3] and small.findings[::-1] == list(big.findings)[::-1]
    assert small.to_dict() == big.to_dict() == json.loads(expected[0])

    # findings in any order come back as one sort would give them
    rng = random.Random(7)
    found = [make("PK751", f"m{rng.randrange(5)}", file=rng.choice(["a", "b"]), line=rng.randrange(30))
             for _ in range(200)]
    sink = FindingSink()
    for f in found:
        sink.append(f)
    assert list(sink) == sorted(found, key=sort_key) and len(sink) == 200 and sink.count("PK751") == 200
