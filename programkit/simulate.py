"""Simulate stage: run people and events through a bundle's smart campaigns and lead lifecycle.

Input is a people CSV (``id`` plus field columns: the database when the
simulation starts) and an optional JSON-lines file of events in time order::

    {"at": "2026-03-02T09:00:00Z", "person": "p1", "type": "created", "data": {"Email Address": "a@example.com"}}

Event types: ``created`` (a new person; ``data`` holds the fields), ``change``
(set fields), ``score`` (``{"change": "+10"}``, optional ``"score"`` name), and
any event the lifecycle's transitions name (``accept``, ``decline`` …, whose
``data`` carries the transition's fields and reason). Events are streamed:
memory grows with the people and their history, never with the number of
event lines: alerts, emails, rejected events and findings are spilled to
temporary files as they happen and read back (as :class:`Records`) when the
result is rendered. Everything is ordered (people by id, then time and
input order), so the same input always gives the same bytes.
"""

from __future__ import annotations

import csv
import gc
import heapq
import json
import json.scanner
import itertools
import operator
import os
import pickle
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator

import orjson

from . import lifecycle as lc
from .errors import BadInput, ProgramkitError, require_path
from .findings import Finding, Severity, did_you_mean, make, register_code, sort_key
from .load import load_bundle
from .model import Bundle
from .validate import TOKEN_RE, catalog, validate_loaded

G = "simulate"
register_code("PK751", "malformed-event", Severity.ERROR, "An events line is not a JSON object with 'at', 'person' and 'type'.",
              hint='Each line is one JSON object: {"at": ISO-8601 time, "person": id, "type": name, "data": {...}}.',
              example="events.jsonl:7: 'at' is not an ISO-8601 time: '2026-13-01'", group=G)
register_code("PK752", "event-out-of-order", Severity.ERROR, "An event is earlier than the event before it.",
              hint="Sort the events file by time (events must be in time order); the line was skipped.",
              example="events.jsonl:12: 2026-03-01T08:00:00Z is before the previous event (2026-03-02T09:00:00Z)",
              group=G)
register_code("PK753", "bad-person-row", Severity.ERROR, "A people CSV row has an empty or duplicate id.",
              hint="Give every row a unique, non-empty id; the row was skipped.",
              example="people.csv:4: id 'p2' is already used on line 3", group=G)
register_code("PK754", "not-simulated", Severity.WARNING,
              "A trigger or flow step is not simulated, so the simulation may differ from Marketo here.",
              hint="The simulator runs Person is Created, Data Value Changes, Score is Changed and Person is Synced "
                   "triggers and the Change Data Value, Change Score, Sync Person, Send Alert/Email and Change "
                   "Program Status steps.",
              example="campaigns/03.json /flow/1/step: 'Wait' is not simulated; the step is skipped", group=G)
register_code("PK755", "campaign-loop", Severity.ERROR,
              "One event set off more campaign runs than the simulator allows, probably a loop between campaigns.",
              hint="Check for campaigns that trigger each other (e.g. two Change Data Value steps on the same field).",
              example="events.jsonl:40: more than 1000 activities for person p9; the rest of this event was dropped",
              group=G)
register_code("PK756", "bundle-not-simulable", Severity.ERROR, "The bundle has errors, so it cannot be simulated.",
              hint="Run `programkit validate` and fix the errors first.",
              example="campaigns/02.json /type: 'trigered' is not one of ['trigger', 'batch']", group=G)
register_code("PK757", "unknown-person-column", Severity.WARNING,
              "A people CSV column is neither a standard field nor a field the bundle requires.",
              hint="Check the column's spelling (display or API name): its values are kept, but no campaign or "
                   "lifecycle condition reads a field by that name. A custom field belongs in requires.fields.",
              example="people.csv:1:3: column 'Email Adress' is not a person field; did you mean 'Email Address'?",
              group=G)
register_code("PK758", "unknown-person-state", Severity.WARNING,
              "A people CSV row gives a lifecycle state that the lifecycle does not have.",
              hint="Use one of the lifecycle's states, spelled as the lifecycle spells them; the value was ignored, "
                   "so the person starts in the initial state.",
              example="people.csv:4:5: Lead Status 'Contactin' is not a state of 'Lead Status' (Open, Contacting, "
                      "Qualified); the person starts in Open; did you mean 'Contacting'?",
              group=G)
register_code("PK759", "bad-person-value", Severity.WARNING,
              "A people CSV cell of a numeric field (score, integer, float, currency) is not a number.",
              hint="Give a number, e.g. 10 or 2.5; the value was kept as text, so numeric conditions on the field "
                   "do not hold and score changes count from 0.",
              example="people.csv:7:4: Person Score 'abc' is not a number", group=G)
