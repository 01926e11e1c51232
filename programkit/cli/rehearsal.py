"""The embedded workspace as a rehearsal of the client's instance: ``rollback N`` on a workspace file
(``programkit rollback`` dispatches here by target). ``history show N`` is :mod:`programkit.cli.history`."""

from __future__ import annotations

import sys
from typing import Any

import click

from .. import canonical
from ..errors import ProgramkitError
from ..rollback import plan_rollback, rollback_import
from ..workspaces import open_target
from .common import EXIT_FINDINGS, EXIT_OK, echo_error, fail


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


COMMANDS: list[click.Command] = []
