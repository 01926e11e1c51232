"""Starter templates and ``programkit new``: the sample is the default render, parameters, sandbox, safety."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SAMPLE
from programkit import render
from programkit.errors import BadInput
from programkit.validate import validate_path

NAME = "op-lead-management"


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def flat(value: Any, pointer: str = "") -> dict[str, Any]:
    """JSON value → {pointer: leaf}, so a diff lists exactly the fields that changed."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flat(v, f"{pointer}/{k}"))
        return out or {pointer: {}}
    if isinstance(value, list):
        out = {}
        for i, v in enumerate(value):
            out.update(flat(v, f"{pointer}/{i}"))
        return out or {pointer: []}
    return {pointer: value}


def json_diff(a: Path, b: Path) -> dict[str, dict[str, tuple[Any, Any]]]:
    """{file: {pointer: (old, new)}} over every file of two bundles; non-JSON files must be identical."""
    ta, tb = tree(a), tree(b)
    assert ta.keys() == tb.keys()
    diff = {}
    for rel in ta:
        if not rel.endswith(".json"):
            assert ta[rel] == tb[rel], rel
            continue
        fa, fb = flat(json.loads(ta[rel])), flat(json.loads(tb[rel]))
        changed = {p: (fa.get(p), fb.get(p)) for p in sorted(fa.keys() | fb.keys()) if fa.get(p) != fb.get(p)}
        if changed:
            diff[rel] = changed
    return diff


def test_sample_is_exactly_the_default_render(tmp_path):
    """The shipped sample is byte for byte what `programkit new op-lead-management` writes."""
    result = render.new_bundle(NAME, tmp_path / "out")
    rendered, sample = tree(tmp_path / "out"), tree(SAMPLE)
    differ = sorted(rel for rel in rendered.keys() | sample.keys() if rendered.get(rel) != sample.get(rel))
    assert not differ, (
        f"samples/{NAME} and the template's default render differ in {differ}: a file added to the sample goes "
        f"into programkit/templates/{NAME}/bundle/ too (with its entry, minus sha256, in that bundle.json); "
        f"then `programkit new {NAME} /tmp/x` must reproduce the sample byte for byte")
    assert result.findings == []
    assert result.files == sorted(tree(SAMPLE))


def test_default_render_validates_clean(tmp_path, invoke):
    res = invoke("new", NAME, str(tmp_path / "out"))
    assert res.exit_code == 0, res.output
    assert res.output == (f"created {tmp_path / 'out'} from {NAME} (6 files, validated: 0 findings)\n"
                          "  bundle op-lead-management 1.0.0, program 'OP-Lead Management'\n")
    assert validate_path(tmp_path / "out").findings == []


def test_crm_dynamics_and_prefix_change_exactly_what_they_should(tmp_path, invoke):
    assert invoke("new", NAME, str(tmp_path / "base")).exit_code == 0
    res = invoke("new", NAME, str(tmp_path / "acme"), "--set", "crm=dynamics", "--set", "prefix=ACME")
    assert res.exit_code == 0, res.output
    diff = json_diff(tmp_path / "base", tmp_path / "acme")
    manifest = diff.pop("bundle.json")
    digests = {p for p in manifest if p.endswith("/sha256")}
    # the HTML is unchanged
    assert digests == {"/assets/0/sha256", "/assets/1/sha256", "/assets/2/sha256", "/assets/4/sha256"}
    for p in digests:
        manifest.pop(p)
    assert manifest == {
        "/assets/0/folder": ("Campaigns", "ACME - Campaigns"),
        "/assets/0/name": ("01 - Sync New People to CRM", "ACME - 01 - Sync New People to CRM"),
        "/assets/1/folder": ("Campaigns", "ACME - Campaigns"),
        "/assets/1/name": ("02 - Marketing Qualified", "ACME - 02 - Marketing Qualified"),
        "/assets/2/folder": ("Email Alert", "ACME - Email Alert"),
        "/assets/2/name": ("01 - Email - ALERT - MQL", "ACME - 01 - Email - ALERT - MQL"),
        "/assets/3/name": ("Quick Start Email Template", "ACME - Quick Start Email Template"),
        "/assets/4/folder": ("Campaigns", "ACME - Campaigns"),
        "/assets/4/name": ("Lead Lifecycle", "ACME - Lead Lifecycle"),
        "/program/folders/0/name": ("Campaigns", "ACME - Campaigns"),
        "/program/folders/1/name": ("Email Alert", "ACME - Email Alert"),
        "/requires/crm": ("salesforce", "dynamics"),
    }
    assert diff == {
        "campaigns/01-sync-new-people-to-crm.json": {
            "/flow/0/step": ("Sync Person to SFDC", "Sync Person to Microsoft"),
            "/smartList/filters/1/filter": ("Synced to SFDC", "Synced to Microsoft"),
        },
        "campaigns/02-marketing-qualified.json": {
            "/flow/1/step": ("Sync Person to SFDC", "Sync Person to Microsoft"),
            "/flow/2/email": ("01 - Email - ALERT - MQL", "ACME - 01 - Email - ALERT - MQL"),
        },
        "emails/01-email-alert-mql.json": {
            "/template": ("Quick Start Email Template", "ACME - Quick Start Email Template"),
        },
        "lifecycle/lead-lifecycle.json": {
            "/transitions/0/description": ("Campaign 01 - Sync New People to CRM synced the person.",
                                           "Campaign ACME - 01 - Sync New People to CRM synced the person."),
            "/transitions/0/onField/field": ("Synced to SFDC", "Synced to Microsoft"),
            "/transitions/1/description": ("Campaign 02 - Marketing Qualified set Person Status to MQL.",
                                           "Campaign ACME - 02 - Marketing Qualified set Person Status to MQL."),
        },
    }
    assert validate_path(tmp_path / "acme").findings == []


