"""Benchmark: people and events through the OP-Lead Management sample with `programkit simulate`.

Generates (deterministically, into a temporary directory) a people CSV and a
JSON-lines events file, then times, in the same run, round after round:

* the floor: ``orjson.loads`` of each line and reading its four fields, the least any
  event loop written in Python pays per event (and ``json.loads``, the standard library's);
* the simulation on the pure-Python core (``PROGRAMKIT_PURE_PYTHON=1``), one process;
* the simulation on the compiled core, one process (if it is built: ``pip install -e .``);
* the simulation with ``--jobs 2`` (compiled core if built), and ``--jobs 1`` of the same core
  right before it, for the speed-up.

Each simulation runs in a fresh subprocess (the core is chosen at import), as the library
call ``programkit simulate`` makes. Prints, per configuration, the median over the rounds of
events/s (wall and CPU) and the ratio to the orjson floor, the spread (min-max) to show how
noisy the machine was, and peak memory per person: tracemalloc in one process (a separate run:
it slows the run down), peak RSS of the busiest process with ``--jobs 2``.
Default: 100k people, 1M events, 3 rounds; ``--scale 0.1`` runs a tenth.

    python bench/simulate/run.py [--scale 1.0] [--rounds 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import shutil
import sys
import tempfile
import time
import tracemalloc

import orjson
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))



def generate(directory: Path, people: int, events: int) -> tuple[Path, Path]:
    """100k people: half in the CSV, half created by events; the rest are score changes,
    data value changes and CRM-side lifecycle events (sales acceptance, recycling)."""
    rnd = random.Random(7)
    people_csv = directory / "people.csv"
    existing = people // 2
    with open(people_csv, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("id,Email Address,Person Owner Email Address,Person Score\n")
        for i in range(existing):
            fh.write(f"p{i},p{i}@example.com,owner{i % 50}@example.com,{rnd.randrange(0, 60)}\n")
    start = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)
    events_path = directory / "events.jsonl"
    created = existing
    step = 3600 * 24 * 90 / events  # spread over a quarter
    with open(events_path, "w", encoding="utf-8", newline="\n") as fh:
        for n in range(events):
            at = (start + timedelta(seconds=int(n * step))).strftime("%Y-%m-%dT%H:%M:%SZ")
            roll = rnd.random()
            if created < people and (roll < 0.05 or events - n <= people - created):
                pid = f"p{created}"
                created += 1
                email = f"{pid}@example.com" if rnd.random() < 0.95 else ""
                data = {"Email Address": email, "Person Owner Email Address": f"owner{created % 50}@example.com"} if email else {}
                ev = {"at": at, "person": pid, "type": "created", "data": data}
            else:
                pid = f"p{rnd.randrange(created)}"
                if roll < 0.85:
                    ev = {"at": at, "person": pid, "type": "score", "data": {"change": f"+{rnd.randrange(1, 15)}"}}
                elif roll < 0.95:
                    ev = {"at": at, "person": pid, "type": "change", "data": {"Job Title": rnd.choice(["CTO", "CFO", "Engineer"])}}
                elif roll < 0.98:
                    ev = {"at": at, "person": pid, "type": "sales-accepted", "data": {}}
                else:
                    ev = {"at": at, "person": pid, "type": "recycle", "data": {"reason": "Bad timing"}}
            fh.write(json.dumps(ev) + "\n")
    return people_csv, events_path


def floor(events: Path, loads=json.loads) -> tuple[float, float]:
    """Wall and CPU seconds to read the events file and parse every line with ``loads``."""
    t, c = time.perf_counter(), time.process_time()
    with open(events, "rb") as fh:
        for line in fh:
            loads(line)
    return time.perf_counter() - t, time.process_time() - c


def fields_floor(events: Path) -> tuple[float, float]:
    """The least any simulator written in Python pays per event: orjson.loads of the line
    and reading its four fields, nothing else."""
    loads = orjson.loads
    t, c = time.perf_counter(), time.process_time()
    with open(events, "rb") as fh:
        for line in fh:
            ev = loads(line)
            ev["at"], ev["person"], ev["type"], ev.get("data")
    return time.perf_counter() - t, time.process_time() - c


def child(directory: Path, jobs: int, trace: bool) -> None:
    """One simulation in this process; prints what it measured as JSON (the parent reads it)."""
    from programkit.simulate import core_in_use, simulate

    sample = ROOT / "samples/op-lead-management"
    people, events = directory / "people.csv", directory / "events.jsonl"
    if trace:
        tracemalloc.start()
    t, c = time.perf_counter(), time.process_time()
    result = simulate(sample, people=people, events=events, jobs=jobs)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    from programkit.simulate import partitioned
    steps = partitioned.last_timings if jobs > 1 else []
    print(json.dumps({
        "core": core_in_use(), "wall": wall, "cpu": cpu + children.ru_utime + children.ru_stime, "peak": peak,
        "self_cpu": cpu, "children_cpu": children.ru_utime + children.ru_stime, "steps": steps,
        # ru_maxrss: KiB on Linux; the busiest of this process and its workers
        "rss": max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, children.ru_maxrss) * 1024,
        "people": len(result.people), "states": result.states, "alerts": len(result.alerts),
        "rejected": len(result.rejected), "campaigns": result.campaigns}))


def run_child(directory: Path, jobs: int, pure: bool, trace: bool = False) -> dict:
    env = {**os.environ, "PROGRAMKIT_PURE_PYTHON": "1" if pure else "0"}
    done = subprocess.run([sys.executable, __file__, "--child", str(directory), "--jobs", str(jobs)]
                          + (["--trace"] if trace else []), env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of 100k people / 1M events")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of every configuration (medians are shown)")
    ap.add_argument("--keep", type=Path, help="generate into this directory and keep it")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--jobs", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.jobs, args.trace)
        return
    n_people, n_events = int(100_000 * args.scale), int(1_000_000 * args.scale)
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-simulate-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        t = time.perf_counter()
        if not (work / "events.jsonl").exists() or not args.keep:
            generate(work, n_people, n_events)
        events = work / "events.jsonl"
        print(f"generated {n_people} people, {n_events} events in {time.perf_counter() - t:.1f}s "
              f"({events.stat().st_size / 1e6:.0f} MB); {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
        compiled = run_child(work, 1, pure=False)["core"].startswith("compiled")
        configs = [("pure Python, 1 process", 1, True)]
        if compiled:
            configs.append(("compiled, 1 process", 1, False))
        configs.append(("--jobs 2" + (" (compiled)" if compiled else " (pure Python)"), 2, not compiled))
        runs: dict[str, list[dict]] = {name: [] for name, _, _ in configs}
        floors: list[tuple[float, float]] = []
        json_floors: list[tuple[float, float]] = []
        for r in range(args.rounds):
            floors.append(fields_floor(events))
            json_floors.append(floor(events))
            for name, jobs, pure in configs:
                runs[name].append(run_child(work, jobs, pure))
            print(f"  round {r + 1}/{args.rounds} done (load {os.getloadavg()[0]:.1f})", flush=True)
        traced = {name: run_child(work, jobs, pure, trace=True) for name, jobs, pure in configs if jobs == 1}

        def med(values: list[float]) -> float:
            return statistics.median(values)

        floor_wall, floor_cpu = med([w for w, _ in floors]), med([c for _, c in floors])
        print(f"\nmedians of {args.rounds} rounds (min-max in brackets); ratio = simulate time / floor time (CPU)")
        print(f"{'':34} {'wall ev/s':>11} {'CPU ev/s':>11} {'ratio':>7}   spread of wall ev/s")
        print(f"{'floor: orjson.loads + 4 fields':34} {n_events / floor_wall:>11,.0f} {n_events / floor_cpu:>11,.0f} "
              f"{1:>6.2f}x   [{n_events / max(w for w, _ in floors):,.0f}-{n_events / min(w for w, _ in floors):,.0f}]")
        jw, jc = med([w for w, _ in json_floors]), med([c for _, c in json_floors])
        print(f"{'floor: json.loads (stdlib)':34} {n_events / jw:>11,.0f} {n_events / jc:>11,.0f} {jc / floor_cpu:>6.2f}x")
        for name, _, _ in configs:
            walls, cpus = [x["wall"] for x in runs[name]], [x["cpu"] for x in runs[name]]
            print(f"{name:34} {n_events / med(walls):>11,.0f} {n_events / med(cpus):>11,.0f} "
                  f"{med(cpus) / floor_cpu:>6.2f}x   [{n_events / max(walls):,.0f}-{n_events / min(walls):,.0f}]")
        one = "compiled, 1 process" if compiled else "pure Python, 1 process"
        two = configs[-1][0]
        speedups = [a["wall"] / b["wall"] for a, b in zip(runs[one], runs[two])]
        print(f"--jobs 2 speed-up over 1 process ({one.split(',')[0]}), wall, round by round: "
              + ", ".join(f"{s:.2f}x" for s in speedups) + f"; median {med(speedups):.2f}x")
        # What the load does not move: each process's CPU time. On free cores --jobs 2 takes what the
        # parent does alone (loading the bundle, forking, merging: its CPU less its share's steps)
        # plus, step by step (the workers wait for each other between steps), the slowest worker's.
        print("--jobs 2 per-process CPU (medians): T(1 process) / (parent alone + slowest worker per step)")
        free = []
        for x, y in zip(runs[one], runs[two]):
            steps = y["steps"]
            names = ("people", "read", "run", "result")
            own = sum(steps[0].get(k, 0.0) for k in names)
            slowest = {k: max(w.get(k, 0.0) for w in steps) for k in names}
            critical = y["self_cpu"] - own + sum(slowest.values())
            free.append((x["cpu"], y["self_cpu"], y["children_cpu"], critical, steps, slowest))
        for label, index in (("1 process, CPU", 0), ("--jobs 2 parent CPU", 1), ("--jobs 2 worker CPU", 2),
                             ("--jobs 2 critical path", 3)):
            print(f"  {label:32} {med([f[index] for f in free]):6.2f}s")
        last_steps = free[-1][4]
        for i, w in enumerate(last_steps):
            print(f"  process {i} steps (last round): " + ", ".join(f"{k} {v:.2f}s" for k, v in w.items()))
        ratios = [f[0] / f[3] for f in free]
        print("--jobs 2 speed-up on free cores (CPU, from the per-process times): "
              + ", ".join(f"{r:.2f}x" for r in ratios) + f"; median {med(ratios):.2f}x")
        print("peak memory per person:")
        for name, x in traced.items():
            print(f"  {name:32} {x['peak'] / x['people']:>6,.0f} B/person (tracemalloc, {x['peak'] / 1e6:.0f} MB)")
        for name, _, _ in configs:
            rss = med([x["rss"] for x in runs[name]])
            print(f"  {name:32} {rss / 1e6:>6,.0f} MB peak RSS of the busiest process "
                  f"({rss / runs[name][0]['people']:,.0f} B per person of the whole run, interpreter included)")
        last = runs[configs[-1][0]][-1]
        print(f"states: {last['states']}")
        print(f"alerts: {last['alerts']}, rejected: {last['rejected']}, campaigns: {last['campaigns']}")
        outputs = {json.dumps([x["states"], x["alerts"], x["rejected"], x["campaigns"]]) for r in runs.values() for x in r}
        assert len(outputs) == 1, "the configurations disagree"
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
