"""``workspace load --from https://…mktorest.com``: mirror a real Marketo instance's inventory into an embedded
workspace, so an admin can plan offline against a faithful rehearsal of it.

What is read goes through the Marketo target's own inventory reading (the same calls a plan against the
instance makes; credentials from the environment as there): person fields, the CRM it infers, tag types and
values, segmentations, custom objects, channels and their statuses, the email and landing page templates,
snippets and images of Design Studio with their bytes, and the programs' names (type and channel). It becomes an
inventory document checked against the inventory schema like a file's, and is merged the same way (added or
updated, never removed; one transaction). A program the workspace does not have yet is created empty, so a plan
finds the same name collisions the instance would (PK510). What the API cannot read (webhooks) is said, never
guessed; a field whose type the inventory format does not know is said and left out.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import kinds
from .inventory import InventoryResult, check_inventory_doc, merge_inventory
from .schema import get_schema
from .workspaces.base import DESIGN_KINDS, Workspace

#: Design Studio kind → its inventory section (declared by each kind unit)
SECTION_OF = {k.name: k.inventory_section for k in kinds.all_kinds() if k.inventory_section}


@dataclass
class Mirror:
    """What was read from the instance: the inventory document, the programs, and what was left out and why."""

    url: str
    doc: dict[str, Any]
    programs: list[dict[str, Any]]
    left_out: list[str] = field(default_factory=list)
    calls: int = 0

    def read_counts(self) -> dict[str, int]:
        d = self.doc
        return {"fields": len(d.get("fields", [])), "tagTypes": len(d.get("tagTypes", {})),
                "tagValues": sum(len(v) for v in d.get("tagTypes", {}).values()),
                "segmentations": len(d.get("segmentations", [])), "customObjects": len(d.get("customObjects", [])),
                "channels": len(d.get("channels", [])), "emailTemplates": len(d.get("emailTemplates", [])),
                "landingPageTemplates": len(d.get("landingPageTemplates", [])), "images": len(d.get("images", [])),
                "snippets": len(d.get("snippets", [])), "programs": len(self.programs)}

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.url, "read": self.read_counts(), "crm": self.doc.get("crm"), "leftOut": self.left_out,
                "apiCalls": self.calls}


def _design_names(source: Any, kind: str) -> list[str]:
    """Every Design Studio asset name of ``kind`` on the instance: the Marketo target's browse list."""
    return [a["name"] for a in source.design_records(kind) if isinstance(a.get("name"), str)]


def read_instance(source: Workspace) -> Mirror:
    """Read ``source`` (a Marketo workspace) into an inventory document. Reads only."""
    url = getattr(source, "location", None) or str(source)
    types = set(get_schema("requires")["properties"]["fields"]["items"]["properties"]["type"]["enum"])
    left: list[str] = []
    fields = []
    for f in sorted(source.fields().values(), key=lambda f: f.api_name.casefold()):
        kind = (f.type or "").lower()
        if kind in types:
            fields.append({"apiName": f.api_name, "displayName": f.display_name or f.api_name, "type": kind})
        else:
            left.append(f"field {f.api_name!r}: type {f.type!r} is not one the inventory format knows")
    doc: dict[str, Any] = {"fields": fields,
                           "tagTypes": {k: sorted(v, key=str.casefold) for k, v in sorted(source.tag_types().items())},
                           "segmentations": sorted(source.names("segmentations"), key=str.casefold),
                           "customObjects": sorted(source.names("customObjects"), key=str.casefold)}
    crm = source.crm()
    if crm:
        doc["crm"] = crm
    else:
        left.append("CRM: none detected (the API cannot read the CRM sync settings); the workspace's is kept")
    if "webhooks" in getattr(source, "unreadable", ()):
        left.append("webhooks: the Marketo API cannot list them; describe them with an inventory file")
    doc["channels"] = [{"name": name, "statuses": [{"name": s, "step": i} for i, s in enumerate(statuses)]}
                       for name, statuses in source.channels().items() if statuses]
    for kind in DESIGN_KINDS:
        found = source.design_assets(kind, _design_names(source, kind))
        items = []
        for asset in sorted(found.values(), key=lambda a: a.name.casefold()):
            item: dict[str, Any] = {"name": asset.name,
                                    "contentBase64": base64.b64encode(source.read(asset.id)).decode("ascii")}
            item.update({k: asset.meta[k] for k in ("templateType", "mimeType") if k in asset.meta})
            items.append(item)
        doc[SECTION_OF[kind]] = items
    programs = [{"name": p.name, "type": p.data.get("type") or "default", "channel": p.data.get("channel")}
                for p in source.programs()]
    client = getattr(source, "client", None)
    return Mirror(url, doc, [{k: v for k, v in p.items() if v is not None} for p in programs], left,
                  getattr(client, "calls", 0))


def load_from(ws: Workspace, source: Workspace) -> tuple[Mirror, InventoryResult]:
    """Mirror ``source``'s inventory into ``ws``: read, check as an inventory, merge in one transaction."""
    mirror = read_instance(source)
    doc, assets, findings = check_inventory_doc(mirror.doc, mirror.url, Path("."))
    result = InventoryResult(mirror.url, findings)
    if doc is not None and result.ok:
        merge_inventory(ws, doc, assets, result, mirror.programs)
    return mirror, result