def test_program_name_threshold_and_alert_addresses(tmp_path):
    render.new_bundle(NAME, tmp_path / "base")
    render.new_bundle(NAME, tmp_path / "x", values={"programName": "OP - Lead Mgmt (EMEA)", "mqlThreshold": 150},
                      sets={"alertRecipient": "sales@example.com, ops@example.org"})
    diff = json_diff(tmp_path / "base", tmp_path / "x")
    lifecycle = diff.pop("lifecycle/lead-lifecycle.json")
    base_text, text = lifecycle.pop("/description")
    assert lifecycle == {}
    assert base_text.startswith("Lead lifecycle that OP-Lead Management implements: ")
    assert text == base_text.replace("OP-Lead Management", "OP - Lead Mgmt (EMEA)")
    manifest = {p: v for p, v in diff.pop("bundle.json").items() if not p.endswith("/sha256")}
    assert manifest == {
        "/name": ("op-lead-management", "op-lead-mgmt-emea"),
        "/program/name": ("OP-Lead Management", "OP - Lead Mgmt (EMEA)"),
        "/program/tokens/0/value": (100, 150),
    }
    assert diff == {
        "campaigns/01-sync-new-people-to-crm.json": {
            "/flow/2/program": ("OP-Lead Management", "OP - Lead Mgmt (EMEA)")},
        "campaigns/02-marketing-qualified.json": {
            "/flow/2/sendTo": ([], None),
            "/flow/2/sendTo/0": (None, "sales@example.com"),
            "/flow/2/sendTo/1": (None, "ops@example.org"),
            "/flow/2/sendToOwner": ("Person Owner", "None"),
            "/flow/3/program": ("OP-Lead Management", "OP - Lead Mgmt (EMEA)"),
        },
    }
    assert validate_path(tmp_path / "x").findings == []


def test_alert_to_account_owner(tmp_path):
    render.new_bundle(NAME, tmp_path / "x", sets={"alertRecipient": "Account Owner"})
    step = json.loads((tmp_path / "x/campaigns/02-marketing-qualified.json").read_text())["flow"][2]
    assert (step["sendTo"], step["sendToOwner"]) == ([], "Account Owner")


@pytest.mark.parametrize("args, message", [
    (["--set", "crm=oracle"], "parameter 'crm': 'oracle' is not one of the allowed values: salesforce, dynamics"),
    (["--set", "mqlThreshold=lots"], "parameter 'mqlThreshold': 'lots' is not of type 'integer'"),
    (["--set", "mqlThreshold=0"], "parameter 'mqlThreshold': 0 is less than the minimum of 1"),
    (["--set", "colour=red"], "unknown parameter 'colour'"),
    (["--set", "prefix=AC/ME"], "parameter 'prefix': 'AC/ME' is not a prefix of letters (any script), digits, spaces and "
                                "_ . & - that starts and ends with a letter or digit (or nothing)"),
    (["--set", "alertRecipient=the boss"], "parameter 'alertRecipient': 'the boss' is not 'Person Owner', "
                                           "'Account Owner', 'Opportunity Owner' or email addresses separated by commas"),
    (["--set", "crm"], "--set 'crm' is not key=value"),
])
def test_bad_parameters_exit_2_and_write_nothing(tmp_path, invoke, args, message):
    dest = tmp_path / "out"
    res = invoke("new", NAME, str(dest), *args)
    assert res.exit_code == 2
    assert message in res.output
    assert "\n  PK762 [bad-parameter]\n" in res.output
    assert "does not match the pattern" not in res.output  # a description, never the regular expression
    assert not dest.exists()


