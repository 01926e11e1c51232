"""The Workspace interface: what plan, apply, export and history need from a target.

A workspace is one Marketo-style instance: its folders, programs with their
local assets, Design Studio assets shared across programs, tag types, and
what bundles can require (fields, segmentations, snippets, webhooks, custom
objects, a CRM connection), plus the import history.

Reads are bulk and cheap so a plan costs few look-ups (a remote target pays
per call). Writes happen only inside :meth:`Workspace.transaction`, which is
all-or-nothing on the embedded target.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Iterable

from .. import kinds
from ..errors import BadInput
from ..findings import Severity, did_you_mean, make, register_code

#: a workspace that is not the one a plan was made for (apply's check, the embedded target's first import)
register_code("PK520", "workspace-changed", Severity.ERROR,
              "The workspace changed since the plan was made, so the plan no longer describes it.",
              hint="Make a new plan (`programkit plan`) and review it, or import without --plan.",
              example="workspace 'default' is at revision 42, the plan was made at revision 40", group="import")

#: --target when neither the option nor PROGRAMKIT_TARGET is given
DEFAULT_TARGET = "programkit.db"

#: Design Studio kinds: shared by all programs of a workspace, looked up by name (from the kind units).
DESIGN_KINDS = kinds.names(scope="design")
#: Program-local kinds: live in a program's folder tree.
LOCAL_KINDS = kinds.names(scope="program")


def renamed_design(meta: dict[str, Any], kind: str) -> dict[str, str]:
    """Names of ``kind`` an asset's bytes use for a Design Studio asset the workspace holds under another
    name (casefolded name in the bytes → workspace name), from the ``designNames`` meta apply writes
    when an import made a keep-both copy ("Name - 1"): bytes stay verbatim, readers resolve through this."""
    names = meta.get("designNames")
    by_kind = names.get(kind) if isinstance(names, dict) else None
    if not isinstance(by_kind, dict):
        return {}
    return {k.casefold(): v for k, v in by_kind.items() if isinstance(k, str) and isinstance(v, str) and k != v}


@dataclass(frozen=True)
class FieldInfo:
    api_name: str
    display_name: str
    type: str


@dataclass(frozen=True)
class AssetInfo:
    """An asset as stored: identity, place and content digest (content read separately)."""

    id: int
    kind: str
    name: str
    sha256: str
    folder: str | None = None  # folder path; for local assets relative to the program
    program_id: int | None = None  # None for Design Studio assets
    meta: dict[str, Any] = field(default_factory=dict)  # e.g. {"templateType": "guided"}


@dataclass(frozen=True)
class Provenance:
    """Which bundle a program came from (the last import that wrote it)."""

    bundle: str
    version: str
    digest: str
    import_id: int


@dataclass(frozen=True)
class ProgramInfo:
    id: int
    name: str
    #: the program object as in a bundle manifest: type, channel, membershipStatuses,
    #: analyticsBehavior, tags, tokens, folders
    data: dict[str, Any]
    provenance: Provenance | None = None


@dataclass
class ImportRecord:
    """One row of import history (filled by apply)."""

    bundle: str
    version: str
    digest: str
    program: str
    rules: dict[str, Any]
    plan: dict[str, Any]
    mapping: list[dict[str, Any]]  # [{"kind", "bundleName", "workspaceId", "workspaceName", "action"}]
    started_at: str
    finished_at: str | None = None
    outcome: str = "applied"  # applied | noop | failed | rolled-back | needs-manual-completion
    id: int | None = None
    workspace: str | None = None


class WorkspaceWriter(ABC):
    """Write operations, valid only inside :meth:`Workspace.transaction`."""

    @abstractmethod
    def create_program(self, data: dict[str, Any], folder: str | None = None) -> int: ...

    @abstractmethod
    def update_program(self, program_id: int, data: dict[str, Any]) -> None: ...

    @abstractmethod
    def ensure_folder(self, program_id: int, path: str) -> None:
        """Create a program folder (and its parents) if missing."""

    @abstractmethod
    def put_asset(self, kind: str, name: str, content: bytes, sha256: str, *, folder: str | None = None,
                  program_id: int | None = None, meta: dict[str, Any] | None = None) -> int:
        """Create an asset; returns its id. Names must be free (plan guarantees it)."""

    def put_assets(self, rows: list[tuple[str, str, bytes, str, str | None, dict[str, Any] | None]], *,
                   program_id: int | None = None) -> list[int]:
        """Create assets that need nothing from one another: (kind, name, content, sha256, folder, meta) rows,
        all Design Studio assets, or all local assets of ``program_id``. Returns their ids in row order.

        Apply hands over its creates in such batches, in dependency order (folders before their contents,
        templates before the emails on them); a target may write a batch in one statement (the embedded
        one) or several calls at a time (Marketo). This default creates them one by one.
        """
        return [self.put_asset(kind, name, content, sha, folder=folder, program_id=program_id, meta=meta)
                for kind, name, content, sha, folder, meta in rows]

    @abstractmethod
    def replace_asset(self, asset_id: int, content: bytes, sha256: str, meta: dict[str, Any] | None = None) -> None: ...

    @abstractmethod
    def delete_asset(self, asset_id: int) -> None: ...

    @abstractmethod
    def add_tag_value(self, tag_type: str, value: str) -> None:
        """Create the tag type if missing and allow the value."""

    @abstractmethod
    def record_import(self, record: ImportRecord) -> int: ...


class Workspace(ABC):
    """A target workspace. Implementations: :mod:`programkit.workspaces.sqlite` (embedded)."""

    name: str
    #: kinds this target cannot hold (Marketo: a lead lifecycle): apply puts them on a manual-steps checklist,
    #: and they are not counted as changes made
    manual_kinds: frozenset[str] = frozenset()
    #: the fields of a local token the target keeps (None: all of them); plan compares only these
    token_fields: tuple[str, ...] | None = None

    @property
    def location(self) -> str | None:
        """Which target this is, as a plan records it (a file's absolute path, an instance's URL): a saved plan
        applied to another target is refused by name. None: a target that cannot say (plans skip the check)."""
        return None

    # -- inventory (bulk, read-only) ------------------------------------------------
    @abstractmethod
    def revision(self) -> str:
        """Changes whenever anything in the workspace changes (plans record it to detect drift)."""

    @abstractmethod
    def fields(self) -> dict[str, FieldInfo]:
        """Person fields by API name."""

    @abstractmethod
    def names(self, what: str) -> set[str]:
        """Names of 'segmentations', 'webhooks', 'customObjects' or 'snippets' that exist."""

    @abstractmethod
    def crm(self) -> str | None:
        """'salesforce', 'dynamics' or None."""

    @abstractmethod
    def channels(self) -> dict[str, list[str]]:
        """Program channels → their membership statuses, in step order."""

    @abstractmethod
    def tag_types(self) -> dict[str, set[str]]:
        """Tag types → allowed values."""

    @abstractmethod
    def program(self, name: str) -> ProgramInfo | None:
        """A program by name (case-insensitive), or None."""

    @abstractmethod
    def programs(self) -> list[ProgramInfo]: ...

    @abstractmethod
    def program_assets(self, program_id: int) -> list[AssetInfo]: ...

    @abstractmethod
    def design_assets(self, kind: str, names: Iterable[str]) -> dict[str, AssetInfo]:
        """Bulk look-up of Design Studio assets by name; keys are the casefolded names found."""

    @abstractmethod
    def design_names(self, kind: str, base: str) -> set[str]:
        """Names of ``kind`` equal to ``base`` or of the copy form Marketo uses for it ("base - N")."""

    def local_names(self, kind: str) -> set[str]:
        """Names of program-local assets of ``kind`` in any program of the workspace (a campaign's trigger may
        name a form or a smart list of another program). This default reads every program; targets override it."""
        return {a.name for p in self.programs() for a in self.program_assets(p.id) if a.kind == kind}

    @abstractmethod
    def read(self, asset_id: int) -> bytes:
        """An asset's content."""

    @abstractmethod
    def count(self) -> dict[str, int]:
        """Inventory summary: number of items per kind (for `workspace show`)."""

    # -- writes and history -------------------------------------------------------------
    @abstractmethod
    def transaction(self) -> AbstractContextManager[WorkspaceWriter]:
        """All-or-nothing writes. Waits a bounded time for another writer, then raises WorkspaceBusy."""

    @abstractmethod
    def history(self, limit: int | None = None) -> list[ImportRecord]: ...

    def close(self) -> None:  # pragma: no cover - default no-op
        pass


