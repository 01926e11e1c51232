"""Benchmark: programkit push / pull through a local registry, against pack / unpack of the same bundle.

push is pack + upload (+ manifest); pull is download (digest checked) + unpack. The baseline is the local
pack / unpack of the same bundle, measured in the same run, so the ratio is the cost of the registry round
trip (HTTP on 127.0.0.1, the registry writing and reading its storage). Each step runs in its own child
process under GNU time for its peak RSS: push and pull stream the archive, so memory stays flat in bundle
size.

Needs Debian's docker-registry (the CNCF distribution registry) and GNU time.

    python bench/registry/run.py                 # 50 MiB and 200 MiB bundles, best of 2
    python bench/registry/run.py --sizes 20      # quicker
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "pack"))
sys.path.insert(0, str(ROOT / "tests"))

from run import MB, best, generate  # noqa: E402  (bench/pack/run.py: bundle generator, timed child runs)
from registry_support import LocalRegistry  # noqa: E402  (the registry the tests start)


def bench_size(total_mb: int, work: Path, registry: LocalRegistry, repeat: int) -> dict[str, tuple[float, int]]:
    bundle = work / f"bundle-{total_mb}"
    n = generate(bundle, total_mb)
    print(f"\n== {total_mb} MiB bundle, {n} images ==", flush=True)
    pk = [sys.executable, "-m", "programkit"]
    archive, unpacked, pulled = work / f"b-{total_mb}.zip", work / f"u-{total_mb}", work / f"p-{total_mb}"
    counter = iter(range(1000))

    def clean(*paths: Path):
        def _clean() -> None:
            for p in paths:
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
        return _clean

    r = {}
    r["pack"] = best(repeat, lambda: pk + ["pack", str(bundle), "-o", str(archive)], before=clean(archive))
    # a new repository each time, so every push uploads the whole archive
    r["push"] = best(repeat, lambda: pk + ["push", str(bundle), registry.ref(f"bench/s{total_mb}-{next(counter)}"),
                                           "--plain-http"])
    r["unpack"] = best(repeat, lambda: pk + ["unpack", str(archive), "-o", str(unpacked)], before=clean(unpacked))
    r["pull"] = best(repeat, lambda: pk + ["pull", registry.ref(f"bench/s{total_mb}-0:1.0.0"), "-o", str(pulled),
                                           "--plain-http"], before=clean(pulled))
    for name, (secs, rss) in r.items():
        print(f"  {name:<7} {secs:6.2f} s   peak RSS {rss:4d} MiB", flush=True)
    print(f"  ratio push/pack     {r['push'][0] / r['pack'][0]:.2f}x")
    print(f"  ratio pull/unpack   {r['pull'][0] / r['unpack'][0]:.2f}x")
    clean(bundle, archive, unpacked, pulled)()
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="50,200", help="bundle sizes in MiB, comma-separated [50,200]")
    ap.add_argument("--repeat", type=int, default=2, help="runs per timing; the best is kept [2]")
    args = ap.parse_args()
    if not shutil.which("/usr/bin/time"):
        raise SystemExit("GNU time not found: apt-get install -y time")
    results = {}
    with tempfile.TemporaryDirectory(prefix="programkit-bench-registry-") as tmp:
        registry = LocalRegistry(Path(tmp) / "registry").start()
        try:
            for s in (int(x) for x in args.sizes.split(",")):
                results[s] = bench_size(s, Path(tmp), registry, args.repeat)
        finally:
            registry.stop()
    print(f"\nsummary (best of {args.repeat}; peak RSS of the child process)")
    print(f"  {'MiB':>5} {'pack s':>7} {'push s':>7} {'ratio':>6} {'unpack s':>9} {'pull s':>7} {'ratio':>6} "
          f"{'push RSS':>9} {'pull RSS':>9}")
    for s, r in results.items():
        print(f"  {s:>5} {r['pack'][0]:7.2f} {r['push'][0]:7.2f} {r['push'][0] / r['pack'][0]:5.2f}x "
              f"{r['unpack'][0]:9.2f} {r['pull'][0]:7.2f} {r['pull'][0] / r['unpack'][0]:5.2f}x "
              f"{r['push'][1]:6d} MiB {r['pull'][1]:6d} MiB")


if __name__ == "__main__":
    main()
