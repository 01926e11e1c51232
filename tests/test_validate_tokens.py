"""validate: malformed tokens (PK212) and unknown token namespaces (PK213), at file:line:col."""

from __future__ import annotations

from bundle_edits import CAMPAIGN_02, EMAIL, TEMPLATE, col_of, edit_asset, line_of
from programkit.report import render_text
from programkit.validate import token_syntax, validate_path


def _found(result):
    return [(f.code, f.severity.value, f.file, f.line, f.column, f.message) for f in result.findings]


def test_malformed_tokens_in_an_email_are_errors_at_their_string(sample_copy):
    def edit(d):
        d["subject"] = "MQL: {{my .MQL Score Threshold}}"
        d["sections"]["headline"] = "<h1>{{lead.Person Score}</h1>"
        d["text"] = "Hi {{compnay.Company Name:default=x}}, {{Company.Company Name}} {{SalesPerson.First Name}}"

    edit_asset(sample_copy, EMAIL, edit)
    result = validate_path(sample_copy)
    email = sample_copy / EMAIL
    subject, headline, text = (line_of(email, '"subject"'), line_of(email, '"headline"'), line_of(email, '"text"'))
    assert _found(result) == [
        ("PK212", "error", EMAIL, headline, col_of(email, headline, '"headline": '),
         "/sections/headline: {{lead.Person Score} is not closed with '}}'"),
        ("PK212", "error", EMAIL, subject, col_of(email, subject, '"subject": '),
         "/subject: {{my .MQL Score Threshold}}: a space between 'my' and '.'; write {{my.…}}"),
        ("PK213", "warning", EMAIL, text, col_of(email, text, '"text": '),
         "/text: {{compnay.Company Name:default=x}}: 'compnay' is not a Marketo token namespace; "
         "did you mean 'company'?"),
    ]
    assert result.failed()
    out = render_text([result])
    assert f"{email}:{subject}:{col_of(email, subject, chr(34) + 'subject' + chr(34) + ': ')}: error PK212" in out
    assert "    hint: Write a token as {{namespace.Name}}" in out


def test_malformed_token_in_a_campaign(sample_copy):
    edit_asset(sample_copy, CAMPAIGN_02, lambda d: d["flow"][0].update(value="{{my.MQL Score Threshold"))
    [f] = validate_path(sample_copy).findings
    assert (f.code, f.file, f.pointer) == ("PK212", CAMPAIGN_02, "/flow/0/value")
    assert f.message == "/flow/0/value: {{my.MQL Score Threshold is not closed with '}}'"
    assert f.line == line_of(sample_copy / CAMPAIGN_02, "{{my.MQL Score Threshold")


def test_html_tokens_have_line_and_exact_column(sample_copy):
    path = sample_copy / TEMPLATE
    text = path.read_text(encoding="utf-8").replace("</body>", "<p>{{ system .date}}</p></body>", 1)
    path.write_text(text, encoding="utf-8")
    from programkit.canonical import refresh_digests

    refresh_digests(sample_copy)
    [f] = validate_path(sample_copy).findings
    line = line_of(path, "{{ system .date}}")
    assert (f.code, f.file, f.line, f.column) == (
        "PK212", TEMPLATE, line, text.splitlines()[line - 1].index("{{ system .date}}") + 1)


def test_well_formed_tokens_of_every_documented_namespace_pass():
    text = ("{{my.A}} {{lead.First Name:default=there}} {{company.Company Name}} {{campaign.name}} {{program.name}} "
            "{{member.Webinar URL}} {{trigger.Name}} {{system.unsubscribeLink}} {{Social.Email Link}} "
            "{{SalesPerson.First Name}} {{sp_Send_Alert_Info}} {{ lead.City }} a {{ b }} c {{}} {not a token}")
    assert list(token_syntax(text)) == []


def test_other_malformed_shapes():
    assert list(token_syntax("{{lead.City:deflt=x}}")) == [
        (0, "PK212", "{{lead.City:deflt=x}}: not a token (after the name only ':default=value' may follow)")]
    assert list(token_syntax("{{lead.City {{lead.Country}}")) == [(0, "PK212", "{{lead.City is not closed with '}}'")]
    long = "{{lead." + "x" * 100
    assert list(token_syntax(long)) == [(0, "PK212", "{{lead." + "x" * 53 + "… is not closed with '}}'")]
