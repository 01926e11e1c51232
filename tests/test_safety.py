"""Issue #14: nothing lost, nothing overwritten, no traceback, nothing interpreted by the terminal.

One test (or a parametrised family) per class of the issue; each failed before the fix. docs/safety.md maps
each class to the test here that proves it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SAMPLE
from dbdump import dump
from import_helpers import manifest, write_manifest
from unprivileged import require_permissions_enforced, run_unprivileged
from programkit.canonical import refresh_digests
from programkit.workspaces.sqlite import init_workspace

PROGRAM = "OP-Lead Management"
TEMPLATE = "Quick Start Email Template"
TEMPLATE_FILE = "design-studio/quick-start-email-template.html"
ESC = "\x1b"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_of(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) with its digest: "nothing else was written"."""
    return {str(p.relative_to(folder)): (sha(p) if p.is_file() and not p.is_fifo() else "-")
            for p in sorted(folder.rglob("*"))}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "pk.db"
    init_workspace(path, crm="salesforce").close()
    return path


def _bump(bundle: Path, version: str, edit=None) -> None:
    data = manifest(bundle)
    data["version"] = version
    if edit:
        edit(data)
    write_manifest(bundle, data)


def _drop_template(data) -> None:
    """A version without the template, the email on it and the campaign that sends that email."""
    data["assets"] = [a for a in data["assets"]
                      if a["kind"] not in ("emailTemplate", "email") and a["name"] != "02 - Marketing Qualified"]


def _actions(out: str) -> dict[tuple[str, str], dict]:
    return {(a["kind"], a["name"]): a for a in json.loads(out)["plan"]["actions"]}


# --- data a user can lose ---------------------------------------------------------------------------


def test_prune_keeps_a_template_another_program_uses(sample_copy, invoke, db):
    assert invoke("import", str(sample_copy), "-t", str(db)).exit_code == 0
    # a second program reuses the identical template (keepBoth + identical content = reuse)
    assert invoke("import", str(sample_copy), "-t", str(db), "--as", "OLM Copy").exit_code == 0
    _bump(sample_copy, "1.1.0", _drop_template)
    r = invoke("import", str(sample_copy), "-t", str(db), "--prune", "--format", "json")
    assert r.exit_code == 0, r.output
    act = _actions(r.output)[("emailTemplate", TEMPLATE)]
    assert act["action"] == "skip" and act["usedBy"] == ["OLM Copy"]
    assert act["reason"] == "removed from the bundle; kept, used by: 'OLM Copy'"
    # the copy's email still has its template; the program's own email and campaign went
    assert _actions(r.output)[("email", "01 - Email - ALERT - MQL")]["action"] == "delete"
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM assets WHERE kind = 'emailTemplate'").fetchone() == (1,)
    r = invoke("export", "OLM Copy", "-t", str(db), "-o", str(db.parent / "copy"))
    assert r.exit_code == 0, r.output


def test_prune_still_deletes_a_template_nobody_else_uses(sample_copy, invoke, db):
    assert invoke("import", str(sample_copy), "-t", str(db)).exit_code == 0
    _bump(sample_copy, "1.1.0", _drop_template)
    r = invoke("import", str(sample_copy), "-t", str(db), "--prune", "--format", "json")
    assert _actions(r.output)[("emailTemplate", TEMPLATE)]["action"] == "delete"


def test_prune_after_an_upgrade_that_kept_what_it_dropped(sample_copy, invoke, db):
    assert invoke("import", str(sample_copy), "-t", str(db)).exit_code == 0
    _bump(sample_copy, "1.1.0", _drop_template)
    r = invoke("import", str(sample_copy), "-t", str(db), "--format", "json")
    assert _actions(r.output)[("emailTemplate", TEMPLATE)]["action"] == "skip"
    # the same version again, now with --prune: before the fix a noop that could never remove them
    r = invoke("import", str(sample_copy), "-t", str(db), "--prune", "--format", "json")
    assert r.exit_code == 0, r.output
    acts = _actions(r.output)
    assert {k: a["action"] for k, a in acts.items() if a["action"] != "noop"} == {
        ("program", PROGRAM): "update", ("emailTemplate", TEMPLATE): "delete",
        ("email", "01 - Email - ALERT - MQL"): "delete", ("smartCampaign", "02 - Marketing Qualified"): "delete"}
    con = sqlite3.connect(db)
    assert con.execute("SELECT kind, name FROM assets ORDER BY kind").fetchall() == [
        ("leadLifecycle", "Lead Lifecycle"), ("smartCampaign", "01 - Sync New People to CRM")]


def _changed_template(bundle: Path) -> None:
    tpl = bundle / TEMPLATE_FILE
    tpl.write_text(tpl.read_text(encoding="utf-8") + "<!-- v2 -->\n", encoding="utf-8")
    _bump(bundle, "2.0.0")


