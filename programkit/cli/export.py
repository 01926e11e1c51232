"""``programkit export PROGRAM -o OUT``: a workspace program as a bundle."""

from __future__ import annotations

import sys

import click

from .. import canonical
from ..errors import ProgramkitError, require_folder_of
from ..export import export_to
from ..workspaces.marketo.client import DAILY_QUOTA
from .common import fail, format_option, open_target, target_option, workspace_option


@click.command("export")
@click.argument("program")
@target_option()
@workspace_option()
@click.option("--output", "--out", "-o", "out", required=True, type=click.Path(),
              help="Bundle directory to write, or a .zip to write a reproducible archive.")
@click.option("--version", "version", metavar="SEMVER",
              help="Bundle version [default: the imported bundle's version, else 1.0.0].")
@click.option("--name", "name", metavar="SLUG",
              help="Bundle name [default: the imported bundle's name, else a slug of the program name].")
@click.option("--force", is_flag=True,
              help="Replace an existing bundle directory at --output (only one holding a bundle).")
@format_option(("text", "json"))
@click.option("--quiet", "-q", is_flag=True, help="No progress line on stderr (there is none unless it is a terminal).")
def export_cmd(program: str, target: str, workspace: str, out: str, version: str | None, name: str | None,
               force: bool, fmt: str, quiet: bool = False) -> None:
    """Export PROGRAM (a program name, case-insensitive) from a workspace as a bundle.

    The bundle holds the program (folders, tokens, tags), its smart campaigns,
    emails and lifecycles, the templates, images and snippets they use, and a
    `requires` list computed from what they reference. It is validated before
    it is written; two exports of the same program are byte-identical.

    From a Marketo instance (--target https://…mktorest.com) the program is read
    through the asset API; what the API cannot read (a campaign's flow steps,
    advanced rule logic, which modules an email uses, …) is listed in the
    bundle's needsCompletion and `validate` warns about each item (PK113).

    Exit status: 0 exported, 1 the program references what the workspace
    lacks or the bundle would not validate (nothing written), 2 bad input.
    """
    calls = None
    try:
        require_folder_of(out, "-o")
        with open_target(target, workspace, create=False) as ws:
            if not quiet and hasattr(ws, "progress_to"):  # a Marketo export: items, calls, waits, time left
                ws.progress_to(sys.stderr)
            try:
                result = export_to(ws, program, out, name=name, version=version, force=force)
            finally:
                client = getattr(ws, "client", None)  # a Marketo target: what reading cost
                calls = client.calls if client is not None else None
    except ProgramkitError as err:
        fail(err)
    if fmt == "json":
        click.echo(canonical.dumps(result.to_dict()), nl=False)
        return
    assets = ", ".join(f"{n} {k}" for k, n in result.assets.items()) or "no assets"
    click.echo(f"Exported {result.program!r} to {result.out}: {result.name} {result.version} ({assets})")
    req = result.requires
    parts = [f"crm {req['crm']}"] if req.get("crm") else []
    for key in ("fields", "segmentations", "snippets", "webhooks", "customObjects"):
        if req.get(key):
            names = [f["apiName"] if isinstance(f, dict) else f for f in req[key]]
            parts.append(f"{key} {', '.join(names)}")
    click.echo(f"  requires: {'; '.join(parts) or 'nothing'}")
    if result.version_reason:
        click.echo(f"  version:  {result.version_reason}")
    click.echo(f"  digest:   {result.digest}")
    if result.archive_sha256:
        click.echo(f"  archive sha256: {result.archive_sha256}")
    for w in result.warnings:
        loc = f"{w.file}:{w.location}" if w.location else (w.file or "")
        click.echo(f"  {loc}: {w.severity} {w.code} [{w.rule}] {w.message}")
    if calls is not None:
        click.echo(f"Marketo API: {calls} call(s) ({calls / DAILY_QUOTA:.2%} of the daily quota of {DAILY_QUOTA:,}).")


COMMANDS = [export_cmd]
