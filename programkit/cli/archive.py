"""``programkit pack``, ``unpack`` and ``inspect``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click

from ..archive import PACK_HINT, pack, unpack_archive
from ..bundle import not_a_bundle_dir
from ..errors import BadInput, ProgramkitError, require_path
from ..inspect import inspect_path, render_text
from ..html import write_inspection_report
from .common import (EXIT_FINDINGS, fail, format_option, html_options, limit_options, make_limits, report_written, styler,
                     use_colour)
from .registry import registry_options

def _warn(findings: list[Any]) -> None:
    style = styler(use_colour())
    for f in findings:
        click.echo(f"{style('warning', fg='yellow')}: {f.code} [{f.rule}] {f.message}", err=True)


@click.command("pack")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Archive to write [default: NAME-VERSION.zip in the current directory].")
@click.option("--update-digests", is_flag=True, help="First set every asset's sha256 in bundle.json from its file.")
@click.option("--force", is_flag=True, help="Replace an existing archive at --output (one with other bytes).")
@click.option("--no-validate", is_flag=True,
              help="Pack despite validation errors; unreadable JSON, unsafe or missing paths and digest "
                   "mismatches still refuse.")
def pack_cmd(directory: Path, output: Path | None, update_digests: bool, force: bool, no_validate: bool) -> None:
    """Pack a bundle directory into a reproducible .zip.

    The same bundle always gives the same bytes: bundle.json then the listed
    files sorted by path, fixed timestamps and modes, no extra metadata.
    Files not listed in bundle.json are left out (and named on stderr).

    An existing archive with other bytes is replaced only with --force; a
    directory, FIFO, device or link at --output never.

    Exit status: 0 packed, 1 the bundle has errors (nothing written),
    2 DIRECTORY is not a bundle, or --output cannot be written.
    """
    try:
        if output is None:
            output = Path(_default_name(directory))
        result = pack(directory, output, check=not no_validate, update_digests=update_digests, force=force)
    except ProgramkitError as err:
        fail(err)
    for p in result.updated_digests:
        click.echo(f"updated digest of {p}", err=True)
    _warn([f for f in result.findings if f.code != "PK107"])  # unlisted files: said once, below
    if result.skipped:
        click.echo(f"left out {len(result.skipped)} unlisted file(s): {', '.join(result.skipped)}", err=True)
    click.echo(f"{result.path}\n  {len(result.files)} files, {result.size} bytes\n  sha256 {result.sha256}")


_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*\.zip$")


def _default_name(directory: Path) -> str:
    if not (directory / "bundle.json").is_file():  # not a bundle at all: say so, as pack itself does
        require_path(directory, PACK_HINT)
        raise not_a_bundle_dir(str(directory), PACK_HINT)
    try:
        manifest = json.loads((directory / "bundle.json").read_text(encoding="utf-8"))
        name = f"{manifest['name']}-{manifest['version']}.zip"
    except (OSError, ValueError, KeyError, TypeError):
        name = ""
    if not _SAFE_NAME.match(name):  # never let a manifest pick a path outside the current directory
        raise BadInput(f"{directory}: no readable bundle.json with a plain name and version to name the archive",
                       hint="Pass -o FILE, or run `programkit validate` on the directory.")
    return name


@click.command("unpack")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              help="Directory to create [default: the archive's name without .zip, in the current directory].")
@click.option("--force", is_flag=True, help="Replace the bundle in a non-empty output directory (refused if it holds files that are not "
                   "the bundle's; .git and other hidden entries are kept).")
@limit_options
def unpack_cmd(archive: Path, output: Path | None, force: bool, max_files: int | None, max_size: str | None,
               max_ratio: float | None) -> None:
    """Extract a bundle archive, checked first and verified against bundle.json.

    Refused with nothing written: paths with '..' or absolute paths, links and
    special files, duplicate entries, more files, bytes or compression than
    the limits allow, sizes that lie, and files whose sha256 differs from
    bundle.json. Files bundle.json does not list are not extracted.

    Exit status: 0 extracted, 1 unsafe or tampered archive, 2 not a zip,
    truncated, or the output directory is not empty (see --force).
    """
    limits = make_limits(max_files, max_size, max_ratio)
    try:
        result = unpack_archive(archive, output or Path(archive.stem), limits, force=force)
    except ProgramkitError as err:
        fail(err)
    _warn(result.findings)
    click.echo(f"{result.path}\n  {len(result.files)} files, digests verified")


@click.command("inspect")
@click.argument("path", type=click.Path())
@format_option(("text", "json"))
@html_options
@limit_options
@registry_options()
def inspect_cmd(path: str, fmt: str, max_files: int | None, max_size: str | None, max_ratio: float | None,
                html: str | None = None, force: bool = False) -> None:
    """Show a bundle's name, version, digests, program, assets, requires and rules.

    PATH is a bundle directory, its bundle.json, an archive, or a registry
    reference (oci://HOST/REPO:TAG).

    A bundle with errors is shown with its findings first (as `validate` lists
    them), or only with them when its bundle.json cannot be read.

    Exit status: 0 shown, 1 the bundle has errors or is an unsafe archive,
    2 PATH is not a bundle.
    """
    try:
        limits = make_limits(max_files, max_size, max_ratio)
        # one load: the report and the text show the same bundle, and a registry reference is fetched once
        ins = write_inspection_report(html, path, limits, force=force) if html else inspect_path(path, limits)
    except ProgramkitError as err:
        fail(err)
    if html:
        report_written(html)
    if fmt == "json":
        click.echo(json.dumps(ins.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(render_text(ins, styler(use_colour())), nl=False)
    if not ins.ok:
        raise SystemExit(EXIT_FINDINGS)


COMMANDS = [pack_cmd, unpack_cmd, inspect_cmd]