register_code("PK760", "bad-setting", Severity.ERROR,
              "A --setting names no setting of the bundle's lead lifecycle, or its value is not true or false.",
              hint="Use NAME=true or NAME=false with a setting the lifecycle lists under 'settings'.",
              example="--setting foo=true: the lifecycle 'Referral Lifecycle' has no setting 'foo'; its settings: "
                      "requireDisqualificationReason", group=G)

MAX_ACTIVITIES = 1000

#: what --people and --events must name (docs/simulate.md has the details)
PEOPLE_HINT = ("--people names a CSV file: a header row with an 'id' column and the person fields the campaigns "
               "read (display or API names, e.g. id,Email Address,Person Score), then one person a row. "
               "See docs/simulate.md.")
EVENTS_HINT = ('--events names a JSON Lines file: one event a line, in time order, e.g. '
               '{"at": "2026-04-01T09:00:00Z", "person": "p1", "type": "score", "data": {"change": "+10"}}. '
               'See docs/simulate.md.')

_PLUS = {f"+{n}": n for n in range(1000)}  # score changes "+N" → N, the common case
NO_STATE = "(no state)"
NOT_APPLICABLE = "(not applicable)"

# --- values and conditions ------------------------------------------------------


def _text(v: Any) -> str:
    """Value as case-folded text: True → 'true', 10.0 → '10', None → ''."""
    t = type(v)
    if t is str:
        return v.strip().casefold()
    if v is None:
        return ""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if t is float and v.is_integer():
        return str(int(v))
    return str(v).strip().casefold()


def _num(v: Any) -> float | None:
    t = type(v)
    if t is int or t is float:  # bool is not: type(True) is bool
        return float(v)
    if v is None or t is bool:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    try:
        return float(str(v).strip())
    except ValueError:
        return None


def value_test(op: str, values: list[Any]) -> Callable[[Any], bool]:
    """A predicate on one value for a Marketo-style operator and its values (tokens already resolved)."""
    op = (op or "is").strip().casefold()
    texts = frozenset(_text(v) for v in values)
    if "false" in texts:  # an unset boolean field is false (e.g. Synced to SFDC on a new person)
        texts |= {""}
    nums = [n for n in (_num(v) for v in values) if n is not None]
    first = nums[0] if nums else None
    if op in ("is", "is any", "in"):
        return lambda v: _text(v) in texts
    if op in ("is not", "not in"):
        return lambda v: _text(v) not in texts
    if op == "is empty":
        return lambda v: _text(v) == ""
    if op == "is not empty":
        return lambda v: _text(v) != ""
    if op in ("contains", "not contains", "starts with"):
        subs = [t for t in texts if t]
        if op == "contains":
            return lambda v: any(s in _text(v) for s in subs)
        if op == "not contains":
            return lambda v: not any(s in _text(v) for s in subs)
        return lambda v: any(_text(v).startswith(s) for s in subs)
    if op == "between" and len(nums) >= 2:
        lo, hi = min(nums[:2]), max(nums[:2])
        return lambda v: (n := _num(v)) is not None and lo <= n <= hi
    compare = {"at least": float.__ge__, "at most": float.__le__, "greater than": float.__gt__,
               "less than": float.__lt__}.get(op)
    if compare is not None and first is not None:
        def compare_test(v: Any) -> bool:
            t = type(v)
            if t is int or t is float:  # what _num does for them, without the call
                return compare(float(v), first)
            n = _num(v)
            return n is not None and compare(n, first)

        if op == "at least":
            compare_test.at_least = first  # type: ignore[attr-defined]  (the event loop compares directly)
        return compare_test
    raise ValueError(f"operator {op!r} with values {values!r} is not supported")


class FieldNames:
    """Maps field names as users write them (display or API name, any case) to one key."""

    def __init__(self, bundle: Bundle) -> None:
        self._map: dict[str, str] = {}
        self.display: dict[str, str] = {}
        self._seen: dict[str, str] = {}
        self._api: list[str] = []
        self.types: dict[str, str] = {}  # key → catalogue type ("score", "integer" …)
        fields = list(catalog()["standardFields"]) + [f for f in bundle.requires.get("fields") or [] if isinstance(f, dict)]
        for f in fields:
            display = f.get("displayName") or f.get("apiName")
            key = display.casefold()
            self.display.setdefault(key, display)
            self._map[key] = key
            if isinstance(f.get("type"), str):
                self.types.setdefault(key, f["type"])
            if isinstance(f.get("apiName"), str):
                self._api.append(f["apiName"])
                self._map.setdefault(f["apiName"].casefold(), key)

    def known(self, name: str) -> bool:
        """Whether ``name`` is a standard field, a required one, or one the bundle itself reads."""
        return name.strip().casefold() in self._map

    def spellings(self) -> list[str]:
        """Every name a field is known by (display and API names), for "did you mean"."""
        return sorted(set(self.display.values()) | set(self._api))

    def key(self, name: str) -> str:
        found = self._seen.get(name)  # names as spelled in the input repeat: skip strip and casefold
        if found is not None:
            return found
        k = name.strip().casefold()
        found = self._map.get(k)
        if found is None:  # a field the catalogue does not know: shown as first spelled
            self.display.setdefault(k, name.strip())
            self._map[k] = found = k
        self._seen[name] = found
        return found


