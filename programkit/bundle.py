"""Where a bundle's bytes come from: a directory or a zip archive, read safely.

A :class:`BundleSource` lists a bundle's files and reads them. The zip source
checks the whole archive before anything is read: no path traversal, no
absolute paths, no symlinks, no duplicate entries, and limits on the number
of files, the total uncompressed size and the compression ratio (zip bombs).
Every problem is reported at once, as findings.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterator, Protocol

from .errors import BadInput, ProgramkitError
from .findings import Finding, Severity, make, register_code

MANIFEST = "bundle.json"
CHUNK = 1 << 20

G = "archive"
register_code("PK401", "archive-unsafe-path", Severity.ERROR,
              "An archive entry's path is absolute or climbs out of the bundle with '..'.",
              hint="Rebuild the archive with `programkit pack`; it only writes relative paths.",
              example="entry '../../etc/passwd' escapes the bundle", group=G)
register_code("PK402", "archive-symlink", Severity.ERROR,
              "An archive entry is a symbolic link.",
              hint="Replace the link with the file it points to, then pack again.",
              example="entry 'images/logo.png' is a symbolic link", group=G)
register_code("PK403", "archive-duplicate-entry", Severity.ERROR,
              "Two archive entries have the same path.",
              hint="An archive with duplicate names can be read two ways; pack the bundle again.",
              example="entry 'bundle.json' appears 2 times", group=G)
register_code("PK404", "archive-too-many-files", Severity.ERROR,
              "The archive has more entries than the configured limit.",
              hint="Raise --max-files if the bundle really is this large.",
              example="archive has 120001 entries; the limit is 100000", group=G)
register_code("PK405", "archive-too-large", Severity.ERROR,
              "The archive's total uncompressed size is beyond the configured limit.",
              hint="Raise --max-size if the bundle really is this large.",
              example="archive expands to 3.2 GiB; the limit is 2.0 GiB", group=G)
register_code("PK406", "archive-compression-ratio", Severity.ERROR,
              "An entry expands far more than real content does (a zip bomb).",
              hint="Raise --max-ratio only if you trust where the archive came from.",
              example="entry 'a.json' expands 1032 times; the limit is 200", group=G)
register_code("PK407", "archive-corrupt", Severity.ERROR,
              "An entry cannot be read back: bad CRC, truncated data or an unsupported method.",
              hint="The archive is damaged; fetch or pack it again.",
              example="entry 'images/logo.png': Bad CRC-32", group=G)
register_code("PK408", "archive-special-entry", Severity.ERROR,
              "An archive entry is a device, FIFO or other non-regular file.",
              hint="Bundles hold only regular files; pack the bundle again.",
              example="entry 'dev' is not a regular file", group=G)


@dataclass(frozen=True)
class ArchiveLimits:
    """Limits for reading an archive. Generous for real bundles, fatal for bombs."""

    max_files: int = 100_000
    max_total_size: int = 4 << 30  # 4 GiB uncompressed
    max_ratio: float = 200.0  # uncompressed / compressed, per entry
    ratio_floor: int = 1 << 20  # entries smaller than this are never bombs

    @classmethod
    def from_env(cls) -> "ArchiveLimits":
        """Limits overridden by PROGRAMKIT_MAX_FILES / _MAX_SIZE / _MAX_RATIO."""
        base = cls()
        return cls(
            max_files=int(os.environ.get("PROGRAMKIT_MAX_FILES", base.max_files)),
            max_total_size=int(os.environ.get("PROGRAMKIT_MAX_SIZE", base.max_total_size)),
            max_ratio=float(os.environ.get("PROGRAMKIT_MAX_RATIO", base.max_ratio)),
        )


class UnsafeArchive(ProgramkitError):
    """An archive that is readable but must not be trusted (exit 1, nothing written)."""

    exit_code = 1


_DRIVE = re.compile(r"^[A-Za-z]:")


def unsafe_path_reason(path: str) -> str | None:
    """Why a bundle-relative path is unsafe, or None if it stays inside the bundle."""
    if not path:
        return "is empty"
    if "\\" in path:
        return "uses a backslash; bundle paths use '/'"
    if path.startswith("/") or _DRIVE.match(path):
        return "is absolute"
    if "\x00" in path:
        return "contains a NUL byte"
    parts = PurePosixPath(path).parts
    if ".." in parts:
        return "climbs out of the bundle with '..'"
    if any(p in ("", ".") for p in path.split("/")):
        return "has an empty or '.' segment"
    return None


class BundleSource(Protocol):
    display: str

    def names(self) -> list[str]: ...
    def is_file(self, path: str) -> bool: ...
    def open(self, path: str) -> BinaryIO: ...
    def read_bytes(self, path: str) -> bytes: ...
    def size(self, path: str) -> int: ...


def sha256_stream(stream: BinaryIO) -> str:
    h = hashlib.sha256()
    for chunk in iter(lambda: stream.read(CHUNK), b""):
        h.update(chunk)
    return h.hexdigest()


class DirSource:
    """A bundle directory. Symlinks inside it are never followed."""

    def __init__(self, root: Path, display: str | None = None):
        self.root = root
        self.display = display or str(root)

    def _path(self, path: str) -> Path:
        return self.root.joinpath(*path.split("/"))

    def is_file(self, path: str) -> bool:
        p = self.root
        for part in path.split("/"):
            p = p / part
            if p.is_symlink():
                return False
        return p.is_file()

    def is_symlink(self, path: str) -> bool:
        p = self.root
        for part in path.split("/"):
            p = p / part
            if p.is_symlink():
                return True
        return False

    def names(self) -> list[str]:
        out = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            rel = Path(dirpath).relative_to(self.root)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not (Path(dirpath) / d).is_symlink())
            for name in filenames:
                if name.startswith("."):
                    continue
                out.append((rel / name).as_posix() if rel.parts else name)
        return sorted(out)

    def open(self, path: str) -> BinaryIO:
        return open(self._path(path), "rb")

    def read_bytes(self, path: str) -> bytes:
        return self._path(path).read_bytes()

    def size(self, path: str) -> int:
        return self._path(path).stat().st_size


class ZipSource:
    """A bundle archive, checked whole when opened (see :func:`check_archive`)."""

    def __init__(self, path: Path, limits: ArchiveLimits | None = None, display: str | None = None):
        self.path = path
        self.display = display or str(path)
        self.limits = limits or ArchiveLimits.from_env()
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, NotImplementedError, EOFError, ValueError) as e:  # damaged central directory
            raise BadInput(f"{self.display}: not a zip archive ({e})",
                           hint="Pass a bundle directory, its bundle.json, or a .zip made by `programkit pack`.") from None
        except OSError as e:
            raise BadInput(f"{self.display}: cannot read ({e.strerror or e})") from None
        findings, self.prefix = check_archive(self.zip, self.limits, self.display)
        if findings:
            self.zip.close()
            raise UnsafeArchive(f"{self.display}: unsafe archive, nothing was read", findings)
        self._infos = {i.filename[len(self.prefix):]: i for i in self.zip.infolist() if not i.is_dir()}

    def names(self) -> list[str]:
        return sorted(self._infos)

    def is_file(self, path: str) -> bool:
        return path in self._infos

    def open(self, path: str) -> BinaryIO:
        return self.zip.open(self._infos[path])  # type: ignore[return-value]

    def read_bytes(self, path: str) -> bytes:
        try:
            return self.zip.read(self._infos[path])
        except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as e:
            raise UnsafeArchive(f"{self.display}: entry {path!r} cannot be read",
                                [make("PK407", f"entry {path!r}: {e}", file=path)]) from None

    def size(self, path: str) -> int:
        return self._infos[path].file_size

    def close(self) -> None:
        self.zip.close()


def _entry_mode(info: zipfile.ZipInfo) -> int:
    return (info.external_attr >> 16) & 0xFFFF if info.create_system == 3 else 0


def check_archive(zf: zipfile.ZipFile, limits: ArchiveLimits, display: str = "") -> tuple[list[Finding], str]:
    """Every reason not to trust an archive, and the folder prefix its bundle sits under.

    Accepts a bundle at the archive's root (as `programkit pack` writes it) or
    under one top-level folder (as `zip -r name.zip name/` writes it).
    """
    findings: list[Finding] = []
    infos = zf.infolist()
    if len(infos) > limits.max_files:
        findings.append(make("PK404", f"archive has {len(infos)} entries; the limit is {limits.max_files}",
                             file=display))
    seen: dict[str, int] = {}
    total = 0
    for info in infos:
        name = info.filename
        seen[name] = seen.get(name, 0) + 1
        mode = _entry_mode(info)
        check_name = name[:-1] if info.is_dir() else name
        reason = unsafe_path_reason(check_name)
        if reason:
            findings.append(make("PK401", f"entry {name!r} {reason}", file=name))
        if mode and stat.S_ISLNK(mode):
            findings.append(make("PK402", f"entry {name!r} is a symbolic link", file=name))
        elif mode and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            findings.append(make("PK408", f"entry {name!r} is not a regular file", file=name))
        total += info.file_size
        if info.file_size >= limits.ratio_floor:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                findings.append(make("PK406", f"entry {name!r} expands {ratio:.0f} times; the limit is {limits.max_ratio:g}",
                                     file=name))
    for name, n in sorted(seen.items()):
        if n > 1:
            findings.append(make("PK403", f"entry {name!r} appears {n} times", file=name))
    if total > limits.max_total_size:
        findings.append(make("PK405", f"archive expands to {_human(total)}; the limit is {_human(limits.max_total_size)}",
                             file=display))
    prefix = ""
    names = [i.filename for i in infos if not i.is_dir()]
    if MANIFEST not in names:
        tops = {n.split("/", 1)[0] for n in names}
        if len(tops) == 1:
            top = next(iter(tops))
            if f"{top}/{MANIFEST}" in names:
                prefix = top + "/"
    return findings, prefix


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} GiB"


def open_source(path: str | os.PathLike[str], limits: ArchiveLimits | None = None) -> tuple[BundleSource, str]:
    """Open a bundle given as a directory, a bundle.json, or a .zip archive.

    Returns the source and the manifest's path inside it. Raises
    :class:`BadInput` (exit 2) for a path that is not a bundle at all, and
    :class:`UnsafeArchive` (exit 1) for an archive that must not be read.
    """
    p = Path(path)
    display = os.fspath(path)
    if not p.exists():
        raise BadInput(f"{display}: no such file or directory")
    if p.is_dir():
        if not (p / MANIFEST).is_file():
            raise BadInput(f"{display}: not a bundle (no {MANIFEST} in this directory)",
                           hint="A bundle directory has bundle.json at its root; `programkit new` starts one.")
        return DirSource(p, display), MANIFEST
    if p.suffix.lower() == ".json":
        return DirSource(p.parent, str(p.parent) if p.parent != Path(".") else "."), p.name
    if p.suffix.lower() == ".zip" or zipfile.is_zipfile(p):
        src = ZipSource(p, limits, display)
        if not src.is_file(MANIFEST):
            src.close()
            raise BadInput(f"{display}: not a bundle archive (no {MANIFEST} at its root)")
        return src, MANIFEST
    raise BadInput(f"{display}: not a bundle (expected a directory, a bundle.json or a .zip)")


def iter_files(source: BundleSource) -> Iterator[str]:
    yield from source.names()
