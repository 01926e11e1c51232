"""Run one simulation over a directory kept by ``run.py --keep DIR`` (for valgrind / profilers).

    python bench/simulate/once.py DIR [--no-events] [--jobs N]

With ``--no-events`` only the bundle and the people are read: subtract that run from a full
one to count what the events cost, e.g. in instructions under
``valgrind --tool=cachegrind --cache-sim=no``, a measure the shared machine's load does not move.
With ``--jobs N`` the run is split across N processes; valgrind follows the forked workers and
counts each process on its own.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from programkit.simulate import simulate  # noqa: E402

d = Path(sys.argv[1])
jobs = int(sys.argv[sys.argv.index("--jobs") + 1]) if "--jobs" in sys.argv else 1
simulate(ROOT / "samples/op-lead-management", people=d / "people.csv",
         events=None if "--no-events" in sys.argv[2:] else d / "events.jsonl", jobs=jobs)
