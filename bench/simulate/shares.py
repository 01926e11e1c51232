"""Where --jobs 2's time goes: each worker's steps (people CSV, reading its byte range, running its
events, its part of the result) run one after the other in this process, against the whole run in
one process; CPU time, best of ``--repeat``. No second process competes for the cores, so the
figures are what each worker costs, and the speed-up two free cores give is

    one process / (the slowest worker's people + read, + the slowest run, + the slowest result)

(the workers wait for each other between those steps; what the parent does alone, loading the
bundle and merging, is left out of both sides here: ``run.py`` measures it).

    python bench/simulate/shares.py DIR [--jobs 2] [--repeat 3]     # DIR from run.py --keep DIR
"""

from __future__ import annotations

import argparse
import gc
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from programkit.load import load_bundle  # noqa: E402
from programkit.simulate import Simulator, core_in_use, read_people  # noqa: E402
from programkit.simulate.event_ranges import byte_ranges  # noqa: E402
from programkit.simulate.partitioned import _read_share, _run_share, plan_of  # noqa: E402
from programkit.simulate.result import people_part  # noqa: E402
from programkit.simulate.rules import compile_bundle  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("dir", type=Path)
ap.add_argument("--jobs", type=int, default=2)
ap.add_argument("--repeat", type=int, default=3)
args = ap.parse_args()
gc.disable()  # as simulate() runs
people, events = args.dir / "people.csv", args.dir / "events.jsonl"
bundle = load_bundle(ROOT / "samples/op-lead-management").bundle
one_best = float("inf")
best: list[dict[str, float]] = [{} for _ in range(args.jobs)]
for _ in range(args.repeat):
    model = compile_bundle(bundle)
    t = time.process_time()
    sim = Simulator(model, str(events))
    for pid, fields in read_people(people, model.names, sim.findings, model.lifecycle):
        sim.add_person(pid, fields)
    sim.finish(None, sim.feed(events, None))
    people_part(sim)
    one_best = min(one_best, time.process_time() - t)
    del sim
    directory = tempfile.mkdtemp(prefix="bench-shares-")
    try:
        bounds = byte_ranges(events, args.jobs)
        models = [compile_bundle(bundle) for _ in range(args.jobs)]
        parts = [_read_share(models[i], (i, args.jobs), people, events, str(events), None, bounds, directory, False)
                 for i in range(args.jobs)]
        plan = plan_of([p.summary for p in parts])
        for part in parts:
            _run_share(part, plan, events, bounds, None, directory)
            t = time.process_time()
            people_part(part.sim)
            part.cpu["result"] = time.process_time() - t
        for i, part in enumerate(parts):
            for k, v in part.cpu.items():
                best[i][k] = min(best[i].get(k, float("inf")), v)
        del parts
    finally:
        shutil.rmtree(directory, ignore_errors=True)
steps = ("people", "read", "run", "result")
slowest = {k: max(w[k] for w in best) for k in steps}
critical = max(w["people"] + w["read"] for w in best) + slowest["run"] + slowest["result"]
print(f"core: {core_in_use()}; CPU seconds, best of {args.repeat}")
print(f"one process: {one_best:.2f}s (people, events, result)")
for i, w in enumerate(best):
    print(f"worker {i} of {args.jobs}: " + ", ".join(f"{k} {w[k]:.2f}s" for k in steps) + f"; total {sum(w[k] for k in steps):.2f}s")
total = sum(w[k] for w in best for k in steps)
print(f"=> all workers together {total:.2f}s ({total / one_best:.2f}x one process: what splitting costs); "
      f"on {args.jobs} free cores at best {one_best / critical:.2f}x one process")
