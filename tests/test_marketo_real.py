"""What a real Marketo Engage instance does, modelled by the stand-in (issue #13), and what programkit must do
about it: tags as Marketo writes them, workspaces' folder trees, paging, drafts and approval, activation,
bodies and limits, error codes, malformed answers and redirects."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import pytest

from fake_marketo import FakeMarketo, HeaderSink
from marketo_support import CLIENT_ID, FAST, SECRET, cli_env, client, fake, marketo_env, marketo_rules  # noqa: F401

from programkit.errors import BadInput
from programkit.workspaces.marketo import MarketoWorkspace
from programkit.workspaces.marketo.client import MarketoClient, MarketoError

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "op-lead-management"


@pytest.fixture
def ws(fake, client, tmp_path, monkeypatch):
    monkeypatch.setenv("PROGRAMKIT_STATE_DIR", str(tmp_path / "state"))
    return MarketoWorkspace(fake.url, client=client)


def _sample(tmp_path: Path) -> Path:
    dst = tmp_path / "op-lead-management"
    shutil.copytree(SAMPLE, dst)
    return dst


def _manifest(bundle: Path, edit) -> None:
    path = bundle / "bundle.json"
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data, indent=2))


def _reseal(bundle: Path, rel: str) -> None:
    """Update an asset's sha256 in the manifest after its file was edited."""
    digest = hashlib.sha256((bundle / rel).read_bytes()).hexdigest()
    _manifest(bundle, lambda d: [a.update(sha256=digest) for a in d["assets"] if a["path"] == rel])


def _server(**kw) -> FakeMarketo:
    server = FakeMarketo(CLIENT_ID, SECRET, rate_limit=50, rate_window=1.0, max_concurrent=10, **kw)
    server.start()
    return server


# -- 1. tags ----------------------------------------------------------------------------------------------------
def test_tag_values_are_read_from_marketos_bracketed_strings(ws):
    assert ws.tag_types() == {"Program Purpose": {"Lead Management", "Nurture", "Events"},
                              "Region": {"EMEA", "AMER", "APAC"}}


def test_a_required_tag_type_missing_from_the_bundle_is_listed_at_preflight(cli_env, invoke):
    server = _server(required_tags={"Region": ["program", "event"]})
    try:
        plan = invoke("plan", str(SAMPLE), "--target", server.url)
        assert plan.exit_code == 1, plan.output
        assert "PK818" in plan.output and "'Region'" in plan.output
        assert server.snapshot()["programs"] == []
        done = invoke("import", str(SAMPLE), "--target", server.url, "--tag", "Region=EMEA", "--yes")
        assert done.exit_code == 0, done.output
        prog = next(iter(server.programs.values()))
        assert {t["tagType"]: t["tagValue"] for t in prog["tags"]} == {"Program Purpose": "Lead Management",
                                                                       "Region": "EMEA"}
    finally:
        server.stop()


def test_program_tags_are_read_from_the_program_not_the_browse_list(ws, fake):
    from marketo_support import apply_sample
    from programkit.load import load_bundle

    apply_sample(ws, load_bundle(SAMPLE).bundle)
    fresh = MarketoWorkspace(ws.url, client=ws.client, state_dir=ws.state_dir)
    assert fresh.program("OP-Lead Management").data["tags"] == {"Program Purpose": "Lead Management"}


# -- 2. folders, workspaces, paging --------------------------------------------------------------------------
def test_workspace_places_the_program_in_that_workspaces_tree(cli_env, invoke):
    server = _server(workspaces=("Default", "EMEA"))
    try:
        done = invoke("import", str(SAMPLE), "--target", server.url, "--workspace", "EMEA", "--yes")
        assert done.exit_code == 0, done.output
        prog = next(iter(server.programs.values()))
        assert prog["_path"] == "/Marketing Activities/EMEA/OP-Lead Management"
        assert prog["workspace"] == "EMEA"
        template = next(iter(server.assets["emailTemplate"].values()))
        assert server.path_of(template["folder"]) == "/Design Studio/EMEA/Email Templates"
    finally:
        server.stop()


def test_an_asset_at_the_program_root_is_found_among_more_than_20_programs(fake, cli_env, invoke, tmp_path):
    for i in range(25):
        fake.programs[5000 + i] = {"id": 5000 + i, "name": f"P{i:02d}", "description": "", "type": "Default",
                                   "channel": "Operational", "folder": {"id": 8, "type": "Folder"}, "status": "",
                                   "tags": [], "costs": [], "createdAt": "", "updatedAt": "", "url": None,
                                   "workspace": "Default", "_path": f"/Marketing Activities/Default/P{i:02d}"}
    bundle = _sample(tmp_path)
    _manifest(bundle, lambda d: [a.pop("folder", None) for a in d["assets"] if a["kind"] == "smartCampaign"])
    first = invoke("import", str(bundle), "--target", fake.url, "--yes")
    assert first.exit_code == 0, first.output
    second = invoke("import", str(bundle), "--target", fake.url, "--yes")
    assert second.exit_code == 0, second.output
    assert "nothing else was written" in second.output
    assert len(fake.assets["smartCampaign"]) == 2


