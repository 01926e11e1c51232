"""smartList: a reusable smart list of the program, which campaigns use with "Member of Smart List".

Its rules have the shape of a campaign's smart list (schemas/smartList.json refers to smartCampaign's), and
the same checks apply (known filters, rule logic); a reusable smart list has filters only, no triggers (PK224).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

from ..catalog import known_field_names
from ..findings import Finding, Severity, make, register_code
from .base import Kind, Ref
from .smart_campaign import SMART_LIST_REFS, smart_list_findings, smart_list_refs

if TYPE_CHECKING:
    from ..model import Bundle

register_code("PK224", "smart-list-triggers", Severity.ERROR, "A reusable smart list has triggers.",
              hint="Triggers belong to a campaign's smart list; a reusable smart list has filters only.",
              example="lists/attendees.json /smartList/triggers: a reusable smart list cannot have triggers",
              group="pages and forms")

SMART_LIST_REFS.update({"member of smart list": ("smartList", "smart list", "PK537", "smart list")})


def references(doc: Any) -> Iterator[Ref]:
    if isinstance(doc, dict):
        yield from smart_list_refs(doc.get("smartList"))


def checks(bundle: "Bundle") -> Iterator[Finding]:
    known = known_field_names(bundle)
    for a in bundle.assets_of("smartList"):
        sl = a.content.get("smartList") if isinstance(a.content, dict) else None
        if not isinstance(sl, dict):
            continue
        if sl.get("triggers"):
            yield make("PK224", "/smartList/triggers: a reusable smart list cannot have triggers", file=a.path,
                       pointer="/smartList/triggers")
        yield from smart_list_findings(sl, a.path, known)


KIND = Kind(name="smartList", label="smart lists", format="json", scope="program", directory="smart-lists",
            schema="smartList", rank=15, batch=True, references=references, checks=(checks,))
