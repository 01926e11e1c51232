"""``programkit plan``, ``programkit import`` and ``programkit history``."""

from __future__ import annotations

import json
import shlex
import sys
from typing import Any, Callable

import click

from ..apply import apply_plan, replay
from ..html import write_plan_report
from ..import_options import apply_marketo_options
from ..errors import BUNDLE_HINT, BadInput, ProgramkitError, require_path
from ..output import check_output, write_output
from ..terminal import unescaped
from ..plan import ACTIONS, UNBLOCK, WRITES, Plan, SavedPlan, plan_path
from ..rules import FLAGS, OPTIONS, REUSE_IDENTICAL
from ..report import file_path
from ..workspaces.base import ImportRecord
from ..workspaces import DEFAULT_TARGET, open_target
from .common import (EXIT_FINDINGS, EXIT_OK, NamedChoice, fail, html_options, report_written, styler, target_option,
                     use_colour, workspace_option)
from .registry import registry_options

#: terraform-like markers and colours per action
MARKS: dict[str, tuple[str, str | None]] = {
    "create": ("+", "green"), "update": ("~", "yellow"), "reuse": ("=", "cyan"), "rename": ("->", "magenta"),
    "replace": ("!", "red"), "delete": ("-", "red"), "skip": ("x", None), "noop": (".", None),
}


def rule_options(fn: Callable) -> Callable:
    """--on-tag, --on-landing-page-template, --on-image, --on-email-template, --no-reuse-identical, --rules, --as."""
    for rule in reversed(list(OPTIONS)):
        fn = click.option(FLAGS[rule], rule, type=NamedChoice(OPTIONS[rule]),
                          default=None,
                          help=f"Conflict rule {rule} (default: the rules file, the bundle, then {OPTIONS[rule][0]}).")(fn)
    fn = click.option(FLAGS[REUSE_IDENTICAL], REUSE_IDENTICAL, flag_value=False, default=None,
                      help="Copy or replace same-named assets even when their content is identical.")(fn)
    fn = click.option("--rules", "rules_file", type=click.Path(dir_okay=False),
                      help="Conflict rules file (JSON, see `programkit schema conflictRules`).")(fn)
    fn = click.option("--as", "as_name", metavar="NAME",
                      help="Import the program under another name (1 to 255 characters, no leading or trailing "
                           "spaces).")(fn)
    return fn


#: options of `import` that do not change the plan it makes (every other import option is a plan option, and
#: `plan` takes it too: tests/test_plan_options.py holds the two commands to that)
IMPORT_ONLY = ("dry_run", "plan_file", "yes", "resume", "require_signature", "trusted_keys", "approve", "activate",
               "quiet")


def plan_options(fn: Callable) -> Callable:
    """What plan and import share: BUNDLE, the target, everything that changes the plan (the rules, --as,
    --prune, --allow-downgrade, --tag), --format. One set, so `plan` can preview every import `import` can make."""
    fn = click.option("--allow-shared-replace", is_flag=True,
                      help="Let the rule 'replace' replace a template, image or snippet other programs use too "
                           "(the plan lists them; the history records the flag).")(fn)
    fn = click.option("--tag", "tags", multiple=True, metavar="TYPE=VALUE",
                      help="Marketo target: a program tag for a tag type Marketo requires and the bundle lacks "
                           "(repeatable).")(fn)
    fn = click.option("--allow-downgrade", is_flag=True, help="Import an older version over a newer one.")(fn)
    fn = click.option("--prune", is_flag=True,
                      help="Delete assets an earlier version of the bundle added and this one dropped.")(fn)
    fn = click.option("--format", "-f", "fmt", type=click.Choice(("text", "json"), case_sensitive=False),
                      default="text", show_default=True, help="Output format.")(fn)
    fn = rule_options(fn)
    fn = workspace_option()(fn)
    fn = target_option()(fn)
    return click.argument("bundle", type=click.Path())(fn)


def _flags(kw: dict[str, Any]) -> dict[str, Any]:
    return {rule: kw.pop(rule) for rule in list(FLAGS)}


def marketo_options(ws: Any, tags: tuple[str, ...] = (), approve: bool = False, activate: bool = False) -> None:
    """Hand --tag, --approve and --activate to a Marketo target; on any other target they are bad usage (PK231),
    and a --tag that is not TYPE=VALUE is PK230."""
    apply_marketo_options(ws, tags, approve, activate)


# --- rendering ---------------------------------------------------------------------------


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


