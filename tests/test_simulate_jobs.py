"""simulate --jobs N: people split across N worker processes give the same bytes as one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SAMPLES
from programkit.errors import BadInput
from programkit.simulate import render_json, render_text, simulate
from programkit.simulate import partitioned
from programkit.simulate.partitioned import PARALLEL_MIN_EVENT_BYTES, auto_jobs, usable_cores

# every sample's lifecycle events, plus ones no lifecycle has
EVENT_TYPES = {
    "partner-center-referrals": ["accept", "decline", "win", "lose", "edit", "archive"],
    "op-lead-management": ["sales-accepted", "recycle", "disqualify", "converted", "synced", "mql"],
    "superoffice-lead-status": ["set-contacting", "set-qualified", "set-disqualified", "set-open", "set-reprocessing"],
    "hubspot-lead-settings": ["attempt", "connect", "qualify", "disqualify"],
}
START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc).timestamp()

values = st.sampled_from(["Customer inquiry", "Fabrikam", "a@b.example", "", None, True, False, 0, 5, 2.5, "Other",
                          "Bad timing", "competitor", "Q1", "Marketing Qualified Lead", "MQL", "Open"])
fields = st.sampled_from(["Lead Type", "Company Name", "Email Address", "Contact Requested", "Deal Name", "Deal Value",
                          "Decline Reason", "reason", "Job Title", "Person Status", "Lifecycle Stage", "Lead Status",
                          "Disqualification Reason", "Person Owner Email Address",
                          # names no catalogue knows, spelled differently by different people: shown as first spelled
                          "Favourite Colour", "favourite colour", "FAVOURITE COLOUR "])
data = st.dictionaries(fields, values, max_size=4)


@st.composite
def runs(draw):
    sample = draw(st.sampled_from(sorted(EVENT_TYPES)))
    pids = [f"p{i}" for i in range(draw(st.integers(1, 12)))]
    types = ["created", "created", "score", "score", "change"] + EVENT_TYPES[sample] + ["nope"]
    t = START
    lines = []
    for _ in range(draw(st.integers(0, 60))):
        t += draw(st.sampled_from([0, 0, 1, 60, 3600, 86400, 5 * 86400, 15 * 86400]))
        kind = draw(st.integers(0, 40))
        if kind == 0:
            lines.append(draw(st.sampled_from(["{not json", "[1]", "", '{"at": "2026-13-01", "person": "p1", "type": "x"}'])))
            continue
        at = datetime.fromtimestamp(t - (40 * 86400 if kind == 1 else 0), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        etype = draw(st.sampled_from(types))
        if etype == "score":
            d = {"change": draw(st.sampled_from(["+5", "+30", "+100", "=50", "-5", 7, "abc"]))}
        else:
            d = draw(data)
        e = {"at": at, "person": draw(st.sampled_from(pids)), "type": etype, "data": d}
        if draw(st.integers(0, 5)) == 0:
            e["source"] = draw(st.sampled_from(["Lifecycle stage sync", "CRM", "Web form"]))
        lines.append(json.dumps(e))
    people = None
    if draw(st.booleans()):
        rows = ["id,Email Address,Person Score,Company Name,Favourite colour"]
        rows += [f"{pid},{pid}@example.com,{draw(st.sampled_from(['', '10', '95', 'abc']))},Acme,teal"
                 for pid in pids if draw(st.booleans())]
        people = "\n".join(rows) + "\n"
    until = None
    if draw(st.booleans()):
        until = datetime.fromtimestamp(START + draw(st.integers(0, 60 * 86400)), timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
    return sample, "\n".join(lines) + "\n", people, until, draw(st.integers(2, 4))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(run=runs())
def test_any_number_of_jobs_gives_the_same_bytes(tmp_path, run):
    sample, events_text, people_text, until, jobs = run
    events = tmp_path / "events.jsonl"
    events.write_text(events_text, encoding="utf-8")
    people = None
    if people_text is not None:
        people = tmp_path / "people.csv"
        people.write_text(people_text, encoding="utf-8")
    one = simulate(SAMPLES / sample, people=people, events=events, until=until, jobs=1)
    many = simulate(SAMPLES / sample, people=people, events=events, until=until, jobs=jobs)
    assert render_json(many) == render_json(one)
    assert render_text(many, None) == render_text(one, None)
    assert many.failed == one.failed


# lines that one process reads in a way of its own: each must be read, checked and reported the
# same when it falls at the start or end of a worker's byte range
HOSTILE_LINES = [
    "", "   ", "\t", "{not json", "[1]", "null", '"text"', '{"at": 5, "person": "p1", "type": "score"}',
    '{"at": "2026-03-02T09:00:00Z", "person": "", "type": "score"}',
    '{"at": "2026-03-02T09:00:00Z", "person": "p1", "type": "score", "data": [1]}',
    '{"at": "2026-13-01T00:00:00Z", "person": "p1", "type": "score"}',
    '{"at": "2026-03-02T09:00:00Z", "person": "p1", "type": "score", "data": {"change": "+5", "n": 123456789012345678901234}}',
    '{"at": "2026-03-02T09:00:00Z", "person": "p2", "type": "change", "data": {"Lead Score": NaN}}',
    '{"at": "2026-03-02T09:00:00Z", "person": 7, "type": "created", "data": {}}',
    '{"at": "2026-03-02T09:00:00+01:00", "person": "p1", "type": "score", "data": {"change": "+1"}}',
    '{"at": "2026-03-02T09:00:00", "person": "p2", "type": "score", "data": {"change": "=40"}}',
    '{"at": "2026-03-02T09:00:00Z", "person": "p3", "type": "created", "data": {"x": ' + "[" * 950 + "]" * 950 + "}}",
]


@st.composite
def hostile_runs(draw):
    t = START
    lines = []
    for _ in range(draw(st.integers(0, 40))):
        t += draw(st.sampled_from([0, 1, 3600, 86400, 20 * 86400]))
        kind = draw(st.integers(0, 6))
        if kind == 0:
            lines.append(draw(st.sampled_from(HOSTILE_LINES)))
            continue
        back = 30 * 86400 if kind == 1 else 0  # out of order, maybe against a line of an earlier range
        at = datetime.fromtimestamp(t - back, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        etype = draw(st.sampled_from(["created", "score", "score", "change", "sales-accepted", "mql"]))
        d = {"change": draw(st.sampled_from(["+5", "+30", "+100"]))} if etype == "score" else draw(data)
        lines.append(json.dumps({"at": at, "person": draw(st.sampled_from(["p1", "p2", "p3", "p4", "p5"])),
                                 "type": etype, "data": d}))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines) + draw(st.sampled_from(["", newline, newline + newline]))
    if draw(st.booleans()):
        text = "\ufeff" + text
    until = None
    if draw(st.booleans()):
        until = datetime.fromtimestamp(START + draw(st.integers(0, 200 * 86400)), timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
    return text, until, draw(st.integers(2, 5))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(run=hostile_runs())
def test_bad_lines_at_any_range_boundary_are_reported_once_as_by_one_process(tmp_path, run):
    """Each worker reads and checks a byte range of the file once: malformed, out-of-order and
    blank lines, a BOM, CRLF, lines the json module reads (long integers, NaN, deep nesting), a
    last line without a newline and --until's stop give the same findings, counts and bytes."""
    text, until, jobs = run
    events = tmp_path / "events.jsonl"
    events.write_bytes(text.encode("utf-8"))
    op = SAMPLES / "op-lead-management"
    one = simulate(op, events=events, until=until, jobs=1)
    many = simulate(op, events=events, until=until, jobs=jobs)
    assert render_json(many) == render_json(one)
    assert [(f.code, f.line, f.message) for f in many.findings] == [(f.code, f.line, f.message) for f in one.findings]
    assert many.events == one.events


