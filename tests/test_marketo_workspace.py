"""MarketoWorkspace against the stand-in server: inventory, journalled import, checklist, resume, rollback."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from programkit.errors import ProgramkitError
from programkit.load import load_bundle
from programkit.workspaces.marketo import MarketoWorkspace, Journal
from programkit.workspaces.marketo.journal import rollback
from programkit.workspaces.marketo.client import Limits, MarketoClient

from marketo_support import (CLIENT_ID, FAST, SECRET, FakeMarketo, apply_sample, client, fake,  # noqa: F401
                             marketo_env)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "op-lead-management"


@pytest.fixture
def bundle():
    return load_bundle(SAMPLE).bundle


@pytest.fixture
def ws(fake, client, tmp_path, monkeypatch):
    monkeypatch.setenv("PROGRAMKIT_STATE_DIR", str(tmp_path / "state"))
    return MarketoWorkspace(fake.url, client=client)


def test_inventory_reads_the_instance_with_browse_calls(fake, ws):
    assert ws.channels()["Operational"] == ["01-Member"]
    assert ws.tag_types()["Program Purpose"] == {"Lead Management", "Nurture", "Events"}
    assert ws.fields()["leadScore"].display_name == "Person Score"
    assert ws.names("segmentations") == {"Industry"}
    assert ws.crm() == "salesforce"
    assert ws.names("webhooks") == set()
    assert [n.code for n in ws.notes] == ["PK807", "PK806"]  # neither is a silent pass
    assert ws.count() == {"fields": 13, "customFields": 2, "channels": 3, "tagTypes": 2, "programs": 0,
                          "imports": 0, "segmentations": 1, "snippets": 0, "customObjects": 0, "emailTemplate": 0,
                          "landingPageTemplate": 0, "image": 0, "snippet": 0, "email": 0, "smartCampaign": 0,
                          "landingPage": 0, "smartList": 0, "form": 0, "staticList": 0}
    before = fake.stats["accepted"]
    ws.count(), ws.channels(), ws.fields()  # cached: no more calls
    assert fake.stats["accepted"] == before


def test_import_creates_program_assets_and_checklist(fake, ws, bundle):
    pid = apply_sample(ws, bundle)
    snap = fake.snapshot()
    assert snap["programs"] == ["OP-Lead Management"]
    prog = fake.programs[pid]
    assert (prog["type"], prog["channel"], prog["tags"]) == (
        "Default", "Operational", [{"tagType": "Program Purpose", "tagValue": "Lead Management"}])
    assert snap["tokens"] == {f"Program:{pid}": ["MQL Follow-up SLA Hours", "MQL Score Threshold",
                                                  "New Person Status"]}
    assert "/Marketing Activities/Default/OP-Lead Management/Campaigns" in snap["folders"]
    assert snap["assets"] == {"emailTemplate": ["Quick Start Email Template"],
                              "email": ["01 - Email - ALERT - MQL"],
                              "smartCampaign": ["01 - Sync New People to CRM", "02 - Marketing Qualified"]}
    email = next(iter(fake.assets["email"].values()))
    source = json.loads((SAMPLE / "emails" / "01-email-alert-mql.json").read_text())
    assert email["_sections"] == source["sections"]
    assert email["_variables"] == source["variables"]
    assert email["operational"] is True and email["subject"]["value"] == source["subject"]
    template = next(iter(fake.assets["emailTemplate"].values()))
    assert template["_content"] == (SAMPLE / "design-studio" / "quick-start-email-template.html").read_bytes()
    assert "1003" not in fake.stats["codes"]  # every call matched Adobe's contract

    # the checklist names every trigger, filter, rule logic, flow step and qualification rule
    items = {i["name"]: i["steps"] for i in ws.checklist}
    mql = items["02 - Marketing Qualified"]
    assert mql[0] == ('Smart List: add trigger "Score is Changed" with Score Name is Person Score; '
                      "New Score at least {{my.MQL Score Threshold}}")
    assert 'Smart List: add filter 2 "Person Status" is not MQL, SQL, Customer' in mql
    assert "Smart List: set rule logic to Use ALL filters" in mql
    assert sum(s.startswith("Flow: add step") for s in mql) == 4
    assert 'Schedule: set qualification rule to "once"' in mql
    assert 'Smart List: add filter 2 "Synced to SFDC" is false' in items["01 - Sync New People to CRM"]
    [record] = ws.history()
    assert record.outcome == "needs-manual-completion"  # never claimed done
    saved = list((ws.state_dir / "checklists").glob("*.md"))
    assert len(saved) == 1 and "Flow: add step 3 \"Send Alert\"" in saved[0].read_text()


def test_lead_lifecycle_is_not_written_but_checklisted_for_revenue_cycle_modeler(fake, ws, bundle):
    """Marketo has no API object for a lifecycle: no call, journalled as not written, the checklist says what to
    build (stages, transition rules and the campaigns that drive them), and rollback has nothing to undo for it."""
    apply_sample(ws, bundle)
    [item] = [i for i in ws.checklist if i["kind"] == "leadLifecycle"]
    assert (item["name"], item["marketoId"], item["folder"]) == (
        "Lead Lifecycle", None, "/Marketing Activities/Default/OP-Lead Management/Campaigns")
    steps = item["steps"]
    assert steps[0] == ('Revenue Cycle Modeler: create the model "Lead Lifecycle" by hand (the API cannot; nothing '
                        "was written for it)")
    assert steps[1] == ("Add the stages: New (open, first), Synced to CRM (open), MQL (qualified), SQL (qualified), "
                        "Customer (won, final), Recycled (open), Disqualified (lost, final)")
    assert steps[2] == ('Transition "synced": New → Synced to CRM on Data Value Changes: Synced to SFDC to true '
                        "(set by campaigns 01 - Sync New People to CRM, 02 - Marketing Qualified)")
    assert steps[3] == ('Transition "mql": New, Synced to CRM, Recycled → MQL on Data Value Changes: Person Status '
                        "to MQL (set by campaign 02 - Marketing Qualified)")
    assert ('Transition "recycle": MQL, SQL → Recycled (an event outside Marketo, e.g. in the CRM: choose the '
            "trigger that shows it); reason from 'Recycle reasons'") in steps
    assert 'SLA "follow-up due": on entering MQL, for 24 hours' in steps
    assert steps[-1] == "Approve the model (after the steps above)"
    saved = next((ws.state_dir / "checklists").glob("*.md")).read_text()
    assert '## leadLifecycle "Lead Lifecycle" (not written: no API for it, in /Marketing Activities/' in saved
    journal = Journal.load(ws.state_dir)
    assert [s for s in journal.data["steps"] if s["kind"] == "leadLifecycle"] == [
        {"key": f"manual:leadLifecycle:{ws.program('OP-Lead Management').id}:Lead Lifecycle", "op": "manual",
         "kind": "leadLifecycle", "id": None, "name": "Lead Lifecycle", "written": False}]
    assert not any("ifecycle" in path for path in fake.snapshot()["paths"])  # no call was made for it
    assert [r.outcome for r in ws.history()] == ["needs-manual-completion"]
    done = rollback(ws)
    assert done.left == [] and fake.snapshot()["programs"] == []


def test_inventory_after_import_matches_the_bundle(ws, bundle):
    pid = apply_sample(ws, bundle)
    fresh = MarketoWorkspace(ws.url, client=ws.client, state_dir=ws.state_dir)
    prog = fresh.program("op-lead management")
    assert prog.id == pid and prog.provenance.bundle == "op-lead-management"
    # Marketo keeps no token descriptions
    assert prog.data["tokens"] == [{k: v for k, v in t.items() if k != "description"} for t in bundle.program["tokens"]]
    assert prog.data["type"] == "default"
    assert prog.data["folders"] == [{"name": "Campaigns"}, {"name": "Email Alert"}]
    shas = {a.name: a.sha256 for a in fresh.program_assets(pid)}
    # the lead lifecycle is not in Marketo (no API object): only on the checklist
    assert shas == {a.name: a.entry["sha256"] for a in bundle.assets
                    if a.kind not in ("emailTemplate", "leadLifecycle")}
    [tpl] = fresh.design_assets("emailTemplate", ["QUICK START EMAIL TEMPLATE"]).values()
    assert tpl.sha256 == bundle.assets_of("emailTemplate")[0].entry["sha256"]
    assert fresh.read(tpl.id) == (SAMPLE / "design-studio" / "quick-start-email-template.html").read_bytes()
    assert fresh.design_names("emailTemplate", "Quick Start Email Template") == {"Quick Start Email Template"}


def test_709_on_one_asset_stops_with_marketos_code_and_a_journal(fake, ws, bundle):
    fake.add_fault({"code": "709", "name": "02 - Marketing Qualified", "message": "Campaign name is reserved"})
    with pytest.raises(ProgramkitError) as info:
        apply_sample(ws, bundle)
    codes = [f.code for f in info.value.findings]
    assert codes == ["PK803", "PK811"]
    assert "Marketo 709 on POST /rest/asset/v1/smartCampaigns.json: Campaign name is reserved" in info.value.message
    journal = Journal.load(ws.state_dir)
    assert journal.data["status"] == "failed"
    assert [s["name"] for s in journal.data["steps"] if s["kind"] == "smartCampaign" and s["op"] == "create"] == [
        "01 - Sync New People to CRM"]


def test_5xx_mid_import_then_resume_finishes_without_duplicates(fake, tmp_path, bundle):
    c = MarketoClient(fake.url, CLIENT_ID, SECRET, Limits(calls=50, window=1.0, retries=0, backoff=0.01))
    ws = MarketoWorkspace(fake.url, client=c, state_dir=tmp_path / "state")
    fake.add_fault({"http": 500, "call": 12})
    with pytest.raises(ProgramkitError) as info:
        apply_sample(ws, bundle)
    assert info.value.findings[-1].code == "PK811"
    done = len(Journal.load(ws.state_dir).data["steps"])
    assert 0 < done
    ws2 = MarketoWorkspace(fake.url, client=c, state_dir=tmp_path / "state")
    ws2.resume()
    apply_sample(ws2, bundle)
    snap = fake.snapshot()
    assert snap["programs"] == ["OP-Lead Management"]
    assert snap["assets"]["smartCampaign"] == ["01 - Sync New People to CRM", "02 - Marketing Qualified"]
    assert snap["assets"]["email"] == ["01 - Email - ALERT - MQL"]
    assert Journal.load(ws.state_dir).data["status"] == "complete"


def test_rollback_deletes_what_the_import_created_newest_first(fake, ws, bundle):
    apply_sample(ws, bundle)
    done = rollback(ws)
    assert done.left == [] and done.journal.data["status"] == "rolled-back"
    assert [r.outcome for r in ws.history()] == ["rolled-back"]
    snap = fake.snapshot()
    assert snap["programs"] == [] and all(v == [] for v in snap["assets"].values())
    assert not any("OP-Lead Management" in f for f in snap["folders"])


def test_rollback_reports_what_the_api_cannot_delete(fake, ws):
    with ws.transaction() as w:
        w.put_asset("image", "logo.png", b"\x89PNG", "0" * 64)
    done = rollback(ws)
    assert [f.code for f in done.left] == ["PK812"]
    assert "cannot be deleted through the Marketo API" in done.left[0].message
    assert done.journal.data["status"] == "partially-rolled-back"


def test_preflight_lists_everything_marketo_cannot_take_at_once(ws):
    b = types.SimpleNamespace(
        program={"name": "X", "type": "default", "tags": {"Region": "Mars", "Budget": "High"},
                 "tokens": [{"name": "Logo", "type": "image", "value": "x.png"},
                            {"name": "Count", "type": "number", "value": 3}]},
        requires={"webhooks": ["Slack MQL"]},
        assets=[types.SimpleNamespace(kind="leadLifecycle", name="Referral", pointer="/assets/0")])
    got = [(f.code, f.message) for f in ws.preflight(b)]
    assert got == [
        ("PK808", "tag 'Budget' = 'High' does not exist in Marketo"),
        ("PK808", "tag 'Region' = 'Mars' does not exist in Marketo"),
        ("PK810", "token {{my.Logo}} of type 'image' cannot be created through the Marketo API"),
        ("PK809", "leadLifecycle 'Referral' cannot be written through the Marketo API (Revenue Cycle Modeler has "
                  "none): it goes to the manual-steps checklist"),
        ("PK806", "webhooks cannot be read through the Marketo API: required webhook 'Slack MQL' not checked"),
    ]


def test_secret_never_appears_in_any_output_or_file(tmp_path):
    """Run the server and an import (with a 709 and a token expiry) as real processes; grep everything."""
    server = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fake_marketo.py"), "--port", "0",
                               "--client-id", CLIENT_ID, "--client-secret", SECRET, "--rate-window", "1",
                               "--rate-limit", "50"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        assert line.startswith("fake-marketo listening on http://127.0.0.1:")
        url = line.split()[-1]
        script = f"""