SCORE_KEY = "person score"


# --- the compiled bundle ------------------------------------------------------------


@dataclass
class Transition:
    index: int
    event: str
    sources: frozenset[str]
    to: str
    requires: list[tuple[str, str]]  # (display name, key)
    reason_key: str | None
    reason_name: str | None
    reason_required: bool
    reasons: dict[str, str]  # casefold → as listed
    reason_list: str | None
    conditions: list[tuple[str, Callable[[Any], bool]]]
    automatic: bool


@dataclass
class Timer:
    name: str
    state: str
    seconds: int
    to: str
    without: frozenset[str]


@dataclass
class Flag:
    name: str
    on_enter: str
    seconds: int
    conditions: list[tuple[str, Callable[[Any], bool]]]


@dataclass
class Lifecycle:
    name: str
    states: list[str]
    initial: str
    terminal: frozenset[str]
    funnel: list[str]
    state_key: str | None
    applies: list[tuple[str, Callable[[Any], bool]]]
    applies_keys: frozenset[str]
    by_event: dict[str, list[Transition]]
    on_field: dict[str, list[tuple[Callable[[Any], bool], Transition]]]
    automatic: dict[str, list[Transition]]
    timers: dict[str, list[Timer]]
    flags: dict[str, list[Flag]]
    known_events: frozenset[str]


@dataclass
class Campaign:
    name: str
    file: str
    type: str
    once: bool
    every_seconds: int | None
    filters: Callable[[dict[str, Any]], bool]
    flow: list[tuple]


@dataclass
class Model:
    bundle_name: str
    version: str
    program: str
    names: FieldNames
    lifecycle: Lifecycle | None
    on_created: list[tuple[Campaign, Callable[[str | None], bool]]]
    on_change: dict[str, list[tuple[Campaign, Callable[[Any, Any, str | None], bool]]]]
    on_score: dict[str, list[tuple[Campaign, Callable[[Any, Any, float], bool]]]]
    on_synced: dict[str, list[Campaign]]
    batch: list[Campaign]
    findings: list[Finding]
    #: (activity, casefolded form or page name, or "*") → trigger campaigns: "Fills Out Form", "Visits Web Page"
    on_activity: dict[tuple[str, str], list[Campaign]] = field(default_factory=dict)


def _tokens(bundle: Bundle) -> dict[str, Any]:
    return {t["name"].strip().casefold(): t.get("value") for t in bundle.program.get("tokens") or []
            if isinstance(t, dict) and isinstance(t.get("name"), str)}


def _resolver(bundle: Bundle) -> Callable[[Any], Any]:
    tokens = _tokens(bundle)
    program = bundle.program.get("name")

    def resolve(v: Any) -> Any:
        if not isinstance(v, str) or "{{" not in v:
            return v
        whole = TOKEN_RE.fullmatch(v.strip())
        if whole and whole.group(1).casefold() == "my" and whole.group(2).strip().casefold() in tokens:
            return tokens[whole.group(2).strip().casefold()]  # keep the token's type (a number stays a number)

        def sub(m: re.Match) -> str:
            scope, name = m.group(1).casefold(), m.group(2).strip().casefold()
            if scope == "my" and name in tokens:
                return str(tokens[name])
            if scope == "program" and name == "name" and program:
                return str(program)
            return m.group(0)

        return TOKEN_RE.sub(sub, v)

    return resolve


def _conditions(items: Iterable[Any], names: FieldNames, resolve: Callable[[Any], Any]) -> list[tuple[str, Callable]]:
    out = []
    for c in items or []:
        out.append((names.key(c["field"]), value_test(c["operator"], [resolve(v) for v in c.get("values") or []])))
    return out


