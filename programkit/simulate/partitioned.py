"""Partitioned runs (``simulate --jobs N``): people split across N worker processes.

What one person goes through depends only on their own events (campaigns and the lifecycle
act on the person an event is for), so each worker runs the people :func:`share_of` gives it.
Each line of the events file is read and checked once, by one worker, in two steps
(:mod:`.event_ranges`):

1. worker ``r`` reads byte range ``r`` of the file, reports its bad lines and routes every good
   event to the worker that runs its person (spool files on disk);
2. once every range is read, the parent (worker 0) hands each worker what the order checks and
   the clock need from the ranges before theirs (their latest time, the first event's time,
   where ``--until`` stops), and each worker runs its routed events, range by range, in line order.

Worker 0 (this process) reports the bundle's and the people CSV's findings.

The output is byte-identical to one process because every record is kept with the key of the
activity that made it, and keys sort in the order one process runs activities:

* ``(t0, 0, person)``: people of the CSV entering the lifecycle when the clock starts at t0,
  in id order;
* ``(due, 1, seq)``: a timer firing; ``seq`` is ``(key of the activity that set it, count)``.
  One process fires a timer before the first event at or after its due time (timers are at
  least a minute long, so never within the activity that set them), in (due, seq) order;
* ``(t, 2, line)``: the event on ``line`` at time ``t``;
* ``(end, 3, campaign, person)``: batch campaigns at the end.

Alerts, emails and rejections merge by key; people by id; counts add up; findings are kept
sorted. A field name no catalogue knows is shown as first spelled: the workers say on which
line they met each such name, and the earliest spelling wins before the people are written out.

:data:`last_timings` holds the CPU time of each process's steps in the last run (for
``bench/simulate``, which computes the speed-up on free cores from them).
"""

from __future__ import annotations

import heapq
import multiprocessing
import os
import pickle
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from typing import Any

from .engine import Simulator
from .event_ranges import (RangeSummary, byte_ranges, count_lines_between, out_of_order_findings, read_range,
                           routed_chunks, share_of, spool_path)
from .inputs import read_people
from .records import FindingSink, _Spill, merged_stamped
from .result import SimulationResult, assemble, people_part
from .rules import FieldNames, Model

#: below this size of events file the automatic choice is one process: starting workers, each
#: reading the whole people CSV, routing the events and merging their people costs ~0.1-0.2 s,
#: what one process needs for ~30k events; 8 MiB is ~80k events (~0.4 s on one core), where two
#: processes start to win clearly
PARALLEL_MIN_EVENT_BYTES = 8 << 20
#: at most this many workers by default: each holds a copy of the bundle and reads the whole people CSV
MAX_AUTO_JOBS = 8


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity mask, e.g. under taskset or a container)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def idle_cores() -> int:
    """The usable cores not busy with other work, by the 1-minute load average (at least 1): on
    cores other processes keep busy, a second worker gets no second core and only adds work
    (measured: half the speed of one process on two cores shared with a load of 5-8)."""
    cores = usable_cores()
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average on this system
        busy = 0.0
    return max(1, min(cores, round(cores - busy)))


def can_partition() -> bool:
    """Whether worker processes can be forked (they inherit the compiled bundle, which has closures)."""
    return "fork" in multiprocessing.get_all_start_methods()


def auto_jobs(events: str | os.PathLike[str] | None) -> int:
    """The default for ``--jobs``: the usable cores that are idle (:func:`idle_cores`), capped at
    :data:`MAX_AUTO_JOBS`; one process for an events file under :data:`PARALLEL_MIN_EVENT_BYTES`
    (or none), or where fork is missing."""
    if events is None or not can_partition():
        return 1
    try:
        if os.path.getsize(events) < PARALLEL_MIN_EVENT_BYTES:
            return 1
    except OSError:
        return 1  # reading it will say what is wrong
    return max(1, min(idle_cores(), MAX_AUTO_JOBS))


@dataclass
class Share:
    """One worker's part of the run while it goes: its simulator and what reading its range left."""

    sim: Simulator
    summary: RangeSummary | None = None
    out_of_order: Any = None  # the range's lines out of order within it (event_ranges.read_range)
    range_findings: FindingSink = field(default_factory=FindingSink)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds of each step


