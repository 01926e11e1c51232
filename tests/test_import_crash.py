"""Crash safety: `programkit import` killed with SIGKILL at random points leaves the workspace wholly
before or wholly after the import, never in between."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dbdump import dump
from import_helpers import PNG, add_asset
from programkit.apply import DELAY_ENV, KILL_AT_ENV
from programkit.workspaces.sqlite import init_workspace

TRIALS_AT_STEPS = 40  # killed by the test hook right after the N-th write step (N random)
TRIALS_AFTER_DELAY = 12  # killed from outside after a random delay, while apply sleeps between writes
EXTRA_CAMPAIGNS = 20  # program-local: one write each
EXTRA_IMAGES = 4  # Design Studio: one bulk write with the template

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


def _cmd(bundle: Path, db: Path) -> list[str]:
    return [sys.executable, "-m", "programkit", "import", str(bundle), "--target", str(db), "--yes"]


def _reset(pristine: Path, db: Path) -> None:
    for suffix in ("-journal", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    shutil.copy(pristine, db)


def test_kill_at_random_points_leaves_before_or_after(sample_copy, tmp_path):
    campaign = (sample_copy / "campaigns/01-sync-new-people-to-crm.json").read_bytes()
    for i in range(EXTRA_CAMPAIGNS):
        add_asset(sample_copy, "smartCampaign", f"1{i:02d} - Extra", f"campaigns/extra-{i}.json", campaign,
                  folder="Campaigns")
    for i in range(EXTRA_IMAGES):
        add_asset(sample_copy, "image", f"img-{i}.png", f"images/img-{i}.png", PNG + bytes([i]))
    pristine, db = tmp_path / "pristine.db", tmp_path / "pk.db"
    init_workspace(pristine, crm="salesforce").close()
    before = dump(pristine, normalise_times=True)

    _reset(pristine, db)
    done = subprocess.run(_cmd(sample_copy, db), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    after = dump(db, normalise_times=True)
    assert after != before
    # program, 2 folders, tag, design batch (template + images), 3 + extra campaigns, history row, commit
    steps = 1 + 2 + 1 + 1 + 3 + EXTRA_CAMPAIGNS + 1 + 1

    rng = random.Random(int(os.environ.get("PROGRAMKIT_CRASH_SEED", "5")))
    seen = {"before": 0, "after": 0}
    trials = [("step", rng.randint(1, steps + 2)) for _ in range(TRIALS_AT_STEPS)]
    trials += [("delay", rng.uniform(0.0, 1.5)) for _ in range(TRIALS_AFTER_DELAY)]
    for how, where in trials:
        _reset(pristine, db)
        if how == "step":
            env = {**os.environ, KILL_AT_ENV: str(where)}
            proc = subprocess.run(_cmd(sample_copy, db), capture_output=True, env=env, timeout=60)
            killed = proc.returncode == -signal.SIGKILL
            assert killed or proc.returncode == 0
        else:
            env = {**os.environ, DELAY_ENV: "0.01"}
            proc = subprocess.Popen(_cmd(sample_copy, db), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    env=env)
            time.sleep(where)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
        state = dump(db, normalise_times=True)
        assert state in (before, after), f"{how}={where}: workspace is neither before nor after the import"
        seen["before" if state == before else "after"] += 1
    # the trials really hit both sides of the commit
    print("crash trials:", seen)
    assert seen["before"] >= 10 and seen["after"] >= 1, seen


EVENT = Path(__file__).resolve().parent.parent / "samples" / "event-program"
EVENT_STEPS = 12  # the event program's write steps (program, folders, tokens, design batch, assets…, history)


def test_the_event_program_killed_at_every_step_leaves_before_or_after(tmp_path):
    """landingPage, form, staticList and smartList with the rest: SIGKILL after each write step in turn (and
    at random moments) into an existing workspace; the workspace is wholly before or wholly after."""
    pristine, db = tmp_path / "pristine.db", tmp_path / "pk.db"
    init_workspace(pristine).close()
    before = dump(pristine, normalise_times=True)
    _reset(pristine, db)
    done = subprocess.run(_cmd(EVENT, db), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    after = dump(db, normalise_times=True)
    assert {"landingPage", "form", "staticList", "smartList"} <= {v for r in after["assets"] for v in r}
    rng = random.Random(int(os.environ.get("PROGRAMKIT_CRASH_SEED", "5")))
    trials = [("step", k) for k in range(1, EVENT_STEPS + 3)] + [("delay", rng.uniform(0.0, 0.5)) for _ in range(6)]
    seen = {"before": 0, "after": 0}
    for how, where in trials:
        _reset(pristine, db)
        if how == "step":
            proc = subprocess.run(_cmd(EVENT, db), capture_output=True, timeout=60, env={**os.environ,
                                                                                         KILL_AT_ENV: str(where)})
            assert proc.returncode == (-signal.SIGKILL if where <= EVENT_STEPS else 0), (where, proc.returncode)
        else:
            proc = subprocess.Popen(_cmd(EVENT, db), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    env={**os.environ, DELAY_ENV: "0.01"})
            time.sleep(where)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
        state = dump(db, normalise_times=True)
        assert state in (before, after), f"{how}={where}: workspace is neither before nor after the import"
        seen["before" if state == before else "after"] += 1
    assert seen["before"] >= EVENT_STEPS - 1 and seen["after"] >= 2, seen


def test_a_first_import_of_the_event_program_killed_at_every_step_leaves_no_file_or_the_whole_one(tmp_path):
    """Into a file that does not exist yet: killed at each step, the path holds nothing or the finished
    workspace, never a partial one; the next command sweeps the dead import's hidden temporary file."""
    folder = tmp_path / "runs"
    folder.mkdir()
    db = folder / "pk.db"
    done = subprocess.run(_cmd(EVENT, db), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    after = dump(db, normalise_times=True)  # the history names the target: made at the same path
    outcomes = []
    for k in range(1, EVENT_STEPS + 3):
        for p in folder.iterdir():
            p.unlink()
        proc = subprocess.run(_cmd(EVENT, db), capture_output=True, timeout=60, env={**os.environ, KILL_AT_ENV: str(k)})
        assert proc.returncode in (-signal.SIGKILL, 0), (k, proc.returncode)
        if db.exists():
            assert dump(db, normalise_times=True) == after, f"step {k}: a partial workspace file"
            outcomes.append("after")
        else:
            outcomes.append("none")
        listed = subprocess.run([sys.executable, "-m", "programkit", "workspace", "list", "-t", str(db)],
                                capture_output=True, text=True, timeout=60)
        assert listed.returncode == (0 if db.exists() else 2), listed.stderr
        assert sorted(p.name for p in folder.iterdir() if not p.name.startswith("pk.db")) == [], k
    assert outcomes.count("none") >= EVENT_STEPS - 1 and "after" in outcomes, outcomes