def test_replace_of_a_shared_template_needs_the_flag_and_is_recorded(sample_copy, tmp_path, invoke, db):
    assert invoke("import", str(sample_copy), "-t", str(db)).exit_code == 0
    other = tmp_path / "other"
    shutil.copytree(sample_copy, other)
    _changed_template(other)
    before = dump(db)
    r = invoke("import", str(other), "-t", str(db), "--as", "Third", "--on-email-template", "replace")
    assert r.exit_code == 1
    assert "PK116 [shared-replace] emailTemplate 'Quick Start Email Template' in workspace 'Default' is used by: " \
           "'OP-Lead Management'; replacing it changes what they use" in r.output
    assert dump(db) == before
    r = invoke("import", str(other), "-t", str(db), "--as", "Third", "--on-email-template", "replace",
               "--allow-shared-replace", "--format", "json")
    assert r.exit_code == 0, r.output
    act = _actions(r.output)[("emailTemplate", TEMPLATE)]
    assert (act["action"], act["usedBy"], act["decidedBy"]) == ("replace", ["OP-Lead Management"], "flag")
    history = json.loads(invoke("history", "-t", str(db), "--format", "json").output)
    newest = max(history, key=lambda h: h["id"])
    record = sqlite3.connect(db).execute("SELECT plan FROM imports WHERE id = ?", (newest["id"],)).fetchone()[0]
    assert json.loads(record)["options"]["allowSharedReplace"] is True


def test_drift_goes_to_the_conflict_rules_never_noop(sample_copy, tmp_path, invoke, db):
    assert invoke("import", str(sample_copy), "-t", str(db)).exit_code == 0
    inv = tmp_path / "inv.json"
    inv.write_text(json.dumps({"emailTemplates": [{"name": TEMPLATE, "content": "<html><body>edited</body></html>"}]}))
    assert invoke("workspace", "load", str(inv), "-t", str(db)).exit_code == 0
    r = invoke("import", str(sample_copy), "-t", str(db), "--dry-run", "--format", "json")
    act = _actions(r.output)[("emailTemplate", TEMPLATE)]
    assert act["action"] == "rename" and act["as"] == TEMPLATE + " - 1"
    assert act["reason"].startswith("changed in the workspace since import #1; emailTemplates=keepBoth")
    # replace overwrites the edit, fail stops: the rule decides
    r = invoke("import", str(sample_copy), "-t", str(db), "--dry-run", "--format", "json", "--on-email-template",
               "fail")
    assert r.exit_code == 1 and "PK513" in r.output
    # the export that failed before (PK208: the edited template lacks the email's sections) works after import
    assert invoke("import", str(sample_copy), "-t", str(db)).exit_code == 0
    r = invoke("export", PROGRAM, "-t", str(db), "-o", str(tmp_path / "out"))
    assert r.exit_code == 0, r.output
    # and now it is in step: a noop
    r = invoke("import", str(sample_copy), "-t", str(db), "--format", "json")
    assert json.loads(r.output)["import"]["outcome"] == "noop"


def test_a_noop_reimport_keeps_saved_plans_valid(sample_copy, tmp_path, invoke, db):
    assert invoke("import", str(sample_copy), "-t", str(db)).exit_code == 0
    saved = tmp_path / "p.json"
    assert invoke("plan", str(sample_copy), "-t", str(db), "--out", str(saved)).exit_code == 0
    assert invoke("import", str(sample_copy), "-t", str(db)).exit_code == 0  # nothing to do
    r = invoke("import", str(sample_copy), "-t", str(db), "--plan", str(saved))
    assert r.exit_code == 0 and "PK520" not in r.output, r.output


# --- files a command writes -------------------------------------------------------------------------


@pytest.fixture
def outputs(tmp_path: Path) -> Path:
    d = tmp_path / "outs"
    d.mkdir()
    (d / "taken.zip").write_bytes(b"precious")
    (d / "dir.zip").mkdir()
    os.mkfifo(d / "fifo.zip")
    (d / "link.zip").symlink_to(d / "taken.zip")
    return d


def _writers(sample: Path, db: Path, out: Path) -> dict[str, list[str]]:
    return {"pack": ["pack", str(sample), "-o", str(out)],
            "export": ["export", PROGRAM, "-t", str(db), "-o", str(out)],
            "plan": ["plan", str(sample), "-t", str(db), "--out", str(out)],
            "simulate": ["simulate", str(sample), "--out", str(out)]}


