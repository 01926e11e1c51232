"""smartCampaign: a trigger or batch campaign — smart list (triggers, filters, rule logic), flow, schedule.

Everything programkit knows about a campaign document beyond its schema lives here: what it references
(flow steps naming emails), which person fields it writes, what it needs from a target, and its checks.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Iterator

from ..jsontypes import as_list
from ..catalog import catalog, known_field_names
from ..findings import Finding, Severity, closest_choice, make, register_code
from .base import Kind, Needs, Ref

if TYPE_CHECKING:
    from ..model import Bundle

register_code("PK206", "unresolved-email", Severity.ERROR,
              "A flow step names an email that is not in the bundle.",
              hint="Add the email to the bundle or fix the step's email name (names are case-insensitive).",
              example="campaigns/02.json /flow/1/email: 'MQL Alert' is not an email in this bundle", group="references")

G2 = "campaigns"
register_code("PK301", "unknown-trigger", Severity.WARNING,
              "A trigger name is not in the catalogue of Marketo triggers programkit ships (programkit/data/"
              "marketo.json). A warning, not an error: an instance can also have triggers the catalogue cannot "
              "list (custom activities, LaunchPoint integrations), so the name is kept as written.",
              hint="Fix the spelling (the message names the nearest trigger in the catalogue); if the instance "
                   "really has this trigger (a custom activity, an integration), leave it: Marketo decides.",
              example="campaigns/01.json /smartList/triggers/0/trigger: 'Person Created' is not a known Marketo "
                      "trigger; did you mean 'Person is Created'? (a warning: custom-activity and integration "
                      "triggers are not in programkit's catalogue)",
              group=G2)
register_code("PK302", "unknown-filter", Severity.WARNING,
              "A filter name is not in the catalogue of Marketo filters programkit ships (programkit/data/"
              "marketo.json), nor a person field the bundle knows (standard fields, requires.fields).",
              hint="Fix the spelling (the message names the nearest filter or field); unknown filters are kept "
                   "as written.",
              example="campaigns/02.json /smartList/filters/0/filter: 'Lead Stat' is not a known Marketo filter; "
                      "did you mean 'Person Status'?", group=G2)
register_code("PK303", "unknown-flow-step", Severity.WARNING,
              "A flow step name is not in the catalogue of Marketo flow steps programkit ships (programkit/data/"
              "marketo.json).",
              hint="Fix the spelling (the message names the nearest flow step); importing to Marketo rejects "
                   "unknown steps.",
              example="campaigns/02.json /flow/0/step: 'Change Value' is not a known Marketo flow step; did you "
                      "mean 'Change Data Value'?", group=G2)
register_code("PK304", "campaign-type-mismatch", Severity.ERROR,
              "A trigger campaign has no trigger, or a batch campaign has triggers.",
              hint="Trigger campaigns need at least one trigger; batch campaigns use filters only.",
              example="campaigns/02.json /smartList/triggers: a trigger campaign needs at least one trigger", group=G2)
register_code("PK305", "rule-logic", Severity.ERROR,
              "Advanced rule logic refers to a filter number the smart list does not have.",
              hint="Filters are numbered from 1 in the order they are listed.",
              example="campaigns/02.json /smartList/ruleLogic: filter 3 does not exist (2 filters)", group=G2)
register_code("PK306", "crm-not-required", Severity.ERROR,
              "A flow step needs a CRM sync that requires.crm does not name.",
              hint="Set requires.crm to the CRM the step syncs with, so preflight checks the target has it.",
              example="campaigns/01.json /flow/0/step: 'Sync Person to SFDC' needs requires.crm = 'salesforce'", group=G2)
register_code("PK307", "webhook-not-required", Severity.ERROR,
              "A Call Webhook step names a webhook that requires.webhooks does not list.",
              hint="List the webhook under requires.webhooks so preflight checks the target has it.",
              example="campaigns/03.json /flow/2/webhook: 'Enrich' is not in requires.webhooks", group=G2)
register_code("PK308", "unknown-program-status", Severity.ERROR,
              "A Change Program Status step sets a status the program's channel does not have.",
              hint="Use one of program.membershipStatuses.",
              example="campaigns/02.json /flow/0/newStatus: 'Member' is not one of the program's statuses (01-Member)",
              group=G2)

#: flow steps that send an email of the bundle
SEND_STEPS = ("Send Alert", "Send Email")
#: flow steps that name a static list (in the bundle or the target)
LIST_STEPS = ("Add to List", "Remove from List")


def smart_list_refs(sl: Any, prefix: str = "/smartList") -> Iterator[Ref]:
    """References of a smart list's triggers and filters (the shape campaigns and reusable smart lists share) to
    assets by name (see :data:`SMART_LIST_REFS`): a trigger names them in its constraint ("Fills Out Form" —
    Form is …), a filter in its values ("Member of Smart List" in …). They may be in the bundle or already in
    the target: the plan's preflight checks (PK537)."""
    if not isinstance(sl, dict):
        return
    for i, t in enumerate(as_list(sl.get("triggers"))):
        target = SMART_LIST_REFS.get(t["trigger"].strip().casefold()) \
            if isinstance(t, dict) and isinstance(t.get("trigger"), str) else None
        if target is None:
            continue
        kind, constraint, code, label = target
        for j, c in enumerate(as_list(t.get("constraints"))):
            if isinstance(c, dict) and isinstance(c.get("name"), str) and c["name"].strip().casefold() == constraint:
                for k, name in enumerate(as_list(c.get("values"))):
                    if isinstance(name, str):
                        yield Ref(f"{prefix}/triggers/{i}/constraints/{j}/values/{k}", kind, name, code=code,
                                  outside=True, label=label)
    for i, f in enumerate(as_list(sl.get("filters"))):
        name = f["filter"].strip().casefold() if isinstance(f, dict) and isinstance(f.get("filter"), str) else ""
        target = SMART_LIST_REFS.get(name.removeprefix("not ")) if name else None  # "Not Member of List" too
        if target is None:
            continue
        kind, _, code, label = target
        for k, name in enumerate(as_list(f.get("values"))):
            if isinstance(name, str):
                yield Ref(f"{prefix}/filters/{i}/values/{k}", kind, name, code=code, outside=True, label=label)


