"""validate as a library: the sample is clean; each way of breaking it gives the right code, file and line."""

from __future__ import annotations

import json
import math
import os
import shutil
import string
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bundle_edits import (CAMPAIGN_01, CAMPAIGN_02, EMAIL, EMAIL_NAME, LIFECYCLE, TEMPLATE, edit_asset,
                          edit_manifest, entry_index, line_of, triples)
from conftest import SAMPLE
from programkit import load as load_module
from programkit.canonical import refresh_digests
from programkit.errors import BadInput
from programkit.docs import load_all_codes
from programkit.findings import CODES, Severity
from programkit.jsonpos import locate, locate_all
from programkit.report import render_github, render_json, render_junit, render_text
from programkit.validate import validate_path

M = "bundle.json"


def test_sample_validates_clean():
    result = validate_path(SAMPLE)
    assert result.findings == []
    assert result.ok and not result.failed(strict=True)
    assert [a.name for a in result.bundle.assets] == [
        "01 - Sync New People to CRM", "02 - Marketing Qualified", EMAIL_NAME, "Quick Start Email Template", "Lead Lifecycle"]


def test_sample_via_bundle_json_and_zip_validate_clean(tmp_path):
    assert validate_path(SAMPLE / M).findings == []
    archive = Path(shutil.make_archive(str(tmp_path / "s"), "zip", SAMPLE))
    assert validate_path(archive).findings == []


# --- each problem on its own: exact findings, file and line --------------------------------------------


def test_broken_json_gives_line_and_column(sample_copy):
    f = sample_copy / CAMPAIGN_02
    f.write_text(f.read_text().replace('"active": true,', '"active": true', 1))
    refresh_digests(sample_copy)
    [finding] = validate_path(sample_copy).findings
    line = line_of(f, '"communicationLimits"')
    assert (finding.code, finding.file, finding.line, finding.column) == ("PK101", CAMPAIGN_02, line, 3)
    assert "delimiter" in finding.message


def test_deleted_referenced_email_is_an_unresolved_reference(sample_copy):
    (sample_copy / EMAIL).unlink()
    edit_manifest(sample_copy, lambda m: m["assets"].pop(entry_index(sample_copy, EMAIL)))
    [finding] = validate_path(sample_copy).findings
    assert (finding.code, finding.file, finding.pointer) == ("PK206", CAMPAIGN_02, "/flow/2/email")
    assert finding.line == line_of(sample_copy / CAMPAIGN_02, f'"email": "{EMAIL_NAME}"')
    assert EMAIL_NAME in finding.message


def test_deleted_email_file_still_listed_is_missing(sample_copy):
    (sample_copy / EMAIL).unlink()
    [finding] = validate_path(sample_copy).findings
    assert triples([finding]) == {("PK105", M, line_of(sample_copy / M, f'"path": "{EMAIL}"'))}
    assert finding.pointer == f"/assets/{entry_index(sample_copy, EMAIL)}/path"


def test_tampered_asset_is_a_digest_mismatch(sample_copy):
    manifest = json.loads((sample_copy / M).read_text())
    recorded = manifest["assets"][entry_index(sample_copy, TEMPLATE)]["sha256"]
    with open(sample_copy / TEMPLATE, "a", encoding="utf-8") as fh:
        fh.write("<!-- edited after packing -->\n")
    [finding] = validate_path(sample_copy).findings
    assert triples([finding]) == {("PK106", M, line_of(sample_copy / M, recorded))}
    assert recorded[:12] in finding.message


def test_undefined_program_token(sample_copy):
    edit_asset(sample_copy, EMAIL, lambda d: d.update(subject="MQL: {{my.MQL Treshold}}"))
    [finding] = validate_path(sample_copy).findings
    assert triples([finding]) == {("PK209", EMAIL, line_of(sample_copy / EMAIL, '"subject"'))}
    assert finding.pointer == "/subject" and "{{my.MQL Treshold}}" in finding.message


