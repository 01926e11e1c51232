"""The events file split into byte ranges for ``simulate --jobs N``: each worker reads and checks
the lines of its own range, once, and routes every good event to the worker that runs its person.

Worker ``r`` reads range ``r`` (cut at line starts) exactly as one process reads the whole file
(:meth:`~programkit.simulate.engine.Simulator.feed`: the same parse, the same checks, the same
findings), with one difference: a line's order check needs the latest time of every line before
it, and the lines of earlier ranges are other workers'. Within a range the check runs against the
range's own lines; the good lines left are then in time order, so those that an earlier range
puts out of order are a prefix of them, found once every range's latest time is known
(:class:`RangeSummary`, exchanged through the parent). Likewise ``--until``: the first good line
after it stops the run, so the range holding the first such line ends the run there and the
ranges after it count as "after until".

A routed event is kept with its line number (counted within the range: the lines of the ranges
before it are added once they are known), its time and the range's latest time before it; a
plain score change (most events) as its person and change, any other event as its raw line,
which the worker running it parses again (orjson: as cheap as pickling the parsed event). They
go in columns, 4,096 events per pickled chunk, to a file per (range, worker): memory stays
bounded.
"""

from __future__ import annotations

import os
import pickle
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator

import orjson

from ..errors import BadInput
from ..findings import make
from .digits import COMPILED, long_digit_run, seconds_in_hour
from .inputs import _HOUR_PREFIX, _LONG_DIGITS, _MIN_SEC, _SKIP, _blocks, _count_lines, _loads_slow
from .records import FindingSink, _Spill, iso

_CHUNK = 4096  # routed events per pickled chunk


def share_of(pid: str, jobs: int) -> int:
    """Which of ``jobs`` workers runs a person: stable across processes and runs (not ``hash``)."""
    return zlib.crc32(pid.encode("utf-8", "surrogatepass")) % jobs