# -- 3. approval and activation --------------------------------------------------------------------------------
def test_import_approve_approves_templates_and_emails(fake, cli_env, invoke):
    done = invoke("import", str(SAMPLE), "--target", fake.url, "--approve", "--yes")
    assert done.exit_code == 0, done.output
    assert {a["status"] for a in fake.assets["emailTemplate"].values()} == {"approved"}
    assert {a["status"] for a in fake.assets["email"].values()} == {"approved"}
    assert "- [ ] Approve the email" not in done.output  # nothing left to approve by hand


def test_without_approve_each_draft_is_a_checklist_line_and_verify_checks_it(fake, cli_env, invoke):
    done = invoke("import", str(SAMPLE), "--target", fake.url, "--yes")
    assert done.exit_code == 0, done.output
    assert "- [ ] Approve the email template (import with --approve to let programkit do it)" in done.output
    assert "- [ ] Approve the email (import with --approve to let programkit do it)" in done.output
    checked = invoke("verify", "--target", fake.url)
    assert checked.exit_code == 1 and "not approved" in checked.output
    for kind in ("emailTemplate", "email"):
        for rec in fake.assets[kind].values():
            rec["status"] = "approved"  # an admin approved them in the UI
    checked = invoke("verify", "--target", fake.url)
    assert "not approved" not in checked.output


def test_a_template_marketo_will_not_approve_is_a_finding(fake, cli_env, invoke, tmp_path):
    bundle = _sample(tmp_path)
    rel = "design-studio/quick-start-email-template.html"
    html = (bundle / rel).read_text()
    (bundle / rel).write_text(html.replace("<body", '<div id="twice"></div><div id="twice"></div><body', 1))
    _reseal(bundle, rel)
    done = invoke("import", str(bundle), "--target", fake.url, "--approve", "--yes")
    assert done.exit_code == 1, done.output
    assert "PK826" in done.output and "Quick Start Email Template" in done.output
    assert "duplicate id" in done.output


def test_activate_clones_a_campaign_with_the_same_smart_list_and_activates_it(fake, cli_env, invoke):
    from programkit.load import load_bundle

    bundle = load_bundle(SAMPLE).bundle
    campaign = next(a for a in bundle.assets if a.name == "02 - Marketing Qualified")
    # the workspace already holds a campaign with that smart list (another program's copy)
    fake.programs[900] = {"id": 900, "name": "Old Lead Management", "description": "", "type": "Default",
                          "channel": "Operational", "folder": {"id": 8, "type": "Folder"}, "status": "", "tags": [],
                          "costs": [], "createdAt": "", "updatedAt": "", "url": None, "workspace": "Default",
                          "_path": "/Marketing Activities/Default/Old Lead Management"}
    fake.assets["smartCampaign"][950] = {
        "id": 950, "name": "02 - Marketing Qualified", "description": "", "folder": {"id": 900, "type": "Program"},
        "createdAt": "", "updatedAt": "", "workspace": "Default", "type": "trigger", "isActive": False,
        "_path": "/Marketing Activities/Default/Old Lead Management/02 - Marketing Qualified",
        "_rules": marketo_rules(campaign.content["smartList"])}
    done = invoke("import", str(SAMPLE), "--target", fake.url, "--approve", "--activate", "--yes")
    assert done.exit_code == 0, done.output
    assert fake.snapshot()["paths"].get("POST /rest/asset/v1/smartCampaign/{id}/clone.json") == 1
    new = next(a for a in fake.assets["smartCampaign"].values()
               if a["name"] == "02 - Marketing Qualified" and a["id"] != 950)
    assert new["isActive"] is True
    assert new["_rules"]["triggers"]
    assert 'Smart List: add trigger "Score is Changed"' not in done.output  # copied, not a manual step


def test_activate_without_triggers_in_marketo_stays_on_the_checklist_with_the_reason(fake, cli_env, invoke):
    done = invoke("import", str(SAMPLE), "--target", fake.url, "--activate", "--yes")
    assert done.exit_code == 0, done.output
    assert "activate the campaign after its triggers are added" in done.output
    assert "PK836 [marketo-not-activated] smartCampaign '02 - Marketing Qualified' (id 1002)" in done.output
    assert not any(a["isActive"] for a in fake.assets["smartCampaign"].values())


