"""Targets that bundles import into and export from."""

from .base import (DESIGN_KINDS, LOCAL_KINDS, AssetInfo, FieldInfo, ImportRecord, ProgramInfo, Provenance,
                   Workspace, WorkspaceWriter)

__all__ = ["DESIGN_KINDS", "LOCAL_KINDS", "AssetInfo", "FieldInfo", "ImportRecord", "ProgramInfo", "Provenance",
           "Workspace", "WorkspaceWriter"]
