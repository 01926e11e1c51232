"""Benchmark: programkit pack/unpack against Info-ZIP's zip/unzip, at two bundle sizes.

Generates bundles of many images (deterministic pseudo-random bytes, so
incompressible, like real PNG/JPEG) plus some compressible SVG text and the
sample's JSON assets, then times, each in its own child process:

  pack     programkit pack (validate + sha256 of every file + write + sha256 of the zip)
  zip      zip -q -r -X -n .png:.jpg:.gif  (same store/deflate choice as programkit)
  zip-all  zip -q -r -X                    (deflates the images too: zip's default)
  unpack   programkit unpack (checks + sha256 of every file against bundle.json)
  unzip    unzip -q

and reads each child's peak RSS through GNU time (/usr/bin/time -f %M). Prints times, ratios against
the baseline measured in the same run, and peak memory at each size.

    python bench/pack/run.py                 # 50 MB and 200 MB
    python bench/pack/run.py --sizes 20,80   # quicker
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "op-lead-management"
MB = 1 << 20


def generate(root: Path, total_mb: int, seed: int = 7) -> int:
    """A bundle of about total_mb MiB: 90 % random 'png'/'jpg' images of 20–400 KiB, 10 % SVG text."""
    rng = random.Random(seed)
    manifest = json.loads((SAMPLE / "bundle.json").read_text(encoding="utf-8"))
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("bundle.json"))
    size, i = 0, 0
    target = total_mb * MB
    while size < target:
        i += 1
        if i % 10 == 0:
            ext = ".svg"
            line = f'<path d="M{rng.randrange(999)} {rng.randrange(999)} L{rng.randrange(999)} 0"/>\n'.encode()
            data = b"<svg xmlns='http://www.w3.org/2000/svg'>\n" + line * rng.randrange(500, 5000) + b"</svg>\n"
        else:
            ext = rng.choice([".png", ".jpg"])
            data = rng.randbytes(rng.randrange(20 << 10, 400 << 10))
        path = f"images/{i // 100:03d}/img-{i:05d}{ext}"
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
        manifest["assets"].append({"kind": "image", "name": f"img-{i:05d}{ext}", "path": path,
                                   "sha256": hashlib.sha256(data).hexdigest()})
        size += len(data)
    (root / "bundle.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return i


def run(argv: list[str], cwd: Path | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one child process.

    Peak RSS comes from GNU time's wait4 on its own child: a child forked
    straight from this Python process would report this process's RSS as
    its peak (Linux records the pre-exec memory in ru_maxrss).
    """
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], cwd=cwd, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr}")
    return elapsed, int(proc.stderr.strip().splitlines()[-1]) // 1024  # GNU time prints KiB


def best(times: int, argv_fn, cwd: Path | None = None, before=None) -> tuple[float, int]:
    results = []
    for _ in range(times):
        if before:
            before()
        results.append(run(argv_fn(), cwd))
    return min(r[0] for r in results), max(r[1] for r in results)


def bench_size(total_mb: int, work: Path, repeat: int) -> dict[str, tuple[float, int]]:
    bundle = work / f"bundle-{total_mb}"
    n = generate(bundle, total_mb)
    on_disk = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file())
    print(f"\n== {on_disk / MB:.0f} MiB bundle, {n} images (+ sample assets) ==", flush=True)
    pk = [sys.executable, "-m", "programkit"]
    out_zip, zip_zip, all_zip = work / f"pk-{total_mb}.zip", work / f"zip-{total_mb}.zip", work / f"all-{total_mb}.zip"
    out_dir, unzip_dir = work / f"pk-out-{total_mb}", work / f"unzip-out-{total_mb}"

    def clean(*paths: Path):
        def _clean() -> None:
            for p in paths:
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
        return _clean

    r = {}
    r["pack"] = best(repeat, lambda: pk + ["pack", str(bundle), "-o", str(out_zip)], before=clean(out_zip))
    r["zip"] = best(repeat, lambda: ["zip", "-q", "-r", "-X", "-n", ".png:.jpg:.gif", str(zip_zip), "."],
                    cwd=bundle, before=clean(zip_zip))
    r["zip-all"] = best(1, lambda: ["zip", "-q", "-r", "-X", str(all_zip), "."], cwd=bundle, before=clean(all_zip))
    r["unpack"] = best(repeat, lambda: pk + ["unpack", str(out_zip), "-o", str(out_dir)], before=clean(out_dir))
    r["unzip"] = best(repeat, lambda: ["unzip", "-q", str(out_zip), "-d", str(unzip_dir)], before=clean(unzip_dir))
    sizes = {k: p.stat().st_size / MB for k, p in (("pack", out_zip), ("zip", zip_zip), ("zip-all", all_zip))}
    for name, (secs, rss) in r.items():
        extra = f"  archive {sizes[name]:.1f} MiB" if name in sizes else ""
        print(f"  {name:<8} {secs:6.2f} s   peak RSS {rss:4d} MiB{extra}", flush=True)
    print(f"  ratio pack/zip       {r['pack'][0] / r['zip'][0]:.2f}x   (pack/zip-all {r['pack'][0] / r['zip-all'][0]:.2f}x)")
    print(f"  ratio unpack/unzip   {r['unpack'][0] / r['unzip'][0]:.2f}x")
    shutil.rmtree(bundle)
    clean(out_zip, zip_zip, all_zip, out_dir, unzip_dir)()
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="50,200", help="bundle sizes in MiB, comma-separated [50,200]")
    ap.add_argument("--repeat", type=int, default=2, help="runs per timing; the best is kept [2]")
    args = ap.parse_args()
    for tool in ("zip", "unzip", "/usr/bin/time"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} not found: apt-get install -y zip unzip time")
    sizes = [int(s) for s in args.sizes.split(",")]
    startup = best(3, lambda: [sys.executable, "-m", "programkit", "--version"])
    print(f"programkit start-up (python -m programkit --version): {startup[0]:.2f} s, peak RSS {startup[1]} MiB "
          "— included in every pack/unpack time below")
    results = {}
    with tempfile.TemporaryDirectory(prefix="programkit-bench-pack-") as tmp:
        for s in sizes:
            results[s] = bench_size(s, Path(tmp), args.repeat)
    print("\nsummary (best of %d; peak RSS of the child process)" % args.repeat)
    print(f"  {'MiB':>5} {'pack s':>7} {'zip s':>7} {'ratio':>6} {'unpack s':>9} {'unzip s':>8} {'ratio':>6} "
          f"{'pack RSS':>9} {'unpack RSS':>11}")
    for s, r in results.items():
        print(f"  {s:>5} {r['pack'][0]:7.2f} {r['zip'][0]:7.2f} {r['pack'][0] / r['zip'][0]:5.2f}x "
              f"{r['unpack'][0]:9.2f} {r['unzip'][0]:8.2f} {r['unpack'][0] / r['unzip'][0]:5.2f}x "
              f"{r['pack'][1]:6d} MiB {r['unpack'][1]:8d} MiB")


if __name__ == "__main__":
    main()
