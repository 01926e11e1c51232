"""Apply into the stand-in Marketo: concurrent batches, keep-both copy reuse, honest output, local history."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from programkit.apply import apply_plan
from programkit.workspaces.marketo import MarketoWorkspace

from import_helpers import PNG, add_asset, import_into, plan_for
from marketo_support import client, fake, cli_env, marketo_env  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "op-lead-management"


@pytest.fixture
def ws(fake, client, tmp_path, monkeypatch):
    monkeypatch.setenv("PROGRAMKIT_STATE_DIR", str(tmp_path / "state"))
    return MarketoWorkspace(fake.url, client=client)


def fresh(ws: MarketoWorkspace) -> MarketoWorkspace:
    """The same instance read afresh, as the next command would."""
    return MarketoWorkspace(ws.url, client=ws.client, state_dir=ws.state_dir)


def _theirs(fake, name: str, content: bytes) -> None:
    """A file someone else uploaded to the instance's Images and Files."""
    from fake_marketo import _design_create

    _design_create(fake, "file", {"name": name, "folder": {"id": 4, "type": "Folder"}}, content,
                   mimeType="image/png", size=len(content))


# -- 2. an earlier identical keep-both copy is reused on Marketo as on SQLite -----------------------------


def test_an_earlier_identical_copy_of_an_image_is_reused_not_copied_again(fake, ws, sample_copy):
    _theirs(fake, "logo.png", b"their logo")
    add_asset(sample_copy, "image", "logo.png", "design-studio/logo.png", PNG, mimeType="image/png")
    plan, _ = import_into(sample_copy, ws)
    assert [(a.action, a.as_name) for a in plan.actions if a.kind == "image"] == [("rename", "logo - 1.png")]
    assert sorted(f["name"] for f in fake.assets["file"].values()) == ["logo - 1.png", "logo.png"]

    # the same bundle again as another program (keepBoth): the copy holds these bytes already
    again, _ = import_into(sample_copy, fresh(ws), as_name="OP-Lead Management 2")
    (image,) = [a for a in again.actions if a.kind == "image"]
    assert (image.action, image.as_name) == ("reuse", "logo - 1.png")
    assert image.reason == "identical content (same sha256) already in the workspace as 'logo - 1.png'"
    assert sorted(f["name"] for f in fake.assets["file"].values()) == ["logo - 1.png", "logo.png"]
    assert sorted(p["name"] for p in fake.programs.values()) == ["OP-Lead Management", "OP-Lead Management 2"]


def test_design_names_finds_image_copies_in_the_form_marketo_and_the_plan_use(fake, ws):
    for name in ("logo.png", "logo - 1.png", "LOGO.png - 3", "logo - x.png", "logo2.png", "logo - 2.gif"):
        _theirs(fake, name, name.encode())
    assert ws.design_names("image", "Logo.PNG") == {"logo.png", "logo - 1.png", "LOGO.png - 3"}


# -- 1. apply hands independent creates over in batches, in dependency order ---------------------------------


def _more_campaigns(bundle_dir: Path, n: int) -> list[str]:
    """n more campaigns (copies of the sample's first, in their own folder) after the sample's assets."""
    body = (SAMPLE / "campaigns" / "01-sync-new-people-to-crm.json").read_bytes()
    names = [f"{i:02d} - Extra Campaign" for i in range(3, 3 + n)]
    for name in names:
        add_asset(bundle_dir, "smartCampaign", name, f"campaigns/{name[:2]}-extra.json", body, folder="Extra")
    data = json.loads((bundle_dir / "bundle.json").read_text())
    data["program"]["folders"].append({"name": "Extra"})
    (bundle_dir / "bundle.json").write_text(json.dumps(data, indent=2))
    from programkit.canonical import refresh_digests

    refresh_digests(bundle_dir)
    return names


