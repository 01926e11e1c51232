"""Rollback of Marketo imports that changed or deleted things, unknown journals, local history per host,
the stand-in's fault specs, and export of an empty program (review of issue #8)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from marketo_support import CLIENT_ID, SECRET, client, cli_env, fake, marketo_env  # noqa: F401

from programkit.workspaces.marketo.client import MarketoClient

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "op-lead-management"


def _post_faults(url: str, body: bytes) -> tuple[int, dict]:
    req = urllib.request.Request(url + "/_fake/faults", data=body, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


# -- the stand-in's faults ---------------------------------------------------------------------------------


def test_an_http_status_fault_for_the_next_calls_is_served_not_a_crash(fake, client):
    status, body = _post_faults(fake.url, json.dumps({"http": 503, "times": 3}).encode())
    assert (status, body) == (200, {"ok": True, "faults": 1})
    # the client retries HTTP 5xx: three 503s, then the answer
    assert list(client.browse("/rest/asset/v1/programs.json")) == []
    assert fake.snapshot()["http"] == {"503": 3}
    assert fake.faults == []


@pytest.mark.parametrize("spec, message", [
    ({"http": 503}, "say when the fault strikes: times, call, path or name"),
    ({"code": "606", "http": 503, "times": 1}, "a fault has exactly one of code, http, expireTokens, malformed, redirect (got code, http)"),
    ({"times": 2}, "a fault has exactly one of code, http, expireTokens"),
    ({"code": "606", "times": 0}, "times must be a whole number of at least 1, not 0"),
    ({"code": "606", "times": 2, "call": 4}, "a fault strikes on one of times, call, path, name (got times, call)"),
    ({"http": 200, "call": 3}, "http must be an HTTP error status 400-599, not 200"),
    ({"code": "busy", "times": 1}, 'code must be a Marketo error code such as "606", not \'busy\''),
    ({"code": "610", "path": "GET /rest/asset/v1/nope.json"},
     "path 'GET /rest/asset/v1/nope.json' is not an endpoint the stand-in serves"),
    ({"http": 503, "name": "X"}, "name (a string) goes with a code"),
    ({"code": "606", "times": 1, "after": True}, "after (true or false) goes with http"),
    ({"code": "606", "tims": 1}, "unknown key(s) tims"),
    (["x"], "a fault is a JSON object, not str"),
])
def test_a_fault_spec_that_makes_no_sense_is_refused_with_400_and_adds_nothing(fake, spec, message):
    status, body = _post_faults(fake.url, json.dumps(spec).encode())
    assert status == 400
    assert body["error"].startswith("bad fault spec: " + message)
    assert fake.faults == []


def test_a_fault_list_with_one_bad_spec_adds_none_and_a_body_that_is_not_json_is_refused(fake):
    status, body = _post_faults(fake.url, json.dumps([{"code": "606", "times": 1}, {"http": 503}]).encode())
    assert status == 400 and "say when the fault strikes" in body["error"]
    assert fake.faults == []
    status, body = _post_faults(fake.url, b"{not json")
    assert status == 400 and body["error"].startswith("bad fault spec: ")


# -- export of a program with no assets ----------------------------------------------------------------------


def test_exporting_a_program_with_no_assets_says_so(fake, cli_env, invoke, tmp_path):
    import shutil

    from programkit.canonical import refresh_digests

    bundle = tmp_path / "empty"
    shutil.copytree(SAMPLE, bundle)
    data = json.loads((bundle / "bundle.json").read_text())
    data["assets"], data["program"]["folders"] = [], []
    data.pop("requires", None)
    (bundle / "bundle.json").write_text(json.dumps(data, indent=2))
    refresh_digests(bundle)
    imported = invoke("import", str(bundle), "--target", fake.url, "--yes")
    assert imported.exit_code == 0, imported.output
    out = invoke("export", "OP-Lead Management", "--target", fake.url, "--out", str(tmp_path / "out"))
    assert out.exit_code == 0, out.output
    first = out.output.splitlines()[0]
    assert first.startswith(f"Exported 'OP-Lead Management' to {tmp_path / 'out'}: op-lead-management 1.0.0")
    assert first.endswith(" (no assets)")


# -- rolling back an upgrade -----------------------------------------------------------------------------------


def _v110(sample_copy: Path, *, token: int = 150, edit_campaign: bool = True, drop_campaign: bool = True,
          description: str | None = None) -> Path:
    """The sample as 1.1.0: the MQL threshold token changed, campaign 01 edited, campaign 02 dropped."""
    from programkit.canonical import refresh_digests

    data = json.loads((sample_copy / "bundle.json").read_text())
    data["version"] = "1.1.0"
    data["program"]["tokens"][0]["value"] = token
    if description is not None:
        data["program"]["description"] = description
    if drop_campaign:
        data["assets"] = [a for a in data["assets"] if a["name"] != "02 - Marketing Qualified"]
        (sample_copy / "campaigns" / "02-marketing-qualified.json").unlink()
    if edit_campaign:
        path = sample_copy / "campaigns" / "01-sync-new-people-to-crm.json"
        campaign = json.loads(path.read_text())
        campaign["description"] = "edited in 1.1.0"
        path.write_text(json.dumps(campaign, indent=2))
    (sample_copy / "bundle.json").write_text(json.dumps(data, indent=2))
    refresh_digests(sample_copy)
    return sample_copy


def _token(fake, name: str) -> str:
    (program,) = fake.programs
    return fake.tokens_by_folder[("Program", program)][name]["value"]


def test_rolling_back_an_upgrade_that_deleted_a_campaign_is_refused_and_touches_nothing(fake, cli_env, invoke,
                                                                                       sample_copy):
    assert invoke("import", str(SAMPLE), "--target", fake.url, "--yes").exit_code == 0
    up = invoke("import", str(_v110(sample_copy)), "--target", fake.url, "--prune", "--yes")
    assert up.exit_code == 0, up.output
    assert _token(fake, "MQL Score Threshold") == "150"
    history = cli_env / "marketo" / fake.url.split("//")[1].replace(":", "_") / "Default" / "history.json"
    before = history.read_text()
    refused = invoke("rollback", "--target", fake.url)
    assert refused.exit_code == 1
    lines = refused.output.splitlines()
    assert lines[0] == ("error: import #2 (op-lead-management 1.1.0) changed 1 thing(s) rollback cannot put back; "
                        "nothing was changed")
    assert lines[2] == (
        "  PK812 [marketo-rollback-manual] smartCampaign '02 - Marketing Qualified' (id 1002): deleted by this "
        "import (--prune); the API cannot bring it back and neither the journal nor the history keeps its content "
        "(re-import op-lead-management 1.0.0 to create it again)")
    assert "--force` deletes what it created" in refused.output
    assert "to go back to op-lead-management 1.0.0, import that bundle again with --allow-downgrade" in refused.output
    # nothing was touched: Marketo, history
    assert _token(fake, "MQL Score Threshold") == "150"
    assert fake.snapshot()["assets"]["smartCampaign"] == ["01 - Sync New People to CRM"]
    assert history.read_text() == before


def test_forced_rollback_puts_back_tokens_and_records_a_partial_rollback(fake, cli_env, invoke, sample_copy):
    assert invoke("import", str(SAMPLE), "--target", fake.url, "--yes").exit_code == 0
    assert invoke("import", str(_v110(sample_copy, description="Changed in 1.1.0")), "--target", fake.url,
                  "--prune", "--yes").exit_code == 0
    (program,) = fake.programs.values()
    assert program["description"] == "Changed in 1.1.0"
    forced = invoke("rollback", "--target", fake.url, "--force")
    assert forced.exit_code == 1
    out = forced.output.splitlines()
    assert out[0].startswith("partially rolled back journal ")
    assert out[0].endswith(" (import #2): 0 item(s) deleted, 2 restored; 1 change(s) not undone (below); "
                           "2 API call(s)")
    assert out[1].startswith("  PK812 [marketo-rollback-manual] smartCampaign '02 - Marketing Qualified' (id 1002): "
                             "deleted by this import (--prune)")
    # put back: the token's value and the program's description (1.0.0's)
    assert _token(fake, "MQL Score Threshold") == "100"
    assert program["description"].startswith("Lead management best practice")
    history = invoke("history", "--target", fake.url).output.splitlines()
    assert " partially-rolled-back   op-lead-management 1.1.0 " in history[0]
    assert " rolled-back " not in history[0]
    # the program still has what the rollback could not undo: its provenance stays the upgrade
    show = invoke("workspace", "show", "--target", fake.url).output
    assert "OP-Lead Management (default, Operational; 1 email, 1 smartCampaign; from op-lead-management 1.1.0;" in show
    listed = invoke("rollback", "--target", fake.url, "--list").output.splitlines()
    assert [line.split()[1:6] for line in listed] == [
        ["complete", "7", "created,", "0", "changed"],
        # the program's description, the MQL token, campaign 01's new checklist, campaign 02's delete
        ["partially-rolled-back", "0", "created,", "4", "changed"]]
    # going back to 1.0.0: its plan compares with what Marketo holds, so campaign 02 is created again
    back = invoke("import", str(SAMPLE), "--target", fake.url, "--allow-downgrade", "--yes")
    assert back.exit_code == 0, back.output
    assert "   + create  smartCampaign  02 - Marketing Qualified  (new smartCampaign)" in back.output
    assert "   . noop    token          MQL Score Threshold  (unchanged)" in back.output
    assert fake.snapshot()["assets"]["smartCampaign"] == ["01 - Sync New People to CRM", "02 - Marketing Qualified"]


def test_an_upgrade_that_changed_only_tokens_and_the_description_is_wholly_undone(fake, cli_env, invoke,
                                                                                  sample_copy):
    assert invoke("import", str(SAMPLE), "--target", fake.url, "--yes").exit_code == 0
    bundle = _v110(sample_copy, edit_campaign=False, drop_campaign=False, description="Changed in 1.1.0")
    data = json.loads((bundle / "bundle.json").read_text())
    data["program"]["tokens"].append({"name": "Recycle Days", "type": "number", "value": 30})
    (bundle / "bundle.json").write_text(json.dumps(data, indent=2))
    from programkit.canonical import refresh_digests

    refresh_digests(bundle)
    assert invoke("import", str(bundle), "--target", fake.url, "--yes").exit_code == 0
    assert _token(fake, "Recycle Days") == "30"
    undone = invoke("rollback", "--target", fake.url)
    assert undone.exit_code == 0, undone.output
    assert undone.output.startswith("rolled back journal ")
    assert ": 0 item(s) deleted, 3 restored; " in undone.output  # the description, the changed and the new token
    (program,) = fake.programs.values()
    assert program["description"].startswith("Lead management best practice")
    assert _token(fake, "MQL Score Threshold") == "100"
    assert "Recycle Days" not in fake.tokens_by_folder[("Program", program["id"])]
    assert " rolled-back " in invoke("history", "--target", fake.url).output.splitlines()[0]
    # Marketo is 1.0.0 again, and the plan says so from what it read
    plan = invoke("plan", str(SAMPLE), "--target", fake.url)
    assert "No changes: op-lead-management 1.0.0 is already imported (nothing to do)." in plan.output


def test_a_plan_never_calls_noop_what_the_target_no_longer_holds(fake, cli_env, invoke):
    assert invoke("import", str(SAMPLE), "--target", fake.url, "--yes").exit_code == 0
    # someone deletes a campaign in the Marketo UI; the local history still says 1.0.0 was imported
    (cid,) = [i for i, a in fake.assets["smartCampaign"].items() if a["name"] == "02 - Marketing Qualified"]
    del fake.assets["smartCampaign"][cid]
    plan = invoke("plan", str(SAMPLE), "--target", fake.url)
    assert "   + create  smartCampaign  02 - Marketing Qualified  (new smartCampaign)" in plan.output
    assert ("   ~ update  program        OP-Lead Management  (op-lead-management 1.0.0 is recorded as imported, but "
            "the target no longer holds 1 item(s) of it (smartCampaign '02 - Marketing Qualified'): created again)"
            ) in plan.output
    assert "   . noop    smartCampaign  01 - Sync New People to CRM" in plan.output
    assert "No changes" not in plan.output
    again = invoke("import", str(SAMPLE), "--target", fake.url, "--yes")
    assert again.exit_code == 0, again.output
    assert fake.snapshot()["assets"]["smartCampaign"] == ["01 - Sync New People to CRM", "02 - Marketing Qualified"]
    assert "No changes" in invoke("plan", str(SAMPLE), "--target", fake.url).output


def test_rollback_of_an_unknown_journal_is_bad_input_listing_the_journals(fake, cli_env, invoke):
    assert invoke("import", str(SAMPLE), "--target", fake.url, "--yes").exit_code == 0
    (journal,) = (cli_env / "marketo").rglob("journals/*.jsonl")
    result = invoke("rollback", "--target", fake.url, "--journal", "nope")
    assert result.exit_code == 2
    assert "PK811" not in result.output and "--resume" not in result.output
    lines = result.output.splitlines()
    assert lines[0] == "error: unknown journal 'nope'"
    host = fake.url.split("//")[1]
    assert lines[1] == (f"  PK831 [marketo-unknown-journal] no import journal 'nope' for {host}/Default; journals "
                        f"kept: {journal.stem} (complete)")
    assert f"rollback --target {fake.url} --list" in result.output


# -- history of a target this machine never imported into ------------------------------------------------------


def test_history_of_a_host_without_local_history_says_so_and_lists_the_hosts_that_have_one(fake, cli_env, invoke):
    empty = invoke("history", "--target", "https://TYPO-host")
    assert empty.exit_code == 0
    assert empty.output.splitlines() == [
        f"No local history for TYPO-host/Default (kept in {cli_env / 'marketo' / 'TYPO-host' / 'Default'}): Marketo "
        "has no place for an import history, so programkit keeps it on the machine that imported; nothing was read "
        "from Marketo."]
    assert "No imports yet." not in empty.output
    assert invoke("import", str(SAMPLE), "--target", fake.url, "--yes").exit_code == 0
    assert invoke("import", str(SAMPLE), "--target", fake.url, "--yes").exit_code == 0
    host = fake.url.split("//")[1]
    typo = invoke("history", "--target", "https://TYPO-host")
    assert typo.exit_code == 0
    assert typo.output.splitlines()[1:] == [
        "Did you mean one of these? (host/workspace with a local history; --target is the host's REST base URL, "
        "--workspace the workspace)",
        f"  {host}/Default  (2 imports)"]
    assert invoke("history", "--target", fake.url, "--workspace", "Other").output.splitlines()[2] == \
        f"  {host}/Default  (2 imports)"


def test_journals_started_in_the_same_second_are_listed_in_the_order_they_started(tmp_path):
    from programkit.workspaces.marketo import Journal, list_journals

    first, second = Journal.new(tmp_path), Journal.new(tmp_path)
    # the same second, and a random tail that sorts the later one first
    for journal, name in ((first, "20261123T101500-ffffff"), (second, "20261123T101500-000000")):
        journal.path.rename(tmp_path / "journals" / f"{name}.jsonl")
    assert [j.data["startedNs"] for j in list_journals(tmp_path)] == [first.data["startedNs"],
                                                                     second.data["startedNs"]]