def _compile_lifecycle(bundle: Bundle, names: FieldNames, resolve: Callable, settings: dict[str, bool]) -> Lifecycle | None:
    asset = lc.lifecycle_asset(bundle)
    if asset is None or not isinstance(asset.content, dict):
        return None
    doc = asset.content
    states = lc.state_names(doc)
    terminal = frozenset(doc.get("terminal") or [])
    switches = {**lc.settings_of(doc), **settings}
    reason_lists = doc.get("reasonLists") or {}
    by_event: dict[str, list[Transition]] = {}
    on_field: dict[str, list] = {}
    automatic: dict[str, list[Transition]] = {}
    for i, t in enumerate(doc.get("transitions") or []):
        requires = []
        for r in t.get("requires") or []:
            name = r if isinstance(r, str) else r["field"]
            if isinstance(r, dict) and r.get("requiredBy") and not switches.get(r["requiredBy"], False):
                continue
            requires.append((name, names.key(name)))
        reason = t.get("reason")
        reason_required = False
        if reason:
            reason_required = switches.get(reason["requiredBy"], False) if reason.get("requiredBy") else reason.get("required", True)
        tr = Transition(
            index=i, event=t["event"], sources=frozenset(lc.from_states(t, states, terminal)), to=t["to"],
            requires=requires,
            reason_key=names.key(reason.get("field", "reason")) if reason else None,
            reason_name=reason.get("field", "reason") if reason else None,
            reason_required=reason_required,
            reasons={r.casefold(): r for r in reason_lists.get(reason["list"], [])} if reason else {},
            reason_list=reason["list"] if reason else None,
            conditions=_conditions(t.get("conditions"), names, resolve),
            automatic=bool(t.get("automatic")),
        )
        by_event.setdefault(tr.event, []).append(tr)
        if t.get("onField"):
            test = value_test("is", [resolve(v) for v in t["onField"]["values"]])
            on_field.setdefault(names.key(t["onField"]["field"]), []).append((test, tr))
        if tr.automatic:
            for s in tr.sources:
                automatic.setdefault(s, []).append(tr)
    timers: dict[str, list[Timer]] = {}
    known = set(by_event)
    for tm in doc.get("timers") or []:
        timers.setdefault(tm["state"], []).append(
            Timer(tm["name"], tm["state"], lc.duration_seconds(tm["after"]), tm["to"], frozenset(tm.get("without") or [])))
        known.update(tm.get("without") or [])
    flags: dict[str, list[Flag]] = {}
    for fl in doc.get("flags") or []:
        flags.setdefault(fl["onEnter"], []).append(
            Flag(fl["name"], fl["onEnter"], lc.duration_seconds(fl["for"]), _conditions(fl.get("conditions"), names, resolve)))
    applies = _conditions(doc.get("appliesTo"), names, resolve)
    return Lifecycle(
        name=asset.name, states=states, initial=doc["initial"], terminal=terminal,
        funnel=list(doc.get("funnel") or states),
        state_key=names.key(doc["stateField"]) if doc.get("stateField") else None,
        applies=applies, applies_keys=frozenset(k for k, _ in applies),
        by_event=by_event, on_field=on_field, automatic=automatic, timers=timers, flags=flags,
        known_events=frozenset(known),
    )


def _rule_logic(logic: Any, tests: list[Callable[[dict], bool]]) -> Callable[[dict], bool]:
    if not tests:
        return lambda fields: True
    if logic in (None, "all"):
        if len(tests) == 1:
            return tests[0]

        def every(fields: dict) -> bool:  # a loop: far cheaper than all() over a generator
            for t in tests:
                if not t(fields):
                    return False
            return True

        return every
    if logic == "any":
        return lambda fields: any(t(fields) for t in tests)
    if not re.fullmatch(r"[0-9 ()]+(\s*(and|or|AND|OR)\s*[0-9 ()]+)*", logic):
        raise ValueError(f"rule logic {logic!r} is not supported")
    expr = re.sub(r"\d+", lambda m: f"t[{int(m.group(0)) - 1}](f)", logic.lower())
    code = compile(expr, "<ruleLogic>", "eval")  # only digits, parentheses, and/or: checked above
    return lambda fields: bool(eval(code, {"__builtins__": {}}, {"t": tests, "f": fields}))  # noqa: S307


def _field_test(key: str, test: Callable[[Any], bool]) -> Callable[[dict], bool]:
    return lambda fields: test(fields.get(key))


_QUAL_SECONDS = {"once every 1 hour": 3600, "once every 1 day": 86400, "once every 7 days": 7 * 86400,
                 "once every 30 days": 30 * 86400}
_SUPPORTED_STEPS = ("Change Data Value", "Change Score", "Sync Person to SFDC", "Sync Person to Microsoft",
                    "Send Alert", "Send Email", "Change Program Status")


