"""Rolling back a Marketo import from its journal, newest step first.

What an import *created* is deleted. What it *changed* is put back where the
journal kept what was there before: a token's previous type and value (a
token that was new is deleted), the program's previous description and tags.
What it cannot put back is listed precisely, one PK812 per item: content an
update rewrote (an email's sections, a template's HTML: the journal does not
keep the old content), an asset it deleted (``--prune``: the API cannot bring
it back, and neither the journal nor the history keeps its content), a file
(the API cannot delete files).

Such a rollback is refused by default (PK830, exit 1, nothing touched); with
``force`` it does what it can and the import is recorded as
``partially-rolled-back`` -- still the program's provenance, since what it
changed is still there -- never as ``rolled-back``.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BadInput, ProgramkitError
from ..findings import Finding, Severity, make, register_code
from .marketo import (_KIND_CODE, A, DESIGN, MANUAL, Journal, MarketoWorkspace, _delete, _write_json,
                      asset_id, list_journals)
from .marketo_client import MarketoError

_GROUP = "marketo"
register_code("PK830", "marketo-rollback-refused", Severity.ERROR,
              "Rollback refused: the import changed or deleted things in Marketo that rollback cannot put back.",
              hint="Nothing was changed. `programkit rollback --force` undoes what it can and records the import "
                   "as partially rolled back; to go back to the earlier version, import it again with "
                   "--allow-downgrade (its plan compares with what Marketo holds).",
              example="import #3 (op-lead-management 1.1.0) changed 2 thing(s) rollback cannot put back",
              group=_GROUP)
register_code("PK831", "marketo-unknown-journal", Severity.ERROR,
              "No import journal with that id is kept for this target (host and workspace).",
              hint="`programkit rollback --target URL --list` lists the journals kept for it.",
              example="no import journal 'nope' for 127.0.0.1_8799/Default", group=_GROUP)
register_code("PK832", "marketo-no-journal", Severity.ERROR,
              "No import journal is left to roll back (or resume) for this target.",
              hint="`programkit history --target URL` lists the imports; a rolled-back one is not undone twice.",
              example="no import journal left to roll back in ~/.local/state/programkit/marketo/…/journals",
              group=_GROUP)

#: history outcomes
ROLLED_BACK, PARTIAL = "rolled-back", "partially-rolled-back"


@dataclass
class RollbackResult:
    """What :func:`rollback` did: the journal, counts, and one PK812 per change it could not undo."""

    journal: Journal
    deleted: int = 0
    restored: int = 0
    left: list[Finding] = field(default_factory=list)
    import_id: int | None = None

    @property
    def outcome(self) -> str:
        return PARTIAL if self.left else ROLLED_BACK


def journal_summary(state_dir: Path) -> str:
    """``id (status), …`` for the journals kept in ``state_dir``, or "none"."""
    return ", ".join(f"{j.id} ({j.data['status']})" for j in list_journals(state_dir)) or "none"


def load_journal(ws: MarketoWorkspace, jid: str = "last") -> Journal:
    """The journal to roll back: ``last`` is the newest not wholly rolled back. An id that names no journal
    is bad input (PK831, exit 2), listing the ones there are."""
    folder = ws.state_dir / "journals"
    where = f"{ws.state_dir.parent.name.replace('_', ':')}/{ws.name}"  # the state directory's name for host:port
    if jid == "last":
        journals = [j for j in list_journals(ws.state_dir) if j.data["status"] != ROLLED_BACK]
        if not journals:
            raise ProgramkitError("no import journal left to roll back", [make(
                "PK832", f"no import journal left to roll back for {where} (kept in {folder})")])
        return journals[-1]
    path = folder / f"{jid}.jsonl"
    if not re.fullmatch(r"[0-9A-Za-z-]+", jid) or not path.is_file():
        raise BadInput(f"unknown journal {jid!r}", [make(
            "PK831", f"no import journal {jid!r} for {where}; journals kept: {journal_summary(ws.state_dir)}",
            hint=f"`programkit rollback --target {ws.url} --list` lists them")])
    return Journal.read(path)


def _history(ws: MarketoWorkspace) -> list[dict[str, Any]]:
    path = ws.history_file
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


def _names(journal: Journal) -> dict[tuple[str, int], str]:
    """(kind, Marketo id) -> name, from the plan the journal recorded (replace and delete steps name no asset)."""
    out: dict[tuple[str, int], str] = {}
    for act in (journal.data.get("plan") or {}).get("actions") or []:
        if isinstance(act.get("targetId"), int):
            out[(act["kind"], act["targetId"])] = act.get("as") or act["name"]
    return out


def _earlier(ws: MarketoWorkspace, journal: Journal) -> str:
    """The import of the same program before this journal's, as "bundle version", or ""."""
    rows = _history(ws)
    mine = next((r for r in rows if r.get("journal") == journal.id), None)
    if mine is None:
        return ""
    before = [r for r in rows if r["id"] < mine["id"] and r.get("program") == mine.get("program")
              and r.get("outcome") not in (ROLLED_BACK,)]
    return f"{before[-1]['bundle']} {before[-1]['version']}" if before else ""


