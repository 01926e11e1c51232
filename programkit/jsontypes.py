"""Reading JSON whose shape is not yet known to be right.

Schema findings say what is wrong with a document, but the semantic checks
run on the same document to list every other problem at once; there a value
may have any JSON type. ``x.get("k") or []`` breaks on ``"k": 7`` (an int is
not iterable) and ``value in a_set`` on an object (not hashable). These
helpers give the checks the type they expect, or nothing, so a wrong type is
the schema's finding and never a traceback.
"""

from __future__ import annotations

from typing import Any


def as_list(value: Any) -> list[Any]:
    """``value`` if it is a JSON array, else an empty list."""
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty dict."""
    return value if isinstance(value, dict) else {}


def as_str(value: Any) -> str | None:
    """``value`` if it is a string, else None (safe to look up in a set or dict)."""
    return value if isinstance(value, str) else None
