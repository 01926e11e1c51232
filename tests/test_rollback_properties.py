"""Any sequence of imports into an embedded workspace — new programs, copies under --as, upgrades with and
without --prune, a template replaced — rolled back newest first, leaves the workspace exactly as it was, and
each rollback on the way is allowed (nothing later depends on the newest import)."""

from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SAMPLE
from dbdump import dump
from import_helpers import manifest, plan_for, write_manifest
from programkit.apply import apply_plan
from programkit.rollback import rollback_import
from programkit.workspaces import open_target
from programkit.workspaces.sqlite import init_workspace

BOOKKEEPING = ("imports", "changes", "workspaces", "sqlite_sequence")


def _bundles(root: Path) -> dict[str, Path]:
    v1 = root / "v1"
    shutil.copytree(SAMPLE, v1)
    v11 = root / "v11"
    shutil.copytree(SAMPLE, v11)
    camp = v11 / "campaigns/01-sync-new-people-to-crm.json"
    camp.write_text(camp.read_text().replace('"active": true', '"active": false'))
    tpl = v11 / "design-studio/quick-start-email-template.html"
    tpl.write_text(tpl.read_text() + "<!-- 1.1 -->\n")
    (v11 / "campaigns/02-marketing-qualified.json").unlink()
    data = manifest(v11)
    data["version"] = "1.1.0"
    data["assets"] = [a for a in data["assets"] if a["name"] != "02 - Marketing Qualified"]
    data["program"]["tokens"][0]["value"] = "90"
    data["program"]["tags"] = {"Program Purpose": "Nurture"}
    write_manifest(v11, data)
    return {"v1": v1, "v11": v11}


#: (bundle, options) an admin might run
STEPS = [("v1", {}), ("v11", {}), ("v11", {"prune": True}), ("v1", {"as_name": "OLM Copy"}),
         ("v11", {"as_name": "OLM Copy", "prune": True}), ("v1", {"allow_downgrade": True}),
         ("v11", {"flags": {"emailTemplates": "replace"}, "as_name": "OLM 3"})]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(range(len(STEPS))), min_size=1, max_size=5))
def test_imports_rolled_back_newest_first_leave_the_workspace_as_it_was(tmp_path_factory, steps):
    root = tmp_path_factory.mktemp("rb")
    bundles = _bundles(root)
    db = root / "pk.db"
    init_workspace(db, crm="salesforce").close()
    before = dump(db, skip=BOOKKEEPING)
    applied = []
    ws = open_target(str(db), create=False)
    try:
        for i in steps:
            name, options = STEPS[i]
            plan, bundle = plan_for(bundles[name], ws, **options)
            if not plan.ok:
                continue  # refused by the plan (PK510/PK511/PK512): nothing written
            record = apply_plan(plan, bundle, ws)
            if record.outcome == "applied":
                applied.append(record.id)
        for import_id in reversed(applied):
            done = rollback_import(ws, import_id)
            assert done.ok, [p.message for p in done.problems]
    finally:
        ws.close()
    assert dump(db, skip=BOOKKEEPING) == before
