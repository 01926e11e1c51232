"""The embedded target: workspaces stored in one SQLite file.

One file holds any number of workspaces (Marketo's default one is called
"Default"); every row carries its workspace id. The schema is versioned with
``PRAGMA user_version`` and upgraded by the forward migrations in
:data:`MIGRATIONS`; a file written by a newer programkit is refused with a
clear error rather than misread.

Writes happen only inside :meth:`SqliteWorkspace.transaction`, one
``BEGIN IMMEDIATE`` SQLite transaction: all of it commits or none of it does.
Each committed write transaction bumps the workspace's revision counter, which
plans record to detect drift. WAL mode lets readers carry on while one writer
works; a second writer waits at most ``busy_timeout`` seconds and then gets
:class:`WorkspaceBusy`.

Names are case-insensitive as in Marketo: each named row keeps the name as
written plus ``name_key`` (its ``str.casefold()``), and look-ups use the key,
so non-ASCII names compare the same way Python does.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shlex
import sqlite3
import tempfile
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

try:  # POSIX: a temporary file of a running first import is locked; one nobody locks is a dead import's
    import fcntl
except ImportError:  # pragma: no cover - Windows: stale temporary files are left for the user
    fcntl = None  # type: ignore[assignment]

from ..canonical import sha256_bytes
from ..errors import BadInput, ProgramkitError, no_such_path, require_folder_of
from ..findings import Severity, make, register_code
from ..resources import data_json
from ..rules import copy_pattern, copy_stem
from . import sqlite_journal
from .base import (DESIGN_KINDS, LOCAL_KINDS, AssetInfo, FieldInfo, ImportRecord, ProgramInfo, Provenance, Workspace,
                   WorkspaceWriter)

#: Default name of the workspace a new file gets, as in Marketo.
DEFAULT_WORKSPACE = "Default"
#: Seconds a writer waits for another writer before :class:`WorkspaceBusy` (env PROGRAMKIT_BUSY_TIMEOUT overrides).
DEFAULT_BUSY_TIMEOUT = 10.0
BUSY_TIMEOUT_ENV = "PROGRAMKIT_BUSY_TIMEOUT"
#: CRM connections a workspace can have (None: no CRM connected, as a new Marketo instance).
CRMS = ("salesforce", "dynamics")
#: what :meth:`SqliteWorkspace.names` accepts
NAME_KINDS = ("segmentations", "webhooks", "customObjects", "snippets")
#: SQLite's default limit on host parameters is 999 in old builds; stay well under it.
_CHUNK = 500


register_code("PK414", "not-a-workspace", Severity.ERROR,
              "A --target file is not a programkit workspace: another SQLite database, an empty or damaged file, or "
              "one whose schema version this programkit does not read (exit 2). It is left exactly as it was.",
              hint="--target names a file made by `programkit workspace init`; check the path (or PROGRAMKIT_TARGET).",
              example="error: data.db is not a programkit workspace file: a SQLite database with other tables "
                      "(users, orders)", group="input")
register_code("PK415", "workspace-not-writable", Severity.ERROR,
              "The workspace file cannot be written: read-only file or folder, full disk, or an I/O error. Nothing "
              "was changed (exit 2).",
              hint="Make the file and its folder writable, or free disk space, and run the command again.",
              example="error: programkit.db cannot be written (attempt to write a readonly database); nothing was "
                      "changed", group="input")

#: the tables every programkit workspace file has (schema version 2)
_WORKSPACE_TABLES = {"workspaces", "fields", "channels", "programs", "assets", "imports"}


def not_a_workspace(path: str, why: str) -> BadInput:
    """The error (exit 2, PK414) for a --target file that is not a programkit workspace."""
    message = f"{path} is not a programkit workspace file: {why}"
    return BadInput(message, [make("PK414", message, file=path)],
                    hint="--target names a file made by `programkit workspace init`; this one was left as it was.")


def not_writable(path: str, err: BaseException) -> BadInput:
    """The error (exit 2, PK415) for a workspace file a write failed on (read-only, full disk, I/O error)."""
    if isinstance(err, OSError):
        from ..output import errno_words

        err = errno_words(err)  # type: ignore[assignment]
    message = f"{path} cannot be written ({err}); nothing was changed"
    return BadInput(message, [make("PK415", message, file=path)],
                    hint="Make the file and its folder writable, or free disk space, and run the command again.")


#: sqlite3 errors that mean "this file cannot be written" rather than a bug
_WRITE_ERRORS = ("readonly", "read-only", "disk is full", "disk i/o error", "unable to open", "database or disk is full")


def is_write_failure(err: BaseException) -> bool:
    return isinstance(err, sqlite3.OperationalError) and any(w in str(err).lower() for w in _WRITE_ERRORS)


class WorkspaceBusy(ProgramkitError):
    """Another writer held the workspace file longer than the busy timeout."""


def busy_timeout_from_env(value: float | None = None) -> float:
    """``value`` if given, else $PROGRAMKIT_BUSY_TIMEOUT, else :data:`DEFAULT_BUSY_TIMEOUT` seconds."""
    if value is not None:
        return value
    raw = os.environ.get(BUSY_TIMEOUT_ENV)
    if not raw:
        return DEFAULT_BUSY_TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 3600:
        raise BadInput(f"{BUSY_TIMEOUT_ENV}={raw!r} is not a number of seconds between 0 and 3600")
    return seconds


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _key(name: str) -> str:
    return name.casefold()


#: one encoder for every row: json.dumps with options builds a new one per call (10k asset metas per import)
_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _dump(value: Any) -> str:
    return _ENCODER.encode(value)


# --- schema and migrations ------------------------------------------------------


def _migrate_1(db: sqlite3.Connection) -> None:
    """Inventory, programs and assets."""
    for sql in (
        """CREATE TABLE workspaces (
               id INTEGER PRIMARY KEY AUTOINCREMENT,
               name TEXT NOT NULL, name_key TEXT NOT NULL UNIQUE,
               crm TEXT CHECK (crm IN ('salesforce', 'dynamics')),
               revision INTEGER NOT NULL DEFAULT 0,
               created_at TEXT NOT NULL)""",
        """CREATE TABLE fields (
               workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
               api_name TEXT NOT NULL, name_key TEXT NOT NULL,
               display_name TEXT NOT NULL, type TEXT NOT NULL,
               standard INTEGER NOT NULL DEFAULT 0,
               PRIMARY KEY (workspace_id, name_key))""",
        """CREATE TABLE channels (
               workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
               name TEXT NOT NULL, name_key TEXT NOT NULL,
               position INTEGER NOT NULL,
               applicable_to TEXT,
               statuses TEXT NOT NULL,  -- JSON: [{"name", "step", "success"?}] in step order
               PRIMARY KEY (workspace_id, name_key))""",
        """CREATE TABLE tag_types (
               workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
               name TEXT NOT NULL, name_key TEXT NOT NULL,
               PRIMARY KEY (workspace_id, name_key))""",
        """CREATE TABLE tag_values (
               workspace_id INTEGER NOT NULL,
               tag_key TEXT NOT NULL,
               value TEXT NOT NULL, value_key TEXT NOT NULL,
               PRIMARY KEY (workspace_id, tag_key, value_key),
               FOREIGN KEY (workspace_id, tag_key) REFERENCES tag_types(workspace_id, name_key) ON DELETE CASCADE)""",
        # segmentations, webhooks, customObjects and requirement-only snippets: things bundles require by name
        """CREATE TABLE named (
               workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
               what TEXT NOT NULL CHECK (what IN ('segmentations', 'webhooks', 'customObjects', 'snippets')),
               name TEXT NOT NULL, name_key TEXT NOT NULL,
               data TEXT NOT NULL DEFAULT '{}',
               PRIMARY KEY (workspace_id, what, name_key))""",
        """CREATE TABLE programs (
               id INTEGER PRIMARY KEY AUTOINCREMENT,
               workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
               name TEXT NOT NULL, name_key TEXT NOT NULL,
               folder TEXT,               -- where the program sits (Marketing Activities path)
               data TEXT NOT NULL,        -- JSON: the manifest's program object
               created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
               UNIQUE (workspace_id, name_key))""",
        """CREATE TABLE folders (
               id INTEGER PRIMARY KEY AUTOINCREMENT,
               workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
               program_id INTEGER REFERENCES programs(id) ON DELETE CASCADE,
               path TEXT NOT NULL, path_key TEXT NOT NULL)""",
        "CREATE UNIQUE INDEX folders_path ON folders (workspace_id, IFNULL(program_id, 0), path_key)",
        """CREATE TABLE assets (
               id INTEGER PRIMARY KEY AUTOINCREMENT,
               workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
               program_id INTEGER REFERENCES programs(id) ON DELETE CASCADE,
               kind TEXT NOT NULL, name TEXT NOT NULL, name_key TEXT NOT NULL,
               folder TEXT,
               sha256 TEXT NOT NULL, size INTEGER NOT NULL, content BLOB NOT NULL,
               meta TEXT NOT NULL DEFAULT '{}',
               created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
        # Design Studio names are unique per workspace and kind; local assets are looked up per program
        "CREATE UNIQUE INDEX assets_design ON assets (workspace_id, kind, name_key) WHERE program_id IS NULL",
        "CREATE INDEX assets_program ON assets (program_id, kind, name_key)",
    ):
        db.execute(sql)


