"""Apply into the stand-in Marketo: concurrent batches, keep-both copy reuse, honest output, local history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from programkit.apply import apply_plan
from programkit.workspaces.marketo import MarketoWorkspace

from import_helpers import PNG, add_asset, import_into, plan_for
from marketo_support import client, fake, marketo_env  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "op-lead-management"


@pytest.fixture
def ws(fake, client, tmp_path, monkeypatch):
    monkeypatch.setenv("PROGRAMKIT_STATE_DIR", str(tmp_path / "state"))
    return MarketoWorkspace(fake.url, client=client)


def fresh(ws: MarketoWorkspace) -> MarketoWorkspace:
    """The same instance read afresh, as the next command would."""
    return MarketoWorkspace(ws.url, client=ws.client, state_dir=ws.state_dir)


def _theirs(fake, name: str, content: bytes) -> None:
    """A file someone else uploaded to the instance's Images and Files."""
    from fake_marketo import _design_create

    _design_create(fake, "file", {"name": name, "folder": {"id": 4, "type": "Folder"}}, content,
                   mimeType="image/png", size=len(content))


# -- 2. an earlier identical keep-both copy is reused on Marketo as on SQLite -----------------------------


def test_an_earlier_identical_copy_of_an_image_is_reused_not_copied_again(fake, ws, sample_copy):
    _theirs(fake, "logo.png", b"their logo")
    add_asset(sample_copy, "image", "logo.png", "design-studio/logo.png", PNG, mimeType="image/png")
    plan, _ = import_into(sample_copy, ws)
    assert [(a.action, a.as_name) for a in plan.actions if a.kind == "image"] == [("rename", "logo - 1.png")]
    assert sorted(f["name"] for f in fake.assets["file"].values()) == ["logo - 1.png", "logo.png"]

    # the same bundle again as another program (keepBoth): the copy holds these bytes already
    again, _ = import_into(sample_copy, fresh(ws), as_name="OP-Lead Management 2")
    (image,) = [a for a in again.actions if a.kind == "image"]
    assert (image.action, image.as_name) == ("reuse", "logo - 1.png")
    assert image.reason == "identical content (same sha256) already in the workspace as 'logo - 1.png'"
    assert sorted(f["name"] for f in fake.assets["file"].values()) == ["logo - 1.png", "logo.png"]
    assert sorted(p["name"] for p in fake.programs.values()) == ["OP-Lead Management", "OP-Lead Management 2"]


def test_design_names_finds_image_copies_in_the_form_marketo_and_the_plan_use(fake, ws):
    for name in ("logo.png", "logo - 1.png", "LOGO.png - 3", "logo - x.png", "logo2.png", "logo - 2.gif"):
        _theirs(fake, name, name.encode())
    assert ws.design_names("image", "Logo.PNG") == {"logo.png", "logo - 1.png", "LOGO.png - 3"}


# -- 1. apply hands independent creates over in batches, in dependency order ---------------------------------


def _more_campaigns(bundle_dir: Path, n: int) -> list[str]:
    """n more campaigns (copies of the sample's first, in their own folder) after the sample's assets."""
    body = (SAMPLE / "campaigns" / "01-sync-new-people-to-crm.json").read_bytes()
    names = [f"{i:02d} - Extra Campaign" for i in range(3, 3 + n)]
    for name in names:
        add_asset(bundle_dir, "smartCampaign", name, f"campaigns/{name[:2]}-extra.json", body, folder="Extra")
    data = json.loads((bundle_dir / "bundle.json").read_text())
    data["program"]["folders"].append({"name": "Extra"})
    (bundle_dir / "bundle.json").write_text(json.dumps(data, indent=2))
    from programkit.canonical import refresh_digests

    refresh_digests(bundle_dir)
    return names


