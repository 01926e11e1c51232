"""Landing pages and reusable smart lists on the Marketo target (issue #15), against the stand-in, whose pages
and smart lists (tests/fake_marketo_pages.py) are modelled on Adobe's Landing Pages and Smart Lists pages.

The bundle is the event-program sample's pages and smart list without its forms and static lists (another
module's kinds): the registration page without its form section, the smart list's filters on the page and
the program instead of the lists."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

import fake_marketo
from bundle_edits import edit_asset, edit_manifest, refresh_digests
from fake_marketo import FakeMarketo
from fake_marketo_pages import add_smart_list
from marketo_support import CLIENT_ID, SECRET, cli_env, marketo_env, marketo_rules  # noqa: F401

from programkit import canonical
from programkit.validate import validate_path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "event-program"
PROGRAM = "EV-Customer Event"
REGISTER = "landing-pages/event-registration-page.json"
THANKS = "landing-pages/event-thank-you-page.json"
SMART_LIST = "smart-lists/invitees-not-yet-registered.json"
SL_NAME = "Invitees Not Yet Registered"
LPT = "design-studio/event-landing-page-template.html"
#: the rich text of the template's editable elements, which a guided page starts with
TEMPLATE_TEXT = {"heading": "<h1>Event</h1>", "body": "<p>About the event.</p>",
                 "footer": "<p>Questions? Reply to the invitation.</p>"}
FILTERS = [{"filter": "Visited Web Page", "operator": "is", "values": ["Event Registration Page"]},
           {"constraints": [{"name": "Status", "operator": "is", "values": ["Invited"]}],
            "filter": "Member of Program", "operator": "in", "values": [PROGRAM]}]


def pages_bundle(tmp_path: Path, name: str = "event") -> Path:
    bundle = tmp_path / name
    shutil.copytree(SAMPLE, bundle)
    keep = {"landingPageTemplate", "landingPage", "smartList"}

    def manifest(m):
        m["assets"] = [a for a in m["assets"] if a["kind"] in keep]

    edit_manifest(bundle, manifest)
    for d in ("forms", "lists", "emails", "campaigns"):
        shutil.rmtree(bundle / d)
    (bundle / "design-studio" / "event-email-template.html").unlink()
    edit_asset(bundle, REGISTER, lambda d: d["sections"].pop("form"))
    edit_asset(bundle, SMART_LIST, lambda d: d["smartList"].update(filters=FILTERS))
    for rel in (REGISTER, SMART_LIST):  # canonical JSON, as an export writes it
        (bundle / rel).write_bytes(canonical.dump_bytes(json.loads((bundle / rel).read_text())))
    refresh_digests(bundle)
    assert validate_path(bundle).ok, [f.message for f in validate_path(bundle).findings]
    return bundle


def rules(filters: list[dict]) -> dict:
    """Filters in the shape Marketo answers with includeRules=true (SL, By Id), constraints as secondary
    conditions, as an admin would have built them in the UI."""
    out = marketo_rules({"filters": filters})
    for f, raw in zip(out["filters"], filters):
        f["conditions"] += [{"activityAttributeId": 8, "activityAttributeName": c["name"], "operator": c["operator"],
                             "values": c["values"], "isPrimary": False} for c in raw.get("constraints", [])]
    out["filterMatchType"] = "all"  # SL's example spells it in lower case
    return out


def doc(bundle: Path, rel: str) -> dict:
    return json.loads((bundle / rel).read_text())


def state(fake: FakeMarketo) -> dict:
    with fake.lock:
        return copy.deepcopy({"programs": fake.programs, "folders": fake.folders, "tokens": fake.tokens_by_folder,
                              "assets": {k: {i: {f: v for f, v in a.items() if f != "updatedAt"} for i, a in
                                             v.items()} for k, v in fake.assets.items() if v}})


def program_of(fake: FakeMarketo) -> dict:
    return next(p for p in fake.programs.values() if p["name"] == PROGRAM)


def page(fake: FakeMarketo, name: str) -> dict:
    return next(a for a in fake.assets["landingPage"].values() if a["name"] == name)


def sections(rec: dict) -> dict:
    return {k: {"type": v["type"], "value": v["value"]} for k, v in rec["_sections"].items()}


def journal(state_dir: Path) -> str:
    return sorted(state_dir.rglob("journals/*.jsonl"))[-1].stem


@pytest.fixture
def client(fake):
    from marketo_support import FAST

    from programkit.workspaces.marketo.client import MarketoClient

    return MarketoClient(fake.url, CLIENT_ID, SECRET, FAST)


#: the event program's channel, as a Marketo instance has it (Admin > Tags > Channels: Webinar is one of the channels
#: a subscription starts with)
WEBINAR = ("Event", [("Not in Program", 0, False), ("Invited", 10, False), ("Registered", 20, False),
                     ("No Show", 30, False), ("Attended", 40, True)])


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setitem(fake_marketo.CHANNELS, "Webinar", WEBINAR)
    server = FakeMarketo(CLIENT_ID, SECRET, rate_limit=100, rate_window=1.0, max_concurrent=10,
                         tag_types={"Program Purpose": ["Lead Management", "Event"]})
    server.start()
    yield server
    server.stop()


def test_pages_are_written_as_marketo_holds_them_and_approved_with_approve(fake, cli_env, invoke, tmp_path):
    bundle = pages_bundle(tmp_path)
    done = invoke("import", str(bundle), "--target", fake.url, "--approve", "--yes")
    assert done.exit_code == 0, done.output
    prog = program_of(fake)
    template = next(a for a in fake.assets["landingPageTemplate"].values())
    assets_folder = next(f for f in fake.folders.values() if f["path"] == prog["_path"] + "/Assets")
    for name, rel in (("Event Registration Page", REGISTER), ("Event Thank You Page", THANKS)):
        want, rec = doc(bundle, rel), page(fake, name)
        assert rec["folder"] == {"id": assets_folder["id"], "type": "Folder"}
        assert rec["template"] == template["id"] and rec["status"] == "approved"
        assert (rec["title"], rec["robots"], rec["description"], rec["_url"]) == (
            want["title"], want["robots"], want["description"], want["url"])
        assert rec["_meta"] == want.get("metaDescription", "")
        # a guided page: the template's elements, with the bundle's rich text where it gives one
        assert sections(rec) == {k: {"type": "RichText", "value": v} for k, v in TEMPLATE_TEXT.items()} | {
            k: {"type": "RichText", "value": v["value"]} for k, v in want["sections"].items()} | {
            "form": {"type": "Form", "value": ""}}
        assert rec["_variables"]["eventTagline"]["value"] == want["variables"]["eventTagline"]
        assert rec["_variables"]["accentColor"]["value"] == "#1473e6"  # not in the bundle: the template's default
    assert template["status"] == "approved"

    again = invoke("import", str(bundle), "--target", fake.url, "--approve", "--yes")
    assert again.exit_code == 0, again.output
    assert "No changes" in again.output and "nothing else was written" in again.output


def test_without_approve_each_page_is_a_checklist_line_verify_checks(fake, cli_env, invoke, tmp_path):
    bundle = pages_bundle(tmp_path)
    done = invoke("import", str(bundle), "--target", fake.url, "--yes")
    assert done.exit_code == 0, done.output
    assert {a["status"] for a in fake.assets["landingPage"].values()} == {"draft"}
    assert "- [ ] Approve the landing page (import with --approve to let programkit do it)" in done.output
    fake.assets["landingPageTemplate"][next(iter(fake.assets["landingPageTemplate"]))]["status"] = "approved"
    page(fake, "Event Registration Page")["status"] = "approved"
    checked = invoke("verify", "--target", fake.url, PROGRAM)
    assert checked.exit_code == 1, checked.output
    lines = checked.output.splitlines()
    at = lines.index(next(l for l in lines if l.startswith("landingPage 'Event Registration Page'")))
    assert lines[at + 1].split()[:1] == ["done"]
    at = lines.index(next(l for l in lines if l.startswith("landingPage 'Event Thank You Page'")))
    assert lines[at + 1].startswith("  NOT DONE  Approve the landing page")


def test_a_smart_list_the_api_cannot_create_goes_on_the_checklist_and_verify_reads_it(fake, cli_env, invoke,
                                                                                      tmp_path):
    bundle = pages_bundle(tmp_path)
    done = invoke("import", str(bundle), "--target", fake.url, "--approve", "--yes")
    assert done.exit_code == 0, done.output
    assert fake.assets["smartList"] == {}  # Adobe's Smart Lists API has no create
    assert f"PK809 [marketo-manual-steps] smartList '{SL_NAME}' cannot be created through the Marketo API" \
        in done.output
    out = done.output.splitlines()
    head = next(i for i, l in enumerate(out) if l.startswith(f'## smartList "{SL_NAME}"'))
    assert out[head] == (f'## smartList "{SL_NAME}" (not written: the API cannot create one, in '
                         f'/Marketing Activities/Default/{PROGRAM}/Lists)')
    assert out[head + 1:head + 5] == [
        f'- [ ] Smart List: create the smart list "{SL_NAME}" in this folder (Marketo\'s API can only clone a '
        'smart list, and the workspace has none of that name with these rules)',
        '- [ ] Smart List: add filter 1 "Visited Web Page" is Event Registration Page',
        f'- [ ] Smart List: add filter 2 "Member of Program" in {PROGRAM} with Status is Invited',
        "- [ ] Smart List: set rule logic to Use ALL filters"]

    assert "(import #1, 11 changes; 1 smartList on the checklist instead: the API cannot write it)" in done.output
    again = invoke("import", str(bundle), "--target", fake.url, "--approve", "--yes")
    assert again.exit_code == 0 and "No changes" in again.output, again.output  # the record stands for it
    out = tmp_path / "exported"
    assert invoke("export", PROGRAM, "--target", fake.url, "--out", str(out)).exit_code == 0
    needs = json.loads((out / "bundle.json").read_text())["needsCompletion"]
    assert [n["what"] for n in needs if "path" not in n] == [f"smartList '{SL_NAME}'"]  # listed, never dropped
    assert not (out / SMART_LIST).exists()

    lists = next(f for f in fake.folders.values() if f["path"].endswith(f"{PROGRAM}/Lists"))
    assert invoke("verify", "--target", fake.url, PROGRAM).exit_code == 1
    # the admin follows the checklist, but leaves out the second filter
    add_smart_list(fake, SL_NAME, rules(FILTERS[:1]), {"id": lists["id"], "type": "Folder"},
                   description=doc(bundle, SMART_LIST)["description"])
    checked = invoke("verify", "--target", fake.url, PROGRAM)
    assert checked.exit_code == 1, checked.output
    lines = checked.output.splitlines()
    at = lines.index(next(l for l in lines if l.startswith(f"smartList '{SL_NAME}'")))
    assert lines[at] == f"smartList '{SL_NAME}' (not written: the API cannot create one; import #1)"
    block = lines[at + 1:lines.index("", at)]
    assert [l.split()[0] + " " + l.split()[1] if l.startswith("  NOT") else l.split()[0] for l in block
            if not l.startswith("   ")] == ["done", "done", "NOT DONE", "done", "done"], checked.output
    assert f"found:    no filter 'Member of Program' (Marketo has 'Visited Web Page')" in checked.output


def test_a_same_named_smart_list_with_the_same_rules_is_cloned(fake, cli_env, invoke, tmp_path):
    bundle = pages_bundle(tmp_path)
    elsewhere = add_smart_list(fake, SL_NAME, rules(FILTERS))
    add_smart_list(fake, "Other", rules(FILTERS[:1]))
    done = invoke("import", str(bundle), "--target", fake.url, "--approve", "--yes")
    assert done.exit_code == 0, done.output
    prog = program_of(fake)
    mine = [a for a in fake.assets["smartList"].values() if a["id"] != elsewhere and a["name"] == SL_NAME]
    assert len(mine) == 1 and mine[0]["_path"] == f"{prog['_path']}/Lists/{SL_NAME}"
    assert mine[0]["_rules"] == fake.assets["smartList"][elsewhere]["_rules"]
    assert mine[0]["description"] == doc(bundle, SMART_LIST)["description"]
    assert "Smart List:" not in done.output


def test_export_gives_pages_and_smart_list_back_except_what_the_api_cannot_read(fake, cli_env, invoke, tmp_path):
    bundle = pages_bundle(tmp_path)
    add_smart_list(fake, SL_NAME, rules(FILTERS))
    assert invoke("import", str(bundle), "--target", fake.url, "--approve", "--yes").exit_code == 0
    out = tmp_path / "exported"
    exported = invoke("export", PROGRAM, "--target", fake.url, "--out", str(out))
    assert exported.exit_code == 0, exported.output
    assert [f.message for f in validate_path(out).findings if f.severity.value == "error"] == []
    assert (out / THANKS).read_bytes() == (bundle / THANKS).read_bytes()
    assert (out / SMART_LIST).read_bytes() == (bundle / SMART_LIST).read_bytes()
    assert (out / LPT).read_bytes() == (bundle / LPT).read_bytes()
    # Adobe's LandingPageResponse has no meta description: the one difference, listed under needsCompletion
    want = doc(bundle, REGISTER)
    del want["metaDescription"]
    assert doc(out, REGISTER) == want
    needs = json.loads((out / "bundle.json").read_text())["needsCompletion"]
    assert [(n.get("path"), n["what"]) for n in needs] == [(REGISTER, "meta description")]


def test_rollback_unapproves_and_deletes_what_the_import_created(fake, cli_env, invoke, tmp_path):
    bundle = pages_bundle(tmp_path)
    add_smart_list(fake, SL_NAME, rules(FILTERS))
    before = state(fake)
    assert invoke("import", str(bundle), "--target", fake.url, "--approve", "--yes").exit_code == 0
    assert len(fake.assets["landingPage"]) == 2 and len(fake.assets["smartList"]) == 2
    rolled = invoke("rollback", "--target", fake.url, "--journal", journal(cli_env))
    assert rolled.exit_code == 0, rolled.output
    after = state(fake)
    after["assets"] = {k: v for k, v in after["assets"].items() if v}
    assert after == before


def test_a_delete_marketo_refuses_while_something_uses_the_page_is_tried_again_after_the_rest(fake, cli_env, invoke,
                                                                                           tmp_path):
    bundle = pages_bundle(tmp_path)
    before = state(fake)
    assert invoke("import", str(bundle), "--target", fake.url, "--approve", "--yes").exit_code == 0
    # as when a form's thank-you still names the page (LP, Delete: "no other Marketo asset references it")
    fake.add_fault({"code": "709", "path": "POST /rest/asset/v1/landingPage/{id}/delete.json",
                    "message": "Landing page is used by form 'Event Registration Form'"})
    rolled = invoke("rollback", "--target", fake.url)
    assert rolled.exit_code == 0, rolled.output
    after = state(fake)
    after["assets"] = {k: v for k, v in after["assets"].items() if v}
    assert after == before


def test_preflight_lists_every_refusal_marketo_would_give_at_once(fake, cli_env, invoke, tmp_path):
    bundle = pages_bundle(tmp_path)
    # a page elsewhere already has the thank-you page's URL; the registration page's body is HTML, which a
    # guided template's rich-text element cannot hold
    tpl = invoke("import", str(pages_bundle(tmp_path, "other")), "--target", fake.url, "--as", "Other Event",
                 "--yes")
    assert tpl.exit_code == 0, tpl.output
    edit_asset(bundle, REGISTER, lambda d: d.update(url="customer-day-registration-2") or
               d["sections"]["body"].update(type="html"))
    before = state(fake)
    refused = invoke("import", str(bundle), "--target", fake.url, "--yes")
    assert refused.exit_code == 1, refused.output
    assert "PK850 [marketo-page-url-in-use]" in refused.output and "customer-day-thank-you" in refused.output
    assert "PK851 [marketo-page-section-type]" in refused.output and "/sections/body" in refused.output
    assert state(fake) == before


def test_a_free_form_page_has_its_sections_added(fake, cli_env, invoke, tmp_path):
    bundle = pages_bundle(tmp_path)

    def free(m):
        for a in m["assets"]:
            if a["kind"] == "landingPageTemplate":
                a["templateType"] = "freeForm"

    edit_manifest(bundle, free)
    for rel in (REGISTER, THANKS):
        edit_asset(bundle, rel, lambda d: d.pop("variables"))
    (bundle / LPT).write_text("<!DOCTYPE html><html><head><title>Event</title></head><body>"
                              "<div id=\"mktoContent\"></div></body></html>\n")
    refresh_digests(bundle)
    done = invoke("import", str(bundle), "--target", fake.url, "--approve", "--yes")
    assert done.exit_code == 0, done.output
    rec = page(fake, "Event Registration Page")
    want = doc(bundle, REGISTER)["sections"]
    assert sections(rec) == {k: {"type": "RichText", "value": v["value"]} for k, v in want.items()}
    out = tmp_path / "exported"
    assert invoke("export", PROGRAM, "--target", fake.url, "--out", str(out)).exit_code == 0
    assert (out / THANKS).read_bytes() == (bundle / THANKS).read_bytes()


def test_a_resumed_import_writes_only_the_page_content_not_yet_written(fake, cli_env, invoke, tmp_path):
    bundle = pages_bundle(tmp_path)
    fake.add_fault({"code": "611", "path": "POST /rest/asset/v1/landingPage/{id}/variable/{variableId}.json"})
    stopped = invoke("import", str(bundle), "--target", fake.url, "--approve", "--yes")
    assert stopped.exit_code != 0 and "--resume" in stopped.output, stopped.output
    before = dict(fake.stats["paths"])
    done = invoke("import", str(bundle), "--target", fake.url, "--approve", "--resume")
    assert done.exit_code == 0, done.output
    after = fake.stats["paths"]
    assert after["POST /rest/asset/v1/landingPages.json"] == before["POST /rest/asset/v1/landingPages.json"] == 2
    # each section written once: the resumed import skipped what the journal had
    assert after["POST /rest/asset/v1/landingPage/{id}/content/{contentId}.json"] == 5
    assert {a["status"] for a in fake.assets["landingPage"].values()} == {"approved"}
    assert {a["_variables"]["eventTagline"]["value"] for a in fake.assets["landingPage"].values()} == {
        "Save your seat", "See you there"}


def test_an_upgrade_rewrites_a_changed_page_and_puts_a_changed_smart_list_on_the_checklist(fake, cli_env, invoke,
                                                                                          tmp_path):
    bundle = pages_bundle(tmp_path)
    add_smart_list(fake, SL_NAME, rules(FILTERS))
    assert invoke("import", str(bundle), "--target", fake.url, "--approve", "--yes").exit_code == 0
    edit_asset(bundle, THANKS, lambda d: d.update(title="See you soon") or d["sections"]["body"].update(
        value="<p>See you on {{my.Event Date}}.</p>"))
    edit_asset(bundle, SMART_LIST, lambda d: d["smartList"].update(ruleLogic="any"))
    edit_manifest(bundle, lambda m: m.update(version="1.1.0"))
    refresh_digests(bundle)
    up = invoke("import", str(bundle), "--target", fake.url, "--approve", "--yes")
    assert up.exit_code == 0, up.output
    rec = page(fake, "Event Thank You Page")
    assert rec["title"] == "See you soon" and rec["_sections"]["body"]["value"] == "<p>See you on {{my.Event Date}}.</p>"
    assert rec["status"] == "approved"
    assert "Review: the bundle changed this smart list" in up.output
    assert "Smart List: set rule logic to Use ANY filters" in up.output
    # rolling the upgrade back: the page's content cannot be put back (PK812); the smart list was not written
    refused = invoke("rollback", "--target", fake.url)
    assert refused.exit_code == 1 and "PK812" in refused.output, refused.output
    assert "landingPage 'Event Thank You Page'" in refused.output and "smartList" not in refused.output


def test_pages_go_on_the_keep_both_copy_of_their_template_and_export_on_it(fake, cli_env, invoke,
                                                                                            tmp_path):
    first = pages_bundle(tmp_path, "first")
    assert invoke("import", str(first), "--target", fake.url, "--yes").exit_code == 0
    other = pages_bundle(tmp_path, "other")  # the same template name, other content: "copy" makes "… - 1"
    (other / LPT).write_text((other / LPT).read_text().replace("Join us", "Be there"))
    for rel, n in ((REGISTER, "2-register"), (THANKS, "2-thanks")):
        edit_asset(other, rel, lambda d, n=n: d.update(url=n))
        (other / rel).write_bytes(canonical.dump_bytes(json.loads((other / rel).read_text())))
    refresh_digests(other)
    done = invoke("import", str(other), "--target", fake.url, "--as", "Other Event", "--yes")
    assert done.exit_code == 0, done.output
    copy = next(t for t in fake.assets["landingPageTemplate"].values()
                if t["name"] == "Event Landing Page Template - 1")
    mine = [p for p in fake.assets["landingPage"].values() if "/Other Event/" in p["_path"]]
    assert len(mine) == 2 and {p["template"] for p in mine} == {copy["id"]}
    out = tmp_path / "exported"
    exported = invoke("export", "Other Event", "--target", fake.url, "--out", str(out))
    assert exported.exit_code == 0, exported.output
    # an export names what the workspace holds: the copy, by its name, and the pages on it
    names = {a["kind"]: a["name"] for a in json.loads((out / "bundle.json").read_text())["assets"]}
    assert names["landingPageTemplate"] == "Event Landing Page Template - 1"
    assert doc(out, THANKS) == {**doc(other, THANKS), "template": "Event Landing Page Template - 1"}
    lpt = next(a["path"] for a in json.loads((out / "bundle.json").read_text())["assets"]
               if a["kind"] == "landingPageTemplate")
    assert (out / lpt).read_bytes() == (other / LPT).read_bytes()


def _png() -> bytes:
    """A real (tiny, grey) PNG."""
    import struct
    import zlib

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x80\x80")) + chunk(b"IEND", b""))


def test_images_and_snippets_are_placed_by_id_and_an_alt_text_is_a_checklist_line(fake, cli_env, invoke, tmp_path):
    bundle = pages_bundle(tmp_path)
    (bundle / "design-studio" / "hero.png").write_bytes(_png())
    (bundle / "design-studio" / "event-footer.html").write_text("<p>Customer Day is run by the events team.</p>\n")
    (bundle / LPT).write_text("<!DOCTYPE html><html><head><title>Event</title></head><body>"
                              "<div id=\"mktoContent\"></div></body></html>\n")

    def manifest(m):
        for a in m["assets"]:
            if a["kind"] == "landingPageTemplate":
                a["templateType"] = "freeForm"
        m["assets"][:0] = [{"kind": "image", "name": "hero.png", "path": "design-studio/hero.png", "sha256": "",
                            "mimeType": "image/png"},
                           {"kind": "snippet", "name": "Event Footer", "path": "design-studio/event-footer.html",
                            "sha256": ""}]

    edit_manifest(bundle, manifest)
    edit_asset(bundle, THANKS, lambda d: d.pop("variables") and d["sections"].update(
        hero={"type": "image", "value": "hero.png", "alt": "Customer Day"},
        footer={"type": "snippet", "value": "Event Footer"}))
    edit_asset(bundle, REGISTER, lambda d: d.pop("variables"))
    for rel in (THANKS, REGISTER):
        (bundle / rel).write_bytes(canonical.dump_bytes(json.loads((bundle / rel).read_text())))
    refresh_digests(bundle)
    assert validate_path(bundle).ok, [f.message for f in validate_path(bundle).findings]
    done = invoke("import", str(bundle), "--target", fake.url, "--approve", "--yes")
    assert done.exit_code == 0, done.output
    image = next(iter(fake.assets["file"].values()))
    snippet = next(iter(fake.assets["snippet"].values()))
    rec = page(fake, "Event Thank You Page")
    assert sections(rec)["hero"] == {"type": "Image", "value": str(image["id"])}
    assert sections(rec)["footer"] == {"type": "Snippet", "value": str(snippet["id"])}
    assert rec["status"] == "approved" and snippet["status"] == "approved"  # the snippet first
    assert '- [ ] Image "hero": set its alt text to "Customer Day" (the API\'s content calls take no alt text)' \
        in done.output
    out = tmp_path / "exported"
    exported = invoke("export", PROGRAM, "--target", fake.url, "--out", str(out))
    assert exported.exit_code == 0, exported.output
    want = doc(bundle, THANKS)
    del want["sections"]["hero"]["alt"]  # no answer carries it
    assert doc(out, THANKS) == want
    assert (out / "design-studio" / "hero.png").read_bytes() == _png()
    needs = json.loads((out / "bundle.json").read_text())["needsCompletion"]
    assert [(n["path"], n.get("pointer"), n["what"]) for n in needs if n.get("path") == THANKS] == [
        (THANKS, "/sections/hero", "alt text of image section 'hero'")]


def test_dynamic_content_of_a_page_is_written_per_segment_and_read_back(fake, cli_env, invoke, tmp_path):
    bundle = pages_bundle(tmp_path)
    dynamic = {"body": {"segmentation": "Industry", "segments": {
        "Default": "<p>Join us at {{my.Event Name}}.</p>", "Retail": "<p>Retail track at {{my.Event Name}}.</p>"}}}
    edit_manifest(bundle, lambda m: m.setdefault("requires", {}).update(segmentations=["Industry"]))
    edit_asset(bundle, THANKS, lambda d: d.update(dynamicContent=dynamic) or d["sections"].pop("body"))
    (bundle / THANKS).write_bytes(canonical.dump_bytes(json.loads((bundle / THANKS).read_text())))
    refresh_digests(bundle)
    # a segment Marketo's segmentation lacks is refused before anything is written
    bad = tmp_path / "bad"
    shutil.copytree(bundle, bad)
    edit_asset(bad, THANKS, lambda d: d["dynamicContent"]["body"]["segments"].update(Energy="<p>x</p>"))
    refused = invoke("import", str(bad), "--target", fake.url, "--yes")
    assert refused.exit_code == 1 and "PK816" in refused.output and "'Energy'" in refused.output, refused.output
    assert fake.programs == {}

    assert invoke("import", str(bundle), "--target", fake.url, "--approve", "--yes").exit_code == 0
    spec = page(fake, "Event Thank You Page")["_dynamic"]["body"]
    assert spec["segmentation"] == "Industry"
    assert {k: v["content"] for k, v in spec["segments"].items()} == {
        "Manufacturing": "<p>About the event.</p>", "Healthcare": "<p>About the event.</p>",  # inherited
        **dynamic["body"]["segments"]}
    out = tmp_path / "exported"
    assert invoke("export", PROGRAM, "--target", fake.url, "--out", str(out)).exit_code == 0
    assert (out / THANKS).read_bytes() == (bundle / THANKS).read_bytes()


# -- the stand-in itself: what Adobe's pages say Marketo does (tests/fake_marketo_pages.py) ------------------
A = "/rest/asset/v1"


def _template(fake: FakeMarketo, client, guided: bool = True) -> int:
    from fake_marketo import _design_create

    html = (SAMPLE / LPT).read_bytes() if guided else b"<html><body></body></html>"
    with fake.lock:
        tid = _design_create(fake, "landingPageTemplate", {"name": f"T{guided}", "folder": {"id": 5, "type": "Folder"}},
                             html, templateType="guided" if guided else "freeForm")["result"][0]["id"]
    return tid


def _refused(call, code: str) -> str:
    from programkit.workspaces.marketo.client import MarketoError

    with pytest.raises(MarketoError) as e:
        call()
    assert e.value.marketo_code == code, str(e.value)
    return str(e.value)


def test_stand_in_guided_pages_take_their_sections_from_the_template_and_only_update_them(fake, client):
    tid = _template(fake, client)
    folder = json.dumps({"id": 8, "type": "Folder"})
    pid = client.post(f"{A}/landingPages.json", {"name": "P", "folder": folder, "template": tid})[0]["id"]
    assert [s["id"] for s in client.get(f"{A}/landingPage/{pid}/content.json")] == ["heading", "body", "form",
                                                                                    "footer"]
    assert "guided landing page" in _refused(lambda: client.post(f"{A}/landingPage/{pid}/content.json", {
        "contentId": "extra", "type": "RichText", "value": "<p>x</p>"}), "709")
    assert "not found" in _refused(lambda: client.post(f"{A}/landingPage/{pid}/content/extra.json", {
        "type": "RichText", "value": "<p>x</p>"}), "702")
    _refused(lambda: client.post(f"{A}/landingPage/{pid}/content/body.json", {"type": "HTML", "value": "x"}), "709")
    client.post(f"{A}/landingPage/{pid}/content/body.json", {"type": "RichText", "value": "<p>new</p>"})
    assert client.get(f"{A}/landingPage/{pid}/content.json")[1]["content"] == "<p>new</p>"
    assert client.get(f"{A}/landingPage/{pid}/variables.json") == [
        {"id": "accentColor", "value": "#1473e6", "type": "color"},
        {"id": "eventTagline", "value": "Join us", "type": "string"}]
    # the URL derives from the name when unset; a second page may not take it; no meta description is read back
    rec = client.get(f"{A}/landingPage/{pid}.json")[0]
    assert rec["URL"].endswith("/P.html") and "metaTagsDescription" not in rec
    assert "already in use" in _refused(lambda: client.post(f"{A}/landingPages.json", {
        "name": "Q", "folder": folder, "template": tid, "urlPageName": "P"}), "709")


def test_stand_in_free_form_pages_add_sections_and_approved_pages_are_not_deleted(fake, client):
    tid = _template(fake, client, guided=False)
    folder = json.dumps({"id": 8, "type": "Folder"})
    pid = client.post(f"{A}/landingPages.json", {"name": "F", "folder": folder, "template": tid})[0]["id"]
    assert client.get(f"{A}/landingPage/{pid}/content.json") == []
    client.post(f"{A}/landingPage/{pid}/content.json", {"contentId": "intro", "type": "HTML", "value": "<b>x</b>"})
    assert client.get(f"{A}/landingPage/{pid}/content.json")[0]["content"] == "<b>x</b>"
    assert "not approved" in _refused(lambda: client.post(f"{A}/landingPage/{pid}/approveDraft.json"), "709")
    fake.assets["landingPageTemplate"][tid]["status"] = "approved"
    client.post(f"{A}/landingPage/{pid}/approveDraft.json")
    assert "unapprove" in _refused(lambda: client.post(f"{A}/landingPage/{pid}/delete.json"), "709")
    client.post(f"{A}/landingPage/{pid}/unapprove.json")
    client.post(f"{A}/landingPage/{pid}/delete.json")
    assert fake.assets["landingPage"] == {}


def test_stand_in_smart_lists_are_only_read_cloned_and_deleted(fake, client):
    sid = add_smart_list(fake, "Source", rules(FILTERS))
    assert "rules" not in client.get(f"{A}/smartList/{sid}.json")[0]
    assert client.get(f"{A}/smartList/{sid}.json")[0]["folder"] == {"id": 8, "type": "Folder"}  # SL's examples
    assert client.get(f"{A}/smartList/{sid}.json", includeRules=True)[0]["rules"]["filters"][0]["name"] == \
        "Visited Web Page"
    design = json.dumps({"id": 3, "type": "Folder"})
    assert "program or a smart list folder" in _refused(lambda: client.post(
        f"{A}/smartList/{sid}/clone.json", {"name": "Copy", "folder": design}), "709")
    fake.programs[2000] = {"id": 2000, "name": "P", "description": "", "type": "Default", "channel": "Operational",
                           "folder": {"id": 8, "type": "Folder"}, "status": "", "tags": [], "costs": [],
                           "createdAt": "", "updatedAt": "", "url": None, "workspace": "Default",
                           "_path": "/Marketing Activities/Default/P"}
    program = json.dumps({"id": 2000, "type": "Program"})
    copy_id = client.post(f"{A}/smartList/{sid}/clone.json", {"name": "Source", "folder": program})[0]["id"]
    assert fake.assets["smartList"][copy_id]["_rules"] == fake.assets["smartList"][sid]["_rules"]
    assert "already in use" in _refused(lambda: client.post(
        f"{A}/smartList/{sid}/clone.json", {"name": "Source", "folder": program}), "709")
    client.post(f"{A}/smartList/{copy_id}/delete.json")
    assert list(fake.assets["smartList"]) == [sid]
    assert ("POST", f"{A}/smartLists.json") not in fake.contract  # Adobe's API has no create


def test_any_guided_page_comes_back_from_marketo_as_it_was_imported(fake, cli_env, invoke, tmp_path):
    """Round trip (hypothesis): whatever subset of the template's elements a page fills -- also with the
    template's own content -- whatever variable values, with or without robots (also Marketo's default), export
    gives the page file back byte-identical."""
    import itertools
    import tempfile

    from hypothesis import HealthCheck, given, settings, strategies as st

    base = pages_bundle(tmp_path)
    counter = itertools.count()
    words = st.text(alphabet="abcdefghij KLMNOP éüß–0123456789.,!?", min_size=1, max_size=40).map(str.strip).filter(bool)
    html = st.one_of(words.map(lambda w: f"<p>{w}</p>"), st.sampled_from(sorted(TEMPLATE_TEXT.values())))
    sections = st.dictionaries(st.sampled_from(sorted(TEMPLATE_TEXT)), html, max_size=3)
    variables = st.fixed_dictionaries({}, optional={"eventTagline": words, "accentColor": st.sampled_from(
        ["#1473e6", "#000000", "#ff00aa"])})

    @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
    @given(sections=sections, variables=variables, title=words,
           robots=st.sampled_from([None, "index, nofollow", "noindex, nofollow"]))
    def check(sections, variables, title, robots):
        n = next(counter)
        bundle = Path(tempfile.mkdtemp(dir=tmp_path)) / "b"
        shutil.copytree(base, bundle)

        def page_doc(d):
            d.update(title=title, url=f"p{n}-thanks", sections={k: {"type": "richText", "value": v}
                                                                  for k, v in sections.items()})
            if robots is None:
                d.pop("robots")
            else:
                d["robots"] = robots
            if not sections:
                d.pop("sections")
            d.pop("variables")
            if variables:
                d["variables"] = variables

        edit_asset(bundle, THANKS, page_doc)
        edit_asset(bundle, REGISTER, lambda d: d.update(url=f"p{n}-register"))
        for rel in (THANKS, REGISTER):
            (bundle / rel).write_bytes(canonical.dump_bytes(json.loads((bundle / rel).read_text())))
        refresh_digests(bundle)
        done = invoke("import", str(bundle), "--target", fake.url, "--as", f"Event {n}", "--yes")
        assert done.exit_code == 0, done.output
        out = bundle.parent / "out"
        exported = invoke("export", f"Event {n}", "--target", fake.url, "--out", str(out))
        assert exported.exit_code == 0, exported.output
        assert (out / THANKS).read_bytes() == (bundle / THANKS).read_bytes()

    check()


def test_the_plan_estimates_the_calls_pages_and_smart_lists_cost(fake, cli_env, invoke, tmp_path):
    bundle = pages_bundle(tmp_path)
    add_smart_list(fake, SL_NAME, rules(FILTERS))  # cloned: read while planning, then one clone
    plan = invoke("import", str(bundle), "--target", fake.url, "--approve", "--dry-run")
    assert plan.exit_code == 0, plan.output
    estimate = int(plan.output.split("applying takes about ")[1].split()[0])
    before = fake.stats["accepted"]
    done = invoke("import", str(bundle), "--target", fake.url, "--approve", "--yes")
    assert done.exit_code == 0, done.output
    planned = int(done.output.split("Marketo API: ")[1].split()[0])  # what planning this import read
    # program, 4 folders, 3 tokens; the template (create, content) and its approval (approve, read back);
    # the smart list (the clone); per page: create, meta description (registration page only), one content
    # read, a call per section and per variable, its approval (approve, read back)
    assert estimate == 1 + 4 + 3 + 2 + 2 + 1 + (1 + 1 + 1 + 3 + 1 + 2) + (1 + 1 + 2 + 1 + 2) == 29
    assert fake.stats["accepted"] - before - planned == estimate
