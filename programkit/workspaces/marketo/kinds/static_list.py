"""Static lists on the Marketo target: name, folder and description (``staticLists.json``,
``staticList/{id}.json``). Members are never carried: a list is created empty and export never reads who is
in it (people are data, not program design; the List Membership endpoints of the lead database are not used).

Adobe's pages: "Static Lists" (experienceleague.adobe.com/en/docs/marketo-developer/marketo/rest/assets/
static-lists) and the Swagger's CreateStaticListRequest / UpdateStaticListRequest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from ....canonical import dump_bytes
from ....findings import Finding, Severity, make, register_code
from ..common import A
from .base import MarketoKind
from .form import settle

if TYPE_CHECKING:  # pragma: no cover - types only
    from ..apply import MarketoWriter
    from ..inventory import MarketoInventory

_GROUP = "marketo"
register_code("PK841", "marketo-list-name-in-use", Severity.ERROR,
              "A static list's name is already used by another list in the Marketo instance; Marketo's static list "
              "names are unique, so it would refuse the create.",
              hint="Rename the list in the bundle (its manifest name), or rename or delete the other list in Marketo.",
              example="static list name 'Invitees' is already in use in Marketo (/Marketing Activities/Default/"
                      "Operational/Invitees, id 900)", group=_GROUP)


class StaticListKind(MarketoKind):
    kind = "staticList"
    label = "static list"
    segment = "staticList"
    browse = f"{A}/staticLists.json"

    def create(self, writer: "MarketoWriter", name: str, doc: Any, folder: dict[str, Any],
               meta: dict[str, Any]) -> dict[str, Any]:
        # EL static-lists, Create and Update: folder and name required, description optional; created empty
        return writer.client.post(f"{A}/staticLists.json", {
            "name": name, "folder": folder, "description": (doc or {}).get("description") or None})[0]

    def replace(self, writer: "MarketoWriter", mid: int, doc: Any, meta: dict[str, Any]) -> None:
        # UpdateStaticListRequest: name and description; an emptied description is written as empty
        writer.client.post(f"{A}/staticList/{mid}.json", {"description": (doc or {}).get("description") or ""})

    def after_writes(self, writer: "MarketoWriter", mid: int, name: str, doc: Any, meta: dict[str, Any]) -> None:
        # a replaced description moved the list's updatedAt past what the replace step could journal; a created
        # list's create step already holds the answer's
        last = next((s for s in reversed(writer.journal.data["steps"]) if s.get("kind") == self.kind
                     and s.get("id") == mid and s.get("sha256")), {})
        if last and last.get("updatedAt") is None:
            settle(writer, self.segment, self.kind, mid, (meta.get("entry") or {}).get("sha256") or "")

    def preflight(self, inventory: "MarketoInventory", asset: Any) -> Iterable[Finding]:
        # EL static-lists: "The name must be unique" -- a list of that name anywhere in the instance refuses the
        # create. One the plan read among the target program's own assets is the bundle's (an upgrade rewrites it).
        for rec in inventory.all_local_records(self.kind):
            if str(rec.get("name", "")).casefold() == asset.name.casefold() and \
                    (self.kind, rec["id"]) not in inventory.asset_records:
                where = inventory.folder_path(rec.get("folder")) or "another folder"
                yield make("PK841", f"static list name {asset.name!r} is already in use in Marketo ({where}/"
                                    f"{rec.get('name')}, id {rec['id']}); Marketo's list names are unique",
                           file="bundle.json", pointer=f"{asset.pointer}/name")

    def calls(self, doc: Any, action: str) -> int:
        # create and delete: one call; a changed description: the update and its updatedAt read back
        return 2 if action in ("replace", "update") else 1

    def document(self, inventory: "MarketoInventory", record: dict[str, Any]) -> tuple[bytes, list[dict[str, str]]]:
        # the record the browse gave: its description (absent until one is set, as the guide's answers show);
        # members are not read: a bundle never carries them
        doc = {"description": record["description"]} if record.get("description") else {}
        return dump_bytes(doc), []


HANDLER = StaticListKind()
