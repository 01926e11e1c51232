"""Benchmark: people and events through the OP-Lead Management sample with `programkit simulate`.

Generates (deterministically, into a temporary directory) a people CSV and a
JSON-lines events file, then times, in the same run:

* the floor: reading the events file line by line and ``json.loads`` of each line;
* a lower floor: ``orjson.loads`` of each line and reading its four fields, the least
  any event loop written in Python pays per event;
* the simulation (library call, as ``programkit simulate`` makes it), on one core.

Prints events/s for both, the ratio simulation/floor, and peak memory (tracemalloc)
of the simulation. Default: 100k people, 1M events; ``--scale 0.1`` runs a tenth.

    python bench/simulate/run.py [--scale 1.0] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
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

from programkit.simulate import simulate  # noqa: E402


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of 100k people / 1M events")
    ap.add_argument("--keep", type=Path, help="generate into this directory and keep it")
    args = ap.parse_args()
    n_people, n_events = int(100_000 * args.scale), int(1_000_000 * args.scale)
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-simulate-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        sample = ROOT / "samples/op-lead-management"
        t = time.perf_counter()
        people, events = generate(work, n_people, n_events)
        print(f"generated {n_people} people, {n_events} events in {time.perf_counter() - t:.1f}s "
              f"({events.stat().st_size / 1e6:.0f} MB)")
        floor_s, floor_cpu = floor(events)
        orj_s, orj_cpu = fields_floor(events)
        t, c = time.perf_counter(), time.process_time()
        result = simulate(sample, people=people, events=events)
        sim_s, sim_cpu = time.perf_counter() - t, time.process_time() - c
        tracemalloc.start()
        simulate(sample, people=people, events=events)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print("                                      wall                    CPU (process time)")
        print(f"floor  (read + json.loads per line): {floor_s:6.2f}s {n_events / floor_s:>10,.0f} ev/s   "
              f"{floor_cpu:6.2f}s {n_events / floor_cpu:>10,.0f} ev/s")
        print(f"floor  (orjson.loads + 4 fields):    {orj_s:6.2f}s {n_events / orj_s:>10,.0f} ev/s   "
              f"{orj_cpu:6.2f}s {n_events / orj_cpu:>10,.0f} ev/s")
        print(f"simulate (campaigns + lifecycle):    {sim_s:6.2f}s {n_events / sim_s:>10,.0f} ev/s   "
              f"{sim_cpu:6.2f}s {n_events / sim_cpu:>10,.0f} ev/s")
        print(f"ratio simulate/floor (CPU): {sim_cpu / floor_cpu:.2f}x the time of json.loads of the events, "
              f"{sim_cpu / orj_cpu:.2f}x orjson.loads + 4 fields")
        print(f"peak memory (tracemalloc, simulation): {peak / 1e6:.0f} MB for {len(result.people)} people "
              f"({peak / max(1, len(result.people)):.0f} B/person)")
        print(f"states: {result.states}")
        print(f"alerts: {len(result.alerts)}, rejected: {len(result.rejected)}, campaigns: {result.campaigns}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
