"""The four renderers, parsed back: JSON fields, GitHub annotation syntax and escaping, JUnit structure, text."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from lxml import etree

from programkit.findings import Finding, Severity, count, make
from programkit.report import clean, file_path, render_github, render_json, render_junit, render_text

GH = re.compile(r"^::(error|warning|notice) file=[^,]+(,line=\d+)?(,col=\d+)?,title=[^:]+::.+$")


@dataclass
class R:
    path: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return count(self.findings)


def sample_results(tmp_path) -> list[R]:
    d = tmp_path / "b"
    d.mkdir()
    return [R(str(d), [
        make("PK106", "/assets/0/sha256: a.json has sha256 ab…", file="bundle.json", pointer="/assets/0/sha256",
             line=9, column=17),
        make("PK101", "Expecting ',' delimiter", file="campaigns/a,b:c.json", line=3, column=5),
        make("PK107", "100% of notes.txt is\nnot listed", file="notes.txt"),
        make("PK209", "{{my.X}} is not a program token", file="campaigns/a,b:c.json", pointer="/flow/0", line=12),
        Finding("PK999", Severity.INFO, "just so you know", file="bundle.json", rule="fyi"),
    ]), R("other.zip", [])]


def test_json_is_a_list_of_findings_with_exact_fields(tmp_path):
    results = sample_results(tmp_path)
    data = json.loads(render_json(results))
    assert len(data) == 5
    assert all(set(d) == {"code", "severity", "rule", "file", "location", "line", "column", "pointer", "message",
                          "hint", "bundle"} for d in data)
    first = data[0]
    assert first == {
        "code": "PK106", "severity": "error", "rule": "digest-mismatch", "file": str(tmp_path / "b" / "bundle.json"),
        "location": "9:17", "line": 9, "column": 17, "pointer": "/assets/0/sha256",
        "message": "/assets/0/sha256: a.json has sha256 ab…", "hint": first["hint"], "bundle": str(tmp_path / "b")}
    assert first["hint"].startswith("If the edit is intended")
    assert [d["severity"] for d in data] == ["error", "error", "warning", "error", "info"]
    assert data[2]["location"] == "" and data[2]["line"] is None


def test_json_survives_unpaired_surrogates(tmp_path):
    data = json.loads(render_json([R("b.zip", [make("PK105", "x\ud800y missing", file="a\udcff.json")])]))
    assert data[0]["message"] == "x\ud800y missing" and data[0]["file"] == "b.zip:a\udcff.json"


def test_github_annotations_match_the_syntax_and_escape(tmp_path):
    out = render_github(sample_results(tmp_path))
    lines = out.splitlines()
    assert len(lines) == 5
    for line in lines:
        assert GH.match(line), line
    assert lines[0].startswith(f"::error file={tmp_path}/b/bundle.json,line=9,col=17,title=PK106 digest-mismatch::")
    # ',' and ':' in a file name would end the property: escaped; '%' and newlines in messages too
    assert "file=" + str(tmp_path / "b" / "campaigns" / "a%2Cb%3Ac.json") + ",line=3,col=5," in lines[1]
    assert lines[2].startswith("::warning ") and "100%25 of notes.txt is%0Anot listed" in lines[2]
    assert ",line=12,title=" in lines[3]  # line without column
    assert lines[4].startswith("::notice ") and "title=PK999 fyi::just so you know" in lines[4]


def test_github_escapes_control_characters():
    out = render_github([R("b", [make("PK105", "evil\x1b[31m\rname", file="x\x07.json")])])
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out
    assert GH.match(out.strip())


def test_junit_has_one_testcase_per_file(tmp_path):
    results = sample_results(tmp_path)
    files = {results[0].path: ["bundle.json", "campaigns/a,b:c.json", "emails/clean.json"]}
    root = etree.fromstring(render_junit(results, lambda r: files.get(r.path, []), "programkit validate").encode())
    assert root.tag == "testsuites" and root.get("name") == "programkit validate"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [results[0].path, "other.zip"]
    cases = suites[0].findall("testcase")
    names = [c.get("name") for c in cases]
    b = tmp_path / "b"
    assert names == sorted({str(b / "bundle.json"), str(b / "campaigns/a,b:c.json"), str(b / "emails/clean.json"),
                            str(b / "notes.txt")})
    assert len(names) == len(set(names))
    by_name = {c.get("name"): c for c in cases}
    failure = by_name[str(b / "bundle.json")].find("failure")
    assert failure.get("type") == "PK106" and "PK999" in failure.text  # every finding of the file is in the text
    assert by_name[str(b / "campaigns/a,b:c.json")].find("failure").text.count("\n  hint:") == 2
    assert by_name[str(b / "emails/clean.json")].find("failure") is None
    notes = by_name[str(b / "notes.txt")]
    assert notes.find("failure") is None and "PK107" in notes.find("system-out").text
    assert (suites[0].get("tests"), suites[0].get("failures"), suites[0].get("errors")) == ("4", "2", "0")
    assert (root.get("tests"), root.get("failures")) == ("4", "2")
    assert suites[1].get("tests") == "0"


def test_junit_is_valid_xml_with_control_characters_in_names():
    out = render_junit([R("b", [make("PK105", "name \x01\x1b \ud800", file="a\x00.json")])])
    case = etree.fromstring(out.encode()).find("testsuite/testcase")
    assert case.get("name") == "b:a\\x00.json"  # "b" is not a directory: shown like an archive member
    assert "\\x01\\x1b \\ud800" in case.find("failure").get("message")


def test_text_lines_and_summary(tmp_path):
    out = render_text(sample_results(tmp_path))
    b = tmp_path / "b"
    assert out.splitlines()[0] == f"{b}/bundle.json:9:17: error PK106 [digest-mismatch] /assets/0/sha256: a.json has sha256 ab…"
    assert out.splitlines()[1].startswith("    hint: If the edit is intended")
    assert f"{b}/notes.txt: warning PK107 [unlisted-file] 100% of notes.txt is\\nnot listed" in out  # no forged line
    assert out.splitlines()[-2:] == [f"{b}: failed (3 errors, 1 warning)", "other.zip: ok (0 errors, 0 warnings)"]
    assert "\x1b[" not in out


def test_text_strict_fails_on_warnings_and_colour_only_when_asked():
    import click

    results = [R("b", [make("PK107", "notes.txt is not listed", file="notes.txt")])]
    assert render_text(results).endswith("b: ok (0 errors, 1 warning)\n")
    assert render_text(results, strict=True).endswith("b: failed (0 errors, 1 warning)\n")
    coloured = render_text(results, click.style)
    assert "\x1b[33m" in coloured and click.unstyle(coloured) == render_text(results)


def test_file_path_forms(tmp_path):
    (tmp_path / "bundle.json").write_text("{}")
    assert file_path(str(tmp_path), "emails/a.json") == str(tmp_path / "emails" / "a.json")
    assert file_path(str(tmp_path / "bundle.json"), "emails/a.json") == str(tmp_path / "emails" / "a.json")
    assert file_path("b.zip", "emails/a.json") == "b.zip:emails/a.json"
    assert file_path("b.zip", None) == "b.zip"


def test_clean_escapes_only_unsafe_characters():
    assert clean("Bjørn – “ok” 日本") == "Bjørn – “ok” 日本"
    assert clean("a\x1b[2Jb\nc\x7f\ud800") == "a\\x1b[2Jb\\nc\\x7f\\ud800"


def test_github_annotates_the_archive_itself_for_its_members():
    out = render_github([R("bundles/s.zip", [make("PK101", "Expecting value", file="campaigns/a.json", line=3,
                                                  column=5)])])
    assert out.startswith("::error file=bundles/s.zip,title=PK101 json-syntax::campaigns/a.json:3:5: Expecting value")
    assert GH.match(out.strip())
