"""``validate --fix-digests``: set each asset's ``sha256`` in a bundle directory's bundle.json to its file's digest,
in place, changing nothing else.

Why in place: bundle.json is the author's file, under version control. Only the 64 hex digits of each stale
``sha256`` value change — indentation, key order and every other byte stay — so the diff a reviewer sees is the
digests and nothing else (``pack --update-digests`` rewrites the file canonically and writes an archive).

Never followed: an asset path that is unsafe (``..``, absolute, backslashes), that goes through a symbolic link,
or that resolves outside the bundle directory; such an entry is left as it is and said (PK475), as is one whose
file is missing or not a regular file (PK477). An archive is refused (PK476, exit 2): a .zip is what `pack`
made from a directory, and fixing it means fixing that directory. bundle.json is replaced atomically (a
temporary file beside it, then a rename), keeping its permissions; if no digest changes it is not written.
"""

from __future__ import annotations

import json
import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .bundle import unsafe_path_reason
from .canonical import sha256_file
from .errors import BadInput, ProgramkitError, require_path
from .findings import Finding, Severity, make, register_code
from .jsonpos import _decoder, _offsets
from .output import write_output

G = "fix-digests"
register_code("PK475", "digest-not-followed", Severity.WARNING,
              "--fix-digests left an asset's sha256 as it was: its path is unsafe, goes through a symbolic link or "
              "leads outside the bundle directory, so its file is not read.",
              hint="Give the asset a plain relative path to a regular file inside the bundle, then run "
                   "`programkit validate --fix-digests DIR` again.",
              example="/assets/3/path: ../secrets.txt climbs out of the bundle with '..': not read, sha256 left "
                      "as it was", group=G)
register_code("PK476", "fix-digests-archive", Severity.ERROR,
              "--fix-digests updates a bundle directory's bundle.json; a .zip archive is not changed (exit 2).",
              hint="Unpack it (`programkit unpack BUNDLE.zip DIR`), fix the digests there with `programkit validate "
                   "--fix-digests DIR`, and pack it again (`programkit pack DIR`).",
              example="olm.zip is an archive: --fix-digests changes only a bundle directory", group=G)
register_code("PK477", "digest-file-missing", Severity.WARNING,
              "--fix-digests left an asset's sha256 as it was: its file is missing or is not a regular file.",
              hint="Add the file (or fix the path); `programkit validate` reports the entry too.",
              example="/assets/2/path: emails/alert.json does not exist: sha256 left as it was", group=G)


@dataclass
class DigestChange:
    path: str
    old: Any
    new: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "old": self.old, "new": self.new}


@dataclass
class DigestFix:
    """What ``--fix-digests`` did to one bundle directory."""

    manifest: str
    changed: list[DigestChange] = field(default_factory=list)
    left: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"manifest": self.manifest, "changed": [c.to_dict() for c in self.changed],
                "left": [f.to_dict() for f in self.left]}


def _manifest_of(path: str) -> Path:
    p = Path(path)
    if p.is_file() and zipfile.is_zipfile(p) or p.suffix.lower() == ".zip":
        message = f"{path} is an archive: --fix-digests changes only a bundle directory"
        raise BadInput(message, [make("PK476", message, file=path)])
    manifest = p if p.name == "bundle.json" and not p.is_dir() else p / "bundle.json"
    if manifest.is_symlink():
        raise BadInput(f"{manifest}: a symbolic link; --fix-digests writes only a regular bundle.json",
                       hint="Replace the link with the file itself.")
    if not manifest.is_file():
        raise BadInput(f"{path}: not a bundle directory (no bundle.json)",
                       hint="Give the directory that holds bundle.json.")
    return manifest


def _inside(root: Path, rel: str) -> str | None:
    """Why ``rel`` (a safe relative path) cannot be read inside ``root`` without following a link, or None."""
    here = root
    for part in rel.split("/"):
        here = here / part
        try:
            st = os.lstat(here)
        except FileNotFoundError:
            return "missing"
        except OSError as e:
            return f"cannot be read ({e.strerror})"
        if stat.S_ISLNK(st.st_mode):
            return "goes through a symbolic link"
    if not os.path.realpath(here).startswith(os.path.realpath(root) + os.sep):
        return "leads outside the bundle directory"  # pragma: no cover - no links, no '..': cannot happen
    return None if stat.S_ISREG(os.lstat(here).st_mode) else "not a regular file"


def fix_digests(path: str) -> DigestFix:
    """Update the stale ``sha256`` values of the bundle directory at ``path`` in place (see the module)."""
    require_path(path, "Give a bundle directory (the one holding bundle.json).")
    manifest_path = _manifest_of(path)
    root = manifest_path.parent
    shown = os.fspath(manifest_path)
    raw = manifest_path.read_bytes()
    try:
        text = raw.decode("utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ProgramkitError(f"{shown} is not valid JSON ({e}); no digest was changed",
                              hint="`programkit validate` shows where; fix it first.") from None
    assets = data.get("assets") if isinstance(data, dict) else None
    result = DigestFix(shown)
    if not isinstance(assets, list):
        return result
    edits: dict[str, DigestChange] = {}
    for i, entry in enumerate(assets):
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            continue
        rel = entry["path"]
        pointer = f"/assets/{i}/path"
        why = unsafe_path_reason(rel)
        if why is None:
            why = _inside(root, rel)
            if why in ("missing", "not a regular file"):
                what = "does not exist" if why == "missing" else "is not a regular file"
                result.left.append(make("PK477", f"{pointer}: {rel} {what}: sha256 left as it was", file=shown,
                                        pointer=pointer))
                continue
        if why is not None:
            result.left.append(make("PK475", f"{pointer}: {rel} {why}: not read, sha256 left as it was", file=shown,
                                    pointer=pointer))
            continue
        digest = sha256_file(root / rel)
        if entry.get("sha256") == digest:
            continue
        if not isinstance(entry.get("sha256"), str):
            result.left.append(make("PK477", f"/assets/{i}: {rel} has no sha256 string to update; add "
                                             f"\"sha256\": \"{digest}\"", file=shown, pointer=f"/assets/{i}"))
            continue
        edits[f"/assets/{i}/sha256"] = DigestChange(rel, entry["sha256"], digest)
    if not edits:
        return result
    starts = _offsets(text, edits)
    pieces, at = [], 0
    for pointer, start in sorted(starts.items(), key=lambda kv: kv[1]):
        end = _decoder.raw_decode(text, start)[1]  # the old string token, quotes included
        pieces += [text[at:start], json.dumps(edits[pointer].new)]
        at = end
    pieces.append(text[at:])
    new_text = "".join(pieces)
    if json.loads(new_text) != _expected(data, edits):  # pragma: no cover - a located token was not the value
        raise ProgramkitError(f"{shown}: could not update the digests in place; nothing was written")
    _write_replacing(manifest_path, new_text.encode("utf-8"))
    result.changed = sorted(edits.values(), key=lambda c: c.path)
    return result


def _expected(data: Any, edits: dict[str, DigestChange]) -> Any:
    out = json.loads(json.dumps(data))
    for pointer, change in edits.items():
        out["assets"][int(pointer.split("/")[2])]["sha256"] = change.new
    return out


def _write_replacing(path: Path, content: bytes) -> None:
    """Replace ``path`` with ``content`` through the project's atomic writer, keeping the file's mode."""
    write_output(path, content, option="--fix-digests", force=True, mode=stat.S_IMODE(os.stat(path).st_mode))
