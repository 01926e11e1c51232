"""Where --jobs 2's time goes: CPU time of the whole run in one process against one worker's share
of two (each worker parses every line and simulates half the people), in this process, best of
``--repeat``; the difference splits the run into per-line parsing and per-person simulation.

    python bench/simulate/shares.py DIR [--repeat 3]     # DIR from run.py --keep DIR

The speed-up two processes can reach on two free cores is one / max(share 0, share 1).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from programkit.load import load_bundle  # noqa: E402
from programkit.simulate import core_in_use  # noqa: E402
from programkit.simulate.partitioned import _run_share  # noqa: E402
from programkit.simulate.result import people_part  # noqa: E402
from programkit.simulate.rules import compile_bundle  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("dir", type=Path)
ap.add_argument("--repeat", type=int, default=3)
args = ap.parse_args()
gc.disable()  # as simulate() runs
people, events = args.dir / "people.csv", args.dir / "events.jsonl"
best: dict[tuple[int, int], float] = {}
for _ in range(args.repeat):
    for share in ((0, 1), (0, 2), (1, 2)):
        model = compile_bundle(load_bundle(ROOT / "samples/op-lead-management").bundle)
        t = time.process_time()
        sim = _run_share(model, share, people, events, str(events), None)
        people_part(sim)
        best[share] = min(best.get(share, float("inf")), time.process_time() - t)
        del sim
one, halves = best[(0, 1)], max(best[(0, 2)], best[(1, 2)])
parse = 2 * halves - one  # share = parse + simulate/2, whole = parse + simulate
print(f"core: {core_in_use()}; CPU seconds, best of {args.repeat}")
print(f"one process: {one:.2f}s; worker 0 of 2: {best[(0, 2)]:.2f}s; worker 1 of 2: {best[(1, 2)]:.2f}s")
print(f"=> reading and checking every line {parse:.2f}s ({parse / one:.0%}), simulating the people "
      f"{one - parse:.2f}s; two processes at best {one / halves:.2f}x one")
