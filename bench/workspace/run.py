"""Bulk writes and look-ups of the SQLite workspace against plain SQLite in the same run.

    python bench/workspace/run.py [--existing 100000] [--lookup 10000] [--copies 50]

Builds a workspace holding --existing images (~1 KiB each) with ``put_assets``
in one transaction, then times, each against a floor measured in the same run
on a plain table with the same rows and a unique (kind, name) index:

- build: ``put_assets`` (digest check + one executemany) vs one bare executemany;
- lookup: ``design_assets("image", N names)`` (half of them present, mixed case)
  vs the same chunked ``IN`` queries on the plain table;
- copies: ``design_names("image", base)`` with --copies "base - N" names among
  the rows vs one range query on the plain table;
- export-style reads: ``read`` of the N found assets vs a bare SELECT each.

Prints each time and the ratio (goal: within 2x of the floor, look-ups never a
scan: time independent of --existing).
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from programkit.workspaces.sqlite import init_workspace  # noqa: E402


def image(i: int) -> bytes:
    return (f"img-{i}:".encode() + bytes(range(256)) * 4)[:1024]


def best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--existing", type=int, default=100_000)
    ap.add_argument("--lookup", type=int, default=10_000)
    ap.add_argument("--copies", type=int, default=50)
    args = ap.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-ws-"))
    names = [f"existing-{i:06d}.png" for i in range(args.existing - args.copies)]
    names += ["logo.png"] + [f"logo - {i}.png" for i in range(1, args.copies)]
    blobs = [image(i) for i in range(len(names))]
    shas = [hashlib.sha256(b).hexdigest() for b in blobs]

    ws = init_workspace(scratch / "ws.db")
    rows = [("image", n, b, s, None, {"path": f"images/{n}"}) for n, b, s in zip(names, blobs, shas)]
    start = time.perf_counter()
    with ws.transaction() as w:
        w.put_assets(rows)
    build = time.perf_counter() - start

    floor_db = sqlite3.connect(scratch / "floor.db", isolation_level=None)
    floor_db.execute("PRAGMA journal_mode = WAL")
    floor_db.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, kind TEXT, name TEXT, name_key TEXT, sha256 TEXT, "
                     "content BLOB, meta TEXT)")
    floor_db.execute("CREATE UNIQUE INDEX a_name ON a (kind, name_key)")
    start = time.perf_counter()
    floor_db.execute("BEGIN")
    floor_db.executemany("INSERT INTO a (kind, name, name_key, sha256, content, meta) VALUES (?, ?, ?, ?, ?, ?)",
                         (("image", n, n.casefold(), s, b, "{}") for n, b, s in zip(names, blobs, shas)))
    floor_db.execute("COMMIT")
    build_floor = time.perf_counter() - start

    wanted = [(n.upper() if i % 2 else n) for i, n in enumerate(names[: args.lookup // 2])]
    wanted += [f"missing-{i}.png" for i in range(args.lookup - len(wanted))]
    found: dict = {}

    def lookup() -> None:
        found.clear()
        found.update(ws.design_assets("image", wanted))

    def lookup_floor() -> None:
        keys = sorted({n.casefold() for n in wanted})
        out = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            for r in floor_db.execute(f"SELECT id, kind, name, sha256, meta, name_key FROM a WHERE kind = 'image' "
                                      f"AND name_key IN ({','.join('?' * len(chunk))})", chunk):
                out[r[5]] = r
    t_lookup, t_lookup_floor = best(lookup), best(lookup_floor)
    assert len(found) == len(names[: args.lookup // 2])

    copies: set = set()

    def names_() -> None:
        copies.clear()
        copies.update(ws.design_names("image", "Logo.png"))

    def names_floor() -> None:
        floor_db.execute("SELECT name FROM a WHERE kind = 'image' AND name_key >= 'logo - ' AND name_key < ?",
                         ("logo - \U0010ffff",)).fetchall()
    t_names, t_names_floor = best(names_), best(names_floor)
    assert len(copies) == args.copies, len(copies)

    ids = [a.id for a in found.values()]

    def reads() -> None:
        for i in ids:
            ws.read(i)

    def reads_floor() -> None:
        for i in ids:
            floor_db.execute("SELECT content FROM a WHERE id = ?", (i,)).fetchone()
    t_reads, t_reads_floor = best(reads), best(reads_floor)

    print(f"workspace of {len(names)} images; look-up of {len(wanted)} names ({len(found)} present)")
    for label, t, f in (("build (put_assets)", build, build_floor), ("design_assets", t_lookup, t_lookup_floor),
                        (f"design_names ({args.copies} copies)", t_names, t_names_floor),
                        (f"read x{len(ids)}", t_reads, t_reads_floor)):
        print(f"  {label:<28} {t * 1000:9.1f} ms   floor {f * 1000:9.1f} ms   ratio {t / f:5.2f}x")
    ws.close()
    floor_db.close()


if __name__ == "__main__":
    main()
