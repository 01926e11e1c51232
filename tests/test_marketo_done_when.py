"""Issue #13's "done when", against the stand-in: an instance with more than 200 programs and a required tag
type, a bundle with an Email 2.0 email that has modules and dynamic content; `import --approve --activate`
leaves every asset approved and the campaigns active, the checklist holds only what the API cannot do, a
second import does nothing, the export validates, and rolling the first import back leaves the instance as it
was (tokens included)."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from bundle_edits import CAMPAIGN_01, CAMPAIGN_02, EMAIL, edit_asset, edit_manifest, refresh_digests
from fake_marketo import FakeMarketo
from marketo_support import CLIENT_ID, SECRET, cli_env, marketo_env, marketo_rules  # noqa: F401

from programkit import canonical
from programkit.validate import validate_path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "op-lead-management"
DYNAMIC = {"headline": {"segmentation": "Industry",
                        "segments": {"Default": "<h1>New MQL</h1>", "Retail": "<h1>New MQL in retail</h1>"}}}


@pytest.fixture
def instance():
    fake = FakeMarketo(CLIENT_ID, SECRET, rate_limit=100, rate_window=1.0, max_concurrent=10,
                       required_tags={"Region": ["program", "event", "webinar"]})
    fake.start()
    for i in range(210):  # more than one browse page of programs
        pid = 3000 + i
        fake.programs[pid] = {"id": pid, "name": f"Program {i:03d}", "description": "", "type": "Default",
                              "channel": "Operational", "folder": {"id": 8, "type": "Folder"}, "status": "",
                              "tags": [{"tagType": "Region", "tagValue": "EMEA"}], "costs": [], "createdAt": "",
                              "updatedAt": "", "url": None, "workspace": "Default",
                              "_path": f"/Marketing Activities/Default/Program {i:03d}"}
    # an older copy of the program's campaigns, built by hand in the UI: the smart lists to clone
    for n, rel in enumerate((CAMPAIGN_01, CAMPAIGN_02)):
        doc = json.loads((SAMPLE / rel).read_text())
        name = "01 - Sync New People to CRM" if rel == CAMPAIGN_01 else "02 - Marketing Qualified"
        fake.assets["smartCampaign"][900 + n] = {
            "id": 900 + n, "name": name, "description": "", "folder": {"id": 3000, "type": "Program"},
            "createdAt": "", "updatedAt": "", "workspace": "Default", "type": "trigger", "isActive": True,
            "status": "Active", "_path": f"/Marketing Activities/Default/Program 000/{name}",
            "_rules": marketo_rules(doc["smartList"])}
    yield fake
    fake.stop()


def _bundle(tmp_path: Path) -> Path:
    bundle = tmp_path / "op-lead-management"
    shutil.copytree(SAMPLE, bundle)

    def email(doc):
        doc["sections"].pop("headline", None)
        doc["dynamicContent"] = DYNAMIC

    edit_manifest(bundle, lambda m: m.setdefault("requires", {}).update(segmentations=["Industry"]))
    edit_asset(bundle, EMAIL, email)
    # in programkit's canonical JSON, as an export writes it: the digests compare content, not formatting
    (bundle / EMAIL).write_bytes(canonical.dump_bytes(json.loads((bundle / EMAIL).read_text())))
    refresh_digests(bundle)
    return bundle


def _state(fake: FakeMarketo) -> dict:
    with fake.lock:
        return copy.deepcopy({"programs": fake.programs, "folders": fake.folders, "tokens": fake.tokens_by_folder,
                              "assets": {k: {i: {f: v for f, v in a.items() if f != "updatedAt"} for i, a in
                                             v.items()} for k, v in fake.assets.items() if v}})


def test_import_approve_activate_on_a_big_instance_then_noop_export_and_rollback(instance, cli_env, invoke,
                                                                                  tmp_path):
    fake = instance
    bundle = _bundle(tmp_path)
    before = _state(fake)

    done = invoke("import", str(bundle), "--target", fake.url, "--tag", "Region=AMER", "--approve", "--activate",
                  "--yes")
    assert done.exit_code == 0, done.output
    prog = next(p for p in fake.programs.values() if p["name"] == "OP-Lead Management")
    assert prog["_path"] == "/Marketing Activities/Default/OP-Lead Management"
    assert {t["tagType"]: t["tagValue"] for t in prog["tags"]} == {"Program Purpose": "Lead Management",
                                                                   "Region": "AMER"}
    # every draft approved, every campaign the bundle marks active is active, with the smart list cloned
    assert {a["status"] for a in fake.assets["emailTemplate"].values()} == {"approved"}
    assert {a["status"] for a in fake.assets["email"].values()} == {"approved"}
    mine = [a for a in fake.assets["smartCampaign"].values() if a["_path"].startswith(prog["_path"] + "/")]
    assert len(mine) == 2 and all(a["isActive"] and a["_rules"]["triggers"] for a in mine)
    email = next(iter(fake.assets["email"].values()))
    assert email["_modules"] == ["personDetails", "callToAction"]
    assert email["_dynamic"]["headline"]["segments"] == DYNAMIC["headline"]["segments"]
    # the checklist: only what the API cannot do -- flow steps (no flow endpoint) and the lead lifecycle
    # (Revenue Cycle Modeler has no API)
    steps = [line for line in done.output.splitlines() if line.startswith("- [ ] ")]
    assert steps and all(s.startswith(("- [ ] Flow:", "- [ ] Revenue Cycle Modeler", "- [ ] Add the stages",
                                       "- [ ] Transition", "- [ ] SLA", "- [ ] Reason list", "- [ ] Approve the model",
                                       "- [ ] Schedule: set qualification", "- [ ] Schedule: leave off"))
                         for s in steps), steps
    assert "Smart List:" not in done.output and "Approve the email" not in done.output
    assert "Edit Text Version" not in done.output and "Check the modules" not in done.output

    again = invoke("import", str(bundle), "--target", fake.url, "--tag", "Region=AMER", "--approve", "--activate",
                   "--yes")
    assert again.exit_code == 0, again.output
    assert "nothing else was written" in again.output

    out = tmp_path / "exported"
    exported = invoke("export", "OP-Lead Management", "--target", fake.url, "--out", str(out))
    assert exported.exit_code == 0, exported.output
    assert [f for f in validate_path(out).findings if f.severity.value == "error"] == []
    doc = json.loads((out / EMAIL).read_text())
    assert doc["modules"] == ["personDetails", "callToAction"] and doc["dynamicContent"] == DYNAMIC
    assert doc["text"] == json.loads((SAMPLE / EMAIL).read_text())["text"]

    # re-imported: everything the API can read back is unchanged; the campaigns differ only in their flow steps,
    # which no Marketo endpoint reads (the export lists them under needsCompletion), and so does the version
    replan = invoke("import", str(out), "--target", fake.url, "--dry-run", "--format", "json")
    assert replan.exit_code == 0, replan.output
    actions = {(a["kind"], a["name"]): a["action"] for a in json.loads(replan.output)["plan"]["actions"]}
    assert {k for k, v in actions.items() if v != "noop"} == {
        ("program", "OP-Lead Management"), ("smartCampaign", "01 - Sync New People to CRM"),
        ("smartCampaign", "02 - Marketing Qualified")}
    needs = json.loads((out / "bundle.json").read_text())["needsCompletion"]
    assert {(n.get("path"), n["what"]) for n in needs if n.get("path")} == {
        (CAMPAIGN_01, "flow steps"), (CAMPAIGN_02, "flow steps")}

    rolled = invoke("rollback", "--target", fake.url, "--journal",
                    sorted((cli_env / "marketo").rglob("journals/*.jsonl"))[0].stem, "--force")
    assert rolled.exit_code in (0, 1), rolled.output
    assert _state(fake) == before
