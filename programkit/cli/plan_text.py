"""Plans and import records as the command line shows them: the text of a plan (``plan``, ``import``,
``history show``) and the JSON of an import record (``import --format json``, ``history``)."""

from __future__ import annotations

from typing import Any, Callable

from ..plan import ACTIONS, UNBLOCK, Plan
from ..report import file_path
from ..workspaces.base import ImportRecord
from .common import styler

#: terraform-like markers and colours per action
MARKS: dict[str, tuple[str, str | None]] = {
    "create": ("+", "green"), "update": ("~", "yellow"), "reuse": ("=", "cyan"), "rename": ("->", "magenta"),
    "replace": ("!", "red"), "delete": ("-", "red"), "skip": ("x", None), "noop": (".", None),
}


def render_plan(plan: Plan, colour: bool, bundle_path: str | None = None) -> str:
    """The plan as text; ``bundle_path`` (the BUNDLE argument) puts the bundle's folder before each
    problem's file (``samples/x/bundle.json:77:7``), so it can be opened from where the command ran."""
    style = styler(colour)
    b, w = plan.bundle, plan.workspace
    program = plan.program.get("as") or plan.program.get("name")
    if b.get("name") is None:
        lines = [f"Plan: nothing can be planned: the bundle's manifest could not be read (workspace {w.get('name')!r})"]
    else:
        supplied = plan.options.get("tags") or {}  # Marketo's --tag: said with the program it tags
        lines = [f"Plan: import {b.get('name')} {b.get('version')} into workspace {w.get('name')!r} "
                 f"as program {program!r}" +
                 (" with tags " + ", ".join(f"{k}={v}" for k, v in supplied.items()) + " (--tag)" if supplied else "")]
    lines.append("")
    width = max((len(a.kind) for a in plan.actions), default=7)
    for a in plan.actions:
        mark, fg = MARKS[a.action]
        name = a.name + (f" -> {a.as_name}" if a.as_name else "")
        why = a.reason + (f" [{a.decided_by}]" if a.decided_by != "default" else "")
        if a.blocked_by:  # what the import would do once unblocked, never what runs now
            mark, fg, why = f"({mark})", None, f"{why}; blocked by {a.blocked_by}"
        text = f"  {mark:>3} {a.action:<7} {a.kind:<{width}}  {name}" if a.blocked_by or any(
            x.blocked_by for x in plan.actions) else f"  {mark:>2} {a.action:<7} {a.kind:<{width}}  {name}"
        lines.append(style(text, fg=fg, dim=fg is None) + (style(f"  ({why})", dim=True) if why else ""))
    if plan.actions:
        lines.append("")
    counts = plan.summary
    if plan.nothing_to_do and plan.ok:
        lines.append(f"No changes: {b.get('name')} {b.get('version')} is already imported (nothing to do).")
    else:
        done = ", ".join(f"{counts[k]} {k}" for k in ACTIONS if counts[k])
        blocked_n = sum(1 for a in plan.actions if a.blocked_by)
        lines.append(f"Plan: {done or 'no actions'}" + (f"; {blocked_n} blocked." if blocked_n else "."))
    blocked = [a for a in plan.actions if a.blocked_by]
    errors = [p for p in plan.problems if p.severity.value == "error"]
    if errors:
        header = f"{len(errors)} problem{'s stop' if len(errors) != 1 else ' stops'} the import:"
        lines += ["", style(header, fg="red", bold=True)] + _problem_lines(errors, style, bundle_path)
    for code in sorted({a.blocked_by for a in blocked}):
        n = sum(a.blocked_by == code for a in blocked)
        lines += ["", style(f"Blocked: {n} write{'s' if n != 1 else ''} marked ( ) above wait on {code} and "
                            "nothing is written. To unblock them, " + UNBLOCK[code] + ".", fg="yellow")]
    # what a target could not check (e.g. webhooks through Marketo's API) is said, never passed silently
    warnings = [p for p in plan.problems if p.severity.value == "warning"]
    if warnings:
        header = f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}:"
        lines += ["", style(header, fg="yellow", bold=True)] + _problem_lines(warnings, style, bundle_path)
    return "\n".join(lines) + "\n"


def _problem_lines(problems: list[Any], style: Callable[..., str], bundle_path: str | None = None) -> list[str]:
    """One line per problem; a hint once, under the first problem it applies to (eleven missing fields are
    eleven lines and one hint, not a wall of the same hint), as `simulate` and `validate` show them."""
    lines = []
    shown: set[tuple[str, str]] = set()
    for p in problems:
        file = file_path(bundle_path, p.file) if bundle_path and p.file else p.file
        loc = f"{file}:{p.location}" if p.location else (file or "")
        lines.append(f"  {loc + ': ' if loc else ''}{p.code} [{p.rule}] {p.message}")
        if p.hint and (p.code, p.hint) not in shown:
            shown.add((p.code, p.hint))
            lines.append(style(f"      hint: {p.hint}", dim=True))
    return lines


def record_dict(r: ImportRecord) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for a in (r.plan or {}).get("actions", []):
        counts[a["action"]] = counts.get(a["action"], 0) + 1
    return {"id": r.id, "workspace": r.workspace, "bundle": r.bundle, "version": r.version, "digest": r.digest,
            "program": r.program, "outcome": r.outcome, "startedAt": r.started_at, "finishedAt": r.finished_at,
            "summary": counts, "rules": r.rules, "mapping": r.mapping,
            "source": ((r.plan or {}).get("bundle") or {}).get("source")}
