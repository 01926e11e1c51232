"""Export keeps every Design Studio asset the program's import brought in or mapped, not only the referenced ones:
a bundle carrying a guided landing page template and an image nothing references comes back byte for byte."""

from __future__ import annotations

import base64
import json
import re
import shutil
import struct
import zlib
from pathlib import Path

from conftest import SAMPLE
from import_helpers import action, import_into, manifest
from programkit.archive import pack_dir
from programkit.canonical import dump_bytes, refresh_digests, sha256_bytes
from programkit.export import export_program, export_to
from programkit.inventory import load_inventory
from programkit.validate import validate_path
from programkit.workspaces.sqlite import init_workspace

PROGRAM = "OP-Lead Management"
LP, LP_PATH = "Event Landing Page", "design-studio/event-landing-page.html"
IMAGE, IMAGE_PATH = "hero.png", "images/hero.png"
LP_HTML = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>Event</title>
<meta class="mktoString" id="headline" mktoName="Headline" default="Join us">
</head>
<body>
<h1>${headline}</h1>
<div class="mktoText" id="intro" mktoName="Intro">Meet the team.</div>
<div class="mktoForm" id="signup" mktoName="Sign-up form"></div>
</body>
</html>
"""


def _png(width: int = 2, height: int = 1) -> bytes:
    """A real (tiny, grey) PNG: signature, IHDR, IDAT, IEND."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _clean(out: Path) -> None:
    assert [f.to_dict() for f in validate_path(out).findings] == []


def _bundle(root: Path) -> Path:
    """The sample plus a guided landing page template and an image that nothing references, manifest canonical
    (as export writes it), so an export can equal it byte for byte."""
    bundle = root / "bundle"
    shutil.copytree(SAMPLE, bundle)
    (bundle / LP_PATH).write_text(LP_HTML, encoding="utf-8")
    (bundle / IMAGE_PATH).parent.mkdir(parents=True)
    (bundle / IMAGE_PATH).write_bytes(_png())
    data = manifest(bundle)
    # not in the order export would sort them by: the bundle's order has to be kept
    data["assets"] = [{"kind": "image", "name": IMAGE, "path": IMAGE_PATH, "sha256": "", "mimeType": "image/png"},
                      *data["assets"],
                      {"kind": "landingPageTemplate", "name": LP, "path": LP_PATH, "sha256": "",
                       "templateType": "guided", "folder": "Templates/Landing Pages"}]
    (bundle / "bundle.json").write_text(json.dumps(data), encoding="utf-8")
    refresh_digests(bundle)
    (bundle / "bundle.json").write_bytes(dump_bytes(manifest(bundle)))
    _clean(bundle)
    return bundle


def _workspace(tmp_path: Path, name: str, inventory: dict | None = None):
    ws = init_workspace(tmp_path / f"{name}.db", crm="salesforce")
    if inventory:
        inv = tmp_path / f"{name}.json"
        inv.write_text(json.dumps(inventory), encoding="utf-8")
        assert load_inventory(ws, inv).ok
    return ws


def _round_trip(out: Path, tmp_path: Path) -> None:
    """export → import into a fresh workspace → export is byte-identical (dir and zip)."""
    fresh = _workspace(tmp_path, "fresh")
    try:
        import_into(out, fresh)
        export_to(fresh, PROGRAM, tmp_path / "again")
        export_to(fresh, PROGRAM, tmp_path / "again.zip")
    finally:
        fresh.close()
    assert _files(tmp_path / "again") == _files(out)
    pack_dir(out, tmp_path / "out.zip")
    assert (tmp_path / "again.zip").read_bytes() == (tmp_path / "out.zip").read_bytes()


#: a workspace with its own landing page template and image of the bundle's names (other content)
THEIRS = {"landingPageTemplates": [{"name": LP, "content": "<html><body>Acme LP</body></html>\n",
                                    "templateType": "freeForm"}],
          "images": [{"name": IMAGE, "contentBase64": "R0lGODlhAQABAAAAACw=", "mimeType": "image/gif"}]}


