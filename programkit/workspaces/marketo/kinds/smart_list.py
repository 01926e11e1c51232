"""smartList on the Marketo target: a program's reusable smart lists.

What Adobe's API can do with one (``SL`` = https://experienceleague.adobe.com/en/docs/marketo-developer/marketo/
rest/assets/smart-lists; the Swagger's Smart Lists operations): "query, clone, and delete" -- read one with its
rules (``smartList/{id}.json?includeRules=true``), clone one (``smartList/{id}/clone.json``: name, folder,
description), delete one. There is no create and nothing writes a rule or a description. So, as the target does
for a campaign's smart list: when the workspace holds a smart list of the same name elsewhere with the bundle's
filters and rule logic, the new one is a clone of it (its rules come with it); otherwise nothing can be written,
and the smart list goes on the checklist whole (created by hand, its filters, its rule logic). Export reads the
rules back into the bundle's shape (the campaigns' smart-list mapping).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Iterable

from ....canonical import dump_bytes
from ....findings import Finding, make
from ..checklist import campaign_checks, filter_key, filter_text, logic_text, same_smart_list
from ..client import MarketoError
from ..common import A, sha256_hex
from ..export import Gaps, read_failed as _fail, smart_list
from .base import CANNOT_READ, MarketoKind, StepCheck

if TYPE_CHECKING:  # pragma: no cover
    from ..apply import MarketoWriter
    from ..inventory import MarketoInventory

CREATE_PREFIX = "Smart List: create the smart list "
DESCRIPTION_PREFIX = "Smart List: set the description to "
REVIEW = ("Review: the bundle changed this smart list; the API cannot write its rules or description (Adobe's Smart "
          "Lists API only reads, clones and deletes): change it by hand to match every step below")


def _rules_steps(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(what, step) for a smart list's filters and rule logic, worded as a campaign's smart-list steps."""
    return [(w, s) for w, s in campaign_checks({"smartList": doc.get("smartList") or {}})
            if w.startswith(("filter:", "trigger:")) or w == "ruleLogic"]


