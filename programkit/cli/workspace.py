"""``programkit workspace init|list|show|load``: the embedded workspace file."""

from __future__ import annotations

import click

from .. import canonical
from ..errors import BadInput, ProgramkitError, require_path
from ..inventory import INVENTORY_HINT, describe, load_inventory, render_text
from ..report import render_json
from ..report import render_text as render_findings
from ..workspaces import open_target, target_kind
from ..workspaces.sqlite import init_workspace, list_workspaces
from .common import EXIT_FINDINGS, NamedChoice, fail, format_option, styler, target_option, use_colour, workspace_option


def _file_only(target: str, command: str) -> None:
    """init, list and load work on workspace files; a Marketo instance is described by Marketo itself."""
    if target_kind(target) != "sqlite":
        fail(BadInput(f"`workspace {command}` works on a workspace file, not {target}",
                      hint="A Marketo instance's fields, templates and workspaces live in Marketo; "
                           "`workspace show --target URL` reads them."))


FILE_HELP = "Workspace database file."


@click.group("workspace")
def workspace_group() -> None:
    """Create and inspect workspaces: the targets bundles import into.

    A workspace file (default ./programkit.db, or --target / $PROGRAMKIT_TARGET)
    holds one or more workspaces, each like one Marketo instance.
    """


@workspace_group.command("init")
@target_option(FILE_HELP)
@workspace_option()
@click.option("--crm", type=NamedChoice(["salesforce", "dynamics", "none"]), default="none",
              show_default=True, help="The CRM the instance syncs with (bundles with CRM sync steps require one).")
@click.option("--exist-ok", is_flag=True,
              help="Succeed, changing nothing, if the workspace already exists with this CRM (for scripts).")
def init_cmd(target: str, workspace: str, crm: str, exist_ok: bool) -> None:
    """Create a workspace, seeded like a new Marketo instance.

    It starts with Marketo's standard person fields and its default program
    channels with their member statuses, and no CRM unless --crm says so.
    The file is created if missing; a workspace name that exists is an error
    unless --exist-ok is given and its CRM is the one asked for.
    """
    _file_only(target, "init")
    try:
        if exist_ok and workspace.strip().casefold() in {r["name"].casefold() for r in _workspaces_if_any(target)}:
            with open_target(target, workspace, create=False) as ws:
                have = ws.crm() or "none"
            if have != crm:
                raise ProgramkitError(f"workspace {workspace!r} in {target} exists with crm {have}, not {crm}",
                                      hint='Change its CRM with `programkit workspace load` of an inventory '
                                           f'holding {{"crm": "{crm}"}}, or init another --workspace.')
            click.echo(f"Workspace {workspace!r} already exists in {target} (crm: {have}); nothing changed.")
            return
        with init_workspace(target, workspace, crm=crm) as ws:
            counts = ws.count()
            click.echo(f"Created workspace {ws.name!r} in {target} (crm: {ws.crm() or 'none'}; "
                       f"{counts['fields']} standard fields, {counts['channels']} channels)")
    except ProgramkitError as err:
        fail(err)


def _workspaces_if_any(target: str) -> list[dict]:
    try:
        return list_workspaces(target)
    except BadInput:  # no file yet
        return []


@workspace_group.command("list")
@target_option(FILE_HELP)
@format_option(("text", "json"))
def list_cmd(target: str, fmt: str) -> None:
    """List the workspaces in a workspace file."""
    _file_only(target, "list")
    try:
        rows = list_workspaces(target)
    except ProgramkitError as err:
        fail(err)
    if fmt == "json":
        click.echo(canonical.dumps(rows), nl=False)
        return
    for r in rows:
        programs = f"{r['programs']} program{'' if r['programs'] == 1 else 's'}"
        assets = f"{r['assets']} asset{'' if r['assets'] == 1 else 's'}"
        click.echo(f"{r['name']}  (crm: {r['crm'] or 'none'}; {programs}, {assets}; revision {r['revision']})")


@workspace_group.command("show")
@target_option()
@workspace_option()
@format_option(("text", "json"))
def show_cmd(target: str, workspace: str, fmt: str) -> None:
    """Summarise a workspace: items per kind, tag types, and its programs with where they came from."""
    try:
        with open_target(target, workspace, create=False) as ws:
            summary = describe(ws, target)
    except ProgramkitError as err:
        fail(err)
    click.echo(canonical.dumps(summary) if fmt == "json" else render_text(summary), nl=False)


@workspace_group.command("load")
@click.argument("inventory", type=click.Path(dir_okay=False))
@target_option(FILE_HELP)
@workspace_option()
@format_option(("text", "json"))
def load_cmd(inventory: str, target: str, workspace: str, fmt: str) -> None:
    """Describe an existing instance to a workspace from an INVENTORY JSON file.

    Fields, tag types, segmentations, snippets, webhooks, custom objects, CRM,
    channels, templates and images are added or updated (never removed).
    The file is checked in full first (`programkit schema inventory`); if
    anything is wrong every problem is listed and nothing is written.

    Exit status: 0 loaded, 1 findings (nothing written), 2 unreadable input.
    """
    _file_only(target, "load")
    try:
        require_path(inventory, INVENTORY_HINT)  # before the target: say the first thing that is wrong
        with open_target(target, workspace, create=False) as ws:
            result = load_inventory(ws, inventory)
            name = ws.name
    except ProgramkitError as err:
        fail(err)
    if fmt == "json":
        click.echo(canonical.dumps(result.to_dict()) if result.ok else render_json([result]), nl=False)
    elif not result.ok:
        click.echo(render_findings([result], styler(use_colour())), nl=False)
        click.echo("nothing written", err=True)
    else:
        parts = []
        for section, c in sorted(result.changes.items()):
            parts.append(f"  {section:<22}{c['added']:>5} added {c['updated']:>5} updated {c['unchanged']:>5} unchanged")
        click.echo(f"Loaded {inventory} into workspace {name!r} of {target}")
        click.echo("\n".join(parts))
    if not result.ok:
        raise SystemExit(EXIT_FINDINGS)


COMMANDS = [workspace_group]
