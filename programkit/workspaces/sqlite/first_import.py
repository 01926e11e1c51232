"""A workspace file that appears only once it is whole: the first import's, and the one ``workspace init`` makes.

:func:`_create_file` builds a new file's workspace in a hidden temporary file beside it and links it to its name.
:func:`open_new_file` gives a :class:`NewFileWorkspace` (seeded in memory); its first transaction writes a hidden,
locked ``.NAME.*.importing`` file beside the target and links it to its name only once committed. What a killed
import leaves behind is removed by :func:`sweep_stale_imports`, which every open of the target runs.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

try:  # POSIX: a temporary file of a running first import is locked; one nobody locks is a dead import's
    import fcntl
except ImportError:  # pragma: no cover - Windows: stale temporary files are left for the user
    fcntl = None  # type: ignore[assignment]

from ...errors import BadInput, ProgramkitError
from ...findings import make
from ...output import usual_mode
from .schema import DEFAULT_WORKSPACE, _check_path, busy_timeout_from_env, connect, is_write_failure, not_writable
from .storage import SqliteWorkspace, SqliteWriter, _create_workspace

#: a database file's side files, then the file itself: removed in this order, so that a kill part-way
#: through the removal leaves the (named) file for the next sweep, never side files without it
_SIDE_SUFFIXES = ("-wal", "-shm", "-journal", "")
#: what follows ``.NAME.`` in the name of a first import's temporary file
_IMPORTING = ".importing"


def _remove_with_side_files(path: str) -> None:
    for suffix in _SIDE_SUFFIXES:
        Path(path + suffix).unlink(missing_ok=True)


def _locked_temp_file(target: Path) -> tuple[int, str]:
    """A new hidden ``.NAME.*.importing`` file beside ``target``, and an open descriptor holding its lock.

    The lock (``flock``, released by the kernel when the process ends, however it ends) is what tells
    :func:`sweep_stale_imports` in another process that this import is alive.
    """
    while True:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=_IMPORTING, dir=target.parent)
        if fcntl is None:  # pragma: no cover
            return fd, tmp
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.stat(tmp).st_ino == os.fstat(fd).st_ino:
                return fd, tmp
        except FileNotFoundError:
            pass
        os.close(fd)  # a sweep took it between mkstemp and flock: it is gone, take another


def sweep_stale_imports(db_path: str | os.PathLike[str]) -> list[str]:
    """Remove what first imports into ``db_path`` that were killed (``kill -9``, power loss) left beside it.

    Only ``.NAME.*.importing`` files (and their ``-wal``/``-shm``/``-journal`` side files) that no process
    holds locked are removed: a running import keeps its file locked until it finishes, and the kernel drops
    the lock of a process that died. Returns the paths of the temporary files removed. Nothing is removed
    where file locks are not available (Windows).
    """
    target = Path(os.fspath(db_path))
    if fcntl is None or os.fspath(db_path) == ":memory:" or not target.parent.is_dir():
        return []
    removed = []
    prefix = f".{target.name}."
    try:
        names = [n for n in os.listdir(target.parent) if n.startswith(prefix) and n.endswith(_IMPORTING)]
    except OSError:
        return []
    for name in sorted(names):
        tmp = os.path.join(target.parent, name)
        try:
            fd = os.open(tmp, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
        except OSError:  # gone meanwhile, a link, or not ours to open: leave it
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # a live import holds it
            os.close(fd)
            continue
        try:
            if os.stat(tmp).st_ino == os.fstat(fd).st_ino:  # still the file we locked
                _remove_with_side_files(tmp)
                removed.append(tmp)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


class NewFileWorkspace(SqliteWorkspace):
    """A workspace of a file that is only created when its first write transaction commits.

    Why this shape: the plan must be made against exactly the inventory the import then writes to, and a failed
    import must leave the directory as it was. So the fresh, seeded workspace is built in an in-memory database
    (plans read it; its revision reads ``"new"`` until the file exists, so a plan saved against another file is
    refused). The first :meth:`transaction` copies it into a hidden temporary file beside the target, writes
    there, commits, checkpoints the WAL, and only then links the finished file to its name (atomically, and
    refusing if another process created the file meanwhile). On any failure the temporary file and its
    ``-wal``/``-shm`` side files are removed: the target path never holds a half-made or empty workspace. A
    ``kill -9`` in the middle can leave the temporary ``.NAME.*.importing`` file (never the target); the import
    holds it locked while it runs, so the next command that opens the target removes it once its process is
    gone (:func:`sweep_stale_imports`).
    """

    def __init__(self, path: str, name: str, crm: str | None, busy_timeout: float):
        memory = connect(":memory:", busy_timeout)
        try:
            ws_id = _create_workspace(memory, path, name, crm, busy_timeout)
        except BaseException:
            memory.close()
            raise
        super().__init__(memory, path, ws_id, name.strip(), busy_timeout)
        self.created = False

    def revision(self) -> str:
        return super().revision() if self.created else NEW_REVISION

    @contextmanager
    def transaction(self) -> Iterator["SqliteWriter"]:
        if self.created:
            with super().transaction() as w:
                yield w
            return
        try:
            lock, tmp = _locked_temp_file(Path(self.path))
        except OSError as e:  # a read-only folder, a full disk
            raise not_writable(self.path, e) from None
        memory = self.db
        try:
            try:
                disk = sqlite3.connect(tmp)
                try:
                    memory.backup(disk)  # the very inventory the plan was made against
                finally:
                    disk.close()
                self.db = connect(tmp, self.busy_timeout)
            # a full disk or a file size limit while copying: said of the file asked for, not of the temporary one
            except sqlite3.OperationalError as e:
                if not is_write_failure(e):
                    raise
                raise not_writable(self.path, e) from None
            except BadInput as e:
                if not (e.findings and e.findings[0].code == "PK415"):
                    raise
                raise not_writable(self.path, e.__context__ or e) from None
            with super().transaction() as w:
                yield w
            try:
                self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file before it is linked
                self.db.close()
            except sqlite3.OperationalError as e:
                if not is_write_failure(e):
                    raise
                raise not_writable(self.path, e) from None
            _publish(tmp, self.path)
            self.created = True
        finally:
            if not self.created:
                if self.db is not memory:
                    self.db.close()
                self.db = memory  # still the unborn workspace: nothing happened
            _remove_with_side_files(tmp)
            os.close(lock)  # the lock goes last: no sweep can take the file while it is in use
        memory.close()
        self.db = connect(self.path, self.busy_timeout)


#: the revision a workspace that does not exist yet reports (plans made for a first import record it)
NEW_REVISION = "new"


def _publish(tmp: str, path: str) -> None:
    """Give the finished file ``tmp`` the name ``path``, unless something has that name by now."""
    os.chmod(tmp, usual_mode())  # mkstemp made it 0600; the file gets the mode a plain open would give
    try:
        os.link(tmp, path)  # atomic and never overwrites
        return
    except FileExistsError:
        pass
    except OSError:  # a filesystem without hard links: check, then rename (a narrow race, but no overwrite seen)
        if not os.path.lexists(path):
            os.replace(tmp, path)
            return
    raise ProgramkitError(f"{path} was created by another process during this import; nothing was written", [make(
        "PK520", f"{path} did not exist when the plan was made and does now")])


def _create_file(path: str, name: str, crm: str | None, busy_timeout: float) -> None:
    """A new workspace file at ``path``, made whole in a hidden temporary file beside it and then linked to its
    name (never over a file that appeared meanwhile): a full disk or a kill leaves no file, never an empty or
    half-made one (PK415 for a file system that refuses)."""
    _check_path(path)
    try:
        lock, tmp = _locked_temp_file(Path(path))
    except OSError as e:  # a read-only folder, a full disk
        raise not_writable(path, e) from None
    try:
        try:
            db = connect(tmp, busy_timeout)
        except BadInput as e:
            if e.findings and e.findings[0].code == "PK415":  # said of the file asked for, not the temporary one
                raise not_writable(path, e.__context__ or e) from None
            raise
        try:
            _create_workspace(db, path, name, crm, busy_timeout)
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file before it is linked
        except sqlite3.OperationalError as e:
            if is_write_failure(e):
                raise not_writable(path, e) from None
            raise
        finally:
            db.close()
        try:
            _publish(tmp, path)
        except ProgramkitError:
            raise BadInput(f"{path} was created by another process meanwhile; nothing was written",
                           hint="Run the command again: it adds the workspace to that file.") from None
    finally:
        _remove_with_side_files(tmp)
        os.close(lock)


def open_new_file(db_path: str | os.PathLike[str], workspace: str = DEFAULT_WORKSPACE, crm: str | None = None,
                  busy_timeout: float | None = None) -> "NewFileWorkspace":
    """A workspace in a file that does not exist yet and that only appears if a write transaction commits.

    What a first import uses: until then the workspace (seeded like a new
    Marketo instance) lives in memory, so planning, a preflight failure, a
    declined confirmation or an exception leave no file behind.
    """
    path = os.fspath(db_path)
    _check_path(path)
    sweep_stale_imports(path)
    if Path(path).exists():
        raise BadInput(f"{path} already exists", hint="Open it with open_workspace().")
    return NewFileWorkspace(path, workspace, crm, busy_timeout_from_env(busy_timeout))
