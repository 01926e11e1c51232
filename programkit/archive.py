"""Pack a bundle directory into a reproducible zip; unpack an archive safely.

Reproducible means the same bundle always gives the same bytes, on any
machine with the same zlib: ``bundle.json`` first, then the listed files
sorted by path; every entry dated 1980-01-01 00:00:00 with mode 0644 and a
Unix "made by" system; no directory entries, extra fields or comments.
Files whose format is already compressed (PNG, JPEG, GIF, WebP, …) are
stored; every other file is deflated at level 6. Only ``bundle.json`` and
the files it lists are packed — unlisted files are skipped and reported.

Unpacking checks the whole archive first (see :func:`bundle.check_archive`),
then extracts into a temporary directory next to the output, counting the
real bytes of every entry and checking each listed file's sha256, and only
renames the result into place when everything is right. On any failure
nothing is left behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .bundle import (CHUNK, MANIFEST, ArchiveLimits, UnsafeArchive, ZipSource, carry_hidden, check_replaceable,
                     not_a_bundle_dir, return_hidden, unsafe_path_reason)
from .canonical import refresh_digests, sha256_file
from .errors import BadInput, ProgramkitError, require_folder_of, require_path

#: what `pack` takes, for the error about a missing or wrong DIRECTORY
PACK_HINT = "`programkit pack` takes a bundle directory (the folder holding bundle.json); `programkit new` starts one."
#: what `unpack` takes
UNPACK_HINT = "Give a bundle archive (.zip), as `programkit pack` or `programkit export -o NAME.zip` writes."
from .findings import Finding, Severity, make, sort_key
from .load import MAX_TEXT_BYTES
from .output import check_output, refused_write, write_output

#: fixed entry timestamp: the earliest a zip can hold
EPOCH = (1980, 1, 1, 0, 0, 0)
#: regular file, rw-r--r--, in the high 16 bits of external_attr ("made by" Unix)
FILE_ATTR = (0o100644 & 0xFFFF) << 16
DEFLATE_LEVEL = 6
#: already-compressed formats: deflating them costs time and saves nothing
STORED_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".heic", ".ico",
                             ".woff", ".woff2", ".mp4", ".webm", ".mp3", ".zip", ".gz", ".pdf"})
#: load findings that mean the files are not the bundle the manifest describes; never packed
NEVER_PACK = frozenset({"PK101", "PK102", "PK104", "PK105", "PK106", "PK108", "PK109"})


@dataclass
class PackResult:
    """What ``pack`` wrote: the archive, its size and sha256, and what it left out."""

    path: Path
    sha256: str
    size: int
    files: list[str]
    skipped: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    updated_digests: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "sha256": self.sha256, "size": self.size, "files": self.files,
                "skipped": self.skipped, "updatedDigests": self.updated_digests,
                "findings": [f.to_dict() for f in self.findings]}


def compress_type(path: str) -> int:
    """Stored for already-compressed formats, deflated otherwise (decided by the path only)."""
    return zipfile.ZIP_STORED if os.path.splitext(path)[1].lower() in STORED_SUFFIXES else zipfile.ZIP_DEFLATED


def entry_info(path: str, size: int) -> zipfile.ZipInfo:
    """The fixed header of one archive entry: only the name, size and method vary."""
    info = zipfile.ZipInfo(path, date_time=EPOCH)
    info.create_system = 3
    info.create_version = 20
    info.external_attr = FILE_ATTR
    info.compress_type = compress_type(path)
    # zipfile only copies its own level onto infos it creates; -1 would also mean 6, say it plainly
    info._compresslevel = DEFLATE_LEVEL  # type: ignore[attr-defined]
    info.file_size = size  # lets zipfile decide zip64 from the size, not from a guess
    return info


def pack_dir(src_dir: Path, out_zip: Path, *, check: bool = True, update_digests: bool = False,
             force: bool = False) -> str:
    """Pack a bundle directory into a reproducible zip; return the archive's sha256 hex."""
    return pack(src_dir, out_zip, check=check, update_digests=update_digests, force=force).sha256