def test_values_file_that_is_not_json_has_a_code_a_location_and_a_hint(tmp_path, invoke):
    values = tmp_path / "v.json"
    values.write_text('{"prefix": "ACME",\n  mqlThreshold: 90}\n')
    res = invoke("new", NAME, str(tmp_path / "out"), "--values", str(values))
    assert res.exit_code == 2
    assert res.output == (
        f"error: values file {values} is not valid JSON: Expecting property name enclosed in double quotes\n"
        f"  {values}:2:3: PK761 [bad-values-file]\n"
        '  hint: --values names a JSON file holding an object of parameter names to values, '
        'e.g. {"prefix": "ACME", "mqlThreshold": 90}.\n')
    values.write_text("[1, 2]")
    res = invoke("new", NAME, str(tmp_path / "out"), "--values", str(values))
    assert (res.exit_code, res.output.splitlines()[1]) == (2, f"  {values}: PK761 [bad-values-file]")
    assert not (tmp_path / "out").exists()


def test_params_show_what_a_pattern_accepts(invoke):
    out = invoke("new", NAME, "--params").output
    assert "alertRecipient (string, default \"Person Owner\"; 'Person Owner', 'Account Owner', 'Opportunity Owner' or " \
           "email addresses separated by commas (e.g. sales@example.com, ops@example.com))" in out
    assert "^(" not in out


def test_template_without_a_pattern_description_still_names_the_pattern(tmp_path):
    shutil.copytree(str(render.find_template(NAME).root), tmp_path / "t")
    manifest = tmp_path / "t" / "template.json"
    data = json.loads(manifest.read_text())
    del data["parameters"]["prefix"]["patternDescription"]
    manifest.write_text(json.dumps(data))
    with pytest.raises(BadInput, match="'AC/ME' does not match the pattern '\\^"):
        render.new_bundle(str(tmp_path / "t"), tmp_path / "x", sets={"prefix": "AC/ME"})


def test_bad_values_file(tmp_path, invoke):
    values = tmp_path / "v.json"
    values.write_text(json.dumps({"mqlThreshold": "100", "prefix": "ACME"}))
    res = invoke("new", NAME, str(tmp_path / "out"), "--values", str(values))
    assert res.exit_code == 2 and "parameter 'mqlThreshold': '100' is not of type 'integer'" in res.output
    values.write_text(json.dumps({"mqlThreshold": 120, "prefix": "ACME"}))
    res = invoke("new", NAME, str(tmp_path / "out"), "--values", str(values), "--set", "prefix=XYZ")
    assert res.exit_code == 0, res.output
    manifest = json.loads((tmp_path / "out/bundle.json").read_text())
    assert manifest["program"]["tokens"][0]["value"] == 120 and manifest["assets"][0]["name"].startswith("XYZ - ")


def test_refuses_non_empty_dir_unless_forced(tmp_path, invoke):
    dest = tmp_path / "out"
    dest.mkdir()
    assert invoke("new", NAME, str(dest)).exit_code == 0  # an empty directory is fine
    before = tree(dest)
    res = invoke("new", NAME, str(dest), "--set", "prefix=ACME")
    assert res.exit_code == 2 and f"error: {dest} is not empty" in res.output
    assert "pass --force to replace the bundle in it" in res.output
    assert tree(dest) == before
    res = invoke("new", NAME, str(dest), "--set", "prefix=ACME", "--force")
    assert res.exit_code == 0, res.output
    assert "removed" not in res.output  # same files, new contents
    assert res.output.endswith(f"replaced {dest} from {NAME} (6 files, validated: 0 findings)\n"
                               "  bundle op-lead-management 1.0.0, program 'OP-Lead Management'\n"), res.output
    assert json.loads((dest / "bundle.json").read_text())["assets"][0]["name"] == "ACME - 01 - Sync New People to CRM"
    render.new_bundle(NAME, tmp_path / "fresh", sets={"prefix": "ACME"})
    assert tree(dest) == tree(tmp_path / "fresh")


