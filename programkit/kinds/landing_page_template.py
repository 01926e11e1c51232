"""landingPageTemplate: a landing page template (HTML), guided or free-form, shared in Design Studio.

Conflict rule ``landingPageTemplates`` (copy | useDestination | reuseIfIdentical | fail), from Marketo's import
wizard: it decides for a same-named template in the target, and so for every landing page that uses it.
Lint: guided templates with the guided rules (editable elements, variables), free-form ones with fewer.
"""

from __future__ import annotations

from typing import Any

from .base import Kind


def lint_rules(entry: dict[str, Any]) -> str:
    # programkit.lint.rules.GUIDED / FREEFORM
    return "landing-page-template" if entry.get("templateType") == "guided" else "landing-page-template-freeform"


KIND = Kind(name="landingPageTemplate", label="landing page templates", format="html", scope="design",
            directory="design-studio", rule="landingPageTemplates", inventory_section="landingPageTemplates",
            lint=lint_rules, rank=10)
