"""``programkit rollback`` (undo a Marketo import from its journal), ``import --resume`` (finish it), and the
Marketo-only options of ``plan`` and ``import`` (--tag, --approve, --activate)."""

from __future__ import annotations

import json
from typing import Any

import click

from ..errors import BadInput, ProgramkitError
from ..import_options import apply_marketo_options
from ..workspaces import open_target, target_kind
from ..workspaces.marketo import verify as marketo_verify  # also registers PK823-PK825
from ..workspaces.marketo import MarketoWorkspace, list_journals, resume_import
from ..workspaces.marketo.journal import rollback
from .common import EXIT_FINDINGS, fail, format_option, target_option, workspace_option
from .rehearsal import embedded_rollback


def marketo_options(ws: Any, tags: tuple[str, ...] = (), approve: bool = False, activate: bool = False) -> None:
    """Hand --tag, --approve and --activate to a Marketo target; on any other target they are bad usage (PK231),
    and a --tag that is not TYPE=VALUE is PK230."""
    apply_marketo_options(ws, tags, approve, activate)


def _marketo(target: str, workspace: str, hint: str) -> MarketoWorkspace:
    """The Marketo workspace a command that only Marketo targets have works on (exit 2 for anything else)."""
    if not target.startswith(("http://", "https://")):
        fail(BadInput(f"--target {target!r} is not a Marketo REST URL", hint=hint))
    try:
        return MarketoWorkspace(target, workspace)
    except ProgramkitError as err:
        fail(err)
        raise  # not reached: fail exits


@click.command("rollback")
@click.argument("import_id", metavar="[N]", type=click.IntRange(min=1), required=False)
@target_option("A workspace file, or a Marketo instance's REST base URL, e.g. https://123-ABC-456.mktorest.com.")
@workspace_option()
@click.option("--journal", "journal_id", default="last", show_default=True,
              help="Marketo: journal id of the import to undo (see --list).")
@click.option("--list", "list_", is_flag=True, help="Marketo: list the import journals kept for this target.")
@click.option("--force", is_flag=True,
              help="Marketo: roll back an import that changed or deleted what rollback cannot put back: undo the "
                   "rest and record it as partially rolled back.")
@click.option("--dry-run", is_flag=True, help="Workspace file: show what the rollback would undo; write nothing.")
@click.option("--yes", "-y", is_flag=True, help="Workspace file: do not ask for confirmation on a terminal.")
@format_option(("text", "json"))
def rollback_cmd(import_id: int | None, target: str, workspace: str, journal_id: str, list_: bool, force: bool,
                 dry_run: bool, yes: bool, fmt: str) -> None:
    """Undo one import: `rollback N` undoes import #N (see `programkit history`).

    A workspace file (the default target, or --target / $PROGRAMKIT_TARGET): the
    workspace returns to its state before import N, in one transaction: what it
    created is deleted, what it changed or deleted is put back byte for byte.
    Refused, nothing written (exit 1), when a later change touched the same items
    or something the import did not create uses what it created: roll those
    back first, newest first. --dry-run shows the steps; on a terminal it asks
    before writing unless --yes.

    A Marketo instance (an https://…mktorest.com target): undo one import from
    its journal, newest step first: delete what it created, put back what it
    changed. Credentials come from MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET.
    Token values and the program's description and tags are put back from the
    journal. An import that rewrote content or deleted assets cannot be wholly
    undone: rollback refuses it (exit 1, listing each such change) unless
    --force. What the API cannot delete (files) is listed for you to delete by
    hand (exit 1).
    """
    if target_kind(target) == "sqlite":
        if list_ or force or journal_id != "last":
            fail(BadInput("--journal, --list and --force are for a Marketo target",
                          hint="On a workspace file, `programkit history` lists the imports and `programkit "
                               "rollback N` undoes import #N."))
        return embedded_rollback(import_id, target, workspace, dry_run, yes, fmt)
    if dry_run:
        fail(BadInput("--dry-run is for a workspace file", hint="`programkit rollback --list` lists the journals."))
    ws = _marketo(target, workspace, "rollback undoes imports into a Marketo instance; the embedded workspace "
                                     "rolls back on its own")
    if import_id is not None:  # import #N: its journal, as the local history recorded it
        journal_id = _journal_of(ws, import_id)
    try:
        if list_:
            journals = list_journals(ws.state_dir)
            for j in journals:
                created = sum(1 for s in j.data["steps"] if s["op"] == "create")
                changed = sum(1 for s in j.data["steps"] if s["op"] in ("update", "replace", "delete")
                              or s["op"] == "token" and "previous" in s and not s.get("unchanged"))
                click.echo(f"{j.id}  {j.data['status']:<21} {created} created, {changed} changed  "
                           f"{j.data.get('startedAt', '')}")
            if not journals:
                click.echo(f"No import journals in {ws.state_dir / 'journals'}.")
            return
        result = rollback(ws, journal_id, force=force)
    except ProgramkitError as err:
        fail(err)
    what = f"{result.deleted} item(s) deleted" + (f", {result.restored} restored" if result.restored else "")
    which = f"journal {result.journal.id}" + (f" (import #{result.import_id})" if result.import_id else "")
    if result.left:
        click.echo(f"partially rolled back {which}: {what}; {len(result.left)} change(s) not undone (below); "
                   f"{ws.client.calls} API call(s)")
    else:
        click.echo(f"rolled back {which}: {what}; {ws.client.calls} API call(s)")
    for f in result.left:
        click.echo(f"  {f.code} [{f.rule}] {f.message}", err=True)
    if result.left:
        click.echo(f"Recorded as partially-rolled-back in {ws.history_file}.", err=True)
        raise SystemExit(EXIT_FINDINGS)


