"""``workspace remove PROGRAM``: delete a program and the Design Studio assets only it uses, in one transaction.

What goes: the program, its folders and its own assets (campaigns, emails, lifecycles), and each Design Studio
asset that an import brought in (its meta names a bundle) and that nothing else uses — neither another program's
assets nor a Design Studio asset that stays — nor another program's import mapped. That includes what only those
use in turn (an image only the program's template shows) and what the program's import brought that nothing uses
(a landing page template). What stays, said with the reason: an asset another program uses or imported, and an
asset that did not come from an import (described with ``workspace load``: the instance's own).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import ProgramkitError
from .usage import usage
from .workspaces.base import AssetInfo, ProgramInfo, Workspace, find_program


@dataclass
class RemovePlan:
    program: ProgramInfo
    local: list[AssetInfo]
    design: list[AssetInfo]  # deleted with the program
    kept: list[tuple[AssetInfo, str]] = field(default_factory=list)  # Design Studio assets it uses that stay

    def to_dict(self) -> dict[str, Any]:
        def one(a: AssetInfo) -> dict[str, Any]:
            return {"id": a.id, "kind": a.kind, "name": a.name, "folder": a.folder}
        return {"program": self.program.name, "delete": [one(a) for a in self.local + self.design],
                "kept": [{**one(a), "why": why} for a, why in self.kept]}


def _imported_by(ws: Any, program: ProgramInfo) -> set[int]:
    """Workspace ids of the Design Studio assets the program's last import created or copied (owned)."""
    getter = getattr(ws, "import_record", None)
    if program.provenance is None or not callable(getter):
        return set()
    record = getter(program.provenance.import_id)
    return {m["workspaceId"] for m in (record.mapping if record else []) if m.get("owned") and m.get("workspaceId")}


def _origins(ws: Any, ids: set[int]) -> dict[int, str]:
    """What created each asset, from the change journal: "import", or what else wrote it (``workspace load``…).
    Assets older than the journal are not in it (the caller falls back on their meta)."""
    db = getattr(ws, "db", None)
    if db is None or not ids:
        return {}
    marks = ",".join("?" * len(ids))
    return {row_id: what for row_id, what in db.execute(
        f"SELECT row_id, what FROM changes WHERE workspace_id = ? AND tbl = 'assets' AND op = 'insert' "
        f"AND row_id IN ({marks}) ORDER BY id", (ws.id, *sorted(ids)))}


def plan_remove(ws: Workspace, name: str) -> RemovePlan:
    """What removing program ``name`` deletes and keeps. Reads only."""
    program = find_program(ws, name)
    found = usage(ws)
    local = [a for a in found.assets.values() if a.program_id == program.id]
    mine = {a.id for a in local}
    others = {p.id: _imported_by(ws, p) for p in ws.programs() if p.id != program.id}
    # candidates: what its assets use, transitively, plus what its import brought
    candidates = set(_imported_by(ws, program))
    frontier = set(mine)
    while frontier:
        used = set().union(*(found.uses.get(i, set()) for i in frontier)) - candidates - mine
        candidates |= used
        frontier = used
    candidates &= set(found.assets)  # deleted since the import
    kept: dict[int, str] = {}
    origin = _origins(ws, candidates)
    for c in candidates:
        a = found.assets[c]
        if origin.get(c, "import" if "bundle" in a.meta else "other") != "import":
            kept[c] = "not brought by an import (the instance's own)"
        elif any(c in ids for ids in others.values()):
            who = next(found.programs[p] for p, ids in others.items() if c in ids)
            kept[c] = f"program {who!r} imported it too"
    deletable = candidates - set(kept)
    changed = True
    while changed:  # what something that stays uses, stays (and so does what that uses)
        changed = False
        for c in sorted(deletable):
            outside = [u for u in found.users_of(c) if u.id not in mine and u.id not in deletable]
            if outside:
                deletable.discard(c)
                u = outside[0]
                kept[c] = f"used by {u.kind} {u.name!r} ({found.where(u)})"
                changed = True
    order = lambda a: (a.kind, a.name.casefold())  # noqa: E731
    return RemovePlan(program, sorted(local, key=lambda a: ((a.folder or "").casefold(),) + order(a)),
                      sorted((found.assets[c] for c in deletable), key=order),
                      sorted(((found.assets[c], why) for c, why in kept.items()), key=lambda p: order(p[0])))


def remove_program(ws: Any, name: str) -> RemovePlan:
    """Remove program ``name`` as :func:`plan_remove` says, in one transaction (checked again under the lock)."""
    plan = plan_remove(ws, name)
    with ws.transaction() as w:
        again = plan_remove(ws, name)
        if again.to_dict() != plan.to_dict():
            raise ProgramkitError(f"workspace {ws.name!r} changed while the removal was being prepared; nothing "
                                  "was written", hint="Run `programkit workspace remove` again and review it.")
        for a in plan.local + plan.design:
            w.delete_asset(a.id)
        w.delete_program(plan.program.id)
        w.journal_as = "remove"
    return plan
