"""unpack and round trips: pack → unpack → pack gives the same bytes, for any bundle."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from programkit.archive import pack, pack_dir, unpack_archive
from programkit.canonical import dumps
from programkit.errors import BadInput
from programkit.inspect import inspect_path

from conftest import SAMPLE


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_pack_unpack_pack_is_identical(tmp_path: Path) -> None:
    first = pack_dir(SAMPLE, tmp_path / "a.zip")
    result = unpack_archive(tmp_path / "a.zip", tmp_path / "out")
    assert tree(tmp_path / "out") == tree(SAMPLE)
    assert result.files == sorted(tree(SAMPLE), key=lambda n: (n != "bundle.json", n))
    assert pack_dir(tmp_path / "out", tmp_path / "b.zip") == first
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def test_unpack_into_empty_dir_and_force(tmp_path: Path) -> None:
    pack_dir(SAMPLE, tmp_path / "a.zip")
    out = tmp_path / "out"
    out.mkdir()
    unpack_archive(tmp_path / "a.zip", out)  # an empty directory is fine
    (out / "emails" / "old-alert.json").write_text("{}")  # a bundle file of an earlier version ...
    manifest = json.loads((out / "bundle.json").read_text())
    manifest["assets"].append({"kind": "email", "name": "Old", "path": "emails/old-alert.json", "sha256": "0" * 64})
    (out / "bundle.json").write_text(json.dumps(manifest))  # ... that its bundle.json lists
    (out / ".git").mkdir()
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (out / "notes.txt").write_text("mine")  # the user's own file
    with pytest.raises(BadInput):
        unpack_archive(tmp_path / "a.zip", out)  # not empty, no --force
    with pytest.raises(BadInput, match=r"holds 1 file\(s\) that are not part of the bundle there: notes.txt"):
        unpack_archive(tmp_path / "a.zip", out, force=True)  # never deletes what is not the bundle's
    assert (out / "notes.txt").read_text() == "mine" and (out / "emails" / "old-alert.json").exists()
    (out / "notes.txt").unlink()
    unpack_archive(tmp_path / "a.zip", out, force=True)
    # the bundle replaced whole (the earlier version's file is gone); .git, not the bundle's, kept
    assert tree(out) == tree(SAMPLE) | {".git/HEAD": b"ref: refs/heads/main\n"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.zip", "out"]  # no temp dirs left


def test_unpack_force_refuses_a_directory_that_is_not_a_bundle(tmp_path: Path, invoke) -> None:
    pack_dir(SAMPLE, tmp_path / "a.zip")
    work = tmp_path / "w"
    work.mkdir()
    (work / "precious.txt").write_text("x")
    (work / ".git").mkdir()
    r = invoke("unpack", str(tmp_path / "a.zip"), "-o", str(work), "--force")
    assert r.exit_code == 2, r.output
    assert f"{work} is not a bundle directory (no bundle.json); nothing was written" in r.output
    assert sorted(p.name for p in work.iterdir()) == [".git", "precious.txt"]


def test_unpack_reads_a_bundle_under_one_top_folder(tmp_path: Path) -> None:
    """`zip -r x.zip op-lead-management/` puts the bundle under a folder; unpack takes it out of it."""
    with zipfile.ZipFile(tmp_path / "x.zip", "w") as zf:
        for name, data in tree(SAMPLE).items():
            zf.writestr(f"op-lead-management/{name}", data)
    unpack_archive(tmp_path / "x.zip", tmp_path / "out")
    assert tree(tmp_path / "out") == tree(SAMPLE)


# --- generated bundles --------------------------------------------------------

segment = st.text(st.characters(categories=("L", "N"), exclude_characters="\x00") | st.sampled_from("-_ "),
                  min_size=1, max_size=12).filter(lambda s: s.strip() == s)
image = st.tuples(st.lists(segment, max_size=2), segment, st.sampled_from([".png", ".svg", ".gif", ".jpg", ".bin"]),
                  st.one_of(st.just(b""), st.binary(max_size=3000), st.just(b"<svg/>" * 500)))


def make_bundle(root: Path, images: list[tuple[list[str], str, str, bytes]]) -> None:
    manifest = json.loads((SAMPLE / "bundle.json").read_text(encoding="utf-8"))
    for name, data in tree(SAMPLE).items():
        if name != "bundle.json":
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
    seen = set()
    for dirs, stem, ext, data in images:
        path = "/".join(["images", *dirs, stem + ext])
        if path.casefold() in seen or (stem + ext).casefold() in {p.rsplit("/", 1)[-1].casefold() for p in seen}:
            continue
        seen.add(path.casefold())
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
        manifest["assets"].append({"kind": "image", "name": stem + ext, "path": path,
                                   "sha256": hashlib.sha256(data).hexdigest()})
    (root / "bundle.json").write_text(dumps(manifest), encoding="utf-8")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(image, max_size=8))
def test_generated_bundles_are_reproducible_and_round_trip(images) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        (t / "b").mkdir()
        make_bundle(t / "b", images)
        first = pack(t / "b", t / "a.zip")
        assert first.skipped == [] and first.findings == []
        assert pack_dir(t / "b", t / "again.zip") == first.sha256
        unpack_archive(t / "a.zip", t / "out")
        assert tree(t / "out") == tree(t / "b")
        assert pack_dir(t / "out", t / "b.zip") == first.sha256
        assert (t / "a.zip").read_bytes() == (t / "b.zip").read_bytes()
        with zipfile.ZipFile(t / "a.zip") as zf:
            stored = {i.filename for i in zf.infolist() if i.compress_type == zipfile.ZIP_STORED}
        assert stored == {p for p in tree(t / "b") if p.endswith((".png", ".gif", ".jpg"))}
        digests = {inspect_path(p).bundle_digest for p in (t / "b", t / "a.zip", t / "out")}
        assert len(digests) == 1


# --- inspect ---------------------------------------------------------------------


def sample_bundle_digest() -> str:
    # compact canonical JSON, computed here independently of programkit.canonical
    manifest = json.loads((SAMPLE / "bundle.json").read_text(encoding="utf-8"))
    text = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def test_inspect_json_of_an_archive(tmp_path: Path, invoke) -> None:
    zip_sha = pack_dir(SAMPLE, tmp_path / "a.zip")
    r = invoke("inspect", "--format", "json", str(tmp_path / "a.zip"))
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    sizes = {name: len(data) for name, data in tree(SAMPLE).items()}
    assert got == {
        "path": str(tmp_path / "a.zip"),
        "source": "archive",
        "name": "op-lead-management",
        "version": "1.0.0",
        "description": json.loads((SAMPLE / "bundle.json").read_text())["description"],
        "bundleDigest": sample_bundle_digest(),
        "archive": {"sha256": zip_sha, "size": (tmp_path / "a.zip").stat().st_size},
        "digestsVerified": True,
        "findings": {"error": 0, "warning": 0, "info": 0},
        "program": {
            "name": "OP-Lead Management", "type": "default", "channel": "Operational", "statuses": ["01-Member"],
            "tags": {"Program Purpose": "Lead Management"},
            "tokens": [{"name": "MQL Score Threshold", "type": "number", "value": 100},
                       {"name": "MQL Follow-up SLA Hours", "type": "number", "value": 24},
                       {"name": "New Person Status", "type": "text", "value": "Open"}],
            "folders": ["Campaigns", "Email Alert"],
        },
        "assets": {
            "byKind": {"email": 1, "emailTemplate": 1, "leadLifecycle": 1, "smartCampaign": 2},
            "byFolder": {"Campaigns": 3, "Design Studio": 1, "Email Alert": 1},
            "items": [
                {"kind": "leadLifecycle", "name": "Lead Lifecycle", "folder": "Campaigns",
                 "path": "lifecycle/lead-lifecycle.json", "size": sizes["lifecycle/lead-lifecycle.json"]},
                {"kind": "smartCampaign", "name": "01 - Sync New People to CRM", "folder": "Campaigns",
                 "path": "campaigns/01-sync-new-people-to-crm.json",
                 "size": sizes["campaigns/01-sync-new-people-to-crm.json"]},
                {"kind": "smartCampaign", "name": "02 - Marketing Qualified", "folder": "Campaigns",
                 "path": "campaigns/02-marketing-qualified.json", "size": sizes["campaigns/02-marketing-qualified.json"]},
                {"kind": "emailTemplate", "name": "Quick Start Email Template", "folder": "Design Studio",
                 "path": "design-studio/quick-start-email-template.html",
                 "size": sizes["design-studio/quick-start-email-template.html"]},
                {"kind": "email", "name": "01 - Email - ALERT - MQL", "folder": "Email Alert",
                 "path": "emails/01-email-alert-mql.json", "size": sizes["emails/01-email-alert-mql.json"]},
            ],
        },
        "requires": {"crm": "salesforce"},
        "conflictRules": {"emailTemplates": "keepBoth", "images": "keepBoth", "landingPageTemplates": "copy",
                          "programTags": "create"},
        "ok": True, "findingList": [],
    }


def test_inspect_text_of_a_directory(invoke) -> None:
    r = invoke("inspect", str(SAMPLE))
    assert r.exit_code == 0, r.output
    description = json.loads((SAMPLE / "bundle.json").read_text())["description"]
    assert r.stdout == f"""\