def test_force_leaves_exactly_the_render(tmp_path, invoke):
    """Files of the earlier bundle that the new render does not produce are removed, and said so."""
    tpl = make_template(tmp_path, {"bundle.json": "{}"})
    dest = tmp_path / "out"
    assert invoke("new", NAME, str(dest)).exit_code == 0
    (dest / ".git").mkdir()
    (dest / ".git" / "HEAD").write_text("ref: refs/heads/main\n")  # hidden: not the bundle's, left alone
    (dest / ".gitignore").write_text("*.zip\n")
    shutil.copytree(SAMPLE, tpl / "bundle", dirs_exist_ok=True)
    manifest = json.loads((tpl / "bundle" / "bundle.json").read_text())
    gone = [a["path"] for a in manifest["assets"] if a["kind"] == "leadLifecycle"]
    manifest["assets"] = [a for a in manifest["assets"] if a["kind"] != "leadLifecycle"]
    (tpl / "bundle" / "bundle.json").write_text(json.dumps(manifest))
    for rel in gone:
        (tpl / "bundle" / rel).unlink()
    (tpl / "bundle" / "lifecycle").rmdir()
    res = invoke("new", str(tpl), str(dest), "--set", "owner=x", "--force")
    assert res.exit_code == 0, res.output
    assert "removed lifecycle/lead-lifecycle.json (the new render has no such file)" in res.output
    render.new_bundle(str(tpl), tmp_path / "fresh", sets={"owner": "x"})
    expected = tree(tmp_path / "fresh") | {".git/HEAD": b"ref: refs/heads/main\n", ".gitignore": b"*.zip\n"}
    assert tree(dest) == expected
    assert not (dest / "lifecycle").exists()  # the folder it emptied went too
    assert validate_path(dest).findings == []


def test_force_refuses_files_that_are_not_the_bundles(tmp_path, invoke):
    """A user's own file is never deleted, nor silently left in the new bundle: --force refuses and lists it."""
    dest = tmp_path / "out"
    assert invoke("new", NAME, str(dest)).exit_code == 0
    (dest / "notes.txt").write_text("mine")
    (dest / "emails" / "draft.json").write_text("{}")
    before = tree(dest)
    res = invoke("new", NAME, str(dest), "--set", "prefix=ACME", "--force")
    assert res.exit_code == 2
    assert (f"error: {dest} holds 2 file(s) that are not part of the bundle there: emails/draft.json, notes.txt; "
            "nothing was written") in res.output
    assert "Move those files out, or choose a new directory." in res.output
    assert tree(dest) == before
    other = tmp_path / "not-a-bundle"  # a folder with no bundle.json: every file is someone else's
    other.mkdir()
    (other / "report.pdf").write_bytes(b"%PDF")
    res = invoke("new", NAME, str(other), "--force")
    assert res.exit_code == 2 and "holds 1 file(s) that are not part of the bundle there: report.pdf" in res.output
    assert tree(other) == {"report.pdf": b"%PDF"}


def test_force_never_writes_through_a_link(tmp_path, invoke):
    dest, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    assert invoke("new", NAME, str(dest)).exit_code == 0
    shutil.move(dest / "emails", elsewhere)
    (dest / "emails").symlink_to(elsewhere, target_is_directory=True)
    before = tree(elsewhere)
    res = invoke("new", NAME, str(dest), "--set", "prefix=ACME", "--force")
    assert res.exit_code == 2 and "emails is a symbolic link; nothing was written" in res.output
    assert tree(elsewhere) == before


def test_same_values_give_byte_identical_bundles(tmp_path):
    for d in ("a", "b"):
        render.new_bundle(NAME, tmp_path / d, sets={"crm": "dynamics", "prefix": "ACME", "mqlThreshold": "90"})
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_list_and_params(invoke):
    res = invoke("new", "--list")
    assert res.exit_code == 0
    assert "\nop-lead-management       Operational lead management:" in res.output
    assert "event-program            Event program: invitation, registration page with a form, confirmation, " \
           "reminder, attended/no-show.\n" in res.output
    params = invoke("new", NAME, "--params").output
    assert "  crm (string, default \"salesforce\"; one of salesforce, dynamics)" in params
    assert "  mqlThreshold (integer, default 100; 1..100000)" in params
    res = invoke("new", "no-such-template", "x")
    assert res.exit_code == 2 and "no template called 'no-such-template'" in res.output


# --- custom templates: token pass-through, sandbox, required parameters ---------------------

