"""``programkit lint``: lint Marketo email and landing page templates."""

from __future__ import annotations

import click

from ..lint import EMAIL, GUIDED, LintResult, lint_file
from ..report import render_github, render_json, render_junit, render_text
from .common import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, NamedChoice, each_path, format_option, styler, use_colour


def render(results: list[LintResult], fmt: str, unreadable: list[tuple[str, str]] | None = None,
           strict: bool = False) -> str:
    if fmt == "json":
        return render_json(results)
    if fmt == "github":
        return render_github(results)
    if fmt == "junit":
        return render_junit(results, lambda r: [r.path], suite_name="programkit lint", unreadable=unreadable or (),
                            strict=strict)
    return render_text(results, styler(use_colour()), strict=strict)


@click.command("lint")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--kind", type=NamedChoice([EMAIL, GUIDED]), default=None,
              help="Template kind. Default: landing-page-template if the file uses a guided landing page "
                   "element (mktoForm, mktoShareButton, mktoPoll, mktoReferral, mktoSweepstakes), else email-template.")
@format_option()
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
def lint_cmd(files: tuple[str, ...], kind: str | None, fmt: str, strict: bool) -> None:
    """Lint Marketo Email 2.0 templates and guided landing page templates.

    Checks Marketo's template syntax (editable elements, variables, modules,
    containers), not HTML style: markup browsers and Marketo accept is not
    reported. {{my.X}} tokens are checked by `programkit validate` against the
    bundle's program tokens.

    Exit status: 0 no errors, 1 findings (warnings too with --strict),
    2 a FILE that cannot be read (the other FILEs are still linted).
    """
    results, unreadable = each_path(files, lambda path: lint_file(path, kind), fmt)
    if results or not unreadable or fmt in ("json", "junit"):  # machine formats always parse
        click.echo(render(results, fmt, unreadable, strict), nl=False)
    if unreadable:
        raise SystemExit(EXIT_USAGE)
    raise SystemExit(EXIT_FINDINGS if any(r.failed(strict) for r in results) else EXIT_OK)


COMMANDS = [lint_cmd]