op-lead-management 1.0.0  (directory: {SAMPLE})
  {description}
bundle digest   {sample_bundle_digest()}
file digests    all match; validate: 0 errors, 0 warnings

program  OP-Lead Management  (type default, channel Operational)
  statuses  01-Member
  tags      Program Purpose=Lead Management
  folders   Campaigns, Email Alert
  tokens    3
    {{{{my.MQL Score Threshold}}}}  number = 100
    {{{{my.MQL Follow-up SLA Hours}}}}  number = 24
    {{{{my.New Person Status}}}}  text = 'Open'

assets  5 (1 email, 1 emailTemplate, 1 leadLifecycle, 2 smartCampaign)
  Campaigns/
    leadLifecycle        Lead Lifecycle  [lifecycle/lead-lifecycle.json]
    smartCampaign        01 - Sync New People to CRM  [campaigns/01-sync-new-people-to-crm.json]
    smartCampaign        02 - Marketing Qualified  [campaigns/02-marketing-qualified.json]
  Design Studio/
    emailTemplate        Quick Start Email Template  [design-studio/quick-start-email-template.html]
  Email Alert/
    email                01 - Email - ALERT - MQL  [emails/01-email-alert-mql.json]

requires
  crm            salesforce

recommended conflict rules
  emailTemplates       keepBoth
  images               keepBoth
  landingPageTemplates copy
  programTags          create
