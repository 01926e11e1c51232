"""Values and conditions: how the simulator compares field values, tests a Marketo-style
operator, maps field names as users spell them to one key, and applies a score change."""

from __future__ import annotations

from typing import Any, Callable

from ..model import Bundle
from ..catalog import catalog

_PLUS = {f"+{n}": n for n in range(1000)}  # score changes "+N" → N, the common case

def _text(v: Any) -> str:
    """Value as case-folded text: True → 'true', 10.0 → '10', None → ''."""
    t = type(v)
    if t is str:
        return v.strip().casefold()
    if v is None:
        return ""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if t is float and v.is_integer():
        return str(int(v))
    return str(v).strip().casefold()


def _num(v: Any) -> float | None:
    t = type(v)
    if t is int or t is float:  # bool is not: type(True) is bool
        return float(v)
    if v is None or t is bool:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    try:
        return float(str(v).strip())
    except ValueError:
        return None


def value_test(op: str, values: list[Any]) -> Callable[[Any], bool]:
    """A predicate on one value for a Marketo-style operator and its values (tokens already resolved)."""
    op = (op or "is").strip().casefold()
    texts = frozenset(_text(v) for v in values)
    if "false" in texts:  # an unset boolean field is false (e.g. Synced to SFDC on a new person)
        texts |= {""}
    nums = [n for n in (_num(v) for v in values) if n is not None]
    first = nums[0] if nums else None
    if op in ("is", "is any", "in"):
        return lambda v: _text(v) in texts
    if op in ("is not", "not in"):
        return lambda v: _text(v) not in texts
    if op == "is empty":
        return lambda v: _text(v) == ""
    if op == "is not empty":
        return lambda v: _text(v) != ""
    if op in ("contains", "not contains", "starts with"):
        subs = [t for t in texts if t]
        if op == "contains":
            return lambda v: any(s in _text(v) for s in subs)
        if op == "not contains":
            return lambda v: not any(s in _text(v) for s in subs)
        return lambda v: any(_text(v).startswith(s) for s in subs)
    if op == "between" and len(nums) >= 2:
        lo, hi = min(nums[:2]), max(nums[:2])
        return lambda v: (n := _num(v)) is not None and lo <= n <= hi
    compare = {"at least": float.__ge__, "at most": float.__le__, "greater than": float.__gt__,
               "less than": float.__lt__}.get(op)
    if compare is not None and first is not None:
        def compare_test(v: Any) -> bool:
            t = type(v)
            if t is int or t is float:  # what _num does for them, without the call
                return compare(float(v), first)
            n = _num(v)
            return n is not None and compare(n, first)

        if op == "at least":
            compare_test.at_least = first  # type: ignore[attr-defined]  (the event loop compares directly)
        return compare_test
    raise ValueError(f"operator {op!r} with values {values!r} is not supported")


class FieldNames:
    """Maps field names as users write them (display or API name, any case) to one key."""

    def __init__(self, bundle: Bundle) -> None:
        self._map: dict[str, str] = {}
        self.display: dict[str, str] = {}
        self._seen: dict[str, str] = {}
        self._api: list[str] = []
        self.types: dict[str, str] = {}  # key → catalogue type ("score", "integer" …)
        # where names the catalogue does not know were first spelled: the events line (0: the
        # bundle or the people CSV), so worker processes' spellings merge into the first one
        self.origin = 0
        self.added: dict[str, int] = {}
        fields = list(catalog()["standardFields"]) + [f for f in bundle.requires.get("fields") or [] if isinstance(f, dict)]
        for f in fields:
            display = f.get("displayName") or f.get("apiName")
            key = display.casefold()
            self.display.setdefault(key, display)
            self._map[key] = key
            if isinstance(f.get("type"), str):
                self.types.setdefault(key, f["type"])
            if isinstance(f.get("apiName"), str):
                self._api.append(f["apiName"])
                self._map.setdefault(f["apiName"].casefold(), key)

    def known(self, name: str) -> bool:
        """Whether ``name`` is a standard field, a required one, or one the bundle itself reads."""
        return name.strip().casefold() in self._map

    def spellings(self) -> list[str]:
        """Every name a field is known by (display and API names), for "did you mean"."""
        return sorted(set(self.display.values()) | set(self._api))

    def key(self, name: str) -> str:
        if not isinstance(name, str):  # a number where the schema allows one (a constraint value): its text
            name = str(name)
        found = self._seen.get(name)  # names as spelled in the input repeat: skip strip and casefold
        if found is not None:
            return found
        k = name.strip().casefold()
        found = self._map.get(k)
        if found is None:  # a field the catalogue does not know: shown as first spelled
            self.display.setdefault(k, name.strip())
            self.added.setdefault(k, self.origin)
            self._map[k] = found = k
        self._seen[name] = found
        return found


SCORE_KEY = "person score"


def apply_score_change(old: Any, change: str) -> float:
    change = change.strip()
    base = _num(old) or 0.0
    if change.startswith("="):
        return float(change[1:].strip())
    if change.startswith("-"):
        return base - float(change[1:].strip())
    return base + float(change.lstrip("+").strip())


