"""The embedded workspace as a rehearsal of the client's instance: list it, ask what uses what, read one import in
full, undo an import (`rollback N`), remove a program — as an admin runs them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SAMPLE
from dbdump import dump
from marketo_support import cli_env, fake, marketo_env  # noqa: F401
from import_helpers import PNG, add_asset, manifest, write_manifest
from programkit.workspaces.sqlite import init_workspace

PROGRAM = "OP-Lead Management"
#: what a rollback may leave different: the history (its outcome), the journal, the revision counter
BOOKKEEPING = ("imports", "changes", "workspaces", "sqlite_sequence")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "pk.db"
    init_workspace(path, crm="salesforce").close()
    return path


def content(db: Path) -> dict:
    return dump(db, skip=BOOKKEEPING)


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    exe = shutil.which("programkit", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                           os.environ.get("PATH", "")]))
    cmd = [exe] if exe else [sys.executable, "-m", "programkit"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=60, cwd=cwd,
                          env={**os.environ, "NO_COLOR": "1", **(env or {})})


def imported(invoke, bundle: Path, db: Path, *args: str) -> None:
    r = invoke("import", str(bundle), "--target", str(db), "--yes", *args)
    assert r.exit_code == 0, r.output


def with_logo(bundle: Path) -> None:
    """The sample whose template shows a logo: an image only the template uses."""
    tpl = bundle / "design-studio/quick-start-email-template.html"
    tpl.write_text(tpl.read_text().replace("<body", '<body background="logo.png"', 1))
    add_asset(bundle, "image", "logo.png", "design-studio/logo.png", PNG)


# --- workspace show / used-by -------------------------------------------------------------------


def test_show_lists_each_program_with_its_assets_and_design_studio_with_use_counts(sample_copy, invoke, db):
    with_logo(sample_copy)
    imported(invoke, sample_copy, db)
    imported(invoke, sample_copy, db, "--as", "OLM Copy")
    lines = invoke("workspace", "show", "--target", str(db)).output.splitlines()
    tail = lines[lines.index("Program 'OLM Copy':"):]
    assert tail == [
        "Program 'OLM Copy':",
        "  email          Email Alert/01 - Email - ALERT - MQL",
        "  leadLifecycle  Campaigns/Lead Lifecycle",
        "  smartCampaign  Campaigns/01 - Sync New People to CRM",
        "  smartCampaign  Campaigns/02 - Marketing Qualified",
        f"Program '{PROGRAM}':",
        "  email          Email Alert/01 - Email - ALERT - MQL",
        "  leadLifecycle  Campaigns/Lead Lifecycle",
        "  smartCampaign  Campaigns/01 - Sync New People to CRM",
        "  smartCampaign  Campaigns/02 - Marketing Qualified",
        "Design Studio:",
        "  emailTemplate  Quick Start Email Template  (used by 2)",
        "  image          logo.png  (used by 1)",
    ]
    only = invoke("workspace", "show", "--target", str(db), "--kind", "smartcampaign")
    assert only.output.splitlines() == [
        "OLM Copy/Campaigns/01 - Sync New People to CRM", "OLM Copy/Campaigns/02 - Marketing Qualified",
        f"{PROGRAM}/Campaigns/01 - Sync New People to CRM", f"{PROGRAM}/Campaigns/02 - Marketing Qualified"]
    rows = json.loads(invoke("workspace", "show", "--target", str(db), "--kind", "image", "--json").output)
    assert [(r["name"], r["program"], r["usedBy"]) for r in rows] == [("logo.png", None, 1)]
    programs = invoke("workspace", "show", "--target", str(db), "--kind", "program").output.splitlines()
    assert programs == ["OLM Copy  (default, Operational; from op-lead-management 1.0.0, import #2)",
                        f"{PROGRAM}  (default, Operational; from op-lead-management 1.0.0, import #1)"]
    whole = json.loads(invoke("workspace", "show", "--target", str(db), "--json").output)
    assert len(whole["assets"]) == 10 and whole["counts"]["image"] == 1


def test_used_by_answers_what_uses_a_template_and_an_image(sample_copy, invoke, db):
    with_logo(sample_copy)
    imported(invoke, sample_copy, db)
    imported(invoke, sample_copy, db, "--as", "OLM Copy")
    r = invoke("workspace", "used-by", "quick start email template", "--target", str(db))
    assert r.exit_code == 0
    assert r.output.splitlines() == [
        "emailTemplate 'Quick Start Email Template': used by 2",
        "  email          01 - Email - ALERT - MQL  (program 'OLM Copy')",
        f"  email          01 - Email - ALERT - MQL  (program '{PROGRAM}')"]
    logo = json.loads(invoke("workspace", "used-by", "logo.png", "--target", str(db), "--json").output)
    assert [(u["kind"], u["name"]) for u in logo["assets"][0]["usedBy"]] == [
        ("emailTemplate", "Quick Start Email Template")]
    missing = invoke("workspace", "used-by", "Nope", "--target", str(db))
    assert missing.exit_code == 2 and "has no template, snippet or image called 'Nope'" in missing.output


def test_used_by_follows_a_keep_both_copy_to_the_email_that_uses_it(sample_copy, invoke, db, tmp_path):
    imported(invoke, sample_copy, db)
    tpl = sample_copy / "design-studio/quick-start-email-template.html"
    tpl.write_text(tpl.read_text() + "<!-- v2 -->\n")
    write_manifest(sample_copy, manifest(sample_copy))
    imported(invoke, sample_copy, db, "--as", "OLM 2")  # the template differs: a copy "… - 1"
    copy = invoke("workspace", "used-by", "Quick Start Email Template - 1", "--target", str(db)).output
    assert copy.splitlines() == ["emailTemplate 'Quick Start Email Template - 1': used by 1",
                                 "  email          01 - Email - ALERT - MQL  (program 'OLM 2')"]


# --- history show N ---------------------------------------------------------------------------


def test_history_show_gives_one_import_in_full(sample_copy, invoke, db):
    imported(invoke, sample_copy, db, "--on-image", "replace")
    r = invoke("history", "show", "1", "--target", str(db))
    assert r.exit_code == 0, r.output
    out = r.output.splitlines()
    digest = json.loads(invoke("history", "--target", str(db), "--format", "json").output)[0]["digest"]
    assert out[0] == f"Import #1 into workspace 'Default': op-lead-management 1.0.0 as program '{PROGRAM}'"
    assert "  outcome:  applied" in out and f"  digest:   {digest}" in out
    assert '  options:  allowDowngrade false, as null, prune false' in out
    assert "  images                 replace  [flag]" in out and "  emailTemplates         keepBoth  [bundle]" in out
    assert "   + create  smartCampaign  01 - Sync New People to CRM  (new smartCampaign)" in out
    assert "  tag            Program Purpose: Lead Management  (programTags=create [bundle])" in \
        "\n".join(out)
    assert "Plan: 12 create." in out
    data = json.loads(invoke("history", "show", "1", "--target", str(db), "--format", "json").output)
    assert data["digest"] == digest and data["options"] == {"as": None, "prune": False, "allowDowngrade": False}
    assert len(data["plan"]["actions"]) == 12 and data["rules"]["images"] == {"value": "replace",
                                                                              "decidedBy": "flag"}
    # the group's options reach `show` too; an unknown number is bad input naming the ones there are
    assert invoke("history", "--target", str(db), "show", "1").output == r.output
    assert json.loads(invoke("history", "--target", str(db), "-f", "json", "show", "1").output)["id"] == 1
    missing = invoke("history", "show", "7", "--target", str(db))
    assert missing.exit_code == 2 and "has no import #7 (imports: #1)" in missing.output and "PK578" in missing.output


# --- rollback N -------------------------------------------------------------------------------


def test_rollback_of_a_first_import_returns_the_workspace_to_before_it(sample_copy, invoke, db):
    with_logo(sample_copy)
    before = content(db)
    imported(invoke, sample_copy, db)
    assert content(db) != before
    preview = invoke("rollback", "1", "--target", str(db), "--dry-run")
    assert preview.exit_code == 0 and "delete program 'OP-Lead Management'" in preview.output
    assert "delete image 'logo.png' (Design Studio)" in preview.output and "Dry run: nothing was written." in \
        preview.output
    r = invoke("rollback", "1", "--target", str(db), "--yes")
    assert r.exit_code == 0, r.output
    assert r.output.startswith(f"Rollback of import #1: op-lead-management 1.0.0 as program '{PROGRAM}'")
    assert content(db) == before  # tags, template, image, program, folders: all gone; nothing else touched
    history = json.loads(invoke("history", "--target", str(db), "--format", "json").output)
    assert [h["outcome"] for h in history] == ["rolled-back"]
    again = invoke("rollback", "1", "--target", str(db))
    assert again.exit_code == 1 and "PK577" in again.output and "already rolled back" in again.output
    # and the bundle imports again as new
    imported(invoke, sample_copy, db)


def _v110(bundle: Path) -> None:
    camp = bundle / "campaigns/01-sync-new-people-to-crm.json"
    camp.write_text(camp.read_text().replace('"active": true', '"active": false'))
    tpl = bundle / "design-studio/quick-start-email-template.html"
    tpl.write_text(tpl.read_text() + "<!-- 1.1 -->\n")
    (bundle / "campaigns/02-marketing-qualified.json").unlink()
    data = manifest(bundle)
    data["version"] = "1.1.0"
    data["assets"] = [a for a in data["assets"] if a["name"] != "02 - Marketing Qualified"]
    data["program"]["tokens"][0]["value"] = "90"
    write_manifest(bundle, data)


def test_rollback_of_an_upgrade_puts_back_every_byte_it_changed_or_pruned(sample_copy, invoke, db):
    imported(invoke, sample_copy, db)
    v1 = content(db)
    _v110(sample_copy)
    imported(invoke, sample_copy, db, "--prune")
    assert content(db) != v1
    r = invoke("rollback", "2", "--target", str(db), "--yes", "--format", "json")
    assert r.exit_code == 0, r.output
    steps = {(s["do"], s["kind"], s["name"]) for s in json.loads(r.output)["steps"]}
    assert {("restore", "program", PROGRAM), ("restore", "smartCampaign", "01 - Sync New People to CRM"),
            ("put back", "smartCampaign", "02 - Marketing Qualified"),
            ("restore", "emailTemplate", "Quick Start Email Template")} <= steps
    assert content(db) == v1  # content, meta, ids, provenance (program → import #1)
    # v1.0.0 is what the workspace holds again: importing it is a no-op, 1.1.0 upgrades again
    shown = invoke("workspace", "show", "--target", str(db), "--kind", "program").output
    assert "from op-lead-management 1.0.0, import #1" in shown
    imported(invoke, sample_copy, db, "--prune")


def test_rollback_is_refused_while_a_later_import_depends_on_it(sample_copy, invoke, db):
    imported(invoke, sample_copy, db)
    imported(invoke, sample_copy, db, "--as", "OLM Copy")  # reuses import #1's template and tag value
    data = manifest(sample_copy)
    data["version"] = "1.1.0"
    write_manifest(sample_copy, data)
    imported(invoke, sample_copy, db)  # upgrades import #1's program
    before = dump(db)
    r = invoke("rollback", "1", "--target", str(db), "--yes")
    assert r.exit_code == 1
    assert r.output.splitlines()[0] == (f"error: import #1 (op-lead-management 1.0.0 as '{PROGRAM}') cannot be "
                                        "rolled back; nothing was written")
    assert f"PK575 [rollback-later-change] program '{PROGRAM}' was changed since by import #3 " \
           "(op-lead-management 1.1.0)" in r.output
    assert "PK576 [rollback-in-use] emailTemplate 'Quick Start Email Template' (Design Studio) is used by email " \
           "'01 - Email - ALERT - MQL' (program 'OLM Copy'), which this import did not create" in r.output
    assert "PK576 [rollback-in-use] tag value 'Lead Management' is set on program 'OLM Copy'" in r.output
    assert dump(db) == before
    # newest first unblocks it: roll back #3, then #2, then #1
    for n in ("3", "2", "1"):
        done = invoke("rollback", n, "--target", str(db), "--yes")
        assert done.exit_code == 0, done.output
    assert invoke("workspace", "show", "--target", str(db), "--kind", "program").output == "No programs.\n"


def test_rollback_is_refused_after_the_program_was_removed(sample_copy, invoke, db):
    imported(invoke, sample_copy, db)
    assert invoke("workspace", "remove", PROGRAM, "--target", str(db), "--yes").exit_code == 0
    r = invoke("rollback", "1", "--target", str(db))
    assert r.exit_code == 1 and "was changed since by `workspace remove`" in r.output


def test_rollback_of_an_unknown_or_noop_import(sample_copy, invoke, db):
    imported(invoke, sample_copy, db)
    imported(invoke, sample_copy, db)  # nothing to do: recorded as noop
    r = invoke("rollback", "2", "--target", str(db))
    assert r.exit_code == 1 and "changed nothing (outcome noop): nothing to undo" in r.output
    r = invoke("rollback", "9", "--target", str(db))
    assert r.exit_code == 2 and "PK578" in r.output
    r = invoke("rollback", "--target", str(db))
    assert r.exit_code == 2 and "rollback N" in r.output
    r = invoke("rollback", "1", "--target", str(db), "--journal", "abc")
    assert r.exit_code == 2 and "--journal, --list and --force are for a Marketo target" in r.output


def test_rollback_and_verify_honour_programkit_target_in_a_real_process(sample_copy, db, tmp_path):
    env = {"PROGRAMKIT_TARGET": str(db)}
    done = run("import", str(sample_copy), "--yes", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    before_rollback = run("workspace", "show", "--kind", "program", env=env, cwd=tmp_path).stdout
    assert before_rollback.startswith(PROGRAM)
    undone = run("rollback", "1", "--yes", env=env, cwd=tmp_path)
    assert undone.returncode == 0, undone.stderr
    assert "Rolled back import #1 (op-lead-management 1.0.0 as 'OP-Lead Management')" in undone.stdout
    assert run("workspace", "show", "--kind", "program", env=env, cwd=tmp_path).stdout == "No programs.\n"
    assert not (tmp_path / "programkit.db").exists()  # the environment's target, not ./programkit.db
    verify = run("verify", env=env, cwd=tmp_path)  # a file has no manual steps to verify: said, exit 2
    assert verify.returncode == 2 and f"--target {str(db)!r} is not a Marketo REST URL" in verify.stderr
    shown = run("history", "show", "1", env=env, cwd=tmp_path)
    assert shown.returncode == 0 and "  outcome:  rolled-back" in shown.stdout


def test_rollback_n_and_verify_reach_marketo_through_programkit_target(fake, cli_env, invoke, monkeypatch):
    monkeypatch.setenv("PROGRAMKIT_TARGET", fake.url)
    assert invoke("import", str(SAMPLE), "--yes").exit_code == 0
    verify = invoke("verify")  # the manual steps are not done yet
    assert verify.exit_code == 1 and "NOT DONE" in verify.output
    listed = invoke("rollback", "--list")
    assert listed.exit_code == 0 and "created" in listed.output
    undone = invoke("rollback", "1")  # import #1, by its number in `programkit history`
    assert undone.exit_code == 0, undone.output
    assert "rolled back journal" in undone.output and "(import #1)" in undone.output
    assert fake.snapshot()["programs"] == []
    missing = invoke("rollback", "5")
    assert missing.exit_code == 2 and "no import #5 with a journal" in missing.output


def test_every_command_with_a_target_option_reads_programkit_target():
    from programkit.cli import cli

    def walk(command, path=()):
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                yield from walk(sub, path + (name,))
        yield path, command

    without = [" ".join(path) for path, command in walk(cli) for p in command.params
               if "--target" in getattr(p, "opts", ()) and p.envvar != "PROGRAMKIT_TARGET"]
    assert without == []


# --- workspace remove ---------------------------------------------------------------------------


def test_remove_deletes_the_program_and_what_only_it_uses_never_a_shared_asset(sample_copy, invoke, db):
    with_logo(sample_copy)
    empty = content(db)
    imported(invoke, sample_copy, db)
    alone = content(db)
    imported(invoke, sample_copy, db, "--as", "OLM Copy")
    preview = invoke("workspace", "remove", PROGRAM, "--target", str(db), "--dry-run")
    assert preview.exit_code == 0
    assert preview.output.splitlines() == [
        f"Remove program '{PROGRAM}' from the workspace:",
        "",
        f"  - delete  program        {PROGRAM}",
        "  - delete  leadLifecycle  Campaigns/Lead Lifecycle",
        "  - delete  smartCampaign  Campaigns/01 - Sync New People to CRM",
        "  - delete  smartCampaign  Campaigns/02 - Marketing Qualified",
        "  - delete  email          Email Alert/01 - Email - ALERT - MQL",
        "  . keep    emailTemplate  Quick Start Email Template  (Design Studio; used by email '01 - Email - ALERT - "
        "MQL' (program 'OLM Copy'))",
        "  . keep    image          logo.png  (Design Studio; used by emailTemplate 'Quick Start Email Template' "
        "(Design Studio))",
        "",
        "Dry run: nothing was written.",
    ]
    r = invoke("workspace", "remove", "olm copy", "--target", str(db), "--yes")
    assert r.exit_code == 0 and r.output.endswith("Removed program 'OLM Copy' and 4 assets.\n"), r.output
    assert content(db) == alone  # the copy's import reused the template and image: they stay
    r = invoke("workspace", "remove", PROGRAM, "--target", str(db), "--yes", "--json")
    assert r.exit_code == 0, r.output
    gone = json.loads(r.output)
    assert {(a["kind"], a["name"]) for a in gone["delete"]} >= {("emailTemplate", "Quick Start Email Template"),
                                                                ("image", "logo.png")}
    after = content(db)
    assert {k: v for k, v in after.items() if k not in ("tag_types", "tag_values")} == \
        {k: v for k, v in empty.items() if k not in ("tag_types", "tag_values")}


def test_remove_keeps_what_workspace_load_described(sample_copy, invoke, db, tmp_path):
    tpl = (sample_copy / "design-studio/quick-start-email-template.html").read_bytes()
    (tmp_path / "inv").mkdir()
    (tmp_path / "inv/tpl.html").write_bytes(tpl + b"<!-- the instance's own -->")
    inventory = tmp_path / "inv/inventory.json"
    inventory.write_text(json.dumps({"emailTemplates": [{"name": "Quick Start Email Template", "path": "tpl.html"}]}))
    assert invoke("workspace", "load", str(inventory), "--target", str(db)).exit_code == 0
    imported(invoke, sample_copy, db, "--on-email-template", "replace")  # the import rewrote it: still not its own
    r = invoke("workspace", "remove", PROGRAM, "--target", str(db), "--dry-run")
    assert "  . keep    emailTemplate  Quick Start Email Template  (Design Studio; not brought by an import (the " \
           "instance's own))" in r.output


def test_remove_unknown_program_is_bad_input_with_a_suggestion(sample_copy, invoke, db):
    imported(invoke, sample_copy, db)
    before = dump(db)
    r = invoke("workspace", "remove", "OP-Lead Managment", "--target", str(db), "--yes")
    assert r.exit_code == 2 and "PK579" in r.output and "did you mean 'OP-Lead Management'" in r.output
    assert dump(db) == before


# --- workspace load --from URL -------------------------------------------------------------------


def _instance_with_the_sample(invoke, fake, bundle: Path) -> None:
    """A Marketo instance that has the sample program (and its template and a logo) already."""
    with_logo(bundle)
    r = invoke("import", str(bundle), "--target", fake.url, "--yes")
    assert r.exit_code == 0, r.output


def test_load_from_an_instance_mirrors_its_inventory_and_plans_see_it(fake, cli_env, invoke, sample_copy, tmp_path):
    _instance_with_the_sample(invoke, fake, sample_copy)
    db = tmp_path / "rehearsal.db"
    assert invoke("workspace", "init", "--target", str(db)).exit_code == 0
    r = invoke("workspace", "load", "--from", fake.url, "--target", str(db))
    assert r.exit_code == 0, r.output
    out = r.output.splitlines()
    assert out[0].startswith(f"Read from {fake.url} (") and out[0].endswith(" API calls):")
    assert "  fields                     13" in out and "  tag values                  6" in out
    assert "  email templates             1" in out and "  images                      1" in out
    assert "  programs (names)            1" in out and "  crm                     salesforce" in out
    assert "  not mirrored: webhooks: the Marketo API cannot list them; describe them with an inventory file" in out
    assert f"Loaded {fake.url} into workspace 'Default' of {db}" in out
    assert "  programs                  1 added     0 updated     0 unchanged" in out
    # what was read is in the workspace: the template's and logo's bytes as Marketo holds them
    listed = json.loads(invoke("workspace", "show", "--target", str(db), "--json").output)
    assert listed["crm"] == "salesforce" and listed["tagTypes"]["Region"] == ["AMER", "APAC", "EMEA"]
    assert {(a["kind"], a["name"]) for a in listed["assets"]} == {("emailTemplate", "Quick Start Email Template"),
                                                                  ("image", "logo.png")}
    logo = next(a for a in listed["assets"] if a["kind"] == "image")
    import hashlib

    assert logo["sha256"] == hashlib.sha256(PNG).hexdigest()
    # the rehearsal plans what the instance would: the program name is taken there
    plan = invoke("plan", str(sample_copy), "--target", str(db))
    assert plan.exit_code == 1 and "PK510" in plan.output and "(not imported from a bundle)" in plan.output
    # loading again changes nothing, not even the revision (plans made since stay valid)
    rev = listed["revision"]
    again = invoke("workspace", "load", "--from", fake.url, "--target", str(db), "--format", "json")
    assert again.exit_code == 0
    data = json.loads(again.output)
    assert data["from"] == fake.url and data["read"]["programs"] == 1
    assert all(c["added"] == 0 and c["updated"] == 0 for c in data["changes"].values())
    assert json.loads(invoke("workspace", "show", "--target", str(db), "--json").output)["revision"] == rev


def test_load_from_needs_credentials_and_a_marketo_url_and_writes_nothing_without(fake, invoke, tmp_path,
                                                                               monkeypatch):
    db = tmp_path / "rehearsal.db"
    assert invoke("workspace", "init", "--target", str(db)).exit_code == 0
    before = dump(db)
    monkeypatch.delenv("MARKETO_CLIENT_ID", raising=False)
    monkeypatch.delenv("MARKETO_CLIENT_SECRET", raising=False)
    r = invoke("workspace", "load", "--from", fake.url, "--target", str(db))
    assert r.exit_code == 2 and "MARKETO_CLIENT_ID" in r.output
    r = invoke("workspace", "load", "--from", str(tmp_path / "x.db"), "--target", str(db))
    assert r.exit_code == 2 and "is not a Marketo REST URL" in r.output
    r = invoke("workspace", "load", "--target", str(db))
    assert r.exit_code == 2 and "give an INVENTORY file or --from URL" in r.output
    assert dump(db) == before


def test_rollback_of_a_first_import_that_created_the_file(sample_copy, invoke, tmp_path):
    from import_helpers import import_into
    from programkit.workspaces import open_target

    db = tmp_path / "new.db"
    ws = open_target(str(db), create=False, create_on_commit=True, crm="salesforce")
    try:
        import_into(sample_copy, ws)  # no init: the file appears when the import commits
    finally:
        ws.close()
    assert db.exists()
    r = invoke("rollback", "1", "--target", str(db), "--yes")
    assert r.exit_code == 0, r.output
    assert invoke("workspace", "show", "--target", str(db), "--kind", "program").output == "No programs.\n"


def test_an_import_recorded_before_the_journal_is_refused_with_the_reason(sample_copy, invoke, db):
    import sqlite3

    imported(invoke, sample_copy, db)
    con = sqlite3.connect(db)
    con.execute("DELETE FROM changes")  # as a file written before schema 3 holds it
    con.commit()
    con.close()
    before = dump(db)
    r = invoke("rollback", "1", "--target", str(db), "--yes")
    assert r.exit_code == 1 and "PK577" in r.output
    assert "was recorded before programkit kept a change journal: it cannot be undone exactly" in r.output
    assert dump(db) == before
