"""Export stage: a workspace program → a bundle (directory or reproducible .zip).

:func:`export_program` is a pure read of the workspace: it collects the
program object, its local assets, the Design Studio assets they reference
and a ``requires`` list computed from what the assets use, and returns the
bundle as data (manifest + file bytes). :func:`write_bundle` writes it, checks
it with ``validate`` before anything reaches ``-o``, and packs it with
:func:`programkit.archive.pack_dir` when ``-o`` ends in ``.zip``.

Which Design Studio assets: those the program's assets reference (below)
and, for a program that came from a bundle import, every one that import
brought in or mapped — created, a renamed copy, reused, replaced or unchanged,
per the history mapping of the import its provenance names — so a landing
page template or an image nothing references survives import → export. A
reused asset exports as the workspace holds it (``useDestination`` may mean
other content than the bundle's). A mapped asset deleted from the workspace
since is left out. A program built in the workspace exports referenced
assets only.

Deterministic: the manifest is canonical JSON, assets are ordered by kind,
folder and name, file paths come from the asset's bundle path if it was
imported from a bundle (the import's mapping, else asset meta ``path``) and
otherwise from a slug of its kind and name, with ``-2``, ``-3`` … on a
collision. When every asset knows its position in one bundle (the import's
mapping ``index``, else meta ``bundle`` and ``index``), that order is kept
instead, so any imported bundle is reproduced. Asset bytes are written
verbatim, so a program imported from a bundle exports with the same digests.

Names an asset's bytes use are resolved through its meta ``designNames``
({kind: {name in the bytes: workspace name}}), which apply records when an
import put a Design Studio asset under another name (a keep-both/copy
"Name - 1"). The workspace keeps the bundle's bytes verbatim on purpose: plan
compares stored sha256 with the bundle's, so re-importing the same bundle is a
``noop`` and an upgrade only touches what changed; rewriting references at
apply time would break both. So export does the resolving: it exports the
asset the reference means (the copy, not the workspace's same-named original)
and rewrites the reference in the exported file to that asset's real name —
JSON assets are re-serialised canonically, HTML is edited in place — so the
bundle is self-consistent and imports anywhere as what the workspace holds.
Only assets with such a rename change; everything else stays byte-for-byte.

What is detected as referenced (the kind units in programkit/kinds/ say, through ``references``,
``context_references``, ``fields`` and ``needs``):

- an email's ``template`` → that email template; a landing page's → that landing page template,
  and the images and snippets its sections place;
- images: ``src``/``href``/``background`` attributes and CSS ``url(…)`` in
  email and template HTML, and section/variable values that are an image URL
  or file name, whose last path segment is an image's name;
- snippets: the value an email gives a template's ``mktoSnippet`` element
  (the snippet's name); a snippet that is only known by name (inventory)
  becomes ``requires.snippets``;
- images are found by URL in any asset's strings (not by a kind unit: a URL's last segment names them);
- ``requires``: ``{{lead.X}}`` tokens and Change Data Value attributes naming
  non-standard fields (with their type from the workspace), dynamic content
  segmentations, Call Webhook webhooks, and the CRM of sync steps. Items in
  the original bundle's ``requires`` (from the import history) are kept.
"""

from __future__ import annotations

import dataclasses
import json
import mimetypes
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator
from urllib.parse import quote, unquote, urlsplit

import semver

from . import canonical, kinds
from .bundle import check_replaceable, unsafe_path_reason
from .errors import BadInput, ProgramkitError
from .findings import Finding, Severity, make, register_code
from .jsonpos import iter_strings, tokens as pointer_tokens
from .kinds import ALL_KINDS, HTML_KINDS, JSON_KINDS
from .slugs import slug
from .catalog import standard_field_names
from .validate import TOKEN_RE
from .workspaces.base import (DESIGN_KINDS, AssetInfo, ImportRecord, ProgramInfo, Workspace, find_program,
                              renamed_design)

G = "workspace"
register_code("PK910", "export-missing-template", Severity.ERROR,
              "An asset of the exported program (an email, a landing page) names a template or another Design "
              "Studio asset the workspace does not have.",
              hint="Load or import the template into the workspace, or fix the name in the asset.",
              example="email '01 - Email - ALERT - MQL' names template 'Quick Start' that is not in workspace 'Default'",
              group=G)
