"""``programkit workspace init|list|show|load``: the embedded workspace file."""

from __future__ import annotations

import click

import sys
from typing import Any, Callable

from .. import canonical
from ..remove import plan_remove, remove_program
from ..usage import LISTED_KINDS, Listed, listing, used_by
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


def json_option(fn: Callable) -> Callable:
    """--json: the same as --format json (what a script reaches for first)."""
    return click.option("--json", "as_json", is_flag=True, help="Same as --format json.")(fn)


@workspace_group.command("show")
@target_option()
@workspace_option()
@format_option(("text", "json"))
@json_option
@click.option("--kind", type=NamedChoice(LISTED_KINDS), default=None,
              help="List only the assets (or programs) of this kind, one per line.")
def show_cmd(target: str, workspace: str, fmt: str, as_json: bool, kind: str | None) -> None:
    """Summarise a workspace and list what it holds: items per kind, tag types, each program with its assets and
    where it came from, and the Design Studio assets with how many assets use each.

    --kind KIND lists only that kind (program, smartCampaign, email, leadLifecycle, emailTemplate,
    landingPageTemplate, image, snippet); `workspace used-by NAME` says what uses a template, snippet or image.
    """
    fmt = "json" if as_json else fmt
    try:
        with open_target(target, workspace, create=False, readonly=True) as ws:
            summary = describe(ws, target) if kind is None else None
            listed = _listing(ws, kind)
    except ProgramkitError as err:
        fail(err)
    if kind is not None:
        rows = [x.to_dict() for x in listed] if kind != "program" else listed
        click.echo(canonical.dumps(rows) if fmt == "json" else render_listing(listed, kind), nl=False)
        return
    if listed is not None:
        summary["assets"] = [x.to_dict() for x in listed]
    click.echo(canonical.dumps(summary) if fmt == "json" else render_text(summary) + render_assets(listed), nl=False)


def _listing(ws: Any, kind: str | None) -> Any:
    """The assets (or, for --kind program, the programs) to list; None when the target cannot list them and no
    --kind asked for it (a Marketo instance: the summary alone)."""
    if kind == "program":
        return [{"name": p.name, "type": p.data.get("type"), "channel": p.data.get("channel"),
                 "source": f"{p.provenance.bundle} {p.provenance.version}" if p.provenance else None,
                 "importId": p.provenance.import_id if p.provenance else None} for p in ws.programs()]
    if kind is None and not callable(getattr(ws, "design_studio_assets", None)):
        return None
    return listing(ws, kind)


def render_assets(listed: list[Listed] | None) -> str:
    """The asset lines under the summary: each program's assets, then Design Studio's."""
    if not listed:
        return ""
    lines: list[str] = []
    program = ""
    width = max(len(x.kind) for x in listed)
    for x in listed:
        where = x.program or "Design Studio"
        if where != program:
            program = where
            lines.append(f"{'Program' if x.program else 'Design Studio'}{' ' + repr(x.program) if x.program else ''}:")
        path = f"{x.folder}/{x.name}" if x.folder and x.program else x.name
        used = f"  (used by {x.used_by})" if x.program is None else ""
        lines.append(f"  {x.kind:<{width}}  {path}{used}")
    return "\n".join(lines) + "\n"


def render_listing(listed: Any, kind: str) -> str:
    if kind == "program":
        return "".join(f"{p['name']}  ({p['type']}, {p['channel']}"
                       + (f"; from {p['source']}, import #{p['importId']}" if p["source"] else "") + ")\n"
                       for p in listed) or "No programs.\n"
    if not listed:
        return f"No {kind} assets.\n"
    lines = []
    for x in listed:
        where = f"{x.program}/{x.folder + '/' if x.folder else ''}" if x.program else ""
        used = f"  (used by {x.used_by})" if x.program is None else ""
        lines.append(f"{where}{x.name}{used}")
    return "\n".join(lines) + "\n"


