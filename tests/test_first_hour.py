"""The first hour with programkit: each step a new admin or consultant tripped over, reproduced.

Findings a person can act on (words, not regular expressions; every broken file at once; an
inspect that fails on a broken bundle; lint of a file that is not a template; JUnit that agrees
with --strict; a suggested trigger; plan problems that name the bundle folder; `explain CODE`),
and option names spelt as the docs spell them, matched without regard to case.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from conftest import SAMPLE, SAMPLES, edit_json
from programkit import schema
from programkit.validate import validate_path


def console() -> list[str]:
    exe = shutil.which("programkit")
    return [exe] if exe else [sys.executable, "-m", "programkit"]


def manifest(bundle: Path) -> Path:
    return bundle / "bundle.json"


# --- schema errors in words, the value once ---------------------------------------------------

def test_schema_error_says_what_is_expected_in_words_and_the_value_once(sample_copy, invoke):
    edit_json(manifest(sample_copy), lambda m: m.update(name="OP Lead"))
    res = invoke("validate", str(sample_copy))
    assert res.exit_code == 1
    line = res.output.splitlines()[0]
    assert line.endswith("error PK102 [manifest-schema] /name: 'OP Lead' is not a slug: lowercase letters, digits "
                         "and -, starting and ending with a letter or digit, at most 64 characters")
    assert line.count("OP Lead") == 1 and "^[" not in res.output


def test_two_problems_with_one_value_are_one_finding_that_states_the_limit(sample_copy):
    edit_json(manifest(sample_copy), lambda m: m["program"].update(name=" " + "x" * 300))
    [finding] = [f for f in validate_path(sample_copy).findings if f.pointer == "/program/name"]
    assert finding.message == (
        "/program/name: ' " + "x" * 58 + "… is 301 characters long; the limit is 255; "
        "is not a one-line name that does not start or end with a space")


def test_an_enum_lists_the_options_and_suggests_one(sample_copy):
    edit_json(manifest(sample_copy), lambda m: m["program"].update(type="defualt"))
    [finding] = validate_path(sample_copy).findings
    assert finding.message == ("/program/type: 'defualt' is not one of: default, event, webinar, nurture, email; "
                               "did you mean 'default'?")


def test_every_pattern_of_the_shipped_schemas_has_words():
    patterns: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str) and "patternDescription" not in node:
                patterns.add(node["pattern"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for name in schema.schema_names():
        walk(schema.get_schema(name))
    missing = sorted(patterns - set(schema.PATTERN_WORDS))
    assert missing == [], f"say in programkit.schema.PATTERN_WORDS what each of these accepts: {missing}"


# --- a broken bundle.json does not hide broken files --------------------------------------------

def test_broken_manifest_and_broken_asset_files_in_one_run(sample_copy, invoke):
    text = manifest(sample_copy).read_text()
    manifest(sample_copy).write_text(text.replace('"format": "programkit/1",', '"format": "programkit/1"'))
    (sample_copy / "emails/01-email-alert-mql.json").write_text('{"subject": }\n')
    (sample_copy / "lifecycle/lead-lifecycle.json").unlink()
    res = invoke("validate", "--format", "json", str(sample_copy))
    assert res.exit_code == 1
    got = [(f["code"], Path(f["file"]).relative_to(sample_copy).as_posix(), f["pointer"])
           for f in json.loads(res.output)]
    assert got == [
        ("PK106", "bundle.json", "/assets/2/sha256"),
        ("PK105", "bundle.json", "/assets/4/path"),
        ("PK101", "bundle.json", None),
        ("PK101", "emails/01-email-alert-mql.json", None),
    ]


def test_when_the_asset_list_itself_is_broken_every_json_file_is_still_syntax_checked(sample_copy):
    text = manifest(sample_copy).read_text()
    manifest(sample_copy).write_text(text.replace('"assets": [', '"assets": [,', 1))
    (sample_copy / "campaigns/02-marketing-qualified.json").write_text("{'single': 'quotes'}")
    got = [(f.code, f.file, f.line) for f in validate_path(sample_copy).findings]
    assert got == [("PK101", "bundle.json", 3), ("PK101", "campaigns/02-marketing-qualified.json", 1)]


# --- inspect a broken bundle: findings, exit 1 ------------------------------------------------

def test_inspect_a_bundle_whose_manifest_does_not_read(sample_copy, invoke):
    manifest(sample_copy).write_text("{broken")
    res = invoke("inspect", str(sample_copy))
    assert res.exit_code == 1
    assert res.output.splitlines()[0].startswith(f"{sample_copy}/bundle.json:1:2: error PK101 [json-syntax]")
    assert res.output.splitlines()[-1] == (f"cannot inspect {sample_copy}: bundle.json does not read (1 error, "
                                           "0 warnings); `programkit validate` lists the same")
    assert "None" not in res.output and "? ?" not in res.output


def test_inspect_a_bundle_with_errors_through_the_console_script(sample_copy):
    edit_json(manifest(sample_copy), lambda m: m["program"].update(channel=5))
    proc = subprocess.run(console() + ["inspect", str(sample_copy)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert "error PK102 [manifest-schema] /program/channel: 5 is not of type 'string'" in lines[0]
    assert f"{sample_copy} has 1 error, 0 warnings: what follows may be incomplete" in lines
    assert "program  OP-Lead Management  (type default, channel 5)" in lines


# --- lint a file that is not a template ------------------------------------------------------

def test_lint_readme_is_a_finding(invoke):
    readme = Path(__file__).resolve().parent.parent / "README.md"
    res = invoke("lint", str(readme))
    assert res.exit_code == 1
    assert res.output.splitlines()[0] == (f"{readme}: error PK450 [not-a-template] not an HTML template (a .md "
                                          "file); nothing was linted")


def test_lint_a_text_file_through_the_console_script(tmp_path):
    notes = tmp_path / "notes"
    notes.write_text("Remember: <you> should lint the template, not the notes.\n")
    proc = subprocess.run(console() + ["lint", str(notes)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "PK450 [not-a-template] not an HTML template (no <html>, <body> or <head> element, no mkto… class)" \
        in proc.stdout


def test_an_html_fragment_and_the_sample_template_still_lint(invoke, tmp_path):
    fragment = tmp_path / "fragment.html"
    fragment.write_text("<table><tr><td>Plain HTML</td></tr></table>\n")
    template = SAMPLE / "design-studio/quick-start-email-template.html"
    res = invoke("lint", str(fragment), str(template))
    assert res.exit_code == 0, res.output
    assert "PK450" not in res.output


# --- JUnit agrees with --strict -------------------------------------------------------------

def _warning_only(bundle: Path) -> None:
    """An unknown trigger: a warning, nothing else."""
    path = bundle / "campaigns/01-sync-new-people-to-crm.json"
    path.write_text(path.read_text().replace('"Person is Created"', '"Person Created"'))
    from programkit.canonical import refresh_digests
    refresh_digests(bundle)


def test_junit_strict_counts_warnings_as_failures(sample_copy, invoke):
    _warning_only(sample_copy)
    strict = invoke("validate", "--format", "junit", "--strict", str(sample_copy))
    assert strict.exit_code == 1
    root = etree.fromstring(strict.output.encode())
    assert (root.get("failures"), root.find("testsuite").get("failures")) == ("1", "1")
    [failure] = root.iter("failure")
    assert failure.get("type") == "PK301"
    lenient = invoke("validate", "--format", "junit", str(sample_copy))
    assert lenient.exit_code == 0
    assert etree.fromstring(lenient.output.encode()).get("failures") == "0"


# --- PK301 suggests and says why it is a warning --------------------------------------------------

def test_unknown_trigger_suggests_the_nearest_from_the_catalogue(sample_copy):
    _warning_only(sample_copy)
    [finding] = validate_path(sample_copy).findings
    assert (finding.code, finding.severity.value) == ("PK301", "warning")
    assert finding.message == (
        "/smartList/triggers/0/trigger: 'Person Created' is not a known Marketo trigger; did you mean "
        "'Person is Created'? (a warning: custom-activity and integration triggers are not in programkit's "
        "catalogue)")


def _campaign_edit(bundle: Path, name: str, fn) -> None:
    from programkit.canonical import refresh_digests
    edit_json(bundle / "campaigns" / name, fn)
    refresh_digests(bundle)


@pytest.mark.parametrize("written, meant", [
    ("Persn Score", "Person Score"),
    ("Lead Status", "Person Status"),  # the name from before Marketo called leads people
    ("Emial Address", "Email Address"),
    ("Not Member of Prgram", "Not Member of Program"),  # an inactivity twin
    ("hs_lead_stag", "hs_lead_stage"),  # a field of the bundle's requires.fields
])
def test_unknown_filter_suggests_the_nearest_filter_or_field(sample_copy, written, meant):
    edit_json(manifest(sample_copy), lambda m: m["requires"].setdefault("fields", []).append(
        {"apiName": "hs_lead_stage", "type": "string"}))
    _campaign_edit(sample_copy, "02-marketing-qualified.json",
                   lambda d: d["smartList"]["filters"][1].update(filter=written))
    [finding] = validate_path(sample_copy).findings
    assert (finding.code, finding.severity.value) == ("PK302", "warning")
    assert finding.message == (f"/smartList/filters/1/filter: {written!r} is not a known Marketo filter; "
                               f"did you mean {meant!r}?")


def test_a_filter_like_nothing_known_gets_no_suggestion(sample_copy):
    _campaign_edit(sample_copy, "02-marketing-qualified.json",
                   lambda d: d["smartList"]["filters"][1].update(filter="Xyzzy Quux"))
    [finding] = validate_path(sample_copy).findings
    assert finding.message == "/smartList/filters/1/filter: 'Xyzzy Quux' is not a known Marketo filter"


def test_a_smart_list_asset_filter_suggests_too(tmp_path):
    from programkit.canonical import refresh_digests
    bundle = tmp_path / "ev"
    shutil.copytree(SAMPLES / "event-program", bundle)
    edit_json(bundle / "smart-lists/invitees-not-yet-registered.json",
              lambda d: d["smartList"]["filters"][0].update(filter="Member of Lst"))
    refresh_digests(bundle)
    [finding] = validate_path(bundle).findings
    assert (finding.code, finding.file) == ("PK302", "smart-lists/invitees-not-yet-registered.json")
    assert finding.message.endswith("'Member of Lst' is not a known Marketo filter; did you mean 'Member of List'?")


@pytest.mark.parametrize("written, meant", [
    ("Change Value", "Change Data Value"),
    ("Change Lead Status", "Change Person Status"),
    ("Send Emial", "Send Email"),
])
def test_unknown_flow_step_suggests_the_nearest_step(sample_copy, written, meant):
    _campaign_edit(sample_copy, "02-marketing-qualified.json", lambda d: d["flow"][0].update(step=written))
    codes = [(f.code, f.message) for f in validate_path(sample_copy).findings]
    assert codes == [("PK303", f"/flow/0/step: {written!r} is not a known Marketo flow step; did you mean {meant!r}?")]


def test_the_did_you_mean_reaches_the_terminal(sample_copy, invoke):
    _campaign_edit(sample_copy, "02-marketing-qualified.json", lambda d: d["flow"][0].update(step="Change Value"))
    res = invoke("validate", str(sample_copy))
    assert res.exit_code == 0
    assert "warning PK303 [unknown-flow-step] /flow/0/step: 'Change Value' is not a known Marketo flow step; " \
           "did you mean 'Change Data Value'?" in res.output


def test_a_legacy_lead_trigger_name_suggests_the_person_one(sample_copy):
    _campaign_edit(sample_copy, "01-sync-new-people-to-crm.json",
                   lambda d: d["smartList"]["triggers"][0].update(trigger="Lead is Created"))
    [finding] = validate_path(sample_copy).findings
    assert "'Lead is Created' is not a known Marketo trigger; did you mean 'Person is Created'?" in finding.message


# --- plan problems name the bundle folder; PK501 names workspace load ---------------------------

def test_plan_problems_name_the_bundle_folder_and_workspace_load(tmp_path, invoke):
    db = str(tmp_path / "pk.db")
    assert invoke("workspace", "init", "--target", db).exit_code == 0
    bundle = str(SAMPLES / "hubspot-lead-settings")
    res = invoke("plan", bundle, "--target", db)
    assert res.exit_code == 1
    problems = [line for line in res.output.splitlines() if "PK501" in line]
    assert problems[0] == (f"  {bundle}/bundle.json:72:7: PK501 [missing-field] /requires/fields/0: field "
                           "'lifecyclestage' (string) is missing in workspace 'Default'")
    assert "`programkit workspace load INVENTORY.json`" in res.output


@pytest.mark.parametrize("sample", ["hubspot-lead-settings", "partner-center-referrals", "superoffice-lead-status"])
def test_pk501_hint_is_true_an_inventory_of_the_required_fields_lets_each_sample_import(tmp_path, invoke, sample):
    """The hint says requires.fields entries are what an inventory's "fields" hold: copying them there is all a
    new user needs to rehearse the samples that need fields a new workspace lacks."""
    db = str(tmp_path / "pk.db")
    bundle = str(SAMPLES / sample)
    assert invoke("workspace", "init", "--target", db, "--crm", "salesforce").exit_code == 0
    refused = invoke("plan", bundle, "--target", db)
    assert refused.exit_code == 1 and "PK501" in refused.output
    assert "whose {\"fields\": [...]} entries are shaped as requires.fields is" in refused.output
    inventory = tmp_path / "inventory.json"
    required = json.loads((SAMPLES / sample / "bundle.json").read_text(encoding="utf-8"))["requires"]["fields"]
    inventory.write_text(json.dumps({"fields": required}), encoding="utf-8")
    loaded = invoke("workspace", "load", str(inventory), "--target", db)
    assert loaded.exit_code == 0, loaded.output
    done = invoke("import", bundle, "--target", db, "--yes")
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines()[-1].startswith("Imported ")


def test_a_hint_shared_by_many_problems_is_shown_once_under_the_first(tmp_path, invoke):
    """Five missing fields are five lines and one hint (was five times the same two-line hint)."""
    db = str(tmp_path / "pk.db")
    assert invoke("workspace", "init", "--target", db).exit_code == 0
    res = invoke("plan", str(SAMPLES / "hubspot-lead-settings"), "--target", db)
    assert res.exit_code == 1
    tail = res.stdout.split("5 problems stop the import:\n", 1)[1].splitlines()
    assert [line.split(": PK")[1][:3] if ": PK" in line else line.strip()[:5] for line in tail] == \
        ["501", "hint:", "501", "501", "501", "501"]
    as_json = json.loads(invoke("plan", str(SAMPLES / "hubspot-lead-settings"), "--target", db,
                                "--format", "json").stdout)
    assert all(p["hint"] for p in as_json["problems"])  # the data keeps every finding's hint


def test_validate_shows_a_hint_once_per_bundle(sample_copy, invoke):
    path = sample_copy / "emails/01-email-alert-mql.json"
    path.write_text(path.read_text().replace("{{my.MQL Score Threshold}}", "{{my.MQL Treshold}}"))
    from programkit.canonical import refresh_digests
    refresh_digests(sample_copy)
    res = invoke("validate", str(sample_copy))
    assert res.exit_code == 1
    assert res.stdout.count("PK209 [undefined-token]") >= 2
    assert res.stdout.count("hint: Add the token under program.tokens") == 1
    again = invoke("validate", str(sample_copy), str(sample_copy))  # each bundle's report stands alone
    assert again.stdout.count("hint: Add the token under program.tokens") == 2


# --- explain one code --------------------------------------------------------------------------

EXPLAIN_PK512 = """\
PK512 [same-version-changed]  error  (Import)

