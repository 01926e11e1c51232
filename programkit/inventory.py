"""Workspace inventory: describe an existing instance to a workspace, and summarise a workspace.

``programkit workspace load INVENTORY.json`` is how an admin mirrors their
real Marketo instance (custom fields, tag types, segmentations, snippets,
webhooks, custom objects, CRM, channels, templates and images) into an
embedded workspace before a dry run. The file is checked in full first —
schema, referenced files, digests, duplicates — and every problem is listed;
only a clean file is written, in one transaction. Loading merges: items are
added or updated, never removed, so loading the same file twice changes
nothing the second time.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import kinds
from .bundle import unsafe_path_reason
from .canonical import sha256_bytes
from .errors import BadInput, require_path

#: what `workspace load` takes
INVENTORY_HINT = ("Give an inventory JSON file describing the instance: its fields, tags, templates, images... "
                  "(`programkit schema inventory`; see docs/workspace.md).")
from .findings import Finding, Severity, count, make, register_code
from .jsonpos import locate
from .load import parse_json_text, schema_findings
from .workspaces.base import Workspace

G = "workspace"
register_code("PK901", "inventory-schema", Severity.ERROR, "An inventory file does not match the inventory schema.",
              hint="See `programkit schema inventory` for the expected shape.",
              example="inventory.json:14:19: /fields/3/type: 'strin' is not one of ['string', 'text', ...]", group=G)
register_code("PK902", "inventory-file-missing", Severity.ERROR,
              "A template, image or snippet in an inventory names a file that does not exist.",
              hint="Paths are relative to the inventory file; fix the path or add the file.",
              example="/images/0/path: images/logo.png does not exist", group=G)
register_code("PK903", "inventory-unsafe-path", Severity.ERROR,
              "An inventory path is absolute, climbs out with '..', or is a symbolic link.",
              hint="Keep asset files beside the inventory file and name them with relative paths.",
              example="/emailTemplates/1/path: '../../etc/passwd' climbs out of the inventory's folder with '..'", group=G)
register_code("PK904", "inventory-digest-mismatch", Severity.ERROR,
              "An inventory asset's bytes do not match the sha256 it gives.",
              hint="Update the sha256 or the file; the digest guards against loading the wrong file.",
              example="/images/0/sha256: images/logo.png has sha256 9f2c…, inventory says 4b1a…", group=G)
register_code("PK905", "inventory-duplicate", Severity.ERROR,
              "An inventory lists the same name twice in one section (names are case-insensitive).",
              hint="Keep one entry per name.", example="/fields/7/apiName: 'leadGrade' is already listed at /fields/2",
              group=G)
register_code("PK906", "inventory-bad-base64", Severity.ERROR, "An inventory asset's contentBase64 is not base64.",
              hint="Encode the bytes with standard base64 (RFC 4648), or give a path instead.",
              example="/images/2/contentBase64: not valid base64 (Incorrect padding)", group=G)

#: inventory section → asset kind
ASSET_SECTIONS = {k.inventory_section: k.name for k in kinds.all_kinds() if k.inventory_section}
#: manifest entry keys an inventory asset keeps in its meta (export writes them back into bundle entries)
META_KEYS = ("description", "templateType", "mimeType")


@dataclass
class InventoryResult:
    """What loading an inventory found and did: findings (nothing written if any error) and changes per section."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    changes: dict[str, dict[str, int]] = field(default_factory=dict)  # section → {"added", "updated", "unchanged"}

    @property
    def counts(self) -> dict[str, int]:
        return count(self.findings)

    @property
    def ok(self) -> bool:
        return self.counts["error"] == 0

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "ok": self.ok, "findings": [f.to_dict() for f in self.findings],
                "changes": self.changes}


@dataclass
class _Asset:
    kind: str
    name: str
    content: bytes
    sha256: str
    folder: str | None
    meta: dict[str, Any]


