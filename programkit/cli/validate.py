"""``programkit validate`` and ``programkit rules``."""

from __future__ import annotations

import click

from ..bundle import unsafe_path_reason
from ..digests import fix_digests  # also registers PK475-PK477
from ..report import render_github, render_json, render_junit, render_text
from ..validate import ValidationResult, bundles_containing, git_changed_paths, validate_path
from ..errors import ProgramkitError
from .common import (EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, each_path, fail, format_option, limit_options, make_limits,
                     styler, use_colour)
from ..html import check_writable, render_validation, write_report
from .registry import registry_options


def _files(result: ValidationResult) -> list[str]:
    if result.bundle is None:
        return []
    # Unsafe paths are not files of the bundle (their finding is on the manifest): no testcase for them.
    return [result.bundle.manifest_path] + [a.path for a in result.bundle.assets if not unsafe_path_reason(a.path)]


def render(results: list[ValidationResult], fmt: str, strict: bool = False,
           unreadable: list[tuple[str, str]] | None = None) -> str:
    if fmt == "json":
        return render_json(results)
    if fmt == "github":
        return render_github(results)
    if fmt == "junit":
        return render_junit(results, _files, suite_name="programkit validate", unreadable=unreadable or (),
                            strict=strict)
    if fmt == "html":
        return render_validation(results, unreadable or (), strict)
    return render_text(results, styler(use_colour()), strict=strict)


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(exists=False))
@format_option(("text", "json", "github", "junit", "html"))
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the report to FILE (temp file + rename) instead of standard output; e.g. with --format html.")
@click.option("--force", is_flag=True, help="Replace the -o file if it exists.")
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
@click.option("--find-bundle", is_flag=True,
              help="PATHs are any files, existing or deleted: validate the bundle around each one once (the "
                   "nearest bundle.json at or above it), and each bundle .zip; files in no bundle are skipped. "
                   "For pre-commit hooks.")
@click.option("--git-changes", is_flag=True,
              help="With --find-bundle: also every path git says the commit changes, deleted ones included "
                   "(git diff --cached, or PRE_COMMIT_FROM_REF...PRE_COMMIT_TO_REF when set).")
@click.option("--fix-digests", is_flag=True,
              help="First set each asset's sha256 in bundle.json to its file's digest, in place (only those values "
                   "change; bundle directories only), print what changed, then validate.")
@limit_options
@registry_options()
def validate_cmd(paths: tuple[str, ...], fmt: str, strict: bool, find_bundle: bool, git_changes: bool,
                 fix_digests: bool, max_files: int | None, max_size: str | None, max_ratio: float | None,
                 output: str | None = None, force: bool = False) -> None:
    """Validate bundles: JSON syntax, schemas, files and digests, names and references.

    PATH is a bundle directory, its bundle.json, a bundle archive (.zip), or a
    registry reference (oci://HOST/REPO:TAG).
    Every problem in every bundle is listed, not just the first.

    --fix-digests is for a file you edited on purpose: it updates the stale
    sha256 values of bundle.json in place (nothing else in it changes; a .zip is
    refused), says which, then validates as usual.

    Exit status: 0 no errors, 1 findings (warnings too with --strict),
    2 a PATH that cannot be read as a bundle (the other PATHs are still validated).
    """
    limits = make_limits(max_files, max_size, max_ratio)
    if git_changes and not find_bundle:
        raise click.UsageError("--git-changes works with --find-bundle")
    if not paths and not find_bundle:
        raise click.UsageError("missing PATH: a bundle directory, its bundle.json or a .zip")
    if find_bundle:
        if git_changes:
            try:
                paths += tuple(git_changed_paths())
            except ProgramkitError as err:
                fail(err)
        paths = tuple(bundles_containing(paths))
    if output:
        try:
            check_writable(output, force, "-o")  # before the work: a refused file costs nothing
        except ProgramkitError as err:
            fail(err)
    refused: list[tuple[str, str]] = []
    if fix_digests:
        paths, refused = _fix_digests(paths, fmt)
    results, unreadable = each_path(paths, lambda path: validate_path(path, limits), fmt)
    unreadable = refused + unreadable
    if results or not unreadable or fmt in ("json", "junit", "html"):  # machine formats always parse
        text = render(results, fmt, strict, unreadable)
        if output:
            try:
                write_report(output, text, force, "-o")
            except ProgramkitError as err:
                fail(err)
        else:
            click.echo(text, nl=False)
    if unreadable:
        raise SystemExit(EXIT_USAGE)
    raise SystemExit(EXIT_FINDINGS if any(r.failed(strict) for r in results) else EXIT_OK)


