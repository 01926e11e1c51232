"""The entry point: load and check the bundle, compile it, read the people, run the events,
and hand back the result."""

from __future__ import annotations

import gc
import os
import tempfile

from .. import lifecycle as lc
from ..errors import BadInput, ProgramkitError, require_path
from ..findings import Severity
from ..load import load_bundle
from ..output import REFUSED_WRITES, refused_write
from ..validate import validate_loaded
from .engine import Simulator
from .inputs import EVENTS_HINT, PEOPLE_HINT, check_settings, parse_time, read_people
from .partitioned import auto_jobs, can_partition, simulate_partitioned
from .result import SimulationResult
from .rules import compile_bundle


def simulate(bundle_path: str | os.PathLike[str], people: str | os.PathLike[str] | None = None,
             events: str | os.PathLike[str] | None = None, until: str | None = None,
             settings: dict[str, bool] | None = None, jobs: int | None = None) -> SimulationResult:
    """Run the people and events through the bundle. Raises BadInput for unreadable input,
    ProgramkitError (PK756) for a bundle with errors.

    ``jobs``: worker processes the people are split across (the same result, byte for byte);
    ``None`` chooses (:func:`~programkit.simulate.partitioned.auto_jobs`: the usable cores, one
    process for a small events file)."""
    if people is not None:
        require_path(people, PEOPLE_HINT)
    if events is not None:
        require_path(events, EVENTS_HINT)
    loaded = load_bundle(bundle_path)
    errors = [f for f in validate_loaded(loaded) if f.severity is Severity.ERROR]
    if errors:
        raise ProgramkitError(f"{os.fspath(bundle_path)} has {len(errors)} error(s); fix them before simulating",
                              findings=errors, hint=lc_hint())
    until_ts = None
    if until is not None:
        try:
            until_ts = parse_time(until)
        except ValueError:
            raise BadInput(f"--until {until!r} is not an ISO-8601 time", hint="e.g. 2026-04-01T00:00:00Z") from None
    try:
        model = compile_bundle(loaded.bundle, settings)
    except ValueError as e:  # a lifecycle condition the simulator cannot evaluate, e.g. 'at least' ['many']
        asset = lc.lifecycle_asset(loaded.bundle)
        raise ProgramkitError(f"cannot simulate the lifecycle {asset.path if asset else ''}: {e}",
                              hint="Numeric operators (at least, at most, greater than, less than, between) "
                                   "need numeric values.") from None
    if settings:
        check_settings(settings, loaded.bundle, model.lifecycle)
    if jobs is None:
        jobs = auto_jobs(events)
    elif jobs < 1:
        raise BadInput(f"--jobs {jobs}: give 1 or more worker processes", hint="e.g. --jobs 2")
    elif jobs > 1 and not can_partition():
        jobs = 1  # no fork on this system: one process gives the same result
    events_file = os.fspath(events) if events else "events"
    sim = Simulator(model, events_file)
    last = None
    # The run (reading the people included) allocates many small, long-lived objects and no
    # cycles: the cyclic collector would rescan them all again and again.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        if jobs > 1:
            return simulate_partitioned(model, people, events, events_file, until_ts, jobs)
        if people is not None:
            for pid, fields in read_people(people, model.names, sim.findings, model.lifecycle):
                sim.add_person(pid, fields)
        if events is not None:
            last = sim.feed(events, until_ts)
        sim.finish(until_ts, last)
        return sim.result(until_ts)
    except OSError as e:
        # what a large run collects (alerts, emails, rejected lines, the workers' shares) goes to temporary files
        if e.errno not in REFUSED_WRITES:
            raise
        raise refused_write(tempfile.gettempdir(), e, option="",
                            hint="simulate keeps what it collects in temporary files there (TMPDIR).") from None
    finally:
        if gc_was_enabled:
            gc.enable()



def lc_hint() -> str:
    return "Run `programkit validate BUNDLE` to see them with their locations."


# --- text report ---------------------------------------------------------------------

