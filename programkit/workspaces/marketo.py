"""A Marketo Engage instance as a :class:`~programkit.workspaces.base.Workspace`, over the REST API.

Reads are bulk: each inventory list is one browse endpoint paged 200 at a
time, loaded once per workspace object. Writes go through the asset API one
call at a time; a remote apply cannot be one transaction, so every call that
creates something is recorded in a **journal** (a JSON file, saved after each
step) that :func:`.marketo_rollback.rollback` undoes in reverse order and a resumed import
(:meth:`MarketoWorkspace.resume`) skips.

What the asset API cannot do is never claimed as done:

- smart-list triggers, filters and rule logic, qualification rules, flow
  steps and activation cannot be written (Adobe's published Swagger has no
  endpoint for them), so each campaign is created empty and its settings go
  to a **manual-steps checklist**, and the import is recorded as
  ``needs-manual-completion``;
- a lead lifecycle has no API object (Revenue Cycle Modeler is UI-only):
  nothing is written for it, the checklist says what to build by hand
  (warning PK809 in the plan);
- webhooks cannot be listed (warning PK806); the CRM connection is only
  inferred from person fields (warning PK807); tag types and values cannot be
  created (error PK808); files (images) cannot be deleted (rollback lists them).

Provenance and import history live next to the journals in a local state
directory (``$PROGRAMKIT_STATE_DIR``, default
``$XDG_STATE_HOME/programkit/marketo/<host>/<workspace>``), never in Marketo.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import tempfile
import threading
import time
import uuid
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import asdict, fields as dc_fields
from pathlib import Path
from typing import Any, Iterable, Iterator
from urllib.parse import urlsplit

from ..errors import ProgramkitError
from ..findings import Finding, Severity, make, register_code
from ..rules import copy_pattern
from . import marketo_export  # also registers PK913-PK915, which reads here raise
from .base import (AssetInfo, FieldInfo, ImportRecord, ProgramInfo, Provenance, Workspace, WorkspaceWriter,
                   renamed_design)
from .marketo_client import Limits, MarketoClient, MarketoError, cost_estimate

_GROUP = "marketo"
register_code("PK806", "marketo-not-readable", Severity.WARNING,
              "The Marketo API cannot read this part of the instance, so preflight cannot check it.",
              hint="Check it by hand in Marketo (e.g. Admin > Webhooks) before importing.",
              example="webhooks cannot be read through the Marketo API: required webhook 'Slack MQL' not checked",
              group=_GROUP)
register_code("PK807", "marketo-crm-inferred", Severity.WARNING,
              "The CRM connection is inferred from person fields; the API cannot read the sync settings.",
              hint="Confirm in Admin > CRM that the sync is enabled.",
              example="CRM 'salesforce' inferred from the person fields sfdcLeadId, sfdcContactId", group=_GROUP)
register_code("PK808", "marketo-tag-not-creatable", Severity.ERROR,
              "The program needs a tag type or value that does not exist; the API cannot create tags.",
              hint="Create it in Admin > Tags, or choose the conflict rule programTags=ignore.",
              example="tag 'Program Purpose' = 'Lead Management' does not exist in Marketo", group=_GROUP)
register_code("PK809", "marketo-manual-steps", Severity.WARNING,
              "The import left steps the Marketo API cannot do; they are listed in the manual-steps checklist.",
              hint="Complete every item of the checklist in the Marketo UI, then activate the campaigns.",
              example="2 campaigns need manual completion: 9 steps (see the checklist)", group=_GROUP)
register_code("PK810", "marketo-unsupported", Severity.ERROR,
              "The bundle has something a Marketo instance cannot hold or the API cannot create.",
              hint="Remove it from the bundle, or import into the embedded workspace instead.",
              example="token {{my.Logo}} of type 'image' cannot be created through the Marketo API", group=_GROUP)
register_code("PK811", "marketo-import-incomplete", Severity.ERROR,
              "A Marketo import stopped part-way; what it created is recorded in its journal.",
              hint="Run the same import again with --resume to finish it, or `programkit rollback` to delete "
                   "what it created.",
              example="import stopped after 5 of 9 steps (journal 20261123T101500-3f2a)", group=_GROUP)
register_code("PK812", "marketo-rollback-manual", Severity.WARNING,
              "Rollback could not delete something through the API.",
              hint="Delete it by hand in Marketo (Design Studio > Images and Files for files).",
              example="file 'logo.png' (id 1001) cannot be deleted through the API", group=_GROUP)

register_code("PK816", "marketo-segment-missing", Severity.ERROR,
              "An email's dynamic content names a segment its segmentation does not have in Marketo.",
              hint="Add the segment to the segmentation in Marketo (Database > Segmentations, then approve it), "
                   "or rename the segment in the email's dynamicContent to one the segmentation has.",
              example="emails/a.json /dynamicContent/body/segments/Retail: segment 'Retail' is not in Marketo's "
                      "segmentation 'Industry' (it has Manufacturing, Healthcare, Default)", group=_GROUP)
register_code("PK817", "marketo-dynamic-default", Severity.WARNING,
              "A section is both a static section and dynamic content, and the dynamic content gives its own "
              "Default segment: Marketo's section is one or the other, so the static HTML is not written.",
              hint="Remove the section from sections (its Default segment is the content leads outside every "
                   "segment see), or drop the Default segment so the static HTML becomes it.",
              example="emails/a.json /sections/body: not written: the section is dynamic and its Default segment "
                      "is written instead", group=_GROUP)

#: bundle program type -> Marketo program type
PROGRAM_TYPES = {"default": "Default", "event": "Event", "webinar": "Event with Webinar",
                 "nurture": "Engagement", "email": "Email"}
#: token types the asset API can create (Marketo's spelling)
API_TOKEN_TYPES = {"date", "number", "rich text", "score", "text"}
#: bundle token type -> Marketo's spelling, where they differ
MARKETO_TOKEN_TYPES = {"richText": "rich text", "sfdcCampaign": "sfdc campaign", "emailScript": "email script",
                       "calendarFile": "calendar file"}
BUNDLE_TOKEN_TYPES = {v: k for k, v in MARKETO_TOKEN_TYPES.items()}
#: Design Studio kind -> (Marketo asset segment, browse endpoint, folder name)
DESIGN = {
    "emailTemplate": ("emailTemplate", "/rest/asset/v1/emailTemplates.json", "Email Templates"),
    "landingPageTemplate": ("landingPageTemplate", "/rest/asset/v1/landingPageTemplates.json",
                            "Landing Page Templates"),
    "image": ("file", "/rest/asset/v1/files.json", "Images and Files"),
    "snippet": ("snippet", "/rest/asset/v1/snippets.json", "Snippets"),
}
LOCAL = {"email": ("email", "/rest/asset/v1/emails.json"),
         "smartCampaign": ("smartCampaign", "/rest/asset/v1/smartCampaigns.json")}
#: outcomes of an import that left a checklist: not checked (or a check found steps not done), every step
#: the API can read checked done with some it cannot read left (flows, modules, a lifecycle), all checked done
CHECKLIST_OUTCOMES = ("needs-manual-completion", "verified-except-manual", "verified")
#: program kinds with no Marketo API object: never written, only put on the manual-steps checklist
MANUAL = frozenset({"leadLifecycle"})
#: Marketo ids are per asset type; AssetInfo ids must be unique across kinds, so they encode the kind.
_KIND_CODE = {"emailTemplate": 1, "landingPageTemplate": 2, "image": 3, "snippet": 4, "email": 5,
              "smartCampaign": 6, "leadLifecycle": 7}
_CODE_KIND = {v: k for k, v in _KIND_CODE.items()}
_ID_BASE = 10**10
A = "/rest/asset/v1"


def asset_id(kind: str, marketo_id: int) -> int:
    return _KIND_CODE[kind] * _ID_BASE + int(marketo_id)


def split_id(encoded: int) -> tuple[str, int]:
    code, mid = divmod(int(encoded), _ID_BASE)
    return _CODE_KIND[code], mid


def default_state_dir(url: str, workspace: str) -> Path:
    base = os.environ.get("PROGRAMKIT_STATE_DIR")
    if base:
        root = Path(base)
    else:
        root = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "programkit"
    host = re.sub(r"[^A-Za-z0-9.-]", "_", urlsplit(url).netloc)
    return root / "marketo" / host / re.sub(r"[^A-Za-z0-9. -]", "_", workspace)


def _write_json(path: Path, data: Any) -> None:
    """Atomic write: a crash leaves the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Journal:
    """What one import created or changed, step by step.

    A JSON Lines file, one event appended (and flushed) per step, so a crash
    loses at most the step in flight and a long import does not rewrite a
    growing file after every call. :attr:`data` is the state the events add up to.
    """

    def __init__(self, path: Path, data: dict[str, Any]):
        self.path, self.data = path, data
        self._lock = threading.RLock()  # follow-up calls finish on worker threads
        self._by_key = {s["key"]: s for s in data["steps"]}
        self._clean_end = True  # False when the file ends in a line cut short by a crash

    @classmethod
    def new(cls, state_dir: Path) -> "Journal":
        jid = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6]
        j = cls(state_dir / "journals" / f"{jid}.jsonl", {"id": jid, "status": "running", "steps": [], "checklist": [],
                                                          "startedAt": _now(), "startedNs": time.time_ns()})
        j.path.parent.mkdir(parents=True, exist_ok=True)
        j._append({"event": "start", "id": jid, "startedAt": j.data["startedAt"], "startedNs": j.data["startedNs"]})
        return j

    @classmethod
    def read(cls, path: Path) -> "Journal":
        data: dict[str, Any] = {"id": path.stem, "status": "running", "steps": [], "checklist": []}
        text = path.read_text(encoding="utf-8")
        for line in text.splitlines():
            try:
                ev = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash: that step did not happen
            kind = ev.pop("event", None)
            if kind == "start":
                data.update(ev)
            elif kind == "step":
                data["steps"].append(ev)
            elif kind == "checklist":
                data["checklist"].append(ev)
            elif kind == "status":
                data.update(ev)
            elif kind == "plan":
                data["plan"] = ev["plan"]
            elif kind == "rolledBack":
                for step in data["steps"]:
                    if step["key"] == ev["key"]:
                        step["rolledBack"] = True
        journal = cls(path, data)
        journal._clean_end = not text or text.endswith("\n")
        return journal

    @classmethod
    def load(cls, state_dir: Path, jid: str = "last") -> "Journal":
        folder = state_dir / "journals"
        if jid == "last":
            journals = [j for j in list_journals(state_dir) if j.data["status"] != "rolled-back"]
            if not journals:
                raise ProgramkitError("no import journal to resume or roll back",
                                      [make("PK811", f"no journal in {folder}")])
            return journals[-1]
        path = folder / f"{jid}.jsonl"
        if not re.fullmatch(r"[0-9A-Za-z-]+", jid) or not path.is_file():
            raise ProgramkitError(f"no import journal {jid!r}", [make("PK811", f"no journal {jid!r} in {folder}")])
        return cls.read(path)

    @property
    def id(self) -> str:
        return self.data["id"]

    def _append(self, event: dict[str, Any]) -> None:
        with self._lock, self.path.open("a", encoding="utf-8") as f:
            f.write(("" if self._clean_end else "\n") + json.dumps(event, sort_keys=True) + "\n")
            self._clean_end = True

    def done(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            return self._by_key.get(key)

    def add(self, step: dict[str, Any], checklist: dict[str, Any] | None = None) -> None:
        with self._lock:
            if checklist:  # before the step: a resumed import that sees the step also has its checklist
                self.data["checklist"].append(checklist)
                self._append({"event": "checklist", **checklist})
            self.data["steps"].append(step)
            self._by_key[step["key"]] = step
            self._append({"event": "step", **step})

    def set_plan(self, plan: dict[str, Any]) -> None:
        with self._lock:
            if self.data.get("plan") != plan:
                self.data["plan"] = plan
                self._append({"event": "plan", "plan": plan})

    def set_status(self, status: str, **extra: Any) -> None:
        with self._lock:
            self.data.update(status=status, **extra)
            self._append({"event": "status", "status": status, **extra})

    def mark_rolled_back(self, step: dict[str, Any]) -> None:
        with self._lock:
            step["rolledBack"] = True
            self._append({"event": "rolledBack", "key": step["key"]})

    def checklist(self) -> list[dict[str, Any]]:
        """Checklist items in the bundle's order (``index``, its manifest position; creates and follow-ups
        finish in any order, and a resumed import adds to them), else in the order their assets were created."""
        with self._lock:
            order = {(s["kind"], s["id"]): i for i, s in enumerate(self.data["steps"])
                     if s["op"] in ("create", "manual")}  # manual: journalled, never created (id None)
            return sorted(self.data["checklist"], key=lambda c: (
                (0, c["index"]) if isinstance(c.get("index"), int) else
                (1, order.get((c["kind"], c["marketoId"]), len(order)))))


def list_journals(state_dir: Path) -> list[Journal]:
    """The import journals kept for a target, oldest first (two started in the same second: by their start in
    nanoseconds, since an id's random tail does not sort them)."""
    folder = state_dir / "journals"
    journals = [Journal.read(p) for p in sorted(folder.glob("*.jsonl"))] if folder.is_dir() else []
    return sorted(journals, key=lambda j: (j.id[:15], j.data.get("startedNs", 0)))


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


#: clock difference tolerated between this machine and Marketo when adopting a lost create
ADOPT_SLACK = datetime.timedelta(minutes=2)


def _parse_time(text: Any) -> datetime.datetime | None:
    """Marketo's "2026-11-23T10:13:49Z+0000" and our "2026-11-23T10:13:49Z" (both UTC)."""
    try:
        return datetime.datetime.strptime(str(text)[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None


class MarketoWorkspace(Workspace):
    """One Marketo workspace of one instance (``url`` is the REST base URL)."""

    def __init__(self, url: str, workspace: str = "Default", *, client: MarketoClient | None = None,
                 limits: Limits | None = None, state_dir: str | os.PathLike[str] | None = None):
        self.url = url
        self.name = workspace
        self.client = client or MarketoClient.from_env(url, limits)
        self.state_dir = Path(state_dir) if state_dir else default_state_dir(url, workspace)
        self._cache: dict[str, Any] = {}
        #: browse records of program assets, and what export read for each asset (bytes, needs-completion items)
        self._records: dict[tuple[str, int], dict[str, Any]] = {}
        self._exported: dict[int, tuple[bytes, list[dict[str, str]]]] = {}
        self._resume: Journal | None = None
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

    def __enter__(self) -> "MarketoWorkspace":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- cached browse lists ---------------------------------------------------------------------
    def _cached(self, key: str, load: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = load()
        return self._cache[key]

    def _folders(self) -> list[dict[str, Any]]:
        return self._cached("folders", lambda: list(self.client.browse(f"{A}/folders.json", maxDepth=10,
                                                                       workSpace=self.name)))

    def _mine(self, items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Only this Marketo workspace's items: the browse endpoints list every workspace the user sees."""
        return [a for a in items if a.get("workspace") in (None, self.name)]

    def _programs(self) -> list[dict[str, Any]]:
        return self._cached("programs", lambda: self._mine(self.client.browse(f"{A}/programs.json")))

    def _design(self, kind: str) -> list[dict[str, Any]]:
        return self._cached(kind, lambda: self._mine(self.client.browse(DESIGN[kind][1])))

    def _note(self, code: str, message: str) -> None:
        if not any(n.message == message for n in self.notes):
            self.notes.append(make(code, message))

    # -- inventory -------------------------------------------------------------------------------
    def revision(self) -> str:
        if self._resume is not None and self._resume.data.get("plan"):
            # a resumed import continues the plan it started with, on the instance it half changed
            return self._resume.data["plan"]["workspace"]["revision"]
        parts = [(p["id"], p["name"], p.get("updatedAt")) for p in self._programs()]
        for kind in DESIGN:
            parts += [(kind, a["id"], a["name"], a.get("updatedAt")) for a in self._design(kind)]
        return _sha(json.dumps(parts, sort_keys=True, default=str).encode())[:16]

    def fields(self) -> dict[str, FieldInfo]:
        def load() -> dict[str, FieldInfo]:
            out = {}
            for obj in self.client.get("/rest/v1/leads/describe2.json"):
                for f in obj.get("fields") or []:
                    if f.get("name"):
                        out[f["name"]] = FieldInfo(f["name"], f.get("displayName") or f["name"], f.get("dataType", ""))
            return out
        return self._cached("fields", load)

    def names(self, what: str) -> set[str]:
        if what == "segmentations":
            return {s["name"] for s in self.segmentation_list()}
        if what == "snippets":
            return {s["name"] for s in self._design("snippet")}
        if what == "customObjects":
            return self._cached(what, lambda: {c["name"] for c in self.client.get("/rest/v1/customobjects.json")})
        if what == "webhooks":
            self._note("PK806", "webhooks cannot be read through the Marketo API; check the webhooks a bundle "
                                "requires by hand (Admin > Webhooks)")
            return set()
        raise ValueError(f"unknown name list {what!r}")

    def segmentation_list(self) -> list[dict[str, Any]]:
        """Marketo's segmentations (id, name, …), read once."""
        return self._cached("segmentation-list", lambda: self.client.get(f"{A}/segmentation.json"))

    def segmentation_id(self, name: str) -> int | None:
        """The id of the segmentation called ``name`` (case-insensitive), or None."""
        hit = next((s for s in self.segmentation_list() if str(s.get("name", "")).casefold() == name.casefold()), None)
        return int(hit["id"]) if hit is not None else None

    def segment_names(self, segmentation_id: int) -> list[str]:
        """The segments of one segmentation (Marketo's spelling and order, "Default" included), read once."""
        return self._cached(f"segments-{segmentation_id}", lambda: [
            s["name"] for s in self.client.browse(f"{A}/segmentation/{segmentation_id}/segments.json")
            if isinstance(s.get("name"), str)])

    def dynamic_content_note(self, email: dict[str, Any]) -> str:
        """The plan's note on an email with dynamic content (what importing it writes)."""
        dyn = email.get("dynamicContent") or {}
        segments = sum(len(_dynamic_segments(email, html_id)) for html_id in dyn)
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
        return self._cached("channels", load)

    def tag_types(self) -> dict[str, set[str]]:
        def load() -> dict[str, set[str]]:
            out = {}
            # the browse list omits allowed values; one by-name call per tag type (there are few)
            for t in self.client.browse(f"{A}/tagTypes.json"):
                found = self.client.get(f"{A}/tagType/byName.json", name=t["tagType"])
                raw = (found[0].get("allowableValues") if found else "") or ""
                out[t["tagType"]] = {v.strip() for v in raw.split(",") if v.strip()}
            return out
        return self._cached("tags", load)

    def _program_path(self, program: dict[str, Any]) -> str:
        node = next((f for f in self._folders() if f["folderId"] == {"id": program["id"], "type": "Program"}), None)
        return node["path"] if node else f"/{program['name']}"

    def _program_info(self, p: dict[str, Any], full: bool) -> ProgramInfo:
        data: dict[str, Any] = {
            "name": p["name"], "type": {v: k for k, v in PROGRAM_TYPES.items()}.get(p.get("type"), p.get("type")),
            "channel": p.get("channel"), "description": p.get("description") or "",
            "tags": {t["tagType"]: t["tagValue"] for t in p.get("tags") or []},
        }
        if full:
            toks = self._cache[f"tokens-{p['id']}"] = self.client.get(f"{A}/folder/{p['id']}/tokens.json",
                                                                       folderType="Program")
            data["tokens"] = [_token_from_marketo(t) for t in (toks[0].get("tokens") if toks else []) or []]
            data["folders"] = self._folder_tree(self._program_path(p))
            statuses = self.channels().get(p.get("channel"), [])
            data["membershipStatuses"] = statuses
        return ProgramInfo(p["id"], p["name"], data, self._provenance(p["id"]))

    def _folder_tree(self, base: str) -> list[dict[str, Any]]:
        """The folders under path ``base`` as the bundle's nested ``folders`` list, by name."""
        top: list[dict[str, Any]] = []
        nodes: dict[str, dict[str, Any]] = {}
        for f in sorted((f for f in self._folders() if f["path"].startswith(base + "/")
                         and f["folderId"]["type"] == "Folder"), key=lambda f: (f["path"].count("/"), f["path"])):
            parent, _, name = f["path"].rpartition("/")
            node = nodes[f["path"]] = {"name": name}
            siblings = top if parent == base else nodes.setdefault(parent, {"name": parent.rpartition("/")[2]}) \
                .setdefault("folders", [])
            siblings.append(node)
        return top

    def program(self, name: str) -> ProgramInfo | None:
        hit = next((p for p in self._programs() if p["name"].casefold() == name.casefold()), None)
        return self._program_info(hit, full=True) if hit else None

    def programs(self) -> list[ProgramInfo]:
        return [self._program_info(p, full=False) for p in self._programs()]

    def program_assets(self, program_id: int) -> list[AssetInfo]:
        prog = next((p for p in self._programs() if p["id"] == program_id), None)
        if prog is None:
            return []
        base = self._program_path(prog)
        out = []
        for kind, (_, path) in LOCAL.items():
            # one program: browse its folder; many (e.g. `workspace show`): one pass over the instance
            if f"all-{kind}" in self._cache or len(self._programs()) > 20:
                found = [a for a in self._all_local(kind)
                         if (self._folder_path(a.get("folder")) or "").startswith(base + "/")
                         or a.get("folder") == {"id": program_id, "type": "Program"}]
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
                self._records[(kind, a["id"])] = a
                folder = self._folder_path(a.get("folder"))
                rel = folder[len(base) + 1:] if folder and folder.startswith(base + "/") else None
                out.append(AssetInfo(asset_id(kind, a["id"]), kind, a["name"], self._known_sha(kind, a) or "",
                                     rel, program_id))
        return out

    def _folder_path(self, ref: dict[str, Any] | None) -> str | None:
        if not ref:
            return None
        ref = {"id": ref.get("id", ref.get("value")), "type": str(ref.get("type") or "").capitalize()}
        node = next((f for f in self._folders() if f["folderId"] == ref), None)
        return node["path"] if node else None

    def design_assets(self, kind: str, names: Iterable[str]) -> dict[str, AssetInfo]:
        wanted = {n.casefold() for n in names}
        out = {}
        for a in self._design(kind):
            if a["name"].casefold() in wanted:
                sha = self._known_sha(kind, a) or self._content_sha(kind, a["id"])
                meta = {"templateType": a["templateType"]} if "templateType" in a else {}
                if re.fullmatch(r"image/[a-z0-9.+-]+", str(a.get("mimeType") or "")):
                    meta["mimeType"] = a["mimeType"]
                out[a["name"].casefold()] = AssetInfo(asset_id(kind, a["id"]), kind, a["name"], sha, meta=meta)
        return out

    def design_names(self, kind: str, base: str) -> set[str]:
        rx = copy_pattern(kind, base)  # images: "logo - 1.png", as on every target
        return {a["name"] for a in self._design(kind) if rx.fullmatch(a["name"])}

    def _content_sha(self, kind: str, mid: int) -> str:
        aid = asset_id(kind, mid)
        try:
            if aid not in self._exported:  # kept: an export reads the same content next
                self._exported[aid] = (self._read(kind, mid), [])
            return _sha(self._exported[aid][0])
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
                rec = next((a for a in self._design("image") if int(a["id"]) == mid), {"id": mid})
                self._exported[asset_id] = (marketo_export.download(rec, self.client.limits.timeout), [])
            elif kind in LOCAL:
                rec = self._records.get((kind, mid))
                if rec is None:
                    raise MarketoError(f"{kind} {mid} is not an asset of a program read from Marketo", code="PK913")
                mapper = marketo_export.email_document if kind == "email" else marketo_export.campaign_document
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
        todo = [a.id for a in assets if a.kind in LOCAL and a.id not in self._exported]
        # shared look-ups (the template list, each template's modules): load them once, before the workers
        emails = [self._records.get(split_id(a.id)) or {} for a in assets if a.kind == "email"]
        known = {int(t["id"]) for t in self._design("emailTemplate")} if emails else set()
        for tid in sorted({t for rec in emails if (t := marketo_export.ref_id(rec.get("template"))) in known}):
            self._template_modules(tid)
        problems: list[Finding] = []
        with ThreadPoolExecutor(max_workers=max(1, self.client.limits.concurrent - 1),
                                thread_name_prefix="marketo-export") as pool:
            for fut in [pool.submit(self.read, aid) for aid in todo]:
                try:
                    fut.result()
                except ProgramkitError as err:
                    problems += err.findings
        if problems:
            raise ProgramkitError(f"{len(problems)} asset(s) of the program could not be exported from Marketo",
                                  problems)

    def _template_modules(self, template_id: int) -> list[str]:
        from ..lint import template_ids

        html = self.read(asset_id("emailTemplate", template_id)).decode("utf-8", errors="replace")
        return sorted(template_ids(html)[2])

    def count(self) -> dict[str, int]:
        """Items per kind, with the keys the embedded target uses (webhooks cannot be counted: left out)."""
        from ..resources import data_json

        standard = {f["apiName"].casefold() for f in data_json("marketo.json")["standardFields"]}
        fields = self.fields()
        out = {"fields": len(fields), "customFields": sum(1 for f in fields if f.casefold() not in standard),
               "channels": len(self.channels()), "tagTypes": len(self.tag_types()), "programs": len(self._programs()),
               "imports": len(self.history()), "segmentations": len(self.names("segmentations")),
               "snippets": len(self._design("snippet")), "customObjects": len(self.names("customObjects"))}
        for kind in DESIGN:
            out[kind] = len(self._design(kind))
        for kind in LOCAL:  # the whole instance: one browse call per 200
            out[kind] = len(self._all_local(kind))
        return out

    def _all_local(self, kind: str) -> list[dict[str, Any]]:
        return self._cached(f"all-{kind}", lambda: self._mine(self.client.browse(LOCAL[kind][1])))

    # -- what we know from our own journals: the sha of bytes we uploaded ----------------------
    def _known(self) -> dict[tuple[str, int], dict[str, Any]]:
        def load() -> dict[tuple[str, int], dict[str, Any]]:
            out: dict[tuple[str, int], dict[str, Any]] = {}
            for journal in list_journals(self.state_dir):
                for s in journal.data["steps"]:
                    if s.get("sha256") and s.get("kind") in _KIND_CODE:
                        out[(s["kind"], s["id"])] = s
            return out
        return self._cached("known", load)

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
    #: Marketo's tokens have no description: an upgrade does not rewrite every token for it
    token_fields = ("name", "type", "value")

    def preflight(self, bundle: Any, rules: Any = None, actions: list[Any] | None = None) -> list[Finding]:
        """Everything this target cannot take from ``bundle``, all at once (plan's preflight adds these).

        With the plan's ``actions``, a lead lifecycle the plan does not write (an earlier import put it on
        the checklist already) is not reported again as a step this import leaves.
        """
        out: list[Finding] = []
        writes = None if actions is None else {(a.kind, a.name) for a in actions
                                               if a.action in ("create", "rename", "update", "replace")}
        program = bundle.program or {}
        tags = self.tag_types() if not rules or rules.value("programTags") != "ignore" else None
        for ttype, value in sorted((program.get("tags") or {}).items() if tags is not None else []):
            if value not in tags.get(ttype, set()):
                out.append(make("PK808", f"tag {ttype!r} = {value!r} does not exist in Marketo", file="bundle.json",
                                pointer=f"/program/tags/{ttype}"))
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
            elif asset.kind not in DESIGN and asset.kind not in LOCAL:
                out.append(make("PK810", f"{asset.kind} {asset.name!r} has no Marketo equivalent",
                                file="bundle.json", pointer=asset.pointer))
        out += self._dynamic_preflight(bundle, writes)
        for hook in sorted((bundle.requires or {}).get("webhooks") or []):
            out.append(make("PK806", f"webhooks cannot be read through the Marketo API: required webhook "
                                     f"{hook!r} not checked", file="bundle.json", pointer="/requires/webhooks"))
        # and what reading the inventory could not tell (e.g. the CRM inferred from fields)
        return out + [n for n in self.notes if n.code != "PK806" and n not in out]

    def _dynamic_preflight(self, bundle: Any, writes: set[tuple[str, str]] | None) -> list[Finding]:
        """Every segment the emails' dynamic content names that its Marketo segmentation lacks (all at once;
        one segments call per segmentation used), and static sections the dynamic content overrides. A
        segmentation missing altogether is the plan's PK503 (or validate's PK309), not repeated here."""
        out: list[Finding] = []
        for asset in bundle.assets:
            email = asset.content if asset.kind == "email" and isinstance(asset.content, dict) else {}
            dyn = email.get("dynamicContent")
            if not isinstance(dyn, dict) or (writes is not None and (asset.kind, asset.name) not in writes):
                continue
            for html_id, spec in sorted(dyn.items()):
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
                                        file=asset.path, pointer=f"/dynamicContent/{html_id}/segments/{seg}"))
                if html_id in (email.get("sections") or {}) and "default" in {
                        n.casefold() for n in spec.get("segments") or {}}:
                    out.append(make("PK817", f"section {html_id!r} is not written as static HTML: it is dynamic "
                                             "and its Default segment is written instead",
                                    file=asset.path, pointer=f"/sections/{html_id}"))
        return out

    def estimate_calls(self, plan: Any, bundle: Any) -> dict[str, Any]:
        """API calls applying ``plan`` costs (its writes; the reads are already spent), against the daily quota."""
        contents = {(a.kind, a.name.casefold()): a.content for a in bundle.assets}
        calls = 0
        for act in plan.actions:
            if act.action not in ("create", "rename", "replace", "update", "delete") or act.kind in MANUAL:
                continue
            if act.kind == "email" and act.action != "delete":
                email = contents.get((act.kind, act.name.casefold()))
                email = email if isinstance(email, dict) else {}
                calls += (act.action in ("create", "rename")) + email_content_calls(email)
            elif act.kind in ("landingPageTemplate", "snippet") and act.action in ("create", "rename"):
                calls += 2
            elif act.kind != "tag":
                calls += 1
        return cost_estimate(calls)

    def cost_line(self, plan: Any, bundle: Any) -> str:
        """One line for the plan output: calls spent reading, calls the writes will take, share of the quota."""
        est = self.estimate_calls(plan, bundle)
        if not est["calls"]:
            return f"Marketo API: {self.client.calls} call(s) to plan; applying needs none.\n"
        return (f"Marketo API: {self.client.calls} call(s) to plan; applying takes about {est['calls']} more "
                f"({est['shareOfDailyQuota']:.2%} of the daily quota of {est['dailyQuota']:,}).\n")

    # -- writes ----------------------------------------------------------------------------------
    def resume(self, journal_id: str = "last") -> Journal:
        """Make the next transaction continue ``journal_id``: steps it recorded are not done again."""
        self._resume = Journal.load(self.state_dir, journal_id)
        return self._resume

    @contextmanager
    def transaction(self) -> Iterator["MarketoWriter"]:
        journal = self._resume or Journal.new(self.state_dir)  # _resume stays set until the end: revision()
        if journal.data["status"] != "running":
            journal.set_status("running")
        writer = MarketoWriter(self, journal)
        try:
            yield writer
            writer.drain()
        except BaseException as exc:
            writer.abort()
            journal.set_status("failed", error=exc.message if isinstance(exc, ProgramkitError) else type(exc).__name__)
            if isinstance(exc, ProgramkitError):
                steps = len(journal.data["steps"])
                raise ProgramkitError(
                    f"import stopped after {steps} step(s) (journal {journal.id}): {exc.message}",
                    exc.findings + [make("PK811", f"import stopped after {steps} step(s) (journal {journal.id})")],
                    hint=f"once the cause is fixed, run the same import with --resume to finish it, or "
                         f"`programkit rollback --target {self.url}` to delete what it created",
                ) from None
            raise
        else:
            journal.set_status("complete", finishedAt=_now())
        finally:
            writer.close()
            self._resume = None
            self._cache.clear()  # the instance changed: read it afresh
            self._exported.clear()
            self.checklist = journal.checklist()
            if not journal.data["steps"] and not journal.data["checklist"]:
                journal.path.unlink(missing_ok=True)  # nothing written (e.g. a no-op import): nothing to undo

    def manual_steps_report(self) -> str:
        """The last import's manual-steps checklist and where it was saved ("" when there is none)."""
        if not self.checklist:
            return ""
        steps = sum(len(i["steps"]) for i in self.checklist)
        saved = f"Saved to {self.checklist_file}.\n" if self.checklist_file else ""
        note = make("PK809", f"{steps} manual step(s) in {len(self.checklist)} asset(s) are not done: the import "
                             "is recorded as needs-manual-completion")
        return render_checklist(self.checklist) + f"{note.code} [{note.rule}] {note.message}.\n" + saved

    @property
    def history_file(self) -> Path:
        """Where this target's import history is kept: on this machine, since Marketo has no place for it."""
        return self.state_dir / "history.json"

    def _history_rows(self) -> list[dict[str, Any]]:
        path = self.history_file
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []

    def history(self, limit: int | None = None) -> list[ImportRecord]:
        names = {f.name for f in dc_fields(ImportRecord)}
        recs = [ImportRecord(**{k: v for k, v in r.items() if k in names}) for r in reversed(self._history_rows())]
        return recs[:limit] if limit is not None else recs

    def manual_completion(self, record: ImportRecord) -> dict[str, Any] | None:
        """What import ``record`` left to do in the Marketo UI: ``{"checklist": file or None, "items": [...]}``
        (one item per asset: kind, name, marketoId, folder, steps), or None if it left nothing (or was rolled
        back). The API cannot tell whether the steps were done since, so this is what was recorded, not a check."""
        if record.outcome not in CHECKLIST_OUTCOMES:
            return None
        row = next((r for r in self._history_rows() if r.get("id") == record.id), None) or {}
        items = [{k: v for k, v in i.items() if k not in ("index", "expect")} for i in row.get("checklist") or []]
        if not items:
            return None
        path = self.state_dir / "checklists" / f"{row.get('journal')}.md"
        out = {"checklist": str(path) if path.is_file() else None, "items": items}
        if row.get("verification"):  # what `programkit verify` last found (see marketo_verify)
            out["verification"] = row["verification"]
        return out

    def pending_manual(self, program: str) -> dict[str, Any]:
        """What the imports of ``program`` recorded as needing manual completion: ``{"imports": [ids],
        "items": [{kind, name, marketoId, folder, steps}], "checklists": [files]}`` (a later import's item for
        the same asset replaces an earlier one's; rolled-back imports left nothing)."""
        imports: list[int] = []
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        files: list[str] = []
        for rec in reversed(self.history()):  # oldest first
            if rec.program.casefold() != program.casefold() or rec.outcome != "needs-manual-completion":
                continue
            left = self.manual_completion(rec)
            if left is None:
                continue
            imports.append(rec.id or 0)
            files += [left["checklist"]] if left["checklist"] else []
            for item in left["items"]:
                latest.pop((item["kind"], item["name"]), None)
                latest[(item["kind"], item["name"])] = item
        return {"imports": imports, "items": list(latest.values()), "checklists": files}

    def pending_manual_report(self, program: str) -> str:
        """One paragraph on :meth:`pending_manual` ("" if nothing): for an import that leaves no new steps
        (e.g. a re-import with nothing to do), so the user is reminded once, without a checklist that would
        read as if this import had left them."""
        pending = self.pending_manual(program)
        if not pending["items"]:
            return ""
        by_kind: dict[str, list[str]] = {}
        for item in pending["items"]:
            by_kind.setdefault(item["kind"], []).append(repr(item["name"]))
        what = "; ".join(f"{kind} {', '.join(names)}" for kind, names in by_kind.items())
        ids = ", ".join(f"#{i}" for i in pending["imports"])
        return (f"Still recorded as needing manual completion (import{'s' * (len(pending['imports']) > 1)} {ids}; "
                f"`programkit verify` checks what the API can read): {what}.\n"
                + "".join(f"Checklist: {f}\n" for f in pending["checklists"])
                + f"`programkit history --target {self.url}` lists them.\n")


def _dynamic_segments(email: dict[str, Any], html_id: str) -> dict[str, str]:
    """The segments written for dynamic section ``html_id``: the bundle's, plus the section's static HTML (if
    any) as the "Default" segment when the bundle gives no Default (Marketo's section is static or dynamic,
    and a dynamic section's Default segment is what leads outside every segment see)."""
    spec = (email.get("dynamicContent") or {}).get(html_id) or {}
    segments = dict(spec.get("segments") or {})
    static = (email.get("sections") or {}).get(html_id)
    if isinstance(static, str) and "default" not in {n.casefold() for n in segments}:
        segments["Default"] = static
    return segments


def email_content_calls(email: dict[str, Any]) -> int:
    """Calls that write an email's content after its create: one per static section and per variable; per
    dynamic section one to make it dynamic and one per segment, plus one read of the email's content per
    email with dynamic content (for the sections' dynamic content ids)."""
    dyn = email.get("dynamicContent") or {}
    static = [h for h in email.get("sections") or {} if h not in dyn]
    return (len(static) + len(email.get("variables") or {}) + len(dyn) + (1 if dyn else 0)
            + sum(len(_dynamic_segments(email, h)) for h in dyn))


def _token_from_marketo(t: dict[str, Any]) -> dict[str, Any]:
    value: Any = t.get("value")
    if t.get("type") in ("number", "score") and isinstance(value, str):
        try:
            value = int(value) if re.fullmatch(r"-?\d+", value) else float(value)
        except ValueError:
            pass
    return {"name": t["name"], "type": BUNDLE_TOKEN_TYPES.get(t.get("type"), t.get("type")), "value": value}


def _constraints(rule: dict[str, Any]) -> str:
    cons = "; ".join(f"{c['name']} {c.get('operator', 'is')} {', '.join(map(_text, c.get('values', [])))}"
                     for c in rule.get("constraints") or [])
    return f" with {cons}" if cons else ""


def trigger_text(t: dict[str, Any]) -> str:
    """A smart-list trigger as the checklist says it: name and constraints."""
    return f"\"{t['trigger']}\"" + _constraints(t)


def filter_text(f: dict[str, Any]) -> str:
    """A smart-list filter as the checklist says it: name, operator, values and constraints."""
    vals = ", ".join(map(_text, f.get("values") or []))
    return f"\"{f['filter']}\" {f.get('operator', 'is')}" + (f" {vals}" if vals else "") + _constraints(f)


def logic_text(logic: str) -> str:
    return {"all": "Use ALL filters", "any": "Use ANY filters"}.get(logic, f"Use Advanced Filters: {logic}")


def campaign_checks(campaign: dict[str, Any]) -> list[tuple[str, str]]:
    """The checklist of one bundle smart campaign as (what, step) pairs: ``what`` names the setting a step is
    about (``trigger:0``, ``filter:1``, ``ruleLogic``, ``flow:0``, ``qualificationRule``, ``communicationLimits``,
    ``active``), so ``programkit verify`` can compare each step with what Marketo holds."""
    checks = []
    sl = campaign.get("smartList") or {}
    for i, t in enumerate(sl.get("triggers") or []):
        checks.append((f"trigger:{i}", f"Smart List: add trigger {trigger_text(t)}"))
    for i, f in enumerate(sl.get("filters") or []):
        checks.append((f"filter:{i}", f"Smart List: add filter {i + 1} {filter_text(f)}"))
    if sl.get("filters"):
        checks.append(("ruleLogic", "Smart List: set rule logic to " + logic_text(sl.get("ruleLogic", "all"))))
    for i, s in enumerate(campaign.get("flow") or []):
        args = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in s.items() if k != "step")
        checks.append((f"flow:{i}", f"Flow: add step {i + 1} \"{s['step']}\"" + (f" ({args})" if args else "")))
    if campaign.get("qualificationRule"):
        checks.append(("qualificationRule",
                       f"Schedule: set qualification rule to \"{campaign['qualificationRule']}\""))
    if "communicationLimits" in campaign:
        limits = "enable" if campaign["communicationLimits"] else "leave off"
        checks.append(("communicationLimits", f"Schedule: {limits} communication limits"))
    if campaign.get("active"):
        checks.append(("active", "Schedule: activate the campaign (after the steps above)"))
    return checks


def manual_steps(campaign: dict[str, Any]) -> list[str]:
    """What must be set by hand in the UI for one bundle smart campaign: the API cannot write any of it."""
    return [step for _, step in campaign_checks(campaign)]


def lifecycle_steps(name: str, doc: dict[str, Any], campaigns: dict[str, dict[str, Any]]) -> list[str]:
    """What to build by hand in Revenue Cycle Modeler for a bundle lead lifecycle (the API has no model object),
    naming the import's campaigns whose flow sets the field a transition watches."""
    terminal = set(doc.get("terminal") or [])
    stages = ", ".join(s["name"] + " (" + ", ".join(
        [s["category"]] * bool(s.get("category")) + ["first"] * (s["name"] == doc.get("initial"))
        + ["final"] * (s["name"] in terminal)) + ")" for s in doc.get("states") or [])
    steps = [f'Revenue Cycle Modeler: create the model "{name}" by hand (the API cannot; nothing was written '
             "for it)", f"Add the stages: {stages}"]

    def sets(flow_step: dict[str, Any], field: str, values: list[Any]) -> bool:
        crm = {"synced to sfdc": "Sync Person to SFDC", "synced to microsoft": "Sync Person to Microsoft"}
        if flow_step.get("step") == crm.get(field.casefold()):
            return True in values
        return (flow_step.get("step") == "Change Data Value" and str(flow_step.get("attribute", "")).casefold()
                == field.casefold() and any(_text(v) == _text(flow_step.get("newValue")) for v in values))

    for t in doc.get("transitions") or []:
        src = t["from"] if isinstance(t["from"], str) else ", ".join(t["from"])
        line = f'Transition "{t["event"]}": {"any stage not final" if src == "*" else src} → {t["to"]}'
        on = t.get("onField")
        if on:
            line += f" on Data Value Changes: {on['field']} to {', '.join(map(_text, on['values']))}"
            by = [c for c, doc_c in campaigns.items()
                  if any(sets(f, on["field"], on["values"]) for f in doc_c.get("flow") or [])]
            line += f" (set by campaign{'s' * (len(by) > 1)} {', '.join(by)})" if by else ""
        elif t.get("automatic"):
            line += " at once"
        else:
            line += " (an event outside Marketo, e.g. in the CRM: choose the trigger that shows it)"
        if t.get("requires"):
            line += "; requires " + ", ".join(r if isinstance(r, str) else r["field"] for r in t["requires"])
        if t.get("reason"):
            line += f"; reason from '{t['reason']['list']}'"
        steps.append(line)
    steps += [f'Timer "{tm["name"]}": after {tm["after"]} in {tm["state"]} → {tm["to"]}'
              for tm in doc.get("timers") or []]
    steps += [f'SLA "{fl["name"]}": on entering {fl["onEnter"]}, for {fl["for"]}' for fl in doc.get("flags") or []]
    steps += [f"Reason list '{k}': {', '.join(v)} (a picklist field: Marketo has no standard one)"
              for k, v in (doc.get("reasonLists") or {}).items()]
    steps.append("Approve the model (after the steps above)")
    return steps


#: the first step of a changed campaign's checklist: a heading for the steps after it, not a step of its own
REVIEW_CAMPAIGN = "Review: the bundle changed this campaign; re-check every step below"


def email_expect(email: dict[str, Any]) -> dict[str, Any]:
    """What of a bundle email its checklist is about (kept for ``programkit verify``): text version, modules."""
    return {k: email[k] for k in ("text", "modules") if email.get(k)}


def _text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) or value is None else str(value)


def render_checklist(items: list[dict[str, Any]]) -> str:
    """The manual-steps checklist as Markdown (printed by import and saved next to the journal)."""
    if not items:
        return ""
    lines = ["# Manual steps (the Marketo API cannot do these)", ""]
    for item in items:
        where = f"id {item['marketoId']}" if item["marketoId"] is not None else "not written: no API for it"
        where += f", in {item['folder']}" if item["folder"] else ""
        lines.append(f"## {item['kind']} \"{item['name']}\" ({where})")
        lines += [f"- [ ] {s}" for s in item["steps"]]
        lines.append("")
    return "\n".join(lines)


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

    def begin(self, plan: dict[str, Any]) -> None:
        """Journal the plan being applied (called by apply), so ``resume_import`` can finish it."""
        if self.journal.data.get("plan") and self.journal.data["plan"].get("bundle") != plan.get("bundle"):
            raise ProgramkitError("the journal being resumed is for another bundle", [make(
                "PK811", f"journal {self.journal.id} imports {self.journal.data['plan']['bundle'].get('name')}, "
                         f"not {plan['bundle'].get('name')}")])
        self.journal.set_plan(plan)

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
        known = self.ws._cache.get("known")
        if known is not None and step.get("sha256") and kind in _KIND_CODE:
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
            started = _parse_time(self.journal.data.get("startedAt"))
            for item in candidates():
                created = _parse_time(item.get("createdAt"))
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
        prog = next((p for p in self.ws._programs() if p["id"] == program_id), None)
        if prog is None:
            raise MarketoError(f"program {program_id} not found in Marketo", code="PK810")
        return self.ws._program_path(prog)

    def _root_folder(self, path: str) -> dict[str, Any]:
        node = next((f for f in self.ws._folders() if f["path"].casefold() == path.casefold()
                     or (f["name"].casefold() == path.strip("/").casefold() and f["folderId"]["type"] == "Folder")),
                    None)
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
            known = self.ws._programs()  # loaded before the create, so the new program is added once
            res = self._create(data["name"], lambda: self.client.post(f"{A}/programs.json", {
                "name": data["name"], "folder": parent, "type": PROGRAM_TYPES.get(data.get("type", "default")),
                "channel": data.get("channel"), "description": data.get("description") or None,
                "tags": [{"tagType": k, "tagValue": v} for k, v in sorted((data.get("tags") or {}).items())] or None,
                "costs": data.get("costs") or None})[0],
                lambda: self.client.get(f"{A}/program/byName.json", name=data["name"]))
            pid = self._step(key, "program", res)
            # the new program is a folder node too: remember it without another browse call
            known.append(res)
            self.ws._folders().append({"folderId": {"id": pid, "type": "Program"}, "name": res["name"],
                                       "path": f"{self._folder_path(parent)}/{res['name']}"})
        self._put_tokens(pid, data.get("tokens") or [])
        for f in data.get("folders") or []:
            self._ensure_tree(pid, f, "")
        return pid

    def _folder_path(self, ref: dict[str, Any]) -> str:
        return self.ws._folder_path(ref) or ""

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
            key = f"token:{pid}:{tok['name']}:{_sha(json.dumps(value).encode())[:12]}"
            if self.journal.done(key):
                continue
            if MARKETO_TOKEN_TYPES.get(tok["type"], tok["type"]) not in API_TOKEN_TYPES:
                raise MarketoError(f"token {{{{my.{tok['name']}}}}} of type {tok.get('type')!r} cannot be created "
                                   "through the Marketo API", code="PK810")
            kind, text = MARKETO_TOKEN_TYPES.get(tok["type"], tok["type"]), value if isinstance(value, str) \
                else json.dumps(value)
            self.client.post(f"{A}/folder/{pid}/tokens.json", {
                "folderType": "Program", "name": tok["name"], "type": kind, "value": text})
            step = {"key": key, "op": "token", "kind": "token", "id": pid, "name": tok["name"]}
            if before is not None:
                prev = step["previous"] = before.get(tok["name"])
                if prev is not None and prev["type"] == kind and str(prev["value"]) == text:
                    step["unchanged"] = True  # posted again, same type and value: nothing for rollback to put back
            self.journal.add(step)
            self.ws._cache.pop(f"tokens-{pid}", None)  # the plan's read is out of date now

    def update_program(self, program_id: int, data: dict[str, Any]) -> None:
        self._check()
        key = f"update-program:{program_id}:{_sha(json.dumps(data, sort_keys=True).encode())[:12]}"
        # what the program was, journalled with the change so rollback can restore it: its description and
        # tags from the inventory's program list, its tokens as the plan read them (else one call)
        was = next((p for p in self.ws._programs() if p["id"] == program_id), {})
        if not self.journal.done(key):
            res = self.client.post(f"{A}/program/{program_id}.json", {
                "description": data.get("description") or None,
                "tags": [{"tagType": k, "tagValue": v} for k, v in sorted((data.get("tags") or {}).items())] or None})
            self._step(key, "program", res[0] if res else {"id": program_id}, op="update",
                       previous={"description": was.get("description") or "",
                                 "tags": [{"tagType": t["tagType"], "tagValue": t["tagValue"]}
                                          for t in was.get("tags") or []]})
        toks = self.ws._cached(f"tokens-{program_id}", lambda: self.client.get(
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
            node = next((f for f in self.ws._folders() if f["path"].casefold() == current.casefold()
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
                self.ws._folders().append(node)
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
        if kind not in DESIGN and kind not in LOCAL:
            raise MarketoError(f"{kind} {name!r} has no Marketo equivalent", code="PK810")
        if kind in LOCAL and program_id is None:
            raise MarketoError(f"{kind} {name!r} needs a program", code="PK810")
        key = f"asset:{kind}:{program_id}:{name}"
        done = self.journal.done(key)
        # The create is journalled as soon as Marketo answers, before any follow-up call, so a
        # resumed import never creates the same asset twice; follow-ups are steps of their own.
        if done:
            mid = int(done["id"])
        elif kind in DESIGN:
            known = self.ws._design(kind)  # loaded before the create, so the new asset is added once
            res = self._create(name, lambda: self._create_design(kind, name, content, meta),
                               lambda: self.client.browse(DESIGN[kind][1]))
            known.append(res)
            mid = self._step(key, kind, res, sha256=sha256)
        elif kind == "email":
            email = json.loads(content)
            where = self._folder_ref(program_id, folder)
            res = self._create(name, lambda: self.client.post(f"{A}/emails.json", {
                "name": name, "folder": where,
                "template": self._template_id(meta.get("template") or renamed_design(meta, "emailTemplate").get(
                    email["template"].casefold(), email["template"])),  # the keep-both copy, if the import made one
                "subject": email.get("subject", ""), "fromName": email.get("fromName", ""),
                "fromEmail": email.get("fromEmail", ""),
                "replyEmail": email.get("replyTo") or email.get("fromEmail", ""),
                "operational": bool(email.get("operational")), "description": email.get("description") or None})[0],
                lambda: self.client.browse(f"{A}/emails.json", folder=where))
            mid = self._step(key, kind, res, sha256=sha256)
        else:
            campaign = json.loads(content)
            where = self._folder_ref(program_id, folder)
            res = self._create(name, lambda: self.client.post(f"{A}/smartCampaigns.json", {
                "name": name, "folder": where, "description": campaign.get("description") or None})[0],
                lambda: self.client.browse(f"{A}/smartCampaigns.json", folder=where))
            mid = self._step(key, kind, res, sha256=sha256)
        self._follow_up(kind, name, mid, content, folder, program_id, meta.get("index"))
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
                self.ws._design(kind)
                self._root_folder(DESIGN[kind][2])
        if program_id is not None:
            for folder in sorted({item[4] or "" for item in items}):
                self._folder_ref(program_id, folder or None)  # a missing folder is created once, not by each worker
            if any(item[0] == "email" for item in items):
                self.ws._design("emailTemplate")
                self._load_segments(item[2] for item in items if item[0] == "email")
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

    def _load_segments(self, contents: Iterable[bytes]) -> None:
        """Read the segmentations and segments the emails' dynamic content uses, once, before workers need them."""
        for content in contents:
            for spec in (json.loads(content).get("dynamicContent") or {}).values():
                sid = self.ws.segmentation_id(spec["segmentation"])
                if sid is not None:
                    self.ws.segment_names(sid)

    def _follow_up(self, kind: str, name: str, mid: int, content: bytes, folder: str | None,
                   program_id: int | None, index: int | None = None) -> None:
        """Content and checklist steps after a create (each journalled, so resume skips what is done)."""
        key = f"content:{kind}:{mid}"
        if kind not in ("landingPageTemplate", "snippet", "email", "smartCampaign") or self.journal.done(key):
            return
        where = self._folder_path(self._folder_ref(program_id, folder)) if program_id is not None else ""
        step = {"key": key, "op": "content", "kind": kind, "id": mid}
        if kind == "smartCampaign":  # no call: only the checklist
            campaign = json.loads(content)
            self.journal.add(step, self._checklist("smartCampaign", name, mid, where, manual_steps(campaign), index,
                                                   expect=campaign))
            return

        def run() -> None:
            item = None
            if kind in ("landingPageTemplate", "snippet"):
                self._upload_content(kind, mid, _slug(name), content)
            else:
                email = json.loads(content)
                self._email_content(mid, email)
                steps = []
                if email.get("text"):
                    steps.append("Edit Text Version: paste the text version from the bundle "
                                 "(the API sets HTML only)")
                if email.get("modules"):
                    steps.append(f"Check the modules {', '.join(email['modules'])} are present, in that order")
                item = self._checklist("email", name, mid, where, steps, index, expect=email_expect(email))
            self.journal.add(step, item)

        self._submit(run)

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
                                    files={"content": (f"{_slug(name)}.html", content, "text/html")})[0]
        if kind == "image":
            return self.client.post(f"{A}/files.json", {"name": name, "folder": folder, "insertOnly": True},
                                    files={"file": (meta.get("filename") or _slug(name), content,
                                                    meta.get("mimeType") or "application/octet-stream")})[0]
        if kind == "landingPageTemplate":
            return self.client.post(f"{A}/landingPageTemplates.json", {
                "name": name, "folder": folder, "templateType": meta.get("templateType", "freeForm")})[0]
        return self.client.post(f"{A}/snippets.json", {"name": name, "folder": folder})[0]

    def _template_id(self, name: str) -> int:
        hit = next((t for t in self.ws._design("emailTemplate") if t["name"].casefold() == name.casefold()), None)
        if hit is None:
            raise MarketoError(f"email template {name!r} not found in Marketo", code="PK810")
        return int(hit["id"])

    def _email_content(self, mid: int, email: dict[str, Any]) -> None:
        dynamic = email.get("dynamicContent") or {}
        for html_id, value in sorted((email.get("sections") or {}).items()):
            if html_id not in dynamic:  # a dynamic section's static HTML is its Default segment (below)
                self.client.post(f"{A}/email/{mid}/content/{html_id}.json", {"type": "Text", "value": value})
        for var, value in sorted((email.get("variables") or {}).items()):
            self.client.post(f"{A}/email/{mid}/variable/{var}.json", {"value": value})
        if dynamic:
            self._dynamic_content(mid, email)

    def _dynamic_content(self, mid: int, email: dict[str, Any]) -> None:
        """Write an email's dynamic content as Adobe's guide does (Dynamic Content, Marketo developer docs).

        Per section: ``POST email/{id}/content/{htmlId}.json`` with ``type=DynamicContent&value=<segmentation
        id>``; then one ``GET email/{id}/content.json`` for the email, whose dynamic sections' ``value`` is
        their dynamic content id; then per segment ``POST email/{id}/dynamicContent/{contentId}.json`` with
        ``segment=<name>&type=HTML&value=<html>``. Adobe's Swagger leaves ``segment`` out of
        UpdateEmailDynamicContentRequest; the guide sends it, and without it the call could not say which
        segment it sets, so this follows the guide. Each call is a journal step (the content id kept with
        the section's), so a resumed import redoes none that was answered.
        """
        dynamic = email["dynamicContent"]
        content_ids: dict[str, str] = {}
        segmentations: dict[str, int] = {}
        made: list[tuple[str, str]] = []
        for html_id, spec in sorted(dynamic.items()):
            sid = self.ws.segmentation_id(spec["segmentation"])
            if sid is None:
                raise MarketoError(f"segmentation {spec['segmentation']!r} (dynamic content of section {html_id!r}) "
                                   "not found in Marketo", code="PK810")
            segmentations[html_id] = sid
            key = f"dynamic:{mid}:{html_id}:{sid}"
            done = self.journal.done(key)
            if done:
                content_ids[html_id] = str(done["contentId"])
                continue
            self.client.post(f"{A}/email/{mid}/content/{html_id}.json", {"type": "DynamicContent", "value": sid})
            made.append((html_id, key))
        if made:
            sections = {c.get("htmlId"): c for c in self.client.get(f"{A}/email/{mid}/content.json")}
            for html_id, key in made:
                found = sections.get(html_id) or {}
                if found.get("contentType") != "DynamicContent" or not isinstance(found.get("value"), (str, int)):
                    raise MarketoError(f"Marketo did not make section {html_id!r} of email {mid} dynamic (its "
                                       f"content type is {found.get('contentType')!r})", code="PK803")
                content_ids[html_id] = str(found["value"])
                self.journal.add({"key": key, "op": "content", "kind": "email", "id": mid, "section": html_id,
                                  "contentId": content_ids[html_id]})
        for html_id in sorted(dynamic):
            spelled = {n.casefold(): n for n in self.ws.segment_names(segmentations[html_id])}
            for segment, html in _dynamic_segments(email, html_id).items():
                key = f"segment:{mid}:{html_id}:{segment}:{_sha(html.encode('utf-8'))[:12]}"
                if self.journal.done(key):
                    continue
                self.client.post(f"{A}/email/{mid}/dynamicContent/{content_ids[html_id]}.json", {
                    "segment": spelled.get(segment.casefold(), segment), "type": "HTML", "value": html})
                self.journal.add({"key": key, "op": "content", "kind": "email", "id": mid, "section": html_id,
                                  "segment": segment})

    def _upload_content(self, kind: str, mid: int, label: str, content: bytes,
                        entry: dict[str, Any] | None = None) -> None:
        """Put the content of an existing Design Studio asset (after a create, or to replace it)."""
        if kind == "image":  # the file name and type the bundle gave the image, when it gave them
            entry = entry or {}
            self.client.post(f"{A}/file/{mid}/content.json",
                             files={"file": (entry.get("name") or label, content,
                                             entry.get("mimeType") or "application/octet-stream")})
        elif kind == "snippet":
            self.client.post(f"{A}/snippet/{mid}/content.json",
                             query={"type": "HTML", "content": content.decode("utf-8")})
        else:  # emailTemplate, landingPageTemplate: an HTML file
            self.client.post(f"{A}/{kind}/{mid}/content.json",
                             files={"content": (f"{label}.html", content, "text/html")})

    @staticmethod
    def _checklist(kind: str, name: str, mid: int | None, where: str, steps: list[str],
                   index: int | None = None, expect: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """One asset's checklist item (None without steps); ``index``: its manifest position, for the order;
        ``expect``: what the bundle asks for, kept so ``programkit verify`` can compare it with Marketo later."""
        if not steps:
            return None
        item = {"kind": kind, "name": name, "marketoId": mid, "folder": where, "steps": steps}
        item.update({"index": index} if index is not None else {}, **({"expect": expect} if expect else {}))
        return item

    def replace_asset(self, asset_id: int, content: bytes, sha256: str, meta: dict[str, Any] | None = None) -> None:
        self._check()
        kind, mid = split_id(asset_id)
        key = f"replace:{kind}:{mid}:{sha256}"
        if self.journal.done(key):
            return
        name = f"{_slug(kind)}-{mid}"
        if kind in ("emailTemplate", "image", "landingPageTemplate", "snippet"):
            self._upload_content(kind, mid, name, content, (meta or {}).get("entry") or meta or {})
        elif kind == "email":
            self._email_content(mid, json.loads(content))
        item = None
        title = ((meta or {}).get("entry") or {}).get("name") or name
        if kind == "smartCampaign":
            self._campaigns[title] = json.loads(content)
            item = self._checklist(kind, title, mid, "", [REVIEW_CAMPAIGN] + manual_steps(json.loads(content)),
                                   (meta or {}).get("index"), expect=json.loads(content))
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
        _delete(self.client, DESIGN[kind][0] if kind in DESIGN else kind, mid)
        self.journal.add({"key": f"delete:{kind}:{mid}", "op": "delete", "kind": kind, "id": mid})

    def add_tag_value(self, tag_type: str, value: str) -> None:
        self._check()
        if value not in self.ws.tag_types().get(tag_type, set()):
            raise MarketoError(f"tag {tag_type!r} = {value!r} does not exist in Marketo and the API cannot "
                               "create tags", code="PK808")

    def record_import(self, record: ImportRecord) -> int:
        self.drain()  # the checklist is complete only when every follow-up has run
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
        _write_json(path, rows)
        if self.journal.data["checklist"]:
            text = render_checklist(self.journal.checklist())
            (self.ws.state_dir / "checklists").mkdir(parents=True, exist_ok=True)
            self.ws.checklist_file = self.ws.state_dir / "checklists" / f"{self.journal.id}.md"
            self.ws.checklist_file.write_text(text, encoding="utf-8")
        return record.id


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "asset"


def _delete(client: MarketoClient, segment: str, mid: int) -> None:
    if segment == "file":
        raise MarketoError(f"file {mid} cannot be deleted through the Marketo API", code="PK812")
    form = {"type": "Folder"} if segment == "folder" else {}
    client.post(f"{A}/{segment}/{mid}/delete.json", form)


def resume_import(ws: MarketoWorkspace, bundle: Any, journal_id: str = "last") -> ImportRecord:
    """Finish an import that stopped part-way: apply the plan its journal recorded, skipping done steps."""
    from ..apply import apply_plan
    from ..plan import Plan

    journal = ws.resume(journal_id)
    if journal.data["status"] == "complete" or not journal.data.get("plan"):
        ws._resume = None
        raise ProgramkitError(f"journal {journal.id} has nothing to resume ({journal.data['status']})",
                              [make("PK811", f"journal {journal.id} is {journal.data['status']}; nothing to resume")])
    return apply_plan(Plan.from_dict(journal.data["plan"]), bundle, ws)
