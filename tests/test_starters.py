"""Every sample is a starter: `programkit new NAME` with the defaults writes the sample byte for byte.

Also: names in any script (transliterated slugs), limits stated, values and parameter
names matched without regard to case, and what each starter's own parameters change.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SAMPLES
from programkit import render
from programkit.validate import validate_path

STARTERS = sorted(t.name for t in render.list_templates())
SAMPLE_NAMES = sorted(p.name for p in SAMPLES.iterdir() if (p / "bundle.json").is_file())


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def console() -> list[str]:
    exe = shutil.which("programkit")
    return [exe] if exe else [sys.executable, "-m", "programkit"]


def test_every_sample_has_a_starter_and_the_seed_lifecycles_are_there():
    assert set(SAMPLE_NAMES) <= set(STARTERS), (
        "each sample in samples/ needs a starter: programkit/templates/NAME/ (template.json + bundle/) whose "
        "default render is the sample")
    assert {"op-lead-management", "hubspot-lead-settings", "partner-center-referrals",
            "superoffice-lead-status"} <= set(STARTERS)


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_default_render_is_the_sample_byte_for_byte(tmp_path, name):
    result = render.new_bundle(name, tmp_path / "out")
    rendered, sample = tree(tmp_path / "out"), tree(SAMPLES / name)
    differ = sorted(rel for rel in rendered.keys() | sample.keys() if rendered.get(rel) != sample.get(rel))
    assert differ == [], f"`programkit new {name}` and samples/{name} differ in {differ}"
    assert result.findings == []


def test_console_script_renders_each_sample_like_ci_diff(tmp_path):
    """What CI does (`programkit new NAME rendered && diff -r rendered samples/NAME`), through the real script."""
    for name in SAMPLE_NAMES:
        proc = subprocess.run(console() + ["new", name, str(tmp_path / name)], capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith(f"created {tmp_path / name} from {name} (")
        assert tree(tmp_path / name) == tree(SAMPLES / name)


def test_list_says_what_each_starter_is_for(invoke):
    res = invoke("new", "--list")
    assert res.exit_code == 0
    lines = res.output.splitlines()
    for t in render.list_templates():
        assert f"{t.name:<24} {t.description}" in lines
        assert f"{'':<24} parameters: {', '.join(t.parameters)}" in lines
    assert "partner-center-referrals" in res.output and "expiry after N days" in res.output
    assert lines[-1] == "`programkit new NAME --params` explains each parameter and its default."


@pytest.mark.parametrize("name", STARTERS)
def test_params_document_every_parameter_with_its_default(invoke, name):
    res = invoke("new", "--params", name)
    assert res.exit_code == 0
    template = render.find_template(name)
    assert res.output.startswith(f"{name}: {template.description}\n")
    for p in template.parameters.values():
        default = json.dumps(p.default, ensure_ascii=False)
        assert f"  {p.name} ({p.type}, default {default}" in res.output
        assert f"      {p.description}\n" in res.output


# --- names in any script ----------------------------------------------------------------

@pytest.mark.parametrize("program, slug", [
    ("Équipe Montréal", "equipe-montreal"),
    ("営業チーム", "yingyechimu"),
    ("Straße & Ørsted – Leads", "strasse-orsted-leads"),
    ("Łódź Lead Management", "lodz-lead-management"),
])
def test_program_names_in_any_script_and_a_transliterated_slug(tmp_path, invoke, program, slug):
    res = invoke("new", "op-lead-management", str(tmp_path / "out"), "--set", f"programName={program}",
                 "--set", "prefix=Équipe")
    assert res.exit_code == 0, res.output
    manifest = json.loads((tmp_path / "out/bundle.json").read_text(encoding="utf-8"))
    assert (manifest["name"], manifest["program"]["name"]) == (slug, program)
    assert manifest["assets"][0]["name"] == "Équipe - 01 - Sync New People to CRM"
    assert validate_path(tmp_path / "out").findings == []


STARTERS = sorted(p.name for p in SAMPLES.iterdir() if p.is_dir())


@pytest.mark.parametrize("starter", STARTERS)
@pytest.mark.parametrize("program, slug", [
    ("東京イベント 2027", "dongjingibento-2027"),  # starts with a letter no Latin pattern knows
    ("حملة الربيع", "hmlh-lrby"),
    ("「Kick-off」", "kick-off"),  # starts with punctuation of another script
])
def test_every_starter_takes_a_program_name_in_any_script(tmp_path, invoke, starter, program, slug):
    res = invoke("new", starter, str(tmp_path / "out"), "--set", f"programName={program}")
    assert res.exit_code == 0, res.output
    # the slug is said where it is made, not first met in a plan
    assert res.stdout.splitlines()[-1] == f"  bundle {slug} 1.0.0, program {program!r}"
    manifest = json.loads((tmp_path / "out/bundle.json").read_text(encoding="utf-8"))
    assert (manifest["name"], manifest["program"]["name"]) == (slug, program)
    assert validate_path(tmp_path / "out").findings == []


def test_a_japanese_event_program_imports_and_exports_back_identical(tmp_path, invoke):
    """The first hour of a consultant in Tokyo: new, validate, import, export, the same bundle back."""
    bundle, exported, db = tmp_path / "東京", tmp_path / "exported", str(tmp_path / "pk.db")
    assert invoke("new", "event-program", str(bundle), "--set", "programName=EV-東京イベント 2027",
                  "--set", "eventName=年次カンファレンス").exit_code == 0
    assert invoke("validate", str(bundle)).exit_code == 0
    assert invoke("workspace", "init", "--target", db).exit_code == 0
    done = invoke("import", str(bundle), "--target", db, "--yes")
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines()[-1] == ("Imported ev-dongjingibento-2027 1.0.0 into workspace 'Default' as "
                                            "program 'EV-東京イベント 2027' (import #1, 26 changes).")
    res = invoke("export", "EV-東京イベント 2027", "--target", db, "-o", str(exported))
    assert res.exit_code == 0, res.output
    files = sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(exported).as_posix() for p in exported.rglob("*") if p.is_file())
    assert all((bundle / f).read_bytes() == (exported / f).read_bytes() for f in files)


def test_unicode_name_through_the_console_script(tmp_path):
    proc = subprocess.run(console() + ["new", "superoffice-lead-status", str(tmp_path / "so"),
                                       "--set", "programName=営業チーム", "--set", "statusOpen=Öppen"],
                          capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((tmp_path / "so/bundle.json").read_text(encoding="utf-8"))
    assert (manifest["name"], manifest["program"]["name"]) == ("yingyechimu", "営業チーム")
    lifecycle = json.loads((tmp_path / "so/lifecycle/lead-status.json").read_text(encoding="utf-8"))
    assert lifecycle["initial"] == "Öppen" and lifecycle["transitions"][0]["event"] == "set-oppen"


def test_too_long_states_the_limit_and_shows_the_value_once_briefly(tmp_path, invoke):
    res = invoke("new", "op-lead-management", str(tmp_path / "out"), "--set", "programName=" + "A" * 300)
    assert res.exit_code == 2
    assert res.output.splitlines()[0] == (
        "error: parameter 'programName': '" + "A" * 40 + "'… is 300 characters long; the limit is 255")
    assert not (tmp_path / "out").exists()


def test_control_characters_are_refused(tmp_path, invoke):
    res = invoke("new", "op-lead-management", str(tmp_path / "out"), "--set", "programName=OP\x1b[31m")
    assert res.exit_code == 2 and "is not a one-line name of printable characters" in res.output


# --- case and "did you mean" --------------------------------------------------------------

def test_values_and_parameter_names_in_another_case(tmp_path, invoke):
    res = invoke("new", "op-lead-management", str(tmp_path / "out"), "--set", "CRM=Dynamics",
                 "--set", "mqlthreshold=80")
    assert res.exit_code == 0, res.output
    manifest = json.loads((tmp_path / "out/bundle.json").read_text())
    assert manifest["requires"]["crm"] == "dynamics" and manifest["program"]["tokens"][0]["value"] == 80


def test_did_you_mean_for_a_value_and_a_parameter(tmp_path, invoke):
    res = invoke("new", "op-lead-management", str(tmp_path / "out"), "--set", "crm=dynamic",
                 "--set", "mqlTreshold=80")
    assert res.exit_code == 2
    first = res.output.splitlines()[0]
    assert "unknown parameter 'mqlTreshold' (did you mean 'mqlThreshold'?)" in first
    assert "parameter 'crm': 'dynamic' is not one of the allowed values: salesforce, dynamics; did you mean " \
           "'dynamics'?" in first


# --- what each new starter's parameters change ----------------------------------------------

def test_partner_center_response_days_hot_hours_recipient_and_reasons(tmp_path):
    render.new_bundle("partner-center-referrals", tmp_path / "x", sets={
        "responseDays": "30", "hotHours": "48", "alertRecipient": "Account Owner",
        "senderEmail": "partners@acme.example", "declineReasons": "Too small, Elsewhere"})
    root = tmp_path / "x"
    manifest = json.loads((root / "bundle.json").read_text())
    assert [t["value"] for t in manifest["program"]["tokens"]] == [30, 48]
    life = json.loads((root / "lifecycle/referral-lifecycle.json").read_text())
    assert (life["timers"][0]["after"], life["timers"][0]["name"]) == ("30 days", "no answer in 30 days")
    assert life["flags"][0]["for"] == "48 hours"
    assert life["reasonLists"] == {"Decline reasons": ["Too small", "Elsewhere"]}
    assert "14" not in life["description"] and "72" not in life["description"]
    step = json.loads((root / "campaigns/01-alert-on-hot-referral.json").read_text())["flow"][0]
    assert (step["sendTo"], step["sendToOwner"]) == ([], "Account Owner")
    email = json.loads((root / "emails/02-email-alert-referral-expired.json").read_text())
    assert email["fromEmail"] == email["replyTo"] == "partners@acme.example"
    assert validate_path(root).findings == []


def test_partner_center_one_day_reads_as_one_day(tmp_path):
    render.new_bundle("partner-center-referrals", tmp_path / "x", sets={"responseDays": "1", "hotHours": "1"})
    life = json.loads((tmp_path / "x/lifecycle/referral-lifecycle.json").read_text())
    assert (life["timers"][0]["after"], life["flags"][0]["for"]) == ("1 day", "1 hour")


def test_superoffice_statuses_and_category_group(tmp_path):
    render.new_bundle("superoffice-lead-status", tmp_path / "x", sets={
        "statusOpen": "Öppen", "statusReprocessing": "Återbearbetning", "categoryGroup": "Prospects",
        "prefix": "SE"})
    root = tmp_path / "x"
    life = json.loads((root / "lifecycle/lead-status.json").read_text())
    assert life["initial"] == "Öppen" and life["funnel"][0] == "Öppen"
    assert [s["name"] for s in life["states"]] == ["Öppen", "Contacting", "Qualified", "Disqualified",
                                                   "Återbearbetning"]
    assert life["appliesTo"][0]["values"] == ["Prospects"]
    campaign = json.loads((root / "campaigns/01-selection-leads-to-follow-up.json").read_text())
    assert [f["values"] for f in campaign["smartList"]["filters"]] == [["Prospects"], ["Öppen", "Återbearbetning"]]
    manifest = json.loads((root / "bundle.json").read_text())
    assert [a["name"] for a in manifest["assets"]] == ["SE - 01 - Selection - Leads to Follow Up", "SE - Lead Status"]
    assert validate_path(root).findings == []


def test_hubspot_stages_switches_and_reasons(tmp_path):
    render.new_bundle("hubspot-lead-settings", tmp_path / "x", sets={
        "leadCreationStage": "Lead", "requireDealOnQualification": "false",
        "disqualificationReasons": "Budget, Timing"})
    root = tmp_path / "x"
    manifest = json.loads((root / "bundle.json").read_text())
    assert [t["value"] for t in manifest["program"]["tokens"]] == ["Lead", "Sales Qualified Lead"]
    life = json.loads((root / "lifecycle/lead-stages.json").read_text())
    assert {s["name"]: s["value"] for s in life["settings"]} == {
        "requireDealOnQualification": False, "requireDisqualificationReason": True}
    assert life["reasonLists"] == {"Disqualification reasons": ["Budget", "Timing"]}
    assert validate_path(root).findings == []


def test_an_empty_reason_is_refused(tmp_path, invoke):
    res = invoke("new", "hubspot-lead-settings", str(tmp_path / "x"), "--set", "disqualificationReasons=A,,B")
    assert res.exit_code == 2 and "is not reasons separated by commas, none of them empty" in res.output


@pytest.mark.parametrize("doc", ["README.md", "docs/templates.md"])
def test_the_docs_show_the_real_list(invoke, doc):
    text = (SAMPLES.parent / doc).read_text(encoding="utf-8")
    shown = text.split("$ programkit new --list\n", 1)[1].split("\n\n", 1)[0].split("```", 1)[0]
    assert shown.rstrip("\n") == invoke("new", "--list").output.rstrip("\n")


def test_a_rendered_expiry_time_is_what_simulate_runs(tmp_path, invoke):
    """responseDays reaches the lifecycle's timer: the unanswered referral expires 30 days on, not 14."""
    events = str(SAMPLES.parent / "docs/examples/simulate/referrals.jsonl")
    expired: dict[str, str] = {}
    for days in ("14", "30"):
        out = tmp_path / days
        assert invoke("new", "partner-center-referrals", str(out), "--set", f"responseDays={days}",
                      "--set", "alertRecipient=ops@acme.example").exit_code == 0
        res = invoke("simulate", str(out), "--events", events, "--until", "2026-05-01T00:00:00Z")
        assert res.exit_code == 0, res.output
        [line] = [ln for ln in res.output.splitlines() if "ALERT - Referral Expired →" in ln]
        expired[days] = line.split()[0]
        assert "→ ops@acme.example" in line
    assert expired == {"14": "2026-03-16T11:00:00Z", "30": "2026-04-01T11:00:00Z"}
