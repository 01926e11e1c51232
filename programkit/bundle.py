"""Where a bundle's bytes come from: a directory or a zip archive, read safely.

A :class:`BundleSource` lists a bundle's files and reads them. The zip source
checks the whole archive before anything is read: no path traversal, no
absolute paths, no symlinks, no duplicate entries, and limits on the number
of files, the total uncompressed size and the compression ratio (zip bombs).
Every problem is reported at once, as findings.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import struct
import zipfile
import zlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator, Protocol

from .errors import BUNDLE_HINT, BadInput, ProgramkitError, no_such_path
from .findings import Finding, Severity, make, register_code

MANIFEST = "bundle.json"
CHUNK = 1 << 20

G = "archive"
register_code("PK401", "archive-unsafe-path", Severity.ERROR,
              "An archive entry's path climbs out of the bundle with '..' (or uses a backslash, a NUL byte or an "
              "empty segment).",
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
register_code("PK409", "archive-absolute-path", Severity.ERROR,
              "An archive entry's path is absolute ('/etc/cron.d/x', 'C:/x'), so extracting it would write anywhere.",
              hint="Rebuild the archive with `programkit pack`; it only writes relative paths.",
              example="entry '/etc/cron.d/evil' is absolute", group=G)
register_code("PK410", "archive-size-mismatch", Severity.ERROR,
              "An entry holds more (or fewer) bytes than its header declares: the size limits were checked against "
              "a lie, so reading stopped.",
              hint="Do not trust this archive; pack the bundle again from its source.",
              example="entry 'a.json' holds more than the 100 bytes its header declares", group=G)
register_code("PK411", "archive-not-zip", Severity.ERROR,
              "The file is not a zip archive at all (exit 2).",
              hint="Pass a bundle directory, its bundle.json, or a .zip made by `programkit pack`.",
              example="bundle.zip: not a zip archive (no zip signature)", group=G)
register_code("PK412", "archive-truncated", Severity.ERROR,
              "The file starts like a zip archive but its end (the central directory) is missing or damaged: "
              "a truncated download or copy (exit 2).",
              hint="Fetch or copy the archive again and compare its sha256 with the one `programkit pack` printed.",
              example="bundle.zip: not a zip archive: it starts like one but is truncated or damaged "
                      "(File is not a zip file)", group=G)


#: the largest text (JSON or HTML) asset a bundle may hold; lint parses templates up to the same size
MAX_TEXT_BYTES = 16 << 20


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
    # split, not PurePosixPath: the same '..' verdict (the path is relative here) without pathlib's cost,
    # which showed at 10k assets
    parts = path.split("/")
    if ".." in parts:
        return "climbs out of the bundle with '..'"
    if "" in parts or "." in parts:
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


#: errnos for which pathlib's is_symlink()/is_file() answer False instead of raising (Python 3.11)
_IGNORED_ERRNOS = (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP)


class DirSource:
    """A bundle directory. Symlinks inside it are never followed.

    Paths are handled as strings with :mod:`os` calls, not :mod:`pathlib`:
    a bundle of 10k images spent more time building Path objects than
    reading the files. Whether a directory on the way is a symlink is
    looked up once per directory for the life of the source (one load).
    """

    def __init__(self, root: Path, display: str | None = None):
        self.root = root
        self.display = display or str(root)
        self._base = os.fspath(root)
        self._prefix = os.path.join(self._base, "")  # with its trailing separator
        self._dirs: dict[str, bool] = {}  # directory path → is a symlink (or missing: see _lstat)

    def _full(self, path: str) -> str:
        return self._prefix + (path if os.sep == "/" else path.replace("/", os.sep))

    @staticmethod
    def _lstat(full: str) -> os.stat_result | None:
        """lstat, None where pathlib's is_symlink()/is_file() would say False rather than raise."""
        try:
            return os.lstat(full)
        except OSError as e:
            if e.errno in _IGNORED_ERRNOS:
                return None
            raise
        except ValueError:
            return None

    def _is_link(self, full: str) -> bool:
        st = self._lstat(full)
        return st is not None and stat.S_ISLNK(st.st_mode)

    def probe(self, path: str) -> tuple[str, int]:
        """("symlink" | "file" | "missing", size): what :meth:`is_symlink` and :meth:`is_file` say, in one walk.

        "symlink" if the path or a directory on the way is a symbolic link;
        "file" for a regular file (its size given); "missing" for anything else.
        """
        full = self._full(path)
        end = len(self._prefix) - 1
        while (end := full.find(os.sep, end + 1)) != -1:  # each directory on the way, once per source
            d = full[:end]
            link = self._dirs.get(d)
            if link is None:
                link = self._dirs[d] = self._is_link(d)
            if link:
                return "symlink", 0
        st = self._lstat(full)
        if st is None:
            return "missing", 0
        if stat.S_ISLNK(st.st_mode):
            return "symlink", 0
        return ("file", st.st_size) if stat.S_ISREG(st.st_mode) else ("missing", 0)

    def is_file(self, path: str) -> bool:
        return self.probe(path)[0] == "file"

    def is_symlink(self, path: str) -> bool:
        return self.probe(path)[0] == "symlink"

    def names(self) -> list[str]:
        out = []
        for dirpath, dirnames, filenames in os.walk(self._base):
            rel = os.path.relpath(dirpath, self._base)
            prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not self._is_link(os.path.join(dirpath, d)))
            out.extend(prefix + name for name in filenames if not name.startswith("."))
        return sorted(out)

    def open(self, path: str) -> BinaryIO:
        return open(self._full(path), "rb")

    def read_bytes(self, path: str) -> bytes:
        with open(self._full(path), "rb") as fh:
            return fh.read()

    def size(self, path: str) -> int:
        return os.stat(self._full(path)).st_size


