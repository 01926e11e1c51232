"""The campaign engine: field and score changes, the trigger campaigns they set off, and each
campaign run (qualification rule, filters, flow steps) with the activities it queues.
A mixin of :class:`~programkit.simulate.engine.Simulator`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..findings import make
from .conditions import _PLUS, _num, _text, apply_score_change
from .person import Person
from .rules import Campaign

if TYPE_CHECKING:
    from .person import Person

MAX_ACTIVITIES = 1000


def _owner(value: Any) -> str:
    return str(value) if _text(value) else "(no person owner)"


class CampaignEngine:
    """Campaigns and field changes of a :class:`~programkit.simulate.engine.Simulator`."""

    def _set_fields(self, p: Person, changes: list[tuple[str, Any]], source: str | None) -> None:
        fields = p.fields
        changed = []
        for key, value in changes:
            old = fields.get(key)
            if old == value or _text(old) == _text(value):
                continue
            fields[key] = value
            changed.append((key, old, value))
        if not changed:
            return
        lcm = self.lc
        if lcm is not None:
            watched = lcm.applies_keys
            if watched and (changed[0][0] in watched or any(k in watched for k, _, _ in changed[1:])):
                now_applies = self._applies(p)
                if now_applies and not p.applies:
                    self._enter_lifecycle(p, self._now, "applies")
                elif p.applies and not now_applies:
                    p.applies = False
                    p.history.append({"at": self._now, "event": "no longer applies", "from": p.state, "to": p.state})
            if p.applies and lcm.on_field:
                for key, _, value in changed:
                    for test, tr in lcm.on_field.get(key, ()):
                        if p.state in tr.sources and test(value) and self._conditions_hold(tr, fields, None):
                            self._enter(p, tr.to, self._now, tr.event, None)
                            break
        on_change = self.m.on_change
        if on_change:
            any_field = on_change.get("*", ())
            for key, old, value in changed:
                for matches in (on_change.get(key, ()), any_field):
                    for camp, match in matches:
                        if match(old, value, source):
                            self._queue.append(camp)

    def _run(self, p: Person, camp: Campaign) -> None:
        now = self._now
        # the qualification rule before the filters (they are pure): most runs end here, cheaply
        if camp.once or camp.every_seconds:
            ran = p.ran
            last = ran.get(camp.name) if ran is not None else None
            if last is not None and (camp.once or now - last < camp.every_seconds):
                return
            if not camp.filters(p.fields):
                return
            if ran is None:
                ran = p.ran = {}
            ran[camp.name] = now
        elif not camp.filters(p.fields):
            return
        self.runs[camp.name] = self.runs.get(camp.name, 0) + 1
        for step in camp.flow:
            kind = step[0]
            if kind == "set":
                self._set_fields(p, [(step[1], step[2])], None)
            elif kind == "score":
                self._score(p, step[1], step[2])
            elif kind == "sync":
                self._set_fields(p, [(step[2], True)], None)
                self._queue.extend(self.m.on_synced.get(step[1], ()))
            elif kind in ("alert", "email"):
                to = list(step[2])
                if step[3]:
                    fields = p.fields
                    to.append(_owner(next((fields[k] for k in step[3] if _text(fields.get(k))), None)))
                record = {"at": now, "person": p.id, "campaign": camp.name, "email": step[1], "to": to}
                (self.alerts if kind == "alert" else self.emails).append((self._act, record) if self.keyed else record)
            elif kind == "status":
                p.status = step[2]

    def _score(self, p: Person, key: str, change: str) -> None:
        fields = p.fields
        old = fields.get(key)
        if type(old) is int and (delta := _PLUS.get(change)) is not None:  # the common case, kept cheap
            new_v: Any = old + delta
        elif type(old) is int and change[:1] == "+" and change[1:].isdigit():
            delta = int(change[1:])
            new_v = old + delta
        else:
            new = apply_score_change(old, change)
            new_v = int(new) if new.is_integer() else new
            delta = new - (_num(old) or 0.0)
        fields[key] = new_v
        lcm = self.lc
        if lcm is not None and p.applies and key in lcm.on_field:
            for test, tr in lcm.on_field[key]:
                if p.state in tr.sources and test(new_v):
                    self._enter(p, tr.to, self._now, tr.event, None)
                    break
        for camp, match in self.m.on_score.get(key, ()):
            if match(old, new_v, delta):
                self._queue.append(camp)

    def _drain(self, p: Person) -> None:
        queue = self._queue
        n = 0
        while queue:
            camp = queue.pop(0)
            n += 1
            if n > MAX_ACTIVITIES:
                queue.clear()
                self.findings.append(make("PK755", f"more than {MAX_ACTIVITIES} campaign runs for person {p.id}; "
                                                   "the rest of this event was dropped",
                                          file=self.events_file, line=self._line or None))
                return
            self._run(p, camp)

