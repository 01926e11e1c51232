"""email: an Email 2.0 email on an email template — header, the template's sections, variables, modules.

Its template is a reference (the emailTemplates conflict rule decides which template it ends up on); the
sections it fills must exist in that template; dynamic content names segmentations the target must have.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable, Iterator

from ..jsontypes import as_dict, as_list
from ..findings import Finding, Severity, make, register_code
from ..jsonpos import escape
from .. import lint
from .base import Kind, Needs, Ref

if TYPE_CHECKING:
    from ..model import Bundle

G = "references"
register_code("PK207", "unresolved-template", Severity.ERROR,
              "An email names an email template that is not in the bundle.",
              hint="Add the template to the bundle; emails are imported with the template they use.",
              example="emails/alert.json /template: 'Quick Start' is not an emailTemplate in this bundle", group=G)
register_code("PK208", "unknown-section", Severity.ERROR,
              "An email fills an editable section, variable or module its template does not have.",
              hint="Use the ids of the template's mktoText/mktoImg elements, <meta> variables and mktoModule elements.",
              example="emails/alert.json /sections/body: the template has no editable element 'body'", group=G)
register_code("PK309", "segmentation-not-required", Severity.ERROR,
              "An email's dynamic content uses a segmentation that requires.segmentations does not list.",
              hint="List the segmentation under requires.segmentations.",
              example="emails/a.json /dynamicContent/body/segmentation: 'Region' is not in requires.segmentations",
              group="campaigns")


def references(doc: Any) -> Iterator[Ref]:
    if isinstance(doc, dict) and isinstance(doc.get("template"), str):
        yield Ref("/template", "emailTemplate", doc["template"], code="PK207", label="template")


_TAG = re.compile(r"<[^>]*>")


def snippet_slots(html: str) -> set[str]:
    """Ids of a template's mktoSnippet elements (where an email places a snippet by name)."""
    slots = set()
    for m in re.finditer(r"<[a-zA-Z0-9]+\b([^>]*)>", html):
        cls = re.search(r"""\bclass\s*=\s*["']([^"']*)["']""", m.group(1))
        ident = re.search(r"""\bid\s*=\s*["']([^"']*)["']""", m.group(1))
        if cls and ident and "mktoSnippet" in cls.group(1).split():
            slots.add(ident.group(1))
    return slots


def context_references(doc: Any, lookup: Callable[[str, str], str | None]) -> Iterator[Ref]:
    """The snippets an email places: the (tag-stripped) value it gives each mktoSnippet element of its template.
    A snippet only the target has is a requirement (``requires.snippets``), hence ``outside``."""
    if not isinstance(doc, dict) or not isinstance(doc.get("template"), str):
        return
    html = lookup("emailTemplate", doc["template"])
    sections = doc.get("sections")
    if html is None or not isinstance(sections, dict):
        return
    slots = snippet_slots(html)
    for ident, value in sections.items():
        if ident in slots and isinstance(value, str):
            name = _TAG.sub("", value).strip()
            if name:
                yield Ref(f"/sections/{escape(ident)}", "snippet", name, code="PK504", outside=True, label="snippet",
                          within=True)


def template_ids(html: str) -> tuple[set[str], set[str], set[str]]:
    """Editable element ids, variable ids and module ids of an Email 2.0 template (parsed as lint parses it)."""
    return lint.template_ids(html)


def sections(bundle: "Bundle") -> Iterator[Finding]:
    """PK208: every section, variable and module an email fills exists in its template."""
    templates = {a.name.casefold(): a for a in bundle.assets_of("emailTemplate")}
    scanned: dict[str, tuple[set[str], set[str], set[str]]] = {}
    for a in bundle.assets_of("email"):
        if not isinstance(a.content, dict) or not isinstance(a.content.get("template"), str):
            continue
        tpl = templates.get(a.content["template"].casefold())
        if tpl is None or not isinstance(tpl.content, str):
            continue
        if tpl.path not in scanned:  # many emails share one template: scan it once
            scanned[tpl.path] = template_ids(tpl.content)
        editable, variables, modules = scanned[tpl.path]
        for key, ids, what in (("sections", editable, "editable element"), ("variables", variables, "variable")):
            for ident in as_dict(a.content.get(key)):
                if ident not in ids:
                    p = f"/{key}/{ident}"
                    yield make("PK208", f"{p}: the template {tpl.name!r} has no {what} {ident!r}", file=a.path, pointer=p)
        for i, ident in enumerate(as_list(a.content.get("modules"))):
            if isinstance(ident, str) and ident not in modules:
                p = f"/modules/{i}"
                yield make("PK208", f"{p}: the template {tpl.name!r} has no module {ident!r}", file=a.path, pointer=p)


def segmentations(bundle: "Bundle") -> Iterator[Finding]:
    """PK309: dynamic content by a segmentation the bundle does not require."""
    segs = {s.casefold() for s in as_list(bundle.requires.get("segmentations")) if isinstance(s, str)}
    for a in bundle.assets_of("email"):
        dyn = a.content.get("dynamicContent") if isinstance(a.content, dict) else None
        for section, spec in (dyn or {}).items() if isinstance(dyn, dict) else []:
            seg = spec.get("segmentation") if isinstance(spec, dict) else None
            if isinstance(seg, str) and seg.casefold() not in segs:
                p = f"/dynamicContent/{section}/segmentation"
                yield make("PK309", f"{p}: {seg!r} is not in requires.segmentations", file=a.path, pointer=p)


def needs(doc: Any, need: Needs, where: str) -> None:
    if isinstance(doc, dict) and isinstance(doc.get("dynamicContent"), dict):
        for spec in doc["dynamicContent"].values():
            if isinstance(spec, dict) and isinstance(spec.get("segmentation"), str):
                need.segmentation(spec["segmentation"])


def plan_note(doc: Any, ws: Any) -> str:
    """Dynamic content is imported (Marketo's own import skips such emails); a target may say how it writes it
    (``ws.dynamic_content_note(email)``)."""
    if not isinstance(doc, dict) or not doc.get("dynamicContent"):
        return ""
    describe = getattr(ws, "dynamic_content_note", None)
    return describe(doc) if callable(describe) else " (dynamic content: imported, Marketo's import would skip it)"


KIND = Kind(
    name="email", label="emails", format="json", scope="program", directory="emails", schema="email",
    rank=20, batch=True, references=references, checks=(sections, segmentations), needs=needs,
    plan_note=plan_note, context_references=context_references,
)
