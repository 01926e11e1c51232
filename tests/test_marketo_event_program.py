"""Issue #15's end to end on the Marketo target: the event-program sample (its forms, landing pages, static
lists and smart list with its emails and campaigns) validates, imports into a fresh stand-in with --approve
(forms approved before the pages that place them), a second import changes nothing, export gives the bundle
back byte-identical except what Adobe's API cannot read (said exactly below), and rollback leaves the stand-in
as it was.

A second test does the same for the sample without its forms, static lists and campaigns (which name them):
its templates, landing pages, smart list and emails, with nothing but the page's meta description left unread."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

import fake_marketo
from fake_marketo import FakeMarketo
from fake_marketo_pages import add_smart_list
from marketo_support import CLIENT_ID, SECRET, cli_env, marketo_env, marketo_rules  # noqa: F401

from programkit.validate import validate_path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "event-program"
PROGRAM = "EV-Customer Event"
SMART_LIST = "smart-lists/invitees-not-yet-registered.json"
REGISTER = "landing-pages/event-registration-page.json"
FORM = "forms/event-registration-form.json"
CAMPAIGNS = sorted(p.relative_to(SAMPLE).as_posix() for p in (SAMPLE / "campaigns").glob("*.json"))


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


def _state(fake: FakeMarketo) -> dict:
    with fake.lock:
        return copy.deepcopy({"programs": fake.programs, "folders": fake.folders, "tokens": fake.tokens_by_folder,
                              "assets": {k: {i: {f: v for f, v in a.items() if f != "updatedAt"} for i, a in
                                             v.items()} for k, v in fake.assets.items() if v}})


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != "bundle.json"}


def _rules(sl: dict) -> dict:
    """A bundle smart list as Marketo answers it with includeRules=true, filters' constraints included."""
    out = marketo_rules(sl)
    for f, raw in zip(out["filters"], sl.get("filters", [])):
        f["conditions"] += [{"activityAttributeId": 8, "activityAttributeName": c["name"], "operator": c["operator"],
                             "values": c["values"], "isPrimary": False} for c in raw.get("constraints", [])]
    return out


def test_the_event_program_imports_exports_and_rolls_back_on_the_stand_in(fake, cli_env, invoke, tmp_path):
    assert validate_path(SAMPLE).ok
    before = _state(fake)

    done = invoke("import", str(SAMPLE), "--target", fake.url, "--approve", "--yes")
    assert done.exit_code == 0, done.output
    prog = next(p for p in fake.programs.values() if p["name"] == PROGRAM)
    for kind in ("form", "landingPage", "emailTemplate", "landingPageTemplate", "email"):
        assert {a["status"] for a in fake.assets[kind].values()} == {"approved"}, kind
    # forms before the pages that place them (Marketo will not approve a page on a draft form)
    journal = [json.loads(line) for line in sorted((cli_env / "marketo").rglob("journals/*.jsonl"))[0]
               .read_text().splitlines() if line.strip()]
    order = [s["kind"] for s in journal if s.get("op") == "approve"]
    assert order.index("landingPage") > max(i for i, k in enumerate(order) if k == "form")
    register = next(a for a in fake.assets["landingPage"].values() if a["name"] == "Event Registration Page")
    form = next(iter(fake.assets["form"].values()))
    assert register["_sections"]["form"] == {"type": "Form", "value": str(form["id"])}
    assert register["_path"] == f"{prog['_path']}/Assets/Event Registration Page"
    # the smart list: nothing to clone in a fresh instance, so it is on the checklist whole
    assert fake.assets["smartList"] == {} and "## smartList \"Invitees Not Yet Registered\" (not written" in done.output

    again = invoke("import", str(SAMPLE), "--target", fake.url, "--approve", "--yes")
    assert again.exit_code == 0, again.output
    assert "No changes" in again.output and "nothing else was written" in again.output

    # an admin follows the checklist: the smart list, and each campaign's smart list and schedule
    lists = next(f for f in fake.folders.values() if f["path"] == f"{prog['_path']}/Lists")
    sl_doc = json.loads((SAMPLE / SMART_LIST).read_text())
    add_smart_list(fake, "Invitees Not Yet Registered", _rules(sl_doc["smartList"]),
                   {"id": lists["id"], "type": "Folder"}, description=sl_doc["description"])
    for rel in CAMPAIGNS:
        doc = json.loads((SAMPLE / rel).read_text())
        name = next(a["name"] for a in json.loads((SAMPLE / "bundle.json").read_text())["assets"] if a["path"] == rel)
        fake.complete_campaign(name, _rules(doc["smartList"]), isActive=bool(doc.get("active")))

    out = tmp_path / "exported"
    exported = invoke("export", PROGRAM, "--target", fake.url, "--out", str(out))
    assert exported.exit_code == 0, exported.output
    assert [f.message for f in validate_path(out).findings if f.severity.value == "error"] == []
    want, got = _files(SAMPLE), _files(out)
    assert sorted(got) == sorted(want)
    differ = sorted(p for p in want if got[p] != want[p])
    # what Adobe's API cannot read, and only that: a campaign's flow (no flow endpoint), which comes back empty;
    # a page's meta description (LandingPageResponse has no field for it); a hidden form field's autofill (the
    # Forms API has no autofill setting). The campaigns' smart lists, active flags and schedules, the smart list,
    # the pages, the templates, the emails and the lists come back as they were.
    assert differ == CAMPAIGNS + [FORM, REGISTER], differ
    for rel in CAMPAIGNS:
        assert json.loads(got[rel]) == {**json.loads(want[rel]), "flow": []}, rel
    page = json.loads(want[REGISTER])
    del page["metaDescription"]
    assert json.loads(got[REGISTER]) == page
    form = json.loads(want[FORM])
    hidden = next(i for i, f in enumerate(form["fields"]) if f.get("autofill"))
    del form["fields"][hidden]["autofill"]
    assert json.loads(got[FORM]) == form
    needs = json.loads((out / "bundle.json").read_text())["needsCompletion"]
    assert sorted((n.get("path"), n.get("pointer", ""), n["what"]) for n in needs) == sorted(
        [(rel, "/flow", "flow steps") for rel in CAMPAIGNS] + [
            (REGISTER, "", "meta description"), (FORM, f"/fields/{hidden}", "autofill of hidden field 'Person Source'"),
            (FORM, "", "custom CSS")])  # the Forms API writes CSS but never gives it back: said, though none was set

    journals = sorted((cli_env / "marketo").rglob("journals/*.jsonl"))
    rolled = invoke("rollback", "--target", fake.url, "--journal", journals[0].stem, "--force")
    assert rolled.exit_code in (0, 1), rolled.output
    after = _state(fake)
    # the smart list the admin built by hand is the admin's: rollback deletes only what the import created
    after["assets"].pop("smartList", None)
    after["assets"] = {k: v for k, v in after["assets"].items() if v}
    assert after == before


