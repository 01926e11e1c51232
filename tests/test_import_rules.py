"""Conflict rules: every option × {no clash, clash with same content, clash with other content}, precedence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from import_helpers import LP_HTML, PNG, action, add_design_assets, plan_for
from memworkspace import MemoryWorkspace
from programkit import rules as R
from programkit.errors import BadInput

TEMPLATE = Path(__file__).resolve().parent.parent / "samples/op-lead-management/design-studio/quick-start-email-template.html"

#: rule → (kind, bundle name, bundle content, flag key)
SUBJECTS = {
    "emailTemplates": ("emailTemplate", "Quick Start Email Template", TEMPLATE.read_bytes()),
    "images": ("image", "logo.png", PNG),
    "landingPageTemplates": ("landingPageTemplate", "Simple LP", LP_HTML.encode()),
}
OTHER = b"<html><body>the workspace's own version</body></html>\n"
COPY = {"emailTemplates": "Quick Start Email Template - 1", "images": "logo - 1.png", "landingPageTemplates": "Simple LP - 1"}

# (rule, option, clash) → (action, "as" name, expected Design Studio contents of that kind, or a problem code)
B, O = "bundle", "other"
CASES = []
for rule in SUBJECTS:
    keep = "copy" if rule == "landingPageTemplates" else "keepBoth"
    name = SUBJECTS[rule][1]
    CASES += [
        (rule, keep, "none", "create", None, {name: B}),
        (rule, keep, "same", "reuse", None, {name: B}),
        (rule, keep, "other", "rename", COPY[rule], {name: O, COPY[rule]: B}),
        (rule, "reuseIfIdentical", "none", "create", None, {name: B}),
        (rule, "reuseIfIdentical", "same", "reuse", None, {name: B}),
        (rule, "reuseIfIdentical", "other", "skip", None, "PK515"),
        (rule, "fail", "none", "create", None, {name: B}),
        (rule, "fail", "same", "reuse", None, {name: B}),
        (rule, "fail", "other", "skip", None, "PK513"),
    ]
    if rule == "landingPageTemplates":
        CASES += [
            (rule, "useDestination", "none", "create", None, {name: B}),
            (rule, "useDestination", "same", "reuse", None, {name: B}),
            (rule, "useDestination", "other", "reuse", None, {name: O}),
        ]
    else:
        CASES += [
            (rule, "replace", "none", "create", None, {name: B}),
            (rule, "replace", "same", "reuse", None, {name: B}),
            (rule, "replace", "other", "replace", None, {name: B}),
        ]


@pytest.mark.parametrize("rule,option,clash,expected,as_name,result", CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES])
def test_rule_option_by_clash(sample_copy, rule, option, clash, expected, as_name, result):
    add_design_assets(sample_copy)
    kind, name, content = SUBJECTS[rule]
    ws = MemoryWorkspace()
    if clash != "none":
        ws.add_design(kind, name, content if clash == "same" else OTHER)
    before = ws.design(kind)
    plan, bundle = plan_for(sample_copy, ws, flags={rule: option})
    act = action(plan, kind, name)
    assert (act.action, act.as_name) == (expected, as_name)
    # no clash: no rule is asked; same content: the reuseIdentical switch (default on) decides unless the
    # option itself says what to do with a same-named asset
    by_switch = clash == "same" and option not in ("useDestination", "reuseIfIdentical")
    assert act.decided_by == ("default" if clash == "none" or by_switch else "flag")
    if isinstance(result, str):
        assert [p.code for p in plan.problems] == [result]
        assert name in plan.problems[0].message
        assert ws.design(kind) == before
        return
    assert plan.ok
    from programkit.apply import apply_plan

    apply_plan(plan, bundle, ws)
    contents = {B: content, O: OTHER}
    assert ws.design(kind) == {n: contents[v] for n, v in result.items()}


@pytest.mark.parametrize("option,expected,as_name,result", [
    ("keepBoth", "rename", "Quick Start Email Template - 1", 2),
    ("replace", "replace", None, 1),
    ("reuseIfIdentical", "reuse", None, 1),
    ("fail", "skip", None, "PK513"),
])
def test_no_reuse_identical_treats_same_content_as_a_clash(sample_copy, option, expected, as_name, result):
    ws = MemoryWorkspace()
    ws.add_design("emailTemplate", "Quick Start Email Template", TEMPLATE.read_bytes())
    plan, bundle = plan_for(sample_copy, ws, flags={"emailTemplates": option, "reuseIdentical": False})
    act = action(plan, "emailTemplate", "Quick Start Email Template")
    assert (act.action, act.as_name) == (expected, as_name)
    if isinstance(result, str):
        assert [p.code for p in plan.problems] == [result]
    else:
        from programkit.apply import apply_plan

        apply_plan(plan, bundle, ws)
        assert set(ws.design("emailTemplate").values()) == {TEMPLATE.read_bytes()}
        assert len(ws.design("emailTemplate")) == result


@pytest.mark.parametrize("rule", list(SUBJECTS))
@pytest.mark.parametrize("reuse", [True, False])
def test_an_earlier_identical_copy_is_reused_not_copied_again(sample_copy, rule, reuse):
    """The workspace has its own 'Name' and a copy 'Name - 1' holding the bundle's bytes (an earlier keep-both
    import): the copy is reused; --no-reuse-identical makes another copy, as before."""
    add_design_assets(sample_copy)
    kind, name, content = SUBJECTS[rule]
    second = COPY[rule].replace("1", "2")
    ws = MemoryWorkspace()
    ws.add_design(kind, name, OTHER)
    ws.add_design(kind, COPY[rule].upper() if kind == "image" else COPY[rule], content)  # names: case-insensitive
    ws.add_design(kind, COPY[rule].replace("1", "3"), OTHER + b"3")
    ws.add_design(kind, COPY[rule].replace("1", "4"), content)  # also identical: the lowest number wins
    before = ws.design(kind)
    plan, bundle = plan_for(sample_copy, ws, flags={"reuseIdentical": False} if not reuse else {})
    act = action(plan, kind, name)
    copy1 = COPY[rule].upper() if kind == "image" else COPY[rule]
    if reuse:
        assert (act.action, act.as_name, act.decided_by, act.reason) == (
            "reuse", copy1, "default", f"identical content (same sha256) already in the workspace as {copy1!r}")
        assert act.target_id == next(i for i, a in ws.state["assets"].items() if a["name"] == copy1)
    else:
        assert (act.action, act.as_name, act.decided_by) == ("rename", second, "bundle")
    from programkit.apply import apply_plan

    apply_plan(plan, bundle, ws)
    assert ws.design(kind) == (before if reuse else {**before, second: content})


def test_keep_both_takes_the_first_free_number(sample_copy):
    ws = MemoryWorkspace()
    for n in ("Quick Start Email Template", "Quick Start Email Template - 1", "Quick Start Email Template - 3"):
        ws.add_design("emailTemplate", n, OTHER + n.encode())
    plan, _ = plan_for(sample_copy, ws)
    assert action(plan, "emailTemplate", "Quick Start Email Template").as_name == "Quick Start Email Template - 2"


def test_copy_names():
    assert R.copy_name("emailTemplate", "Standard Template", 1) == "Standard Template - 1"
    assert R.copy_name("image", "logo.png", 2) == "logo - 2.png"
    assert R.copy_name("image", "banner", 1) == "banner - 1"
    assert R.copy_name("image", "hero.image.jpeg", 1) == "hero.image - 1.jpeg"
    assert R.first_free_copy("image", "logo.png", {"logo - 1.PNG", "logo - 2.png"}) == "logo - 3.png"
    taken = {f"t - {n}" for n in range(1, 200)}
    assert R.first_free_copy("emailTemplate", "t", taken) == "t - 200"


@pytest.mark.parametrize("option,exists,expected,tags_after,code", [
    ("create", False, "create", {"Program Purpose": {"Lead Management"}}, None),
    ("ignore", False, "skip", {}, None),
    ("fail", False, "skip", {}, "PK514"),
    ("create", True, "reuse", {"Program Purpose": {"Lead Management"}}, None),
    ("ignore", True, "reuse", {"Program Purpose": {"Lead Management"}}, None),
    ("fail", True, "reuse", {"Program Purpose": {"Lead Management"}}, None),
])
def test_program_tags(sample_copy, option, exists, expected, tags_after, code):
    ws = MemoryWorkspace(tags={"Program Purpose": {"Lead Management"}} if exists else {})
    plan, bundle = plan_for(sample_copy, ws, flags={"programTags": option})
    act = action(plan, "tag", "Program Purpose: Lead Management")
    assert (act.action, act.decided_by) == (expected, "flag")
    if code:
        assert [p.code for p in plan.problems] == [code]
        return
    from programkit.apply import apply_plan

    apply_plan(plan, bundle, ws)
    assert ws.tag_types() == tags_after
    program = ws.program("OP-Lead Management")
    assert program.data.get("tags", {}) == ({} if expected == "skip" else {"Program Purpose": "Lead Management"})


# --- precedence ----------------------------------------------------------------------------


def test_precedence_every_level():
    flags = {"images": "replace", "programTags": None}
    file = {"images": "fail", "emailTemplates": "replace", "reuseIdentical": False}
    bundle = {"images": "keepBoth", "emailTemplates": "fail", "landingPageTemplates": "useDestination"}
    r = R.resolve(flags=flags, rules_file=file, bundle=bundle)
    assert r.to_dict() == {
        "images": {"value": "replace", "decidedBy": "flag"},
        "emailTemplates": {"value": "replace", "decidedBy": "rules-file"},
        "reuseIdentical": {"value": False, "decidedBy": "rules-file"},
        "landingPageTemplates": {"value": "useDestination", "decidedBy": "bundle"},
        "programTags": {"value": "create", "decidedBy": "default"},
    }
    assert R.resolve().values == R.DEFAULTS == {"programTags": "create", "landingPageTemplates": "copy",
                                                "images": "keepBoth", "emailTemplates": "keepBoth",
                                                "reuseIdentical": True}


@pytest.mark.parametrize("levels,expected", [
    ({}, ("rename", "default")),
    ({"bundle": "replace"}, ("replace", "bundle")),
    ({"bundle": "replace", "file": "fail"}, ("skip", "rules-file")),
    ({"bundle": "replace", "file": "fail", "flag": "keepBoth"}, ("rename", "flag")),
])
def test_precedence_reaches_the_plan(sample_copy, levels, expected):
    from import_helpers import manifest, write_manifest

    data = manifest(sample_copy)
    data["conflictRules"] = {"emailTemplates": levels["bundle"]} if "bundle" in levels else {}
    write_manifest(sample_copy, data)
    ws = MemoryWorkspace()
    ws.add_design("emailTemplate", "Quick Start Email Template", OTHER)
    plan, _ = plan_for(sample_copy, ws, flags={"emailTemplates": levels.get("flag")},
                       rules_file={"emailTemplates": levels["file"]} if "file" in levels else None)
    act = action(plan, "emailTemplate", "Quick Start Email Template")
    assert (act.action, act.decided_by) == expected
    assert plan.to_dict()["rules"]["emailTemplates"]["decidedBy"] == expected[1]


def test_rules_file_schema_errors_have_lines(tmp_path):
    f = tmp_path / "rules.json"
    f.write_text('{\n  "colour": 1,\n  "images": "keep-both",\n  "emailTemplates": "replace",\n  "programTags": 3\n}\n')
    with pytest.raises(BadInput) as e:
        R.load_rules_file(f)
    found = [(x.code, x.line, x.pointer) for x in e.value.findings]  # in file order
    assert found == [("PK530", 2, "/colour"), ("PK530", 3, "/images"), ("PK530", 5, "/programTags")]
    assert "keep-both" in " ".join(x.message for x in e.value.findings)
    assert "colour" in " ".join(x.message for x in e.value.findings)


def test_rules_file_ok_and_unreadable(tmp_path):
    f = tmp_path / "rules.json"
    f.write_text(json.dumps({"$schema": "x", "images": "replace", "reuseIdentical": False}))
    assert R.load_rules_file(f) == {"images": "replace", "reuseIdentical": False}
    with pytest.raises(BadInput):
        R.load_rules_file(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{,}")
    with pytest.raises(BadInput) as e:
        R.load_rules_file(tmp_path / "bad.json")
    assert e.value.findings[0].code == "PK101" and e.value.findings[0].line == 1