register_code("PK911", "export-unknown-field", Severity.ERROR,
              "The exported program uses a person field the workspace does not have, so its type is unknown.",
              hint="Describe the field to the workspace (`programkit workspace load`), or fix the token's name.",
              example="email '01 - Alert' uses {{lead.Lead Grade}}, a field workspace 'Default' does not have",
              group=G)
register_code("PK912", "export-crm-conflict", Severity.ERROR,
              "The program's flow steps sync with two different CRMs.",
              hint="A bundle requires one CRM; remove the steps of the other one.",
              example="smartCampaign '01 - Sync' uses 'Sync Person to SFDC' (salesforce) and 'Sync Person to Microsoft' "
                      "(dynamics)", group=G)

BUNDLE_SCHEMA_URL = "https://schemas.programkit.dev/v1/bundle.json"
#: folder of generated file paths, by kind
KIND_DIRS = {k.name: k.directory for k in kinds.all_kinds()}
#: manifest entry keys (beyond kind, name, folder, path, sha256) an asset's meta may carry
ENTRY_KEYS = ("description", "templateType", "mimeType")
_LIST_REQUIRES = ("segmentations", "snippets", "webhooks", "customObjects")
_IMAGE_EXT = re.compile(r"\.(png|jpe?g|gif|svg|webp|bmp|ico)$", re.IGNORECASE)
_ATTR_URL = re.compile(r"""\b(?:src|href|background)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)["']?\s*\)""", re.IGNORECASE)


@dataclass
class ExportedBundle:
    """A bundle as data: its manifest and the bytes of every file it lists."""

    manifest: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    version_reason: str | None = None  # why the version is not the imported bundle's, when it is not

    @property
    def manifest_bytes(self) -> bytes:
        return canonical.dump_bytes(self.manifest)

    @property
    def digest(self) -> str:
        return canonical.bundle_digest(self.manifest)


@dataclass
class ExportResult:
    """Where a bundle was written, its identity and the warnings validate gave."""

    out: str
    program: str
    name: str
    version: str
    digest: str  # bundle digest (sha256 of the canonical manifest)
    archive_sha256: str | None
    assets: dict[str, int]
    requires: dict[str, Any]
    warnings: list[Finding] = field(default_factory=list)
    version_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"out": self.out, "program": self.program, "name": self.name, "version": self.version,
                "versionReason": self.version_reason, "digest": self.digest,
                "archiveSha256": self.archive_sha256, "assets": self.assets, "requires": self.requires,
                "warnings": [w.to_dict() for w in self.warnings]}


def slugify(text: str, limit: int = 80) -> str:
    """Lowercase ASCII letters, digits and single dashes: "01 - Sync New People" → "01-sync-new-people"; other
    scripts transliterated as ``programkit new`` does ("営業チーム" → "yingyechimu"); "" when nothing is left."""
    return slug(text, limit)


#: file names Windows reserves in every folder (with any extension): an exported bundle must unpack there too
_WINDOWS_DEVICES = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                              *(f"lpt{i}" for i in range(1, 10))})


# --- reading the program -----------------------------------------------------------------


def _source_record(ws: Workspace, program: ProgramInfo) -> ImportRecord | None:
    """The import the program came from, if any (its plan keeps the bundle's manifest header)."""
    if program.provenance is None:
        return None
    getter = getattr(ws, "import_record", None)
    if getter is not None:
        return getter(program.provenance.import_id)
    return next((r for r in ws.history() if r.id == program.provenance.import_id), None)


#: mapping actions whose workspace asset is the bundle's asset in the workspace ("skip": not imported)
_MAPPED_ACTIONS = ("create", "rename", "reuse", "replace", "update", "noop")


def _mapped(record: ImportRecord | None) -> dict[int, dict[str, Any]]:
    """Workspace asset id → its entry in the import ``record``'s mapping, for the assets that import brought in,
    updated, kept or reused (not the ones it skipped)."""
    out: dict[int, dict[str, Any]] = {}
    for m in record.mapping if record is not None else ():
        if (isinstance(m, dict) and m.get("kind") in ALL_KINDS and m.get("action") in _MAPPED_ACTIONS
                and isinstance(m.get("workspaceId"), int)):
            out.setdefault(m["workspaceId"], m)
    return out


