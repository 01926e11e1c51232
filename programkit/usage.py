"""What a workspace holds, asset by asset, and what uses what: ``workspace show --kind``, ``workspace used-by``,
and the checks of ``workspace remove`` and ``rollback`` (never delete an asset something else uses).

A reference is read from the asset's bytes the way export reads it (:mod:`programkit.export`): an email's
template, the snippets it places in its template's ``mktoSnippet`` elements, and images named in email,
template and snippet HTML (``src``, ``href``, CSS ``url(…)``, a section value that is an image URL), each
resolved through the asset's ``designNames`` meta (an import's keep-both copies). Only direct uses count: an
email on a template that shows a logo uses the template; the template uses the logo.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from .errors import BadInput
from .workspaces.base import DESIGN_KINDS, LOCAL_KINDS, AssetInfo, Workspace, renamed_design

#: kinds a listing accepts (``--kind``), in the order a listing shows them
LISTED_KINDS = ("program",) + LOCAL_KINDS + DESIGN_KINDS


@dataclass(frozen=True)
class Listed:
    """One asset of a listing: where it lives and what uses it."""

    id: int
    kind: str
    name: str
    program: str | None  # None: Design Studio
    folder: str | None
    sha256: str
    used_by: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "name": self.name, "program": self.program,
                "folder": self.folder, "sha256": self.sha256, "usedBy": self.used_by}


@dataclass
class Usage:
    """Every asset of a workspace and the Design Studio assets each one uses directly (by id)."""

    assets: dict[int, AssetInfo]
    programs: dict[int, str]  # program id → name
    uses: dict[int, set[int]] = field(default_factory=dict)

    def users_of(self, asset_id: int) -> list[AssetInfo]:
        return sorted((self.assets[u] for u, used in self.uses.items() if asset_id in used),
                      key=lambda a: (self.programs.get(a.program_id or 0, ""), a.kind, a.name.casefold()))

    def where(self, asset: AssetInfo) -> str:
        return f"program {self.programs[asset.program_id]!r}" if asset.program_id else "Design Studio"


def all_assets(ws: Workspace) -> list[AssetInfo]:
    """Every asset of the workspace: each program's, then Design Studio's (a target that cannot enumerate its
    Design Studio is bad input here: listings and usage need all of it)."""
    lister = getattr(ws, "design_studio_assets", None)
    if not callable(lister):
        raise BadInput(f"workspace {ws.name!r}: this target cannot list its assets one by one",
                       hint="Listings and `used-by` work on a workspace file; `workspace load --from URL` mirrors "
                            "a Marketo instance into one.")
    out: list[AssetInfo] = []
    for p in ws.programs():
        out.extend(ws.program_assets(p.id))
    return out + list(lister())


def usage(ws: Workspace) -> Usage:
    """Read every asset once and resolve what each one uses: the Design Studio assets its kind unit says it
    references (an email's template and snippets, a landing page's template, images and snippets) and the
    images its text names by URL."""
    from . import kinds
    from .export import _image_candidates, _json, _strings, _text

    assets = {a.id: a for a in all_assets(ws)}
    programs = {p.id: p.name for p in ws.programs()}
    design = {(a.kind, a.name.casefold()): a.id for a in assets.values() if a.program_id is None}
    result = Usage(assets, programs)
    contents: dict[int, bytes] = {}

    def read(a: AssetInfo) -> bytes:
        if a.id not in contents:
            contents[a.id] = ws.read(a.id)
        return contents[a.id]

    def named(a: AssetInfo, kind: str, name: str) -> int | None:
        return design.get((kind, renamed_design(a.meta, kind).get(name.casefold(), name).casefold()))

    for a in assets.values():
        used: set[int] = set()
        unit = kinds.get(a.kind)
        if unit is None or not unit.is_text:
            continue
        used |= {i for n in _image_candidates(_strings(a.kind, read(a))) if (i := named(a, "image", n))}
        doc = _json(read(a)) if unit.is_json else None
        if doc is not None:
            def lookup(kind: str, name: str, a: AssetInfo = a) -> str | None:
                i = named(a, kind, name)
                return _text(read(assets[i])) if i is not None else None

            refs = list(unit.references(doc))
            if unit.context_references is not None:
                refs += unit.context_references(doc, lookup)
            for ref in refs:
                target = kinds.get(ref.kind)
                if target is not None and not target.local and (i := named(a, ref.kind, ref.name)) is not None:
                    used.add(i)
        used.discard(a.id)
        if used:
            result.uses[a.id] = used
    return result


def listing(ws: Workspace, kind: str | None = None) -> list[Listed]:
    """Every asset (or every one of ``kind``), programs' first, each with how many assets use it."""
    if kind is not None and kind not in LISTED_KINDS:
        raise BadInput(f"unknown kind {kind!r}", hint=f"--kind is one of {', '.join(LISTED_KINDS)}.")
    found = usage(ws)
    counts: dict[int, int] = {}
    for used in found.uses.values():
        for i in used:
            counts[i] = counts.get(i, 0) + 1
    out = [Listed(a.id, a.kind, a.name, found.programs.get(a.program_id or 0), a.folder, a.sha256,
                  counts.get(a.id, 0)) for a in found.assets.values() if kind in (None, a.kind)]
    return sorted(out, key=lambda x: (x.program is None, (x.program or "").casefold(), x.kind,
                                      (x.folder or "").casefold() if x.program else "", x.name.casefold()))


