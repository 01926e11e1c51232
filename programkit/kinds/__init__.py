"""Asset kinds, one unit each: the registry the pipeline stages iterate over.

Each kind module (``smart_campaign``, ``email``, …) declares one :class:`~.base.Kind`: its document format
and schema, whether it lives in a program or in Design Studio, what it references by name (validate checks
those references, plan orders by them, export follows them), its conflict rule, its lint rules, its own
validate checks and what it needs from a target. Stages ask the registry (:func:`get`, :func:`all_kinds`,
:func:`names`) instead of naming kinds; a target keeps what is particular to a kind in its one module
(the embedded SQLite target stores every kind alike).

Registration order is the kinds' canonical order (manifest enum, export's order by kind).
Adding a kind: a module here, its schema in schemas/, its tests, and one line below.
"""

from __future__ import annotations

from .base import FORMATS, SCOPES, Check, Kind, Needs, Ref

_REGISTRY: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add a kind to the registry (its module does this once, at import)."""
    if kind.format not in FORMATS or kind.scope not in SCOPES:
        raise ValueError(f"kind {kind.name}: format {kind.format!r} / scope {kind.scope!r}")
    if kind.name in _REGISTRY:
        raise ValueError(f"kind {kind.name} registered twice")
    _REGISTRY[kind.name] = kind
    return kind


def get(name: str) -> Kind | None:
    """The kind called ``name``, None for a name no unit declares."""
    return _REGISTRY.get(name)


def all_kinds() -> tuple[Kind, ...]:
    return tuple(_REGISTRY.values())


def names(*, format: str | None = None, scope: str | None = None) -> tuple[str, ...]:
    """Kind names in canonical order, optionally only those of one format and/or scope."""
    return tuple(k.name for k in _REGISTRY.values()
                 if (format is None or k.format == format) and (scope is None or k.scope == scope))


def rules_of_kinds() -> dict[str, str]:
    """Kind → the conflict rule that decides for a same-named asset of it."""
    return {k.name: k.rule for k in _REGISTRY.values() if k.rule}


def rank(name: str) -> int:
    kind = _REGISTRY.get(name)
    return kind.rank if kind else 100


from . import (email, email_template, form, image, landing_page, landing_page_template, lead_lifecycle,  # noqa: E402
               smart_campaign, smart_list, snippet, static_list)

for _module in (smart_campaign, email, email_template, landing_page_template, image, snippet, lead_lifecycle,
                landing_page, form, static_list, smart_list):
    register(_module.KIND)

# Derived from the kind units: never list kinds by hand.
#: Asset kinds whose file is a JSON document with its own schema.
JSON_KINDS = names(format="json")
#: Asset kinds whose file is HTML text.
HTML_KINDS = names(format="html")
#: Kinds that live in the program's folder tree (the rest are Design Studio assets).
PROGRAM_KINDS = names(scope="program")
ALL_KINDS = names()

__all__ = ["ALL_KINDS", "HTML_KINDS", "JSON_KINDS", "PROGRAM_KINDS", "Check", "Kind", "Needs", "Ref", "all_kinds", "get",
           "names", "rank", "register", "rules_of_kinds"]
