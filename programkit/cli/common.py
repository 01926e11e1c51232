"""Options, output and error handling shared by the commands."""

from __future__ import annotations

import os
import re
import sys
from typing import Any, Callable, Iterable

import click

from ..bundle import ArchiveLimits
from ..crash import save_crash
from ..errors import ProgramkitError
from ..findings import Finding, closest_choice
from ..terminal import EscapingStream
from ..workspaces import DEFAULT_TARGET, open_target  # noqa: F401  (re-exported for the commands)

#: exit codes, as documented in the README
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def use_colour(stream: Any = None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


def styler(colour: bool) -> Callable[..., str]:
    if colour:
        return click.style
    return lambda text, **_: text


class NamedChoice(click.Choice):
    """A choice matched without regard to case, shown in help and errors as the docs spell it.

    click lowercases the choices of a case-insensitive Choice in ``--help`` (``keepboth``); the
    docs, the rules file and the plan say ``keepBoth``, so help does too, and a near miss
    gets a "did you mean".
    """

    def __init__(self, choices: Iterable[str]):
        super().__init__(list(choices), case_sensitive=False)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:  # type: ignore[override]
        return "[" + "|".join(map(str, self.choices)) + "]"

    def get_invalid_choice_message(self, value: Any, ctx: click.Context | None) -> str:
        names = [str(c) for c in self.choices]
        close = closest_choice(str(value), names, cutoff=0.6)
        mean = f" Did you mean {close!r}?" if close else ""
        return f"{value!r} is not one of {', '.join(map(repr, names))}.{mean}"


def format_option(choices: tuple[str, ...] = ("text", "json", "github", "junit")) -> Callable:
    return click.option("--format", "-f", "fmt", type=NamedChoice(choices), default="text",
                        show_default=True, help="Output format.")


def echo_error(err: ProgramkitError) -> None:
    """Render an error that stops a command: message, hint, and any findings behind it."""
    style = styler(use_colour(sys.stderr))
    click.echo(f"{style('error', fg='red', bold=True)}: {err.message}", err=True)
    # The error's own hint is the advice for this command (a digest mismatch in a received archive is not
    # fixed the way one in your own bundle is); without one, each finding's hint, once.
    shown = {""} if not err.hint else {f.hint for f in err.findings}
    for f in err.findings:
        loc = f"{f.file}:{f.location}" if f.location else (f.file or "")
        # a lone finding that only restates the error line adds its code, not the same sentence again
        text = "" if f.message and f.message in err.message else f" {f.message}"
        click.echo(f"  {loc + ': ' if loc else ''}{f.code} [{f.rule}]{text}", err=True)
        if f.hint not in shown:  # each hint once: ten digest mismatches need one hint
            shown.add(f.hint)
            click.echo(f"      hint: {f.hint}", err=True)
    if err.hint:
        click.echo(f"  hint: {err.hint}", err=True)


def each_path(paths: Iterable[str], read: Callable[[str], Any], fmt: str) -> tuple[list[Any], list[tuple[str, str]]]:
    """``read`` every path; one that cannot be read is reported and skipped, never hiding the others.

    Returns the results and the (path, message) pairs of unreadable paths. The
    message goes to stderr; with ``--format github`` also an ``::error``
    annotation on that path (stderr is only the job log).
    """
    from ..report import github_error

    results, unreadable = [], []
    for path in paths:
        try:
            results.append(read(path))
        except ProgramkitError as err:
            echo_error(err)
            if fmt == "github":
                code = err.findings[0].code if err.findings else "programkit"
                click.echo(github_error(path, err.message + (f" (hint: {err.hint})" if err.hint else ""), code),
                           nl=False)
            unreadable.append((path, err.message))
    return results, unreadable


class GuardedGroup(click.Group):
    """The command group: every command's output escaped for the terminal, and the exit-status contract kept.

    Everything a command writes to stdout/stderr passes through :func:`~programkit.terminal.escape_output`, so
    a name holding ESC or a carriage return is shown, never interpreted. A ProgramkitError that a command did
    not catch exits with its own code (1 or 2); any other exception is a bug: one line on stderr naming it and
    the file its traceback was saved to, exit 3 (:mod:`programkit.crash`). Set PROGRAMKIT_DEBUG=1 to let the
    exception through instead.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["programkit.argv"] = list(args)  # the command line, for a crash report
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        out, err = sys.stdout, sys.stderr
        sys.stdout = EscapingStream(out, colour=use_colour(out))  # type: ignore[assignment]
        sys.stderr = EscapingStream(err, colour=use_colour(err))  # type: ignore[assignment]
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit,
                KeyboardInterrupt, GeneratorExit):
            raise
        except ProgramkitError as e:
            echo_error(e)
            ctx.exit(e.exit_code)
        except Exception as e:
            if os.environ.get("PROGRAMKIT_DEBUG"):
                raise
            click.echo(f"error: {save_crash(e, ctx.meta.get('programkit.argv'))}", err=True)
            ctx.exit(EXIT_INTERNAL)
        finally:
            sys.stdout, sys.stderr = out, err


def run_guarded(cli: click.Group, argv: list[str], prog_name: str) -> None:
    """Run the click group; turn ProgramkitError into a clean message and its exit code."""
    try:
        cli.main(args=argv, prog_name=prog_name, standalone_mode=True)
    except ProgramkitError as err:  # pragma: no cover - commands catch their own; this is the backstop
        echo_error(err)
        sys.exit(err.exit_code)


def fail(err: ProgramkitError) -> None:
    """Inside a command: render the error and exit with its code."""
    echo_error(err)
    raise SystemExit(err.exit_code)


def findings_exit(findings: list[Finding], strict: bool = False) -> int:
    errors = sum(1 for f in findings if f.severity.value == "error")
    warnings = sum(1 for f in findings if f.severity.value == "warning")
    return EXIT_FINDINGS if errors or (strict and warnings) else EXIT_OK


#: environment variables that stand in for --target / --workspace
TARGET_ENV, WORKSPACE_ENV = "PROGRAMKIT_TARGET", "PROGRAMKIT_WORKSPACE"


def target_option(help: str = "Workspace database file, or a Marketo REST URL (https://…mktorest.com).") -> Callable:
    """--target/-t: where the workspace lives; $PROGRAMKIT_TARGET, else ./programkit.db."""
    return click.option("--target", "-t", "target", envvar=TARGET_ENV, default=DEFAULT_TARGET, show_default=True,
                        show_envvar=True, metavar="DB", help=help)


def workspace_option(help: str = "Workspace inside the target (Marketo's default one is 'Default').") -> Callable:
    """--workspace/-w: which workspace of the target; $PROGRAMKIT_WORKSPACE, else Default."""
    return click.option("--workspace", "-w", "workspace", envvar=WORKSPACE_ENV, default="Default", show_default=True,
                        show_envvar=True, metavar="NAME", help=help)


def html_options(fn: Callable) -> Callable:
    """--html FILE (a self-contained HTML report, besides the usual output) and --force (replace FILE)."""
    fn = click.option("--force", "force", is_flag=True,
                      help="Replace an existing output file (--html, --out) that holds other content.")(fn)
    return click.option("--html", "html", type=click.Path(dir_okay=False), metavar="FILE",
                        help="Also write a self-contained HTML report to FILE (it loads nothing from the network; "
                             "an existing FILE is replaced only with --force).")(fn)


def report_written(path: str) -> None:
    """Say on stderr where the HTML report went (stdout stays the command's usual output)."""
    click.echo(f"HTML report written to {path}", err=True)


# --- archive limits, for every command that reads archives ---------------------

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$", re.I)


def parse_size(text: str) -> int:
    """'4G', '500MiB', '1048576' → bytes (K/M/G/T are powers of 1024)."""
    m = _SIZE.match(text)
    if not m:
        raise click.BadParameter(f"{text!r} is not a size like 500M or 2G")
    return int(float(m.group(1)) * 1024 ** "_kmgt".index(m.group(2).lower() or "_"))


def limit_options(fn: Callable) -> Callable:
    """--max-files / --max-size / --max-ratio; unset ones come from PROGRAMKIT_MAX_* or the defaults."""
    fn = click.option("--max-ratio", type=click.FloatRange(min=1), default=None,
                      help="Largest compression ratio per entry [env PROGRAMKIT_MAX_RATIO; default 200].")(fn)
    fn = click.option("--max-size", default=None, metavar="SIZE",
                      help="Largest total uncompressed size, e.g. 500M, 8G [env PROGRAMKIT_MAX_SIZE; default 4G].")(fn)
    fn = click.option("--max-files", type=click.IntRange(min=1), default=None,
                      help="Most entries an archive may have [env PROGRAMKIT_MAX_FILES; default 100000].")(fn)
    return fn


def make_limits(max_files: int | None, max_size: str | None, max_ratio: float | None) -> ArchiveLimits:
    try:
        base = ArchiveLimits.from_env()
    except ValueError as e:
        raise click.UsageError(f"bad PROGRAMKIT_MAX_* value: {e}") from None
    return ArchiveLimits(
        max_files=max_files or base.max_files,
        max_total_size=parse_size(max_size) if max_size else base.max_total_size,
        max_ratio=max_ratio or base.max_ratio,
        ratio_floor=base.ratio_floor,
    )