register_code("PK579", "no-such-program", Severity.ERROR, "The workspace has no program of this name (exit 2).",
              hint="`programkit workspace show --kind program` lists the programs (names are case-insensitive).",
              example="workspace 'Default' has no program 'OP-Lead Managment' (did you mean 'OP-Lead Management'?)",
              group="import")


def find_program(ws: Workspace, name: str) -> ProgramInfo:
    """The program called ``name`` (case-insensitive), else PK579 (exit 2) with what was likely meant: the
    nearest program name, or the program imported from a bundle of that name (``op-lead-management``)."""
    program = ws.program(name)
    if program is None:
        programs = ws.programs()
        from_bundle = [p.name for p in programs if p.provenance is not None
                       and p.provenance.bundle.casefold() == name.strip().casefold()]
        if from_bundle:
            guess = (f"{name!r} is the bundle program {from_bundle[0]!r} was imported from" if len(from_bundle) == 1
                     else f"programs imported from bundle {name!r}: " + ", ".join(map(repr, from_bundle)))
        else:
            guess = did_you_mean(name, [p.name for p in programs])
        message = f"workspace {ws.name!r} has no program {name!r}" + (f" ({guess})" if guess else "")
        names = sorted(p.name for p in programs)
        # nothing close: a few programs are named right here, more are for `workspace show --kind program`
        listed = (f"Programs: {', '.join(map(repr, names))}." if names else "The workspace has no programs yet.") \
            if not guess and len(names) <= 10 else None
        raise BadInput(message, [make("PK579", message, hint=listed)])
    return program