def _read_share(model: Model, share: tuple[int, int], people: str | os.PathLike[str] | None,
                events: str | os.PathLike[str] | None, events_file: str, until: float | None,
                bounds: list[tuple[int, int]], directory: str, spill: bool) -> Share:
    """Step 1 of one worker: its people from the CSV (worker 0 reports the CSV's findings), then its
    byte range of the events file, read, checked and routed. With ``spill``, the alerts, emails and
    rejections it will make spill to named files in ``directory``, for the parent to read."""
    mine, jobs = share
    start = time.process_time()
    sim = Simulator(model, events_file, share=share)
    if spill:
        for name in ("alerts", "emails", "rejected"):
            getattr(sim, name).path = os.path.join(directory, f"{name}-{mine}")
    if people is not None:
        findings: Any = sim.findings if mine == 0 else []
        for pid, fields in read_people(people, model.names, findings, model.lifecycle):
            if share_of(pid, jobs) == mine:
                sim.add_person(pid, fields)
    part = Share(sim)
    part.cpu["people"] = time.process_time() - start
    if events is not None:
        begin, end = bounds[mine]
        part.summary, part.out_of_order = read_range(events, events_file, begin, end, mine, jobs, until, directory,
                                                     part.range_findings)
    part.cpu["read"] = time.process_time() - start - part.cpu["people"]
    return part


@dataclass
class Plan:
    """What every worker needs to know of all ranges before it runs its events (step 2)."""

    latest_before: list[float | None]  # per range: the latest good time of the ranges before it
    line_offsets: list[int]  # per range: the lines of the ranges before it
    stop: int | None  # the range whose line --until stops at (later ranges are not run)
    first: float | None  # the first event's time: the clock starts there
    last: float | None  # the last event's time


def plan_of(summaries: list[RangeSummary]) -> Plan:
    latest: float | None = None
    latest_before: list[float | None] = []
    line_offsets: list[int] = []
    lines = 0
    first = stop = None
    for r, summary in enumerate(summaries):
        latest_before.append(latest)
        line_offsets.append(lines)
        lines += summary.lines
        if first is None and summary.first is not None:
            first = summary.first  # no good line before this range: never out of order
        if summary.last is not None:
            latest = summary.last if latest is None else max(latest, summary.last)
        if summary.stop_line is not None:
            stop = r
            break
    line_offsets += [lines] * (len(summaries) - len(line_offsets))  # after the stop: not run
    latest_before += [latest] * (len(summaries) - len(latest_before))
    return Plan(latest_before, line_offsets, stop, first, latest)


def _run_share(part: Share, plan: Plan | None, events: str | os.PathLike[str] | None, bounds: list[tuple[int, int]],
               until: float | None, directory: str) -> int | None:
    """Step 2 of one worker: the findings of its range (unless --until stopped before it), then the
    events routed to it, then the timers and batch campaigns to the end. Returns, for a range after
    --until's stop, its lines that are not blank (counted as after --until)."""
    start = time.process_time()
    sim = part.sim
    mine, jobs = sim.share
    after_until = None
    last = None
    if plan is not None:
        display = sim.events_file
        if plan.stop is None or mine <= plan.stop:
            offset = plan.line_offsets[mine]
            for f in part.range_findings:  # numbered within the range
                sim.findings.append(replace(f, line=f.line + offset) if f.line is not None else f)
            out_of_order_findings(part.out_of_order, plan.latest_before[mine], offset, display, sim.findings)
        elif events is not None:
            after_until = count_lines_between(events, *bounds[mine])
        if plan.first is not None and sim.started is None:
            sim._start(plan.first)
        ranges = range(jobs if plan.stop is None else plan.stop + 1)
        sim.run_routed(((plan.latest_before[r], plan.line_offsets[r], routed_chunks(spool_path(directory, r, mine)))
                        for r in ranges), display)
        last = plan.last
    sim.finish(until, last)
    sim.counts["invalid"] = 0  # the parent counts the merged findings
    part.cpu["run"] = time.process_time() - start
    return after_until


def _first_seen(names: FieldNames) -> dict[str, tuple[int, str]]:
    """Field names met while running: key → (line first spelled on, the spelling)."""
    return {k: (line, names.display[k]) for k, line in names.added.items()}


def _worker(model: Model, share: tuple[int, int], people: Any, events: Any, events_file: str, until: float | None,
            bounds: list[tuple[int, int]], directory: str, conn: Any) -> None:
    try:
        part = _read_share(model, share, people, events, events_file, until, bounds, directory, spill=True)
        conn.send(("read", part.summary))
        after_until = _run_share(part, conn.recv(), events, bounds, until, directory)
        sim = part.sim
        conn.send(("names", _first_seen(model.names)))
        model.names.display.update(conn.recv())
        start = time.process_time()
        result = people_part(sim)
        path = os.path.join(directory, f"people-{share[0]}")
        with open(path, "wb") as fh:
            pickle.dump((result, list(sim.findings)), fh, pickle.HIGHEST_PROTOCOL)
        part.cpu["result"] = time.process_time() - start
        conn.send(("done", {"people": path, "runs": sim.runs, "counts": sim.counts, "after_until": after_until,
                            "alerts": sim.alerts.handed_over(), "emails": sim.emails.handed_over(),
                            "rejected": sim.rejected.handed_over(), "cpu": part.cpu}))
    except BaseException as e:  # noqa: BLE001  (handed to the parent, which raises it)
        try:
            conn.send(("error", e))
        except Exception:  # noqa: BLE001  (an exception that does not pickle)
            conn.send(("error", RuntimeError(f"simulate worker {share[0]}: {e!r}")))
    finally:
        conn.close()


