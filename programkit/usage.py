"""Who uses a Design Studio asset: what a plan must know before it deletes or replaces one.

A template, image or snippet is shared: one program's import may have
created it and another program's email may use it since (a keep-both
import reused the identical copy, a user built an email on it). Deleting it
(``--prune``) or replacing it (rule ``replace``) changes what those programs
send. :func:`design_users` answers, for a set of asset ids, which programs
use each one, the way export computes what a program uses (its emails'
templates, the snippets and images they reference, and what its import
recorded), so the two never disagree.
"""

from __future__ import annotations

from typing import Iterable

from .workspaces.base import AssetInfo, Workspace


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
