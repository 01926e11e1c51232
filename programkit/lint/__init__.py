"""Template lint: Marketo Email 2.0 and guided landing page templates, parsed with lxml.

:func:`lint_text` lints one template's text; :func:`lint_file` reads a file
first (``programkit lint``). Inside ``validate`` its ``template_lint`` check
lints every HTML asset of a bundle (each kind unit says which rule set applies). ``{{my.X}}`` tokens are checked by
validate's PK209 for every asset, so lint does not report them again; a
standalone file has no program to check them against.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BadInput, no_such_path
from ..findings import Finding, Severity, count, make, register_code, sort_key
from .parse import MAX_ATTRIBUTES, MAX_HTML_BYTES, TooLarge, capped_attributes, parse_html
from .rules import EMAIL, FREEFORM, GUIDED, KINDS, LP_ONLY, RULES, SNIPPET, collect

__all__ = ["lint_text", "lint_file", "LintResult", "guess_kind", "KINDS", "EMAIL", "GUIDED", "FREEFORM", "SNIPPET"]


def lint_text(text: str, kind: str = EMAIL, file: str | None = None) -> list[Finding]:
    """Every finding of every rule that applies to ``kind``, sorted by line."""
    if kind not in KINDS:
        raise ValueError(f"unknown template kind {kind!r}")
    try:
        root = parse_html(text)
    except TooLarge as e:
        return [make("PK111", f"{file or 'template'} is {e}; the limit is {MAX_HTML_BYTES >> 20} MiB", file=file)]
    if root is None:
        return [make("PK601", "the template is empty or has no HTML markup", file=file, line=1)]
    doc = collect(text, root, kind, file)
    findings: list[Finding] = []
    for r in RULES:
        if kind in r.kinds:
            findings.extend(r.fn(doc))
    findings += [make("PK950", f"an element has more than {MAX_ATTRIBUTES} attributes; those after the first "
                               f"{MAX_ATTRIBUTES} were not linted", file=file, line=line)
                 for line in capped_attributes(text)[1]]
    return sorted(findings, key=sort_key)


def template_ids(text: str) -> tuple[set[str], set[str], set[str]]:
    """Ids of an Email 2.0 template's editable elements, variables and modules (for validate's PK208)."""
    try:
        root = parse_html(text)
    except TooLarge:
        root = None
    doc = collect(text, root, EMAIL)
    ids = lambda els: {el.get("id") for el in els if el.get("id")}  # noqa: E731
    return ids(el for el, _ in doc.editable), ids(el for el, _ in doc.variables), ids(doc.modules)


def page_template_slots(text: str) -> tuple[dict[str, str], set[str]]:
    """A guided landing page template's editable elements (id → Marketo class, e.g. 'mktoForm') and variable ids,
    parsed as lint parses it: where a landing page may put content, and which ``${name}`` it may use."""
    try:
        root = parse_html(text)
    except TooLarge:
        root = None
    doc = collect(text, root, GUIDED)
    slots = {el.get("id"): cls for el, cls in doc.editable if el.get("id")}
    return slots, {el.get("id") for el, _ in doc.variables if el.get("id")}


register_code("PK618", "page-content-editable-element", Severity.WARNING,
              "A landing page's section content holds a Marketo editable element or variable class: those belong "
              "in the template; in a page's content Marketo shows them as they are.",
              hint="Move the element into the landing page template, or drop its mkto… class.",
              example="pages/register.json /sections/body/value: line 2: editable element (mktoText) in page content",
              group="template lint")
#: guided template rules that apply to a page's content as well (the rest are about declaring a template)
PAGE_CONTENT_RULES = ("PK606", "PK610")


def page_content_findings(html: str, *, file: str, pointer: str, declared: set[str]) -> list[Finding]:
    """Lint one rich-text/HTML section of a landing page with the guided template rules, at the section's pointer.

    Content is a fragment, not a template: of the guided rules, the ones about content apply (class spelling,
    ``${name}`` the template does not declare); a Marketo editable element or variable in content is PK618."""
    if "<" not in html and "${" not in html:
        return []
    try:
        root = parse_html(html)
    except TooLarge:
        return []
    findings: list[Finding] = []
    if root is not None:
        doc = collect(html, root, GUIDED)
        for el, cls in doc.editable + doc.variables:
            findings.append(make("PK618", f"{pointer}: line {el.sourceline}: {cls} element in page content",
                                 file=file, pointer=pointer))
    for f in lint_text(html, GUIDED, file=file):
        if f.code not in PAGE_CONTENT_RULES:
            continue
        if f.code == "PK610" and any(f"'{v}'" in f.message for v in declared):
            continue
        line = f" line {f.line}:" if f.line else ""
        findings.append(make(f.code, f"{pointer}:{line} {f.message}", file=file, pointer=pointer))
    return findings


def guess_kind(text: str) -> str:
    """Email template, unless the file uses a class only guided landing pages have (mktoForm, mktoPoll, …)."""
    root = parse_html(text)
    if root is not None:
        for el in root.iter():
            if isinstance(el.tag, str) and LP_ONLY.intersection((el.get("class") or "").split()):
                return GUIDED
    return EMAIL


@dataclass
class LintResult:
    """Findings for one linted file; has what the report renderers need."""

    path: str
    kind: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return count(self.findings)

    def failed(self, strict: bool = False) -> bool:
        c = self.counts
        return c["error"] > 0 or (strict and c["warning"] > 0)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "counts": self.counts,
                "findings": [f.to_dict() for f in self.findings]}


def read_template(path: str | os.PathLike[str]) -> str:
    """A template file's text. Raises BadInput (exit 2) if it cannot be read as UTF-8 HTML."""
    p = Path(path)
    if not p.exists():
        raise no_such_path(path, "Give the path of an Email 2.0 or guided landing page template file (.html); "
                                 "`programkit validate BUNDLE` lints a bundle's templates.")
    if not p.is_file():
        raise BadInput(f"{p} is not a file", hint="To lint a bundle's templates run `programkit validate BUNDLE`.")
    size = p.stat().st_size
    if size > MAX_HTML_BYTES:
        raise BadInput(f"{p} is {size / (1 << 20):.1f} MiB; lint reads templates up to {MAX_HTML_BYTES >> 20} MiB")
    try:
        data = p.read_bytes()
    except OSError as e:
        raise BadInput(f"cannot read {p}: {e.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise BadInput(f"{p}: byte 0x{data[e.start]:02x} at offset {e.start} is not UTF-8",
                       hint="Save the template as UTF-8.") from None


