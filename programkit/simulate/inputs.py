"""Reading and checking the inputs: the people CSV (checked as it is read), the events file's
lines (blocks, the json module's way for what orjson reads differently), event times, and
``--setting`` values."""

from __future__ import annotations

import csv
import json
import json.scanner
import os
import re
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator

from .. import lifecycle as lc
from ..errors import BadInput
from ..findings import Finding, did_you_mean, make
from ..model import Bundle
from .conditions import FieldNames, _num
from .records import FindingSink, iso
from .rules import Lifecycle


#: what --people and --events must name (docs/simulate.md has the details)
PEOPLE_HINT = ("--people names a CSV file: a header row with an 'id' column and the person fields the campaigns "
               "read (display or API names, e.g. id,Email Address,Person Score), then one person a row. "
               "See docs/simulate.md.")
EVENTS_HINT = ('--events names a JSON Lines file: one event a line, in time order, e.g. '
               '{"at": "2026-04-01T09:00:00Z", "person": "p1", "type": "score", "data": {"change": "+10"}}. '
               'See docs/simulate.md.')


def parse_time(text: str) -> float:
    """Seconds since the epoch for an ISO-8601 time; a time without a zone is UTC."""
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


NUMERIC_TYPES = frozenset({"score", "integer", "float", "currency"})


def read_people(path: str | os.PathLike[str], names: FieldNames, findings: list[Finding],
                lifecycle: Lifecycle | None = None) -> Iterator[tuple[str, dict]]:
    """Rows of the people CSV as (id, fields); empty cells are left out.

    Reported as they are read: a column no field is known by (PK757, once, on the header), a
    state the ``lifecycle`` does not have (PK758) and a numeric field's cell that is not a number
    (PK759), each at its line and column (the CSV column's 1-based index)."""
    display = os.fspath(path)
    try:
        # undecodable bytes become lone surrogates, found per row below (a finding each), not a failed file
        fh = open(path, newline="", encoding="utf-8-sig", errors="surrogateescape")
    except OSError as e:
        raise BadInput(f"cannot read people file {display}: {e.strerror}", hint="Pass --people PEOPLE.csv") from None
    with fh:
        reader = csv.reader(fh, strict=True)  # strict: an unclosed quote is an error, not the rest of the file
        try:
            header = next(reader, None)
        except (csv.Error, UnicodeDecodeError) as e:
            raise BadInput(f"{display}: not a CSV file ({e})") from None
        if header and len(header) > MAX_PEOPLE_COLUMNS:
            raise BadInput(f"{display}: the header has {len(header)} columns; at most {MAX_PEOPLE_COLUMNS} are read",
                           hint="A people CSV has an id column and the person fields the campaigns read.")
        if header and not _utf8(header):
            raise BadInput(f"{display}: the header row is not UTF-8 text", hint="Save the file as UTF-8.")
        if not header or "id" not in [h.strip().casefold() for h in header]:
            raise BadInput(f"{display}: the first row must be a header with an 'id' column",
                           hint="e.g. id,Email Address,Person Score")
        id_col = [h.strip().casefold() for h in header].index("id")
        header_line = reader.line_num
        spellings = names.spellings()
        for i, h in enumerate(header):
            if i != id_col and h.strip() and not names.known(h):
                close = did_you_mean(h, spellings)
                findings.append(make("PK757", f"column {h.strip()!r} is not a person field (neither standard nor in "
                                              f"the bundle's requires.fields)" + (f"; {close}" if close else ""),
                                     file=display, line=header_line, column=i + 1))
        keys = [names.key(h) for h in header]
        # the cells to check on every row: (index, column name, what the cell must be)
        checks = [(i, h.strip(), "number") for i, (h, k) in enumerate(zip(header, keys))
                  if i != id_col and names.types.get(k) in NUMERIC_TYPES]
        if lifecycle is not None and lifecycle.state_key is not None:
            checks += [(i, h.strip(), "state") for i, (h, k) in enumerate(zip(header, keys))
                       if i != id_col and k == lifecycle.state_key]
        states = frozenset(lifecycle.states) if lifecycle is not None else frozenset()
        seen: dict[str, int] = {}
        for line, row in _rows(reader, display, findings):
            if not any(c.strip() for c in row):
                continue
            pid = row[id_col].strip() if id_col < len(row) else ""
            if not pid or pid in seen:
                msg = "empty id" if not pid else f"id {pid!r} is already used on line {seen[pid]}"
                findings.append(make("PK753", msg, file=display, line=line))
                continue
            seen[pid] = line
            for i, name, want in checks:
                value = row[i] if i < len(row) else ""
                if value == "":
                    continue
                if want == "number":
                    if _num(value) is None:
                        findings.append(make("PK759", f"{name} {value!r} is not a number", file=display,
                                             line=line, column=i + 1))
                elif value not in states:
                    assert lifecycle is not None
                    close = did_you_mean(value, lifecycle.states, cutoff=0.6)
                    findings.append(make(
                        "PK758", f"{name} {value!r} is not a state of {lifecycle.name!r} "
                                 f"({', '.join(lifecycle.states)}); ignored: the person starts in {lifecycle.initial} "
                                 f"when the lifecycle applies"
                                 + (f"; {close}" if close else ""),
                        file=display, line=line, column=i + 1))
            yield pid, {k: v for i, (k, v) in enumerate(zip(keys, row)) if i != id_col and v != ""}


