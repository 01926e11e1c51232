"""Ways to break a copy of the sample bundle, and how to find where a finding should point.

Expected lines are found by searching the file's text for the offending
value, never with programkit's own pointer→line mapping, so a wrong mapping
fails the tests instead of agreeing with itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from programkit.canonical import refresh_digests

CAMPAIGN_01 = "campaigns/01-sync-new-people-to-crm.json"
CAMPAIGN_02 = "campaigns/02-marketing-qualified.json"
EMAIL = "emails/01-email-alert-mql.json"
TEMPLATE = "design-studio/quick-start-email-template.html"
EMAIL_NAME = "01 - Email - ALERT - MQL"
LIFECYCLE = "lifecycle/lead-lifecycle.json"


def edit_json(path: Path, fn: Callable[[Any], Any]) -> None:
    """Load, change in place with ``fn`` (its return value is ignored), and write back a JSON file
    (two-space indent, sorted keys, like the sample)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    fn(data)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n",
                    encoding="utf-8")


def edit_asset(bundle: Path, rel: str, fn: Callable[[Any], Any]) -> None:
    """Change an asset document and re-record its digest, so only the intended problem remains."""
    edit_json(bundle / rel, fn)
    refresh_digests(bundle)


def edit_manifest(bundle: Path, fn: Callable[[Any], Any]) -> None:
    edit_json(bundle / "bundle.json", fn)


def line_of(file: Path, needle: str, nth: int = 0) -> int:
    """1-based number of the ``nth`` line of ``file`` that contains ``needle``."""
    hits = [i for i, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1) if needle in line]
    assert len(hits) > nth, f"{needle!r} not found {nth + 1} times in {file}"
    return hits[nth]


def col_of(file: Path, line: int, needle: str) -> int:
    """1-based column where the value after ``needle`` starts on ``line`` (after the ': ')."""
    text = file.read_text(encoding="utf-8").splitlines()[line - 1]
    return text.index(needle) + len(needle) + 1


def triples(findings: Any) -> set[tuple[str, str | None, int | None]]:
    return {(f.code, f.file, f.line) for f in findings}


def entry_index(bundle: Path, path: str) -> int:
    assets = json.loads((bundle / "bundle.json").read_text(encoding="utf-8"))["assets"]
    return next(i for i, a in enumerate(assets) if a["path"] == path)
