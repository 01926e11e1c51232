"""A Marketo Engage instance as a :class:`~programkit.workspaces.base.Workspace`, over the REST API.

Reads are the inventory's (:mod:`.inventory`). Writes go through the asset API (:mod:`.apply`); a remote
apply cannot be one transaction, so every call that creates or changes something is recorded in a
**journal** (:mod:`.journal`) that rollback undoes in reverse order and a resumed import skips.

Provenance and import history live next to the journals in a local state
directory (``$PROGRAMKIT_STATE_DIR``, default
``$XDG_STATE_HOME/programkit/marketo/<host>/<workspace>``), never in Marketo.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import fields as dc_fields
from pathlib import Path
from typing import Any, Iterator

from ...errors import ProgramkitError
from ...findings import make
from ..base import ImportRecord
from .apply import MarketoWriter
from .checklist import render_checklist
from .common import CHECKLIST_OUTCOMES, now_utc
from .inventory import MarketoInventory
from .journal import Journal


class MarketoWorkspace(MarketoInventory):
    """One Marketo workspace of one instance (``url`` is the REST base URL)."""

    # -- writes ----------------------------------------------------------------------------------
    def cancel_resume(self) -> None:
        """Forget the journal :meth:`resume` chose (it had nothing to resume)."""
        self._resume = None

    def resume(self, journal_id: str = "last") -> Journal:
        """Make the next transaction continue ``journal_id``: steps it recorded are not done again."""
        self._resume = Journal.load(self.state_dir, journal_id)
        return self._resume

    @contextmanager
    def transaction(self) -> Iterator["MarketoWriter"]:
        journal = self._resume or Journal.new(self.state_dir)  # _resume stays set until the end: revision()
        if journal.data["status"] != "running":
            journal.set_status("running")
        writer = MarketoWriter(self, journal)
        try:
            yield writer
            writer.drain()
        except BaseException as exc:
            writer.abort()
            journal.set_status("failed", error=exc.message if isinstance(exc, ProgramkitError) else type(exc).__name__)
            if isinstance(exc, ProgramkitError) and not journal.data["steps"] and not journal.data["checklist"]:
                # nothing was written, so the journal goes (below) and there is nothing to resume or roll back
                raise ProgramkitError(f"import stopped before it wrote anything: {exc.message}", exc.findings,
                                      hint="nothing was written; once the cause is fixed, run the same import "
                                           "again") from None
            if isinstance(exc, ProgramkitError):
                steps = len(journal.data["steps"])
                raise ProgramkitError(
                    f"import stopped after {steps} step(s) (journal {journal.id}): {exc.message}",
                    exc.findings + [make("PK811", f"import stopped after {steps} step(s) (journal {journal.id})")],
                    hint=f"once the cause is fixed, run the same import with --resume to finish it, or "
                         f"`programkit rollback --target {self.url}` to delete what it created",
                ) from None
            raise
        else:
            journal.set_status("complete", finishedAt=now_utc())
        finally:
            writer.close()
            if self.progress is not None:
                self.progress.close()
            self._resume = None
            self.cache.clear()  # the instance changed: read it afresh
            self._exported.clear()
            self.checklist = journal.checklist()
            if not journal.data["steps"] and not journal.data["checklist"]:
                journal.path.unlink(missing_ok=True)  # nothing written (e.g. a no-op import): nothing to undo

    def manual_steps_report(self) -> str:
        """The last import's manual-steps checklist and where it was saved ("" when there is none)."""
        if not self.checklist:
            return ""
        steps = sum(len(i["steps"]) for i in self.checklist)
        saved = f"Saved to {self.checklist_file}.\n" if self.checklist_file else ""
        note = make("PK809", f"{steps} manual step(s) in {len(self.checklist)} asset(s) are not done: the import "
                             "is recorded as needs-manual-completion")
        warned = "".join(f"{w.code} [{w.rule}] {w.message}\n" for w in self.apply_warnings)
        return render_checklist(self.checklist) + warned + f"{note.code} [{note.rule}] {note.message}.\n" + saved

    @property
    def history_file(self) -> Path:
        """Where this target's import history is kept: on this machine, since Marketo has no place for it."""
        return self.state_dir / "history.json"

    def history_rows(self) -> list[dict[str, Any]]:
        path = self.history_file
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []

    def history(self, limit: int | None = None) -> list[ImportRecord]:
        names = {f.name for f in dc_fields(ImportRecord)}
        recs = [ImportRecord(**{k: v for k, v in r.items() if k in names}) for r in reversed(self.history_rows())]
        return recs[:limit] if limit is not None else recs

    def manual_completion(self, record: ImportRecord) -> dict[str, Any] | None:
        """What import ``record`` left to do in the Marketo UI: ``{"checklist": file or None, "items": [...]}``
        (one item per asset: kind, name, marketoId, folder, steps), or None if it left nothing (or was rolled
        back). The API cannot tell whether the steps were done since, so this is what was recorded, not a check."""
        if record.outcome not in CHECKLIST_OUTCOMES:
            return None
        row = next((r for r in self.history_rows() if r.get("id") == record.id), None) or {}
        items = [{k: v for k, v in i.items() if k not in ("index", "expect")} for i in row.get("checklist") or []]
        if not items:
            return None
        path = self.state_dir / "checklists" / f"{row.get('journal')}.md"
        out = {"checklist": str(path) if path.is_file() else None, "items": items}
        if row.get("verification"):  # what `programkit verify` last found (see marketo_verify)
            out["verification"] = row["verification"]
        return out

    def pending_manual(self, program: str) -> dict[str, Any]:
        """What the imports of ``program`` recorded as needing manual completion: ``{"imports": [ids],
        "items": [{kind, name, marketoId, folder, steps}], "checklists": [files]}`` (a later import's item for
        the same asset replaces an earlier one's; rolled-back imports left nothing)."""
        imports: list[int] = []
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        files: list[str] = []
        for rec in reversed(self.history()):  # oldest first
            if rec.program.casefold() != program.casefold() or rec.outcome != "needs-manual-completion":
                continue
            left = self.manual_completion(rec)
            if left is None:
                continue
            imports.append(rec.id or 0)
            files += [left["checklist"]] if left["checklist"] else []
            for item in left["items"]:
                latest.pop((item["kind"], item["name"]), None)
                latest[(item["kind"], item["name"])] = item
        return {"imports": imports, "items": list(latest.values()), "checklists": files}

    def pending_manual_report(self, program: str) -> str:
        """One paragraph on :meth:`pending_manual` ("" if nothing): for an import that leaves no new steps
        (e.g. a re-import with nothing to do), so the user is reminded once, without a checklist that would
        read as if this import had left them."""
        pending = self.pending_manual(program)
        if not pending["items"]:
            return ""
        by_kind: dict[str, list[str]] = {}
        for item in pending["items"]:
            by_kind.setdefault(item["kind"], []).append(repr(item["name"]))
        what = "; ".join(f"{kind} {', '.join(names)}" for kind, names in by_kind.items())
        ids = ", ".join(f"#{i}" for i in pending["imports"])
        return (f"Still recorded as needing manual completion (import{'s' * (len(pending['imports']) > 1)} {ids}; "
                f"`programkit verify` checks what the API can read): {what}.\n"
                + "".join(f"Checklist: {f}\n" for f in pending["checklists"])
                + f"`programkit history --target {self.url}` lists them.\n")

