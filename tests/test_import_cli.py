"""`programkit plan`, `import` and `history` on the embedded SQLite workspace."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dbdump import dump
from import_helpers import assert_sample_local_assets, manifest, write_manifest
from programkit.workspaces import open_target
from programkit.workspaces.sqlite import init_workspace

PROGRAM = "OP-Lead Management"
#: tables holding the import history (the only thing a no-op import may add to)
HISTORY = ("history", "import")


def ws_of(db: Path, name: str = "Default"):
    return open_target(str(db), name)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A workspace file whose Default workspace syncs with Salesforce (the sample needs a CRM)."""
    path = tmp_path / "pk.db"
    init_workspace(path, crm="salesforce").close()
    return path


def test_import_sample_creates_exactly_the_seed_program(sample_copy, tmp_path, invoke, db):
    r = invoke("import", str(sample_copy), "--target", str(db))
    assert r.exit_code == 0, r.output
    assert "+ create  program" in r.output and "Imported op-lead-management 1.0.0" in r.output
    ws = ws_of(db)
    try:
        (program,) = ws.programs()
        assert program.name == PROGRAM and program.data == manifest(sample_copy)["program"]
        assert (program.provenance.bundle, program.provenance.version) == ("op-lead-management", "1.0.0")
        assert_sample_local_assets(ws, program.id, sample_copy)
        (tpl,) = ws.design_assets("emailTemplate", ["Quick Start Email Template"]).values()
        assert ws.read(tpl.id) == (sample_copy / "design-studio/quick-start-email-template.html").read_bytes()
        assert ws.tag_types().get("Program Purpose", set()) >= {"Lead Management"}
        (record,) = ws.history()
        assert record.outcome == "applied" and record.bundle == "op-lead-management"
    finally:
        ws.close()


def test_second_import_is_all_noop_and_changes_nothing(sample_copy, tmp_path, invoke, db):
    assert invoke("import", str(sample_copy), "--target", str(db)).exit_code == 0
    before = dump(db, skip=HISTORY)
    r = invoke("import", str(sample_copy), "--target", str(db), "--format", "json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert {a["action"] for a in out["plan"]["actions"]} == {"noop"}
    assert out["import"]["outcome"] == "noop"
    after = dump(db, skip=HISTORY)
    # the history row is the one write, and no change to the workspace: the revision stays, so a plan saved
    # before a re-import with nothing to do stays valid (issue #14, PK520)
    assert after == before
    assert after == before
    r = invoke("import", str(sample_copy), "--target", str(db))
    assert "No changes: op-lead-management 1.0.0 is already imported (nothing to do)." in r.output
    assert "Recorded as import #3 in the history; nothing else was written." in r.output


def test_plan_text_and_json(sample_copy, tmp_path, invoke, db):
    r = invoke("plan", str(sample_copy), "--target", str(db))
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0] == "Plan: import op-lead-management 1.0.0 into workspace 'Default' as program 'OP-Lead Management'"
    assert "   + create  emailTemplate  Quick Start Email Template  (new emailTemplate)" in lines
    assert "   + create  leadLifecycle  Lead Lifecycle  (new leadLifecycle)" in lines
    assert lines[-1] == "Plan: 12 create."
    r = invoke("plan", str(sample_copy), "--target", str(db), "--format", "json", "--out", str(tmp_path / "p.json"))
    plan = json.loads(r.stdout)  # "Plan saved to …" goes to stderr
    assert plan == json.loads((tmp_path / "p.json").read_text())
    assert set(plan) >= {"bundle", "workspace", "actions", "summary", "problems"}
    assert plan["summary"]["create"] == 12 and plan["problems"] == []
    assert ws_of(db).history() == []  # plan writes nothing


def test_saved_plan_applies_exactly_and_refuses_drift(sample_copy, tmp_path, invoke, db):
    saved = tmp_path / "plan.json"
    invoke("plan", str(sample_copy), "--target", str(db), "--on-image", "replace", "--out", str(saved))
    r = invoke("import", str(sample_copy), "--target", str(db), "--plan", str(saved))
    assert r.exit_code == 0, r.output
    assert ws_of(db).history()[0].rules["images"] == {"value": "replace", "decidedBy": "flag"}
    # a plan made before another change is refused, nothing written
    other = tmp_path / "pk2.db"
    init_workspace(other, crm="salesforce").close()
    # another plan over the saved one: replaced only with --force (issue #14)
    assert invoke("plan", str(sample_copy), "--target", str(other), "--out", str(saved)).exit_code == 2
    invoke("plan", str(sample_copy), "--target", str(other), "--out", str(saved), "--force")
    assert invoke("import", str(sample_copy), "--target", str(other), "--as", "Copy").exit_code == 0
    before = dump(other)
    r = invoke("import", str(sample_copy), "--target", str(other), "--plan", str(saved))
    assert r.exit_code == 1 and "PK520" in r.output
    assert dump(other) == before
    r = invoke("import", str(sample_copy), "--target", str(other), "--plan", str(saved), "--on-tag", "ignore")
    assert r.exit_code == 2


