"""The loaded bundle as plain data.

Below the kind units: they read bundles (their checks take a :class:`Bundle`), so nothing here imports them. The
sets of kind names derived from the units (``JSON_KINDS``, ``HTML_KINDS``, ``PROGRAM_KINDS``, ``ALL_KINDS``) are
the registry's: :mod:`programkit.kinds`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .bundle import BundleSource


def folder_tree(program: dict[str, Any]) -> list[tuple[str, str]]:
    """Every folder of a program's tree as (path, JSON pointer), parents first, in manifest order.

    Paths join names with '/' ("Campaigns/Scoring"); entries that are not
    folders with a string name are skipped (the schema reports them).
    """
    out: list[tuple[str, str]] = []

    def walk(folders: Any, prefix: str, pointer: str) -> None:
        for i, f in enumerate(folders if isinstance(folders, list) else []):
            if isinstance(f, dict) and isinstance(f.get("name"), str):
                path, p = prefix + f["name"], f"{pointer}/{i}"
                out.append((path, p))
                walk(f.get("folders"), path + "/", p + "/folders")

    walk(program.get("folders"), "", "/program/folders")
    return out


@dataclass
class Asset:
    """One manifest entry, with its file's content once loaded."""

    index: int
    kind: str
    name: str
    path: str
    sha256: str
    folder: str | None = None
    entry: dict[str, Any] = field(default_factory=dict)
    #: parsed JSON document (JSON kinds) or decoded text (HTML kinds); None if unreadable or binary
    content: Any = None
    #: sha256 of the bytes actually found, None if the file is missing or unsafe
    actual_sha256: str | None = None
    #: the file's bytes as read and hashed (``actual_sha256``) when the load kept them for an import
    #: (``load_bundle(keep_bytes=True)``); None otherwise: read the file again
    data: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def pointer(self) -> str:
        return f"/assets/{self.index}"

    @property
    def key(self) -> tuple[str, str, str]:
        """Identity inside the bundle: kind, folder, name."""
        return (self.kind, self.folder or "", self.name)


@dataclass
class Bundle:
    """A bundle read from a directory or archive. Unreadable parts are left None."""

    source: BundleSource
    manifest_path: str
    manifest: dict[str, Any] | None
    assets: list[Asset] = field(default_factory=list)
    #: raw text of every JSON file read (manifest and documents), for locating findings
    texts: dict[str, str] = field(default_factory=dict)

    @property
    def display(self) -> str:
        return self.source.display

    @property
    def program(self) -> dict[str, Any]:
        p = (self.manifest or {}).get("program")
        return p if isinstance(p, dict) else {}

    @property
    def requires(self) -> dict[str, Any]:
        r = (self.manifest or {}).get("requires")
        return r if isinstance(r, dict) else {}

    def assets_of(self, kind: str) -> list[Asset]:
        return [a for a in self.assets if a.kind == kind]