def test_apply_hands_creates_over_in_batches_in_dependency_order(fake, ws, sample_copy, monkeypatch):
    from programkit.workspaces.marketo import Journal, MarketoWriter

    extra = _more_campaigns(sample_copy, 8)
    add_asset(sample_copy, "image", "logo.png", "design-studio/logo.png", PNG, mimeType="image/png")
    calls: list[tuple[str, list[str], bool]] = []
    batch, single = MarketoWriter.put_assets, MarketoWriter.put_asset

    def spy_batch(self, items, *, program_id=None):
        calls.append(("batch", [f"{i[0]} {i[1]}" for i in items], program_id is not None))
        return batch(self, items, program_id=program_id)

    def spy_single(self, kind, name, *args, **kw):
        if not any(name in c[1] or f"{kind} {name}" in c[1] for c in calls):  # not one of a batch's creates
            calls.append(("single", [f"{kind} {name}"], kw.get("program_id") is not None))
        return single(self, kind, name, *args, **kw)

    monkeypatch.setattr(MarketoWriter, "put_assets", spy_batch)
    monkeypatch.setattr(MarketoWriter, "put_asset", spy_single)
    fake.latency = 0.01
    plan, record = import_into(sample_copy, ws)
    assert calls == [
        ("batch", ["emailTemplate Quick Start Email Template", "image logo.png"], False),
        ("batch", ["smartCampaign 01 - Sync New People to CRM", "smartCampaign 02 - Marketing Qualified",
                   "email 01 - Email - ALERT - MQL"], True),
        ("single", ["leadLifecycle Lead Lifecycle"], True),  # it names the campaigns before it: after them
        ("batch", [f"smartCampaign {n}" for n in extra], True)]
    snap = fake.snapshot()
    assert snap["assets"]["smartCampaign"] == sorted(["01 - Sync New People to CRM", "02 - Marketing Qualified",
                                                       *extra])
    assert record.outcome == "needs-manual-completion"
    # every create is journalled, and the checklist keeps the bundle's order whatever order the calls finished in
    steps = Journal.load(ws.state_dir).data["steps"]
    assert sorted(s["name"] for s in steps if s["op"] == "create" and s["kind"] == "smartCampaign") == \
        snap["assets"]["smartCampaign"]
    assert [i["name"] for i in ws.checklist] == ["01 - Sync New People to CRM", "02 - Marketing Qualified",
                                                 "01 - Email - ALERT - MQL", "Quick Start Email Template",
                                                 "Lead Lifecycle", *extra]
    # the mapping gives every created asset its own Marketo id
    ids = {m["bundleName"]: m["workspaceId"] for m in record.mapping if m["kind"] == "smartCampaign"}
    names = {a["id"]: a["name"] for a in fake.assets["smartCampaign"].values()}
    from programkit.workspaces.marketo import split_id

    assert {b: names[split_id(i)[1]] for b, i in ids.items()} == {n: n for n in ids}
    # and nothing is left to do
    assert plan_for(sample_copy, fresh(ws))[0].nothing_to_do


def test_a_failure_in_a_batch_stops_it_and_resume_finishes_without_duplicates(fake, ws, sample_copy):
    from programkit.errors import ProgramkitError
    from programkit.workspaces.marketo import resume_import
    from programkit.workspaces.marketo.journal import rollback

    extra = _more_campaigns(sample_copy, 20)
    fake.add_fault({"code": "709", "name": "05 - Extra Campaign", "message": "Name is reserved"})
    plan, bundle = plan_for(sample_copy, ws)
    with pytest.raises(ProgramkitError) as info:
        apply_plan(plan, bundle, ws)
    assert [f.code for f in info.value.findings] == ["PK803", "PK811"]
    assert "Marketo 709 on POST /rest/asset/v1/smartCampaigns.json: Name is reserved" in info.value.message
    fake.faults.clear()
    record = resume_import(fresh(ws), bundle)
    assert record.outcome == "needs-manual-completion"
    names = [a["name"] for a in fake.assets["smartCampaign"].values()]
    assert sorted(names) == sorted(["01 - Sync New People to CRM", "02 - Marketing Qualified", *extra])
    done = rollback(fresh(ws))
    assert done.left == [] and fake.snapshot()["programs"] == [] and not fake.assets["smartCampaign"]


# -- 3. honest output: a no-op re-import says nothing to do, and once what is still left -------------------

FIRST = ("Imported op-lead-management 1.0.0 into workspace 'Default' as program 'OP-Lead Management' (import #1, "
         "10 changes; 1 leadLifecycle on the checklist instead: the API cannot write it).")
