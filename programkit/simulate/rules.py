"""The bundle compiled into rules the engine calls directly: the lead lifecycle's transitions,
timers and flags, and the active smart campaigns' triggers, filters and flow steps."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from .. import lifecycle as lc
from ..findings import Finding, make
from ..model import Bundle
from ..validate import TOKEN_RE
from .conditions import SCORE_KEY, FieldNames, value_test

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
    #: (event type, casefolded form or page name, or "*") → trigger campaigns: "Fills Out Form", "Visits Web Page"
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

        keys = [model.names.key(str(resolve(v))) for c in attrs for v in c.get("values") or []] or ["*"]
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

        keys = [model.names.key(str(resolve(v))) for c in score_names for v in c.get("values") or []] or [SCORE_KEY]
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

