"""A content dump of a SQLite workspace file, for "nothing changed" and "wholly before or after" checks."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")


def _norm(value: Any, times: bool) -> Any:
    if times and isinstance(value, str):
        return _TIME.sub("<time>", value)
    return value


def dump(db: Path, *, skip: tuple[str, ...] = (), normalise_times: bool = False) -> dict[str, list[tuple]]:
    """Every table's rows, sorted; tables whose name contains one of ``skip`` are left out.

    With ``normalise_times`` timestamps become ``<time>``, so two runs of the same import compare equal.
    """
    con = sqlite3.connect(db)  # read-write: a hot journal left by a killed writer is rolled back on open
    try:
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        out = {}
        for t in tables:
            if any(s in t for s in skip):
                continue
            rows = [tuple(_norm(v, normalise_times) for v in row) for row in con.execute(f'SELECT * FROM "{t}"')]
            out[t] = sorted(rows, key=repr)
        return out
    finally:
        con.close()
