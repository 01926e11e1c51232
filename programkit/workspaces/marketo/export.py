"""Reading a program's assets back out of Marketo as bundle files (``export --target https://…``): smart
campaigns (their smart lists mapped into the bundle's shape) and what every kind module's ``document`` shares
(needs-completion items, read failures, image downloads); each kind module in ``kinds/`` maps its own kind.

:class:`~programkit.workspaces.marketo.MarketoWorkspace` calls these to turn
what the asset API answers into the bytes of a bundle file; the generic export
(:mod:`programkit.export`) does the rest (which Design Studio assets, paths,
``requires``, validation). What the API cannot give back is recorded per asset
as a **needs-completion** item (``pointer``, ``what``, ``why``), which the
export lists in the manifest's ``needsCompletion`` and ``validate`` warns about
(PK113) — never dropped silently:

- a smart campaign's **flow** (Adobe's Swagger has no flow endpoint and no
  ``includeFlowSteps`` parameter; the campaign answer only has ``flowId``), so
  ``flow`` is exported empty with an item saying so;
- **advanced rule logic** (``filterMatchType: Advanced`` comes without its
  expression), qualification rules and schedules the bundle format cannot say,
  smart-list rules without a name;
- email **modules** (the content answer does not say which of the template's
  modules an email uses), module-local variables, header fields that are
  dynamic, dynamic content whose segmentation or segments cannot be read.

Calls per asset: email 3 (content, variables, text version) plus one per
dynamic-content section, smart campaign 1
(its smart list with rules); the email and campaign records themselves come
from the folder browse the export already made, images are downloaded from
their public URL (no API call, no credentials sent).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ... import canonical
from ...errors import ProgramkitError
from ...findings import Severity, make, register_code
from .client import MarketoError

if TYPE_CHECKING:  # pragma: no cover
    from .inventory import MarketoInventory as MarketoWorkspace

_GROUP = "marketo"
register_code("PK913", "marketo-export-read-failed", Severity.ERROR,
              "Export could not read an asset of the program from Marketo; the message carries Marketo's code.",
              hint="Check the API user's role can read the asset (Read-Only Assets) and that it still exists, "
                   "then export again.",
              example="email '01 - Alert' (id 1001): Marketo 702 on GET /rest/asset/v1/email/1001/content.json: "
                      "Email not found", group=_GROUP)
register_code("PK914", "marketo-export-unmappable", Severity.ERROR,
              "An asset read from Marketo cannot be expressed as a valid bundle file.",
              hint="Fix the asset in Marketo (e.g. give the email a subject), then export again.",
              example="email '01 - Alert' (id 1001) has no subject in Marketo", group=_GROUP)
register_code("PK915", "marketo-export-download-failed", Severity.ERROR,
              "An image or file the program uses could not be downloaded from its Marketo URL.",
              hint="Check the file's URL opens in a browser (Design Studio > Images and Files), then export again.",
              example="file 'logo.png' (id 1001): HTTP 404 from https://example.com/rs/123-ABC-456/images/logo.png",
              group=_GROUP)

A = "/rest/asset/v1"
#: largest file downloaded for a bundle (Marketo's own upload limit is 100 MB)
MAX_DOWNLOAD = 100 * 1024 * 1024
NO_FLOW = ("Marketo's asset API cannot read a smart campaign's flow: Adobe's published REST contract has no flow "
           "endpoint and no includeFlowSteps parameter (a campaign only names its flowId). Copy the steps from "
           "the Marketo UI (Smart Campaign > Flow), including any Call Webhook steps and their webhooks")
#: Marketo's qualification rule (type, interval, unit) → the bundle's
QUALIFICATION = {("once", None, None): "once", ("any", None, None): "every time",
                 ("interval", 1, "hour"): "once every 1 hour", ("interval", 1, "day"): "once every 1 day",
                 ("interval", 7, "day"): "once every 7 days", ("interval", 1, "week"): "once every 7 days",
                 ("interval", 30, "day"): "once every 30 days"}


class Gaps:
    """Needs-completion items of one asset: where in its document, what, why."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, pointer: str, what: str, why: str) -> None:
        self.items.append({"pointer": pointer, "what": what, "why": why})


def read_failed(kind: str, rec: dict[str, Any], err: MarketoError) -> ProgramkitError:
    msg = f"{kind} {rec.get('name')!r} (id {rec.get('id')}): {err.message}"
    return ProgramkitError(msg, [make("PK913", msg)])