@workspace_group.command("used-by")
@click.argument("name")
@target_option()
@workspace_option()
@format_option(("text", "json"))
@json_option
def used_by_cmd(name: str, target: str, workspace: str, fmt: str, as_json: bool) -> None:
    """What uses the template, snippet or image NAME: emails on a template, emails placing a snippet, emails,
    templates and snippets showing an image (names are case-insensitive).

    Exit status: 0 (used or not), 2 no Design Studio asset is called NAME.
    """
    try:
        with open_target(target, workspace, create=False, readonly=True) as ws:
            found = used_by(ws, name)
    except ProgramkitError as err:
        fail(err)
    if fmt == "json" or as_json:
        click.echo(canonical.dumps(found.to_dict()), nl=False)
        return
    for asset, users in found.found:
        click.echo(f"{asset.kind} {asset.name!r}: " + (f"used by {len(users)}" if users else "used by nothing"))
        for u in users:
            click.echo(f"  {u.kind:<14} {u.name}  ({found.usage.where(u)})")


@workspace_group.command("load")
@click.argument("inventory", type=click.Path(dir_okay=False), required=False)
@click.option("--from", "source", metavar="URL",
              help="Read the inventory from a Marketo instance (its REST base URL, https://…mktorest.com) instead of "
                   "a file; credentials from MARKETO_CLIENT_ID / MARKETO_CLIENT_SECRET.")
@click.option("--from-workspace", "source_workspace", default="Default", show_default=True, metavar="NAME",
              help="With --from: the Marketo workspace to read.")
@target_option(FILE_HELP)
@workspace_option()
@format_option(("text", "json"))
def load_cmd(inventory: str | None, source: str | None, source_workspace: str, target: str, workspace: str,
             fmt: str) -> None:
    """Describe an existing instance to a workspace, from an INVENTORY JSON file or (--from URL) read from the
    Marketo instance itself.

    Fields, tag types, segmentations, snippets, webhooks, custom objects, CRM,
    channels, templates and images are added or updated (never removed).
    The file is checked in full first (`programkit schema inventory`); if
    anything is wrong every problem is listed and nothing is written.

    --from URL mirrors the instance: its fields, tags, segmentations, custom
    objects, channels, templates, snippets and images (with their bytes) and
    its programs' names (created empty, so plans find the same name
    collisions), through the same API reads a plan against it makes. What was
    read is shown first, then what changed.

    Exit status: 0 loaded, 1 findings (nothing written), 2 unreadable input.
    """
    _file_only(target, "load")
    if (inventory is None) == (source is None):
        raise click.UsageError("give an INVENTORY file or --from URL (one of them)")
    mirror = None
    try:
        if source is not None:
            mirror, result, name = _load_from(source, source_workspace, target, workspace)
        else:
            require_path(inventory, INVENTORY_HINT)  # before the target: say the first thing that is wrong
            with open_target(target, workspace, create=False) as ws:
                result = load_inventory(ws, inventory)
                name = ws.name
    except ProgramkitError as err:
        fail(err)
    if fmt == "json":
        data = result.to_dict() if result.ok else None
        if mirror is not None:
            data = {**(data or {}), **mirror.to_dict()} if result.ok else None
        click.echo(canonical.dumps(data) if data is not None else render_json([result]), nl=False)
    elif not result.ok:
        click.echo(render_findings([result], styler(use_colour())), nl=False)
        click.echo("nothing written", err=True)
    else:
        if mirror is not None:
            click.echo(render_mirror(mirror))
        parts = []
        for section, c in sorted(result.changes.items()):
            parts.append(f"  {section:<22}{c['added']:>5} added {c['updated']:>5} updated {c['unchanged']:>5} unchanged")
        click.echo(f"Loaded {source or inventory} into workspace {name!r} of {target}")
        click.echo("\n".join(parts))
    if not result.ok:
        raise SystemExit(EXIT_FINDINGS)


