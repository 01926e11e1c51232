"""`programkit export PROGRAM --target http://…`: a program read back out of (the stand-in) Marketo as a bundle."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bundle_edits import CAMPAIGN_01, CAMPAIGN_02, EMAIL, col_of, edit_asset, edit_manifest, line_of
from marketo_support import CLIENT_ID, SECRET, fake, cli_env, marketo_env, marketo_rules  # noqa: F401

from programkit.validate import validate_path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "op-lead-management"
PROGRAM = "OP-Lead Management"
FLOW_WHY = ("Marketo's asset API cannot read a smart campaign's flow: Adobe's published REST contract has no flow "
            "endpoint and no includeFlowSteps parameter (a campaign only names its flowId). Copy the steps from "
            "the Marketo UI (Smart Campaign > Flow), including any Call Webhook steps and their webhooks")


@pytest.fixture
def env(cli_env):
    return cli_env


def _sample(rel: str) -> Any:
    return json.loads((SAMPLE / rel).read_text(encoding="utf-8"))


def _strings(sl: dict[str, Any]) -> dict[str, Any]:
    """``sl`` with its values as Marketo gives them back: strings."""
    out = json.loads(json.dumps(sl))
    for f in out.get("filters", []) + [c for t in out.get("triggers", []) for c in t.get("constraints", [])]:
        if "values" in f:
            f["values"] = [json.dumps(v) if isinstance(v, bool) else str(v) for v in f["values"]]
    return out


def _import(invoke, fake, bundle=SAMPLE) -> None:
    result = invoke("import", str(bundle), "--target", fake.url, "--yes")
    assert result.exit_code == 0, result.output


def _complete_as_admin(fake) -> None:
    """Do what the import's checklist asks, as the Marketo UI would store it."""
    for rel, name in ((CAMPAIGN_01, "01 - Sync New People to CRM"), (CAMPAIGN_02, "02 - Marketing Qualified")):
        fake.complete_campaign(name, marketo_rules(_sample(rel)["smartList"]), isActive=True)
    fake.set_email("01 - Email - ALERT - MQL", text=_sample(EMAIL)["text"])


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_round_trip_reads_back_what_the_admin_completed(fake, env, invoke, tmp_path):
    _import(invoke, fake)
    _complete_as_admin(fake)
    out = tmp_path / "exported"
    result = invoke("export", PROGRAM, "--target", fake.url, "--out", str(out))
    assert result.exit_code == 0, result.output
    # not what was imported (no lifecycle, flows to complete): the version names the content
    assert re.match(re.escape(f"Exported '{PROGRAM}' to {out}: op-lead-management 1.0.0+export.") + "[0-9a-f]{8}"
                    + re.escape(" (2 smartCampaign, 1 email, 1 emailTemplate)\n"), result.output), result.output
    assert ("  version:  the program differs from op-lead-management 1.0.0 as imported (import #1), so the "
            "version names the exported content; pass --version to choose one\n") in result.output
    # the reads: as before the kind modules (at most 16), plus one browse of the program per kind module
    from programkit.workspaces.marketo import kinds as marketo_kinds

    calls = re.search(r"^Marketo API: (\d+) call\(s\) \(0\.0[0-9]% of the daily quota of 50,000\)\.$",
                      result.output, re.M)
    assert calls and int(calls.group(1)) <= 16 + len(marketo_kinds.all_handlers()), result.output
    # campaigns: the smart lists the admin built come back as triggers, filters and rule logic
    for rel in (CAMPAIGN_01, CAMPAIGN_02):
        sample, doc = _sample(rel), json.loads((out / rel).read_text(encoding="utf-8"))
        assert doc == {"active": True, "communicationLimits": False, "description": sample["description"],
                       "flow": [], "qualificationRule": "once", "smartList": _strings(sample["smartList"]),
                       "type": "trigger"}
    # the email: all of it, its modules (content.json lists them) and text version (textValue) included
    email = _sample(EMAIL)
    assert json.loads((out / EMAIL).read_text(encoding="utf-8")) == email
    template = "design-studio/quick-start-email-template.html"
    assert (out / template).read_bytes() == (SAMPLE / template).read_bytes()
    manifest = json.loads((out / "bundle.json").read_text(encoding="utf-8"))
    program = _sample("bundle.json")["program"]
    del program["analyticsBehavior"]  # not in Marketo's program answer
    for tok in program["tokens"]:
        del tok["description"]  # Marketo keeps no token descriptions
    assert manifest["program"] == program
    assert manifest["needsCompletion"] == [
        {"what": "leadLifecycle 'Lead Lifecycle'",
         "why": "import #1 brought it in from op-lead-management 1.0.0 (lifecycle/lead-lifecycle.json), but the "
                "target has no object for it, so it cannot be read back: copy it from that bundle"},
        {"path": CAMPAIGN_01, "pointer": "/flow", "what": "flow steps", "why": FLOW_WHY},
        {"path": CAMPAIGN_02, "pointer": "/flow", "what": "flow steps", "why": FLOW_WHY}]
    # validate: no error, one PK113 warning per item, where it is to be completed
    findings = validate_path(out).findings
    assert [f.code for f in findings if f.severity.value == "error"] == []
    got = {(f.file, f.line) for f in findings if f.code == "PK113"}
    assert got == {("bundle.json", line_of(out / "bundle.json", '"needsCompletion"') + 1),
                   (CAMPAIGN_01, line_of(out / CAMPAIGN_01, '"flow"')), (CAMPAIGN_02, line_of(out / CAMPAIGN_02, '"flow"'))}
    shown = invoke("validate", str(out))
    assert shown.exit_code == 0
    flow_line = line_of(out / CAMPAIGN_02, '"flow"')
    assert f"{CAMPAIGN_02}:{flow_line}:" in shown.output
    assert "PK113 [needs-completion] smartCampaign '02 - Marketing Qualified': flow steps to complete by hand: " \
           "Marketo's asset API cannot read" in " ".join(shown.output.split())
    assert shown.output.count("PK113") == 3