"""


def test_inspect_reports_tampering_with_the_finding_and_exit_1(sample_copy: Path, invoke) -> None:
    f = sample_copy / "emails" / "01-email-alert-mql.json"
    f.write_bytes(f.read_bytes() + b"\n")
    r = invoke("inspect", "-f", "json", str(sample_copy))
    assert r.exit_code == 1
    got = json.loads(r.stdout)
    assert (got["digestsVerified"], got["findings"]["error"], got["ok"]) == (False, 1, False)
    assert [(x["code"], x["pointer"]) for x in got["findingList"]] == [("PK106", "/assets/2/sha256")]


def test_inspect_not_a_bundle_exit_2(tmp_path: Path, invoke) -> None:
    assert invoke("inspect", str(tmp_path)).exit_code == 2


# --- CLI ---------------------------------------------------------------------------


def test_pack_cli_default_name_and_output(tmp_path: Path, invoke, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    r = invoke("pack", str(SAMPLE))
    assert r.exit_code == 0, r.output
    out = tmp_path / "op-lead-management-1.0.0.zip"
    sha = hashlib.sha256(out.read_bytes()).hexdigest()
    assert r.stdout == f"op-lead-management-1.0.0.zip\n  6 files, {out.stat().st_size} bytes\n  sha256 {sha}\n"


def test_pack_cli_refuses_invalid_bundle(sample_copy: Path, tmp_path: Path, invoke) -> None:
    manifest = json.loads((sample_copy / "bundle.json").read_text())
    manifest["program"]["tokens"].append(dict(manifest["program"]["tokens"][0]))  # PK211 duplicate token
    (sample_copy / "bundle.json").write_text(json.dumps(manifest, indent=2))
    r = invoke("pack", str(sample_copy), "-o", str(tmp_path / "x.zip"))
    assert r.exit_code == 1
    assert "PK211" in r.stderr
    assert not (tmp_path / "x.zip").exists()
    r = invoke("pack", str(sample_copy), "-o", str(tmp_path / "x.zip"), "--no-validate")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "x.zip").exists()


def test_unpack_cli_limits_and_env(tmp_path: Path, invoke, monkeypatch) -> None:
    pack_dir(SAMPLE, tmp_path / "a.zip")
    r = invoke("unpack", str(tmp_path / "a.zip"), "-o", str(tmp_path / "o"), "--max-size", "2K")
    assert r.exit_code == 1 and "PK405" in r.stderr
    monkeypatch.setenv("PROGRAMKIT_MAX_FILES", "2")
    r = invoke("unpack", str(tmp_path / "a.zip"), "-o", str(tmp_path / "o"))
    assert r.exit_code == 1 and "PK404" in r.stderr
    r = invoke("unpack", str(tmp_path / "a.zip"), "-o", str(tmp_path / "o"), "--max-files", "10")
    assert r.exit_code == 0, r.output
    assert r.stdout == f"{tmp_path / 'o'}\n  6 files, digests verified\n"


def test_real_subprocess_pack_then_unpack(tmp_path: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    run = [sys.executable, "-m", "programkit"]
    p = subprocess.run(run + ["pack", str(SAMPLE)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    archive = tmp_path / "op-lead-management-1.0.0.zip"
    assert f"sha256 {hashlib.sha256(archive.read_bytes()).hexdigest()}" in p.stdout
    p = subprocess.run(run + ["unpack", archive.name], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    assert tree(tmp_path / "op-lead-management-1.0.0") == tree(SAMPLE)
    p = subprocess.run(run + ["unpack", archive.name], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 2 and "not empty" in p.stderr
    (tmp_path / "junk.zip").write_bytes(b"nope")
    p = subprocess.run(run + ["unpack", "junk.zip"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "PK411" in p.stderr
    assert not (tmp_path / "junk").exists()


def test_limit_options_on_every_archive_command(tmp_path: Path, invoke) -> None:
    pack_dir(SAMPLE, tmp_path / "a.zip")
    for cmd in ("validate", "inspect", "unpack"):
        r = invoke(cmd, str(tmp_path / "a.zip"), "--max-files", "3")
        assert r.exit_code == 1 and "PK404" in r.output, (cmd, r.output)
        r = invoke(cmd, str(tmp_path / "a.zip"), "--max-size", "lots")
        assert r.exit_code == 2 and "is not a size like 500M" in r.output, (cmd, r.output)
    assert invoke("validate", str(tmp_path / "a.zip"), "--max-size", "1M").exit_code == 0