def unmappable(kind: str, rec: dict[str, Any], what: str) -> ProgramkitError:
    msg = f"{kind} {rec.get('name')!r} (id {rec.get('id')}) {what}"
    return ProgramkitError(msg, [make("PK914", msg)])


def ref_id(ref: Any) -> int | None:
    """An asset id from Marketo's various spellings: 12, "12", {"id": 12}, {"value": 12}."""
    if isinstance(ref, dict):
        ref = ref.get("id", ref.get("value"))
    try:
        return int(ref) if ref is not None and not isinstance(ref, bool) else None
    except (TypeError, ValueError):
        return None


# -- smart campaigns --------------------------------------------------------------------------------
def _conditions(items: Any) -> list[dict[str, Any]]:
    out = []
    for c in items if isinstance(items, list) else []:
        if not isinstance(c, dict) or not isinstance(c.get("activityAttributeName"), str):
            continue
        con: dict[str, Any] = {"name": c["activityAttributeName"]}
        if isinstance(c.get("operator"), str) and c["operator"]:
            con["operator"] = c["operator"]
        values = [v for v in c.get("values") or [] if isinstance(v, (str, int, float, bool))]
        if values:
            con["values"] = values
        out.append(con)
    return out


def smart_list(rules: dict[str, Any], gaps: Gaps) -> tuple[dict[str, Any], bool]:
    """Marketo's smart-list rules → the bundle's smartList (and whether Marketo listed any trigger).

    A trigger keeps all its conditions as constraints ("Score is Changed" with Score Name, New Score); a
    filter's primary condition gives its operator and values, the others are constraints.
    """
    out: dict[str, Any] = {}
    triggers, filters = [], []
    raw_triggers = rules.get("triggers") if isinstance(rules.get("triggers"), list) else []
    for i, t in enumerate(raw_triggers):
        name = t.get("name") if isinstance(t, dict) else None
        if not isinstance(name, str) or not name.strip():
            gaps.add("/smartList", f"trigger {i + 1}", "Marketo answered a trigger without a name")
            continue
        trig: dict[str, Any] = {"trigger": name}
        cons = _conditions(t.get("conditions"))
        if cons:
            trig["constraints"] = cons
        triggers.append(trig)
    for i, f in enumerate(rules.get("filters") if isinstance(rules.get("filters"), list) else []):
        name = f.get("name") if isinstance(f, dict) else None
        if not isinstance(name, str) or not name.strip():
            gaps.add("/smartList", f"filter {i + 1}", "Marketo answered a filter without a name")
            continue
        conds = [c for c in f.get("conditions") or [] if isinstance(c, dict)]
        primary = next((c for c in conds if c.get("isPrimary")), conds[0] if conds else None)
        filt: dict[str, Any] = {"filter": name}
        op = (primary or {}).get("operator") or f.get("operator")
        if isinstance(op, str) and op:
            filt["operator"] = op
        values = [v for v in (primary or {}).get("values") or [] if isinstance(v, (str, int, float, bool))]
        if values:
            filt["values"] = values
        cons = _conditions([c for c in conds if c is not primary])
        if cons:
            filt["constraints"] = cons
        filters.append(filt)
    if triggers:
        out["triggers"] = triggers
    if filters:
        out["filters"] = filters
        logic = str(rules.get("filterMatchType") or "all").lower()
        if logic in ("all", "any"):
            out["ruleLogic"] = logic
        else:
            gaps.add("/smartList", "rule logic",
                     f"Marketo says the filters use {rules.get('filterMatchType')!r} logic but its API does not give "
                     "the expression; set ruleLogic (e.g. '1 and (2 or 3)') from the Marketo UI")
    return out, bool(raw_triggers)


