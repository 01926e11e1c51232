"""snippet: a Design Studio snippet (HTML) that emails and landing pages place in a template's mktoSnippet
element by name. No Marketo import rule: an identical one is reused, a different same-named one kept as a copy.

A snippet that only the target has is a requirement (``requires.snippets``), checked by the plan's preflight.
"""

from __future__ import annotations

from typing import Any

from .base import Kind


def lint_rules(entry: dict[str, Any]) -> str:
    return "snippet"  # programkit.lint.rules.SNIPPET


KIND = Kind(name="snippet", label="snippets", format="html", scope="design", directory="design-studio",
            inventory_section="snippets", lint=lint_rules, rank=10)