def test_path_with_dotdot_is_unsafe(sample_copy):
    i = entry_index(sample_copy, CAMPAIGN_01)
    edit_manifest(sample_copy, lambda m: m["assets"][i].update(path="../01-sync-new-people-to-crm.json"))
    found = validate_path(sample_copy).findings
    assert triples(found) == {("PK104", M, line_of(sample_copy / M, '"path": "../01-sync')),
                              ("PK107", CAMPAIGN_01, None)}  # the file itself is now unlisted


def test_duplicate_name_in_same_folder(sample_copy):
    shutil.copy(sample_copy / TEMPLATE, sample_copy / "design-studio/copy.html")
    edit_manifest(sample_copy, lambda m: m["assets"].append(
        dict(m["assets"][entry_index(sample_copy, TEMPLATE)], path="design-studio/copy.html")))
    [finding] = validate_path(sample_copy).findings
    assert triples([finding]) == {("PK201", M, line_of(sample_copy / M, '"name": "Quick Start Email Template"', 1))}
    assert finding.pointer == "/assets/5/name"


def break_everything(bundle: Path) -> set[tuple[str, str, int]]:
    """Every problem above in one bundle; returns the exact (code, file, line) set validate must report."""
    edit_asset(bundle, CAMPAIGN_02, lambda d: d["flow"].insert(0, {
        "step": "Change Data Value", "attribute": "Person Status", "newValue": "{{my.Missing Token}}"}))
    c01 = bundle / CAMPAIGN_01
    c01.write_text(c01.read_text().replace('"active": true,', '"active": true', 1))
    (bundle / EMAIL).unlink()
    shutil.copy(bundle / TEMPLATE, bundle / "design-studio/copy.html")

    def manifest(m: dict[str, Any]) -> None:
        m["assets"] = [a for a in m["assets"] if a["path"] != EMAIL]
        m["assets"].append({"kind": "emailTemplate", "name": "Quick Start Email Template",
                            "path": "design-studio/copy.html", "sha256": "0" * 64})
    edit_manifest(bundle, manifest)
    refresh_digests(bundle)
    edit_manifest(bundle, lambda m: m["assets"].append(
        {"kind": "image", "name": "Logo", "path": "../logo.png", "sha256": "0" * 64}))
    recorded = json.loads((bundle / M).read_text())["assets"][entry_index(bundle, TEMPLATE)]["sha256"]
    with open(bundle / TEMPLATE, "a", encoding="utf-8") as fh:
        fh.write("<!-- tampered -->\n")
    c02, m = bundle / CAMPAIGN_02, bundle / M
    return {
        ("PK101", CAMPAIGN_01, line_of(c01, '"communicationLimits"')),
        ("PK209", CAMPAIGN_02, line_of(c02, "{{my.Missing Token}}")),
        ("PK206", CAMPAIGN_02, line_of(c02, f'"email": "{EMAIL_NAME}"')),
        ("PK106", M, line_of(m, recorded)),
        ("PK201", M, line_of(m, '"name": "Quick Start Email Template"', 1)),
        ("PK104", M, line_of(m, '"path": "../logo.png"')),
    }


def test_all_problems_at_once_are_all_reported(sample_copy):
    expected = break_everything(sample_copy)
    result = validate_path(sample_copy)
    assert triples(result.findings) == expected
    assert len(result.findings) == len(expected)
    assert result.failed()


# --- every registered code of the bundle/references/campaigns groups, triggered -----------------------

Edit = Callable[[Path], None]


def _c(rel: str, fn: Callable[[Any], Any]) -> Edit:
    return lambda b: edit_asset(b, rel, fn)


def _m(fn: Callable[[Any], Any]) -> Edit:
    return lambda b: edit_manifest(b, fn)


def _write(rel: str, data: bytes, refresh: bool = True) -> Edit:
    def go(b: Path) -> None:
        (b / rel).write_bytes(data)
        if refresh:
            refresh_digests(b)
    return go


def _symlink_template(b: Path) -> None:
    outside = b.parent / "outside.html"
    shutil.copy(b / TEMPLATE, outside)
    (b / TEMPLATE).unlink()
    os.symlink(outside, b / TEMPLATE)


def _add_entry(**entry: Any) -> Edit:
    return _m(lambda m: m["assets"].append(entry))


