"""Instructions per event, a measure the shared machine's load does not move: ``once.py`` under
``valgrind --tool=cachegrind --cache-sim=no``, with and without the events (the difference is
what the events cost), for each core that is installed.

    python bench/simulate/run.py --scale 0.03 --keep DIR     # once, to generate DIR
    python bench/simulate/instructions.py DIR [--core pure|compiled|both] [--jobs N] [--checkout TREE]

With ``--jobs N`` (N > 1) valgrind follows the forked workers and counts each process on its own:
a forked worker's count starts from its parent's at the fork, so the run without events is
subtracted from each process; the speed-up on free cores is bounded by one process's count over
the busiest process's. ``--checkout TREE`` runs another
source tree's code (e.g. ``git archive main | tar -x -C TREE``: the pure-Python core) for a
before/after in the same conditions.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def instructions(directory: Path, pure: bool, events: bool, jobs: int = 1, once: Path = HERE / "once.py") -> list[int]:
    """Instructions (valgrind's "I refs") of one run of once.py: the first process's, then each
    forked worker's."""
    env = {**os.environ, "PROGRAMKIT_PURE_PYTHON": "1" if pure else "0"}
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={tmp}/out.%p",
                               sys.executable, str(once), str(directory), "--jobs", str(jobs)]
                              + ([] if events else ["--no-events"]), env=env, capture_output=True, text=True, check=True)
    first = re.search(r"==(\d+)==", done.stderr)
    assert first, done.stderr[-2000:]
    counts = {pid: int(n.replace(",", "")) for pid, n in re.findall(r"==(\d+)== I\s+refs:\s+([\d,]+)", done.stderr)}
    parent = counts.pop(first.group(1))
    return [parent] + [counts[pid] for pid in sorted(counts, key=int)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--core", choices=("pure", "compiled", "both"), default="both")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--checkout", type=Path, help="a source tree whose bench/simulate/once.py (and code) to run")
    args = ap.parse_args()
    once = (args.checkout / "bench/simulate/once.py") if args.checkout else HERE / "once.py"
    n = sum(1 for line in open(args.dir / "events.jsonl", "rb") if line.strip())
    cores = {"pure": [True], "compiled": [False], "both": [True, False]}[args.core]
    for pure in cores:
        name = "pure Python" if pure else "compiled"
        base = instructions(args.dir, pure, False, once=once)[0]
        one = instructions(args.dir, pure, True, once=once)[0] - base
        print(f"{name:12} 1 process: {one / n:>8,.0f} instructions per event ({n:,} events; the run without "
              f"events, {base:,}, subtracted)", flush=True)
        if args.jobs > 1:
            # a forked worker's count starts from its parent's at the fork (loading the bundle …): the
            # run without events is subtracted from every process (it also holds reading the people
            # CSV, which every worker does, so the workers' figures are a little low)
            procs = [c - base for c in instructions(args.dir, pure, True, args.jobs, once)]
            print(f"{name:12} --jobs {args.jobs}: per event, the first process {procs[0] / n:,.0f}, the workers "
                  + ", ".join(f"{c / n:,.0f}" for c in procs[1:]) + f"; all together {sum(procs) / n:,.0f} "
                  f"({sum(procs) / one:.2f}x one process); on free cores at best {one / max(procs):.2f}x one process",
                  flush=True)


if __name__ == "__main__":
    main()