class ZipSource:
    """A bundle archive, checked whole when opened (see :func:`check_archive`)."""

    def __init__(self, path: Path, limits: ArchiveLimits | None = None, display: str | None = None):
        self.path = path
        self.display = display or str(path)
        self.limits = limits or ArchiveLimits.from_env()
        self.zip = open_zip(path, self.display)
        findings, self.prefix = check_archive(self.zip, self.limits, self.display)
        if findings:
            self.zip.close()
            raise UnsafeArchive(f"{self.display}: unsafe archive, nothing was read", findings)
        self._infos = {i.filename[len(self.prefix):]: i for i in self.zip.infolist()
                       if not i.filename.endswith("/")}

    def names(self) -> list[str]:
        return sorted(self._infos)

    def is_file(self, path: str) -> bool:
        return path in self._infos

    def open(self, path: str) -> BinaryIO:
        """A stream of the entry's bytes that never yields more than its header declares."""
        return EntryReader(self.path, self._infos[path], self.display)  # type: ignore[return-value]

    def read_bytes(self, path: str) -> bytes:
        with EntryReader(self.path, self._infos[path], self.display) as r:
            return r.read()

    def size(self, path: str) -> int:
        return self._infos[path].file_size

    def close(self) -> None:
        self.zip.close()


def open_zip(path: Path, display: str) -> zipfile.ZipFile:
    """Open a zip archive's directory; a file that is not one, or is cut short, is BadInput (exit 2)."""
    try:
        return zipfile.ZipFile(path)
    # zipfile reports a damaged directory in many ways; each means "not a readable zip" here
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, struct.error, OverflowError,
            IndexError) as e:
        try:
            with open(path, "rb") as fh:
                head = fh.read(4)
        except OSError:
            head = b""
        if head in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
            finding = make("PK412", f"not a zip archive: it starts like one but is truncated or damaged ({e})",
                           file=display)
        else:
            finding = make("PK411", "not a zip archive (no zip signature)", file=display)
        raise BadInput(f"{display}: {finding.message}", [finding], hint=finding.hint) from None
    except OSError as e:
        raise BadInput(f"{display}: cannot read ({e.strerror or e})") from None


_LOCAL = struct.Struct("<4sHHHHHLLLHH")