def _record_dict(r: ImportRecord) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for a in (r.plan or {}).get("actions", []):
        counts[a["action"]] = counts.get(a["action"], 0) + 1
    return {"id": r.id, "workspace": r.workspace, "bundle": r.bundle, "version": r.version, "digest": r.digest,
            "program": r.program, "outcome": r.outcome, "startedAt": r.started_at, "finishedAt": r.finished_at,
            "summary": counts, "rules": r.rules, "mapping": r.mapping,
            "source": ((r.plan or {}).get("bundle") or {}).get("source")}


# --- commands ----------------------------------------------------------------------------


@click.command("plan")
@plan_options
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Also save the plan as JSON (for import --plan).")
@html_options
@registry_options()
def plan_cmd(bundle: str, target: str, workspace: str, rules_file: str | None, as_name: str | None, fmt: str,
             prune: bool, allow_downgrade: bool, allow_shared_replace: bool, out: str | None,
             html: str | None = None, force: bool = False, tags: tuple[str, ...] = (), **kw: Any) -> None:
    """Show what importing BUNDLE would do, and every problem that would stop it. Writes nothing.

    One line per bundle item: + create, ~ update, = reuse, -> rename (a
    numbered copy), ! replace, - delete, x skip, . noop; with the reason and,
    when a conflict rule decided it, the level that set the rule (flag,
    rules-file, bundle, default).

    Exit status: 0 the plan can be applied, 1 problems stop the import,
    2 unreadable bundle, rules file or target.
    """
    flags = _flags(kw)
    try:
        if not bundle.startswith("oci://"):  # a registry reference is checked when it is fetched
            require_path(bundle, BUNDLE_HINT)  # the first argument's problem first, then the target's
        if out:
            check_output(out, "--out", force)
        ws = open_target(target, workspace, create=False, readonly=True)  # plan writes nothing, not even a new file
        try:
            marketo_options(ws, tags)
            plan, bundle_ = plan_path(bundle, ws, flags=flags, rules_file=rules_file, as_name=as_name,
                                      prune=prune, allow_downgrade=allow_downgrade,
                                      allow_shared_replace=allow_shared_replace,
                                      keep_bytes=False)  # shown, not applied: the file bytes are not needed
            if html:  # while the workspace is open: the report diffs against its current content
                write_plan_report(html, plan, bundle_, ws, force=force)
        finally:
            ws.close()
    except ProgramkitError as err:
        fail(err)
    if out:
        try:
            write_output(out, plan.to_json().encode("utf-8"), option="--out", force=force)
        except ProgramkitError as err:
            fail(err)
    click.echo(plan.to_json() if fmt == "json" else render_plan(plan, use_colour(), bundle), nl=False)
    if fmt == "text" and hasattr(ws, "cost_line"):  # a remote target pays per call
        click.echo(ws.cost_line(plan, bundle_), nl=False)
    if html:
        report_written(html)
    if out:  # on stderr: stdout stays the plan alone (--format json pipes cleanly)
        where = "".join(f" {flag} {shlex.quote(value)}" for flag, value, default in
                        (("--target", target, DEFAULT_TARGET), ("--workspace", workspace, "Default"))
                        if value != default)  # the command to paste must reach the same target
        click.echo(f"Plan saved to {out}" + (f"; apply it with `programkit import {shlex.quote(bundle)}{where} --plan "
                                             f"{shlex.quote(out)}`." if plan.ok else " (it has problems: "
                                             "`import --plan` will refuse it)."), err=True)
    raise SystemExit(EXIT_OK if plan.ok else EXIT_FINDINGS)


@click.command("import")
@plan_options
@click.option("--dry-run", is_flag=True, help="Print the plan and write nothing.")
@click.option("--plan", "plan_file", type=click.Path(dir_okay=False),
              help="Apply this saved plan (from `plan --out`): planned again with the options it records and "
                   "applied only if it is exactly that plan (refused if it was edited, or the workspace or bundle "
                   "changed since).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation on a terminal.")
@click.option("--resume", is_flag=True,
              help="Finish an import into a Marketo instance that stopped part-way (see `rollback --list`).")
@click.option("--approve", is_flag=True,
              help="Marketo target: approve the templates, emails and snippets the import wrote (templates first); "
                   "without it each is a checklist line.")
@click.option("--activate", is_flag=True,
              help="Marketo target: activate the trigger campaigns the bundle marks active; without it each is a "
                   "checklist line.")
