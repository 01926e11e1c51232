"""Export: a workspace program → a bundle that validates, reproduces stored bytes and is deterministic."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import pytest

from conftest import SAMPLE
from programkit.apply import apply_plan
from programkit.archive import pack_dir
from programkit.canonical import sha256_bytes
from programkit.errors import BadInput, ProgramkitError
from programkit.export import export_program, export_to, slugify
from programkit.inventory import load_inventory
from programkit.plan import plan_path
from programkit.validate import validate_path
from programkit.workspaces.sqlite import init_workspace, open_workspace

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _put(w, kind, name, content, **kw):
    data = content if isinstance(content, bytes) else json.dumps(content, indent=2).encode()
    return w.put_asset(kind, name, data, sha256_bytes(data), **kw)


# --- a program imported from a bundle -------------------------------------------------------------


@pytest.fixture
def imported(tmp_path):
    ws = init_workspace(tmp_path / "pk.db", crm="salesforce")
    plan, bundle = plan_path(str(SAMPLE), ws)
    assert plan.ok
    apply_plan(plan, bundle, ws)
    yield ws
    ws.close()


def test_export_of_an_imported_bundle_reproduces_it_byte_for_byte(imported, tmp_path):
    result = export_to(imported, "OP-Lead Management", tmp_path / "out")
    assert _files(tmp_path / "out") == _files(SAMPLE)
    assert (result.name, result.version, result.requires, result.warnings) == (
        "op-lead-management", "1.0.0", {"crm": "salesforce"}, [])
    # the archive is the one `pack` makes of the original bundle
    export_to(imported, "op-lead management", tmp_path / "out.zip")
    pack_dir(SAMPLE, tmp_path / "sample.zip")
    assert (tmp_path / "out.zip").read_bytes() == (tmp_path / "sample.zip").read_bytes()


def test_export_version_and_name_options(imported, tmp_path):
    result = export_to(imported, "OP-Lead Management", tmp_path / "v2", version="1.1.0", name="op-lm")
    manifest = json.loads((tmp_path / "v2" / "bundle.json").read_text())
    assert (manifest["name"], manifest["version"], result.name) == ("op-lm", "1.1.0", "op-lm")
    with pytest.raises(BadInput, match="--version '1.1' is not a semantic version"):
        export_program(imported, "OP-Lead Management", version="1.1")
    with pytest.raises(BadInput, match="--name 'OP LM' is not a bundle name"):
        export_program(imported, "OP-Lead Management", name="OP LM")


# --- a program built through the library --------------------------------------------------------------

EMAIL = {
    "subject": "{{lead.First Name}}, your {{lead.Lead Grade}} update",
    "fromName": "Acme", "fromEmail": "news@acme.example", "replyTo": "news@acme.example", "operational": False,
    "template": "acme newsletter",
    "modules": ["article"],
    "sections": {"headline": "<h1>Hello {{lead.First Name:default=there}}</h1>",
                 "body": "<p>Tier: {{lead.Lead Tier}}</p><img src=\"https://go.acme.example/rs/1/images/hero-banner.png\">",
                 "legal": "Unsubscribe Block"},
    "variables": {"footerText": "Acme Corp"},
    "dynamicContent": {"body": {"segmentation": "industry",
                                "segments": {"Finance": "<p>For banks</p>", "Default": "<p>Hi</p>"}}},
}
ALERT = {
    "subject": "MQL: {{lead.Email Address}} {{lead.Behavior Score}}", "fromName": "Acme", "fromEmail": "ops@acme.example",
    "replyTo": "ops@acme.example", "operational": True, "template": "Acme Alert", "modules": ["alertBody"],
    "sections": {"body": "<p>Score {{lead.Behavior Score}}</p>", "legal": "Legal Footer"},
}
CAMPAIGN = {
    "type": "trigger", "active": True, "qualificationRule": "once", "communicationLimits": False,
    "smartList": {"triggers": [{"trigger": "Person is Created"}], "filters": [], "ruleLogic": "all"},
    "flow": [{"step": "Sync Person to SFDC", "assignTo": "Use Auto-Assignment Rules"},
             {"step": "Change Data Value", "attribute": "Lead Tier", "newValue": "A"},
             {"step": "Call Webhook", "webhook": "Enrich with Clearbit"},
             {"step": "Send Email", "email": "Newsletter"},
             {"step": "Send Alert", "email": "MQL Alert", "sendToOwner": "Person Owner", "sendTo": []},
             {"step": "Change Program Status", "program": "Acme Nurture", "newStatus": "01-Member"}],
}
PROGRAM = {"name": "Acme Nurture", "type": "default", "channel": "Operational", "membershipStatuses": ["01-Member"],
           "analyticsBehavior": "Operational", "description": "Acme's nurture program.",
           "tags": {"Region": "EMEA"}, "tokens": [{"name": "Owner", "type": "text", "value": "ops"}],
           "folders": [{"name": "Campaigns"}, {"name": "Emails"}]}


@pytest.fixture
def acme(tmp_path):
    ws = init_workspace(tmp_path / "acme.db")
    assert load_inventory(ws, FIXTURES / "inventory-acme.json").ok
    with ws.transaction() as w:
        pid = w.create_program(PROGRAM)
        _put(w, "smartCampaign", "01 - Welcome / Sync", CAMPAIGN, folder="Campaigns", program_id=pid)
        _put(w, "smartCampaign", "01 - Welcome ? Sync", CAMPAIGN, folder="Campaigns", program_id=pid)
        _put(w, "email", "Newsletter", EMAIL, folder="Emails", program_id=pid)
        _put(w, "email", "MQL Alert", ALERT, folder="Emails", program_id=pid)
        _put(w, "image", "unused.png", b"not referenced")
    yield ws
    ws.close()


EXPECTED_ASSETS = [
    ("smartCampaign", "01 - Welcome / Sync", "Campaigns", "campaigns/01-welcome-sync.json"),
    ("smartCampaign", "01 - Welcome ? Sync", "Campaigns", "campaigns/01-welcome-sync-2.json"),
    ("email", "MQL Alert", "Emails", "emails/mql-alert.json"),
    ("email", "Newsletter", "Emails", "emails/newsletter.json"),
    ("emailTemplate", "Acme Alert", "Templates/Email", "design-studio/acme-alert.html"),
    ("emailTemplate", "Acme Newsletter", "Templates/Email", "design-studio/acme-newsletter.html"),
    ("image", "acme-logo.png", None, "images/acme-logo.png"),
    ("image", "hero-banner.png", None, "images/hero-banner.png"),
    ("snippet", "Unsubscribe Block", None, "design-studio/unsubscribe-block.html"),
]


def test_export_of_a_library_built_program(acme, tmp_path):
    out = tmp_path / "acme-nurture"
    result = export_to(acme, "acme nurture", out)
    manifest = json.loads((out / "bundle.json").read_text())
    assert [(a["kind"], a["name"], a.get("folder"), a["path"]) for a in manifest["assets"]] == EXPECTED_ASSETS
    assert manifest["requires"] == {
        "crm": "salesforce",
        "fields": [{"apiName": "behaviorScore", "displayName": "Behavior Score", "type": "score"},
                   {"apiName": "leadGrade", "displayName": "Lead Grade", "type": "string"},
                   {"apiName": "leadTier", "displayName": "Lead Tier", "type": "string"}],
        "segmentations": ["Industry"],
        "snippets": ["Legal Footer"],
        "webhooks": ["Enrich with Clearbit"],
    }
    assert (manifest["name"], manifest["version"], manifest["description"]) == (
        "acme-nurture", "1.0.0", "Acme's nurture program.")
    assert manifest["program"] == acme.program("Acme Nurture").data
    # every file is the stored content, byte for byte, under the digest the manifest gives
    pid = acme.program("Acme Nurture").id
    stored = {(a.kind, a.name): acme.read(a.id) for a in acme.program_assets(pid)}
    for kind in ("emailTemplate", "image", "snippet"):
        for a in acme.design_assets(kind, [e[1] for e in EXPECTED_ASSETS if e[0] == kind]).values():
            stored[(a.kind, a.name)] = acme.read(a.id)
    for entry in manifest["assets"]:
        data = (out / entry["path"]).read_bytes()
        assert data == stored[(entry["kind"], entry["name"])]
        assert entry["sha256"] == sha256_bytes(data)
    assert [e for e in manifest["assets"] if e["kind"] == "image"][0]["mimeType"] == "image/png"
    assert [e for e in manifest["assets"] if e["name"] == "Acme Alert"][0]["description"] == "Internal alerts to sales."
    assert validate_path(out).ok
    assert result.assets == {"smartCampaign": 2, "email": 2, "emailTemplate": 2, "image": 2, "snippet": 1}


def test_two_exports_are_byte_identical(acme, tmp_path):
    export_to(acme, "Acme Nurture", tmp_path / "a")
    export_to(acme, "Acme Nurture", tmp_path / "b")
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    r1 = export_to(acme, "Acme Nurture", tmp_path / "a.zip")
    r2 = export_to(acme, "Acme Nurture", tmp_path / "b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert r1.archive_sha256 == r2.archive_sha256 == sha256_bytes((tmp_path / "a.zip").read_bytes())


def test_export_import_export_gives_the_same_bundle(acme, tmp_path):
    export_to(acme, "Acme Nurture", tmp_path / "first")
    other = init_workspace(tmp_path / "other.db")
    assert load_inventory(other, FIXTURES / "inventory-acme.json").ok
    plan, bundle = plan_path(str(tmp_path / "first"), other, flags={"emailTemplates": "reuseIfIdentical",
                                                                    "images": "reuseIfIdentical"})
    assert plan.ok, [p.message for p in plan.problems]
    apply_plan(plan, bundle, other)
    export_to(other, "Acme Nurture", tmp_path / "second")
    assert _files(tmp_path / "second") == _files(tmp_path / "first")
    other.close()


def test_missing_template_and_unknown_field_are_all_reported_and_nothing_written(tmp_path):
    ws = init_workspace(tmp_path / "pk.db")
    with ws.transaction() as w:
        pid = w.create_program({**PROGRAM, "tags": {}})
        _put(w, "email", "MQL Alert", ALERT, folder="Emails", program_id=pid)
        _put(w, "smartCampaign", "Tier", {**CAMPAIGN, "flow": CAMPAIGN["flow"][1:2]}, folder="Campaigns",
             program_id=pid)
    with pytest.raises(ProgramkitError) as e:
        export_to(ws, "Acme Nurture", tmp_path / "out")
    assert [(f.code, f.message) for f in e.value.findings] == [
        ("PK910", "email 'MQL Alert' names template 'Acme Alert' that is not in workspace 'Default'"),
        ("PK911", "smartCampaign 'Tier' uses field 'Lead Tier', which workspace 'Default' does not have"),
        ("PK911", "email 'MQL Alert' uses field 'Behavior Score', which workspace 'Default' does not have"),
    ]
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []
    ws.close()


def test_stored_bundle_paths_are_reused_unless_unsafe_or_taken(tmp_path):
    ws = init_workspace(tmp_path / "pk.db")
    with ws.transaction() as w:
        pid = w.create_program({"name": "P", "type": "default", "channel": "Operational",
                                "folders": [{"name": "C"}]})
        c = {**CAMPAIGN, "flow": []}
        _put(w, "smartCampaign", "One", c, folder="C", program_id=pid, meta={"path": "x/one.json"})
        _put(w, "smartCampaign", "Two", c, folder="C", program_id=pid, meta={"path": "../escape.json"})
        _put(w, "smartCampaign", "Three", c, folder="C", program_id=pid, meta={"path": "X/ONE.json"})
    exported = export_program(ws, "p")
    assert [a["path"] for a in exported.manifest["assets"]] == [
        "x/one.json", "campaigns/three.json", "campaigns/two.json"]
    ws.close()


def test_slugify():
    assert slugify("01 - Email - ALERT - MQL") == "01-email-alert-mql"
    assert slugify("Ünïcödé  Name!") == "unicode-name"
    assert slugify("Straße") == "strasse"
    assert slugify("???") == ""


@pytest.mark.parametrize("program, bundle_name", [
    ("营销活动", "yingxiaohuodong"),  # Chinese
    ("東京イベント", "dongjingibento"),  # Japanese
    ("حملة التسويق", "hmlh-ltswyq"),  # Arabic
    ("🎉🚀", "tada-rocket"),  # emoji only
    ("⁂ ※ ⁂", "bundle"),  # nothing to transliterate: still a bundle name
])
def test_a_program_named_in_any_script_exports_under_a_transliterated_name(tmp_path, invoke, program, bundle_name):
    """`export` names the bundle as `new` would (anyascii), never with an empty slug; asset file names too."""
    from programkit.render import slug as new_slug

    db = tmp_path / "pk.db"
    ws = init_workspace(db)
    campaign = {**CAMPAIGN, "flow": []}
    with ws.transaction() as w:
        pid = w.create_program({**PROGRAM, "name": program, "tags": {}, "folders": [{"name": "活动"}]})
        for name in ("欢迎", "ようこそ", "مرحبا", "🎉", "东京", "東京", "!!!", "???"):
            _put(w, "smartCampaign", name, campaign, folder="活动", program_id=pid)
    ws.close()
    out = tmp_path / "out"
    res = invoke("export", program, "--target", str(db), "-o", str(out))
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "bundle.json").read_text(encoding="utf-8"))
    assert manifest["name"] == bundle_name
    if bundle_name != "bundle":
        assert new_slug(program) == bundle_name  # the same name `programkit new` gives it
    assert {a["name"]: a["path"] for a in manifest["assets"]} == {
        "!!!": "campaigns/smartcampaign.json", "???": "campaigns/smartcampaign-2.json",
        "ようこそ": "campaigns/youkoso.json", "东京": "campaigns/dongjing.json", "東京": "campaigns/dongjing-2.json",
        "欢迎": "campaigns/huanying.json", "مرحبا": "campaigns/mrhb.json", "🎉": "campaigns/tada.json"}
    assert invoke("validate", str(out)).exit_code == 0


def test_a_name_windows_reserves_is_never_an_exported_file_name(tmp_path):
    ws = init_workspace(tmp_path / "pk.db")
    with ws.transaction() as w:
        pid = w.create_program({**PROGRAM, "name": "P", "tags": {}})
        for name in ("CON", "Aux", "nul", "COM1", "console"):
            _put(w, "smartCampaign", name, {**CAMPAIGN, "flow": []}, folder="Campaigns", program_id=pid)
    paths = sorted(a["path"] for a in export_program(ws, "P").manifest["assets"])
    ws.close()
    assert paths == ["campaigns/aux-smartcampaign.json", "campaigns/com1-smartcampaign.json",
                     "campaigns/con-smartcampaign.json", "campaigns/console.json",
                     "campaigns/nul-smartcampaign.json"]


# --- CLI -------------------------------------------------------------------------------------


def test_cli_export(invoke, tmp_path):
    db = str(tmp_path / "pk.db")
    ws = init_workspace(db, crm="salesforce")
    plan, bundle = plan_path(str(SAMPLE), ws)
    apply_plan(plan, bundle, ws)
    ws.close()
    out = str(tmp_path / "out")
    r = invoke("export", "op-lead management", "--target", db, "-o", out)
    assert r.exit_code == 0, r.output
    with open_workspace(db) as ws:
        digest = export_program(ws, "OP-Lead Management").digest
    assert r.output == (f"Exported 'OP-Lead Management' to {out}: op-lead-management 1.0.0 (2 smartCampaign, "
                        "1 email, 1 emailTemplate, 1 leadLifecycle)\n"
                        "  requires: crm salesforce\n"
                        f"  digest:   {digest}\n")
    assert filecmp.cmp(Path(out) / "bundle.json", SAMPLE / "bundle.json", shallow=False)
    r = invoke("export", "op-lead management", "--target", db, "-o", out)
    assert r.exit_code == 2 and f"error: {out} exists and is not empty" in r.output
    (Path(out) / ".git").mkdir()
    (Path(out) / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (Path(out) / "NOTES.md").write_text("mine")
    r = invoke("export", "op-lead management", "--target", db, "-o", out, "--force", "--version", "2.0.0")
    assert r.exit_code == 2, r.output  # --force never deletes a file that is not the bundle's
    assert f"error: {out} holds 1 file(s) that are not part of the bundle there: NOTES.md; nothing was written" in r.output
    (Path(out) / "NOTES.md").unlink()
    r = invoke("export", "op-lead management", "--target", db, "-o", out, "--force", "--version", "2.0.0")
    assert r.exit_code == 0 and json.loads((Path(out) / "bundle.json").read_text())["version"] == "2.0.0"
    assert (Path(out) / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"  # hidden entries are kept
    r = invoke("export", "Nope", "--target", db, "-o", str(tmp_path / "x"))
    assert r.exit_code == 2
    assert r.output == ("error: workspace 'Default' has no program 'Nope'\n"
                        "  PK579 [no-such-program]\n"
                        "      hint: Programs: 'OP-Lead Management'.\n")
    r = invoke("export", "OP-Lead Managment", "--target", db, "-o", str(tmp_path / "x"))
    assert r.exit_code == 2 and r.output.startswith(
        "error: workspace 'Default' has no program 'OP-Lead Managment' (did you mean 'OP-Lead Management'?)\n")
    r = invoke("export", "op-lead-management", "--target", db, "-o", str(tmp_path / "x"))  # the bundle's name
    assert r.exit_code == 2 and r.output.startswith(
        "error: workspace 'Default' has no program 'op-lead-management' ('op-lead-management' is the bundle "
        "program 'OP-Lead Management' was imported from)\n")
    assert not (tmp_path / "x").exists()
    assert invoke("validate", out).exit_code == 0


# --- property: any set of names exports to distinct safe paths and a valid, stable bundle -----------------

import tempfile  # noqa: E402
from urllib.parse import quote  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from programkit.bundle import unsafe_path_reason  # noqa: E402

_names = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
                 min_size=1, max_size=20)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_names, min_size=1, max_size=8, unique_by=str.casefold),
       # image names as Marketo allows them (no '/'); referenced by URL-encoded file name
       st.lists(_names.filter(lambda n: not set(n) & set("/\\")).map(lambda n: n + ".png"), max_size=4,
                unique_by=str.casefold))
def test_any_names_export_to_distinct_safe_paths(campaigns, images):
    with tempfile.TemporaryDirectory() as d:
        ws = init_workspace(Path(d) / "pk.db")
        with ws.transaction() as w:
            pid = w.create_program({"name": "P", "type": "default", "channel": "Operational",
                                    "folders": [{"name": "C"}]})
            for n in campaigns:
                _put(w, "smartCampaign", n, {**CAMPAIGN, "flow": []}, folder="C", program_id=pid)
            html = "".join(f'<img src="https://x.example/i/{quote(n)}">' for n in images)
            _put(w, "emailTemplate", "T", f"<html><body>{html}</body></html>".encode())
            for n in images:
                _put(w, "image", n, n.encode())
            _put(w, "email", "E", {"subject": "s", "template": "T"}, folder="C", program_id=pid)
        first = export_program(ws, "P")
        again = export_program(ws, "P")
        paths = [a["path"] for a in first.manifest["assets"]]
        assert len({p.casefold() for p in paths}) == len(paths)
        assert all(unsafe_path_reason(p) is None for p in paths)
        assert sorted(a["name"] for a in first.manifest["assets"] if a["kind"] == "image") == sorted(images)
        assert first.manifest_bytes == again.manifest_bytes and first.files == again.files
        export_to(ws, "P", Path(d) / "out")
        assert validate_path(Path(d) / "out").ok
        ws.close()


def test_the_original_bundle_order_is_kept_when_every_asset_records_it(tmp_path):
    ws = init_workspace(tmp_path / "pk.db")
    c = {**CAMPAIGN, "flow": []}
    with ws.transaction() as w:
        pid = w.create_program({"name": "P", "type": "default", "channel": "Operational", "folders": [{"name": "C"}]})
        for i, n in enumerate(["Zeta", "Alpha", "Mid"]):
            _put(w, "smartCampaign", n, c, folder="C", program_id=pid, meta={"bundle": "p", "index": 2 - i})
    assert [a["name"] for a in export_program(ws, "P").manifest["assets"]] == ["Mid", "Alpha", "Zeta"]
    with ws.transaction() as w:  # an asset added in the workspace: no bundle order any more
        _put(w, "smartCampaign", "Beta", c, folder="C", program_id=pid)
    assert [a["name"] for a in export_program(ws, "P").manifest["assets"]] == ["Alpha", "Beta", "Mid", "Zeta"]
    ws.close()
