"""Export after an import whose conflict rules put Design Studio assets under other names, or reused or
replaced the workspace's own: the exported bundle names, and carries, what the workspace's program uses.

The workspace keeps bundle bytes verbatim (so a re-import is a noop); export resolves the names those bytes use
through the asset meta ``designNames`` apply records, and rewrites them to the workspace names.
(Landing page templates, whose ``useDestination`` option is the remaining case, are referenced by no asset
kind a bundle has, so nothing to resolve there.)
"""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path

import pytest

from conftest import SAMPLE
from import_helpers import PNG, action, add_asset, import_into, manifest
from programkit.archive import pack_dir
from programkit.canonical import dump_bytes, sha256_bytes
from programkit.errors import ProgramkitError
from programkit.export import export_to
from programkit.inventory import load_inventory
from programkit.validate import validate_path
from programkit.workspaces.sqlite import init_workspace, open_workspace

PROGRAM = "OP-Lead Management"
TEMPLATE = "Quick Start Email Template"
TEMPLATE_PATH = "design-studio/quick-start-email-template.html"
EMAIL_PATH = "emails/01-email-alert-mql.json"
THEIRS = "<html><body><p>Acme's own quick start template</p></body></html>\n"
LOGO_URL = "https://go.example.com/rs/123/images/logo.png"
SNIPPET = b'<p style="background: url(logo.png)">Legal footer from the bundle.</p>\n'


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _workspace(tmp_path: Path, inventory: dict, name: str = "pk.db"):
    """A Salesforce workspace pre-loaded (as `workspace load` does) with the inventory's Design Studio assets."""
    ws = init_workspace(tmp_path / name, crm="salesforce")
    inv = tmp_path / f"{name}.inventory.json"
    inv.write_text(json.dumps(inventory), encoding="utf-8")
    assert load_inventory(ws, inv).ok
    return ws


def _clean(out: Path) -> None:
    assert [f.to_dict() for f in validate_path(out).findings] == []


def _round_trip(out: Path, tmp_path: Path) -> None:
    """export → import into a fresh workspace → export gives the same bundle, byte for byte (dir and zip)."""
    fresh = init_workspace(tmp_path / "fresh.db", crm="salesforce")
    try:
        import_into(out, fresh)
        export_to(fresh, PROGRAM, tmp_path / "again")
        assert _files(tmp_path / "again") == _files(out)
        export_to(fresh, PROGRAM, tmp_path / "again.zip")
        pack_dir(out, tmp_path / "first.zip")
        assert (tmp_path / "again.zip").read_bytes() == (tmp_path / "first.zip").read_bytes()
    finally:
        fresh.close()


def _sample_email() -> dict:
    return json.loads((SAMPLE / EMAIL_PATH).read_text(encoding="utf-8"))


# --- the sample's email template ----------------------------------------------------------------------


def test_keep_both_copy_exports_under_its_name_with_the_bundles_content(invoke, tmp_path):
    db, inv = tmp_path / "pk.db", tmp_path / "inventory.json"
    inv.write_text(json.dumps({"emailTemplates": [{"name": TEMPLATE, "content": THEIRS}]}), encoding="utf-8")
    assert invoke("workspace", "init", "--crm", "salesforce", "--target", str(db)).exit_code == 0
    assert invoke("workspace", "load", str(inv), "--target", str(db)).exit_code == 0
    r = invoke("import", str(SAMPLE), "--target", str(db), "--yes")
    assert r.exit_code == 0 and f"-> rename  emailTemplate  {TEMPLATE} -> {TEMPLATE} - 1" in r.output, r.output
    r = invoke("export", PROGRAM, "--target", str(db), "-o", str(tmp_path / "out"))
    assert r.exit_code == 0, r.output

    out = tmp_path / "out"
    email = dump_bytes({**_sample_email(), "template": f"{TEMPLATE} - 1"})
    expected = manifest(SAMPLE)
    expected["assets"][2]["sha256"] = sha256_bytes(email)
    expected["assets"][3]["name"] = f"{TEMPLATE} - 1"
    assert expected["assets"][2]["path"] == EMAIL_PATH and expected["assets"][3]["path"] == TEMPLATE_PATH
    assert re.fullmatch(r"1\.0\.0\+export\.[0-9a-f]{8}", manifest(out)["version"])  # other content: named
    expected["version"] = manifest(out)["version"]
    assert manifest(out) == expected
    files = _files(out)
    assert files[EMAIL_PATH] == email
    assert files[TEMPLATE_PATH] == (SAMPLE / TEMPLATE_PATH).read_bytes()  # the copy, not Acme's template
    assert {k: v for k, v in files.items() if k not in (EMAIL_PATH, "bundle.json")} == {
        k: v for k, v in _files(SAMPLE).items() if k not in (EMAIL_PATH, "bundle.json")}
    _clean(out)
    # the workspace still holds the bundle's bytes, so importing the sample again is a no-op
    r = invoke("import", str(SAMPLE), "--target", str(db), "--yes")
    assert r.exit_code == 0 and "No changes: op-lead-management 1.0.0 is already imported" in r.output
    _round_trip(out, tmp_path)