#: most columns a people CSV may have (one header of a million columns took minutes)
MAX_PEOPLE_COLUMNS = 2000


def _utf8(row: list[str]) -> bool:
    """Whether a row read with ``surrogateescape`` was valid UTF-8 (no escaped byte in any cell)."""
    try:
        "".join(row).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _rows(reader: Any, display: str, findings: list[Finding]) -> Iterator[tuple[int, list[str]]]:
    """(line, row) of each readable row after the header; each unreadable one is a PK951 finding at its line
    (bytes that are not UTF-8, broken quoting, a quote never closed) and is left out."""
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            if "unexpected end of data" in str(e):
                findings.append(make("PK951", f"a quoted cell is never closed: lines {start} to {reader.line_num} "
                                              "were read as one cell, not used", file=display, line=start))
                return
            findings.append(make("PK951", f"the row is not valid CSV ({e}); left out", file=display, line=start))
            continue
        if not _utf8(row):
            bad = next(i for i, c in enumerate(row) if not _utf8([c]))
            where = "its id (not text)" if bad == 0 else f"column {bad + 1}"
            findings.append(make("PK951", f"bytes that are not UTF-8 in {where}; the row is left out",
                                 file=display, line=start, column=bad + 1))
            continue
        yield start, row


# Integers beyond 64 bits: orjson turns them into floats, the json module keeps them exact.
# A block (or line) holding a run of 19 digits is parsed the json module's way; so is a line
# that may nest deeper than the json module's recursion limit (orjson allows 1024 levels).
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")  # translate + find: far faster than a regex
_LONG_DIGITS = re.compile(rb"[0-9]{19}")
_HOUR_PREFIX = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):")
# "MM:SSZ" → seconds into the hour, for the fixed-format fast path of event times
_MIN_SEC = {f"{m:02d}:{sec:02d}Z": m * 60 + sec for m in range(60) for sec in range(60)}
_BLOCK = 1 << 18


def _blocks(fh: Any) -> Iterator[tuple[bytes, bool]]:
    """The file 256 KiB or so at a time, cut after a newline (which is left out); the flag
    is False only for a last line without a newline."""
    carry: list[bytes] = []
    while True:
        block = fh.read(_BLOCK)
        if not block:
            break
        cut = block.rfind(b"\n")
        if cut < 0:
            carry.append(block)
            continue
        if carry:
            carry.append(block[:cut])
            yield b"".join(carry), True
        else:
            yield block[:cut], True
        carry = [block[cut + 1:]]
    rest = b"".join(carry)
    if rest:
        yield rest, False


def _count_lines(lines: Iterable[bytes]) -> int:
    """How many of ``lines`` are not blank (the events after --until, counted without parsing)."""
    return sum(1 for raw in lines if raw.strip())


def out_of_order_message(at: str, prev: float) -> str:
    """PK752's message: ``at`` as written, ``prev`` the latest time of the good lines before it."""
    return f"{at} is before the previous event ({iso(prev)})"


_SKIP = object()  # what _loads_slow returns for a line that is skipped


def _loads_slow(raw: bytes, newline: bool, findings: FindingSink, display: str, line: int) -> Any:
    """Parse a line the json module's way, on the line as text (undecodable bytes → U+FFFD):
    the value, or _SKIP for a blank line or one that is not JSON (a PK751 finding)."""
    text = (raw + b"\n" if newline else raw).decode("utf-8", "replace")
    try:
        ev, end = _SCAN(text, 0)
        if end < len(text) and not text[end:].isspace():
            raise ValueError("extra data")
        return ev
    except (StopIteration, ValueError, RecursionError):
        if not text.strip():
            return _SKIP
        try:  # surrounding whitespace, or an error message worth showing
            return _DECODER.decode(text)
        except (ValueError, RecursionError) as e:
            findings.append(make("PK751", f"not JSON: {getattr(e, 'msg', str(e))}", file=display, line=line))
            return _SKIP


_DECODER = json.JSONDecoder()
_SCAN = json.scanner.make_scanner(_DECODER)  # the C scanner, without decode()'s per-call wrapper


# --- entry point -----------------------------------------------------------------------


def check_settings(settings: dict[str, bool], bundle: Bundle, lifecycle: Lifecycle | None) -> None:
    """Raise BadInput (PK760) for a --setting that names no setting of the bundle's lifecycle."""
    known = lc.settings_of(lc.lifecycle_asset(bundle).content) if lifecycle is not None else {}
    unknown = sorted(set(settings) - set(known))
    if not unknown:
        return
    if lifecycle is None:
        message = f"--setting {', '.join(unknown)}: the bundle has no lead lifecycle, so it has no settings"
    elif not known:
        message = f"--setting {', '.join(unknown)}: the lifecycle {lifecycle.name!r} has no settings"
    else:
        close = [did_you_mean(n, known) for n in unknown]
        message = (f"--setting {', '.join(unknown)}: the lifecycle {lifecycle.name!r} has no setting of that name; "
                   f"its settings: {', '.join(f'{n} (default {str(v).lower()})' for n, v in sorted(known.items()))}"
                   + "".join(f"; {c}" for c in close if c))
    raise BadInput(message, [make("PK760", message)])

