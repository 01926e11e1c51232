"""The embedded workspace's storage: :class:`SqliteWorkspace` reads a workspace's rows, :class:`SqliteWriter`
writes them inside one transaction, and a new workspace is created seeded like a new Marketo instance.

Writes happen only inside :meth:`SqliteWorkspace.transaction`, one ``BEGIN IMMEDIATE`` SQLite transaction: all of
it commits or none of it does. Each committed write transaction bumps the workspace's revision counter, which plans
record to detect drift, and keeps what it changed in the change journal (:mod:`.journal`), which rollback reads.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

from ...canonical import sha256_bytes
from ...errors import BadInput, ProgramkitError
from ...resources import data_json
from ...rules import copy_pattern, copy_stem
from ..base import (DESIGN_KINDS, LOCAL_KINDS, AssetInfo, FieldInfo, ImportRecord, ProgramInfo, Provenance,
                    Workspace, WorkspaceWriter)
from . import journal
from .schema import (_CHUNK, CRMS, DEFAULT_BUSY_TIMEOUT, NAME_KINDS, _begin, _dump, _key, _now, is_write_failure,
                     not_writable)

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
        journal.start(self.db)
        _begin(self.db, self.path, self.busy_timeout)
        writer = SqliteWriter(self)
        self._writer = writer
        try:
            yield writer
            if writer.dirty:
                self.db.execute("UPDATE workspaces SET revision = revision + 1 WHERE id = ?", (self.id,))
                journal.keep(self.db, self.id, writer.journal_as, writer.journal_import)
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