def test_dry_run_writes_nothing(sample_copy, tmp_path, invoke, db):
    before = dump(db)
    r = invoke("import", str(sample_copy), "--target", str(db), "--dry-run")
    assert r.exit_code == 0 and "Dry run: nothing was written." in r.output
    assert dump(db) == before


def test_three_missing_fields_fail_preflight(sample_copy, tmp_path, invoke, db):
    data = manifest(sample_copy)
    data["requires"]["fields"] = [{"apiName": "leadGrade", "type": "string"},
                                  {"apiName": "partnerTier", "type": "string"},
                                  {"apiName": "mqlReason", "type": "text"}]
    write_manifest(sample_copy, data)
    ws = ws_of(db)
    revision = ws.revision()
    ws.close()
    before = dump(db)
    r = invoke("import", str(sample_copy), "--target", str(db))
    assert r.exit_code == 1
    assert r.output.count("PK501") == 3
    for name in ("leadGrade", "partnerTier", "mqlReason"):
        assert f"field {name!r}" in r.output
    assert "3 problems stop the import" in r.output
    assert dump(db) == before
    ws = ws_of(db)
    assert ws.revision() == revision
    ws.close()


@pytest.mark.parametrize("args,bundle_rule,file_rule,expected", [
    ((), None, None, ("keepBoth", "default")),
    ((), "replace", None, ("replace", "bundle")),
    (("--rules", "{rules}"), "replace", "fail", ("fail", "rules-file")),
    (("--rules", "{rules}", "--on-email-template", "reuseIfIdentical"), "replace", "fail",
     ("reuseIfIdentical", "flag")),
    (("--on-email-template", "KEEPBOTH"), "replace", None, ("keepBoth", "flag")),  # any case: the rule as spelled
])
def test_precedence_on_the_command_line(sample_copy, tmp_path, invoke, db, args, bundle_rule, file_rule, expected):
    data = manifest(sample_copy)
    data["conflictRules"] = {"emailTemplates": bundle_rule} if bundle_rule else {}
    write_manifest(sample_copy, data)
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"emailTemplates": file_rule} if file_rule else {}))
    argv = [a.format(rules=rules) for a in args]
    r = invoke("plan", str(sample_copy), "--target", str(db), "--format", "json", *argv)
    plan = json.loads(r.output)
    got = plan["rules"]["emailTemplates"]
    assert (got["value"], got["decidedBy"]) == expected


def test_bad_rules_file_exit_2_with_lines(sample_copy, tmp_path, invoke, db):
    rules = tmp_path / "rules.json"
    rules.write_text('{\n  "images": "keep-both"\n}\n')
    r = invoke("plan", str(sample_copy), "--target", str(db), "--rules", str(rules))
    assert r.exit_code == 2
    assert f"{rules}:2:" in r.output and "PK530" in r.output


def test_collision_and_as(sample_copy, tmp_path, invoke, db):
    assert invoke("import", str(sample_copy), "--target", str(db)).exit_code == 0
    data = manifest(sample_copy)
    data["name"] = "someone-elses-bundle"
    write_manifest(sample_copy, data)
    r = invoke("import", str(sample_copy), "--target", str(db))
    assert r.exit_code == 1 and "PK510" in r.output and "--as NAME" in r.output
    r = invoke("import", str(sample_copy), "--target", str(db), "--as", "OP-Lead Management 2")
    assert r.exit_code == 0, r.output
    assert "-> rename  program" in r.output
    assert "Quick Start Email Template" in r.output
    ws = ws_of(db)
    assert sorted(p.name for p in ws.programs()) == ["OP-Lead Management", "OP-Lead Management 2"]
    ws.close()


def test_keep_both_copy_in_sqlite(sample_copy, tmp_path, invoke, db):
    from programkit.canonical import sha256_bytes

    ws = ws_of(db)
    with ws.transaction() as w:
        w.put_asset("emailTemplate", "quick start email template", b"<html>ours</html>", sha256_bytes(b"<html>ours</html>"))
    ws.close()
    r = invoke("import", str(sample_copy), "--target", str(db))
    assert r.exit_code == 0, r.output
    assert "-> rename  emailTemplate  Quick Start Email Template -> Quick Start Email Template - 1" in r.output
    ws = ws_of(db)
    try:
        found = ws.design_assets("emailTemplate", ["Quick Start Email Template", "Quick Start Email Template - 1"])
        assert ws.read(found["quick start email template"].id) == b"<html>ours</html>"
        copy = found["quick start email template - 1"]
        assert ws.read(copy.id) == (sample_copy / "design-studio/quick-start-email-template.html").read_bytes()
        assert copy.meta["path"] == "design-studio/quick-start-email-template.html"
        mapping = {m["bundleName"]: m for m in ws.history()[0].mapping}
        assert mapping["Quick Start Email Template"]["workspaceId"] == copy.id
        (email,) = [a for a in ws.program_assets(ws.program(PROGRAM).id) if a.kind == "email"]
        assert email.meta["designNames"] == {"emailTemplate": {
            "Quick Start Email Template": "Quick Start Email Template - 1"}}
    finally:
        ws.close()


