"""landingPage: a landing page of the program on a landing page template — URL path, title, robots and meta,
content per editable section (rich text, HTML, image, form, snippet), variable values, dynamic content.

References: its template (a landingPageTemplate of the bundle, PK214; the landingPageTemplates conflict rule
decides which template it ends up on, as emailTemplates does for emails), the forms (PK215), images (PK216)
and snippets (PK217) its sections place. On a guided template every section is an editable element of it
(PK218) and a form goes only in a mktoForm element (PK219). Its rich text and HTML are linted with the guided
template rules that apply to content (programkit.lint). Campaigns name pages in "Visits Web Page"; emails link
to the program's pages by URL path ('/event-registration.html', PK226).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Iterator

from ..findings import Finding, Severity, make, register_code
from ..jsonpos import escape
from ..jsontypes import as_dict, as_list
from .base import Kind, Needs, Ref
from .smart_campaign import SMART_LIST_REFS

if TYPE_CHECKING:
    from ..model import Bundle

G = "pages and forms"
register_code("PK214", "page-template-missing", Severity.ERROR,
              "A landing page names a landing page template that is not in the bundle.",
              hint="Add the template to the bundle (pages are imported with the template they use), or fix the name.",
              example="pages/register.json /template: 'Event Page' is not a landingPageTemplate in this bundle", group=G)
register_code("PK215", "page-form-missing", Severity.ERROR,
              "A landing page places a form that is not in the bundle.",
              hint="Add the form to the bundle, or fix the section's value (form names are case-insensitive).",
              example="pages/register.json /sections/form/value: 'Registration' is not a form in this bundle", group=G)
register_code("PK216", "page-image-missing", Severity.ERROR,
              "A landing page's image section names an image (a file name, not a URL) that is not in the bundle.",
              hint="Add the image to the bundle, or give the image's full URL.",
              example="pages/register.json /sections/hero/value: 'hero.png' is not an image in this bundle", group=G)
register_code("PK217", "page-snippet-missing", Severity.ERROR,
              "A landing page places a snippet that is neither in the bundle nor in requires.snippets.",
              hint="Add the snippet to the bundle, or list it under requires.snippets so preflight checks the target.",
              example="pages/register.json /sections/footer/value: snippet 'Footer' is not in the bundle or "
                      "requires.snippets", group=G)
register_code("PK218", "page-unknown-section", Severity.ERROR,
              "A landing page fills a section or variable its guided template does not have.",
              hint="Use the ids of the template's editable elements (mktoText, mktoImg, mktoForm, mktoSnippet…) and "
                   "<meta> variables.",
              example="pages/register.json /sections/body: the template 'Event Page' has no editable element 'body'",
              group=G)
register_code("PK219", "page-form-without-slot", Severity.ERROR,
              "A landing page places a form in a section that is not a form element (mktoForm) of its template.",
              hint="Put the form in the template's mktoForm element, or add one to the template.",
              example="pages/register.json /sections/main: a form goes in a mktoForm element; 'main' is a mktoText",
              group=G)
register_code("PK226", "email-link-unknown-page", Severity.ERROR,
              "An email links to a page of the program ('/name.html') that is not a landing page of the bundle.",
              hint="Link to the url of a landing page of the bundle ('/' + its url + '.html'), or give a full URL.",
              example="emails/invitation.json /sections/body: link '/regsiter.html' is no landing page's url "
                      "(pages: /register.html)", group=G)
register_code("PK227", "page-duplicate-url", Severity.ERROR, "Two landing pages of the bundle have the same url.",
              hint="A URL path names one page; change one of them.",
              example="pages/thanks.json /url: 'register' is also the url of 'Registration Page'", group=G)
register_code("PK228", "page-segmentation-not-required", Severity.ERROR,
              "A landing page's dynamic content uses a segmentation that requires.segmentations does not list.",
              hint="List the segmentation under requires.segmentations.",
              example="pages/register.json /dynamicContent/body/segmentation: 'Region' is not in "
                      "requires.segmentations", group=G)

# campaigns name pages: "Visits Web Page" (trigger, Web Page constraint), "Visited Web Page" (filter)
SMART_LIST_REFS.update({"visits web page": ("landingPage", "web page", "PK537", "landing page"),
                        "visited web page": ("landingPage", "web page", "PK537", "landing page"),
                        "clicks link on web page": ("landingPage", "web page", "PK537", "landing page")})

#: a link to a page of the program: a root-relative path '/url.html' (or '/url')
PAGE_LINK = re.compile(r"""\bhref\s*=\s*["'](/[A-Za-z0-9][A-Za-z0-9._-]*?)(?:\.html?)?(?:[?#][^"']*)?["']""",
                       re.IGNORECASE)


def _sections(doc: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    sections = doc.get("sections") if isinstance(doc, dict) else None
    for ident, section in sections.items() if isinstance(sections, dict) else ():
        if isinstance(section, dict) and isinstance(section.get("value"), str):
            yield ident, section


def _is_file_name(value: str) -> bool:
    return bool(value) and not re.search(r"[/:]", value) and "{{" not in value


def references(doc: Any) -> Iterator[Ref]:
    if not isinstance(doc, dict):
        return
    if isinstance(doc.get("template"), str):
        yield Ref("/template", "landingPageTemplate", doc["template"], code="PK214", label="template")
    for ident, section in _sections(doc):
        p = f"/sections/{escape(ident)}/value"
        kind = section.get("type")
        if kind == "form":
            yield Ref(p, "form", section["value"], code="PK215", label="form")
        elif kind == "image" and _is_file_name(section["value"]):
            yield Ref(p, "image", section["value"], code="PK216", label="image")
        elif kind == "snippet":  # in the bundle or required of the target: PK217 is checked below
            yield Ref(p, "snippet", section["value"], code="PK217", outside=True, label="snippet")


def page_checks(bundle: "Bundle") -> Iterator[Finding]:
    from ..lint import page_content_findings, page_template_slots  # lint registers a validate check

    templates = {a.name.casefold(): a for a in bundle.assets_of("landingPageTemplate")}
    snippets = {a.name.casefold() for a in bundle.assets_of("snippet")}
    snippets |= {s.casefold() for s in as_list(as_dict(bundle.requires).get("snippets")) if isinstance(s, str)}
    segs = {s.casefold() for s in as_list(as_dict(bundle.requires).get("segmentations")) if isinstance(s, str)}
    scanned: dict[str, tuple[dict[str, str], set[str]]] = {}
    urls: dict[str, str] = {}
    for a in bundle.assets_of("landingPage"):
        doc = a.content
        if not isinstance(doc, dict):
            continue
        url = doc.get("url")
        if isinstance(url, str):
            if url.casefold() in urls:
                yield make("PK227", f"/url: {url!r} is also the url of {urls[url.casefold()]!r}", file=a.path,
                           pointer="/url")
            else:
                urls[url.casefold()] = a.name
        tpl = templates.get(doc["template"].casefold()) if isinstance(doc.get("template"), str) else None
        guided = tpl is not None and tpl.entry.get("templateType") == "guided" and isinstance(tpl.content, str)
        if guided and tpl.path not in scanned:
            scanned[tpl.path] = page_template_slots(tpl.content)
        slots, variables = scanned[tpl.path] if guided else ({}, set())
        for ident, section in _sections(doc):
            p = f"/sections/{escape(ident)}"
            if guided and ident not in slots:
                yield make("PK218", f"{p}: the template {tpl.name!r} has no editable element {ident!r}", file=a.path,
                           pointer=p)
            elif guided and section.get("type") == "form" and slots[ident] != "mktoForm":
                yield make("PK219", f"{p}: a form goes in a mktoForm element; {ident!r} is a {slots[ident]}",
                           file=a.path, pointer=p)
            if section.get("type") == "snippet" and section["value"].casefold() not in snippets:
                yield make("PK217", f"{p}/value: snippet {section['value']!r} is not in the bundle or "
                                    f"requires.snippets", file=a.path, pointer=f"{p}/value")
            if section.get("type") in ("richText", "html"):
                yield from page_content_findings(section["value"], file=a.path, pointer=f"{p}/value",
                                                 declared=variables)
        for ident in as_dict(doc.get("variables")) if guided else ():
            if ident not in variables:
                p = f"/variables/{escape(ident)}"
                yield make("PK218", f"{p}: the template {tpl.name!r} has no variable {ident!r}", file=a.path, pointer=p)
        dyn = doc.get("dynamicContent")
        for section, spec in dyn.items() if isinstance(dyn, dict) else ():
            seg = spec.get("segmentation") if isinstance(spec, dict) else None
            if isinstance(seg, str) and seg.casefold() not in segs:
                p = f"/dynamicContent/{escape(section)}/segmentation"
                yield make("PK228", f"{p}: {seg!r} is not in requires.segmentations", file=a.path, pointer=p)


def on_destination(bundle: "Bundle", kind: str, name: str, content: bytes) -> Iterator[tuple[Any, str, str]]:
    """With ``useDestination``, the pages on template ``name`` are shown on the target's own template: every section
    and variable they fill must be one of its editable elements (else Marketo drops that content)."""
    if kind != "landingPageTemplate":
        return
    from ..lint import page_template_slots

    slots, variables = page_template_slots(content.decode("utf-8", "replace"))
    if not slots and not variables:
        return  # a free-form template: content is placed freely
    for a in bundle.assets_of("landingPage"):
        doc = a.content
        if not isinstance(doc, dict) or not isinstance(doc.get("template"), str) or \
                doc["template"].casefold() != name.casefold():
            continue
        for ident, section in _sections(doc):
            if ident not in slots:
                yield a, f"/sections/{escape(ident)}", f"the workspace's template {name!r} has no editable element {ident!r}"
            elif section.get("type") == "form" and slots[ident] != "mktoForm":
                yield a, f"/sections/{escape(ident)}", f"the workspace's template {name!r} has no form element {ident!r}"
        for ident in as_dict(doc.get("variables")):
            if ident not in variables:
                yield a, f"/variables/{escape(ident)}", f"the workspace's template {name!r} has no variable {ident!r}"


def page_links(text: str) -> Iterator[str]:
    """URL paths of the program's pages that HTML links to ('/register.html' → 'register')."""
    for m in PAGE_LINK.finditer(text):
        yield m.group(1)[1:]