class EntryReader:
    """Read one entry's bytes from the archive file, trusting none of its header.

    The compressed data is read straight from the local header (whose name must
    match the central directory's), decompressed in bounded chunks, and the real
    bytes are counted: more than the declared size stops at once (PK410, a zip
    bomb lying about its size), fewer is PK410 at the end, and a bad CRC,
    truncated data, encryption or an unknown method is PK407. Errors raise
    :class:`UnsafeArchive`.
    """

    def __init__(self, archive: Path, info: zipfile.ZipInfo, display: str = ""):
        self.info, self.display, self.name = info, display or str(archive), info.filename
        self._fh = open(archive, "rb")
        try:
            self._start()
        except BaseException:
            self._fh.close()
            raise

    def _fail(self, code: str, message: str) -> UnsafeArchive:
        return UnsafeArchive(f"{self.display}: entry {self.name!r} cannot be trusted, reading stopped",
                             [make(code, f"entry {self.name!r} {message}", file=self.name)])

    def _start(self) -> None:
        info = self.info
        if info.header_offset < 0 or info.compress_size < 0:  # a damaged directory can say so
            raise self._fail("PK407", "has a negative offset or size in the archive's directory")
        self._fh.seek(info.header_offset)
        header = self._fh.read(_LOCAL.size)
        if len(header) != _LOCAL.size or header[:4] != b"PK\x03\x04":
            raise self._fail("PK407", "has no local header where the directory says")
        _, _, flags, method, _, _, _, _, _, name_len, extra_len = _LOCAL.unpack(header)
        raw_name = self._fh.read(name_len)
        self._fh.seek(extra_len, os.SEEK_CUR)
        local_name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", "replace")
        if local_name != info.orig_filename:
            raise self._fail("PK407", f"is called {local_name!r} in its local header: the archive reads two ways")
        if info.flag_bits & 0x1:
            raise self._fail("PK407", "is encrypted")
        if info.compress_type == zipfile.ZIP_DEFLATED:
            self._inflate: "zlib._Decompress | None" = zlib.decompressobj(-15)
        elif info.compress_type == zipfile.ZIP_STORED:
            self._inflate = None
        else:
            raise self._fail("PK407", f"uses compression method {info.compress_type}; only stored and deflated are read")
        self._raw_left = info.compress_size
        self._count = 0
        self._crc = 0
        self._done = False

    def _next(self, n: int) -> bytes:
        """Up to n decompressed bytes; b'' once the entry is finished (and checked)."""
        while not self._done:
            d = self._inflate
            if d is None:
                if not self._raw_left:
                    return self._finish()
                out = self._fh.read(min(n, self._raw_left))
                if not out:
                    raise self._fail("PK407", "is truncated")
                self._raw_left -= len(out)
            elif d.unconsumed_tail:
                out = self._inflate_chunk(d, d.unconsumed_tail, n)
            elif d.eof:
                return self._finish()
            elif self._raw_left:
                data = self._fh.read(min(CHUNK, self._raw_left))
                if not data:
                    raise self._fail("PK407", "is truncated")
                self._raw_left -= len(data)
                out = self._inflate_chunk(d, data, n)
            else:
                raise self._fail("PK407", "is truncated: its compressed data ends early")
            self._count += len(out)
            if self._count > self.info.file_size:
                raise self._fail("PK410", f"holds more than the {self.info.file_size} bytes its header declares")
            if out:
                self._crc = zlib.crc32(out, self._crc)
                return out
        return b""

    def _inflate_chunk(self, d: "zlib._Decompress", data: bytes, n: int) -> bytes:
        try:
            return d.decompress(data, n)  # at most n bytes out: a bomb never fills memory
        except zlib.error as e:
            raise self._fail("PK407", f"has corrupt compressed data ({e})") from None

    def _finish(self) -> bytes:
        self._done = True
        if self._count != self.info.file_size:
            raise self._fail("PK410", f"holds {self._count} bytes; its header declares {self.info.file_size}")
        if self._crc != self.info.CRC:
            raise self._fail("PK407", "has a bad CRC-32")
        return b""

    def read(self, n: int = -1) -> bytes:
        if n is not None and n >= 0:
            return self._next(max(n, 1)) if n else b""
        parts = list(iter(lambda: self._next(CHUNK), b""))
        return b"".join(parts)

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> "EntryReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
        check_name = name[:-1] if info.filename.endswith("/") else name
        reason = unsafe_path_reason(check_name)
        if reason:
            code = "PK409" if reason == "is absolute" else "PK401"
            findings.append(make(code, f"entry {name!r} {reason}", file=name))
        if mode and stat.S_ISLNK(mode):
            findings.append(make("PK402", f"entry {name!r} is a symbolic link", file=name))
        elif stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            # no file-type bits (as Python's writestr and many tools write) means a regular file
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
    names = [i.filename for i in infos if not i.filename.endswith("/")]
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


def not_a_bundle_dir(display: str, hint: str = "A bundle directory has bundle.json at its root; "
                                                  "`programkit new` starts one.") -> BadInput:
    """The error for a directory without bundle.json, in every command that takes a bundle directory."""
    return BadInput(f"{display}: not a bundle (no {MANIFEST} in this directory)", hint=hint)


def _refuse_special(p: Path, display: str) -> None:
    """BadInput if ``p`` exists and is a FIFO, device or socket (what it is, not "does not exist")."""
    import stat as _stat

    from .errors import file_type

    try:
        mode = os.stat(p).st_mode
    except (OSError, ValueError):
        return
    if not (_stat.S_ISREG(mode) or _stat.S_ISDIR(mode)):
        raise BadInput(f"{display} is {file_type(mode)}, not a bundle file",
                       hint="Give a bundle directory, its bundle.json (a regular file) or a .zip archive.")


