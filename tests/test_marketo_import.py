"""Plan and apply (the import pipeline) against the stand-in Marketo: create, checklist, no-op, preflight."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

plan_mod = pytest.importorskip("programkit.plan")
apply_mod = pytest.importorskip("programkit.apply")
rules_mod = pytest.importorskip("programkit.rules")

from programkit.load import load_bundle  # noqa: E402
from programkit.workspaces.marketo import MarketoWorkspace  # noqa: E402

from marketo_support import client, fake  # noqa: E402,F401

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "op-lead-management"


@pytest.fixture
def ws(fake, client, tmp_path, monkeypatch):
    monkeypatch.setenv("PROGRAMKIT_STATE_DIR", str(tmp_path / "state"))
    return MarketoWorkspace(fake.url, client=client)


def _plan(bundle, ws):
    return plan_mod.make_plan(bundle, ws, rules_mod.resolve(bundle=bundle.manifest.get("conflictRules")))


def test_import_creates_the_program_then_a_second_run_has_nothing_to_do(fake, ws):
    bundle = load_bundle(SAMPLE).bundle
    plan = _plan(bundle, ws)
    assert plan.ok and not plan.nothing_to_do
    record = apply_mod.apply_plan(plan, bundle, ws)
    assert record.outcome == "needs-manual-completion"
    # the template and the email are drafts until approved (import --approve does it): a checklist line each
    assert {i["name"] for i in ws.checklist} == {"01 - Sync New People to CRM", "02 - Marketing Qualified",
                                                 "01 - Email - ALERT - MQL", "Lead Lifecycle",
                                                 "Quick Start Email Template"}
    snap = fake.snapshot()
    assert snap["programs"] == ["OP-Lead Management"]
    assert snap["assets"]["smartCampaign"] == ["01 - Sync New People to CRM", "02 - Marketing Qualified"]
    writes = sum(n for path, n in snap["paths"].items() if path.startswith("POST"))

    again = MarketoWorkspace(ws.url, client=ws.client)
    plan2 = _plan(bundle, again)
    assert plan2.ok and plan2.nothing_to_do
    assert apply_mod.apply_plan(plan2, bundle, again).outcome == "noop"
    after = fake.snapshot()
    assert sum(n for path, n in after["paths"].items() if path.startswith("POST")) == writes  # nothing written
    assert after["assets"] == snap["assets"]


def test_preflight_lists_every_missing_field_at_once(ws, sample_copy):
    manifest = sample_copy / "bundle.json"
    data = json.loads(manifest.read_text())
    data["requires"]["fields"] = [{"apiName": "leadScore", "type": "integer"},
                                  {"apiName": "mqlDate", "type": "datetime"},
                                  {"apiName": "mqlReason", "type": "string"},
                                  {"apiName": "partnerTier", "type": "string"}]
    manifest.write_text(json.dumps(data, indent=2))
    bundle = load_bundle(sample_copy).bundle
    plan = _plan(bundle, ws)
    missing = [p.message for p in plan.problems if p.code == "PK501"]
    assert [m.split(":")[1].strip() for m in missing] == [
        "field 'mqlDate' (datetime) is missing in workspace 'Default'",
        "field 'mqlReason' (string) is missing in workspace 'Default'",
        "field 'partnerTier' (string) is missing in workspace 'Default'"]


def test_preflight_adds_what_marketo_cannot_take_or_tell(ws, sample_copy):
    manifest = sample_copy / "bundle.json"
    data = json.loads(manifest.read_text())
    data["requires"]["webhooks"] = ["Slack MQL"]
    data["program"]["tags"]["Region"] = "Mars"
    manifest.write_text(json.dumps(data, indent=2))
    bundle = load_bundle(sample_copy).bundle
    got = sorted((p.code, p.severity.value, p.message) for p in _plan(bundle, ws).problems)
    assert got == [
        ("PK806", "warning", "webhooks cannot be read through the Marketo API: required webhook 'Slack MQL' "
                             "not checked"),
        ("PK807", "warning", "CRM 'salesforce' inferred from the person fields sfdcContactId, sfdcLeadId, sfdcType; "
                             "the API cannot read the CRM sync settings"),
        ("PK808", "error", "tag 'Region' = 'Mars' does not exist in Marketo"),
        ("PK809", "warning", "leadLifecycle 'Lead Lifecycle' cannot be written through the Marketo API (Revenue "
                             "Cycle Modeler has none): it goes to the manual-steps checklist"),
    ]
    # programTags=ignore: the tag is not written, so it is no problem
    ignore = plan_mod.make_plan(bundle, MarketoWorkspace(ws.url, client=ws.client),
                                rules_mod.resolve(flags={"programTags": "ignore"}))
    assert sorted(p.code for p in ignore.problems) == ["PK806", "PK807", "PK809"]


def test_an_import_stopped_by_a_5xx_resumes_from_its_journal_or_rolls_back(fake, tmp_path, monkeypatch):
    from programkit.errors import ProgramkitError
    from programkit.workspaces.marketo import Journal, resume_import
    from programkit.workspaces.marketo.journal import rollback
    from programkit.workspaces.marketo.client import Limits, MarketoClient

    from marketo_support import CLIENT_ID, SECRET

    monkeypatch.setenv("PROGRAMKIT_STATE_DIR", str(tmp_path / "state"))
    c = MarketoClient(fake.url, CLIENT_ID, SECRET, Limits(calls=50, window=1.0, retries=0))
    bundle = load_bundle(SAMPLE).bundle
    ws = MarketoWorkspace(fake.url, client=c)
    fake.add_fault({"http": 500, "path": "POST /rest/asset/v1/smartCampaigns.json"})
    with pytest.raises(ProgramkitError) as info:
        apply_mod.apply_plan(_plan(bundle, ws), bundle, ws)
    assert [f.code for f in info.value.findings] == ["PK804", "PK811"]
    # the campaigns go out side by side: the one not hit by the 500 may be created; if so, it is journalled
    created = fake.snapshot()["assets"].get("smartCampaign", [])
    assert len(created) <= 1
    assert [s["name"] for s in Journal.load(ws.state_dir).data["steps"]
            if s["op"] == "create" and s["kind"] == "smartCampaign"] == created

    # a fresh plan would now refuse (the half-made program has no provenance); resume applies the journalled one
    again = MarketoWorkspace(fake.url, client=c)
    assert sorted(p.code for p in _plan(bundle, again).problems) == ["PK510", "PK807", "PK809"]
    record = resume_import(MarketoWorkspace(fake.url, client=c), bundle)
    assert record.outcome == "needs-manual-completion"
    snap = fake.snapshot()
    assert snap["programs"] == ["OP-Lead Management"]
    assert snap["assets"]["smartCampaign"] == ["01 - Sync New People to CRM", "02 - Marketing Qualified"]
    assert snap["assets"]["emailTemplate"] == ["Quick Start Email Template"]
    assert Journal.load(ws.state_dir).data["status"] == "complete"
    with pytest.raises(ProgramkitError, match="nothing to resume"):
        resume_import(MarketoWorkspace(fake.url, client=c), bundle)

    # and the next plan sees the import: nothing to do
    assert _plan(bundle, MarketoWorkspace(fake.url, client=c)).nothing_to_do
    done = rollback(MarketoWorkspace(fake.url, client=c))
    assert done.left == [] and fake.snapshot()["programs"] == []


def test_cost_estimate_is_the_writes_apply_makes(fake, ws):
    bundle = load_bundle(SAMPLE).bundle
    plan = _plan(bundle, ws)
    est = ws.estimate_calls(plan, bundle)
    # program + 3 tokens + 2 folders + template + email (1 + 4 sections + 1 variable + modules: 1 read and at
    # most 1 add per module) + 2 campaigns
    assert est == {"calls": 18, "dailyQuota": 50000, "shareOfDailyQuota": 0.00036}
    assert ws.cost_line(plan, bundle) == ("Marketo API: 10 call(s) to plan; applying takes about 18 more "
                                          "(0.04% of the daily quota of 50,000).\n")
    apply_mod.apply_plan(plan, bundle, ws)
    # the template has personDetails by default: one module added, not two
    assert sum(n for path, n in fake.snapshot()["paths"].items() if path.startswith("POST")) == 16
    again = MarketoWorkspace(ws.url, client=ws.client)
    assert again.estimate_calls(_plan(bundle, again), bundle)["calls"] == 0


def test_token_expiry_mid_import_is_absorbed(fake, ws):
    fake.add_fault({"expireTokens": True, "path": "POST /rest/asset/v1/emails.json"})
    bundle = load_bundle(SAMPLE).bundle
    record = apply_mod.apply_plan(_plan(bundle, ws), bundle, ws)
    assert record.outcome == "needs-manual-completion"
    # calls in flight side by side with the expired token are each answered 602; one new token serves them all
    assert set(fake.stats["codes"]) == {"602"} and fake.stats["identity"] == 2
    assert fake.snapshot()["assets"]["email"] == ["01 - Email - ALERT - MQL"]


def test_an_email_uses_the_keep_both_copy_of_its_template(fake, ws):
    """The instance has its own 'Quick Start Email Template': the bundle's becomes '… - 1' and the email is
    created on that copy, not on the instance's template of the bundle's name."""
    from fake_marketo import _design_create

    theirs = _design_create(fake, "emailTemplate", {"name": "Quick Start Email Template",
                                                    "folder": {"id": 3, "type": "Folder"}},
                            b"<html>theirs</html>", version=2)["result"][0]["id"]
    bundle = load_bundle(SAMPLE).bundle
    plan = _plan(bundle, ws)
    assert [(a.action, a.as_name) for a in plan.actions if a.kind == "emailTemplate"] == [
        ("rename", "Quick Start Email Template - 1")]
    apply_mod.apply_plan(plan, bundle, ws)
    templates = {t["name"]: t["id"] for t in fake.assets["emailTemplate"].values()}
    assert set(templates) == {"Quick Start Email Template", "Quick Start Email Template - 1"}
    (email,) = fake.assets["email"].values()
    assert email["template"] == templates["Quick Start Email Template - 1"] != theirs


def test_a_guided_landing_page_template_is_created_guided(fake, ws, sample_copy):
    from programkit.canonical import refresh_digests

    (sample_copy / "design-studio" / "event-page.html").write_text(
        '<!DOCTYPE html><html><head><title>Event</title></head><body>'
        '<div class="mktoText" id="hero" mktoName="Hero"><h1>Event</h1></div>'
        '<div class="mktoForm" id="form" mktoName="Form"></div></body></html>\n', encoding="utf-8")
    manifest = sample_copy / "bundle.json"
    data = json.loads(manifest.read_text())
    data["assets"].append({"kind": "landingPageTemplate", "name": "Event Page", "templateType": "guided",
                           "path": "design-studio/event-page.html", "sha256": ""})
    manifest.write_text(json.dumps(data, indent=2))
    refresh_digests(sample_copy)
    bundle = load_bundle(sample_copy).bundle
    plan = _plan(bundle, ws)
    assert plan.ok, [p.message for p in plan.problems]
    apply_mod.apply_plan(plan, bundle, ws)
    created = [a for a in fake.assets["landingPageTemplate"].values() if a["name"] == "Event Page"]
    assert [a["templateType"] for a in created] == ["guided"]


def test_replace_uploads_new_content_to_the_existing_template(fake, ws):
    bundle = load_bundle(SAMPLE).bundle
    apply_mod.apply_plan(_plan(bundle, ws), bundle, ws)
    fresh = MarketoWorkspace(ws.url, client=ws.client)
    tpl = fresh.design_assets("emailTemplate", ["Quick Start Email Template"])["quick start email template"]
    new = b"<html><body><div class='mktoText' id='body' mktoName='Body'>v2</div></body></html>\n"
    with fresh.transaction() as w:
        w.replace_asset(tpl.id, new, hashlib.sha256(new).hexdigest())
    stored = [a for a in fake.assets["emailTemplate"].values() if a["name"] == "Quick Start Email Template"]
    assert [a["_content"] for a in stored] == [new]