def test_a_second_program_reuses_the_identical_copy_and_exports_naming_it(invoke, tmp_path):
    """The sample imported twice (the second time --as another program) next to Acme's own template: the
    first import's keep-both copy holds the same bytes, so the second reuses it instead of a 'Name - 2'."""
    db, inv = tmp_path / "pk.db", tmp_path / "inventory.json"
    inv.write_text(json.dumps({"emailTemplates": [{"name": TEMPLATE, "content": THEIRS}]}), encoding="utf-8")
    assert invoke("workspace", "init", "--crm", "salesforce", "--target", str(db)).exit_code == 0
    assert invoke("workspace", "load", str(inv), "--target", str(db)).exit_code == 0
    assert invoke("import", str(SAMPLE), "--target", str(db), "--yes").exit_code == 0
    r = invoke("import", str(SAMPLE), "--target", str(db), "--as", "OLM Copy", "--yes", "--format", "json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    (tpl,) = [a for a in out["plan"]["actions"] if a["kind"] == "emailTemplate"]
    assert (tpl["action"], tpl["as"], tpl["decidedBy"], tpl["reason"]) == (
        "reuse", f"{TEMPLATE} - 1", "default", f"identical content (same sha256) already in the workspace as "
                                               f"'{TEMPLATE} - 1'")
    assert out["plan"]["summary"]["reuse"] == 2  # the template and the tag value
    (mapped,) = [m for m in out["import"]["mapping"] if m["kind"] == "emailTemplate"]
    assert (mapped["workspaceName"], mapped["owned"]) == (f"{TEMPLATE} - 1", False)
    ws = open_workspace(db, create=False)
    try:
        assert sorted(ws.design_names("emailTemplate", TEMPLATE)) == [TEMPLATE, f"{TEMPLATE} - 1"]
        assert mapped["workspaceId"] == ws.design_assets("emailTemplate", [f"{TEMPLATE} - 1"])[
            f"{TEMPLATE} - 1".casefold()].id
        (email,) = [a for a in ws.program_assets(ws.program("OLM Copy").id) if a.kind == "email"]
        assert email.meta["designNames"] == {"emailTemplate": {TEMPLATE: f"{TEMPLATE} - 1"}}
    finally:
        ws.close()
    # each program exports naming the copy it uses, with the same files
    for program, where in ((PROGRAM, "first"), ("OLM Copy", "second")):
        r = invoke("export", program, "--target", str(db), "-o", str(tmp_path / where))
        assert r.exit_code == 0, r.output
    first, second = _files(tmp_path / "first"), _files(tmp_path / "second")
    assert json.loads(second[EMAIL_PATH])["template"] == f"{TEMPLATE} - 1"
    assert {k: v for k, v in second.items() if k != "bundle.json"} == {
        k: v for k, v in first.items() if k != "bundle.json"}
    assert manifest(tmp_path / "second")["assets"] == manifest(tmp_path / "first")["assets"]
    _clean(tmp_path / "second")
    # importing again changes nothing; --no-reuse-identical makes the second copy it used to
    r = invoke("import", str(SAMPLE), "--target", str(db), "--as", "OLM Copy", "--yes")
    assert r.exit_code == 0 and "No changes: op-lead-management 1.0.0 is already imported" in r.output, r.output
    r = invoke("import", str(SAMPLE), "--target", str(db), "--as", "OLM Copy 2", "--no-reuse-identical", "--yes")
    assert r.exit_code == 0 and f"-> rename  emailTemplate  {TEMPLATE} -> {TEMPLATE} - 2" in r.output, r.output


@pytest.mark.parametrize("option,content,planned", [
    ("replace", THEIRS, "replace"),  # the workspace's template now holds the bundle's content
    ("reuseIfIdentical", (SAMPLE / TEMPLATE_PATH).read_text(encoding="utf-8"), "reuse"),
])
def test_replaced_or_identical_template_exports_as_the_original_bundle(tmp_path, option, content, planned):
    ws = _workspace(tmp_path, {"emailTemplates": [{"name": TEMPLATE, "content": content}]})
    try:
        plan, _ = import_into(SAMPLE, ws, flags={"emailTemplates": option})
        assert action(plan, "emailTemplate", TEMPLATE).action == planned
        assert len(ws.design_assets("emailTemplate", [TEMPLATE, f"{TEMPLATE} - 1"])) == 1
        export_to(ws, PROGRAM, tmp_path / "out")
    finally:
        ws.close()
    assert _files(tmp_path / "out") == _files(SAMPLE)


def test_upgrade_after_a_keep_both_copy_still_exports_the_copy(sample_copy, tmp_path):
    ws = _workspace(tmp_path, {"emailTemplates": [{"name": TEMPLATE, "content": THEIRS}]})
    try:
        import_into(sample_copy, ws)
        data = manifest(sample_copy)
        data["version"] = "1.1.0"
        (sample_copy / "bundle.json").write_text(json.dumps(data), encoding="utf-8")
        email = _sample_email()
        email["subject"] = "MQL: {{lead.Last Name}}"
        (sample_copy / EMAIL_PATH).write_text(json.dumps(email, indent=2), encoding="utf-8")
        from programkit.canonical import refresh_digests

        refresh_digests(sample_copy)
        plan, _ = import_into(sample_copy, ws)
        assert (action(plan, "email", "01 - Email - ALERT - MQL").action,
                action(plan, "emailTemplate", TEMPLATE).action) == ("update", "noop")
        export_to(ws, PROGRAM, tmp_path / "out")
    finally:
        ws.close()
    files = _files(tmp_path / "out")
    assert files[EMAIL_PATH] == dump_bytes({**email, "template": f"{TEMPLATE} - 1"})
    assert files[TEMPLATE_PATH] == (SAMPLE / TEMPLATE_PATH).read_bytes()
    assert [(a["kind"], a["name"]) for a in manifest(tmp_path / "out")["assets"]][2:] == [
        ("email", "01 - Email - ALERT - MQL"), ("emailTemplate", f"{TEMPLATE} - 1"), ("leadLifecycle", "Lead Lifecycle")]


# --- images and snippets named from the email, the template and a snippet ----------------------------------


def _rich_bundle(root: Path) -> Path:
    """The sample, whose template shows logo.png and has a mktoSnippet slot the email fills with 'Legal Footer';
    the email shows logo.png too, and the snippet uses it as a CSS background."""
    bundle = root / "rich"
    shutil.copytree(SAMPLE, bundle)
    tpl = bundle / TEMPLATE_PATH
    html = tpl.read_text(encoding="utf-8").replace("https://via.placeholder.com/160x40?text=Logo", LOGO_URL)
    html = html.replace('<td class="footer"', '<td><div class="mktoSnippet" id="legal" mktoName="Legal"></div></td>'
                                               '</tr><tr><td class="footer"')
    tpl.write_text(html, encoding="utf-8")
    email = _sample_email()
    email["sections"]["legal"] = "Legal Footer"
    email["sections"]["body"] += f'<p><img src="{LOGO_URL}" alt="" /></p>'
    (bundle / EMAIL_PATH).write_text(json.dumps(email, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    add_asset(bundle, "image", "logo.png", "design-studio/logo.png", PNG, mimeType="image/png")
    add_asset(bundle, "snippet", "Legal Footer", "design-studio/legal-footer.html", SNIPPET)
    _clean(bundle)
    return bundle


def _inventory(bundle: Path, same: bool) -> dict:
    """Acme's instance: a template, logo.png and 'Legal Footer' of its own (or the bundle's very bytes)."""
    if same:
        return {"emailTemplates": [{"name": TEMPLATE, "content": (bundle / TEMPLATE_PATH).read_text()}],
                "images": [{"name": "logo.png", "contentBase64": base64.b64encode(PNG).decode(),
                            "mimeType": "image/png"}],
                "snippets": [{"name": "Legal Footer", "content": SNIPPET.decode()}]}
    return {"emailTemplates": [{"name": TEMPLATE, "content": THEIRS}],
            "images": [{"name": "logo.png", "contentBase64": "R0lGODlhAQABAAAAACw=", "mimeType": "image/gif"}],
            "snippets": [{"name": "Legal Footer", "content": "<p>Acme legal</p>\n"}]}


def test_renamed_images_and_snippets_are_exported_and_renamed_everywhere(tmp_path):
    bundle = _rich_bundle(tmp_path)
    ws = _workspace(tmp_path, _inventory(bundle, same=False))
    try:
        plan, _ = import_into(bundle, ws)
        design = [a for a in plan.actions if a.kind in ("emailTemplate", "image", "snippet")]
        assert [(a.kind, a.action, a.as_name) for a in design] == [
            ("emailTemplate", "rename", f"{TEMPLATE} - 1"), ("image", "rename", "logo - 1.png"),
            ("snippet", "rename", "Legal Footer - 1")]
        export_to(ws, PROGRAM, tmp_path / "out")
    finally:
        ws.close()
    out = tmp_path / "out"
    new_url = "https://go.example.com/rs/123/images/logo%20-%201.png"
    email = json.loads((bundle / EMAIL_PATH).read_text())
    email["template"], email["sections"]["legal"] = f"{TEMPLATE} - 1", "Legal Footer - 1"
    email["sections"]["body"] = email["sections"]["body"].replace(LOGO_URL, new_url)
    want = {
        EMAIL_PATH: dump_bytes(email),
        TEMPLATE_PATH: (bundle / TEMPLATE_PATH).read_bytes().replace(LOGO_URL.encode(), new_url.encode()),
        "design-studio/logo.png": PNG,
        "design-studio/legal-footer.html": SNIPPET.replace(b"url(logo.png)", b"url(logo%20-%201.png)"),
    }
    files = _files(out)
    assert {k: files[k] for k in want} == want
    expected = manifest(bundle)
    for entry in expected["assets"]:
        entry["name"] = {TEMPLATE: f"{TEMPLATE} - 1", "logo.png": "logo - 1.png",
                         "Legal Footer": "Legal Footer - 1"}.get(entry["name"], entry["name"])
        entry["sha256"] = sha256_bytes(files[entry["path"]])
    assert re.fullmatch(r"1\.0\.0\+export\.[0-9a-f]{8}", manifest(out)["version"])  # other content: named
    expected["version"] = manifest(out)["version"]
    assert manifest(out) == expected
    assert [(a["kind"], a["name"], a["path"]) for a in expected["assets"]][2:] == [
        ("email", "01 - Email - ALERT - MQL", EMAIL_PATH), ("emailTemplate", f"{TEMPLATE} - 1", TEMPLATE_PATH),
        ("leadLifecycle", "Lead Lifecycle", "lifecycle/lead-lifecycle.json"),
        ("image", "logo - 1.png", "design-studio/logo.png"),
        ("snippet", "Legal Footer - 1", "design-studio/legal-footer.html")]
    _clean(out)
    _round_trip(out, tmp_path)


def test_identical_design_assets_are_reused_and_export_verbatim(tmp_path):
    bundle = _rich_bundle(tmp_path)
    ws = _workspace(tmp_path, _inventory(bundle, same=True))
    try:
        plan, _ = import_into(bundle, ws)
        assert {a.action for a in plan.actions if a.kind in ("emailTemplate", "image", "snippet")} == {"reuse"}
        export_to(ws, PROGRAM, tmp_path / "out")
    finally:
        ws.close()
    # the workspace's own assets, same names, same bytes, at the paths and in the order the import mapped them
    # (the image was loaded without a bundle path: the import's mapping gives it the bundle's)
    assert manifest(tmp_path / "out") == manifest(bundle)
    assert _files(tmp_path / "out") == {**_files(bundle), "bundle.json": dump_bytes(manifest(bundle))}


def test_a_reused_template_keeps_meaning_the_workspaces_image(tmp_path):
    """The template is reused (its bytes are the workspace's), the bundle's logo.png became 'logo - 1.png':
    the template shows the workspace's logo.png, so that is what goes with it; the email's own logo is the copy."""
    bundle = _rich_bundle(tmp_path)
    inventory = _inventory(bundle, same=False)
    inventory["emailTemplates"] = _inventory(bundle, same=True)["emailTemplates"]
    ws = _workspace(tmp_path, inventory)
    try:
        plan, _ = import_into(bundle, ws)
        assert action(plan, "emailTemplate", TEMPLATE).action == "reuse"
        export_to(ws, PROGRAM, tmp_path / "out")
    finally:
        ws.close()
    out = tmp_path / "out"
    files = _files(out)
    assert files[TEMPLATE_PATH] == (bundle / TEMPLATE_PATH).read_bytes()
    assert sorted((a["name"], a["path"]) for a in manifest(out)["assets"] if a["kind"] == "image") == [
        ("logo - 1.png", "design-studio/logo.png"), ("logo.png", "images/logo.png")]
    assert files["images/logo.png"] == b"GIF89a\x01\x00\x01\x00\x00\x00\x00,"
    _clean(out)


# --- PK507: how to give a workspace its CRM --------------------------------------------------------------


def test_missing_crm_hint_names_our_commands_and_workspace_load_fixes_it(invoke, tmp_path):
    db = tmp_path / "pk.db"
    assert invoke("workspace", "init", "--target", str(db)).exit_code == 0
    r = invoke("plan", str(SAMPLE), "--target", str(db))
    assert r.exit_code == 1
    assert "PK507 [missing-crm] /requires/crm: the bundle needs a salesforce connection; workspace 'Default' has none" \
        in r.output
    assert ("hint: Connect salesforce to the instance. An embedded workspace: create it with `programkit workspace "
            "init --crm salesforce`, or give an existing one the CRM with `programkit workspace load INVENTORY.json`, "
            'the inventory saying {"crm": "salesforce"}.') in r.output
    inv = tmp_path / "crm.json"
    inv.write_text('{"crm": "salesforce"}\n', encoding="utf-8")
    r = invoke("workspace", "load", str(inv), "--target", str(db))
    assert r.exit_code == 0 and "crm                       0 added     1 updated     0 unchanged" in r.output, r.output
    ws = open_workspace(db)
    try:
        assert ws.crm() == "salesforce"
    finally:
        ws.close()
    r = invoke("plan", str(SAMPLE), "--target", str(db))
    assert r.exit_code == 0 and "Plan: 12 create." in r.output, r.output


def test_a_missing_copy_is_reported_under_both_names(tmp_path):
    ws = _workspace(tmp_path, {"emailTemplates": [{"name": TEMPLATE, "content": THEIRS}]})
    try:
        import_into(SAMPLE, ws)
        (copy,) = ws.design_assets("emailTemplate", [f"{TEMPLATE} - 1"]).values()
        with ws.transaction() as w:
            w.delete_asset(copy.id)
        with pytest.raises(ProgramkitError) as e:
            export_to(ws, PROGRAM, tmp_path / "out")
    finally:
        ws.close()
    assert [(f.code, f.message) for f in e.value.findings] == [(
        "PK910", f"email '01 - Email - ALERT - MQL' names template '{TEMPLATE} - 1' ('{TEMPLATE}' in its file) "
                 "that is not in workspace 'Default'")]
    assert not (tmp_path / "out").exists()


def test_the_export_imports_back_as_an_upgrade_that_keeps_the_copy(tmp_path):
    """The export names the copy 'Name - 1': importing it (a new version) into the workspace it came from is
    the same asset, unchanged — not a removed 'Name' that --prune would delete from under the email."""
    ws = _workspace(tmp_path, {"emailTemplates": [{"name": TEMPLATE, "content": THEIRS}]})
    try:
        import_into(SAMPLE, ws)
        (copy,) = ws.design_assets("emailTemplate", [f"{TEMPLATE} - 1"]).values()
        export_to(ws, PROGRAM, tmp_path / "out", version="1.0.1")
        plan, _ = import_into(tmp_path / "out", ws, prune=True)
        email_id = action(plan, "email", "01 - Email - ALERT - MQL").target_id
        assert [(a.kind, a.name, a.action, a.target_id) for a in plan.actions if a.action != "noop" or
                a.kind == "emailTemplate"] == [
            ("program", "OP-Lead Management", "update", ws.program(PROGRAM).id),
            ("emailTemplate", f"{TEMPLATE} - 1", "noop", copy.id),
            ("email", "01 - Email - ALERT - MQL", "update", email_id)]
        found = ws.design_assets("emailTemplate", [TEMPLATE, f"{TEMPLATE} - 1"])
        assert {k: ws.read(v.id) for k, v in found.items()} == {
            TEMPLATE.casefold(): THEIRS.encode(), f"{TEMPLATE} - 1".casefold(): (SAMPLE / TEMPLATE_PATH).read_bytes()}
        export_to(ws, PROGRAM, tmp_path / "again")
    finally:
        ws.close()
    assert _files(tmp_path / "again") == _files(tmp_path / "out")