def open_source(path: str | os.PathLike[str], limits: ArchiveLimits | None = None) -> tuple[BundleSource, str]:
    """Open a bundle given as a directory, a bundle.json, or a .zip archive.

    Returns the source and the manifest's path inside it. Raises
    :class:`BadInput` (exit 2) for a path that is not a bundle at all, and
    :class:`UnsafeArchive` (exit 1) for an archive that must not be read.
    """
    p = Path(path)
    display = os.fspath(path)
    if not p.exists():
        raise no_such_path(display, BUNDLE_HINT)
    if p.is_dir():
        if not (p / MANIFEST).is_file():
            _refuse_special(p / MANIFEST, os.path.join(display, MANIFEST))
            raise not_a_bundle_dir(display)
        return DirSource(p, display), MANIFEST
    _refuse_special(p, display)  # a FIFO would hang the read, a device never end: said, never opened
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


# --- replacing a bundle directory (--force) -------------------------------------------


def listed_files(dest: Path) -> set[str]:
    """The files the bundle in ``dest`` owns: bundle.json and every safe asset path it lists."""
    try:
        manifest = json.loads((dest / "bundle.json").read_bytes())
        assets = manifest.get("assets") if isinstance(manifest, dict) else None
    except (OSError, ValueError):
        return {"bundle.json"}
    paths = {a.get("path") for a in assets or [] if isinstance(a, dict)}
    return {"bundle.json"} | {p for p in paths if isinstance(p, str) and not unsafe_path_reason(p)}


def foreign_entries(dest: Path, keep: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """What in ``dest`` is not the bundle's there (bundle.json and the files it lists, plus ``keep``):
    the user's own files, links, and hidden entries below the top level. Top-level hidden entries
    (``.git``, ``.gitignore``) are not a bundle's and are not listed: replacing keeps them."""
    listed = listed_files(dest) | set(keep)
    out = []
    for dirpath, dirnames, filenames in os.walk(dest):
        rel = os.path.relpath(dirpath, dest)
        prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        for d in list(dirnames):
            full = os.path.join(dirpath, d)
            if (not prefix and d.startswith(".")) or os.path.islink(full):
                dirnames.remove(d)
                if os.path.islink(full):
                    out.append(prefix + d)
                continue
            if d.startswith("."):
                dirnames.remove(d)
                out.append(prefix + d + "/")
        for name in filenames:
            path = prefix + name
            if not prefix and name.startswith("."):
                continue
            if name.startswith(".") or os.path.islink(os.path.join(dirpath, name)) or path not in listed:
                out.append(path)
    return sorted(out)


def check_replaceable(dest: Path, hint: str) -> None:
    """For ``--force`` into an existing directory: refuse (BadInput, nothing written) unless it is empty or
    holds a bundle and nothing else of the user's; never delete a file that is not the bundle's silently."""
    if not any(dest.iterdir()):
        return
    if not (dest / "bundle.json").is_file():
        raise BadInput(f"{dest} is not a bundle directory (no bundle.json); nothing was written",
                       hint="--force only replaces a bundle directory. " + hint)
    foreign = foreign_entries(dest)
    if foreign:
        raise foreign_files_error(dest, foreign)


def foreign_files_error(dest: Path, foreign: list[str]) -> BadInput:
    """The refusal of ``--force`` into ``dest`` holding files that are not the bundle's, listed."""
    shown = ", ".join(foreign[:10]) + (f" and {len(foreign) - 10} more" if len(foreign) > 10 else "")
    return BadInput(f"{dest} holds {len(foreign)} file(s) that are not part of the bundle there: {shown}; "
                    "nothing was written",
                    hint="--force replaces only a bundle's own files (bundle.json and the files it lists). "
                         "Move those files out, or choose a new directory.")


def carry_hidden(old: Path, new: Path) -> list[str]:
    """Move ``old``'s top-level hidden entries (``.git``, ``.gitignore``) into ``new``, which is about to
    replace it; returns their names, for :func:`return_hidden` if the replacement fails."""
    moved = []
    for name in sorted(os.listdir(old)):
        if name.startswith(".") and not os.path.lexists(new / name):
            os.rename(old / name, new / name)
            moved.append(name)
    return moved


def return_hidden(new: Path, old: Path, moved: list[str]) -> None:
    """Undo :func:`carry_hidden` (the replacement failed): the entries go back where they were."""
    for name in moved:
        if os.path.lexists(new / name) and not os.path.lexists(old / name):
            os.rename(new / name, old / name)