def test_the_event_program_without_forms_and_lists_round_trips_through_the_stand_in(fake, cli_env, invoke,
                                                                                    tmp_path):
    """The sample's templates, landing pages (the registration page without its form), smart list and emails."""
    import shutil

    from bundle_edits import edit_asset, edit_manifest, refresh_digests

    from programkit import canonical

    bundle = tmp_path / "event"
    shutil.copytree(SAMPLE, bundle)
    edit_manifest(bundle, lambda m: m.update(assets=[a for a in m["assets"] if a["kind"] not in (
        "form", "staticList", "smartCampaign")]))
    for d in ("forms", "lists", "campaigns"):
        shutil.rmtree(bundle / d)
    edit_asset(bundle, REGISTER, lambda d: d["sections"].pop("form"))
    # the smart list's filters on what the bundle still has (its lists and form are not in it)
    edit_asset(bundle, SMART_LIST, lambda d: d["smartList"].update(filters=[
        {"filter": "Visited Web Page", "operator": "is", "values": ["Event Registration Page"]}]))
    for rel in (REGISTER, SMART_LIST):
        (bundle / rel).write_bytes(canonical.dump_bytes(json.loads((bundle / rel).read_text())))
    refresh_digests(bundle)
    assert validate_path(bundle).ok
    before = _state(fake)

    done = invoke("import", str(bundle), "--target", fake.url, "--approve", "--yes")
    assert done.exit_code == 0, done.output
    for kind in ("landingPage", "emailTemplate", "landingPageTemplate", "email"):
        assert {a["status"] for a in fake.assets[kind].values()} == {"approved"}, kind
    journal = [json.loads(line) for line in sorted((cli_env / "marketo").rglob("journals/*.jsonl"))[0]
               .read_text().splitlines() if line.strip()]
    order = [s["kind"] for s in journal if s.get("op") == "approve"]
    assert order.index("landingPageTemplate") < min(i for i, k in enumerate(order) if k == "landingPage")
    assert fake.assets["smartList"] == {}  # nothing to clone: on the checklist whole
    again = invoke("import", str(bundle), "--target", fake.url, "--approve", "--yes")
    assert again.exit_code == 0 and "No changes" in again.output, again.output

    prog = next(p for p in fake.programs.values() if p["name"] == PROGRAM)
    lists = next(f for f in fake.folders.values() if f["path"] == f"{prog['_path']}/Lists")
    sl_doc = json.loads((bundle / SMART_LIST).read_text())
    add_smart_list(fake, "Invitees Not Yet Registered", _rules(sl_doc["smartList"]),
                   {"id": lists["id"], "type": "Folder"}, description=sl_doc["description"])  # the admin
    out = tmp_path / "exported"
    exported = invoke("export", PROGRAM, "--target", fake.url, "--out", str(out))
    assert exported.exit_code == 0, exported.output
    want, got = _files(bundle), _files(out)
    assert sorted(got) == sorted(want)
    assert sorted(p for p in want if got[p] != want[p]) == [REGISTER]  # its meta description, which no answer has
    page = json.loads(want[REGISTER])
    del page["metaDescription"]
    assert json.loads(got[REGISTER]) == page
    needs = json.loads((out / "bundle.json").read_text())["needsCompletion"]
    assert [(n.get("path"), n["what"]) for n in needs] == [(REGISTER, "meta description")]

    journals = sorted((cli_env / "marketo").rglob("journals/*.jsonl"))
    rolled = invoke("rollback", "--target", fake.url, "--journal", journals[0].stem)
    assert rolled.exit_code == 0, rolled.output
    after = _state(fake)
    after["assets"] = {k: v for k, v in after["assets"].items() if v}
    assert after == before
