"""Hostile archives: each refused with its own code and exit status, and nothing written anywhere."""

from __future__ import annotations

import json
import struct
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Callable

import pytest

from programkit.archive import EPOCH, pack_dir, unpack_archive
from programkit.bundle import ArchiveLimits, UnsafeArchive
from programkit.errors import BadInput
from programkit.validate import validate_path

from conftest import SAMPLE


def sample_entries() -> list[tuple[str, bytes]]:
    names = ["bundle.json"] + sorted(a["path"] for a in json.loads((SAMPLE / "bundle.json").read_text())["assets"])
    return [(n, (SAMPLE / n).read_bytes()) for n in names]


def write_zip(path: Path, entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate we write on purpose
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in entries:
                zf.writestr(name, data)
    return path


def unix_entry(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=EPOCH)
    info.create_system = 3
    info.external_attr = mode << 16
    return info


def set_declared_size(path: Path, name: str, size: int) -> None:
    """Make both the local header and the central directory lie about an entry's uncompressed size."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        offset = zf.getinfo(name).header_offset
    struct.pack_into("<L", data, offset + 22, size)
    raw = name.encode()
    at = data.find(b"PK\x01\x02")
    while at != -1:
        (name_len,) = struct.unpack_from("<H", data, at + 28)
        if bytes(data[at + 46:at + 46 + name_len]) == raw:
            struct.pack_into("<L", data, at + 24, size)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


def tampered(path: Path) -> Path:
    entries = [(n, d.replace(b"MQL", b"SQL") if n.startswith("emails/") else d) for n, d in sample_entries()]
    return write_zip(path, entries)


def lying_bomb(path: Path) -> Path:
    """A listed campaign whose real content is 8 MiB of zeros, declared as 300 bytes (under every limit)."""
    entries = [(n, b"\0" * (8 << 20) if n.startswith("campaigns/01") else d) for n, d in sample_entries()]
    write_zip(path, entries)
    set_declared_size(path, "campaigns/01-sync-new-people-to-crm.json", 300)
    return path


def truncated(path: Path) -> Path:
    pack_dir(SAMPLE, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


HOSTILE: dict[str, tuple[Callable[[Path], Path], str, int, dict]] = {
    "traversal": (lambda p: write_zip(p, sample_entries() + [("../evil.txt", b"x")]), "PK401", 1, {}),
    "traversal-deep": (lambda p: write_zip(p, sample_entries() + [("emails/../../../evil.txt", b"x")]), "PK401", 1, {}),
    "absolute": (lambda p: write_zip(p, sample_entries() + [(unix_entry("/tmp/evil.txt", 0o100644), b"x")]),
                 "PK409", 1, {}),
    "symlink": (lambda p: write_zip(p, sample_entries() + [(unix_entry("images/logo.png", 0o120777), b"/etc/passwd")]),
                "PK402", 1, {}),
    "special": (lambda p: write_zip(p, sample_entries() + [(unix_entry("fifo", 0o010644), b"")]), "PK408", 1, {}),
    "duplicate": (lambda p: write_zip(p, sample_entries() + [("bundle.json", b"{}")]), "PK403", 1, {}),
    "bomb": (lambda p: write_zip(p, sample_entries() + [("bomb.json", b"\0" * (8 << 20))]), "PK406", 1, {}),
    "lying-size": (lying_bomb, "PK410", 1, {}),
    "too-many-files": (lambda p: write_zip(p, sample_entries()), "PK404", 1, {"max_files": 3}),
    "too-large": (lambda p: write_zip(p, sample_entries()), "PK405", 1, {"max_total_size": 1024}),
    "tampered-digest": (tampered, "PK106", 1, {}),
    "not-a-zip": (lambda p: (p.write_bytes(b"just some text, honest\n"), p)[1], "PK411", 2, {}),
    "truncated": (truncated, "PK412", 2, {}),
}


def snapshot(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_unpack_refuses_hostile_archive_and_writes_nothing(case: str, tmp_path: Path, invoke) -> None:
    build, code, exit_code, limits = HOSTILE[case]
    archive = build(tmp_path / "in" / "bundle.zip") if (tmp_path / "in").mkdir() is None else None
    work = tmp_path / "work"
    work.mkdir()
    before = snapshot(tmp_path)
    args = ["unpack", str(archive), "-o", str(work / "out")]
    args += [f"--max-files={limits['max_files']}"] if "max_files" in limits else []
    args += [f"--max-size={limits['max_total_size']}"] if "max_total_size" in limits else []
    result = invoke(*args)
    assert result.exit_code == exit_code, result.output
    assert f": {code} [" in result.stderr
    assert result.stdout == ""
    assert snapshot(tmp_path) == before  # nothing in work/, nothing beside it, no temp dir left behind

    # the library raises the matching error type with the code
    expected = BadInput if exit_code == 2 else UnsafeArchive
    with pytest.raises(expected) as e:
        unpack_archive(archive, work / "out", ArchiveLimits(**limits))
    assert code in {f.code for f in e.value.findings}
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("case", sorted(c for c in HOSTILE if HOSTILE[c][2] == 1))
def test_validate_reports_hostile_archive(case: str, tmp_path: Path) -> None:
    build, code, _, limits = HOSTILE[case]
    archive = build(tmp_path / "bundle.zip")
    result = validate_path(archive, ArchiveLimits(**limits))
    assert code in {f.code for f in result.findings}
    assert result.failed()


def test_validate_cli_exit_codes_for_hostile_archives(tmp_path: Path, invoke) -> None:
    bomb = HOSTILE["bomb"][0](tmp_path / "bomb.zip")
    r = invoke("validate", "--format", "json", str(bomb))
    assert r.exit_code == 1
    assert [f["code"] for f in json.loads(r.stdout)] == ["PK406"]
    junk = HOSTILE["not-a-zip"][0](tmp_path / "junk.zip")
    r = invoke("validate", str(junk))
    assert r.exit_code == 2
    assert "PK411" in r.stderr


def test_lying_header_is_caught_while_reading_not_after(tmp_path: Path) -> None:
    """Reading stops as soon as the real bytes pass the declared size: the bomb is never inflated whole."""
    from programkit.bundle import ZipSource

    src = ZipSource(lying_bomb(tmp_path / "b.zip"), ArchiveLimits())
    reader = src.open("campaigns/01-sync-new-people-to-crm.json")
    first = reader.read(200)
    assert len(first) == 200
    with pytest.raises(UnsafeArchive) as e:
        reader.read(1 << 20)
    assert [f.code for f in e.value.findings] == ["PK410"]
    reader.close()
    src.close()


def test_short_entry_and_bad_crc(tmp_path: Path) -> None:
    """An entry that holds fewer bytes than declared is PK410; one whose CRC is wrong is PK407."""
    short = write_zip(tmp_path / "short.zip", sample_entries())
    set_declared_size(short, "emails/01-email-alert-mql.json", 999_999)
    with pytest.raises(UnsafeArchive) as e:
        unpack_archive(short, tmp_path / "o1")
    assert [f.code for f in e.value.findings] == ["PK410"]

    bad = write_zip(tmp_path / "crc.zip", sample_entries())
    data = bytearray(bad.read_bytes())
    with zipfile.ZipFile(bad) as zf:
        info = zf.getinfo("emails/01-email-alert-mql.json")
    struct.pack_into("<L", data, info.header_offset + 14, info.CRC ^ 1)  # local header CRC is not trusted…
    at = data.find(b"PK\x01\x02")
    while at != -1:
        if data[at + 46:at + 46 + len(info.filename)] == info.filename.encode():
            struct.pack_into("<L", data, at + 16, info.CRC ^ 1)  # …the central directory's is
        at = data.find(b"PK\x01\x02", at + 4)
    bad.write_bytes(bytes(data))
    with pytest.raises(UnsafeArchive) as e:
        unpack_archive(bad, tmp_path / "o2")
    assert [f.code for f in e.value.findings] == ["PK407"]
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()


def test_missing_listed_file_and_unlisted_file(tmp_path: Path) -> None:
    entries = [(n, d) for n, d in sample_entries() if not n.startswith("emails/")]
    with pytest.raises(UnsafeArchive) as e:
        unpack_archive(write_zip(tmp_path / "m.zip", entries), tmp_path / "o")
    assert [f.code for f in e.value.findings] == ["PK105"]
    extra = write_zip(tmp_path / "x.zip", sample_entries() + [("notes.txt", b"hi")])
    result = unpack_archive(extra, tmp_path / "o")
    assert result.skipped == ["notes.txt"]
    assert [f.code for f in result.findings] == ["PK107"]
    assert not (tmp_path / "o" / "notes.txt").exists()


def test_deflate_stream_is_bounded_in_memory(tmp_path: Path) -> None:
    """A highly compressible entry is read in bounded chunks: no single read returns the whole entry."""
    from programkit.bundle import CHUNK, ZipSource

    data = b"\0" * (4 << 20)
    z = write_zip(tmp_path / "z.zip", sample_entries() + [("big.bin", data)])
    src = ZipSource(z, ArchiveLimits(max_ratio=1e9))
    with src.open("big.bin") as r:
        sizes = [len(c) for c in iter(lambda: r.read(CHUNK), b"")]
    src.close()
    assert sum(sizes) == len(data) and max(sizes) <= CHUNK
    assert zlib.crc32(data) == zipfile.ZipFile(z).getinfo("big.bin").CRC


def test_inspect_refuses_hostile_archive(tmp_path: Path, invoke) -> None:
    archive = HOSTILE["traversal"][0](tmp_path / "t.zip")
    r = invoke("inspect", str(archive))
    assert r.exit_code == 1 and ": PK401 [" in r.stderr and r.stdout == ""


def test_corrupt_deflate_data_is_pk407(tmp_path: Path) -> None:
    z = write_zip(tmp_path / "c.zip", sample_entries())
    data = bytearray(z.read_bytes())
    with zipfile.ZipFile(z) as zf:
        info = zf.getinfo("emails/01-email-alert-mql.json")
    start = info.header_offset + 30 + len(info.filename)
    data[start:start + 8] = b"\xff" * 8  # invalid deflate block header
    z.write_bytes(bytes(data))
    with pytest.raises(UnsafeArchive) as e:
        unpack_archive(z, tmp_path / "o")
    assert [f.code for f in e.value.findings] == ["PK407"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.zip"]


def test_local_header_naming_another_file_is_pk407(tmp_path: Path) -> None:
    z = write_zip(tmp_path / "n.zip", sample_entries())
    data = bytearray(z.read_bytes())
    with zipfile.ZipFile(z) as zf:
        info = zf.getinfo("emails/01-email-alert-mql.json")
    start = info.header_offset + 30
    data[start:start + 6] = b"EMAILS"  # the central directory still says emails/…
    z.write_bytes(bytes(data))
    with pytest.raises(UnsafeArchive) as e:
        unpack_archive(z, tmp_path / "o")
    assert [f.code for f in e.value.findings] == ["PK407"]
    assert "reads two ways" in e.value.findings[0].message


@pytest.fixture(scope="module")
def packed_sample(tmp_path_factory) -> bytes:
    out = tmp_path_factory.mktemp("packed") / "a.zip"
    pack_dir(SAMPLE, out)
    return out.read_bytes()


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), min_size=1,
                      max_size=4),
       cut=st.one_of(st.none(), st.integers(min_value=0)))
def test_damaged_archives_are_refused_cleanly_or_unpack_exactly(packed_sample: bytes, edits, cut) -> None:
    """Any byte damage: either a clean BadInput/UnsafeArchive with nothing written, or the exact bundle."""
    import tempfile

    data = bytearray(packed_sample)
    for pos, value in edits:
        data[pos % len(data)] = value
    if cut is not None:
        data = data[: cut % len(data)]
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        (t / "a.zip").write_bytes(bytes(data))
        try:
            unpack_archive(t / "a.zip", t / "out")
        except (BadInput, UnsafeArchive):
            assert sorted(p.name for p in t.iterdir()) == ["a.zip"]
            return
        for p in (t / "out").rglob("*"):
            if p.is_file():
                assert p.read_bytes() == (SAMPLE / p.relative_to(t / "out")).read_bytes()


def test_empty_entry_name_and_unknown_zip_version(tmp_path: Path) -> None:
    """Damage found by fuzzing: an entry with an empty name, a directory needing zip version 25.5."""
    z = write_zip(tmp_path / "e.zip", sample_entries() + [(zipfile.ZipInfo(""), b"x")])
    with pytest.raises(UnsafeArchive) as e:
        unpack_archive(z, tmp_path / "o")
    assert [f.code for f in e.value.findings] == ["PK401"]

    v = write_zip(tmp_path / "v.zip", sample_entries())
    data = bytearray(v.read_bytes())
    struct.pack_into("<H", data, data.find(b"PK\x01\x02") + 6, 255)  # version needed to extract
    v.write_bytes(bytes(data))
    with pytest.raises(BadInput) as e2:
        unpack_archive(v, tmp_path / "o")
    assert [f.code for f in e2.value.findings] == ["PK412"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.zip", "v.zip"]


def test_file_and_folder_of_one_name_collide(tmp_path: Path) -> None:
    entries = sample_entries()
    manifest = json.loads(entries[0][1])
    for path in ("images/a", "images/a/b.png"):
        manifest["assets"].append({"kind": "image", "name": path.rsplit("/", 1)[-1] + ".png", "path": path,
                                   "sha256": __import__("hashlib").sha256(b"x").hexdigest()})
    z = write_zip(tmp_path / "c.zip", [("bundle.json", json.dumps(manifest).encode())] + entries[1:]
                  + [("images/a", b"x"), ("images/a/b.png", b"x")])
    with pytest.raises(UnsafeArchive) as e:
        unpack_archive(z, tmp_path / "o")
    assert [f.code for f in e.value.findings] == ["PK403"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.zip"]
