"""Per-event records (alerts, emails, rejected events, findings) spilled to anonymous temporary
files while a run goes and read back as :class:`Records` when the report is written: memory
grows with people, not with events."""

from __future__ import annotations

import heapq
import itertools
import operator
import os
import pickle
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator

from ..findings import Finding, Severity, sort_key

def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_MIN_SEC_TEXT = [f"{m:02d}:{s:02d}Z" for m in range(60) for s in range(60)]


class _Stamper:
    """Formats the raw timestamps records keep while the run goes, once, in place, as :func:`iso`
    would: whole seconds by hour ("YYYY-MM-DDTHH:" from :func:`iso` once an hour) plus "MM:SSZ"."""

    def __init__(self) -> None:
        self.hours: dict[int, str] = {}

    def text(self, ts: float) -> str:
        i = int(ts)
        if i != ts or not 0 <= i < 253402300800:  # a fraction of a second, or not in years 1970-9999
            return iso(ts)
        hour, rest = divmod(i, 3600)
        prefix = self.hours.get(hour)
        if prefix is None:
            prefix = self.hours[hour] = iso(hour * 3600.0)[:14]
        return prefix + _MIN_SEC_TEXT[rest]

    def __call__(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        text = self.text
        for r in records:
            ts = r["at"]
            if type(ts) is not str:
                r["at"] = text(ts)
        return records


# --- per-event records, spilled to disk --------------------------------------------------

_CHUNK = 4096  # records per pickled chunk: what a spill holds in memory at a time
_RUN = 32768  # findings sorted in memory before they are written out as one sorted run
_MAX_RUNS = 32  # more runs than this are merged into one
_FINDING_CHUNK = 1024  # findings per chunk of a run: what reading holds per run


class _Spill:
    """Records appended while the run goes, kept in memory up to :data:`_CHUNK` and then
    written, a pickled chunk at a time, to an anonymous temporary file (gone when closed)."""

    __slots__ = ("buffer", "chunks", "fh", "n", "size", "path")

    def __init__(self, size: int | None = None, path: str | None = None) -> None:
        self.buffer: list[Any] = []
        self.chunks: list[tuple[int, int]] = []  # (offset, length) of each written chunk
        self.fh: Any = None
        self.n = 0
        self.size = size or _CHUNK
        self.path = path  # a named file instead (a worker's, read back by the parent process)

    def append(self, record: Any) -> None:
        buffer = self.buffer
        buffer.append(record)
        if len(buffer) >= self.size:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        if self.fh is None:
            self.fh = (open(self.path, "w+b") if self.path is not None
                       else tempfile.TemporaryFile(prefix="programkit-simulate-"))
        data = pickle.dumps(self.buffer, pickle.HIGHEST_PROTOCOL)
        fh = self.fh
        fh.seek(0, os.SEEK_END)
        self.chunks.append((fh.tell(), len(data)))
        fh.write(data)
        self.n += len(self.buffer)
        self.buffer = []

    def __len__(self) -> int:
        return self.n + len(self.buffer)

    def handed_over(self) -> tuple[str | None, list[tuple[int, int]], int]:
        """Everything written out and closed, for another process: (path, chunks, count)."""
        self.flush()
        if self.fh is not None:
            self.fh.close()
        return self.path if self.fh is not None else None, self.chunks, self.n

    @classmethod
    def taken_over(cls, path: str | None, chunks: list[tuple[int, int]], n: int) -> _Spill:
        """A spill another process handed over: open, and its name gone (the data stays while open)."""
        spill = cls()
        if path is not None:
            spill.fh = open(path, "rb")
            os.unlink(path)
        spill.chunks, spill.n = chunks, n
        return spill

    def read(self, chunk: int) -> list[Any]:
        offset, length = self.chunks[chunk]
        fh = self.fh
        fh.seek(offset)  # seek and read together: iterators over one spill never interleave inside a read
        return pickle.loads(fh.read(length))

    def __iter__(self) -> Iterator[Any]:
        for i in range(len(self.chunks)):
            yield from self.read(i)
        yield from list(self.buffer)


class Records(Sequence):
    """A read-only list of records a simulation kept on disk: ``len``, iteration, indexing,
    slicing and ``==`` with a list work as on the list it stands for; each read replays the
    spill (times formatted as they come), so memory holds one chunk, not every record."""

    def __init__(self, source: Callable[[], Iterator[Any]], n: int, convert: Callable[[Any], Any] | None = None,
                 errors: int | None = None) -> None:
        self._source = source
        self._n = n
        self._convert = convert
        self.errors = errors  # findings: how many are errors, known without a replay

    def __len__(self) -> int:
        return self._n

    def __iter__(self) -> Iterator[Any]:
        convert = self._convert
        if convert is None:
            return self._source()
        return map(convert, self._source())

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._n)
            if step < 0:
                return list(self)[index]
            return list(itertools.islice(self, start, stop, step))
        i = operator.index(index)
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError("record index out of range")
        return next(itertools.islice(self, i, None))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, tuple, Records)):
            return len(other) == self._n and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  (like a list)

    def __repr__(self) -> str:
        return f"Records({self._n} records)"


