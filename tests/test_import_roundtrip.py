"""Round trip: import a bundle, export the program, and get the bundle back (same canonical manifest,
same asset digests); export → import → export is stable too."""

from __future__ import annotations

import json
from pathlib import Path

from programkit import canonical
from programkit.apply import apply_plan
from programkit.export import export_program
from programkit.plan import plan_path
from programkit.workspaces.sqlite import init_workspace, open_workspace

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "op-lead-management"


def _import(bundle: Path, db: Path) -> None:
    ws = init_workspace(db, crm="salesforce")
    try:
        plan, loaded = plan_path(str(bundle), ws)
        assert plan.ok, [p.message for p in plan.problems]
        apply_plan(plan, loaded, ws)
    finally:
        ws.close()


def _export(db: Path, program: str = "OP-Lead Management"):
    ws = open_workspace(db)
    try:
        return export_program(ws, program)
    finally:
        ws.close()


def test_import_then_export_gives_the_bundle_back(tmp_path):
    db = tmp_path / "pk.db"
    _import(SAMPLE, db)
    exported = _export(db)
    original = json.loads((SAMPLE / "bundle.json").read_text(encoding="utf-8"))
    assert canonical.dumps(exported.manifest) == canonical.dumps(original)
    assert exported.digest == canonical.bundle_digest(original)
    for entry in original["assets"]:
        assert canonical.sha256_bytes(exported.files[entry["path"]]) == entry["sha256"]
        assert exported.files[entry["path"]] == (SAMPLE / entry["path"]).read_bytes()


def test_export_import_export_is_stable(tmp_path, invoke):
    first_db, second_db = tmp_path / "one.db", tmp_path / "two.db"
    _import(SAMPLE, first_db)
    out1 = tmp_path / "export-1"
    r = invoke("export", "OP-Lead Management", "--target", str(first_db), "-o", str(out1))
    assert r.exit_code == 0, r.output
    init_workspace(second_db, crm="salesforce").close()
    r = invoke("import", str(out1), "--target", str(second_db))
    assert r.exit_code == 0, r.output
    out2 = tmp_path / "export-2.zip"
    r = invoke("export", "OP-Lead Management", "--target", str(second_db), "-o", str(out2))
    assert r.exit_code == 0, r.output
    out3 = tmp_path / "export-3.zip"
    invoke("export", "OP-Lead Management", "--target", str(first_db), "-o", str(out3))
    assert out2.read_bytes() == out3.read_bytes()  # byte-identical archives
    assert (out1 / "bundle.json").read_bytes() == canonical.dump_bytes(
        json.loads((SAMPLE / "bundle.json").read_text(encoding="utf-8")))