@dataclass
class UsedBy:
    """``workspace used-by NAME``: each asset called NAME and the assets that use it."""

    name: str
    found: list[tuple[AssetInfo, list[AssetInfo]]]
    usage: Usage

    def to_dict(self) -> dict[str, Any]:
        def one(a: AssetInfo) -> dict[str, Any]:
            return {"id": a.id, "kind": a.kind, "name": a.name,
                    "program": self.usage.programs.get(a.program_id or 0), "folder": a.folder}
        return {"name": self.name, "assets": [{**one(a), "usedBy": [one(u) for u in users]}
                                              for a, users in self.found]}


def used_by(ws: Workspace, name: str, kinds: Iterable[str] = DESIGN_KINDS) -> UsedBy:
    """The Design Studio assets called ``name`` (case-insensitive; any of ``kinds``) and what uses each."""
    found = usage(ws)
    wanted = set(kinds)
    matches = sorted((a for a in found.assets.values()
                      if a.program_id is None and a.kind in wanted and a.name.casefold() == name.casefold()),
                     key=lambda a: a.kind)
    if not matches:
        raise BadInput(f"workspace {ws.name!r} has no template, snippet or image called {name!r}",
                       hint="`programkit workspace show --kind emailTemplate` (or snippet, image, "
                            "landingPageTemplate) lists the names there are.")
    return UsedBy(name, [(a, found.users_of(a.id)) for a in matches], found)


# --- what a plan must know before it deletes or replaces a shared asset (issue #14) ----------------------
# A template, image or snippet is shared: one program's import may have created it and another program's
# email may use it since. Deleting it (``--prune``) or replacing it (rule ``replace``) changes what those
# programs send. :func:`design_users` answers, for a set of asset ids, which programs use each one, the way
# export computes what a program uses (its emails' templates, the snippets and images they reference, and
# what its import recorded), on any target (a Marketo instance cannot list its Design Studio one by one).


def _program_design(ws: Workspace, program: object, local: list[AssetInfo], with_record: bool) -> set[int]:
    from .export import _Collector, _imported_design, _mapped, _source_record

    imported = _imported_design(ws, _mapped(_source_record(ws, program))) if with_record else []
    design, _ = _Collector(ws, program).design(local, imported)  # type: ignore[arg-type]
    return {a.id for a in design}


def design_users(ws: Workspace, asset_ids: Iterable[int], *, program_id: int | None = None,
                 own_extra: Iterable[AssetInfo] = ()) -> dict[int, list[str]]:
    """Asset id → sorted names of the programs other than ``program_id`` that use it.

    ``own_extra`` are assets of program ``program_id`` that are not the bundle's (a user added them): an
    asset they use is listed as used by that program too ("Name (its own email 'X')"), since pruning the
    bundle's asset would break them all the same.
    """
    wanted = {i for i in asset_ids if isinstance(i, int)}
    users: dict[int, set[str]] = {i: set() for i in wanted}
    if not wanted:
        return {}
    for program in ws.programs():
        if program.id == program_id:
            extra = list(own_extra)
            if not extra:
                continue
            used = _program_design(ws, program, extra, with_record=False)
            label = f"{program.name} (its own " + ", ".join(f"{a.kind} {a.name!r}" for a in extra[:3]) + \
                    (", …" if len(extra) > 3 else "") + ")"
        else:
            used = _program_design(ws, program, ws.program_assets(program.id), with_record=True)
            label = program.name
        for i in used & wanted:
            users[i].add(label)
    return {i: sorted(names, key=str.casefold) for i, names in users.items() if names}


def used_by_text(names: list[str]) -> str:
    """'used by: Program A, Program B' (at most five named)."""
    shown = ", ".join(repr(n) for n in names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"used by: {shown}"
