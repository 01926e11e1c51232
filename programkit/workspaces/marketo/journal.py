"""The import journal, and what it makes possible: resuming an import that stopped, rolling one back.

A journal is what one import created or changed, step by step (JSON Lines, one event appended per step).

Rollback works newest step first. What an import *created* is deleted. What it *changed* is put back where the
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
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import BadInput, ProgramkitError
from ...findings import Finding, Severity, make, register_code
from .client import MarketoError
from . import kinds as marketo_kinds
from .common import A, KIND_CODE, MANUAL, asset_id, delete_remote, now_utc, write_json

if TYPE_CHECKING:  # pragma: no cover
    from ..base import ImportRecord
    from .workspace import MarketoWorkspace

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

class Journal:
    """What one import created or changed, step by step.

    A JSON Lines file, one event appended (and flushed) per step, so a crash
    loses at most the step in flight and a long import does not rewrite a
    growing file after every call. :attr:`data` is the state the events add up to.
    """

    def __init__(self, path: Path, data: dict[str, Any]):
        self.path, self.data = path, data
        self._lock = threading.RLock()  # follow-up calls finish on worker threads
        self._by_key = {s["key"]: s for s in data["steps"]}
        self._clean_end = True  # False when the file ends in a line cut short by a crash

    @classmethod
    def new(cls, state_dir: Path) -> "Journal":
        jid = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6]
        j = cls(state_dir / "journals" / f"{jid}.jsonl", {"id": jid, "status": "running", "steps": [], "checklist": [],
                                                          "startedAt": now_utc(), "startedNs": time.time_ns()})
        j.path.parent.mkdir(parents=True, exist_ok=True)
        j._append({"event": "start", "id": jid, "startedAt": j.data["startedAt"], "startedNs": j.data["startedNs"]})
        return j

    @classmethod
    def read(cls, path: Path) -> "Journal":
        data: dict[str, Any] = {"id": path.stem, "status": "running", "steps": [], "checklist": []}
        text = path.read_text(encoding="utf-8")
        for line in text.splitlines():
            try:
                ev = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash: that step did not happen
            kind = ev.pop("event", None)
            if kind == "start":
                data.update(ev)
            elif kind == "step":
                data["steps"].append(ev)
            elif kind == "checklist":
                data["checklist"].append(ev)
            elif kind == "status":
                data.update(ev)
            elif kind == "plan":
                data["plan"] = ev["plan"]
            elif kind == "rolledBack":
                for step in data["steps"]:
                    if step["key"] == ev["key"]:
                        step["rolledBack"] = True
        journal = cls(path, data)
        journal._clean_end = not text or text.endswith("\n")
        return journal

    @classmethod
    def load(cls, state_dir: Path, jid: str = "last") -> "Journal":
        folder = state_dir / "journals"
        if jid == "last":
            journals = [j for j in list_journals(state_dir) if j.data["status"] != "rolled-back"]
            if not journals:
                raise ProgramkitError("no import journal to resume or roll back",
                                      [make("PK811", f"no journal in {folder}")])
            return journals[-1]
        path = folder / f"{jid}.jsonl"
        if not re.fullmatch(r"[0-9A-Za-z-]+", jid) or not path.is_file():
            raise ProgramkitError(f"no import journal {jid!r}", [make("PK811", f"no journal {jid!r} in {folder}")])
        return cls.read(path)

    @property
    def id(self) -> str:
        return self.data["id"]

    def _append(self, event: dict[str, Any]) -> None:
        with self._lock, self.path.open("a", encoding="utf-8") as f:
            f.write(("" if self._clean_end else "\n") + json.dumps(event, sort_keys=True) + "\n")
            self._clean_end = True

    def done(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            return self._by_key.get(key)

    def add(self, step: dict[str, Any], checklist: dict[str, Any] | None = None) -> None:
        with self._lock:
            if checklist:  # before the step: a resumed import that sees the step also has its checklist
                self.data["checklist"].append(checklist)
                self._append({"event": "checklist", **checklist})
            self.data["steps"].append(step)
            self._by_key[step["key"]] = step
            self._append({"event": "step", **step})

    def set_plan(self, plan: dict[str, Any]) -> None:
        with self._lock:
            if self.data.get("plan") != plan:
                self.data["plan"] = plan
                self._append({"event": "plan", "plan": plan})

    def set_status(self, status: str, **extra: Any) -> None:
        with self._lock:
            self.data.update(status=status, **extra)
            self._append({"event": "status", "status": status, **extra})

    def mark_rolled_back(self, step: dict[str, Any]) -> None:
        with self._lock:
            step["rolledBack"] = True
            self._append({"event": "rolledBack", "key": step["key"]})

    def checklist(self) -> list[dict[str, Any]]:
        """Checklist items in the bundle's order (``index``, its manifest position; creates and follow-ups
        finish in any order, and a resumed import adds to them), else in the order their assets were created."""
        with self._lock:
            order = {(s["kind"], s["id"]): i for i, s in enumerate(self.data["steps"])
                     if s["op"] in ("create", "manual")}  # manual: journalled, never created (id None)
            return sorted(self.data["checklist"], key=lambda c: (
                (0, c["index"]) if isinstance(c.get("index"), int) else
                (1, order.get((c["kind"], c["marketoId"]), len(order)))))


def list_journals(state_dir: Path) -> list[Journal]:
    """The import journals kept for a target, oldest first (two started in the same second: by their start in
    nanoseconds, since an id's random tail does not sort them)."""
    folder = state_dir / "journals"
    journals = [Journal.read(p) for p in sorted(folder.glob("*.jsonl"))] if folder.is_dir() else []
    return sorted(journals, key=lambda j: (j.id[:15], j.data.get("startedNs", 0)))


def resume_import(ws: MarketoWorkspace, bundle: Any, journal_id: str = "last") -> ImportRecord:
    """Finish an import that stopped part-way: apply the plan its journal recorded, skipping done steps."""
    from ...apply import apply_plan
    from ...plan import Plan

    journal = ws.resume(journal_id)
    if journal.data["status"] == "complete" or not journal.data.get("plan"):
        ws.cancel_resume()
        raise ProgramkitError(f"journal {journal.id} has nothing to resume ({journal.data['status']})",
                              [make("PK811", f"journal {journal.id} is {journal.data['status']}; nothing to resume")])
    return apply_plan(Plan.from_dict(journal.data["plan"]), bundle, ws, progress=ws.progress_tick)


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
        name = s.get("name") or names.get((kind, asset_id(kind, mid) if kind in KIND_CODE else mid), "")
        label = f"{kind} {name!r} (id {mid})"
        why = None
        if op == "token" and mid not in programs and "previous" not in s:
            why = (f"token {{{{my.{s['name']}}}}} of program id {mid}: set by this import; its previous value is not "
                   "in the journal (journalled before programkit kept it)")
        elif op == "update" and mid not in programs and "previous" not in s:
            why = (f"{label}: description and tags updated; what they were is not in the journal (journalled "
                   "before programkit kept it)")
        elif op == "replace" and kind != "smartCampaign" and kind not in MANUAL and \
                getattr(marketo_kinds.get(kind), "replace_writes", True):  # the others were not written
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
        handler = marketo_kinds.get(kind)
        if handler is not None:  # a kind Marketo will not delete in some state does what that takes first
            handler.delete(ws, mid)
        else:
            delete_remote(ws.client, marketo_kinds.segment_of(kind), mid)
        return "deleted"
    if op == "token" and mid not in programs and "previous" in step and not step.get("unchanged"):
        prev = step["previous"]
        if prev is None:  # new with this import
            # deleted by name and type (Swagger DeleteTokenRequest); journals before the type was kept: text
            ws.client.post(f"{A}/folder/{mid}/tokens/delete.json", {"folderType": "Program", "name": step["name"],
                                                                    "type": step.get("type") or "text"})
        else:
            ws.client.post(f"{A}/folder/{mid}/tokens.json", {
                "folderType": "Program", "name": step["name"], "type": prev["type"],
                "value": prev["value"] if isinstance(prev["value"], str) else json.dumps(prev["value"])})
        return "restored"
    if op == "activate" and mid is not None:  # deactivated before it is deleted (or left as it was before)
        ws.client.post(f"{A}/smartCampaign/{mid}/deactivate.json")
        return "restored"
    if op == "update" and kind == "program" and mid not in programs and "previous" in step:
        prev = step["previous"]
        ws.client.post(f"{A}/program/{mid}.json", {"description": prev["description"],
                                                  "tags": prev["tags"] or None})
        return "restored"
    return None


def _undo_step(ws: MarketoWorkspace, step: dict[str, Any], programs: set[int], journal: Journal,
               result: RollbackResult, left: list[Finding], deferred: list[dict[str, Any]] | None) -> None:
    """Undo one step and count it; a failure is a PK812 in ``left``, or (a 709 on a delete, with ``deferred``)
    put off to the second pass."""
    try:
        done = _undo(ws, step, programs)
    except MarketoError as e:
        if e.marketo_code in ("610", "702") and step["op"] == "create":  # already gone
            done = "deleted"
        elif e.marketo_code == "709" and step["op"] == "create" and deferred is not None:
            deferred.append(step)
            return
        else:
            left.append(make("PK812", f"{step['kind']} {step.get('name')!r} (id {step['id']}): {e.message}"))
            return
    result.deleted += done == "deleted"
    result.restored += done == "restored"
    journal.mark_rolled_back(step)  # undone, or nothing to undo (follow-ups of what was deleted, manual)


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
    # A delete Marketo refuses because something else still uses what it deletes (709: a form's thank-you names
    # the landing page, created before it) is tried once more after the rest, when the user may be gone.
    deferred: list[dict[str, Any]] = []
    for step in [*reversed(journal.data["steps"]), None]:
        if step is None:  # the second pass, over the deferred deletes (in the same order)
            for again in deferred:
                _undo_step(ws, again, programs, journal, result, left, None)
            break
        if step.get("rolledBack") or id(step) in skip:
            continue
        _undo_step(ws, step, programs, journal, result, left, deferred)
    result.left = left
    journal.set_status(result.outcome)
    if row is not None:
        for r in rows:
            if r.get("journal") == journal.id:
                r["outcome"] = result.outcome
                r["rollbackLeft"] = [f.message for f in left]
        write_json(ws.history_file, rows)
    ws.cache.clear()
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
