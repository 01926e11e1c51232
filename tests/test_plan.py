"""Plans: preflight, program collisions, upgrades, idempotence, saved plans (in-memory workspace)."""

from __future__ import annotations

import copy
import json

import pytest

from import_helpers import action, add_asset, assert_sample_local_assets, import_into, manifest, plan_for, write_manifest
from memworkspace import MemoryWorkspace
from programkit.apply import apply_plan
from programkit.errors import ProgramkitError
from programkit.plan import Plan

PROGRAM = "OP-Lead Management"


def test_sample_plan_into_empty_workspace(sample_copy):
    plan, _ = plan_for(sample_copy, MemoryWorkspace())
    assert [(a.kind, a.name, a.action) for a in plan.actions] == [
        ("program", PROGRAM, "create"),
        ("folder", "Campaigns", "create"),
        ("folder", "Email Alert", "create"),
        ("token", "MQL Score Threshold", "create"),
        ("token", "MQL Follow-up SLA Hours", "create"),
        ("token", "New Person Status", "create"),
        ("tag", "Program Purpose: Lead Management", "create"),
        ("emailTemplate", "Quick Start Email Template", "create"),
        ("smartCampaign", "01 - Sync New People to CRM", "create"),
        ("smartCampaign", "02 - Marketing Qualified", "create"),
        ("email", "01 - Email - ALERT - MQL", "create"),
        ("leadLifecycle", "Lead Lifecycle", "create"),
    ]
    assert plan.summary == {"create": 12, "reuse": 0, "rename": 0, "replace": 0, "update": 0, "skip": 0,
                            "noop": 0, "delete": 0}
    assert plan.problems == []
    d = plan.to_dict()
    assert d["bundle"]["name"] == "op-lead-management" and d["bundle"]["version"] == "1.0.0"
    assert len(d["bundle"]["digest"]) == 64
    assert d["workspace"] == {"name": "default", "revision": "0"}
    assert {"kind", "name", "action", "as", "decidedBy", "reason"} <= set(d["actions"][0])
    assert Plan.from_json(plan.to_json()).to_dict() == d


def test_plan_only_reads(sample_copy):
    ws = MemoryWorkspace()
    before = copy.deepcopy(ws.state)
    plan_for(sample_copy, ws)
    assert ws.state == before


def test_import_creates_exactly_the_program_then_noop(sample_copy):
    ws = MemoryWorkspace()
    _, record = import_into(sample_copy, ws)
    assert record.outcome == "applied"
    program = ws.program(PROGRAM)
    assert program.data == manifest(sample_copy)["program"]
    assert ws.state["programs"][program.id]["folders"] == {"Campaigns", "Email Alert"}
    assert_sample_local_assets(ws, program.id, sample_copy)
    assert list(ws.design("emailTemplate")) == ["Quick Start Email Template"]
    assert ws.tag_types() == {"Program Purpose": {"Lead Management"}}
    state = copy.deepcopy(ws.state)

    plan, record = import_into(sample_copy, ws)
    assert {a.action for a in plan.actions} == {"noop"}
    assert plan.nothing_to_do and record.outcome == "noop"
    after = copy.deepcopy(ws.state)
    for s in (state, after):  # only the history row (and the revision counter) differ
        s.pop("history"), s.pop("rev"), s.pop("next")
        for p in s["programs"].values():
            p.pop("provenance")
    assert after == state
    assert [r.outcome for r in ws.history()] == ["noop", "applied"]


def test_history_record(sample_copy):
    ws = MemoryWorkspace()
    plan, record = import_into(sample_copy, ws, flags={"images": "replace"})
    (row,) = ws.history()
    assert (row.bundle, row.version, row.digest, row.program) == ("op-lead-management", "1.0.0",
                                                                    plan.bundle["digest"], PROGRAM)
    assert row.rules["images"] == {"value": "replace", "decidedBy": "flag"}
    assert row.rules["emailTemplates"] == {"value": "keepBoth", "decidedBy": "bundle"}
    assert row.plan == plan.to_dict()
    assert row.started_at <= row.finished_at
    email = next(m for m in row.mapping if m["kind"] == "email")
    assert email["bundleName"] == "01 - Email - ALERT - MQL" and ws.read(email["workspaceId"])


