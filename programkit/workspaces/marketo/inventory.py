"""Reading a Marketo workspace: the inventory a plan is made from (browse endpoints, 200 a page, read once
per workspace object), Marketo-specific preflight, the cost estimate, and reading assets for an export."""

from __future__ import annotations

import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit

from ...errors import ProgramkitError
from ...findings import Finding, make
from ...rules import copy_pattern
from ..base import AssetInfo, FieldInfo, ProgramInfo, Provenance, Workspace
from . import export as marketo_export
from .client import Limits, MarketoClient, MarketoError, cost_estimate
from . import kinds as marketo_kinds
from .common import (A, API_TOKEN_TYPES, TYPE_TOKENS, bracketed, CHECKLIST_OUTCOMES, DESIGN, KIND_CODE, LOCAL, MANUAL, MARKETO_TOKEN_TYPES,
                     PROGRAM_TYPES, asset_id, default_state_dir, dynamic_segments, sha256_hex,
                     split_id, token_from_marketo)
from .journal import Journal, list_journals
from .progress import ProgressLine, for_stream


class MarketoInventory(Workspace):
    def __init__(self, url: str, workspace: str = "Default", *, client: MarketoClient | None = None,
                 limits: Limits | None = None, state_dir: str | os.PathLike[str] | None = None):
        self.url = url
        self.name = workspace
        self.client = client or MarketoClient.from_env(url, limits)
        self.state_dir = Path(state_dir) if state_dir else default_state_dir(url, workspace)
        self.cache: dict[str, Any] = {}
        #: browse records of program assets, and what export read for each asset (bytes, needs-completion items)
        self.asset_records: dict[tuple[str, int], dict[str, Any]] = {}
        self._exported: dict[int, tuple[bytes, list[dict[str, str]]]] = {}
        self._resume: Journal | None = None
        #: program tags given at import (``--tag TYPE=VALUE``), for required tag types the bundle lacks
        self.extra_tags: dict[str, str] = {}
        #: what to do after writing: approve drafts (``--approve``), activate campaigns (``--activate``)
        self.approve = False
        self.activate = False
        #: what the last writes warned about (e.g. a campaign Marketo would not activate)
        self.apply_warnings: list[Finding] = []
        #: the progress line on a terminal (see :meth:`progress_to`), or None
        self.progress: ProgressLine | None = None
        #: warnings about what the API could not tell, gathered while reading
        self.notes: list[Finding] = []
        #: the checklist of the last transaction, and the file it was saved to
        self.checklist: list[dict[str, Any]] = []
        self.checklist_file: Path | None = None

    @property
    def location(self) -> str:
        """The instance's REST base URL without credentials, query or trailing slash (host lower-cased)."""
        parts = urlsplit(self.url)
        host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
        return f"{parts.scheme.lower()}://{host}{parts.path.rstrip('/')}"

    def progress_to(self, stream: Any) -> None:
        """Show a progress line for long imports and exports on ``stream`` when it is a terminal."""
        self.progress = for_stream(stream, "Marketo", lambda: (self.client.calls, self.client.waited))

    def progress_tick(self, n: int = 1) -> None:
        if self.progress is not None:
            self.progress.tick(n)

    def __enter__(self) -> "MarketoInventory":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- cached browse lists ---------------------------------------------------------------------
    def cached(self, key: str, load: Any) -> Any:
        if key not in self.cache:
            self.cache[key] = load()
        return self.cache[key]

    def folder_records(self) -> list[dict[str, Any]]:
        return self.cached("folders", lambda: list(self.client.browse(f"{A}/folders.json", maxDepth=10,
                                                                       workSpace=self.name)))

    def _mine(self, items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Only this Marketo workspace's items: the browse endpoints list every workspace the user sees."""
        return [a for a in items if a.get("workspace") in (None, self.name)]

    def program_records(self) -> list[dict[str, Any]]:
        return self.cached("programs", lambda: self._mine(self.client.browse(f"{A}/programs.json")))

    def design_records(self, kind: str) -> list[dict[str, Any]]:
        return self.cached(kind, lambda: self._mine(self.client.browse(DESIGN[kind][1])))

    def _note(self, code: str, message: str) -> None:
        if not any(n.message == message for n in self.notes):
            self.notes.append(make(code, message))

    # -- inventory -------------------------------------------------------------------------------
    def revision(self) -> str:
        if self._resume is not None and self._resume.data.get("plan"):
            # a resumed import continues the plan it started with, on the instance it half changed
            return self._resume.data["plan"]["workspace"]["revision"]
        parts = [(p["id"], p["name"], p.get("updatedAt")) for p in self.program_records()]
        for kind in DESIGN:
            parts += [(kind, a["id"], a["name"], a.get("updatedAt")) for a in self.design_records(kind)]
        return sha256_hex(json.dumps(parts, sort_keys=True, default=str).encode())[:16]

    def fields(self) -> dict[str, FieldInfo]:
        def load() -> dict[str, FieldInfo]:
            out = {}
            for obj in self.client.get("/rest/v1/leads/describe2.json"):
                for f in obj.get("fields") or []:
                    if f.get("name"):
                        out[f["name"]] = FieldInfo(f["name"], f.get("displayName") or f["name"], f.get("dataType", ""))
            return out
        return self.cached("fields", load)

    def names(self, what: str) -> set[str]:
        if what == "segmentations":
            return {s["name"] for s in self.segmentation_list()}
        if what == "snippets":
            return {s["name"] for s in self.design_records("snippet")}
        if what == "customObjects":
            return self.cached(what, lambda: {c["name"] for c in self.client.get("/rest/v1/customobjects.json")})
        if what == "webhooks":
            self._note("PK806", "webhooks cannot be read through the Marketo API; check the webhooks a bundle "
                                "requires by hand (Admin > Webhooks)")
            return set()
        raise ValueError(f"unknown name list {what!r}")

    def segmentation_list(self) -> list[dict[str, Any]]:
        """Marketo's segmentations (id, name, …), read once."""
        return self.cached("segmentation-list", lambda: self.client.get(f"{A}/segmentation.json"))

    def segmentation_id(self, name: str) -> int | None:
        """The id of the segmentation called ``name`` (case-insensitive), or None."""
        hit = next((s for s in self.segmentation_list() if str(s.get("name", "")).casefold() == name.casefold()), None)
        return int(hit["id"]) if hit is not None else None

    def segment_names(self, segmentation_id: int) -> list[str]:
        """The segments of one segmentation (Marketo's spelling and order, "Default" included), read once."""
        return self.cached(f"segments-{segmentation_id}", lambda: [
            s["name"] for s in self.client.browse(f"{A}/segmentation/{segmentation_id}/segments.json")
            if isinstance(s.get("name"), str)])

    def load_segments(self, dynamic: Any) -> None:
        """Read, once, the segments of every segmentation a document's ``dynamicContent`` names (emails and landing
        pages), so the workers writing it side by side find them read."""
        for spec in dynamic.values() if isinstance(dynamic, dict) else ():
            if isinstance(spec, dict) and isinstance(spec.get("segmentation"), str):
                sid = self.segmentation_id(spec["segmentation"])
                if sid is not None:
                    self.segment_names(sid)

    def missing_segments(self, dynamic: Any, file: str) -> list[Finding]:
        """PK816 for every segment a document's ``dynamicContent`` names that its Marketo segmentation lacks (all
        at once; one segments call per segmentation). A segmentation missing altogether is the plan's PK503."""
        out: list[Finding] = []
        for section, spec in sorted(dynamic.items()) if isinstance(dynamic, dict) else ():
            if not isinstance(spec, dict) or not isinstance(spec.get("segmentation"), str):
                continue
            sid = self.segmentation_id(spec["segmentation"])
            if sid is None:
                continue
            have = self.segment_names(sid)
            known = {n.casefold() for n in have}
            for seg in spec.get("segments") or {}:
                if seg.casefold() not in known:
                    out.append(make("PK816", f"segment {seg!r} is not in Marketo's segmentation "
                                             f"{spec['segmentation']!r} (it has {', '.join(have) or 'none'})",
                                    file=file, pointer=f"/dynamicContent/{section}/segments/{seg}"))
        return out

    def dynamic_content_note(self, email: dict[str, Any]) -> str:
        """The plan's note on an email with dynamic content (what importing it writes)."""
        dyn = email.get("dynamicContent") or {}
        segments = sum(len(dynamic_segments(email, html_id)) for html_id in dyn)
        return (f" (dynamic content: {segments} segment(s) in {len(dyn)} section(s), written through the asset "
                "API)")

    def crm(self) -> str | None:
        sfdc = sorted(f for f in self.fields() if f.startswith("sfdc"))
        if sfdc:
            self._note("PK807", f"CRM 'salesforce' inferred from the person fields {', '.join(sfdc[:3])}; "
                                "the API cannot read the CRM sync settings")
            return "salesforce"
        return None

    def channels(self) -> dict[str, list[str]]:
        def load() -> dict[str, list[str]]:
            out = {}
            for ch in self.client.browse(f"{A}/channels.json"):
                steps = sorted(ch.get("progressionStatuses") or [], key=lambda s: s.get("step", 0))
                out[ch["name"]] = [s["name"] for s in steps]
            return out
        return self.cached("channels", load)

    def tag_type_records(self) -> dict[str, dict[str, Any]]:
        """Each tag type: ``values`` (allowed), ``required`` and ``applies`` (Marketo's program-type tokens).

        Marketo writes ``applicableProgramTypes`` and ``allowableValues`` as one bracketed string each
        (``"[program,email_batch,nurture,event,webinar]"``, ``"[AAA1 RT1, AAA1 RT2]"``), and gives the values
        only by name (developers.marketo.com/rest-api/assets/programs/tags/): one by-name call per tag type.
        """
        def load() -> dict[str, dict[str, Any]]:
            out = {}
            for t in self.client.browse(f"{A}/tagTypes.json"):
                if not isinstance(t.get("tagType"), str):
                    continue
                found = self.client.get(f"{A}/tagType/byName.json", name=t["tagType"])
                rec = found[0] if found else t
                out[t["tagType"]] = {"values": set(bracketed(rec.get("allowableValues"))),
                                     "required": rec.get("required") is True,
                                     "applies": set(bracketed(rec.get("applicableProgramTypes")))}
            return out
        return self.cached("tags", load)

    def tag_types(self) -> dict[str, set[str]]:
        return {name: rec["values"] for name, rec in self.tag_type_records().items()}

    def required_tag_types(self, program_type: str | None) -> list[str]:
        """The tag types Marketo requires for a program of (bundle) type ``program_type``."""
        token = TYPE_TOKENS.get(PROGRAM_TYPES.get(program_type or "default", ""), "")
        return sorted(n for n, rec in self.tag_type_records().items()
                      if rec["required"] and (token in rec["applies"] or not rec["applies"]))

    def program_tags(self, program_id: int) -> dict[str, str]:
        """A program's tags: read from ``program/{id}.json`` -- the browse list has none (Adobe's Programs page:
        "tags associated with a program are not returned by this endpoint")."""
        def load() -> dict[str, str]:
            found = self.client.get(f"{A}/program/{program_id}.json")
            tags = (found[0].get("tags") if found else None) or []
            return {t["tagType"]: t["tagValue"] for t in tags if isinstance(t, dict) and "tagType" in t}
        return self.cached(f"program-tags-{program_id}", load)

    def folder_root(self, tree: str, name: str | None = None) -> dict[str, Any]:
        """The folder new things go into in this workspace: ``/Marketing Activities/<workspace>`` (``tree``
        "Marketing Activities") or ``/Design Studio/<workspace>/<name>``; else, on an instance without
        workspace folders, the folder of that name the workspace's browse lists once."""
        want = f"/{tree}/{self.name}" + (f"/{name}" if name else "")
        folders = self.folder_records()
        node = next((f for f in folders if str(f.get("path", "")).casefold() == want.casefold()), None)
        if node is None:
            label = name or tree
            hits = [f for f in folders if str(f.get("name", "")).casefold() == label.casefold()
                    and (f.get("folderId") or {}).get("type") == "Folder"]
            node = hits[0] if len(hits) == 1 else None
        if node is None:
            raise MarketoError(f"folder {want!r} not found in Marketo workspace {self.name!r}", code="PK810")
        return {"id": node["folderId"]["id"], "type": node["folderId"]["type"]}

    def program_path(self, program: dict[str, Any]) -> str:
        node = next((f for f in self.folder_records() if f["folderId"] == {"id": program["id"], "type": "Program"}), None)
        return node["path"] if node else f"/{program['name']}"

    def _program_info(self, p: dict[str, Any], full: bool) -> ProgramInfo:
        data: dict[str, Any] = {
            "name": p["name"], "type": {v: k for k, v in PROGRAM_TYPES.items()}.get(p.get("type"), p.get("type")),
            "channel": p.get("channel"), "description": p.get("description") or "",
            "tags": {t["tagType"]: t["tagValue"] for t in p.get("tags") or []},
        }
        if full:
            data["tags"] = self.program_tags(p["id"])
            toks = self.cache[f"tokens-{p['id']}"] = self.client.get(f"{A}/folder/{p['id']}/tokens.json",
                                                                       folderType="Program")
            data["tokens"] = [token_from_marketo(t) for t in (toks[0].get("tokens") if toks else []) or []]
            data["folders"] = self._folder_tree(self.program_path(p))
            statuses = self.channels().get(p.get("channel"), [])
            data["membershipStatuses"] = statuses
        return ProgramInfo(p["id"], p["name"], data, self._provenance(p["id"]))

    def _folder_tree(self, base: str) -> list[dict[str, Any]]:
        """The folders under path ``base`` as the bundle's nested ``folders`` list, by name."""
        top: list[dict[str, Any]] = []
        nodes: dict[str, dict[str, Any]] = {}
        for f in sorted((f for f in self.folder_records() if f["path"].startswith(base + "/")
                         and f["folderId"]["type"] == "Folder"), key=lambda f: (f["path"].count("/"), f["path"])):
            parent, _, name = f["path"].rpartition("/")
            node = nodes[f["path"]] = {"name": name}
            siblings = top if parent == base else nodes.setdefault(parent, {"name": parent.rpartition("/")[2]}) \
                .setdefault("folders", [])
            siblings.append(node)
        return top

    def program(self, name: str) -> ProgramInfo | None:
        hit = next((p for p in self.program_records() if p["name"].casefold() == name.casefold()), None)
        return self._program_info(hit, full=True) if hit else None

    def programs(self) -> list[ProgramInfo]:
        return [self._program_info(p, full=False) for p in self.program_records()]

    def program_assets(self, program_id: int) -> list[AssetInfo]:
        prog = next((p for p in self.program_records() if p["id"] == program_id), None)
        if prog is None:
            return []
        base = self.program_path(prog)
        out = []
        for kind, path in self.program_kinds().items():
            # one program: browse its folder; many (e.g. `workspace show`): one pass over the instance
            if f"all-{kind}" in self.cache or len(self.program_records()) > 20:
                # a folder reference is {"type", "value", "folderName"} in answers: compare paths, not shapes
                found = [a for a in self.all_local_records(kind)
                         if (self.folder_path(a.get("folder")) or "") == base
                         or (self.folder_path(a.get("folder")) or "").startswith(base + "/")]
            else:
                found = list(self.client.browse(path, folder={"id": program_id, "type": "Program"}))
            # an asset with an approved version and a draft may be listed once per version: one entry, the
            # approved one (what the content calls read when no status is given)
            found.sort(key=lambda a: str(a.get("status") or "").lower() != "approved")
            seen: set[Any] = set()
            for a in found:
                if a["id"] in seen:
                    continue
                seen.add(a["id"])
                self.asset_records[(kind, a["id"])] = a
                folder = self.folder_path(a.get("folder"))
                rel = folder[len(base) + 1:] if folder and folder.startswith(base + "/") else None
                out.append(AssetInfo(asset_id(kind, a["id"]), kind, a["name"], self._known_sha(kind, a) or "",
                                     rel, program_id))
        return out

    def folder_path(self, ref: dict[str, Any] | None) -> str | None:
        if not ref:
            return None
        ref = {"id": ref.get("id", ref.get("value")), "type": str(ref.get("type") or "").capitalize()}
        node = next((f for f in self.folder_records() if f["folderId"] == ref), None)
        return node["path"] if node else None

    def design_assets(self, kind: str, names: Iterable[str]) -> dict[str, AssetInfo]:
        wanted = {n.casefold() for n in names}
        out = {}
        for a in self.design_records(kind):
            if a["name"].casefold() in wanted:
                sha = self._known_sha(kind, a) or self._content_sha(kind, a["id"])
                meta = {"templateType": a["templateType"]} if "templateType" in a else {}
                if re.fullmatch(r"image/[a-z0-9.+-]+", str(a.get("mimeType") or "")):
                    meta["mimeType"] = a["mimeType"]
                out[a["name"].casefold()] = AssetInfo(asset_id(kind, a["id"]), kind, a["name"], sha, meta=meta)
        return out

    def design_names(self, kind: str, base: str) -> set[str]:
        rx = copy_pattern(kind, base)  # images: "logo - 1.png", as on every target
        return {a["name"] for a in self.design_records(kind) if rx.fullmatch(a["name"])}

    def _content_sha(self, kind: str, mid: int) -> str:
        aid = asset_id(kind, mid)
        try:
            if aid not in self._exported:  # kept: an export reads the same content next
                self._exported[aid] = (self._read(kind, mid), [])
            return sha256_hex(self._exported[aid][0])
        except MarketoError:
            return ""

    def _read(self, kind: str, mid: int) -> bytes:
        if kind == "emailTemplate":
            res = self.client.get(f"{A}/emailTemplate/{mid}/content")
        elif kind in ("landingPageTemplate", "snippet"):
            res = self.client.get(f"{A}/{kind}/{mid}/content.json")
        else:
            raise MarketoError(f"a Marketo {kind} has no stored content to read here (see read())", code="PK913")
        return str((res[0] if res else {}).get("content") or "").encode("utf-8")

    def read(self, asset_id: int) -> bytes:
        """An asset as a bundle file: Design Studio content as stored; emails and smart campaigns mapped into
        bundle documents, images downloaded (see :mod:`.marketo_export`). Read once per workspace object."""
        if asset_id not in self._exported:
            kind, mid = split_id(asset_id)
            if kind == "image":
                rec = next((a for a in self.design_records("image") if int(a["id"]) == mid), {"id": mid})
                self._exported[asset_id] = (marketo_export.download(rec, self.client.limits.timeout), [])
            elif kind in self.program_kinds():
                rec = self.asset_records.get((kind, mid))
                if rec is None:
                    raise MarketoError(f"{kind} {mid} is not an asset of a program read from Marketo", code="PK913")
                handler = marketo_kinds.get(kind)
                mapper = handler.document if handler else marketo_export.campaign_document
                self._exported[asset_id] = mapper(self, rec)
            else:
                self._exported[asset_id] = (self._read(kind, mid), [])
        return self._exported[asset_id][0]

    def needs_completion(self, asset_id: int) -> list[dict[str, str]]:
        """What reading ``asset_id`` could not get from Marketo (after :meth:`read`): pointer, what, why."""
        return list(self._exported.get(asset_id, (b"", []))[1])

    #: program kinds Marketo's API has no object for: an export lists the ones the program was imported with
    unexported_kinds = MANUAL

    def prefetch(self, assets: Iterable[AssetInfo]) -> None:
        """Read the program's emails and campaigns side by side (within the limits); every asset that cannot be
        read is reported at once (PK913/PK914), not only the first."""
        todo = [a.id for a in assets if a.kind in self.program_kinds() and a.id not in self._exported]
        # shared look-ups (the template list): load them once, before the workers
        if any(a.kind == "email" for a in assets):
            self.design_records("emailTemplate")
        problems: list[Finding] = []
        if self.progress is not None:
            self.progress.start(len(todo))
        with ThreadPoolExecutor(max_workers=max(1, self.client.limits.concurrent - 1),
                                thread_name_prefix="marketo-export") as pool:
            for fut in [pool.submit(self.read, aid) for aid in todo]:
                try:
                    fut.result()
                except ProgramkitError as err:
                    problems += err.findings
                self.progress_tick()
        if self.progress is not None:
            self.progress.close()
        if problems:
            raise ProgramkitError(f"{len(problems)} asset(s) of the program could not be exported from Marketo",
                                  problems)

    def count(self) -> dict[str, int]:
        """Items per kind, with the keys the embedded target uses (webhooks cannot be counted: left out)."""
        from ...resources import data_json

        standard = {f["apiName"].casefold() for f in data_json("marketo.json")["standardFields"]}
        fields = self.fields()
        out = {"fields": len(fields), "customFields": sum(1 for f in fields if f.casefold() not in standard),
               "channels": len(self.channels()), "tagTypes": len(self.tag_types()), "programs": len(self.program_records()),
               "imports": len(self.history()), "segmentations": len(self.names("segmentations")),
               "snippets": len(self.design_records("snippet")), "customObjects": len(self.names("customObjects"))}
        for kind in DESIGN:
            out[kind] = len(self.design_records(kind))
        for kind in self.program_kinds():  # the whole instance: one browse call per 200
            out[kind] = len(self.all_local_records(kind))
        return out

    @staticmethod
    def program_kinds() -> dict[str, str]:
        """Program kinds the target reads and writes, with their list endpoints: emails and smart campaigns,
        then the kind modules' (kinds/)."""
        return {**{k: path for k, (_, path) in LOCAL.items()}, **{h.kind: h.browse for h in marketo_kinds.all_handlers()}}

    def all_local_records(self, kind: str) -> list[dict[str, Any]]:
        return self.cached(f"all-{kind}", lambda: self._mine(self.client.browse(self.program_kinds()[kind])))

    # -- what we know from our own journals: the sha of bytes we uploaded ----------------------
    def _known(self) -> dict[tuple[str, int], dict[str, Any]]:
        def load() -> dict[tuple[str, int], dict[str, Any]]:
            out: dict[tuple[str, int], dict[str, Any]] = {}
            for journal in list_journals(self.state_dir):
                for s in journal.data["steps"]:
                    if s.get("sha256") and s.get("kind") in KIND_CODE:
                        out[(s["kind"], s["id"])] = s
            return out
        return self.cached("known", load)

    def _known_sha(self, kind: str, asset: dict[str, Any]) -> str | None:
        step = self._known().get((kind, asset["id"]))
        # Marketo may normalise what we upload, so our own digest is trusted only while nobody changed it
        if step and step.get("updatedAt") == asset.get("updatedAt"):
            return step["sha256"]
        return None

    def _provenance(self, program_id: int) -> Provenance | None:
        for rec in self.history():
            if rec.outcome in ("applied", "noop", "partially-rolled-back", *CHECKLIST_OUTCOMES) and any(
                    m.get("kind") == "program" and m.get("workspaceId") == program_id for m in rec.mapping):
                return Provenance(rec.bundle, rec.version, rec.digest, rec.id or 0)
        return None

    # -- Marketo-specific preflight --------------------------------------------------------------
    #: what the API cannot list: the plan's preflight leaves these to :meth:`preflight` (a warning, not "missing")
    unreadable = frozenset({"webhooks"})
    #: kinds with no API object: never written, only put on the checklist (not counted as changes)
    manual_kinds = MANUAL
    @staticmethod
    def unwritten(mapping: dict[str, Any]) -> bool:
        """Whether an import mapped this bundle asset to nothing: a kind module's asset the API could not
        create (``MarketoKind.create`` returned None; its mapping id is ``asset_id(kind, 0)``)."""
        kind, wid = mapping.get("kind"), mapping.get("workspaceId")
        return marketo_kinds.get(str(kind)) is not None and isinstance(wid, int) and wid == asset_id(str(kind), 0)

    #: Marketo's tokens have no description: an upgrade does not rewrite every token for it
    token_fields = ("name", "type", "value")

    def preflight(self, bundle: Any, rules: Any = None, actions: list[Any] | None = None) -> list[Finding]:
        """Everything this target cannot take from ``bundle``, all at once (plan's preflight adds these).

        With the plan's ``actions``, a lead lifecycle the plan does not write (an earlier import put it on
        the checklist already) is not reported again as a step this import leaves.
        """
        out: list[Finding] = []
        self.preflight_bundle = bundle  # kind modules' preflight may look at the assets a page uses
        writes = None if actions is None else {(a.kind, a.name) for a in actions
                                               if a.action in ("create", "rename", "update", "replace")}
        program = bundle.program or {}
        tags = self.tag_types() if not rules or rules.value("programTags") != "ignore" else None
        for ttype, value in sorted((program.get("tags") or {}).items() if tags is not None else []):
            if value not in tags.get(ttype, set()):
                out.append(make("PK808", f"tag {ttype!r} = {value!r} does not exist in Marketo", file="bundle.json",
                                pointer=f"/program/tags/{ttype}"))
        for ttype, value in sorted(self.extra_tags.items()):
            if value not in self.tag_types().get(ttype, set()):
                out.append(make("PK808", f"tag {ttype!r} = {value!r} (--tag) does not exist in Marketo"))
        # tag types Marketo requires for this program type: Marketo refuses the program without them, so every
        # missing one is listed now (the existing program of an upgrade already has them)
        given = set(program.get("tags") or {}) if tags is not None else set()
        if not any(p["name"].casefold() == str(program.get("name", "")).casefold() for p in self.program_records()):
            for ttype in self.required_tag_types(program.get("type")):
                if ttype not in given and ttype not in self.extra_tags:
                    allowed = ", ".join(sorted(self.tag_types().get(ttype, set()))) or "none listed"
                    out.append(make("PK818", f"tag type {ttype!r} is required for {program.get('type', 'default')} "
                                             f"programs in Marketo and the bundle has none (allowed: {allowed})",
                                    file="bundle.json", pointer="/program/tags"))
        for i, tok in enumerate(program.get("tokens") or []):
            if MARKETO_TOKEN_TYPES.get(tok.get("type"), tok.get("type")) not in API_TOKEN_TYPES:
                out.append(make("PK810", f"token {{{{my.{tok.get('name')}}}}} of type {tok.get('type')!r} cannot "
                                         "be created through the Marketo API", file="bundle.json",
                                pointer=f"/program/tokens/{i}"))
        if program.get("type") and program["type"] not in PROGRAM_TYPES:
            out.append(make("PK810", f"program type {program['type']!r} has no Marketo equivalent",
                            file="bundle.json", pointer="/program/type"))
        for asset in bundle.assets:
            if asset.kind in MANUAL:
                if writes is not None and (asset.kind, asset.name) not in writes:
                    continue
                out.append(make("PK809", f"{asset.kind} {asset.name!r} cannot be written through the Marketo API "
                                         "(Revenue Cycle Modeler has none): it goes to the manual-steps checklist",
                                file="bundle.json", pointer=asset.pointer))
            elif marketo_kinds.get(asset.kind) is not None:
                if writes is None or (asset.kind, asset.name) in writes:
                    out += list(marketo_kinds.get(asset.kind).preflight(self, asset))
            elif asset.kind not in DESIGN and asset.kind not in LOCAL:
                out.append(make("PK810", f"{asset.kind} {asset.name!r}: programkit does not write {asset.kind} assets to "
                                         "Marketo yet (nothing is written); import into the embedded workspace, or "
                                         "create it in Marketo by hand",
                                file="bundle.json", pointer=asset.pointer))
        for hook in sorted((bundle.requires or {}).get("webhooks") or []):
            out.append(make("PK806", f"webhooks cannot be read through the Marketo API: required webhook "
                                     f"{hook!r} not checked", file="bundle.json", pointer="/requires/webhooks"))
        # and what reading the inventory could not tell (e.g. the CRM inferred from fields)
        return out + [n for n in self.notes if n.code != "PK806" and n not in out]

    def estimate_calls(self, plan: Any, bundle: Any) -> dict[str, Any]:
        """API calls applying ``plan`` costs (its writes; the reads are already spent), against the daily quota."""
        contents = {(a.kind, a.name.casefold()): a.content for a in bundle.assets}
        calls = 0
        for act in plan.actions:
            if act.action not in ("create", "rename", "replace", "update", "delete") or act.kind in MANUAL:
                continue
            handler = marketo_kinds.get(act.kind)
            if handler is not None:
                calls += handler.calls(contents.get((act.kind, act.name.casefold())), act.action)
            elif act.kind in ("landingPageTemplate", "snippet") and act.action in ("create", "rename"):
                calls += 2
            elif act.kind != "tag":
                calls += 1
            if act.action != "delete":  # --approve: two calls per draft (approve, read back); --activate: one
                content = contents.get((act.kind, act.name.casefold()))
                calls += 2 * (self.approve and act.kind in marketo_kinds.approval_order())
                calls += self.activate and act.kind == "smartCampaign" and isinstance(content, dict) and \
                    bool(content.get("active"))
        return cost_estimate(calls)

    def cost_line(self, plan: Any, bundle: Any) -> str:
        """One line for the plan output: calls spent reading, calls the writes will take, share of the quota."""
        est = self.estimate_calls(plan, bundle)
        if not est["calls"]:
            return f"Marketo API: {self.client.calls} call(s) to plan; applying needs none.\n"
        return (f"Marketo API: {self.client.calls} call(s) to plan; applying takes about {est['calls']} more "
                f"({est['shareOfDailyQuota']:.2%} of the daily quota of {est['dailyQuota']:,}).\n")