def _migrate_2(db: sqlite3.Connection) -> None:
    """Import history and provenance (program → the last import that wrote it)."""
    db.execute(
        """CREATE TABLE imports (
               id INTEGER PRIMARY KEY AUTOINCREMENT,
               workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
               bundle TEXT NOT NULL, version TEXT NOT NULL, digest TEXT NOT NULL,
               program TEXT NOT NULL,
               rules TEXT NOT NULL, plan TEXT NOT NULL, mapping TEXT NOT NULL,
               started_at TEXT NOT NULL, finished_at TEXT,
               outcome TEXT NOT NULL)""")
    db.execute("CREATE INDEX imports_workspace ON imports (workspace_id, id)")
    db.execute("ALTER TABLE programs ADD COLUMN import_id INTEGER REFERENCES imports(id) ON DELETE SET NULL")


def _migrate_3(db: sqlite3.Connection) -> None:
    """The change journal (what each write transaction changed, for ``rollback N``): see sqlite_journal."""
    sqlite_journal.migrate(db)


#: Forward migrations: MIGRATIONS[i] takes a file from user_version i to i + 1. Append only.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_migrate_1, _migrate_2, _migrate_3]
SCHEMA_VERSION = len(MIGRATIONS)


def _newer(path: str, found: int) -> BadInput:
    return BadInput(
        f"{path} has workspace schema version {found}, newer than this programkit understands "
        f"(version {SCHEMA_VERSION})",
        hint="Upgrade programkit to open this file; it was written by a newer release.")


