"""Import 1k and 10k assets into a workspace that already holds 100k, against a plain SQLite floor.

    python bench/import/run.py [--existing 100000] [--sizes 1000,10000] [--repeat 3] [--dir DIR]

For each size N it generates a bundle (the OP-Lead Management sample plus N
images of ~1 KiB), copies a workspace database already holding --existing
assets, and times:

- import: load + validate the bundle, plan, apply (one transaction) — what ``programkit import`` does;
- plan+apply: the same without loading and validating the bundle;
- apply: ``apply_plan`` alone (the write part of the import);
- floor: one ``executemany`` INSERT of the same N rows (kind, name, bytes,
  sha256, meta) into a plain table that also already holds --existing rows
  under a unique (kind, name) index, in one transaction, in a copy of the
  same database file.

The floor's time includes connecting to and closing its database (closing
checkpoints the WAL into the file), so the import is also timed from opening
the workspace to closing it ("with opening and closing").

Each is the best of --repeat runs on fresh copies. It prints each time, the ratio import/floor and apply/floor, and how the
time grows from the smallest to the largest size (goal: ≤ 3× the floor, and
10× the assets costing ≤ 11× the time).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from programkit.apply import apply_plan  # noqa: E402
from programkit.canonical import refresh_digests  # noqa: E402
from programkit.workspaces import open_target  # noqa: E402
from programkit.workspaces.sqlite import init_workspace  # noqa: E402
from programkit.load import load_bundle  # noqa: E402
from programkit.plan import make_plan  # noqa: E402
from programkit.rules import resolve  # noqa: E402
from programkit.validate import validate_loaded  # noqa: E402

SAMPLE = ROOT / "samples" / "op-lead-management"
WORKSPACE = "Default"


def image_bytes(prefix: str, i: int) -> bytes:
    return (f"{prefix}-{i}:".encode() + bytes(range(256)) * 4)[:1024]


def make_bundle(dest: Path, n: int) -> Path:
    shutil.copytree(SAMPLE, dest)
    manifest = json.loads((dest / "bundle.json").read_text())
    (dest / "images").mkdir()
    for i in range(n):
        data = image_bytes("bundle", i)
        (dest / "images" / f"img-{i:05d}.png").write_bytes(data)
        manifest["assets"].append({"kind": "image", "name": f"img-{i:05d}.png", "path": f"images/img-{i:05d}.png",
                                   "sha256": hashlib.sha256(data).hexdigest()})
    (dest / "bundle.json").write_text(json.dumps(manifest, indent=2))
    refresh_digests(dest)
    return dest


def make_workspace(db: Path, existing: int) -> None:
    ws = init_workspace(db, WORKSPACE, crm="salesforce")  # the sample syncs with a CRM
    try:
        with ws.transaction() as w:
            for i in range(existing):
                data = image_bytes("existing", i)
                w.put_asset("image", f"existing-{i:06d}.png", data, hashlib.sha256(data).hexdigest(),
                            meta={"path": f"images/existing-{i:06d}.png"})
    finally:
        ws.close()
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE floor_assets (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, "
                "content BLOB NOT NULL, sha256 TEXT NOT NULL, meta TEXT NOT NULL)")
    con.execute("CREATE UNIQUE INDEX floor_assets_name ON floor_assets (kind, name COLLATE NOCASE)")
    with con:
        con.executemany("INSERT INTO floor_assets (kind, name, content, sha256, meta) VALUES (?, ?, ?, ?, ?)",
                        (("image", f"existing-{i:06d}.png", image_bytes("existing", i),
                          hashlib.sha256(image_bytes("existing", i)).hexdigest(), "{}") for i in range(existing)))
    con.close()


def time_floor(db: Path, bundle: Path) -> float:
    manifest = json.loads((bundle / "bundle.json").read_text())
    start = time.perf_counter()
    rows = []
    for a in manifest["assets"]:
        data = (bundle / a["path"]).read_bytes()
        rows.append((a["kind"], a["name"], data, hashlib.sha256(data).hexdigest(), json.dumps({"path": a["path"]})))
    con = sqlite3.connect(db)
    with con:
        con.executemany("INSERT INTO floor_assets (kind, name, content, sha256, meta) VALUES (?, ?, ?, ?, ?)", rows)
    con.close()
    return time.perf_counter() - start


def time_import(db: Path, bundle: Path) -> tuple[float, float, float, int, float]:
    """(whole import, load + validate, apply) seconds, the number of writes, and the import's seconds
    counting opening and closing the workspace too (closing checkpoints the WAL into the file, as the
    floor's close does)."""
    opened = time.perf_counter()
    ws = open_target(str(db), WORKSPACE)
    try:
        start = time.perf_counter()
        loaded = load_bundle(bundle, keep_bytes=True)  # as plan_path does for an import
        findings = validate_loaded(loaded)
        loaded_at = time.perf_counter()
        rules = resolve(bundle=loaded.bundle.manifest.get("conflictRules"))
        plan = make_plan(loaded.bundle, ws, rules, findings=findings)
        assert plan.ok, [p.message for p in plan.problems]
        planned_at = time.perf_counter()
        apply_plan(plan, loaded.bundle, ws)
        end = time.perf_counter()
    finally:
        ws.close()
    closed = time.perf_counter()
    return end - start, loaded_at - start, end - planned_at, plan.writes, closed - opened


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--existing", type=int, default=100_000)
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs per size")
    ap.add_argument("--dir", type=Path, default=None, help="scratch directory (default: a temporary one)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    scratch = Path(args.dir or tempfile.mkdtemp(prefix="bench-import-"))
    scratch.mkdir(parents=True, exist_ok=True)
    base = scratch / "base.db"
    t0 = time.perf_counter()
    make_workspace(base, args.existing)
    print(f"workspace with {args.existing} assets built in {time.perf_counter() - t0:.1f} s")
    results = []
    for n in sizes:
        bundle = make_bundle(scratch / f"bundle-{n}", n)
        db_import, db_floor = scratch / f"import-{n}.db", scratch / f"floor-{n}.db"
        floors, imports = [], []
        for _ in range(args.repeat):  # best of N, each on a fresh copy: the machine is shared and noisy
            for db in (db_import, db_floor):
                for suffix in ("-wal", "-shm", "-journal"):
                    Path(str(db) + suffix).unlink(missing_ok=True)
                shutil.copy(base, db)
            floors.append(time_floor(db_floor, bundle))
            imports.append(time_import(db_import, bundle))
        floor = min(floors)
        total, load, apply_time, writes, _ = min(imports)
        whole = min(i[4] for i in imports)
        results.append((n, total, total - load, apply_time, whole, floor))
        print(f"N={n:>6}: import {total:6.3f} s = load+validate {load:6.3f} s + plan+apply {total - load:6.3f} s "
              f"(apply {apply_time:6.3f} s, {writes} writes); floor {floor:6.3f} s")
        print(f"          import/floor {total / floor:5.2f}x   plan+apply/floor {(total - load) / floor:5.2f}x   "
              f"apply/floor {apply_time / floor:5.2f}x")
        print(f"          with opening and closing the workspace (the floor connects and closes): "
              f"{whole:6.3f} s, {whole / floor:5.2f}x the floor")
    if len(results) > 1:
        (n0, *t0s), (n1, *t1s) = results[0], results[-1]
        growth = "   ".join(f"{label} {b / a:.2f}x" for label, a, b in
                             zip(("import", "plan+apply", "apply", "import+open/close", "floor"), t0s, t1s))
        print(f"{n1 // n0}x the assets costs: {growth} the time")
    if not args.dir:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
