"""Exceptions for input the tool cannot read at all (exit 2) and for stopped work."""

from __future__ import annotations

from .findings import Finding


class ProgramkitError(Exception):
    """Base class. Carries findings so the CLI can render them like any other."""

    exit_code = 1

    def __init__(self, message: str, findings: list[Finding] | None = None, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.findings = findings or []


class BadInput(ProgramkitError):
    """Unreadable input or bad usage: missing path, not a bundle, not a zip (exit 2)."""

    exit_code = 2