STILL = ("Still recorded as needing manual completion (import #1; `programkit verify` checks what the API can read): "
         "smartCampaign '01 - Sync New People to CRM', '02 - Marketing Qualified'; email '01 - Email - ALERT - MQL'; "
         "emailTemplate 'Quick Start Email Template'; leadLifecycle 'Lead Lifecycle'.")


@pytest.fixture
def env(cli_env):
    return cli_env


def test_a_noop_reimport_says_nothing_to_do_and_once_what_is_still_left(fake, env, invoke, tmp_path):
    first = invoke("import", str(SAMPLE), "--target", fake.url, "--yes")
    assert first.exit_code == 0, first.output
    assert FIRST in first.output.splitlines()
    assert "PK809 [marketo-manual-steps] leadLifecycle 'Lead Lifecycle' cannot be written" in first.output
    assert STILL not in first.output  # the checklist itself is printed: these steps are this import's
    second = invoke("import", str(SAMPLE), "--target", fake.url, "--yes")
    assert second.exit_code == 0, second.output
    out = second.output
    assert "No changes: op-lead-management 1.0.0 is already imported (nothing to do)." in out
    assert "PK809" not in out and "Manual steps" not in out and "- [ ]" not in out
    assert re.search(r"^Marketo API: [0-9]+ call\(s\) to plan; applying needs none\.$", out, re.M), out
    (checklist,) = (env / "marketo").rglob("checklists/*.md")
    assert out.split("Recorded as import #2 in the history; nothing else was written.\n")[1] == (
        f"{STILL}\nChecklist: {checklist}\n`programkit history --target {fake.url}` lists them.\n")
    # the plan alone says the same about the lifecycle: nothing new is left
    assert "PK809" not in invoke("plan", str(SAMPLE), "--target", fake.url).output
    # the embedded target holds the lifecycle: it counts, with the same wording
    assert invoke("workspace", "init", "--target", str(tmp_path / "w.db"), "--crm", "salesforce").exit_code == 0
    local = invoke("import", str(SAMPLE), "--target", str(tmp_path / "w.db"), "--yes")
    assert "as program 'OP-Lead Management' (import #1, 12 changes)." in local.output


def test_an_upgrade_that_changes_the_lifecycle_puts_it_on_the_checklist_again(fake, env, invoke, sample_copy):
    assert invoke("import", str(sample_copy), "--target", fake.url, "--yes").exit_code == 0
    data = json.loads((sample_copy / "bundle.json").read_text())
    data["version"] = "1.1.0"
    (sample_copy / "bundle.json").write_text(json.dumps(data, indent=2))
    doc = json.loads((sample_copy / "lifecycle" / "lead-lifecycle.json").read_text())
    doc["flags"][0]["for"] = "48 hours"
    (sample_copy / "lifecycle" / "lead-lifecycle.json").write_text(json.dumps(doc, indent=2))
    from programkit.canonical import refresh_digests

    refresh_digests(sample_copy)
    up = invoke("import", str(sample_copy), "--target", fake.url, "--yes")
    assert up.exit_code == 0, up.output
    assert "PK809 [marketo-manual-steps] leadLifecycle 'Lead Lifecycle' cannot be written" in up.output
    assert "   ~ update  leadLifecycle  Lead Lifecycle  (changed in the bundle)" in up.output
    assert "   . noop    token          MQL Score Threshold  (unchanged)" in up.output  # no description in Marketo
    assert "(import #2, 1 change; 1 leadLifecycle on the checklist instead: the API cannot write it)." in up.output
    assert ('## leadLifecycle "Lead Lifecycle" (not written: no API for it, in /Marketing Activities/'
            'Default/OP-Lead Management/Campaigns)') in up.output
    assert "- [ ] Review: the bundle changed this model; change it by hand to match every step below" in up.output
    assert '- [ ] SLA "follow-up due": on entering MQL, for 48 hours' in up.output


# -- 4. history: which assets each import left for the Marketo UI, and where the history is kept ------------


