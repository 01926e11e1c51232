"""staticList: a static list of the program — name, folder, description.

Its members are never carried: people are data, not program design. A list is imported empty, and export
never reads who is in it (the schema's description says so, and it has no property that could hold people).
Campaigns name lists in "Member of List" filters and Add to List / Remove from List flow steps.
"""

from __future__ import annotations

from .base import Kind
from .smart_campaign import SMART_LIST_REFS

SMART_LIST_REFS.update({"member of list": ("staticList", "list", "PK537", "static list"),
                        "added to list": ("staticList", "list", "PK537", "static list"),
                        "removed from list": ("staticList", "list", "PK537", "static list")})

# no references, no checks: its document is a description (members are never carried; schemas/staticList.json)
KIND = Kind(name="staticList", label="static lists", format="json", scope="program", directory="lists",
            schema="staticList", rank=15, batch=True)