def test_history(sample_copy, tmp_path, invoke, db):
    assert invoke("history", "--target", str(db)).output == "No imports yet.\n"
    invoke("import", str(sample_copy), "--target", str(db))
    invoke("import", str(sample_copy), "--target", str(db))
    r = invoke("history", "--target", str(db))
    lines = r.output.splitlines()
    assert len(lines) == 2
    assert "noop" in lines[0] and "applied" in lines[1] and "op-lead-management 1.0.0" in lines[1]
    assert "(12 create)" in lines[1]
    rows = json.loads(invoke("history", "--target", str(db), "--format", "json").output)
    assert [r["outcome"] for r in rows] == ["noop", "applied"]
    assert rows[1]["rules"]["programTags"] == {"value": "create", "decidedBy": "bundle"}
    assert {m["kind"] for m in rows[1]["mapping"]} >= {"program", "smartCampaign", "email", "emailTemplate",
                                                       "leadLifecycle"}


# --- real processes ----------------------------------------------------------------------------


def run(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    exe = shutil.which("programkit")
    cmd = [exe] if exe else [sys.executable, "-m", "programkit"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "NO_COLOR": "1", **(env or {})})


def test_console_script_import_and_history(sample_copy, tmp_path, db):
    r = run("import", str(sample_copy), "--target", str(db), "--yes")
    assert r.returncode == 0, r.stderr
    assert "Imported op-lead-management 1.0.0" in r.stdout
    r = run("history", "--target", str(db), "--format", "json")
    assert r.returncode == 0 and json.loads(r.stdout)[0]["outcome"] == "applied"
    r = run("import", str(tmp_path / "nope"), "--target", str(db))
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_second_import_waits_then_fails_cleanly_while_another_writes(sample_copy, tmp_path, db):
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock for the whole run
    try:
        start = time.monotonic()
        r = run("import", str(sample_copy), "--target", str(db), "--yes",
                env={"PROGRAMKIT_BUSY_TIMEOUT": "0.5"})
        took = time.monotonic() - start
    finally:
        holder.rollback()
        holder.close()
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and "busy" in r.stderr.lower()
    assert 0.4 <= took < 30  # it waited for the other writer, boundedly
    assert ws_of(db).history() == []


def test_unreadable_manifest_is_a_problem_not_a_traceback(tmp_path, invoke, db):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "bundle.json").write_text('{"format": "programkit/1",\n')
    before = dump(db)
    r = invoke("import", str(broken), "--target", str(db))
    assert r.exit_code == 1
    assert "PK516" in r.output and "bundle.json:2:1: PK101" in r.output
    assert dump(db) == before


def test_upgrade_in_sqlite(sample_copy, invoke, db):
    assert invoke("import", str(sample_copy), "--target", str(db)).exit_code == 0
    camp = sample_copy / "campaigns/01-sync-new-people-to-crm.json"
    camp.write_text(camp.read_text().replace('"active": true', '"active": false'))
    (sample_copy / "campaigns/02-marketing-qualified.json").unlink()
    data = manifest(sample_copy)
    data["version"] = "1.1.0"
    data["assets"] = [a for a in data["assets"] if a["name"] != "02 - Marketing Qualified"]
    write_manifest(sample_copy, data)
    r = invoke("import", str(sample_copy), "--target", str(db), "--prune", "--format", "json")
    assert r.exit_code == 0, r.output
    actions = {(a["kind"], a["name"]): a["action"] for a in json.loads(r.output)["plan"]["actions"]}
    assert actions[("program", PROGRAM)] == "update"
    assert actions[("smartCampaign", "01 - Sync New People to CRM")] == "update"
    assert actions[("smartCampaign", "02 - Marketing Qualified")] == "delete"
    assert actions[("emailTemplate", "Quick Start Email Template")] == "noop"
    assert actions[("leadLifecycle", "Lead Lifecycle")] == "noop"
    ws = ws_of(db)
    try:
        program = ws.program(PROGRAM)
        assert program.provenance.version == "1.1.0"
        by_name = {a.name: a for a in ws.program_assets(program.id)}
        assert sorted(by_name) == ["01 - Email - ALERT - MQL", "01 - Sync New People to CRM", "Lead Lifecycle"]
        assert ws.read(by_name["01 - Sync New People to CRM"].id) == camp.read_bytes()
    finally:
        ws.close()


def test_plan_history_and_dry_run_never_create_a_workspace_file(sample_copy, tmp_path, invoke):
    missing = tmp_path / "missing.db"
    for args in (("plan", str(sample_copy)), ("history",), ("import", str(sample_copy), "--dry-run")):
        r = invoke(*args, "--target", str(missing))
        assert r.exit_code == 2 and "workspace init" in r.output
    assert not missing.exists()
