"""The manual-steps checklist: what an import leaves for an admin to do in the Marketo UI, as text that
``programkit verify`` can later compare with what Marketo holds."""

from __future__ import annotations

import json
from typing import Any

def _constraints(rule: dict[str, Any]) -> str:
    cons = "; ".join(f"{c['name']} {c.get('operator', 'is')} {', '.join(map(plain_text, c.get('values', [])))}"
                     for c in rule.get("constraints") or [])
    return f" with {cons}" if cons else ""


def trigger_text(t: dict[str, Any]) -> str:
    """A smart-list trigger as the checklist says it: name and constraints."""
    return f"\"{t['trigger']}\"" + _constraints(t)


def filter_text(f: dict[str, Any]) -> str:
    """A smart-list filter as the checklist says it: name, operator, values and constraints."""
    vals = ", ".join(map(plain_text, f.get("values") or []))
    return f"\"{f['filter']}\" {f.get('operator', 'is')}" + (f" {vals}" if vals else "") + _constraints(f)


def logic_text(logic: str) -> str:
    return {"all": "Use ALL filters", "any": "Use ANY filters"}.get(logic, f"Use Advanced Filters: {logic}")


def campaign_checks(campaign: dict[str, Any]) -> list[tuple[str, str]]:
    """The checklist of one bundle smart campaign as (what, step) pairs: ``what`` names the setting a step is
    about (``trigger:0``, ``filter:1``, ``ruleLogic``, ``flow:0``, ``qualificationRule``, ``communicationLimits``,
    ``active``), so ``programkit verify`` can compare each step with what Marketo holds."""
    checks = []
    sl = campaign.get("smartList") or {}
    for i, t in enumerate(sl.get("triggers") or []):
        checks.append((f"trigger:{i}", f"Smart List: add trigger {trigger_text(t)}"))
    for i, f in enumerate(sl.get("filters") or []):
        checks.append((f"filter:{i}", f"Smart List: add filter {i + 1} {filter_text(f)}"))
    if sl.get("filters"):
        checks.append(("ruleLogic", "Smart List: set rule logic to " + logic_text(sl.get("ruleLogic", "all"))))
    for i, s in enumerate(campaign.get("flow") or []):
        args = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in s.items() if k != "step")
        checks.append((f"flow:{i}", f"Flow: add step {i + 1} \"{s['step']}\"" + (f" ({args})" if args else "")))
    if campaign.get("qualificationRule"):
        checks.append(("qualificationRule",
                       f"Schedule: set qualification rule to \"{campaign['qualificationRule']}\""))
    if "communicationLimits" in campaign:
        limits = "enable" if campaign["communicationLimits"] else "leave off"
        checks.append(("communicationLimits", f"Schedule: {limits} communication limits"))
    if campaign.get("active"):
        checks.append(("active", "Schedule: activate the campaign (after the steps above)"))
    return checks


def manual_steps(campaign: dict[str, Any]) -> list[str]:
    """What must be set by hand in the UI for one bundle smart campaign: the API cannot write any of it."""
    return [step for _, step in campaign_checks(campaign)]


def lifecycle_steps(name: str, doc: dict[str, Any], campaigns: dict[str, dict[str, Any]]) -> list[str]:
    """What to build by hand in Revenue Cycle Modeler for a bundle lead lifecycle (the API has no model object),
    naming the import's campaigns whose flow sets the field a transition watches."""
    terminal = set(doc.get("terminal") or [])
    stages = ", ".join(s["name"] + " (" + ", ".join(
        [s["category"]] * bool(s.get("category")) + ["first"] * (s["name"] == doc.get("initial"))
        + ["final"] * (s["name"] in terminal)) + ")" for s in doc.get("states") or [])
    steps = [f'Revenue Cycle Modeler: create the model "{name}" by hand (the API cannot; nothing was written '
             "for it)", f"Add the stages: {stages}"]

    def sets(flow_step: dict[str, Any], field: str, values: list[Any]) -> bool:
        crm = {"synced to sfdc": "Sync Person to SFDC", "synced to microsoft": "Sync Person to Microsoft"}
        if flow_step.get("step") == crm.get(field.casefold()):
            return True in values
        return (flow_step.get("step") == "Change Data Value" and str(flow_step.get("attribute", "")).casefold()
                == field.casefold() and any(plain_text(v) == plain_text(flow_step.get("newValue")) for v in values))

    for t in doc.get("transitions") or []:
        src = t["from"] if isinstance(t["from"], str) else ", ".join(t["from"])
        line = f'Transition "{t["event"]}": {"any stage not final" if src == "*" else src} → {t["to"]}'
        on = t.get("onField")
        if on:
            line += f" on Data Value Changes: {on['field']} to {', '.join(map(plain_text, on['values']))}"
            by = [c for c, doc_c in campaigns.items()
                  if any(sets(f, on["field"], on["values"]) for f in doc_c.get("flow") or [])]
            line += f" (set by campaign{'s' * (len(by) > 1)} {', '.join(by)})" if by else ""
        elif t.get("automatic"):
            line += " at once"
        else:
            line += " (an event outside Marketo, e.g. in the CRM: choose the trigger that shows it)"
        if t.get("requires"):
            line += "; requires " + ", ".join(r if isinstance(r, str) else r["field"] for r in t["requires"])
        if t.get("reason"):
            line += f"; reason from '{t['reason']['list']}'"
        steps.append(line)
    steps += [f'Timer "{tm["name"]}": after {tm["after"]} in {tm["state"]} → {tm["to"]}'
              for tm in doc.get("timers") or []]
    steps += [f'SLA "{fl["name"]}": on entering {fl["onEnter"]}, for {fl["for"]}' for fl in doc.get("flags") or []]
    steps += [f"Reason list '{k}': {', '.join(v)} (a picklist field: Marketo has no standard one)"
              for k, v in (doc.get("reasonLists") or {}).items()]
    steps.append("Approve the model (after the steps above)")
    return steps


