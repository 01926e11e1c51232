"""Safe HTML parsing for template lint.

lxml's HTML parser with the network off and libxml2's size limits on
(``huge_tree=False``). The HTML parser has no DTD processing: an internal
subset's ``<!ENTITY …>`` is never declared, so ``&x;`` stays literal text
and nothing is expanded or fetched. The input is capped at the same size
the bundle loader accepts for an HTML asset.
"""

from __future__ import annotations

import re

from lxml import etree

from ..bundle import MAX_TEXT_BYTES

#: Largest template lint parses (the bundle loader's limit for HTML assets).
MAX_HTML_BYTES = MAX_TEXT_BYTES


class TooLarge(ValueError):
    """The template is larger than :data:`MAX_HTML_BYTES`."""


def parser() -> etree.HTMLParser:
    # A fresh parser each time: lxml parsers keep state and are not thread-safe.
    return etree.HTMLParser(no_network=True, huge_tree=False, default_doctype=False, recover=True,
                            remove_pis=True)


#: Most attributes one element keeps for parsing. libxml2 checks each attribute of an element against the ones
#: before it, so parse time grows with the square of an element's attribute count (32,000 attributes: 5 s);
#: capping them keeps lint linear in the size of the template. No Marketo template comes near it.
MAX_ATTRIBUTES = 256
_START_TAG = re.compile(r"<[A-Za-z][^<>]*>")
_ATTRIBUTE = re.compile(r"""\s[^\s=/>"']+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]*))?""")
#: an XML declaration: lxml refuses a str that declares an encoding, and HTML has no use for it
_XML_DECLARATION = re.compile(r"\A(\ufeff?\s*)<\?xml[^>]*\?>")


def _blank(text: str) -> str:
    """``text`` with every character but line breaks turned into a space (line numbers stay right)."""
    return re.sub(r"[^\n]", " ", text)


def capped_attributes(text: str) -> tuple[str, list[int]]:
    """``text`` with the attributes past :data:`MAX_ATTRIBUTES` of any element blanked, and the lines of the
    elements that had too many. One linear pass; the usual template is returned unchanged."""
    if text.count("=") <= MAX_ATTRIBUTES:
        return text, []
    out, last, lines = [], 0, []
    for m in _START_TAG.finditer(text):
        tag = m.group()
        if tag.count("=") <= MAX_ATTRIBUTES:
            continue
        attrs = list(_ATTRIBUTE.finditer(tag))
        if len(attrs) <= MAX_ATTRIBUTES:
            continue
        cut = attrs[MAX_ATTRIBUTES].start()
        out.append(text[last:m.start()])
        out.append(tag[:cut] + _blank(tag[cut:-1]) + ">")
        last = m.end()
        lines.append(text.count("\n", 0, m.start()) + 1)
    out.append(text[last:])
    return "".join(out), lines


def parse_html(text: str) -> etree._Element | None:
    """The document's root element, or None when there is no markup at all."""
    if len(text) > MAX_HTML_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_HTML_BYTES:
        raise TooLarge(f"{len(text.encode('utf-8', 'surrogatepass')) / (1 << 20):.1f} MiB")
    if not text.strip():
        return None
    m = _XML_DECLARATION.match(text)
    if m:  # <?xml version="1.0" encoding="UTF-8"?> before the markup is not "no markup" (PK601)
        text = m.group(1) + _blank(text[len(m.group(1)):m.end()]) + text[m.end():]
    text, _ = capped_attributes(text)
    try:
        return etree.fromstring(text, parser())
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None
