"""pack: byte-for-byte reproducible archives of exactly the listed files."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from programkit.archive import EPOCH, pack, pack_dir
from programkit.errors import BadInput, ProgramkitError

from conftest import SAMPLE


def test_pack_twice_gives_identical_bytes(tmp_path: Path) -> None:
    a, b = tmp_path / "a.zip", tmp_path / "b.zip"
    da = pack_dir(SAMPLE, a)
    db = pack_dir(SAMPLE, b)
    assert a.read_bytes() == b.read_bytes()
    assert da == db == hashlib.sha256(a.read_bytes()).hexdigest()


def test_archive_layout_is_fixed(tmp_path: Path) -> None:
    out = tmp_path / "x.zip"
    pack_dir(SAMPLE, out)
    with zipfile.ZipFile(out) as zf:
        infos = zf.infolist()
        assert zf.comment == b""
    names = [i.filename for i in infos]
    assert names == ["bundle.json", "campaigns/01-sync-new-people-to-crm.json", "campaigns/02-marketing-qualified.json",
                     "design-studio/quick-start-email-template.html", "emails/01-email-alert-mql.json",
                     "lifecycle/lead-lifecycle.json"]
    for i in infos:
        assert i.date_time == EPOCH
        assert i.external_attr == 0o100644 << 16
        assert i.create_system == 3
        assert i.extra == b"" and i.comment == b""
        assert i.compress_type == zipfile.ZIP_DEFLATED
        assert (SAMPLE / i.filename).read_bytes() == zipfile.ZipFile(out).read(i)


def test_same_content_different_mtime_and_mode_same_bytes(sample_copy: Path, tmp_path: Path) -> None:
    pack_dir(SAMPLE, tmp_path / "a.zip")
    f = sample_copy / "emails" / "01-email-alert-mql.json"
    f.chmod(0o600)
    import os

    os.utime(f, (1_000_000_000, 1_000_000_000))
    pack_dir(sample_copy, tmp_path / "b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def test_unlisted_files_are_skipped_and_reported(sample_copy: Path, tmp_path: Path) -> None:
    (sample_copy / "notes.txt").write_text("scratch\n")
    result = pack(sample_copy, tmp_path / "x.zip")
    assert result.skipped == ["notes.txt"]
    assert [f.code for f in result.findings] == ["PK107"]
    assert "notes.txt" not in zipfile.ZipFile(result.path).namelist()
    assert (tmp_path / "x.zip").read_bytes() == (pack_dir(SAMPLE, tmp_path / "y.zip") and (tmp_path / "y.zip").read_bytes())


def test_tampered_file_is_never_packed(sample_copy: Path, tmp_path: Path) -> None:
    f = sample_copy / "emails" / "01-email-alert-mql.json"
    f.write_bytes(f.read_bytes() + b"\n")
    out = tmp_path / "x.zip"
    for check in (True, False):
        with pytest.raises(ProgramkitError) as e:
            pack_dir(sample_copy, out, check=check)
        assert [x.code for x in e.value.findings] == ["PK106"]
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [sample_copy]


def test_update_digests_then_packs(sample_copy: Path, tmp_path: Path) -> None:
    f = sample_copy / "emails" / "01-email-alert-mql.json"
    f.write_bytes(f.read_bytes() + b"\n")
    result = pack(sample_copy, tmp_path / "x.zip", update_digests=True)
    assert result.updated_digests == ["emails/01-email-alert-mql.json"]
    assert zipfile.ZipFile(result.path).read("emails/01-email-alert-mql.json") == f.read_bytes()


def test_update_digests_on_a_bundle_with_other_errors_says_it_rewrote_bundle_json(sample_copy: Path,
                                                                                 tmp_path: Path) -> None:
    f = sample_copy / "emails" / "01-email-alert-mql.json"
    f.write_bytes(f.read_bytes().replace(b"MQL Score Threshold}}", b"MQL Treshold}}"))
    with pytest.raises(ProgramkitError) as e:
        pack(sample_copy, tmp_path / "x.zip", update_digests=True)
    assert e.value.message == (f"{sample_copy}: not packed, the bundle has errors (bundle.json was updated all "
                               "the same: new digests for emails/01-email-alert-mql.json)")
    assert {x.code for x in e.value.findings} == {"PK209"}
    assert not (tmp_path / "x.zip").exists()


def test_not_a_bundle_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput):
        pack_dir(tmp_path, tmp_path / "x.zip")


def test_output_that_is_a_directory_is_bad_input(tmp_path: Path, invoke) -> None:
    (tmp_path / "x.zip").mkdir()
    r = invoke("pack", str(SAMPLE), "-o", str(tmp_path / "x.zip"))
    assert r.exit_code == 2 and "is a directory" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.zip"]


def test_symlinked_asset_or_manifest_is_never_packed(sample_copy: Path, tmp_path: Path) -> None:
    real = tmp_path / "elsewhere.json"
    asset = sample_copy / "emails" / "01-email-alert-mql.json"
    real.write_bytes(asset.read_bytes())
    asset.unlink()
    asset.symlink_to(real)
    with pytest.raises(ProgramkitError) as e:
        pack_dir(sample_copy, tmp_path / "x.zip", check=False)
    assert [f.code for f in e.value.findings] == ["PK109"]
    manifest = sample_copy / "bundle.json"
    (tmp_path / "m.json").write_bytes(manifest.read_bytes())
    manifest.unlink()
    manifest.symlink_to(tmp_path / "m.json")
    with pytest.raises(ProgramkitError) as e:
        pack_dir(sample_copy, tmp_path / "x.zip", check=False)
    assert [f.code for f in e.value.findings] == ["PK109"]
    assert not (tmp_path / "x.zip").exists()


def test_default_archive_name_never_leaves_the_current_directory(sample_copy: Path, tmp_path: Path, invoke,
                                                                  monkeypatch) -> None:
    import json

    manifest = json.loads((sample_copy / "bundle.json").read_text())
    manifest["name"] = "../../escape"
    (sample_copy / "bundle.json").write_text(json.dumps(manifest))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    r = invoke("pack", str(sample_copy), "--no-validate")
    assert r.exit_code == 2 and "Pass -o FILE" in r.stderr
    assert list(work.iterdir()) == [] and not (tmp_path.parent / "escape-1.0.0.zip").exists()
