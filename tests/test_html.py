"""HTML reports without a browser: content, escaping, self-containment, the CLI options and file writing.

What a browser does with them (no network, no script from a bundle, what is visible) is in
test_html_browser.py.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import pytest
from lxml import html as lxml_html

from marketo_support import cli_env, fake, marketo_env  # noqa: F401
from html_support import (EXAMPLES, HOSTILE_NAME, SAMPLE_NAMES, SAMPLES, changed_copy, cli_ok, hostile_copy,
                          workspace)
from programkit.html import content_security_policy, render_inspection, render_plan, render_validation
from programkit.html.preview import PLACEHOLDER_IMAGE, offline, render_email
from programkit.plan import plan_path
from programkit.validate import validate_path
from programkit.workspaces import open_target

OLM = SAMPLES / "op-lead-management"


def doc(text: str) -> lxml_html.HtmlElement:
    return lxml_html.document_fromstring(text)


def plan_report(bundle: Path, target: Path, **kw) -> str:
    ws = open_target(str(target), "Default", create=False)
    try:
        plan, loaded = plan_path(str(bundle), ws, keep_bytes=False, **kw)
        return render_plan(plan, loaded, ws)
    finally:
        ws.close()


def assert_self_contained(text: str) -> None:
    """Nothing in the top document can fetch: no external src/href, no stylesheet links, one inline script
    whose hash the CSP names, and a CSP that allows no network."""
    root = doc(text)
    csp = root.xpath('//meta[@http-equiv="Content-Security-Policy"]/@content')
    assert csp == [content_security_policy()]
    assert "default-src 'none'" in csp[0] and "connect-src" not in csp[0]
    scripts = root.xpath("//script")
    assert len(scripts) == 1 and scripts[0].get("src") is None
    digest = base64.b64encode(hashlib.sha256(scripts[0].text.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp[0]
    assert not root.xpath("//link") and not root.xpath("//base") and not root.xpath("//object|//embed")
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for attr in ("src", "href", "srcset", "poster", "action", "background"):
            value = el.get(attr)
            if value is not None:
                assert value.startswith(("#", "data:")), (el.tag, attr, value)
    for frame in root.xpath("//iframe"):
        assert frame.get("sandbox") == "" and frame.get("src") is None and frame.get("srcdoc") is not None


# --- plan ---------------------------------------------------------------------------------------


def test_plan_report_shows_every_action_grouped_by_folder_with_rule_and_reason(tmp_path: Path) -> None:
    target = workspace(tmp_path / "w.db")
    text = plan_report(OLM, target)
    root = doc(text)
    rows = root.xpath('//tr[contains(@class, "action")]')
    assert [(r.get("data-action"), r.xpath("string(td[2])"), r.xpath("string(td[3])").strip()) for r in rows] == [
        ("create", "program", "OP-Lead Management"), ("create", "folder", "Campaigns"),
        ("create", "folder", "Email Alert"), ("create", "token", "MQL Score Threshold"),
        ("create", "token", "MQL Follow-up SLA Hours"), ("create", "token", "New Person Status"),
        ("create", "tag", "Program Purpose: Lead Management"),
        ("create", "smartCampaign", "01 - Sync New People to CRM"),
        ("create", "smartCampaign", "02 - Marketing Qualified"), ("create", "leadLifecycle", "Lead Lifecycle"),
        ("create", "email", "01 - Email - ALERT - MQL"), ("create", "emailTemplate", "Quick Start Email Template")]
    groups = [h.text.strip() for h in root.xpath('//section[@aria-labelledby="actions"]//h3')]
    assert groups == ["Program, folders, tokens and tags", "Campaigns", "Email Alert", "Design Studio"]
    tag = rows[6]
    assert tag.xpath("string(td[4])").strip() == "programTags=create (bundle)"
    assert "Plan: 12 create." in root.text_content()
    assert "The plan can be applied: 12 changes" in " ".join(root.text_content().split())
    assert_self_contained(text)


def test_plan_report_diffs_updates_side_by_side_with_rendered_previews(tmp_path: Path) -> None:
    target = workspace(tmp_path / "w.db")
    cli_ok("import", str(OLM), "--yes", "--target", str(target))
    newer = changed_copy(tmp_path / "olm-1.1")
    root = doc(plan_report(newer, target))
    updates = {r.xpath("string(td[3])").strip(): r for r in root.xpath('//tr[@data-action="update"]')}
    assert set(updates) == {"OP-Lead Management", "01 - Email - ALERT - MQL", "Quick Start Email Template"}
    diffs = root.xpath('//tr[contains(@class, "diff-row")]')
    assert len(diffs) == 2  # the email and the template; the program's update is its version
    email_diff = diffs[0]
    removed = " ".join(email_diff.xpath('.//td[contains(@class, "chg-old") or contains(@class, "del")]/text()'))
    added = " ".join(email_diff.xpath('.//td[contains(@class, "chg-new") or contains(@class, "ins")]/text()'))
    assert '"subject": "MQL alert:' in removed and '"subject": "NEW MQL: {{lead.Last Name}}"' in added
    frames = email_diff.xpath(".//iframe")
    assert [f.get("title") for f in frames] == ["Rendered: in the workspace now", "Rendered: in the bundle"]
    old, new = (f.get("srcdoc") for f in frames)
    # each side is built on its own template: the workspace's blue, the bundle's red
    assert "#1473e6" in old and "#c01020" not in old and "#c01020" in new
    assert "Changed body." in new and "Changed body." not in old
    assert "Please follow up within 24 hours." in old  # {{my.MQL Follow-up SLA Hours}} filled in
    template_diff = diffs[1]
    assert "#c01020" in template_diff.xpath("string(.//td[contains(@class, 'chg-new')])")


def test_plan_report_names_other_programs_a_replaced_template_changes(tmp_path: Path) -> None:
    target = workspace(tmp_path / "w.db")
    cli_ok("import", str(OLM), "--yes", "--as", "Other Program", "--target", str(target))
    newer = changed_copy(tmp_path / "olm-1.1")
    root = doc(plan_report(newer, target, flags={"emailTemplates": "replace"}))
    (row,) = root.xpath('//tr[@data-action="replace"]')
    text = " ".join(row.text_content().split())
    assert "emailTemplates=replace (flag)" in text
    assert "Also changes 1 other program: Other Program" in text


def test_plan_report_lists_every_preflight_problem_with_hint_and_code_docs(tmp_path: Path) -> None:
    target = tmp_path / "w.db"
    cli_ok("workspace", "init", "--target", str(target))  # no CRM: the sample needs salesforce
    root = doc(plan_report(OLM, target))
    problems = root.xpath('//section[@aria-labelledby="problems"]//article')
    assert problems and all(p.get("class") == "finding error" for p in problems)
    codes = [p.xpath("string(.//a/code)") for p in problems]
    assert "PK507" in codes
    pk507 = problems[codes.index("PK507")]
    assert pk507.xpath("string(.//p[@class='hint'])").startswith("Connect")
    assert pk507.xpath(".//a/@href") == ["#code-pk507"]
    assert root.xpath('//dt[@id="code-pk507"]//code/text()')[0] == "PK507"
    assert "stop" in root.xpath("string(//div[contains(@class, 'banner')])")


# --- escaping and self-containment --------------------------------------------------------------


def test_bundle_strings_are_escaped_and_bundle_html_only_in_sandboxed_srcdoc(tmp_path: Path) -> None:
    target = workspace(tmp_path / "w.db")
    bundle = hostile_copy(tmp_path / "hostile")
    for text in (plan_report(bundle, target), render_inspection(bundle)):
        assert_self_contained(text)
        root = doc(text)
        assert not root.xpath("//img[@onerror]") and len(root.xpath("//script")) == 1
        assert HOSTILE_NAME in root.text_content()  # shown as text, never as markup
    inspect_root = doc(render_inspection(bundle))
    (frame,) = [f for f in inspect_root.xpath("//iframe") if "ALERT - MQL" in f.get("title")]
    srcdoc = frame.get("srcdoc")
    assert "window.pwned = 1" in srcdoc  # left in: the sandbox, not a filter, is what stops it
    assert "127.0.0.1:9" not in srcdoc.replace("external image: http://127.0.0.1:9/beacon/img.png", "")
    assert PLACEHOLDER_IMAGE in srcdoc


def test_offline_takes_out_everything_that_would_fetch() -> None:
    page = offline('<html><head><link rel="stylesheet" href="https://x.example/a.css"><base href="https://x.example/">'
                   '<meta http-equiv="refresh" content="0;url=https://x.example/"><style>@import "https://x.example/b.css";'
                   ' body{background:url(https://x.example/c.png)} i{background:url(data:image/png;base64,AA==)}</style>'
                   '</head><body><img src="https://x.example/d.png" srcset="https://x.example/e.png 2x">'
                   '<img src="data:image/gif;base64,R0lGOD=="><video poster="https://x.example/f.png"></video>'
                   '<a href="https://x.example/page">link</a><form action="https://x.example/post"></form>'
                   '<p style="background-image:url(\'https://x.example/g.png\')">p</p></body></html>')
    root = doc(page)
    fetching = [v for el in root.iter() if isinstance(el.tag, str)
                for k, v in el.attrib.items() if k in ("src", "srcset", "href", "poster", "action")
                and "x.example" in v]
    assert fetching == ["https://x.example/page"]  # the link: nothing is fetched until it is clicked
    assert "x.example" not in root.xpath("string(//style)") and "data:image/png;base64,AA==" in page
    assert root.xpath("//img/@src") == [PLACEHOLDER_IMAGE, "data:image/gif;base64,R0lGOD=="]
    assert root.xpath("//img/@title") == ["external image: https://x.example/d.png"]
    assert not root.xpath("//link|//base|//meta[@http-equiv]|//video")
    assert "x.example" not in root.xpath("string(//p/@style)")


def test_render_email_fills_sections_variables_modules_and_tokens() -> None:
    template = ('<html><head><meta class="mktoString" id="footer" default="Default footer"></head><body>'
                '<div class="mktoText" id="body"><p>placeholder</p></div>'
                '<table><tr class="mktoModule" id="kept"><td>kept</td></tr><tr class="mktoModule" id="dropped">'
                '<td>dropped</td></tr></table><p>${footer}</p></body></html>')
    out = render_email({"sections": {"body": "<p>Hi {{lead.First Name:default=there}}, {{my.Limit}}</p>"},
                        "modules": ["kept"], "variables": {}}, template, {"limit": 7})
    text = doc(out).text_content()
    assert "Hi there, 7" in text and "placeholder" not in text
    assert "kept" in text and "dropped" not in text and "Default footer" in text


# --- the other reports --------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_inspect_report_shows_tree_dependencies_campaigns_and_every_lifecycle_state(name: str) -> None:
    bundle = SAMPLES / name
    text = render_inspection(bundle)
    assert_self_contained(text)
    root = doc(text)
    from programkit.load import load_bundle

    loaded = load_bundle(bundle).bundle
    tree = root.xpath("string(//ul[@class='tree'])")
    for a in loaded.assets:
        assert a.name in tree
    campaigns = [a.name for a in loaded.assets if a.kind == "smartCampaign"]
    assert [h.text.strip() for h in root.xpath('//section[@aria-labelledby="campaigns"]//h3')] == campaigns
    lifecycles = [a.content for a in loaded.assets if a.kind == "leadLifecycle"]  # the event program has none
    states = [s["name"] for s in lifecycles[0]["states"]] if lifecycles else []
    drawn = root.xpath("//figure//g[@class='state']/@data-state")
    assert sorted(s for s in drawn if s != "(any state)") == sorted(states)
    assert root.xpath("//tr[@class='state-row']/@data-state") == states
    # "used by" on every node of the dependency table
    for row in root.xpath('//section[@aria-labelledby="deps"]//tbody/tr'):
        assert row.xpath("string(td[3])").strip()


def test_inspect_report_flow_steps_and_triggers_in_marketo_wording() -> None:
    root = doc(render_inspection(OLM))
    (card,) = [c for c in root.xpath("//article[@class='card']") if "02 - Marketing Qualified" in c.xpath("string(h3)")]
    text = " ".join(card.text_content().split())
    assert "Score is Changed" in text and "New Score at least {{my.MQL Score Threshold}}" in text
    assert "Person Score at least {{my.MQL Score Threshold}}" in text and "Use all filters" in text
    assert [li.xpath("string(strong)") for li in card.xpath(".//h4[.='Flow']/following-sibling::ol/li")] == [
        "Change Data Value", "Sync Person to SFDC", "Send Alert", "Change Program Status"]


def test_validate_report_groups_findings_by_file_with_source_lines(sample_copy: Path) -> None:
    from bundle_edits import EMAIL, edit_asset

    edit_asset(sample_copy, EMAIL, lambda d: d["sections"].update(body="{{my.MQL Treshold}}"))
    result = validate_path(sample_copy)
    text = render_validation([result])
    assert_self_contained(text)
    root = doc(text)
    (section,) = [s for s in root.xpath("//section/section") if s.xpath("string(h3)").startswith(
        os.path.normpath(os.path.join(str(sample_copy), EMAIL)))]
    (finding,) = section.xpath(".//article")
    assert finding.xpath("string(.//a/code)") == "PK209"
    here = finding.xpath(".//pre[@class='source']/span[@class='here']")
    assert len(here) == 1 and "{{my.MQL Treshold}}" in here[0].text_content()
    line = next(i for i, t in enumerate((sample_copy / EMAIL).read_text().splitlines(), 1) if "Treshold" in t)
    assert here[0].xpath("string(span[@class='ln'])") == str(line)
    assert root.xpath('//dt[@id="code-pk209"]')


def test_simulation_report_has_funnel_time_in_stage_volume_and_campaigns(tmp_path: Path) -> None:
    out = tmp_path / "sim.html"
    cli_ok("simulate", str(SAMPLES / "partner-center-referrals"), "--events", str(EXAMPLES / "referrals.jsonl"),
           "--until", "2026-05-01T00:00:00Z", "--html", str(out))
    text = out.read_text(encoding="utf-8")
    assert_self_contained(text)
    root = doc(text)
    funnel = [(r.xpath("string(td[1])"), r.xpath("string(td[2])"), r.xpath("string(td[3])"))
              for r in root.xpath('//section[@aria-labelledby="funnel"]//tbody/tr')]
    assert funnel == [("Received", "3", "100.0%"), ("Accepted", "1", "33.3%"), ("Won", "1", "100.0%")]
    times = [" ".join(f.xpath("string(figcaption)").split()) for f in
             root.xpath('//section[@aria-labelledby="time"]//figure')]
    # Received: 24 h 5 min (ref-1001), 47 h 1 min (ref-1002), 14 days (ref-1003, expired); Accepted → Won: 48 days
    assert times[:2] == ["Received: 3 stays, median 47.0 h, longest 14.0 d", "Accepted: 1 stay, median 48.0 d, longest 48.0 d"]
    assert root.xpath('//section[@aria-labelledby="volume"]//svg')
    assert [r.xpath("string(td[1])") for r in root.xpath('//section[@aria-labelledby="campaigns"]//tbody/tr')] == [
        "01 - Alert on Hot Referral", "02 - Alert on Expired Referral"]
    assert len(root.xpath('//section[@aria-labelledby="rejected"]//tbody/tr')) == 2


# --- CLI: writing the file ------------------------------------------------------------------------


def test_html_file_is_refused_if_it_exists_and_replaced_with_force(tmp_path: Path) -> None:
    target = workspace(tmp_path / "w.db")
    out = tmp_path / "plan.html"
    out.write_text("mine", encoding="utf-8")
    result = cli_ok("plan", str(OLM), "--target", str(target), "--html", str(out), codes=(2,))
    assert "PK960" in result.output and out.read_text() == "mine"
    cli_ok("plan", str(OLM), "--target", str(target), "--html", str(out), "--force")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.html", "w.db"]  # no temporary file left


def test_import_with_a_refused_html_file_writes_nothing_to_the_workspace(tmp_path: Path) -> None:
    target = workspace(tmp_path / "w.db")
    out = tmp_path / "import.html"
    out.write_text("mine", encoding="utf-8")
    cli_ok("import", str(OLM), "--yes", "--target", str(target), "--html", str(out), codes=(2,))
    assert cli_ok("history", "--target", str(target)).output.strip() == "No imports yet."
    cli_ok("import", str(OLM), "--yes", "--target", str(target), "--html", str(tmp_path / "new.html"))
    assert "12 create" in cli_ok("history", "--target", str(target)).output
    assert len(doc((tmp_path / "new.html").read_text()).xpath('//tr[@data-action="create"]')) == 12


def test_inspect_and_validate_html_from_the_cli(tmp_path: Path) -> None:
    archive = tmp_path / "olm.zip"
    cli_ok("pack", str(OLM), "-o", str(archive))
    cli_ok("inspect", str(archive), "--html", str(tmp_path / "inspect.html"))
    assert "op-lead-management" in doc((tmp_path / "inspect.html").read_text()).xpath("string(//h1)")
    stdout = cli_ok("validate", str(OLM), "--format", "html").output
    assert stdout.startswith("<!DOCTYPE html>") and "ok" in doc(stdout).xpath("string(//div[@role='status'])")
    cli_ok("validate", str(OLM), "--format", "html", "-o", str(tmp_path / "v.html"))
    refused = cli_ok("validate", str(OLM), "--format", "html", "-o", str(tmp_path / "v.html"), codes=(2,))
    assert "PK960" in refused.output
    missing = cli_ok("simulate", str(OLM), "--html", str(tmp_path / "no" / "s.html"), codes=(2,))
    assert "PK413" in missing.output


def test_inspect_html_loads_and_validates_the_bundle_once(tmp_path: Path, monkeypatch) -> None:
    """The report and the printed text come from one load (a registry reference is fetched once): the archive
    is read and validated once, not once for the text and twice more for the report."""
    import programkit.inspect
    import programkit.load
    import programkit.validate

    archive = tmp_path / "olm.zip"
    cli_ok("pack", str(OLM), "-o", str(archive))
    loads: list[str] = []
    validations: list[object] = []
    real_load, real_validate = programkit.load.load_bundle, programkit.validate.validate_loaded

    def counting_load(path, *args, **kwargs):
        loads.append(str(path))
        return real_load(path, *args, **kwargs)

    def counting_validate(loaded, *args, **kwargs):
        validations.append(loaded)
        return real_validate(loaded, *args, **kwargs)

    for module in (programkit.load, programkit.inspect):
        monkeypatch.setattr(module, "load_bundle", counting_load)
    monkeypatch.setattr(programkit.validate, "validate_loaded", counting_validate)
    result = cli_ok("inspect", str(archive), "--html", str(tmp_path / "inspect.html"))
    assert loads == [str(archive)] and len(validations) == 1
    assert result.stdout.startswith("op-lead-management 1.0.0  (archive: ")
    page = doc((tmp_path / "inspect.html").read_text())
    assert "op-lead-management" in page.xpath("string(//h1)")


def test_validate_html_of_unreadable_paths_and_an_unplannable_bundle(tmp_path: Path) -> None:
    result = cli_ok("validate", str(tmp_path / "nothing-here"), "--format", "html", codes=(2,))
    root = doc(result.output[result.output.index("<!DOCTYPE"):])
    (article,) = root.xpath('//section[@aria-labelledby="unreadable"]//article')
    assert "nothing-here" in article.text_content() and "no such file or directory" in article.text_content()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "bundle.json").write_text("{not json", encoding="utf-8")
    target = workspace(tmp_path / "w.db")
    out = tmp_path / "plan.html"
    cli_ok("plan", str(broken), "--target", str(target), "--html", str(out), codes=(1,))
    root = doc(out.read_text(encoding="utf-8"))
    codes = [c.text for c in root.xpath('//section[@aria-labelledby="problems"]//article//a/code')]
    assert "PK101" in codes and "PK516" in codes
    assert "(unreadable bundle)" in root.xpath("string(//h1)")


def test_plan_report_for_a_marketo_target_shows_the_call_estimate(fake, cli_env, invoke, tmp_path: Path) -> None:
    out = tmp_path / "plan.html"
    result = invoke("plan", str(OLM), "--target", fake.url, "--html", str(out))
    assert result.exit_code == 0, result.output
    cost_line = next(line for line in result.output.splitlines() if line.startswith("Marketo API:"))
    root = doc(out.read_text(encoding="utf-8"))
    text = " ".join(root.xpath("string(//section[@aria-labelledby='cost'])").split())
    # the same figures the terminal prints: calls spent planning, calls applying takes, share of the quota
    calls = cost_line.split("takes about ")[1].split()[0]
    planned = cost_line.split("Marketo API: ")[1].split()[0]
    assert f"Planning took {planned} calls" in text and f"applying takes about {calls} more" in text
    assert "of the daily quota of 50,000" in text
    # what a replaced template touches elsewhere is not looked up through the API (a call per email)
    assert root.xpath("//section[@aria-labelledby='actions']")


def test_keep_both_copy_and_replaced_image_are_compared_with_the_workspace(tmp_path: Path) -> None:
    import base64 as b64

    from bundle_edits import edit_manifest
    from programkit.canonical import refresh_digests

    red = b64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")
    blue = b64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNgYPgPAAEDAQAIicLsAAAAAElFTkSuQmCC")
    target = workspace(tmp_path / "w.db")
    first = tmp_path / "first"
    import shutil

    shutil.copytree(OLM, first)
    (first / "images").mkdir()
    (first / "images" / "logo.png").write_bytes(red)
    edit_manifest(first, lambda m: m["assets"].append({"kind": "image", "name": "logo.png", "path": "images/logo.png",
                                                       "sha256": ""}))
    refresh_digests(first)
    cli_ok("import", str(first), "--yes", "--as", "Other Program", "--target", str(target))
    newer = changed_copy(tmp_path / "newer")
    (newer / "images").mkdir()
    (newer / "images" / "logo.png").write_bytes(blue)
    edit_manifest(newer, lambda m: m["assets"].append({"kind": "image", "name": "logo.png", "path": "images/logo.png",
                                                       "sha256": ""}))
    refresh_digests(newer)
    root = doc(plan_report(newer, target, flags={"images": "replace"}))
    (copy,) = root.xpath('//tr[@data-action="rename"]')
    assert " ".join(copy.xpath("string(td[3])").split()) == "Quick Start Email Template → Quick Start Email Template - 1"
    template_diff = copy.getnext()
    assert "#c01020" in template_diff.xpath("string(.//td[contains(@class, 'chg-new')])")
    assert "#1473e6" in template_diff.xpath("string(.//td[contains(@class, 'chg-old')])")
    (image,) = root.xpath('//tr[@data-action="replace"]')
    assert "images=replace (flag)" in image.text_content()
    old, new = image.getnext().xpath(".//img/@src")
    assert old == "data:image/png;base64," + b64.b64encode(red).decode()
    assert new == "data:image/png;base64," + b64.b64encode(blue).decode()


from hypothesis import given, settings, strategies as st  # noqa: E402

_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40) | st.sampled_from(
    ["<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "</textarea></td></table>", "{{ 7*7 }}",
     "&amp;&lt;", "<!--", "]]>", "javascript:alert(1)"])


@settings(max_examples=60, deadline=None)
@given(name=_TEXT, reason=_TEXT, kind=st.sampled_from(["email", "emailTemplate", "smartCampaign", "image"]))
def test_any_name_is_shown_as_its_text_and_never_becomes_markup(name: str, reason: str, kind: str) -> None:
    from programkit.findings import make
    from programkit.plan import Action, Plan
    from programkit.rules import Rules

    plan = Plan({"name": name, "version": "1.0.0", "digest": "0" * 64, "manifest": {}}, {"name": name, "revision": "1"},
                {"name": name, "as": None, "action": "create"}, Rules(),
                actions=[Action(kind, name, "create", reason=reason, folder=name)],
                problems=[make("PK516", name, file=name)])
    root = doc(render_plan(plan))
    assert len(root.xpath("//script")) == 1 and not root.xpath("//img|//iframe|//textarea")
    (row,) = root.xpath('//tr[contains(@class, "action")]')
    assert row.xpath("string(td[3])") == name
    assert row.xpath("string(td[5])").strip() == reason.strip()
    assert root.xpath("string(//article//p[@class='message'])") == name


def test_lifecycle_transitions_with_their_conditions_and_timers() -> None:
    root = doc(render_inspection(SAMPLES / "hubspot-lead-settings"))
    rows = [" | ".join(" ".join(td.text_content().split()) for td in tr.xpath("td"))
            for tr in root.xpath("//h4[.='Transitions and timers']/following-sibling::table[1]/tbody/tr")]
    assert "Connected | qualify | Qualified | requires Deal Name (when requireDealOnQualification is on); " \
           "optional Deal Amount" in rows
    assert "(any state) | disqualify | Disqualified | a reason (Disqualification Reason) from 'Disqualification " \
           "reasons' when requireDisqualificationReason is on" in rows
    referrals = doc(render_inspection(SAMPLES / "partner-center-referrals"))
    timer = [[td.text_content().strip() for td in tr.xpath("td")]
             for tr in referrals.xpath("//tr[td[2][contains(., 'after 14 days')]]")]
    assert timer == [["Received", "⏱ after 14 days", "Expired", "no answer in 14 days"]]
    dashed = referrals.xpath("//figure//path[contains(@class, 'timer')]")
    assert len(dashed) == 1 and dashed[0].get("stroke-dasharray")


def test_plan_report_shows_blocked_writes_as_blocked(tmp_path: Path) -> None:
    import shutil

    from bundle_edits import edit_manifest

    target = workspace(tmp_path / "w.db")
    other = tmp_path / "other"
    shutil.copytree(OLM, other)
    edit_manifest(other, lambda m: m.update(name="someone-else"))
    cli_ok("import", str(other), "--yes", "--target", str(target))  # a program of the same name, another bundle
    root = doc(plan_report(OLM, target))
    blocked = root.xpath('//tr[contains(@class, "blocked")]')
    # what `--as` would create: folders, tokens, campaigns, email, lifecycle (the tag and template are reused)
    assert [r.xpath("string(td[3])").strip() for r in blocked] == [
        "Campaigns", "Email Alert", "MQL Score Threshold", "MQL Follow-up SLA Hours", "New Person Status",
        "01 - Sync New People to CRM", "02 - Marketing Qualified", "Lead Lifecycle", "01 - Email - ALERT - MQL"]  # by folder
    assert all("(blocked by PK510)" in " ".join(r.text_content().split()) for r in blocked)
    banner = " ".join(root.xpath("string(//div[contains(@class, 'banner warn')])").split())
    assert banner.startswith("9 writes blocked by PK510") and "--as NAME" in banner


def test_inspect_report_of_a_broken_bundle_leads_with_its_errors(sample_copy: Path, tmp_path: Path) -> None:
    from bundle_edits import CAMPAIGN_02, edit_asset

    edit_asset(sample_copy, CAMPAIGN_02, lambda d: d["flow"][2].update(email="No Such Email"))
    out = tmp_path / "inspect.html"
    cli_ok("inspect", str(sample_copy), "--html", str(out), codes=(1,))
    root = doc(out.read_text(encoding="utf-8"))
    banner = root.xpath("//main//div[contains(@class, 'banner bad')]")[0]
    assert "This bundle has 1 error" in banner.text_content() and banner.xpath(".//a/@href") == ["#findings"]
    assert [a.xpath("string(.//a/code)") for a in root.xpath('//section[@aria-labelledby="findings"]//article')] == [
        "PK206"]
    (missing,) = [r for r in root.xpath('//section[@aria-labelledby="deps"]//tbody/tr')
                  if r.xpath("string(td[1]/a)") == "No Such Email"]
    assert "(not in the bundle)" in missing.xpath("string(td[1])")
    assert missing.xpath("string(td[3])").strip() == "02 - Marketing Qualified"  # used by the campaign
