"""Landing pages, forms, static lists and reusable smart lists, through every stage, with the event-program sample."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bundle_edits import edit_asset, line_of
from conftest import SAMPLES
from import_helpers import action, import_into, manifest, plan_for, write_manifest
from programkit.archive import pack_dir
from programkit.export import export_to
from programkit.inventory import load_inventory
from programkit.validate import validate_path
from programkit.workspaces.sqlite import init_workspace

EVENT = SAMPLES / "event-program"
PROGRAM = "EV-Customer Event"
FORM = "forms/event-registration-form.json"
PAGE = "landing-pages/event-registration-page.json"
THANKS = "landing-pages/event-thank-you-page.json"
LP_TEMPLATE = "design-studio/event-landing-page-template.html"
LP_TEMPLATE_NAME = "Event Landing Page Template"
INVITATION = "emails/01-invitation.json"
REGISTERED = "campaigns/02-registered.json"
INVITEES = "lists/invitees.json"
SMART_LIST = "smart-lists/invitees-not-yet-registered.json"


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def event(tmp_path: Path) -> Path:
    dest = tmp_path / "event-program"
    shutil.copytree(EVENT, dest)
    return dest


def _found(bundle: Path) -> list[tuple[str, str | None, int | None, str]]:
    return [(f.code, f.file, f.line, f.message) for f in validate_path(bundle).findings]


# --- the sample and its starter ------------------------------------------------------------------------


def test_the_sample_validates_clean_and_is_what_new_writes(tmp_path, invoke):
    assert _found(EVENT) == []
    res = invoke("new", "event-program", str(tmp_path / "ev"))
    assert res.exit_code == 0, res.output
    assert _files(tmp_path / "ev") == _files(EVENT)


def test_the_starter_takes_the_clients_names(tmp_path, invoke):
    res = invoke("new", "event-program", str(tmp_path / "ev"), "--set", "programName=EV-Partner Summit",
                 "--set", "pageUrl=summit", "--set", "eventName=Partner Summit")
    assert res.exit_code == 0, res.output
    assert _found(tmp_path / "ev") == []
    page = json.loads((tmp_path / "ev" / PAGE).read_text())
    assert page["url"] == "summit-registration"
    email = json.loads((tmp_path / "ev" / INVITATION).read_text())
    assert 'href="/summit-registration.html"' in email["sections"]["callToAction"]
    assert manifest(tmp_path / "ev")["program"]["name"] == "EV-Partner Summit"


def test_import_into_a_fresh_workspace_and_export_back_byte_identical(tmp_path):
    ws = init_workspace(tmp_path / "pk.db")
    plan, record = import_into(EVENT, ws)
    assert plan.summary["create"] == 26 and not plan.problems
    kinds = sorted(a.kind for a in ws.program_assets(ws.program(PROGRAM).id))
    assert kinds.count("landingPage") == 2 and kinds.count("form") == 1
    assert kinds.count("staticList") == 2 and kinds.count("smartList") == 1
    out = tmp_path / "out"
    export_to(ws, PROGRAM, out)
    assert _files(out) == _files(EVENT)
    assert pack_dir(out, tmp_path / "a.zip") == pack_dir(EVENT, tmp_path / "b.zip")
    # and a second import of the same bundle changes nothing
    again, _ = plan_for(EVENT, ws)
    assert again.nothing_to_do


def test_cli_round_trip_through_a_real_subprocess(tmp_path):
    import subprocess
    import sys

    db, out = tmp_path / "pk.db", tmp_path / "out.zip"
    run = lambda *a: subprocess.run([sys.executable, "-m", "programkit", *a], capture_output=True, text=True,  # noqa: E731
                                    timeout=300, cwd=tmp_path)
    assert run("workspace", "init", "--target", str(db)).returncode == 0
    done = run("import", str(EVENT), "--target", str(db), "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "create  landingPage" in done.stdout and "create  form" in done.stdout
    done = run("export", PROGRAM, "--target", str(db), "-o", str(out))
    assert done.returncode == 0, done.stderr
    pack_dir(EVENT, tmp_path / "ref.zip")
    assert out.read_bytes() == (tmp_path / "ref.zip").read_bytes()


# --- broken and hostile pages and forms: a finding at file:line with code and hint --------------------


BROKEN: dict[str, tuple[str, Callable[[Any], None], str, str]] = {
    # name: (file, edit, code, text on the expected line)
    "unknown form field": (FORM, lambda d: d["fields"].append({"field": "Shoe Size"}), "PK210", '"Shoe Size"'),
    "form on a page without a form slot": (
        PAGE, lambda d: d["sections"].__setitem__("body", {"type": "form", "value": "Event Registration Form"}),
        "PK219", '"body"'),
    "page whose template is missing": (THANKS, lambda d: d.__setitem__("template", "Gone"), "PK214", '"Gone"'),
    "thank-you page outside the bundle": (
        FORM, lambda d: d.__setitem__("thankYou", {"type": "landingPage", "page": "Elsewhere"}), "PK220", '"Elsewhere"'),
    "form not in the bundle": (
        PAGE, lambda d: d["sections"].__setitem__("form", {"type": "form", "value": "Other Form"}), "PK215",
        '"Other Form"'),
    "image not in the bundle": (
        PAGE, lambda d: d["sections"].__setitem__("hero", {"type": "image", "value": "hero.png"}), "PK218", '"hero"'),
    "snippet neither bundled nor required": (
        THANKS, lambda d: d["sections"].__setitem__("footer", {"type": "snippet", "value": "Legal"}), "PK217", '"Legal"'),
    "section the template does not have": (
        THANKS, lambda d: d["sections"].__setitem__("sidebar", {"type": "richText", "value": "x"}), "PK218",
        '"sidebar"'),
    "variable the template does not have": (
        THANKS, lambda d: d["variables"].__setitem__("bgColour", "red"), "PK218", '"bgColour"'),
    "duplicate form field": (FORM, lambda d: d["fields"].append({"field": "email address"}), "PK221",
                             '"email address"'),
    "select without values": (FORM, lambda d: d["fields"][5].pop("values"), "PK222", '"select"'),
    "visibility rule on a field not in the form": (
        FORM, lambda d: d["fields"][4].__setitem__("visibility", {"rules": [{"field": "Industry", "operator": "is"}]}),
        "PK223", '"Industry"'),
    "smart list with triggers": (
        SMART_LIST, lambda d: d["smartList"].__setitem__("triggers", [{"trigger": "Fills Out Form"}]), "PK224",
        '"triggers"'),
    "email link to a page the bundle lacks": (
        INVITATION, lambda d: d["sections"].__setitem__("callToAction", '<a href="/regsiter.html">x</a>'), "PK226",
        "regsiter"),
    "two pages with one url": (THANKS, lambda d: d.__setitem__("url", "customer-day-registration"), "PK227",
                               '"customer-day-registration"'),
    "page dynamic content by an unrequired segmentation": (
        THANKS, lambda d: d.__setitem__("dynamicContent", {"body": {"segmentation": "Region", "segments": {}}}),
        "PK228", '"Region"'),
    "editable element in page content": (
        THANKS, lambda d: d["sections"]["heading"].__setitem__("value", '<div class="mktoText" id="x">Hi</div>'),
        "PK618", "mktoText"),
    "undeclared variable in page content": (
        THANKS, lambda d: d["sections"]["heading"].__setitem__("value", "<h1>${nope}</h1>"), "PK610", "nope"),
    "static list members (never carried)": (INVITEES, lambda d: d.__setitem__("members", ["a@example.com"]), "PK103",
                                            '"members"'),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_page_or_form_is_a_finding_at_its_line(event, case):
    file, fn, code, needle = BROKEN[case]
    if case == "image not in the bundle":  # the template has no 'hero': give it one, so the image is the problem
        tpl = event / LP_TEMPLATE
        tpl.write_text(tpl.read_text().replace('<main>', '<main>\n    <div class="mktoImg" id="hero" mktoName="Hero"></div>'))
        code, needle = "PK216", '"hero.png"'
    edit_asset(event, file, fn)
    findings = validate_path(event).findings
    hits = [f for f in findings if f.code == code]
    assert len(hits) == 1, [(f.code, f.message) for f in findings]
    f = hits[0]
    assert (f.file, f.line) == (file, line_of(event / file, needle))
    assert f.hint and f.severity.value in ("error", "warning")
    assert [x.code for x in findings if x.severity.value == "error" and x.code != code] == []


def test_the_cli_reports_file_line_code_and_hint(event, invoke):
    edit_asset(event, FORM, lambda d: d["fields"].append({"field": "Shoe Size"}))
    res = invoke("validate", str(event))
    assert res.exit_code == 1
    line = line_of(event / FORM, '"Shoe Size"')
    assert f"{FORM}:{line}:" in res.output and "PK210" in res.output and "hint: Add the field to requires.fields" in res.output


def test_a_required_field_the_target_lacks_stops_the_import(event, tmp_path):
    edit_asset(event, FORM, lambda d: d["fields"].append({"field": "shoeSize", "label": "Shoe size"}))
    data = manifest(event)
    data["requires"] = {"fields": [{"apiName": "shoeSize", "displayName": "Shoe Size", "type": "string"}]}
    write_manifest(event, data)
    assert _found(event) == []
    ws = init_workspace(tmp_path / "pk.db")
    plan, _ = plan_for(event, ws)
    assert [(p.code, p.pointer) for p in plan.problems] == [("PK501", "/requires/fields/0")]


# --- campaign triggers and filters name forms, pages, lists in the bundle or the target -----------------


def _trigger_form(name: str) -> Callable[[dict], None]:
    return lambda d: d["smartList"]["triggers"][0]["constraints"][0].__setitem__("values", [name])


def test_a_trigger_on_a_form_neither_in_the_bundle_nor_the_target_is_a_preflight_problem(event, tmp_path):
    edit_asset(event, REGISTERED, _trigger_form("Webinar Form"))
    assert _found(event) == []  # it may be in the target: validate cannot tell
    ws = init_workspace(tmp_path / "pk.db")
    plan, _ = plan_for(event, ws)
    assert [(p.code, p.file, p.line, p.message) for p in plan.problems] == [
        ("PK537", REGISTERED, line_of(event / REGISTERED, '"Webinar Form"'),
         "/smartList/triggers/0/constraints/0/values/0: form 'Webinar Form' is neither in the bundle nor in "
         "workspace 'Default'")]


def test_a_trigger_on_a_form_of_another_program_in_the_target_is_fine(event, tmp_path):
    ws = init_workspace(tmp_path / "pk.db")
    other = tmp_path / "other"
    shutil.copytree(EVENT, other)
    edit_asset(other, FORM, lambda d: None)
    data = manifest(other)
    data["name"], data["program"]["name"] = "other-event", "EV-Other"
    for a in data["assets"]:
        if a["kind"] == "form":
            a["name"] = "Webinar Form"
        if a["kind"] == "smartList":
            a["name"] = "Reusable Invitees"
    data["assets"] = [a for a in data["assets"] if a["kind"] in ("form", "staticList", "smartList", "landingPage",
                                                                  "landingPageTemplate")]
    write_manifest(other, data)
    edit_asset(other, PAGE, lambda d: d["sections"]["form"].__setitem__("value", "Webinar Form"))
    edit_asset(other, SMART_LIST, lambda d: d["smartList"]["filters"].pop(1))
    import_into(other, ws)
    edit_asset(event, REGISTERED, _trigger_form("webinar form"))
    edit_asset(event, "campaigns/01-send-invitation.json",
               lambda d: d["smartList"]["filters"].__setitem__(0, {"filter": "Member of Smart List", "operator": "in",
                                                                   "values": ["Reusable Invitees"]}))
    plan, _ = plan_for(event, ws)
    assert plan.problems == []


def test_member_of_smart_list_names_a_smart_list(event, tmp_path):
    edit_asset(event, "campaigns/01-send-invitation.json",
               lambda d: d["smartList"]["filters"].__setitem__(0, {"filter": "Member of Smart List", "operator": "in",
                                                                   "values": ["Invitees Not Yet Registerd"]}))
    plan, _ = plan_for(event, init_workspace(tmp_path / "pk.db"))
    assert [(p.code, p.message.split(": ", 1)[1]) for p in plan.problems] == [
        ("PK537", "smart list 'Invitees Not Yet Registerd' is neither in the bundle nor in workspace 'Default'")]


# --- the landing page template rule decides for the pages that use it ----------------------------------



def _workspace_with_their_template(tmp_path: Path, content: str):
    ws = init_workspace(tmp_path / "pk.db")
    inv = tmp_path / "inventory.json"
    (tmp_path / "theirs.html").write_text(content, encoding="utf-8")
    inv.write_text(json.dumps({"landingPageTemplates": [{"name": LP_TEMPLATE_NAME, "path": "theirs.html",
                                                         "templateType": "guided"}]}), encoding="utf-8")
    assert load_inventory(ws, inv).ok
    return ws


# option → (clash content: "same"/"other") → (template action, its workspace name, problem code,
#                                              template the exported pages name, whose bytes it has)
OURS = (EVENT / LP_TEMPLATE).read_text(encoding="utf-8")
#: the workspace's own same-named template: the same editable elements, another look
THEIRS = OURS.replace("font-family: Arial", "font-family: Georgia")
COPY_NAME = f"{LP_TEMPLATE_NAME} - 1"
RULE_CASES = [
    ("copy", "other", "rename", COPY_NAME, None, COPY_NAME, "ours"),
    ("copy", "same", "reuse", None, None, LP_TEMPLATE_NAME, "ours"),
    ("useDestination", "other", "reuse", None, None, LP_TEMPLATE_NAME, "theirs"),
    ("useDestination", "same", "reuse", None, None, LP_TEMPLATE_NAME, "ours"),
    ("reuseIfIdentical", "other", "skip", None, "PK515", None, None),
    ("reuseIfIdentical", "same", "reuse", None, None, LP_TEMPLATE_NAME, "ours"),
    ("fail", "other", "skip", None, "PK513", None, None),
    ("fail", "same", "reuse", None, None, LP_TEMPLATE_NAME, "ours"),
]


@pytest.mark.parametrize("option,clash,expected,as_name,code,page_template,content", RULE_CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in RULE_CASES])
def test_the_landing_page_template_rule_decides_for_the_pages(tmp_path, option, clash, expected, as_name, code,
                                                              page_template, content):
    ws = _workspace_with_their_template(tmp_path, OURS if clash == "same" else THEIRS)
    plan, bundle = plan_for(EVENT, ws, flags={"landingPageTemplates": option})
    act = action(plan, "landingPageTemplate", LP_TEMPLATE_NAME)
    assert (act.action, act.as_name) == (expected, as_name)
    if clash == "other":
        assert act.decided_by == "flag"
    if code is not None:
        assert [p.code for p in plan.problems] == [code]
        return
    from programkit.apply import apply_plan

    apply_plan(plan, bundle, ws)
    out = tmp_path / "out"
    export_to(ws, PROGRAM, out)
    for page in (PAGE, THANKS):  # both pages are on the template the rule chose
        assert json.loads((out / page).read_text())["template"] == page_template
    exported = {e["name"]: e["path"] for e in manifest(out)["assets"] if e["kind"] == "landingPageTemplate"}
    assert list(exported) == [page_template]
    assert (out / exported[page_template]).read_text() == (OURS if content == "ours" else THEIRS)


def test_the_email_template_rule_decides_for_emails_the_same_way(tmp_path):
    """The reference the page rule mirrors: keepBoth puts every email on the copy, as copy does every page."""
    ws = init_workspace(tmp_path / "pk.db")
    inv = tmp_path / "inventory.json"
    (tmp_path / "theirs.html").write_text("<html><body>theirs</body></html>\n", encoding="utf-8")
    inv.write_text(json.dumps({"emailTemplates": [{"name": "Event Email Template", "path": "theirs.html"}]}))
    assert load_inventory(ws, inv).ok
    import_into(EVENT, ws)
    out = tmp_path / "out"
    export_to(ws, PROGRAM, out)
    for email in ("emails/01-invitation.json", "emails/02-confirmation.json", "emails/03-reminder.json"):
        assert json.loads((out / email).read_text())["template"] == "Event Email Template - 1"


# --- round trip: any form and page content comes back byte for byte -------------------------------------

_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(
    lambda s: s.strip() == s and "{{" not in s and "${" not in s and "<" not in s)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(labels=st.lists(_text, min_size=1, max_size=4), button=_text, title=_text, body=_text)
def test_any_form_and_page_content_round_trips(tmp_path_factory, labels, button, title, body):
    root = tmp_path_factory.mktemp("rt")
    bundle = root / "event"
    shutil.copytree(EVENT, bundle)
    fields = ["First Name", "Last Name", "Job Title", "City"]

    def form(d: dict) -> None:
        d["fields"] = [{"field": "Email Address", "type": "email", "required": True}] + [
            {"field": fields[i], "label": label} for i, label in enumerate(labels)]
        d["buttonText"] = button

    edit_asset(bundle, FORM, form)
    edit_asset(bundle, THANKS, lambda d: (d.__setitem__("title", title),
                                          d["sections"]["body"].__setitem__("value", body)))
    assert [f for f in validate_path(bundle).findings if f.severity.value == "error"] == []
    ws = init_workspace(root / "pk.db")
    import_into(bundle, ws)
    export_to(ws, PROGRAM, root / "out")
    assert _files(root / "out") == _files(bundle)


def test_schema_command_describes_the_new_kinds(invoke):
    for kind in ("landingPage", "form", "staticList", "smartList"):
        res = invoke("schema", kind)
        assert res.exit_code == 0 and json.loads(res.output)["$id"].endswith(f"/{kind}.json")
    assert "never carried" in json.loads(invoke("schema", "staticList").output)["description"]


def test_every_pages_and_forms_code_has_a_broken_case():
    from programkit.findings import load_all_codes

    registered = {c.code for c in load_all_codes().values() if c.group == "pages and forms"}
    assert registered == {BROKEN[case][2] for case in BROKEN} - {"PK210", "PK218", "PK610", "PK618", "PK103"} | \
        {"PK216", "PK218"}


# --- simulate: form fills and page visits are events ------------------------------------------------------

EVENTS = [
    {"at": "2027-03-01T09:00:00Z", "person": "p1", "type": "fillsOutForm",
     "data": {"form": "event registration form", "fields": {"Email Address": "ada@example.com", "First Name": "Ada"}}},
    {"at": "2027-03-01T09:01:00Z", "person": "p1", "type": "visitsWebPage", "data": {"page": "Event Registration Page"}},
    {"at": "2027-03-01T09:02:00Z", "person": "p2", "type": "fillsOutForm",
     "data": {"form": "Another Form", "fields": {"Email Address": "bob@example.com"}}},
    {"at": "2027-03-01T09:03:00Z", "person": "p3", "type": "visitsWebPage", "data": {"page": "Event Registration Page"}},
    {"at": "2027-03-01T09:04:00Z", "person": "p2", "type": "visitsWebPage", "data": {}},
]


def test_simulate_runs_form_fills_and_page_visits_through_the_campaigns(tmp_path, invoke):
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in EVENTS), encoding="utf-8")
    res = invoke("simulate", str(EVENT), "--events", str(events), "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    people = {p["id"]: p for p in out["people"]}
    # a fill by someone new creates them with the submitted fields; "02 - Registered" registers and confirms
    assert people["p1"]["programStatus"] == "Registered"
    assert people["p1"]["fields"] == {"Email Address": "ada@example.com", "First Name": "Ada"}
    assert [(e["person"], e["email"]) for e in out["emails"]] == [("p1", "02 - Confirmation")]
    # another form fires nothing, but its person exists now
    assert people["p2"]["programStatus"] is None
    runs = out["campaigns"]
    assert runs["02 - Registered"] == 1 and runs["06 - Visited Registration Page"] == 1
    assert [(r["line"], r["person"], r["reason"]) for r in out["rejected"]] == [
        (4, "p3", "no person 'p3' (an anonymous page visit is not simulated)"),
        (5, "p2", "a visitsWebPage event needs data.page: the name of the landing page")]


_json_value = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                     max_size=3), max_leaves=8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sections=st.dictionaries(st.text(max_size=12), _json_value, max_size=4),
       fields=st.lists(_json_value, max_size=4),
       thanks=_json_value.filter(lambda t: not (isinstance(t, dict) and t.get("type") in ("stay", "landingPage", "url"))),
       html=st.text(st.sampled_from('<>/="\' abmktoTextForm${}x-'), max_size=80))
def test_hostile_pages_and_forms_are_findings_never_a_crash(tmp_path_factory, sections, fields, thanks, html):
    bundle = tmp_path_factory.mktemp("hostile") / "event"
    shutil.copytree(EVENT, bundle)
    edit_asset(bundle, PAGE, lambda d: d.update(sections={**sections, "body": {"type": "html", "value": html}}))
    edit_asset(bundle, FORM, lambda d: d.update(fields=fields, thankYou=thanks))
    findings = validate_path(bundle).findings  # no exception, whatever the documents hold
    assert all(f.code and f.hint and f.file for f in findings)
    assert any(f.file == FORM and f.code == "PK103" for f in findings)  # no thankYou of this shape is valid


def test_use_destination_with_a_template_lacking_a_page_section_stops_before_losing_content(tmp_path):
    theirs = THEIRS.replace('<div class="mktoText" id="footer" mktoName="Footer"><p>Questions? Reply to the '
                            'invitation.</p></div>', "")
    assert theirs != THEIRS
    ws = _workspace_with_their_template(tmp_path, theirs)
    plan, _ = plan_for(EVENT, ws, flags={"landingPageTemplates": "useDestination"})
    assert [(p.code, p.file, p.line, p.message) for p in plan.problems] == [
        ("PK538", PAGE, line_of(EVENT / PAGE, '"footer"'),
         "/sections/footer: the workspace's template 'Event Landing Page Template' has no editable element 'footer' "
         "(rule landingPageTemplates=useDestination)")]
    copied, _ = plan_for(EVENT, ws, flags={"landingPageTemplates": "copy"})
    assert copied.problems == []


def test_a_newer_version_updates_the_changed_form_and_page_in_place(event, tmp_path):
    ws = init_workspace(tmp_path / "pk.db")
    import_into(event, ws)
    edit_asset(event, FORM, lambda d: d.update(buttonText="Save my seat"))
    edit_asset(event, THANKS, lambda d: d.update(title="See you soon"))
    data = manifest(event)
    data["version"] = "1.1.0"
    write_manifest(event, data)
    plan, _ = import_into(event, ws)
    changed = sorted((a.kind, a.name) for a in plan.actions if a.action == "update" and a.kind != "program")
    assert changed == [("form", "Event Registration Form"), ("landingPage", "Event Thank You Page")]
    export_to(ws, PROGRAM, tmp_path / "out")
    assert _files(tmp_path / "out") == _files(event)


def test_the_marketo_target_refuses_the_new_kinds_in_its_preflight(tmp_path, monkeypatch):
    """Until the Marketo target writes a kind (a module in workspaces/marketo/kinds/), its plan has a problem per
    such asset: no import."""
    from marketo_support import CLIENT_ID, FAST, SECRET
    from fake_marketo import FakeMarketo
    from programkit.workspaces.marketo import MarketoWorkspace
    from programkit.workspaces.marketo.client import MarketoClient

    server = FakeMarketo(CLIENT_ID, SECRET, rate_limit=50, rate_window=1.0, max_concurrent=10)
    server.start()
    try:
        monkeypatch.setenv("PROGRAMKIT_STATE_DIR", str(tmp_path / "state"))
        ws = MarketoWorkspace(server.url, client=MarketoClient(server.url, CLIENT_ID, SECRET, FAST))
        plan, _ = plan_for(EVENT, ws)
        from programkit.workspaces.marketo import kinds as marketo_kinds

        new_kinds = {k for k in ("landingPage", "form", "staticList", "smartList") if marketo_kinds.get(k) is None}
        pointers = {f"/assets/{i}" for i, a in enumerate(manifest(EVENT)["assets"]) if a["kind"] in new_kinds}
        refused = {p.pointer for p in plan.problems if p.code == "PK810"}
        assert refused == pointers and (plan.ok is False or not pointers)
    finally:
        server.stop()


def test_used_by_lists_the_pages_on_a_landing_page_template(tmp_path, invoke):
    db = tmp_path / "pk.db"
    assert invoke("workspace", "init", "--target", str(db)).exit_code == 0
    assert invoke("import", str(EVENT), "--target", str(db), "--yes").exit_code == 0
    r = invoke("workspace", "used-by", LP_TEMPLATE_NAME, "--target", str(db))
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == [
        f"landingPageTemplate '{LP_TEMPLATE_NAME}': used by 2",
        f"  landingPage    Event Registration Page  (program '{PROGRAM}')",
        f"  landingPage    Event Thank You Page  (program '{PROGRAM}')"]


def test_form_fills_simulate_the_same_in_parallel(tmp_path, invoke):
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in EVENTS), encoding="utf-8")
    one = invoke("simulate", str(EVENT), "--events", str(events), "--format", "json")
    two = invoke("simulate", str(EVENT), "--events", str(events), "--format", "json", "--jobs", "2")
    assert one.exit_code == two.exit_code == 0
    assert one.output == two.output
