"""The lifecycle engine: who the lead lifecycle applies to, entering states (timers, flags,
automatic transitions), lifecycle events with their required fields and reasons, and timers
firing as the clock advances. A mixin of :class:`~programkit.simulate.engine.Simulator`."""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any

from .conditions import _text
from .person import Person
from .rules import Transition

if TYPE_CHECKING:
    from .person import Person


class Unshown(dict):
    """A lifecycle event's data by field key, shown with display names when the result is built."""


class Rejected(Exception):
    """An event the lifecycle (or the person's state) does not allow; its message is the reason."""


class LifecycleEngine:
    """Lifecycle transitions of a :class:`~programkit.simulate.engine.Simulator`."""

    def _applies(self, p: Person) -> bool:
        f = p.fields
        for key, test in self.lc.applies:
            if not test(f.get(key)):
                return False
        return True

    def _enter_lifecycle(self, p: Person, now: float, event: str, state: str | None = None) -> None:
        p.applies = True
        self._enter(p, state or self.lc.initial, now, event, None)

    def _enter(self, p: Person, state: str, now: float, event: str, data: dict | None) -> None:
        lcm = self.lc
        old = p.state
        p.state = state
        p.epoch += 1
        entry = {"at": now, "event": event, "from": old, "to": state}
        if data:
            entry["data"] = self._shown(data)
        p.history.append(entry)
        if lcm.state_key:
            self._set_fields(p, [(lcm.state_key, state)], None)
        for tm in lcm.timers.get(state, ()):
            self._schedule(now + tm.seconds, p.id, "timer", tm.name, p.epoch)
        for fl in lcm.flags.get(state, ()):
            if all(test(p.fields.get(k)) for k, test in fl.conditions):
                if p.flags is None:
                    p.flags = {}
                p.flags[fl.name] = now + fl.seconds
                p.history.append({"at": now, "flag": fl.name, "on": True})
                self._schedule(now + fl.seconds, p.id, "flag", fl.name, 0)
        for tr in lcm.automatic.get(state, ()):
            if self._conditions_hold(tr, p.fields, None):
                self._enter(p, tr.to, now, tr.event, None)
                break

    def _shown(self, data: dict[str, Any]) -> Any:  # a dict or Unshown (Any: the compiled core checks exact types)
        if self.keyed:  # display names are merged across workers at the end: shown then (result.py)
            return Unshown(data)
        display = self.m.names.display
        return {display.get(k, k): data[k] for k in sorted(data)}

    def _schedule(self, due: float, pid: str, kind: str, name: str, epoch: int) -> None:
        self.seq += 1
        # keyed (a worker): the scheduling activity's key and the count, which sort across workers
        # as the one-process count does
        heapq.heappush(self.heap, (due, (self._act, self.seq) if self.keyed else self.seq, pid, kind, name, epoch))

    def _conditions_hold(self, tr: Transition, fields: dict, data: dict | None) -> bool:
        for key, test in tr.conditions:
            v = data[key] if data and key in data else fields.get(key)
            if not test(v):
                return False
        return True

    def _lifecycle_event(self, p: Person, etype: str, data: dict[str, Any], now: float) -> None:
        lcm = self.lc
        if lcm is None or etype not in lcm.known_events:
            raise Rejected(f"{etype!r} is not an event of the lifecycle"
                           + (f" (events: {', '.join(sorted(lcm.known_events))})" if lcm else " (the bundle has no lifecycle)"))
        if p.state is None:
            raise Rejected("the person has no lifecycle state (the lifecycle does not apply to them)")
        if not p.applies:
            raise Rejected(f"the lifecycle no longer applies to the person; state {p.state!r} cannot change")
        for tm in lcm.timers.get(p.state, ()):
            if etype in tm.without:  # the clock restarts
                p.epoch += 1
                for t2 in lcm.timers.get(p.state, ()):
                    self._schedule(now + t2.seconds, p.id, "timer", t2.name, p.epoch)
                break
        candidates = [t for t in lcm.by_event.get(etype, ()) if p.state in t.sources]
        if not candidates:
            if any(etype in tm.without for tm in lcm.timers.get(p.state, ())):
                return
            raise Rejected(f"no {etype!r} transition from state {p.state!r}")
        tr = next((t for t in candidates if self._conditions_hold(t, p.fields, data)), None)
        if tr is None:
            raise Rejected(f"the conditions of {etype!r} from {p.state!r} do not hold")
        missing = [name for name, key in tr.requires
                   if _text(data[key] if key in data else p.fields.get(key)) == ""]
        if missing:
            raise Rejected(f"{etype!r} requires {', '.join(missing)}: missing")
        if tr.reason_key is not None:
            reason = data.get(tr.reason_key)
            if _text(reason) == "":
                if tr.reason_required:
                    raise Rejected(f"{etype!r} requires a reason ({tr.reason_name}) from {tr.reason_list!r}")
            elif _text(reason) not in tr.reasons:
                raise Rejected(f"{reason!r} is not in {tr.reason_list!r} ({', '.join(tr.reasons.values())})")
        self._set_fields(p, list(data.items()), None)
        if tr.to == p.state:  # staying put (e.g. editing an accepted referral): no re-entry
            p.history.append({"at": now, "event": etype, "from": p.state, "to": p.state,
                              **({"data": self._shown(data)} if data else {})})
            return
        if p.state in tr.sources:
            self._enter(p, tr.to, now, etype, data)

    # --- fields and campaigns -------------------------------------------------------------
    # --- time ------------------------------------------------------------------------
    def advance(self, now: float) -> None:
        """Fire every timer and flag expiry due at or before ``now``, in due order."""
        heap = self.heap
        while heap and heap[0][0] <= now:
            due, seq, pid, kind, name, epoch = heapq.heappop(heap)
            p: Person = self.people[pid]
            self._now = due
            self._line = 0  # a campaign loop set off by a timer is not any line's (PK755 without a line)
            if self.keyed:
                self._act = (due, 1, seq)
            if kind == "flag":
                if p.flags and p.flags.get(name) == due:
                    del p.flags[name]
                    p.history.append({"at": due, "flag": name, "on": False})
                continue
            if epoch != p.epoch or not p.applies:
                continue
            tm = next(t for t in self.lc.timers.get(p.state, ()) if t.name == name)
            self._enter(p, tm.to, due, name, None)
            self._drain(p)

    # --- events ------------------------------------------------------------------------