def test_unreferenced_landing_page_template_and_image_come_back_byte_for_byte(tmp_path, invoke):
    bundle = _bundle(tmp_path)
    assert invoke("validate", str(bundle)).exit_code == 0
    ws = _workspace(tmp_path, "pk")
    try:
        plan, _ = import_into(bundle, ws)
        assert (action(plan, "landingPageTemplate", LP).action, action(plan, "image", IMAGE).action) == (
            "create", "create")
        result = export_to(ws, PROGRAM, tmp_path / "out")
        export_to(ws, PROGRAM, tmp_path / "out.zip")
    finally:
        ws.close()
    assert _files(tmp_path / "out") == _files(bundle)
    assert result.assets == {"smartCampaign": 2, "email": 1, "emailTemplate": 1, "leadLifecycle": 1,
                             "landingPageTemplate": 1, "image": 1}
    pack_dir(bundle, tmp_path / "bundle.zip")
    assert (tmp_path / "out.zip").read_bytes() == (tmp_path / "bundle.zip").read_bytes()
    # and through the CLI, into another fresh workspace
    db = tmp_path / "cli.db"
    assert invoke("workspace", "init", "--crm", "salesforce", "--target", str(db)).exit_code == 0
    assert invoke("import", str(tmp_path / "out.zip"), "--target", str(db), "--yes").exit_code == 0
    r = invoke("export", PROGRAM, "--target", str(db), "-o", str(tmp_path / "cli.zip"))
    assert r.exit_code == 0, r.output
    assert (tmp_path / "cli.zip").read_bytes() == (tmp_path / "bundle.zip").read_bytes()


def test_keep_both_copies_export_under_their_names_and_round_trip(tmp_path, invoke):
    bundle = _bundle(tmp_path)
    ws = _workspace(tmp_path, "pk", THEIRS)
    try:
        plan, _ = import_into(bundle, ws)
        assert [(a.action, a.as_name) for a in (action(plan, "landingPageTemplate", LP), action(plan, "image", IMAGE))
                ] == [("rename", f"{LP} - 1"), ("rename", "hero - 1.png")]
        export_to(ws, PROGRAM, tmp_path / "out")
    finally:
        ws.close()
    out = tmp_path / "out"
    expected = manifest(bundle)
    for entry in expected["assets"]:
        entry["name"] = {LP: f"{LP} - 1", IMAGE: "hero - 1.png"}.get(entry["name"], entry["name"])
    # other content than the imported bundle's: the version names it (a re-import to the origin updates in place)
    assert re.fullmatch(re.escape(expected["version"]) + r"\+export\.[0-9a-f]{8}", manifest(out)["version"])
    expected["version"] = manifest(out)["version"]
    assert manifest(out) == expected  # the copies, at the bundle's paths and place, with the bundle's bytes
    assert {k: v for k, v in _files(out).items() if k != "bundle.json"} == {
        k: v for k, v in _files(bundle).items() if k != "bundle.json"}
    _clean(out)
    assert invoke("validate", str(out)).exit_code == 0
    _round_trip(out, tmp_path)


