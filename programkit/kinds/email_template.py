"""emailTemplate: an Email 2.0 template (HTML), shared in Design Studio; linted as an email template.

Conflict rule ``emailTemplates`` (keepBoth | replace | reuseIfIdentical | fail): it decides for a same-named
template in the target, and so for every email that uses it (the email follows the template's new name).
"""

from __future__ import annotations

from typing import Any

from .base import Kind


def lint_rules(entry: dict[str, Any]) -> str:
    return "email-template"  # programkit.lint.rules.EMAIL


KIND = Kind(name="emailTemplate", label="email templates", format="html", scope="design",
            directory="design-studio", rule="emailTemplates", inventory_section="emailTemplates", lint=lint_rules,
            rank=10)
