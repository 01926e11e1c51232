"""Terminal safety: text that came from a bundle, a workspace or a server is shown, never interpreted.

A name can hold anything JSON can: ESC (``\\x1b[2J`` clears the screen, OSC 8
makes a fake link, OSC 52 writes the clipboard), a carriage return that hides
what came before it, a backspace, bidi overrides that reorder what a reader
sees. :func:`shown` is the one escaping function: it turns every such
character into a visible ``\\uXXXX`` escape. That form is also a valid JSON
string escape, so applied to JSON output it leaves the exact text intact for a
JSON reader (``json.loads`` gives back the original characters).

:class:`EscapingStream` applies :func:`shown` to everything a command writes
to stdout and stderr (``\\n`` and ``\\t`` pass); the only escape sequences that
reach a terminal are the colour codes programkit's own styling emits (and only
when colour is on).
"""

from __future__ import annotations

import re
from typing import Any

#: C0 controls except tab and newline, DEL, C1 controls, and the bidi embedding/override/isolate marks and
#: other invisible format characters that change how a line reads (line/paragraph separators break lines)
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"
                     "\ud800-\udfff]")
#: the same, for a one-line name: newline and tab escaped too
_UNSAFE_NAME = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")
#: colour codes (SGR) as click.style writes them: the only sequences allowed through when colour is on
_SGR = re.compile(r"\x1b\[[0-9;]{0,20}m")


def _escape(m: re.Match[str]) -> str:
    return f"\\u{ord(m.group()):04x}"


def shown(text: Any) -> str:
    """``text`` made safe to print: every control or invisible formatting character, newline and tab included,
    as a visible ``\\uXXXX`` (so ``'a\\x1b[31mb'`` prints as ``a\\u001b[31mb``). For names and values from
    input, in text output; JSON output keeps the exact text."""
    return _UNSAFE_NAME.sub(_escape, text if isinstance(text, str) else str(text))


def escape_output(text: str, colour: bool = False) -> str:
    """A block of output made safe: as :func:`shown`, but newlines and tabs pass and, with ``colour``, so do
    colour codes."""
    if not colour:
        return _UNSAFE.sub(_escape, text)
    out, last = [], 0
    for m in _SGR.finditer(text):
        out.append(_UNSAFE.sub(_escape, text[last:m.start()]))
        out.append(m.group())
        last = m.end()
    out.append(_UNSAFE.sub(_escape, text[last:]))
    return "".join(out)


def has_unsafe(text: str) -> bool:
    """Whether ``text`` holds a character a terminal would interpret (what the tests assert never reaches it)."""
    return _UNSAFE.search(text) is not None


class EscapingStream:
    """A text stream that passes everything written to it through :func:`escape_output` first."""

    def __init__(self, stream: Any, colour: bool = False):
        self._stream = stream
        self._colour = colour

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # a text stream, as click probes with write(b"")
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._stream.write(escape_output(text, self._colour))
        return len(text)

    @property
    def buffer(self) -> Any:
        # no way around the escaping: click writes to a stream's buffer when it can find one
        raise AttributeError("buffer")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def unescaped(stream: Any) -> Any:
    """The terminal stream under an :class:`EscapingStream`, for output that is programkit's own and needs the
    control characters (a progress bar redraws its line with ``\r``); never for text from input."""
    return stream._stream if isinstance(stream, EscapingStream) else stream
