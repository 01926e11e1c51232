"""``programkit verify --target URL``: which manual steps an import left are done in Marketo, as far as its API
can tell.

An import into Marketo leaves a checklist (smart lists, rule logic, qualification rules, activation, flow steps,
email text versions and modules, lead lifecycles) and records itself ``needs-manual-completion``; each item keeps
what the bundle asked for (``expect``). Verification reads each asset back the way export does
(:meth:`MarketoWorkspace.prefetch` and :meth:`~MarketoWorkspace.read`, i.e.
:func:`.export.campaign_document` / the kind modules' ``document``) and compares, step by step:

- **checked**: triggers, filters (operator, values, constraints), rule logic (all/any), qualification rule,
  communication limits, activation, an email's text version — each ``done``, ``missing`` (not done) or
  ``differs`` (expected vs found), plus ``extra`` for a trigger or filter Marketo has and the bundle does not;
- **manual**, never claimed: flow steps (Adobe's Swagger has no flow endpoint), which modules an email uses
  (the content answer does not say), the expression of advanced rule logic, a lead lifecycle (Revenue Cycle
  Modeler has no API), and any step this module does not know how to read.

:func:`record_verification` writes the result into the local history: an import whose every checkable step is
done becomes ``verified-except-manual`` (or ``verified`` if nothing was left unconfirmed), one with a step not
done stays (or goes back to) ``needs-manual-completion``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ...errors import BadInput, ProgramkitError
from ...findings import Severity, make, register_code
from .checklist import (ACTIVATE_REFUSED, APPROVE_PREFIX, NO_EXPRESSION, NO_FLOW, NO_LIFECYCLE, NO_MODULES,
                        UNKNOWN_STEP, REVIEW_CAMPAIGN, campaign_checks, filter_key, filter_text,
                        logic_text, trigger_key, trigger_text)
from . import kinds as marketo_kinds
from .common import CHECKLIST_OUTCOMES, DESIGN, asset_id, now_utc, write_json

ACTIVATE_PREFIX = ACTIVATE_REFUSED.split("(")[0].rstrip()

if TYPE_CHECKING:  # pragma: no cover
    from .workspace import MarketoWorkspace

_GROUP = "marketo"
register_code("PK823", "marketo-step-not-done", Severity.ERROR,
              "A manual step an import left is not done in Marketo, or is done differently from the bundle "
              "(as far as the API can read it).",
              hint="Finish the step in the Marketo UI as the checklist says, then run `programkit verify` again.",
              example="smartCampaign '02 - Marketing Qualified' (id 1002): filter 3 \"Email Address\" is not "
                      "empty: not in Marketo", group=_GROUP)
register_code("PK824", "marketo-step-unconfirmable", Severity.WARNING,
              "Manual steps the Marketo API cannot read (flow steps, email modules, advanced rule logic, lead "
              "lifecycles) cannot be verified; they stay on the checklist.",
              hint="Check them by hand in the Marketo UI; programkit never records them as done.",
              example="7 flow step(s) in 2 smart campaign(s) cannot be checked through the API", group=_GROUP)
register_code("PK825", "marketo-nothing-to-verify", Severity.ERROR,
              "verify was asked about an import or program that left no manual steps in this target's history.",
              hint="Run `programkit history --target URL` to see the imports and what each left.",
              example="import #3 left no manual steps (outcome: noop)", group=_GROUP)

#: statuses of one step: checked ones, then those the API cannot read
DONE, MISSING, DIFFERS, EXTRA, MANUAL, UNCHECKED = "done", "missing", "differs", "extra", "manual", "unchecked"
FAILED = (MISSING, DIFFERS, EXTRA, UNCHECKED)
NO_INTENT = ("this import was recorded before programkit kept what each step asks for, so there is nothing to "
             "compare with: import the bundle again as a new program, or check this step in the UI")


@dataclass
class Check:
    """One checklist step and what Marketo holds for it."""

    status: str
    step: str
    expected: str | None = None
    found: str | None = None
    why: str | None = None  # for manual / unchecked steps: why the API cannot tell


@dataclass
class ItemResult:
    """One asset the checklist named, and each of its steps checked."""

    kind: str
    name: str
    marketoId: int | None
    importId: int
    program: str
    checks: list[Check] = field(default_factory=list)

    def count(self, *statuses: str) -> int:
        return sum(1 for c in self.checks if c.status in statuses)

    @property
    def ok(self) -> bool:
        return not self.count(*FAILED)


# -- choosing what to check ------------------------------------------------------------------------
def _rows_to_check(ws: MarketoWorkspace, program: str | None, import_id: int | None) -> list[dict[str, Any]]:
    rows = ws.history_rows()
    if import_id is not None:
        row = next((r for r in rows if r.get("id") == import_id), None)
        if row is None:
            raise BadInput(f"no import #{import_id} in the history of {ws.url} (workspace {ws.name!r})",
                           [make("PK825", f"no import #{import_id} recorded in {ws.history_file}")],
                           hint="`programkit history --target URL` lists the imports.")
        if row.get("outcome") not in CHECKLIST_OUTCOMES or not row.get("checklist"):
            raise BadInput(f"import #{import_id} left no manual steps (outcome: {row.get('outcome')})",
                           [make("PK825", f"import #{import_id} left no manual steps (outcome: {row.get('outcome')})")])
        return [row]
    chosen = [r for r in rows if r.get("outcome") in CHECKLIST_OUTCOMES and r.get("checklist")
              and (program is None or str(r.get("program", "")).casefold() == program.casefold())]
    if program is not None and not chosen:
        raise BadInput(f"no import of program {program!r} left manual steps in the history of {ws.url}",
                       [make("PK825", f"no import of program {program!r} recorded with manual steps in "
                                      f"{ws.history_file}")], hint="`programkit history --target URL` lists the imports.")
    return chosen


def _items(rows: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(row, item) pairs; an asset a later import put on the checklist again is checked once, as that one."""
    latest: dict[tuple[str, str, str], tuple[dict[str, Any], dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: r.get("id") or 0):
        for item in sorted(row["checklist"], key=lambda i: i.get("index", 0)):
            key = (str(row.get("program", "")).casefold(), item["kind"], item["name"].casefold())
            latest.pop(key, None)
            latest[key] = (row, item)
    return list(latest.values())


def _program_id(ws: MarketoWorkspace, row: dict[str, Any]) -> int | None:
    pid = next((m.get("workspaceId") for m in row.get("mapping") or [] if m.get("kind") == "program"), None)
    if pid is not None and any(p["id"] == pid for p in ws.program_records()):
        return int(pid)
    hit = next((p for p in ws.program_records() if p["name"].casefold() == str(row.get("program", "")).casefold()), None)
    return int(hit["id"]) if hit else None


# -- comparing -----------------------------------------------------------------------------------------
def _match(expected: list[dict[str, Any]], found: list[dict[str, Any]], key: Any,
           name: str) -> tuple[dict[int, tuple[int, bool]], list[int]]:
    """Pair each expected rule with a found one: same settings first, then same name (settings differ).
    Returns {expected index: (found index, same settings)} and the found indexes left over."""
    left = list(range(len(found)))
    pairs: dict[int, tuple[int, bool]] = {}
    for exact in (True, False):
        for i, e in enumerate(expected):
            if i in pairs:
                continue
            j = next((j for j in left if (key(found[j]) == key(e) if exact
                                          else found[j][name].casefold() == e[name].casefold())), None)
            if j is not None:
                pairs[i] = (j, exact)
                left.remove(j)
    return pairs, left


def _rules(kind: str, step_of: dict[str, str], expected: list[dict[str, Any]], found: list[dict[str, Any]],
           advanced: bool) -> list[Check]:
    key, name, text = ((trigger_key, "trigger", trigger_text) if kind == "trigger"
                       else (filter_key, "filter", filter_text))
    pairs, left = _match(expected, found, key, name)
    have = ", ".join(f'"{f[name]}"' for f in found)
    out = []
    for i, e in enumerate(expected):
        step = step_of[f"{kind}:{i}"]
        label = f"{kind} {i + 1} " if kind == "filter" else f"{kind} "
        if i not in pairs:
            out.append(Check(MISSING, step, f"{label}{text(e)}",
                             f"no {kind} \"{e[name]}\" (Marketo has " + (f"{have})" if have else "none)")))
            continue
        j, same = pairs[i]
        flabel = f"{kind} {j + 1} " if kind == "filter" else f"{kind} "
        if not same:
            out.append(Check(DIFFERS, step, f"{label}{text(e)}", f"{flabel}{text(found[j])}"))
        elif advanced and i != j:  # advanced rule logic names filters by number
            out.append(Check(DIFFERS, step, f"{label}{text(e)} (advanced rule logic refers to it as {i + 1})",
                             f"{flabel}{text(found[j])}"))
        else:
            out.append(Check(DONE, step))
    for j in left:
        flabel = f"{kind} {j + 1}" if kind == "filter" else kind
        out.append(Check(EXTRA, f"Smart List: {flabel} ({text(found[j])}) is in Marketo, not in the bundle",
                         f"no {kind} \"{found[j][name]}\"", f"{flabel} {text(found[j])}"))
    return out


def _campaign(expect: dict[str, Any], found: dict[str, Any], gaps: list[dict[str, str]]) -> list[Check]:
    checks = campaign_checks(expect)
    step_of = dict(checks)
    sl, fsl = expect.get("smartList") or {}, found.get("smartList") or {}
    gap = {g["what"]: g["why"] for g in gaps}
    logic = sl.get("ruleLogic", "all")
    advanced = logic not in ("all", "any")
    out = _rules("trigger", step_of, sl.get("triggers") or [], fsl.get("triggers") or [], False)
    out += _rules("filter", step_of, sl.get("filters") or [], fsl.get("filters") or [], advanced)
    for what, step in checks:
        if what == "ruleLogic":
            if "rule logic" in gap:  # Marketo: Advanced, without the expression
                out.append(Check(MANUAL, step, why=NO_EXPRESSION) if advanced else
                           Check(DIFFERS, step, logic_text(logic), "Use Advanced Filters (expression not readable)"))
            elif fsl.get("ruleLogic") is None:
                out.append(Check(MISSING, step, logic_text(logic), "no filters, so no rule logic"))
            elif advanced or fsl["ruleLogic"] != logic:
                out.append(Check(DIFFERS, step, logic_text(logic), logic_text(fsl["ruleLogic"])))
            else:
                out.append(Check(DONE, step))
        elif what.startswith("flow:"):
            out.append(Check(MANUAL, step, why=NO_FLOW))
        elif what == "qualificationRule":
            want, have = str(expect["qualificationRule"]), found.get("qualificationRule")
            if have is not None and str(have).casefold() == want.casefold():
                out.append(Check(DONE, step))
            else:
                out.append(Check(DIFFERS, step, f'qualification rule "{want}"',
                                 f'qualification rule "{have}"' if have is not None else
                                 gap.get("qualification rule", "no qualification rule")))
        elif what == "communicationLimits":
            want, have = bool(expect["communicationLimits"]), found.get("communicationLimits")
            words = {True: "communication limits on", False: "communication limits off",
                     None: "no communication-limits setting"}
            out.append(Check(DONE, step) if have is want else Check(DIFFERS, step, words[want], words[have]))
        elif what == "active":
            out.append(Check(DONE, step) if found.get("active") is True else
                       Check(MISSING, step, "active", "inactive"))
    return out


def _approval(ws: MarketoWorkspace, kind: str, mid: Any, step: str) -> Check:
    """An "Approve the …" step: done when Marketo lists the asset as approved."""
    if kind in DESIGN:
        rec = next((a for a in ws.design_records(kind) if a.get("id") == mid), None)
    else:
        rec = ws.asset_records.get((kind, mid))
    if rec is None:
        return Check(MISSING, step, "approved", f"no {kind} with id {mid} in Marketo")
    status = str(rec.get("status") or "").lower()
    return Check(DONE, step) if status == "approved" else Check(MISSING, step, "approved",
                                                                f"not approved (status {status or 'unknown'})")


def _item_checks(ws: MarketoWorkspace, item: dict[str, Any], pid: int | None) -> list[Check]:
    kind, mid, steps = item["kind"], item.get("marketoId"), [s for s in item["steps"] if s != REVIEW_CAMPAIGN]
    approvable = kind in marketo_kinds.approval_order()
    approvals = [_approval(ws, kind, mid, s) for s in steps if approvable and s.startswith(APPROVE_PREFIX)]
    steps = [s for s in steps if not (approvable and s.startswith(APPROVE_PREFIX))]
    if approvals and not steps:
        return approvals
    if approvals:
        return approvals + _item_checks(ws, {**item, "steps": steps}, pid)
    if kind == "smartCampaign" and steps and all(s.startswith(ACTIVATE_PREFIX) for s in steps):
        rec = ws.asset_records.get((kind, mid))
        if rec is None:
            return [Check(MISSING, s, "active", f"no smartCampaign with id {mid} in Marketo") for s in steps]
        return [Check(DONE, s) if rec.get("isActive") is True else Check(MISSING, s, "active", "not active")
                for s in steps]
    handler = marketo_kinds.get(kind)
    if handler is not None and steps:
        if "expect" not in item:
            return [Check(UNCHECKED, s, why=NO_INTENT) for s in steps]
        if mid is None and pid is not None:  # the import could not create it: the admin may have, by that name
            prog = next((p for p in ws.program_records() if p["id"] == pid), None)
            base = ws.program_path(prog) if prog else ""
            mid = next((i for (k, i), rec in ws.asset_records.items() if k == kind
                        and str(rec.get("name", "")).casefold() == item["name"].casefold()
                        and ((ws.folder_path(rec.get("folder")) or "") + "/").startswith(base + "/")), None)
            if mid is None:
                return [Check(MISSING, s, None, f"no {kind} named {item['name']!r} in the program in Marketo")
                        for s in steps]
        if pid is None or (kind, mid) not in ws.asset_records:  # every readable step is then not done
            gone = (f"no {kind} with id {mid} in the program in Marketo (deleted, or moved out of it?)" if pid else
                    "the program is not in Marketo (deleted or renamed?)")
            return [Check(*c) if c[0] == MANUAL else Check(MISSING, c[1], c[2] or "done", gone)
                    for c in handler.check_steps(item["expect"], {}, steps)]
        found = json.loads(ws.read(asset_id(kind, int(mid))))
        return [Check(*c) for c in handler.check_steps(item["expect"], found, steps)]
    if kind != "smartCampaign":
        return [Check(MANUAL, s, why=NO_LIFECYCLE if kind == "leadLifecycle" else UNKNOWN_STEP) for s in steps]
    if "expect" not in item:
        return [Check(UNCHECKED, s, why=NO_INTENT) for s in steps]
    known = {step for _, step in campaign_checks(item["expect"])}
    unknown = [Check(MANUAL, s, why=UNKNOWN_STEP) for s in steps if s not in known]
    if pid is None or (kind, mid) not in ws.asset_records:  # every readable step is then not done
        gone = (f"no {kind} with id {mid} in the program in Marketo (deleted, or moved out of it?)" if pid else
                "the program is not in Marketo (deleted or renamed?)")
        base = _campaign(item["expect"], {}, [])
        return [c if c.status == MANUAL else Check(MISSING, c.step, c.expected or "done", gone) for c in base] \
            + unknown
    aid = asset_id(kind, int(mid))
    found = json.loads(ws.read(aid))
    return _campaign(item["expect"], found, ws.needs_completion(aid)) + unknown


def verify(ws: MarketoWorkspace, program: str | None = None, import_id: int | None = None) -> list[ItemResult]:
    """Check what the recorded imports left for the Marketo UI against what Marketo now holds.

    ``program`` / ``import_id`` narrow it down (default: every import recorded with manual steps). Reads are
    the export's: one browse per kind per program, one smart-list call per campaign, three per email.
    """
    rows = _rows_to_check(ws, program, import_id)
    pairs = _items(rows)
    pids: dict[int, int | None] = {}
    for row, _ in pairs:
        if row["id"] not in pids:
            pids[row["id"]] = _program_id(ws, row)
    assets = []
    for pid in sorted({p for p in pids.values() if p is not None}):
        assets += ws.program_assets(pid)  # the browse records export reads from
    wanted = {asset_id(item["kind"], item["marketoId"]) for _, item in pairs
              if "expect" in item and item.get("marketoId") and (item["kind"] in ("smartCampaign", "email")
                                                                  or marketo_kinds.get(item["kind"]))}
    try:
        ws.prefetch([a for a in assets if a.id in wanted])  # side by side, within the limits, as export reads
    except ProgramkitError as err:
        raise ProgramkitError(f"{len(err.findings)} asset(s) could not be read from Marketo to verify them",
                              err.findings) from None
    return [ItemResult(item["kind"], item["name"], item.get("marketoId"), int(row["id"]), str(row.get("program")),
                       _item_checks(ws, item, pids[row["id"]])) for row, item in pairs]


# -- recording and showing -------------------------------------------------------------------------------
def outcome_of(results: list[ItemResult]) -> str:
    """An import's outcome after a check: any checkable step not done keeps it needs-manual-completion."""
    if any(not r.ok for r in results):
        return "needs-manual-completion"
    return "verified-except-manual" if any(r.count(MANUAL) for r in results) else "verified"


def record_verification(ws: MarketoWorkspace, results: list[ItemResult]) -> dict[int, str]:
    """Write each checked import's new outcome and what was found into the local history. Returns
    {import id: outcome}."""
    by_import: dict[int, list[ItemResult]] = {}
    for r in results:
        by_import.setdefault(r.importId, []).append(r)
    rows = ws.history_rows()
    at = now_utc()
    outcomes = {}
    for row in rows:
        mine = by_import.get(row.get("id"))
        if not mine:
            continue
        row["outcome"] = outcomes[row["id"]] = outcome_of(mine)
        row["verification"] = {"at": at, "items": [
            {"kind": r.kind, "name": r.name, "marketoId": r.marketoId, "done": r.count(DONE),
             "notDone": r.count(*FAILED), "manual": r.count(MANUAL)} for r in mine]}
    if outcomes:
        write_json(ws.history_file, rows)
    return outcomes


def to_dict(results: list[ItemResult], outcomes: dict[int, str]) -> dict[str, Any]:
    return {"ok": all(r.ok for r in results),
            "imports": [{"id": i, "outcome": o} for i, o in sorted(outcomes.items())],
            "items": [{**{k: v for k, v in asdict(r).items() if k != "checks"},
                       "checks": [{k: v for k, v in asdict(c).items() if v is not None} for c in r.checks]}
                      for r in results]}


#: why a step cannot be checked -> what to call such steps in the summary
WHAT_MANUAL = {NO_FLOW: "flow", NO_EXPRESSION: "advanced rule logic", NO_MODULES: "email modules",
               NO_LIFECYCLE: "lead lifecycle"}
LABEL = {DONE: "done", MISSING: "NOT DONE", DIFFERS: "DIFFERS", EXTRA: "EXTRA", MANUAL: "manual",
         UNCHECKED: "UNCHECKED"}


def render_text(results: list[ItemResult], outcomes: dict[int, str], calls: int) -> str:
    """The report `programkit verify` prints: per asset, each step with what Marketo holds."""
    lines = []
    for r in results:
        handler = marketo_kinds.get(r.kind)
        where = f"id {r.marketoId}" if r.marketoId is not None else \
            handler.unwritten_reason if handler else "not written: no API for it"
        lines.append(f"{r.kind} {r.name!r} ({where}; import #{r.importId})")
        why = None
        for c in r.checks:
            lines.append(f"  {LABEL[c.status]:<9} {c.step}")
            if c.status in (MISSING, DIFFERS, EXTRA):
                lines.append(f"            expected: {c.expected}")
                lines.append(f"            found:    {c.found}")
            if c.why and c.why != why:  # once for a run of steps with the same reason
                lines.append(f"            ({c.why})")
            why = c.why
        lines.append("")
    done, bad, manual = (sum(r.count(*s) for r in results) for s in ((DONE,), FAILED, (MANUAL,)))
    lines.append(f"Checked {len(results)} asset(s) against Marketo: {done} step(s) done, {bad} not done or "
                 f"different, {manual} the API cannot read (left to check in the UI).")
    if bad:
        note = make("PK823", f"{bad} step(s) the API can read are not done in Marketo as the bundle asks (above)")
        lines.append(f"{note.code} [{note.rule}] {note.message}.")
    if manual:
        why = [c.why for r in results for c in r.checks if c.status == MANUAL]
        parts = ", ".join(f"{why.count(w)} {label}" for w, label in WHAT_MANUAL.items() if why.count(w))
        # the rest by the kind of asset they belong to, e.g. a form's hidden-field autofill: "(1 form)"
        others: dict[str, int] = {}
        for r in results:
            for c in r.checks:
                if c.status == MANUAL and c.why not in WHAT_MANUAL:
                    what = marketo_kinds.label(r.kind) or "other"
                    others[what] = others.get(what, 0) + 1
        parts = ", ".join([parts] * bool(parts) + [f"{n} {what}" for what, n in sorted(others.items())])
        note = make("PK824", f"{manual} step(s) cannot be checked through the API ({parts}): they stay manual "
                             "and are never recorded as done")
        lines.append(f"{note.code} [{note.rule}] {note.message}.")
    for i, o in sorted(outcomes.items()):
        lines.append(f"Import #{i} is recorded as {o} in the history.")
    lines.append(f"Marketo API: {calls} call(s).")
    return "\n".join(lines) + "\n"