def _journal_of(ws: MarketoWorkspace, import_id: int) -> str:
    """The journal of Marketo import #N, from the local history (bad input if there is none)."""
    rows = json.loads(ws.history_file.read_text(encoding="utf-8")) if ws.history_file.is_file() else []
    row = next((r for r in rows if r.get("id") == import_id and r.get("journal")), None)
    if row is None:
        fail(BadInput(f"no import #{import_id} with a journal for {ws.url}",
                      hint=f"`programkit history --target {ws.url}` lists the imports; `rollback --list` the "
                           "journals."))
    return str(row["journal"])


def resume_cmd(bundle: str, target: str, workspace: str, fmt: str, *, approve: bool = False,
               activate: bool = False, quiet: bool = False, tags: tuple[str, ...] = ()) -> None:
    """``import --resume``: apply the plan the stopped import journalled, skipping the steps it did."""
    import sys

    from ..load import load_bundle

    if target_kind(target) != "marketo":
        fail(BadInput("--resume applies to imports into a Marketo instance",
                      hint="an import into the embedded workspace is all or nothing: run it again"))
    try:
        ws = open_target(target, workspace)
        marketo_options(ws, tags, approve, activate)
        if not quiet:
            ws.progress_to(sys.stderr)
        record = resume_import(ws, load_bundle(bundle).bundle)
    except ProgramkitError as err:
        fail(err)
    if fmt == "json":
        click.echo(json.dumps({"import": {"id": record.id, "outcome": record.outcome, "bundle": record.bundle,
                                          "version": record.version, "program": record.program}}, indent=2))
        return
    click.echo(f"Resumed and finished the import of {record.bundle} {record.version} into workspace "
               f"{record.workspace!r} as program {record.program!r} (import #{record.id}, {ws.client.calls} API "
               f"call(s)).")
    if ws.manual_steps_report():
        click.echo("\n" + ws.manual_steps_report(), nl=False)


@click.command("verify")
@click.argument("program", required=False)
@target_option("The Marketo instance's REST base URL, e.g. https://123-ABC-456.mktorest.com.")
@workspace_option()
@click.option("--import", "import_id", type=click.IntRange(min=1), default=None, metavar="N",
              help="Check only what import #N left (see `programkit history`).")
@format_option(("text", "json"))
def verify_cmd(program: str | None, target: str, workspace: str, import_id: int | None, fmt: str) -> None:
    """Check the manual steps Marketo imports left against what Marketo now holds.

    For each asset an import put on the manual-steps checklist, reads what the
    API can read (as export does) and compares it with the bundle: smart-list
    triggers and filters, rule logic, qualification rule, communication limits,
    activation, an email's text version. Flow steps, email modules and lead
    lifecycles cannot be read through the API: they are listed as manual, never
    as done. PROGRAM (or --import N) narrows it down; by default every import
    recorded with manual steps is checked. The result is recorded in the local
    history (`programkit history`).

    Exit status: 0 every step the API can read is done, 1 one is not done or
    differs, 2 bad input.
    """
    ws = _marketo(target, workspace, "verify checks manual steps left in a Marketo instance; an import into the "
                                     "embedded workspace leaves none")
    try:
        results = marketo_verify.verify(ws, program, import_id)
        outcomes = marketo_verify.record_verification(ws, results)
    except ProgramkitError as err:
        fail(err)
    if not results:
        click.echo(f"Nothing to verify: no import into {target} (workspace {workspace!r}) left manual steps.")
        return
    if fmt == "json":
        click.echo(json.dumps(marketo_verify.to_dict(results, outcomes), indent=2, ensure_ascii=False))
    else:
        click.echo(marketo_verify.render_text(results, outcomes, ws.client.calls), nl=False)
    if not all(r.ok for r in results):
        raise SystemExit(EXIT_FINDINGS)


COMMANDS = [rollback_cmd, verify_cmd]
