"""`programkit verify --target URL`: the manual steps an import left, checked against what (the stand-in) Marketo
holds after an admin worked through the checklist (the stand-in's admin-edit hook)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from bundle_edits import CAMPAIGN_01, CAMPAIGN_02, EMAIL
from marketo_support import SECRET, fake, cli_env, marketo_env, marketo_rules  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "op-lead-management"
C01, C02, MAIL = "01 - Sync New People to CRM", "02 - Marketing Qualified", "01 - Email - ALERT - MQL"
NO_FLOW = "            (Marketo's REST API has no flow endpoint: check it in the UI)"


@pytest.fixture
def env(cli_env):
    return cli_env


def _sample(rel: str) -> Any:
    return json.loads((SAMPLE / rel).read_text(encoding="utf-8"))


def _import(invoke, fake) -> None:
    result = invoke("import", str(SAMPLE), "--target", fake.url, "--yes")
    assert result.exit_code == 0, result.output


def _complete(fake, *, but: dict[str, Any] | None = None) -> None:
    """Do every step of the checklist the API can see, as the Marketo UI stores it (``but``: campaign 02's
    smart list instead of the bundle's)."""
    fake.complete_campaign(C01, marketo_rules(_sample(CAMPAIGN_01)["smartList"]), isActive=True)
    fake.complete_campaign(C02, marketo_rules(but or _sample(CAMPAIGN_02)["smartList"]), isActive=True)
    fake.set_email(MAIL, text=_sample(EMAIL)["text"])
    for kind in ("emailTemplate", "email"):  # approved in the UI (the import ran without --approve)
        for rec in fake.assets[kind].values():
            rec["status"] = "approved"


def _block(output: str, header: str) -> list[str]:
    lines = output.splitlines()
    start = lines.index(header)
    return lines[start:lines.index("", start)]


def test_partial_completion_says_which_steps_are_done_and_what_differs(fake, env, invoke):
    _import(invoke, fake)
    sl = _sample(CAMPAIGN_02)["smartList"]
    sl["filters"][1]["values"] = ["MQL", "SQL"]  # the admin forgot Customer
    del sl["filters"][2]  # and the Email Address filter
    _complete(fake, but=sl)
    next(iter(fake.assets["email"].values()))["status"] = "draft"  # edited after its approval, not approved again
    result = invoke("verify", "--target", fake.url)
    assert result.exit_code == 1, result.output
    assert _block(result.output, f"smartCampaign '{C02}' (id 1002; import #1)")[1:] == [
        '  done      Smart List: add trigger "Score is Changed" with Score Name is Person Score; New Score at least '
        '{{my.MQL Score Threshold}}',
        '  done      Smart List: add filter 1 "Person Score" at least {{my.MQL Score Threshold}}',
        '  DIFFERS   Smart List: add filter 2 "Person Status" is not MQL, SQL, Customer',
        '            expected: filter 2 "Person Status" is not MQL, SQL, Customer',
        '            found:    filter 2 "Person Status" is not MQL, SQL',
        '  NOT DONE  Smart List: add filter 3 "Email Address" is not empty',
        '            expected: filter 3 "Email Address" is not empty',
        '            found:    no filter "Email Address" (Marketo has "Person Score", "Person Status")',
        '  done      Smart List: set rule logic to Use ALL filters',
        '  manual    Flow: add step 1 "Change Data Value" (attribute="Person Status", newValue="MQL")',
        NO_FLOW,
        '  manual    Flow: add step 2 "Sync Person to SFDC" (assignTo="Use Auto-Assignment Rules")',
        '  manual    Flow: add step 3 "Send Alert" (email="01 - Email - ALERT - MQL", sendTo=[], '
        'sendToOwner="Person Owner")',
        '  manual    Flow: add step 4 "Change Program Status" (newStatus="01-Member", program="OP-Lead Management")',
        '  done      Schedule: set qualification rule to "once"',
        '  done      Schedule: leave off communication limits',
        '  done      Schedule: activate the campaign (after the steps above)']
    # the text version and the modules were written through the API: only the approval is left to check
    assert _block(result.output, f"email '{MAIL}' (id 1001; import #1)")[1:] == [
        "  NOT DONE  Approve the email (import with --approve to let programkit do it)",
        "            expected: approved",
        "            found:    not approved (status draft)"]
    # campaign 01 is complete: every step it can read is done, its flow is not claimed
    c01 = _block(result.output, f"smartCampaign '{C01}' (id 1001; import #1)")
    assert [line.split()[0] for line in c01[1:] if not line.startswith("            ")] == \
        ["done"] * 4 + ["manual"] * 3 + ["done"] * 3
    assert all(line.startswith("  manual    Flow:") for line in c01 if "Flow:" in line)
    tail = result.output.split("\n\n")[-1].splitlines()
    assert tail[:2] == [
        "Checked 5 asset(s) against Marketo: 14 step(s) done, 3 not done or different, 19 the API cannot read "
        "(left to check in the UI).",
        "PK823 [marketo-step-not-done] 3 step(s) the API can read are not done in Marketo as the bundle asks "
        "(above)."]
    assert tail[3] == "Import #1 is recorded as needs-manual-completion in the history."
    history = invoke("history", "--target", fake.url).output.splitlines()
    assert " needs-manual-completion op-lead-management 1.0.0 " in history[0]
    assert history[1].startswith("      checked against Marketo at 2") and history[1].endswith("(`programkit verify`):")
    assert history[3] == (f"        smartCampaign '{C02}' (id 1002): 12 steps: 6 done, 2 not done or different, "
                          "4 the API cannot read (check them in the UI)")


def test_extra_rules_other_settings_and_an_inactive_campaign_are_shown_as_found(fake, env, invoke):
    _import(invoke, fake)
    sl = _sample(CAMPAIGN_01)["smartList"]
    sl["filters"].append({"filter": "Country", "operator": "is", "values": ["US"]})
    sl["ruleLogic"] = "any"
    _complete(fake)
    fake.complete_campaign(C01, marketo_rules(sl), isActive=False, qualificationRuleType="any",
                           isCommunicationLimitEnabled=True)
    result = invoke("verify", "--target", fake.url, "OP-Lead Management")
    assert result.exit_code == 1, result.output
    lines = _block(result.output, f"smartCampaign '{C01}' (id 1001; import #1)")
    assert [line for line in lines if not line.startswith(("  done", "  manual", NO_FLOW))][1:] == [
        '  EXTRA     Smart List: filter 3 ("Country" is US) is in Marketo, not in the bundle',
        '            expected: no filter "Country"',
        '            found:    filter 3 "Country" is US',
        '  DIFFERS   Smart List: set rule logic to Use ALL filters',
        '            expected: Use ALL filters',
        '            found:    Use ANY filters',
        '  DIFFERS   Schedule: set qualification rule to "once"',
        '            expected: qualification rule "once"',
        '            found:    qualification rule "every time"',
        '  DIFFERS   Schedule: leave off communication limits',
        '            expected: communication limits off',
        '            found:    communication limits on',
        '  NOT DONE  Schedule: activate the campaign (after the steps above)',
        '            expected: active',
        '            found:    inactive']


def test_full_completion_exits_0_and_records_verified_without_claiming_flows(fake, env, invoke):
    _import(invoke, fake)
    _complete(fake)
    result = invoke("verify", "--target", fake.url)
    assert result.exit_code == 0, result.output
    assert "NOT DONE" not in result.output and "DIFFERS" not in result.output and "PK823" not in result.output
    assert not any(line.startswith("  done") and ("Flow:" in line or "modules" in line or "Approve the model" in line)
                   for line in result.output.splitlines())
    tail = result.output.split("\n\n")[-1].splitlines()
    # 15 campaign steps and 2 approvals done; the modules and text version were written through the API
    assert tail[0] == ("Checked 5 asset(s) against Marketo: 17 step(s) done, 0 not done or different, 19 the API "
                       "cannot read (left to check in the UI).")
    assert tail[1] == ("PK824 [marketo-step-unconfirmable] 19 step(s) cannot be checked through the API (7 flow, "
                       "12 lead lifecycle): they stay manual and are never recorded as done.")
    assert tail[2] == "Import #1 is recorded as verified-except-manual in the history."
    history = invoke("history", "--target", fake.url).output.splitlines()
    assert " verified-except-manual op-lead-management 1.0.0  -> 'OP-Lead Management'  (11 create, 1 reuse)" \
        in history[0]
    assert history[2:7] == [
        f"        smartCampaign '{C01}' (id 1001): 10 steps: 7 done, 0 not done or different, 3 the API cannot "
        "read (check them in the UI)",
        f"        smartCampaign '{C02}' (id 1002): 12 steps: 8 done, 0 not done or different, 4 the API cannot "
        "read (check them in the UI)",
        f"        email '{MAIL}' (id 1001): 1 step: 1 done, 0 not done or different, 0 the API cannot read "
        "(check them in the UI)",
        "        emailTemplate 'Quick Start Email Template' (id 1001): 1 step: 1 done, 0 not done or different, 0 the "
        "API cannot read (check them in the UI)",
        "        leadLifecycle 'Lead Lifecycle' (not written): 12 steps: 0 done, 0 not done or different, 12 the API "
        "cannot read (check them in the UI)"]
    data = json.loads(invoke("history", "--target", fake.url, "--format", "json").output)
    assert data[0]["outcome"] == "verified-except-manual"
    assert data[0]["manualCompletion"]["verification"]["items"][0] == {
        "kind": "smartCampaign", "name": C01, "marketoId": 1001, "done": 7, "notDone": 0, "manual": 3}
    assert "expect" not in json.dumps(data)  # the bundle intent stays in the history file, not in the listing
    # the provenance still comes from this import, and a re-import has nothing new to remind of
    again = invoke("import", str(SAMPLE), "--target", fake.url, "--yes")
    assert "No changes" in again.output and "Still recorded as needing manual completion" not in again.output
    # someone deactivates a campaign: the next check says so and the import needs completion again
    fake.complete_campaign(C02, isActive=False)
    back = invoke("verify", "--target", fake.url, "--import", "1", "--format", "json")
    assert back.exit_code == 1
    found = json.loads(back.output)
    assert found["ok"] is False and found["imports"] == [{"id": 1, "outcome": "needs-manual-completion"}]
    c02 = next(i for i in found["items"] if i["name"] == C02)
    assert [c for c in c02["checks"] if c["status"] != "done" and c["status"] != "manual"] == [
        {"status": "missing", "step": "Schedule: activate the campaign (after the steps above)",
         "expected": "active", "found": "inactive"}]
    assert {c["status"] for c in c02["checks"] if c["step"].startswith("Flow:")} == {"manual"}


def test_a_deleted_campaign_is_not_done_and_bad_requests_exit_2(fake, env, invoke, tmp_path):
    _import(invoke, fake)
    _complete(fake)
    with fake.lock:
        del fake.assets["smartCampaign"][1002]
    result = invoke("verify", "--target", fake.url)
    assert result.exit_code == 1
    c02 = _block(result.output, f"smartCampaign '{C02}' (id 1002; import #1)")
    assert c02[1:4] == [
        '  NOT DONE  Smart List: add trigger "Score is Changed" with Score Name is Person Score; New Score at least '
        '{{my.MQL Score Threshold}}',
        '            expected: trigger "Score is Changed" with Score Name is Person Score; New Score at least '
        '{{my.MQL Score Threshold}}',
        '            found:    no smartCampaign with id 1002 in the program in Marketo (deleted, or moved out of it?)']
    other = invoke("verify", "--target", fake.url, "Another Program")
    assert other.exit_code == 2
    assert "PK825 [marketo-nothing-to-verify] no import of program 'Another Program' recorded" in other.output
    missing = invoke("verify", "--target", fake.url, "--import", "7")
    assert missing.exit_code == 2 and "error: no import #7 in the history of" in missing.output
    local = invoke("verify", "--target", str(tmp_path / "w.db"))
    assert local.exit_code == 2 and "is not a Marketo REST URL" in local.output


def test_nothing_recorded_is_nothing_to_verify(fake, env, invoke):
    result = invoke("verify", "--target", fake.url)
    assert result.exit_code == 0
    assert result.output == (f"Nothing to verify: no import into {fake.url} (workspace 'Default') left manual "
                             "steps.\n")


def test_the_installed_script_verifies_after_an_admin_edits_over_http_and_never_prints_the_secret(fake, env,
                                                                                                  tmp_path):
    script = shutil.which("programkit") or str(Path(sys.executable).parent / "programkit")
    if not Path(script).exists():
        pytest.skip("console script not installed")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([script, *args], capture_output=True, text=True, env=os.environ.copy(), timeout=120,
                              cwd=tmp_path)

    def admin(edit: dict[str, Any]) -> None:  # what an admin does in the Marketo UI, through the stand-in's hook
        req = urllib.request.Request(f"{fake.url}/_fake/edit", data=json.dumps(edit).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 200

    assert run("import", str(SAMPLE), "--target", fake.url, "--yes").returncode == 0
    before = run("verify", "--target", fake.url)
    assert before.returncode == 1 and "PK823 [marketo-step-not-done] 13 step(s)" in before.stdout
    for name, rel in ((C01, CAMPAIGN_01), (C02, CAMPAIGN_02)):
        admin({"campaign": name, "rules": marketo_rules(_sample(rel)["smartList"]), "fields": {"isActive": True}})
    admin({"email": MAIL, "text": _sample(EMAIL)["text"]})
    admin({"approve": "emailTemplate", "name": "Quick Start Email Template"})
    admin({"approve": "email", "name": MAIL})
    after = run("verify", "--target", fake.url)
    assert after.returncode == 0, after.stdout + after.stderr
    assert "Import #1 is recorded as verified-except-manual in the history." in after.stdout
    history = run("history", "--target", fake.url)
    assert " verified-except-manual " in history.stdout
    texts = [before.stdout, before.stderr, after.stdout, after.stderr, history.stdout, history.stderr]
    texts += [p.read_text(encoding="utf-8", errors="replace") for p in env.rglob("*") if p.is_file()]
    assert not any(SECRET in t for t in texts)


def test_an_upgrade_that_changed_a_campaign_is_checked_against_the_new_bundle(fake, env, invoke, sample_copy):
    from programkit.canonical import refresh_digests

    assert invoke("import", str(sample_copy), "--target", fake.url, "--yes").exit_code == 0
    _complete(fake)
    data = json.loads((sample_copy / "bundle.json").read_text())
    data["version"] = "1.1.0"
    (sample_copy / "bundle.json").write_text(json.dumps(data, indent=2))
    doc = json.loads((sample_copy / CAMPAIGN_02).read_text())
    doc["smartList"]["filters"][0]["values"] = ["100"]
    (sample_copy / CAMPAIGN_02).write_text(json.dumps(doc, indent=2))
    refresh_digests(sample_copy)
    up = invoke("import", str(sample_copy), "--target", fake.url, "--yes")
    assert up.exit_code == 0 and "- [ ] Review: the bundle changed this campaign" in up.output
    result = invoke("verify", "--target", fake.url)
    assert result.exit_code == 1
    c02 = _block(result.output, f"smartCampaign '{C02}' (id 1002; import #2)")
    assert "Review:" not in "\n".join(c02)  # a heading of the checklist, not a step Marketo could hold
    assert c02[2:5] == ['  DIFFERS   Smart List: add filter 1 "Person Score" at least 100',
                        '            expected: filter 1 "Person Score" at least 100',
                        '            found:    filter 1 "Person Score" at least {{my.MQL Score Threshold}}']
    # import #1's item for this campaign is superseded: checked once, as import #2's
    assert f"smartCampaign '{C02}' (id 1002; import #1)" not in result.output
    assert "Import #1 is recorded as verified-except-manual in the history." in result.output
    assert "Import #2 is recorded as needs-manual-completion in the history." in result.output


def test_an_import_recorded_without_the_bundles_intent_is_unchecked_not_passed(fake, env, invoke):
    _import(invoke, fake)
    _complete(fake)
    (history,) = (env / "marketo").rglob("history.json")
    rows = json.loads(history.read_text())
    for item in rows[0]["checklist"]:
        item.pop("expect", None)  # as an import recorded before verify existed
    history.write_text(json.dumps(rows))
    result = invoke("verify", "--target", fake.url)
    assert result.exit_code == 1
    c01 = _block(result.output, f"smartCampaign '{C01}' (id 1001; import #1)")
    assert c01[1:3] == ['  UNCHECKED Smart List: add trigger "Person is Created"',
                        "            (this import was recorded before programkit kept what each step asks for, so "
                        "there is nothing to compare with: import the bundle again as a new program, or check this "
                        "step in the UI)"]
    assert "Import #1 is recorded as needs-manual-completion in the history." in result.output
