"""``programkit rollback``: undo a Marketo import from its journal."""

from __future__ import annotations

import click

from ..errors import BadInput, ProgramkitError
from ..workspaces.marketo import MarketoWorkspace, list_journals, rollback
from .common import EXIT_FINDINGS, fail


@click.command("rollback")
@click.option("--target", required=True, metavar="URL",
              help="The Marketo instance's REST base URL, e.g. https://123-ABC-456.mktorest.com.")
@click.option("--workspace", "workspace", default="Default", show_default=True, help="Marketo workspace.")
@click.option("--journal", "journal_id", default="last", show_default=True,
              help="Journal id of the import to undo (see --list).")
@click.option("--list", "list_", is_flag=True, help="List the import journals kept for this target.")
def rollback_cmd(target: str, workspace: str, journal_id: str, list_: bool) -> None:
    """Delete what one Marketo import created, newest first.

    Credentials come from MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET. What the
    API cannot delete (files) is listed for you to delete by hand (exit 1).
    """
    if not target.startswith(("http://", "https://")):
        fail(BadInput(f"--target {target!r} is not a Marketo REST URL",
                      hint="rollback undoes imports into a Marketo instance; the embedded workspace "
                           "rolls back on its own"))
    try:
        ws = MarketoWorkspace(target, workspace)
        if list_:
            for j in list_journals(ws.state_dir):
                created = sum(1 for s in j.data["steps"] if s["op"] == "create")
                click.echo(f"{j.id}  {j.data['status']:<20} {created} created  {j.data.get('startedAt', '')}")
            return
        journal, left = rollback(ws, journal_id)
    except ProgramkitError as err:
        fail(err)
    undone = sum(1 for s in journal.data["steps"] if s.get("rolledBack"))
    click.echo(f"rolled back journal {journal.id}: {undone} item(s) deleted; {ws.client.calls} API call(s)")
    for f in left:
        click.echo(f"  {f.code} [{f.rule}] {f.message}", err=True)
    if left:
        raise SystemExit(EXIT_FINDINGS)


COMMANDS = [rollback_cmd]