def campaign_document(ws: "MarketoWorkspace", rec: dict[str, Any]) -> tuple[bytes, list[dict[str, str]]]:
    """A smart campaign record (from the browse list) → the bundle's smartCampaign document."""
    mid, gaps = int(rec["id"]), Gaps()
    try:
        found = ws.client.get(f"{A}/smartCampaign/{mid}/smartList.json", includeRules=True)
    except MarketoError as err:
        raise read_failed("smartCampaign", rec, err) from None
    rules = found[0].get("rules") if found and isinstance(found[0], dict) else None
    rules = rules if isinstance(rules, dict) else {}
    sl, listed_triggers = smart_list(rules, gaps)
    doc: dict[str, Any] = {"type": "trigger" if sl.get("triggers") else "batch", "smartList": sl, "flow": []}
    if not sl and not rules.get("triggers") and not rules.get("filters"):
        gaps.add("/smartList", "smart list (triggers and filters)",
                 "Marketo holds no smart-list rule for this campaign (an import cannot write them: the asset API "
                 "cannot); add them in the Marketo UI, or from the bundle it was imported from, and export again")
    if listed_triggers and not sl.get("triggers"):
        gaps.add("/type", "campaign type", "Marketo lists triggers none of which could be read; this is a trigger "
                                           "campaign once they are added")
    if isinstance(rec.get("description"), str) and rec["description"]:
        doc["description"] = rec["description"]
    if rec.get("isActive") is True:
        doc["active"] = True
    rule = (rec.get("qualificationRuleType"), rec.get("qualificationRuleInterval"), rec.get("qualificationRuleUnit"))
    rule = rule if rule[0] == "interval" else (rule[0], None, None)
    if rule in QUALIFICATION:
        doc["qualificationRule"] = QUALIFICATION[rule]
    elif rule[0] is not None:
        gaps.add("", "qualification rule", f"Marketo's rule {' '.join(str(r) for r in rule if r is not None)!r} "
                                           "has no bundle equivalent (once, every time, once every 1 hour/1 day/"
                                           "7 days/30 days)")
    if isinstance(rec.get("isCommunicationLimitEnabled"), bool):
        doc["communicationLimits"] = rec["isCommunicationLimitEnabled"]
    schedule = _schedule(rec.get("recurrence"), gaps)
    if schedule:
        doc["schedule"] = schedule
    gaps.add("/flow", "flow steps", NO_FLOW)
    return canonical.dump_bytes(doc), gaps.items


def _schedule(rec: Any, gaps: Gaps) -> dict[str, Any] | None:
    if not isinstance(rec, dict) or not rec.get("startAt"):
        return None
    out: dict[str, Any] = {"runAt": str(rec["startAt"])}
    interval = str(rec.get("intervalType") or "").lower()
    extra = [k for k in ("endAt", "weekdayMask", "dayOfMonth", "dayOfWeek", "weekOfMonth") if rec.get(k)]
    if rec.get("weekdayOnly"):
        extra.append("weekdayOnly")
    if interval in ("daily", "weekly", "monthly") and rec.get("interval") in (None, 1):
        out["recurrence"] = interval
    elif interval:
        extra.append(f"every {rec.get('interval')} {interval}")
    else:
        out["recurrence"] = "none"
    if extra:
        gaps.add("/schedule", "schedule details", f"Marketo's recurrence has {', '.join(extra)}, which a bundle "
                                                  "schedule cannot say; set it in the Marketo UI")
    return out


# -- files --------------------------------------------------------------------------------------------
def download(rec: dict[str, Any], timeout: float) -> bytes:
    """A file's bytes from its public URL. No credentials are sent: the URL is public and may be another host."""
    url = rec.get("url")
    parts = urlsplit(url) if isinstance(url, str) else None
    where = f"file {rec.get('name')!r} (id {rec.get('id')})"
    if parts is None or parts.scheme not in ("http", "https") or (
            parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1")):
        msg = f"{where}: Marketo gave no https URL to download it from ({url!r})"
        raise ProgramkitError(msg, [make("PK915", msg)])
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="GET"), timeout=timeout) as resp:
            data = resp.read(MAX_DOWNLOAD + 1)
    except urllib.error.HTTPError as e:
        msg = f"{where}: HTTP {e.code} from {url}"
        raise ProgramkitError(msg, [make("PK915", msg)]) from None
    except (urllib.error.URLError, OSError, ValueError) as e:
        msg = f"{where}: cannot download {url}: {getattr(e, 'reason', None) or e}"
        raise ProgramkitError(msg, [make("PK915", msg)]) from None
    if len(data) > MAX_DOWNLOAD:
        msg = f"{where}: larger than {MAX_DOWNLOAD >> 20} MiB"
        raise ProgramkitError(msg, [make("PK915", msg)])
    if isinstance(rec.get("size"), int) and rec["size"] != len(data):
        msg = f"{where}: {len(data)} bytes downloaded, Marketo says {rec['size']}"
        raise ProgramkitError(msg, [make("PK915", msg)])
    return data
