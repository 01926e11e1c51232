"""What a first demanding user tripped over: messages, hints and small CLI behaviour."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import edit_json
from programkit.workspaces.sqlite import init_workspace, list_workspaces


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "pk.db"
    init_workspace(path, crm="salesforce").close()
    return path


def test_a_stale_plan_says_what_to_do(sample_copy, tmp_path, invoke, db):
    saved = tmp_path / "plan.json"
    assert invoke("plan", str(sample_copy), "-t", str(db), "--out", str(saved)).exit_code == 0
    assert invoke("import", str(sample_copy), "-t", str(db), "--as", "Copy", "--yes").exit_code == 0
    r = invoke("import", str(sample_copy), "-t", str(db), "--plan", str(saved), "--yes")
    assert r.exit_code == 1
    # PK520's own hint was dropped before: the user was told what broke, not what to do
    assert "PK520 [workspace-changed]" in r.stderr
    assert "hint: Make a new plan (`programkit plan`)" in r.stderr


def test_an_error_does_not_repeat_its_only_finding(tmp_path, invoke):
    bad = tmp_path / "b.zip"
    bad.write_bytes(b"PK\x03\x04" + b"\0" * 40)
    r = invoke("validate", str(bad))
    assert r.exit_code == 2
    assert r.stderr.count("truncated or damaged") == 1, r.stderr
    assert "PK412 [archive-truncated]" in r.stderr


def test_each_finding_hint_is_shown_once_unless_the_error_has_its_own(sample_copy, tmp_path, invoke, db):
    rules = tmp_path / "rules.json"
    rules.write_text('{"images": "copy", "emailTemplates": "keep"}', encoding="utf-8")
    r = invoke("plan", str(sample_copy), "-t", str(db), "--rules", str(rules))
    assert r.exit_code == 2 and r.stderr.count("PK530") == 2
    assert r.stderr.count("hint: See `programkit schema conflictRules`") == 1, r.stderr
    for name in ("emails/01-email-alert-mql.json", "campaigns/02-marketing-qualified.json"):
        path = sample_copy / name
        path.write_text(path.read_text(encoding="utf-8") + " ", encoding="utf-8")
    r = invoke("pack", str(sample_copy), "-o", str(tmp_path / "x.zip"))
    assert r.exit_code == 1 and r.stderr.count("PK106 [digest-mismatch]") == 2
    assert r.stderr.count("hint:") == 1 and "`--update-digests` rewrites the digests" in r.stderr


def test_a_tampered_archive_is_not_advised_to_update_digests(sample_copy, tmp_path, invoke):
    import zipfile

    good = tmp_path / "good.zip"
    assert invoke("pack", str(sample_copy), "-o", str(good)).exit_code == 0
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, data.replace(b"MQL", b"MQX", 1) if info.filename.endswith("mql.json") else data)
    r = invoke("unpack", str(bad), "-o", str(tmp_path / "out"))
    assert r.exit_code == 1 and "PK106" in r.stderr
    assert "update-digests" not in r.stderr and "get it again from its source" in r.stderr


def test_digest_mismatch_hint_names_the_command_that_fixes_it(sample_copy, invoke):
    path = sample_copy / "emails/01-email-alert-mql.json"
    path.write_text(path.read_text(encoding="utf-8") + " ", encoding="utf-8")
    r = invoke("validate", str(sample_copy))
    assert r.exit_code == 1 and "programkit validate --fix-digests DIR" in r.output


def test_a_mistyped_bundle_key_points_at_the_key_and_suggests_the_name(sample_copy, invoke):
    edit_json(sample_copy / "bundle.json", lambda m: m.update(conflictRule=m.pop("conflictRules")))
    r = invoke("validate", str(sample_copy))
    assert r.exit_code == 1
    line = next(ln for ln in r.output.splitlines() if "PK102" in ln)
    assert "/conflictRule: unknown property 'conflictRule'; did you mean 'conflictRules'?" in line
    assert "bundle.json:1:1:" not in line  # it used to point at the whole document


def test_a_mistyped_rule_in_a_rules_file_suggests_the_rule(sample_copy, tmp_path, invoke, db):
    rules = tmp_path / "rules.json"
    rules.write_text('{"emailTemplate": "replace"}', encoding="utf-8")
    r = invoke("plan", str(sample_copy), "-t", str(db), "--rules", str(rules))
    assert r.exit_code == 2
    assert "rules.json:1:19: PK530 [rules-file-invalid] /emailTemplate: unknown property 'emailTemplate'; " \
           "did you mean 'emailTemplates'?" in r.stderr
    assert r.stderr.count("schema conflictRules") == 1


def test_an_unknown_inventory_key_lists_what_is_allowed(tmp_path, invoke, db):
    inv = tmp_path / "inv.json"
    inv.write_text('{"crm": "salesforce", "zzz": []}', encoding="utf-8")
    r = invoke("workspace", "load", str(inv), "-t", str(db))
    assert r.exit_code == 1
    assert "/zzz: unknown property 'zzz'; allowed here: " in r.output and "fields" in r.output


def test_a_missing_workspace_file_hint_is_a_command_to_paste(tmp_path, invoke, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROGRAMKIT_TARGET", raising=False)
    r = invoke("history")
    assert r.exit_code == 2
    assert "--target PATH" not in r.stderr
    assert "Create it with `programkit workspace init` (add `--crm salesforce`" in r.stderr
    r = invoke("history", "-t", "my dir/x.db")
    assert "`programkit workspace init --target 'my dir/x.db'`" in r.stderr


def test_import_into_a_mistyped_workspace_is_refused_not_created(sample_copy, invoke, db):
    r = invoke("import", str(sample_copy), "-t", str(db), "-w", "Defualt", "--yes")
    assert r.exit_code == 2
    assert "has no workspace called 'Defualt'" in r.stderr and "Workspaces in this file: Default" in r.stderr
    assert [w["name"] for w in list_workspaces(db)] == ["Default"]


def test_a_first_import_the_preflight_stops_creates_no_workspace_file(sample_copy, tmp_path, invoke):
    new = tmp_path / "new.db"
    r = invoke("import", str(sample_copy), "-t", str(new), "-w", "Client2", "--yes")
    assert r.exit_code == 1  # the sample needs Salesforce; a new workspace has no CRM
    assert "PK507 [missing-crm]" in r.output and "`programkit workspace init --crm salesforce`" in r.output
    assert not new.exists()  # only an applied import creates the file (tests/test_import_first.py)


def test_plan_out_says_where_the_plan_went_on_stderr_only(sample_copy, tmp_path, invoke, db):
    saved = tmp_path / "plan.json"
    r = invoke("plan", str(sample_copy), "-t", str(db), "--out", str(saved), "--format", "json")
    assert r.exit_code == 0
    assert json.loads(r.stdout)["summary"]["create"] == 12  # stdout is still only the plan
    # the command to paste reaches the same target
    assert r.stderr == (f"Plan saved to {saved}; apply it with `programkit import {sample_copy} --target {db} "
                        f"--plan {saved}`.\n")
    r = invoke("plan", str(sample_copy), "-t", str(db), "--out", str(tmp_path / "no" / "plan.json"))
    assert r.exit_code == 2 and f"error: {tmp_path / 'no'}: no such file or directory" in r.stderr
    assert "Traceback" not in r.output and not (tmp_path / "no").exists()


def test_no_op_import_says_it_once(sample_copy, invoke, db):
    assert invoke("import", str(sample_copy), "-t", str(db), "--yes").exit_code == 0
    r = invoke("import", str(sample_copy), "-t", str(db), "--yes")
    assert r.exit_code == 0
    assert r.output.lower().count("nothing to do") == 1
    assert "Recorded as import #2 in the history; nothing else was written." in r.output


def test_github_format_annotates_an_unreadable_path(sample_copy, tmp_path, invoke):
    r = invoke("validate", "--format", "github", str(sample_copy), str(tmp_path / "nope"))
    assert r.exit_code == 2
    assert f"::error file={tmp_path / 'nope'},title=PK413::{tmp_path / 'nope'}: no such file or directory" in r.stdout


def test_junit_lines_start_with_line_and_column(sample_copy, invoke):
    path = sample_copy / "emails/01-email-alert-mql.json"
    path.write_text(path.read_text(encoding="utf-8") + " ", encoding="utf-8")
    r = invoke("validate", "--format", "junit", str(sample_copy))
    assert ">23:17: error PK106 [digest-mismatch] /assets/2/sha256:" in r.output
    assert "[digest-mismatch]:23:17" not in r.output


def test_pack_of_a_directory_without_bundle_json_says_not_a_bundle(tmp_path, invoke):
    (tmp_path / "notbundle").mkdir()
    r = invoke("pack", str(tmp_path / "notbundle"))
    assert r.exit_code == 2
    assert "not a bundle (no bundle.json in this directory)" in r.stderr


def test_junit_reports_an_unreadable_path_as_an_error(sample_copy, tmp_path, invoke):
    from lxml import etree

    r = invoke("validate", "--format", "junit", str(sample_copy), str(tmp_path / "nope"))
    assert r.exit_code == 2
    root = etree.fromstring(r.stdout.encode())
    assert root.get("errors") == "1"
    (error,) = root.iter("error")
    assert error.getparent().get("name") == str(tmp_path / "nope") and "no such file" in error.get("message")
    r = invoke("validate", "--format", "junit", str(tmp_path / "nope"))  # the only PATH: still a report
    assert r.exit_code == 2 and etree.fromstring(r.stdout.encode()).get("errors") == "1"


def test_a_directory_as_target_is_not_called_missing(sample_copy, tmp_path, invoke):
    for args in (("workspace", "list"), ("history",), ("plan", str(sample_copy)), ("import", str(sample_copy))):
        r = invoke(*args, "-t", str(tmp_path))
        assert r.exit_code == 2, args
        assert f"{tmp_path} is not a file" in r.stderr and "does not exist" not in r.stderr, (args, r.stderr)


def test_init_of_an_existing_workspace_points_to_exist_ok(tmp_path, invoke, db):
    r = invoke("workspace", "init", "-t", str(db))
    assert r.exit_code == 2 and "`workspace init --exist-ok`" in r.stderr
    assert invoke("workspace", "init", "-t", str(db), "--crm", "salesforce", "--exist-ok").exit_code == 0


def test_export_after_a_keep_both_copy_exports_the_copy(sample_copy, tmp_path, invoke, db):
    inv = tmp_path / "inv.json"
    inv.write_text(json.dumps({"emailTemplates": [{"name": "Quick Start Email Template", "content":
                   '<html><body><div class="mktoText" id="body" mktoName="Body">ours</div></body></html>'}]}),
                   encoding="utf-8")
    assert invoke("workspace", "load", str(inv), "-t", str(db)).exit_code == 0
    r = invoke("import", str(sample_copy), "-t", str(db), "--yes")
    assert r.exit_code == 0 and "-> Quick Start Email Template - 1" in r.output
    r = invoke("export", "OP-Lead Management", "-t", str(db), "-o", str(tmp_path / "out.zip"))
    assert r.exit_code == 0, r.output


def test_a_bad_version_is_one_finding_not_two(sample_copy, invoke):
    edit_json(sample_copy / "bundle.json", lambda m: m.update(version="1.0"))
    r = invoke("validate", str(sample_copy))
    assert r.exit_code == 1
    assert "PK110 [invalid-version] /version: '1.0' is not a semantic version" in r.output
    assert "is too short" not in r.output and "(1 error, 0 warnings)" in r.output


def test_json_format_prints_a_document_even_when_no_path_was_readable(tmp_path, invoke):
    r = invoke("validate", "--format", "json", str(tmp_path / "nope"))
    assert r.exit_code == 2 and json.loads(r.stdout) == []


def test_lint_goes_on_past_an_unreadable_file_like_validate(tmp_path, invoke):
    good = tmp_path / "t.html"
    good.write_text('<html><body><div class="mktoText" id="body" mktoName="Body">x</div></body></html>',
                    encoding="utf-8")
    r = invoke("lint", str(tmp_path / "nope.html"), str(good))
    assert r.exit_code == 2
    assert "nope.html: no such file or directory" in r.stderr and f"{good}: ok (0 errors, 0 warnings)" in r.stdout
    r = invoke("lint", "--format", "github", str(tmp_path / "nope.html"))
    assert r.stdout.startswith(f"::error file={tmp_path / 'nope.html'},title=PK413::")
