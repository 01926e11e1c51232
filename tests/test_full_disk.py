"""A file system that refuses to write: every command that writes says so (exit 2, a finding code, one line
of error), leaves no temporary file and nothing half-written, and leaves the workspace byte-identical.

No privileges needed, so it runs in CI as root: the installed console script runs as a real process with
``RLIMIT_FSIZE`` set low and SIGXFSZ ignored, so every write past the limit fails with EFBIG ("file too
large") exactly where a full disk fails with ENOSPC: in ``write()``, part-way through a file. The bundle
carries a 100 KB image, so each output (archive, exported files, plan, report, workspace pages) is larger
than the limit.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from conftest import SAMPLE, SAMPLES
from import_helpers import PNG, add_asset
from registry_support import clean_registry_env, registry  # noqa: F401  (fixtures)

PROGRAMKIT = shutil.which("programkit", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                               os.environ.get("PATH", "")]))
#: below every output here, and below the 32 KiB shared-memory file SQLite needs beside a workspace it writes
LIMIT = 4096
#: above that shared-memory file, so SQLite opens the workspace and the import fails while its journal grows
LIMIT_WAL = 32768
PROGRAM = "OP-Lead Management"


def _limited(limit: int) -> Callable[[], None]:
    def pre() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG), no signal kills us
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return pre


def run_limited(args: list[str], cwd: Path, limit: int = LIMIT, env: dict[str, str] | None = None
                ) -> subprocess.CompletedProcess[str]:
    if PROGRAMKIT is None:
        if os.environ.get("CI"):
            pytest.fail("the programkit console script is not installed (pip install -e '.[test]')")
        pytest.skip("programkit console script not installed")
    env = {**os.environ, "PROGRAMKIT_STATE_DIR": str(cwd / ".state"), "NO_COLOR": "1", **(env or {})}
    env.pop("PROGRAMKIT_DEBUG", None)
    return subprocess.run([PROGRAMKIT, *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env,
                          preexec_fn=_limited(limit))


def tree(folder: Path) -> dict[str, str]:
    """Every entry under ``folder`` (hidden ones too) and its digest: 'nothing else was written'."""
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir")
            for p in sorted(folder.rglob("*")) if ".state" not in p.parts}


def assert_refused(done: subprocess.CompletedProcess[str], code: str, path: str) -> None:
    """Exit 2; one error line naming the path and 'file too large (EFBIG)' or SQLite's words; the code; no traceback."""
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith("error: ") and path in lines[0] and "nothing was" in lines[0], done.stderr
    assert any(line.strip().startswith((f"{code} ", f"{path}: {code} ")) or f": {code} [" in line
               for line in lines[1:]), done.stderr