def _receive(conn: Any, what: str, worker: int) -> Any:
    try:
        kind, value = conn.recv()
    except EOFError:
        raise RuntimeError(f"simulate worker {worker} stopped without a result") from None
    if kind == "error":
        raise value
    assert kind == what, (kind, what)
    return value


#: CPU seconds of each process's steps in the last partitioned run of this process: one dict per
#: worker (worker 0 is this process), with "people", "read", "run" and "result", and
#: "merge" (this process only: what it does alone after the workers are done)
last_timings: list[dict[str, float]] = []


def simulate_partitioned(model: Model, people: str | os.PathLike[str] | None, events: str | os.PathLike[str] | None,
                         events_file: str, until: float | None, jobs: int) -> SimulationResult:
    """The run split across ``jobs`` processes (this one is worker 0): the same result, byte for
    byte, as :class:`Simulator` in one process."""
    directory = tempfile.mkdtemp(prefix="programkit-simulate-")
    context = multiprocessing.get_context("fork")
    workers: list[tuple[Any, Any]] = []
    bounds = byte_ranges(events, jobs) if events is not None else []
    try:
        for i in range(1, jobs):
            parent, child = context.Pipe()
            proc = context.Process(target=_worker, args=(model, (i, jobs), people, events, events_file, until,
                                                          bounds, directory, child), daemon=True)
            proc.start()
            child.close()
            workers.append((proc, parent))
        part = _read_share(model, (0, jobs), people, events, events_file, until, bounds, directory, spill=False)
        summaries = [part.summary] + [_receive(conn, "read", i + 1) for i, (_, conn) in enumerate(workers)]
        plan = plan_of(summaries) if events is not None else None
        for _, conn in workers:
            conn.send(plan)
        after_until = _run_share(part, plan, events, bounds, until, directory)
        sim = part.sim
        seen = [_first_seen(model.names)] + [_receive(conn, "names", i + 1) for i, (_, conn) in enumerate(workers)]
        first: dict[str, tuple[int, str]] = {}
        for names in seen:
            for key, (line, spelling) in names.items():
                if key not in first or line < first[key][0]:
                    first[key] = (line, spelling)
        display = {key: spelling for key, (_, spelling) in first.items()}
        for _, conn in workers:
            conn.send(display)
        model.names.display.update(display)
        start = time.process_time()
        people_parts = [people_part(sim)]
        part.cpu["result"] = time.process_time() - start
        counts = sim.counts
        runs = dict(sim.runs)
        findings: FindingSink = sim.findings
        spills: dict[str, list[_Spill]] = {"alerts": [sim.alerts], "emails": [sim.emails], "rejected": [sim.rejected]}
        timings = [part.cpu]
        after = [after_until]
        dones = [_receive(conn, "done", i + 1) for i, (_, conn) in enumerate(workers)]
        start = time.process_time()
        for done in dones:
            with open(done["people"], "rb") as fh:
                result, worker_findings = pickle.load(fh)
            os.unlink(done["people"])
            people_parts.append(result)
            for f in worker_findings:
                findings.append(f)
            for name in ("read", "simulated", "rejected"):
                counts[name] += done["counts"][name]
            for name, n in done["runs"].items():
                runs[name] = runs.get(name, 0) + n
            for name in spills:
                spills[name].append(_Spill.taken_over(*done[name]))
            timings.append(done["cpu"])
            after.append(done["after_until"])
        for proc, _ in workers:
            proc.join()
        counts["invalid"] = findings.count("PK751", "PK752")
        if plan is not None and plan.stop is not None:
            counts["afterUntil"] = summaries[plan.stop].after_stop + sum(n for n in after[plan.stop + 1:] if n)
        states: dict[str, int] = {}
        funnel = [0] * len(people_parts[0][2])
        for _, part_states, part_funnel in people_parts:
            for state, n in part_states.items():
                states[state] = states.get(state, 0) + n
            for i, n in enumerate(part_funnel):
                funnel[i] += n
        merged = list(heapq.merge(*(p[0] for p in people_parts), key=lambda p: p["id"]))
        result = assemble(sim, until, merged, states, funnel, runs, dict(counts), merged_stamped(spills["alerts"]),
                          merged_stamped(spills["emails"]), merged_stamped(spills["rejected"]), findings.records())
        part.cpu["merge"] = time.process_time() - start
        last_timings[:] = timings
        return result
    finally:
        for proc, conn in workers:
            conn.close()
            if proc.is_alive():
                proc.terminate()
            proc.join()
        shutil.rmtree(directory, ignore_errors=True)