def cannot_undo(ws: MarketoWorkspace, journal: Journal) -> list[tuple[dict[str, Any], Finding]]:
    """Each step of ``journal`` rollback cannot put back, with its PK812 (files come up when deleting)."""
    steps = [s for s in journal.data["steps"] if not s.get("rolledBack")]
    created = {(s["kind"], s["id"]) for s in steps if s["op"] == "create"}
    programs = {s["id"] for s in steps if s["op"] == "create" and s["kind"] == "program"}
    replaced = {(s["kind"], s["id"]) for s in steps if s["op"] == "replace"}
    names = _names(journal)
    earlier = _earlier(ws, journal)
    out: list[tuple[dict[str, Any], Finding]] = []
    for s in reversed(steps):
        kind, mid, op = s["kind"], s["id"], s["op"]
        name = s.get("name") or names.get((kind, asset_id(kind, mid) if kind in _KIND_CODE else mid), "")
        label = f"{kind} {name!r} (id {mid})"
        why = None
        if op == "token" and mid not in programs and "previous" not in s:
            why = (f"token {{{{my.{s['name']}}}}} of program id {mid}: set by this import; its previous value is not "
                   "in the journal (journalled before programkit kept it)")
        elif op == "update" and mid not in programs and "previous" not in s:
            why = (f"{label}: description and tags updated; what they were is not in the journal (journalled "
                   "before programkit kept it)")
        elif op == "replace" and kind != "smartCampaign" and kind not in MANUAL:  # those were not written
            what = ("its content was rewritten (sections, variables, dynamic content)" if kind == "email"
                    else "its content was replaced")
            why = (f"{label}: {what}; the journal does not keep what it was"
                   + (f" (re-import {earlier} to write it again)" if earlier else ""))
        elif op == "delete":
            why = (f"{label}: deleted by this import (--prune); the API cannot bring it back and neither the "
                   "journal nor the history keeps its content"
                   + (f" (re-import {earlier} to create it again)" if earlier else ""))
        elif op == "content" and (kind, mid) not in created and (kind, mid) not in replaced:
            why = f"{label}: content written by this import; the journal does not keep what it was"
        if why:
            out.append((s, make("PK812", why)))
    return out


def _undo(ws: MarketoWorkspace, step: dict[str, Any], programs: set[int]) -> str | None:
    """Undo one step through the API: "deleted", "restored", or None (nothing to do). Raises MarketoError."""
    kind, mid, op = step["kind"], int(step["id"]) if step.get("id") is not None else None, step["op"]
    if op == "create":
        _delete(ws.client, "program" if kind == "program" else DESIGN[kind][0] if kind in DESIGN else kind, mid)
        return "deleted"
    if op == "token" and mid not in programs and "previous" in step and not step.get("unchanged"):
        prev = step["previous"]
        if prev is None:  # new with this import
            ws.client.post(f"{A}/folder/{mid}/tokens/delete.json", {"folderType": "Program", "name": step["name"]})
        else:
            ws.client.post(f"{A}/folder/{mid}/tokens.json", {
                "folderType": "Program", "name": step["name"], "type": prev["type"],
                "value": prev["value"] if isinstance(prev["value"], str) else json.dumps(prev["value"])})
        return "restored"
    if op == "update" and kind == "program" and mid not in programs and "previous" in step:
        prev = step["previous"]
        ws.client.post(f"{A}/program/{mid}.json", {"description": prev["description"],
                                                  "tags": prev["tags"] or None})
        return "restored"
    return None