@pytest.mark.parametrize("events_text", [None, "", "\n\n  \n",
                                         '{"at": "2026-03-02T09:00:00Z", "person": "a", "type": "score", '
                                         '"data": {"change": "+50"}}'])
def test_more_workers_than_lines_and_files_without_events(tmp_path, events_text):
    """No events file, an empty one, blank lines only, one line without a newline: most workers'
    ranges are empty; the people still enter the lifecycle when and as one process has them."""
    people = tmp_path / "people.csv"
    people.write_text("id,Email Address,Person Score\na,a@x.example,10\nb,b@x.example,90\nc,,5\n", encoding="utf-8")
    events = None
    if events_text is not None:
        events = tmp_path / "events.jsonl"
        events.write_text(events_text, encoding="utf-8")
    op = SAMPLES / "op-lead-management"
    for until in (None, "2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z"):
        one = render_json(simulate(op, people=people, events=events, until=until, jobs=1))
        for jobs in (2, 3, 8):
            assert render_json(simulate(op, people=people, events=events, until=until, jobs=jobs)) == one, (until, jobs)


def test_the_workers_byte_ranges_cover_the_file_once_at_line_starts(tmp_path):
    """Every line falls in exactly one worker's byte range, so it is parsed and checked by one worker."""
    from programkit.simulate import event_ranges

    lines = [json.dumps({"at": f"2026-03-02T09:{i // 60:02d}:{i % 60:02d}Z", "person": f"p{i % 7}", "type": "score",
                         "data": {"change": "+1"}}) for i in range(500)]
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for jobs in (2, 3, 7):
        bounds = event_ranges.byte_ranges(events, jobs)
        assert bounds[0][0] == 0 and bounds[-1][1] == events.stat().st_size
        assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
        raw = events.read_bytes()
        assert all(start == 0 or raw[start - 1:start] == b"\n" for start, _ in bounds)
        assert sum(raw[a:b].count(b"\n") for a, b in bounds) == 500


