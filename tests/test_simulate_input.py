"""programkit simulate: bad people data, events after --until, hints in text output, --setting errors."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import SAMPLES
from programkit.simulate import render_json, render_text, simulate

SO = SAMPLES / "superoffice-lead-status"
HS = SAMPLES / "hubspot-lead-settings"
PC = SAMPLES / "partner-center-referrals"

PEOPLE = ("id,Email Adress,Lead Status,Person Score,Category Group\n"
          "p1,a@example.com,Contactin,abc,Potential customer\n"
          "p2,b@example.com,Qualified,10,Potential customer\n"
          "p3,c@example.com,Qualifed,12,Potential customer\n")


def _people(tmp_path: Path, text: str = PEOPLE) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _findings(result) -> list[tuple]:
    return [(f.code, f.severity.value, Path(f.file).name, f.line, f.column, f.message) for f in result.findings]


def test_bad_people_data_is_reported_with_line_and_column(tmp_path):
    result = simulate(SO, people=_people(tmp_path), until="2026-01-01T00:00:00Z")
    states = "(Open, Contacting, Qualified, Disqualified, Reprocessing)"
    assert _findings(result) == [
        ("PK757", "warning", "people.csv", 1, 2, "column 'Email Adress' is not a person field (neither standard nor "
                                                 "in the bundle's requires.fields); did you mean 'Email Address'?"),
        ("PK758", "warning", "people.csv", 2, 3, f"Lead Status 'Contactin' is not a state of 'Lead Status' {states}; "
                                                 "ignored: the person starts in Open when the lifecycle applies; "
                                                 "did you mean 'Contacting'?"),
        ("PK759", "warning", "people.csv", 2, 4, "Person Score 'abc' is not a number"),
        ("PK758", "warning", "people.csv", 4, 3, f"Lead Status 'Qualifed' is not a state of 'Lead Status' {states}; "
                                                 "ignored: the person starts in Open when the lifecycle applies; "
                                                 "did you mean 'Qualified'?"),
    ]
    assert not result.failed  # warnings: the simulation still runs
    assert [p["state"] for p in result.people] == ["Open", "Qualified", "Open"]


def test_unknown_column_is_reported_once_not_per_row(tmp_path):
    rows = "".join(f"p{i},x{i}@example.com\n" for i in range(50))
    result = simulate(SO, people=_people(tmp_path, "id,Email Adress\n" + rows))
    assert [f.code for f in result.findings] == ["PK757"]


def test_good_people_data_gives_no_findings(tmp_path):
    # display and API names, any case, a custom field from requires.fields, a case-folded column name
    text = ("id,email,Lead Status,leadScore,category group,Category\n"
            "p1,a@example.com,Contacting,12.5,Potential customer,A\n"
            "p2,b@example.com,,,,\n")
    result = simulate(SO, people=_people(tmp_path, text), until="2026-01-01T00:00:00Z")
    assert list(result.findings) == []
    assert [p["state"] for p in result.people] == ["Contacting", None]


def test_state_column_unchecked_without_a_lifecycle_state_field(tmp_path):
    # partner-center's lifecycle has no state field: a 'Lead Status' column is just an unknown field
    result = simulate(PC, people=_people(tmp_path, "id,Lead Status\np1,Whatever\n"))
    assert [f.code for f in result.findings] == ["PK757"]


def test_events_after_until_are_counted_and_said(tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_text('{"at": "2026-03-01T00:00:00Z", "person": "p1", "type": "set-contacting"}\n\n'
                      '{"at": "2026-03-02T00:00:00Z", "person": "p1", "type": "set-qualified"}\n'
                      '{"at": "2026-03-03T00:00:00Z", "person": "p1", "type": "set-open"}\n', encoding="utf-8")
    result = simulate(SO, events=events, until="2020-01-01T00:00:00Z")
    assert result.events == {"read": 0, "simulated": 0, "rejected": 0, "invalid": 0, "afterUntil": 3}
    assert render_text(result).splitlines()[1] == (
        "events: 0 read, 0 simulated, 0 rejected, 0 invalid; 3 later than --until 2020-01-01T00:00:00Z, not read")
    assert json.loads(render_json(result))["events"]["afterUntil"] == 3
    part = simulate(SO, events=events, until="2026-03-01T12:00:00Z")
    assert part.events["read"] == 1 and part.events["afterUntil"] == 2
    whole = simulate(SO, events=events, until="2026-04-01T00:00:00Z")
    assert "afterUntil" not in whole.events  # nothing left out: the result is as before
    assert "later than --until" not in render_text(whole)


def test_events_after_until_across_blocks(tmp_path, monkeypatch):
    import programkit.simulate.inputs as S  # where the block size lives

    monkeypatch.setattr(S, "_BLOCK", 256)  # many blocks: the count goes on past the block the stop is in
    lines = [json.dumps({"at": f"2026-03-{d:02d}T00:00:00Z", "person": "p1", "type": "set-open"}) for d in range(1, 29)]
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = simulate(SO, events=events, until="2026-03-10T12:00:00Z")
    assert (result.events["read"], result.events["afterUntil"]) == (10, 18)


def test_text_output_shows_each_codes_hint_once(tmp_path, invoke):
    events = tmp_path / "events.jsonl"
    events.write_text("oops\nnope\n", encoding="utf-8")
    people = _people(tmp_path)
    r = invoke("simulate", str(SO), "--people", str(people), "--events", str(events))
    lines = r.output.splitlines()
    tail = lines[lines.index(f"{events}:1: error PK751 [malformed-event] not JSON: Expecting value"):]
    assert tail[:3] == [
        f"{events}:1: error PK751 [malformed-event] not JSON: Expecting value",
        '    hint: Each line is one JSON object: {"at": ISO-8601 time, "person": id, "type": name, "data": {...}}.',
        f"{events}:2: error PK751 [malformed-event] not JSON: Expecting value",
    ]
    assert f"{people}:1:2: warning PK757 [unknown-person-column] column 'Email Adress'" in r.output
    assert r.output.count("    hint: ") == 4  # PK751, PK757, PK758, PK759: once each
    assert "the value was ignored, so the person starts in the initial state" in r.output


def test_duplicate_id_hint_says_the_row_was_skipped(tmp_path, invoke):
    r = invoke("simulate", str(SO), "--people", str(_people(tmp_path, "id\np1\np1\n")))
    assert "people.csv:3: error PK753 [bad-person-row] id 'p1' is already used on line 2\n" \
           "    hint: Give every row a unique, non-empty id; the row was skipped.\n" in r.output


def test_unknown_setting_has_a_code_and_lists_the_settings(tmp_path, invoke):
    r = invoke("simulate", str(HS), "--setting", "requireDisqualificationReasn=false")
    assert r.exit_code == 2
    assert r.output.splitlines()[:2] == [
        "error: --setting requireDisqualificationReasn: the lifecycle 'Lead Stages' has no setting of that name; "
        "its settings: requireDealOnQualification (default true), requireDisqualificationReason (default true); "
        "did you mean 'requireDisqualificationReason'?",
        "  PK760 [bad-setting]",
    ]
    r = invoke("simulate", str(SO), "--setting", "foo=true")
    assert r.exit_code == 2
    assert r.output.startswith("error: --setting foo: the lifecycle 'Lead Status' has no settings\n  PK760 [bad-setting]")
    r = invoke("simulate", str(HS), "--setting", "foo=maybe")
    assert r.output.startswith("error: --setting 'foo=maybe': use NAME=true or NAME=false\n  PK760 [bad-setting]")



def test_simulate_without_people_or_events_says_why_nobody_moved(invoke, tmp_path):
    res = invoke("simulate", str(SO))
    assert res.exit_code == 0
    assert res.stdout.startswith("simulated superoffice-lead-status 1.0.0")
    assert res.stderr == ("note: no --people and no --events, so nobody was simulated; give a people CSV (an 'id' "
                          "column and field columns) and/or an events file (JSON Lines) — see `programkit simulate "
                          "--help`.\n")
    events = tmp_path / "e.jsonl"
    events.write_text("", encoding="utf-8")
    assert invoke("simulate", str(SO), "--events", str(events)).stderr == ""  # an input given: nothing to say
