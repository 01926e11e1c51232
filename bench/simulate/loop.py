"""The event loop alone, old code against new: ``Simulator.feed`` (or, in a checkout from before it,
``run(read_events(...))``) over a directory kept by ``run.py --keep DIR``, best of 5, with the
orjson + 4 fields floor measured in the same process.

    python bench/simulate/loop.py DIR [CHECKOUT]     # CHECKOUT: a programkit source tree (default: this one)
"""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path

import orjson

ROOT = Path(sys.argv[2]).resolve() if len(sys.argv) > 2 else Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from programkit import simulate as S  # noqa: E402
from programkit.load import load_bundle  # noqa: E402

d = Path(sys.argv[1])
events, people = d / "events.jsonl", d / "people.csv"
gc.disable()  # as simulate() runs it
model = S.compile_bundle(load_bundle(ROOT / "samples/op-lead-management").bundle)
best = floor = float("inf")
for _ in range(5):
    sim = S.Simulator(model, str(events))
    for pid, fields in S.read_people(people, model.names, sim.findings, model.lifecycle):
        sim.add_person(pid, fields)
    t = time.process_time()
    if hasattr(sim, "feed"):
        sim.feed(events, None)
    else:
        sim.run(S.read_events(events, sim.findings), None)
    best = min(best, time.process_time() - t)
    t = time.process_time()
    with open(events, "rb") as fh:
        for line in fh:
            ev = orjson.loads(line)
            ev["at"], ev["person"], ev["type"], ev.get("data")
    floor = min(floor, time.process_time() - t)
n = sum(1 for _ in open(events, "rb"))
print(f"{ROOT}: event loop {best:.3f}s {n / best:,.0f} ev/s; orjson + 4 fields floor {floor:.3f}s; ratio {best / floor:.2f}x")