def test_three_missing_fields_all_reported(sample_copy):
    data = manifest(sample_copy)
    data["requires"]["fields"] = [{"apiName": "leadGrade", "type": "string"},
                                  {"apiName": "mqlDate", "type": "date"},
                                  {"apiName": "partnerTier", "type": "string"}]
    write_manifest(sample_copy, data)
    ws = MemoryWorkspace(fields={"mqlDate": "datetime"})
    plan, bundle = plan_for(sample_copy, ws)
    assert [(p.code, p.pointer) for p in plan.problems] == [
        ("PK501", "/requires/fields/0"), ("PK502", "/requires/fields/1"), ("PK501", "/requires/fields/2")]
    text = " ".join(p.message for p in plan.problems)
    assert "leadGrade" in text and "mqlDate" in text and "partnerTier" in text
    assert all(p.line for p in plan.problems)
    before = copy.deepcopy(ws.state)
    with pytest.raises(ProgramkitError) as e:
        apply_plan(plan, bundle, ws)
    assert len(e.value.findings) == 3 and ws.state == before


def test_every_missing_dependency_at_once(sample_copy):
    data = manifest(sample_copy)
    data["requires"] = {"crm": "salesforce", "segmentations": ["Region"], "snippets": ["Footer"],
                        "webhooks": ["Enrich"], "customObjects": ["Subscription"]}
    data["program"]["membershipStatuses"] = ["01-Member", "02-Engaged"]
    write_manifest(sample_copy, data)
    ws = MemoryWorkspace(crm=None)
    plan, _ = plan_for(sample_copy, ws)
    assert sorted(p.code for p in plan.problems) == ["PK503", "PK504", "PK505", "PK506", "PK507", "PK509"]
    plan, _ = plan_for(sample_copy, MemoryWorkspace(channels={"Content": ["Engaged"]},
                                                    names={"segmentations": {"region"}, "snippets": {"Footer"},
                                                           "webhooks": {"Enrich"}, "customObjects": {"Subscription"}}))
    assert [p.code for p in plan.problems] == ["PK508"]
    assert "channels: Content" in plan.problems[0].message


def test_invalid_bundle_cannot_be_planned(sample_copy):
    (sample_copy / "emails/01-email-alert-mql.json").write_text("{}")
    plan, bundle = plan_for(sample_copy, MemoryWorkspace())
    assert not plan.ok and "PK106" in {p.code for p in plan.problems}
    with pytest.raises(ProgramkitError):
        apply_plan(plan, bundle, MemoryWorkspace())


def test_program_exists_not_from_bundle(sample_copy):
    ws = MemoryWorkspace()
    ws.create_program({"name": "op-lead management", "type": "default", "channel": "Operational"})
    plan, _ = plan_for(sample_copy, ws)
    assert [p.code for p in plan.problems] == ["PK510"]
    assert "--as NAME" in plan.problems[0].message
    plan, bundle = plan_for(sample_copy, ws, as_name="OP-Lead Management (EMEA)")
    assert plan.ok
    assert (plan.actions[0].action, plan.actions[0].as_name, plan.actions[0].decided_by) == (
        "rename", "OP-Lead Management (EMEA)", "flag")
    apply_plan(plan, bundle, ws)
    assert ws.program("OP-Lead Management (EMEA)").data["name"] == "OP-Lead Management (EMEA)"


def _bump(bundle_dir, version, edit=None):
    data = manifest(bundle_dir)
    data["version"] = version
    if edit:
        edit(data)
    write_manifest(bundle_dir, data)


