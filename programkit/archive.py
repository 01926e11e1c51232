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
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .bundle import CHUNK, MANIFEST
from .canonical import refresh_digests
from .errors import BadInput, ProgramkitError
from .findings import Finding, Severity, make, sort_key

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


def pack_dir(src_dir: Path, out_zip: Path, *, check: bool = True, update_digests: bool = False) -> str:
    """Pack a bundle directory into a reproducible zip; return the archive's sha256 hex."""
    return pack(src_dir, out_zip, check=check, update_digests=update_digests).sha256


def pack(src_dir: Path, out_zip: Path, *, check: bool = True, update_digests: bool = False) -> PackResult:
    """Validate, then pack a bundle directory into ``out_zip`` atomically.

    Refuses (:class:`ProgramkitError`, exit 1, findings attached) a bundle with
    errors; with ``check=False`` only the load errors that mean the files are
    not what the manifest says (bad JSON, unsafe or missing paths, digest
    mismatches, symlinks) still refuse. ``update_digests`` first rewrites the
    manifest's digests from the files (see :func:`canonical.refresh_digests`).
    """
    from .validate import validate_path

    src_dir = Path(src_dir)
    out_zip = Path(out_zip)
    if not (src_dir / MANIFEST).is_file():
        raise BadInput(f"{src_dir}: not a bundle directory (no {MANIFEST})",
                       hint="`programkit pack` takes the directory that holds bundle.json.")
    updated = refresh_digests(src_dir) if update_digests else []
    result = validate_path(src_dir)
    bundle = result.bundle
    blocking = [f for f in result.findings
                if f.severity == Severity.ERROR and (check or f.code in NEVER_PACK)]
    if blocking or bundle is None or bundle.manifest is None:
        raise ProgramkitError(f"{src_dir}: not packed, the bundle has errors", blocking or result.findings,
                              hint="Fix them (`programkit validate` lists them all); if you changed files on "
                                   "purpose, `--update-digests` rewrites the digests.")
    listed = sorted({a.path for a in bundle.assets})
    unlisted = [f for f in result.findings if f.code == "PK107"]
    skipped = sorted(f.file or "" for f in unlisted)
    out_zip.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out_zip.name}.", suffix=".tmp", dir=out_zip.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as raw:
            _write_zip(raw, src_dir, [MANIFEST] + listed, {a.path: a.sha256 for a in bundle.assets})
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        digest = _sha256_file(tmp)
        size = tmp.stat().st_size
        os.replace(tmp, out_zip)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
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
                                      [make("PK106", f"{name} has sha256 {h.hexdigest()[:12]}…, bundle.json says "
                                                     f"{digests[name][:12]}…", file=name)])


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()