@pytest.fixture(scope="module")
def big_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample plus a 100 KB image: every archive, export, plan and workspace of it passes the limit."""
    bundle = tmp_path_factory.mktemp("big") / "olm"
    shutil.copytree(SAMPLE, bundle)
    add_asset(bundle, "image", "hero.png", "design-studio/hero.png", PNG + bytes(range(256)) * 400)
    return bundle


@pytest.fixture
def work(tmp_path: Path, big_bundle: Path) -> Path:
    """A folder with the bundle, an empty workspace (ws.db) and one the program was imported into (full.db)."""
    shutil.copytree(big_bundle, tmp_path / "olm")
    for db in ("ws.db", "full.db"):
        subprocess.run([PROGRAMKIT or "programkit", "workspace", "init", "-t", db, "--crm", "salesforce"],
                       cwd=tmp_path, check=True, capture_output=True, timeout=120)
    subprocess.run([PROGRAMKIT or "programkit", "import", "olm", "-t", "full.db", "--yes"], cwd=tmp_path, check=True,
                   capture_output=True, timeout=120)
    return tmp_path


@pytest.mark.parametrize("limit", [LIMIT, LIMIT_WAL], ids=["no-room-for-sqlite-side-files", "journal-grows-past"])
def test_import_into_a_full_disk_leaves_the_workspace_byte_identical(work, limit):
    before = tree(work)
    done = run_limited(["import", "olm", "-t", "ws.db", "--yes"], work, limit)
    assert_refused(done, "PK415", "ws.db")
    after = tree(work)
    assert after.get("ws.db") == before["ws.db"]
    # nothing else, but SQLite's own empty side files where it could not even set up its shared memory
    extra = {k: v for k, v in after.items() if k not in before}
    assert set(extra) <= ({"ws.db-wal", "ws.db-shm"} if limit == LIMIT else set()), extra
    if "ws.db-wal" in extra:
        assert (work / "ws.db-wal").stat().st_size == 0
    # the workspace still reads and the import still works once there is room
    assert run_limited(["history", "-t", "ws.db"], work, 1 << 30).returncode == 0
    assert run_limited(["import", "olm", "-t", "ws.db", "--yes"], work, 1 << 30).returncode == 0


def test_workspace_init_on_a_full_disk_creates_nothing(work):
    before = tree(work)
    done = run_limited(["workspace", "init", "-t", "init.db"], work)
    assert_refused(done, "PK415", "init.db")
    assert tree(work) == before  # not even an empty init.db
    # with room it is made the same way (a temporary file linked to its name) and gets the usual mode
    assert run_limited(["workspace", "init", "-t", "init.db"], work, 1 << 30).returncode == 0
    umask = os.umask(0)
    os.umask(umask)
    assert (work / "init.db").stat().st_mode & 0o777 == 0o666 & ~umask
    assert set(tree(work)) - set(before) == {"init.db"}


def test_a_first_import_into_a_full_disk_creates_nothing(work):
    before = tree(work)
    done = run_limited(["import", str(SAMPLES / "event-program"), "-t", "new.db", "--yes"], work, LIMIT_WAL)
    assert_refused(done, "PK415", "new.db")
    assert tree(work) == before  # neither new.db nor its hidden .new.db.*.importing temporary file


WRITERS = {
    "export-dir": (["export", PROGRAM, "-t", "full.db", "-o", "out"], "out"),
    "export-zip": (["export", PROGRAM, "-t", "full.db", "-o", "out.zip"], "out.zip"),
    "pack": (["pack", "olm", "-o", "olm.zip"], "olm.zip"),
    "plan-out": (["plan", "olm", "-t", "ws.db", "--out", "plan.json"], "plan.json"),
    "plan-html": (["plan", "olm", "-t", "ws.db", "--html", "plan.html"], "plan.html"),
    "validate-html": (["validate", "olm", "--format", "html", "-o", "report.html"], "report.html"),
    "unpack": (["unpack", "olm.zip", "-o", "unpacked"], "unpacked"),
    "new": (["new", "op-lead-management", "fresh"], "fresh"),
    "inspect-html": (["inspect", "olm", "--html", "inspect.html"], "inspect.html"),
    "simulate-html": (["simulate", "olm", "--html", "simulation.html"], "simulation.html"),
    "simulate-out": (["simulate", "olm", "--out", "simulation.json"], "simulation.json"),
    "fix-digests": (["validate", "olm", "--fix-digests"], "olm/bundle.json"),
}
#: writers whose output is small: a lower limit (`import --html` writes with plan --html's writer, after the
#: workspace is open, which under these limits fails first: PK415, above)
SMALL = {"new": 512, "simulate-out": 256, "fix-digests": 512}


@pytest.mark.parametrize("command", sorted(WRITERS))
def test_every_writer_on_a_full_disk_says_pk418_and_leaves_nothing(command, work):
    if command == "unpack":
        assert run_limited(["pack", "olm", "-o", "olm.zip"], work, 1 << 30).returncode == 0
    if command == "fix-digests":  # a digest to fix
        (work / "olm" / "design-studio" / "hero.png").write_bytes(b"\x89PNG\r\n\x1a\nanother image")
    args, out = WRITERS[command]
    before = tree(work)
    done = run_limited(args, work, SMALL.get(command, LIMIT))
    assert_refused(done, "PK418", out)
    assert "file too large (EFBIG)" in done.stderr.splitlines()[0]
    assert tree(work) == before  # no output, no temporary file or folder, workspaces byte-identical


def test_a_writer_on_a_full_disk_keeps_the_file_it_would_have_replaced(work):
    (work / "olm.zip").write_bytes(b"the archive from yesterday")
    done = run_limited(["pack", "olm", "-o", "olm.zip", "--force"], work)
    assert_refused(done, "PK418", "olm.zip")
    assert (work / "olm.zip").read_bytes() == b"the archive from yesterday"


@pytest.mark.parametrize("out", ["pulled.zip", "pulled"])
def test_pull_on_a_full_disk_says_pk418_and_leaves_nothing(out, work, registry):  # noqa: F811
    ref = registry.ref("acme/olm:1.0.0")
    pushed = run_limited(["push", "olm", ref, "--plain-http"], work, 1 << 30)
    assert pushed.returncode == 0, pushed.stderr
    before = tree(work)
    done = run_limited(["pull", ref, "-o", out, "--plain-http"], work)
    assert_refused(done, "PK418", out)
    assert tree(work) == before


def test_reading_an_oci_reference_on_a_full_disk_says_pk418(work, registry):  # noqa: F811
    ref = registry.ref("acme/olm:1.0.0")
    assert run_limited(["push", "olm", ref, "--plain-http"], work, 1 << 30).returncode == 0
    done = run_limited(["validate", ref, "--plain-http"], work)  # the archive is fetched into a temporary file
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "PK418" in done.stderr and "file too large (EFBIG)" in done.stderr.splitlines()[0], done.stderr


def test_the_marketo_journal_writer_keeps_the_old_file_and_leaves_no_temporary_one(tmp_path):
    """The journal's own atomic writer (programkit.workspaces.marketo.common.write_json) under a file size
    limit set in this process (soft limit only, restored after)."""
    from programkit.workspaces.marketo.common import write_json

    journal = tmp_path / "state" / "journal.json"
    write_json(journal, {"step": 1})
    old = journal.read_bytes()
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, hard))
    try:
        with pytest.raises(OSError):
            write_json(journal, {"rows": ["x" * 100] * 100})
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)
    assert journal.read_bytes() == old
    assert sorted(p.name for p in journal.parent.iterdir()) == ["journal.json"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_simulate_on_a_full_disk_says_pk418_for_its_scratch_files(jobs, tmp_path):
    """A run large enough to spill what it collects to temporary files (and, with --jobs 2, to hand shares
    between processes through them)."""
    events = tmp_path / "many.jsonl"
    events.write_text("".join(f'{{"at": "2026-04-01T09:00:00Z", "person": "p{i}", "type": "created", "data": '
                              f'{{"Email Address": "p{i}@example.com"}}}}\n'
                              f'{{"at": "2026-04-01T10:00:00Z", "person": "p{i}", "type": "score", "data": '
                              f'{{"change": "+120"}}}}\n' for i in range(6_000)))  # each an MQL alert
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    done = run_limited(["simulate", str(SAMPLE), "--events", str(events), "--jobs", jobs], tmp_path,
                       env={"TMPDIR": str(scratch)})
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "PK418" in done.stderr and f"{scratch}: cannot write: file too large (EFBIG)" in done.stderr, done.stderr
    assert list(scratch.iterdir()) == []  # its temporary files went with it