def byte_ranges(path: str | os.PathLike[str], jobs: int) -> list[tuple[int, int]]:
    """``jobs`` ranges (start, end) of the file, each starting at a line start, of about equal size
    (some may be empty)."""
    try:
        fh = open(path, "rb")
    except OSError as e:  # as one process says it (Simulator.feed)
        raise BadInput(f"cannot read events file {os.fspath(path)}: {e.strerror}",
                       hint="Pass --events EVENTS.jsonl: one JSON object per line, in time order.") from None
    size = os.fstat(fh.fileno()).st_size
    starts = [0]
    with fh:
        for i in range(1, jobs):
            offset = max(size * i // jobs, starts[-1])
            if offset == 0 or offset >= size:
                starts.append(min(offset, size))
                continue
            fh.seek(offset - 1)  # the line that holds byte offset-1 ends at or after it
            while True:
                chunk = fh.read(1 << 16)
                if not chunk:
                    starts.append(size)
                    break
                cut = chunk.find(b"\n")
                if cut >= 0:
                    starts.append(fh.tell() - len(chunk) + cut + 1)
                    break
    return list(zip(starts, starts[1:] + [size]))


def count_lines_between(path: str | os.PathLike[str], start: int, end: int) -> int:
    """Lines of bytes [start, end) that are not blank (as a run stopped by --until counts them)."""
    with open(path, "rb") as fh:
        return sum(_count_lines(block.split(b"\n")) for block, _ in _blocks(_Range(fh, start, end)))


class _Range:
    """A file object reading only bytes [start, end) of a file."""

    def __init__(self, fh: Any, start: int, end: int) -> None:
        fh.seek(start)
        self.fh = fh
        self.left = end - start

    def read(self, n: int) -> bytes:
        if self.left <= 0:
            return b""
        data = self.fh.read(min(n, self.left))
        self.left -= len(data)
        return data


class RoutedSpool:
    """The events of one range for one worker, in columns, appended in line order; a pickled chunk
    of :data:`_CHUNK` events at a time goes to ``path``."""

    __slots__ = ("path", "fh", "lines", "times", "before", "raws", "slow", "pids", "changes", "n")

    def __init__(self, path: str) -> None:
        self.path = path
        self.fh: Any = None
        self.lines: list[int] = []
        self.times: list[float] = []
        self.before: list[float | None] = []  # the range's latest time before the event
        self.raws: list[bytes] = []
        self.slow: list[int] = []  # indices (in the chunk) of lines the json module reads
        # a plain score change, {"at", "person", "type": "score", "data": {"change": TEXT}} (most events):
        # the person and the change, which the worker running it takes without parsing the line again
        self.pids: list[str | None] = []
        self.changes: list[str | None] = []
        self.n = 0

    def flush(self) -> None:
        if not self.lines:
            return
        if self.fh is None:
            self.fh = open(self.path, "wb")
        pickler = pickle.Pickler(self.fh, pickle.HIGHEST_PROTOCOL)
        pickler.fast = True  # no memo: 5x cheaper for thousands of small distinct objects, none of them shared
        pickler.dump((self.lines, self.times, self.before, self.raws, self.slow, self.pids, self.changes))
        self.n += len(self.lines)
        self.lines, self.times, self.before, self.raws, self.slow, self.pids, self.changes = [], [], [], [], [], [], []

    def close(self) -> None:
        self.flush()
        if self.fh is not None:
            self.fh.close()


def routed_chunks(path: str) -> Iterator[tuple[list[int], list[float], list[float | None], list[bytes], list[int],
                                               list[str | None], list[str | None]]]:
    """The chunks a :class:`RoutedSpool` wrote (none if it wrote nothing); the file is removed."""
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return
    with fh:
        os.unlink(path)
        while True:
            try:
                yield pickle.load(fh)
            except EOFError:
                return


def spool_path(directory: str, range_index: int, worker: int) -> str:
    return os.path.join(directory, f"events-{range_index}-to-{worker}")


@dataclass
class RangeSummary:
    """What the other workers need to know of a range once it is read."""

    first: float | None  # the time of its first good line (the clock starts at the file's first)
    last: float | None  # its latest good time (its good lines are in time order)
    stop_line: int | None  # the first good line after --until, which ends the run (counted within the range)
    after_stop: int  # lines not blank from the stop line on, within the range
    lines: int  # lines read (all of the range's unless --until stopped it)


def read_range(path: str | os.PathLike[str], display: str, start: int, end: int, range_index: int, jobs: int,
               until: float | None, directory: str, findings: FindingSink) -> tuple[RangeSummary, _Spill]:
    """Read and check the lines of bytes [start, end) of the events file as
    :meth:`~programkit.simulate.engine.Simulator.feed` does, reporting bad lines to ``findings``,
    and route each good event to its person's worker (:func:`share_of`). Also returns the lines
    out of order within the range, (line, "at" as written, the range's latest time before it): their
    findings are made once the earlier ranges' latest time is known (:func:`out_of_order_findings`)."""
    spools = [RoutedSpool(spool_path(directory, range_index, d)) for d in range(jobs)]
    out_of_order = _Spill()
    owner: dict[str, int] = {}
    loads = orjson.loads
    JSONError = orjson.JSONDecodeError
    long_digits = _LONG_DIGITS.search
    min_sec = _MIN_SEC.get
    compiled = COMPILED  # the time's fast path: a C call compiled, two slices and a lookup (no call) in Python
    fromiso = datetime.fromisoformat
    first = stop_line = None
    after_stop = 0
    prev = None  # the latest good time of this range
    prev_text = None
    prefix, prefix_ts = None, 0.0
    # lines are counted within the range (findings and routed events carry these numbers): the
    # lines of the ranges before are known only when every range is read (Plan.line_offsets)
    line = 0
    try:
        with open(path, "rb") as fh:
            blocks = _blocks(_Range(fh, start, end))
            for block, newline in blocks:
                careful = long_digit_run(block)
                lines = iter(block.split(b"\n"))
                for raw in lines:
                    line += 1
                    if line == 1 and start == 0 and raw.startswith(b"\xef\xbb\xbf"):
                        raw = raw[3:]
                        findings.append(make("PK120", "starts with a UTF-8 byte order mark (BOM)", file=display))
                    slow = False
                    try:
                        if (careful and long_digits(raw)) or (len(raw) >= 1800 and raw.count(b"[") + raw.count(b"{") >= 900):
                            raise JSONError("long integer or deep nesting", "", 0)
                        ev = loads(raw)
                    except JSONError:
                        ev = _loads_slow(raw, newline, findings, display, line)
                        if ev is _SKIP:
                            continue
                        slow = True
                    if type(ev) is not dict:
                        findings.append(make("PK751", "the line is not a JSON object", file=display, line=line))
                        continue
                    try:
                        at, pid, etype = ev["at"], ev["person"], ev["type"]
                    except KeyError:
                        at, pid, etype = ev.get("at"), ev.get("person"), ev.get("type")
                    data = ev["data"] if "data" in ev else None
                    if type(at) is not str:
                        findings.append(make("PK751", "'at' is missing or not a string", file=display, line=line))
                        continue
                    if type(pid) is not str:
                        pid = str(pid) if type(pid) is int else ""
                    if not pid or type(etype) is not str or not etype:
                        findings.append(make("PK751", "'person' and 'type' must be non-empty strings", file=display,
                                             line=line))
                        continue
                    if type(data) is not dict and data is not None:
                        findings.append(make("PK751", "'data' must be a JSON object", file=display, line=line))
                        continue
                    before = prev
                    if at == prev_text:
                        now = prev
                    else:
                        if compiled:
                            sec = seconds_in_hour(at, prefix)
                        else:
                            sec = min_sec(at[14:], -1) if at[:14] == prefix else -1
                        if sec >= 0:
                            now = prefix_ts + sec
                        else:
                            try:
                                dt = fromiso(at)
                                now = (dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)).timestamp()
                            except (ValueError, OverflowError, OSError):
                                findings.append(make("PK751", f"'at' is not an ISO-8601 time: {at!r}", file=display,
                                                     line=line))
                                continue
                            if at[14:] in _MIN_SEC and _HOUR_PREFIX.fullmatch(at[:14]):
                                prefix, prefix_ts = at[:14], now - _MIN_SEC[at[14:]]
                        if prev is not None and now < prev:
                            # out of order within the range; the message needs the earlier ranges' latest time too
                            out_of_order.append((line, at, prev))
                            continue
                        prev, prev_text = now, at
                        if until is not None and now > until:
                            stop_line = line
                            after_stop = 1 + _count_lines(lines) + sum(_count_lines(b.split(b"\n")) for b, _ in blocks)
                            prev = before
                            break
                    if first is None:
                        first = now
                    d = owner.get(pid)
                    if d is None:
                        d = owner[pid] = share_of(pid, jobs)
                    spool = spools[d]
                    if etype == "score" and not slow and data is not None and len(data) == 1 and len(ev) == 4:
                        change = data.get("change")
                        if type(change) is str:
                            spool.pids.append(pid)
                            spool.changes.append(change)
                        else:
                            spool.pids.append(None)
                            spool.changes.append(None)
                    else:
                        if slow:
                            spool.slow.append(len(spool.lines))
                        spool.pids.append(None)
                        spool.changes.append(None)
                    spool.lines.append(line)
                    spool.times.append(now)
                    spool.before.append(before)
                    spool.raws.append(raw)
                    if len(spool.lines) >= _CHUNK:
                        spool.flush()
                if stop_line is not None:
                    break
    finally:
        for spool in spools:
            spool.close()
    return RangeSummary(first, prev, stop_line, after_stop, line), out_of_order


def out_of_order_finding(display: str, line: int, at: str, prev: float) -> Any:
    """PK752 as one process words it: ``prev`` is the latest time of every good line before."""
    return make("PK752", f"{at} is before the previous event ({iso(prev)})", file=display, line=line)


def out_of_order_findings(out_of_order: _Spill, latest_before: float | None, line_offset: int, display: str,
                          findings: FindingSink) -> None:
    """The findings for a range's lines out of order within it, once the latest time of the ranges
    before it (``latest_before``) and their lines (``line_offset``) are known."""
    for line, at, prev in out_of_order:
        findings.append(out_of_order_finding(display, line + line_offset, at,
                                             prev if latest_before is None else max(prev, latest_before)))
