"""programkit validate / rules / schema through click's CliRunner: formats parsed back, exit codes, --strict."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from lxml import etree

from bundle_edits import CAMPAIGN_01, CAMPAIGN_02, LIFECYCLE, TEMPLATE
from conftest import ROOT, SAMPLE
from test_validate import break_everything

GH = re.compile(r"^::(error|warning|notice) file=[^,]+(,line=\d+)?(,col=\d+)?,title=[^:]+::.+$")
ALL_FILES = ["bundle.json", CAMPAIGN_01, CAMPAIGN_02, TEMPLATE, "emails/01-email-alert-mql.json", LIFECYCLE]


@pytest.mark.parametrize("fmt", ["text", "json", "github", "junit"])
def test_sample_is_clean_in_every_format(invoke, fmt):
    result = invoke("validate", str(SAMPLE), "--format", fmt)
    assert result.exit_code == 0, result.output
    if fmt == "text":
        assert result.output == f"{SAMPLE}: ok (0 errors, 0 warnings)\n"
    elif fmt == "json":
        assert json.loads(result.output) == []
    elif fmt == "github":
        assert result.output == ""
    else:
        suite = etree.fromstring(result.output.encode()).find("testsuite")
        assert sorted(c.get("name") for c in suite.findall("testcase")) == sorted(str(SAMPLE / f) for f in ALL_FILES)
        assert suite.findall("testcase/failure") == []


def test_broken_bundle_text(invoke, sample_copy):
    expected = break_everything(sample_copy)
    result = invoke("validate", str(sample_copy))
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if not line.startswith("    hint: ")]
    found = set()
    for line in lines[:-1]:
        m = re.match(r"^(.+?):(\d+)(?::\d+)?: (error|warning) (PK\d+) \[[a-z0-9-]+\] ", line)
        assert m, line
        found.add((m.group(4), str(Path(m.group(1)).relative_to(sample_copy)), int(m.group(2))))
    assert found == expected
    assert lines[-1] == f"{sample_copy}: failed (6 errors, 0 warnings)"


def test_broken_bundle_json(invoke, sample_copy):
    expected = break_everything(sample_copy)
    result = invoke("validate", str(sample_copy), "-f", "json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert {(d["code"], str(Path(d["file"]).relative_to(sample_copy)), d["line"]) for d in data} == expected
    for d in data:
        assert d["severity"] == "error" and d["bundle"] == str(sample_copy) and d["message"] and d["hint"]
        assert d["location"] == f"{d['line']}:{d['column']}"


def test_broken_bundle_github(invoke, sample_copy):
    expected = break_everything(sample_copy)
    result = invoke("validate", str(sample_copy), "-f", "github")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == len(expected)
    got = set()
    for line in lines:
        assert GH.match(line), line
        props = dict(p.split("=", 1) for p in line.split("::")[1].split(" ", 1)[1].split(","))
        got.add((props["title"].split(" ")[0], str(Path(props["file"]).relative_to(sample_copy)), int(props["line"])))
    assert got == expected


def test_broken_bundle_junit_one_testcase_per_file(invoke, sample_copy):
    break_everything(sample_copy)
    result = invoke("validate", str(sample_copy), "-f", "junit")
    assert result.exit_code == 1
    root = etree.fromstring(result.output.encode())
    cases = root.findall("testsuite/testcase")
    names = [str(Path(c.get("name")).relative_to(sample_copy)) for c in cases]
    assert len(names) == len(set(names))
    # the deleted email is no longer listed; the copy and the '..' entry's file (reported on bundle.json) are
    assert set(names) == {"bundle.json", CAMPAIGN_01, CAMPAIGN_02, TEMPLATE, "design-studio/copy.html", LIFECYCLE}
    failed = {str(Path(c.get("name")).relative_to(sample_copy)) for c in cases if c.find("failure") is not None}
    assert failed == {"bundle.json", CAMPAIGN_01, CAMPAIGN_02}
    assert root.get("tests") == "6" and root.get("failures") == "3"


def test_zip_and_bundle_json_paths(invoke, sample_copy, tmp_path):
    archive = shutil.make_archive(str(tmp_path / "s"), "zip", SAMPLE)
    assert invoke("validate", archive, str(SAMPLE / "bundle.json")).exit_code == 0
    (sample_copy / CAMPAIGN_01).write_text("{")
    broken = shutil.make_archive(str(tmp_path / "broken"), "zip", sample_copy)
    result = invoke("validate", broken, "-f", "json")
    assert result.exit_code == 1
    assert {(d["code"], d["file"]) for d in json.loads(result.output)} == {
        ("PK101", f"{broken}:{CAMPAIGN_01}"), ("PK106", f"{broken}:bundle.json")}


def test_strict_fails_on_warnings(invoke, sample_copy):
    (sample_copy / "notes.txt").write_text("remember to ask the admin")
    relaxed = invoke("validate", str(sample_copy))
    assert relaxed.exit_code == 0 and relaxed.output.endswith("ok (0 errors, 1 warning)\n")
    assert "warning PK107 [unlisted-file] notes.txt is not listed in bundle.json" in relaxed.output
    strict = invoke("validate", "--strict", str(sample_copy))
    assert strict.exit_code == 1 and strict.output.endswith("failed (0 errors, 1 warning)\n")


def test_every_bundle_is_reported(invoke, sample_copy):
    (sample_copy / CAMPAIGN_01).write_text("{")
    result = invoke("validate", str(SAMPLE), str(sample_copy), "-f", "json")
    assert result.exit_code == 1
    assert {d["bundle"] for d in json.loads(result.output)} == {str(sample_copy)}


@pytest.mark.parametrize("make_path, message", [
    (lambda t: t / "missing", "no such file or directory"),
    (lambda t: t, "not a bundle (no bundle.json in this directory)"),
    (lambda t: (t / "x.zip").write_bytes(b"PK\x03\x04 not really") and t / "x.zip", "not a zip archive"),
    (lambda t: (t / "notes.txt").write_text("hi") and t / "notes.txt", "not a bundle (expected a directory"),
    (lambda t: shutil.copy(SAMPLE / CAMPAIGN_01, t / "c.json") and t / "c.json",
     "not a bundle (a bundle's manifest is called bundle.json)"),
])
def test_unreadable_input_exits_2(invoke, tmp_path, make_path, message):
    path = make_path(tmp_path)
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {path}: {message}")
    assert "Traceback" not in result.output


def test_one_unreadable_path_still_reports_the_others(invoke, sample_copy, tmp_path):
    (sample_copy / CAMPAIGN_01).write_text("{")
    result = invoke("validate", str(tmp_path / "missing"), str(sample_copy), "-f", "json")
    assert result.exit_code == 2
    assert [d["code"] for d in json.loads(result.stdout)] == ["PK106", "PK101"]
    assert "no such file or directory" in result.stderr


@pytest.mark.parametrize("args", [["validate"], ["validate", str(SAMPLE), "--format", "xml"], ["validate", "--nope"]])
def test_bad_usage_exits_2(invoke, args):
    assert invoke(*args).exit_code == 2


def test_text_has_no_colour_without_a_tty(invoke, sample_copy):
    (sample_copy / CAMPAIGN_01).write_text("{")
    assert "\x1b[" not in invoke("validate", str(sample_copy)).output


def test_use_colour_honours_tty_and_no_color(monkeypatch):
    from programkit.cli.common import use_colour

    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_colour(Tty()) is True
    assert use_colour(object()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_colour(Tty()) is False
    monkeypatch.setenv("NO_COLOR", "")  # https://no-color.org: only a non-empty value disables colour
    assert use_colour(Tty()) is True


def test_rules_lists_every_code(invoke):
    from programkit.docs import load_all_codes

    codes = load_all_codes()
    text = invoke("rules").output.splitlines()
    assert [line.split()[0] for line in text] == sorted(codes)
    data = json.loads(invoke("rules", "-f", "json").output)
    assert {d["code"] for d in data} == set(codes)
    assert all(d["example"] and d["hint"] and d["summary"] for d in data)


def test_findings_doc_is_up_to_date(invoke):
    """docs/findings.md is generated; after adding a finding code run:
    python -m programkit.docs > docs/findings.md"""
    committed = (ROOT / "docs" / "findings.md").read_text(encoding="utf-8")
    generated = invoke("rules", "--format", "markdown").output
    assert committed == generated, "docs/findings.md is stale: run  python -m programkit.docs > docs/findings.md"
    from programkit.docs import load_all_codes

    for code in load_all_codes():
        assert f"\n### {code}\n" in committed


def test_schema_command(invoke):
    bundle = json.loads(invoke("schema").output)
    assert bundle["$id"] == "https://schemas.programkit.dev/v1/bundle.json"
    assert json.loads(invoke("schema", "smartCampaign").output)["title"] == "Smart campaign"
    listing = invoke("schema", "--list").output
    assert "program" in listing and "email" in listing
    missing = invoke("schema", "nope")
    assert missing.exit_code == 2 and "no schema called 'nope'" in missing.stderr


def test_pre_commit_hook_validates_each_touched_bundle_once(invoke, tmp_path, monkeypatch):
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert "- id: programkit-validate\n" in hooks and "  language: python\n" in hooks
    assert "  pass_filenames: true\n" in hooks
    entry = re.search(r"^  entry: (.+)$", hooks, re.M).group(1).split()
    assert entry[0] == "programkit"
    shutil.copytree(SAMPLE, tmp_path / "bundles" / "good")
    shutil.copytree(SAMPLE, tmp_path / "bundles" / "bad")
    (tmp_path / "bundles" / "bad" / CAMPAIGN_01).write_text("{")  # an asset edit, bundle.json untouched
    (tmp_path / "README.md").write_text("not in a bundle")
    monkeypatch.chdir(tmp_path)
    _git(tmp_path, "init", "-q")  # pre-commit runs hooks in a repository (nothing staged here)
    changed = ["README.md", "bundles/good/bundle.json", f"bundles/good/{TEMPLATE}",
               f"bundles/bad/{CAMPAIGN_01}", f"bundles/bad/{CAMPAIGN_02}"]
    result = invoke(*entry[1:], *changed, "-f", "json")
    assert result.exit_code == 1
    assert {(d["bundle"], d["code"]) for d in json.loads(result.output)} == {
        ("bundles/bad", "PK101"), ("bundles/bad", "PK106")}
    text = invoke(*entry[1:], *changed).output
    assert text.count("bundles/good: ok") == 1 and text.count("bundles/bad: failed") == 1
    assert invoke(*entry[1:], "README.md").exit_code == 0


def _git(repo: Path, *args: str) -> str:
    import subprocess

    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main",
                           "-c", "commit.gpgsign=false", *args], cwd=repo, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _hook(invoke, *extra: str, env: dict | None = None):
    """Run the hook as pre-commit does: its entry, then the staged files that still exist (pre-commit's
    `git diff --staged --name-only --diff-filter=ACMRTUXB`), from the repository root."""
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    entry = re.search(r"^  entry: (.+)$", hooks, re.M).group(1).split()
    passed = _git(Path.cwd(), "diff", "--staged", "--name-only", "--diff-filter=ACMRTUXB").split()
    return invoke(*entry[1:], *passed, *extra, env=env)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_pre_commit_hook_sees_deletions_and_archives(invoke, tmp_path, monkeypatch):
    """A commit that only deletes a bundle's file still validates the bundle that remains; a committed bundle
    .zip is validated (a zip that is not a bundle is not); a bundle deleted whole is not looked for."""
    import zipfile

    from programkit.archive import pack

    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert "  always_run: true\n" in hooks  # else pre-commit skips a commit that only deletes files
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE, repo / "bundles" / "olm")
    shutil.copytree(SAMPLE, repo / "bundles" / "gone")
    (repo / "README.md").write_text("bundles")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "bundles")
    monkeypatch.chdir(repo)
    monkeypatch.delenv("PRE_COMMIT_FROM_REF", raising=False)
    monkeypatch.delenv("PRE_COMMIT_TO_REF", raising=False)

    _git(repo, "rm", "-q", f"bundles/olm/{CAMPAIGN_02}")  # bundle.json still lists it
    res = _hook(invoke, "-f", "json")
    assert res.exit_code == 1, res.output
    assert {(d["bundle"], d["code"], d["file"]) for d in json.loads(res.output)} == {
        ("bundles/olm", "PK105", "bundles/olm/bundle.json")}
    _git(repo, "reset", "-q", "--hard")

    _git(repo, "rm", "-rq", "bundles/gone")  # a whole bundle removed: nothing left to validate
    res = _hook(invoke)
    assert res.exit_code == 0 and res.output == "", res.output
    _git(repo, "reset", "-q", "--hard")

    pack(repo / "bundles" / "olm", repo / "olm-1.0.0.zip")
    with zipfile.ZipFile(repo / "olm-1.0.0.zip") as z, zipfile.ZipFile(repo / "tampered.zip", "w") as out:
        for info in z.infolist():
            data = z.read(info)
            out.writestr(info, data + b"\n" if info.filename == TEMPLATE else data)  # not what bundle.json says
    with zipfile.ZipFile(repo / "docs.zip", "w") as out:
        out.writestr("README.txt", "not a bundle")
    _git(repo, "add", "-A")
    res = _hook(invoke, "-f", "json")
    assert res.exit_code == 1, res.output
    assert {(d["bundle"], d["code"], d["file"]) for d in json.loads(res.output)} == {
        ("tampered.zip", "PK106", "tampered.zip:bundle.json")}
    assert "olm-1.0.0.zip: ok" in _hook(invoke).output
    _git(repo, "commit", "-qm", "archives")

    # pre-commit run --from-ref/--to-ref (CI): the deletions come from that range
    _git(repo, "rm", "-q", f"bundles/olm/{CAMPAIGN_02}")
    _git(repo, "commit", "-qm", "drop a campaign file")
    env = {"PRE_COMMIT_FROM_REF": "HEAD~1", "PRE_COMMIT_TO_REF": "HEAD"}
    res = _hook(invoke, "-f", "json", env=env)
    assert res.exit_code == 1 and {d["code"] for d in json.loads(res.output)} == {"PK105"}


def test_git_changes_outside_a_repository(invoke, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    res = invoke("validate", "--find-bundle", "--git-changes")
    assert res.exit_code == 2 and "--git-changes: `git diff" in res.output
    assert "Run it inside a git repository (pre-commit does), or pass the paths." in res.output
    assert invoke("validate", "--git-changes", ".").exit_code == 2  # only with --find-bundle
    res = invoke("validate")  # PATH may be left out only with --find-bundle (a commit touching no file)
    assert res.exit_code == 2 and "missing PATH: a bundle directory, its bundle.json or a .zip" in res.output
    assert invoke("validate", "--find-bundle").exit_code == 0


@pytest.mark.parametrize("name", ["bundle", "smartCampaign", "email", "program", "asset-entry"])
def test_printed_schema_is_self_contained(invoke, name):
    import jsonschema

    text = invoke("schema", name).output
    refs = re.findall(r'"\$ref": "([^"]*)"', text)
    assert all(r.startswith("#") for r in refs), refs  # nothing to fetch: editors and validators work offline
    raw = invoke("schema", name, "--raw").output
    assert json.loads(raw) == json.loads((ROOT / "programkit" / "schemas" / f"{name}.json").read_text())
    if name == "bundle":
        schema = json.loads(text)
        manifest = json.loads((SAMPLE / "bundle.json").read_text())
        jsonschema.Draft202012Validator(schema).validate(manifest)  # no registry: every $ref is local
        manifest["program"]["type"] = "defualt"
        manifest["assets"][0]["extra"] = 1
        errors = {e.json_path for e in jsonschema.Draft202012Validator(schema).iter_errors(manifest)}
        assert errors == {"$.program.type", "$.assets[0]"}