def _step(i: int, **step: Any) -> Callable[[Any], Any]:
    return lambda d: d["flow"].__setitem__(i, step)


# code → (edit, [(file, pointer)] of the exact findings expected)
CASES: dict[str, tuple[Edit, list[tuple[str, str | None]]]] = {
    "PK101": (_write(EMAIL, b'{"subject": "x",\n  "template" "t"}'), [(EMAIL, None)]),
    "PK102": (_m(lambda m: m["program"].update(type="defualt")), [(M, "/program/type")]),
    "PK103": (_c(CAMPAIGN_02, lambda d: d.update(type="trigered")), [(CAMPAIGN_02, "/type")]),
    "PK104": (_m(lambda m: m["assets"][3].update(path="/etc/quick-start.html")), [(M, "/assets/3/path"), (TEMPLATE, None)]),
    "PK105": (lambda b: (b / TEMPLATE).unlink(), [(M, "/assets/3/path")]),
    "PK106": (lambda b: _write(TEMPLATE, (b / TEMPLATE).read_bytes() + b"<!-- x -->", refresh=False)(b),
              [(M, "/assets/3/sha256")]),
    "PK107": (_write("notes.txt", b"to do"), [("notes.txt", None)]),
    "PK108": (_write(EMAIL, b'{"subject": "caf\xe9", "template": "Quick Start Email Template"}'), [(EMAIL, None)]),
    "PK109": (_symlink_template, [(M, "/assets/3/path")]),
    "PK110": (_m(lambda m: m.update(version="01.0.0")), [(M, "/version")]),
    "PK112": (_add_entry(kind="image", name="Logo", path="a" * 300 + ".png", sha256="0" * 64), [(M, "/assets/5/path")]),
    # issue #14: input that crashed or passed silently before is a finding at its line and column
    "PK117": (_write(EMAIL, b'{"subject": "x", "template": "Quick Start Email Template", "n": NaN}'), [(EMAIL, None)]),
    "PK118": (_write(EMAIL, b'{"subject": "x", "n": ' + b"7" * 5000 + b'}'), [(EMAIL, None)]),
    "PK119": (_write(EMAIL, b'{"subject": "x \\udc80", "template": "Quick Start Email Template"}'), [(EMAIL, None)]),
    "PK120": (lambda b: _write(EMAIL, b"\xef\xbb\xbf" + (b / EMAIL).read_bytes())(b), [(EMAIL, None)]),
    "PK121": (lambda b: _write(EMAIL, (b / EMAIL).read_bytes().replace(b"\n", b"\r\n"))(b), [(EMAIL, None)]),
    "PK201": (lambda b: (shutil.copy(b / CAMPAIGN_02, b / "campaigns/copy.json"), _add_entry(
        kind="smartCampaign", name="02 - marketing qualified", folder="campaigns", path="campaigns/copy.json",
        sha256=json.loads((b / M).read_text())["assets"][1]["sha256"])(b)), [(M, "/assets/5/name")]),
    "PK202": (_m(lambda m: m["assets"].append(dict(m["assets"][0], name="03 - Copy"))), [(M, "/assets/5/path")]),
    "PK203": (_m(lambda m: m["assets"][2].update(folder="Email Alerts")), [(M, "/assets/2/folder")]),
    "PK204": (_m(lambda m: m["program"]["folders"].append({"name": "campaigns"})), [(M, "/program/folders/2/name")]),
    "PK205": (_m(lambda m: m["assets"][0].pop("folder")), [(M, "/assets/0")]),
    "PK206": (_c(CAMPAIGN_02, lambda d: d["flow"][2].update(email="MQL Alert")), [(CAMPAIGN_02, "/flow/2/email")]),
    "PK207": (_c(EMAIL, lambda d: d.update(template="Quick Start")), [(EMAIL, "/template")]),
    "PK208": (_c(EMAIL, lambda d: (d["sections"].update(bodyy="x"), d["modules"].append("hero"))),
              [(EMAIL, "/modules/2"), (EMAIL, "/sections/bodyy")]),
    "PK209": (_c(EMAIL, lambda d: d.update(subject="{{my.mql score threshold}} {{my.Nope}}")), [(EMAIL, "/subject")]),
    "PK210": (_c(EMAIL, lambda d: d.update(subject="{{lead.Lead Grade}}")), [(EMAIL, "/subject")]),
    "PK211": (_m(lambda m: m["program"]["tokens"].append({"name": "mql score threshold", "type": "number", "value": 5})),
              [(M, "/program/tokens/3/name")]),
    "PK212": (_c(EMAIL, lambda d: d.update(subject="{{lead.Person Score}")), [(EMAIL, "/subject")]),
    "PK213": (_c(EMAIL, lambda d: d.update(subject="{{compnay.Company Name:default=x}}")), [(EMAIL, "/subject")]),
    "PK301": (_c(CAMPAIGN_01, lambda d: d["smartList"]["triggers"][0].update(trigger="Person Created")),
              [(CAMPAIGN_01, "/smartList/triggers/0/trigger")]),
    "PK302": (_c(CAMPAIGN_01, lambda d: d["smartList"]["filters"][0].update(filter="Lead Stat")),
              [(CAMPAIGN_01, "/smartList/filters/0/filter")]),
    "PK303": (_c(CAMPAIGN_01, lambda d: d["flow"][1].update(step="Change Value")), [(CAMPAIGN_01, "/flow/1/step")]),
    "PK304": (_c(CAMPAIGN_01, lambda d: d.update(type="batch")), [(CAMPAIGN_01, "/smartList/triggers")]),
    "PK305": (_c(CAMPAIGN_02, lambda d: d["smartList"].update(ruleLogic="1 and (2 or 4)")),
              [(CAMPAIGN_02, "/smartList/ruleLogic")]),
    "PK306": (_m(lambda m: m["requires"].update(crm="dynamics")), [(CAMPAIGN_01, "/flow/0/step"), (CAMPAIGN_02, "/flow/1/step")]),
    "PK307": (_c(CAMPAIGN_01, lambda d: d["flow"].append({"step": "Call Webhook", "webhook": "Enrich"})),
              [(CAMPAIGN_01, "/flow/3/webhook")]),
    "PK308": (_c(CAMPAIGN_01, _step(2, step="Change Program Status", program="OP-Lead Management", newStatus="Member")),
              [(CAMPAIGN_01, "/flow/2/newStatus")]),
    "PK309": (_c(EMAIL, lambda d: d.update(dynamicContent={"headline": {"segmentation": "Region", "segments": {}}})),
              [(EMAIL, "/dynamicContent/headline/segmentation")]),
}


