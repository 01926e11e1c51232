"""The Marketo target's kind registry: what apply, journal and verify ask it."""

import pytest

from programkit.workspaces.marketo import kinds as marketo_kinds
from programkit.workspaces.marketo.kinds.base import MarketoKind


def test_segments_are_marketo_path_segments():
    assert marketo_kinds.segment_of("image") == "file"  # Design Studio: /rest/asset/v1/file/{id}
    assert marketo_kinds.segment_of("emailTemplate") == "emailTemplate"
    assert marketo_kinds.segment_of("program") == "program"
    assert marketo_kinds.segment_of("email") == "email"


def test_templates_are_approved_before_what_uses_them():
    order = marketo_kinds.approval_order()
    assert order[:3] == ("emailTemplate", "landingPageTemplate", "snippet")  # Design Studio first
    assert "email" in order
    if "form" in order and "landingPage" in order:  # a page is approved after the forms it places
        assert order.index("form") < order.index("landingPage")
    for handler in marketo_kinds.all_handlers():
        assert (handler.kind in order) == handler.approvable


def test_a_kind_module_must_say_where_it_lives_and_is_registered_once():
    class Nameless(MarketoKind):
        kind = "form"

    with pytest.raises(ValueError, match="kind, segment and browse"):
        marketo_kinds.register(Nameless())
    for handler in marketo_kinds.all_handlers():
        with pytest.raises(ValueError, match="registered twice"):
            marketo_kinds.register(handler)


def test_every_registered_kind_module_is_a_program_kind_with_an_id_code():
    from programkit import kinds
    from programkit.workspaces.marketo.common import KIND_CODE

    for handler in marketo_kinds.all_handlers():
        assert kinds.get(handler.kind) is not None and kinds.get(handler.kind).local
        assert handler.kind in KIND_CODE and handler.label