@pytest.mark.parametrize("command", ["pack", "export", "plan", "simulate"])
def test_outputs_are_never_overwritten_without_force_nor_written_through(command, sample_copy, invoke, db, outputs):
    assert invoke("import", str(SAMPLE), "-t", str(db)).exit_code == 0
    before = files_of(outputs)
    r = invoke(*_writers(sample_copy, db, outputs / "taken.zip")[command])
    assert r.exit_code == 2 and "PK416" in r.output and "not replaced without --force" in r.output, r.output
    for name, what in (("dir.zip", "a directory"), ("fifo.zip", "a FIFO (named pipe)"),
                       ("link.zip", "a symbolic link"), ("/dev/null", "a character device")):
        path = outputs / name if not name.startswith("/") else Path(name)
        args = _writers(sample_copy, db, path)[command]
        r = invoke(*args, "--force")
        assert r.exit_code == 2, (name, r.output)
        assert f"is {what}" in r.output or (command == "export" and what == "a directory"), (name, r.output)
    assert files_of(outputs) == before  # nothing replaced, no temporary file left
    r = invoke(*_writers(sample_copy, db, outputs / "taken.zip")[command], "--force")
    assert r.exit_code == 0, r.output
    assert (outputs / "taken.zip").read_bytes() != b"precious"
    assert sorted(p.name for p in outputs.iterdir()) == ["dir.zip", "fifo.zip", "link.zip", "taken.zip"]


def test_packing_twice_to_the_same_file_is_not_an_overwrite(sample_copy, invoke, tmp_path):
    out = tmp_path / "a.zip"
    assert invoke("pack", str(sample_copy), "-o", str(out)).exit_code == 0
    assert invoke("pack", str(sample_copy), "-o", str(out)).exit_code == 0  # same bytes: nothing replaced


REFUSALS = [(errno.ENOSPC, "no space left on device (ENOSPC)", "disk is full"),
            (errno.EACCES, "permission denied (EACCES)", "may not write there"),
            (errno.EROFS, "read-only file system (EROFS)", "mounted read-only"),
            (errno.EIO, "input/output error (EIO)", "I/O error"),
            (errno.EFBIG, "file too large (EFBIG)", "ulimit -f"),
            (errno.EDQUOT, "disk quota exceeded (EDQUOT)", "quota")]


@pytest.mark.parametrize("number,words,advice", REFUSALS, ids=[errno.errorcode[r[0]] for r in REFUSALS])
def test_a_refused_write_is_pk418_naming_the_path_and_the_errno_in_words(number, words, advice):
    from programkit.output import refused_write

    err = refused_write("out/olm.zip", OSError(number, os.strerror(number)), "-o")
    assert err.exit_code == 2
    assert err.message == f"-o out/olm.zip: cannot write: {words}; nothing was written"
    [finding] = err.findings
    assert (finding.code, finding.file, finding.message) == ("PK418", "out/olm.zip", err.message)
    assert advice in finding.hint and finding.hint == err.hint


def test_an_html_report_at_a_directory_is_pk417_like_every_output(sample_copy, invoke, tmp_path):
    from programkit.errors import BadInput
    from programkit.html import write_report

    (tmp_path / "report.html").mkdir()
    with pytest.raises(BadInput) as refused:
        write_report(tmp_path / "report.html", "<p>report</p>", force=True)
    assert [f.code for f in refused.value.findings] == ["PK417"] and "is a directory" in refused.value.message
    r = invoke("inspect", str(sample_copy), "--html", str(tmp_path / "report.html"), "--force")
    assert r.exit_code == 2 and "is a directory" in r.output, r.output  # click's own check comes first
    assert (tmp_path / "report.html").is_dir() and not list((tmp_path / "report.html").iterdir())