def _imported_design(ws: Workspace, mapped: dict[int, dict[str, Any]]) -> list[AssetInfo]:
    """The Design Studio assets of ``mapped`` still in the workspace (same name, same id)."""
    wanted: dict[str, list[dict[str, Any]]] = {}
    for m in mapped.values():
        if m["kind"] in DESIGN_KINDS and isinstance(m.get("workspaceName"), str):
            wanted.setdefault(m["kind"], []).append(m)
    out = []
    for kind, items in wanted.items():
        found = ws.design_assets(kind, [m["workspaceName"] for m in items])
        out += [info for m in items if (info := found.get(m["workspaceName"].casefold())) is not None
                and info.id == m["workspaceId"]]
    return out


def _as_imported(asset: AssetInfo, mapped: dict[int, dict[str, Any]], bundle: str | None) -> AssetInfo:
    """``asset`` with the bundle path and manifest position its import mapping entry recorded, if any
    (a reused asset's own meta knows neither; an unchanged one's may be from an older version)."""
    m = mapped.get(asset.id)
    extra: dict[str, Any] = {}
    if m is not None and m.get("kind") == asset.kind and isinstance(m.get("path"), str):
        extra["path"] = m["path"]
        if isinstance(m.get("index"), int):
            extra.update(index=m["index"], bundle=bundle)
    return dataclasses.replace(asset, meta={**asset.meta, **extra}) if extra else asset


def _json_copy(value: Any) -> Any:
    """A deep copy of JSON data through the C encoder/decoder: copy.deepcopy spends several Python frames a
    level and hits the recursion limit on a 300-deep folder tree that imported fine."""
    return json.loads(json.dumps(value))


def _manifest_header(record: ImportRecord | None) -> dict[str, Any]:
    if record is None:
        return {}
    header = (record.plan.get("bundle") or {}).get("manifest") if isinstance(record.plan, dict) else None
    return _json_copy(header) if isinstance(header, dict) else {}


