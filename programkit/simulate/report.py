"""Writing a result out: the text and JSON reports, in pieces (records are read back from
disk as they go out), and batched writes."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import Any, Callable, Iterable, Iterator

from .result import SimulationResult


def iter_text(result: SimulationResult, people_limit: int | None = 20) -> Iterator[str]:
    """The text report a line at a time (each with its newline): alerts, rejections and findings
    are read as they are written, never all held at once."""
    head = (f"simulated {result.bundle} {result.version}"
            + (f", lifecycle {result.lifecycle!r}" if result.lifecycle else "")
            + (f", until {result.until}" if result.until else ""))
    yield head + "\n"
    e = result.events
    after = (f"; {e['afterUntil']} later than --until {result.until}, not read" if e.get("afterUntil") else "")
    yield f"events: {e['read']} read, {e['simulated']} simulated, {e['rejected']} rejected, {e['invalid']} invalid{after}\n"
    if result.states:
        yield "\n"
        yield "people per state:\n"
        width = max(len(s) for s in result.states)
        for s, n in result.states.items():
            yield f"  {s:<{width}}  {n}\n"
    if result.funnel:
        yield "\n"
        yield "funnel (reached this state or a later one):\n"
        width = max(len(f["state"]) for f in result.funnel)
        for f in result.funnel:
            conv = "" if f["conversion"] is None else f"  {f['conversion'] * 100:6.1f}% of previous"
            overall = "" if f["overall"] is None else f"  {f['overall'] * 100:6.1f}% overall"
            yield f"  {f['state']:<{width}}  {f['reached']:>7}{conv}{overall}\n"
    if result.campaigns:
        yield "\n"
        yield "campaign runs:\n"
        for name, n in result.campaigns.items():
            yield f"  {name}: {n}\n"
    yield "\n"
    yield f"alerts: {len(result.alerts)}\n"
    for a in itertools.islice(result.alerts, people_limit or None):
        yield f"  {a['at']}  {a['person']}  {a['email']} → {', '.join(a['to'])}  ({a['campaign']})\n"
    if people_limit and len(result.alerts) > people_limit:
        yield f"  … {len(result.alerts) - people_limit} more (use --format json for all)\n"
    yield f"rejected events: {len(result.rejected)}\n"
    for r in itertools.islice(result.rejected, people_limit or None):
        yield f"  line {r['line']}  {r['at']}  {r['person']}  {r['event']}: {r['reason']}\n"
    if people_limit and len(result.rejected) > people_limit:
        yield f"  … {len(result.rejected) - people_limit} more (use --format json for all)\n"
    yield "\n"
    yield f"people: {len(result.people)}\n"
    for p in itertools.islice(result.people, people_limit or None):
        state = p["state"] or "(no state)"
        extra = "" if p["applies"] or p["state"] is None else " (lifecycle no longer applies)"
        flags = f" [flags: {', '.join(p['flags'])}]" if p["flags"] else ""
        path = " → ".join([h["to"] for h in p["history"] if "to" in h and h["from"] != h["to"]]) or "-"
        yield f"  {p['id']}: {state}{extra}{flags}  ({path})\n"
    if people_limit and len(result.people) > people_limit:
        yield f"  … {len(result.people) - people_limit} more (use --format json for all)\n"
    hinted: set[str] = set()
    for f in result.findings:
        loc = f"{f.file}:{f.location}" if f.line else (f.file or "")
        yield f"{loc}: {f.severity.value} {f.code} [{f.rule}] {f.message}\n"
        if f.hint and f.code not in hinted:  # each code's hint once, under its first finding
            hinted.add(f.code)
            yield f"    hint: {f.hint}\n"


def render_text(result: SimulationResult, people_limit: int | None = 20) -> str:
    return "".join(iter_text(result, people_limit))


def _dumps(value: Any, indent: str) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)`` as it reads nested at ``indent`` (JSON text
    never holds a raw newline inside a string, so indenting every line is exact)."""
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + indent)


def iter_json(result: SimulationResult) -> Iterator[str]:
    """``render_json``'s text in pieces that each end with a newline, the record lists (alerts,
    emails, rejected, findings) written a record at a time: the same bytes as one ``json.dumps``
    of :meth:`SimulationResult.to_dict` with ``indent=2, ensure_ascii=False``."""
    items: list[tuple[str, Any, bool]] = [
        ("bundle", result.bundle, False), ("version", result.version, False), ("lifecycle", result.lifecycle, False),
        ("until", result.until, False), ("events", result.events, False), ("states", result.states, False),
        ("funnel", result.funnel, False), ("campaigns", result.campaigns, False), ("alerts", result.alerts, True),
        ("emails", result.emails, True), ("rejected", result.rejected, True), ("people", result.people, True),
        ("findings", (f.to_dict() for f in result.findings) if len(result.findings) else [], True),
    ]
    yield "{\n"
    for n, (key, value, listed) in enumerate(items):
        end = ",\n" if n < len(items) - 1 else "\n"
        name = json.dumps(key, ensure_ascii=False)
        if not listed or (isinstance(value, Sequence) and not len(value)):
            yield f"  {name}: {_dumps(list(value) if listed else value, '  ')}{end}"
            continue
        yield f"  {name}: [\n"
        first = True
        for record in value:
            if not first:
                yield ",\n"
            first = False
            yield "    " + _dumps(record, "    ")
        yield "\n  ]" + end
    yield "}\n"


def render_json(result: SimulationResult) -> str:
    return "".join(iter_json(result))


def write_report(pieces: Iterable[str], write: Callable[[str], Any], size: int = 1 << 20) -> None:
    """Write report pieces in batches of about ``size`` characters, each batch ending with a newline."""
    batch: list[str] = []
    n = 0
    for piece in pieces:
        batch.append(piece)
        n += len(piece)
        if n >= size and piece.endswith("\n"):
            write("".join(batch))
            batch, n = [], 0
    if batch:
        write("".join(batch))
