"""The embedded workspace's change journal: every row each write transaction changed, so an import can be undone
exactly (``programkit rollback N``) and a later change to the same rows is seen.

Why triggers: every write (import, ``workspace load``, ``workspace remove``, a rollback) goes through
:meth:`SqliteWorkspace.transaction`, but through many writer methods; temporary triggers on the workspace tables
see all of them, including rows a foreign-key cascade deletes, without each method keeping its own undo data. They
are built from ``PRAGMA table_info``, so a column a later migration adds is journaled too.

A transaction's triggers log into ``temp.pk_changes`` (the row id and, for an update or delete, the old row as
JSON with its one BLOB column apart); on commit the log is kept in the ``changes`` table with the revision the
transaction made, what made it, and the import it recorded, if any. A rolled-back transaction leaves nothing.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Iterable

#: the tables whose rows make up a workspace's content (``workspaces`` itself — its revision — and the import
#: history are not journaled: a rollback keeps the history and makes a new revision)
JOURNALED = ("programs", "folders", "assets", "tag_types", "tag_values", "fields", "named", "channels")


def migrate(db: sqlite3.Connection) -> None:
    """Schema step: the ``changes`` table."""
    db.execute(
        """CREATE TABLE changes (
               id INTEGER PRIMARY KEY AUTOINCREMENT,
               workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
               revision INTEGER NOT NULL,      -- the workspace revision the transaction made
               what TEXT NOT NULL,             -- import | rollback | remove | load | write
               import_id INTEGER REFERENCES imports(id) ON DELETE SET NULL,  -- recorded, or undone (rollback)
               tbl TEXT NOT NULL, op TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
               row_id INTEGER NOT NULL,
               old TEXT,                       -- JSON: the row before (update, delete), BLOB column apart
               blob BLOB)""")
    db.execute("CREATE INDEX changes_import ON changes (import_id)")
    db.execute("CREATE INDEX changes_row ON changes (tbl, row_id)")


def _columns(db: sqlite3.Connection, table: str) -> tuple[list[str], str | None]:
    """(columns, the BLOB column or None) of a main-database table."""
    cols = db.execute(f"PRAGMA main.table_info({table})").fetchall()
    blobs = [c[1] for c in cols if str(c[2]).upper() == "BLOB"]
    if len(blobs) > 1:  # pragma: no cover - a schema this journal was not written for
        raise RuntimeError(f"table {table} has {len(blobs)} BLOB columns; the change journal keeps one")
    return [c[1] for c in cols if c[1] not in blobs], (blobs[0] if blobs else None)


def install(db: sqlite3.Connection) -> None:
    """Create this connection's log table and triggers, once (temporary: they live as long as the connection)."""
    if db.execute("SELECT 1 FROM temp.sqlite_master WHERE name = 'pk_changes'").fetchone():
        return
    db.execute("CREATE TEMP TABLE pk_changes (seq INTEGER PRIMARY KEY, tbl TEXT NOT NULL, op TEXT NOT NULL, "
               "row_id INTEGER NOT NULL, old TEXT, blob BLOB)")
    for table in JOURNALED:
        cols, blob = _columns(db, table)
        old = "json_object(" + ", ".join(f"'{c}', OLD.\"{c}\"" for c in cols) + ")"
        blob_old = f'OLD."{blob}"' if blob else "NULL"
        db.execute(f"CREATE TEMP TRIGGER pk_j_{table}_i AFTER INSERT ON main.{table} BEGIN "
                   f"INSERT INTO pk_changes (tbl, op, row_id) VALUES ('{table}', 'insert', NEW.rowid); END")
        for op, when in (("update", "UPDATE"), ("delete", "DELETE")):
            db.execute(f"CREATE TEMP TRIGGER pk_j_{table}_{op[0]} BEFORE {when} ON main.{table} BEGIN "
                       f"INSERT INTO pk_changes (tbl, op, row_id, old, blob) "
                       f"VALUES ('{table}', '{op}', OLD.rowid, {old}, {blob_old}); END")


def start(db: sqlite3.Connection) -> None:
    """Before a write transaction: triggers in place, an empty log."""
    install(db)
    db.execute("DELETE FROM temp.pk_changes")


def keep(db: sqlite3.Connection, workspace_id: int, what: str, import_id: int | None) -> None:
    """Inside the committing transaction: keep its log in ``changes`` (after the revision was bumped)."""
    db.execute(
        "INSERT INTO changes (workspace_id, revision, what, import_id, tbl, op, row_id, old, blob) "
        "SELECT ?, (SELECT revision FROM workspaces WHERE id = ?), ?, ?, tbl, op, row_id, old, blob "
        "FROM temp.pk_changes ORDER BY seq", (workspace_id, workspace_id, what, import_id))
    db.execute("DELETE FROM temp.pk_changes")


def undo(db: sqlite3.Connection, rows: Iterable[tuple[str, str, int, str | None, bytes | None]]) -> None:
    """Inside a write transaction: undo (tbl, op, row_id, old, blob) changes, given newest first.

    Foreign keys are checked at commit (a cascade logged children and parent in an order the reverse may not
    satisfy step by step)."""
    db.execute("PRAGMA defer_foreign_keys = ON")
    blobs = {t: _columns(db, t)[1] for t in JOURNALED}
    for tbl, op, row_id, old, blob in rows:
        if tbl not in JOURNALED:  # pragma: no cover - a log row this programkit did not write
            raise ValueError(f"change journal names table {tbl!r}")
        if op == "insert":
            db.execute(f"DELETE FROM main.{tbl} WHERE rowid = ?", (row_id,))
            continue
        values: dict[str, Any] = json.loads(old or "{}")
        if blobs[tbl] is not None:
            values[blobs[tbl]] = blob
        cols = list(values)
        if op == "update":
            db.execute(f"UPDATE main.{tbl} SET " + ", ".join(f'"{c}" = ?' for c in cols) + " WHERE rowid = ?",
                       [values[c] for c in cols] + [row_id])
        else:
            db.execute(f"INSERT INTO main.{tbl} (rowid, " + ", ".join(f'"{c}"' for c in cols) + ") VALUES (?"
                       + ", ?" * len(cols) + ")", [row_id] + [values[c] for c in cols])