#: trigger/filter name (casefolded) → (the kind it names, the trigger constraint holding the name(s), casefolded;
#: finding code; label). The kind units that triggers and filters name add to it when they load ("Fills Out
#: Form" in kinds/form.py).
SMART_LIST_REFS: dict[str, tuple[str, str, str, str]] = {}


def references(doc: Any) -> Iterator[Ref]:
    if not isinstance(doc, dict):
        return
    for i, step in enumerate(as_list(doc.get("flow"))):
        if isinstance(step, dict) and isinstance(step.get("email"), str) and step.get("step") in SEND_STEPS:
            yield Ref(f"/flow/{i}/email", "email", step["email"], code="PK206", label="email")
        if isinstance(step, dict) and step.get("step") in LIST_STEPS and isinstance(step.get("list"), str):
            yield Ref(f"/flow/{i}/list", "staticList", step["list"], code="PK537", outside=True, label="static list")
    yield from smart_list_refs(doc.get("smartList"))


def fields(doc: Any) -> Iterator[tuple[str, str]]:
    """Person fields the campaign writes by name (Change Data Value), with their pointers."""
    if not isinstance(doc, dict):
        return
    for i, step in enumerate(as_list(doc.get("flow"))):
        if isinstance(step, dict) and step.get("step") == "Change Data Value" and isinstance(step.get("attribute"), str):
            yield f"/flow/{i}/attribute", step["attribute"]


def needs(doc: Any, need: Needs, where: str) -> None:
    crm_steps = catalog()["crmFlowSteps"]
    for step in as_list(doc.get("flow")) if isinstance(doc, dict) else []:
        if not isinstance(step, dict) or not isinstance(step.get("step"), str):
            continue
        if step["step"] == "Call Webhook" and isinstance(step.get("webhook"), str):
            need.webhook(step["webhook"])
        if step["step"] in crm_steps:
            need.crm(crm_steps[step["step"]], f"{where} uses {step['step']!r}")


def _suggestion(word: str, choices: list[str], cutoff: float) -> str:
    """"; did you mean 'X'?" for the choice nearest ``word``, else "". A name from before Marketo called leads
    people ("Lead Status", "Lead is Created") is matched as its "Person …" name first."""
    renamed = re.sub(r"(?i)^lead\b", "Person", word.strip())
    close = (closest_choice(renamed, choices, cutoff) if renamed != word.strip() else None) or \
        closest_choice(word, choices, cutoff)
    return f"; did you mean {close!r}?" if close else ""


def _filter_choices(word: str, known_fields: frozenset[str]) -> list[str]:
    """What a filter named ``word`` may have meant, spelt as a suggestion shows it: the catalogue's filters and
    standard fields as Marketo names them, the bundle's own fields (as ``known_fields`` holds them); their
    "Not …" twins only for a word that starts with "not"."""
    cat = catalog()
    spelt = list(cat["filters"]) + [f["displayName"] for f in cat["standardFields"]]
    folded = {c.casefold() for c in spelt} | {f["apiName"].casefold() for f in cat["standardFields"]}
    spelt += sorted(known_fields - folded)
    if word.strip().casefold().startswith("not "):
        spelt += ["Not " + c for c in spelt]
    return spelt


