"""The simulation engine: people, the clock and the event loop that reads, checks and runs
each event (with the campaign and lifecycle engines as mixins)."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any, Iterable

import orjson

from ..errors import BadInput
from ..findings import make
from .campaign_engine import MAX_ACTIVITIES, CampaignEngine
from .conditions import _PLUS, SCORE_KEY
from .digits import COMPILED, long_digit_run, seconds_in_hour
from .inputs import (_HOUR_PREFIX, _LONG_DIGITS, _MIN_SEC, _SKIP, _blocks, _count_lines, _loads_slow,
                     out_of_order_message)
from .lifecycle_engine import LifecycleEngine, Rejected
from .person import Person
from .records import FindingSink, _Spill
from .result import SimulationResult, build_result
from .rules import ACTIVITY_EVENTS, Model


class Simulator(LifecycleEngine, CampaignEngine):
    """Holds people and pending timers; feed it events in time order with :meth:`event`.

    With ``share=(i, n)`` it is worker ``i`` of ``n`` (see :mod:`.partitioned`): it runs the events
    routed to it (:meth:`run_routed`: the people :func:`~.event_ranges.share_of` gives it) and keeps
    each alert, email and rejection with the key of the activity that made it (``_act``) so the
    workers' records merge into the one-process order. Only worker 0 reports the bundle's findings."""

    def __init__(self, model: Model, events_file: str = "events", share: tuple[int, int] | None = None) -> None:
        self.m = model
        self.share = share
        self.keyed = share is not None
        self._act: Any = None  # the activity running (keyed mode): (time, phase, ...), see partitioned.py
        self.lc = model.lifecycle
        self.people: dict[str, Person] = {}
        self.heap: list[tuple[float, int, str, str, str, int]] = []
        self.seq = 0
        # per-event records go to disk as they come (memory grows with people, not events)
        self.alerts = _Spill()
        self.emails = _Spill()
        self.rejected = _Spill()
        self.runs: dict[str, int] = {}
        self.findings = FindingSink(model.findings if share is None or share[0] == 0 else ())
        self.events_file = events_file
        self.started: float | None = None
        self.counts = {"read": 0, "simulated": 0, "rejected": 0, "invalid": 0}
        self._queue: list[tuple] = []
        self._line = 0
        self._now = 0.0
        # the "+N" score shortcut (_score_shortcut): score campaigns, lowest "at least", "once" names
        self._score_tests: list[tuple] = []
        self._score_floor: float | None = None
        self._score_once: tuple[str, ...] | None = None

    # people from the CSV enter the lifecycle when the simulation clock starts
    def add_person(self, pid: str, fields: dict[str, Any]) -> None:
        self.people[pid] = Person(pid, fields)

    def _start(self, now: float) -> None:
        self.started = now
        if self.lc is None:
            return
        keyed = self.keyed
        for pid in sorted(self.people):
            p = self.people[pid]
            self._now = now
            if keyed:
                self._act = (now, 0, pid)
            if self._applies(p):
                start = p.fields.get(self.lc.state_key) if self.lc.state_key else None
                self._enter_lifecycle(p, now, "start", start if start in self.lc.states else None)
            self._drain(p)

    # --- lifecycle ---------------------------------------------------------------------
    def feed(self, path: str | os.PathLike[str], until: float | None) -> float | None:
        """Read the JSON-lines events file and run each event up to ``until``, in one loop;
        returns the last event's time.

        Malformed and out-of-order lines become findings and are skipped. Lines are parsed
        with orjson; a line it rejects (or that holds a long integer) goes the json module's
        way (:func:`_loads_slow`), so what is accepted, and every error message, is the json
        module's. Reading and running share one loop because the per-event overhead of
        handing each event from a reader to a runner was a third of the time: a plain "+N"
        change of an integer person score, most of any events file, is run right here (what
        :meth:`event` and :meth:`_score` do for it, without the checks it cannot need);
        anything else goes to :meth:`event`.
        """
        display = os.fspath(path)
        try:
            fh = open(path, "rb")
        except OSError as e:
            raise BadInput(f"cannot read events file {display}: {e.strerror}",
                           hint="Pass --events EVENTS.jsonl: one JSON object per line, in time order.") from None
        findings = self.findings
        loads = orjson.loads
        JSONError = orjson.JSONDecodeError
        long_digits = _LONG_DIGITS.search
        min_sec = _MIN_SEC.get
        compiled = COMPILED  # the time's fast path: a C call compiled, two slices and a lookup (no call) in Python
        fromiso = datetime.fromisoformat
        people_get = self.people.get
        heap = self.heap
        event = self.event
        queue = self._queue
        plus = _PLUS
        # the short path (what _plus_score does, inlined: a call per event costs ~2% of the
        # instructions here) only when the lifecycle does not watch the score field itself
        short = self._score_shortcut()
        tests, floor, once_names = self._score_tests, self._score_floor, self._score_once
        started = self.started is not None
        read = simulated = 0
        last = None  # the last event run
        prev = None  # the time of the line before, for the order check
        prev_text = None  # not "": an empty first "at" must be reported, not taken as the previous time
        prefix, prefix_ts = None, 0.0  # the last "YYYY-MM-DDTHH:" seen and its time
        line = 0
        try:
            with fh:
                blocks = _blocks(fh)
                for block, newline in blocks:
                    careful = long_digit_run(block)
                    lines = iter(block.split(b"\n"))  # an iterator: what is left of it after --until is counted
                    for raw in lines:
                        line += 1
                        if line == 1 and raw.startswith(b"\xef\xbb\xbf"):  # read, and said (PK120)
                            raw = raw[3:]
                            findings.append(make("PK120", "starts with a UTF-8 byte order mark (BOM)", file=display))
                        try:
                            if (careful and long_digits(raw)) or (len(raw) >= 1800 and raw.count(b"[") + raw.count(b"{") >= 900):
                                raise JSONError("long integer or deep nesting", "", 0)
                            ev = loads(raw)
                        except JSONError:
                            ev = _loads_slow(raw, newline, findings, display, line)
                            if ev is _SKIP:
                                continue
                        # event_ranges checks each line of --jobs the same way, inlined there too (a call per event
                        # costs ~2% of the run): a change to these checks goes into both
                        if type(ev) is not dict:
                            findings.append(make("PK751", "the line is not a JSON object", file=display, line=line))
                            continue
                        try:  # subscripts are cheaper than .get(); a missing key takes the .get() way
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
                        if type(data) is not dict:
                            if data is not None:
                                findings.append(make("PK751", "'data' must be a JSON object", file=display, line=line))
                                continue
                            data = {}
                        if at == prev_text:
                            now = prev
                        else:
                            # fast path: "YYYY-MM-DDTHH:MM:SSZ" within the hour of the time before
                            if compiled:
                                sec = seconds_in_hour(at, prefix)
                            else:
                                sec = min_sec(at[14:], -1) if at[:14] == prefix else -1
                            if sec >= 0:
                                now = prefix_ts + sec
                            else:
                                try:
                                    dt = fromiso(at)  # parse_time, inlined
                                    now = (dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)).timestamp()
                                except (ValueError, OverflowError, OSError):
                                    findings.append(make("PK751", f"'at' is not an ISO-8601 time: {at!r}", file=display,
                                                         line=line))
                                    continue
                                if at[14:] in _MIN_SEC and _HOUR_PREFIX.fullmatch(at[:14]):
                                    prefix, prefix_ts = at[:14], now - _MIN_SEC[at[14:]]
                            if prev is not None and now < prev:
                                findings.append(make("PK752", out_of_order_message(at, prev), file=display, line=line))
                                continue
                            prev, prev_text = now, at
                            if until is not None and now > until:  # in time order, so nothing later matters
                                self.counts["afterUntil"] = 1 + _count_lines(lines) + sum(
                                    _count_lines(b.split(b"\n")) for b, _ in blocks)
                                return last
                        read += 1
                        last = now
                        if etype == "score" and short and started and not (heap and heap[0][0] <= now):
                            change = data["change"] if "change" in data else None
                            if type(change) is str and change in plus and "score" not in data:
                                p: Person | None = people_get(pid)  # typed: compiled, its members are struct fields
                                if p is not None:
                                    fields = p.fields
                                    old = fields.get(SCORE_KEY)
                                    if type(old) is int or old is None:
                                        if old is None:  # no score yet: counts from 0, the change a float as in _score
                                            new_v = plus[change]
                                            delta = float(new_v)
                                        else:
                                            delta = plus[change]
                                            new_v = old + delta
                                        fields[SCORE_KEY] = new_v
                                        simulated += 1
                                        ran = p.ran
                                        if once_names is not None and ran is not None and len(tests) < MAX_ACTIVITIES:
                                            for name in once_names:
                                                if name not in ran:
                                                    break
                                            else:
                                                continue
                                        if floor is not None and float(new_v) < floor:
                                            continue
                                        hit = None
                                        for camp, test, match in tests:
                                            if test(new_v) if test is not None else match(old, new_v, delta):
                                                if hit is None:
                                                    hit = [camp]
                                                else:
                                                    hit.append(camp)
                                        if hit is None:
                                            continue
                                        if ran is not None and len(hit) < MAX_ACTIVITIES:
                                            for camp in hit:
                                                if not camp.once or camp.name not in ran:
                                                    break
                                            else:
                                                continue  # only "once" campaigns that already ran: nothing would happen
                                        queue.extend(hit)
                                        self._line = line  # as event() does: PK755 names the line
                                        self._now = now
                                        self._drain(p)
                                        continue
                        source = ev["source"] if "source" in ev else None
                        event(line, now, pid, etype, data, source if type(source) is str else None)
                        started = True
            return last
        finally:
            self.counts["read"] += read
            self.counts["simulated"] += simulated
            self.counts["invalid"] = self.findings.count("PK751", "PK752")

    def run_routed(self, ranges: Iterable[tuple[float | None, int, Iterable[tuple]]], display: str) -> float | None:
        """Run the events routed to this worker (``simulate --jobs``, see :mod:`.event_ranges`): checked
        already, range by range in file order, each range's with the latest time of the ranges
        before it, which puts its events before that time out of order (PK752, as :meth:`feed`
        words it), and the lines before it (its events' lines are counted within it). Returns
        the last event's time."""
        loads = orjson.loads
        names = self.m.names
        people_get = self.people.get
        heap = self.heap
        event = self.event
        plus = _PLUS
        short = self._score_shortcut()
        plus_score = self._plus_score
        findings = self.findings
        started = self.started is not None
        read = simulated = 0
        last = None
        try:
            for latest_before, line_offset, chunks in ranges:
                for lines, times, before, raws, slow, pids, changes in chunks:
                    slow_lines = frozenset(slow)
                    for i in range(len(lines)):
                        line = lines[i] + line_offset
                        now = times[i]
                        if latest_before is not None and now < latest_before:
                            ev = loads(raws[i]) if i not in slow_lines else _loads_slow(raws[i], True, findings, display,
                                                                                        line)
                            prev = before[i]
                            findings.append(make("PK752", out_of_order_message(
                                ev["at"], latest_before if prev is None else max(prev, latest_before)),
                                file=display, line=line))
                            continue
                        change = changes[i]
                        if change is not None:  # a plain score change: the person and the change, no parse
                            pid = pids[i]
                            read += 1
                            last = now
                            names.origin = line
                            if short and started and change in plus and not (heap and heap[0][0] <= now) and \
                                    plus_score(people_get(pid), change, now, line):
                                simulated += 1
                                continue
                            event(line, now, pid, "score", {"change": change}, None)
                            started = True
                            continue
                        ev = loads(raws[i]) if i not in slow_lines else _loads_slow(raws[i], True, findings, display, line)
                        pid, etype = ev["person"], ev["type"]
                        if type(pid) is not str:
                            pid = str(pid)
                        data = ev["data"] if "data" in ev else None
                        if data is None:
                            data = {}
                        read += 1
                        last = now
                        names.origin = line  # a field name first spelled here: where (for the merge)
                        if etype == "score" and short and started and not (heap and heap[0][0] <= now):
                            change = data["change"] if "change" in data else None
                            if type(change) is str and change in plus and "score" not in data and \
                                    plus_score(people_get(pid), change, now, line):
                                simulated += 1
                                continue
                        source = ev["source"] if "source" in ev else None
                        event(line, now, pid, etype, data, source if type(source) is str else None)
                        started = True
            return last
        finally:
            self.counts["read"] += read
            self.counts["simulated"] += simulated

    def _score_shortcut(self) -> bool:
        """Prepare :meth:`_plus_score`; whether it may run (not when the lifecycle watches the score field)."""
        # (campaign, New Score test when it is the trigger's only constraint, else the full match)
        tests = [(camp, getattr(match, "new_only", None), match) for camp, match in self.m.on_score.get(SCORE_KEY, ())]
        # when every score trigger is "New Score at least T", a new score below the lowest T fires none
        floors = [getattr(t, "at_least", None) for _, t, _ in tests]
        self._score_tests = tests
        self._score_floor = min(floors) if floors and None not in floors else None
        # when every score campaign runs once per person, a person they all ran for is done with them
        self._score_once = (tuple(camp.name for camp, _, _ in tests) if tests and all(c.once for c, _, _ in tests)
                            else None)
        return self.lc is None or SCORE_KEY not in self.lc.on_field

    def _plus_score(self, p: Person | None, change: str, now: float, line: int) -> bool:
        """A plain "+N" change (``change``) of an integer person score, most of any events file, run
        with what :meth:`event` and :meth:`_score` do for it and none of the checks it cannot need;
        False (nothing done) when it is not that case. The caller checked that the clock has
        started, that no timer is due and that :meth:`_score_shortcut` allows it."""
        if p is None:
            return False
        fields = p.fields
        old = fields.get(SCORE_KEY)
        if old is None:  # no score yet: counts from 0, the change a float as in _score
            new_v = _PLUS[change]
            delta = float(new_v)
        elif type(old) is int:
            delta = _PLUS[change]
            new_v = old + delta
        else:
            return False
        fields[SCORE_KEY] = new_v
        tests = self._score_tests
        ran = p.ran
        once_names = self._score_once
        if once_names is not None and ran is not None and len(tests) < MAX_ACTIVITIES:
            for name in once_names:
                if name not in ran:
                    break
            else:
                return True
        floor = self._score_floor
        if floor is not None and float(new_v) < floor:
            return True
        hit = None
        for camp, test, match in tests:
            if test(new_v) if test is not None else match(old, new_v, delta):
                if hit is None:
                    hit = [camp]
                else:
                    hit.append(camp)
        if hit is None:
            return True
        if ran is not None and len(hit) < MAX_ACTIVITIES:
            for camp in hit:
                if not camp.once or camp.name not in ran:
                    break
            else:
                return True  # only "once" campaigns that already ran: nothing would happen
        self._queue.extend(hit)
        self._line = line  # as event() does: PK755 names the line
        self._now = now
        if self.keyed:
            self._act = (now, 2, line)
        self._drain(p)
        return True

    def _activity(self, p: Person | None, pid: str, etype: str, data: dict[str, Any], now: float) -> Person:
        """A form fill (``data``: ``form`` and the ``fields`` it submits) or a page visit (``page``): a fill by someone
        not in the database creates them, as Marketo does (a Person is Created with source "Form fill"); the
        submitted fields are set (Data Value Changes fires); then the trigger campaigns on that form or page run."""
        what = data.get(ACTIVITY_EVENTS[etype])
        if not isinstance(what, str) or not what.strip():
            raise Rejected(f"a {etype} event needs data.{ACTIVITY_EVENTS[etype]}: the name of the "
                           f"{'form' if etype == 'fillsOutForm' else 'landing page'}")
        submitted = data.get("fields") if etype == "fillsOutForm" else None
        if submitted is not None and not isinstance(submitted, dict):
            raise Rejected("data.fields of a form fill must be a JSON object (field → value)")
        key = self.m.names.key
        if p is None:
            if etype != "fillsOutForm":
                raise Rejected(f"no person {pid!r} (an anonymous page visit is not simulated)")
            p = Person(pid, {key(k): v for k, v in (submitted or {}).items()})
            self.people[pid] = p
            for camp, match in self.m.on_created:
                if match("Form fill"):
                    self._queue.append(camp)
            if self.lc is not None and self._applies(p):
                self._enter_lifecycle(p, now, "created")
        elif submitted:
            self._set_fields(p, [(key(k), v) for k, v in submitted.items()], "Form fill")
        for k in ((etype, what.strip().casefold()), (etype, "*")):
            self._queue.extend(self.m.on_activity.get(k, ()))
        return p

    def event(self, line: int, now: float, pid: str, etype: str, data: dict[str, Any], source: str | None) -> None:
        if self.started is None:
            self._start(now)
        if self.heap and self.heap[0][0] <= now:
            self.advance(now)
        self._line = line
        self._now = now
        if self.keyed:
            self._act = (now, 2, line)
        p: Person | None = self.people.get(pid)
        try:
            if etype == "created":
                if p is not None:
                    raise Rejected(f"person {pid!r} already exists")
                key = self.m.names.key
                p = Person(pid, {key(k): v for k, v in data.items()})
                self.people[pid] = p
                for camp, match in self.m.on_created:
                    if match(source):
                        self._queue.append(camp)
                if self.lc is not None and self._applies(p):
                    self._enter_lifecycle(p, now, "created")
            elif etype in ACTIVITY_EVENTS:
                p = self._activity(p, pid, etype, data, now)
            elif p is None:
                raise Rejected(f"no person {pid!r} (create them first with a 'created' event or list them in the people CSV)")
            elif etype == "change":
                key = self.m.names.key
                self._set_fields(p, [(key(k), v) for k, v in data.items()], source)
            elif etype == "score":
                change = data.get("change")
                if not isinstance(change, (str, int, float)) or isinstance(change, bool):
                    raise Rejected("a score event needs data.change, e.g. \"+10\" or \"=50\"")
                try:
                    score = data.get("score")
                    self._score(p, self.m.names.key(str(score)) if score else SCORE_KEY,
                                change if isinstance(change, str) else f"+{change}" if change >= 0 else str(change))
                except ValueError:
                    raise Rejected(f"score change {change!r} is not a number") from None
            else:
                key = self.m.names.key
                self._lifecycle_event(p, etype, {key(k): v for k, v in data.items()}, now)
        except Rejected as r:
            self._queue.clear()
            self.counts["rejected"] += 1
            record = {"line": line, "at": now, "person": pid, "event": etype, "reason": str(r)}
            self.rejected.append((self._act, record) if self.keyed else record)
            return
        self.counts["simulated"] += 1
        if self._queue:
            self._drain(p)

    def finish(self, until: float | None, last: float | None) -> None:
        end = until if until is not None else last
        if self.started is None and end is not None:
            self._start(end)
        if end is not None:
            self.advance(end)
            self._now = end
        self._line = 0  # a campaign loop in a batch run is not any line's
        at_end = end if end is not None else float("inf")
        for i, camp in enumerate(self.m.batch):  # batch campaigns run once, at the end, over everyone
            for pid in sorted(self.people):
                p = self.people[pid]
                if self.keyed:
                    self._act = (at_end, 3, i, pid)
                self._run(p, camp)
                self._drain(p)


    def result(self, until: float | None) -> SimulationResult:
        return build_result(self, until)
