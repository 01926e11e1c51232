"""``programkit simulate``: run people and events through a bundle's campaigns and lifecycle."""

from __future__ import annotations

from typing import Iterable

import click

from ..errors import BUNDLE_HINT, BadInput, ProgramkitError, require_folder_of, require_path
from ..findings import make
from ..output import check_output, write_output
from ..simulate import EVENTS_HINT, PEOPLE_HINT, iter_json, iter_text, simulate, write_report
from ..html import check_writable, write_simulation_report
from .common import EXIT_FINDINGS, EXIT_OK, fail, format_option, html_options, report_written
from .registry import registry_options


def _settings(values: tuple[str, ...]) -> dict[str, bool]:
    out = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or value.strip().casefold() not in ("true", "false", "on", "off"):
            message = f"--setting {item!r}: use NAME=true or NAME=false"
            raise BadInput(message, [make("PK760", message)])
        out[name.strip()] = value.strip().casefold() in ("true", "on")
    return out


def _check_paths(bundle: str, people: str | None, events: str | None, out: str | None) -> None:
    """Every missing input, and a missing folder for --out, before any work (and before --out is created)."""
    if not bundle.startswith("oci://"):  # a registry reference is checked when it is fetched
        require_path(bundle, BUNDLE_HINT)
    if people is not None:
        require_path(people, PEOPLE_HINT)
    if events is not None:
        require_path(events, EVENTS_HINT)
    if out is not None:
        require_folder_of(out, "--out")


def _write_atomic(path: str, pieces: Iterable[str], force: bool) -> None:
    write_output(path, lambda fh: write_report(pieces, lambda text: fh.write(text.encode("utf-8"))),
                 option="--out", force=force)


@click.command("simulate")
@click.argument("bundle", type=click.Path(exists=False))
@click.option("--people", "people", type=click.Path(exists=False), help="People CSV: an 'id' column and field columns.")
@click.option("--events", "events", type=click.Path(exists=False),
              help='Events, one JSON object a line in time order: {"at", "person", "type", "data"}.')
@click.option("--until", "until", metavar="ISO-TIME", help="Stop at this time; timers due by then fire.")
@click.option("--setting", "settings", multiple=True, metavar="NAME=true|false",
              help="Override a lifecycle setting, e.g. requireDisqualificationReason=false (repeatable).")
@format_option(("text", "json"))
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Write the result here instead of standard output.")
@click.option("--all", "show_all", is_flag=True, help="Text format: list every person, alert and rejection.")
@click.option("--jobs", "jobs", type=int, metavar="N",
              help="Split the people across N processes (same output). Default: the idle usable CPU cores "
                   "(at most 8), one process for an events file under 8 MiB.")
@html_options
@registry_options()
def simulate_cmd(bundle: str, people: str | None, events: str | None, until: str | None, settings: tuple[str, ...],
                 fmt: str, out: str | None, show_all: bool, jobs: int | None = None, html: str | None = None,
                 force: bool = False) -> None:
    """Simulate what BUNDLE's smart campaigns and lead lifecycle do to people.

    Prints each person's final state and history, people per state, the funnel
    with conversion rates, the alerts that would be sent and the events the
    lifecycle rejects (with the reason). The same input always gives the same
    output, byte for byte.

    Exit status: 0 simulated, 1 the bundle has errors or the events file has
    malformed or out-of-order lines (skipped and reported), 2 unreadable input.
    """
    try:
        _check_paths(bundle, people, events, out)
        if out is not None:
            check_output(out, "--out", force)
        if html:
            check_writable(html, force)  # before the simulation runs: a refused file costs nothing
        result = simulate(bundle, people=people, events=events, until=until, settings=_settings(settings),
                          jobs=jobs)
        if html:
            write_simulation_report(html, result, force=force)
    except ProgramkitError as err:
        fail(err)
    if html:
        report_written(html)
    # written in pieces: the alerts, rejections and findings are read back from disk as they go out
    pieces = iter_json(result) if fmt == "json" else iter_text(result, None if show_all else 20)
    if out:
        try:
            _write_atomic(out, pieces, force)
        except ProgramkitError as err:
            fail(err)
    else:
        write_report(pieces, lambda text: click.echo(text, nl=False))
    if people is None and events is None:  # ran, and nothing happened to anyone: say why (on stderr)
        click.echo("note: no --people and no --events, so nobody was simulated; give a people CSV (an 'id' column "
                   "and field columns) and/or an events file (JSON Lines) — see `programkit simulate --help`.",
                   err=True)
    raise SystemExit(EXIT_FINDINGS if result.failed else EXIT_OK)


COMMANDS = [simulate_cmd]