def test_upgrade_in_place(sample_copy):
    ws = MemoryWorkspace()
    import_into(sample_copy, ws)
    pid = ws.program(PROGRAM).id
    ws.put_asset("smartCampaign", "03 - Mine", b"{}", __import__("hashlib").sha256(b"{}").hexdigest(),
                 folder="Campaigns", program_id=pid)
    # v1.1.0: campaign 01 changed, a new campaign, the template changed, campaign 02 removed, a token changed
    camp = sample_copy / "campaigns/01-sync-new-people-to-crm.json"
    camp.write_text(camp.read_text().replace('"active": true', '"active": false'))
    tpl = sample_copy / "design-studio/quick-start-email-template.html"
    tpl.write_text(tpl.read_text() + "<!-- v1.1 -->\n")

    def edit(data):
        data["assets"] = [a for a in data["assets"] if a["name"] != "02 - Marketing Qualified"]
        data["program"]["tokens"][2]["value"] = "New"
    _bump(sample_copy, "1.1.0", edit)
    (sample_copy / "campaigns/02-marketing-qualified.json").unlink()
    # the email's Send Alert step lived in 02; the email itself stays
    add_asset(sample_copy, "smartCampaign", "04 - Recycle", "campaigns/04.json",
              (sample_copy / "campaigns/01-sync-new-people-to-crm.json").read_bytes(), folder="Campaigns")
    plan, record = import_into(sample_copy, ws)
    got = {(a.kind, a.name): (a.action, a.reason) for a in plan.actions}
    assert got[("program", PROGRAM)][0] == "update" and "1.0.0 → 1.1.0" in got[("program", PROGRAM)][1]
    assert got[("smartCampaign", "01 - Sync New People to CRM")][0] == "update"
    assert got[("smartCampaign", "04 - Recycle")][0] == "create"
    assert got[("smartCampaign", "02 - Marketing Qualified")] == (
        "skip", "removed from the bundle; kept (--prune deletes it)")
    assert got[("smartCampaign", "03 - Mine")] == ("skip", "added in the workspace; kept")
    assert got[("emailTemplate", "Quick Start Email Template")][0] == "update"
    assert got[("email", "01 - Email - ALERT - MQL")][0] == "noop"
    assert got[("token", "New Person Status")][0] == "update"
    assert got[("token", "MQL Score Threshold")][0] == "noop"
    names = sorted(a.name for a in ws.program_assets(pid))
    assert names == ["01 - Email - ALERT - MQL", "01 - Sync New People to CRM", "02 - Marketing Qualified",
                     "03 - Mine", "04 - Recycle", "Lead Lifecycle"]
    assert ws.design("emailTemplate") == {"Quick Start Email Template": tpl.read_bytes()}
    assert ws.program(PROGRAM).provenance.version == "1.1.0"

    # v1.2.0 with --prune: the campaign the bundle dropped goes, the user's stays
    _bump(sample_copy, "1.2.0")
    plan, _ = import_into(sample_copy, ws, prune=True)
    assert action(plan, "smartCampaign", "02 - Marketing Qualified").action == "delete"
    assert sorted(a.name for a in ws.program_assets(pid)) == [
        "01 - Email - ALERT - MQL", "01 - Sync New People to CRM", "03 - Mine", "04 - Recycle", "Lead Lifecycle"]


def test_downgrade_refused_unless_allowed(sample_copy):
    ws = MemoryWorkspace()
    _bump(sample_copy, "2.0.0")
    import_into(sample_copy, ws)
    _bump(sample_copy, "1.5.0", lambda d: d["program"]["tokens"][0].update(value=50))
    plan, _ = plan_for(sample_copy, ws)
    assert [p.code for p in plan.problems] == ["PK511"]
    plan, _ = import_into(sample_copy, ws, allow_downgrade=True)
    assert (plan.actions[0].action, plan.actions[0].decided_by) == ("update", "flag")
    assert ws.program(PROGRAM).data["tokens"][0]["value"] == 50