def test_every_code_of_these_groups_has_a_case():
    groups = {"bundle", "references", "campaigns"}
    registered = {c.code for c in load_all_codes().values() if c.group in groups}
    assert registered == set(CASES) | {"PK111"}  # PK111 is triggered below with a lowered limit


@pytest.mark.parametrize("code", sorted(CASES))
def test_code_is_triggered(code, sample_copy):
    edit, expected = CASES[code]
    edit(sample_copy)
    findings = validate_path(sample_copy).findings
    assert sorted((f.code, f.file, f.pointer) for f in findings) == sorted(
        (code if file != TEMPLATE or code != "PK104" else "PK107", file, pointer) for file, pointer in expected)
    for f in findings:
        assert f.severity is CODES[f.code].severity and f.rule == CODES[f.code].name and f.hint
        if f.pointer is not None and f.code != "PK205":
            assert f.line is not None, f  # every pointer into a readable file has a line


def test_pk111_text_asset_over_the_limit(sample_copy, monkeypatch):
    limit = (sample_copy / TEMPLATE).stat().st_size - 1
    assert all((sample_copy / p).stat().st_size <= limit for p in (CAMPAIGN_01, CAMPAIGN_02, EMAIL))
    assert (sample_copy / LIFECYCLE).stat().st_size > limit  # the lead lifecycle is the larger text asset
    monkeypatch.setattr(load_module, "MAX_TEXT_BYTES", limit)
    found = validate_path(sample_copy).findings
    assert [(f.code, f.file) for f in found] == [("PK111", TEMPLATE), ("PK111", LIFECYCLE)]


