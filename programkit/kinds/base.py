"""What a kind unit declares: :class:`Kind`, and :class:`Ref` for what its documents reference.

A kind module (``programkit/kinds/<kind>.py``) builds one :class:`Kind` and
registers it; the pipeline stages read these declarations instead of naming
kinds. Nothing here imports a stage (load, validate, plan, export, a target),
so every stage can import the kinds without a cycle; the loaded bundle
(:mod:`programkit.model`, plain data below the kinds) is named for types only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Protocol

if TYPE_CHECKING:  # types only: the stages import the kinds, never the other way round
    from ..findings import Finding
    from ..model import Bundle

#: a document's format in a bundle: parsed and schema-checked JSON, HTML text, or bytes kept as they are
FORMATS = ("json", "html", "binary")
#: where an asset lives in a workspace: a program's folder tree, or Design Studio (shared, looked up by name)
SCOPES = ("program", "design")


@dataclass(frozen=True)
class Ref:
    """One reference by name from a document to another asset.

    ``pointer`` is where the name is written in the document (JSON pointer; "" for HTML text). ``code`` is the
    finding validate gives when the name is not an asset of ``kind`` in the bundle; ``outside`` says the asset
    may instead already exist in the target (validate then leaves it to the plan's preflight).
    """

    pointer: str
    kind: str
    name: str
    code: str
    outside: bool = False
    #: how the referring document calls the target in messages ("template", "form", …)
    label: str = ""
    #: the name is part of the string at ``pointer`` (a snippet's name inside an email section's HTML), not all of it
    within: bool = False


class Needs(Protocol):
    """What export hands a kind to say what its document needs from a target (``requires``)."""

    def webhook(self, name: str) -> None: ...
    def segmentation(self, name: str) -> None: ...
    def crm(self, crm: str, why: str) -> None: ...


Check = Callable[["Bundle"], Iterable["Finding"]]


def _no_refs(doc: Any) -> Iterator[Ref]:
    return iter(())


def _no_fields(doc: Any) -> Iterator[tuple[str, str]]:
    return iter(())


def _no_needs(doc: Any, needs: Needs, where: str) -> None:
    return None


@dataclass(frozen=True)
class Kind:
    """Everything the pipeline needs to know about one asset kind."""

    #: the manifest's ``kind`` value
    name: str
    #: plural for people ("email templates"): workspace summaries, checklists
    label: str
    #: json | html | binary
    format: str
    #: program | design
    scope: str
    #: folder of file paths export generates for it
    directory: str
    #: the JSON Schema of its document (json kinds), by name in schemas/
    schema: str | None = None
    #: the conflict rule that decides for a same-named asset in the target (design kinds; None: reuse
    #: identical, else keep both)
    rule: str | None = None
    #: the inventory section that describes assets of this kind to a workspace (design kinds)
    inventory_section: str | None = None
    #: the lint rule set (programkit.lint) for its HTML, from its manifest entry; None: not linted
    lint: Callable[[dict[str, Any]], str | None] | None = None
    #: where it comes in a plan and an import, among assets of its scope: lower first, so what a document
    #: references by id on a target exists before it (a form before the landing page that embeds it)
    rank: int = 10
    #: new assets of this kind are written in batches (nothing in one refers to another of the batch by id)
    batch: bool = False
    #: references by name in its parsed document (json: the dict; html: the text)
    references: Callable[[Any], Iterator[Ref]] = _no_refs
    #: references that depend on another asset's content: (document, ``lookup(kind, name)`` → that Design Studio
    #: asset's text or None) → refs (an email's snippets are the values it gives its template's mktoSnippet elements)
    context_references: Callable[[Any, Callable[[str, str], str | None]], Iterator[Ref]] | None = None
    #: validate checks of this kind beyond schema and references (each yields findings for the bundle)
    checks: tuple[Check, ...] = ()
    #: person fields its document names outside tokens, as (pointer, field name): validate checks each is
    #: standard or required (PK210), export lists the non-standard ones in ``requires.fields``
    fields: Callable[[Any], Iterator[tuple[str, str]]] = _no_fields
    #: what its document needs from a target, told to export's ``Needs`` (fields, webhooks, segmentations, CRM)
    needs: Callable[[Any, Needs, str], None] = _no_needs
    #: what goes wrong for this kind's documents when the plan uses the target's own Design Studio asset instead of
    #: the bundle's (``useDestination``): (bundle, that asset's kind, name, the target's bytes) → (asset, pointer,
    #: message) for each document that would lose content (a page section the target's template lacks)
    on_destination: Callable[[Any, str, str, bytes], Iterator[tuple[Any, str, str]]] | None = None
    #: a note for the plan on what importing this document writes that is easy to miss (an email's dynamic
    #: content), given the document and the target; "" for nothing
    plan_note: Callable[[Any, Any], str] = lambda doc, ws: ""
    #: a keep-both copy keeps the name's extension last ("logo - 1.png"): names that are file names
    copy_keeps_extension: bool = False

    @property
    def is_json(self) -> bool:
        return self.format == "json"

    @property
    def is_text(self) -> bool:
        return self.format in ("json", "html")

    @property
    def local(self) -> bool:
        """Lives in a program (not Design Studio)."""
        return self.scope == "program"
