"""Run one simulation over a directory kept by ``run.py --keep DIR`` (for valgrind / profilers).

    python bench/simulate/once.py DIR [--no-events]

With ``--no-events`` only the bundle and the people are read: subtract that run from a full
one to count what the events cost, e.g. in instructions under
``valgrind --tool=cachegrind --cache-sim=no``, a measure the shared machine's load does not move.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from programkit.simulate import simulate  # noqa: E402

d = Path(sys.argv[1])
simulate(ROOT / "samples/op-lead-management", people=d / "people.csv",
         events=None if "--no-events" in sys.argv[2:] else d / "events.jsonl")