def migrate(db: sqlite3.Connection, path: str, upto: int = SCHEMA_VERSION,
            busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> int:
    """Bring the file to schema ``upto``, one transaction per step. Returns the version found.

    An up-to-date file is only read (no write lock, so opening one never waits
    for an import). Each step re-reads the version under the write lock, so two
    processes opening an old file at once migrate it once.
    """
    found = db.execute("PRAGMA user_version").fetchone()[0]
    if found > SCHEMA_VERSION:
        raise _newer(path, found)
    while db.execute("PRAGMA user_version").fetchone()[0] < upto:
        _begin(db, path, busy_timeout)
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise _newer(path, version)
            if version < upto:
                MIGRATIONS[version](db)
                db.execute(f"PRAGMA user_version = {version + 1}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    return found


def _begin(db: sqlite3.Connection, path: str, timeout: float) -> None:
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as e:
        if "locked" in str(e) or "busy" in str(e):
            raise WorkspaceBusy(
                f"{path} is being written by another process; gave up after {timeout:g} s",
                hint=f"Wait for the other import to finish and try again, or wait longer with {BUSY_TIMEOUT_ENV}=SECONDS.") from e
        raise


def _check_path(display: str) -> None:
    """BadInput unless ``display`` is a file or can become one."""
    p = Path(display)
    if p.exists() and not p.is_file():
        raise BadInput(f"{display} is not a file",
                       hint=f"--target names a workspace database file, e.g. {Path(display, 'programkit.db')}.")
    require_folder_of(display, "--target")


def _foreign_reason(db: sqlite3.Connection, display: str, *, empty_ok: bool, migrate_ok: bool) -> str | None:
    """Why an open SQLite file is not a programkit workspace (None if it is one, or an old one to migrate)."""
    db.execute("BEGIN")  # version and tables from one snapshot: another process may be migrating the file
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = sorted(r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
    finally:
        if db.in_transaction:  # a read that failed (disk I/O error) has ended it: its error is the one to see
            db.execute("COMMIT")
    if version < 0:
        return f"schema version {version} (damaged header?)"
    if version > SCHEMA_VERSION:
        return None  # migrate() says "newer than this programkit"
    if version == 0:
        if tables:
            shown = ", ".join(tables[:5]) + (", …" if len(tables) > 5 else "")
            return f"a SQLite database with other tables ({shown})"
        if not empty_ok:
            return "an empty file" if os.path.getsize(display) == 0 else "an empty SQLite database"
        return None  # an empty file becomes a workspace when a command creates one in it
    expected = _WORKSPACE_TABLES if version >= 2 else {"workspaces", "programs", "assets"}
    missing = sorted(expected - set(tables))
    if missing:
        return f"schema version {version}, but the tables {', '.join(missing)} are missing (damaged?)"
    return None


def connect_readonly(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """Open an existing workspace file for reading only (``mode=ro``): a command that only reads never writes,
    never migrates, and refuses a file that is not a programkit workspace (PK414), leaving it byte-identical."""
    display = os.fspath(path)
    if not os.path.lexists(display):
        raise no_such_path(display, _init_hint(display))
    _check_path(display)
    from urllib.parse import quote

    # A WAL file opened read-only gets -wal and -shm files beside it, which a read-only connection cannot
    # remove. With no -wal file there, no writer has the file open and everything is in the main file: read it
    # as immutable (no side files). Otherwise a writer is at work and the side files exist already.
    # An empty -wal file (left by a writer that could not start: a full disk) holds nothing either.
    try:
        quiet = os.path.getsize(display + "-wal") == 0
    except OSError:
        quiet = True
    uri = f"file:{quote(os.path.abspath(display))}?mode=ro" + ("&immutable=1" if quiet else "")
    try:
        db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=busy_timeout_from_env(None))
    except sqlite3.Error as e:
        raise not_a_workspace(display, f"cannot be opened ({e})") from None
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise _newer(display, version)
        why = _foreign_reason(db, display, empty_ok=False, migrate_ok=False)
    except sqlite3.DatabaseError as e:
        db.close()
        raise not_a_workspace(display, f"not a SQLite database ({e})") from None
    except BaseException:
        db.close()
        raise
    if why is not None:
        db.close()
        raise not_a_workspace(display, why)
    if version < SCHEMA_VERSION:
        # written by an older programkit: read an upgraded copy in memory, the file stays as it is (the next
        # command that writes upgrades it)
        memory = sqlite3.connect(":memory:", isolation_level=None)
        try:
            db.backup(memory)
            migrate(memory, display)
        except BaseException:
            memory.close()
            raise
        finally:
            db.close()
        return memory
    return db


def connect(path: str | os.PathLike[str], busy_timeout: float | None = None,
            migrate_to: int = SCHEMA_VERSION, allow_empty: bool = True) -> sqlite3.Connection:
    """Open (creating if missing) a workspace file: WAL, foreign keys on, schema migrated.

    A file that is another SQLite database, or (unless ``allow_empty``: a command that creates a workspace) an
    empty one, is refused (PK414) before anything is written to it."""
    display = os.fspath(path)
    busy_timeout = busy_timeout_from_env(busy_timeout)
    _check_path(display)
    db = None
    if display != ":memory:" and os.path.exists(display):
        # a file this process may not write: said before SQLite opens it (read-only, it would leave empty -wal
        # and -shm files beside it in a writable folder)
        try:
            os.close(os.open(display, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0)))
        except OSError as e:
            if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise not_writable(display, e) from None
    try:
        db = sqlite3.connect(display, timeout=busy_timeout, isolation_level=None)
        if display != ":memory:" and os.path.exists(display):
            # a foreign file is refused before anything (journal mode, migrations) is written to it
            why = _foreign_reason(db, display, empty_ok=allow_empty, migrate_ok=True)
            if why is not None:
                db.close()
                raise not_a_workspace(display, why)
        db.execute("PRAGMA foreign_keys = ON")
        mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":  # pragma: no cover - e.g. a file on a filesystem without shared memory
            pass
        db.execute("PRAGMA synchronous = NORMAL")  # safe with WAL: a crash loses at most the last commit
    except sqlite3.DatabaseError as e:
        if db is not None:
            db.close()
        if is_write_failure(e):
            raise not_writable(display, e) from None
        raise not_a_workspace(display, f"not a SQLite database ({e})") from None
    try:
        migrate(db, display, migrate_to, busy_timeout)
    except sqlite3.OperationalError as e:
        db.close()
        if is_write_failure(e):
            raise not_writable(display, e) from None
        raise
    except BaseException:
        db.close()
        raise
    return db


# --- seeding ---------------------------------------------------------------------


def _seed(db: sqlite3.Connection, ws_id: int) -> None:
    """What a new Marketo instance has: standard person fields, default channels and their statuses."""
    cat = data_json("marketo.json")
    db.executemany(
        "INSERT INTO fields (workspace_id, api_name, name_key, display_name, type, standard) VALUES (?, ?, ?, ?, ?, 1)",
        [(ws_id, f["apiName"], _key(f["apiName"]), f["displayName"], f["type"]) for f in cat["standardFields"]])
    db.executemany(
        "INSERT INTO channels (workspace_id, name, name_key, position, applicable_to, statuses) VALUES (?, ?, ?, ?, ?, ?)",
        [(ws_id, c["name"], _key(c["name"]), i, c.get("applicableTo"), _dump(c["statuses"]))
         for i, c in enumerate(cat["channels"])])


def _workspace_row(db: sqlite3.Connection, name: str) -> tuple[int, str] | None:
    row = db.execute("SELECT id, name FROM workspaces WHERE name_key = ?", (_key(name),)).fetchone()
    return (row[0], row[1]) if row else None


def _check_crm(crm: str | None) -> str | None:
    if crm in (None, "none", ""):
        return None
    if crm not in CRMS:
        raise BadInput(f"unknown CRM {crm!r}", hint="Use salesforce, dynamics or none.")
    return crm


def _create_workspace(db: sqlite3.Connection, path: str, name: str, crm: str | None, busy_timeout: float,
                      exist_ok: bool = False) -> int:
    name = name.strip()
    if not name:
        raise BadInput("a workspace needs a name", hint="e.g. --workspace Default")
    _begin(db, path, busy_timeout)
    try:
        existing = _workspace_row(db, name)
        if existing and exist_ok:  # another process created it since we looked
            db.execute("ROLLBACK")
            return existing[0]
        if existing:
            raise BadInput(f"{path} already has a workspace called {name!r}",
                           hint="`programkit workspace list` shows the workspaces of a file; in a script, "
                                "`workspace init --exist-ok` accepts one that exists with the same CRM.")
        cur = db.execute("INSERT INTO workspaces (name, name_key, crm, revision, created_at) VALUES (?, ?, ?, 1, ?)",
                         (name, _key(name), _check_crm(crm), _now()))
        ws_id = int(cur.lastrowid)
        _seed(db, ws_id)
        db.execute("COMMIT")
    except BaseException as e:
        if db.in_transaction:  # not after a write failure: SQLite has rolled back already
            db.execute("ROLLBACK")
        if is_write_failure(e):
            raise not_writable(path, e) from None
        raise
    return ws_id


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


def init_workspace(db_path: str | os.PathLike[str], name: str = DEFAULT_WORKSPACE, crm: str | None = None,
                   busy_timeout: float | None = None) -> "SqliteWorkspace":
    """Create workspace ``name`` in ``db_path`` (creating the file), seeded like a new Marketo instance.

    ``crm`` is the CRM connection (salesforce, dynamics, or None/"none" for no
    CRM). Raises BadInput if the file already has a workspace of that name.
    """
    busy_timeout = busy_timeout_from_env(busy_timeout)
    sweep_stale_imports(db_path)
    path = os.fspath(db_path)
    if path != ":memory:" and not os.path.lexists(path):
        _create_file(path, name, crm, busy_timeout)
        db = connect(path, busy_timeout)
        row = _workspace_row(db, name)
        if row is None:  # pragma: no cover - the file was just made with it
            db.close()
            raise ProgramkitError(f"{path}: workspace {name!r} is missing from the file just created")
        return SqliteWorkspace(db, path, row[0], name.strip(), busy_timeout)
    db = connect(db_path, busy_timeout)
    try:
        ws_id = _create_workspace(db, path, name, crm, busy_timeout)
    except BaseException:
        db.close()
        raise
    return SqliteWorkspace(db, os.fspath(db_path), ws_id, name.strip(), busy_timeout)


def _init_hint(path: str) -> str:
    """The command that creates the missing workspace file ``path``, ready to paste."""
    from . import DEFAULT_TARGET

    target = "" if path == DEFAULT_TARGET else f" --target {shlex.quote(path)}"
    return (f"Create it with `programkit workspace init{target}` (add `--crm salesforce` or `--crm dynamics` "
            "if the instance syncs with a CRM), or pass --target (or set PROGRAMKIT_TARGET) to use another file.")


def list_workspaces(db_path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The workspaces of a file: name, crm, revision, programs and assets."""
    path = os.fspath(db_path)
    sweep_stale_imports(path)  # a dead first import's hidden temporary file, never the file itself
    db = connect_readonly(path)  # listing only reads: the file stays byte-identical
    try:
        rows = db.execute(
            """SELECT w.name, w.crm, w.id || '.' || w.revision, w.created_at,
                      (SELECT COUNT(*) FROM programs p WHERE p.workspace_id = w.id),
                      (SELECT COUNT(*) FROM assets a WHERE a.workspace_id = w.id)
               FROM workspaces w ORDER BY w.id""").fetchall()
    finally:
        db.close()
    return [{"name": r[0], "crm": r[1], "revision": r[2], "created": r[3], "programs": r[4], "assets": r[5]}
            for r in rows]


def open_workspace(db_path: str | os.PathLike[str], workspace: str = DEFAULT_WORKSPACE, create: bool = True,
                   busy_timeout: float | None = None, crm: str | None = None,
                   readonly: bool = False) -> "SqliteWorkspace":
    """Open a workspace of a file; with ``create`` make the file and/or workspace if missing.

    Without ``create`` a missing file or workspace is BadInput (exit 2) naming
    the workspaces the file does have. With ``readonly`` (commands that only read: plan, history, workspace
    show, export) the file is opened ``mode=ro`` and never written or migrated (a dead first import's hidden
    temporary file beside it is still removed).
    """
    path = os.fspath(db_path)
    busy_timeout = busy_timeout_from_env(busy_timeout)
    sweep_stale_imports(path)
    if readonly:
        db = connect_readonly(path)
        create = False
    else:
        if not create and not Path(path).exists():  # a directory is not "missing": connect() says what it is
            raise no_such_path(path, _init_hint(path))
        db = connect(path, busy_timeout, allow_empty=create)
    try:
        row = _workspace_row(db, workspace)
        if row is None:
            if not create:
                known = [r[0] for r in db.execute("SELECT name FROM workspaces ORDER BY id")]
                raise BadInput(f"{path} has no workspace called {workspace!r}",
                               hint=f"Workspaces in this file: {', '.join(known) or 'none'}; "
                                    "create one with `programkit workspace init --workspace NAME`.")
            ws_id = _create_workspace(db, path, workspace, crm, busy_timeout, exist_ok=True)
            row = _workspace_row(db, workspace) or (ws_id, workspace.strip())
    except BaseException:
        db.close()
        raise
    return SqliteWorkspace(db, path, row[0], row[1], busy_timeout)


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


# --- the workspace -----------------------------------------------------------------

_ASSET_COLS = "id, kind, name, sha256, folder, program_id, meta"


def _asset(row: tuple) -> AssetInfo:
    return AssetInfo(id=row[0], kind=row[1], name=row[2], sha256=row[3], folder=row[4], program_id=row[5],
                     meta=json.loads(row[6]))


def _chunks(items: list[str], size: int = _CHUNK) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _copy_pattern(kind: str, base: str) -> tuple[set[str], re.Pattern[str]]:
    """The key prefixes and the regex (:func:`~programkit.rules.copy_pattern`, on keys) of Marketo's copy
    names for ``base`` (see design_names)."""
    stem, _ = copy_stem(kind, base)
    return {_key(stem) + " - ", _key(base) + " - "}, copy_pattern(kind, _key(base))


class SqliteWorkspace(Workspace):
    """One workspace of a SQLite file. Not thread-safe: one connection, used by one thread."""

    def __init__(self, db: sqlite3.Connection, path: str, ws_id: int, name: str,
                 busy_timeout: float = DEFAULT_BUSY_TIMEOUT):
        self.db = db
        self.path = path
        self.id = ws_id
        self.name = name
        self.busy_timeout = busy_timeout
        self._writer: SqliteWriter | None = None

    def __repr__(self) -> str:
        return f"SqliteWorkspace({self.path!r}, {self.name!r})"

    @property
    def location(self) -> str:
        """The workspace file's absolute path (links resolved), so a plan names the file wherever it was made."""
        return os.path.realpath(self.path)

    def __enter__(self) -> "SqliteWorkspace":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def _all(self, sql: str, *params: Any) -> list[tuple]:
        return self.db.execute(sql, params).fetchall()

    # -- inventory ------------------------------------------------------------------

    def revision(self) -> str:
        rev = self.db.execute("SELECT revision FROM workspaces WHERE id = ?", (self.id,)).fetchone()[0]
        return f"{self.id}.{rev}"

    def fields(self) -> dict[str, FieldInfo]:
        return {r[0]: FieldInfo(r[0], r[1], r[2]) for r in self._all(
            "SELECT api_name, display_name, type FROM fields WHERE workspace_id = ? ORDER BY name_key", self.id)}

    def custom_fields(self) -> set[str]:
        """API names of the fields that are not Marketo standard fields."""
        return {r[0] for r in self._all("SELECT api_name FROM fields WHERE workspace_id = ? AND standard = 0", self.id)}

    def names(self, what: str) -> set[str]:
        """Names of segmentations, webhooks, customObjects or snippets.

        A snippet exists if it was described by name only (inventory) or is a
        snippet Design Studio asset.
        """
        if what not in NAME_KINDS:
            raise ValueError(f"names(): unknown kind {what!r}; one of {', '.join(NAME_KINDS)}")
        found = {r[0] for r in self._all("SELECT name FROM named WHERE workspace_id = ? AND what = ?", self.id, what)}
        if what == "snippets":
            found |= {r[0] for r in self._all(
                "SELECT name FROM assets WHERE workspace_id = ? AND program_id IS NULL AND kind = 'snippet'", self.id)}
        return found

    def crm(self) -> str | None:
        return self.db.execute("SELECT crm FROM workspaces WHERE id = ?", (self.id,)).fetchone()[0]

    def channels(self) -> dict[str, list[str]]:
        out = {}
        for name, statuses in self._all(
                "SELECT name, statuses FROM channels WHERE workspace_id = ? ORDER BY position, name_key", self.id):
            ordered = sorted(enumerate(json.loads(statuses)), key=lambda p: (p[1].get("step", 0), p[0]))
            out[name] = [s["name"] for _, s in ordered]
        return out

    def tag_types(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        keys = {}
        for name, key in self._all("SELECT name, name_key FROM tag_types WHERE workspace_id = ?", self.id):
            out[name] = set()
            keys[key] = name
        for tag_key, value in self._all("SELECT tag_key, value FROM tag_values WHERE workspace_id = ?", self.id):
            out[keys[tag_key]].add(value)
        return out

    def _program(self, row: tuple) -> ProgramInfo:
        pid, name, data, import_id = row[:4]
        prov = None
        if import_id is not None:
            r = self.db.execute("SELECT bundle, version, digest FROM imports WHERE id = ?", (import_id,)).fetchone()
            prov = Provenance(r[0], r[1], r[2], import_id)
        return ProgramInfo(pid, name, json.loads(data), prov)

    def program(self, name: str) -> ProgramInfo | None:
        row = self.db.execute("SELECT id, name, data, import_id FROM programs WHERE workspace_id = ? AND name_key = ?",
                              (self.id, _key(name))).fetchone()
        return self._program(row) if row else None

    def program_by_id(self, program_id: int) -> ProgramInfo | None:
        row = self.db.execute("SELECT id, name, data, import_id FROM programs WHERE workspace_id = ? AND id = ?",
                              (self.id, program_id)).fetchone()
        return self._program(row) if row else None

    def programs(self) -> list[ProgramInfo]:
        return [self._program(r) for r in self._all(
            "SELECT id, name, data, import_id FROM programs WHERE workspace_id = ? ORDER BY name_key, id", self.id)]

    def program_folder(self, program_id: int) -> str | None:
        """Where the program sits in Marketing Activities (the ``folder`` given to create_program)."""
        row = self.db.execute("SELECT folder FROM programs WHERE id = ?", (program_id,)).fetchone()
        return row[0] if row else None

    def program_folders(self, program_id: int) -> list[str]:
        """Folder paths of a program, in creation order."""
        return [r[0] for r in self._all("SELECT path FROM folders WHERE program_id = ? ORDER BY id", program_id)]

    def program_assets(self, program_id: int) -> list[AssetInfo]:
        return [_asset(r) for r in self._all(
            f"SELECT {_ASSET_COLS} FROM assets WHERE program_id = ? ORDER BY kind, name_key, id", program_id)]

    def local_names(self, kind: str) -> set[str]:
        """Names of program-local assets of ``kind`` in any program of this workspace (one query)."""
        return {r[0] for r in self._all("SELECT name FROM assets WHERE workspace_id = ? AND program_id IS NOT NULL "
                                        "AND kind = ?", self.id, kind)}

    def design_assets(self, kind: str, names: Iterable[str]) -> dict[str, AssetInfo]:
        """Design Studio assets of ``kind`` by name, one indexed query per 500 names."""
        keys = sorted({_key(n) for n in names})
        out: dict[str, AssetInfo] = {}
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            for r in self._all(f"SELECT {_ASSET_COLS}, name_key FROM assets WHERE workspace_id = ? AND kind = ? "
                               f"AND program_id IS NULL AND name_key IN ({marks})", self.id, kind, *chunk):
                out[r[7]] = _asset(r)
        return out

    def design_studio_assets(self) -> list[AssetInfo]:
        """Every Design Studio asset of the workspace (listings, ``used-by``, ``workspace remove``)."""
        return [_asset(r) for r in self._all(
            f"SELECT {_ASSET_COLS} FROM assets WHERE workspace_id = ? AND program_id IS NULL "
            "ORDER BY kind, name_key", self.id)]

    def design_names(self, kind: str, base: str) -> set[str]:
        """Existing names of ``kind`` that are ``base`` or a Marketo copy name of it (case-insensitive).

        Copy names are ``"base - N"`` (N = 1, 2, …), e.g. "Standard Template"
        → "Standard Template - 1". For images the number goes before the
        extension, so the file keeps its type: "logo.png" → "logo - 1.png"
        (for images both "logo - 1.png" and "logo.png - 1" forms are
        returned if present). Names are returned as stored.
        """
        prefixes, rx = _copy_pattern(kind, base)
        found = {r[0] for r in self._all(
            "SELECT name FROM assets WHERE workspace_id = ? AND kind = ? AND program_id IS NULL AND name_key = ?",
            self.id, kind, _key(base))}
        for p in prefixes:
            for name, key in self._all(
                    "SELECT name, name_key FROM assets WHERE workspace_id = ? AND kind = ? AND program_id IS NULL "
                    "AND name_key >= ? AND name_key < ?", self.id, kind, p, p + "\U0010ffff"):
                if rx.fullmatch(key):
                    found.add(name)
        return found

    def read(self, asset_id: int) -> bytes:
        row = self.db.execute("SELECT content FROM assets WHERE id = ? AND workspace_id = ?",
                              (asset_id, self.id)).fetchone()
        if row is None:
            raise ProgramkitError(f"workspace {self.name!r} has no asset {asset_id}")
        return bytes(row[0])

    def asset(self, asset_id: int) -> AssetInfo | None:
        row = self.db.execute(f"SELECT {_ASSET_COLS} FROM assets WHERE id = ? AND workspace_id = ?",
                              (asset_id, self.id)).fetchone()
        return _asset(row) if row else None

    def count(self) -> dict[str, int]:
        """Items per kind: fields (custom fields apart), channels, tag types, named things, programs, assets, imports."""
        one = lambda sql, *p: self.db.execute(sql, (self.id, *p)).fetchone()[0]  # noqa: E731
        out = {
            "fields": one("SELECT COUNT(*) FROM fields WHERE workspace_id = ?"),
            "customFields": one("SELECT COUNT(*) FROM fields WHERE workspace_id = ? AND standard = 0"),
            "channels": one("SELECT COUNT(*) FROM channels WHERE workspace_id = ?"),
            "tagTypes": one("SELECT COUNT(*) FROM tag_types WHERE workspace_id = ?"),
            "programs": one("SELECT COUNT(*) FROM programs WHERE workspace_id = ?"),
            "imports": one("SELECT COUNT(*) FROM imports WHERE workspace_id = ?"),
        }
        for what in NAME_KINDS:
            out[what] = len(self.names(what)) if what == "snippets" else one(
                "SELECT COUNT(*) FROM named WHERE workspace_id = ? AND what = ?", what)
        kinds = dict(self._all("SELECT kind, COUNT(*) FROM assets WHERE workspace_id = ? GROUP BY kind", self.id))
        for kind in LOCAL_KINDS + DESIGN_KINDS:
            out[kind] = kinds.get(kind, 0)
        return out

    # -- writes ----------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator["SqliteWriter"]:
        """One BEGIN IMMEDIATE transaction; commits on success, rolls back on any exception."""
        if self._writer is not None:
            raise ProgramkitError("a workspace transaction is already open (transactions do not nest)")
        sqlite_journal.start(self.db)
        _begin(self.db, self.path, self.busy_timeout)
        writer = SqliteWriter(self)
        self._writer = writer
        try:
            yield writer
            if writer.dirty:
                self.db.execute("UPDATE workspaces SET revision = revision + 1 WHERE id = ?", (self.id,))
                sqlite_journal.keep(self.db, self.id, writer.journal_as, writer.journal_import)
        except BaseException as e:
            writer.closed = True
            self._writer = None
            # SQLite rolls back by itself when a write fails with a full disk or an I/O error: a second
            # ROLLBACK would fail and hide that error behind "no transaction is active"
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            if is_write_failure(e):
                raise not_writable(self.path, e) from None
            raise
        writer.closed = True
        self._writer = None
        try:
            self.db.execute("COMMIT")
        except sqlite3.OperationalError as e:  # e.g. disk full while the WAL grows
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            if is_write_failure(e):
                raise not_writable(self.path, e) from None
            raise ProgramkitError(f"could not commit to {self.path}: {e}") from e

    _IMPORT_COLS = "id, bundle, version, digest, program, rules, plan, mapping, started_at, finished_at, outcome"

    def _record(self, r: tuple) -> ImportRecord:
        return ImportRecord(bundle=r[1], version=r[2], digest=r[3], program=r[4], rules=json.loads(r[5]),
                            plan=json.loads(r[6]), mapping=json.loads(r[7]), started_at=r[8], finished_at=r[9],
                            outcome=r[10], id=r[0], workspace=self.name)

    def history(self, limit: int | None = None) -> list[ImportRecord]:
        sql = f"SELECT {self._IMPORT_COLS} FROM imports WHERE workspace_id = ? ORDER BY id DESC"
        rows = self._all(sql + (" LIMIT ?" if limit is not None else ""),
                         *((self.id, limit) if limit is not None else (self.id,)))
        return [self._record(r) for r in rows]

    def import_record(self, import_id: int) -> ImportRecord | None:
        """One history row by id (export reads the bundle manifest header from its plan)."""
        row = self.db.execute(f"SELECT {self._IMPORT_COLS} FROM imports WHERE id = ? AND workspace_id = ?",
                              (import_id, self.id)).fetchone()
        return self._record(row) if row else None


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
    from ..apply import make  # apply registers PK520 (workspace-changed)
    from ..archive import usual_mode

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


def _folder_tree_add(folders: list[dict[str, Any]], segments: list[str]) -> bool:
    """Add a folder path to a manifest folder tree, keeping existing order. True if it changed."""
    changed = False
    level = folders
    for i, seg in enumerate(segments):
        node = next((f for f in level if isinstance(f, dict) and str(f.get("name", "")).casefold() == seg.casefold()),
                    None)
        if node is None:
            node = {"name": seg}
            level.append(node)
            changed = True
        if i < len(segments) - 1:
            level = node.setdefault("folders", [])
    return changed


def _folder_paths(folders: Any, prefix: str = "") -> Iterator[str]:
    for f in folders if isinstance(folders, list) else []:
        if isinstance(f, dict) and isinstance(f.get("name"), str):
            yield prefix + f["name"]
            yield from _folder_paths(f.get("folders"), prefix + f["name"] + "/")


def _split_folder(path: str) -> list[str]:
    segments = [s.strip() for s in path.split("/")]
    if not path or any(not s for s in segments):
        raise BadInput(f"folder path {path!r} has an empty segment", hint="Join folder names with '/'.")
    return segments


class SqliteWriter(WorkspaceWriter):
    """Writes of one open transaction. Invalid once the transaction ends."""

    def __init__(self, ws: SqliteWorkspace):
        self.ws = ws
        self.db = ws.db
        self.dirty = False
        self.closed = False
        #: what the change journal records this transaction as, and the import it belongs to (recorded or undone)
        self.journal_as = "write"
        self.journal_import: int | None = None

    def _exec(self, sql: str, *params: Any) -> sqlite3.Cursor:
        if self.closed:
            raise ProgramkitError("workspace writes are only valid inside the transaction that made the writer")
        self.dirty = True
        return self.db.execute(sql, params)

    def _many(self, sql: str, rows: list[tuple]) -> None:
        if self.closed:
            raise ProgramkitError("workspace writes are only valid inside the transaction that made the writer")
        if rows:
            self.dirty = True
            self.db.executemany(sql, rows)

    # -- programs and folders --------------------------------------------------------

    def create_program(self, data: dict[str, Any], folder: str | None = None) -> int:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise BadInput("a program needs a name")
        if self.ws.program(name) is not None:
            raise ProgramkitError(f"workspace {self.ws.name!r} already has a program called {name!r}")
        now = _now()
        cur = self._exec("INSERT INTO programs (workspace_id, name, name_key, folder, data, created_at, updated_at) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)", self.ws.id, name, _key(name), folder, _dump(data), now, now)
        pid = int(cur.lastrowid)
        self._add_folders(pid, list(_folder_paths(data.get("folders"))))
        return pid

    def update_program(self, program_id: int, data: dict[str, Any]) -> None:
        """Replace the program object. Folders only ever get added (user additions are kept)."""
        current = self.ws.program_by_id(program_id)
        if current is None:
            raise ProgramkitError(f"workspace {self.ws.name!r} has no program {program_id}")
        name = data.get("name", current.name)
        other = self.ws.program(name)
        if other is not None and other.id != program_id:
            raise ProgramkitError(f"workspace {self.ws.name!r} already has a program called {name!r}")
        data = json.loads(_dump(data))
        existing = self.ws.program_folders(program_id)
        if existing:
            tree = data.setdefault("folders", [])
            for path in existing:
                _folder_tree_add(tree, path.split("/"))
        self._exec("UPDATE programs SET name = ?, name_key = ?, data = ?, updated_at = ? WHERE id = ?",
                   name, _key(name), _dump(data), _now(), program_id)
        self._add_folders(program_id, list(_folder_paths(data.get("folders"))))

    def _add_folders(self, program_id: int, paths: list[str]) -> None:
        self._many("INSERT OR IGNORE INTO folders (workspace_id, program_id, path, path_key) VALUES (?, ?, ?, ?)",
                   [(self.ws.id, program_id, p, _key(p)) for p in paths])

    def ensure_folder(self, program_id: int, path: str) -> None:
        """Create a program folder and its parents; the program object's folder tree gains them too."""
        segments = _split_folder(path)
        program = self.ws.program_by_id(program_id)
        if program is None:
            raise ProgramkitError(f"workspace {self.ws.name!r} has no program {program_id}")
        data = program.data
        tree = data.setdefault("folders", [])
        if _folder_tree_add(tree, segments):
            self._exec("UPDATE programs SET data = ?, updated_at = ? WHERE id = ?", _dump(data), _now(), program_id)
        self._add_folders(program_id, ["/".join(segments[:i]) for i in range(1, len(segments) + 1)])

    def delete_program(self, program_id: int) -> None:
        self._exec("DELETE FROM programs WHERE id = ? AND workspace_id = ?", program_id, self.ws.id)

    # -- assets ----------------------------------------------------------------------

    @staticmethod
    def _check(kind: str, content: bytes, sha256: str) -> None:
        if kind not in LOCAL_KINDS + DESIGN_KINDS:
            raise BadInput(f"unknown asset kind {kind!r}")
        if sha256_bytes(content) != sha256:
            raise ProgramkitError(f"{kind} content does not match its sha256 {sha256[:12]}…",
                                  hint="Pass the digest of the exact bytes stored.")

    def put_asset(self, kind: str, name: str, content: bytes, sha256: str, *, folder: str | None = None,
                  program_id: int | None = None, meta: dict[str, Any] | None = None) -> int:
        """Create an asset (Design Studio when program_id is None). Its program folder is created if missing."""
        self._check(kind, content, sha256)
        if (kind in LOCAL_KINDS) != (program_id is not None):
            where = "inside a program" if kind in LOCAL_KINDS else "in Design Studio (program_id None)"
            raise BadInput(f"{kind} {name!r}: a {kind} lives {where}")
        if program_id is not None and folder:
            self.ensure_folder(program_id, folder)
        now = _now()
        try:
            cur = self._exec(
                "INSERT INTO assets (workspace_id, program_id, kind, name, name_key, folder, sha256, size, content, "
                "meta, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                self.ws.id, program_id, kind, name, _key(name), folder, sha256, len(content), content,
                _dump(meta or {}), now, now)
        except sqlite3.IntegrityError as e:
            raise ProgramkitError(f"workspace {self.ws.name!r} already has a {kind} called {name!r}",
                                  hint="Plan a free name (keepBoth) or replace the existing asset.") from e
        return int(cur.lastrowid)

    def put_assets(self, rows: list[tuple[str, str, bytes, str, str | None, dict[str, Any] | None]], *,
                   program_id: int | None = None) -> list[int]:
        """Bulk-create Design Studio assets: (kind, name, content, sha256, folder, meta) tuples, one executemany.
        A program's own assets (``program_id``) are created one by one.

        Returns the new assets' ids, in the order of ``rows``.
        """
        if program_id is not None:
            return super().put_assets(rows, program_id=program_id)
        now = _now()
        for kind, name, content, sha, _, _ in rows:
            self._check(kind, content, sha)
            if kind not in DESIGN_KINDS:
                raise BadInput(f"put_assets is for Design Studio kinds, not {kind}")
        if not rows:
            return []
        # ids are AUTOINCREMENT and this transaction holds the write lock: the new rows are those above
        # the largest id now (one primary-key range read, instead of looking 10k names up again)
        before = self.db.execute("SELECT MAX(id) FROM assets").fetchone()[0] or 0  # bare MAX(id): an index read
        try:
            self._many(
                "INSERT INTO assets (workspace_id, program_id, kind, name, name_key, folder, sha256, size, content, "
                "meta, created_at, updated_at) VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(self.ws.id, k, n, _key(n), f, s, len(c), c, _dump(m or {}), now, now) for k, n, c, s, f, m in rows])
        except sqlite3.IntegrityError as e:
            raise ProgramkitError(f"workspace {self.ws.name!r}: a Design Studio name is already taken ({e})") from e
        new = {(kind, key): i for i, kind, key in self.db.execute(
            # "+": compare, do not pick the name index for it; the id range is the short way
            "SELECT id, kind, name_key FROM assets WHERE id > ? AND +workspace_id = ? AND +program_id IS NULL",
            (before, self.ws.id))}
        return [new[(k, _key(n))] for k, n, *_ in rows]

    def replace_asset(self, asset_id: int, content: bytes, sha256: str, meta: dict[str, Any] | None = None) -> None:
        """New content (and meta, if given) for an existing asset; its name and place stay."""
        info = self.ws.asset(asset_id)
        if info is None:
            raise ProgramkitError(f"workspace {self.ws.name!r} has no asset {asset_id}")
        self._check(info.kind, content, sha256)
        self._exec("UPDATE assets SET content = ?, sha256 = ?, size = ?, meta = ?, updated_at = ? WHERE id = ?",
                   content, sha256, len(content), _dump(info.meta if meta is None else meta), _now(), asset_id)

    def delete_asset(self, asset_id: int) -> None:
        self._exec("DELETE FROM assets WHERE id = ? AND workspace_id = ?", asset_id, self.ws.id)

    # -- inventory -------------------------------------------------------------------

    def add_tag_value(self, tag_type: str, value: str) -> None:
        self._exec("INSERT OR IGNORE INTO tag_types (workspace_id, name, name_key) VALUES (?, ?, ?)",
                   self.ws.id, tag_type, _key(tag_type))
        self._exec("INSERT OR IGNORE INTO tag_values (workspace_id, tag_key, value, value_key) VALUES (?, ?, ?, ?)",
                   self.ws.id, _key(tag_type), value, _key(value))

    def put_field(self, api_name: str, display_name: str, type: str) -> None:
        """Create or update a person field (a standard field keeps its standard flag)."""
        self._exec("INSERT INTO fields (workspace_id, api_name, name_key, display_name, type) VALUES (?, ?, ?, ?, ?) "
                   "ON CONFLICT (workspace_id, name_key) DO UPDATE SET api_name = excluded.api_name, "
                   "display_name = excluded.display_name, type = excluded.type",
                   self.ws.id, api_name, _key(api_name), display_name, type)

    def add_name(self, what: str, name: str, data: dict[str, Any] | None = None) -> None:
        """Record a segmentation, webhook, custom object or (requirement-only) snippet."""
        if what not in NAME_KINDS:
            raise ValueError(f"add_name(): unknown kind {what!r}")
        self._exec("INSERT INTO named (workspace_id, what, name, name_key, data) VALUES (?, ?, ?, ?, ?) "
                   "ON CONFLICT (workspace_id, what, name_key) DO UPDATE SET name = excluded.name, data = excluded.data",
                   self.ws.id, what, name, _key(name), _dump(data or {}))

    def set_crm(self, crm: str | None) -> None:
        self._exec("UPDATE workspaces SET crm = ? WHERE id = ?", _check_crm(crm), self.ws.id)

    def put_channel(self, name: str, statuses: list[dict[str, Any]], applicable_to: str | None = None) -> None:
        """Create or replace a channel; statuses are {"name", "step", "success"?} objects."""
        pos = self.db.execute("SELECT COALESCE(MAX(position), -1) + 1 FROM channels WHERE workspace_id = ?",
                              (self.ws.id,)).fetchone()[0]
        self._exec("INSERT INTO channels (workspace_id, name, name_key, position, applicable_to, statuses) "
                   "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (workspace_id, name_key) DO UPDATE SET name = excluded.name, "
                   "applicable_to = excluded.applicable_to, statuses = excluded.statuses",
                   self.ws.id, name, _key(name), pos, applicable_to, _dump(statuses))

    # -- history ---------------------------------------------------------------------

    def record_import(self, record: ImportRecord) -> int:
        """Add a history row. An applied import also becomes the provenance of the program it names.

        A history row alone does not count as a change to the workspace: a re-import with nothing to do
        records its ``noop`` without bumping the revision, so plans saved before it stay valid."""
        dirty = self.dirty
        cur = self._exec(
            "INSERT INTO imports (workspace_id, bundle, version, digest, program, rules, plan, mapping, started_at, "
            "finished_at, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self.ws.id, record.bundle, record.version, record.digest, record.program, _dump(record.rules),
            _dump(record.plan), _dump(record.mapping), record.started_at, record.finished_at, record.outcome)
        import_id = int(cur.lastrowid)
        self.dirty = dirty
        self.journal_as, self.journal_import = "import", import_id
        if record.outcome in ("applied", "needs-manual-completion"):
            self._exec("UPDATE programs SET import_id = ? WHERE workspace_id = ? AND name_key = ?",
                       import_id, self.ws.id, _key(record.program))
        record.id = import_id
        record.workspace = self.ws.name
        return import_id

    def set_provenance(self, program_id: int, import_id: int | None) -> None:
        self._exec("UPDATE programs SET import_id = ? WHERE id = ?", import_id, program_id)
