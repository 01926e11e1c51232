"""Previews of emails, templates and pages for the HTML reports.

A preview is shown in ``<iframe sandbox="" srcdoc="…">``: no script runs in
it, it has an opaque origin and it inherits the report's Content-Security-Policy,
which allows no network. That is the guarantee. Before that, :func:`offline`
swaps every resource the page would fetch (``src``, ``srcset``, ``<link>``,
CSS ``url()`` and ``@import``) for a local placeholder, so a preview shows
where an external image would be instead of making the browser try and log a
policy violation. Scripts are left in: the sandbox is what stops them.

:func:`render_email` fills an email's template as Marketo would show it in
the editor: each ``mktoText``/``mktoSnippet`` element gets the email's section,
``${variable}`` its value (else the template's default), modules the email does
not use are dropped, ``{{my.Token}}`` is the program token's value and
``{{lead.Field:default=x}}`` shows its default (or the field's name).
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from lxml import etree, html as lxml_html

#: a small grey box with the words "external image", as a data: URI (the policy allows img-src data:)
PLACEHOLDER_IMAGE = (
    "data:image/svg+xml;charset=utf-8,"
    "%3Csvg%20xmlns='http://www.w3.org/2000/svg'%20width='160'%20height='40'%3E%3Crect%20width='160'%20height='40'"
    "%20fill='%23ddd'/%3E%3Ctext%20x='80'%20y='24'%20font-family='sans-serif'%20font-size='11'%20text-anchor="
    "'middle'%20fill='%23555'%3Eexternal%20image%3C/text%3E%3C/svg%3E")

_CSS_URL = re.compile(r"url\(\s*(['\"]?)(?!data:)[^)]*\1\s*\)", re.I)
_CSS_IMPORT = re.compile(r"@import[^;]*;?", re.I)
_TOKEN = re.compile(r"\{\{\s*([A-Za-z_]+)\.([^{}:]*?)\s*(?::default=([^{}]*))?\}\}")
_VARIABLE = re.compile(r"\$\{([A-Za-z0-9_-]+)\}")
_FETCHING = ("src", "srcset", "background", "poster", "data", "lowsrc", "dynsrc", "action", "formaction",
             "xlink:href", "ping", "codebase", "archive", "manifest", "longdesc", "profile", "usemap")


def _is_local(url: str) -> bool:
    u = url.strip().lower()
    return u.startswith("data:") or u.startswith("#") or u == ""


def offline_css(text: str) -> str:
    """CSS with every ``url()`` that is not a data: URI and every ``@import`` taken out."""
    return _CSS_URL.sub("none", _CSS_IMPORT.sub("", text))


def offline(markup: str) -> str:
    """``markup`` as a document that fetches nothing: external images become :data:`PLACEHOLDER_IMAGE`
    (the original address kept in ``title``), stylesheets links, ``<base>``, refresh ``<meta>``, frames,
    objects and CSS ``url()``/``@import`` go. Links (``<a href>``) stay: they fetch nothing until clicked,
    and a sandboxed frame cannot navigate the report."""
    if not markup.strip():
        return "<!DOCTYPE html><html><body></body></html>"
    try:
        root = lxml_html.document_fromstring(markup)
    except (etree.ParserError, ValueError):
        return "<!DOCTYPE html><html><body><p>(the HTML could not be parsed for a preview)</p></body></html>"
    for el in list(root.iter("link", "base", "iframe", "frame", "frameset", "object", "embed", "applet", "portal",
                             "audio", "video", "source", "track")):
        el.drop_tree()
    for el in list(root.iter("meta")):
        if (el.get("http-equiv") or "").strip().lower() in ("refresh", "set-cookie", "content-security-policy",
                                                              "link"):
            el.drop_tree()
    for el in root.iter("style"):
        if el.text:
            el.text = offline_css(el.text)
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for name in list(el.attrib):
            low = name.lower()
            value = el.attrib[name]
            if low in _FETCHING and not _is_local(value):
                if el.tag == "img" and low == "src":
                    el.set("title", f"external image: {value}"[:500])
                    el.set("src", PLACEHOLDER_IMAGE)
                else:
                    del el.attrib[name]
            elif low == "style":
                el.set(name, offline_css(value))
            elif low == "href" and el.tag not in ("a", "area") and not _is_local(value):
                del el.attrib[name]
    return "<!DOCTYPE html>\n" + etree.tostring(root, method="html", encoding="unicode")


def fill_tokens(text: str, tokens: Mapping[str, Any]) -> str:
    """``{{my.X}}`` → the program token's value; ``{{lead.F:default=d}}`` → d, else ``[lead.F]``."""
    folded = {str(k).casefold(): v for k, v in tokens.items()}

    def sub(m: re.Match[str]) -> str:
        scope, name, default = m.group(1), m.group(2).strip(), m.group(3)
        if scope == "my" and name.casefold() in folded:
            return str(folded[name.casefold()])
        if default is not None:
            return default
        return f"[{scope}.{name}]"

    return _TOKEN.sub(sub, text)


def _template_defaults(root: etree._Element) -> dict[str, str]:
    out = {}
    for meta in root.iter("meta"):
        cls = meta.get("class") or ""
        if cls.startswith("mkto") and meta.get("id"):
            out[meta.get("id")] = meta.get("default") or ""
    return out


def render_email(email: Mapping[str, Any], template: str | None, tokens: Mapping[str, Any]) -> str:
    """The email as it would look, built on ``template`` (its HTML); without a template, the sections
    one after another. Tokens filled (see :func:`fill_tokens`); the result is not yet :func:`offline`."""
    sections = email.get("sections") if isinstance(email.get("sections"), dict) else {}
    variables = email.get("variables") if isinstance(email.get("variables"), dict) else {}
    modules = email.get("modules") if isinstance(email.get("modules"), list) else None
    if not template or not template.strip():
        body = "".join(f"<div>{v}</div>" for v in sections.values() if isinstance(v, str))
        return fill_tokens(f"<!DOCTYPE html><html><body>{body}</body></html>", tokens)
    try:
        root = lxml_html.document_fromstring(template)
    except (etree.ParserError, ValueError):
        return fill_tokens(template, tokens)
    values = _template_defaults(root)
    values.update({k: str(v) for k, v in variables.items()})
    for el in list(root.iter()):
        if not isinstance(el.tag, str):
            continue
        classes = (el.get("class") or "").split()
        if "mktoModule" in classes and modules is not None and el.get("id") not in modules:
            el.drop_tree()
            continue
        if ("mktoText" in classes or "mktoSnippet" in classes) and isinstance(sections.get(el.get("id")), str):
            for child in list(el):
                el.remove(child)
            el.text = None
            try:
                for frag in lxml_html.fragments_fromstring(sections[el.get("id")]):
                    if isinstance(frag, str):
                        el.text = (el.text or "") + frag
                    else:
                        el.append(frag)
            except (etree.ParserError, ValueError):
                el.text = sections[el.get("id")]
    text = etree.tostring(root, method="html", encoding="unicode")
    text = _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), text)
    return "<!DOCTYPE html>\n" + fill_tokens(text, tokens)