def _json(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def _text(data: bytes) -> str:
    return data.decode("utf-8-sig", errors="replace")


def _strings(kind: str, content: bytes) -> Iterator[str]:
    """Every string of an asset that may hold tokens or references."""
    if kind in JSON_KINDS:
        doc = _json(content)
        for _, s in iter_strings(doc):
            yield s
    elif kind in HTML_KINDS:
        yield _text(content)


def _image_candidates(strings: Iterable[str]) -> set[str]:
    names: set[str] = set()
    for s in strings:
        urls = _ATTR_URL.findall(s) + _CSS_URL.findall(s)
        if _IMAGE_EXT.search(s.strip()) and not re.search(r"\s", s.strip()):
            urls.append(s.strip())
        for url in urls:
            if "{{" in url:
                continue
            last = unquote(urlsplit(url.strip()).path).rsplit("/", 1)[-1]
            if last:
                names.add(last)
    return names


def _rename_url(url: str, renames: dict[str, str]) -> str:
    """``url`` with its last path segment renamed if it names a renamed image (new name URL-quoted,
    since copy names have spaces); anything else is kept as written."""
    if "{{" in url:
        return url
    path = urlsplit(url.strip()).path
    segment = path.rsplit("/", 1)[-1]
    new = renames.get(unquote(segment).casefold()) if segment else None
    at = url.find(path) if new is not None else -1
    if at < 0:
        return url
    end = at + len(path)
    return url[:end - len(segment)] + quote(new, safe="") + url[end:]


def _rename_images(text: str, renames: dict[str, str]) -> str:
    """Image references in ``text`` (what :func:`_image_candidates` finds) renamed; each one once."""
    if not renames:
        return text
    bare = text.strip()
    if _IMAGE_EXT.search(bare) and not re.search(r"\s", bare):
        return _rename_url(text, renames)

    def sub(m: re.Match[str]) -> str:
        start, end = m.start(1) - m.start(0), m.end(1) - m.start(0)
        return m.group(0)[:start] + _rename_url(m.group(1), renames) + m.group(0)[end:]

    return _CSS_URL.sub(sub, _ATTR_URL.sub(sub, text))


def _is_design(kind: str) -> bool:
    unit = kinds.get(kind)
    return unit is not None and not unit.local


def _set_at(doc: Any, pointer: str, value: Any) -> None:
    """Set the member at JSON ``pointer`` of ``doc`` (it exists: a kind unit found a reference there)."""
    keys = pointer_tokens(pointer)
    node = doc
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    last = keys[-1]
    node[int(last) if isinstance(node, list) else last] = value


def _get_at(doc: Any, pointer: str) -> Any:
    node = doc
    for key in pointer_tokens(pointer):
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


def _map_strings(doc: Any, fn: Any) -> None:
    """Apply ``fn`` to every string value of a parsed JSON document, in place (iteratively: no depth limit)."""
    stack = [doc]
    while stack:
        node = stack.pop()
        for key, value in list(node.items() if isinstance(node, dict) else enumerate(node)):
            if isinstance(value, str):
                node[key] = fn(value)
            elif isinstance(value, (dict, list)):
                stack.append(value)


class _Collector:
    """Reads what the program's assets reference; collects problems instead of stopping at the first."""

    def __init__(self, ws: Workspace, program: ProgramInfo):
        self.ws = ws
        self.program = program
        self.problems: list[Finding] = []
        self.contents: dict[int, bytes] = {}
        #: asset id → the references its kind unit found through another asset's content (an email's snippets)
        self.context: dict[int, list[Any]] = {}

    def read(self, asset: AssetInfo) -> bytes:
        if asset.id not in self.contents:
            self.contents[asset.id] = self.ws.read(asset.id)
        return self.contents[asset.id]

    @staticmethod
    def resolve(asset: AssetInfo, kind: str, name: str) -> str:
        """The workspace name of the ``kind`` asset that ``asset``'s bytes call ``name``."""
        return renamed_design(asset.meta, kind).get(name.casefold(), name)

    def images_of(self, asset: AssetInfo) -> set[str]:
        return {self.resolve(asset, "image", n) for n in _image_candidates(_strings(asset.kind, self.read(asset)))}

    def design(self, local: list[AssetInfo], imported: Iterable[AssetInfo] = ()) -> tuple[list[AssetInfo], set[str]]:
        """Design Studio assets the local assets reference plus ``imported`` (and the images those reference),
        and snippet names known only as requirements."""
        docs = [(a, _json(self.read(a))) for a in local if (u := kinds.get(a.kind)) is not None and u.is_json]
        # what each kind unit says its documents reference in Design Studio (an email's template, a page's)
        refs = [(a, ref) for a, doc in docs for ref in kinds.get(a.kind).references(doc) if _is_design(ref.kind)]
        wanted: dict[str, set[str]] = {}
        for a, ref in refs:
            wanted.setdefault(ref.kind, set()).add(self.resolve(a, ref.kind, ref.name))
        by_kind = {kind: self.ws.design_assets(kind, names) for kind, names in wanted.items()}
        found: dict[int, AssetInfo] = {a.id: a for a in imported}
        outside_named: set[str] = set()
        for a, ref in refs:
            name = self.resolve(a, ref.kind, ref.name)
            info = by_kind[ref.kind].get(name.casefold())
            if info is None and ref.outside:  # may be a requirement only (a page's snippet in requires.snippets)
                outside_named.add(name)
            elif info is None:
                said = f"{name!r}" if name == ref.name else f"{name!r} ({ref.name!r} in its file)"
                self.problems.append(make("PK910", f"{a.kind} {a.name!r} names {ref.label or ref.kind} {said} that "
                                                   f"is not in workspace {self.ws.name!r}"))
            elif info.id not in found:
                found[info.id] = info
        # references that depend on what they refer to (an email's snippets: its template's mktoSnippet elements)
        def lookup_for(a: AssetInfo) -> Any:
            def lookup(kind: str, name: str) -> str | None:
                info = by_kind.get(kind, {}).get(self.resolve(a, kind, name).casefold())
                return _text(self.read(info)) if info is not None else None
            return lookup

        context: list[tuple[AssetInfo, Any]] = []
        for a, doc in docs:
            unit = kinds.get(a.kind)
            if unit.context_references is not None:
                self.context[a.id] = list(unit.context_references(doc, lookup_for(a)))
                context += [(a, ref) for ref in self.context[a.id]]
        wanted = {}
        for a, ref in context:
            wanted.setdefault(ref.kind, set()).add(self.resolve(a, ref.kind, ref.name))
        for kind, names in wanted.items():
            got = self.ws.design_assets(kind, names)
            found.update({x.id: x for x in got.values() if x.id not in found})
            outside_named |= {n for n in names if n.casefold() not in got}
        named_only = outside_named
        # images: referenced from the program's documents, templates and snippets (each resolved through its meta)
        wanted_images: set[str] = set()
        for a in [a for a in local if (u := kinds.get(a.kind)) is not None and u.is_text] + list(found.values()):
            wanted_images |= self.images_of(a)
        images = self.ws.design_assets("image", wanted_images)
        found.update({i.id: i for i in images.values() if i.id not in found})
        return list(found.values()), named_only

    def exported(self, asset: AssetInfo) -> bytes:
        """The bytes to export: stored bytes, with references the asset's meta says were renamed
        rewritten to the workspace names (see the module docstring)."""
        data = self.read(asset)
        images = renamed_design(asset.meta, "image")
        unit = kinds.get(asset.kind)
        if unit is not None and unit.is_json:
            names = asset.meta.get("designNames")
            doc = _json(data) if names else None
            if not isinstance(doc, dict):
                return data
            # the names its kind unit says it references, as the workspace has them
            for ref in list(unit.references(doc)) + self.context.get(asset.id, []):
                new = renamed_design(asset.meta, ref.kind).get(ref.name.casefold()) if _is_design(ref.kind) else None
                if new is not None:
                    _set_at(doc, ref.pointer, _get_at(doc, ref.pointer).replace(ref.name, new, 1) if ref.within else new)
            if images:
                _map_strings(doc, lambda s: _rename_images(s, images))
            return data if doc == _json(data) else canonical.dump_bytes(doc)
        if asset.kind in HTML_KINDS and images:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                return data
            renamed = _rename_images(text, images)
            return data if renamed == text else renamed.encode("utf-8")
        return data

    def requires(self, assets: list[AssetInfo], snippets_named: set[str]) -> dict[str, Any]:
        """What the exported assets need from a target, computed from their content."""
        standard = standard_field_names()
        by_name: dict[str, Any] = {}
        for f in self.ws.fields().values():
            by_name.setdefault(f.api_name.casefold(), f)
            by_name.setdefault(f.display_name.casefold(), f)
        fields: dict[str, dict[str, str]] = {}
        segs: set[str] = set()
        hooks: set[str] = set()
        crms: dict[str, str] = {}

        class need:  # what the kind units report (kinds.Needs)
            webhook = staticmethod(hooks.add)
            segmentation = staticmethod(segs.add)

            @staticmethod
            def crm(crm: str, why: str) -> None:
                crms.setdefault(crm, why)

        unknown: set[tuple[str, str]] = set()

        def use_field(name: str, where: str) -> None:
            key = name.strip().casefold()
            if key in standard:
                return
            f = by_name.get(key)
            if f is None:
                if (key, where) in unknown:
                    return  # one finding per field and asset
                unknown.add((key, where))
                self.problems.append(make("PK911", f"{where} uses field {name.strip()!r}, which workspace "
                                                   f"{self.ws.name!r} does not have"))
                return
            fields.setdefault(f.api_name.casefold(), {"apiName": f.api_name, "displayName": f.display_name,
                                                      "type": f.type})

        for a in assets:
            content = self.read(a)
            where = f"{a.kind} {a.name!r}"
            for s in _strings(a.kind, content):
                for m in TOKEN_RE.finditer(s):
                    if m.group(1).lower() == "lead":
                        use_field(m.group(2), where)
            unit = kinds.get(a.kind)
            doc = _json(content) if unit is not None and unit.is_json else None
            if not isinstance(doc, dict):
                continue
            for _, name in unit.fields(doc):  # fields its kind unit says the document names (Change Data Value)
                use_field(name, where)
            unit.needs(doc, need, where)
        if len(crms) > 1:
            self.problems.append(make("PK912", " and ".join(f"{v} ({k})" for k, v in sorted(crms.items()))))
        spelled = {what: {n.casefold(): n for n in self.ws.names(what)} for what in ("segmentations", "webhooks")}
        out: dict[str, Any] = {}
        if fields:
            out["fields"] = [fields[k] for k in sorted(fields)]
        for what, names in (("segmentations", segs), ("webhooks", hooks), ("snippets", snippets_named)):
            if names:
                spell = spelled.get(what, {})
                out[what] = sorted({spell.get(n.casefold(), n) for n in names}, key=str.casefold)
        if len(crms) == 1:
            out["crm"] = next(iter(crms))
        return out


def _merge_requires(original: dict[str, Any], computed: dict[str, Any]) -> dict[str, Any]:
    """The original bundle's requires, plus what the assets need that it does not list (appended, sorted)."""
    out = _json_copy(original) if isinstance(original, dict) else {}
    have_fields = {f.get("apiName", "").casefold() for f in out.get("fields") or [] if isinstance(f, dict)}
    extra = [f for f in computed.get("fields") or [] if f["apiName"].casefold() not in have_fields]
    if extra:
        out["fields"] = list(out.get("fields") or []) + extra
    for what in _LIST_REQUIRES:
        have = {n.casefold() for n in out.get(what) or [] if isinstance(n, str)}
        more = [n for n in computed.get(what) or [] if n.casefold() not in have]
        if more:
            out[what] = list(out.get(what) or []) + more
    if computed.get("crm"):
        out["crm"] = computed["crm"]
    return out


def _extension(asset: AssetInfo, entry: dict[str, Any]) -> str:
    if asset.kind in JSON_KINDS:
        return ".json"
    if asset.kind in HTML_KINDS:
        return ".html"
    m = re.search(r"\.([A-Za-z0-9]{1,5})$", asset.name)
    if m:
        return "." + m.group(1).lower()
    guessed = mimetypes.guess_extension(str(entry.get("mimeType") or "")) if entry.get("mimeType") else None
    return guessed or ".bin"


def _generated_path(asset: AssetInfo, entry: dict[str, Any]) -> tuple[str, str]:
    ext = _extension(asset, entry)
    stem = asset.name[: -len(ext)] if asset.kind == "image" and asset.name.lower().endswith(ext) else asset.name
    name = slugify(stem) or asset.kind.lower()  # a name of punctuation only: the kind (numbered if taken)
    if name in _WINDOWS_DEVICES:
        name += "-" + asset.kind.lower()
    return f"{KIND_DIRS[asset.kind]}/{name}", ext


def _assign_paths(items: list[tuple[AssetInfo, dict[str, Any]]]) -> list[str]:
    """A file path per asset: its bundle path when it has a usable one, else a slug; never two alike."""
    taken: set[str] = {"bundle.json"}
    paths: list[str | None] = [None] * len(items)
    for i, (asset, _) in enumerate(items):
        p = asset.meta.get("path")
        if isinstance(p, str) and unsafe_path_reason(p) is None and p.casefold() not in taken:
            paths[i] = p
            taken.add(p.casefold())
    for i, (asset, entry) in enumerate(items):
        if paths[i] is not None:
            continue
        stem, ext = _generated_path(asset, entry)
        candidate, n = stem + ext, 1
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{stem}-{n}{ext}"
        paths[i] = candidate
        taken.add(candidate.casefold())
    return [p for p in paths if p is not None]


def _entry_extras(asset: AssetInfo) -> dict[str, Any]:
    """Manifest entry keys kept in the asset's meta: top-level (inventory) and the imported entry (verbatim)."""
    extras = {k: asset.meta[k] for k in ENTRY_KEYS if k in asset.meta}
    stored = asset.meta.get("entry")
    if isinstance(stored, dict):
        extras.update({k: v for k, v in stored.items() if k not in ("kind", "name", "folder", "path", "sha256")})
    return extras


def _sort_key(asset: AssetInfo) -> tuple:
    return (ALL_KINDS.index(asset.kind) if asset.kind in ALL_KINDS else len(ALL_KINDS), asset.kind,
            (asset.folder or "").casefold(), asset.name.casefold(), asset.name, asset.id)


def _ordered(assets: list[AssetInfo]) -> list[AssetInfo]:
    """Manifest order: the original bundle's, if every asset came from one bundle and knows its position
    (meta ``bundle`` and ``index``); else by kind, folder and name."""
    bundles = {a.meta.get("bundle") for a in assets}
    indexes = [a.meta.get("index") for a in assets]
    if (len(bundles) == 1 and None not in bundles and all(isinstance(i, int) for i in indexes)
            and len(set(indexes)) == len(indexes)):
        return sorted(assets, key=lambda a: a.meta["index"])
    return sorted(assets, key=_sort_key)


def _unexported(ws: Workspace, record: ImportRecord | None,
                present: set[tuple[str, str]] = frozenset()) -> list[dict[str, str]]:  # type: ignore[assignment]
    """Needs-completion items for what the program was imported with but the target has no object for
    (a lead lifecycle in Marketo), or could not create and still holds none of (``present``: kind and folded name
    of what it holds; a Marketo smart list with nothing to clone), so an export cannot read it back."""
    kinds = getattr(ws, "unexported_kinds", ())
    unwritten = getattr(ws, "unwritten", None)
    out = []
    for m in record.mapping if record is not None and (kinds or unwritten) else ():
        if not isinstance(m, dict) or m.get("action") not in _MAPPED_ACTIONS:
            continue
        source = (f"{record.bundle} {record.version}"
                  f"{' (' + m['path'] + ')' if isinstance(m.get('path'), str) else ''}")
        if m.get("kind") in kinds:
            out.append({"what": f"{m['kind']} {m.get('bundleName') or m.get('workspaceName')!r}",
                        "why": f"import #{record.id} brought it in from {source}, but the target "
                               f"has no object for it, so it cannot be read back: copy it from that bundle"})
        elif unwritten is not None and unwritten(m) and \
                (m.get("kind"), str(m.get("bundleName") or "").casefold()) not in present:
            out.append({"what": f"{m['kind']} {m.get('bundleName') or m.get('workspaceName')!r}",
                        "why": f"import #{record.id} brought it in from {source}, but the target's API could not "
                               "create it and it holds none of that name (its checklist says how to build it): "
                               "copy it from that bundle"})
    return out


def export_program(ws: Workspace, program: str, *, name: str | None = None,
                   version: str | None = None) -> ExportedBundle:
    """A bundle of ``program`` as data. Raises BadInput for a missing program or a bad --name/--version,
    ProgramkitError (with findings) when the program references things the workspace lacks."""
    info = find_program(ws, program)  # PK579, with the nearest name, as `workspace remove` says it
    record = _source_record(ws, info)
    header = _manifest_header(record)
    # a program whose name has no letter or digit in any script (punctuation only) is still a bundle
    bundle_name = name or header.get("name") or slugify(info.name, 64) or "bundle"
    if not re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?", bundle_name or ""):
        raise BadInput(f"--name {bundle_name!r} is not a bundle name",
                       hint="Use lowercase letters, digits and '-', e.g. op-lead-management.")
    bundle_version = version or header.get("version") or "1.0.0"
    if not semver.Version.is_valid(bundle_version):
        raise BadInput(f"--version {bundle_version!r} is not a semantic version", hint="e.g. 1.0.0 (see semver.org)")

    collector = _Collector(ws, info)
    local = ws.program_assets(info.id)
    prefetch = getattr(ws, "prefetch", None)  # a remote target reads its assets side by side, all errors at once
    if prefetch is not None:
        prefetch(local)
    mapped = _mapped(record)
    design, snippets_named = collector.design(local, _imported_design(ws, mapped))
    assets = _ordered([_as_imported(a, mapped, record.bundle if record else None) for a in local + design])
    computed = collector.requires(assets, snippets_named)
    if collector.problems:
        raise ProgramkitError(f"program {info.name!r} cannot be exported: it references what workspace "
                              f"{ws.name!r} does not have", collector.problems)

    items = [(a, _entry_extras(a)) for a in assets]
    exported = ExportedBundle(manifest={})
    entries = []
    # what a target could not give back (e.g. Marketo campaign flows) is listed, never dropped: needsCompletion
    gaps = getattr(ws, "needs_completion", None)
    needs: list[dict[str, str]] = _unexported(ws, record, {(a.kind, a.name.casefold()) for a in local})
    for (asset, extras), path in zip(items, _assign_paths(items)):
        content = collector.exported(asset)
        entry = {**extras, "kind": asset.kind, "name": asset.name, "path": path,
                 "sha256": canonical.sha256_bytes(content)}
        if asset.folder:
            entry["folder"] = asset.folder
        entries.append(entry)
        exported.files[path] = content
        needs += [{"path": path, **{k: v for k, v in item.items() if v}} for item in gaps(asset.id)] if gaps else []

    manifest = {k: v for k, v in header.items() if k not in ("program", "assets")}
    manifest.setdefault("$schema", BUNDLE_SCHEMA_URL)
    if not header and isinstance(info.data.get("description"), str):
        manifest["description"] = info.data["description"]
    manifest.update({"format": "programkit/1", "name": bundle_name, "version": bundle_version,
                     "program": _json_copy(info.data), "assets": entries})
    if gaps is not None:  # the target says what it could not read; else the imported bundle's list stands
        manifest.pop("needsCompletion", None)
        if needs:
            manifest["needsCompletion"] = needs
    requires = _merge_requires(header.get("requires") or {}, computed)
    if requires:
        manifest["requires"] = requires
    else:
        manifest.pop("requires", None)
    exported.manifest = manifest
    if version is None and record is not None and (digest := exported.digest) != record.digest:
        _mark_changed(exported, record, digest)
    return exported


def _mark_changed(exported: ExportedBundle, record: ImportRecord, digest: str) -> None:
    """Content that differs from the bundle it was imported from (imported under --as, with
    keep-both copies, or edited since) is not that bundle: the same name and version with other
    content would be refused on re-import to the origin (PK512). The version gets build metadata
    naming the content, ``1.0.0+export.1a2b3c4d``: semver ignores it when ordering, so a re-import
    is an in-place update and a real upstream 1.0.1 still sorts above it. Exporting that bundle's
    import again gives it back unchanged (its digest then matches)."""
    base = semver.Version.parse(exported.manifest["version"]).replace(build=None)
    exported.manifest["version"] = f"{base}+export.{digest[:8]}"
    exported.version_reason = (f"the program differs from {record.bundle} {record.version} as imported "
                               f"(import #{record.id}), so the version names the exported content; "
                               f"pass --version to choose one")


# --- writing -------------------------------------------------------------------------------


def _write_dir(exported: ExportedBundle, root: Path) -> None:
    for path, data in exported.files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    (root / "bundle.json").write_bytes(exported.manifest_bytes)


def _check_out_dir(out: Path, force: bool) -> None:
    if not out.exists():
        return
    if not out.is_dir() or out.is_symlink():
        from .errors import file_type

        raise BadInput(f"{out} exists and is {file_type(os.lstat(out).st_mode)}, not a directory",
                       hint="-o names a new directory or a .zip file.")
    if any(out.iterdir()):
        if not force:
            raise BadInput(f"{out} exists and is not empty", hint="Choose a new directory, or --force to replace "
                                                                   "a bundle directory written before.")
        check_replaceable(out, "-o names a new directory or a .zip file.")


def write_bundle(exported: ExportedBundle, out: str | os.PathLike[str], *, force: bool = False) -> ExportResult:
    """Write a bundle to ``out`` (a directory, or a reproducible archive if it ends in .zip).

    The bundle is written to a temporary directory beside ``out`` and
    validated first; if it has errors nothing is written (ProgramkitError
    with the findings). An existing non-empty directory is replaced only with
    ``force`` and only if it holds a bundle.
    """
    from .validate import validate_path

    display = os.fspath(out)
    target = Path(display)
    is_zip = target.suffix.lower() == ".zip"
    if not target.parent.exists():
        raise BadInput(f"{display}: folder {target.parent} does not exist", hint="Create it first.")
    if is_zip:
        from .output import check_output

        check_output(target, "-o", force)  # a directory, FIFO, device or link is refused before any work
    if not is_zip:
        _check_out_dir(target, force)
    from .output import refused_write

    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    except OSError as e:
        raise refused_write(target, e) from None
    archive_sha = None
    try:
        try:
            _write_dir(exported, tmp)
        except OSError as e:  # full disk, file size limit, read-only folder: the staging copy is removed below
            raise refused_write(target, e) from None
        result = validate_path(tmp)
        errors = [f for f in result.findings if f.severity is Severity.ERROR]
        if errors:
            raise ProgramkitError("the exported bundle does not validate; nothing was written", errors)
        if is_zip:
            from .archive import pack_dir

            archive_sha = pack_dir(tmp, target, force=force)
        else:
            from .archive import move_into_place
            from .output import usual_mode

            try:
                os.chmod(tmp, usual_mode(directory=True))  # mkdtemp made it 0700
                move_into_place(tmp, target)
            except OSError as e:
                raise refused_write(target, e) from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    kinds: dict[str, int] = {}
    for e in exported.manifest["assets"]:
        kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
    warnings = [f for f in result.findings if f.severity is not Severity.ERROR]
    return ExportResult(display, exported.manifest["program"]["name"], exported.manifest["name"], exported.manifest["version"], exported.digest,
                        archive_sha, kinds, exported.manifest.get("requires") or {}, warnings,
                        exported.version_reason)


def export_to(ws: Workspace, program: str, out: str | os.PathLike[str], *, name: str | None = None,
              version: str | None = None, force: bool = False) -> ExportResult:
    """Export ``program`` of ``ws`` to ``out`` (directory or .zip): :func:`export_program` + :func:`write_bundle`."""
    return write_bundle(export_program(ws, program, name=name, version=version), out, force=force)
