"""Load stage: bytes of a bundle → :class:`~programkit.model.Bundle` plus findings.

Loading never stops at the first problem: a broken JSON file, a missing
asset or a digest mismatch is a finding, and loading carries on with the
rest so that ``validate`` can list everything at once. Only input that is not
a bundle at all raises :class:`~programkit.errors.BadInput`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
import zlib
from dataclasses import dataclass, field

import semver

from . import schema
from .bundle import (MAX_TEXT_BYTES, ArchiveLimits, BundleSource, DirSource, UnsafeArchive, open_source, sha256_stream,
                     unsafe_path_reason)
from .errors import BadInput
from .findings import Finding, Severity, make, register_code
from .jsontypes import JsonInputError, strict_loads
from .kinds import HTML_KINDS, JSON_KINDS
from .model import Asset, Bundle
from . import registry_source

G = "bundle"
register_code("PK101", "json-syntax", Severity.ERROR, "A JSON file does not parse.",
              hint="Fix the syntax at the line and column given (a missing comma or quote is the usual cause).",
              example="bundle.json:12:5: Expecting ',' delimiter", group=G)
register_code("PK102", "manifest-schema", Severity.ERROR, "bundle.json does not match the bundle schema.",
              hint="See `programkit schema bundle` for the expected shape.",
              example="/program/type: 'defualt' is not one of ['default', 'event', ...]", group=G)
register_code("PK103", "asset-schema", Severity.ERROR, "An asset document does not match its kind's schema.",
              hint="See `programkit schema KIND` (e.g. smartCampaign) for the expected shape.",
              example="campaigns/02.json /type: 'trigered' is not one of ['trigger', 'batch']", group=G)
register_code("PK104", "unsafe-path", Severity.ERROR,
              "An asset path is absolute, uses '..' or a backslash, so it could leave the bundle.",
              hint="Use a path relative to bundle.json, with '/' separators and no '..'.",
              example="/assets/3/path: '../secrets.txt' climbs out of the bundle with '..'", group=G)
register_code("PK105", "asset-missing", Severity.ERROR, "An asset's file is not in the bundle.",
              hint="Add the file, or fix the asset's path in bundle.json.",
              example="/assets/2/path: emails/alert.json does not exist", group=G)
register_code("PK106", "digest-mismatch", Severity.ERROR,
              "An asset file's sha256 differs from the one in bundle.json (edited or tampered).",
              hint="If the edit is intended, `programkit validate --fix-digests DIR` updates the digests in "
                   "bundle.json in place (nothing else changes); otherwise restore the file.",
              example="/assets/2/sha256: emails/alert.json has sha256 9f2c…e41d (full digest), bundle.json says 4b1a90c2d3e4…",
              group=G)
register_code("PK107", "unlisted-file", Severity.WARNING, "A file in the bundle is not listed in bundle.json.",
              hint="List it as an asset or remove it; unlisted files are not imported.",
              example="notes.txt is not listed in bundle.json", group=G)
register_code("PK108", "not-utf8", Severity.ERROR, "A JSON or HTML file is not valid UTF-8.",
              hint="Save the file as UTF-8.",
              example="templates/quick-start.html: byte 0xff at offset 1043 is not UTF-8", group=G)
register_code("PK109", "symlink", Severity.ERROR, "An asset path is a symbolic link.",
              hint="Replace the link with the file itself; bundles never follow links.",
              example="/assets/4/path: images/logo.png is a symbolic link", group=G)
register_code("PK110", "invalid-version", Severity.ERROR, "The bundle version is not a semantic version.",
              hint="Use MAJOR.MINOR.PATCH, e.g. 1.0.0 (see semver.org).",
              example="/version: '1.0' is not a semantic version", group=G)
register_code("PK111", "file-too-large", Severity.ERROR,
              "A JSON or HTML asset is larger than programkit will parse.",
              hint="JSON and HTML assets are limited to 16 MiB; images have no such limit.",
              example="emails/alert.json is 40.0 MiB; the limit is 16 MiB", group=G)
register_code("PK112", "unreadable-file", Severity.ERROR,
              "An asset's file is listed and present but cannot be read (permissions, a name the system rejects, I/O error).",
              hint="Check the file's permissions and name; bundle paths are UTF-8 and each segment under 256 bytes.",
              example="/assets/3/path: images/logo.png cannot be read: Permission denied", group=G)

register_code("PK117", "not-json-number", Severity.ERROR,
              "A JSON file holds NaN, Infinity or a number too large for a 64-bit float: not JSON, and programkit "
              "never writes them.",
              hint="Write a plain number (or a string if the value is not a number).",
              example="bundle.json:12:8: Infinity is not JSON (JSON has no NaN or Infinity)", group=G)
register_code("PK118", "number-too-long", Severity.ERROR,
              "A JSON file holds an integer with thousands of digits, more than programkit reads.",
              hint="Use a number of at most a few hundred digits, or a string.",
              example="bundle.json:3:9: a number with more digits than programkit reads", group=G)
register_code("PK119", "lone-surrogate", Severity.ERROR,
              "A JSON string holds a \\uD800-\\uDFFF escape without its pair: not Unicode text, so it cannot be "
              "stored, hashed or written.",
              hint="Use the character itself or both halves of its surrogate pair (e.g. \\ud83d\\ude00).",
              example="bundle.json:5:12: a string holds a lone surrogate escape", group=G)
register_code("PK120", "byte-order-mark", Severity.WARNING,
              "A JSON or HTML file starts with a UTF-8 byte order mark (BOM). programkit reads it, but JSON "
              "forbids it and other tools reject it.",
              hint="Save the file as UTF-8 without BOM (editors: 'UTF-8', not 'UTF-8 with BOM'), then "
                   "`programkit pack DIR --update-digests`.",
              example="bundle.json: starts with a UTF-8 byte order mark (BOM)", group=G)
register_code("PK121", "crlf-line-endings", Severity.WARNING,
              "A JSON or HTML file has Windows (CRLF) line endings. Digests are of the exact bytes, so a checkout "
              "that converts line endings (git's core.autocrlf) changes every digest.",
              hint="Save with LF line endings and keep git from converting them: add `* -text` (or "
                   "`*.json text eol=lf` and `*.html text eol=lf`) to .gitattributes, then "
                   "`programkit pack DIR --update-digests`.",
              example="emails/alert.json: has Windows (CRLF) line endings", group=G)

#: what reading a damaged zip entry raises besides OSError (checked before OSError: BadZipFile is not one)
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError)  # RuntimeError: encrypted, unsupported method


#: Bytes of asset files an import keeps in memory after loading them (the rest are read again to be written).
KEEP_BYTES = 64 << 20


class _Keep:
    """The budget of asset bytes a load keeps for the import."""

    def __init__(self, budget: int):
        self.left = budget

    def fits(self, size: int) -> bool:
        return size <= self.left

    def take(self, data: bytes) -> bool:
        if len(data) > self.left:
            return False
        self.left -= len(data)
        return True


@dataclass
class LoadResult:
    bundle: Bundle
    findings: list[Finding] = field(default_factory=list)


def _decode(data: bytes, file: str, findings: list[Finding]) -> str | None:
    if data.startswith(b"\xef\xbb\xbf"):
        findings.append(make("PK120", "starts with a UTF-8 byte order mark (BOM)", file=file))
    if b"\r\n" in data:
        findings.append(make("PK121", "has Windows (CRLF) line endings", file=file))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        findings.append(make("PK108", f"byte 0x{data[e.start]:02x} at offset {e.start} is not UTF-8", file=file))
        return None


def parse_json_text(text: str, file: str, findings: list[Finding]) -> tuple[bool, object]:
    """Parse JSON, turning a syntax error into a PK101 finding with line and column."""
    try:
        return True, strict_loads(text)
    except json.JSONDecodeError as e:
        findings.append(make("PK101", e.msg, file=file, line=e.lineno, column=e.colno))
        return False, None
    except JsonInputError as e:
        findings.append(make(e.code, e.message, file=file, line=e.lineno, column=e.colno))
        return False, None


def schema_findings(code: str, schema_name: str, instance: object, file: str) -> list[Finding]:
    """One finding per place: two problems with one value (too long and a bad character) are one
    message that quotes the value once."""
    messages: dict[str, list[str]] = {}
    for error in schema.iter_errors(schema_name, instance):
        pointer, message = schema.located_message(error)
        value = schema.shown(error.instance) + " "
        said = messages.setdefault(pointer, [])
        if said and said[0].startswith(value) and message.startswith(value):
            message = message[len(value):]
        if message not in said:
            said.append(message)
    return [make(code, f"{pointer or '/'}: {'; '.join(said)}", file=file, pointer=pointer)
            for pointer, said in messages.items()]


def load_bundle(path: str | os.PathLike[str], limits: ArchiveLimits | None = None, *,
                keep_bytes: bool = False) -> LoadResult:
    """Read a bundle (directory, bundle.json or .zip) and everything it lists.

    ``keep_bytes``: keep each asset file's bytes, as read and hashed, on the
    asset (:attr:`Asset.data`) up to :data:`KEEP_BYTES` in all, so an import
    writes what was validated and planned without reading and hashing the
    files a second time. Off for ``validate``, which does not need them.
    """
    p = os.fspath(path)
    if p.lower().endswith(".json") and os.path.basename(p) != "bundle.json" and os.path.isfile(p):
        # An asset document or some other JSON file: checking it as a manifest would only confuse.
        raise BadInput(f"{p}: not a bundle (a bundle's manifest is called bundle.json)",
                       hint="Pass the bundle's directory or its bundle.json; `programkit validate --find-bundle FILE` "
                            "validates the bundle a file belongs to.")
    if p.startswith("oci://"):  # a registry reference: fetched, digest (and signature, if required) checked
        source, manifest_path = registry_source.open_reference(p, limits)
    else:
        registry_source.refuse_unsigned_path(p)
        source, manifest_path = open_source(path, limits)
    return load_from_source(source, manifest_path, keep_bytes=keep_bytes)


def load_from_source(source: BundleSource, manifest_path: str = "bundle.json", *,
                     keep_bytes: bool = False) -> LoadResult:
    findings: list[Finding] = []
    keep = _Keep(KEEP_BYTES) if keep_bytes else None
    bundle = Bundle(source=source, manifest_path=manifest_path, manifest=None)
    result = LoadResult(bundle, findings)
    try:
        raw = source.read_bytes(manifest_path)
    except _DAMAGED as e:
        raise UnsafeArchive(f"{source.display}: {manifest_path} cannot be read",
                            [make("PK407", f"entry {manifest_path!r}: {e}", file=manifest_path)]) from None
    except OSError as e:
        raise BadInput(f"{source.display}: cannot read {manifest_path} ({e.strerror or e})") from None
    text = _decode(raw, manifest_path, findings)
    if text is None:
        return result
    bundle.texts[manifest_path] = text
    ok, manifest = parse_json_text(text, manifest_path, findings)
    if not ok:
        _check_despite_broken_manifest(bundle, text, findings, keep)
        return result
    findings.extend(schema_findings("PK102", "bundle", manifest, manifest_path))
    if not isinstance(manifest, dict):
        return result
    bundle.manifest = manifest
    _check_version(manifest, manifest_path, findings)

    listed = {manifest_path}
    entries = manifest.get("assets")
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        asset = _asset(index, entry)
        if asset is None:
            continue  # schema findings already say what is wrong with this entry
        bundle.assets.append(asset)
        _load_asset(bundle, asset, findings, keep)
        listed.add(asset.path)

    for name in source.names():
        if name not in listed:
            findings.append(make("PK107", f"{name} is not listed in {manifest_path}", file=name))
    return result


_ASSETS_KEY = re.compile(r'"assets"\s*:\s*(?=\[)')


def _assets_array(text: str) -> list | None:
    """The "assets" array of a bundle.json that does not parse as a whole, when that array parses on its own."""
    decoder = json.JSONDecoder()
    for m in _ASSETS_KEY.finditer(text):
        try:
            value, _ = decoder.raw_decode(text, m.end())
        except (ValueError, RecursionError):
            continue
        if isinstance(value, list):
            return value
    return None


def _check_despite_broken_manifest(bundle: Bundle, text: str, findings: list[Finding], keep: _Keep | None) -> None:
    """bundle.json has a syntax error: still report what is wrong with the files, in the same run.

    When its "assets" list still reads on its own, each listed file is checked as usual (missing,
    digest, JSON syntax, schema); otherwise every JSON file of the bundle is checked for syntax.
    The salvaged assets are not put on the bundle: with no manifest, nothing is planned from them.
    """
    entries = _assets_array(text)
    if entries is not None:
        for index, entry in enumerate(entries):
            asset = _asset(index, entry)
            if asset is not None:
                _load_asset(bundle, asset, findings, keep)
        return
    for name in bundle.source.names():
        if name == bundle.manifest_path or not name.lower().endswith(".json"):
            continue
        try:
            data = bundle.source.read_bytes(name)
        except (OSError, *_DAMAGED):
            continue  # unreadable entries are reported when the manifest is fixed and they are listed
        if len(data) > MAX_TEXT_BYTES:
            continue
        doc_text = _decode(data, name, findings)
        if doc_text is not None:
            parse_json_text(doc_text, name, findings)


def _check_version(manifest: dict, file: str, findings: list[Finding]) -> None:
    version = manifest.get("version")
    if isinstance(version, str) and not semver.Version.is_valid(version):
        # one finding per mistake: PK110 says it better than the schema's "'1.0' is too short"
        findings[:] = [f for f in findings if not (f.code == "PK102" and f.pointer == "/version")]
        findings.append(make("PK110", f"/version: {version!r} is not a semantic version", file=file, pointer="/version"))


def _asset(index: int, entry: object) -> Asset | None:
    if not isinstance(entry, dict):
        return None
    kind, name, path = entry.get("kind"), entry.get("name"), entry.get("path")
    if not (isinstance(kind, str) and isinstance(name, str) and isinstance(path, str)):
        return None
    folder = entry.get("folder")
    sha = entry.get("sha256")
    return Asset(index=index, kind=kind, name=name, path=path,
                 sha256=sha if isinstance(sha, str) else "",
                 folder=folder if isinstance(folder, str) else None, entry=entry)


def _load_asset(bundle: Bundle, asset: Asset, findings: list[Finding], keep: _Keep | None = None) -> None:
    pointer = asset.pointer + "/path"
    reason = unsafe_path_reason(asset.path)
    if reason:
        findings.append(make("PK104", f"{pointer}: {asset.path!r} {reason}", file=bundle.manifest_path, pointer=pointer))
        return
    try:
        _read_asset(bundle, asset, findings, keep)
    except UnsafeArchive as e:  # a damaged archive entry: report it with everything else
        findings.extend(e.findings)
    except _DAMAGED as e:
        findings.append(make("PK407", f"entry {asset.path!r}: {e}", file=asset.path))
    except (OSError, UnicodeError, ValueError) as e:
        # A name the file system rejects (too long, unpaired surrogate) or a file we may not read:
        # the bundle is still validated, this one asset is reported.
        why = e.strerror if isinstance(e, OSError) and e.strerror else str(e) or type(e).__name__
        findings.append(make("PK112", f"{pointer}: {asset.path!r} cannot be read: {why}",
                             file=bundle.manifest_path, pointer=pointer))


def _not_a_file(source: BundleSource, path: str) -> str | None:
    """What a bundle directory holds at ``path`` when it is there but not a regular file ('a FIFO (named pipe)',
    'a directory', …), else None."""
    if not isinstance(source, DirSource):
        return None
    from .errors import file_type

    try:
        return file_type(os.lstat(source._full(path)).st_mode)
    except (OSError, ValueError):
        return None


def _read_asset(bundle: Bundle, asset: Asset, findings: list[Finding], keep: _Keep | None = None) -> None:
    source, manifest = bundle.source, bundle.manifest_path
    pointer = asset.pointer + "/path"
    full = asset.path
    size: int | None = None
    if isinstance(source, DirSource):
        what, size = source.probe(full)  # one walk for "is it a link" and "is it a file"
        if what == "symlink":
            findings.append(make("PK109", f"{pointer}: {asset.path} is a symbolic link", file=manifest, pointer=pointer))
            return
        exists = what == "file"
    else:
        exists = source.is_file(full)
    if not exists:
        other = _not_a_file(source, full)
        if other:  # a FIFO, directory or device where the file belongs: said, never opened (a FIFO would hang)
            findings.append(make("PK112", f"{pointer}: {asset.path!r} is {other}, not a regular file",
                                 file=manifest, pointer=pointer))
        else:
            findings.append(make("PK105", f"{pointer}: {asset.path} does not exist", file=manifest, pointer=pointer))
        return
    is_text = asset.kind in JSON_KINDS or asset.kind in HTML_KINDS
    if is_text or keep is not None:
        size = source.size(full) if size is None else size
    if is_text and size > MAX_TEXT_BYTES:
        findings.append(make("PK111", f"{asset.path} is {size / (1 << 20):.1f} MiB; the limit is 16 MiB",
                             file=asset.path))
        return
    if is_text or (keep is not None and keep.fits(size)):
        data = source.read_bytes(full)
        asset.actual_sha256 = hashlib.sha256(data).hexdigest()
        if keep is not None and keep.take(data):
            asset.data = data
    else:
        with source.open(full) as fh:
            asset.actual_sha256 = sha256_stream(fh)
        data = b""
    if asset.sha256 and asset.actual_sha256 != asset.sha256:
        sp = asset.pointer + "/sha256"
        findings.append(make("PK106", f"{sp}: {asset.path} has sha256 {asset.actual_sha256}, "
                                      f"bundle.json says {asset.sha256[:12]}…", file=manifest, pointer=sp))
    if not is_text:
        return
    text = _decode(data, asset.path, findings)
    if text is None:
        return
    if asset.kind in HTML_KINDS:
        asset.content = text
        return
    ok, doc = parse_json_text(text, asset.path, findings)
    if not ok:
        return
    asset.content = doc
    bundle.texts[asset.path] = text
    findings.extend(schema_findings("PK103", asset.kind, doc, asset.path))
