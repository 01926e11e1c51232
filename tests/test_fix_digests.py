"""`programkit validate --fix-digests`: an admin edited an asset on purpose; the stale sha256 values in bundle.json
are updated in place — only those bytes change — and the bundle validates."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from import_helpers import manifest


def _edit(bundle: Path, rel: str) -> None:
    f = bundle / rel
    f.write_text(f.read_text(encoding="utf-8") + " ", encoding="utf-8")


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_fix_digests_changes_only_the_stale_values_then_validates(sample_copy, invoke):
    _edit(sample_copy, "emails/01-email-alert-mql.json")
    _edit(sample_copy, "campaigns/02-marketing-qualified.json")
    before = (sample_copy / "bundle.json").read_text(encoding="utf-8")
    old = {a["path"]: a["sha256"] for a in manifest(sample_copy)["assets"]}
    assert invoke("validate", str(sample_copy)).exit_code == 1
    r = invoke("validate", "--fix-digests", str(sample_copy))
    assert r.exit_code == 0, r.output
    new_email, new_camp = (_sha(sample_copy / p) for p in ("emails/01-email-alert-mql.json",
                                                            "campaigns/02-marketing-qualified.json"))
    shown = str(sample_copy / "bundle.json")
    assert r.output.splitlines() == [
        f"{shown}: campaigns/02-marketing-qualified.json: sha256 {old['campaigns/02-marketing-qualified.json'][:12]}… "
        f"-> {new_camp}",
        f"{shown}: emails/01-email-alert-mql.json: sha256 {old['emails/01-email-alert-mql.json'][:12]}… -> {new_email}",
        f"{shown}: 2 digests updated",
        f"{sample_copy}: ok (0 errors, 0 warnings)"]
    after = (sample_copy / "bundle.json").read_text(encoding="utf-8")
    # byte for byte the same file but for the two digests: same formatting, key order, everything
    assert after == before.replace(old["emails/01-email-alert-mql.json"], new_email).replace(
        old["campaigns/02-marketing-qualified.json"], new_camp)
    again = invoke("validate", "--fix-digests", str(sample_copy))
    assert again.exit_code == 0 and f"{shown}: every digest is up to date; not written" in again.output


def test_fix_digests_keeps_a_hand_formatted_file_and_its_mode(sample_copy, invoke):
    data = manifest(sample_copy)
    text = json.dumps(data, indent=4) + "\n"  # the author's own style, not programkit's
    (sample_copy / "bundle.json").write_text(text, encoding="utf-8")
    os.chmod(sample_copy / "bundle.json", 0o640)
    _edit(sample_copy, "lifecycle/lead-lifecycle.json")
    assert invoke("validate", "--fix-digests", str(sample_copy)).exit_code == 0
    stale = next(a["sha256"] for a in data["assets"] if a["path"] == "lifecycle/lead-lifecycle.json")
    assert (sample_copy / "bundle.json").read_text(encoding="utf-8") == text.replace(
        stale, _sha(sample_copy / "lifecycle/lead-lifecycle.json"))
    assert (os.stat(sample_copy / "bundle.json").st_mode & 0o777) == 0o640
    assert [p.name for p in sample_copy.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_fix_digests_never_follows_a_path_out_of_the_bundle(sample_copy, invoke, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("outside the bundle")
    data = manifest(sample_copy)
    data["assets"][0]["path"] = "../secret.txt"
    (sample_copy / "design-studio" / "linked.html").symlink_to(secret)
    data["assets"][1]["path"] = "design-studio/linked.html"
    (sample_copy / "bundle.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    before = (sample_copy / "bundle.json").read_bytes()
    r = invoke("validate", "--fix-digests", str(sample_copy))
    assert r.exit_code == 1  # the bundle is still invalid: validate says so
    assert "PK475 [digest-not-followed] /assets/0/path: ../secret.txt climbs out of the bundle with '..': not " \
           "read, sha256 left as it was" in r.output
    assert "PK475 [digest-not-followed] /assets/1/path: design-studio/linked.html goes through a symbolic link" \
        in r.output
    assert (sample_copy / "bundle.json").read_bytes() == before
    assert _sha(secret) not in r.output


def test_fix_digests_refuses_an_archive_with_a_hint_and_leaves_it(sample_copy, invoke, tmp_path):
    out = tmp_path / "olm.zip"
    assert invoke("pack", str(sample_copy), "-o", str(out)).exit_code == 0
    before = out.read_bytes()
    r = invoke("validate", "--fix-digests", str(out))
    assert r.exit_code == 2
    assert f"error: {out} is an archive: --fix-digests changes only a bundle directory" in r.output
    assert "programkit unpack BUNDLE.zip DIR" in r.output and "PK476" in r.output
    assert out.read_bytes() == before


def test_fix_digests_json_output_stays_parseable(sample_copy, invoke):
    _edit(sample_copy, "emails/01-email-alert-mql.json")
    r = invoke("validate", "--fix-digests", "--format", "json", str(sample_copy))
    assert r.exit_code == 0
    assert json.loads(r.stdout) == []  # no findings left
    assert "1 digest updated" in r.stderr


def test_fix_digests_console_script(sample_copy, tmp_path):
    _edit(sample_copy, "emails/01-email-alert-mql.json")
    exe = shutil.which("programkit", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                           os.environ.get("PATH", "")]))
    cmd = [exe] if exe else [sys.executable, "-m", "programkit"]
    done = subprocess.run([*cmd, "validate", "--fix-digests", "op-lead-management"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("op-lead-management/bundle.json: 1 digest updated\n"
                                "op-lead-management: ok (0 errors, 0 warnings)\n")