def compile_bundle(bundle: Bundle, settings: dict[str, bool] | None = None) -> Model:
    """Precompile campaigns and the lifecycle into matchers the event loop calls directly."""
    names = FieldNames(bundle)
    resolve = _resolver(bundle)
    findings: list[Finding] = []
    manifest = bundle.manifest or {}
    model = Model(
        bundle_name=str(manifest.get("name", "")), version=str(manifest.get("version", "")),
        program=str(bundle.program.get("name", "")), names=names,
        lifecycle=_compile_lifecycle(bundle, names, resolve, settings or {}),
        on_created=[], on_change={}, on_score={}, on_synced={}, batch=[], findings=findings,
    )
    for a in bundle.assets_of("smartCampaign"):
        doc = a.content
        if not isinstance(doc, dict) or not doc.get("active", False):
            continue
        sl = doc.get("smartList") or {}
        tests = []
        for i, f in enumerate(sl.get("filters") or []):
            try:
                tests.append(_field_test(names.key(f["filter"]),
                                         value_test(f.get("operator", "is"), [resolve(v) for v in f.get("values") or []])))
            except ValueError as e:
                findings.append(make("PK754", f"/smartList/filters/{i}: {e}; the filter is treated as never matching",
                                     file=a.path, pointer=f"/smartList/filters/{i}"))
                tests.append(lambda fields: False)
        rule = doc.get("qualificationRule", "once")
        campaign = Campaign(a.name, a.path, doc.get("type", "trigger"), rule == "once", _QUAL_SECONDS.get(rule),
                            _rule_logic(sl.get("ruleLogic"), tests), _compile_flow(doc, a.path, names, resolve, findings))
        if campaign.type == "batch":
            model.batch.append(campaign)
            continue
        for i, t in enumerate(sl.get("triggers") or []):
            try:
                _add_trigger(model, campaign, t, f"/smartList/triggers/{i}", a.path, resolve)
            except ValueError as e:
                findings.append(make("PK754", f"/smartList/triggers/{i}: {e}; the trigger never fires", file=a.path,
                                     pointer=f"/smartList/triggers/{i}"))
    return model


def _constraint_tests(trigger: dict, resolve: Callable) -> dict[str, Callable[[Any], bool]]:
    out = {}
    for c in trigger.get("constraints") or []:
        out[c["name"].strip().casefold()] = value_test(c.get("operator", "is"), [resolve(v) for v in c.get("values") or []])
    return out


#: trigger → (the event type that fires it, the constraint naming the form or page): form fills and page visits
ACTIVITY_TRIGGERS = {"fills out form": ("fillsOutForm", "form"), "visits web page": ("visitsWebPage", "web page")}
#: event type → the data key naming the form or page
ACTIVITY_EVENTS = {"fillsOutForm": "form", "visitsWebPage": "page"}


def _add_trigger(model: Model, campaign: Campaign, t: dict, pointer: str, file: str, resolve: Callable) -> None:
    name = t["trigger"].strip().casefold()
    cons = _constraint_tests(t, resolve)
    source = cons.pop("source", None)
    if name == "person is created":
        model.on_created.append((campaign, (lambda s: source(s)) if source else (lambda s: True)))
    elif name == "data value changes":
        attrs = [c for c in t.get("constraints") or [] if c["name"].strip().casefold() == "attribute"]
        new, prev = cons.get("new value"), cons.get("previous value")

        def match(old: Any, value: Any, src: str | None, new=new, prev=prev) -> bool:
            return ((new is None or new(value)) and (prev is None or prev(old))
                    and (source is None or source(src)))

        keys = [model.names.key(resolve(v)) for c in attrs for v in c.get("values") or []] or ["*"]
        for key in keys:
            model.on_change.setdefault(key, []).append((campaign, match))
    elif name == "score is changed":
        score_names = [c for c in t.get("constraints") or [] if c["name"].strip().casefold() == "score name"]
        new, change = cons.get("new score"), cons.get("change")

        if change is None and new is not None:
            def smatch(old: Any, value: Any, delta: float, new=new) -> bool:
                return new(value)

            smatch.new_only = new  # type: ignore[attr-defined]  (the event loop calls it directly)
        else:
            def smatch(old: Any, value: Any, delta: float, new=new, change=change) -> bool:
                return (new is None or new(value)) and (change is None or change(delta))

        keys = [model.names.key(resolve(v)) for c in score_names for v in c.get("values") or []] or [SCORE_KEY]
        for key in keys:
            model.on_score.setdefault(key, []).append((campaign, smatch))
    elif name in ACTIVITY_TRIGGERS:
        activity, constraint = ACTIVITY_TRIGGERS[name]
        names = [str(resolve(v)).strip().casefold() for c in t.get("constraints") or []
                 if c["name"].strip().casefold() == constraint for v in c.get("values") or []] or ["*"]
        for key in names:
            model.on_activity.setdefault((activity, key), []).append(campaign)
    elif name in ("person is synced to sfdc", "person is synced to microsoft"):
        model.on_synced.setdefault(name.rsplit(" ", 1)[1], []).append(campaign)
    else:
        model.findings.append(make("PK754", f"{pointer}/trigger: {t['trigger']!r} is not simulated; "
                                            f"the campaign never fires from it", file=file, pointer=pointer + "/trigger"))