import json, sys, urllib.request
sys.path.insert(0, {str(ROOT / 'tests')!r})
from marketo_support import apply_sample, FAST
from programkit.load import load_bundle
from programkit.workspaces.marketo import MarketoWorkspace
from programkit.workspaces.marketo.journal import rollback
from programkit.workspaces.marketo.client import MarketoClient
ws = MarketoWorkspace({url!r}, client=MarketoClient.from_env({url!r}, FAST), state_dir={str(tmp_path / 'state')!r})
b = load_bundle({str(SAMPLE)!r}).bundle
print(ws.preflight(b), ws.notes, repr(ws.client))
urllib.request.urlopen(urllib.request.Request({url!r} + "/_fake/faults", method="POST",
    data=json.dumps([{{"expireTokens": True}}, {{"code": "709", "name": "01 - Email - ALERT - MQL"}}]).encode()))
try:
    apply_sample(ws, b)
except Exception as e:
    print("error:", e, e.findings)
    raise
"""
        env = {"MARKETO_CLIENT_ID": CLIENT_ID, "MARKETO_CLIENT_SECRET": SECRET, "PATH": "/usr/bin:/bin"}
        run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                             timeout=60, cwd=tmp_path)
        assert run.returncode == 1 and "Marketo 709 on POST /rest/asset/v1/emails.json" in run.stdout
        assert "Traceback" in run.stderr  # the traceback printed, secret-free
    finally:
        server.terminate()
        out, err = server.communicate(timeout=10)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.parent.name == "journals" for p in files)
    texts = [run.stdout, run.stderr, line, out, err] + [p.read_text(errors="replace") for p in files]
    assert not [t for t in texts if SECRET in t]


def test_rollback_command(fake, ws, bundle, invoke, marketo_env, monkeypatch):
    monkeypatch.setenv("PROGRAMKIT_MARKETO_RATE", "50/1")
    apply_sample(ws, bundle)
    listed = invoke("rollback", "--target", fake.url, "--list")
    assert listed.exit_code == 0
    assert [line.split()[1:3] for line in listed.output.splitlines()] == [["complete", "7"]]
    result = invoke("rollback", "--target", fake.url)
    assert result.exit_code == 0, result.output
    # program, 2 folders, template, email, 2 campaigns
    assert result.output.startswith("rolled back journal ") and "7 item(s) deleted" in result.output
    assert fake.snapshot()["programs"] == [] and fake.snapshot()["assets"]["emailTemplate"] == []
    assert SECRET not in result.output
    again = invoke("rollback", "--target", fake.url)
    assert again.exit_code == 1 and "no import journal" in again.output


def test_rollback_command_needs_a_marketo_url_and_credentials(invoke, monkeypatch):
    monkeypatch.delenv("MARKETO_CLIENT_SECRET", raising=False)
    assert invoke("rollback", "--target", "programkit.db").exit_code == 2
    result = invoke("rollback", "--target", "https://123-abc-456.mktorest.com")
    assert result.exit_code == 2 and "PK801" in result.output


def test_a_journal_cut_short_by_a_crash_still_resumes(fake, ws, bundle):
    fake.add_fault({"code": "709", "name": "02 - Marketing Qualified"})
    with pytest.raises(ProgramkitError):
        apply_sample(ws, bundle)
    [path] = (ws.state_dir / "journals").glob("*.jsonl")
    with path.open("a") as f:
        f.write('{"event": "step", "key": "asset:sma')  # the process died mid-write
    fake.faults.clear()
    ws.resume()
    apply_sample(ws, bundle)
    assert fake.snapshot()["assets"]["smartCampaign"] == ["01 - Sync New People to CRM", "02 - Marketing Qualified"]
    assert Journal.load(ws.state_dir).data["status"] == "complete"


@pytest.mark.parametrize("endpoint", ["programs.json", "folders.json", "emailTemplates.json", "emails.json",
                                      "smartCampaigns.json"])
def test_a_lost_answer_to_a_create_is_adopted_not_duplicated(fake, ws, bundle, endpoint):
    fake.add_fault({"http": 502, "path": f"POST /rest/asset/v1/{endpoint}", "after": True})
    apply_sample(ws, bundle)  # the client retries; Marketo says "name in use"; the item is adopted
    snap = fake.snapshot()
    assert fake.stats["http"] == {"502": 1}
    assert snap["programs"] == ["OP-Lead Management"]
    assert snap["assets"] == {"emailTemplate": ["Quick Start Email Template"], "email": ["01 - Email - ALERT - MQL"],
                              "smartCampaign": ["01 - Sync New People to CRM", "02 - Marketing Qualified"]}
    steps = Journal.load(ws.state_dir).data["steps"]
    assert sum(1 for s in steps if s.get("adopted")) == 1
    rollback(ws)
    assert fake.snapshot()["programs"] == [] and fake.snapshot()["assets"]["email"] == []


def test_a_name_taken_by_someone_else_is_not_adopted(fake, ws, bundle):
    fake.assets["emailTemplate"][1] = {"id": 1, "name": "Quick Start Email Template", "folder": {"id": 3, "type": "Folder"},
                                       "createdAt": "2020-01-01T00:00:00Z+0000", "updatedAt": "2020-01-01T00:00:00Z+0000",
                                       "_content": b"x", "status": "approved"}
    with pytest.raises(ProgramkitError) as info:
        apply_sample(ws, bundle)
    assert "Marketo 709 on POST /rest/asset/v1/emailTemplates.json" in info.value.message


def test_resume_after_a_lost_create_adopts_it(fake, tmp_path, bundle, monkeypatch):
    monkeypatch.setenv("PROGRAMKIT_STATE_DIR", str(tmp_path / "state"))
    c = MarketoClient(fake.url, CLIENT_ID, SECRET, Limits(calls=50, window=1.0, retries=0))
    fake.add_fault({"http": 502, "path": "POST /rest/asset/v1/emails.json", "after": True})
    with pytest.raises(ProgramkitError) as info:
        apply_sample(MarketoWorkspace(fake.url, client=c), bundle)
    assert [f.code for f in info.value.findings] == ["PK804", "PK811"]
    ws = MarketoWorkspace(fake.url, client=c)
    ws.resume()
    apply_sample(ws, bundle)
    assert fake.snapshot()["assets"]["email"] == ["01 - Email - ALERT - MQL"]
    assert [s["name"] for s in Journal.load(ws.state_dir).data["steps"] if s.get("adopted")] == [
        "01 - Email - ALERT - MQL"]


def test_bulk_design_assets_are_created_side_by_side(fake, ws):
    fake.latency = 0.02
    items = [("emailTemplate", f"T{i}", f"<html>{i}</html>".encode(), f"{i:064d}", None, {}) for i in range(12)]
    items += [("snippet", f"S{i}", f"<p>{i}</p>".encode(), f"{i:064x}", None, {}) for i in range(6)]
    with ws.transaction() as w:
        w.put_assets(items)
    snap = fake.snapshot()
    assert snap["assets"]["emailTemplate"] == sorted(f"T{i}" for i in range(12))
    assert snap["assets"]["snippet"] == sorted(f"S{i}" for i in range(6))
    assert 1 < fake.stats["maxActive"] <= 10
    assert {s.name: s.sha256 for s in ws.design_assets("emailTemplate", ["T3"]).values()} == {"T3": f"{3:064d}"}
    assert {a["name"]: a["_content"] for a in fake.assets["snippet"].values()}["S4"] == b"<p>4</p>"


def test_workspace_show_reads_a_big_instance_in_few_calls(fake, ws, bundle, invoke, marketo_env, monkeypatch):
    apply_sample(ws, bundle)
    for i in range(30):  # 30 more programs: one pass over the instance, not two calls per program
        pid = fake.new_id("program")
        fake.programs[pid] = {"id": pid, "name": f"P{i:02d}", "type": "Default", "channel": "Operational",
                              "folder": {"id": 1, "type": "Folder"}, "tags": [], "costs": [],
                              "_path": f"/Marketing Activities/P{i:02d}"}
    monkeypatch.setenv("PROGRAMKIT_MARKETO_RATE", "50/1")
    before = fake.stats["accepted"]
    result = invoke("workspace", "show", "--target", fake.url)
    assert result.exit_code == 0, result.output
    assert "  webhooks                    n/a" in result.output
    assert "  smart campaigns               2" in result.output
    assert "OP-Lead Management (default, Operational; 1 email, 2 smartCampaign; from op-lead-management 1.0.0; " \
        "5 assets recorded as needing manual completion)" in result.output
    # one pass over the instance per program kind the target reads (emails, campaigns, the kind modules')
    assert fake.stats["accepted"] - before <= 13 + len(ws.program_kinds())


def test_only_the_selected_marketo_workspace_is_seen(fake, client, tmp_path):
    fake.assets["emailTemplate"][1] = {"id": 1, "name": "Partner Template", "folder": {"id": 3, "type": "Folder"},
                                       "workspace": "Partners", "createdAt": "", "updatedAt": "", "_content": b"x"}
    default = MarketoWorkspace(fake.url, client=client, state_dir=tmp_path / "d")
    partners = MarketoWorkspace(fake.url, "Partners", client=client, state_dir=tmp_path / "p")
    assert default.design_names("emailTemplate", "Partner Template") == set()
    assert partners.design_names("emailTemplate", "Partner Template") == {"Partner Template"}
