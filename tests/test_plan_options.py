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