def test_line_of_pointer_into_manifest_matches_the_text(sample_copy):
    # a pointer-only finding (PK205, at an asset entry) gets the line where that entry's object starts
    edit_manifest(sample_copy, lambda m: m["assets"][0].pop("folder"))
    [f] = validate_path(sample_copy).findings
    assert (f.code, f.line) == ("PK205", line_of(sample_copy / M, '"assets"') + 1)
    assert f.severity is Severity.WARNING


def test_bad_input_raises(tmp_path):
    with pytest.raises(BadInput):
        validate_path(tmp_path / "missing")
    with pytest.raises(BadInput):
        validate_path(tmp_path)  # a directory without bundle.json
    (tmp_path / "x.zip").write_bytes(b"not a zip")
    with pytest.raises(BadInput):
        validate_path(tmp_path / "x.zip")


# --- hostile input: findings or BadInput, never a traceback --------------------------------------------

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)


def _validate_and_render(path: Path) -> None:
    try:
        result = validate_path(path)
    except BadInput:
        return
    for f in result.findings:
        assert f.code in CODES
    json.loads(render_json([result]))
    from lxml import etree
    etree.fromstring(render_junit([result]).encode("utf-8"))
    render_text([result]).encode("utf-8")
    render_github([result]).encode("utf-8")


@FAST
@given(data=st.binary(max_size=200))
def test_arbitrary_bytes_as_manifest(tmp_path_factory, data):
    d = tmp_path_factory.mktemp("b")
    (d / M).write_bytes(data)
    _validate_and_render(d)


@FAST
@given(doc=json_values)
def test_arbitrary_json_as_manifest(tmp_path_factory, doc):
    d = tmp_path_factory.mktemp("b")
    (d / M).write_text(json.dumps(doc), encoding="utf-8")
    _validate_and_render(d)


@FAST
@given(data=st.binary(max_size=300), truncate=st.integers(0, 400))
def test_arbitrary_or_truncated_zip(tmp_path_factory, data, truncate):
    d = tmp_path_factory.mktemp("z")
    good = Path(shutil.make_archive(str(d / "good"), "zip", SAMPLE)).read_bytes()
    (d / "a.zip").write_bytes(data)
    _validate_and_render(d / "a.zip")
    (d / "t.zip").write_bytes(good[:truncate] + data[:20] + good[truncate + 20:])  # damaged somewhere
    _validate_and_render(d / "t.zip")


path_text = st.text(alphabet=st.sampled_from(list(string.ascii_letters[:6] + "./\\:~ \x00\x1b\ud800é")), max_size=12)
kinds = st.sampled_from(["smartCampaign", "email", "emailTemplate", "image", "snippet", "leadLifecycle", "zzz"])


@FAST
@given(entries=st.lists(st.fixed_dictionaries({"kind": kinds, "name": st.text(max_size=6), "path": path_text,
                                                "folder": st.text(max_size=6), "sha256": st.text(max_size=4)}),
                        max_size=4),
       contents=st.lists(st.binary(max_size=60) | json_values.map(lambda v: json.dumps(v).encode()), max_size=4),
       program=json_values)
def test_hostile_assets(tmp_path_factory, entries, contents, program):
    d = tmp_path_factory.mktemp("b")
    for i, (entry, content) in enumerate(zip(entries, contents)):
        entry["path"] = entry["path"] if i % 2 else f"f{i}.json"  # half safe paths that exist, half hostile
        if not i % 2:
            (d / entry["path"]).write_bytes(content)
    manifest = {"format": "programkit/1", "name": "x", "version": "1.0.0", "assets": entries,
                "program": program if isinstance(program, dict) else {"name": "P", "type": "default",
                                                                      "channel": "Operational"}}
    (d / M).write_text(json.dumps(manifest), encoding="utf-8")
    _validate_and_render(d)


