"""Template lint rules: Marketo Email 2.0 and guided landing page syntax.

Each rule is a named unit with a stable code (registered in
:mod:`programkit.findings`) and the template kinds it applies to. A rule reads
a :class:`Doc` — the parsed template with its Marketo elements already
picked out — and yields findings with line numbers.

Marketo's template syntax is judged, not HTML hygiene: lxml's HTML parser
repairs sloppy markup the way browsers do (a ``div`` moved out of a ``p``)
and that is never reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from lxml import etree

from ..findings import Finding, Severity, make, register_code

# Template kinds lint knows.
EMAIL = "email-template"
GUIDED = "landing-page-template"
FREEFORM = "landing-page-template-freeform"
SNIPPET = "snippet"
KINDS = (EMAIL, GUIDED, FREEFORM, SNIPPET)

EMAIL_EDITABLE = ("mktoText", "mktoImg", "mktoSnippet", "mktoVideo")
LP_EDITABLE = ("mktoText", "mktoImg", "mktoForm", "mktoSnippet", "mktoShareButton", "mktoVideo", "mktoPoll",
               "mktoReferral", "mktoSweepstakes")
VARIABLE_CLASSES = ("mktoString", "mktoList", "mktoNumber", "mktoColor", "mktoBoolean", "mktoHTML", "mktoImg")
MODULE, CONTAINER = "mktoModule", "mktoContainer"
MARKETO_CLASSES = frozenset(EMAIL_EDITABLE + LP_EDITABLE + VARIABLE_CLASSES + (MODULE, CONTAINER))
_FOLDED = {c.casefold(): c for c in MARKETO_CLASSES}
#: Classes only guided landing pages have; a file using one is linted as a landing page by default.
LP_ONLY = frozenset(LP_EDITABLE) - frozenset(EMAIL_EDITABLE)

ID_RE = re.compile(r"^[A-Za-z0-9_-]+$")
#: An Email 2.0 variable reference: ${id}.
VAR_REF_RE = re.compile(r"\$\{\s*([A-Za-z0-9_-]+)\s*\}")


@dataclass
class Doc:
    """A parsed template and its Marketo elements, shared by every rule."""

    text: str
    root: etree._Element | None
    kind: str
    file: str | None = None
    editable: list[tuple[etree._Element, str]] = field(default_factory=list)  # (element, its Marketo class)
    variables: list[tuple[etree._Element, str]] = field(default_factory=list)  # <meta> elements
    modules: list[etree._Element] = field(default_factory=list)
    containers: list[etree._Element] = field(default_factory=list)
    misplaced_variables: list[tuple[etree._Element, str]] = field(default_factory=list)
    class_case: list[tuple[etree._Element, str, str]] = field(default_factory=list)  # (element, written, meant)
    #: every ${name} reference: (name, line)
    refs: list[tuple[str, int]] = field(default_factory=list)

    def find(self, code: str, message: str, el: etree._Element | None = None, line: int | None = None) -> Finding:
        if line is None and el is not None:
            line = el.sourceline
        return make(code, message, file=self.file, line=line)


def _refs(text: str) -> list[tuple[str, int]]:
    """Every ${name} reference with its line, counting newlines once through the text."""
    refs, line, pos = [], 1, 0
    for m in VAR_REF_RE.finditer(text):
        line += text.count("\n", pos, m.start())
        pos = m.start()
        refs.append((m.group(1), line))
    return refs


def _classes(el: etree._Element) -> list[str]:
    return (el.get("class") or "").split()


def collect(text: str, root: etree._Element | None, kind: str, file: str | None = None) -> Doc:
    """Walk the tree once, sorting Marketo elements into the lists rules read."""
    doc = Doc(text, root, kind, file)
    if root is None or kind in (FREEFORM, SNIPPET):
        return doc
    if "${" in text:
        doc.refs = _refs(text)
    editable_classes = EMAIL_EDITABLE if kind == EMAIL else LP_EDITABLE
    for el in root.iter(etree.Element):  # elements only, not comments
        classes = _classes(el)
        if not classes:
            continue
        tag = el.tag.lower()
        for c in classes:
            meant = _FOLDED.get(c.casefold())
            if meant and c != meant:
                doc.class_case.append((el, c, meant))
        if tag == "meta":
            var = next((c for c in classes if c in VARIABLE_CLASSES), None)
            if var:
                doc.variables.append((el, var))
            continue
        wrong_var = next((c for c in classes if c in VARIABLE_CLASSES and c not in editable_classes), None)
        if wrong_var:
            doc.misplaced_variables.append((el, wrong_var))
        editable = next((c for c in classes if c in editable_classes), None)
        if editable:
            doc.editable.append((el, editable))
        if kind == EMAIL:
            if MODULE in classes:
                doc.modules.append(el)
            if CONTAINER in classes:
                doc.containers.append(el)
    return doc


# --- the rule registry ----------------------------------------------------------

RuleFn = Callable[[Doc], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    kinds: tuple[str, ...]
    fn: RuleFn


RULES: list[Rule] = []
G = "template lint"
_BOTH = (EMAIL, GUIDED)
_ALL = KINDS


def rule(code: str, name: str, severity: Severity, summary: str, *, hint: str, example: str,
         kinds: tuple[str, ...]) -> Callable[[RuleFn], RuleFn]:
    """Register a lint rule and its finding code."""
    register_code(code, name, severity, summary, hint=hint, example=example, group=G)

    def deco(fn: RuleFn) -> RuleFn:
        RULES.append(Rule(code, name, kinds, fn))
        return fn

    return deco


def _label(el: etree._Element, what: str) -> str:
    ident = el.get("id")
    return f"{what} <{el.tag} class=\"{el.get('class', '')}\"{' id=' + repr(ident) if ident else ''}>"


def _what(doc: Doc) -> Iterator[tuple[etree._Element, str, bool]]:
    """Every element that needs an id: (element, description, needs mktoName too)."""
    for el, cls in doc.editable:
        yield el, f"editable element ({cls})", True
    for el, cls in doc.variables:
        yield el, f"variable ({cls})", True
    for el in doc.modules:
        yield el, "module", True
    for el in doc.containers:
        yield el, "container", False


register_code("PK950", "too-many-attributes", Severity.WARNING,
              "An element of a template has more attributes than lint reads (256); the rest are not checked. "
              "(Parsing cost grows with the square of one element's attribute count, so lint caps it.)",
              hint="Remove the attributes Marketo does not need; no template needs hundreds on one element.",
              example="design-studio/welcome.html:12: an element has more than 256 attributes", group=G)
# PK601 is reported by the engine (it needs no parsed tree).
register_code("PK601", "template-unparsable", Severity.ERROR, "An HTML template or snippet has no markup to parse.",
              hint="The file is empty or is not HTML; Marketo cannot use it.",
              example="design-studio/welcome.html:1: the template is empty", group=G)


@rule("PK602", "missing-id", Severity.ERROR,
      "A Marketo editable element, variable, module or container has no id.",
      hint="Give it an id (letters, digits, '-' and '_'), unique in the template; Marketo stores content by id.",
      example="quick-start.html:31: editable element (mktoText) <div class=\"mktoText\"> has no id", kinds=_BOTH)
def missing_id(doc: Doc) -> Iterator[Finding]:
    for el, what, _ in _what(doc):
        if not (el.get("id") or "").strip():
            yield doc.find("PK602", f"{what} <{el.tag} class=\"{el.get('class', '')}\"> has no id", el)


@rule("PK603", "missing-mkto-name", Severity.ERROR,
      "A Marketo editable element, variable or module has no mktoName.",
      hint="Add `mktoName=\"…\"`: it is the label the Marketo editor shows for the element.",
      example="quick-start.html:31: editable element (mktoText) <div class=\"mktoText\" id='body'> has no mktoName",
      kinds=_BOTH)
def missing_name(doc: Doc) -> Iterator[Finding]:
    for el, what, needs_name in _what(doc):
        if needs_name and not (el.get("mktoname") or "").strip():
            yield doc.find("PK603", f"{_label(el, what)} has no mktoName", el)


@rule("PK604", "invalid-id", Severity.ERROR,
      "A Marketo element's id has characters other than letters, digits, '-' and '_'.",
      hint="Marketo ids use letters, digits, '-' and '_' only (no spaces or dots).",
      example="quick-start.html:12: variable (mktoColor) id 'bg color' has characters other than letters, digits, '-', '_'",
      kinds=_BOTH)
def invalid_id(doc: Doc) -> Iterator[Finding]:
    for el, what, _ in _what(doc):
        ident = el.get("id")
        if ident and ident.strip() and not ID_RE.match(ident):
            yield doc.find("PK604", f"{what} id {ident!r} has characters other than letters, digits, '-', '_'", el)


@rule("PK605", "duplicate-id", Severity.ERROR,
      "Two Marketo elements (editable elements, variables, modules, containers) share an id.",
      hint="Ids are unique across the whole template; rename one of them.",
      example="quick-start.html:40: id 'body' is already used by the editable element (mktoText) at line 31",
      kinds=_BOTH)
def duplicate_id(doc: Doc) -> Iterator[Finding]:
    seen: dict[str, tuple[str, int | None]] = {}
    items = sorted(_what(doc), key=lambda t: t[0].sourceline or 0)
    for el, what, _ in items:
        ident = el.get("id")
        if not ident:
            continue
        if ident in seen:
            first, line = seen[ident]
            yield doc.find("PK605", f"{what} id {ident!r} is already used by the {first} at line {line}", el)
        else:
            seen[ident] = (what, el.sourceline)


@rule("PK606", "class-case", Severity.WARNING,
      "A class is a Marketo class written in the wrong case, so Marketo ignores it (class names are case-sensitive).",
      hint="Write the class exactly as Marketo does, e.g. mktoText, mktoImg, mktoModule.",
      example="quick-start.html:31: class 'mktotext' is not Marketo's 'mktoText' (class names are case-sensitive)",
      kinds=_BOTH)
def class_case(doc: Doc) -> Iterator[Finding]:
    for el, written, meant in doc.class_case:
        yield doc.find("PK606", f"class {written!r} is not Marketo's {meant!r} (class names are case-sensitive); "
                                f"the element is not editable", el)


@rule("PK607", "variable-placement", Severity.WARNING,
      "A variable is declared outside `<head>`, or a variable class is used on an element that is not `<meta>`.",
      hint="Declare variables as `<meta class=\"mktoString\" id=\"…\" mktoName=\"…\">` elements inside `<head>`.",
      example="quick-start.html:40: variable class 'mktoString' on <div> has no effect; variables are <meta> elements in <head>",
      kinds=_BOTH)
def variable_placement(doc: Doc) -> Iterator[Finding]:
    for el, cls in doc.variables:
        if not any(isinstance(a.tag, str) and a.tag.lower() == "head" for a in el.iterancestors()):
            yield doc.find("PK607", f"{_label(el, 'variable')} is not inside <head>; Marketo reads variables "
                                    f"from <head> only", el)
    for el, cls in doc.misplaced_variables:
        yield doc.find("PK607", f"variable class {cls!r} on <{el.tag}> has no effect; variables are <meta> elements "
                                f"in <head>", el)


@rule("PK608", "list-missing-values", Severity.ERROR, "An mktoList variable has no values attribute.",
      hint="Give the list its choices: `values=\"Left,Center,Right\"`.",
      example="quick-start.html:9: variable (mktoList) id 'align' has no values", kinds=_BOTH)
def list_values(doc: Doc) -> Iterator[Finding]:
    for el, cls in doc.variables:
        if cls == "mktoList" and not (el.get("values") or "").strip():
            yield doc.find("PK608", f"{_label(el, 'variable (mktoList)')} has no values", el)


@rule("PK609", "number-missing-default", Severity.ERROR, "An mktoNumber variable has no default attribute.",
      hint="Give the number a default value: `default=\"600\"`.",
      example="quick-start.html:10: variable (mktoNumber) id 'width' has no default", kinds=_BOTH)
def number_default(doc: Doc) -> Iterator[Finding]:
    for el, cls in doc.variables:
        if cls == "mktoNumber" and not (el.get("default") or "").strip():
            yield doc.find("PK609", f"{_label(el, 'variable (mktoNumber)')} has no default", el)


@rule("PK610", "undeclared-variable", Severity.ERROR,
      "A `${name}` reference has no variable `<meta>` with that id.",
      hint="Declare the variable in `<head>` (`<meta class=\"mktoString\" id=\"name\" mktoName=\"…\">`) or fix the name.",
      example="quick-start.html:14: ${bgColour} is used but no variable 'bgColour' is declared", kinds=_BOTH)
def undeclared_variable(doc: Doc) -> Iterator[Finding]:
    declared = {el.get("id") for el, _ in doc.variables}
    for name, line in doc.refs:
        if name not in declared:
            yield doc.find("PK610", f"${{{name}}} is used but no variable {name!r} is declared", line=line)


@rule("PK611", "unused-variable", Severity.WARNING, "A variable is declared but never used as `${name}`.",
      hint="Use it (`${name}`) where it should apply, or remove the declaration.",
      example="quick-start.html:8: variable 'accentColor' is declared but ${accentColor} is never used", kinds=_BOTH)
def unused_variable(doc: Doc) -> Iterator[Finding]:
    used = {name for name, _ in doc.refs}
    for el, _ in doc.variables:
        ident = el.get("id")
        if ident and ID_RE.match(ident) and ident not in used:  # a bad id is PK604's finding already
            yield doc.find("PK611", f"variable {ident!r} is declared but ${{{ident}}} is never used", el)


def _is_container(el: etree._Element | None) -> bool:
    return el is not None and CONTAINER in _classes(el)


@rule("PK612", "module-outside-container", Severity.ERROR,
      "A module (mktoModule) is not a direct child of the template's container (mktoContainer).",
      hint="Put every module directly inside the one element with class mktoContainer.",
      example="quick-start.html:44: module 'cta' is not directly inside a mktoContainer", kinds=(EMAIL,))
def module_outside_container(doc: Doc) -> Iterator[Finding]:
    for el in doc.modules:
        if not _is_container(el.getparent()):
            yield doc.find("PK612", f"module {el.get('id') or '<no id>'!r} is not directly inside a mktoContainer", el)


CONTAINER_TAGS = ("table", "tbody", "thead", "tfoot", "td")


@rule("PK613", "container-element", Severity.ERROR,
      "A container (mktoContainer) is not a table, tbody, thead, tfoot or td element.",
      hint="Put class mktoContainer on a `<table>`, `<tbody>`, `<thead>`, `<tfoot>` or `<td>`.",
      example="quick-start.html:38: container 'modules' is a <div>; it must be table, tbody, thead, tfoot or td",
      kinds=(EMAIL,))
def container_element(doc: Doc) -> Iterator[Finding]:
    for el in doc.containers:
        if el.tag.lower() not in CONTAINER_TAGS:
            yield doc.find("PK613", f"container {el.get('id') or '<no id>'!r} is a <{el.tag}>; it must be "
                                    f"{', '.join(CONTAINER_TAGS)}", el)


@rule("PK614", "container-content", Severity.ERROR,
      "A container holds something other than modules.",
      hint="A mktoContainer holds only mktoModule elements; move other content into a module or out of the container.",
      example="quick-start.html:39: container 'modules' holds a <tr> that is not a module", kinds=(EMAIL,))
def container_content(doc: Doc) -> Iterator[Finding]:
    for el in doc.containers:
        name = el.get("id") or "<no id>"
        if (el.text or "").strip():
            yield doc.find("PK614", f"container {name!r} holds text {el.text.strip()[:40]!r} outside any module", el)
        for child in el:
            if isinstance(child.tag, str) and MODULE not in _classes(child):
                yield doc.find("PK614", f"container {name!r} holds a <{child.tag}> that is not a module", child)
            if (child.tail or "").strip():
                yield doc.find("PK614", f"container {name!r} holds text {child.tail.strip()[:40]!r} outside any module",
                               child)


@rule("PK615", "multiple-containers", Severity.ERROR, "A template has more than one container (mktoContainer).",
      hint="Email 2.0 allows one mktoContainer per template; merge the modules into one container.",
      example="quick-start.html:60: a second mktoContainer 'footerModules'; the first is at line 38", kinds=(EMAIL,))
def multiple_containers(doc: Doc) -> Iterator[Finding]:
    for el in doc.containers[1:]:
        yield doc.find("PK615", f"a second mktoContainer {el.get('id') or '<no id>'!r}; the first is at line "
                                f"{doc.containers[0].sourceline}", el)


@rule("PK616", "module-element", Severity.ERROR,
      "A module's element does not fit its container: a `<tr>` in a table/tbody/thead/tfoot container, a `<table>` in a td.",
      hint="In a table, tbody, thead or tfoot container each module is a `<tr>`; in a td container each module is a `<table>`.",
      example="quick-start.html:40: module 'hero' is a <div> in a <tbody> container; it must be a <tr>", kinds=(EMAIL,))
def module_element(doc: Doc) -> Iterator[Finding]:
    for el in doc.modules:
        parent = el.getparent()
        if not _is_container(parent) or parent.tag.lower() not in CONTAINER_TAGS:
            continue  # PK612 / PK613 already say what is wrong
        want = "table" if parent.tag.lower() == "td" else "tr"
        if el.tag.lower() != want:
            yield doc.find("PK616", f"module {el.get('id') or '<no id>'!r} is a <{el.tag}> in a <{parent.tag}> "
                                    f"container; it must be a <{want}>", el)


@rule("PK617", "module-flag", Severity.WARNING,
      "A module's mktoActive or mktoAddByDefault attribute is neither true nor false.",
      hint="Use mktoActive=\"true\"/\"false\" (module available in the editor) and mktoAddByDefault=\"true\"/\"false\" "
           "(module in new emails); both default to true.",
      example="quick-start.html:40: module 'cta' has mktoActive=\"yes\"; Marketo reads only true or false",
      kinds=(EMAIL,))
def module_flag(doc: Doc) -> Iterator[Finding]:
    for el in doc.modules:
        for attr, name in (("mktoactive", "mktoActive"), ("mktoaddbydefault", "mktoAddByDefault")):
            value = el.get(attr)
            if value is not None and value.strip().lower() not in ("true", "false"):
                yield doc.find("PK617", f"module {el.get('id') or '<no id>'!r} has {name}={value!r}; "
                                        f"Marketo reads only true or false", el)
