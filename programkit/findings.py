"""Findings: what every check, lint rule and preflight reports.

A finding is plain data with a stable code, a severity, a location and a
message a person understands, plus a hint saying what to do about it. Codes
are registered once in :data:`CODES` so the documentation table, the
``programkit rules`` command and the tests all read the same list.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Iterable


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    def __str__(self) -> str:  # so f-strings print "error", not "Severity.ERROR"
        return self.value


@dataclass(frozen=True)
class Code:
    """A registered finding code: its stable identity and its documentation."""

    code: str
    name: str
    severity: Severity
    summary: str
    hint: str
    example: str
    group: str


#: Every finding code programkit can emit, by code.
CODES: dict[str, Code] = {}

#: Codes no longer emitted, never to be reused: code → what reports that case now (``explain`` says it).
RETIRED_CODES: dict[str, str] = {
    "PK961": "report-unwritable was folded into PK417 (the path is a directory, FIFO, device or link) and PK418 "
             "(the file system refused the write), as for every file programkit writes",
}


def register_code(
    code: str,
    name: str,
    severity: Severity,
    summary: str,
    *,
    hint: str,
    example: str,
    group: str,
) -> Code:
    """Register a finding code. Codes are stable: never reuse or renumber one."""
    if code in RETIRED_CODES:
        raise ValueError(f"finding code {code} is retired and never reused: {RETIRED_CODES[code]}")
    if code in CODES and CODES[code].name != name:
        raise ValueError(f"finding code {code} registered twice ({CODES[code].name}, {name})")
    entry = Code(code, name, severity, summary, hint, example, group)
    CODES[code] = entry
    return entry


@dataclass(frozen=True)
class Finding:
    """One problem found in a bundle, a template, an archive or a plan."""

    code: str
    severity: Severity
    message: str
    hint: str = ""
    file: str | None = None
    pointer: str | None = None  # JSON pointer inside ``file``
    line: int | None = None
    column: int | None = None
    rule: str = ""

    @property
    def location(self) -> str:
        """Human form of the location: ``line:column``, else the JSON pointer."""
        if self.line is not None:
            return f"{self.line}:{self.column}" if self.column is not None else str(self.line)
        return self.pointer or ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "rule": self.rule,
            "file": self.file,
            "location": self.location,
            "line": self.line,
            "column": self.column,
            "pointer": self.pointer,
            "message": self.message,
            "hint": self.hint,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Finding":
        return cls(
            code=data["code"],
            severity=Severity(data["severity"]),
            message=data["message"],
            hint=data.get("hint", ""),
            file=data.get("file"),
            pointer=data.get("pointer"),
            line=data.get("line"),
            column=data.get("column"),
            rule=data.get("rule", ""),
        )


def make(
    code: str,
    message: str,
    *,
    file: str | None = None,
    pointer: str | None = None,
    line: int | None = None,
    column: int | None = None,
    hint: str | None = None,
    severity: Severity | None = None,
) -> Finding:
    """Build a finding for a registered code, defaulting severity and hint from it."""
    entry = CODES[code]
    return Finding(
        code=code,
        severity=severity or entry.severity,
        message=message,
        hint=entry.hint if hint is None else hint,
        file=file,
        pointer=pointer,
        line=line,
        column=column,
        rule=entry.name,
    )


def sort_key(f: Finding) -> tuple:
    return (f.file or "", f.line or 0, f.column or 0, f.pointer or "", f.code, f.message)


def count(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {s.value: 0 for s in Severity}
    for f in findings:
        counts[f.severity.value] += 1
    return counts


@dataclass
class FindingList:
    """Findings collected while a stage runs; never stops at the first one."""

    items: list[Finding] = field(default_factory=list)

    def add(self, code: str, message: str, **kw: Any) -> Finding:
        f = make(code, message, **kw)
        self.items.append(f)
        return f

    def extend(self, more: Iterable[Finding]) -> None:
        self.items.extend(more)


def load_all_codes() -> dict[str, Code]:
    """Import every programkit module, so :data:`CODES` holds every code any of them registers."""
    import importlib
    import pkgutil

    import programkit

    for info in pkgutil.walk_packages(programkit.__path__, "programkit."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    return CODES


def closest_choice(word: str, choices: Iterable[str], cutoff: float = 0.75) -> str | None:
    """The choice closest to ``word`` ignoring case, spelled as the choice is, or None."""
    import difflib

    by_fold: dict[str, str] = {}
    for c in choices:
        by_fold.setdefault(c.casefold(), c)
    close = difflib.get_close_matches(word.strip().casefold(), list(by_fold), n=1, cutoff=cutoff)
    return by_fold[close[0]] if close else None


def did_you_mean(word: str, choices: Iterable[str], cutoff: float = 0.75) -> str:
    """``"did you mean 'X'?"`` for the choice closest to ``word`` (ignoring case), else ``""``."""
    close = closest_choice(word, choices, cutoff)
    return f"did you mean {close!r}?" if close else ""