def test_an_import_that_was_never_completed_exports_with_its_smart_lists_marked(fake, env, invoke, tmp_path):
    _import(invoke, fake)
    out = tmp_path / "exported"
    result = invoke("export", PROGRAM, "--target", fake.url, "--out", str(out))
    assert result.exit_code == 0, result.output
    doc = json.loads((out / CAMPAIGN_02).read_text(encoding="utf-8"))
    assert doc["smartList"] == {} and doc["type"] == "batch" and "active" not in doc  # what Marketo holds
    needs = json.loads((out / "bundle.json").read_text(encoding="utf-8"))["needsCompletion"]
    assert [(n.get("path"), n.get("pointer"), n["what"]) for n in needs] == [
        (None, None, "leadLifecycle 'Lead Lifecycle'"),
        (CAMPAIGN_01, "/smartList", "smart list (triggers and filters)"), (CAMPAIGN_01, "/flow", "flow steps"),
        (CAMPAIGN_02, "/smartList", "smart list (triggers and filters)"), (CAMPAIGN_02, "/flow", "flow steps")]
    assert result.output.count("PK113") == 5  # export shows validate's warnings too


def test_odd_rules_become_items_to_complete_not_guesses(fake, env, invoke, tmp_path):
    _import(invoke, fake)
    rules = marketo_rules(_sample(CAMPAIGN_02)["smartList"], logic="Advanced")
    rules["triggers"].append({"id": 9, "ruleType": "?", "conditions": []})  # a trigger without a name
    fake.complete_campaign("02 - Marketing Qualified", rules, qualificationRuleType="interval",
                           qualificationRuleInterval=3, qualificationRuleUnit="month")
    out = tmp_path / "exported"
    result = invoke("export", PROGRAM, "--target", fake.url, "--out", str(out))
    assert result.exit_code == 0, result.output
    doc = json.loads((out / CAMPAIGN_02).read_text(encoding="utf-8"))
    assert "ruleLogic" not in doc["smartList"] and "qualificationRule" not in doc
    assert len(doc["smartList"]["triggers"]) == 1 and len(doc["smartList"]["filters"]) == 3
    needs = json.loads((out / "bundle.json").read_text(encoding="utf-8"))["needsCompletion"]
    mine = [(n.get("pointer"), n["what"]) for n in needs if n.get("path") == CAMPAIGN_02]
    assert mine == [("/smartList", "trigger 2"), ("/smartList", "rule logic"), (None, "qualification rule"),
                    ("/flow", "flow steps")]
    assert "'Advanced' logic but its API does not give the expression" in json.dumps(needs)