def test_a_timer_firing_in_a_worker_without_later_events_of_its_own(tmp_path):
    """ref-1's referral expires (14 days) while only other people's events follow; the alert it
    sends comes out between the events before and after its due time, as in one process."""
    lines = [{"at": "2026-03-02T09:00:00Z", "person": "ref-1", "type": "created",
              "data": {"Lead Type": "Customer inquiry", "Company Name": "A", "Email Address": "a@a.example"}}]
    lines += [{"at": f"2026-03-{day:02d}T09:00:00Z", "person": f"other-{day}", "type": "created",
               "data": {"Lead Type": "Customer inquiry", "Company Name": "B", "Email Address": "b@b.example",
                        "Contact Requested": True}} for day in range(3, 28)]
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in lines), encoding="utf-8")
    pc = SAMPLES / "partner-center-referrals"
    one = simulate(pc, events=events, jobs=1)
    # the timer fires before the event at its due time: after other-15, before other-16
    assert [a["person"] for a in one.alerts].index("ref-1") == 13 and one.alerts[14]["person"] == "other-16"
    for jobs in (2, 5):
        assert render_json(simulate(pc, events=events, jobs=jobs)) == render_json(one)


def test_jobs_on_the_command_line(tmp_path, invoke):
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"at": "2026-03-02T09:00:00Z", "person": "r1", "type": "created", "data": {}}) + "\n",
                      encoding="utf-8")
    pc = str(SAMPLES / "partner-center-referrals")
    outputs = [invoke("simulate", pc, "--events", str(events), "--format", "json", "--jobs", str(n)) for n in (1, 3)]
    assert [r.exit_code for r in outputs] == [0, 0] and outputs[0].output == outputs[1].output
    bad = invoke("simulate", pc, "--events", str(events), "--jobs", "0")
    assert bad.exit_code == 2 and "--jobs" in bad.output