# -- 5. bodies and limits ----------------------------------------------------------------------------------------
def test_snippet_content_goes_in_the_body_not_the_url(ws, fake):
    html = "<p>" + "x" * 9000 + "</p>"
    with ws.transaction() as w:
        w.put_asset("snippet", "Big footer", html.encode(), hashlib.sha256(html.encode()).hexdigest())
    assert next(iter(fake.assets["snippet"].values()))["_content"] == html.encode()


def test_non_ascii_form_values_arrive_intact(ws, fake):
    with ws.transaction() as w:
        pid = w.create_program({"name": "Grüße ✓", "type": "default", "channel": "Operational",
                                "tokens": [{"name": "Greeting", "type": "text", "value": "Grüße – ✓"}]})
    assert fake.programs[pid]["name"] == "Grüße ✓"
    assert fake.tokens_by_folder[("Program", pid)]["Greeting"]["value"] == "Grüße – ✓"


def test_rollback_deletes_tokens_by_name_and_type(ws, fake):
    from programkit.workspaces.base import ImportRecord
    from programkit.workspaces.marketo import rollback

    fake.programs[700] = {"id": 700, "name": "Theirs", "description": "", "type": "Default", "channel": "Operational",
                          "folder": {"id": 8, "type": "Folder"}, "status": "", "tags": [], "costs": [],
                          "createdAt": "", "updatedAt": "", "url": None, "workspace": "Default",
                          "_path": "/Marketing Activities/Default/Theirs"}
    with ws.transaction() as w:  # an upgrade that adds a token to a program that was there before
        w.update_program(700, {"tokens": [{"name": "Added", "type": "text", "value": "x"}]})
        w.record_import(ImportRecord("b", "1.0.0", "d", "Theirs", {}, {}, [
            {"kind": "program", "bundleName": "Theirs", "workspaceId": 700, "workspaceName": "Theirs",
             "action": "update"}], "2026-11-23T10:00:00Z"))
    assert fake.tokens_by_folder[("Program", 700)]
    rollback(ws)
    assert fake.tokens_by_folder[("Program", 700)] == {}


def test_export_reads_an_email_2_text_version_from_its_content_sections(fake, cli_env, invoke, tmp_path):
    assert invoke("import", str(SAMPLE), "--target", fake.url, "--yes").exit_code == 0
    out = tmp_path / "exported"
    done = invoke("export", "OP-Lead Management", "--target", fake.url, "--out", str(out))
    assert done.exit_code == 0, done.output
    email = json.loads((out / "emails" / "01-email-alert-mql.json").read_text())
    assert email["text"] == json.loads((SAMPLE / "emails" / "01-email-alert-mql.json").read_text())["text"]


# -- 6. errors ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["608", "713"])
def test_608_and_713_are_retried(fake, client, code):
    fake.add_fault({"code": code, "times": 2})
    assert client.get("/rest/asset/v1/channels.json")
    assert client.retried[code] == 2


@pytest.mark.parametrize("code,finding", [("611", "PK827"), ("612", "PK828")])
def test_611_and_612_are_findings_of_their_own(fake, client, code, finding):
    fake.add_fault({"code": code, "times": 1})
    with pytest.raises(MarketoError) as err:
        client.get("/rest/asset/v1/channels.json")
    assert err.value.findings[0].code == finding
    assert "GET /rest/asset/v1/channels.json" in err.value.message


def test_607_stops_with_the_reset_time_and_resume_finishes(fake, cli_env, invoke):
    fake.add_fault({"code": "607", "path": "POST /rest/asset/v1/emails.json"})
    stopped = invoke("import", str(SAMPLE), "--target", fake.url, "--yes")
    assert stopped.exit_code == 1, stopped.output
    assert "PK829" in stopped.output and "midnight US Central" in stopped.output
    assert "--resume" in stopped.output
    resumed = invoke("import", str(SAMPLE), "--target", fake.url, "--resume", "--yes")
    assert resumed.exit_code == 0, resumed.output
    assert len(fake.assets["email"]) == 1 and len(fake.assets["smartCampaign"]) == 2


@pytest.mark.parametrize("shape", ["html", "list", "null", "string", "cut"])
def test_a_malformed_answer_is_a_finding_naming_the_endpoint(fake, client, shape):
    fake.add_fault({"malformed": shape, "times": 1})
    with pytest.raises(MarketoError) as err:
        client.get("/rest/asset/v1/channels.json")
    assert err.value.findings[0].code == "PK833"
    assert "GET /rest/asset/v1/channels.json" in err.value.message