#: the first step of a changed campaign's checklist: a heading for the steps after it, not a step of its own
REVIEW_CAMPAIGN = "Review: the bundle changed this campaign; re-check every step below"


def email_expect(email: dict[str, Any]) -> dict[str, Any]:
    """What of a bundle email its checklist is about (kept for ``programkit verify``): text version, modules."""
    return {k: email[k] for k in ("text", "modules") if email.get(k)}


def plain_text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) or value is None else str(value)


def render_checklist(items: list[dict[str, Any]]) -> str:
    """The manual-steps checklist as Markdown (printed by import and saved next to the journal)."""
    if not items:
        return ""
    lines = ["# Manual steps (the Marketo API cannot do these)", ""]
    for item in items:
        where = f"id {item['marketoId']}" if item["marketoId"] is not None else \
            item.get("notWritten") or "not written: no API for it"
        where += f", in {item['folder']}" if item["folder"] else ""
        lines.append(f"## {item['kind']} \"{item['name']}\" ({where})")
        lines += [f"- [ ] {s}" for s in item["steps"]]
        lines.append("")
    return "\n".join(lines)



# -- comparing smart lists (verify, and the import's look for a campaign to clone) ---------------------------
def constraints_key(rule: dict[str, Any]) -> list[tuple[str, str, tuple[str, ...]]]:
    return sorted((c["name"].casefold(), str(c.get("operator", "is")).casefold(),
                   tuple(plain_text(v) for v in c.get("values") or [])) for c in rule.get("constraints") or [])


def trigger_key(t: dict[str, Any]) -> Any:
    return t["trigger"].casefold(), constraints_key(t)


def filter_key(f: dict[str, Any]) -> Any:
    return (f["filter"].casefold(), str(f.get("operator", "is")).casefold(),
            tuple(plain_text(v) for v in f.get("values") or []), constraints_key(f))


def same_smart_list(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two bundle smartLists have the same triggers, filters (in order) and rule logic."""
    return (sorted(map(trigger_key, a.get("triggers") or [])) == sorted(map(trigger_key, b.get("triggers") or []))
            and list(map(filter_key, a.get("filters") or [])) == list(map(filter_key, b.get("filters") or []))
            and (a.get("ruleLogic", "all") == b.get("ruleLogic", "all") or not a.get("filters")))


#: how a checklist names each approvable kind apply.py writes (kind modules name their own: MarketoKind.label;
#: the approval order is kinds.approval_order())
KIND_LABEL = {"emailTemplate": "email template", "landingPageTemplate": "landing page template",
              "snippet": "snippet", "email": "email"}
APPROVE_PREFIX = "Approve the "

#: why verify cannot read a step back: it stays on the checklist as "manual"
NO_FLOW = "Marketo's REST API has no flow endpoint: check it in the UI"
NO_MODULES = "Marketo's API does not say which modules an email uses: check it in the UI"
NO_LIFECYCLE = "Revenue Cycle Modeler has no API: check it in the UI"
NO_EXPRESSION = "Marketo says the filters use advanced logic but its API does not give the expression: check it in the UI"
UNKNOWN_STEP = "programkit cannot read this through the API: check it in the UI"


def approve_step(kind: str, label: str | None = None) -> str:
    """The checklist step of a draft left unapproved; ``label``: how the kind's Marketo module names it."""
    return f"{APPROVE_PREFIX}{label or KIND_LABEL[kind]} (import with --approve to let programkit do it)"


#: the checklist step of a campaign --activate could not activate
ACTIVATE_REFUSED = "Schedule: activate the campaign after its triggers are added (Marketo refused --activate: {why})"