def email_links(bundle: "Bundle") -> Iterator[Finding]:
    """PK226: every link of an email to a page of the program ('/url.html') is the url of a landing page of the
    bundle. (Only bundles with landing pages are checked: without any, a root-relative link is the sender's.)"""
    pages = [a.content.get("url") for a in bundle.assets_of("landingPage") if isinstance(a.content, dict)]
    urls = {u.casefold() for u in pages if isinstance(u, str)}
    if not urls:
        return
    listing = ", ".join(f"/{u}.html" for u in sorted(u for u in pages if isinstance(u, str)))
    from ..validate import iter_strings  # validate imports the kinds: imported when used

    for a in bundle.assets_of("email"):
        for pointer, text in iter_strings(a.content) if isinstance(a.content, dict) else ():
            for url in page_links(text) if "href" in text else ():
                if url.casefold() not in urls:
                    yield make("PK226", f"{pointer}: link '/{url}.html' is no landing page's url (pages: {listing})",
                               file=a.path, pointer=pointer)


def needs(doc: Any, need: Needs, where: str) -> None:
    if isinstance(doc, dict) and isinstance(doc.get("dynamicContent"), dict):
        for spec in doc["dynamicContent"].values():
            if isinstance(spec, dict) and isinstance(spec.get("segmentation"), str):
                need.segmentation(spec["segmentation"])


# rank 18: after the forms it embeds; before emails and campaigns (they link to it by URL, name it in triggers)
KIND = Kind(name="landingPage", label="landing pages", format="json", scope="program", directory="landing-pages",
            schema="landingPage", rank=18, batch=True, references=references, checks=(page_checks, email_links),
            needs=needs, on_destination=on_destination)