@pytest.mark.parametrize("fault,code", [({"malformed": "html"}, "PK833"), ({"malformed": "list"}, "PK833"),
                                        ({"malformed": "null"}, "PK833"), ({"malformed": "string"}, "PK833"),
                                        ({"malformed": "cut"}, "PK833"), ({"code": "611"}, "PK827"),
                                        ({"code": "612"}, "PK828")])
def test_a_fault_mid_import_keeps_the_journal_and_resume_finishes(fake, cli_env, invoke, fault, code):
    fake.add_fault({**fault, "path": "POST /rest/asset/v1/smartCampaigns.json"})
    stopped = invoke("import", str(SAMPLE), "--target", fake.url, "--yes")
    assert stopped.exit_code in (1, 2), stopped.output
    assert code in stopped.output and "PK811" in stopped.output and "Traceback" not in stopped.output
    (journal,) = (cli_env / "marketo").rglob("journals/*.jsonl")
    assert '"op": "create"' in journal.read_text()  # what was done before the fault is journalled
    resumed = invoke("import", str(SAMPLE), "--target", fake.url, "--resume", "--yes")
    assert resumed.exit_code == 0, resumed.output
    assert len(fake.assets["smartCampaign"]) == 2


# -- 7. HTTP hygiene ----------------------------------------------------------------------------------------------
def test_authorization_never_follows_a_redirect_to_another_host(fake, client):
    sink = HeaderSink()
    try:
        fake.add_fault({"redirect": f"{sink.url}/rest/asset/v1/channels.json", "times": 1})
        with pytest.raises(MarketoError):
            client.get("/rest/asset/v1/channels.json")
        assert all("authorization" not in h for h in sink.seen)
    finally:
        sink.stop()


def test_a_target_url_with_credentials_is_refused_and_not_echoed(fake):
    url = fake.url.replace("http://", "http://admin:hunter2@")
    with pytest.raises(BadInput) as err:
        MarketoClient(url, CLIENT_ID, SECRET, FAST)
    assert "hunter2" not in str(err.value) and "hunter2" not in err.value.message


@pytest.mark.parametrize("suffix", ["/rest", "/rest/"])
def test_a_target_url_ending_in_rest_works(fake, suffix):
    c = MarketoClient(fake.url + suffix, CLIENT_ID, SECRET, FAST)
    assert c.get("/rest/asset/v1/channels.json")


# -- 4. what the API can do: modules, text version ---------------------------------------------------------------
def test_email_modules_are_set_through_the_api_in_the_bundles_order(fake, cli_env, invoke):
    done = invoke("import", str(SAMPLE), "--target", fake.url, "--yes")
    assert done.exit_code == 0, done.output
    email = next(iter(fake.assets["email"].values()))
    assert email["_modules"] == ["personDetails", "callToAction"]
    assert "Check the modules" not in done.output


def test_the_text_version_is_written_through_the_api(fake, cli_env, invoke):
    done = invoke("import", str(SAMPLE), "--target", fake.url, "--yes")
    assert done.exit_code == 0, done.output
    email = next(iter(fake.assets["email"].values()))
    text = json.loads((SAMPLE / "emails" / "01-email-alert-mql.json").read_text())["text"]
    assert text in (email.get("_section_text") or {}).values()
    assert "Edit Text Version" not in done.output


# -- 8. progress ---------------------------------------------------------------------------------------------------
class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_line_shows_items_calls_waits_and_time_left():
    from programkit.workspaces.marketo.progress import ProgressLine, for_stream

    now = [0.0]
    line = ProgressLine(_Terminal(), "Marketo", lambda: (37, 4.2), clock=lambda: now[0], every=0)
    line.start(4)
    now[0] = 10.0
    line.tick(2)
    assert line.text() == "Marketo: 2/4 items, 37 API call(s), 4s waiting for Marketo's limits, about 0:10 left"
    line.close()
    assert line.stream.getvalue().endswith("\n")
    assert for_stream(io.StringIO(), "Marketo", lambda: (0, 0.0)) is None  # not a terminal: no progress


def test_import_shows_progress_on_a_terminal_unless_quiet(fake, cli_env, monkeypatch):
    from programkit.cli.importing import _apply
    from programkit.load import load_bundle
    from programkit.plan import plan_path

    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    ws = MarketoWorkspace(fake.url)
    plan, bundle = plan_path(str(SAMPLE), ws, flags={})
    _apply(plan, bundle, ws, quiet=True)
    assert terminal.getvalue() == ""
    fake.programs.clear()
    ws2 = MarketoWorkspace(fake.url, state_dir=cli_env / "other")
    plan, bundle = plan_path(str(SAMPLE), ws2, flags={})
    _apply(plan, bundle, ws2)
    shown = terminal.getvalue()
    assert f"Marketo: {len(plan.actions)}/{len(plan.actions)} items" in shown and "API call(s)" in shown
