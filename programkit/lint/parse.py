"""Safe HTML parsing for template lint.

lxml's HTML parser with the network off and libxml2's size limits on
(``huge_tree=False``). The HTML parser has no DTD processing: an internal
subset's ``<!ENTITY …>`` is never declared, so ``&x;`` stays literal text
and nothing is expanded or fetched. The input is capped at the same size
the bundle loader accepts for an HTML asset.
"""

from __future__ import annotations

from lxml import etree

from ..load import MAX_TEXT_BYTES

#: Largest template lint parses (the bundle loader's limit for HTML assets).
MAX_HTML_BYTES = MAX_TEXT_BYTES


class TooLarge(ValueError):
    """The template is larger than :data:`MAX_HTML_BYTES`."""


def parser() -> etree.HTMLParser:
    # A fresh parser each time: lxml parsers keep state and are not thread-safe.
    return etree.HTMLParser(no_network=True, huge_tree=False, default_doctype=False, recover=True,
                            remove_pis=True)


def parse_html(text: str) -> etree._Element | None:
    """The document's root element, or None when there is no markup at all."""
    if len(text) > MAX_HTML_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_HTML_BYTES:
        raise TooLarge(f"{len(text.encode('utf-8', 'surrogatepass')) / (1 << 20):.1f} MiB")
    if not text.strip():
        return None
    try:
        return etree.fromstring(text, parser())
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None
