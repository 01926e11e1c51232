"""The Marketo target's kind modules: one per program kind it writes.

Each module subclasses :class:`~.base.MarketoKind`; this registry is what apply, inventory, journal and
verify consult (``get``, ``approval_order``). Adding a kind to the Marketo target: a module here, one line
below, its stand-in endpoints and tests. Smart campaigns (and the Design Studio kinds) still live in
``apply.py`` / ``export.py``: they predate this shape.
"""

from __future__ import annotations

from ..common import DESIGN
from .base import CANNOT_READ, MarketoKind, StepCheck

_REGISTRY: dict[str, MarketoKind] = {}

#: Design Studio kinds the target approves, in order, before every kind module's (templates before what uses them)
BASE_APPROVABLE = ("emailTemplate", "landingPageTemplate", "snippet")


def register(handler: MarketoKind) -> MarketoKind:
    if not handler.kind or not handler.segment or not handler.browse:
        raise ValueError(f"{type(handler).__name__}: kind, segment and browse are required")
    if handler.kind in _REGISTRY:
        raise ValueError(f"Marketo kind {handler.kind} registered twice")
    _REGISTRY[handler.kind] = handler
    return handler


def get(kind: str) -> MarketoKind | None:
    """The Marketo module of ``kind``, None when the target has none (smart campaigns and Design Studio kinds
    are written by apply.py)."""
    return _REGISTRY.get(kind)


def all_handlers() -> tuple[MarketoKind, ...]:
    return tuple(_REGISTRY.values())


def approval_order() -> tuple[str, ...]:
    """Every approvable kind, in the order ``--approve`` approves them."""
    extra = sorted((h for h in _REGISTRY.values() if h.approvable), key=lambda h: (h.approve_rank, h.kind))
    return BASE_APPROVABLE + tuple(h.kind for h in extra)


def segment_of(kind: str) -> str:
    """Marketo's path segment for an asset of ``kind`` (``/rest/asset/v1/{segment}/{id}…``): the kind module's,
    Design Studio's ("file" for images), else the kind's own name ("email", "smartCampaign", "program")."""
    handler = _REGISTRY.get(kind)
    return handler.segment if handler else DESIGN[kind][0] if kind in DESIGN else kind


def label(kind: str) -> str | None:
    handler = _REGISTRY.get(kind)
    return handler.label if handler else None


# the kind modules, one line each
from . import email, form, landing_page, smart_list, static_list  # noqa: E402

for _module in (email, form, static_list, smart_list, landing_page):
    register(_module.HANDLER)

__all__ = ["BASE_APPROVABLE", "CANNOT_READ", "MarketoKind", "StepCheck", "all_handlers", "approval_order", "get",
           "label", "register", "segment_of"]