def smart_list_findings(sl: dict[str, Any], file: str, known_fields: frozenset[str], prefix: str = "/smartList",
                        ) -> Iterator[Finding]:
    """PK301/PK302/PK305 for a smart list: known triggers and filters, rule logic numbering filters that exist."""
    cat = catalog()
    triggers = {t.casefold() for t in cat["triggers"]}
    # Marketo filters on any person field too, and every activity filter has a "Not …" inactivity twin.
    filters = {t.casefold() for t in cat["filters"]} | known_fields
    filters |= {"not " + f for f in filters}
    trig = as_list(sl.get("triggers"))
    filt = as_list(sl.get("filters"))
    for i, t in enumerate(trig):
        if isinstance(t, dict) and isinstance(t.get("trigger"), str) and t["trigger"].casefold() not in triggers:
            p = f"{prefix}/triggers/{i}/trigger"
            mean = _suggestion(t["trigger"], cat["triggers"], cutoff=0.6)
            yield make("PK301", f"{p}: {t['trigger']!r} is not a known Marketo trigger{mean} (a warning: "
                                "custom-activity and integration triggers are not in programkit's catalogue)",
                       file=file, pointer=p)
    for i, f in enumerate(filt):
        if isinstance(f, dict) and isinstance(f.get("filter"), str) and f["filter"].casefold() not in filters:
            p = f"{prefix}/filters/{i}/filter"
            mean = _suggestion(f["filter"], _filter_choices(f["filter"], known_fields), cutoff=0.75)
            yield make("PK302", f"{p}: {f['filter']!r} is not a known Marketo filter{mean}",
                       file=file, pointer=p)
    logic = sl.get("ruleLogic")
    if isinstance(logic, str) and logic not in ("all", "any"):
        for n in sorted({int(x) for x in re.findall(r"\d+", logic)}):
            if not 1 <= n <= len(filt):
                yield make("PK305", f"{prefix}/ruleLogic: filter {n} does not exist ({len(filt)} filters)",
                           file=file, pointer=f"{prefix}/ruleLogic")


def campaigns(bundle: "Bundle") -> Iterator[Finding]:
    cat = catalog()
    known = known_field_names(bundle)
    steps = {t.casefold() for t in cat["flowSteps"]}
    crm_steps = cat["crmFlowSteps"]
    req = bundle.requires
    webhooks = {w.casefold() for w in as_list(req.get("webhooks")) if isinstance(w, str)}
    statuses = {s for s in as_list(bundle.program.get("membershipStatuses")) if isinstance(s, str)}
    program_name = bundle.program.get("name")
    for a in bundle.assets_of("smartCampaign"):
        doc = a.content
        if not isinstance(doc, dict):
            continue
        sl = doc.get("smartList") if isinstance(doc.get("smartList"), dict) else {}
        trig = as_list(sl.get("triggers"))
        findings = list(smart_list_findings(sl, a.path, known))
        yield from (f for f in findings if f.code != "PK305")
        if doc.get("type") == "trigger" and not trig:
            yield make("PK304", "/smartList: a trigger campaign needs at least one trigger", file=a.path,
                       pointer="/smartList")
        elif doc.get("type") == "batch" and trig:
            yield make("PK304", "/smartList/triggers: a batch campaign cannot have triggers", file=a.path,
                       pointer="/smartList/triggers")
        yield from (f for f in findings if f.code == "PK305")
        for i, step in enumerate(as_list(doc.get("flow"))):
            if not isinstance(step, dict) or not isinstance(step.get("step"), str):
                continue
            name = step["step"]
            if name.casefold() not in steps:
                p = f"/flow/{i}/step"
                mean = _suggestion(name, cat["flowSteps"], cutoff=0.6)
                yield make("PK303", f"{p}: {name!r} is not a known Marketo flow step{mean}",
                           file=a.path, pointer=p)
            if name in crm_steps and req.get("crm") != crm_steps[name]:
                p = f"/flow/{i}/step"
                yield make("PK306", f"{p}: {name!r} needs requires.crm = {crm_steps[name]!r}", file=a.path, pointer=p)
            if name == "Call Webhook" and isinstance(step.get("webhook"), str) and step["webhook"].casefold() not in webhooks:
                p = f"/flow/{i}/webhook"
                yield make("PK307", f"{p}: {step['webhook']!r} is not in requires.webhooks", file=a.path, pointer=p)
            if (name == "Change Program Status" and step.get("program") in (program_name, "{{program.name}}")
                    and statuses and isinstance(step.get("newStatus"), str) and step["newStatus"] not in statuses):
                p = f"/flow/{i}/newStatus"
                yield make("PK308", f"{p}: {step.get('newStatus')!r} is not one of the program's statuses "
                                    f"({', '.join(sorted(statuses))})", file=a.path, pointer=p)


KIND = Kind(
    name="smartCampaign", label="smart campaigns", format="json", scope="program", directory="campaigns",
    schema="smartCampaign", rank=20, batch=True, references=references, checks=(campaigns,), needs=needs,
    fields=fields,
)