Meaning:
  The bundle has the version already imported but different content.

Example:
  op-lead-management 1.0.0 was imported with digest 3f1a…; this bundle 1.0.0 has digest 9c2e…

Fix:
  Give the changed bundle a new version (e.g. 1.0.1) so the import can upgrade in place.

Reference: docs/findings.md#pk512
"""


@pytest.mark.parametrize("args", [["explain", "PK512"], ["explain", "pk512"], ["rules", "PK512"],
                                  ["explain", "same-version-changed"], ["rules", "512"]])
def test_explain_one_code(invoke, args):
    res = invoke(*args)
    assert (res.exit_code, res.output) == (0, EXPLAIN_PK512)


def test_explain_an_unknown_code_suggests_one(invoke):
    res = invoke("explain", "missing-feld")
    assert res.exit_code == 2
    assert res.output.splitlines()[0] == "error: no finding code 'missing-feld'; did you mean 'missing-field'?"


def test_explain_without_a_code_says_what_to_give(invoke):
    res = invoke("explain")
    assert res.exit_code == 2
    assert res.output.splitlines()[-1] == ("Error: give the code a finding printed, e.g. `programkit explain PK512` "
                                           "(or 512, or same-version-changed); `programkit rules` lists every code")


def test_explain_through_the_console_script():
    proc = subprocess.run(console() + ["explain", "PK512"], capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout) == (0, EXPLAIN_PK512)


# --- names as the docs spell them, in any case ------------------------------------------------

def test_help_spells_rule_options_as_the_docs(invoke):
    out = invoke("import", "--help").output
    assert "--on-image [keepBoth|replace|reuseIfIdentical|fail]" in out
    assert "[copy|useDestination|reuseIfIdentical|fail]" in out
    assert "keepboth" not in out and "usedestination" not in out


def test_rule_options_in_any_case_and_a_did_you_mean(tmp_path, invoke):
    db = str(tmp_path / "pk.db")
    invoke("workspace", "init", "--target", db, "--crm", "Salesforce")
    res = invoke("plan", str(SAMPLE), "--target", db, "--on-image", "KEEPBOTH", "--format", "json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["rules"]["images"] == {"value": "keepBoth", "decidedBy": "flag"}
    res = invoke("plan", str(SAMPLE), "--target", db, "--on-image", "keep-both")
    assert res.exit_code == 2
    assert "'keep-both' is not one of 'keepBoth', 'replace', 'reuseIfIdentical', 'fail'. Did you mean 'keepBoth'?" \
        in res.output


def test_crm_in_any_case_and_a_did_you_mean(tmp_path, invoke):
    res = invoke("workspace", "init", "--target", str(tmp_path / "a.db"), "--crm", "Dynamics")
    assert res.exit_code == 0 and "(crm: dynamics;" in res.output
    res = invoke("workspace", "init", "--target", str(tmp_path / "b.db"), "--crm", "dynamic")
    assert res.exit_code == 2 and "Did you mean 'dynamics'?" in res.output


def test_rules_file_keys_and_options_in_any_case(tmp_path, invoke):
    db = str(tmp_path / "pk.db")
    invoke("workspace", "init", "--target", db, "--crm", "salesforce")
    rules = tmp_path / "rules.json"
    rules.write_text('{"Images": "REPLACE", "emailtemplates": "reuseifidentical"}')
    res = invoke("plan", str(SAMPLE), "--target", db, "--rules", str(rules), "--format", "json")
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)["rules"]
    assert got["images"] == {"value": "replace", "decidedBy": "rules-file"}
    assert got["emailTemplates"] == {"value": "reuseIfIdentical", "decidedBy": "rules-file"}
    rules.write_text('{"image": "replace"}')
    res = invoke("plan", str(SAMPLE), "--target", db, "--rules", str(rules))
    assert res.exit_code == 2 and "unknown property 'image'; did you mean 'images'?" in res.output


# --- inventory findings name the file once -----------------------------------------------------

@pytest.mark.parametrize("name", ["INVENTORY.JSON", "acme-inventory"])
def test_inventory_error_names_the_file_once(tmp_path, invoke, name):
    db = str(tmp_path / "pk.db")
    invoke("workspace", "init", "--target", db)
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / name).write_text(json.dumps({"fields": [{"apiName": "x", "displayName": "X", "type": "strin"}]},
                                       indent=2))
    res = invoke("workspace", "load", str(sub / name), "--target", db)
    assert res.exit_code == 1
    first = res.output.splitlines()[0]
    assert first.startswith(f"{sub / name}:") and first.count(name) == 1, first
    assert re.search(r"'strin' is not one of: .*; did you mean 'string'\?$", first)