def _stamped(spill: _Spill) -> Records:
    """Records whose raw timestamps ("at") read back as :func:`iso` text."""
    stamp = _Stamper().text

    def convert(r: dict[str, Any]) -> dict[str, Any]:
        ts = r["at"]
        if type(ts) is not str:
            r["at"] = stamp(ts)
        return r

    return Records(spill.__iter__, len(spill), convert)


def merged_stamped(spills: list[_Spill]) -> Records:
    """Workers' keyed records, ``(key, record)``, merged in key order (each spill is in key order:
    the one-process order), keys dropped, raw timestamps read back as :func:`iso` text."""
    stamp = _Stamper().text
    key, record = operator.itemgetter(0), operator.itemgetter(1)

    def source() -> Iterator[Any]:
        return map(record, heapq.merge(*(iter(s) for s in spills), key=key))

    def convert(r: dict[str, Any]) -> dict[str, Any]:
        ts = r["at"]
        if type(ts) is not str:
            r["at"] = stamp(ts)
        return r

    return Records(source, sum(len(s) for s in spills), convert)


class FindingSink:
    """Findings as a run reports them, kept sorted by :func:`~programkit.findings.sort_key` on
    disk: in memory up to :data:`_RUN`, then sorted and written out as a run; reading merges the
    runs. Counts per code are kept as they arrive (``invalid`` and ``failed`` need no replay)."""

    def __init__(self, findings: Iterable[Finding] = ()) -> None:
        self.buffer: list[Finding] = []
        self.runs: list[tuple[_Spill, int, int]] = []  # (spill, first chunk, end chunk)
        self.spill: _Spill | None = None
        self.by_code: dict[str, int] = {}
        self.errors = 0
        self.n = 0
        for f in findings:
            self.append(f)

    def append(self, f: Finding) -> None:
        self.buffer.append(f)
        self.by_code[f.code] = self.by_code.get(f.code, 0) + 1
        if f.severity is Severity.ERROR:
            self.errors += 1
        self.n += 1
        if len(self.buffer) >= _RUN:
            self._write_run()

    def _write_run(self) -> None:
        if self.spill is None:
            self.spill = _Spill(_FINDING_CHUNK)
        spill = self.spill
        first = len(spill.chunks)
        for f in sorted(self.buffer, key=sort_key):
            spill.append((f.code, f.severity.value, f.message, f.hint, f.file, f.pointer, f.line, f.column, f.rule))
        spill.flush()
        self.runs.append((spill, first, len(spill.chunks)))
        self.buffer = []
        if len(self.runs) > _MAX_RUNS:  # one merged run: reading holds a chunk per run, so keep them few
            merged = _Spill(_FINDING_CHUNK)
            for f in heapq.merge(*(self._run(*r) for r in self.runs), key=sort_key):
                merged.append((f.code, f.severity.value, f.message, f.hint, f.file, f.pointer, f.line, f.column,
                               f.rule))
            merged.flush()
            self.spill.fh.close()
            self.spill = merged
            self.runs = [(merged, 0, len(merged.chunks))]

    def count(self, *codes: str) -> int:
        return sum(self.by_code.get(c, 0) for c in codes)

    def __len__(self) -> int:
        return self.n

    def _run(self, spill: _Spill, first: int, end: int) -> Iterator[Finding]:
        for i in range(first, end):
            for code, sev, message, hint, file, pointer, line, column, rule in spill.read(i):
                yield Finding(code, Severity(sev), message, hint, file, pointer, line, column, rule)

    def __iter__(self) -> Iterator[Finding]:
        tail = sorted(self.buffer, key=sort_key)
        if not self.runs:
            return iter(tail)
        # equal keys are equal findings (the hint and rule come with the code), so the merge
        # gives the same sequence as one stable sort of everything
        return heapq.merge(*(self._run(*r) for r in self.runs), tail, key=sort_key)

    def records(self) -> Records:
        return Records(self.__iter__, self.n, errors=self.errors)