class SmartListKind(MarketoKind):
    kind = "smartList"
    label = "smart list"
    segment = "smartList"
    browse = f"{A}/smartLists.json"
    unwritten_reason = "not written: the API cannot create one"
    replace_writes = False  # no endpoint writes a smart list's rules or description: the checklist only

    # -- apply ----------------------------------------------------------------------------------------
    def prepare(self, writer: "MarketoWriter", docs: list[Any]) -> None:
        writer.ws.all_local_records(self.kind)  # where a smart list to clone is looked for: read before the workers
        writer.ws.program_records()

    def create(self, writer: "MarketoWriter", name: str, doc: Any, folder: dict[str, Any],
               meta: dict[str, Any]) -> dict[str, Any] | None:
        base = writer.ws.folder_path(folder) or ""
        base = next((p for p in _program_paths(writer.ws) if (base + "/").startswith(p + "/")), base)
        source = self.clone_source(writer.ws, name, doc, base)
        if source is None:
            return None  # SL: no create endpoint; the checklist says how to build it
        # SL, Clone: folder (a program or smart-list folder), a unique name, an optional description; the copy
        # has the source's rules
        return writer.client.post(f"{A}/smartList/{source}/clone.json", {
            "name": name, "folder": folder, "description": doc.get("description") or None})[0]

    def clone_source(self, ws: Any, name: str, doc: dict[str, Any], base: str) -> int | None:
        """A smart list of the same name outside the program at ``base`` with the bundle's rules (one read with
        includeRules=true per same-named candidate, once per workspace object), or None."""
        want = doc.get("smartList") or {}
        if not want.get("filters") and not want.get("triggers"):
            return None
        for rec in ws.all_local_records(self.kind):
            path = ws.folder_path(rec.get("folder")) or ""
            if str(rec.get("name", "")).casefold() != name.casefold() or (base and (path + "/").startswith(base + "/")):
                continue
            found = ws.cached(f"smartList-rules-{rec['id']}", lambda: ws.client.get(
                f"{A}/smartList/{rec['id']}.json", includeRules=True))
            rules = (found[0].get("rules") if found else None) or {}
            have, _ = smart_list(rules if isinstance(rules, dict) else {}, Gaps())
            if same_smart_list(want, have):
                return int(rec["id"])
        return None

    def preflight(self, inventory: "MarketoInventory", asset: Any) -> Iterable[Finding]:
        # known before writing: whether there is a smart list to clone; if not, this one is left to the UI
        bundle = getattr(inventory, "preflight_bundle", None)
        name = str(((bundle.program or {}) if bundle is not None else {}).get("name") or "")
        prog = next((p for p in inventory.program_records() if p["name"].casefold() == name.casefold()), None)
        base = inventory.program_path(prog) if prog else f"/Marketing Activities/{inventory.name}/{name}"
        doc = asset.content if isinstance(asset.content, dict) else {}
        if self.clone_source(inventory, asset.name, doc, base) is None:
            yield make("PK809", f"smartList {asset.name!r} cannot be created through the Marketo API (Adobe's Smart "
                                "Lists API only clones one, and the workspace has no smart list of that name with "
                                "these rules): it goes to the manual-steps checklist",
                       file="bundle.json", pointer=asset.pointer)

    def unwritten_steps(self, name: str, doc: Any, folder_path: str) -> list[str]:
        steps = [f'{CREATE_PREFIX}"{name}" in this folder (Marketo\'s API can only clone a smart list, and the '
                 "workspace has none of that name with these rules)"]
        steps += [s for _, s in _rules_steps(doc)]
        if doc.get("description"):
            steps.append(f"{DESCRIPTION_PREFIX}{json.dumps(doc['description'], ensure_ascii=False)}")
        return steps

    def replace(self, writer: "MarketoWriter", mid: int, doc: Any, meta: dict[str, Any]) -> None:
        # nothing the API can write (no rule or description update): the changed smart list is a checklist item
        key = f"review:smartList:{mid}:{sha256_hex(json.dumps(doc, sort_keys=True).encode())[:12]}"
        if writer.journal.done(key):
            return
        title = ((meta or {}).get("entry") or {}).get("name") or f"smart list {mid}"
        steps = [REVIEW] + [s for _, s in _rules_steps(doc)]
        if doc.get("description"):
            steps.append(f"{DESCRIPTION_PREFIX}{json.dumps(doc['description'], ensure_ascii=False)}")
        writer.journal.add({"key": key, "op": "review", "kind": self.kind, "id": mid},
                           writer._checklist(self.kind, title, mid, "", steps, (meta or {}).get("index"),
                                             expect=self.expect(doc)))

    def expect(self, doc: Any) -> dict[str, Any]:
        return {"smartList": doc.get("smartList") or {}, "description": doc.get("description") or ""}

    def calls(self, doc: Any, action: str) -> int:
        # create: the clone (preflight already read the smart list to clone from; none when there is nothing to
        # clone); an update writes nothing (checklist only)
        return {"create": 1, "rename": 1, "delete": 1}.get(action, 0)

    # -- export / verify ------------------------------------------------------------------------------
    def document(self, inventory: "MarketoInventory", record: dict[str, Any]) -> tuple[bytes, list[dict[str, str]]]:
        gaps = Gaps()
        try:
            found = inventory.client.get(f"{A}/smartList/{int(record['id'])}.json", includeRules=True)
        except MarketoError as err:
            raise _fail(self.kind, record, err) from None
        rules = found[0].get("rules") if found and isinstance(found[0], dict) else None
        sl, _ = smart_list(rules if isinstance(rules, dict) else {}, gaps)
        if not sl:
            gaps.add("/smartList", "smart list rules", "Marketo holds no rule for this smart list; add its filters "
                                                       "in the Marketo UI (the API cannot write them)")
        doc: dict[str, Any] = {"smartList": sl}
        if isinstance(record.get("description"), str) and record["description"]:
            doc["description"] = record["description"]
        return dump_bytes(doc), gaps.items

    def check_steps(self, expect: dict[str, Any], found: Any, steps: list[str]) -> list[StepCheck]:
        want, have = expect.get("smartList") or {}, (found or {}).get("smartList") or {}
        step_of = {s: w for w, s in _rules_steps({"smartList": want})}
        filters = have.get("filters") or []
        out: list[StepCheck] = []
        for step in steps:
            what = step_of.get(step)
            if step.startswith(CREATE_PREFIX):
                out.append(("done", step, None, None, None))
            elif step.startswith(DESCRIPTION_PREFIX):
                got = (found or {}).get("description") or ""
                out.append(("done", step, None, None, None) if got == expect.get("description") else
                           ("differs", step, f"description {expect.get('description')!r}", f"description {got!r}",
                            None))
            elif what and what.startswith("filter:"):
                f = (want.get("filters") or [])[int(what.split(":")[1])]
                if any(filter_key(g) == filter_key(f) for g in filters if isinstance(g, dict) and "filter" in g):
                    out.append(("done", step, None, None, None))
                else:
                    same = [g for g in filters if str(g.get("filter", "")).casefold() == f["filter"].casefold()]
                    out.append(("differs", step, filter_text(f), filter_text(same[0]), None) if same else
                               ("missing", step, filter_text(f),
                                f"no filter {f['filter']!r}" + (" (Marketo has " + ", ".join(
                                    repr(g.get("filter")) for g in filters) + ")" if filters else ""), None))
            elif what == "ruleLogic":
                logic = want.get("ruleLogic", "all")
                got = have.get("ruleLogic")
                out.append(("done", step, None, None, None) if got == logic else
                           ("missing", step, logic_text(logic), "no filters, so no rule logic", None) if got is None
                           else ("differs", step, logic_text(logic), logic_text(got), None))
            else:
                out.append(("manual", step, None, None, CANNOT_READ))
        return out


def _program_paths(ws: Any) -> Iterable[str]:
    for p in ws.program_records():
        yield ws.program_path(p)


HANDLER = SmartListKind()