MINI_MANIFEST = {
    "format": "programkit-template/1", "name": "mini", "description": "A tiny test template.",
    "parameters": {
        "programName": {"type": "string", "default": "Mini", "description": "Program name."},
        "owner": {"type": "string", "required": True, "description": "A required parameter."},
    },
}


def make_template(root: Path, files: dict[str, str], manifest: dict | None = None) -> Path:
    tpl = root / "mini-template"
    (tpl / "bundle").mkdir(parents=True)
    (tpl / "template.json").write_text(json.dumps(manifest or MINI_MANIFEST))
    for rel, text in files.items():
        (tpl / "bundle" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tpl / "bundle" / rel).write_text(text)
    return tpl


TOKENS = ("{{my.MQL Score Threshold}} {{lead.First Name:default=there}} {{lead.Last Name}} "
          "{{company.Company Name:default=your company}} {{system.unsubscribeLink}} {{system.viewAsWebpageLink}} "
          "{{trigger.Web Page}} {{SP_Send_Alert_Info}} ${bgColor} ${ footerText } "
          "#set($x = ${lead.FirstName}) {% if x %}{{ x }}{% endif %} {# not a comment #} [not jinja] ")


def test_marketo_tokens_pass_through_untouched(tmp_path):
    tpl = make_template(tmp_path, {"bundle.json": "{}", "tokens.txt": TOKENS + "[[ owner ]]\n"})
    files = render.render_files(render.find_template(str(tpl)), {"programName": "Mini", "owner": "Ana"})
    assert files["tokens.txt"].decode() == TOKENS + "Ana\n"


def test_shipped_template_keeps_every_marketo_token(tmp_path):
    render.new_bundle(NAME, tmp_path / "out")
    for rel, data in tree(SAMPLE).items():
        for token in ("{{lead.First Name:default=A person}}", "{{my.MQL Score Threshold}}", "${bgColor}"):
            assert data.count(token.encode()) == (tmp_path / "out" / rel).read_bytes().count(token.encode())


@pytest.mark.parametrize("expr", [
    "[[ ''.__class__.__mro__ ]]",
    "[[ ''.__class__.__mro__[1].__subclasses__() ]]",
    "[[ cycler.__init__.__globals__.os.system('touch pwned') ]]",
    "[[ self.__init__.__globals__ ]]",
    "[[ owner.__class__ ]]",
    "[% for c in [].__class__.__base__.__subclasses__() %][[ c ]][% endfor %]",
])
def test_sandbox_escape_is_blocked(tmp_path, invoke, expr):
    tpl = make_template(tmp_path, {"bundle.json": "{}", "evil.txt": expr})
    dest = tmp_path / "out"
    res = invoke("new", str(tpl), str(dest), "--set", "owner=x")
    assert res.exit_code == 2
    assert "template mini: evil.txt:" in res.output
    assert not dest.exists() and not (Path.cwd() / "pwned").exists()


def test_missing_required_parameter(tmp_path, invoke):
    tpl = make_template(tmp_path, {"bundle.json": "{}"})
    res = invoke("new", str(tpl), str(tmp_path / "out"))
    assert res.exit_code == 2 and "missing required parameter 'owner'" in res.output
    assert not (tmp_path / "out").exists()


def test_rendered_bundle_that_does_not_validate_writes_nothing(tmp_path, invoke):
    bundle = json.loads((SAMPLE / "bundle.json").read_text())
    bundle["program"]["name"] = "[[ programName | json ]]"
    text = json.dumps(bundle).replace('"[[ programName | json ]]"', "[[ programName | json ]]")
    tpl = make_template(tmp_path, {"bundle.json": text.replace('"1.0.0"', '"1.0"')})
    for rel, data in tree(SAMPLE).items():
        if rel != "bundle.json":
            (tpl / "bundle" / rel).parent.mkdir(parents=True, exist_ok=True)
            (tpl / "bundle" / rel).write_bytes(data)
    res = invoke("new", str(tpl), str(tmp_path / "out"), "--set", "owner=x")
    assert res.exit_code == 1
    assert "rendered an invalid bundle" in res.output and "PK110 [invalid-version]" in res.output
    assert not (tmp_path / "out").exists()


def test_template_json_must_render_valid_json(tmp_path):
    tpl = make_template(tmp_path, {"bundle.json": '{"name": "[[ owner ]]"}'})
    with pytest.raises(BadInput, match="bundle.json does not render to valid JSON"):
        render.new_bundle(str(tpl), tmp_path / "out", sets={"owner": 'a"b'})