def _read_asset(item: dict[str, Any], pointer: str, base: Path, file: str, findings: list[Finding]) -> bytes | None:
    if "content" in item:
        return item["content"].encode("utf-8")
    if "contentBase64" in item:
        try:
            return base64.b64decode(item["contentBase64"], validate=True)
        except (binascii.Error, ValueError) as e:
            findings.append(make("PK906", f"{pointer}/contentBase64: not valid base64 ({e})", file=file,
                                 pointer=pointer + "/contentBase64"))
            return None
    rel = item["path"]
    p = pointer + "/path"
    reason = unsafe_path_reason(rel)
    target = base / rel
    if reason is None and target.is_symlink():
        reason = "is a symbolic link"
    if reason:
        reason = reason.replace("the bundle", "the inventory's folder").replace("bundle paths", "inventory paths")
        findings.append(make("PK903", f"{p}: {rel!r} {reason}", file=file, pointer=p))
        return None
    if not target.is_file():
        findings.append(make("PK902", f"{p}: {rel} does not exist", file=file, pointer=p))
        return None
    return target.read_bytes()


def _check_duplicates(doc: dict[str, Any], file: str, findings: list[Finding]) -> None:
    def check(section: str, items: list[Any], key: str | None) -> None:
        seen: dict[str, str] = {}
        for i, item in enumerate(items):
            name = item.get(key or "name") if isinstance(item, dict) else item
            if not isinstance(name, str):
                continue
            p = f"/{section}/{i}" + (f"/{key}" if key and isinstance(item, dict) else
                                     "/name" if isinstance(item, dict) else "")
            if name.casefold() in seen:
                findings.append(make("PK905", f"{p}: {name!r} is already listed at {seen[name.casefold()]}",
                                     file=file, pointer=p))
            else:
                seen[name.casefold()] = p
    for section in ("fields", "segmentations", "webhooks", "customObjects", "snippets", "channels",
                    *(s for s in ASSET_SECTIONS if s != "snippets")):
        items = doc.get(section)
        if isinstance(items, list):
            check(section, items, "apiName" if section == "fields" else None)


def _with_lines(findings: list[Finding], text: str, file: str) -> list[Finding]:
    out = []
    for f in findings:
        if f.file == file and f.line is None and f.pointer is not None:
            pos = locate(text, f.pointer)
            if pos:
                f = replace(f, line=pos[0], column=pos[1])
        out.append(f)
    return out


def check_inventory(path: str | os.PathLike[str]) -> tuple[dict[str, Any] | None, list[_Asset], list[Finding]]:
    """Read and check an inventory file: the document, its assets' bytes, and every problem found."""
    display = os.fspath(path)
    p = Path(display)
    require_path(display, INVENTORY_HINT)
    if not p.is_file():
        raise BadInput(f"{display} is not a file", hint=INVENTORY_HINT)
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise BadInput(f"{display} is not UTF-8 text ({e.reason} at byte {e.start})") from e
    file = display  # as given: the report shows it as it is, never joined onto itself
    findings: list[Finding] = []
    ok, doc = parse_json_text(text, file, findings)
    if not ok:
        return None, [], findings
    doc, assets, findings = check_inventory_doc(doc, file, p.parent, findings)
    return doc, assets, _with_lines(findings, text, file)


def check_inventory_doc(doc: Any, file: str, base: Path, findings: list[Finding] | None = None
                        ) -> tuple[dict[str, Any] | None, list[_Asset], list[Finding]]:
    """Check an inventory document (parsed, from a file or built from an instance): schema, duplicates, assets'
    bytes (paths relative to ``base``) and digests. Returns the document (None if the schema fails), the assets,
    and the findings (without lines)."""
    findings = findings if findings is not None else []
    findings.extend(schema_findings("PK901", "inventory", doc, file))
    if findings or not isinstance(doc, dict):
        return None, [], findings
    _check_duplicates(doc, file, findings)
    assets: list[_Asset] = []
    for section, kind in ASSET_SECTIONS.items():
        for i, item in enumerate(doc.get(section) or []):
            if not isinstance(item, dict):
                continue  # a snippet given by name only
            pointer = f"/{section}/{i}"
            data = _read_asset(item, pointer, base, file, findings)
            if data is None:
                continue
            digest = sha256_bytes(data)
            if item.get("sha256") and item["sha256"] != digest:
                where = item.get("path", "the content")
                findings.append(make("PK904", f"{pointer}/sha256: {where} has sha256 {digest[:12]}…, inventory says "
                                              f"{item['sha256'][:12]}…", file=file, pointer=pointer + "/sha256"))
                continue
            meta = {k: item[k] for k in META_KEYS if k in item}
            assets.append(_Asset(kind, item["name"], data, digest, item.get("folder"), meta))
    return doc, assets, findings


