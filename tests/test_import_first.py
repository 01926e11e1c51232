"""A first import creates the workspace file, and only if it is applied: a failed or cancelled one (preflight
problems, a declined confirmation, an error before commit), a dry run and a plan leave the directory exactly as
it was — no file, no `-wal`/`-shm`, no temporary file, no empty workspace."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from bundle_edits import CAMPAIGN_01, CAMPAIGN_02, edit_asset, edit_manifest
from dbdump import dump
from programkit.apply import apply_plan
from programkit.errors import ProgramkitError
from programkit.plan import plan_path
from programkit.workspaces import open_target
from programkit.workspaces.sqlite import SqliteWriter, init_workspace, list_workspaces

PROGRAM = "OP-Lead Management"


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def no_crm_bundle(sample_copy: Path) -> Path:
    """The sample without its CRM steps and requirement: a new workspace (no CRM) can take it."""
    def drop_sync(doc):
        doc["flow"] = [s for s in doc["flow"] if s["step"] != "Sync Person to SFDC"]

    for rel in (CAMPAIGN_01, CAMPAIGN_02):
        edit_asset(sample_copy, rel, drop_sync)
    edit_manifest(sample_copy, lambda m: m.pop("requires"))
    return sample_copy


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


def test_preflight_failure_creates_no_file_and_no_workspace(sample_copy, empty):
    """The user's report: in an empty folder, an import the preflight stops (PK507: no CRM) left programkit.db
    with an empty workspace 'Client2' behind. A real subprocess, with the default target in the cwd."""
    cmd = [sys.executable, "-m", "programkit"]
    r = subprocess.run(cmd + ["import", str(sample_copy), "-w", "Client2", "--yes"], cwd=empty,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "PK507 [missing-crm]" in r.stdout, r.stdout + r.stderr
    assert "workspace 'Client2' has none" in r.stdout
    assert listing(empty) == []
    r = subprocess.run(cmd + ["workspace", "list"], cwd=empty, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "programkit.db: no such file or directory" in r.stderr
    assert listing(empty) == []


@pytest.mark.parametrize("args", [("plan",), ("import", "--dry-run"), ("import", "--dry-run", "--yes")])
def test_plan_and_dry_run_into_a_missing_file_create_nothing(no_crm_bundle, empty, invoke, args):
    r = invoke(args[0], str(no_crm_bundle), *args[1:], "-t", str(empty / "programkit.db"), "-w", "Client2")
    assert r.exit_code == 2 and "programkit.db: no such file or directory" in r.stderr
    assert listing(empty) == []


def test_declined_confirmation_creates_nothing(no_crm_bundle, empty, invoke, monkeypatch):
    from programkit.cli import importing

    # a terminal on stdin, so the import asks; everything else is the real sys
    tty = SimpleNamespace(isatty=lambda: True)
    monkeypatch.setattr(importing, "sys", SimpleNamespace(stdin=tty, stderr=sys.stderr))
    r = invoke("import", str(no_crm_bundle), "-t", str(empty / "programkit.db"), "-w", "Client2", input="n\n")
    assert r.exit_code == 0, r.output
    assert "Apply this plan? [y/N]: n" in r.output and "Cancelled: nothing was written." in r.output
    assert listing(empty) == []


def test_an_error_before_commit_leaves_no_file(no_crm_bundle, empty, invoke, monkeypatch):
    def broken(self, record):
        raise ProgramkitError("disk full (simulated)")

    monkeypatch.setattr(SqliteWriter, "record_import", broken)
    r = invoke("import", str(no_crm_bundle), "-t", str(empty / "programkit.db"), "-w", "Client2", "--yes")
    assert r.exit_code == 1 and "disk full (simulated)" in r.stderr
    assert listing(empty) == []  # neither the file nor its temporary copy nor -wal/-shm


def test_an_applied_first_import_creates_the_file_with_the_workspace(no_crm_bundle, empty, invoke):
    db = empty / "programkit.db"
    r = invoke("import", str(no_crm_bundle), "-t", str(db), "-w", "Client2", "--yes")
    assert r.exit_code == 0, r.output
    assert "Imported op-lead-management 1.0.0 into workspace 'Client2' as program 'OP-Lead Management'" in r.output
    assert listing(empty) == ["programkit.db"]
    (row,) = list_workspaces(db)
    assert (row["name"], row["crm"], row["programs"], row["revision"]) == ("Client2", None, 1, "1.2")
    with open_target(str(db), "Client2", create=False) as ws:
        assert [p.name for p in ws.programs()] == [PROGRAM]
        assert [(h.id, h.outcome) for h in ws.history()] == [(1, "applied")]
        assert len(ws.fields()) > 40 and "Operational" in ws.channels()  # seeded like a new instance
    r = invoke("import", str(no_crm_bundle), "-t", str(db), "-w", "Client2", "--yes")
    assert r.exit_code == 0 and "No changes" in r.output


def test_a_file_created_meanwhile_is_left_alone(no_crm_bundle, tmp_path):
    """Planned for a new file; another process creates it before the apply: refused (PK520), theirs untouched."""
    db = tmp_path / "pk.db"
    ws = open_target(str(db), "Default", create=False, create_on_commit=True)
    try:
        plan, bundle = plan_path(str(no_crm_bundle), ws)
        assert plan.ok and plan.workspace == {"name": "Default", "revision": "new",
                                       "target": os.path.realpath(db)}
        assert not db.exists()
        init_workspace(db, crm="dynamics").close()
        before = dump(db)
        with pytest.raises(ProgramkitError) as e:
            apply_plan(plan, bundle, ws)
        assert [f.code for f in e.value.findings] == ["PK520"]
    finally:
        ws.close()
    assert dump(db) == before
    assert sorted(os.listdir(tmp_path)) == sorted(["pk.db", no_crm_bundle.name])


def test_an_unknown_workspace_in_an_existing_file_is_not_created(no_crm_bundle, tmp_path, invoke):
    db = tmp_path / "pk.db"
    init_workspace(db).close()
    before, files = dump(db), listing(tmp_path)
    for args in (("import", "--yes"), ("import", "--dry-run"), ("plan",)):
        r = invoke(args[0], str(no_crm_bundle), *args[1:], "-t", str(db), "-w", "Client2")
        assert r.exit_code == 2 and "has no workspace called 'Client2'" in r.stderr, args
    assert dump(db) == before and listing(tmp_path) == files
    assert [w["name"] for w in list_workspaces(db)] == ["Default"]


def _import_cmd(bundle: Path, db: Path) -> list[str]:
    return [sys.executable, "-m", "programkit", "import", str(bundle), "--target", str(db), "--yes"]


@pytest.mark.skipif(not hasattr(__import__("signal"), "SIGKILL"), reason="needs SIGKILL and file locks")
def test_a_first_import_killed_midway_leaves_a_temporary_file_the_next_command_removes(no_crm_bundle, empty):
    """kill -9 mid-way through a first import leaves `.NAME.*.importing` (never the target); the next command
    that opens the target removes it (and its -wal/-shm), and the import then runs as if nothing happened."""
    from programkit.apply import KILL_AT_ENV

    db = empty / "pk.db"
    killed = subprocess.run(_import_cmd(no_crm_bundle, db), capture_output=True, timeout=60,
                            env={**os.environ, KILL_AT_ENV: "3"})
    assert killed.returncode == -9, killed.stderr
    left = listing(empty)
    assert left and all(n.startswith(".pk.db.") and ".importing" in n for n in left), left
    done = subprocess.run([sys.executable, "-m", "programkit", "workspace", "list", "--target", str(db)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and f"{db}: no such file or directory" in done.stderr  # still no workspace, and says so
    assert listing(empty) == []
    killed = subprocess.run(_import_cmd(no_crm_bundle, db), capture_output=True, timeout=60,
                            env={**os.environ, KILL_AT_ENV: "3"})
    assert killed.returncode == -9 and listing(empty)
    done = subprocess.run(_import_cmd(no_crm_bundle, db), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert listing(empty) == ["pk.db"]


def test_the_temporary_file_of_a_running_import_is_left_alone(no_crm_bundle, empty):
    """A sweep from another process never takes the file of a first import that is still running."""
    import time

    from programkit.apply import DELAY_ENV
    from programkit.workspaces.sqlite import sweep_stale_imports

    db = empty / "pk.db"
    proc = subprocess.Popen(_import_cmd(no_crm_bundle, db), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, DELAY_ENV: "0.1"})
    try:
        import fcntl

        def locked_by_the_import(name: str) -> bool:
            # mkstemp comes a moment before flock: only a locked file is a running import's (an unlocked one
            # may be swept, and the import then takes another; on a loaded machine the test saw that gap)
            try:
                fd = os.open(empty / name, os.O_RDONLY)
            except OSError:
                return False
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
            finally:
                os.close(fd)
            return False

        deadline = time.monotonic() + 30
        while (not any(n.endswith(".importing") and locked_by_the_import(n) for n in listing(empty))
               and time.monotonic() < deadline):
            time.sleep(0.01)
        running = [n for n in listing(empty) if n.endswith(".importing")]
        assert running and proc.poll() is None
        assert sweep_stale_imports(db) == []
        assert all(n in listing(empty) for n in running)
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()
    assert listing(empty) == ["pk.db"]


def test_a_leftover_temporary_file_is_removed_only_when_unlocked(tmp_path):
    """Simulated leftovers: unlocked ones (their process is gone) go with their side files; a locked one, an
    unrelated hidden file and another target's temporary file stay."""
    import fcntl

    from programkit.workspaces.sqlite import sweep_stale_imports

    db = tmp_path / "pk.db"
    names = [".pk.db.a1b2c3.importing", ".pk.db.a1b2c3.importing-wal", ".pk.db.a1b2c3.importing-shm",
             ".pk.db.live.importing", ".other.db.x.importing", ".pk.db.notes", "pk.db.importing"]
    for n in names:
        (tmp_path / n).write_bytes(b"x")
    held = os.open(tmp_path / ".pk.db.live.importing", os.O_RDWR)
    fcntl.flock(held, fcntl.LOCK_EX)
    try:
        assert sweep_stale_imports(db) == [str(tmp_path / ".pk.db.a1b2c3.importing")]
        assert listing(tmp_path) == sorted([".pk.db.live.importing", ".other.db.x.importing", ".pk.db.notes",
                                            "pk.db.importing"])
    finally:
        os.close(held)
    init_workspace(db).close()  # any command that opens the target sweeps
    assert ".pk.db.live.importing" not in listing(tmp_path)
