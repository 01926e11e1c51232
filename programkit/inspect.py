"""What a bundle is, at a glance: identity, digests, program, assets, requires and rules.

The **bundle digest** is :func:`canonical.bundle_digest`, the same digest that
plans, import history and export report: the sha256 of the manifest as compact
canonical JSON. The manifest lists every file's sha256, so the
bundle digest covers the whole bundle's content, yet it does not depend on how
bundle.json happens to be formatted nor on whether the bundle is a directory or
an archive: a directory, its pack, and that pack unpacked all have one bundle
digest. An archive also has its **archive sha256**, the digest of the .zip
file's bytes (what ``pack`` prints).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from .jsontypes import as_dict, as_list
from .bundle import ArchiveLimits, ZipSource
from .canonical import bundle_digest, sha256_file
from .findings import Finding, count
from .load import load_bundle
from .kinds import PROGRAM_KINDS
from .model import Bundle, folder_tree

#: folder label for Design Studio assets (templates, images, snippets), which live outside the program's tree
DESIGN_STUDIO = "Design Studio"


@dataclass
class Inspection:
    path: str
    source: str  # "directory", "archive", or "registry" (an archive read from oci://…)
    name: str | None
    version: str | None
    description: str | None
    bundle_digest: str | None
    archive: dict[str, Any] | None
    digests_verified: bool
    findings: dict[str, int]
    program: dict[str, Any]
    assets: list[dict[str, Any]] = field(default_factory=list)
    requires: dict[str, Any] = field(default_factory=dict)
    conflict_rules: dict[str, Any] = field(default_factory=dict)
    #: what validate says, in full: shown (and exit 1) when there are errors
    finding_list: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """False when the bundle has errors: what is shown of it may be incomplete or wrong."""
        return self.findings.get("error", 0) == 0

    def by_kind(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for a in self.assets:
            out[a["kind"]] = out.get(a["kind"], 0) + 1
        return dict(sorted(out.items()))

    def by_folder(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for a in self.assets:
            out[a["folder"]] = out.get(a["folder"], 0) + 1
        return dict(sorted(out.items()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "source": self.source, "name": self.name, "version": self.version,
            "description": self.description, "bundleDigest": self.bundle_digest, "archive": self.archive,
            "digestsVerified": self.digests_verified, "findings": self.findings, "program": self.program,
            "assets": {"byKind": self.by_kind(), "byFolder": self.by_folder(), "items": self.assets},
            "requires": self.requires, "conflictRules": self.conflict_rules,
            "ok": self.ok, "findingList": [f.to_dict() for f in self.finding_list],
        }


def inspect_path(path: str | os.PathLike[str], limits: ArchiveLimits | None = None) -> Inspection:
    """Inspect a bundle directory, bundle.json or archive (archives are checked as ``unpack`` does)."""
    with inspected(path, limits) as (inspection, _bundle, _findings):
        return inspection


@contextmanager
def inspected(path: str | os.PathLike[str], limits: ArchiveLimits | None = None,
              ) -> Iterator[tuple[Inspection, Bundle, list[Finding]]]:
    """Load and validate the bundle at ``path`` once: its :class:`Inspection`, the loaded bundle and its
    findings, for a report that needs more of it than the inspection holds (``inspect --html``: image
    thumbnails are read from the still-open archive). The archive is closed on leaving."""
    from .validate import validate_loaded

    loaded = load_bundle(path, limits)
    try:
        findings = validate_loaded(loaded)
        yield _inspection(path, loaded.bundle, findings), loaded.bundle, findings
    finally:
        close = getattr(loaded.bundle.source, "close", None)
        if callable(close):
            close()


def _inspection(path: str | os.PathLike[str], bundle: Bundle, findings: list[Finding]) -> Inspection:
    archive = None
    if isinstance(bundle.source, ZipSource):
        p = Path(bundle.source.path)  # the fetched archive, for a registry reference
        archive = {"sha256": sha256_file(p), "size": p.stat().st_size}
        if getattr(bundle.source, "origin", None):  # read from a registry: the manifest digest it resolved to
            archive["registryDigest"] = bundle.source.origin["digest"]
    manifest = bundle.manifest or {}
    return Inspection(
        path=os.fspath(path),
        source=("registry" if archive.get("registryDigest") else "archive") if archive else "directory",
        name=_str(manifest.get("name")),
        version=_str(manifest.get("version")),
        description=_str(manifest.get("description")),
        bundle_digest=bundle_digest(manifest) if bundle.manifest is not None else None,
        archive=archive,
        digests_verified=bool(bundle.assets) and all(a.actual_sha256 == a.sha256 for a in bundle.assets),
        findings=count(findings),
        program=_program(bundle),
        assets=_assets(bundle),
        requires=bundle.requires,
        conflict_rules=manifest.get("conflictRules") if isinstance(manifest.get("conflictRules"), dict) else {},
        finding_list=findings,
    )


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) else None


def _program(bundle: Bundle) -> dict[str, Any]:
    p = bundle.program
    folders = [path for path, _ in folder_tree(p)]
    tokens = [{"name": t.get("name"), "type": t.get("type"), "value": t.get("value")}
              for t in as_list(p.get("tokens")) if isinstance(t, dict)]
    return {"name": p.get("name"), "type": p.get("type"), "channel": p.get("channel"),
            "statuses": as_list(p.get("membershipStatuses")), "tags": as_dict(p.get("tags")),
            "tokens": tokens, "folders": folders}


def _assets(bundle: Bundle) -> list[dict[str, Any]]:
    out = []
    for a in bundle.assets:
        folder = a.folder or (DESIGN_STUDIO if a.kind not in PROGRAM_KINDS else "(program top level)")
        size = bundle.source.size(a.path) if a.actual_sha256 is not None else None
        out.append({"kind": a.kind, "name": a.name, "folder": folder, "path": a.path, "size": size})
    return sorted(out, key=lambda x: (x["folder"], x["kind"], x["name"]))


def render_text(ins: Inspection, style: Callable[..., str] = lambda t, **_: t) -> str:
    """Plain text for a person: identity first, then program, assets, requires and rules.

    A bundle with errors shows its findings first, as ``validate`` does; one whose bundle.json
    cannot be read shows only them, not a page of blanks.
    """
    from .report import render_text as render_findings
    from .validate import ValidationResult

    head = ""
    if not ins.ok:
        head = render_findings([ValidationResult(ins.path, ins.finding_list)], style, summary=False)
        if ins.bundle_digest is None:
            return head + (f"cannot inspect {ins.path}: bundle.json does not read "
                           f"({_counted(ins.findings)}); `programkit validate` lists the same\n")
        head += f"{ins.path} has {_counted(ins.findings)}: what follows may be incomplete\n\n"
    return head + _render_inspection(ins, style)


def _counted(counts: dict[str, int]) -> str:
    e, w = counts.get("error", 0), counts.get("warning", 0)
    return f"{e} error{'s' * (e != 1)}, {w} warning{'s' * (w != 1)}"


def _render_inspection(ins: Inspection, style: Callable[..., str]) -> str:
    lines = [f"{style(ins.name or '?', bold=True)} {ins.version or '?'}  ({ins.source}: {ins.path})"]
    if ins.description:
        lines.append(f"  {ins.description}")
    lines.append(f"bundle digest   {ins.bundle_digest}")
    if ins.archive:
        lines.append(f"archive sha256  {ins.archive['sha256']}  ({ins.archive['size']} bytes)")
        if ins.archive.get("registryDigest"):
            lines.append(f"registry digest {ins.archive['registryDigest']}")
    verified = "all match" if ins.digests_verified else "NOT all match (run `programkit validate`)"
    lines.append(f"file digests    {verified}; validate: {ins.findings['error']} errors, "
                 f"{ins.findings['warning']} warnings")
    p = ins.program
    lines += ["", f"program  {p['name'] or '?'}  (type {p['type'] or '?'}, channel {p['channel'] or '?'})",
              f"  statuses  {', '.join(map(str, p['statuses'])) or '-'}",
              f"  tags      {', '.join(f'{k}={v}' for k, v in sorted(p['tags'].items())) or '-'}",
              f"  folders   {', '.join(p['folders']) or '-'}"]
    lines.append(f"  tokens    {len(p['tokens'])}")
    for t in p["tokens"]:
        lines.append(f"    {{{{my.{t['name']}}}}}  {t['type']} = {t['value']!r}")
    kinds = ", ".join(f"{n} {k}" for k, n in ins.by_kind().items())
    lines += ["", f"assets  {len(ins.assets)} ({kinds or 'none'})"]
    folder = None
    for a in ins.assets:
        if a["folder"] != folder:
            folder = a["folder"]
            lines.append(f"  {folder}/")
        lines.append(f"    {a['kind']:<20} {a['name']}  [{a['path']}]")
    lines += ["", "requires"]
    if not ins.requires:
        lines.append("  nothing")
    for key, value in sorted(ins.requires.items()):
        if isinstance(value, list):
            names = [v.get("apiName") or v.get("name") or v.get("displayName") if isinstance(v, dict) else v
                     for v in value]
            lines.append(f"  {key:<14} {', '.join(str(n) for n in names)}")
        else:
            lines.append(f"  {key:<14} {value}")
    lines += ["", "recommended conflict rules"]
    if not ins.conflict_rules:
        lines.append("  none (the defaults apply)")
    for key, value in sorted(ins.conflict_rules.items()):
        lines.append(f"  {key:<20} {value}")
    return "\n".join(lines) + "\n"
