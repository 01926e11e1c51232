"""Map JSON pointers to lines and columns in the JSON text they came from.

Python's json module drops positions, and findings want ``file:line:col`` so
that editors and GitHub annotations can jump to them. :func:`locate_all`
makes one pass over the text for any number of pointers: it descends only
into containers on the way to a wanted pointer and skips every other value
with the C decoder, so a file with ten thousand findings costs one walk, not
ten thousand. Like :func:`json.loads`, a key that appears twice resolves to
its last occurrence.
"""

from __future__ import annotations

import bisect
import json
import re
from json.decoder import scanstring
from typing import Any, Iterable, Iterator

_decoder = json.JSONDecoder()
_WS = " \t\n\r"
#: pointers nested deeper than this are not located (the finding keeps its pointer, without a line)
MAX_DEPTH = 200


def _skip_ws(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] in _WS:
        i += 1
    return i


def tokens(pointer: str) -> tuple[str, ...]:
    """The reference tokens of an RFC 6901 pointer, unescaped."""
    if not pointer:
        return ()
    return tuple(t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/"))


def _offsets(text: str, pointers: Iterable[str]) -> dict[str, int]:
    wanted: dict[tuple[str, ...], list[str]] = {}
    for p in pointers:
        if p == "" or p.startswith("/"):
            wanted.setdefault(tokens(p), []).append(p)
    prefixes = {path[:k] for path in wanted for k in range(len(path))}
    found: dict[str, int] = {}

    def visit(i: int, path: tuple[str, ...]) -> int:
        """Record the value starting at ``i`` if wanted; return the index just past it."""
        for p in wanted.get(path, ()):
            found[p] = i
        ch = text[i]
        if path not in prefixes or len(path) >= MAX_DEPTH or ch not in "{[":
            return _decoder.raw_decode(text, i)[1]
        close = "}" if ch == "{" else "]"
        i = _skip_ws(text, i + 1)
        if text[i] == close:
            return i + 1
        n = 0
        while True:
            if ch == "{":
                if text[i] != '"':
                    raise ValueError("expected a key")
                key, i = scanstring(text, i + 1)
                i = _skip_ws(text, i)
                if text[i] != ":":
                    raise ValueError("expected ':'")
                i = visit(_skip_ws(text, i + 1), path + (key,))
            else:
                i = visit(i, path + (str(n),))
                n += 1
            i = _skip_ws(text, i)
            if text[i] == ",":
                i = _skip_ws(text, i + 1)
            elif text[i] == close:
                return i + 1
            else:
                raise ValueError("expected ',' or a closing bracket")

    if wanted:
        try:
            visit(_skip_ws(text, 0), ())
        except (ValueError, IndexError, RecursionError):
            pass  # not JSON after all: keep what was found before the damage
    return found


def escape(token: object) -> str:
    """One JSON pointer reference token (RFC 6901): '~' → '~0', '/' → '~1'."""
    return str(token).replace("~", "~0").replace("/", "~1")


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def locate_all(text: str, pointers: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Line and column where each pointer's value starts; pointers not in the document are left out."""
    offsets = _offsets(text, pointers)
    if not offsets:
        return {}
    newlines = [m.start() for m in re.finditer("\n", text)] if len(offsets) > 8 else None
    out = {}
    for p, off in offsets.items():
        if newlines is None:
            out[p] = line_col(text, off)
        else:
            k = bisect.bisect_left(newlines, off)
            out[p] = (k + 1, off - (newlines[k - 1] + 1 if k else 0) + 1)
    return out


def locate(text: str, pointer: str) -> tuple[int, int] | None:
    """Line and column where the value at ``pointer`` starts, or None if it is not in the document."""
    return locate_all(text, [pointer]).get(pointer)


def iter_strings(value: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    """Every string inside a JSON value, with its pointer, in document order.

    Iterative, so a hostile document nested a thousand levels deep cannot
    exhaust the interpreter's stack.
    """
    stack: list[tuple[str, Any]] = [(pointer, value)]
    while stack:
        p, v = stack.pop()
        if isinstance(v, str):
            yield p, v
        elif isinstance(v, dict):
            stack.extend(reversed([(f"{p}/{escape(k)}", x) for k, x in v.items()]))
        elif isinstance(v, list):
            stack.extend(reversed([(f"{p}/{i}", x) for i, x in enumerate(v)]))
