"""Canonical JSON and manifest digests: the same data always gives the same bytes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def dumps(value: Any) -> str:
    """Canonical JSON text: sorted keys, two-space indent, UTF-8 characters kept, trailing newline.
    NaN and Infinity are not JSON: never written (ValueError)."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def dump_bytes(value: Any) -> bytes:
    return dumps(value).encode("utf-8")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def refresh_digests(bundle_dir: Path) -> list[str]:
    """Set every asset's sha256 in bundle.json to its file's digest; rewrite it canonically.

    Returns the paths whose digest changed. Files that are missing are left
    for ``validate`` to report.
    """
    from .bundle import DirSource, unsafe_path_reason
    from .jsontypes import strict_loads
    from .output import write_output

    manifest_path = bundle_dir / "bundle.json"
    try:
        current = manifest_path.read_bytes()
        manifest = strict_loads(current.decode("utf-8-sig"))
    except (OSError, ValueError):
        return []  # unreadable or not JSON: validate (which runs next) says what is wrong, nothing is rewritten
    if not isinstance(manifest, dict) or not isinstance(manifest.get("assets"), list):
        return []
    source = DirSource(Path(bundle_dir))
    changed = []
    for entry in manifest["assets"]:
        path = entry.get("path") if isinstance(entry, dict) else None
        # only a regular file inside the bundle, reached through no link: a path that climbs out ('..', absolute)
        # or a link to /etc/passwd is never read or hashed, and never gets a digest in bundle.json
        if not isinstance(path, str) or unsafe_path_reason(path) is not None or not source.is_file(path):
            continue
        digest = sha256_file(Path(bundle_dir) / path)
        if entry.get("sha256") != digest:
            changed.append(path)
            entry["sha256"] = digest
    data = dumps(manifest).encode("utf-8")
    if data != current:  # already right, byte for byte: nothing to write (a read-only bundle packs with the flag)
        write_output(manifest_path, data, option="", force=True)
    return changed


def bundle_digest(manifest: Any) -> str:
    """The bundle digest: sha256 of the manifest (``bundle.json``) as compact canonical JSON.

    Compact canonical JSON: keys sorted, no whitespace (``","`` and ``":"``
    separators), UTF-8 characters kept. The manifest lists every asset's
    sha256, so this one digest covers every byte of the bundle; it does not
    depend on how bundle.json is formatted, and a bundle directory and its
    archive have the same digest. (Compact, not :func:`dumps`'s indented form,
    because indenting disables the C encoder: 10k assets cost 0.15 s instead of 0.02 s.)
    """
    text = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return sha256_bytes(text.encode("utf-8"))
