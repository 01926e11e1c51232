"""``programkit history``: the imports into a workspace, newest first, and ``history show N``, one import in full."""

from __future__ import annotations

import json
from typing import Any

import click

from ..errors import ProgramkitError
from ..plan import ACTIONS, Plan
from ..rollback import find_import
from ..workspaces import open_target
from .common import fail, format_option, styler, target_option, use_colour, workspace_option
from .plan_text import record_dict, render_plan


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
    rows = [record_dict(r) for r in records]
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
        click.echo(json.dumps({**record_dict(record), "options": (record.plan or {}).get("options", {}),
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

COMMANDS = [history_cmd]