def _compile_flow(doc: dict, file: str, names: FieldNames, resolve: Callable, findings: list[Finding]) -> list[tuple]:
    flow: list[tuple] = []
    for i, step in enumerate(doc.get("flow") or []):
        kind = step.get("step")
        if step.get("choices"):
            findings.append(make("PK754", f"/flow/{i}/choices: flow step choices are not simulated; the default action runs",
                                 file=file, pointer=f"/flow/{i}/choices"))
        if kind == "Change Data Value":
            value = resolve(step.get("newValue"))
            flow.append(("set", names.key(step["attribute"]), None if value == "NULL" else value))
        elif kind == "Change Score":
            flow.append(("score", names.key(step.get("scoreName") or "Person Score"), str(resolve(step["change"]))))
        elif kind in ("Sync Person to SFDC", "Sync Person to Microsoft"):
            crm = "sfdc" if kind.endswith("SFDC") else "microsoft"
            flow.append(("sync", crm, names.key("Synced to SFDC" if crm == "sfdc" else "Synced to Microsoft")))
        elif kind in ("Send Alert", "Send Email"):
            to = [str(resolve(x)) for x in step.get("sendTo") or []]
            owner = step.get("sendToOwner") if step.get("sendToOwner") not in (None, "None") else None
            # Marketo sends to the owner's email address; a plain "Person Owner" column is accepted too
            owner_keys = (names.key(owner + " Email Address"), names.key(owner)) if owner else ()
            flow.append(("alert" if kind == "Send Alert" else "email", step["email"], tuple(to), owner_keys))
        elif kind == "Change Program Status":
            flow.append(("status", str(resolve(step.get("program"))), step.get("newStatus")))
        else:
            findings.append(make("PK754", f"/flow/{i}/step: {kind!r} is not simulated; the step is skipped",
                                 file=file, pointer=f"/flow/{i}/step"))
    return flow


def apply_score_change(old: Any, change: str) -> float:
    change = change.strip()
    base = _num(old) or 0.0
    if change.startswith("="):
        return float(change[1:].strip())
    if change.startswith("-"):
        return base - float(change[1:].strip())
    return base + float(change.lstrip("+").strip())


# --- people and the run --------------------------------------------------------------


class Person:
    __slots__ = ("id", "fields", "state", "applies", "epoch", "flags", "history", "ran", "status")

    def __init__(self, pid: str, fields: dict[str, Any]) -> None:
        self.id = pid
        self.fields = fields
        self.state: str | None = None
        self.applies = False
        self.epoch = 0
        self.flags: dict[str, float] | None = None
        self.history: list[dict[str, Any]] = []
        self.ran: dict[str, float] | None = None
        self.status: str | None = None


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

    __slots__ = ("buffer", "chunks", "fh", "n", "size")

    def __init__(self, size: int | None = None) -> None:
        self.buffer: list[Any] = []
        self.chunks: list[tuple[int, int]] = []  # (offset, length) of each written chunk
        self.fh: Any = None
        self.n = 0
        self.size = size or _CHUNK

    def append(self, record: Any) -> None:
        buffer = self.buffer
        buffer.append(record)
        if len(buffer) >= self.size:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        if self.fh is None:
            self.fh = tempfile.TemporaryFile(prefix="programkit-simulate-")
        data = pickle.dumps(self.buffer, pickle.HIGHEST_PROTOCOL)
        fh = self.fh
        fh.seek(0, os.SEEK_END)
        self.chunks.append((fh.tell(), len(data)))
        fh.write(data)
        self.n += len(self.buffer)
        self.buffer = []

    def __len__(self) -> int:
        return self.n + len(self.buffer)

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


def parse_time(text: str) -> float:
    """Seconds since the epoch for an ISO-8601 time; a time without a zone is UTC."""
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


class Rejected(Exception):
    pass


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


