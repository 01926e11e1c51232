"""Writing a plan into Marketo through the asset API, one journalled step per call that changes something."""

from __future__ import annotations

import json
import threading
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from ...errors import ProgramkitError
from ...findings import make
from ...output import write_output
from ..base import ImportRecord, WorkspaceWriter
from . import kinds as marketo_kinds
from .checklist import (ACTIVATE_REFUSED, REVIEW_CAMPAIGN, approve_step, campaign_checks,
                        lifecycle_steps, manual_steps, render_checklist, same_smart_list)
from .export import Gaps, smart_list
from .client import MarketoError
from .common import (A, ADOPT_SLACK, API_TOKEN_TYPES, DESIGN, KIND_CODE, LOCAL, MANUAL, MARKETO_TOKEN_TYPES,
                     PROGRAM_TYPES, asset_id, delete_remote, parse_time, sha256_hex, slug,
                     split_id, write_json)
from .journal import Journal

if TYPE_CHECKING:  # pragma: no cover
    from .workspace import MarketoWorkspace


class MarketoWriter(WorkspaceWriter):
    """Writes through the asset API, journalling each created or changed item."""

    def __init__(self, ws: MarketoWorkspace, journal: Journal):
        self.ws, self.client, self.journal = ws, ws.client, journal
        # Follow-up calls (content, sections) need only the new asset's id, so they run on worker
        # threads while the next asset is created: with call latency above the pacing interval a
        # sequential apply could not use the rate it is allowed.
        self._pool = ThreadPoolExecutor(max_workers=max(1, self.client.limits.concurrent - 1),
                                        thread_name_prefix="marketo-follow-up")
        self._pending: list[Future[None]] = []
        self._plock = threading.Lock()
        self._campaigns: dict[str, dict[str, Any]] = {}  # smart campaigns written by this import, by name
        self._campaign_docs: dict[int, dict[str, Any]] = {}  # and by Marketo id (for --activate)
        self._campaign_items: dict[int, tuple[str, str, int | None]] = {}  # id -> name, folder, manifest index
        self._by_name: dict[str, list[dict[str, Any]]] | None = None  # see _campaigns_by_name
        #: assets of the kind modules this import wrote: (kind, id, name, doc, meta), for their after_writes
        self._kind_items: list[tuple[str, int, str, Any, dict[str, Any]]] = []
        #: warnings the writes left (e.g. a campaign Marketo would not activate), shown with the checklist
        self.ws.apply_warnings = []

    def begin(self, plan: dict[str, Any]) -> None:
        """Journal the plan being applied (called by apply), so ``resume_import`` can finish it."""
        if self.journal.data.get("plan") and self.journal.data["plan"].get("bundle") != plan.get("bundle"):
            raise ProgramkitError("the journal being resumed is for another bundle", [make(
                "PK811", f"journal {self.journal.id} imports {self.journal.data['plan']['bundle'].get('name')}, "
                         f"not {plan['bundle'].get('name')}")])
        self.journal.set_plan(plan)
        if self.ws.progress is not None:
            self.ws.progress.start(len(plan.get("actions") or []))

    def _submit(self, fn: Any) -> None:
        with self._plock:
            self._pending.append(self._pool.submit(fn))

    def _check(self) -> None:
        """Raise the first failure of a finished follow-up, so an import stops close to it."""
        with self._plock:
            finished = [f for f in self._pending if f.done()]
            self._pending = [f for f in self._pending if not f.done()]
        for fut in finished:
            fut.result()

    def drain(self) -> None:
        """Wait for every follow-up; raise the first failure."""
        while True:
            with self._plock:
                pending, self._pending = self._pending, []
            if not pending:
                return
            wait(pending)
            for fut in pending:
                fut.result()

    def abort(self) -> None:
        """After a failure: cancel follow-ups not started, let running ones finish (they journal themselves)."""
        with self._plock:
            pending, self._pending = self._pending, []
        for fut in pending:
            fut.cancel()
        wait(pending)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    # -- journal helpers --------------------------------------------------------------------------
    def _step(self, key: str, kind: str, result: dict[str, Any], op: str = "create", **extra: Any) -> int:
        if result.get("adopted"):
            extra["adopted"] = True
        step = {"key": key, "op": op, "kind": kind, "id": result["id"], "name": result.get("name"),
                "updatedAt": result.get("updatedAt"), **extra}
        self.journal.add(step)
        known = self.ws.cache.get("known")
        if known is not None and step.get("sha256") and kind in KIND_CODE:
            known[(kind, step["id"])] = step  # so design_assets knows our digest without reading content
        return int(result["id"])

    def _create(self, name: str, create: Any, candidates: Any) -> dict[str, Any]:
        """Run a create; on 709 adopt an item of that name created since this import started.

        A create whose answer was lost (HTTP 5xx or a timeout after Marketo did the work) is retried,
        or redone by --resume, and then refused as "name in use": the plan made sure the name was
        free, so an item of that name created since the journal started is this import's own.
        """
        try:
            return create()
        except MarketoError as err:
            if err.marketo_code != "709":
                raise
            started = parse_time(self.journal.data.get("startedAt"))
            for item in candidates():
                created = parse_time(item.get("createdAt"))
                if (item.get("name") or "").casefold() == name.casefold() and started and created and \
                        created >= started - ADOPT_SLACK:
                    return {**item, "adopted": True}
            raise

    def _folder_ref(self, program_id: int, folder: str | None) -> dict[str, Any]:
        if not folder:
            return {"id": program_id, "type": "Program"}
        fid = self.ensure_folder(program_id, folder)
        return {"id": fid, "type": "Folder"}

    def _program_path(self, program_id: int) -> str:
        prog = next((p for p in self.ws.program_records() if p["id"] == program_id), None)
        if prog is None:
            raise MarketoError(f"program {program_id} not found in Marketo", code="PK810")
        return self.ws.program_path(prog)

    def _root_folder(self, path: str) -> dict[str, Any]:
        """Where new things go in this workspace's tree: "Marketing Activities" (the workspace's folder under
        it), a Design Studio folder by name, or a path under the workspace's Marketing Activities."""
        if path.casefold() == "marketing activities":
            return self.ws.folder_root("Marketing Activities")
        if path in (spec[2] for spec in DESIGN.values()):
            return self.ws.folder_root("Design Studio", path)
        want = f"/Marketing Activities/{self.ws.name}/{path.strip('/')}"
        node = next((f for f in self.ws.folder_records() if f["path"].casefold() in (want.casefold(),
                                                                                      path.casefold())), None)
        if node is None:
            raise MarketoError(f"folder {path!r} not found in Marketo workspace {self.ws.name!r}", code="PK810")
        return node["folderId"]

    # -- programs, folders, tokens ------------------------------------------------------------------
    def create_program(self, data: dict[str, Any], folder: str | None = None) -> int:
        self._check()
        key = f"program:{data['name']}"
        done = self.journal.done(key)
        if done:
            pid = int(done["id"])
        else:
            parent = self._root_folder(folder or "Marketing Activities")
            known = self.ws.program_records()  # loaded before the create, so the new program is added once
            # tags supplied at import (--tag TYPE=VALUE) for tag types Marketo requires and the bundle lacks
            tags = {**self.ws.extra_tags, **(data.get("tags") or {})}
            res = self._create(data["name"], lambda: self.client.post(f"{A}/programs.json", {
                "name": data["name"], "folder": parent, "type": PROGRAM_TYPES.get(data.get("type", "default")),
                "channel": data.get("channel"), "description": data.get("description") or None,
                "tags": [{"tagType": k, "tagValue": v} for k, v in sorted(tags.items())] or None,
                "costs": data.get("costs") or None})[0],
                lambda: self.client.get(f"{A}/program/byName.json", name=data["name"]))
            pid = self._step(key, "program", res)
            # the new program is a folder node too: remember it without another browse call
            known.append(res)
            self.ws.folder_records().append({"folderId": {"id": pid, "type": "Program"}, "name": res["name"],
                                       "path": f"{self._folder_path(parent)}/{res['name']}"})
        self._put_tokens(pid, data.get("tokens") or [])
        for f in data.get("folders") or []:
            self._ensure_tree(pid, f, "")
        return pid

    def _folder_path(self, ref: dict[str, Any]) -> str:
        return self.ws.folder_path(ref) or ""

    def _ensure_tree(self, pid: int, node: dict[str, Any], prefix: str) -> None:
        path = f"{prefix}/{node['name']}" if prefix else node["name"]
        self.ensure_folder(pid, path)
        for child in node.get("folders") or node.get("children") or []:
            self._ensure_tree(pid, child, path)

    def _put_tokens(self, pid: int, tokens: list[dict[str, Any]],
                    before: dict[str, dict[str, Any]] | None = None) -> None:
        """Write the program's tokens; ``before`` (an existing program's tokens by name, as Marketo had them)
        goes into each step as ``previous`` (None: the token is new), so rollback can put it back."""
        for tok in tokens:
            value = tok.get("value")
            key = f"token:{pid}:{tok['name']}:{sha256_hex(json.dumps(value).encode())[:12]}"
            if self.journal.done(key):
                continue
            if MARKETO_TOKEN_TYPES.get(tok["type"], tok["type"]) not in API_TOKEN_TYPES:
                raise MarketoError(f"token {{{{my.{tok['name']}}}}} of type {tok.get('type')!r} cannot be created "
                                   "through the Marketo API", code="PK810")
            kind, text = MARKETO_TOKEN_TYPES.get(tok["type"], tok["type"]), value if isinstance(value, str) \
                else json.dumps(value)
            self.client.post(f"{A}/folder/{pid}/tokens.json", {
                "folderType": "Program", "name": tok["name"], "type": kind, "value": text})
            # the type goes into the journal: a token is deleted by name and type (Swagger DeleteTokenRequest)
            step = {"key": key, "op": "token", "kind": "token", "id": pid, "name": tok["name"], "type": kind}
            if before is not None:
                prev = step["previous"] = before.get(tok["name"])
                if prev is not None and prev["type"] == kind and str(prev["value"]) == text:
                    step["unchanged"] = True  # posted again, same type and value: nothing for rollback to put back
            self.journal.add(step)
            self.ws.cache.pop(f"tokens-{pid}", None)  # the plan's read is out of date now

    def update_program(self, program_id: int, data: dict[str, Any]) -> None:
        self._check()
        key = f"update-program:{program_id}:{sha256_hex(json.dumps(data, sort_keys=True).encode())[:12]}"
        # what the program was, journalled with the change so rollback can restore it: its description and
        # tags from the inventory's program list, its tokens as the plan read them (else one call)
        was = next((p for p in self.ws.program_records() if p["id"] == program_id), {})
        was_tags = self.ws.program_tags(program_id)  # not in the browse record: read from the program
        if not self.journal.done(key):
            res = self.client.post(f"{A}/program/{program_id}.json", {
                "description": data.get("description") or None,
                "tags": [{"tagType": k, "tagValue": v} for k, v in sorted((data.get("tags") or {}).items())] or None})
            self._step(key, "program", res[0] if res else {"id": program_id}, op="update",
                       previous={"description": was.get("description") or "",
                                 "tags": [{"tagType": k, "tagValue": v} for k, v in sorted(was_tags.items())]})
        toks = self.ws.cached(f"tokens-{program_id}", lambda: self.client.get(
            f"{A}/folder/{program_id}/tokens.json", folderType="Program"))
        before = {t["name"]: {"type": t["type"], "value": t.get("value")}
                  for t in (toks[0].get("tokens") if toks else []) or []}
        self._put_tokens(program_id, data.get("tokens") or [], before)
        for f in data.get("folders") or []:
            self._ensure_tree(program_id, f, "")

    def ensure_folder(self, program_id: int, path: str) -> int:
        self._check()
        base = self._program_path(program_id)
        parent: dict[str, Any] = {"id": program_id, "type": "Program"}
        current = base
        for part in [p for p in path.split("/") if p]:
            current = f"{current}/{part}"
            node = next((f for f in self.ws.folder_records() if f["path"].casefold() == current.casefold()
                         and f["folderId"]["type"] == "Folder"), None)
            if node is None:
                key = f"folder:{program_id}:{current}"
                done = self.journal.done(key)
                if done:
                    fid = int(done["id"])
                else:
                    res = self._create(part, lambda: self.client.post(
                        f"{A}/folders.json", {"name": part, "parent": parent})[0],
                        lambda: self.client.browse(f"{A}/folders.json", root=parent, maxDepth=1))
                    fid = self._step(key, "folder", res)
                node = {"folderId": {"id": fid, "type": "Folder"}, "name": part, "path": current}
                self.ws.folder_records().append(node)
            parent = node["folderId"]
        return int(parent["id"])

    # -- assets ---------------------------------------------------------------------------------------
    def put_asset(self, kind: str, name: str, content: bytes, sha256: str, *, folder: str | None = None,
                  program_id: int | None = None, meta: dict[str, Any] | None = None) -> int:
        self._check()
        meta = meta or {}
        if kind == "smartCampaign":  # also when resumed: a lead lifecycle's checklist names the campaigns it needs
            self._campaigns[name] = json.loads(content)
        if kind in MANUAL and program_id is not None:
            return self._manual_asset(kind, name, content, folder, program_id, meta.get("index"))
        handler = marketo_kinds.get(kind)
        if kind not in DESIGN and kind not in LOCAL and handler is None:
            raise MarketoError(f"{kind} {name!r}: programkit does not write {kind} assets to Marketo yet", code="PK810")
        if (kind in LOCAL or handler is not None) and program_id is None:
            raise MarketoError(f"{kind} {name!r} needs a program", code="PK810")
        key = f"asset:{kind}:{program_id}:{name}"
        done = self.journal.done(key)
        # The create is journalled as soon as Marketo answers, before any follow-up call, so a
        # resumed import never creates the same asset twice; follow-ups are steps of their own.
        if done and done.get("written") is False:  # a kind module's asset the API could not create (resumed)
            return asset_id(kind, 0)
        if done:
            mid = int(done["id"])
        elif kind in DESIGN:
            known = self.ws.design_records(kind)  # loaded before the create, so the new asset is added once
            res = self._create(name, lambda: self._create_design(kind, name, content, meta),
                               lambda: self.client.browse(DESIGN[kind][1]))
            known.append(res)
            mid = self._step(key, kind, res, sha256=sha256)
        elif handler is not None:  # a kind module (kinds/): its one create call, journalled here
            doc = json.loads(content)
            where = self._folder_ref(program_id, folder)
            res = self._create(name, lambda: handler.create(self, name, doc, where, meta),
                               lambda: self.client.browse(handler.browse, folder=where))
            if res is None:  # the API cannot create this one: on the checklist whole, nothing written
                path = self._folder_path(where)
                self.journal.add({"key": key, "op": "manual", "kind": kind, "id": None, "name": name,
                                  "written": False, "sha256": sha256},
                                 self._checklist(kind, name, None, path, handler.unwritten_steps(name, doc, path),
                                                 meta.get("index"), expect=handler.expect(doc) or None,
                                                 unwritten=handler.unwritten_reason))
                return asset_id(kind, 0)
            mid = self._step(key, kind, res, sha256=sha256)
        else:
            campaign = json.loads(content)
            where = self._folder_ref(program_id, folder)
            source = self._clone_source(name, campaign, program_id)
            if source is not None:
                # Marketo's clone copies the smart list (triggers, filters) with the campaign (Adobe's Smart
                # Campaigns page, Clone), which the asset API cannot write any other way
                res = self._create(name, lambda: self.client.post(f"{A}/smartCampaign/{source}/clone.json", {
                    "name": name, "folder": where, "description": campaign.get("description") or None})[0],
                    lambda: self.client.browse(f"{A}/smartCampaigns.json", folder=where))
                mid = self._step(key, kind, res, sha256=sha256, clonedFrom=source)
            else:
                res = self._create(name, lambda: self.client.post(f"{A}/smartCampaigns.json", {
                    "name": name, "folder": where, "description": campaign.get("description") or None})[0],
                    lambda: self.client.browse(f"{A}/smartCampaigns.json", folder=where))
                mid = self._step(key, kind, res, sha256=sha256)
        if kind == "smartCampaign":
            self._campaign_docs[mid] = json.loads(content)
            self._campaign_items[mid] = (name, self._folder_path(self._folder_ref(program_id, folder)),
                                         meta.get("index"))
        if handler is not None:
            with self._plock:
                self._kind_items.append((kind, mid, name, json.loads(content), meta))
        self._follow_up(kind, name, mid, content, folder, program_id, meta.get("index"), meta)
        return asset_id(kind, mid)

    def put_assets(self, items: list[tuple[str, str, bytes, str, str | None, dict[str, Any] | None]], *,
                   program_id: int | None = None) -> list[int]:
        """Create a batch of new assets that need nothing from one another (apply's batches: Design Studio
        assets, or a program's emails and campaigns), several at a time within the limits. Returns their ids.

        Each is one or two calls, so with call latency above the pacing interval running them side by side
        is what lets an import use the rate it is allowed. What they share is read or created first, one at
        a time: the Design Studio folders and lists, the program's folders, the email templates. Each create
        is journalled as it is answered; on a failure the creates not started are cancelled, those in flight
        finish (and are journalled), and the first failure is raised.
        """
        self._check()
        for kind in {item[0] for item in items}:
            if kind in DESIGN:  # load shared look-ups once, before the workers read them
                self.ws.design_records(kind)
                self._root_folder(DESIGN[kind][2])
        if program_id is not None:
            for folder in sorted({item[4] or "" for item in items}):
                self._folder_ref(program_id, folder or None)  # a missing folder is created once, not by each worker
            if any(item[0] == "smartCampaign" for item in items):
                self._campaigns_by_name()  # where a campaign to clone is looked for: read before the workers
            for kind in sorted({item[0] for item in items}):
                handler = marketo_kinds.get(kind)
                if handler is not None:  # what the creates share, read once before the workers
                    handler.prepare(self, [item[2] for item in items if item[0] == kind])
        with ThreadPoolExecutor(max_workers=max(1, self.client.limits.concurrent - 1),
                                thread_name_prefix="marketo-create") as pool:
            futures = [pool.submit(self.put_asset, kind, name, content, sha, folder=folder, program_id=program_id,
                                   meta=meta) for kind, name, content, sha, folder, meta in items]
            wait(futures, return_when=FIRST_EXCEPTION)
            failed = next((f for f in futures if f.done() and not f.cancelled() and f.exception()), None)
            if failed is not None:
                for fut in futures:
                    fut.cancel()
        if failed is not None:
            wait(futures)
            failed = next(f for f in futures if not f.cancelled() and f.exception())  # the first, in plan order
            raise failed.exception()  # type: ignore[misc]
        return [fut.result() for fut in futures]

    def _follow_up(self, kind: str, name: str, mid: int, content: bytes, folder: str | None,
                   program_id: int | None, index: int | None = None, meta: dict[str, Any] | None = None) -> None:
        """Content and checklist steps after a create (each journalled, so resume skips what is done)."""
        key = f"content:{kind}:{mid}"
        handler = marketo_kinds.get(kind)
        if (kind not in ("emailTemplate", "landingPageTemplate", "snippet", "smartCampaign")
                and handler is None) or self.journal.done(key):
            return
        where = self._folder_path(self._folder_ref(program_id, folder)) if program_id is not None else \
            self._folder_path(self._root_folder(DESIGN[kind][2]))
        step = {"key": key, "op": "content", "kind": kind, "id": mid}
        approve = [] if self.ws.approve or kind not in marketo_kinds.approval_order() else \
            [approve_step(kind, marketo_kinds.label(kind))]
        if handler is not None:
            doc = json.loads(content)

            def run_kind() -> None:
                handler.write_content(self, mid, name, doc, meta or {})
                expect = {**handler.expect(doc), **({"approved": True} if approve else {})}
                self.journal.add(step, self._checklist(kind, name, mid, where, handler.manual_steps(doc) + approve,
                                                       index, expect=expect or None))

            self._submit(run_kind)
            return
        if kind == "smartCampaign":  # no call: only the checklist
            campaign = json.loads(content)
            self.journal.add(step, self._checklist("smartCampaign", name, mid, where,
                                                   self._campaign_steps(mid, campaign), index, expect=campaign))
            return
        if kind == "emailTemplate":  # its content went with the create: only the approval is left
            self.journal.add(step, self._checklist(kind, name, mid, where, approve, index,
                                                   expect={"approved": True}))
            return

        def run() -> None:  # landingPageTemplate, snippet
            self._upload_content(kind, mid, slug(name), content)
            self.journal.add(step, self._checklist(kind, name, mid, where, approve, index, expect={"approved": True}))

        self._submit(run)

    def _campaign_steps(self, mid: int, campaign: dict[str, Any]) -> list[str]:
        """A new campaign's checklist: what a clone copied (the smart list) and what --activate does are left
        out; everything else the API cannot write stays."""
        cloned = any(s.get("clonedFrom") for s in list(self.journal.data["steps"])
                     if s.get("kind") == "smartCampaign" and s.get("id") == mid and s.get("op") == "create")
        out = []
        for what, text in campaign_checks(campaign):
            if cloned and what.split(":")[0] in ("trigger", "filter", "ruleLogic"):
                continue
            if what == "active" and self.ws.activate:
                continue  # done after the writes (or put back with the reason Marketo gave)
            out.append(text)
        return out

    def _campaigns_by_name(self) -> dict[str, list[dict[str, Any]]]:
        """The workspace's smart campaigns by name (folded), indexed once: where a campaign to clone is looked for."""
        with self._plock:
            if self._by_name is None:
                self._by_name = {}
                for rec in self.ws.all_local_records("smartCampaign"):
                    self._by_name.setdefault(str(rec.get("name", "")).casefold(), []).append(rec)
            return self._by_name

    def _clone_source(self, name: str, campaign: dict[str, Any], program_id: int) -> int | None:
        """A campaign of the same name elsewhere in the workspace with the bundle's smart list, to clone (one
        smart-list read per same-named candidate), or None."""
        want = campaign.get("smartList") or {}
        if not (want.get("triggers") or want.get("filters")):
            return None
        candidates = self._campaigns_by_name().get(name.casefold())
        if not candidates:
            return None
        base = self._program_path(program_id)
        for rec in candidates:
            path = self.ws.folder_path(rec.get("folder")) or ""
            if path == base or path.startswith(base + "/"):
                continue
            found = self.client.get(f"{A}/smartCampaign/{rec['id']}/smartList.json", includeRules=True)
            rules = (found[0].get("rules") if found else None) or {}
            have, _ = smart_list(rules, Gaps())
            if same_smart_list(want, have):
                return int(rec["id"])
        return None

    def _manual_asset(self, kind: str, name: str, content: bytes, folder: str | None, program_id: int,
                      index: int | None = None) -> int:
        """No call: journal the asset as not written, with the checklist of what to build in the UI."""
        key = f"manual:{kind}:{program_id}:{name}"
        if not self.journal.done(key):
            where = self._program_path(program_id) + (f"/{folder}" if folder else "")
            steps = lifecycle_steps(name, json.loads(content), self._campaigns)
            self.journal.add({"key": key, "op": "manual", "kind": kind, "id": None, "name": name, "written": False},
                             self._checklist(kind, name, None, where, steps, index))
        return asset_id(kind, program_id)  # an id for the import's mapping only: nothing in Marketo has it

    def _create_design(self, kind: str, name: str, content: bytes, meta: dict[str, Any]) -> dict[str, Any]:
        folder = self._root_folder(DESIGN[kind][2])
        # apply keeps the bundle's manifest entry under meta["entry"]; older callers put fields at the top
        meta = {**(meta.get("entry") or {}), **meta}
        if kind == "emailTemplate":
            return self.client.post(f"{A}/emailTemplates.json", {"name": name, "folder": folder},
                                    files={"content": (f"{slug(name)}.html", content, "text/html")})[0]
        if kind == "image":
            return self.client.post(f"{A}/files.json", {"name": name, "folder": folder, "insertOnly": True},
                                    files={"file": (meta.get("filename") or slug(name), content,
                                                    meta.get("mimeType") or "application/octet-stream")})[0]
        if kind == "landingPageTemplate":
            return self.client.post(f"{A}/landingPageTemplates.json", {
                "name": name, "folder": folder, "templateType": meta.get("templateType", "freeForm")})[0]
        return self.client.post(f"{A}/snippets.json", {"name": name, "folder": folder})[0]

    def _upload_content(self, kind: str, mid: int, label: str, content: bytes,
                        entry: dict[str, Any] | None = None) -> None:
        """Put the content of an existing Design Studio asset (after a create, or to replace it)."""
        if kind == "image":  # the file name and type the bundle gave the image, when it gave them
            entry = entry or {}
            self.client.post(f"{A}/file/{mid}/content.json",
                             files={"file": (entry.get("name") or label, content,
                                             entry.get("mimeType") or "application/octet-stream")})
        elif kind == "snippet":  # in the body: a URL over 8 KB is refused (HTTP 414)
            self.client.post(f"{A}/snippet/{mid}/content.json", {"type": "HTML", "content": content.decode("utf-8")})
        else:  # emailTemplate, landingPageTemplate: an HTML file
            self.client.post(f"{A}/{kind}/{mid}/content.json",
                             files={"content": (f"{label}.html", content, "text/html")})

    @staticmethod
    def _checklist(kind: str, name: str, mid: int | None, where: str, steps: list[str],
                   index: int | None = None, expect: dict[str, Any] | None = None,
                   unwritten: str | None = None) -> dict[str, Any] | None:
        """One asset's checklist item (None without steps); ``index``: its manifest position, for the order;
        ``expect``: what the bundle asks for, kept so ``programkit verify`` can compare it with Marketo later;
        ``unwritten``: why nothing was written for it (its heading), when the API could not create it."""
        if not steps:
            return None
        item = {"kind": kind, "name": name, "marketoId": mid, "folder": where, "steps": steps,
                **({"notWritten": unwritten} if unwritten else {})}
        item.update({"index": index} if index is not None else {}, **({"expect": expect} if expect else {}))
        return item

    def replace_asset(self, asset_id: int, content: bytes, sha256: str, meta: dict[str, Any] | None = None) -> None:
        self._check()
        kind, mid = split_id(asset_id)
        key = f"replace:{kind}:{mid}:{sha256}"
        if self.journal.done(key):
            return
        name = f"{slug(kind)}-{mid}"
        handler = marketo_kinds.get(kind)
        if handler is not None:
            handler.replace(self, mid, json.loads(content), meta or {})
            with self._plock:
                self._kind_items.append((kind, mid, ((meta or {}).get("entry") or {}).get("name") or name,
                                         json.loads(content), meta or {}))
        elif kind in ("emailTemplate", "image", "landingPageTemplate", "snippet"):
            self._upload_content(kind, mid, name, content, (meta or {}).get("entry") or meta or {})
        item = None
        title = ((meta or {}).get("entry") or {}).get("name") or name
        if kind == "smartCampaign":
            self._campaigns[title] = json.loads(content)
            self._campaign_docs[mid] = json.loads(content)
            self._campaign_items[mid] = (title, "", (meta or {}).get("index"))
            item = self._checklist(kind, title, mid, "", [REVIEW_CAMPAIGN] + manual_steps(json.loads(content)),
                                   (meta or {}).get("index"), expect=json.loads(content))
        elif handler is not None:  # what the API cannot write, and the approval without --approve
            doc = json.loads(content)
            approve = [approve_step(kind, handler.label)] if handler.approvable and not self.ws.approve else []
            expect = {**handler.expect(doc), **({"approved": True} if approve else {})}
            item = self._checklist(kind, title, mid, "", handler.manual_steps(doc) + approve,
                                   (meta or {}).get("index"), expect=expect or None)
        elif kind in marketo_kinds.approval_order() and not self.ws.approve:  # changed content is a draft until approved
            item = self._checklist(kind, title, mid, "", [approve_step(kind)], (meta or {}).get("index"),
                                   expect={"approved": True})
        elif kind in MANUAL:  # nothing to write: the model in Revenue Cycle Modeler is changed by hand
            folder = ((meta or {}).get("entry") or {}).get("folder")
            where = self._program_path(mid) + (f"/{folder}" if folder else "")  # its id is the program's
            item = self._checklist(kind, title, None, where, ["Review: the bundle changed this model; change it "
                                                           "by hand to match every step below"]
                                   + lifecycle_steps(title, json.loads(content), self._campaigns),
                                   (meta or {}).get("index"))
        self.journal.add({"key": key, "op": "replace", "kind": kind, "id": mid, "sha256": sha256,
                          "updatedAt": None}, item)

    def delete_asset(self, asset_id: int) -> None:
        self._check()
        kind, mid = split_id(asset_id)
        handler = marketo_kinds.get(kind)
        if handler is not None:
            handler.delete(self, mid)
        else:
            delete_remote(self.client, marketo_kinds.segment_of(kind), mid)
        self.journal.add({"key": f"delete:{kind}:{mid}", "op": "delete", "kind": kind, "id": mid})

    def add_tag_value(self, tag_type: str, value: str) -> None:
        self._check()
        if value not in self.ws.tag_types().get(tag_type, set()):
            raise MarketoError(f"tag {tag_type!r} = {value!r} does not exist in Marketo and the API cannot "
                               "create tags", code="PK808")

    def _approve_and_activate(self) -> None:
        """After every write: approve what the import wrote (--approve; templates, then snippets, then emails)
        and activate the campaigns the bundle marks active (--activate). Each is a journal step, so a resumed
        import does only what is left. An asset Marketo will not approve is a finding (PK826), all at once; a
        campaign it will not activate stays on the checklist with Marketo's reason (PK836)."""
        steps = [s for s in self.journal.data["steps"] if s.get("op") in ("create", "replace")]
        refused = []
        if self.ws.approve:
            for kind in marketo_kinds.approval_order():
                for s in steps:
                    key = f"approve:{kind}:{s['id']}"
                    if s["kind"] != kind or self.journal.done(key):
                        continue
                    segment = marketo_kinds.segment_of(kind)
                    try:
                        self.client.post(f"{A}/{segment}/{s['id']}/approveDraft.json")
                    except MarketoError as err:
                        if err.marketo_code is None:  # not Marketo's refusal (network, quota): stop here
                            raise
                        refused.append(make("PK826", f"{kind} {s.get('name') or s['id']!r} (id {s['id']}): "
                                                     f"{err.message}"))
                        continue
                    # approving changes updatedAt: journal the new one with the digest of what was written, so the
                    # next plan still knows the content without reading it (one read per asset)
                    rec = self.client.get(f"{A}/{segment}/{s['id']}.json")
                    written = next((w for w in reversed(self.journal.data["steps"]) if w.get("kind") == kind
                                    and w.get("id") == s["id"] and w.get("sha256")), {})
                    self.journal.add({"key": key, "op": "approve", "kind": kind, "id": s["id"],
                                      "updatedAt": rec[0].get("updatedAt") if rec else None,
                                      **({"sha256": written["sha256"]} if written else {})})
        if refused:
            raise ProgramkitError(f"Marketo refused to approve {len(refused)} asset(s); they stay drafts", refused)
        if self.ws.activate:
            for mid, doc in sorted(self._campaign_docs.items()):
                key = f"activate:{mid}"
                if not doc.get("active") or self.journal.done(key):
                    continue
                try:
                    self.client.post(f"{A}/smartCampaign/{mid}/activate.json")
                except MarketoError as err:
                    if err.marketo_code is None:
                        raise
                    name, where, index = self._campaign_items.get(mid, (str(mid), "", None))
                    why = err.message.split(": ", 1)[-1]
                    self.ws.apply_warnings.append(make("PK836", f"smartCampaign {name!r} (id {mid}): {err.message}"))
                    self.journal.add({"key": key, "op": "activate-refused", "kind": "smartCampaign", "id": mid},
                                     self._checklist("smartCampaign", name, mid, where, [ACTIVATE_REFUSED.format(
                                         why=why)], index, expect={"active": True}))
                    continue
                self.journal.add({"key": key, "op": "activate", "kind": "smartCampaign", "id": mid})

    def record_import(self, record: ImportRecord) -> int:
        self.drain()  # the checklist is complete only when every follow-up has run
        for kind, mid, name, doc, meta in list(self._kind_items):  # what needed later kinds (kinds/base.py)
            marketo_kinds.get(kind).after_writes(self, mid, name, doc, meta)
        self._approve_and_activate()
        if self.journal.data["checklist"] and record.outcome == "applied":
            record.outcome = "needs-manual-completion"
        record.workspace = record.workspace or self.ws.name
        path = self.ws.state_dir / "history.json"
        rows = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
        record.id = len(rows) + 1
        row = asdict(record)
        row["journal"] = self.journal.id
        row["checklist"] = self.journal.checklist()
        rows.append(row)
        write_json(path, rows)
        if self.journal.data["checklist"]:
            text = render_checklist(self.journal.checklist())
            (self.ws.state_dir / "checklists").mkdir(parents=True, exist_ok=True)
            self.ws.checklist_file = self.ws.state_dir / "checklists" / f"{self.journal.id}.md"
            write_output(self.ws.checklist_file, text.encode("utf-8"), option="checklist", force=True)  # atomic
        return record.id


