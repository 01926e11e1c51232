"""Lead lifecycle models: the ``leadLifecycle`` asset kind and its checks.

A lifecycle document (schema ``leadLifecycle``) lists states, the initial
and terminal states, transitions (event, from, to, required fields, a reason
from an ordered reason list), timers, flags, conditions on the person or
company, and settings that switch requirements on or off. The checks here run
inside every ``validate``; :mod:`programkit.simulate` executes the model.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any, Iterator

from .jsontypes import as_list
from .findings import Finding, Severity, make, register_code
from .jsonpos import escape
from .model import Asset, Bundle

#: Event types the simulator handles itself; a transition cannot be named after them.
RESERVED_EVENTS = ("created", "change", "score")

_DURATION_RE = re.compile(r"^([1-9][0-9]*) (minute|hour|day|week)s?$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}


def duration_seconds(text: str) -> int:
    """Seconds in a duration such as '14 days' or '72 hours' (the schema's pattern)."""
    m = _DURATION_RE.match(text.strip())
    if not m:
        raise ValueError(f"not a duration: {text!r} (use e.g. '14 days', '72 hours')")
    return int(m.group(1)) * _UNIT_SECONDS[m.group(2)]


def state_names(doc: dict[str, Any]) -> list[str]:
    return [s["name"] for s in as_list(doc.get("states")) if isinstance(s, dict) and isinstance(s.get("name"), str)]


def from_states(transition: dict[str, Any], states: list[str], terminal: set[str]) -> list[str]:
    """The states a transition leaves from; '*' means every non-terminal state."""
    raw = transition.get("from")
    names = [raw] if isinstance(raw, str) else [x for x in as_list(raw) if isinstance(x, str)]
    if "*" in names:
        return [s for s in states if s not in terminal]
    return names


def settings_of(doc: dict[str, Any]) -> dict[str, bool]:
    return {s["name"]: bool(s.get("value")) for s in as_list(doc.get("settings"))
            if isinstance(s, dict) and isinstance(s.get("name"), str)}


# --- checks ------------------------------------------------------------------

G = "lifecycle"
register_code("PK701", "duplicate-state", Severity.ERROR, "A lifecycle lists the same state twice.",
              hint="State names are unique (case-insensitive); remove or rename one.",
              example="lifecycle/referrals.json /states/4/name: state 'Accepted' is already defined at /states/1",
              group=G)
register_code("PK702", "unknown-state", Severity.ERROR,
              "A transition, timer, flag, the initial state, a terminal state or the funnel names a state the lifecycle does not define.",
              hint="Use one of the names under 'states' (spelling and case must match).",
              example="lifecycle/referrals.json /transitions/2/to: 'Acepted' is not a state (states: Accepted, Archived, …)",
              group=G)
register_code("PK703", "unreachable-state", Severity.WARNING,
              "No chain of transitions or timers leads from the initial state to this state.",
              hint="Add a transition or timer into the state, or remove the state.",
              example="lifecycle/lead-status.json /states/3: state 'Reprocessing' cannot be reached from 'Open'",
              group=G)
register_code("PK704", "terminal-has-exit", Severity.ERROR, "A terminal state has an outgoing transition.",
              hint="Terminal states are final: drop the state from 'terminal' or remove the transition.",
              example="lifecycle/referrals.json /transitions/6/from: 'Archived' is terminal but this transition leaves it",
              group=G)
register_code("PK705", "empty-reason-list", Severity.ERROR,
              "A transition asks for a reason from a list that is missing or empty.",
              hint="Add the list under 'reasonLists' with at least one reason, or drop the reason requirement.",
              example="lifecycle/referrals.json /transitions/1/reason/list: reason list 'Decline reasons' is empty",
              group=G)
register_code("PK706", "timer-on-terminal", Severity.ERROR, "A timer runs on a terminal state, where nothing may change.",
              hint="Put the timer on a non-terminal state, or make the state non-terminal.",
              example="lifecycle/referrals.json /timers/0/state: timer 'Expire' runs on terminal state 'Archived'",
              group=G)
register_code("PK707", "unknown-setting", Severity.ERROR, "A requirement is switched by a setting the lifecycle does not define.",
              hint="Define the setting under 'settings' (name and value), or fix the name.",
              example="lifecycle/lead-stages.json /transitions/3/reason/requiredBy: 'requireReason' is not a setting",
              group=G)
register_code("PK708", "duplicate-reason", Severity.ERROR, "A reason list has the same reason twice.",
              hint="Reasons are shown as a pick list; each must be unique.",
              example="lifecycle/lead-stages.json /reasonLists/Disqualification reasons/3: 'Timing' is already listed",
              group=G)
register_code("PK709", "ambiguous-transition", Severity.WARNING,
              "Two transitions leave the same state on the same event with no conditions to tell them apart.",
              hint="Give one of them conditions, or merge them; otherwise the first one listed always wins.",
              example="lifecycle/referrals.json /transitions/4: event 'accept' from 'Received' is also handled by /transitions/0",
              group=G)
register_code("PK710", "several-lifecycles", Severity.ERROR, "A bundle has more than one leadLifecycle asset.",
              hint="A program implements one lead lifecycle; merge them or split the bundle.",
              example="/assets/5: a second leadLifecycle 'Lead stages'; the first is /assets/4", group=G)


def lifecycles(bundle: Bundle) -> Iterator[Finding]:
    """The lifecycle checks of a bundle (a validate check): one lifecycle at most, each one well formed."""
    assets = bundle.assets_of("leadLifecycle")
    for extra in assets[1:]:
        yield make("PK710", f"{extra.pointer}: a second leadLifecycle {extra.name!r}; the first is {assets[0].pointer}",
                   file=bundle.manifest_path, pointer=extra.pointer)
    for a in assets:
        if isinstance(a.content, dict):
            yield from lifecycle_findings(a.content, a.path)


def lifecycle_findings(doc: dict[str, Any], file: str) -> Iterator[Finding]:
    """Every structural problem in one lifecycle document (assumed schema-shaped where it matters)."""
    states = state_names(doc)
    seen: dict[str, int] = {}
    for i, s in enumerate(as_list(doc.get("states"))):
        if not isinstance(s, dict) or not isinstance(s.get("name"), str):
            continue
        key = s["name"].casefold()
        if key in seen:
            p = f"/states/{i}/name"
            yield make("PK701", f"{p}: state {s['name']!r} is already defined at /states/{seen[key]}", file=file, pointer=p)
        else:
            seen[key] = i
    known = set(states)
    listing = ", ".join(sorted(known)) or "none"

    def unknown(name: Any, pointer: str, what: str = "") -> Iterator[Finding]:
        if isinstance(name, str) and name not in known and name != "*":
            yield make("PK702", f"{pointer}: {what}{name!r} is not a state (states: {listing})", file=file, pointer=pointer)

    yield from unknown(doc.get("initial"), "/initial")
    terminal = [t for t in as_list(doc.get("terminal")) if isinstance(t, str)]
    for i, t in enumerate(terminal):
        yield from unknown(t, f"/terminal/{i}")
    for i, t in enumerate(as_list(doc.get("funnel"))):
        yield from unknown(t, f"/funnel/{i}")
    terminal_set = set(terminal)
    settings = settings_of(doc)
    reason_lists = doc.get("reasonLists") if isinstance(doc.get("reasonLists"), dict) else {}
    for name, reasons in reason_lists.items():
        seen_r: set[str] = set()
        for i, r in enumerate(reasons if isinstance(reasons, list) else []):
            if isinstance(r, str):
                if r.casefold() in seen_r:
                    p = f"/reasonLists/{escape(name)}/{i}"
                    yield make("PK708", f"{p}: {r!r} is already listed", file=file, pointer=p)
                seen_r.add(r.casefold())

    def setting_ref(value: Any, pointer: str) -> Iterator[Finding]:
        if isinstance(value, str) and value not in settings:
            yield make("PK707", f"{pointer}: {value!r} is not a setting (settings: {', '.join(sorted(settings)) or 'none'})",
                       file=file, pointer=pointer)

    transitions = [t for t in as_list(doc.get("transitions"))]
    handled: dict[tuple[str, str], int] = {}
    for i, t in enumerate(transitions):
        if not isinstance(t, dict):
            continue
        base = f"/transitions/{i}"
        raw_from = t.get("from")
        from_list = [raw_from] if isinstance(raw_from, str) else raw_from if isinstance(raw_from, list) else []
        for j, f in enumerate(from_list):
            yield from unknown(f, f"{base}/from" if isinstance(raw_from, str) else f"{base}/from/{j}")
            if isinstance(f, str) and f in terminal_set:
                p = f"{base}/from" if isinstance(raw_from, str) else f"{base}/from/{j}"
                yield make("PK704", f"{p}: {f!r} is terminal but this transition leaves it", file=file, pointer=p)
        yield from unknown(t.get("to"), f"{base}/to")
        for j, req in enumerate(as_list(t.get("requires"))):
            if isinstance(req, dict):
                yield from setting_ref(req.get("requiredBy"), f"{base}/requires/{j}/requiredBy")
        reason = t.get("reason")
        if isinstance(reason, dict) and isinstance(reason.get("list"), str):
            listed = reason_lists.get(reason["list"])
            if not listed:
                state = "is empty" if isinstance(listed, list) else "is not defined in reasonLists"
                yield make("PK705", f"{base}/reason/list: reason list {reason['list']!r} {state}", file=file,
                           pointer=f"{base}/reason/list")
            yield from setting_ref(reason.get("requiredBy"), f"{base}/reason/requiredBy")
        if not t.get("conditions") and isinstance(t.get("event"), str):
            for f in from_states(t, states, terminal_set):
                key = (t["event"], f)
                if key in handled:
                    yield make("PK709", f"{base}: event {t['event']!r} from {f!r} is also handled by "
                                        f"/transitions/{handled[key]}", file=file, pointer=base)
                else:
                    handled[key] = i
    for i, tm in enumerate(as_list(doc.get("timers"))):
        if not isinstance(tm, dict):
            continue
        yield from unknown(tm.get("state"), f"/timers/{i}/state")
        yield from unknown(tm.get("to"), f"/timers/{i}/to")
        if isinstance(tm.get("state"), str) and tm["state"] in terminal_set:
            yield make("PK706", f"/timers/{i}/state: timer {tm.get('name')!r} runs on terminal state {tm['state']!r}",
                       file=file, pointer=f"/timers/{i}/state")
    for i, fl in enumerate(as_list(doc.get("flags"))):
        if isinstance(fl, dict):
            yield from unknown(fl.get("onEnter"), f"/flags/{i}/onEnter")

    initial = doc.get("initial")
    if isinstance(initial, str) and initial in known:
        reached = _reachable(doc, states, terminal_set)
        for i, s in enumerate(as_list(doc.get("states"))):
            name = s.get("name") if isinstance(s, dict) else None
            if isinstance(name, str) and name not in reached and seen.get(name.casefold()) == i:
                yield make("PK703", f"/states/{i}: state {name!r} cannot be reached from {initial!r}", file=file,
                           pointer=f"/states/{i}")


def _reachable(doc: dict[str, Any], states: list[str], terminal: set[str]) -> set[str]:
    edges: dict[str, set[str]] = {}
    for t in as_list(doc.get("transitions")):
        if isinstance(t, dict) and isinstance(t.get("to"), str):
            for f in from_states(t, states, terminal):
                edges.setdefault(f, set()).add(t["to"])
    for tm in as_list(doc.get("timers")):
        if isinstance(tm, dict) and isinstance(tm.get("state"), str) and isinstance(tm.get("to"), str):
            edges.setdefault(tm["state"], set()).add(tm["to"])
    start = doc["initial"]
    seen = {start}
    queue = deque([start])
    while queue:
        for nxt in edges.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def lifecycle_asset(bundle: Bundle) -> Asset | None:
    """The bundle's lead lifecycle asset, if it has one."""
    found = bundle.assets_of("leadLifecycle")
    return found[0] if found else None