def test_one_asset_marketo_refuses_is_a_finding_with_marketos_code(fake, env, invoke, tmp_path):
    _import(invoke, fake)
    fake.add_fault({"code": "702", "path": "GET /rest/asset/v1/smartCampaign/{id}/smartList.json"})
    fake.add_fault({"code": "610", "path": "GET /rest/asset/v1/email/{id}/variables.json"})
    out = tmp_path / "exported"
    result = invoke("export", PROGRAM, "--target", fake.url, "--out", str(out))
    assert result.exit_code == 1
    assert "error: 2 asset(s) of the program could not be exported from Marketo" in result.output
    assert re.search(r"PK913 \[marketo-export-read-failed\] smartCampaign '0[12] - [^']+' \(id 100[12]\): Marketo 702 "
                     r"on GET /rest/asset/v1/smartCampaign/100[12]/smartList.json: No data found", result.output)
    assert "PK913 [marketo-export-read-failed] email '01 - Email - ALERT - MQL' (id 1001): Marketo 610 on GET " \
           "/rest/asset/v1/email/1001/variables.json" in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_browse_pages_through_more_than_200_campaigns(fake, env, invoke, tmp_path):
    _import(invoke, fake)
    folder = next(f for f in fake.folders.values() if f["path"].endswith(f"{PROGRAM}/Campaigns"))
    for i in range(205):  # as if created in the UI
        aid = fake.new_id("smartCampaign")
        fake.assets["smartCampaign"][aid] = {
            **{k: v for k, v in fake.assets["smartCampaign"][1001].items() if k not in ("_rules",)},
            "id": aid, "name": f"Extra {i:03d}", "_path": f"{folder['path']}/Extra {i:03d}",
            "folder": {"id": folder["id"], "type": "Folder"}, "type": "default"}
    out = tmp_path / "exported"
    browsed = fake.snapshot()["paths"]["GET /rest/asset/v1/smartCampaigns.json"]  # the import's look for a clone
    result = invoke("export", PROGRAM, "--target", fake.url, "--out", str(out))
    assert result.exit_code == 0, result.output
    names = [a["name"] for a in json.loads((out / "bundle.json").read_text(encoding="utf-8"))["assets"]
             if a["kind"] == "smartCampaign"]
    assert len(names) == 207 and "Extra 204" in names
    stats = fake.snapshot()["paths"]
    assert stats["GET /rest/asset/v1/smartCampaigns.json"] - browsed == 2  # 200 + 7: one call per page, not per name


def test_images_the_email_uses_are_downloaded(fake, env, invoke, tmp_path, sample_copy):
    png = b"\x89PNG\r\n\x1a\n" + hashlib.sha256(b"logo").digest()
    (sample_copy / "images").mkdir()
    (sample_copy / "images" / "logo.png").write_bytes(png)
    edit_manifest(sample_copy, lambda m: m["assets"].append(
        {"kind": "image", "name": "logo.png", "path": "images/logo.png", "mimeType": "image/png",
         "sha256": hashlib.sha256(png).hexdigest()}))
    edit_asset(sample_copy, EMAIL, lambda d: d["sections"].update(headline='<h1><img src="logo.png" alt="" /></h1>'))
    _import(invoke, fake, sample_copy)
    out = tmp_path / "exported"
    result = invoke("export", PROGRAM, "--target", fake.url, "--out", str(out))
    assert result.exit_code == 0, result.output
    entry = next(a for a in json.loads((out / "bundle.json").read_text(encoding="utf-8"))["assets"]
                 if a["kind"] == "image")
    assert entry == {"kind": "image", "name": "logo.png", "path": "images/logo.png", "mimeType": "image/png",
                     "sha256": hashlib.sha256(png).hexdigest()}
    assert (out / "images" / "logo.png").read_bytes() == png