def test_apply_hands_creates_over_in_batches_in_dependency_order(fake, ws, sample_copy, monkeypatch):
    from programkit.workspaces.marketo import Journal, MarketoWriter

    extra = _more_campaigns(sample_copy, 8)
    add_asset(sample_copy, "image", "logo.png", "design-studio/logo.png", PNG, mimeType="image/png")
    calls: list[tuple[str, list[str], bool]] = []
    batch, single = MarketoWriter.put_assets, MarketoWriter.put_asset

    def spy_batch(self, items, *, program_id=None):
        calls.append(("batch", [f"{i[0]} {i[1]}" for i in items], program_id is not None))
        return batch(self, items, program_id=program_id)

    def spy_single(self, kind, name, *args, **kw):
        if not any(name in c[1] or f"{kind} {name}" in c[1] for c in calls):  # not one of a batch's creates
            calls.append(("single", [f"{kind} {name}"], kw.get("program_id") is not None))
        return single(self, kind, name, *args, **kw)

    monkeypatch.setattr(MarketoWriter, "put_assets", spy_batch)
    monkeypatch.setattr(MarketoWriter, "put_asset", spy_single)
    fake.latency = 0.01
    plan, record = import_into(sample_copy, ws)
    assert calls == [
        ("batch", ["emailTemplate Quick Start Email Template", "image logo.png"], False),
        ("batch", ["smartCampaign 01 - Sync New People to CRM", "smartCampaign 02 - Marketing Qualified",
                   "email 01 - Email - ALERT - MQL"], True),
        ("single", ["leadLifecycle Lead Lifecycle"], True),  # it names the campaigns before it: after them
        ("batch", [f"smartCampaign {n}" for n in extra], True)]
    snap = fake.snapshot()
    assert snap["assets"]["smartCampaign"] == sorted(["01 - Sync New People to CRM", "02 - Marketing Qualified",
                                                       *extra])
    assert record.outcome == "needs-manual-completion"
    # every create is journalled, and the checklist keeps the bundle's order whatever order the calls finished in
    steps = Journal.load(ws.state_dir).data["steps"]
    assert sorted(s["name"] for s in steps if s["op"] == "create" and s["kind"] == "smartCampaign") == \
        snap["assets"]["smartCampaign"]
    assert [i["name"] for i in ws.checklist] == ["01 - Sync New People to CRM", "02 - Marketing Qualified",
                                                 "01 - Email - ALERT - MQL", "Lead Lifecycle", *extra]
    # the mapping gives every created asset its own Marketo id
    ids = {m["bundleName"]: m["workspaceId"] for m in record.mapping if m["kind"] == "smartCampaign"}
    names = {a["id"]: a["name"] for a in fake.assets["smartCampaign"].values()}
    from programkit.workspaces.marketo import split_id

    assert {b: names[split_id(i)[1]] for b, i in ids.items()} == {n: n for n in ids}
    # and nothing is left to do
    assert plan_for(sample_copy, fresh(ws))[0].nothing_to_do


def test_a_failure_in_a_batch_stops_it_and_resume_finishes_without_duplicates(fake, ws, sample_copy):
    from programkit.errors import ProgramkitError
    from programkit.workspaces.marketo import resume_import, rollback

    extra = _more_campaigns(sample_copy, 20)
    fake.add_fault({"code": "709", "name": "05 - Extra Campaign", "message": "Name is reserved"})
    plan, bundle = plan_for(sample_copy, ws)
    with pytest.raises(ProgramkitError) as info:
        apply_plan(plan, bundle, ws)
    assert [f.code for f in info.value.findings] == ["PK803", "PK811"]
    assert "Marketo 709 on POST /rest/asset/v1/smartCampaigns.json: Name is reserved" in info.value.message
    fake.faults.clear()
    record = resume_import(fresh(ws), bundle)
    assert record.outcome == "needs-manual-completion"
    names = [a["name"] for a in fake.assets["smartCampaign"].values()]
    assert sorted(names) == sorted(["01 - Sync New People to CRM", "02 - Marketing Qualified", *extra])
    journal, left = rollback(fresh(ws))
    assert left == [] and fake.snapshot()["programs"] == [] and not fake.assets["smartCampaign"]
