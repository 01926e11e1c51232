"""leadLifecycle checks: each finding code has a fixture that triggers it, and the samples are clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SAMPLES, edit_json
from programkit import validate_path
from programkit.canonical import refresh_digests
from programkit.lifecycle import duration_seconds, lifecycle_findings

LIFECYCLE = "lifecycle/referral-lifecycle.json"


@pytest.mark.parametrize("name", ["op-lead-management", "hubspot-lead-settings", "partner-center-referrals",
                                  "superoffice-lead-status"])
def test_every_sample_validates_clean(name):
    result = validate_path(SAMPLES / name)
    assert [f.to_dict() for f in result.findings] == []
    assert any(a.kind == "leadLifecycle" for a in result.bundle.assets)


@pytest.fixture
def referrals(tmp_path: Path) -> Path:
    import shutil

    dest = tmp_path / "partner-center-referrals"
    shutil.copytree(SAMPLES / "partner-center-referrals", dest)
    return dest


def _break(bundle: Path, fn) -> list[tuple[str, str, str, int | None]]:
    edit_json(bundle / LIFECYCLE, fn)
    refresh_digests(bundle)
    result = validate_path(bundle)
    return [(f.code, f.file, f.pointer, f.line) for f in result.findings]


def test_duplicate_state(referrals):
    found = _break(referrals, lambda d: d["states"].append({"name": "accepted"}))
    assert [(c, f, p) for c, f, p, _ in found] == [("PK701", LIFECYCLE, "/states/7/name")]
    assert found[0][3] is not None  # validate resolves the pointer to a line


def test_unknown_state_in_transition_timer_flag_initial_terminal(referrals):
    def edit(d):
        d["transitions"][0]["to"] = "Acepted"
        d["timers"][0]["to"] = "Gone"
        d["flags"][0]["onEnter"] = "New"
        d["terminal"].append("Closed")
    found = _break(referrals, edit)
    codes = sorted((c, p) for c, _, p, _ in found)
    assert ("PK702", "/transitions/0/to") in codes
    assert ("PK702", "/timers/0/to") in codes
    assert ("PK702", "/flags/0/onEnter") in codes
    assert ("PK702", "/terminal/1") in codes


def test_unknown_initial_state(referrals):
    found = _break(referrals, lambda d: d.update(initial="Incoming"))
    assert [(c, p) for c, _, p, _ in found] == [("PK702", "/initial")]


def test_unreachable_state(referrals):
    found = _break(referrals, lambda d: d["states"].append({"name": "Escalated"}))
    assert [(c, p) for c, _, p, _ in found] == [("PK703", "/states/7")]


def test_terminal_state_with_outgoing_transition(referrals):
    found = _break(referrals, lambda d: d["transitions"].append({"event": "reopen", "from": "Archived", "to": "Received"}))
    assert [(c, p) for c, _, p, _ in found] == [("PK704", "/transitions/6/from")]


def test_reason_requirement_with_empty_or_missing_list(referrals):
    found = _break(referrals, lambda d: d["reasonLists"].update({"Decline reasons": []}))
    assert [(c, p) for c, _, p, _ in found] == [("PK705", "/transitions/1/reason/list")]
    found = _break(referrals, lambda d: d["transitions"][1]["reason"].update(list="Rejection reasons"))
    assert [(c, p) for c, _, p, _ in found] == [("PK705", "/transitions/1/reason/list")]


def test_timer_on_terminal_state(referrals):
    found = _break(referrals, lambda d: d["timers"].append(
        {"name": "purge", "state": "Archived", "after": "365 days", "to": "Received"}))
    assert ("PK706", "/timers/1/state") in [(c, p) for c, _, p, _ in found]


def test_unknown_setting_and_duplicate_reason():
    doc = json.loads((SAMPLES / "hubspot-lead-settings/lifecycle/lead-stages.json").read_text())
    doc["transitions"][3]["reason"]["requiredBy"] = "requireReason"
    doc["reasonLists"]["Disqualification reasons"].append("bad timing")
    found = [(f.code, f.pointer) for f in lifecycle_findings(doc, "x.json")]
    assert found == [("PK708", "/reasonLists/Disqualification reasons/6"),
                     ("PK707", "/transitions/3/reason/requiredBy")]


def test_ambiguous_transition(referrals):
    found = _break(referrals, lambda d: d["transitions"].append({"event": "accept", "from": "Received", "to": "Declined"}))
    assert [(c, p) for c, _, p, _ in found] == [("PK709", "/transitions/6")]


def test_two_lifecycles_in_one_bundle(referrals):
    import shutil

    shutil.copy(referrals / LIFECYCLE, referrals / "lifecycle/copy.json")
    edit_json(referrals / "bundle.json", lambda m: m["assets"].append(
        {"kind": "leadLifecycle", "name": "Copy", "folder": "Lifecycle", "path": "lifecycle/copy.json", "sha256": "0" * 64}))
    refresh_digests(referrals)
    found = [(f.code, f.pointer) for f in validate_path(referrals).findings]
    assert found == [("PK710", "/assets/6")]


def test_schema_rejects_reserved_event_names_and_bad_durations(referrals):
    def edit(d):
        d["transitions"][0]["event"] = "created"
        d["timers"][0]["after"] = "two weeks"
    found = _break(referrals, edit)
    assert sorted((c, p) for c, _, p, _ in found) == [("PK103", "/timers/0/after"), ("PK103", "/transitions/0/event")]


def test_durations():
    assert duration_seconds("14 days") == 14 * 86400
    assert duration_seconds("72 hours") == 72 * 3600
    assert duration_seconds("1 week") == 7 * 86400
    with pytest.raises(ValueError):
        duration_seconds("0 days")


@pytest.mark.parametrize("name", ["hubspot-lead-settings", "partner-center-referrals", "superoffice-lead-status"])
def test_sample_imports_and_exports_byte_for_byte(name, tmp_path, invoke):
    db = str(tmp_path / "ws.db")
    manifest = json.loads((SAMPLES / name / "bundle.json").read_text(encoding="utf-8"))
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"fields": manifest["requires"]["fields"]}), encoding="utf-8")
    for args in (("workspace", "init", "-t", db), ("workspace", "load", str(inventory), "-t", db),
                 ("import", str(SAMPLES / name), "-t", db, "--yes"),
                 ("export", manifest["program"]["name"], "-t", db, "-o", str(tmp_path / "out"))):
        r = invoke(*args)
        assert r.exit_code == 0, (args, r.output)
    exported = sorted(p.relative_to(tmp_path / "out") for p in (tmp_path / "out").rglob("*") if p.is_file())
    original = sorted(p.relative_to(SAMPLES / name) for p in (SAMPLES / name).rglob("*") if p.is_file())
    assert exported == original
    for rel in original:
        assert (tmp_path / "out" / rel).read_bytes() == (SAMPLES / name / rel).read_bytes(), rel
