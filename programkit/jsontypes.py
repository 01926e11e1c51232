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


# --- strict JSON: what RFC 8259 allows, nothing Python's json module adds -----------------

import json as _json  # noqa: E402
import math as _math  # noqa: E402
import re as _re  # noqa: E402

#: a \\uD800-\\uDFFF escape: only then can a parsed string hold a lone surrogate
_SURROGATE_ESCAPE = _re.compile(r"\\u[dD][89a-fA-F]")


class JsonInputError(ValueError):
    """Text that Python's json module would accept or choke on but that is not interchangeable JSON: NaN,
    Infinity, a number too long or out of range, a string with a lone surrogate, nesting too deep."""

    def __init__(self, message: str, code: str, pos: int = 0, text: str = ""):
        super().__init__(message)
        self.message, self.code, self.pos = message, code, pos
        self.lineno = text.count("\n", 0, pos) + 1
        self.colno = pos - text.rfind("\n", 0, pos)


def _constant(name: str) -> Any:
    raise JsonInputError(f"{name} is not JSON (JSON has no NaN or Infinity)", "PK117")


def _float(text: str) -> float:
    value = float(text)
    if _math.isinf(value):
        raise JsonInputError(f"the number {text[:20]}{'…' if len(text) > 20 else ''} is out of range", "PK117")
    return value


def _find_surrogate(value: Any) -> str | None:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                return v
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return None


def strict_loads(text: str) -> Any:
    """``json.loads`` for input: raises :class:`json.JSONDecodeError` for a syntax error and
    :class:`JsonInputError` for NaN/Infinity or a number out of range (PK117), an integer longer than Python
    converts (PK118), a string holding a lone surrogate (PK119), or nesting too deep (PK101)."""
    try:
        value = _json.loads(text, parse_constant=_constant, parse_float=_float)
    except JsonInputError as e:
        raise JsonInputError(e.message, e.code, _locate(text, e.code), text) from None
    except RecursionError:
        raise JsonInputError("JSON nested too deeply", "PK101", 0, text) from None
    except _json.JSONDecodeError:
        raise
    except ValueError:  # int(): "Exceeds the limit (4300 digits) for integer string conversion"
        m = _outside_strings(text, _re.compile(r"-?[0-9]{4301,}"))
        digits = len(m.group().lstrip("-")) if m else 0
        raise JsonInputError(f"a number with {digits} digits: more than programkit reads (at most "
                             f"{_max_digits()})", "PK118", m.start() if m else 0, text) from None
    if _SURROGATE_ESCAPE.search(text):
        bad = _find_surrogate(value)
        if bad is not None:
            m = _SURROGATE_ESCAPE.search(text)
            raise JsonInputError("a string holds a lone surrogate escape (\\ud800-\\udfff without its pair), "
                                 "which is not Unicode text", "PK119", m.start() if m else 0, text)
    return value


_TOKEN = _re.compile(r'"(?:[^"\\]|\\.)*"|NaN|-?Infinity|-?[0-9]+(?:\.[0-9]+)?[eE][+-]?[0-9]+')


def _outside_strings(text: str, pattern: "_re.Pattern[str]") -> "_re.Match[str] | None":
    """The first match of ``pattern`` that is not inside a JSON string."""
    for m in _re.finditer(r'"(?:[^"\\]|\\.)*"|' + pattern.pattern, text):
        if not m.group().startswith('"'):
            return m
    return None


def _locate(text: str, code: str) -> int:
    """Where the NaN, Infinity or out-of-range number is (outside strings)."""
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok.startswith('"'):
            continue
        if tok in ("NaN", "Infinity", "-Infinity") or _math.isinf(float(tok)):
            return m.start()
    return 0


def _max_digits() -> int:
    import sys

    return sys.get_int_max_str_digits() or 4300