def test_the_default_is_one_process_for_small_files_and_the_idle_cores_else(tmp_path, monkeypatch):
    small = tmp_path / "small.jsonl"
    small.write_bytes(b"{}\n")
    assert auto_jobs(None) == 1 and auto_jobs(small) == 1
    big = tmp_path / "big.jsonl"
    with open(big, "wb") as fh:
        fh.truncate(PARALLEL_MIN_EVENT_BYTES)
    monkeypatch.setattr(partitioned, "usable_cores", lambda: 4)
    for load, jobs in ((0.0, 4), (1.2, 3), (3.0, 1), (9.0, 1)):
        monkeypatch.setattr(partitioned.os, "getloadavg", lambda load=load: (load, load, load))
        assert auto_jobs(big) == jobs, load
    monkeypatch.setattr(partitioned, "usable_cores", lambda: 64)
    monkeypatch.setattr(partitioned.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert auto_jobs(big) == 8  # capped
    assert usable_cores() >= 1


def test_no_jobs_is_bad_input(tmp_path):
    with pytest.raises(BadInput):
        simulate(SAMPLES / "partner-center-referrals", jobs=0)


def test_a_bad_people_file_is_reported_once_with_jobs(tmp_path):
    people = tmp_path / "people.csv"
    people.write_text("name\nx\n", encoding="utf-8")
    with pytest.raises(BadInput, match="'id' column"):
        simulate(SAMPLES / "partner-center-referrals", people=people, events=Path(__file__), jobs=2)


def test_a_field_no_catalogue_knows_is_shown_as_first_spelled_across_workers(tmp_path):
    """With 2 workers p4 runs in worker 0 and p0 in worker 1. Each spells one field first and the
    other's field later: every person's fields and lifecycle data show the first spelling, as in
    one process."""
    lines = [{"at": "2026-03-02T09:00:00Z", "person": "p4", "type": "created", "data": {"Favourite Colour": "teal"}},
             {"at": "2026-03-02T09:00:01Z", "person": "p0", "type": "created",
              "data": {"favourite colour": "red", "Shoe Size": 9}},
             {"at": "2026-03-02T09:00:02Z", "person": "p4", "type": "mql",
              "data": {"FAVOURITE colour": "blue", "shoe SIZE": 10}}]
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in lines), encoding="utf-8")
    op = SAMPLES / "op-lead-management"
    one = simulate(op, events=events, jobs=1)
    assert [p["fields"] for p in one.people] == [{"Favourite Colour": "red", "Shoe Size": 9},
                                                 {"Favourite Colour": "blue", "Shoe Size": 10}]
    assert one.people[1]["history"][1]["data"] == {"Favourite Colour": "blue", "Shoe Size": 10}
    assert render_json(simulate(op, events=events, jobs=2)) == render_json(one)


def test_which_core_runs_and_why(monkeypatch):
    """The compiled core runs only when every module was built, is not older than its source, and
    PROGRAMKIT_PURE_PYTHON is not set; otherwise the reason is what --version shows."""
    from programkit.simulate import core

    monkeypatch.delenv("PROGRAMKIT_PURE_PYTHON", raising=False)
    monkeypatch.setattr(core, "_compiled_path", lambda name: f"/built/{name}.so")
    times = {}
    monkeypatch.setattr(core.os.path, "exists", lambda path: True)
    monkeypatch.setattr(core.os.path, "getmtime", lambda path: times.get(path, 100.0))
    assert core._why_pure() is None
    times[core.os.path.join(core._HERE, "engine.py")] = 100.0 + core._STALE_SECONDS / 2  # written by one install
    assert core._why_pure() is None
    times[core.os.path.join(core._HERE, "engine.py")] = 500.0  # edited after the build
    assert core._why_pure() == "engine.py is newer than its compiled module (rebuild: pip install -e .)"
    monkeypatch.setenv("PROGRAMKIT_PURE_PYTHON", "1")
    assert core._why_pure() == "PROGRAMKIT_PURE_PYTHON is set"
    monkeypatch.setenv("PROGRAMKIT_PURE_PYTHON", "0")
    monkeypatch.setattr(core, "_compiled_path", lambda name: None)
    assert core._why_pure() == "no compiled core was built"


def test_the_forced_pure_core_loads_the_python_sources(tmp_path):
    code = ("import programkit.simulate as s, programkit.simulate.engine as e, programkit.simulate.conditions as c;"
            "print(s.core_in_use(), e.__file__.endswith('.py'), c.__file__.endswith('.py'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env={**os.environ, "PROGRAMKIT_PURE_PYTHON": "1"})
    assert done.stdout == "pure Python (PROGRAMKIT_PURE_PYTHON is set) True True\n", done.stderr