def _pointers(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    out = [(prefix, value)]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _pointers(v, f"{prefix}/{k.replace('~', '~0').replace('/', '~1')}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _pointers(v, f"{prefix}/{i}")
    return out


@settings(max_examples=150, deadline=None)
@given(doc=json_values, indent=st.sampled_from([None, 0, 2, "\t"]), data=st.data())
def test_locate_agrees_with_json(doc, indent, data):
    text = json.dumps(doc, indent=indent, ensure_ascii=data.draw(st.booleans()))
    pointer, value = data.draw(st.sampled_from(_pointers(doc)))
    line, col = locate(text, pointer)
    offset = sum(len(x) + 1 for x in text.split("\n")[: line - 1]) + col - 1
    assert json.JSONDecoder().raw_decode(text, offset)[0] == value
    assert locate_all(text, [pointer, "/no such key/0"]) == {pointer: (line, col)}


def test_locate_duplicate_keys_resolve_like_json_loads():
    text = '{"a": 1,\n "a": [10, 20]}'
    assert json.loads(text)["a"] == [10, 20]
    assert locate(text, "/a/1") == (2, 12)
    assert locate(text, "/a/2") is None and locate(text, "/b") is None and locate(text, "/a/01") is None


# --- the quick schema check (jsonschema-rs) agrees with jsonschema ---------------------------------------------------

from programkit import schema as schema_module  # noqa: E402

SCHEMA_DOCS = {
    "bundle": json.loads((SAMPLE / M).read_text()),
    "smartCampaign": json.loads((SAMPLE / CAMPAIGN_02).read_text()),
    "email": json.loads((SAMPLE / EMAIL).read_text()),
    "program": json.loads((SAMPLE / M).read_text())["program"],
    "conflictRules": {"programTags": "create", "images": "keepBoth", "reuseIdentical": True},
}
# agreement only: other issues deepen this schema, so this document may stop being valid
AGREEMENT_DOCS = {**SCHEMA_DOCS, "leadLifecycle": {
    "states": [{"name": "Open"}, {"name": "Closed"}], "initial": "Open", "terminal": ["Closed"],
    "transitions": [{"event": "close", "from": ["Open"], "to": "Closed"}]}}
INTERESTING = st.sampled_from([
    None, True, False, 0, 1, 1.0, 2.5, -1, "", " x", "x", "trigger", "batch", "Send Alert", "Send Email",
    "Change Data Value", "Change Score", "Wait", "1 day", "Call Webhook", "Change Program Status", "+5", "{{my.X}}",
    "1 and 4", "all", "1.0.0", "default", "number", "date", "2024-01-01", "score", "keepBoth", "smartCampaign",
    "email", "image", "a" * 300, "0" * 64, "ops@example.com", [], {}, ["a", "a"], [1, True], {"name": "x"},
    {"step": "Wait"}, {"trigger": "x"}, {"filter": "x"},
    # where ECMA-262 regexes (jsonschema-rs) and Python's re (jsonschema) differ, and values rs cannot take
    "\x1c", "\x85", "\ufeff", "x\n", "0" * 64 + "\n", "\ud800", 2**70, 1e300, float("inf"), -1e400, float("nan")])


def _mutate(doc: Any, data: Any) -> Any:
    doc = json.loads(json.dumps(doc))
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p, _ in _pointers(doc)]
        pointer = data.draw(st.sampled_from(paths))
        parent_ptr, _, key = pointer.rpartition("/")
        parent = doc
        for t in [t for t in parent_ptr.split("/")[1:]]:
            parent = parent[int(t)] if isinstance(parent, list) else parent[t.replace("~1", "/").replace("~0", "~")]
        op = data.draw(st.sampled_from(["set", "delete", "add"]))
        value = json.loads(json.dumps(data.draw(INTERESTING | json_values)))  # fresh: pool values are shared
        if pointer == "":
            doc = value if op == "set" else doc
            continue
        k: Any = int(key) if isinstance(parent, list) else key.replace("~1", "/").replace("~0", "~")
        if op == "set":
            parent[k] = value
        elif op == "delete":
            del parent[k]
        elif isinstance(parent, dict):
            parent[data.draw(st.sampled_from(["extra", "type", "step", "folder", "$schema", "kind"]))] = value
        else:
            parent.append(value)
    return doc


def _quick(name: str, doc: Any) -> bool | None:
    try:
        return schema_module.fast_check(name)(doc)
    except ValueError:  # schema.iter_errors then asks jsonschema
        return None


@settings(max_examples=int(os.environ.get("PK_SCHEMA_EXAMPLES", "400")), deadline=None)
@given(name=st.sampled_from(sorted(AGREEMENT_DOCS)), data=st.data())
def test_quick_schema_check_agrees_with_jsonschema(name, data):
    doc = _mutate(AGREEMENT_DOCS[name], data)
    valid = schema_module.validator(name).is_valid(doc)
    quick = _quick(name, doc)
    if any(isinstance(v, float) and not math.isfinite(v) for _, v in _pointers(doc)):
        # json.loads takes Infinity and NaN; jsonschema-rs counts them as no number, jsonschema as numbers.
        # Stricter is safe (jsonschema then decides); accepting what jsonschema rejects would not be.
        assert quick is not True or valid, json.dumps(doc)[:500]
    else:
        assert quick in (valid, None), json.dumps(doc)[:500]
    assert (list(schema_module.iter_errors(name, doc)) == []) == valid


def test_bundle_schemas_compile_and_the_sample_passes():
    for name in schema_module.schema_names():
        assert callable(schema_module.fast_check(name)), name
    for name, doc in SCHEMA_DOCS.items():
        assert schema_module.fast_check(name)(doc) is True


@pytest.mark.parametrize("name,expected", [
    ("\x1f", False),         # Python's \s has \x1c-\x1f and \x85, ECMA-262's has not
    ("Lead\x85", False),
    ("\ufeffLead", True),    # ECMA-262's \s has \ufeff, Python's has not
    ("Lead\n", True),        # Python's $ matches before a final newline
    ("Le\ud800ad", True),    # a lone surrogate: jsonschema-rs cannot take it, jsonschema decides
])
def test_quick_check_follows_jsonschema_where_regex_engines_differ(name, expected):
    program = {**SCHEMA_DOCS["program"], "name": name}
    assert schema_module.validator("program").is_valid(program) is expected
    assert _quick("program", program) in (expected, None)
    assert (list(schema_module.iter_errors("program", program)) == []) is expected


def test_schema_pattern_errors_are_findings_with_the_quick_check(sample_copy):
    edit_manifest(sample_copy, lambda m: m["program"].update(name="\x1f"))
    findings = validate_path(sample_copy).findings
    assert [(f.code, f.pointer) for f in findings] == [("PK102", "/program/name")]
    assert "is not a one-line name that does not start or end with a space" in findings[0].message


def test_unclosed_token_in_a_long_string_is_linear(sample_copy):
    # the old token pattern backtracked quadratically here (about a minute for this string)
    edit_asset(sample_copy, EMAIL, lambda d: d.update(text="{{my.MQL" + " " * 50_000 + "{{my.Nope }}"))
    assert [(f.code, f.pointer) for f in validate_path(sample_copy).findings] == [("PK209", "/text"), ("PK212", "/text")]


def test_damaged_zip_entry_is_a_finding_and_the_rest_is_validated(tmp_path, sample_copy):
    edit_asset(sample_copy, EMAIL, lambda d: d.update(subject="{{my.Nope}}"))
    data = bytearray(Path(shutil.make_archive(str(tmp_path / "s"), "zip", sample_copy)).read_bytes())
    i = data.index(b"PK\x01\x02")
    while data[i + 46:i + 46 + int.from_bytes(data[i + 28:i + 30], "little")] != CAMPAIGN_01.encode():
        i = data.index(b"PK\x01\x02", i + 4)
    data[i + 8] |= 1  # the "encrypted" flag: zipfile refuses to read the entry
    (tmp_path / "damaged.zip").write_bytes(bytes(data))
    findings = validate_path(tmp_path / "damaged.zip").findings
    assert [(f.code, f.file) for f in findings] == [(("PK407"), CAMPAIGN_01), ("PK209", EMAIL)]
