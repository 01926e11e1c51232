"""The kinds registry: every stage reads kinds from their units, and the units agree with the schemas."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from programkit import kinds
from programkit.kinds.base import Kind
from programkit.kinds import ALL_KINDS, HTML_KINDS, JSON_KINDS, PROGRAM_KINDS
from programkit.rules import OPTIONS, RULE_OF_KIND, copy_name
from programkit.schema import get_schema
from programkit.workspaces.base import DESIGN_KINDS, LOCAL_KINDS

ROOT = Path(__file__).resolve().parents[1]


def test_the_manifest_enum_is_the_registry_in_order():
    assert get_schema("asset-entry")["properties"]["kind"]["enum"] == list(kinds.names())


def test_every_kind_has_its_schema_branch_in_asset_entry():
    branches = {b["if"]["properties"]["kind"]["const"]: b["then"]["$ref"] for b in get_schema("asset-entry")["allOf"]}
    for k in kinds.all_kinds():
        ref = branches[k.name]
        doc = get_schema(ref.split(".json")[0])
        assert doc["$id"] == f"https://schemas.programkit.dev/v1/{k.name}.json"
        if k.is_json:
            assert k.schema == k.name  # its document is checked against its own schema


def test_derived_tuples_follow_the_units():
    assert ALL_KINDS == tuple(k.name for k in kinds.all_kinds())
    assert set(JSON_KINDS) == {k.name for k in kinds.all_kinds() if k.format == "json"}
    assert set(HTML_KINDS) == {k.name for k in kinds.all_kinds() if k.format == "html"}
    assert PROGRAM_KINDS == LOCAL_KINDS
    assert set(DESIGN_KINDS) | set(LOCAL_KINDS) == set(ALL_KINDS)


def test_every_rule_a_kind_names_is_a_conflict_rule():
    assert set(RULE_OF_KIND.values()) <= set(OPTIONS)
    assert RULE_OF_KIND["emailTemplate"] == "emailTemplates"
    assert RULE_OF_KIND["landingPageTemplate"] == "landingPageTemplates"


def test_a_kind_registered_twice_or_misdeclared_is_refused():
    with pytest.raises(ValueError, match="registered twice"):
        kinds.register(kinds.get("email"))
    with pytest.raises(ValueError, match="format"):
        kinds.register(Kind(name="x", label="xs", format="yaml", scope="program", directory="x"))


def test_copy_names_keep_the_extension_only_for_kinds_that_say_so():
    assert copy_name("image", "logo.png", 1) == "logo - 1.png"
    assert copy_name("emailTemplate", "Quick Start.v2", 1) == "Quick Start.v2 - 1"


def test_no_pipeline_stage_names_a_kind():
    """validate, apply, inventory, model, load and the workspace interface iterate over kinds: a kind's name in them
    as a string would be a kind living outside its unit. (The embedded target stores every kind alike; it names
    'snippet' only to answer requires.snippets from Design Studio snippets.)"""
    names = "|".join(re.escape(n) for n in ALL_KINDS)
    pattern = re.compile(rf"""["']({names})["']""")
    for module in ("validate", "apply", "inventory", "model", "load", "workspaces/base"):
        text = (ROOT / "programkit" / f"{module}.py").read_text(encoding="utf-8")
        code = "\n".join(line for line in text.splitlines()
                         if not line.lstrip().startswith(("#", "example=", "hint=")) and "register_code" not in line)
        found = {m.group(1) for m in pattern.finditer(code)}
        assert not found, f"programkit/{module}.py names {sorted(found)}"


def test_kind_units_import_no_stage():
    """No cycle: the units import findings, jsonpos, catalog and lint's template parsing (which imports no kind and
    no stage), never a stage (stages import them)."""
    stages = re.compile(r"^\s*from \.\.(model|validate|plan|apply|export|load|workspaces|rules)\b", re.M)
    for path in (ROOT / "programkit" / "kinds").glob("*.py"):
        top = path.read_text(encoding="utf-8").split("if TYPE_CHECKING:")[0]
        assert not stages.search(top), path.name
