"""Instructions per event, a measure the shared machine's load does not move: ``once.py`` under
``valgrind --tool=cachegrind --cache-sim=no``, with and without the events (the difference is
what the events cost), for each core that is installed.

    python bench/simulate/run.py --scale 0.03 --keep DIR     # once, to generate DIR
    python bench/simulate/instructions.py DIR [--core pure|compiled|both]
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


def instructions(directory: Path, pure: bool, events: bool) -> int:
    """Instructions (valgrind's "I refs") of one run of once.py."""
    env = {**os.environ, "PROGRAMKIT_PURE_PYTHON": "1" if pure else "0"}
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={tmp}/out",
                               sys.executable, str(HERE / "once.py"), str(directory)] + ([] if events else ["--no-events"]),
                              env=env, capture_output=True, text=True, check=True)
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    assert found, done.stderr[-2000:]
    return int(found.group(1).replace(",", ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--core", choices=("pure", "compiled", "both"), default="both")
    args = ap.parse_args()
    n = sum(1 for line in open(args.dir / "events.jsonl", "rb") if line.strip())
    cores = {"pure": [True], "compiled": [False], "both": [True, False]}[args.core]
    for pure in cores:
        full, base = instructions(args.dir, pure, True), instructions(args.dir, pure, False)
        print(f"{'pure Python' if pure else 'compiled':12} {full:>15,} instructions with {n:,} events, {base:>15,} "
              f"without: {(full - base) / n:>8,.0f} per event", flush=True)


if __name__ == "__main__":
    main()
