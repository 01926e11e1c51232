"""`plan` previews every import `import` can make: the two commands share every option that changes the plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from import_helpers import manifest, write_manifest
from programkit.cli.importing import IMPORT_ONLY, import_cmd, plan_cmd
from programkit.workspaces.sqlite import init_workspace


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "pk.db"
    init_workspace(path, crm="salesforce").close()
    return path


def _options(command) -> dict[str, tuple[str, ...]]:
    return {p.name: tuple(p.opts) for p in command.params}


def test_plan_takes_every_option_of_import_that_changes_the_plan():
    plan, imp = _options(plan_cmd), _options(import_cmd)
    missing = {name: opts for name, opts in imp.items() if name not in IMPORT_ONLY and plan.get(name) != opts}
    assert missing == {}
    assert {"prune", "allow_downgrade", "as_name", "rules_file", "images"} <= set(plan)


def _v110_without_campaign_02(bundle: Path) -> None:
    (bundle / "campaigns/02-marketing-qualified.json").unlink()
    data = manifest(bundle)
    data["version"] = "1.1.0"
    data["assets"] = [a for a in data["assets"] if a["name"] != "02 - Marketing Qualified"]
    write_manifest(bundle, data)


def test_plan_prune_previews_the_delete_import_prune_then_makes(sample_copy, invoke, db, tmp_path):
    assert invoke("import", str(sample_copy), "--target", str(db), "--yes").exit_code == 0
    _v110_without_campaign_02(sample_copy)
    kept = invoke("plan", str(sample_copy), "--target", str(db))
    assert "x skip    smartCampaign  02 - Marketing Qualified  (removed from the bundle; kept (--prune deletes it))" \
        in kept.output
    pruned = invoke("plan", str(sample_copy), "--target", str(db), "--prune", "--out", str(tmp_path / "p.json"))
    assert pruned.exit_code == 0, pruned.output
    assert "- delete  smartCampaign  02 - Marketing Qualified  (removed from the bundle; --prune [flag])" \
        in pruned.output
    saved = json.loads((tmp_path / "p.json").read_text())
    assert saved["options"] == {"as": None, "prune": True, "allowDowngrade": False}
    # the saved plan is the one import --plan applies: it records --prune, so the delete happens
    done = invoke("import", str(sample_copy), "--target", str(db), "--plan", str(tmp_path / "p.json"), "--yes")
    assert done.exit_code == 0, done.output
    assert "02 - Marketing Qualified" not in invoke("workspace", "show", "--target", str(db), "--kind",
                                                    "smartCampaign").output


def test_plan_allow_downgrade_previews_the_downgrade(sample_copy, invoke, db):
    data = manifest(sample_copy)
    data["version"] = "2.0.0"
    write_manifest(sample_copy, data)
    assert invoke("import", str(sample_copy), "--target", str(db), "--yes").exit_code == 0
    data["version"] = "1.0.0"
    write_manifest(sample_copy, data)
    refused = invoke("plan", str(sample_copy), "--target", str(db))
    assert refused.exit_code == 1 and "PK511" in refused.output
    allowed = invoke("plan", str(sample_copy), "--target", str(db), "--allow-downgrade")
    assert allowed.exit_code == 0, allowed.output
    assert "~ update  program        OP-Lead Management  (downgrade op-lead-management 2.0.0 → 1.0.0 [flag])" \
        in allowed.output


def _strip_blocked(plan: dict) -> list[dict]:
    return [{k: v for k, v in a.items() if k != "blockedBy"} for a in plan["actions"]]


def test_a_program_collision_marks_the_creates_blocked_and_says_as_name_unblocks_them(sample_copy, invoke, db):
    assert invoke("import", str(sample_copy), "--target", str(db), "--yes").exit_code == 0
    other = sample_copy.parent / "other"
    other.mkdir()
    (other / "bundle.json").write_text(json.dumps({**manifest(sample_copy), "name": "other-kit"}))
    for a in manifest(sample_copy)["assets"]:
        (other / a["path"]).parent.mkdir(parents=True, exist_ok=True)
        (other / a["path"]).write_bytes((sample_copy / a["path"]).read_bytes())
    r = invoke("plan", str(other), "--target", str(db))
    assert r.exit_code == 1 and "PK510" in r.output
    lines = r.output.splitlines()
    assert "  (+) create  smartCampaign  01 - Sync New People to CRM  (new smartCampaign; blocked by PK510)" in lines
    assert not [line for line in lines if line.startswith("   + create")]  # nothing reads as if it would run
    assert "Plan: 9 create, 2 reuse, 1 skip; 9 blocked." in lines, r.output
    assert ("Blocked: 9 writes marked ( ) above wait on PK510 and nothing is written. To unblock them, import "
            "under another name with --as NAME; they are what that import would create.") in lines
    blocked = json.loads(invoke("plan", str(other), "--target", str(db), "--format", "json").output)
    assert {a.get("blockedBy") for a in blocked["actions"] if a["action"] == "create"} == {"PK510"}
    # what unblocks it: --as; that plan's actions are exactly the blocked ones (the program renamed), unblocked
    unblocked = json.loads(invoke("plan", str(other), "--target", str(db), "--as", "OLM 2", "--format",
                                  "json").output)
    assert unblocked["problems"] == [] and not any("blockedBy" in a for a in unblocked["actions"])
    assert _strip_blocked(blocked)[1:] == unblocked["actions"][1:]


def test_same_version_other_content_shows_the_upgrade_it_blocks(sample_copy, invoke, db):
    assert invoke("import", str(sample_copy), "--target", str(db), "--yes").exit_code == 0
    camp = sample_copy / "campaigns/01-sync-new-people-to-crm.json"
    camp.write_text(camp.read_text().replace('"active": true', '"active": false'))
    write_manifest(sample_copy, manifest(sample_copy))
    r = invoke("plan", str(sample_copy), "--target", str(db))
    assert r.exit_code == 1 and "PK512" in r.output
    # not "create" for what the workspace has: the one change the new version would make, blocked
    assert "+ create" not in r.output
    assert "  (~) update  smartCampaign  01 - Sync New People to CRM  (changed in the bundle; blocked by PK512)" \
        in r.output.splitlines()
    assert "To unblock them, give the changed bundle a new version (e.g. 1.0.1)" in r.output
    blocked = json.loads(invoke("plan", str(sample_copy), "--target", str(db), "--format", "json").output)
    data = manifest(sample_copy)
    data["version"] = "1.0.1"
    write_manifest(sample_copy, data)
    upgrade = json.loads(invoke("plan", str(sample_copy), "--target", str(db), "--format", "json").output)
    assert upgrade["problems"] == []
    assert _strip_blocked(blocked)[1:] == upgrade["actions"][1:]