register_code("PK450", "not-a-template", Severity.ERROR,
              "A file given to `programkit lint` is not an HTML template: no <html>, <body> or <head> element "
              "and no Marketo (mkto…) class, as in a README or a JSON file.",
              hint="Lint Email 2.0 and guided landing page templates (.html); `programkit validate BUNDLE` "
                   "checks a bundle's other files.",
              example="README.md: error PK450 [not-a-template] not an HTML template (a .md file); nothing was linted",
              group="template lint")

#: What every Email 2.0 or landing page template has: a document element, or at least a Marketo class.
_TEMPLATE_MARK = re.compile(r"<\s*(html|body|head)\b|<!doctype\s+html|class\s*=\s*[\"'][^\"']*\bmkto", re.IGNORECASE)


#: Files that hold text about templates, or data, but are never a template themselves.
_NEVER_TEMPLATES = (".md", ".markdown", ".rst", ".txt", ".json", ".csv", ".jsonl", ".yml", ".yaml", ".py", ".js",
                    ".css")


def _is_template(path: str, text: str) -> bool:
    """A template has a document element or a Marketo class; an .html file may be a plain fragment
    (a table) too. A README's ``<you>`` or ``<a commit sha>`` does not make it one, nor do the
    template examples quoted in a Markdown file."""
    if path.lower().endswith(_NEVER_TEMPLATES):
        return False
    if _TEMPLATE_MARK.search(text):
        return True
    return path.lower().endswith((".html", ".htm")) and re.search(r"<[A-Za-z][\w-]*[\s/>]", text) is not None


def lint_file(path: str | os.PathLike[str], kind: str | None = None) -> LintResult:
    """Lint one template file; ``kind`` None guesses it (see :func:`guess_kind`).

    A file that is no template at all (a README, a JSON file) is one PK450 finding, not "ok".
    """
    display = os.fspath(path)
    text = read_template(path)
    if text.strip() and not _is_template(display, text):
        ext = os.path.splitext(display)[1].lower()
        why = f"a {ext} file" if ext.endswith(_NEVER_TEMPLATES) else "no <html>, <body> or <head> element, no mkto… class"
        message = f"not an HTML template ({why}); nothing was linted"
        return LintResult(display, kind or EMAIL, [make("PK450", message, file=display)])
    kind = kind or guess_kind(text)
    return LintResult(display, kind, lint_text(text, kind, file=display))

