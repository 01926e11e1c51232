"""``programkit plan`` and ``programkit import``."""

from __future__ import annotations

import json
import shlex
import sys
from typing import Any, Callable

import click

from ..apply import apply_plan, replay
from ..html import write_plan_report
from ..errors import BUNDLE_HINT, BadInput, ProgramkitError, require_path
from ..output import check_output, write_output
from ..terminal import unescaped
from ..plan import WRITES, Plan, SavedPlan, plan_path
from ..rules import FLAGS, OPTIONS, REUSE_IDENTICAL
from ..workspaces.base import ImportRecord
from ..workspaces import DEFAULT_TARGET, open_target
from .common import (EXIT_FINDINGS, EXIT_OK, NamedChoice, fail, html_options, report_written, target_option,
                     use_colour, workspace_option)
from .marketo import marketo_options, resume_cmd
from .plan_text import record_dict, render_plan
from .registry import registry_options


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
        done = record_dict(record)
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
                   f"{program!r} (import #{record.id}, {_changes(plan, ws, record)}).")
    manual = getattr(ws, "manual_steps_report", None)  # a Marketo import leaves steps its API cannot do
    if callable(manual) and manual():
        click.echo("\n" + manual(), nl=False)
    elif callable(getattr(ws, "pending_manual_report", None)) and ws.pending_manual_report(program):
        click.echo(ws.pending_manual_report(program), nl=False)  # left by an earlier import: said once, as that


def _changes(plan: Plan, ws: Any, record: ImportRecord | None = None) -> str:
    """"N change(s)", counting only what the target holds; what it cannot hold (or could not create: a Marketo
    smart list with nothing to clone) is said apart."""
    unwritten = getattr(ws, "unwritten", None)
    left = {(m.get("kind"), m.get("bundleName")) for m in (record.mapping if record else [])
            if unwritten is not None and unwritten(m)}
    manual = [a for a in plan.actions if a.action in WRITES and (a.kind in ws.manual_kinds or (a.kind, a.name) in left)]
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


COMMANDS = [plan_cmd, import_cmd]
