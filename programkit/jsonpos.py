"""Map a JSON pointer to a line and column in the JSON text it came from.

Python's json module drops positions, and findings want ``file:line:col`` so
that editors and GitHub annotations can jump to them. This walks the text
only along the pointer, skipping sibling values with the C decoder, so it is
cheap enough to call once per finding.
"""

from __future__ import annotations

import json
from json.decoder import scanstring

_decoder = json.JSONDecoder()
_WS = " \t\n\r"


def _skip_ws(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] in _WS:
        i += 1
    return i


def _tokens(pointer: str) -> list[str]:
    if not pointer:
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.lstrip("/").split("/")]


def _offset(text: str, pointer: str) -> int | None:
    i = _skip_ws(text, 0)
    for token in _tokens(pointer):
        if i >= len(text):
            return None
        ch = text[i]
        if ch == "{":
            i = _skip_ws(text, i + 1)
            while True:
                if i >= len(text) or text[i] != '"':
                    return None
                key, i = scanstring(text, i + 1)
                i = _skip_ws(text, i)
                if i >= len(text) or text[i] != ":":
                    return None
                i = _skip_ws(text, i + 1)
                if key == token:
                    break
                _, i = _decoder.raw_decode(text, i)
                i = _skip_ws(text, i)
                if i < len(text) and text[i] == ",":
                    i = _skip_ws(text, i + 1)
                    continue
                return None
        elif ch == "[":
            if not token.isdigit():
                return None
            want = int(token)
            i = _skip_ws(text, i + 1)
            for _ in range(want):
                _, i = _decoder.raw_decode(text, i)
                i = _skip_ws(text, i)
                if i >= len(text) or text[i] != ",":
                    return None
                i = _skip_ws(text, i + 1)
            if i < len(text) and text[i] == "]":
                return None
        else:
            return None
    return i


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def locate(text: str, pointer: str) -> tuple[int, int] | None:
    """Line and column where the value at ``pointer`` starts, or None if not found."""
    try:
        offset = _offset(text, pointer)
    except (ValueError, IndexError):
        return None
    if offset is None:
        return None
    return line_col(text, offset)
