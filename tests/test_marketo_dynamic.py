"""An email's dynamic content imported into (the stand-in) Marketo, and exported back, through the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bundle_edits import EMAIL, EMAIL_NAME, edit_asset, edit_manifest, line_of
from marketo_support import SECRET, client, fake, cli_env, marketo_env  # noqa: F401

from programkit.workspaces.marketo.client import MarketoError

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "op-lead-management"
PROGRAM = "OP-Lead Management"
SEGMENT_POST = "POST /rest/asset/v1/email/{id}/dynamicContent/{contentId}.json"
SECTION_POST = "POST /rest/asset/v1/email/{id}/content/{htmlId}.json"
SEGMENTS_GET = "GET /rest/asset/v1/segmentation/{id}/segments.json"
DYNAMIC = {"headline": {"segmentation": "Industry",
                        "segments": {"Default": "<h1>New MQL</h1>", "Healthcare": "<h1>New MQL in healthcare</h1>",
                                     "Retail": "<h1>New MQL in retail</h1>"}}}


@pytest.fixture
def env(cli_env):
    return cli_env


def _with_dynamic(bundle: Path, dynamic: dict, version: str | None = None) -> Path:
    """The sample with ``dynamic`` as its email's dynamic content (the static headline section removed)."""
    def email(doc):
        doc["sections"].pop("headline", None)
        doc["dynamicContent"] = dynamic

    def manifest(data):
        data.setdefault("requires", {})["segmentations"] = ["Industry"]
        if version:
            data["version"] = version
    edit_manifest(bundle, manifest)
    edit_asset(bundle, EMAIL, email)
    return bundle


def col_of_key(file: Path, key: str) -> int:
    """1-based column of the value of object key ``key`` (found by searching the text)."""
    line = file.read_text(encoding="utf-8").splitlines()[line_of(file, f'"{key}"') - 1]
    return line.index(f'"{key}": ') + len(f'"{key}": ') + 1


def _paths(fake) -> dict[str, int]:
    return dict(fake.snapshot()["paths"])


def _dynamic_of(fake) -> dict:
    rec = next(a for a in fake.assets["email"].values() if a["name"] == EMAIL_NAME)
    return rec["_dynamic"]


def test_dynamic_content_round_trips_through_marketo(fake, env, invoke, sample_copy, tmp_path):
    bundle = _with_dynamic(sample_copy, DYNAMIC)
    plan = invoke("plan", str(bundle), "--target", fake.url)
    assert plan.exit_code == 0, plan.output
    assert "(dynamic content: 3 segment(s) in 1 section(s), written through the asset API)" in plan.output
    # the sample takes 18; its email now has 3 static sections, not 4 (-1), and its dynamic section costs one
    # call to make it dynamic, one read of the email's content (for the section's dynamic content id) and
    # one call per segment (+5)
    assert "applying takes about 22 more" in plan.output
    before = _paths(fake)
    first = invoke("import", str(bundle), "--target", fake.url, "--yes")
    assert first.exit_code == 0, first.output
    calls = {k: v - before.get(k, 0) for k, v in _paths(fake).items()}
    assert calls[SECTION_POST] == 4 and calls[SEGMENT_POST] == 3
    assert calls["GET /rest/asset/v1/email/{id}/content.json"] == 2  # dynamic content ids; modules
    assert calls[SEGMENTS_GET] == 1  # once per segmentation used, while the import plans
    assert _dynamic_of(fake) == DYNAMIC
    out = tmp_path / "exported"
    exported = invoke("export", PROGRAM, "--target", fake.url, "--out", str(out))
    assert exported.exit_code == 0, exported.output
    doc = json.loads((out / EMAIL).read_text(encoding="utf-8"))
    assert doc["dynamicContent"] == DYNAMIC
    assert doc["sections"] == json.loads((bundle / EMAIL).read_text(encoding="utf-8"))["sections"]
    # an unchanged re-import writes nothing, and reads no segments
    before = _paths(fake)
    again = invoke("import", str(bundle), "--target", fake.url, "--yes")
    assert again.exit_code == 0, again.output
    assert "Recorded as import #2 in the history; nothing else was written." in again.output
    assert not {k for k, v in _paths(fake).items() if v != before.get(k, 0) and k.startswith("POST")}
    assert _paths(fake).get(SEGMENTS_GET) == before.get(SEGMENTS_GET)


def test_an_update_rewrites_the_dynamic_content(fake, env, invoke, sample_copy):
    bundle = _with_dynamic(sample_copy, DYNAMIC)
    assert invoke("import", str(bundle), "--target", fake.url, "--yes").exit_code == 0
    changed = {"headline": {"segmentation": "Industry",
                            "segments": {**DYNAMIC["headline"]["segments"], "Retail": "<h1>Retail MQL</h1>",
                                         "Manufacturing": "<h1>Manufacturing MQL</h1>"}}}
    _with_dynamic(bundle, changed, version="1.1.0")
    before = _paths(fake)
    result = invoke("import", str(bundle), "--target", fake.url, "--yes")
    assert result.exit_code == 0, result.output
    assert _dynamic_of(fake) == changed
    assert _paths(fake)[SEGMENT_POST] - before[SEGMENT_POST] == 4


def test_a_static_section_that_is_also_dynamic_becomes_its_default_segment(fake, env, invoke, sample_copy, tmp_path):
    bundle = _with_dynamic(sample_copy, {"body": {"segmentation": "Industry", "segments": {"Retail": "<p>Shop</p>"}}})
    body = json.loads((bundle / EMAIL).read_text(encoding="utf-8"))["sections"]["body"]
    result = invoke("import", str(bundle), "--target", fake.url, "--yes")
    assert result.exit_code == 0, result.output
    assert _dynamic_of(fake)["body"]["segments"] == {"Retail": "<p>Shop</p>", "Default": body}