class Simulator:
    """Holds people and pending timers; feed it events in time order with :meth:`event`."""

    def __init__(self, model: Model, events_file: str = "events") -> None:
        self.m = model
        self.lc = model.lifecycle
        self.people: dict[str, Person] = {}
        self.heap: list[tuple[float, int, str, str, str, int]] = []
        self.seq = 0
        # per-event records go to disk as they come (memory grows with people, not events)
        self.alerts = _Spill()
        self.emails = _Spill()
        self.rejected = _Spill()
        self.runs: dict[str, int] = {}
        self.findings = FindingSink(model.findings)
        self.events_file = events_file
        self.started: float | None = None
        self.counts = {"read": 0, "simulated": 0, "rejected": 0, "invalid": 0}
        self._queue: list[tuple] = []
        self._line = 0
        self._now = 0.0

    # people from the CSV enter the lifecycle when the simulation clock starts
    def add_person(self, pid: str, fields: dict[str, Any]) -> None:
        self.people[pid] = Person(pid, fields)

    def _start(self, now: float) -> None:
        self.started = now
        if self.lc is None:
            return
        for pid in sorted(self.people):
            p = self.people[pid]
            self._now = now
            if self._applies(p):
                start = p.fields.get(self.lc.state_key) if self.lc.state_key else None
                self._enter_lifecycle(p, now, "start", start if start in self.lc.states else None)
            self._drain(p)

    # --- lifecycle ---------------------------------------------------------------------
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

    def _shown(self, data: dict[str, Any]) -> dict[str, Any]:
        display = self.m.names.display
        return {display.get(k, k): data[k] for k in sorted(data)}

    def _schedule(self, due: float, pid: str, kind: str, name: str, epoch: int) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (due, self.seq, pid, kind, name, epoch))

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
                (self.alerts if kind == "alert" else self.emails).append(
                    {"at": now, "person": p.id, "campaign": camp.name, "email": step[1], "to": to})
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

    # --- time ------------------------------------------------------------------------
    def advance(self, now: float) -> None:
        """Fire every timer and flag expiry due at or before ``now``, in due order."""
        heap = self.heap
        while heap and heap[0][0] <= now:
            due, _, pid, kind, name, epoch = heapq.heappop(heap)
            p = self.people[pid]
            self._now = due
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
        fromiso = datetime.fromisoformat
        people_get = self.people.get
        heap = self.heap
        queue = self._queue
        event = self.event
        plus = _PLUS
        # the short path only when the lifecycle does not watch the score field itself
        short = self.lc is None or SCORE_KEY not in self.lc.on_field
        # (campaign, New Score test when it is the trigger's only constraint, else the full match)
        tests = [(camp, getattr(match, "new_only", None), match) for camp, match in self.m.on_score.get(SCORE_KEY, ())]
        # when every score trigger is "New Score at least T", a new score below the lowest T fires none
        floors = [getattr(t, "at_least", None) for _, t, _ in tests]
        floor = min(floors) if floors and None not in floors else None
        # when every score campaign runs once per person, a person they all ran for is done with them
        once_names = tuple(camp.name for camp, _, _ in tests) if tests and all(c.once for c, _, _ in tests) else None
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
                    careful = b"0000000000000000000" in block.translate(_DIGITS_AS_ZERO)
                    lines = iter(block.split(b"\n"))  # an iterator: what is left of it after --until is counted
                    for raw in lines:
                        line += 1
                        try:
                            if (careful and long_digits(raw)) or (len(raw) >= 1800 and raw.count(b"[") + raw.count(b"{") >= 900):
                                raise JSONError("long integer or deep nesting", "", 0)
                            ev = loads(raw)
                        except JSONError:
                            ev = _loads_slow(raw, newline, findings, display, line)
                            if ev is _SKIP:
                                continue
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
                            sec = min_sec(at[14:]) if at[:14] == prefix else None
                            if sec is not None:
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
                                findings.append(make("PK752", f"{at} is before the previous event ({iso(prev)})",
                                                     file=display, line=line))
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
                                p = people_get(pid)
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

    def event(self, line: int, now: float, pid: str, etype: str, data: dict[str, Any], source: str | None) -> None:
        if self.started is None:
            self._start(now)
        if self.heap and self.heap[0][0] <= now:
            self.advance(now)
        self._line = line
        self._now = now
        p = self.people.get(pid)
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
            self.rejected.append({"line": line, "at": now, "person": pid, "event": etype, "reason": str(r)})
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
        for camp in self.m.batch:  # batch campaigns run once, at the end, over everyone
            for pid in sorted(self.people):
                p = self.people[pid]
                self._run(p, camp)
                self._drain(p)

    def result(self, until: float | None) -> SimulationResult:
        lcm = self.lc
        states: dict[str, int] = {}
        people = []
        funnel_reached = [0] * (len(lcm.funnel) if lcm else 0)
        funnel_index = {s: i for i, s in enumerate(lcm.funnel)} if lcm else {}
        display = self.m.names.display
        stamp = _Stamper()
        # people mostly share their fields' names: sorted once per set of names, with display names
        layouts: dict[tuple[str, ...], tuple[list[str], list[str]]] = {}

        for pid, p in sorted(self.people.items()):
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
        order = {s: i for i, s in enumerate(lcm.states)} if lcm else {}
        states = dict(sorted(states.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))
        funnel = []
        for i, s in enumerate(lcm.funnel if lcm else []):
            prev = funnel_reached[i - 1] if i else funnel_reached[0]
            funnel.append({"state": s, "reached": funnel_reached[i],
                           "conversion": round(funnel_reached[i] / prev, 4) if prev else None,
                           "overall": round(funnel_reached[i] / funnel_reached[0], 4) if funnel_reached[0] else None})
        return SimulationResult(
            bundle=self.m.bundle_name, version=self.m.version, lifecycle=lcm.name if lcm else None,
            until=iso(until) if until is not None else None, events=dict(self.counts), people=people,
            states=states, funnel=funnel, alerts=_stamped(self.alerts), emails=_stamped(self.emails),
            rejected=_stamped(self.rejected),
            campaigns=dict(sorted(self.runs.items())), findings=self.findings.records(),
        )