def test_validate_checks_needs_completion_items(sample_copy, invoke):
    edit_manifest(sample_copy, lambda m: m.update(needsCompletion=[
        {"path": CAMPAIGN_01, "pointer": "/flow", "what": "flow steps", "why": "not readable"},
        {"path": "campaigns/gone.json", "what": "x", "why": "y"},
        {"path": CAMPAIGN_02, "pointer": "/flows", "what": "x", "why": "y"},
        {"pointer": "/program/tokens", "what": "token descriptions", "why": "Marketo keeps none"},
        {"what": "no why"}]))
    result = invoke("validate", str(sample_copy), "--format", "json")
    found = sorted((f["code"], os.path.relpath(f["file"], sample_copy), f["pointer"]) for f in json.loads(result.output)
                   if f["code"] in ("PK102", "PK113", "PK114", "PK115"))
    assert found == [("PK102", "bundle.json", "/needsCompletion/4"),
                     ("PK113", "bundle.json", "/needsCompletion/3"),
                     ("PK113", CAMPAIGN_01, "/flow"),
                     ("PK114", "bundle.json", "/needsCompletion/1/path"),
                     ("PK115", "bundle.json", "/needsCompletion/2/pointer")]
    assert result.exit_code == 1


def test_export_in_a_subprocess_is_byte_identical_and_never_shows_a_secret(fake, tmp_path):
    script = Path(sys.executable).parent / "programkit"
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "programkit"]
    env = {**os.environ, "MARKETO_CLIENT_ID": CLIENT_ID, "MARKETO_CLIENT_SECRET": SECRET,
           "PROGRAMKIT_STATE_DIR": str(tmp_path / "state"), "PROGRAMKIT_MARKETO_RATE": "50/1"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cmd, *args], capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)

    runs = [run("import", str(SAMPLE), "--target", fake.url, "--yes")]
    _complete_as_admin(fake)
    runs += [run("export", PROGRAM, "--target", fake.url, "--out", str(tmp_path / name), *extra)
             for name, extra in (("a", ()), ("b", ("--format", "json")), ("c.zip", ()), ("d.zip", ()))]
    runs.append(run("validate", str(tmp_path / "a")))
    assert [r.returncode for r in runs] == [0] * 6, [r.stderr for r in runs]
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert (tmp_path / "c.zip").read_bytes() == (tmp_path / "d.zip").read_bytes()
    texts = [t for r in runs for t in (r.stdout, r.stderr)]
    texts += [p.read_bytes().decode("utf-8", "replace") for p in tmp_path.rglob("*") if p.is_file()]
    tokens = list(fake.tokens)
    assert tokens and fake.snapshot()["identity"] >= 2
    assert not [t for t in texts if SECRET in t or any(tok in t for tok in tokens)]


def test_dynamic_content_is_read_with_its_segmentation(fake, env, invoke, tmp_path):
    _import(invoke, fake)
    segments = {"Default": "<p>Hello</p>", "Retail": "<p>Hello, retail</p>"}
    fake.set_email("01 - Email - ALERT - MQL", dynamic={"body": {"segmentation": "Industry", "segments": segments}})
    out = tmp_path / "exported"
    result = invoke("export", PROGRAM, "--target", fake.url, "--out", str(out))
    assert result.exit_code == 0, result.output
    doc = json.loads((out / EMAIL).read_text(encoding="utf-8"))
    assert doc["dynamicContent"] == {"body": {"segmentation": "Industry", "segments": segments}}
    assert "body" not in doc["sections"]
    manifest = json.loads((out / "bundle.json").read_text(encoding="utf-8"))
    assert manifest["requires"]["segmentations"] == ["Industry"]
    assert fake.snapshot()["paths"]["GET /rest/asset/v1/email/{id}/dynamicContent/{contentId}.json"] == 1


