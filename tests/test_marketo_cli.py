"""`programkit import/plan/rollback --target http://…` against the stand-in Marketo, as a user runs them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from marketo_support import CLIENT_ID, SECRET, fake, cli_env, marketo_env  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = str(ROOT / "samples" / "op-lead-management")


@pytest.fixture
def env(cli_env):
    return cli_env


def test_import_prints_the_checklist_and_a_second_run_has_nothing_to_do(fake, env, invoke):
    first = invoke("import", SAMPLE, "--target", fake.url, "--yes")
    assert first.exit_code == 0, first.output
    assert "Imported op-lead-management 1.0.0 into workspace 'Default'" in first.output
    assert "# Manual steps (the Marketo API cannot do these)" in first.output
    assert '## smartCampaign "02 - Marketing Qualified"' in first.output
    assert '- [ ] Flow: add step 3 "Send Alert"' in first.output
    assert "are not done: the import is recorded as needs-manual-completion." in first.output
    assert "PK807 [marketo-crm-inferred]" in first.output  # the plan says what it could not check
    assert fake.snapshot()["programs"] == ["OP-Lead Management"]
    second = invoke("import", SAMPLE, "--target", fake.url, "--yes")
    assert second.exit_code == 0
    assert "Recorded as import #2 in the history; nothing else was written." in second.output
    assert "Manual steps" not in second.output
    history = invoke("history", "--target", fake.url)
    assert "needs-manual-completion" in history.output and "noop" in history.output


def test_a_failure_mid_import_then_resume_or_rollback(fake, env, invoke):
    # a business rule refuses one campaign (e.g. its name is reserved); the admin fixes that, then resumes
    fake.add_fault({"code": "709", "name": "02 - Marketing Qualified", "message": "Name is reserved"})
    failed = invoke("import", SAMPLE, "--target", fake.url, "--yes")
    fake.faults.clear()
    assert failed.exit_code == 1
    assert "import stopped after" in failed.output and "PK811" in failed.output
    assert "Marketo 709 on POST /rest/asset/v1/smartCampaigns.json: Name is reserved" in failed.output
    assert "--resume" in failed.output  # the hint says how to go on
    resumed = invoke("import", SAMPLE, "--target", fake.url, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert resumed.output.startswith("Resumed and finished the import of op-lead-management 1.0.0")
    assert "# Manual steps" in resumed.output
    assert fake.snapshot()["assets"]["smartCampaign"] == ["01 - Sync New People to CRM", "02 - Marketing Qualified"]
    undone = invoke("rollback", "--target", fake.url)
    assert undone.exit_code == 0 and "7 item(s) deleted" in undone.output
    assert fake.snapshot()["programs"] == []


def test_resume_is_for_marketo_targets_only(invoke, tmp_path):
    result = invoke("import", SAMPLE, "--target", str(tmp_path / "w.db"), "--resume")
    assert result.exit_code == 2 and "--resume applies to imports into a Marketo instance" in result.output


@pytest.mark.skipif(shutil.which("programkit") is None and not (Path(sys.executable).parent / "programkit").exists(),
                    reason="console script not installed")
def test_installed_script_never_shows_or_stores_the_secret(tmp_path):
    script = shutil.which("programkit") or str(Path(sys.executable).parent / "programkit")
    server = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fake_marketo.py"), "--port", "0",
                               "--client-id", CLIENT_ID, "--client-secret", SECRET, "--rate-window", "1",
                               "--rate-limit", "50"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().split()[-1]
        env = {**os.environ, "MARKETO_CLIENT_ID": CLIENT_ID, "MARKETO_CLIENT_SECRET": SECRET,
               "PROGRAMKIT_STATE_DIR": str(tmp_path / "state"), "PROGRAMKIT_MARKETO_RATE": "50/1"}
        runs = [subprocess.run([script, *args], capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
                for args in (["plan", SAMPLE, "--target", url], ["import", SAMPLE, "--target", url, "--yes"],
                             ["import", SAMPLE, "--target", url, "--yes", "--format", "json"],
                             ["history", "--target", url], ["rollback", "--target", url, "--list"],
                             ["rollback", "--target", url])]
        bad = subprocess.run([script, "plan", SAMPLE, "--target", url], capture_output=True, text=True,
                             env={**env, "MARKETO_CLIENT_SECRET": SECRET + "x"}, timeout=60, cwd=tmp_path)
    finally:
        server.terminate()
        out, err = server.communicate(timeout=10)
    assert [r.returncode for r in runs] == [0, 0, 0, 0, 0, 0]
    assert bad.returncode == 1 and "PK802" in bad.stderr
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".jsonl" for p in files) and any(p.name == "history.json" for p in files)
    texts = [t for r in [*runs, bad] for t in (r.stdout, r.stderr)] + [out, err]
    texts += [p.read_text(errors="replace") for p in files]
    assert not [t for t in texts if SECRET in t]