def test_same_version_other_content_refused(sample_copy):
    ws = MemoryWorkspace()
    import_into(sample_copy, ws)
    _bump(sample_copy, "1.0.0", lambda d: d.update(description="changed"))
    plan, _ = plan_for(sample_copy, ws)
    assert [p.code for p in plan.problems] == ["PK512"]


def test_keep_both_copy_is_updated_in_place_on_upgrade(sample_copy):
    ws = MemoryWorkspace()
    ws.add_design("emailTemplate", "Quick Start Email Template", b"<html>theirs</html>")
    plan, _ = import_into(sample_copy, ws)
    assert action(plan, "emailTemplate", "Quick Start Email Template").as_name == "Quick Start Email Template - 1"
    tpl = sample_copy / "design-studio/quick-start-email-template.html"
    tpl.write_text(tpl.read_text() + "<!-- v2 -->\n")
    _bump(sample_copy, "1.0.1")
    plan, _ = import_into(sample_copy, ws)
    act = action(plan, "emailTemplate", "Quick Start Email Template")
    assert (act.action, act.as_name) == ("update", "Quick Start Email Template - 1")
    assert ws.design("emailTemplate") == {"Quick Start Email Template": b"<html>theirs</html>",
                                          "Quick Start Email Template - 1": tpl.read_bytes()}


def test_dynamic_content_and_image_tokens_are_imported(sample_copy):
    email = sample_copy / "emails/01-email-alert-mql.json"
    doc = json.loads(email.read_text())
    doc["dynamicContent"] = {"headline": {"segmentation": "Region", "default": "<h1>Hi</h1>",
                                          "segments": {"EMEA": "<h1>Hej</h1>"}}}
    email.write_text(json.dumps(doc, indent=2))

    def edit(data):
        data["requires"]["segmentations"] = ["Region"]
        data["program"]["tokens"].append({"name": "Logo", "type": "image", "value": "https://example.com/l.png"})
    _bump(sample_copy, "1.0.0", edit)
    ws = MemoryWorkspace(names={"segmentations": {"Region"}})
    plan, _ = plan_for(sample_copy, ws)
    assert plan.ok, [p.message for p in plan.problems]
    assert action(plan, "email", "01 - Email - ALERT - MQL").action == "create"
    assert "dynamic content" in action(plan, "email", "01 - Email - ALERT - MQL").reason
    assert action(plan, "token", "Logo").action == "create"


def test_apply_is_all_or_nothing(sample_copy, monkeypatch):
    ws = MemoryWorkspace()
    plan, bundle = plan_for(sample_copy, ws)
    before = copy.deepcopy(ws.state)
    calls = []

    def boom(*a, **k):
        calls.append(a)
        raise RuntimeError("disk full")
    monkeypatch.setattr(ws, "record_import", boom)
    with pytest.raises(RuntimeError):
        apply_plan(plan, bundle, ws)
    assert calls and ws.state == before


def test_saved_plan_refused_after_drift(sample_copy):
    ws = MemoryWorkspace()
    plan, bundle = plan_for(sample_copy, ws)
    saved = Plan.from_json(plan.to_json())
    ws.add_tag_value("Region", "EMEA")
    with pytest.raises(ProgramkitError) as e:
        apply_plan(saved, bundle, ws)
    assert e.value.findings[0].code == "PK520"
    plan, bundle = plan_for(sample_copy, ws)
    _bump(sample_copy, "1.0.1")
    from programkit.load import load_bundle

    with pytest.raises(ProgramkitError) as e:
        apply_plan(plan, load_bundle(sample_copy).bundle, ws)
    assert e.value.findings[0].code == "PK521"


def test_progress_reports_every_action(sample_copy):
    ws = MemoryWorkspace()
    plan, bundle = plan_for(sample_copy, ws)
    ticks = []
    apply_plan(plan, bundle, ws, progress=ticks.append)
    assert sum(ticks) == len(plan.actions) == 12