def test_missing_segments_are_all_listed_by_preflight(fake, env, invoke, sample_copy):
    dynamic = {"headline": {"segmentation": "Industry", "segments": {"Retail": "<h1>a</h1>", "Energy": "<h1>b</h1>"}},
               "body": {"segmentation": "Industry", "segments": {"Public Sector": "<p>c</p>", "Default": "<p>d</p>"}}}
    bundle = _with_dynamic(sample_copy, dynamic)
    result = invoke("import", str(bundle), "--target", fake.url, "--yes")
    assert result.exit_code == 1
    has = "(it has Manufacturing, Healthcare, Retail, Default)"
    missing = [line for line in result.output.splitlines() if "PK816" in line]

    def where(seg: str) -> str:
        return f"{bundle / EMAIL}:{line_of(bundle / EMAIL, chr(34) + seg + chr(34))}:{col_of_key(bundle / EMAIL, seg)}"
    assert missing == [
        f"  {where('Public Sector')}: PK816 [marketo-segment-missing] segment 'Public Sector' is not in Marketo's "
        f"segmentation 'Industry' {has}",
        f"  {where('Energy')}: PK816 [marketo-segment-missing] segment 'Energy' is not in Marketo's segmentation "
        f"'Industry' {has}"]
    assert "2 problems stop the import:" in result.output
    # body: static HTML and a Default segment; the static HTML is not written (a warning says so)
    assert (f"PK817 [marketo-dynamic-default] section 'body' is not written as static HTML: it is dynamic and its "
            "Default segment is written instead") in result.output
    assert fake.snapshot()["programs"] == []  # nothing written
    assert _paths(fake)[SEGMENTS_GET] == 1  # one read for the segmentation both sections use


def test_a_failure_among_the_segment_writes_then_resume(fake, env, invoke, sample_copy):
    bundle = _with_dynamic(sample_copy, DYNAMIC)
    # Marketo refuses the second segment write (segments are written in the bundle's order: Default, Healthcare, …)
    fake.add_fault({"code": "709", "name": "<h1>New MQL in healthcare</h1>", "message": "Content is locked"})
    failed = invoke("import", str(bundle), "--target", fake.url, "--yes")
    fake.faults.clear()
    assert failed.exit_code == 1
    assert re.search(r"error: import stopped after \d+ step\(s\) \(journal [0-9T-]+-[0-9a-f]+\): Marketo 709 on POST "
                     r"/rest/asset/v1/email/\d+/dynamicContent/RVMt\w+\.json: Content is locked", failed.output)
    assert "PK811 [marketo-import-incomplete]" in failed.output and "--resume" in failed.output
    assert _dynamic_of(fake)["headline"]["segments"] == {"Default": "<h1>New MQL</h1>"}
    before = _paths(fake)
    resumed = invoke("import", str(bundle), "--target", fake.url, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert _dynamic_of(fake) == DYNAMIC
    calls = {k: v - before.get(k, 0) for k, v in _paths(fake).items()}
    # the section is not made dynamic again, and the segment already written is not written again
    assert calls[SEGMENT_POST] == 2
    assert calls.get(SECTION_POST, 0) == 3  # the static sections (their step had not finished)
    texts = [failed.output, resumed.output] + [p.read_text(errors="replace") for p in env.rglob("*") if p.is_file()]
    assert not [t for t in texts if SECRET in t or any(tok in t for tok in fake.tokens)]
    undone = invoke("rollback", "--target", fake.url)
    assert undone.exit_code == 0, undone.output
    assert fake.snapshot()["programs"] == [] and not fake.assets["email"]


def test_an_update_that_drops_the_dynamic_content_makes_the_section_static_again(fake, env, invoke, sample_copy):
    bundle = _with_dynamic(sample_copy, DYNAMIC)
    headline = json.loads((SAMPLE / EMAIL).read_text(encoding="utf-8"))["sections"]["headline"]
    assert invoke("import", str(bundle), "--target", fake.url, "--yes").exit_code == 0

    def static(doc):
        doc.pop("dynamicContent")
        doc["sections"]["headline"] = headline
    edit_asset(bundle, EMAIL, static)
    edit_manifest(bundle, lambda data: data.update(version="1.1.0"))
    result = invoke("import", str(bundle), "--target", fake.url, "--yes")
    assert result.exit_code == 0, result.output
    rec = next(a for a in fake.assets["email"].values() if a["name"] == EMAIL_NAME)
    assert rec["_dynamic"] == {} and rec["_sections"]["headline"] == headline


def test_the_stand_in_refuses_a_segment_its_segmentation_lacks(fake, env, invoke, sample_copy, client):
    assert invoke("import", str(_with_dynamic(sample_copy, DYNAMIC)), "--target", fake.url, "--yes").exit_code == 0
    mid = next(a["id"] for a in fake.assets["email"].values() if a["name"] == EMAIL_NAME)
    cid = next(c["value"] for c in client.get(f"/rest/asset/v1/email/{mid}/content.json") if c["htmlId"] == "headline")
    with pytest.raises(MarketoError) as info:
        client.post(f"/rest/asset/v1/email/{mid}/dynamicContent/{cid}.json",
                    {"segment": "Energy", "type": "HTML", "value": "<h1>x</h1>"})
    assert (info.value.marketo_code, info.value.message) == (
        "709", f"Marketo 709 on POST /rest/asset/v1/email/{mid}/dynamicContent/{cid}.json: Segment 'Energy' not "
               "found in segmentation 'Industry'")
    assert _dynamic_of(fake) == DYNAMIC
    assert [s["name"] for s in client.get("/rest/asset/v1/segmentation/1/segments.json")] == [
        "Manufacturing", "Healthcare", "Retail", "Default"]