def test_update_digests_never_reads_a_path_outside_the_bundle(sample_copy, invoke, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("not yours")
    data = manifest(sample_copy)
    data["assets"][2]["path"] = "../secret.txt"
    data["assets"][3]["path"] = str(secret)
    (sample_copy / "bundle.json").write_text(json.dumps(data), encoding="utf-8")
    (sample_copy / "emails").rename(sample_copy / "emails-old")
    r = invoke("pack", str(sample_copy), "--update-digests", "-o", str(tmp_path / "x.zip"))
    assert r.exit_code == 1 and "new digests" not in r.output and "updated digest" not in r.output
    after = manifest(sample_copy)
    assert sha(secret) not in json.dumps(after)  # never hashed into bundle.json
    assert after["assets"][2]["sha256"] == data["assets"][2]["sha256"]


# --- commands that only read never write ------------------------------------------------------------


def _foreign(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE users (id INTEGER, name TEXT)")
    con.commit()
    con.close()


NOT_WORKSPACES = {
    "foreign": (_foreign, "a SQLite database with other tables (users)"),
    "empty": (lambda p: p.write_bytes(b""), "an empty file"),
    "malformed": (lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200), "not a SQLite database"),
    "text": (lambda p: p.write_text("hello\n"), "not a SQLite database"),
    "newer": (lambda p: sqlite3.connect(p).execute("PRAGMA user_version = 99"), "newer than this programkit"),
}
READERS = [["plan", str(SAMPLE)], ["history"], ["workspace", "show"], ["workspace", "list"],
           ["export", PROGRAM, "-o", "OUT"], ["import", str(SAMPLE), "--dry-run"], ["history", "show", "1"],
           ["workspace", "used-by", TEMPLATE], ["rollback", "1", "--dry-run"]]


@pytest.mark.parametrize("kind", sorted(NOT_WORKSPACES))
@pytest.mark.parametrize("command", READERS, ids=lambda c: " ".join(c[:2]))
def test_read_only_commands_leave_any_target_byte_identical(kind, command, invoke, tmp_path):
    folder = tmp_path / "t"
    folder.mkdir()
    target = folder / "x.db"
    make, why = NOT_WORKSPACES[kind]
    make(target)
    before = files_of(folder)
    args = [a if a != "OUT" else str(tmp_path / "out") for a in command]
    r = invoke(*args, "-t", str(target))
    assert r.exit_code == 2, r.output
    assert why in r.output
    if kind != "newer":
        assert "PK414" in r.output
    assert files_of(folder) == before


@pytest.mark.parametrize("kind", ["foreign", "empty", "malformed"])
def test_writing_commands_refuse_a_foreign_file_too(kind, invoke, tmp_path):
    target = tmp_path / "x.db"
    NOT_WORKSPACES[kind][0](target)
    before = target.read_bytes()
    r = invoke("import", str(SAMPLE), "-t", str(target), "--yes")
    assert r.exit_code == 2 and "PK414" in r.output, r.output
    assert target.read_bytes() == before


def test_read_only_commands_do_not_write_a_real_workspace(sample_copy, invoke, db):
    assert invoke("import", str(sample_copy), "-t", str(db)).exit_code == 0
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    before = files_of(db.parent)
    for args in READERS[:4]:
        assert invoke(*args, "-t", str(db)).exit_code == 0
    assert files_of(db.parent) == before  # the file byte-identical, and no -wal/-shm side files left


def test_read_only_commands_read_an_older_workspace_without_upgrading_it(sample_copy, invoke, tmp_path):
    from programkit.workspaces import sqlite as pk_sqlite

    old = tmp_path / "old.db"
    con = sqlite3.connect(old, isolation_level=None)
    for step in pk_sqlite.MIGRATIONS[:2]:  # a file as programkit wrote it at schema version 2
        step(con)
    con.execute("PRAGMA user_version = 2")
    con.close()
    folder_before = files_of(tmp_path)
    for args in READERS[:4]:
        r = invoke(*args, "-t", str(old))
        assert r.exit_code in (0, 2) and "PK414" not in r.output, (args, r.output)
    assert files_of(tmp_path) == folder_before


@pytest.mark.parametrize("read_only", ["file", "folder"])
def test_a_read_only_workspace_is_a_finding_for_import(read_only, sample_copy, db, tmp_path):
    """In a real process that permission bits apply to, root included (tests/unprivileged.py): CI runs as root."""
    require_permissions_enforced(tmp_path)
    locked = db if read_only == "file" else db.parent
    mode = locked.stat().st_mode
    locked.chmod(0o444 if read_only == "file" else 0o555)
    before = files_of(tmp_path)
    try:
        r = run_unprivileged(["import", str(sample_copy), "-t", str(db), "--yes"], tmp_path)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert r.stderr.startswith(f"error: {db} cannot be written (") and "PK415" in r.stderr, r.stderr
        assert files_of(tmp_path) == before  # the workspace byte-identical, no side file, no crash report
        plan = run_unprivileged(["plan", str(sample_copy), "-t", str(db)], tmp_path)  # reading still works
        assert plan.returncode == 0, plan.stderr
        assert files_of(tmp_path) == before
    finally:
        locked.chmod(mode)
    assert ran_ok(["import", str(sample_copy), "-t", str(db), "--yes"], tmp_path)  # writable again: it imports


def ran_ok(args: list[str], cwd: Path) -> bool:
    """The console script (tests/unprivileged.py) exited 0; else its stderr is printed, for the failing assert."""
    done = run_unprivileged(args, cwd)
    if done.returncode != 0:
        print(done.stderr)
    return done.returncode == 0


def test_outputs_into_a_read_only_folder_are_pk418_permission_denied(sample_copy, db, tmp_path):
    require_permissions_enforced(tmp_path)
    assert ran_ok(["import", str(SAMPLE), "-t", str(db), "--yes"], tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "kept.zip").write_bytes(b"precious")
    locked.chmod(0o555)
    writers = {"pack": (["pack", str(sample_copy), "-o", "locked/b.zip"], "locked/b.zip"),
               "pack --force over a file": (["pack", str(sample_copy), "-o", "locked/kept.zip", "--force"],
                                            "locked/kept.zip"),
               "export dir": (["export", PROGRAM, "-t", str(db), "-o", "locked/out"], "locked/out"),
               "export zip": (["export", PROGRAM, "-t", str(db), "-o", "locked/out.zip"], "locked/out.zip"),
               "plan --out": (["plan", str(sample_copy), "-t", str(db), "--out", "locked/plan.json"],
                              "locked/plan.json"),
               "plan --html": (["plan", str(sample_copy), "-t", str(db), "--html", "locked/plan.html"],
                               "locked/plan.html"),
               "new": (["new", "op-lead-management", "locked/fresh"], "locked/fresh"),
               "workspace init": (["workspace", "init", "-t", "locked/new.db"], "locked/new.db")}
    before = files_of(tmp_path)
    try:
        for what, (args, path) in writers.items():
            r = run_unprivileged(args, tmp_path)
            code = "PK415" if what == "workspace init" else "PK418"
            assert r.returncode == 2 and "Traceback" not in r.stderr, (what, r.stderr)
            assert path in r.stderr.splitlines()[0] and "ermission denied" in r.stderr.splitlines()[0], (what, r.stderr)
            assert code in r.stderr, (what, r.stderr)
            assert files_of(tmp_path) == before, what
    finally:
        locked.chmod(0o755)
    assert (locked / "kept.zip").read_bytes() == b"precious"


def test_new_force_refused_part_way_says_how_far_and_leaves_no_half_file(tmp_path):
    """`new --force` replaces a bundle file by file, each atomically, bundle.json last: a folder it may not write
    into part-way stops it with PK418 and the count, every file old or new, never half of one."""
    require_permissions_enforced(tmp_path)
    assert ran_ok(["new", "op-lead-management", "olm"], tmp_path)
    dest = tmp_path / "olm"
    old = {str(p.relative_to(dest)): p.read_bytes() for p in dest.rglob("*") if p.is_file()}
    assert ran_ok(["new", "op-lead-management", "fresh", "--set", "prefix=ACME"], tmp_path)
    new = {str(p.relative_to(tmp_path / "fresh")): p.read_bytes() for p in (tmp_path / "fresh").rglob("*")
           if p.is_file()}
    assert sorted(old) == sorted(new) and old != new
    (dest / "lifecycle").chmod(0o555)
    try:
        r = run_unprivileged(["new", "op-lead-management", "olm", "--force", "--set", "prefix=ACME"], tmp_path)
    finally:
        (dest / "lifecycle").chmod(0o755)
    assert r.returncode == 2 and "PK418" in r.stderr and "Traceback" not in r.stderr, r.stderr
    first = r.stderr.splitlines()[0]
    assert "permission denied (EACCES)" in first and "4 of 6 files were replaced before it, bundle.json not yet" \
        in first, first
    now = {str(p.relative_to(dest)): p.read_bytes() for p in dest.rglob("*") if p.is_file()}
    assert sorted(now) == sorted(old)  # no temporary file left
    assert now["bundle.json"] == old["bundle.json"] and now["lifecycle/lead-lifecycle.json"] == \
        old["lifecycle/lead-lifecycle.json"]
    assert all(now[f] in (old[f], new[f]) for f in now)
    assert ran_ok(["new", "op-lead-management", "olm", "--force", "--set", "prefix=ACME"], tmp_path)  # again
    assert {str(p.relative_to(dest)): p.read_bytes() for p in dest.rglob("*") if p.is_file()} == new


# --- exit status 3: internal errors -----------------------------------------------------------------


def _boom(*_a, **_k):
    raise KeyError("the bug")


def test_internal_error_exits_3_with_one_line_and_a_saved_traceback(monkeypatch, runner, tmp_path):
    from programkit.cli import cli
    import programkit.cli.validate as validate_cli

    monkeypatch.setenv("PROGRAMKIT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("PROGRAMKIT_DEBUG", raising=False)
    monkeypatch.setattr(validate_cli, "validate_path", _boom)
    r = runner.invoke(cli, ["validate", str(SAMPLE)])
    assert r.exit_code == 3
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.output
    assert lines[0].startswith("error: internal error (a bug in programkit, not in your input): KeyError: 'the bug'; "
                               "traceback saved to ")
    saved = Path(lines[0].split("traceback saved to ")[1].split(";")[0])
    assert saved.parent == tmp_path / "state" / "crashes"
    text = saved.read_text()
    assert "Traceback (most recent call last)" in text and "KeyError: 'the bug'" in text and "'validate'" in text
    assert "report it" in lines[0]


def test_internal_error_exit_3_in_a_real_process(tmp_path):
    code = ("import programkit.cli.validate as v\n"
            "def boom(*a, **k): raise ZeroDivisionError('bug')\n"
            "v.validate_path = boom\n"
            "from programkit.cli import main\n"
            f"main([\"validate\", {str(SAMPLE)!r}])\n")
    env = {**os.environ, "PROGRAMKIT_STATE_DIR": str(tmp_path / "state")}
    env.pop("PROGRAMKIT_DEBUG", None)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 3 and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "ZeroDivisionError: bug" in p.stderr
    assert list((tmp_path / "state" / "crashes").iterdir())


def test_findings_and_bad_input_keep_their_codes_in_a_real_process(tmp_path):
    p = subprocess.run([sys.executable, "-m", "programkit", "validate", str(tmp_path / "nope")], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 2
    bad = tmp_path / "b"
    shutil.copytree(SAMPLE, bad)
    (bad / "emails/01-email-alert-mql.json").write_text("{", encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "programkit", "validate", str(bad)], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 1


# --- inputs that crashed ----------------------------------------------------------------------------

WRONG_TYPES = [{"a": 1}, [1], [[1]], "x", 10 ** 30, True, 1.5, None]
#: (file, pointer) of values that crashed some command before the fix
CRASHED = [("lifecycle/lead-lifecycle.json", ["initial"]), ("lifecycle/lead-lifecycle.json", ["states"]),
           ("lifecycle/lead-lifecycle.json", ["terminal"]), ("lifecycle/lead-lifecycle.json", ["funnel"]),
           ("lifecycle/lead-lifecycle.json", ["transitions"]), ("lifecycle/lead-lifecycle.json", ["flags"]),
           ("lifecycle/lead-lifecycle.json", ["transitions", 3, "requires"]),
           ("bundle.json", ["program", "membershipStatuses"]), ("bundle.json", ["program", "tokens"]),
           ("emails/01-email-alert-mql.json", ["modules"]),
           ("campaigns/01-sync-new-people-to-crm.json", ["flow", 2, "newStatus"]),
           ("campaigns/02-marketing-qualified.json", ["smartList", "triggers", 0, "constraints", 0, "values"])]


@pytest.mark.parametrize("file,pointer", CRASHED, ids=lambda x: "/".join(map(str, x)) if isinstance(x, list) else x)
def test_wrong_json_types_are_findings_in_every_command(file, pointer, sample_copy, runner, db):
    from programkit.cli import cli

    for value in WRONG_TYPES:
        path = sample_copy / file
        doc = json.loads(path.read_text(encoding="utf-8"))
        node = doc
        for key in pointer[:-1]:
            node = node[key]
        original = node[pointer[-1]]
        node[pointer[-1]] = value
        path.write_text(json.dumps(doc), encoding="utf-8")
        refresh_digests(sample_copy)
        for args in (["validate"], ["inspect"], ["plan", "-t", str(db)], ["simulate"]):
            r = runner.invoke(cli, [args[0], str(sample_copy), *args[1:]])
            assert r.exit_code in (0, 1, 2) and r.exception is None or isinstance(r.exception, SystemExit), \
                (args, value, r.output)
            assert r.exit_code != 3, (args, value, r.output)
        node[pointer[-1]] = original
        path.write_text(json.dumps(doc), encoding="utf-8")
    refresh_digests(sample_copy)


def _deep_folders(depth: int) -> dict:
    node: dict = {"name": f"L{depth - 1}"}
    for i in range(depth - 2, -1, -1):
        node = {"name": f"L{i}", "folders": [node]}
    return node


def test_a_300_deep_folder_tree_imports_and_exports(sample_copy, invoke, db, tmp_path):
    data = manifest(sample_copy)
    data["program"]["folders"].append(_deep_folders(300))
    write_manifest(sample_copy, data)
    assert invoke("import", str(sample_copy), "-t", str(db)).exit_code == 0
    r = invoke("export", PROGRAM, "-t", str(db), "-o", str(tmp_path / "out"))
    assert r.exit_code == 0, r.output
    assert manifest(tmp_path / "out")["program"]["folders"] == manifest(sample_copy)["program"]["folders"]


def test_json_nested_past_the_recursion_limit_is_a_finding(sample_copy, invoke):
    path = sample_copy / "emails/01-email-alert-mql.json"
    path.write_text('{"x": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    refresh_digests(sample_copy)
    for command in ("validate", "inspect"):
        r = invoke(command, str(sample_copy))
        assert r.exit_code in (0, 1), r.output
    assert "PK101" in invoke("validate", str(sample_copy)).output


def test_a_fifo_where_a_file_belongs_is_said_never_opened(sample_copy, invoke, tmp_path):
    email = sample_copy / "emails/01-email-alert-mql.json"
    email.unlink()
    os.mkfifo(email)
    r = invoke("validate", str(sample_copy))
    assert r.exit_code == 1 and "'emails/01-email-alert-mql.json' is a FIFO (named pipe), not a regular file" in r.output
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    for args in (["validate", str(fifo)], ["simulate", str(SAMPLE), "--events", str(fifo)],
                 ["simulate", str(SAMPLE), "--people", str(fifo)], ["import", str(SAMPLE), "--rules", str(fifo)],
                 ["import", str(SAMPLE), "--plan", str(fifo)], ["workspace", "load", str(fifo)],
                 ["simulate", str(SAMPLE), "--events", "/dev/zero"]):
        r = invoke(*args, "-t", str(tmp_path / "none.db")) if args[0] in ("import", "workspace") else invoke(*args)
        assert r.exit_code == 2 and ("FIFO" in r.output or "device" in r.output or "not a file" in r.output), \
            (args, r.output)


# --- terminal safety --------------------------------------------------------------------------------

HOSTILE = "Evil\x1b[2J\x1b]0;pwned\x07\rName\u202e"


def test_names_from_input_are_shown_escaped_and_json_keeps_them(sample_copy, invoke, db):
    data = manifest(sample_copy)
    data["program"]["name"] = HOSTILE
    data["assets"][0]["name"] = "01 \x1b[31mred"
    write_manifest(sample_copy, data)
    for args in (["validate", str(sample_copy)], ["inspect", str(sample_copy)],
                 ["plan", str(sample_copy), "-t", str(db)], ["import", str(sample_copy), "-t", str(db)],
                 ["history", "-t", str(db)], ["workspace", "show", "-t", str(db)],
                 ["simulate", str(sample_copy)]):
        r = invoke(*args)
        assert ESC not in r.output and "\r" not in r.output and "\x07" not in r.output and "\u202e" not in r.output, \
            (args, r.output)
    r = invoke("plan", str(sample_copy), "-t", str(db))
    assert "pwned" in r.output and "\\u202e" in r.output  # shown, escaped
    r = invoke("plan", str(sample_copy), "-t", str(db), "--format", "json")
    assert json.loads(r.output)["program"]["name"] == HOSTILE  # the exact text, for a JSON reader
    r = invoke("history", "-t", str(db), "--format", "json")
    assert json.loads(r.output)[0]["program"] == HOSTILE


def test_shown_escapes_every_control_and_format_character():
    from programkit.terminal import escape_output, shown

    assert shown("a\x1b[31mb\tc\nd\x7f\x9b\u200f\ud800") == "a\\u001b[31mb\\u0009c\\u000ad\\u007f\\u009b\\u200f\\ud800"
    assert escape_output("line\n\tok\x1b[1m", colour=False) == "line\n\tok\\u001b[1m"
    assert escape_output("\x1b[1mbold\x1b[0m \x1b]8;;x\x07", colour=True) == "\x1b[1mbold\x1b[0m \\u001b]8;;x\\u0007"


# --- lint ------------------------------------------------------------------------------------------


def test_an_xml_prolog_is_not_a_false_pk601():
    from programkit.lint import lint_text

    body = '<!DOCTYPE html>\n<html><body><div class="mktoText" id="a" mktoName="A">x</div></body></html>\n'
    assert lint_text('<?xml version="1.0" encoding="UTF-8"?>\n' + body) == lint_text(body) == []
    # the lines after the prolog keep their numbers
    found = lint_text('<?xml version="1.0" encoding="UTF-8"?>\n<html><body>\n<div class="mktoText">x</div>'
                      '</body></html>')
    assert [(f.code, f.line) for f in found] == [("PK602", 3), ("PK603", 3)]


def test_attribute_heavy_templates_are_capped_and_said():
    from programkit.lint import lint_text
    from programkit.lint.parse import MAX_ATTRIBUTES

    attrs = " ".join(f'data-a{i}="v"' for i in range(MAX_ATTRIBUTES + 5))
    found = lint_text(f'<html><body>\n<div class="mktoText" {attrs}>x</div></body></html>')
    assert sorted((f.code, f.line) for f in found) == [("PK602", 2), ("PK603", 2), ("PK950", 2)]


# --- simulate input: a finding per bad row, nothing dropped silently --------------------------------

EVENTS = Path(__file__).resolve().parent.parent / "docs/examples/simulate/marketo-events.jsonl"


def test_people_csv_unterminated_quote_is_a_finding(invoke, tmp_path):
    people = tmp_path / "p.csv"
    people.write_text('id,Email Address\np1,a@x\np2,"unterminated\np3,c@x\n', encoding="utf-8")
    r = invoke("simulate", str(SAMPLE), "--people", str(people), "--format", "json")
    found = [(f["code"], f["line"]) for f in json.loads(r.output)["findings"]]
    assert ("PK951", 3) in found and r.exit_code == 1


def test_people_csv_rows_that_are_not_utf8_each_a_finding(invoke, tmp_path):
    people = tmp_path / "p.csv"
    people.write_bytes(b"id,Email Address\np\xff1,a@x\np2,b\xfe@x\np3,c@x\n")
    r = invoke("simulate", str(SAMPLE), "--people", str(people), "--format", "json")
    out = json.loads(r.output)
    assert [(f["code"], f["line"], f["column"]) for f in out["findings"] if f["code"] == "PK951"] == [
        ("PK951", 2, 1), ("PK951", 3, 2)]
    assert r.exit_code == 1


def test_people_csv_header_of_a_million_columns_is_refused_quickly(invoke, tmp_path):
    people = tmp_path / "p.csv"
    people.write_text("id," + ",".join(f"c{i}" for i in range(1_000_000)) + "\np1\n", encoding="utf-8")
    r = invoke("simulate", str(SAMPLE), "--people", str(people))
    assert r.exit_code == 2 and "1000001 columns" in r.output


def test_events_with_a_bom_are_read_and_said(invoke, tmp_path):
    events = tmp_path / "e.jsonl"
    events.write_bytes(b"\xef\xbb\xbf" + EVENTS.read_bytes())
    plain = json.loads(invoke("simulate", str(SAMPLE), "--events", str(EVENTS), "--format", "json").output)
    r = invoke("simulate", str(SAMPLE), "--events", str(events), "--format", "json")
    got = json.loads(r.output)
    assert [f["code"] for f in got["findings"]] == ["PK120"] + [f["code"] for f in plain["findings"]]
    assert got["people"] == plain["people"]


# --- a custom `new` template that loops, recurses or allocates without bound ------------------------

TEMPLATES = Path(__file__).resolve().parent.parent / "programkit/templates/op-lead-management"
HOSTILE_TEMPLATES = {
    "loop": ("[% for i in range(100000) %][% for j in range(100000) %][% endfor %][% endfor %]",
             "rendering took longer than 2 s"),
    "output": ("[% for i in range(100000) %][% for j in range(1000) %][[ 'x' * 1000 ]][% endfor %][% endfor %]",
               "larger than 64 MiB"),
    "recursion": ("[% macro r(n) %][[ r(n + 1) ]][% endmacro %][[ r(0) ]]", "nest too deeply"),
    "alloc": ("[[ 'x' * 100000000000 ]]", "blocked by the sandbox"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_TEMPLATES))
def test_a_hostile_custom_template_is_stopped_not_a_crash(kind, invoke, tmp_path, monkeypatch):
    monkeypatch.setenv("PROGRAMKIT_RENDER_TIMEOUT", "2")
    template = tmp_path / "tpl"
    shutil.copytree(TEMPLATES, template)
    body, said = HOSTILE_TEMPLATES[kind]
    readme = template / "bundle/emails/notes.txt"
    readme.write_text(body, encoding="utf-8")
    r = invoke("new", str(template), str(tmp_path / "out"))
    assert r.exit_code == 2 and said in r.output, r.output
    assert not (tmp_path / "out").exists()


def test_a_retired_code_is_explained_and_never_registered_again(invoke):
    from programkit.findings import Severity, register_code

    r = invoke("explain", "PK961")
    assert r.exit_code == 2 and "PK961 is retired" in r.output and "PK418" in r.output, r.output
    with pytest.raises(ValueError, match="retired"):
        register_code("PK961", "something-else", Severity.ERROR, "x", hint="x", example="x", group="input")


def test_update_digests_on_a_read_only_bundle_writes_only_what_changed(sample_copy, tmp_path):
    """A bundle whose digests are right packs with --update-digests from a read-only folder (nothing to
    write); one whose digests are wrong is PK418 there, the bundle as it was."""
    require_permissions_enforced(tmp_path)
    assert ran_ok(["pack", str(sample_copy), "-o", "canonical.zip", "--update-digests"], tmp_path)  # canonical now
    folders = [sample_copy, *(p for p in sample_copy.rglob("*") if p.is_dir())]
    for folder in folders:
        folder.chmod(0o555)
    try:
        assert ran_ok(["pack", str(sample_copy), "-o", "a.zip", "--update-digests"], tmp_path)
        (sample_copy / "emails").chmod(0o755)
        (sample_copy / "emails/01-email-alert-mql.json").write_text('{"subject": "changed"}\n')
        (sample_copy / "emails").chmod(0o555)
        before = files_of(sample_copy)
        r = run_unprivileged(["pack", str(sample_copy), "-o", "b.zip", "--update-digests"], tmp_path)
        assert r.returncode == 2 and "PK418" in r.stderr and "permission denied (EACCES)" in r.stderr, r.stderr
        assert files_of(sample_copy) == before and not (tmp_path / "b.zip").exists()
    finally:
        for folder in folders:
            folder.chmod(0o755)