def rollback(ws: MarketoWorkspace, journal_id: str = "last", *, force: bool = False) -> RollbackResult:
    """Undo one import, newest step first: delete what it created, restore what the journal kept the previous
    state of. If it changed anything that cannot be put back, refuse (PK830, nothing touched) unless
    ``force``; then undo the rest and record the import as ``partially-rolled-back``."""
    journal = load_journal(ws, journal_id)
    rows = _history(ws)
    row = next((r for r in rows if r.get("journal") == journal.id), None)
    result = RollbackResult(journal, import_id=row["id"] if row else None)
    blocked = cannot_undo(ws, journal)
    left = [f for _, f in blocked]
    if left and not force:
        which = (f"import #{row['id']} ({row['bundle']} {row['version']})" if row else f"journal {journal.id}")
        message = f"{which} changed {len(left)} thing(s) rollback cannot put back; nothing was changed"
        earlier = _earlier(ws, journal)
        raise ProgramkitError(message, [make("PK830", message)] + left, hint=(
            f"`programkit rollback --target {ws.url} --journal {journal.id} --force` deletes what it created, "
            "restores what the journal kept and records it as partially rolled back"
            + (f"; to go back to {earlier}, import that bundle again with --allow-downgrade (its plan compares "
               "with what Marketo holds)" if earlier else "")))
    programs = {int(s["id"]) for s in journal.data["steps"] if s["op"] == "create" and s["kind"] == "program"}
    kept = {(s["kind"], s["id"]) for s, _ in blocked if s["op"] == "replace"}  # its content steps stay too
    skip = {id(s) for s, _ in blocked} | {id(s) for s in journal.data["steps"]
                                          if s["op"] == "content" and (s["kind"], s["id"]) in kept}
    for step in reversed(journal.data["steps"]):
        if step.get("rolledBack") or id(step) in skip:
            continue
        try:
            done = _undo(ws, step, programs)
        except MarketoError as e:
            if e.marketo_code in ("610", "702") and step["op"] == "create":  # already gone
                done = "deleted"
            else:
                left.append(make("PK812", f"{step['kind']} {step.get('name')!r} (id {step['id']}): {e.message}"))
                continue
        result.deleted += done == "deleted"
        result.restored += done == "restored"
        journal.mark_rolled_back(step)  # undone, or nothing to undo (follow-ups of what was deleted, manual)
    result.left = left
    journal.set_status(result.outcome)
    if row is not None:
        for r in rows:
            if r.get("journal") == journal.id:
                r["outcome"] = result.outcome
                r["rollbackLeft"] = [f.message for f in left]
        _write_json(ws.history_file, rows)
    ws._cache.clear()
    return result


def no_local_history(ws: MarketoWorkspace) -> list[str]:
    """What ``history`` says for a Marketo target with no local history (nothing is asked of Marketo): where it
    would be kept, and the hosts and workspaces this machine does have a history for, closest first."""
    here = ws.state_dir
    host = here.parent.name.replace("_", ":")  # the state directory's name for host:port
    lines = [f"No local history for {host}/{ws.name} (kept in {here}): Marketo has no place for an import history, "
             "so programkit keeps it on the machine that imported; nothing was read from Marketo."]
    others = {f"{p.parent.parent.name.replace('_', ':')}/{p.parent.name}": p
              for p in here.parent.parent.glob("*/*/history.json") if p.parent != here}
    if others:
        order = difflib.get_close_matches(f"{host}/{ws.name}", list(others), n=len(others), cutoff=0)
        lines.append("Did you mean one of these? (host/workspace with a local history; --target is the host's "
                     "REST base URL, --workspace the workspace)")
        for key in order:
            count = len(json.loads(others[key].read_text(encoding="utf-8")))
            lines.append(f"  {key}  ({count} import{'s' * (count != 1)})")
    return lines