def test_history_and_workspace_show_say_what_is_left_and_where_history_lives(fake, env, invoke):
    first = json.loads(invoke("import", str(SAMPLE), "--target", fake.url, "--yes", "--format", "json").output)
    assert first["import"]["outcome"] == "needs-manual-completion"
    assert [i["name"] for i in first["import"]["manualCompletion"]["items"]] == [
        "01 - Sync New People to CRM", "02 - Marketing Qualified", "01 - Email - ALERT - MQL",
        "Quick Start Email Template", "Lead Lifecycle"]
    assert invoke("import", str(SAMPLE), "--target", fake.url, "--yes").exit_code == 0
    (checklist,) = (env / "marketo").rglob("checklists/*.md")
    history_file = checklist.parent.parent / "history.json"
    text = invoke("history", "--target", fake.url).output.splitlines()
    assert text[2:] == [
        "      left for the Marketo UI (recorded; `programkit verify` checks what the API can read):",
        "        smartCampaign '01 - Sync New People to CRM' (id 1001): 10 steps",
        "        smartCampaign '02 - Marketing Qualified' (id 1002): 12 steps",
        "        email '01 - Email - ALERT - MQL' (id 1001): 1 step",
        "        emailTemplate 'Quick Start Email Template' (id 1001): 1 step",
        "        leadLifecycle 'Lead Lifecycle' (not written): 12 steps",
        f"      checklist: {checklist}",
        f"History kept on this machine in {history_file} (Marketo has no place for it)."]
    assert text[0].startswith("#2 ") and text[0].endswith(" noop                    op-lead-management 1.0.0  -> "
                                                          "'OP-Lead Management'  (12 noop)")
    assert text[1].startswith("#1 ") and text[1].endswith(" needs-manual-completion op-lead-management 1.0.0  -> "
                                                          "'OP-Lead Management'  (11 create, 1 reuse)")
    rows = json.loads(invoke("history", "--target", fake.url, "--format", "json").output)
    assert "manualCompletion" not in rows[0]
    left = rows[1]["manualCompletion"]
    assert left["checklist"] == str(checklist)
    assert [(i["kind"], i["name"], i["marketoId"], len(i["steps"])) for i in left["items"]] == [
        ("smartCampaign", "01 - Sync New People to CRM", 1001, 10), ("smartCampaign", "02 - Marketing Qualified", 1002, 12),
        ("email", "01 - Email - ALERT - MQL", 1001, 1), ("emailTemplate", "Quick Start Email Template", 1001, 1),
        ("leadLifecycle", "Lead Lifecycle", None, 12)]
    # the text version and the modules went through the API; the approval is left (import ran without --approve)
    assert left["items"][2]["steps"] == ["Approve the email (import with --approve to let programkit do it)"]
    show = invoke("workspace", "show", "--target", fake.url).output.splitlines()
    assert show[-2:] == [
        "  OP-Lead Management (default, Operational; 1 email, 2 smartCampaign; from op-lead-management 1.0.0; "
        "5 assets recorded as needing manual completion)",
        f"Import history: kept on this machine in {history_file} (see `programkit history`)."]
    # rolled back: nothing is left for the UI
    assert invoke("rollback", "--target", fake.url).exit_code == 0
    after = invoke("history", "--target", fake.url).output
    assert " rolled-back " in after and "left for the Marketo UI" not in after
    assert "No imports yet." not in after


def test_the_installed_script_says_what_is_left_once(fake, env, tmp_path):
    import os
    import shutil
    import subprocess
    import sys

    script = shutil.which("programkit") or str(Path(sys.executable).parent / "programkit")
    if not Path(script).exists():
        pytest.skip("console script not installed")
    run = lambda *args: subprocess.run([script, *args], capture_output=True, text=True, env=os.environ.copy(),  # noqa: E731
                                       timeout=120, cwd=tmp_path)
    first, second, history = (run("import", str(SAMPLE), "--target", fake.url, "--yes"),
                              run("import", str(SAMPLE), "--target", fake.url, "--yes"),
                              run("history", "--target", fake.url))
    assert [first.returncode, second.returncode, history.returncode] == [0, 0, 0], first.stderr + second.stderr
    assert FIRST in first.stdout.splitlines()
    assert second.stdout.count(STILL) == 1 and "PK809" not in second.stdout + second.stderr
    assert "        smartCampaign '02 - Marketing Qualified' (id 1002): 12 steps" in history.stdout.splitlines()