def _fix_digests(paths: tuple[str, ...], fmt: str) -> tuple[tuple[str, ...], list[tuple[str, str]]]:
    """Fix each path's digests and say what changed (on stderr when stdout is a machine format); a path that
    cannot be fixed (an archive, no bundle.json) is reported and left out of the validation."""
    def fix(path: str) -> str:
        result = fix_digests(path)
        say = lambda text: click.echo(text, err=fmt != "text")  # noqa: E731
        for c in result.changed:
            old = c.old[:12] + "…" if isinstance(c.old, str) and len(c.old) > 12 else c.old
            say(f"{result.manifest}: {c.path}: sha256 {old} -> {c.new}")
        for f in result.left:
            say(f"{result.manifest}: {f.code} [{f.rule}] {f.message}")
        n = len(result.changed)
        say(f"{result.manifest}: {n} digest{'s' if n != 1 else ''} updated" if n else
            f"{result.manifest}: every digest is up to date; not written")
        return path

    kept, refused = each_path(paths, fix, fmt)
    return tuple(kept), refused


@click.command("rules")
@click.argument("codes", nargs=-1, metavar="[CODE]...")
@format_option(("text", "json", "markdown"))
def rules_cmd(codes: tuple[str, ...], fmt: str) -> None:
    """List every finding code with its severity, meaning, hint and an example.

    With CODE (PK512, 512 or a rule name such as same-version-changed): that
    code's meaning, an example and the fix, as `programkit explain CODE`.
    --format markdown writes the reference kept in docs/findings.md.

    Exit status: 0 shown, 2 an unknown CODE.
    """
    from ..docs import load_all_codes

    if codes:
        explain_codes(codes, fmt)
        return
    if fmt == "markdown":
        from ..docs import findings_markdown

        click.echo(findings_markdown(), nl=False)
        return
    codes = sorted(load_all_codes().values(), key=lambda c: c.code)
    if fmt == "json":
        import json

        click.echo(json.dumps([{"code": c.code, "name": c.name, "severity": c.severity.value, "group": c.group,
                                "summary": c.summary, "hint": c.hint, "example": c.example} for c in codes], indent=2))
        return
    for c in codes:
        click.echo(f"{c.code}  {c.severity.value:<7}  {c.name:<28} {c.summary}")


def explain_codes(codes: tuple[str, ...], fmt: str) -> None:
    """Show each CODE in full (text) or as JSON objects; an unknown one fails with a suggestion."""
    from ..docs import explain_text, find_code

    try:
        found = [find_code(c) for c in codes]
    except ProgramkitError as err:
        fail(err)
    if fmt == "json":
        import json

        click.echo(json.dumps([{"code": c.code, "name": c.name, "severity": c.severity.value, "group": c.group,
                                "summary": c.summary, "hint": c.hint, "example": c.example} for c in found],
                              indent=2))
        return
    click.echo("\n".join(explain_text(c) for c in found), nl=False)


@click.command("explain")
@click.argument("codes", nargs=-1, metavar="CODE...")
@format_option(("text", "json"))
def explain_cmd(codes: tuple[str, ...], fmt: str) -> None:
    """What a finding code means, an example of it, and how to fix it.

    CODE is PK512, 512, or a rule name such as same-version-changed
    (`programkit rules` lists them all).

    Exit status: 0 shown, 2 an unknown CODE or none.
    """
    if not codes:  # the next step is a command to paste, not click's bare "Missing argument"
        raise click.UsageError("give the code a finding printed, e.g. `programkit explain PK512` (or 512, or "
                               "same-version-changed); `programkit rules` lists every code")
    explain_codes(codes, fmt)


COMMANDS = [validate_cmd, rules_cmd, explain_cmd]