def test_a_reused_asset_exports_what_the_workspace_has(tmp_path):
    """useDestination: the program uses the workspace's landing page template, so that is what the bundle gets
    (its content and templateType, at the bundle's path); the image is identical and reused as it is."""
    bundle = _bundle(tmp_path)
    theirs = {**THEIRS, "images": [{"name": IMAGE, "contentBase64": base64.b64encode(_png()).decode(),
                                    "mimeType": "image/png"}]}
    ws = _workspace(tmp_path, "pk", theirs)
    try:
        plan, _ = import_into(bundle, ws, flags={"landingPageTemplates": "useDestination"})
        assert (action(plan, "landingPageTemplate", LP).action, action(plan, "image", IMAGE).action) == (
            "reuse", "reuse")
        exported = export_program(ws, PROGRAM)
        export_to(ws, PROGRAM, tmp_path / "out")
    finally:
        ws.close()
    lp = next(e for e in exported.manifest["assets"] if e["kind"] == "landingPageTemplate")
    acme_lp = THEIRS["landingPageTemplates"][0]["content"].encode()
    assert lp == {"kind": "landingPageTemplate", "name": LP, "path": LP_PATH, "sha256": sha256_bytes(acme_lp),
                  "templateType": "freeForm"}
    assert exported.files[LP_PATH] == acme_lp
    assert exported.files[IMAGE_PATH] == _png()
    assert [e["name"] for e in exported.manifest["assets"]] == [e["name"] for e in manifest(bundle)["assets"]]
    _clean(tmp_path / "out")


def test_a_program_built_in_the_workspace_exports_referenced_assets_only(tmp_path):
    ws = _workspace(tmp_path, "pk", THEIRS)
    try:
        plan, _ = import_into(_bundle(tmp_path), ws)  # the bundle's own copies are there too
        email = json.loads((SAMPLE / "emails/01-email-alert-mql.json").read_text(encoding="utf-8"))
        data = json.dumps(email).encode()
        with ws.transaction() as w:
            pid = w.create_program({"name": "Hand Made", "type": "default", "channel": "Operational"})
            w.put_asset("email", "Alert", data, sha256_bytes(data), program_id=pid, meta={})
        assert ws.program("Hand Made").provenance is None
        exported = export_program(ws, "Hand Made")
    finally:
        ws.close()
    assert [(e["kind"], e["name"]) for e in exported.manifest["assets"]] == [
        ("email", "Alert"), ("emailTemplate", "Quick Start Email Template")]


def test_export_of_a_copy_imported_under_another_name_re_imports_in_place(tmp_path, invoke):
    """Imported under --as, the program is not the bundle it came from: its export names its content in the
    version, so importing it back into the same workspace updates the copy (not PK512, same version other
    content), and a second import has nothing to do."""
    db = tmp_path / "pk.db"
    assert invoke("workspace", "init", "--crm", "salesforce", "--target", str(db)).exit_code == 0
    assert invoke("import", str(SAMPLE), "--target", str(db), "--yes").exit_code == 0
    assert invoke("import", str(SAMPLE), "--target", str(db), "--as", "OLM Copy", "--yes").exit_code == 0
    r = invoke("export", "OLM Copy", "--target", str(db), "-o", str(tmp_path / "copy.zip"))
    assert r.exit_code == 0, r.output
    version = re.search(r": op-lead-management (\S+) \(", r.output).group(1)
    assert re.fullmatch(r"1\.0\.0\+export\.[0-9a-f]{8}", version), r.output
    assert "  version:  the program differs from op-lead-management 1.0.0 as imported (import #2)" in r.output
    r = invoke("import", str(tmp_path / "copy.zip"), "--target", str(db), "--yes")
    assert r.exit_code == 0 and "PK512" not in r.output, r.output
    assert f"Imported op-lead-management {version} into workspace 'Default' as program 'OLM Copy'" in r.output
    r = invoke("import", str(tmp_path / "copy.zip"), "--target", str(db), "--yes")
    assert r.exit_code == 0 and "No changes:" in r.output, r.output
    # exported again, the re-imported copy keeps that version: its digest now matches its import
    r = invoke("export", "OLM Copy", "--target", str(db), "-o", str(tmp_path / "again.zip"))
    assert r.exit_code == 0 and f"op-lead-management {version} (" in r.output and "  version:" not in r.output
    # the original exports unchanged
    r = invoke("export", "OP-Lead Management", "--target", str(db), "-o", str(tmp_path / "orig"))
    assert ": op-lead-management 1.0.0 (" in r.output and "  version:" not in r.output
