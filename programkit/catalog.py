"""What programkit knows of Marketo's product: standard person fields, triggers, filters, flow steps.

Read once from package data (``data/marketo.json``). Kind units and validate share it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .resources import data_json


@lru_cache(maxsize=1)
def catalog() -> dict[str, Any]:
    return data_json("marketo.json")


@lru_cache(maxsize=1)
def standard_field_names() -> frozenset[str]:
    names: set[str] = set()
    for f in catalog()["standardFields"]:
        names.add(f["displayName"].casefold())
        names.add(f["apiName"].casefold())
    return frozenset(names)


def known_field_names(bundle: Any) -> frozenset[str]:
    """Standard fields and the bundle's ``requires.fields`` (API and display names), casefolded."""
    names = set(standard_field_names())
    for f in bundle.requires.get("fields") or []:
        if isinstance(f, dict):
            for k in ("apiName", "displayName"):
                if isinstance(f.get(k), str):
                    names.add(f[k].casefold())
    return frozenset(names)