def _tally(changes: dict[str, dict[str, int]], section: str, outcome: str) -> None:
    counts = changes.setdefault(section, {"added": 0, "updated": 0, "unchanged": 0})
    counts[outcome] += 1


def load_inventory(ws: Workspace, path: str | os.PathLike[str]) -> InventoryResult:
    """Check an inventory file and, if clean, merge it into ``ws`` in one transaction."""
    doc, assets, findings = check_inventory(path)
    result = InventoryResult(os.fspath(path), findings)
    if doc is None or not result.ok:
        return result
    merge_inventory(ws, doc, assets, result)
    return result


def merge_inventory(ws: Workspace, doc: dict[str, Any], assets: list[_Asset], result: InventoryResult,
                    programs: list[dict[str, Any]] = ()) -> None:
    """Merge a checked inventory into ``ws`` in one transaction: add or update, never remove; ``programs``
    (program objects: name, type, channel) are created when the workspace has no program of that name."""
    changes = result.changes
    fields = {k.casefold(): v for k, v in ws.fields().items()}
    tags = {k.casefold(): (k, {v.casefold() for v in vals}) for k, vals in ws.tag_types().items()}
    channels = ws.channels()
    by_kind: dict[str, list[_Asset]] = {}
    for a in assets:
        by_kind.setdefault(a.kind, []).append(a)
    existing = {kind: ws.design_assets(kind, [a.name for a in items]) for kind, items in by_kind.items()}
    with ws.transaction() as w:
        if "crm" in doc:
            crm = None if doc["crm"] == "none" else doc["crm"]
            _tally(changes, "crm", "unchanged" if ws.crm() == crm else "updated")
            if ws.crm() != crm:
                w.set_crm(crm)
        for f in doc.get("fields") or []:
            old = fields.get(f["apiName"].casefold())
            if old is not None and (old.api_name, old.display_name, old.type) == (f["apiName"], f["displayName"],
                                                                                    f["type"]):
                _tally(changes, "fields", "unchanged")
                continue
            _tally(changes, "fields", "added" if old is None else "updated")
            w.put_field(f["apiName"], f["displayName"], f["type"])
        for tag_type, values in (doc.get("tagTypes") or {}).items():
            known = tags.get(tag_type.casefold(), (tag_type, set()))[1]
            for value in values:
                _tally(changes, "tagValues", "unchanged" if value.casefold() in known else "added")
                if value.casefold() not in known:
                    w.add_tag_value(tag_type, value)
        for what in ("segmentations", "webhooks", "customObjects", "snippets"):
            have = {n.casefold() for n in ws.names(what)}
            for item in doc.get(what) or []:
                if isinstance(item, dict) and what == "snippets":
                    continue  # snippet assets are loaded below
                name = item if isinstance(item, str) else item["name"]
                extra = {} if isinstance(item, str) else {k: v for k, v in item.items() if k != "name"}
                _tally(changes, what, "unchanged" if name.casefold() in have else "added")
                if name.casefold() not in have:
                    w.add_name(what, name, extra)
        for c in doc.get("channels") or []:
            old_statuses = next((v for k, v in channels.items() if k.casefold() == c["name"].casefold()), None)
            new_statuses = [s["name"] for s in sorted(c["statuses"], key=lambda s: s["step"])]
            if old_statuses == new_statuses:
                _tally(changes, "channels", "unchanged")
                continue
            _tally(changes, "channels", "added" if old_statuses is None else "updated")
            w.put_channel(c["name"], c["statuses"], c.get("applicableTo"))
        section_of = {kind: section for section, kind in ASSET_SECTIONS.items()}
        for kind, items in by_kind.items():
            new = []
            for a in items:
                old = existing[kind].get(a.name.casefold())
                if old is None:
                    new.append((a.kind, a.name, a.content, a.sha256, a.folder, a.meta))
                    _tally(changes, section_of[kind], "added")
                elif old.sha256 == a.sha256 and old.meta == {**old.meta, **a.meta}:
                    _tally(changes, section_of[kind], "unchanged")
                else:
                    w.replace_asset(old.id, a.content, a.sha256, {**old.meta, **a.meta})
                    _tally(changes, section_of[kind], "updated")
            w.put_assets(new)
        for data in programs:
            have = ws.program(data["name"]) is not None
            _tally(changes, "programs", "unchanged" if have else "added")
            if not have:
                w.create_program(data)


