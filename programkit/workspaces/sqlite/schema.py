"""The embedded workspace file's format and how it is opened.

The schema is versioned with ``PRAGMA user_version`` and upgraded by the forward migrations in
:data:`MIGRATIONS`; a file written by a newer programkit is refused with a clear error rather than misread, and a
file that is not a programkit workspace (foreign, empty, damaged) is refused (PK414) and left byte-identical.
:func:`connect` opens a file to write (WAL, ``busy_timeout``: a second writer waits, then :class:`WorkspaceBusy`),
:func:`connect_readonly` to read only. Names are case-insensitive as in Marketo: each named row keeps the name as
written plus ``name_key`` (:func:`_key`, its ``str.casefold()``).
"""

from __future__ import annotations

import errno
import json
import os
import shlex
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from ...errors import BadInput, ProgramkitError, no_such_path, require_folder_of
from ...findings import Severity, make, register_code
from ...output import errno_words
from ..base import DEFAULT_TARGET
from . import journal

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
    """The change journal (what each write transaction changed, for ``rollback N``): see journal."""
    journal.migrate(db)


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


def _init_hint(path: str) -> str:
    """The command that creates the missing workspace file ``path``, ready to paste."""
    target = "" if path == DEFAULT_TARGET else f" --target {shlex.quote(path)}"
    return (f"Create it with `programkit workspace init{target}` (add `--crm salesforce` or `--crm dynamics` "
            "if the instance syncs with a CRM), or pass --target (or set PROGRAMKIT_TARGET) to use another file.")


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
