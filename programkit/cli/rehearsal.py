"""The embedded workspace as a rehearsal of the client's instance: ``history show N``, ``rollback N`` on a workspace
file (``programkit rollback`` dispatches here by target), and what ``workspace remove`` prints."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from .. import canonical
from ..errors import ProgramkitError
from ..plan import Plan
from ..rollback import find_import, plan_rollback, rollback_import
from ..workspaces import open_target
from .common import EXIT_FINDINGS, EXIT_OK, echo_error, fail, format_option, styler, target_option, use_colour, \
    workspace_option
from .importing import _record_dict, history_cmd, render_plan


def embedded_rollback(import_id: int | None, target: str, workspace: str, dry_run: bool, yes: bool,
                      fmt: str) -> None:
    """``programkit rollback N`` on a workspace file."""
    if import_id is None:
        raise click.UsageError("give the number of the import to roll back: `programkit rollback N` "
                               "(`programkit history` lists them)")
    try:
        with open_target(target, workspace, create=False, readonly=dry_run) as ws:
            plan = plan_rollback(ws, import_id)
            if plan.ok and not dry_run:
                _show_rollback(plan, fmt, done=False)
                if fmt == "text" and not yes and sys.stdin.isatty() and \
                        not click.confirm("Roll back this import?", default=False):
                    click.echo("Cancelled: nothing was written.")
                    raise SystemExit(EXIT_OK)
                plan = rollback_import(ws, import_id)
    except ProgramkitError as err:
        fail(err)
    if not plan.ok:  # refused: every reason, nothing written
        if fmt == "json":
            click.echo(canonical.dumps({**plan.to_dict(), "rolledBack": False}), nl=False)
        else:
            r = plan.record
            echo_error(ProgramkitError(f"import #{r.id} ({r.bundle} {r.version} as {r.program!r}) cannot be rolled "
                                       f"back; nothing was written", plan.problems))
        raise SystemExit(EXIT_FINDINGS)
    if dry_run:
        _show_rollback(plan, fmt, done=False)
        if fmt == "text":
            click.echo("Dry run: nothing was written.")
        return
    _show_rollback(plan, fmt, done=True)


def _show_rollback(plan: Any, fmt: str, done: bool) -> None:
    r = plan.record
    if fmt == "json":
        if done:
            click.echo(canonical.dumps({**plan.to_dict(), "rolledBack": True}), nl=False)
        return
    if done:
        click.echo(f"Rolled back import #{r.id} ({r.bundle} {r.version} as {r.program!r}): {len(plan.steps)} "
                   f"item{'s' if len(plan.steps) != 1 else ''} undone; recorded as rolled-back in the history.")
        return
    click.echo(f"Rollback of import #{r.id}: {r.bundle} {r.version} as program {r.program!r} "
               f"(imported {r.started_at})\n")
    for s in plan.steps:
        click.echo(f"  {s}")
    click.echo("")


@click.command("show")
@click.argument("import_id", metavar="N", type=click.IntRange(min=1))
@target_option()
@workspace_option()
@format_option(("text", "json"))
@click.pass_context
def history_show_cmd(ctx: click.Context, import_id: int, target: str, workspace: str, fmt: str) -> None:
    """One import in full: bundle, version and digest, program, outcome, the options and conflict rules it was
    planned with (and which level decided each), every action with its reason, and what each bundle item became
    in the workspace."""
    target, workspace, fmt = _from_group(ctx, target, workspace, fmt)
    try:
        with open_target(target, workspace, create=False, readonly=True) as ws:  # history show only reads
            record = find_import(ws, import_id)
    except ProgramkitError as err:
        fail(err)
    if fmt == "json":
        click.echo(json.dumps({**_record_dict(record), "options": (record.plan or {}).get("options", {}),
                               "plan": record.plan}, indent=2, ensure_ascii=False))
        return
    click.echo(render_import(record, use_colour()), nl=False)


def _from_group(ctx: click.Context, target: str, workspace: str, fmt: str) -> tuple[str, str, str]:
    """``history --target X show N`` means the same as ``history show N --target X`` (so do --workspace and
    --format): an option ``show`` was not given comes from ``history``."""
    parent = ctx.parent if ctx.parent is not None else None
    given = dict(target=target, workspace=workspace, fmt=fmt)
    for name in given:
        if parent is not None and ctx.get_parameter_source(name) in (click.core.ParameterSource.DEFAULT,
                                                                     click.core.ParameterSource.ENVIRONMENT) \
                and parent.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE:
            given[name] = parent.params[name]
    return given["target"], given["workspace"], given["fmt"]


def render_import(record: Any, colour: bool) -> str:
    style = styler(colour)
    plan_data = record.plan or {}
    options = plan_data.get("options") or {}
    lines = [f"Import #{record.id} into workspace {record.workspace!r}: {record.bundle} {record.version} as program "
             f"{record.program!r}",
             f"  outcome:  {record.outcome}",
             f"  started:  {record.started_at}",
             f"  finished: {record.finished_at or '-'}",
             f"  digest:   {record.digest}"]
    target = (plan_data.get("workspace") or {}).get("target")
    if target:
        lines.append(f"  target:   {target} (revision {plan_data['workspace'].get('revision')} when planned)")
    lines.append("  options:  " + ", ".join(f"{k} {json.dumps(v)}" for k, v in options.items() if k != "tags")
                 if options else "  options:  none recorded")
    if isinstance(options.get("tags"), dict) and options["tags"]:  # what --tag supplied, not the bundle
        lines.append("  tags:     " + ", ".join(f"{k}={v}" for k, v in options["tags"].items()) +
                     "  (--tag: given at import, not in the bundle)")
    lines.append("Conflict rules (value, decided by):")
    for rule, d in (record.rules or {}).items():
        lines.append(f"  {rule:<22} {json.dumps(d.get('value')) if isinstance(d.get('value'), bool) else d.get('value')}"
                     f"  [{d.get('decidedBy')}]")
    lines.append("")
    if plan_data.get("actions") is not None:
        plan = Plan.from_dict(plan_data)
        body = render_plan(plan, colour).splitlines()
        lines += body[2:]  # the actions and summary; the header is said above
    became = [m for m in record.mapping or [] if m.get("workspaceId") is not None and m.get("kind") != "program"]
    if became:
        lines += ["", "In the workspace:"]
        for m in became:
            lines.append(style(f"  {m['kind']:<14} {m['bundleName']} -> {m['workspaceName']!r} (id {m['workspaceId']}, "
                               f"{m['action']})", dim=True))
    return "\n".join(lines) + "\n"


history_cmd.add_command(history_show_cmd)

COMMANDS: list[click.Command] = []
