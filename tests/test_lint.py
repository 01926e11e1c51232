"""Template lint: every rule's failing and passing fixture, the valid corpus, safety, validate and the CLI."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SAMPLE
from programkit import lint as lint_pkg
from programkit.canonical import refresh_digests
from programkit.errors import BadInput
from programkit.findings import CODES
from programkit.lint import EMAIL, GUIDED, guess_kind, lint_file, lint_text
from programkit.lint import parse as lint_parse
from programkit.lint.parse import parse_html
from programkit.lint.rules import RULES, collect
from programkit.validate import validate_path

FIXTURES = Path(__file__).parent / "fixtures" / "lint"
RULE_FIXTURES = FIXTURES / "rules"
CORPUS = sorted((FIXTURES / "corpus").glob("*.html"))
EXPECTED = json.loads((RULE_FIXTURES / "expected.json").read_text())
TEMPLATE = "design-studio/quick-start-email-template.html"


def _kind(path: Path) -> str:
    return GUIDED if path.name.endswith(".lp.html") else EMAIL


def _codes(findings) -> list[str]:
    return [f"{f.code}@{f.line}" for f in findings]


# --- rule fixtures -----------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_failing_fixture_gives_exactly_its_findings(name):
    path = RULE_FIXTURES / name
    assert _codes(lint_file(path, _kind(path)).findings) == EXPECTED[name]


@pytest.mark.parametrize("path", sorted(RULE_FIXTURES.glob("*-pass.*.html")), ids=lambda p: p.name)
def test_passing_fixture_is_clean(path):
    assert lint_file(path, _kind(path)).findings == []


def test_every_rule_has_a_failing_and_a_passing_fixture():
    codes = {r.code for r in RULES} | {"PK601"}
    # PK618 is about a landing page's content, not a template file: tests/test_event_kinds.py triggers it
    assert codes | {"PK618"} == {c for c in CODES if "PK601" <= c <= "PK699"}
    for code in sorted(codes):
        fail = [n for n in EXPECTED if n.startswith(code + "-fail")]
        assert fail and any(x.startswith(code + "@") for x in EXPECTED[fail[0]]), code
        assert list(RULE_FIXTURES.glob(f"{code}-pass.*.html")), code


def test_finding_text_names_element_and_line():
    [f] = lint_file(RULE_FIXTURES / "PK616-fail.email.html").findings
    assert (f.code, f.severity.value, f.rule, f.line) == ("PK616", "error", "module-element", 6)
    assert f.message == "module 'text' is a <div> in a <td> container; it must be a <table>"
    assert f.hint.startswith("In a table, tbody, thead or tfoot container each module is a `<tr>`")


def test_loose_text_in_a_container():
    text = ('<table class="mktoContainer" id="m">\n<tr class="mktoModule" id="a" mktoName="A"><td>x</td></tr>\n'
            'Loose text\n</table>')
    assert [f.message for f in lint_text(text)] == ["container 'm' holds text 'Loose text' outside any module"]


def test_landing_page_elements_are_not_email_elements():
    text = '<div class="mktoForm"></div><div class="mktoPoll" id="p"></div>'
    assert lint_text(text, EMAIL) == []
    assert _codes(lint_text(text, GUIDED)) == ["PK602@1", "PK603@1", "PK603@1"]


def test_kind_is_guessed_from_landing_page_only_elements():
    assert guess_kind('<div class="mktoText" id="a" mktoName="A"></div>') == EMAIL
    assert guess_kind('<div class="mktoForm" id="f" mktoName="F"></div>') == GUIDED


def test_freeform_landing_pages_and_snippets_only_need_markup():
    sloppy = '<div class="mktoText"><p>no id, no name</p></div>'
    assert lint_text(sloppy, "landing-page-template-freeform") == []
    assert lint_text(sloppy, "snippet") == []
    assert _codes(lint_text("", "snippet")) == ["PK601@1"]


# --- the corpus of valid templates ---------------------------------------------------

def test_corpus_has_emails_with_modules_and_landing_pages_with_forms():
    assert len(CORPUS) >= 10
    kinds = {p.name: guess_kind(p.read_text()) for p in CORPUS}
    emails = [p for p in CORPUS if kinds[p.name] == EMAIL]
    pages = [p for p in CORPUS if kinds[p.name] == GUIDED]
    assert len(emails) >= 5 and len(pages) >= 5
    for p in emails:
        doc = collect(p.read_text(), parse_html(p.read_text()), EMAIL)
        assert doc.variables and doc.editable, p.name
    assert sum(1 for p in emails if collect(p.read_text(), parse_html(p.read_text()), EMAIL).modules) >= 5
    for p in pages:
        assert 'class="mktoForm"' in p.read_text() or "mktoSweepstakes" in p.read_text(), p.name


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_corpus_template_lints_clean(path):
    assert lint_file(path).findings == []


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_corpus_template_without_mkto_names_is_caught(path):
    """The clean corpus is clean because its elements are right, not because lint missed them."""
    broken = re.sub(r'\smktoName="[^"]*"', "", path.read_text())
    findings = lint_text(broken, guess_kind(path.read_text()))
    doc = collect(path.read_text(), parse_html(path.read_text()), guess_kind(path.read_text()))
    expected = len(doc.editable) + len(doc.variables) + len(doc.modules)
    assert [f.code for f in findings].count("PK603") == expected > 0


def test_sample_template_lints_clean():
    assert lint_file(SAMPLE / TEMPLATE).findings == []


# --- parsing safely ---------------------------------------------------------------

def test_entities_are_not_expanded():
    laughs = ('<!DOCTYPE html [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
              '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n<html><body><p>&c;&c;&c;</p></body></html>')
    root = parse_html(laughs)
    assert "aaaaaaaaaa" not in "".join(root.itertext())
    assert lint_text(laughs) == []


def test_no_network_for_external_dtd():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.3)
    port = server.getsockname()[1]
    try:
        text = (f'<!DOCTYPE html SYSTEM "http://127.0.0.1:{port}/evil.dtd">\n'
                f'<html><body><img src="http://127.0.0.1:{port}/x.png"><p>&ext;</p></body></html>')
        lint_text(text)
        with pytest.raises(socket.timeout):
            server.accept()
    finally:
        server.close()


def test_size_limit(monkeypatch, tmp_path):
    monkeypatch.setattr(lint_parse, "MAX_HTML_BYTES", 100)
    monkeypatch.setattr(lint_pkg, "MAX_HTML_BYTES", 100)
    [f] = lint_text("<p>" + "x" * 200 + "</p>", file="big.html")
    assert f.code == "PK111" and f.file == "big.html"
    big = tmp_path / "big.html"
    big.write_text("<p>" + "x" * 200 + "</p>")
    with pytest.raises(BadInput, match="big.html is 0.0 MiB"):
        lint_file(big)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from([
    "<div", ">", "</div>", '<div class="mktoText" id="a" mktoName="A">', '<table class="mktoContainer" id="c">',
    '<tr class="mktoModule" id="m" mktoName="M">', "<td>", "</table>", "${a}", "${", "<meta class='mktoList'>",
    "<!--", "-->", "<![CDATA[", "&amp;", "&x;", "<head>", "<p>", "\x00", "é", "\n", "]]>", "<!DOCTYPE html [",
]), max_size=40), st.sampled_from(["email-template", "landing-page-template", "snippet"]))
def test_hostile_markup_never_crashes(parts, kind):
    findings = lint_text("".join(parts), kind)
    assert all(f.code in CODES for f in findings)


# --- inside validate ---------------------------------------------------------------

def _edit_template(bundle: Path, old: str, new: str) -> None:
    path = bundle / TEMPLATE
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    refresh_digests(bundle)


def test_validate_lints_the_bundle_email_template(sample_copy):
    _edit_template(sample_copy, '<div class="mktoText" id="headline" mktoName="Headline">',
                   '<div class="mktotext" id="headline" mktoName="Headline">')
    _edit_template(sample_copy, "font-size: 12px; }", "font-size: 12px; color: ${footerColour}; }")
    result = validate_path(sample_copy)
    got = [(f.code, f.file, f.line) for f in result.findings]
    # 'mktotext' is not editable, so the email that fills 'headline' is wrong too (PK208)
    assert got == [("PK610", TEMPLATE, 18), ("PK606", TEMPLATE, 35), ("PK208", "emails/01-email-alert-mql.json", 15)]


def test_validate_reports_my_tokens_once(sample_copy):
    _edit_template(sample_copy, "<p>Details.</p>", "<p>{{my.Not A Token}}</p>")
    codes = [(f.code, f.line) for f in validate_path(sample_copy).findings]
    assert codes == [("PK209", 42)]


def _add_landing_page(bundle: Path, html: str, template_type: str) -> None:
    (bundle / "design-studio" / "lp.html").write_text(html)
    manifest = json.loads((bundle / "bundle.json").read_text())
    manifest["assets"].append({"kind": "landingPageTemplate", "name": "LP", "path": "design-studio/lp.html",
                               "sha256": "0" * 64, "templateType": template_type})
    (bundle / "bundle.json").write_text(json.dumps(manifest))
    refresh_digests(bundle)


def test_validate_lints_guided_landing_pages_but_not_free_form(sample_copy):
    html = (RULE_FIXTURES / "PK603-fail.lp.html").read_text()
    _add_landing_page(sample_copy, html, "guided")
    got = [(f.code, f.file, f.line) for f in validate_path(sample_copy).findings]
    assert got == [("PK603", "design-studio/lp.html", 5), ("PK603", "design-studio/lp.html", 6)]


def test_validate_free_form_landing_page_is_not_held_to_guided_rules(sample_copy):
    _add_landing_page(sample_copy, (RULE_FIXTURES / "PK603-fail.lp.html").read_text(), "freeForm")
    assert validate_path(sample_copy).findings == []


# --- the CLI ----------------------------------------------------------------------------

def test_cli_lint_exit_codes_and_text(invoke, tmp_path):
    ok = invoke("lint", str(CORPUS[0]), str(SAMPLE / TEMPLATE))
    assert ok.exit_code == 0 and ok.output.count("ok (0 errors, 0 warnings)") == 2
    bad = RULE_FIXTURES / "PK612-fail.email.html"
    res = invoke("lint", str(bad))
    assert res.exit_code == 1
    assert res.output.splitlines()[0] == (f"{bad}:7: error PK612 [module-outside-container] "
                                          "module 'footer' is not directly inside a mktoContainer")
    warn = RULE_FIXTURES / "PK611-fail.email.html"
    assert invoke("lint", str(warn)).exit_code == 0
    assert invoke("lint", "--strict", str(warn)).exit_code == 1


def test_cli_lint_unreadable_exit_2(invoke, tmp_path):
    res = invoke("lint", str(tmp_path / "missing.html"))
    assert res.exit_code == 2 and "missing.html: no such file or directory" in res.output
    binary = tmp_path / "latin1.html"
    binary.write_bytes(b"<p>caf\xe9</p>")
    res = invoke("lint", str(binary))
    assert res.exit_code == 2 and "byte 0xe9 at offset 6 is not UTF-8" in res.output
    res = invoke("lint", str(tmp_path))
    assert res.exit_code == 2 and "is not a file" in res.output


def test_cli_lint_kind_option(invoke):
    page = RULE_FIXTURES / "PK603-fail.lp.html"
    assert invoke("lint", str(page)).exit_code == 1  # guessed: landing page
    assert invoke("lint", "--kind", "email-template", str(page)).exit_code == 1  # mktoText still needs a name
    assert "mktoForm" not in invoke("lint", "--kind", "email-template", str(page)).output


def test_cli_lint_formats(invoke):
    bad = str(RULE_FIXTURES / "PK608-fail.email.html")
    data = json.loads(invoke("lint", "--format", "json", bad).output)
    assert [(d["code"], d["file"], d["line"], d["severity"]) for d in data] == [("PK608", bad, 3, "error")]
    gh = invoke("lint", "--format", "github", bad).output
    assert gh.startswith(f"::error file={bad},line=3,title=PK608 list-missing-values::")
    junit = invoke("lint", "--format", "junit", bad, str(CORPUS[0])).output
    assert 'tests="2" failures="1"' in junit and "PK608" in junit


def test_lint_subprocess():
    exe = shutil.which("programkit")
    cmd = [exe] if exe else [sys.executable, "-m", "programkit"]
    bad = str(RULE_FIXTURES / "PK615-fail.email.html")
    proc = subprocess.run(cmd + ["lint", "--format", "json", bad, str(CORPUS[1])], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert [(d["code"], d["line"]) for d in json.loads(proc.stdout)] == [("PK615", 7)]
    clean = subprocess.run(cmd + ["lint"] + [str(p) for p in CORPUS], capture_output=True, text=True, timeout=60)
    assert clean.returncode == 0, clean.stdout


def test_email_sections_are_matched_against_the_parsed_template(sample_copy):
    """PK208 reads the template as lint parses it: unquoted attributes are still the section 'body'."""
    _edit_template(sample_copy, '<div class="mktoText" id="body" mktoName="Body">', "<div class=mktoText id=body mktoName=Body>")
    assert validate_path(sample_copy).findings == []
    _edit_template(sample_copy, "<div class=mktoText id=body mktoName=Body>", '<div class="mktoText" id="main" mktoName="Body">')
    got = [(f.code, f.file, f.pointer) for f in validate_path(sample_copy).findings]
    assert got == [("PK208", "emails/01-email-alert-mql.json", "/sections/body")]
