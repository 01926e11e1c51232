"""Targets that bundles import into and export from.

:func:`open_target` turns a ``--target`` value into a :class:`Workspace`: a
file path (or nothing: ``./programkit.db``) is the embedded SQLite target.
Other schemes are routed here as targets are added.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from .base import (DEFAULT_TARGET, DESIGN_KINDS, LOCAL_KINDS, AssetInfo, FieldInfo, ImportRecord, ProgramInfo,
                   Provenance, Workspace, WorkspaceWriter)
from .sqlite import DEFAULT_WORKSPACE, open_new_file, open_workspace

__all__ = ["DEFAULT_TARGET", "DESIGN_KINDS", "LOCAL_KINDS", "AssetInfo", "FieldInfo", "ImportRecord", "ProgramInfo",
           "Provenance", "Workspace", "WorkspaceWriter", "open_target", "target_kind"]


def target_kind(target: str) -> str:
    """'marketo' for an http(s) URL, 'sqlite' for anything else (a file path)."""
    scheme = urlsplit(target).scheme.lower()
    return "marketo" if scheme in ("http", "https") else "sqlite"


def _sqlite_path(target: str) -> str:
    return target[len("sqlite:"):] if target.lower().startswith("sqlite:") else target


def open_target(target: str | os.PathLike[str] | None = None, workspace: str | None = None, *,
                create: bool = True, crm: str | None = None, create_on_commit: bool = False,
                readonly: bool = False) -> Workspace:
    """The workspace ``workspace`` (default "Default") of ``target`` (default ./programkit.db).

    A path (optionally ``sqlite:PATH``) opens the embedded SQLite target; with
    ``create`` a missing file or workspace is created, seeded like a new
    Marketo instance, with the CRM connection ``crm`` (default none). An http(s) URL is a Marketo instance's REST base URL
    (credentials from the environment; ``create`` does not apply).

    With ``create_on_commit`` (what an import uses) a missing file is only
    created when the first write transaction commits; until then the new
    workspace exists in memory only (see :class:`.sqlite.NewFileWorkspace`).

    With ``readonly`` (what commands that only read use) a workspace file is opened read-only: never written,
    and a file that is not a programkit workspace is refused (PK414) and left byte-identical.
    """
    target = os.fspath(target) if target is not None else DEFAULT_TARGET
    if target_kind(target) == "marketo":
        from .marketo import MarketoWorkspace

        return MarketoWorkspace(target, workspace or DEFAULT_WORKSPACE)
    path = _sqlite_path(target)
    if create_on_commit and not os.path.lexists(path):
        return open_new_file(path, workspace or DEFAULT_WORKSPACE, crm=crm)
    return open_workspace(path, workspace or DEFAULT_WORKSPACE, create=create and not readonly, crm=crm,
                          readonly=readonly)
