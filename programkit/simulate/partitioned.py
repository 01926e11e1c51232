"""Partitioned runs (``simulate --jobs N``): people split across N worker processes.

What one person goes through depends only on their own events (campaigns and the lifecycle
act on the person an event is for), so each worker runs the people :func:`share_of` gives it.
Every worker reads the whole events file, so each knows what a one-process run knows about
the clock: which lines are bad or out of order, when the simulation starts (the first event)
and where ``--until`` stops it. It runs only its own people's events and timers; worker 0 (this
process) reports the bad lines and the bundle's findings.

The output is byte-identical to one process because every record is kept with the key of the
activity that made it, and keys sort in the order one process runs activities:

* ``(t0, 0, person)``: people of the CSV entering the lifecycle when the clock starts at t0,
  in id order;
* ``(due, 1, seq)``: a timer firing; ``seq`` is ``(key of the activity that set it, count)``.
  One process fires a timer before the first event at or after its due time (timers are at
  least a minute long, so never within the activity that set them), in (due, seq) order;
* ``(t, 2, line)``: the event on ``line`` at time ``t``;
* ``(end, 3, campaign, person)``: batch campaigns at the end.

Alerts, emails and rejections merge by key; people by id; counts add up. A field name no
catalogue knows is shown as first spelled: the workers say on which line they met each such
name, and the earliest spelling wins before the people are written out.
"""

from __future__ import annotations

import heapq
import multiprocessing
import os
import pickle
import shutil
import tempfile
from typing import Any

from .engine import Simulator, share_of
from .inputs import read_people
from .records import FindingSink, _Spill, merged_stamped
from .result import SimulationResult, assemble, people_part
from .rules import FieldNames, Model

#: below this size of events file the automatic choice is one process: starting workers, each
#: reading the whole file and the people CSV, and merging their people costs ~0.1-0.2 s, what
#: one process needs for ~30k events; 8 MiB is ~80k events (~0.4 s on one core), where two
#: processes start to win clearly
PARALLEL_MIN_EVENT_BYTES = 8 << 20
#: at most this many workers by default: each reads the whole events file, so past a few the
#: parsing every worker repeats is most of what is left, and each holds a copy of the bundle
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


def _run_share(model: Model, share: tuple[int, int], people: str | os.PathLike[str] | None,
               events: str | os.PathLike[str] | None, events_file: str, until: float | None,
               directory: str | None = None) -> Simulator:
    """One worker's part of the run: its people from the CSV (worker 0 reports the CSV's findings),
    then every line of the events file, running its own people's events. With ``directory``, the
    alerts, emails and rejections spill to named files there, for the parent to read."""
    mine, jobs = share
    sim = Simulator(model, events_file, share=share)
    if directory is not None:
        for name in ("alerts", "emails", "rejected"):
            getattr(sim, name).path = os.path.join(directory, f"{name}-{mine}")
    if people is not None:
        findings: Any = sim.findings if mine == 0 else []
        for pid, fields in read_people(people, model.names, findings, model.lifecycle):
            if share_of(pid, jobs) == mine:
                sim.add_person(pid, fields)
    last = sim.feed(events, until) if events is not None else None
    sim.finish(until, last)
    return sim


def _first_seen(names: FieldNames) -> dict[str, tuple[int, str]]:
    """Field names met while running: key → (line first spelled on, the spelling)."""
    return {k: (line, names.display[k]) for k, line in names.added.items()}


def _worker(model: Model, share: tuple[int, int], people: Any, events: Any, events_file: str, until: float | None,
            directory: str, conn: Any) -> None:
    try:
        sim = _run_share(model, share, people, events, events_file, until, directory)
        conn.send(("names", _first_seen(model.names)))
        model.names.display.update(conn.recv())
        part = people_part(sim)
        path = os.path.join(directory, f"people-{share[0]}")
        with open(path, "wb") as fh:
            pickle.dump((part, list(sim.findings)), fh, pickle.HIGHEST_PROTOCOL)
        conn.send(("done", {"people": path, "runs": sim.runs, "counts": sim.counts,
                            "alerts": sim.alerts.handed_over(), "emails": sim.emails.handed_over(),
                            "rejected": sim.rejected.handed_over()}))
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


def simulate_partitioned(model: Model, people: str | os.PathLike[str] | None, events: str | os.PathLike[str] | None,
                         events_file: str, until: float | None, jobs: int) -> SimulationResult:
    """The run split across ``jobs`` processes (this one is worker 0): the same result, byte for
    byte, as :class:`Simulator` in one process."""
    directory = tempfile.mkdtemp(prefix="programkit-simulate-")
    context = multiprocessing.get_context("fork")
    workers: list[tuple[Any, Any]] = []
    try:
        for i in range(1, jobs):
            parent, child = context.Pipe()
            proc = context.Process(target=_worker, args=(model, (i, jobs), people, events, events_file, until,
                                                          directory, child), daemon=True)
            proc.start()
            child.close()
            workers.append((proc, parent))
        sim = _run_share(model, (0, jobs), people, events, events_file, until)
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
        people_parts = [people_part(sim)]
        counts = sim.counts
        runs = dict(sim.runs)
        findings: FindingSink = sim.findings
        spills: dict[str, list[_Spill]] = {"alerts": [sim.alerts], "emails": [sim.emails], "rejected": [sim.rejected]}
        for i, (proc, conn) in enumerate(workers):
            done = _receive(conn, "done", i + 1)
            with open(done["people"], "rb") as fh:
                part, worker_findings = pickle.load(fh)
            os.unlink(done["people"])
            people_parts.append(part)
            for f in worker_findings:
                findings.append(f)
            for name in ("simulated", "rejected"):
                counts[name] += done["counts"][name]
            for name, n in done["runs"].items():
                runs[name] = runs.get(name, 0) + n
            for name in spills:
                spills[name].append(_Spill.taken_over(*done[name]))
        for proc, _ in workers:
            proc.join()
        counts["invalid"] = findings.count("PK751", "PK752")
        states: dict[str, int] = {}
        funnel = [0] * len(people_parts[0][2])
        for _, part_states, part_funnel in people_parts:
            for state, n in part_states.items():
                states[state] = states.get(state, 0) + n
            for i, n in enumerate(part_funnel):
                funnel[i] += n
        merged = list(heapq.merge(*(part[0] for part in people_parts), key=lambda p: p["id"]))
        return assemble(sim, until, merged, states, funnel, runs, dict(counts), merged_stamped(spills["alerts"]),
                        merged_stamped(spills["emails"]), merged_stamped(spills["rejected"]), findings.records())
    finally:
        for proc, conn in workers:
            conn.close()
            if proc.is_alive():
                proc.terminate()
            proc.join()
        shutil.rmtree(directory, ignore_errors=True)
