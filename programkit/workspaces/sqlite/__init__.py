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

One room per concern: :mod:`.schema` (the file's format, migrations, opening it), :mod:`.storage` (reading and
writing a workspace's rows), :mod:`.journal` (the change journal rollback reads), :mod:`.first_import` (a file
created only when the first import commits). This module opens, creates and lists workspaces, and offers the
names of all of them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ...errors import BadInput, ProgramkitError, no_such_path
from . import journal
from .first_import import NEW_REVISION, NewFileWorkspace, _create_file, open_new_file, sweep_stale_imports
from .schema import (BUSY_TIMEOUT_ENV, CRMS, DEFAULT_BUSY_TIMEOUT, DEFAULT_WORKSPACE, MIGRATIONS, NAME_KINDS,
                     SCHEMA_VERSION, WorkspaceBusy, _init_hint, busy_timeout_from_env, connect, connect_readonly,
                     is_write_failure, migrate, not_a_workspace, not_writable)
from .storage import SqliteWorkspace, SqliteWriter, _create_workspace, _workspace_row

__all__ = ["BUSY_TIMEOUT_ENV", "CRMS", "DEFAULT_BUSY_TIMEOUT", "DEFAULT_WORKSPACE", "MIGRATIONS", "NAME_KINDS",
           "NEW_REVISION", "SCHEMA_VERSION", "NewFileWorkspace", "SqliteWorkspace", "SqliteWriter", "WorkspaceBusy",
           "busy_timeout_from_env", "connect", "connect_readonly", "init_workspace", "is_write_failure", "journal",
           "list_workspaces", "migrate", "not_a_workspace", "not_writable", "open_new_file", "open_workspace",
           "sweep_stale_imports"]


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