def _load_from(source: str, source_workspace: str, target: str, workspace: str) -> tuple[Any, Any, str]:
    """Read the Marketo instance ``source`` (before opening the target: a bad URL or credentials change nothing),
    then merge what was read into the workspace file."""
    from ..mirror import load_from

    if target_kind(source) != "marketo":
        raise BadInput(f"--from {source!r} is not a Marketo REST URL",
                       hint="Give the instance's REST base URL, e.g. https://123-ABC-456.mktorest.com; an "
                            "inventory file is given without --from.")
    with open_target(source, source_workspace) as instance, open_target(target, workspace, create=False) as ws:
        mirror, result = load_from(ws, instance)
        return mirror, result, ws.name


def render_mirror(mirror: Any) -> str:
    counts = mirror.read_counts()
    lines = [f"Read from {mirror.url} ({mirror.calls} API call{'s' if mirror.calls != 1 else ''}):"]
    labels = (("fields", "fields"), ("tagTypes", "tag types"), ("tagValues", "tag values"),
              ("segmentations", "segmentations"), ("customObjects", "custom objects"), ("channels", "channels"),
              ("emailTemplates", "email templates"), ("landingPageTemplates", "landing page templates"),
              ("images", "images"), ("snippets", "snippets"), ("programs", "programs (names)"))
    for key, label in labels:
        lines.append(f"  {label:<24}{counts[key]:>5}")
    if mirror.doc.get("crm"):
        lines.append(f"  crm                     {mirror.doc['crm']}")
    for why in mirror.left_out:
        lines.append(f"  not mirrored: {why}")
    return "\n".join(lines)


@workspace_group.command("remove")
@click.argument("program")
@target_option(FILE_HELP)
@workspace_option()
@click.option("--dry-run", is_flag=True, help="Show what would be deleted and kept; write nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation on a terminal.")
@format_option(("text", "json"))
@json_option
def remove_cmd(program: str, target: str, workspace: str, dry_run: bool, yes: bool, fmt: str, as_json: bool) -> None:
    """Delete PROGRAM and the assets only it uses, all or nothing.

    The program, its folders and its campaigns, emails and lifecycles go, and so
    do the templates, snippets and images its imports brought in that nothing
    else uses. An asset another program uses or imported stays, and so does one
    that did not come from an import (the instance's own, from `workspace
    load`); the preview says why each stays. Like import: the preview first, then
    (on a terminal) a question unless --yes; --dry-run writes nothing.

    Exit status: 0 removed (or --dry-run), 2 no such program or unreadable target.
    """
    _file_only(target, "remove")
    fmt = "json" if as_json else fmt
    try:
        with open_target(target, workspace, create=False) as ws:
            plan = plan_remove(ws, program)
            if fmt == "text":
                click.echo(render_remove(plan), nl=False)
            if not dry_run:
                if fmt == "text" and not yes and sys.stdin.isatty() and \
                        not click.confirm(f"Remove program {plan.program.name!r}?", default=False):
                    click.echo("Cancelled: nothing was written.")
                    return
                plan = remove_program(ws, program)
    except ProgramkitError as err:
        fail(err)
    if fmt == "json":
        click.echo(canonical.dumps({**plan.to_dict(), "removed": not dry_run}), nl=False)
    elif dry_run:
        click.echo("Dry run: nothing was written.")
    else:
        n = len(plan.local) + len(plan.design)
        click.echo(f"Removed program {plan.program.name!r} and {n} asset{'s' if n != 1 else ''}.")


def render_remove(plan: Any) -> str:
    lines = [f"Remove program {plan.program.name!r} from the workspace:", ""]
    lines.append(f"  - delete  program        {plan.program.name}")
    width = max([13] + [len(a.kind) for a in plan.local + plan.design] + [len(a.kind) for a, _ in plan.kept])
    for a in plan.local:
        lines.append(f"  - delete  {a.kind:<{width}}  {a.folder + '/' if a.folder else ''}{a.name}")
    for a in plan.design:
        lines.append(f"  - delete  {a.kind:<{width}}  {a.name}  (Design Studio; only this program used it)")
    for a, why in plan.kept:
        lines.append(f"  . keep    {a.kind:<{width}}  {a.name}  (Design Studio; {why})")
    return "\n".join(lines) + "\n\n"


COMMANDS = [workspace_group]