def pack(src_dir: Path, out_zip: Path, *, check: bool = True, update_digests: bool = False,
         force: bool = False) -> PackResult:
    """Validate, then pack a bundle directory into ``out_zip`` atomically.

    Refuses (:class:`ProgramkitError`, exit 1, findings attached) a bundle with
    errors; with ``check=False`` only the load errors that mean the files are
    not what the manifest says (bad JSON, unsafe or missing paths, digest
    mismatches, symlinks) still refuse. ``update_digests`` first rewrites the
    manifest's digests from the files (see :func:`canonical.refresh_digests`). The archive is written with
    :func:`~programkit.output.write_output`: an existing ``out_zip`` with other bytes is replaced only with
    ``force``, and never one that is not a regular file.
    """
    from .validate import validate_path

    src_dir = Path(src_dir)
    out_zip = Path(out_zip)
    require_path(src_dir, PACK_HINT)
    if not (src_dir / MANIFEST).is_file():
        raise not_a_bundle_dir(os.fspath(src_dir), PACK_HINT)
    require_folder_of(out_zip, "-o")
    check_output(out_zip, "-o", force)  # before any work: a directory or device at -o is refused at once
    if (src_dir / MANIFEST).is_symlink():
        raise ProgramkitError(f"{src_dir}: not packed, {MANIFEST} is a symbolic link",
                              [make("PK109", f"{MANIFEST} is a symbolic link", file=MANIFEST)])
    updated = refresh_digests(src_dir) if update_digests else []
    result = validate_path(src_dir)
    bundle = result.bundle
    blocking = [f for f in result.findings
                if f.severity == Severity.ERROR and (check or f.code in NEVER_PACK)]
    if blocking or bundle is None or bundle.manifest is None:
        # --update-digests has written bundle.json already: say so, or the change goes unnoticed
        rewritten = f" (bundle.json was updated all the same: new digests for {', '.join(updated)})" if updated else ""
        raise ProgramkitError(f"{src_dir}: not packed, the bundle has errors{rewritten}", blocking or result.findings,
                              hint="Fix them (`programkit validate` lists them all); if you changed files on "
                                   "purpose, `--update-digests` rewrites the digests.")
    listed = sorted({a.path for a in bundle.assets})
    unlisted = [f for f in result.findings if f.code == "PK107"]
    skipped = sorted(f.file or "" for f in unlisted)
    try:
        write_output(out_zip, lambda raw: _write_zip(raw, src_dir, [MANIFEST] + listed,
                                                     {a.path: a.sha256 for a in bundle.assets}),
                     option="-o", force=force)
    except OSError as e:  # reading a bundle file failed
        raise BadInput(f"{e.filename or out_zip}: cannot pack ({e.strerror or e}), nothing was written") from None
    digest = sha256_file(out_zip)
    size = out_zip.stat().st_size
    warnings = [f for f in result.findings if f.severity != Severity.ERROR]
    return PackResult(out_zip, digest, size, [MANIFEST] + listed, skipped, sorted(warnings, key=sort_key), updated)