@click.option("--quiet", "-q", is_flag=True, help="No progress line on stderr (there is none unless it is a terminal).")
@html_options
@registry_options(signature=True)
def import_cmd(bundle: str, target: str, workspace: str, rules_file: str | None, as_name: str | None, fmt: str,
               prune: bool, allow_downgrade: bool, dry_run: bool, plan_file: str | None, yes: bool,
               resume: bool = False, html: str | None = None, force: bool = False, approve: bool = False,
               activate: bool = False, quiet: bool = False, tags: tuple[str, ...] = (),
               allow_shared_replace: bool = False, **kw: Any) -> None:
    """Import BUNDLE into a workspace: print the plan, then apply exactly it, all or nothing.

    Preflight problems (missing fields, segmentations, snippets, webhooks,
    custom objects, CRM; bundle errors; collisions a `fail` rule hits) are
    listed together and nothing is written. On a terminal the import asks
    before writing unless --yes. Importing a bundle that is already there
    changes nothing; a newer version of it upgrades the program in place.

    Exit status: 0 imported (or nothing to do, or --dry-run), 1 problems
    stopped the import (nothing written), 2 unreadable input or bad usage.
    """
    flags = _flags(kw)
    colour = use_colour()
    if resume:
        from .marketo import resume_cmd

        if plan_file or dry_run or rules_file or as_name is not None or prune or allow_downgrade or \
                any(v is not None for v in flags.values()):
            fail(BadInput("--resume applies the plan the stopped import journalled; plan options do not apply"))
        return resume_cmd(bundle, target, workspace, fmt, approve=approve, activate=activate, quiet=quiet,
                          tags=tags)
    try:
        if plan_file and (rules_file or as_name is not None or prune or allow_downgrade or allow_shared_replace or
                          any(v is not None for v in flags.values())):
            raise BadInput("--plan applies a saved plan as it is; rule options, --as, --prune and "
                           "--allow-downgrade belong to `programkit plan`")
        if plan_file and not bundle.startswith("oci://"):  # the bundle's problem first, then the plan file's, ...
            require_path(bundle, BUNDLE_HINT)
        saved = SavedPlan.read(plan_file) if plan_file else None  # a bad file is refused before the target opens
        # A first import creates the workspace file, but only if it is applied: until its transaction commits
        # the new workspace lives in memory (a dry run, a failed preflight, a "no" or an error leave no file).
        # In a file that exists, an unknown --workspace is a typo to report, not a new workspace to import into.
        ws = open_target(target, workspace, create=False, create_on_commit=not dry_run, readonly=dry_run)
        try:
            marketo_options(ws, tags, approve, activate)
            if saved is not None:  # planned again with the file's options; refused unless the file is that plan
                plan, loaded = replay(saved, bundle, ws)
            else:
                plan, loaded = plan_path(bundle, ws, flags=flags, rules_file=rules_file, as_name=as_name,
                                         prune=prune, allow_downgrade=allow_downgrade,
                                         allow_shared_replace=allow_shared_replace)
            if html:  # the plan this import applies, before anything is written (a refused file stops it here)
                write_plan_report(html, plan, loaded, ws, force=force)
                report_written(html)
            if fmt == "text":
                click.echo(render_plan(plan, colour, bundle), nl=False)
                if hasattr(ws, "cost_line"):  # a remote target pays per call
                    click.echo(ws.cost_line(plan, loaded), nl=False)
            if not plan.ok or dry_run:
                if fmt == "json":
                    click.echo(json.dumps({"plan": plan.to_dict(), "import": None}, indent=2, ensure_ascii=False))
                elif dry_run and plan.ok:
                    click.echo("Dry run: nothing was written.")
                raise SystemExit(EXIT_OK if plan.ok else EXIT_FINDINGS)
            if fmt == "text" and not yes and not plan.nothing_to_do and sys.stdin.isatty():
                if not click.confirm("Apply this plan?", default=False):
                    click.echo("Cancelled: nothing was written.")
                    raise SystemExit(EXIT_OK)
            record = _apply(plan, loaded, ws, quiet)
        finally:
            ws.close()
    except ProgramkitError as err:
        fail(err)
    if fmt == "json":
        done = _record_dict(record)
        manual = getattr(ws, "manual_completion", None)  # a Marketo import: what it left for the UI
        if callable(manual) and manual(record):
            done["manualCompletion"] = manual(record)
        click.echo(json.dumps({"plan": plan.to_dict(), "import": done}, indent=2, ensure_ascii=False))
        return
    program = plan.program.get("as") or plan.program.get("name")
    if record.outcome == "noop":
        click.echo(f"Recorded as import #{record.id} in the history; nothing else was written.")
    else:
        click.echo(f"Imported {record.bundle} {record.version} into workspace {record.workspace!r} as program "
                   f"{program!r} (import #{record.id}, {_changes(plan, ws)}).")
    manual = getattr(ws, "manual_steps_report", None)  # a Marketo import leaves steps its API cannot do
    if callable(manual) and manual():
        click.echo("\n" + manual(), nl=False)
    elif callable(getattr(ws, "pending_manual_report", None)) and ws.pending_manual_report(program):
        click.echo(ws.pending_manual_report(program), nl=False)  # left by an earlier import: said once, as that