# --- summary -------------------------------------------------------------------------

_NAMED = (("segmentations", "segmentations"), ("snippets", "snippets"), ("webhooks", "webhooks"),
          ("customObjects", "custom objects"))
#: count() keys in display order, with their labels (snippets are counted with the named requirements)
COUNT_LABELS = (
    ("fields", "fields"), ("customFields", "custom fields"), ("channels", "channels"), ("tagTypes", "tag types"),
    *_NAMED,
    *((k.name, k.label) for k in kinds.all_kinds() if not k.local and k.label not in dict(_NAMED).values()),
    ("programs", "programs"),
    *((k.name, k.label) for k in kinds.all_kinds() if k.local),
    ("imports", "imports"),
)


def describe(ws: Workspace, target: str | None = None) -> dict[str, Any]:
    """A workspace's inventory summary as plain data (what `workspace show` prints)."""
    programs = []
    for p in ws.programs():
        kinds: dict[str, int] = {}
        for a in ws.program_assets(p.id):
            kinds[a.kind] = kinds.get(a.kind, 0) + 1
        prov = p.provenance
        programs.append({
            "name": p.name, "type": p.data.get("type"), "channel": p.data.get("channel"), "assets": kinds,
            "tags": p.data.get("tags") or {},
            "source": {"bundle": prov.bundle, "version": prov.version, "digest": prov.digest,
                       "importId": prov.import_id} if prov else None,
        })
        pending = getattr(ws, "pending_manual", None)  # a Marketo target: what imports left for its UI
        if callable(pending):
            programs[-1]["manualCompletion"] = [{"kind": i["kind"], "name": i["name"]} for i in pending(p.name)["items"]]
    out = {"target": target, "workspace": ws.name, "revision": ws.revision(), "crm": ws.crm(),
           "counts": ws.count(), "tagTypes": {k: sorted(v, key=str.casefold) for k, v in
                                              sorted(ws.tag_types().items(), key=lambda kv: kv[0].casefold())},
           "programs": programs}
    if getattr(ws, "history_file", None) is not None:  # kept on this machine: the target has no place for it
        out["historyFile"] = str(ws.history_file)
    return out


def render_text(summary: dict[str, Any]) -> str:
    where = f" in {summary['target']}" if summary.get("target") else ""
    lines = [f"Workspace {summary['workspace']!r}{where} (revision {summary['revision']}, "
             f"crm: {summary['crm'] or 'none'})"]
    counts = summary["counts"]
    for key, label in COUNT_LABELS:
        # a key a target leaves out is one it cannot count (webhooks through Marketo's API): not zero
        lines.append(f"  {label:<24}{counts[key] if key in counts else 'n/a':>7}")
    if summary["tagTypes"]:
        lines.append("Tag types:")
        for name, values in summary["tagTypes"].items():
            lines.append(f"  {name}: {', '.join(values) or '(no values)'}")
    lines.append("Programs:" if summary["programs"] else "Programs: none")
    for p in summary["programs"]:
        assets = ", ".join(f"{n} {k}" for k, n in sorted(p["assets"].items())) or "no assets"
        src = f"; from {p['source']['bundle']} {p['source']['version']}" if p["source"] else ""
        todo = len(p.get("manualCompletion") or [])
        src += f"; {todo} asset{'s' * (todo != 1)} recorded as needing manual completion" if todo else ""
        lines.append(f"  {p['name']} ({p['type']}, {p['channel']}; {assets}{src})")
    if summary.get("historyFile"):
        lines.append(f"Import history: kept on this machine in {summary['historyFile']} (see `programkit history`).")
    return "\n".join(lines) + "\n"
