"""Undo one import into the embedded workspace: ``programkit rollback N`` returns the workspace to its state before
import N, in one transaction, or refuses and says why.

The change journal (:mod:`programkit.workspaces.sqlite.journal`) holds every row import N inserted, updated or
deleted, with the old row. Rolling back replays it backwards: rows N created are deleted, rows it changed or
deleted are put back byte for byte (program object, provenance, folders, asset content and meta, tag values).
The history row stays, its outcome becomes ``rolled-back``.

Refused (nothing written) when undoing N would undo or break something done since:
- PK575: a later change touched a row N wrote (an upgrade of the same program, a replace of the same template,
  ``workspace load`` or ``workspace remove``) — roll that back first, newest first;
- PK576: something N did not create uses what N created (another program's email on N's template; a tag value
  another program has);
- PK577: there is nothing to undo (a no-op import, one already rolled back, one recorded before programkit kept
  the journal);
- PK578: no import N in this workspace (exit 2).
A later import that was itself rolled back no longer counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .errors import BadInput, ProgramkitError
from .findings import Finding, Severity, make, register_code
from .workspaces.base import ImportRecord

G = "import"
register_code("PK575", "rollback-later-change", Severity.ERROR,
              "Rolling back this import would undo a later change to the same items (a later import of the same "
              "program or asset, `workspace load`, `workspace remove`).",
              hint="Roll back the later imports first, newest first (`programkit history` lists them); or import "
                   "the version you want back over it.",
              example="smartCampaign '01 - Sync New People to CRM' (program 'OP-Lead Management') was changed "
                      "since by import #3 (op-lead-management 1.1.0)", group=G)
register_code("PK576", "rollback-in-use", Severity.ERROR,
              "Something this import did not create uses an item it created: rolling it back would leave a "
              "dangling reference.",
              hint="Roll back (or `workspace remove`) what uses it first; `programkit workspace used-by NAME` "
                   "lists the users.",
              example="emailTemplate 'Quick Start Email Template' is used by email '01 - Email - ALERT - MQL' of "
                      "program 'OLM Copy'", group=G)
register_code("PK577", "rollback-nothing-to-undo", Severity.ERROR,
              "The import changed nothing that can be undone: it was a no-op, is already rolled back, or was "
              "recorded before programkit kept a change journal.",
              hint="`programkit history show N` says what the import did; an import recorded before the journal "
                   "is undone by importing the earlier version with --allow-downgrade, or `workspace remove`.",
              example="import #2 is already rolled back", group=G)
register_code("PK578", "no-such-import", Severity.ERROR, "No import with this number in the workspace (exit 2).",
              hint="`programkit history` lists the imports with their numbers.",
              example="workspace 'Default' has no import #7 (imports: #1, #2)", group=G)

ROLLED_BACK = "rolled-back"
#: outcomes of imports whose changes are in the workspace (and so can be undone)
UNDOABLE = ("applied", "needs-manual-completion")


def find_import(ws: Any, import_id: int) -> ImportRecord:
    """History row ``import_id`` of the workspace, or BadInput PK578 (exit 2) naming the ones there are."""
    getter = getattr(ws, "import_record", None)
    record = getter(import_id) if callable(getter) else next((r for r in ws.history() if r.id == import_id), None)
    if record is None:
        ids = ", ".join(f"#{r.id}" for r in reversed(ws.history(20))) or "none"
        message = f"workspace {ws.name!r} has no import #{import_id} (imports: {ids})"
        raise BadInput(message, [make("PK578", message)])
    return record


@dataclass
class Step:
    """One thing the rollback does, said as a person would: ``delete smartCampaign 'X' (program 'P')``."""

    verb: str  # delete | restore | put back
    kind: str
    name: str
    where: str = ""

    def __str__(self) -> str:
        return f"{self.verb} {self.kind} {self.name!r}" + (f" ({self.where})" if self.where else "")

    def to_dict(self) -> dict[str, Any]:
        return {"do": self.verb, "kind": self.kind, "name": self.name, "where": self.where}


@dataclass
class RollbackPlan:
    """What rolling back import N does, or why it is refused (``problems``)."""

    record: ImportRecord
    steps: list[Step] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)  # the journal rows to undo, newest first

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        r = self.record
        return {"import": {"id": r.id, "bundle": r.bundle, "version": r.version, "program": r.program,
                           "outcome": r.outcome},
                "steps": [s.to_dict() for s in self.steps], "problems": [p.to_dict() for p in self.problems]}


def _row_label(ws: Any, tbl: str, row: dict[str, Any], programs: dict[int, str]) -> tuple[str, str, str]:
    """(kind, name, where) of a journaled row, for people."""
    if tbl == "assets":
        pid = row.get("program_id")
        return row.get("kind", "asset"), row.get("name", "?"), (f"program {programs.get(pid, pid)!r}" if pid
                                                                  else "Design Studio")
    if tbl == "programs":
        return "program", row.get("name", "?"), ""
    if tbl == "folders":
        return "folder", row.get("path", "?"), f"program {programs.get(row.get('program_id'), '?')!r}"
    if tbl == "tag_values":
        names = {k.casefold(): k for k in ws.tag_types()}
        return "tag value", row.get("value", "?"), f"tag type {names.get(row.get('tag_key'), row.get('tag_key'))!r}"
    if tbl == "tag_types":
        return "tag type", row.get("name", "?"), ""
    if tbl == "fields":
        return "field", row.get("api_name", "?"), ""
    return tbl, str(row.get("name", "?")), ""


def _current_row(ws: Any, tbl: str, row_id: int) -> dict[str, Any] | None:
    cur = ws.db.execute(f"SELECT * FROM main.{tbl} WHERE rowid = ?", (row_id,))
    found = cur.fetchone()
    if found is None:
        return None
    return {d[0]: v for d, v in zip(cur.description, found) if not isinstance(v, bytes)}


def plan_rollback(ws: Any, import_id: int) -> RollbackPlan:
    """What rolling back import ``import_id`` of an embedded workspace would do, or every reason it cannot.
    Reads only."""
    record = find_import(ws, import_id)
    plan = RollbackPlan(record)
    label = f"import #{record.id} ({record.bundle} {record.version} as {record.program!r})"
    if record.outcome == ROLLED_BACK:
        plan.problems.append(make("PK577", f"{label} is already rolled back"))
        return plan
    if record.outcome not in UNDOABLE:
        plan.problems.append(make("PK577", f"{label} changed nothing (outcome {record.outcome}): nothing to undo"))
        return plan
    db = ws.db
    rows = db.execute("SELECT id, tbl, op, row_id, old, blob FROM changes WHERE workspace_id = ? AND import_id = ? "
                      "AND what = 'import' ORDER BY id DESC", (ws.id, record.id)).fetchall()
    if not rows:
        plan.problems.append(make("PK577", f"{label} was recorded before programkit kept a change journal: it "
                                           "cannot be undone exactly"))
        return plan
    plan.rows = [r[1:] for r in rows]
    programs = {p.id: p.name for p in ws.programs()}
    last = rows[0][0]
    undone = {r[0] for r in db.execute("SELECT id FROM imports WHERE workspace_id = ? AND outcome = ?",
                                       (ws.id, ROLLED_BACK))}
    # rows a later change touched (its rollback and the import it undid cancel out)
    touched = {(tbl, row_id) for _, tbl, _, row_id, _, _ in rows}
    later: dict[tuple[str, int], set[str]] = {}
    for tbl, row_id, what, imp in db.execute(
            "SELECT tbl, row_id, what, import_id FROM changes WHERE workspace_id = ? AND id > ?", (ws.id, last)):
        if (tbl, row_id) in touched and not (imp is not None and imp in undone):
            later.setdefault((tbl, row_id), set()).add(_by(ws, what, imp))
    inserted = {(tbl, row_id) for _, tbl, op, row_id, _, _ in rows if op == "insert"}
    seen: set[tuple[str, int]] = set()
    for _, tbl, op, row_id, old, _ in rows:  # newest first, as undone; one step per row (its oldest state)
        now = _current_row(ws, tbl, row_id)
        before = json.loads(old) if old else None
        kind, name, where = _row_label(ws, tbl, now or before or {}, programs)
        if (tbl, row_id) in later:
            for by in sorted(later.pop((tbl, row_id))):
                plan.problems.append(make("PK575", f"{kind} {name!r}{f' ({where})' if where else ''} was changed "
                                                   f"since by {by}; rolling back {label} would undo that too"))
        if tbl == "folders" or (tbl, row_id) in seen:
            continue
        seen.add((tbl, row_id))
        if (tbl, row_id) in inserted:
            plan.steps.append(Step("delete", kind, name, where))
        else:
            plan.steps.append(Step("put back" if op == "delete" else "restore", kind, name, where))
    rank = {"program": 0, "tag type": 3, "tag value": 4, "field": 5}
    plan.steps.sort(key=lambda st: (rank.get(st.kind, 2 if st.where.startswith("program") else 1),
                                    st.where.casefold(), st.kind, st.name.casefold()))  # the program first
    # what the rollback itself restores (rows N wrote) goes back to a state before N: it cannot use what N made
    plan.problems += _in_use(ws, {r for t, r in inserted if t == "assets"}, {r for t, r in touched if t == "assets"},
                             {r for t, r in touched if t == "programs"}, {r for t, r in inserted if t == "tag_values"})
    return plan


def _by(ws: Any, what: str, import_id: int | None) -> str:
    if what == "import" and import_id is not None:
        r = ws.import_record(import_id)
        return f"import #{import_id} ({r.bundle} {r.version})" if r else f"import #{import_id}"
    if what == "rollback" and import_id is not None:
        return f"the rollback of import #{import_id}"
    return {"remove": "`workspace remove`", "load": "`workspace load`"}.get(what, "a later change")


def _in_use(ws: Any, assets: set[int], assets_restored: set[int], programs_restored: set[int],
            tag_rows: set[int]) -> list[Finding]:
    """PK576 for each asset (or tag value) the import created that something else uses: anything but what the
    rollback deletes or puts back as it was before the import."""
    from .usage import usage

    out: list[Finding] = []
    if assets:
        found = usage(ws)
        for asset_id in sorted(assets):
            if asset_id not in found.assets:
                continue
            for user in found.users_of(asset_id):
                if user.id in assets_restored:
                    continue
                a = found.assets[asset_id]
                out.append(make("PK576", f"{a.kind} {a.name!r} ({found.where(a)}) is used by {user.kind} "
                                         f"{user.name!r} ({found.where(user)}), which this import did not create"))
    for row_id in sorted(tag_rows):
        row = _current_row(ws, "tag_values", row_id)
        if row is None:
            continue
        for p in ws.programs():
            if p.id in programs_restored:
                continue
            tags = {k.casefold(): str(v).casefold() for k, v in (p.data.get("tags") or {}).items()}
            if tags.get(row["tag_key"]) == row["value_key"]:
                out.append(make("PK576", f"tag value {row['value']!r} is set on program {p.name!r}, which this "
                                         "import did not create"))
    return out


def rollback_import(ws: Any, import_id: int) -> RollbackPlan:
    """Roll back import ``import_id``: plan it, refuse (ProgramkitError, exit 1, nothing written) if it has
    problems, else undo it in one transaction and mark the history row ``rolled-back``."""
    from .workspaces.sqlite import journal as sqlite_journal

    plan = plan_rollback(ws, import_id)
    if not plan.ok:
        raise _refused(plan)
    with ws.transaction() as w:
        again = plan_rollback(ws, import_id)  # under the write lock: nobody changed it since it was shown
        if not again.ok or again.rows != plan.rows:
            raise _refused(again) if not again.ok else ProgramkitError(
                f"workspace {ws.name!r} changed while the rollback was being prepared; nothing was written")
        sqlite_journal.undo(ws.db, plan.rows)
        w.journal_as, w.journal_import = "rollback", import_id
        w.dirty = True
        ws.db.execute("UPDATE imports SET outcome = ? WHERE id = ?", (ROLLED_BACK, import_id))
    plan.record.outcome = ROLLED_BACK
    return plan


def _refused(plan: RollbackPlan) -> ProgramkitError:
    r = plan.record
    n = len(plan.problems)
    return ProgramkitError(
        f"import #{r.id} ({r.bundle} {r.version} as {r.program!r}) cannot be rolled back ({n} reason"
        f"{'s' if n != 1 else ''}); nothing was written", plan.problems)