def _write_zip(raw: Any, root: Path, names: list[str], digests: dict[str, str]) -> None:
    """Stream each file into the archive, hashing as it goes: a file changed since
    validation is caught here rather than packed under a stale digest."""
    with zipfile.ZipFile(raw, "w", compresslevel=DEFLATE_LEVEL, allowZip64=True) as zf:
        for name in names:
            file = root.joinpath(*name.split("/"))
            h = hashlib.sha256()
            with open(file, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                with zf.open(entry_info(name, size), "w") as dest:
                    for chunk in iter(lambda: fh.read(CHUNK), b""):
                        h.update(chunk)
                        dest.write(chunk)
            if name in digests and h.hexdigest() != digests[name]:
                raise ProgramkitError(f"{root}: {name} changed while it was being packed; nothing was written",
                                      [make("PK106", f"{name} has sha256 {h.hexdigest()}, bundle.json says "
                                                     f"{digests[name][:12]}…", file=name)])


def usual_mode(directory: bool = False) -> int:
    """The mode a plain ``open``/``mkdir`` would give under the process umask: temporary files and folders
    (0600/0700) that are renamed into place as the user's output get it first."""
    return (0o777 if directory else 0o666) & ~_umask()


def _umask() -> int:
    """The process umask (only readable by setting it), so written files get the usual modes."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@dataclass
class UnpackResult:
    """What ``unpack`` wrote: the bundle directory and the files in it, and what it left out."""

    path: Path
    files: list[str]
    skipped: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "files": self.files, "skipped": self.skipped,
                "findings": [f.to_dict() for f in self.findings]}


def unpack_archive(zip_path: Path, out_dir: Path, limits: ArchiveLimits | None = None, *,
                   force: bool = False) -> UnpackResult:
    """Extract a bundle archive into ``out_dir``, all or nothing.

    Raises :class:`BadInput` (exit 2) for a file that is not a zip, a truncated
    zip, an archive without bundle.json, or a non-empty ``out_dir`` without
    ``force``; :class:`UnsafeArchive` (exit 1, findings) for anything hostile:
    unsafe paths, links, duplicates, limits, sizes that lie, and listed files
    whose sha256 differs from the manifest. Files the manifest does not list
    are not extracted (reported as PK107 warnings).
    """
    require_path(zip_path, UNPACK_HINT)
    zip_path, out_dir = Path(zip_path), Path(out_dir).absolute()
    if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
        raise BadInput(f"{out_dir}: exists and is not a directory")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not force:
            raise BadInput(f"{out_dir}: directory is not empty, nothing was written",
                           hint="Choose another -o DIR, or pass --force to replace the bundle in it.")
        check_replaceable(out_dir, "Choose another -o DIR.")
    source = ZipSource(zip_path, limits)
    try:
        expected, skipped, findings = _plan_extraction(source)
        try:
            out_dir.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".unpack", dir=out_dir.parent))
        except OSError as e:
            raise refused_write(out_dir, e) from None
        try:
            names = [MANIFEST] + sorted(expected)
            mismatches = [f for name in names if (f := _extract(source, name, tmp, expected.get(name)))]
            if mismatches:
                raise UnsafeArchive(f"{source.display}: files differ from bundle.json, nothing was written",
                                    mismatches,
                                    hint="The archive changed after it was packed: get it again from its source and "
                                         "compare its sha256 with the one `programkit pack` printed.")
            os.chmod(tmp, usual_mode(directory=True))
            move_into_place(tmp, out_dir)
        except BaseException as e:
            shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(e, OSError):  # the file system refused a file or the rename (full disk, read-only…)
                raise refused_write(out_dir, e) from None
            raise
    finally:
        source.close()
    return UnpackResult(out_dir, names, skipped, findings)


def _plan_extraction(source: ZipSource) -> tuple[dict[str, str], list[str], list[Finding]]:
    """Listed path → expected sha256, and the unlisted entries left out. Refuses what cannot be verified."""
    if not source.is_file(MANIFEST):
        raise BadInput(f"{source.display}: not a bundle archive (no {MANIFEST} at its root)")
    if source.size(MANIFEST) > MAX_TEXT_BYTES:
        raise UnsafeArchive(f"{source.display}: {MANIFEST} is too large to read", [
            make("PK111", f"{MANIFEST} is {source.size(MANIFEST) / (1 << 20):.1f} MiB; the limit is 16 MiB",
                 file=MANIFEST)])
    try:
        manifest = json.loads(source.read_bytes(MANIFEST).decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise UnsafeArchive(f"{source.display}: {MANIFEST} cannot be read, so no file can be verified",
                            [make("PK101", f"{MANIFEST}: {e}", file=MANIFEST)]) from None
    errors: list[Finding] = []
    expected: dict[str, str] = {}
    entries = manifest.get("assets") if isinstance(manifest, dict) else None
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            continue
        path, sha, pointer = entry["path"], entry.get("sha256"), f"/assets/{i}/path"
        reason = unsafe_path_reason(path)
        if reason:
            errors.append(make("PK104", f"{pointer}: {path!r} {reason}", file=MANIFEST, pointer=pointer))
        elif not source.is_file(path):
            errors.append(make("PK105", f"{pointer}: {path} is not in the archive", file=MANIFEST, pointer=pointer))
        elif not isinstance(sha, str):
            errors.append(make("PK106", f"/assets/{i}/sha256: {path} has no digest to check", file=MANIFEST,
                               pointer=f"/assets/{i}/sha256"))
        elif expected.setdefault(path, sha) != sha:
            errors.append(make("PK106", f"/assets/{i}/sha256: {path} is listed twice with different digests",
                               file=MANIFEST, pointer=f"/assets/{i}/sha256"))
    if errors:
        raise UnsafeArchive(f"{source.display}: the archive does not hold the files bundle.json lists, "
                            "nothing was written", errors)
    skipped = [n for n in source.names() if n != MANIFEST and n not in expected]
    return expected, skipped, [make("PK107", f"{n} is not listed in {MANIFEST}; not extracted", file=n)
                               for n in skipped]


def _extract(source: ZipSource, name: str, root: Path, sha256: str | None) -> Finding | None:
    """Stream one entry to disk under root; a digest mismatch is returned, unsafe content raises."""
    dest = root.joinpath(*name.split("/"))
    h = hashlib.sha256()
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with source.open(name) as reader, open(dest, "xb") as out:
            for chunk in iter(lambda: reader.read(CHUNK), b""):
                h.update(chunk)
                out.write(chunk)
    except (FileExistsError, NotADirectoryError):  # 'a' and 'a/b', or names one file system folds together
        raise UnsafeArchive(f"{source.display}: entries collide on this file system, nothing was written",
                            [make("PK403", f"entry {name!r} collides with another entry on this file system",
                                  file=name)]) from None
    if sha256 is not None and h.hexdigest() != sha256:
        return make("PK106", f"{name} has sha256 {h.hexdigest()}, bundle.json says {sha256[:12]}…", file=name)
    return None


def move_into_place(tmp: Path, out_dir: Path) -> None:
    """Rename the verified tree ``tmp`` onto ``out_dir``; an existing directory is swapped out, then removed
    (its top-level hidden entries, ``.git`` and the like, move into the new tree first)."""
    if not out_dir.exists():
        os.rename(tmp, out_dir)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".old", dir=out_dir.parent))
    moved = carry_hidden(out_dir, tmp)  # .git, .gitignore: not the bundle's, kept
    try:
        os.rename(out_dir, old / "d")
        try:
            os.rename(tmp, out_dir)
        except BaseException:
            os.rename(old / "d", out_dir)
            raise
    except BaseException:
        return_hidden(tmp, out_dir, moved)
        raise
    shutil.rmtree(old, ignore_errors=True)
