"""The result of a simulation as plain data (:class:`SimulationResult`) and how it is built
from the engine's people: states, the funnel, each person's fields and history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..findings import Finding, Severity
from .lifecycle_engine import Unshown
from .person import Person
from .records import FindingSink, _Spill, _stamped, _Stamper, iso
from .rules import Lifecycle, Model


class Simulator(Protocol):
    """What the result is built from: a finished :class:`~programkit.simulate.engine.Simulator` (which imports this
    module, so it is described here, not imported)."""

    m: Model
    lc: Lifecycle | None
    keyed: bool
    people: dict[str, Person]
    runs: dict[str, int]
    counts: dict[str, int]
    alerts: _Spill
    emails: _Spill
    rejected: _Spill
    findings: FindingSink

NO_STATE = "(no state)"
NOT_APPLICABLE = "(not applicable)"


@dataclass
class SimulationResult:
    """Everything a simulation found out, as plain data."""

    bundle: str
    version: str
    lifecycle: str | None
    until: str | None
    events: dict[str, int]
    people: list[dict[str, Any]]
    states: dict[str, int]
    funnel: list[dict[str, Any]]
    alerts: Sequence[dict[str, Any]]  # a list, or Records read back from disk (what Simulator.result gives)
    emails: Sequence[dict[str, Any]]
    rejected: Sequence[dict[str, Any]]
    campaigns: dict[str, int]
    findings: Sequence[Finding] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        errors = getattr(self.findings, "errors", None)
        if errors is not None:
            return errors > 0
        return any(f.severity is Severity.ERROR for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "bundle": self.bundle, "version": self.version, "lifecycle": self.lifecycle, "until": self.until,
            "events": self.events, "states": self.states, "funnel": self.funnel, "campaigns": self.campaigns,
            "alerts": list(self.alerts), "emails": list(self.emails), "rejected": list(self.rejected),
            "people": self.people, "findings": [f.to_dict() for f in self.findings],
        }


def people_part(sim: Simulator) -> tuple[list[dict[str, Any]], dict[str, int], list[int]]:
    """A finished run's people, sorted by id, as the result shows them, with how many are in each
    state and how many reached each funnel step (a worker's part of the result: they add up)."""
    lcm = sim.lc
    states: dict[str, int] = {}
    people = []
    funnel_reached = [0] * (len(lcm.funnel) if lcm else 0)
    funnel_index = {s: i for i, s in enumerate(lcm.funnel)} if lcm else {}
    display = sim.m.names.display
    stamp = _Stamper()
    keyed = sim.keyed
    # people mostly share their fields' names: sorted once per set of names, with display names
    layouts: dict[tuple[str, ...], tuple[list[str], list[str]]] = {}

    p: Person
    for pid, p in sorted(sim.people.items()):
        label = p.state if p.state is not None and p.applies else NOT_APPLICABLE if p.state else NO_STATE
        states[label] = states.get(label, 0) + 1
        if lcm and p.history:
            top = -1
            for h in p.history:
                i = funnel_index.get(h.get("to"), -1)
                if i > top:
                    top = i
            for i in range(top + 1):
                funnel_reached[i] += 1
            if keyed:  # a worker kept lifecycle events' data by key: display names are final now
                for h in p.history:
                    data = h.get("data")
                    if type(data) is Unshown:
                        h["data"] = {display.get(k, k): data[k] for k in sorted(data)}
        fields = p.fields
        names = tuple(fields)
        layout = layouts.get(names)
        if layout is None:
            keys = sorted(fields)
            layout = layouts[names] = (keys, [display.get(k, k) for k in keys])
        people.append({"id": p.id, "state": p.state, "applies": p.applies,
                       "flags": sorted(p.flags) if p.flags else [], "programStatus": p.status,
                       "fields": dict(zip(layout[1], map(fields.__getitem__, layout[0]))),
                       "history": stamp(p.history)})
    return people, states, funnel_reached


def assemble(sim: Simulator, until: float | None, people: list[dict[str, Any]], states: dict[str, int],
             funnel_reached: list[int], runs: dict[str, int], counts: dict[str, int], alerts: Sequence[dict[str, Any]],
             emails: Sequence[dict[str, Any]], rejected: Sequence[dict[str, Any]],
             findings: Sequence[Finding]) -> SimulationResult:
    """The result from its parts: states in the lifecycle's order, the funnel's conversions."""
    lcm = sim.lc
    order = {s: i for i, s in enumerate(lcm.states)} if lcm else {}
    states = dict(sorted(states.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))
    funnel = []
    for i, s in enumerate(lcm.funnel if lcm else []):
        prev = funnel_reached[i - 1] if i else funnel_reached[0]
        funnel.append({"state": s, "reached": funnel_reached[i],
                       "conversion": round(funnel_reached[i] / prev, 4) if prev else None,
                       "overall": round(funnel_reached[i] / funnel_reached[0], 4) if funnel_reached[0] else None})
    return SimulationResult(
        bundle=sim.m.bundle_name, version=sim.m.version, lifecycle=lcm.name if lcm else None,
        until=iso(until) if until is not None else None, events=counts, people=people,
        states=states, funnel=funnel, alerts=alerts, emails=emails, rejected=rejected,
        campaigns=dict(sorted(runs.items())), findings=findings,
    )


def build_result(sim: Simulator, until: float | None) -> SimulationResult:
    """The result of a finished run (one process): people sorted by id, then states, the funnel
    and campaign runs; alerts, emails, rejections and findings read back from disk."""
    people, states, funnel_reached = people_part(sim)
    return assemble(sim, until, people, states, funnel_reached, sim.runs, dict(sim.counts), _stamped(sim.alerts),
                    _stamped(sim.emails), _stamped(sim.rejected), sim.findings.records())