def _changes(plan: Plan, ws: Any) -> str:
    """"N change(s)", counting only what the target holds; what it cannot hold is said apart."""
    manual = [a for a in plan.actions if a.action in WRITES and a.kind in ws.manual_kinds]
    n = plan.writes - len(manual)
    text = f"{n} change{'s' if n != 1 else ''}"
    if manual:
        what = ", ".join(f"{sum(a.kind == k for a in manual)} {k}" for k in sorted({a.kind for a in manual}))
        text += f"; {what} on the checklist instead: the API cannot write {'it' if len(manual) == 1 else 'them'}"
    return text


def _apply(plan: Plan, bundle: Any, ws: Any, quiet: bool = False) -> ImportRecord:
    """Apply with a progress bar on a terminal when the import is long enough to want one."""
    if hasattr(ws, "progress_to"):  # a Marketo target: items, API calls, waits for its limits, time left
        if not quiet:
            ws.progress_to(unescaped(sys.stderr))  # programkit's own progress line, redrawn with \r
        return apply_plan(plan, bundle, ws, progress=ws.progress_tick)
    if sys.stderr.isatty() and plan.writes >= 50 and not quiet:
        # the bar is programkit's own text and redraws with \r: it goes to the terminal unescaped
        with click.progressbar(length=len(plan.actions), label="Importing", file=unescaped(sys.stderr)) as bar:
            return apply_plan(plan, bundle, ws, progress=bar.update)
    return apply_plan(plan, bundle, ws)


@click.group("history", invoke_without_command=True)
@target_option()
@workspace_option()
@click.option("--format", "-f", "fmt", type=click.Choice(("text", "json"), case_sensitive=False), default="text",
              show_default=True, help="Output format.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the most recent N imports.")
@click.pass_context
def history_cmd(ctx: click.Context, target: str, workspace: str, fmt: str, limit: int | None) -> None:
    """List the imports into a workspace, newest first: bundle, version, program, outcome, changes.

    `programkit history show N` shows import #N in full.
    """
    if ctx.invoked_subcommand is not None:
        return
    try:
        ws = open_target(target, workspace, create=False, readonly=True)
        try:
            records = ws.history(limit)
            # a Marketo target: what each import left for the UI, and the local file the history is kept in
            manual = getattr(ws, "manual_completion", None)
            left = {r.id: manual(r) for r in records} if callable(manual) else {}
            kept = getattr(ws, "history_file", None)
        finally:
            ws.close()
    except ProgramkitError as err:
        fail(err)
    rows = [_record_dict(r) for r in records]
    for row in rows:
        if left.get(row["id"]):
            row["manualCompletion"] = left[row["id"]]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows and kept is not None:  # a Marketo target: its history is on this machine, or nowhere
        from ..workspaces.marketo.journal import no_local_history

        click.echo("\n".join(no_local_history(ws)))
        return
    if not rows:
        click.echo("No imports yet.")
    width = max([8] + [len(r["outcome"]) for r in rows])  # "needs-manual-completion" is wider than "applied"
    for r in rows:
        changes = ", ".join(f"{r['summary'][k]} {k}" for k in ACTIONS if r["summary"].get(k)) or "no actions"
        click.echo(f"#{r['id']:<4} {r['startedAt']}  {r['outcome']:<{width}} {r['bundle']} {r['version']}  "
                   f"-> {r['program']!r}  ({changes})")
        if r["source"]:  # imported from a registry: the reference as given, and the digest it resolved to
            click.echo(f"      from {r['source'].get('reference')} ({r['source'].get('digest')})")
        todo = r.get("manualCompletion")
        if todo:
            checked = todo.get("verification")  # what `programkit verify` last found
            checked_items = {(i["kind"], i["name"]): i for i in (checked or {}).get("items", [])}
            click.echo(f"      checked against Marketo at {checked['at']} (`programkit verify`):" if checked else
                       "      left for the Marketo UI (recorded; `programkit verify` checks what the API can read):")
            for item in todo["items"]:
                where = f"id {item['marketoId']}" if item.get("marketoId") is not None else "not written"
                line = (f"        {item['kind']} {item['name']!r} ({where}): {len(item['steps'])} "
                        f"step{'s' * (len(item['steps']) != 1)}")
                seen = checked_items.get((item["kind"], item["name"]))
                if seen:
                    line += (f": {seen['done']} done, {seen['notDone']} not done or different, {seen['manual']} "
                             "the API cannot read (check them in the UI)")
                click.echo(line)
            if todo["checklist"]:
                click.echo(f"      checklist: {todo['checklist']}")
    if kept is not None:
        click.echo(f"History kept on this machine in {kept} (Marketo has no place for it).")


COMMANDS = [plan_cmd, import_cmd, history_cmd]
