"""`import --plan`: a saved plan is applied only if it is exactly the plan made now (Terraform-style)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dbdump import dump
from marketo_support import cli_env, fake, marketo_env  # noqa: F401
from programkit.workspaces import open_target
from programkit.workspaces.sqlite import init_workspace

PROGRAM = "OP-Lead Management"
PROGRAMKIT = shutil.which("programkit", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                               os.environ.get("PATH", "")]))


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "pk.db"
    init_workspace(path, crm="salesforce").close()
    return path


def save_plan(invoke, bundle: Path | str, target: Path | str, out: Path, *extra: str) -> dict:
    r = invoke("plan", str(bundle), "--target", str(target), "--out", str(out), *extra)
    assert r.exit_code == 0, r.output
    return json.loads(out.read_text(encoding="utf-8"))


def edited(path: Path, data: dict, edit) -> Path:
    edit(data)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def codes(stderr: str) -> list[tuple[str, str]]:
    """(location, code) of each finding line of an error."""
    return re.findall(r"^  (\S*?): (PK\d+) ", stderr, re.M)


def programs(db: Path) -> list[str]:
    ws = open_target(str(db))
    try:
        return [p.name for p in ws.programs()]
    finally:
        ws.close()


def test_a_cut_down_plan_is_refused_with_every_missing_action(sample_copy, tmp_path, invoke, db):
    plan = save_plan(invoke, sample_copy, db, tmp_path / "plan.json")
    cut = edited(tmp_path / "t3.json", plan, lambda p: p.update(actions=p["actions"][:3]))
    before = dump(db)
    r = invoke("import", str(sample_copy), "--target", str(db), "--plan", str(cut), "--yes")
    assert r.exit_code == 1, r.output
    assert r.stderr.startswith(f"error: {cut} is not the plan programkit makes now for this bundle and workspace "
                               f"(9 differences); nothing was written\n")
    missing = re.findall(r"PK534 \[plan-edited\] create (\w+ '[^']+') is planned now \(action (\d+) of 12\)",
                         r.stderr)
    assert missing == [("token 'MQL Score Threshold'", "4"), ("token 'MQL Follow-up SLA Hours'", "5"),
                       ("token 'New Person Status'", "6"), ("tag 'Program Purpose: Lead Management'", "7"),
                       ("emailTemplate 'Quick Start Email Template'", "8"),
                       ("smartCampaign '01 - Sync New People to CRM'", "9"),
                       ("smartCampaign '02 - Marketing Qualified'", "10"), ("email '01 - Email - ALERT - MQL'", "11"),
                       ("leadLifecycle 'Lead Lifecycle'", "12")]
    assert "Imported" not in r.output
    assert dump(db) == before  # nothing written, not even a history row
    # the untouched file still applies, exactly as planned
    r = invoke("import", str(sample_copy), "--target", str(db), "--plan", str(tmp_path / "plan.json"), "--yes")
    assert r.exit_code == 0, r.output
    assert f"as program '{PROGRAM}' (import #1, 12 changes" in r.output


def test_actions_set_to_skip_and_an_added_action_are_each_listed(sample_copy, tmp_path, invoke, db):
    plan = save_plan(invoke, sample_copy, db, tmp_path / "plan.json")

    def edit(p):
        p["actions"][4]["action"] = "skip"
        p["actions"][7]["action"] = "skip"
        p["actions"].append({"kind": "image", "name": "x.png", "action": "delete", "targetId": 1})
    bad = edited(tmp_path / "skip.json", plan, edit)
    before = dump(db)
    r = invoke("import", str(sample_copy), "--target", str(db), "--plan", str(bad), "--yes")
    assert r.exit_code == 1
    assert codes(r.stderr) == [(f"{bad}:/actions/4/action", "PK534"), (f"{bad}:/actions/7/action", "PK534"),
                               (f"{bad}:/actions/12", "PK534")]
    assert ("token 'MQL Follow-up SLA Hours': action is \"skip\" in the file, \"create\" planned now"
            in r.stderr)
    assert "delete image 'x.png' is in the file but not planned now" in r.stderr
    assert dump(db) == before


def test_a_name_written_into_the_file_is_not_applied(sample_copy, tmp_path, invoke, db):
    plan = save_plan(invoke, sample_copy, db, tmp_path / "plan.json")
    only_as = edited(tmp_path / "as.json", json.loads(json.dumps(plan)), lambda p: p["program"].update({"as": "Evil"}))
    r = invoke("import", str(sample_copy), "--target", str(db), "--plan", str(only_as), "--yes")
    assert r.exit_code == 1
    assert codes(r.stderr) == [(f"{only_as}:/program/as", "PK534")]
    assert '/program/as is "Evil" in the file, null planned now' in r.stderr

    def both(p):
        p["program"]["as"] = "Evil"
        p["options"]["as"] = "Evil"
    evil = edited(tmp_path / "evil.json", plan, both)
    r = invoke("import", str(sample_copy), "--target", str(db), "--plan", str(evil), "--yes")
    assert r.exit_code == 1 and "as program 'Evil'" not in r.output
    assert [loc for loc, _ in codes(r.stderr)] == [f"{evil}:{p}" for p in (
        "/program/action", "/program/data/name", "/summary/create", "/summary/rename", "/actions/0/action",
        "/actions/0/as", "/actions/0/decidedBy", "/actions/0/reason")]
    assert programs(db) == []


def test_a_rule_edited_in_the_file_is_a_difference(sample_copy, tmp_path, invoke, db):
    plan = save_plan(invoke, sample_copy, db, tmp_path / "plan.json")
    assert plan["rules"]["programTags"] == {"value": "create", "decidedBy": "bundle"}
    bundle_level = edited(tmp_path / "r1.json", json.loads(json.dumps(plan)),
                          lambda p: p["rules"]["programTags"].update(value="ignore"))
    r = invoke("import", str(sample_copy), "--target", str(db), "--plan", str(bundle_level), "--yes")
    assert r.exit_code == 1
    assert codes(r.stderr) == [(f"{bundle_level}:/rules/programTags/value", "PK534")]
    # said to come from a flag: planned again with it, so every action it changes is listed
    flag = edited(tmp_path / "r2.json", plan,
                  lambda p: p["rules"].update(programTags={"value": "ignore", "decidedBy": "flag"}))
    r = invoke("import", str(sample_copy), "--target", str(db), "--plan", str(flag), "--yes")
    assert r.exit_code == 1
    locations = [loc.split(":", 1)[1] for loc, _ in codes(r.stderr)]
    assert locations == ["/program/data/tags", "/summary/create", "/summary/skip", "/actions/6/action",
                         "/actions/6/decidedBy", "/actions/6/reason"]
    assert programs(db) == []


@pytest.mark.parametrize("content, why", [
    ("[]\n", "is not a programkit plan: a JSON list, not an object"),
    ("{\"format\": \"programkit-plan/1\", \"bundle\": {", "is not a programkit plan: not valid JSON: "),
    ("{\"format\": \"programkit-plan/1\", \"bundle\": {}}", "is not a programkit plan: /workspace is missing"),
    ("\"a string\"", "is not a programkit plan: a JSON string, not an object"),
])
def test_a_file_that_is_not_a_plan_is_bad_input(sample_copy, tmp_path, invoke, db, content, why):
    bad = tmp_path / "p.json"
    bad.write_text(content, encoding="utf-8")
    before = dump(db)
    r = invoke("import", str(sample_copy), "--target", str(db), "--plan", str(bad), "--yes")
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith(f"error: {bad} {why}")
    assert f"  {bad}: PK531 [plan-unreadable]" in r.stderr and "hint: Give the file" in r.stderr
    assert "Traceback" not in r.output
    assert dump(db) == before


def test_a_truncated_plan_says_it_is_cut_short(sample_copy, tmp_path, invoke, db):
    save_plan(invoke, sample_copy, db, tmp_path / "plan.json")
    cut = tmp_path / "cut.json"
    cut.write_text((tmp_path / "plan.json").read_text()[:300], encoding="utf-8")
    r = invoke("import", str(sample_copy), "--target", str(db), "--plan", str(cut))
    assert r.exit_code == 2
    assert "is not a programkit plan: not valid JSON" in r.stderr and "(the file is cut short)" in r.stderr


def test_another_format_version_and_another_bundle_are_bad_input(sample_copy, tmp_path, invoke, db):
    plan = save_plan(invoke, sample_copy, db, tmp_path / "plan.json")
    v2 = edited(tmp_path / "v2.json", json.loads(json.dumps(plan)), lambda p: p.update(format="programkit-plan/2"))
    r = invoke("import", str(sample_copy), "--target", str(db), "--plan", str(v2))
    assert r.exit_code == 2
    assert r.stderr.startswith(f"error: {v2} is a programkit-plan/2 plan; this programkit reads programkit-plan/1\n")
    assert f"{v2}:/format: PK532 [plan-format]" in r.stderr
    other = edited(tmp_path / "other.json", plan, lambda p: p["bundle"].update(name="webinar-kit"))
    r = invoke("import", str(sample_copy), "--target", str(db), "--plan", str(other))
    assert r.exit_code == 2
    assert r.stderr.startswith(f"error: {other} is a plan for bundle webinar-kit; the bundle given is "
                               f"op-lead-management\n")
    assert "PK533 [plan-other-bundle]" in r.stderr and "hint: Give the bundle the plan names" in r.stderr
    assert programs(db) == []


def test_a_plan_for_another_file_names_both_targets(sample_copy, tmp_path, invoke, db):
    saved = tmp_path / "plan.json"
    save_plan(invoke, sample_copy, db, saved)
    other = tmp_path / "other.db"
    init_workspace(other, crm="salesforce").close()  # same revision as db: only the target tells them apart
    before = dump(other)
    r = invoke("import", str(sample_copy), "--target", str(other), "--plan", str(saved), "--yes")
    assert r.exit_code == 1
    assert r.stderr.startswith(f"error: this plan was made for target {os.path.realpath(db)}, not "
                               f"{os.path.realpath(other)}; nothing was written\n")
    assert "PK535 [plan-other-target]" in r.stderr and "revision" not in r.stderr
    assert dump(other) == before


def test_a_plan_saved_before_plans_named_their_target_still_applies(sample_copy, tmp_path, invoke, db):
    plan = save_plan(invoke, sample_copy, db, tmp_path / "plan.json")
    assert plan["workspace"] == {"name": "Default", "revision": "1.1", "target": os.path.realpath(db)}
    old = edited(tmp_path / "old.json", plan, lambda p: p["workspace"].pop("target"))
    r = invoke("import", str(sample_copy), "--target", str(db), "--plan", str(old), "--yes")
    assert r.exit_code == 0, r.output
    assert programs(db) == [PROGRAM]


def test_a_changed_workspace_is_still_its_own_refusal(sample_copy, tmp_path, invoke, db):
    saved = tmp_path / "plan.json"
    save_plan(invoke, sample_copy, db, saved)
    assert invoke("import", str(sample_copy), "--target", str(db), "--as", "Copy", "--yes").exit_code == 0
    r = invoke("import", str(sample_copy), "--target", str(db), "--plan", str(saved), "--yes")
    assert r.exit_code == 1
    assert "PK520 [workspace-changed]" in r.stderr
    assert "PK534" not in r.stderr


@pytest.mark.parametrize("name, why", [
    ("", "the program name is empty"),
    ("   ", "the program name is blank"),
    (" OLM", "the program name starts or ends with whitespace"),
    ("two\nlines", "the program name holds a line break"),
    ("x" * 256, "the program name has 256 characters; a Marketo program name has at most 255"),
])
def test_as_takes_only_a_program_name_marketo_takes(sample_copy, tmp_path, invoke, db, name, why):
    before = dump(db)
    for cmd in ("plan", "import"):
        r = invoke(cmd, str(sample_copy), "--target", str(db), "--as", name, *(["--yes"] if cmd == "import" else []))
        assert r.exit_code == 2, r.output
        assert why in r.stderr and "PK536 [bad-program-name]" in r.stderr
        assert "hint: Give --as a program name of 1 to 255 characters" in r.stderr
    assert dump(db) == before
    assert invoke("import", str(sample_copy), "--target", str(db), "--as", "x" * 255, "--yes").exit_code == 0


def test_history_shows_the_program_name_as_written(sample_copy, invoke, db):
    assert invoke("import", str(sample_copy), "--target", str(db), "--as", "OLM Copy", "--yes").exit_code == 0
    r = invoke("import", str(sample_copy), "--target", str(db), "--as", "olm copy", "--yes")
    assert r.exit_code == 0 and "Recorded as import #2" in r.output
    assert "as program 'OLM Copy'" in invoke("plan", str(sample_copy), "--target", str(db), "--as", "olm copy").output
    lines = invoke("history", "--target", str(db)).output.splitlines()
    assert [re.sub(r"^(#\d+) +\S+ +", r"\1 ", line) for line in lines] == [
        "#2 noop     op-lead-management 1.0.0  -> 'OLM Copy'  (12 noop)",
        "#1 applied  op-lead-management 1.0.0  -> 'OLM Copy'  (11 create, 1 rename)"]
    assert programs(db) == ["OLM Copy"]


# --- Marketo targets (the stand-in server) --------------------------------------------------------


def test_marketo_saved_plan_edited_or_for_another_target(fake, cli_env, tmp_path, invoke, sample_copy, db):
    plan = save_plan(invoke, sample_copy, fake.url, tmp_path / "plan.json")
    assert plan["workspace"]["target"] == fake.url.rstrip("/")
    cut = edited(tmp_path / "cut.json", json.loads(json.dumps(plan)), lambda p: p.update(actions=p["actions"][:3]))
    r = invoke("import", str(sample_copy), "--target", fake.url, "--plan", str(cut), "--yes")
    assert r.exit_code == 1
    assert len(codes(r.stderr)) == 9 and {c for _, c in codes(r.stderr)} == {"PK534"}
    assert fake.snapshot()["programs"] == []
    r = invoke("import", str(sample_copy), "--target", str(db), "--plan", str(tmp_path / "plan.json"), "--yes")
    assert r.exit_code == 1
    assert r.stderr.startswith(f"error: this plan was made for target {fake.url.rstrip('/')}, not "
                               f"{os.path.realpath(db)}; nothing was written\n")
    r = invoke("import", str(sample_copy), "--target", fake.url, "--plan", str(tmp_path / "plan.json"), "--yes")
    assert r.exit_code == 0, r.output
    assert fake.snapshot()["programs"] == [PROGRAM]


# --- the installed command --------------------------------------------------------------------------


@pytest.mark.skipif(PROGRAMKIT is None, reason="programkit console script not installed")
def test_installed_programkit_refuses_an_edited_plan_and_a_bad_file(sample_copy, tmp_path, db):
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([PROGRAMKIT, *args], cwd=tmp_path, capture_output=True, text=True, timeout=60)

    assert run("plan", str(sample_copy), "-t", str(db), "--out", "plan.json").returncode == 0
    plan = json.loads((tmp_path / "plan.json").read_text())
    edited(tmp_path / "t3.json", plan, lambda p: p.update(actions=p["actions"][:3]))
    done = run("import", str(sample_copy), "-t", str(db), "--plan", "t3.json", "--yes")
    assert done.returncode == 1 and "Imported" not in done.stdout
    assert "t3.json is not the plan programkit makes now" in done.stderr and done.stderr.count("PK534") == 9
    (tmp_path / "p.json").write_text("[]\n")
    done = run("import", str(sample_copy), "-t", str(db), "--plan", "p.json")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: p.json is not a programkit plan: a JSON list, not an object\n")
    assert programs(db) == []