@pytest.mark.parametrize("change, message", [
    (lambda m: m["parameters"]["programName"].pop("default"), "'default' is a required property"),
    (lambda m: m["parameters"]["owner"].update(default="x"), "should not be valid"),
    (lambda m: m["parameters"]["programName"].update(enum=["A"]), "the default of parameter 'programName' is invalid"),
    (lambda m: m["parameters"].update({"bad name": {"type": "string", "default": "", "description": "d"}}),
     "does not match"),
    (lambda m: m["parameters"]["programName"].update(pattern="(["),
     "the pattern of parameter 'programName' is not a regular expression"),
])
def test_template_manifest_is_schema_checked(tmp_path, change, message):
    manifest = json.loads(json.dumps(MINI_MANIFEST))
    change(manifest)
    tpl = make_template(tmp_path, {"bundle.json": "{}"}, manifest)
    with pytest.raises(BadInput, match=message):
        render.find_template(str(tpl))


def test_shipped_manifests_match_the_schema():
    from programkit import schema

    for t in render.list_templates():
        doc = json.loads(t.root.joinpath("template.json").read_text())
        assert list(schema.iter_errors("template", doc)) == []
        assert doc["$schema"] == schema.get_schema("template")["$id"]


def test_new_subprocess(tmp_path):
    exe = shutil.which("programkit")
    cmd = [exe] if exe else [sys.executable, "-m", "programkit"]
    proc = subprocess.run(cmd + ["new", NAME, str(tmp_path / "acme"), "--set", "crm=dynamics", "--set", "prefix=ACME"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    check = subprocess.run(cmd + ["validate", str(tmp_path / "acme")], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0 and check.stdout.endswith("ok (0 errors, 0 warnings)\n")
    bad = subprocess.run(cmd + ["new", NAME, str(tmp_path / "bad"), "--set", "crm=oracle"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "'crm'" in bad.stderr and not (tmp_path / "bad").exists()

_words = st.text("ABCXYZabcxyz0189 -_.&()'\"éü", min_size=0, max_size=30)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prefix=st.from_regex(r"([A-Za-z0-9]([A-Za-z0-9 _.&-]{0,10}[A-Za-z0-9])?)?", fullmatch=True),
    name=st.builds(lambda a, b: (a + b).rstrip() or a, st.sampled_from("AOZ19"), _words),
    crm=st.sampled_from(["salesforce", "dynamics"]),
    threshold=st.integers(1, 100000),
    recipient=st.sampled_from(["Person Owner", "Opportunity Owner", "a@example.com", "a@x.io,b@y.org"]),
)
def test_any_valid_values_render_a_clean_bundle(tmp_path_factory, prefix, name, crm, threshold, recipient):
    values = {"prefix": prefix, "programName": name, "crm": crm, "mqlThreshold": threshold, "alertRecipient": recipient}
    root = tmp_path_factory.mktemp("prop")
    first = render.new_bundle(NAME, root / "a", values=values)
    render.new_bundle(NAME, root / "b", values=values)
    assert first.findings == []
    assert tree(root / "a") == tree(root / "b")
    manifest = json.loads((root / "a/bundle.json").read_text())
    assert manifest["program"]["name"] == name and manifest["requires"]["crm"] == crm


@pytest.mark.parametrize("expr, message", [
    ("[[ 'x' * 10**9 ]]", "'*' would build 1000000000 items"),
    ("[[ 10 ** 100000000 ]]", "exponent 100000000 is larger than 256"),
    ("[% set l = [1] %][[ l.append(2) ]]", "blocked by the sandbox"),
])
def test_sandbox_refuses_memory_bombs_and_mutation(tmp_path, expr, message):
    tpl = make_template(tmp_path, {"bundle.json": "{}", "bomb.txt": expr})
    with pytest.raises(BadInput, match=re.escape(message)):
        render.render_files(render.find_template(str(tpl)), {"programName": "M", "owner": "x"})


def test_a_folder_named_like_a_template_does_not_shadow_it(tmp_path, monkeypatch, invoke):
    monkeypatch.chdir(tmp_path)
    assert invoke("new", NAME, NAME).exit_code == 0  # ./op-lead-management is now a bundle, not a template
    res = invoke("new", NAME, "second")
    assert res.exit_code == 0, res.output
    assert tree(tmp_path / "second") == tree(SAMPLE)


def test_integer_parameter_refuses_a_float(tmp_path):
    with pytest.raises(BadInput, match="parameter 'mqlThreshold': 100.0 is not of type 'integer'"):
        render.new_bundle(NAME, tmp_path / "x", values={"mqlThreshold": 100.0})