def test_hostile_answers_are_handled_not_tracebacks(fake, env, invoke, tmp_path):
    _import(invoke, fake)
    # rules that are not an object, an email section given as a bare string, a header field that is dynamic
    next(a for a in fake.assets["smartCampaign"].values() if a["name"].startswith("01"))["_rules"] = ["not", "a", "dict"]
    email = next(a for a in fake.assets["email"].values())
    email["fromName"] = {"type": "DynamicContent", "value": "RVMtZnJvbU5hbWU="}
    email["_section_types"]["ctaText"] = "Image"
    out = tmp_path / "exported"
    result = invoke("export", PROGRAM, "--target", fake.url, "--out", str(out))
    assert result.exit_code == 0, result.output
    doc = json.loads((out / EMAIL).read_text(encoding="utf-8"))
    assert "fromName" not in doc and "ctaText" not in doc["sections"]
    needs = json.loads((out / "bundle.json").read_text(encoding="utf-8"))["needsCompletion"]
    assert [n["what"] for n in needs if n.get("path") == EMAIL] == [
        "fromName (DynamicContent)", "section 'ctaText' (Image)"]
    assert [n["what"] for n in needs if n.get("path") == CAMPAIGN_01] == [
        "smart list (triggers and filters)", "flow steps"]
    # and an email Marketo gives without a subject cannot be a bundle email: a clear error, nothing written
    email["subject"] = {"type": "Text", "value": ""}
    failed = invoke("export", PROGRAM, "--target", fake.url, "--out", str(tmp_path / "second"))
    assert failed.exit_code == 1
    assert "PK914 [marketo-export-unmappable] email '01 - Email - ALERT - MQL' (id 1001) has no subject in " \
           "Marketo (a bundle email needs one)" in failed.output
    assert not (tmp_path / "second").exists()


def test_nested_folders_and_rich_text_tokens_come_back(fake, env, invoke, tmp_path, sample_copy):
    def nest(m: dict[str, Any]) -> None:
        m["program"]["folders"][0]["folders"] = [{"name": "Scoring", "folders": [{"name": "Deep"}]}]
        next(a for a in m["assets"] if a["path"] == CAMPAIGN_02)["folder"] = "Campaigns/Scoring/Deep"
        m["program"]["tokens"].append({"name": "Signature", "type": "richText", "value": "<p>Ops</p>"})

    edit_manifest(sample_copy, nest)
    _import(invoke, fake, sample_copy)
    out = tmp_path / "exported"
    result = invoke("export", PROGRAM, "--target", fake.url, "--out", str(out))
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "bundle.json").read_text(encoding="utf-8"))
    assert manifest["program"]["folders"] == [{"name": "Campaigns", "folders": [
        {"name": "Scoring", "folders": [{"name": "Deep"}]}]}, {"name": "Email Alert"}]
    assert next(a for a in manifest["assets"] if a["path"] == CAMPAIGN_02)["folder"] == "Campaigns/Scoring/Deep"
    # a rich text token is "rich text" in Marketo and richText in a bundle, both ways
    assert fake.tokens_by_folder[("Program", 1001)]["Signature"]["type"] == "rich text"
    assert manifest["program"]["tokens"][-1] == {"name": "Signature", "type": "richText", "value": "<p>Ops</p>"}


def test_a_plan_warns_about_what_still_needs_completion(sample_copy, invoke, tmp_path):
    edit_manifest(sample_copy, lambda m: m.update(needsCompletion=[
        {"path": CAMPAIGN_01, "pointer": "/flow", "what": "flow steps", "why": "not readable"}]))
    db = str(tmp_path / "w.db")
    assert invoke("workspace", "init", "--target", db, "--crm", "salesforce").exit_code == 0
    result = invoke("plan", str(sample_copy), "--target", db)
    assert result.exit_code == 0, result.output
    line = line_of(sample_copy / CAMPAIGN_01, '"flow"')
    column = col_of(sample_copy / CAMPAIGN_01, line, '"flow": ')
    assert f"{CAMPAIGN_01}:{line}:{column}: PK113 [needs-completion] smartCampaign '01 - Sync New People to CRM': flow " \
           "steps to complete by hand: not readable" in result.output


def test_an_email_listed_once_per_version_is_exported_once(fake, env, invoke, tmp_path, monkeypatch):
    _import(invoke, fake)
    import fake_marketo

    listed = fake_marketo.ROUTES[("GET", "/rest/asset/v1/emails.json")]

    def both_versions(fk, pp, q, files):  # Marketo lists an approved email with a draft twice
        answer = listed(fk, pp, q, files)
        rows = answer.get("result") or []
        return {"result": [{**r, "status": "approved"} for r in rows] + rows} if rows else answer

    monkeypatch.setitem(fake_marketo.ROUTES, ("GET", "/rest/asset/v1/emails.json"), both_versions)
    out = tmp_path / "exported"
    result = invoke("export", PROGRAM, "--target", fake.url, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert [a["kind"] for a in json.loads((out / "bundle.json").read_text(encoding="utf-8"))["assets"]].count(
        "email") == 1