def _owner(value: Any) -> str:
    return str(value) if _text(value) else "(no person owner)"


# --- input ---------------------------------------------------------------------------


NUMERIC_TYPES = frozenset({"score", "integer", "float", "currency"})


def read_people(path: str | os.PathLike[str], names: FieldNames, findings: list[Finding],
                lifecycle: Lifecycle | None = None) -> Iterator[tuple[str, dict]]:
    """Rows of the people CSV as (id, fields); empty cells are left out.

    Reported as they are read: a column no field is known by (PK757, once, on the header), a
    state the ``lifecycle`` does not have (PK758) and a numeric field's cell that is not a number
    (PK759), each at its line and column (the CSV column's 1-based index)."""
    display = os.fspath(path)
    try:
        fh = open(path, newline="", encoding="utf-8-sig")
    except OSError as e:
        raise BadInput(f"cannot read people file {display}: {e.strerror}", hint="Pass --people PEOPLE.csv") from None
    with fh:
        reader = csv.reader(fh)
        try:
            header = next(reader, None)
        except (csv.Error, UnicodeDecodeError) as e:
            raise BadInput(f"{display}: not a CSV file ({e})") from None
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
        try:
            for row in reader:
                line = reader.line_num
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
        except (csv.Error, UnicodeDecodeError) as e:
            raise BadInput(f"{display}: line {reader.line_num}: not valid CSV ({e})") from None


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


def simulate(bundle_path: str | os.PathLike[str], people: str | os.PathLike[str] | None = None,
             events: str | os.PathLike[str] | None = None, until: str | None = None,
             settings: dict[str, bool] | None = None) -> SimulationResult:
    """Run the people and events through the bundle. Raises BadInput for unreadable input,
    ProgramkitError (PK756) for a bundle with errors."""
    if people is not None:
        require_path(people, PEOPLE_HINT)
    if events is not None:
        require_path(events, EVENTS_HINT)
    loaded = load_bundle(bundle_path)
    errors = [f for f in validate_loaded(loaded) if f.severity is Severity.ERROR]
    if errors:
        raise ProgramkitError(f"{os.fspath(bundle_path)} has {len(errors)} error(s); fix them before simulating",
                              findings=errors, hint=lc_hint())
    until_ts = None
    if until is not None:
        try:
            until_ts = parse_time(until)
        except ValueError:
            raise BadInput(f"--until {until!r} is not an ISO-8601 time", hint="e.g. 2026-04-01T00:00:00Z") from None
    try:
        model = compile_bundle(loaded.bundle, settings)
    except ValueError as e:  # a lifecycle condition the simulator cannot evaluate, e.g. 'at least' ['many']
        asset = lc.lifecycle_asset(loaded.bundle)
        raise ProgramkitError(f"cannot simulate the lifecycle {asset.path if asset else ''}: {e}",
                              hint="Numeric operators (at least, at most, greater than, less than, between) "
                                   "need numeric values.") from None
    if settings:
        check_settings(settings, loaded.bundle, model.lifecycle)
    sim = Simulator(model, os.fspath(events) if events else "events")
    last = None
    # The run (reading the people included) allocates many small, long-lived objects and no
    # cycles: the cyclic collector would rescan them all again and again.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        if people is not None:
            for pid, fields in read_people(people, model.names, sim.findings, model.lifecycle):
                sim.add_person(pid, fields)
        if events is not None:
            last = sim.feed(events, until_ts)
        sim.finish(until_ts, last)
        return sim.result(until_ts)
    finally:
        if gc_was_enabled:
            gc.enable()


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


def lc_hint() -> str:
    return "Run `programkit validate BUNDLE` to see them with their locations."


# --- text report ---------------------------------------------------------------------


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
