"""A stateful stand-in Marketo Engage REST server for tests and benchmarks.

It answers on 127.0.0.1 with Marketo's real paths, parameter names, request
content types (form, multipart) and response envelopes (``requestId``,
``success``, ``errors``, ``warnings``, ``result``; ``moreResult`` on the lead
database API), as published by Adobe in the Swagger files of
AdobeDocs/marketo-apis. The endpoints it serves, and the parameters each
accepts, are read from ``tests/data/marketo_endpoints.json`` (derived from
those files): a request with a parameter the contract does not name is
refused, so client drift from the contract fails a test.

Like Marketo, it answers API errors with HTTP 200 and ``success: false``:
600/601/602 (token missing/invalid/expired), 606 (rate), 615 (concurrency),
610 (not found), 701 (blank required parameter), 709 (business rule), 1003
(invalid value). Limits and faults are configurable so tests run fast:

- ``rate_limit`` calls per ``rate_window`` seconds (sliding window),
  ``max_concurrent`` calls in flight, ``token_ttl`` seconds per token,
  ``latency`` seconds added to each API call;
- faults (:meth:`FakeMarketo.add_fault` or ``POST /_fake/faults``):
  ``{"code": "606", "times": 3}`` answers the next 3 API calls with 606
  (``{"http": 503, "times": 3}``: with HTTP 503);
  ``{"http": 503, "call": 7}`` answers the 7th API call with HTTP 503 (or
  ``"path": "POST /rest/asset/v1/emails.json"``: the next call of that endpoint; with
  ``"after": true`` it does the work first: a response lost after a create);
  ``{"code": "709", "name": "X"}`` refuses any create/update naming "X";
  ``{"expireTokens": true}`` expires every issued token now (with ``"call"`` or
  ``"path"``: when that call arrives);
  ``POST /_fake/faults/clear`` drops the faults not yet used; a fault that makes no sense (unknown
  key, two effects, no "when", an endpoint the stand-in does not serve) is refused with HTTP 400 and
  a message (:meth:`FakeMarketo.check_fault`);
- what an admin does in the UI (:meth:`FakeMarketo.complete_campaign`, :meth:`FakeMarketo.set_email` or
  ``POST /_fake/edit``): ``{"campaign": "X", "rules": {Marketo's smart-list rules}, "fields": {"isActive": true}}``
  sets a campaign's smart list (read back by ``smartList.json?includeRules=true``),
  ``{"email": "X", "text": "…"}`` an email's text version;
- dynamic content as Adobe's guide writes it: ``POST email/{id}/content/{htmlId}.json`` with
  ``type=DynamicContent&value=<segmentation id>`` makes a section dynamic (its id is then the section's
  value in ``email/{id}/content.json``), ``POST email/{id}/dynamicContent/{id}.json`` with
  ``segment=<name>&type=HTML&value=<html>`` sets one segment (a segment the segmentation does not have:
  709), ``GET segmentation/{id}/segments.json`` lists a segmentation's segments (``segmentations``:
  name -> segment names; each also has "Default").

What real Marketo Engage does that this stand-in models (issue #13), each with the doc it comes from
beside the code (``EL`` = https://experienceleague.adobe.com/en/docs/marketo-developer/marketo/rest/; where
the stand-in has to guess, the comment says "guess"):

- tag types as Marketo writes them: ``applicableProgramTypes`` one bracketed string, allowable values only
  from ``tagType/byName.json``, again one bracketed string; required tag types refuse a program without
  them; program tags only from ``program/{id}.json`` or ``byName`` with ``includeTags=true``;
- folder references in responses as ``{"type", "value", "folderName"}``; each workspace's tree under
  ``/Marketing Activities/<workspace>`` and ``/Design Studio/<workspace>``;
- browse paging: ``maxReturn`` 1..200 (default 20) with ``offset``;
- drafts: templates, emails and snippets are created (and edited) as drafts until ``approveDraft``;
  an email is approved only on an approved template; a template with errors is not approved;
- activation of trigger campaigns (``smartCampaign/{id}/activate.json``), and clone, which copies the
  smart list;
- ``textValue`` (the text version of an email section), ``fullContent.json`` refusing Email 2.0;
- URLs over 8 KB answered HTTP 414; form bodies without ``charset=utf-8`` read as ISO-8859-1;
  token delete needing ``type``;
- forms and static lists (``fake_marketo_forms.py``): a form is created with First Name, Last Name and Email
  and holds only the person fields ``form/fields.json`` offers (not CRM-managed ones; ``fake.unformable_fields``
  takes more away), once each; fields are added one call each (``values`` comma-separated on add, a JSON
  array on update), laid out by ``reArrange.json`` with every field, at most 3 columns and 10 rows; visibility
  rules with Adobe's operators on fields of the form; custom CSS only on update; submit button and thank-you
  rules (``lp`` naming an existing landing page, or ``url``; one default) through their own endpoints;
  drafts until ``approveDraft``; field types read back as the guide shows them (``text``, ``select``). Static
  lists answer folders as ``{"id", "type"}``, have unique names, no description until one is set, and
  refuse deletion while a campaign's smart list names them;
- error codes 607 (daily quota), 608, 611, 612, 713 (``POST /_fake/faults``), malformed answers
  (``{"malformed": "html"|"list"|"null"|"string"|"cut"}``) and redirects (``{"redirect": URL}``).

Landing pages and reusable smart lists (issue #15, ``tests/fake_marketo_pages.py``): a page is created on a
template (name, template, folder required; ``urlPageName`` derived from program and page name when unset, and
one page per URL), as a draft; a guided page gets its sections and variables from its template and they are
updated, never added, a free-form page starts empty and its sections are added; a section must be in the content
list to be updated; dynamic sections inherit the base content in every segment; ``metaTagsDescription`` is
written but never read back (the Swagger's LandingPageResponse lacks it); approval waits for the template and the
forms and snippets placed on the page; an approved page is not deleted (unapprove first). Smart lists are only
queried (``includeRules=true``), cloned (into a program or smart-list folder, a unique name) and deleted (not
while a campaign uses one): the API cannot create one nor write its rules; ``POST /_fake/edit`` with
``{"smartList": name, "rules": {…}, "folder": {…}}`` stands for an admin who builds one in the UI.

Run alone: ``python tests/fake_marketo.py --port 8799`` prints one line once it
listens. Any client id/secret given with ``--client-id/--client-secret`` (or
in ``MARKETO_CLIENT_ID``/``MARKETO_CLIENT_SECRET``) is accepted; with none, any
credentials are.
"""

from __future__ import annotations

import argparse
import collections
import email.parser
import email.policy
import itertools
import json
import mimetypes
import os
import re
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, quote, unquote, urlsplit

ENDPOINTS_FILE = Path(__file__).resolve().parent / "data" / "marketo_endpoints.json"

STANDARD_FIELDS = [
    ("firstName", "First Name", "string"), ("lastName", "Last Name", "string"),
    ("email", "Email Address", "email"), ("phone", "Phone Number", "phone"),
    ("title", "Job Title", "string"), ("company", "Company Name", "string"),
    ("leadScore", "Person Score", "integer"), ("leadStatus", "Person Status", "string"),
    ("leadSource", "Person Source", "string"), ("country", "Country", "string"),
]
SFDC_FIELDS = [("sfdcLeadId", "SFDC Lead ID", "string"), ("sfdcContactId", "SFDC Contact ID", "string"),
               ("sfdcType", "SFDC Type", "string")]
CHANNELS = {
    "Operational": ("Program", [("01-Member", 1, False)]),
    "Email Blast": ("Email", [("Not in Program", 0, False), ("Member", 10, False), ("Engaged", 20, True)]),
    "Nurture": ("Nurture", [("Not in Program", 0, False), ("Member", 10, False), ("Engaged", 20, True)]),
}
PROGRAM_TYPES = {"Default", "Event", "Event with Webinar", "Engagement", "Email"}
TOKEN_TYPES = {"date", "number", "rich text", "score", "sfdc campaign", "text"}
NO_ASSETS = "No assets found for the given search criteria."
#: the segmentations an instance starts with (segments in Marketo's order; "Default" is added to each)
SEGMENTATIONS = {"Industry": ["Manufacturing", "Healthcare", "Retail"]}
#: endpoints whose answers name a folder as {"id", "type"}, as Adobe's guide shows them (static lists), rather
#: than the {"type", "value", "folderName"} of the other assets
ID_FOLDER_ANSWERS: set[str] = set()


class ApiError(Exception):
    """A Marketo error answered as HTTP 200 with success:false."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ+0000", time.gmtime())


def _load_contract() -> dict[tuple[str, str], dict[str, Any]]:
    data = json.loads(ENDPOINTS_FILE.read_text(encoding="utf-8"))
    return {(e["method"], e["path"]): e for e in data["endpoints"]}


class FakeMarketo:
    """The server's state, limits and faults. ``start()`` serves it on an ephemeral port."""

    def __init__(self, client_id: str | None = None, client_secret: str | None = None, *,
                 rate_limit: int = 100, rate_window: float = 20.0, max_concurrent: int = 10,
                 token_ttl: float = 3600.0, latency: float = 0.0, crm: str | None = "salesforce",
                 tag_types: dict[str, list[str]] | None = None,
                 segmentations: tuple[str, ...] | dict[str, list[str]] = SEGMENTATIONS,
                 extra_fields: tuple[tuple[str, str, str], ...] = (),
                 workspaces: tuple[str, ...] = ("Default",),
                 required_tags: dict[str, list[str]] | None = None):
        # Marketo workspaces each have their own tree under /Marketing Activities and /Design Studio
        # (EL assets/folders: "path": "/Marketing Activities/Default/…"; the root of a workspace is a folder
        # of folderType "Zone" -- guess: the type name is what the UI calls it)
        self.workspaces = tuple(workspaces)
        # tag type -> the program types (Marketo's tokens: program, email_batch, nurture, event, webinar) for
        # which it is required (EL assets/tags: "required": true, "applicableProgramTypes": "[event]")
        self.required_tags = dict(required_tags or {})
        self.client_id, self.client_secret = client_id, client_secret
        self.rate_limit, self.rate_window, self.max_concurrent = rate_limit, rate_window, max_concurrent
        self.token_ttl, self.latency = token_ttl, latency
        self.contract = _load_contract()
        self.lock = threading.RLock()
        self.tokens: dict[str, float] = {}  # token -> expiry (monotonic)
        self.calls: collections.deque[float] = collections.deque()  # accepted API call times in the window
        self.active = 0
        self.faults: list[dict[str, Any]] = []
        self.after: dict[int, int] = {}  # thread -> HTTP status to answer after doing the work
        self.stats: dict[str, Any] = {"calls": 0, "accepted": 0, "identity": 0, "maxActive": 0,
                                      "codes": collections.Counter(), "http": collections.Counter(),
                                      "paths": collections.Counter(), "maxInWindow": 0}
        self.ids = collections.defaultdict(lambda: itertools.count(1001))
        self.folders: dict[int, dict[str, Any]] = {}
        self.programs: dict[int, dict[str, Any]] = {}
        self.tokens_by_folder: dict[tuple[str, int], dict[str, dict[str, str]]] = {}
        self.assets: dict[str, dict[int, dict[str, Any]]] = collections.defaultdict(dict)
        self.fields = list(STANDARD_FIELDS) + (SFDC_FIELDS if crm == "salesforce" else []) + list(extra_fields)
        self.tag_types = tag_types if tag_types is not None else {
            "Program Purpose": ["Lead Management", "Nurture", "Events"], "Region": ["EMEA", "AMER", "APAC"]}
        # segmentation name -> its segments, in Marketo's order; every segmentation ends in "Default"
        self.segments = {name: [x for x in (segmentations[name] if isinstance(segmentations, dict) else [])
                                if x != "Default"] + ["Default"] for name in segmentations}
        self.segmentations = list(self.segments)
        self._seed()
        self.redirected: list[dict[str, str]] = []  # headers a redirect target received (see RedirectSink)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- state -----------------------------------------------------------------------
    def _seed(self) -> None:
        # ids 3-6 stay the Default workspace's Design Studio folders (tests post to them by id)
        self.folders[1] = self._folder_record(1, "Marketing Activities", None, "/Marketing Activities",
                                              "Marketing Folder", workspace=None)
        self.folders[2] = self._folder_record(2, "Design Studio", None, "/Design Studio", "Marketing Folder",
                                              workspace=None)
        ids = iter([3, 4, 5, 6] + list(range(20, 100)))
        for ws in self.workspaces:
            zone = next(ids)
            ds = {}
            for name, ftype in (("Email Templates", "Email Template"), ("Images and Files", "Image"),
                                ("Landing Page Templates", "Landing Page Template"), ("Snippets", "Snippet")):
                ds[name] = zone if not ds else next(ids)
            # the Design Studio folders of a workspace: /Design Studio/<workspace>/<kind> (EL assets/folders)
            for name, fid in ds.items():
                self.folders[fid] = self._folder_record(fid, name, {"id": 2, "type": "Folder"},
                                                        f"/Design Studio/{ws}/{name}",
                                                        {"Email Templates": "Email Template", "Images and Files":
                                                         "Image", "Landing Page Templates": "Landing Page Template",
                                                         "Snippets": "Snippet"}[name], workspace=ws)
            root = next(ids) if ws != "Default" else 8
            self.folders[root] = self._folder_record(root, ws, {"id": 1, "type": "Folder"},
                                                     f"/Marketing Activities/{ws}", "Zone", workspace=ws)
            if ws == "Default":
                self.folders[7] = self._folder_record(7, "Operational", {"id": 8, "type": "Folder"},
                                                      "/Marketing Activities/Default/Operational",
                                                      "Marketing Folder")

    def _folder_record(self, fid: int, name: str, parent: dict | None, path: str, ftype: str,
                       description: str = "", workspace: str | None = "") -> dict[str, Any]:
        if workspace == "":  # a folder belongs to the workspace whose tree it is in
            workspace = path.split("/")[2] if path.count("/") >= 2 else None
        return {"id": fid, "name": name, "description": description, "createdAt": _now(), "updatedAt": _now(),
                "url": None, "folderId": {"id": fid, "type": "Folder"}, "folderType": ftype, "parent": parent,
                "path": path, "isArchive": False, "isSystem": fid < 1000, "accessZoneId": 1, "workspace": workspace}

    def workspace_of(self, ref: dict[str, Any]) -> str | None:
        """The workspace whose tree folder ``ref`` is in (the second part of its path)."""
        parts = self.path_of(ref).split("/")
        return parts[2] if len(parts) > 2 else None

    def public_ref(self, ref: dict[str, Any] | None) -> dict[str, Any] | None:
        """A folder reference as Marketo's responses write it: ``{"type", "value", "folderName"}``
        (EL assets/programs, Get Program by Id: "folder": {"type": "Folder", "value": 1910, "folderName": …});
        requests name a folder as ``{"id", "type"}`` (Swagger definition Folder)."""
        if not ref:
            return ref
        rid, rtype = ref.get("id", ref.get("value")), ref.get("type")
        if rtype == "Program":
            name = self.programs[rid]["name"] if rid in self.programs else None
        else:
            name = self.folders[rid]["name"] if rid in self.folders else None
        return {"type": rtype, "value": rid, "folderName": name}

    def check_fault(self, fault: Any) -> dict[str, Any]:
        """``fault`` checked and normalised (``code`` as a string); :class:`FaultSpecError` says what is wrong.

        A fault is one effect -- ``code`` (a Marketo error code: ``success: false``), ``http`` (an HTTP
        status, 400-599) or ``expireTokens`` -- and when it strikes: ``times`` (the next N API calls),
        ``call`` (the Nth API call), ``path`` ("METHOD /rest/..." as in the contract: the next call of that
        endpoint) or, for a code, ``name`` (any create/update naming it). ``after`` (with ``http``) does the
        work first; ``message`` (with ``code``) replaces Marketo's message.
        """
        if not isinstance(fault, dict):
            raise FaultSpecError(f"a fault is a JSON object, not {type(fault).__name__}")
        unknown = sorted(set(fault) - FAULT_KEYS)
        if unknown:
            raise FaultSpecError(f"unknown key(s) {', '.join(unknown)}; a fault has {', '.join(sorted(FAULT_KEYS))}")
        effects = [k for k in ("code", "http", "expireTokens", "malformed", "redirect") if k in fault]
        if len(effects) != 1:
            raise FaultSpecError("a fault has exactly one of code, http, expireTokens, malformed, redirect"
                                 + (f" (got {', '.join(effects)})" if effects else ""))
        whens = [k for k in ("times", "call", "path", "name") if k in fault]
        if len(whens) > 1:
            raise FaultSpecError(f"a fault strikes on one of times, call, path, name (got {', '.join(whens)})")
        out = dict(fault)
        if "code" in fault:
            if isinstance(fault["code"], bool) or not re.fullmatch(r"\d{3,4}", str(fault["code"])):
                raise FaultSpecError(f"code must be a Marketo error code such as \"606\", not {fault['code']!r}")
            out["code"] = str(fault["code"])
        if "http" in fault and (type(fault["http"]) is not int or not 400 <= fault["http"] <= 599):
            raise FaultSpecError(f"http must be an HTTP error status 400-599, not {fault['http']!r}")
        if "malformed" in fault and fault["malformed"] not in MALFORMED:
            raise FaultSpecError(f"malformed must be one of {', '.join(sorted(MALFORMED))}")
        if "redirect" in fault and not str(fault["redirect"]).startswith("http://127.0.0.1:"):
            raise FaultSpecError("redirect must be a URL on 127.0.0.1")
        if "expireTokens" in fault and fault["expireTokens"] is not True:
            raise FaultSpecError("expireTokens must be true")
        for key in ("times", "call"):
            if key in fault and (type(fault[key]) is not int or fault[key] < 1):
                raise FaultSpecError(f"{key} must be a whole number of at least 1, not {fault[key]!r}")
        if "path" in fault:
            method, _, spath = str(fault["path"]).partition(" ")
            if (method, spath) not in self.contract:
                raise FaultSpecError(f"path {fault['path']!r} is not an endpoint the stand-in serves "
                                     "(\"METHOD /rest/...\" as in tests/data/marketo_endpoints.json)")
        if "name" in fault and ("code" not in fault or not isinstance(fault["name"], str)):
            raise FaultSpecError("name (a string) goes with a code: creates and updates naming it are refused")
        if "expireTokens" in fault and whens and whens[0] not in ("call", "path"):
            raise FaultSpecError("expireTokens strikes now, or on a call or path")
        if not whens and "expireTokens" not in fault:
            raise FaultSpecError("say when the fault strikes: times, call, path or name")
        if "after" in fault and ("http" not in fault or not isinstance(fault["after"], bool)):
            raise FaultSpecError("after (true or false) goes with http: the work is done, then the answer is lost")
        if "message" in fault and ("code" not in fault or not isinstance(fault["message"], str)):
            raise FaultSpecError("message (a string) goes with code")
        return out

    def add_fault(self, fault: dict[str, Any]) -> None:
        fault = self.check_fault(fault)
        with self.lock:
            if fault.get("expireTokens") and "call" not in fault and "path" not in fault:
                self.tokens = {t: 0.0 for t in self.tokens}
            else:
                self.faults.append(dict(fault))

    def complete_campaign(self, name: str, rules: dict[str, Any] | None = None, **fields: Any) -> None:
        """Stand in for an admin who finished a campaign in the Marketo UI: its smart-list rules (Marketo's
        shape: filterMatchType, triggers, filters with conditions) and record fields (isActive, …)."""
        with self.lock:
            rec = next(a for a in self.assets["smartCampaign"].values() if a["name"] == name)
            if rules is not None:
                rec["_rules"] = rules
                rec["type"] = "trigger" if rules.get("triggers") else "batch"
            rec.update(fields, updatedAt=_now())

    def set_email(self, name: str, *, text: str | None = None, dynamic: dict[str, Any] | None = None,
                  **fields: Any) -> None:
        """Edit an email as the Marketo UI would: its text version, dynamic content ({section id:
        {"segmentation": name, "segments": {segment: html}}}), record fields."""
        with self.lock:
            rec = next(a for a in self.assets["email"].values() if a["name"] == name)
            if text is not None:
                rec["_text"] = text
            for html_id, spec in (dynamic or {}).items():
                rec["_sections"].setdefault(html_id, "")
                rec["_dynamic"][html_id] = spec
            rec.update(fields, updatedAt=_now())

    def snapshot(self) -> dict[str, Any]:
        """Stats and state as JSON-able data (also served at GET /_fake/stats)."""
        with self.lock:
            s = {k: (dict(v) if isinstance(v, collections.Counter) else v) for k, v in self.stats.items()}
            s["programs"] = sorted(p["name"] for p in self.programs.values())
            s["folders"] = sorted(f["path"] for f in self.folders.values())
            s["assets"] = {k: sorted(a["name"] for a in v.values()) for k, v in self.assets.items()}
            s["tokens"] = {f"{t}:{i}": sorted(v) for (t, i), v in self.tokens_by_folder.items()}
            return s

    # -- serving ---------------------------------------------------------------------
    def start(self, port: int = 0) -> str:
        fake = self

        class Handler(_Handler):
            server_state = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    # -- request handling --------------------------------------------------------------
    def identity(self, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.stats["identity"] += 1
            ok = query.get("grant_type") == "client_credentials" and query.get("client_id") and (
                self.client_id is None or (query.get("client_id") == self.client_id
                                           and query.get("client_secret") == self.client_secret))
            if not ok:
                return 401, {"error": "unauthorized", "error_description": "Bad client credentials"}
            token = f"{secrets.token_hex(8)}:fk"
            self.tokens[token] = time.monotonic() + self.token_ttl
            return 200, {"access_token": token, "token_type": "bearer", "expires_in": int(self.token_ttl),
                         "scope": "api-user@example.com"}

    def admit(self, auth: str | None, endpoint: str = "") -> tuple[int | None, str | None]:
        """Apply auth, faults, rate and concurrency rules. Returns (http status, Marketo code) to refuse with."""
        with self.lock:
            self.stats["calls"] += 1
            n = self.stats["calls"]
            for f in list(self.faults):
                hit = f.get("call") == n or ("path" in f and f["path"] == endpoint)
                if hit and f.get("expireTokens"):
                    self.faults.remove(f)  # tokens run out just now: this call meets an expired token
                    self.tokens = {t: 0.0 for t in self.tokens}
                elif hit and "http" in f and f.get("after"):
                    self.faults.remove(f)  # do the work, then answer with the error (a lost response)
                    self.after[threading.get_ident()] = f["http"]
                elif hit and "http" in f:
                    self.faults.remove(f)
                    return f["http"], None
                elif hit and ("malformed" in f or "redirect" in f):
                    self.faults.remove(f)
                    return 0, f.get("malformed") or f"redirect:{f['redirect']}"
                elif hit and "code" in f and "times" not in f and "name" not in f:
                    self.faults.remove(f)  # one call of that endpoint answers success:false with the code
                    return None, f["code"]
                if "times" in f and f["times"] > 0:
                    f["times"] -= 1
                    if f["times"] == 0:
                        self.faults.remove(f)
                    if "malformed" in f or "redirect" in f:
                        return 0, f.get("malformed") or f"redirect:{f['redirect']}"
                    if "http" not in f:
                        return None, f["code"]
                    if not f.get("after"):
                        return f["http"], None
                    self.after[threading.get_ident()] = f["http"]
            token = (auth or "").removeprefix("Bearer ").strip()
            if not token:
                return None, "600"
            if token not in self.tokens:
                return None, "601"
            if self.tokens[token] <= time.monotonic():
                return None, "602"
            now = time.monotonic()
            while self.calls and self.calls[0] <= now - self.rate_window:
                self.calls.popleft()
            if len(self.calls) >= self.rate_limit:
                return None, "606"
            if self.active >= self.max_concurrent:
                return None, "615"
            self.calls.append(now)
            self.active += 1
            self.stats["accepted"] += 1
            self.stats["maxActive"] = max(self.stats["maxActive"], self.active)
            self.stats["maxInWindow"] = max(self.stats["maxInWindow"], len(self.calls))
            return None, None

    def release(self) -> None:
        with self.lock:
            self.active -= 1

    def name_fault(self, params: dict[str, Any]) -> None:
        for f in self.faults:
            if f.get("name") is not None and f["name"] in (params.get("name"), params.get("value")):
                raise ApiError(f["code"], f.get("message", f"Business rule violation for '{f['name']}'"))

    # -- helpers used by routes --------------------------------------------------------
    def new_id(self, kind: str) -> int:
        return next(self.ids[kind])

    def folder_ref(self, raw: Any, name: str = "folder") -> dict[str, Any]:
        try:
            ref = json.loads(raw) if isinstance(raw, str) else raw
            ref = {"id": int(ref["id"]), "type": ref["type"]}
        except (TypeError, ValueError, KeyError):
            raise ApiError("1003", f"Invalid value for '{name}': must be JSON {{\"id\": N, \"type\": \"Folder\"}}")
        if ref["type"] == "Folder" and ref["id"] not in self.folders:
            raise ApiError("710", f"Parent folder {ref['id']} not found")
        if ref["type"] == "Program" and ref["id"] not in self.programs:
            raise ApiError("710", f"Parent program {ref['id']} not found")
        if ref["type"] not in ("Folder", "Program"):
            raise ApiError("1003", f"Invalid folder type '{ref['type']}'")
        return ref

    def path_of(self, ref: dict[str, Any]) -> str:
        if ref["type"] == "Program":
            return self.programs[ref["id"]]["_path"]
        return self.folders[ref["id"]]["path"]

    def under(self, ref: dict[str, Any] | None, root: dict[str, Any] | None) -> bool:
        """Whether folder ``ref`` is ``root`` or below it."""
        if root is None:
            return True
        if ref is None:
            return False
        return self.path_of(ref) == self.path_of(root) or self.path_of(ref).startswith(self.path_of(root) + "/")


def _page(items: list[dict[str, Any]], q: dict[str, str], default: int = 20) -> dict[str, Any]:
    try:
        max_return = int(q.get("maxReturn", default))
        offset = int(q.get("offset", 0))
    except ValueError:
        raise ApiError("1003", "maxReturn and offset must be integers")
    if not 1 <= max_return <= 200:
        raise ApiError("1003", "maxReturn must be between 1 and 200")
    chunk = items[offset:offset + max_return]
    if not chunk:
        return {"warnings": [NO_ASSETS]}
    return {"result": chunk}


def _public(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rec.items() if not k.startswith("_")}


# -- routes: (method, swagger path) -> handler(fake, path params, query+form params, files) -----------------
Route = Callable[[FakeMarketo, dict[str, str], dict[str, Any], dict[str, bytes]], dict[str, Any]]
ROUTES: dict[tuple[str, str], Route] = {}


def route(method: str, path: str) -> Callable[[Route], Route]:
    def deco(fn: Route) -> Route:
        ROUTES[(method, path)] = fn
        return fn
    return deco


A = "/rest/asset/v1"


@route("GET", "/rest/v1/leads/describe2.json")
def _describe(fk, pp, q, files):
    return {"result": [{"name": "API Lead", "searchableFields": [["email"], ["id"]],
                        "fields": [{"name": n, "displayName": d, "dataType": t, "length": 255 if t == "string" else None,
                                    "updateable": True, "crmManaged": n.startswith("sfdc")}
                                   for n, d, t in fk.fields]}],
            "moreResult": False}


@route("GET", "/rest/v1/customobjects.json")
def _custom_objects(fk, pp, q, files):
    return {"result": [], "moreResult": False}


@route("GET", f"{A}/folders.json")
def _folders(fk, pp, q, files):
    root = fk.folder_ref(q["root"], "root") if "root" in q else None
    depth = int(q.get("maxDepth", 2))
    base = fk.path_of(root).count("/") if root else 0
    nodes = list(fk.folders.values()) + [
        {**_public(p), "folderId": {"id": p["id"], "type": "Program"}, "folderType": "Marketing Program",
         "path": p["_path"], "parent": p["folder"]} for p in fk.programs.values()]
    out = [n for n in nodes if (root is None or fk.under(n["folderId"], root))
           and n["path"].count("/") - base <= depth
           # workSpace: only that workspace's folders (and the shared roots) (Swagger getFolderByNameUsingGET)
           and ("workSpace" not in q or n.get("workspace") in (None, q["workSpace"]))]
    out.sort(key=lambda n: n["path"])
    return _page(out, q)


@route("POST", f"{A}/folders.json")
def _folder_create(fk, pp, q, files):
    parent = fk.folder_ref(q.get("parent"), "parent")
    path = f"{fk.path_of(parent)}/{q['name']}"
    if any(f["path"].casefold() == path.casefold() for f in fk.folders.values()):
        raise ApiError("709", f"Folder '{q['name']}' already exists in the parent folder")
    fid = fk.new_id("folder")
    fk.folders[fid] = fk._folder_record(fid, q["name"], parent, path, "Marketing Folder", q.get("description", ""),
                                        workspace=fk.workspace_of(parent))
    return {"result": [fk.folders[fid]]}


@route("POST", f"{A}/folder/{{id}}/delete.json")
def _folder_delete(fk, pp, q, files):
    fid = int(pp["id"])
    if fid not in fk.folders:
        raise ApiError("702", f"Folder {fid} not found")
    ref = {"id": fid, "type": "Folder"}
    if any(f["parent"] == ref for f in fk.folders.values()) or any(
            a["folder"] == ref for kind in fk.assets.values() for a in kind.values()):
        raise ApiError("709", "Folder is not empty")
    del fk.folders[fid]
    return {"result": [{"id": fid}]}


def _tokens_of(fk: FakeMarketo, ftype: str, fid: int) -> dict[str, Any]:
    toks = fk.tokens_by_folder.get((ftype, fid), {})
    return {"folder": {"type": ftype, "value": fid}, "tokens": list(toks.values())}


@route("GET", f"{A}/folder/{{id}}/tokens.json")
def _tokens(fk, pp, q, files):
    ftype = q.get("folderType", "Folder")
    fk.folder_ref({"id": pp["id"], "type": ftype})
    return {"result": [_tokens_of(fk, ftype, int(pp["id"]))]}


@route("POST", f"{A}/folder/{{id}}/tokens.json")
def _token_put(fk, pp, q, files):
    ftype = q.get("folderType", "Folder")
    fk.folder_ref({"id": pp["id"], "type": ftype})
    if q["type"] not in TOKEN_TYPES:
        raise ApiError("1003", f"Invalid token type '{q['type']}'")
    if len(q["name"]) > 50:
        raise ApiError("1003", "Token name is longer than 50 characters")
    fk.tokens_by_folder.setdefault((ftype, int(pp["id"])), {})[q["name"]] = {
        "name": q["name"], "type": q["type"], "value": q["value"], "computedUrl": None}
    return {"result": [_tokens_of(fk, ftype, int(pp["id"]))]}


@route("POST", f"{A}/folder/{{id}}/tokens/delete.json")
def _token_delete(fk, pp, q, files):
    ftype = q.get("folderType", "Folder")
    toks = fk.tokens_by_folder.get((ftype, int(pp["id"])), {})
    # Swagger DeleteTokenRequest: folderType, name, type -- a token is deleted by name and type
    # (guess: that Marketo refuses the call without type, as the issue reports)
    if not q.get("type"):
        raise ApiError("701", "type cannot be blank")
    if q.get("name") in toks and toks[q["name"]]["type"] != q["type"]:
        raise ApiError("702", f"Token '{q.get('name')}' of type '{q['type']}' not found")
    if toks.pop(q.get("name", ""), None) is None:
        raise ApiError("702", f"Token '{q.get('name')}' not found")
    return {"result": [{"id": int(pp["id"])}]}


#: Marketo program type -> its token in applicableProgramTypes (EL assets/tags: "[program,email_batch,nurture,event,
#: webinar]"; guess: which token is which type, from the names)
TYPE_TOKENS = {"Default": "program", "Email": "email_batch", "Engagement": "nurture", "Event": "event",
               "Event with Webinar": "webinar"}


def _tags_ok(fk: FakeMarketo, raw: str | None, program_type: str | None = None) -> list[dict[str, str]]:
    tags = json.loads(raw) if raw else []
    if program_type is not None:  # EL assets/programs: tags "can be configured to be optional or required"
        given = {t.get("tagType") for t in tags}
        for ttype, applies in fk.required_tags.items():
            if TYPE_TOKENS.get(program_type) in applies and ttype not in given:
                # guess: the code and wording Marketo uses for a missing required tag
                raise ApiError("709", f"Tag type '{ttype}' is required for programs of type '{program_type}'")
    for t in tags:
        if t.get("tagType") not in fk.tag_types:
            raise ApiError("709", f"Tag type '{t.get('tagType')}' not found")
        if t.get("tagValue") not in fk.tag_types[t["tagType"]]:
            raise ApiError("709", f"Invalid value '{t.get('tagValue')}' for tag type '{t['tagType']}'")
    return tags


def _program_public(p: dict[str, Any], tags: bool) -> dict[str, Any]:
    # EL assets/programs, Browse: "tags associated with a program are not returned by this endpoint. Program
    # tags can be retrieved by using either Get Programs by Id or Get Programs by Name" (byName: includeTags)
    out = _public(p)
    if not tags:
        out.pop("tags", None)
    return out


@route("GET", f"{A}/programs.json")
def _programs(fk, pp, q, files):
    return _page([_program_public(p, False) for p in sorted(fk.programs.values(), key=lambda p: p["id"])], q)


@route("GET", f"{A}/program/{{id}}.json")
def _program_by_id(fk, pp, q, files):
    p = fk.programs.get(int(pp["id"]))
    return {"result": [_program_public(p, True)]} if p else {"warnings": [NO_ASSETS]}


@route("POST", f"{A}/programs.json")
def _program_create(fk, pp, q, files):
    folder = fk.folder_ref(q.get("folder"))
    if q["type"] not in PROGRAM_TYPES:
        raise ApiError("1003", f"Invalid program type '{q['type']}'")
    if q["channel"] not in CHANNELS:
        raise ApiError("1003", f"Invalid channel '{q['channel']}'")
    if any(p["name"].casefold() == q["name"].casefold() for p in fk.programs.values()):
        raise ApiError("709", f"Program name '{q['name']}' is already in use")
    tags = _tags_ok(fk, q.get("tags"), q["type"])
    pid = fk.new_id("program")
    fk.programs[pid] = {"id": pid, "name": q["name"], "description": q.get("description", ""), "type": q["type"],
                        "channel": q["channel"], "folder": folder, "status": "", "tags": tags,
                        "costs": json.loads(q.get("costs") or "[]"), "createdAt": _now(), "updatedAt": _now(),
                        "url": None, "workspace": fk.workspace_of(folder), "_path": f"{fk.path_of(folder)}/{q['name']}"}
    return {"result": [_public(fk.programs[pid])]}


@route("GET", f"{A}/program/byName.json")
def _program_by_name(fk, pp, q, files):
    with_tags = str(q.get("includeTags", "false")).lower() == "true"
    hits = [_program_public(p, with_tags) for p in fk.programs.values() if p["name"].casefold() == q["name"].casefold()]
    return {"result": hits} if hits else {"warnings": [NO_ASSETS]}


@route("POST", f"{A}/program/{{id}}.json")
def _program_update(fk, pp, q, files):
    p = fk.programs.get(int(pp["id"]))
    if p is None:
        raise ApiError("702", f"Program {pp['id']} not found")
    if "tags" in q:
        p["tags"] = _tags_ok(fk, q["tags"], p["type"])
    for k in ("description", "name"):
        if k in q:
            p[k] = q[k]
    p["updatedAt"] = _now()
    return {"result": [_public(p)]}


@route("POST", f"{A}/program/{{id}}/delete.json")
def _program_delete(fk, pp, q, files):
    pid = int(pp["id"])
    p = fk.programs.pop(pid, None)
    if p is None:
        raise ApiError("702", f"Program {pid} not found")
    prefix = p["_path"] + "/"
    for fid in [f for f, rec in fk.folders.items() if rec["path"].startswith(prefix)]:
        del fk.folders[fid]
    for kind in fk.assets:  # Swagger deleteProgramUsingPOST: the program goes with its local assets
        for aid in [a for a, rec in fk.assets[kind].items() if rec.get("_path", "").startswith(prefix)]:
            del fk.assets[kind][aid]
    fk.tokens_by_folder.pop(("Program", pid), None)
    return {"result": [{"id": pid}]}


@route("GET", f"{A}/channels.json")
def _channels(fk, pp, q, files):
    return _page([{"id": i + 1, "name": n, "applicableProgramType": t, "createdAt": _now(), "updatedAt": _now(),
                   "progressionStatuses": [{"name": s, "step": st, "success": ok, "hidden": False, "type": ""}
                                           for s, st, ok in sts]}
                  for i, (n, (t, sts)) in enumerate(CHANNELS.items())], q)


ALL_TYPES = "[program,email_batch,nurture,event,webinar]"


def _tag_record(fk: FakeMarketo, name: str) -> dict[str, Any]:
    # EL assets/tags (developers.marketo.com/rest-api/assets/programs/tags/): "applicableProgramTypes":
    # "[program,email_batch,nurture,event,webinar]", "required": true -- one bracketed string, not a list
    applies = fk.required_tags.get(name)
    return {"tagType": name, "applicableProgramTypes": f"[{','.join(applies)}]" if applies else ALL_TYPES,
            "required": bool(applies)}


@route("GET", f"{A}/tagTypes.json")
def _tag_types(fk, pp, q, files):
    # EL assets/tags: "The list of allowable values for a tag is only returned when the tag is queried by name"
    return _page([_tag_record(fk, t) for t in fk.tag_types], q)


@route("GET", f"{A}/tagType/byName.json")
def _tag_type(fk, pp, q, files):
    if q["name"] not in fk.tag_types:
        return {"warnings": [NO_ASSETS]}
    # EL assets/tags, By Name: "allowableValues": "[AAA1 RT1, AAA1 RT2, AAA1 RT3, AAA1 RT4]" -- one string
    return {"result": [{**_tag_record(fk, q["name"]),
                        "allowableValues": "[" + ", ".join(fk.tag_types[q["name"]]) + "]"}]}


@route("GET", f"{A}/segmentation.json")
def _segmentations(fk, pp, q, files):
    return {"result": [{"id": i + 1, "name": n, "status": "approved", "folder": {"id": 2, "type": "Folder"},
                        "workspace": "Default"} for i, n in enumerate(fk.segmentations)]}


def _segmentation(fk: FakeMarketo, raw_id: Any) -> str:
    """The name of segmentation ``raw_id`` (ids are 1-based positions in fk.segmentations)."""
    sid = int(raw_id) if str(raw_id).isdigit() else 0
    if not 1 <= sid <= len(fk.segmentations):
        raise ApiError("702", f"Segmentation {raw_id} not found")
    return fk.segmentations[sid - 1]


@route("GET", f"{A}/segmentation/{{id}}/segments.json")
def _segments(fk, pp, q, files):
    name = _segmentation(fk, pp["id"])
    sid = int(pp["id"])
    return _page([{"id": sid * 100 + i, "name": seg, "description": None, "createdAt": _now(), "updatedAt": _now(),
                   "url": None, "status": "approved", "segmentationId": sid}
                  for i, seg in enumerate(fk.segments[name], 1)], q)


# Design Studio assets share one shape: name unique per kind, content stored as bytes.
DESIGN = {"emailTemplate": 3, "landingPageTemplate": 5, "file": 4, "snippet": 6}


def _design_list(fk: FakeMarketo, kind: str, q: dict[str, Any]) -> dict[str, Any]:
    items = [_public(a) for a in sorted(fk.assets[kind].values(), key=lambda a: a["id"])]
    if "folder" in q and kind == "file":
        ref = fk.folder_ref(q["folder"])
        items = [a for a in items if fk.under(a["folder"], ref)]
    return _page(items, q)


def _design_create(fk: FakeMarketo, kind: str, q: dict[str, Any], content: bytes | None,
                   **extra: Any) -> dict[str, Any]:
    folder = fk.folder_ref(q.get("folder"))
    if any(a["name"].casefold() == q["name"].casefold() for a in fk.assets[kind].values()):
        raise ApiError("709", f"Asset name '{q['name']}' is already in use")
    aid = fk.new_id(kind)
    rec = {"id": aid, "name": q["name"], "description": q.get("description", ""), "folder": folder,
           # EL assets/email-templates, snippets: a new asset is a draft until approveDraft.json
           "status": "draft", "createdAt": _now(), "updatedAt": _now(), "url": None,
           "workspace": fk.workspace_of(folder), "_content": content or b"", **extra}
    fk.assets[kind][aid] = rec
    return {"result": [_public(rec)]}


def _asset(fk: FakeMarketo, kind: str, raw_id: str) -> dict[str, Any]:
    rec = fk.assets[kind].get(int(raw_id))
    if rec is None:
        raise ApiError("702", f"{kind} {raw_id} not found")
    return rec


def _delete(fk: FakeMarketo, kind: str, raw_id: str) -> dict[str, Any]:
    _asset(fk, kind, raw_id)
    if kind == "emailTemplate" and any(e["template"] == int(raw_id) for e in fk.assets["email"].values()):
        raise ApiError("709", "Email template is used by an email")
    del fk.assets[kind][int(raw_id)]
    return {"result": [{"id": int(raw_id)}]}


def _content(fk: FakeMarketo, kind: str, raw_id: str) -> dict[str, Any]:
    rec = _asset(fk, kind, raw_id)
    return {"result": [{"id": rec["id"], "content": rec["_content"].decode("utf-8"), "status": rec["status"]}]}


def _set_content(fk: FakeMarketo, kind: str, raw_id: str, content: bytes | None) -> dict[str, Any]:
    rec = _asset(fk, kind, raw_id)
    if content is None:
        raise ApiError("701", "content cannot be blank")
    rec["_content"], rec["updatedAt"] = content, _now()
    _edited(rec)
    return {"result": [{"id": rec["id"]}]}


def _edited(rec: dict[str, Any]) -> None:
    """An edit makes a draft: Marketo keeps the approved version live until the draft is approved (EL
    assets/emails, Approve: "approveDraft … approves the current draft"; guess: one record whose status
    says draft, rather than the two records an approved-with-draft asset can have in a browse)."""
    if "status" in rec:
        rec["status"] = "draft"


_DUP_ID = re.compile(r'\bid="([^"]+)"')


def _approve(fk: FakeMarketo, kind: str, raw_id: str) -> dict[str, Any]:
    rec = _asset(fk, kind, raw_id)
    if kind == "emailTemplate":
        ids = _DUP_ID.findall(rec["_content"].decode("utf-8", "replace"))
        dups = sorted({i for i in ids if ids.count(i) > 1})
        if dups:  # guess: Marketo's validation of a template's editable ids on approval
            raise ApiError("709", f"Template has errors: duplicate id(s) {', '.join(dups)}")
    if kind == "email":
        template = fk.assets["emailTemplate"].get(rec["template"])
        if template is not None and template["status"] != "approved":
            # guess: an email on a template that was never approved cannot be approved
            raise ApiError("709", "Email template is not approved")
    rec["status"], rec["updatedAt"] = "approved", _now()
    return {"result": [{"id": rec["id"]}]}


def _by_id(fk: FakeMarketo, kind: str, raw_id: str) -> dict[str, Any]:
    # Swagger getEmailByIdUsingGET and its siblings: one record (approved, else the draft)
    return {"result": [_public(_asset(fk, kind, raw_id))]}


@route("GET", f"{A}/email/{{id}}.json")
def _email_by_id(fk, pp, q, files):
    return _by_id(fk, "email", pp["id"])


@route("GET", f"{A}/emailTemplate/{{id}}.json")
def _et_by_id(fk, pp, q, files):
    return _by_id(fk, "emailTemplate", pp["id"])


@route("GET", f"{A}/snippet/{{id}}.json")
def _snippet_by_id(fk, pp, q, files):
    return _by_id(fk, "snippet", pp["id"])


@route("GET", f"{A}/landingPageTemplate/{{id}}.json")
def _lpt_by_id(fk, pp, q, files):
    return _by_id(fk, "landingPageTemplate", pp["id"])


@route("POST", f"{A}/emailTemplate/{{id}}/approveDraft.json")
def _et_approve(fk, pp, q, files):
    return _approve(fk, "emailTemplate", pp["id"])


@route("POST", f"{A}/email/{{id}}/approveDraft.json")
def _email_approve(fk, pp, q, files):
    return _approve(fk, "email", pp["id"])


@route("POST", f"{A}/snippet/{{id}}/approveDraft.json")
def _snippet_approve(fk, pp, q, files):
    return _approve(fk, "snippet", pp["id"])


@route("POST", f"{A}/landingPageTemplate/{{id}}/approveDraft.json")
def _lpt_approve(fk, pp, q, files):
    return _approve(fk, "landingPageTemplate", pp["id"])


@route("GET", f"{A}/emailTemplates.json")
def _et_list(fk, pp, q, files):
    return _design_list(fk, "emailTemplate", q)


@route("POST", f"{A}/emailTemplates.json")
def _et_create(fk, pp, q, files):
    if "content" not in files:
        raise ApiError("701", "content cannot be blank (multipart file)")
    return _design_create(fk, "emailTemplate", q, files["content"], version=2)


@route("GET", f"{A}/emailTemplate/{{id}}/content")
def _et_content(fk, pp, q, files):
    return _content(fk, "emailTemplate", pp["id"])


@route("POST", f"{A}/emailTemplate/{{id}}/content.json")
def _et_set(fk, pp, q, files):
    return _set_content(fk, "emailTemplate", pp["id"], files.get("content"))


@route("POST", f"{A}/emailTemplate/{{id}}/delete.json")
def _et_delete(fk, pp, q, files):
    return _delete(fk, "emailTemplate", pp["id"])


@route("GET", f"{A}/landingPageTemplates.json")
def _lpt_list(fk, pp, q, files):
    return _design_list(fk, "landingPageTemplate", q)


@route("POST", f"{A}/landingPageTemplates.json")
def _lpt_create(fk, pp, q, files):
    ttype = q.get("templateType", "freeForm")
    if ttype not in ("guided", "freeForm"):
        raise ApiError("1003", f"Invalid templateType '{ttype}'")
    return _design_create(fk, "landingPageTemplate", q, None, templateType=ttype, enableMunchkin=True)


@route("GET", f"{A}/landingPageTemplate/{{id}}/content.json")
def _lpt_content(fk, pp, q, files):
    return _content(fk, "landingPageTemplate", pp["id"])


@route("POST", f"{A}/landingPageTemplate/{{id}}/content.json")
def _lpt_set(fk, pp, q, files):
    return _set_content(fk, "landingPageTemplate", pp["id"], files.get("content"))


@route("POST", f"{A}/landingPageTemplate/{{id}}/delete.json")
def _lpt_delete(fk, pp, q, files):
    return _delete(fk, "landingPageTemplate", pp["id"])


@route("GET", f"{A}/files.json")
def _file_list(fk, pp, q, files):
    return _design_list(fk, "file", q)


@route("POST", f"{A}/files.json")
def _file_create(fk, pp, q, files):
    if "file" not in files:
        raise ApiError("701", "file cannot be blank (multipart file)")
    mime = mimetypes.guess_type(q["name"])[0] or "application/octet-stream"
    return _design_create(fk, "file", q, files["file"], mimeType=mime, size=len(files["file"]),
                          url=f"{fk.url}/rs/fake-munchkin/images/{quote(q['name'])}")


@route("POST", f"{A}/file/{{id}}/content.json")
def _file_set(fk, pp, q, files):
    return _set_content(fk, "file", pp["id"], files.get("file"))


@route("GET", f"{A}/snippets.json")
def _snippet_list(fk, pp, q, files):
    return _design_list(fk, "snippet", q)


@route("POST", f"{A}/snippets.json")
def _snippet_create(fk, pp, q, files):
    return _design_create(fk, "snippet", q, None)


@route("GET", f"{A}/snippet/{{id}}/content.json")
def _snippet_content(fk, pp, q, files):
    rec = _asset(fk, "snippet", pp["id"])
    return {"result": [{"type": "HTML", "content": rec["_content"].decode("utf-8")}]}


@route("POST", f"{A}/snippet/{{id}}/content.json")
def _snippet_set(fk, pp, q, files):
    return _set_content(fk, "snippet", pp["id"], q["content"].encode("utf-8") if "content" in q else None)


@route("POST", f"{A}/snippet/{{id}}/delete.json")
def _snippet_delete(fk, pp, q, files):
    return _delete(fk, "snippet", pp["id"])


def _local_list(fk: FakeMarketo, kind: str, q: dict[str, Any]) -> dict[str, Any]:
    items = sorted(fk.assets[kind].values(), key=lambda a: a["id"])
    if "folder" in q:
        ref = fk.folder_ref(q["folder"])
        items = [a for a in items if fk.under(a["folder"], ref)]
    return _page([_public(a) for a in items], q)


def _local_create(fk: FakeMarketo, kind: str, q: dict[str, Any], **extra: Any) -> dict[str, Any]:
    folder = fk.folder_ref(q.get("folder"))
    path = fk.path_of(folder)
    # local asset names are unique within their program
    prog_path = next((p["_path"] for p in fk.programs.values() if (path + "/").startswith(p["_path"] + "/")), path)
    if any(a["name"].casefold() == q["name"].casefold() and a["_path"].startswith(prog_path + "/")
           for a in fk.assets[kind].values()):
        raise ApiError("709", f"Asset name '{q['name']}' is already in use in this program")
    aid = fk.new_id(kind)
    rec = {"id": aid, "name": q["name"], "description": q.get("description", ""), "folder": folder,
           "createdAt": _now(), "updatedAt": _now(), "workspace": fk.workspace_of(folder),
           "_path": f"{path}/{q['name']}", **extra}
    fk.assets[kind][aid] = rec
    return {"result": [_public(rec)]}


@route("GET", f"{A}/emails.json")
def _email_list(fk, pp, q, files):
    return _local_list(fk, "email", q)


@route("POST", f"{A}/emails.json")
def _email_create(fk, pp, q, files):
    try:
        template = int(q["template"])
    except ValueError:
        raise ApiError("1003", "template must be an email template id")
    if template not in fk.assets["emailTemplate"]:
        raise ApiError("710", f"Email template {template} not found")
    # A new Email 2.0 email starts with the template's modules marked mktoAddByDefault="true", in template order
    # (EL assets/emails, Modules; guess: that the others start absent)
    modules = [m for m, by_default in _template_modules(fk, template) if by_default]
    return _local_create(fk, "email", q, template=template, _modules=modules, status="draft", subject={"type": "Text", "value": q["subject"]},
                         fromName={"type": "Text", "value": q["fromName"]},
                         fromEmail={"type": "Text", "value": q["fromEmail"]},
                         replyEmail={"type": "Text", "value": q["replyEmail"]},
                         operational=str(q.get("operational", "false")).lower() == "true", textOnly=False,
                         publishToMSI=False, webView=False, autoCopyToText=False, preHeader=None, version=2,
                         _sections={}, _section_types={}, _variables={}, _text=None, _dynamic={})


@route("POST", f"{A}/email/{{id}}/content/{{htmlId}}.json")
def _email_section(fk, pp, q, files):
    rec = _asset(fk, "email", pp["id"])
    if q.get("type") not in ("Text", "DynamicContent", "Snippet"):
        raise ApiError("1003", "type must be Text, DynamicContent or Snippet")
    html_id = pp["htmlId"]
    if q["type"] == "DynamicContent":  # value: the segmentation's id; the section keeps its content as default
        if not str(q["value"]).isdigit():
            raise ApiError("1003", f"Invalid value '{q['value']}': a DynamicContent section takes a segmentation id")
        name = _segmentation(fk, q["value"])
        old = rec["_dynamic"].get(html_id)
        rec["_sections"].setdefault(html_id, "")
        if old is None or old["segmentation"] != name:  # another segmentation: its segments start empty
            rec["_dynamic"][html_id] = {"segmentation": name, "segments": {}}
    else:
        rec["_dynamic"].pop(html_id, None)
        rec["_sections"][html_id] = q["value"]
    if "textValue" in q:  # Swagger UpdateEmailComponentContentRequest.textValue: the section's text version
        rec.setdefault("_section_text", {})[html_id] = q["textValue"]
    rec["_section_types"][html_id] = q["type"]
    _edited(rec)
    return {"result": [{"id": rec["id"]}]}


_MODULE = re.compile(r'<[^>]*\bclass="[^"]*\bmktoModule\b[^"]*"[^>]*>')


def _template_modules(fk: FakeMarketo, template: int) -> list[tuple[str, bool]]:
    """An Email 2.0 template's modules: (id, mktoAddByDefault) in the template's order."""
    html = fk.assets["emailTemplate"][template]["_content"].decode("utf-8", "replace")
    out = []
    for tag in _MODULE.findall(html):
        mid = re.search(r'\bid="([^"]+)"', tag)
        if mid:
            out.append((mid.group(1), 'mktoaddbydefault="false"' not in tag.lower()))
    return out


@route("POST", f"{A}/email/{{id}}/content/{{moduleId}}/add.json")
def _email_module_add(fk, pp, q, files):
    # Swagger addModuleUsingPOST: "Adds a new module to an email, with the given id"; name and index in the query
    rec = _asset(fk, "email", pp["id"])
    known = [m for m, _ in _template_modules(fk, rec["template"])]
    if pp["moduleId"] not in known:
        raise ApiError("702", f"Module '{pp['moduleId']}' is not in the email's template")
    if pp["moduleId"] in rec["_modules"]:  # guess: one instance of each module (Marketo numbers copies)
        raise ApiError("709", f"Module '{pp['moduleId']}' is already in the email")
    index = int(q.get("index", len(rec["_modules"])))
    rec["_modules"].insert(index, pp["moduleId"])
    _edited(rec)
    return {"result": [{"id": rec["id"]}]}


@route("POST", f"{A}/email/{{id}}/content/{{moduleId}}/delete.json")
def _email_module_delete(fk, pp, q, files):
    rec = _asset(fk, "email", pp["id"])
    if pp["moduleId"] not in rec["_modules"]:
        raise ApiError("702", f"Module '{pp['moduleId']}' not found in the email")
    rec["_modules"].remove(pp["moduleId"])
    _edited(rec)
    return {"result": [{"id": rec["id"]}]}


@route("POST", f"{A}/email/{{id}}/content/rearrange.json")
def _email_module_rearrange(fk, pp, q, files):
    # Swagger rearrangeModulesUsingPOST: positions, "JSON array of module positions. Each position must be a JSON
    # object with members 'index' and a 'moduleId'"
    rec = _asset(fk, "email", pp["id"])
    try:
        positions = json.loads(q["positions"])
        order = sorted(positions, key=lambda p: int(p["index"]))
        ids = [p["moduleId"] for p in order]
    except (ValueError, KeyError, TypeError):
        raise ApiError("1003", "positions must be a JSON array of {index, moduleId}")
    if sorted(ids) != sorted(rec["_modules"]):
        raise ApiError("709", "positions must name each module of the email once")
    rec["_modules"] = ids
    _edited(rec)
    return {"result": [{"id": rec["id"]}]}


@route("GET", f"{A}/email/{{id}}/content.json")
def _email_content(fk, pp, q, files):
    rec = _asset(fk, "email", pp["id"])
    # modules first, in the email's order (guess: EL assets/emails lists an email's modules among its content
    # sections with contentType "Module"; their exact place in the list is not documented)
    out = [{"htmlId": m, "contentType": "Module", "value": {"moduleId": m}, "index": i, "isLocked": False,
            "parentHtmlId": None} for i, m in enumerate(rec.get("_modules") or [])]
    for i, (html_id, value) in enumerate(rec["_sections"].items()):
        ctype = rec["_section_types"].get(html_id, "Text")
        text = (rec.get("_section_text") or {}).get(html_id, re.sub(r"<[^>]*>", "", value))
        shown: Any = [{"type": "HTML", "value": value}, {"type": "Text", "value": text}] if ctype == "Text" else value
        if html_id in rec["_dynamic"]:
            ctype, shown = "DynamicContent", f"RVMtU2VjdGlvbi{i}"  # Marketo's dynamic content ids are opaque
        out.append({"htmlId": html_id, "contentType": ctype, "value": shown, "index": len(out), "isLocked": False,
                    "parentHtmlId": None})
    return {"result": out} if out else {"warnings": [NO_ASSETS]}


def _dynamic_section(fk: FakeMarketo, pp: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The email and the dynamic section (segmentation, segments) that content id ``pp["contentId"]`` names."""
    rec = _asset(fk, "email", pp["id"])
    html_id = next((h for i, h in enumerate(rec["_sections"]) if f"RVMtU2VjdGlvbi{i}" == pp["contentId"]), None)
    if html_id not in rec["_dynamic"]:
        raise ApiError("702", f"Dynamic content {pp['contentId']} not found")
    return rec, rec["_dynamic"][html_id]


@route("GET", f"{A}/email/{{id}}/dynamicContent/{{contentId}}.json")
def _email_dynamic(fk, pp, q, files):
    rec, spec = _dynamic_section(fk, pp)
    seg_id = fk.segmentations.index(spec["segmentation"]) + 1
    order = fk.segments.get(spec["segmentation"], [])
    return {"result": [{"id": rec["id"], "segmentation": seg_id, "createdAt": rec["createdAt"],
                        "updatedAt": rec["updatedAt"],
                        "content": [{"id": str(i + 1), "segmentId": seg_id * 100 + (order.index(name) + 1 if name in
                                                                                   order else 0),
                                     "segmentName": name, "type": "HTML", "content": html}
                                    for i, (name, html) in enumerate(spec["segments"].items())]}]}


@route("POST", f"{A}/email/{{id}}/dynamicContent/{{contentId}}.json")
def _email_dynamic_set(fk, pp, q, files):
    # ``segment`` is in Adobe's guide (Dynamic Content), not in the Swagger's UpdateEmailDynamicContentRequest
    rec, spec = _dynamic_section(fk, pp)
    if q["type"] not in ("HTML", "Text"):
        raise ApiError("1003", f"Invalid type '{q['type']}' for a dynamic content segment: must be HTML or Text")
    if q.get("segment") not in fk.segments.get(spec["segmentation"], []):
        raise ApiError("709", f"Segment '{q.get('segment')}' not found in segmentation '{spec['segmentation']}'")
    spec["segments"][q["segment"]] = q["value"]
    _edited(rec)
    return {"result": [{"id": rec["id"]}]}


@route("GET", f"{A}/email/{{id}}/variables.json")
def _email_variables(fk, pp, q, files):
    rec = _asset(fk, "email", pp["id"])
    out = [{"name": k, "value": v, "moduleScope": False} for k, v in rec["_variables"].items()]
    return {"result": out} if out else {"warnings": [NO_ASSETS]}


@route("GET", f"{A}/email/{{id}}/fullContent.json")
def _email_full(fk, pp, q, files):
    rec = _asset(fk, "email", pp["id"])
    if rec.get("version") == 2:
        # The issue (#13): fullContent serves Email 1.0 only; a 2.0 email is read through its content
        # sections (guess: the code and wording of the refusal)
        raise ApiError("709", "Full content is not supported for Email 2.0; use the email content endpoints")
    if str(q.get("type", "HTML")).lower() == "text":
        content = rec.get("_text") or ""
    else:
        content = fk.assets["emailTemplate"][rec["template"]]["_content"].decode("utf-8")
    return {"result": [{"id": rec["id"], "status": rec["status"], "content": content}]}


@route("POST", f"{A}/email/{{id}}/variable/{{name}}.json")
def _email_variable(fk, pp, q, files):
    rec = _asset(fk, "email", pp["id"])
    rec["_variables"][pp["name"]] = q.get("value", "")
    _edited(rec)
    return {"result": [{"name": pp["name"], "value": q.get("value", "")}]}


@route("POST", f"{A}/email/{{id}}/delete.json")
def _email_delete(fk, pp, q, files):
    return _delete(fk, "email", pp["id"])


@route("GET", f"{A}/smartCampaigns.json")
def _sc_list(fk, pp, q, files):
    return _local_list(fk, "smartCampaign", q)


@route("POST", f"{A}/smartCampaigns.json")
def _sc_create(fk, pp, q, files):
    return _local_create(fk, "smartCampaign", q, type="default", isSystem=False, isActive=False,
                         isRequestable=False, qualificationRuleType="once", isCommunicationLimitEnabled=False,
                         status="Never Run", smartListId=None, flowId=None)


@route("GET", f"{A}/smartCampaign/{{id}}/smartList.json")
def _sc_smart_list(fk, pp, q, files):
    rec = _asset(fk, "smartCampaign", pp["id"])
    out = {"id": rec["id"], "name": rec["name"], "description": "", "createdAt": rec["createdAt"],
           "updatedAt": rec["updatedAt"], "url": None, "folder": rec["folder"], "workspace": "Default"}
    if str(q.get("includeRules", "false")).lower() == "true":
        out["rules"] = rec.get("_rules") or {"filterMatchType": "All", "triggers": [], "filters": []}
    return {"result": [out]}


@route("GET", f"{A}/smartCampaign/{{id}}.json")
def _sc_get(fk, pp, q, files):
    return {"result": [_public(_asset(fk, "smartCampaign", pp["id"]))]}


@route("POST", f"{A}/smartCampaign/{{id}}/activate.json")
def _sc_activate(fk, pp, q, files):
    rec = _asset(fk, "smartCampaign", pp["id"])
    # Swagger activateSmartCampaignUsingPOST: "Activates a trigger smart campaign" -- one with no trigger
    # cannot be (guess: the code and wording)
    if not (rec.get("_rules") or {}).get("triggers"):
        raise ApiError("709", "Cannot activate a smart campaign without triggers")
    rec["isActive"], rec["status"], rec["updatedAt"] = True, "Active", _now()
    return {"result": [{"id": rec["id"]}]}


@route("POST", f"{A}/smartCampaign/{{id}}/deactivate.json")
def _sc_deactivate(fk, pp, q, files):
    rec = _asset(fk, "smartCampaign", pp["id"])
    rec["isActive"], rec["status"], rec["updatedAt"] = False, "Inactive", _now()
    return {"result": [{"id": rec["id"]}]}


@route("POST", f"{A}/smartCampaign/{{id}}/clone.json")
def _sc_clone(fk, pp, q, files):
    # EL assets/smart-campaigns, Clone: the copy has the original's smart list (triggers and filters) and flow
    src = _asset(fk, "smartCampaign", pp["id"])
    out = _local_create(fk, "smartCampaign", q, **{k: v for k, v in src.items() if k not in (
        "id", "name", "description", "folder", "createdAt", "updatedAt", "workspace", "_path")})
    new = fk.assets["smartCampaign"][out["result"][0]["id"]]
    new["isActive"], new["status"] = False, "Never Run"
    return out


@route("POST", f"{A}/smartCampaign/{{id}}/delete.json")
def _sc_delete(fk, pp, q, files):
    return _delete(fk, "smartCampaign", pp["id"])


# -- HTTP plumbing ---------------------------------------------------------------------------------------
def _pattern(p: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", lambda mo: rf"(?P<{mo.group(1)}>" + (
        r"\d+)" if mo.group(1) == "id" else r"[^/]+)"), re.escape(p)) + "$")  # Marketo's ids are numbers


def _patterns() -> list[tuple[str, str, re.Pattern[str]]]:
    """The routes' path patterns, built when first needed: area modules (imported at the end) add routes."""
    if len(_PATTERNS) != len(ROUTES):
        _PATTERNS[:] = [(m, p, _pattern(p)) for m, p in ROUTES]
    return _PATTERNS


_PATTERNS: list[tuple[str, str, re.Pattern[str]]] = []
#: what an admin does in the UI for an area module's assets: ``POST /_fake/edit`` with that key
EDITS: dict[str, Callable[[FakeMarketo, dict[str, Any]], None]] = {}


def _parse_multipart(ctype: str, body: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {ctype}\r\n\r\n".encode("latin-1") + body)
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            files[name] = payload
        else:
            fields[name] = payload.decode("utf-8")
    return fields, files


class _Handler(BaseHTTPRequestHandler):
    server_state: FakeMarketo
    protocol_version = "HTTP/1.1"
    # headers and body go out in separate writes: without TCP_NODELAY a client that keeps its connection open
    # (httpx's pool) waits ~40 ms per answer for a delayed ACK -- a stand-in artefact, not Marketo's behaviour
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - never log: URLs carry secrets
        pass

    def do_GET(self) -> None:  # noqa: N802
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _odd(self, what: str) -> None:
        """An answer that is not Marketo's envelope (guess: what proxies and dropped connections give)."""
        if what.startswith("redirect:"):
            self.send_response(302)
            self.send_header("Location", what.removeprefix("redirect:"))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if what == "cut":  # the body is cut short: Content-Length promises more than is sent
            data = b'{"requestId": "1#1", "success": true, "result": [{"id": 1'
            self.send_response(200)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(data) + 100))
            self.end_headers()
            self.wfile.write(data)
            self.close_connection = True
            return
        body = {"html": b"<html><body><h1>502 Bad Gateway</h1></body></html>", "list": b"[]", "null": b"null",
                "string": b'"Service Unavailable"'}[what]
        self.send_response(200)
        self.send_header("Content-Type", "text/html" if what == "html" else "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self, method: str) -> None:
        fk = self.server_state
        if len(self.path) > 8192:
            # EL error-codes: "414 will be returned when the URI of a GET request exceeds 8KB" (any method here)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            return self._send(414, {"error": "Request-URI Too Long"})
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if url.path.startswith("/_fake/"):
            return self._control(method, url.path, body)
        if url.path.startswith("/rs/") and method == "GET":  # a file's public URL: no token, not an API call
            name = unquote(url.path.rsplit("/", 1)[-1])
            with fk.lock:
                rec = next((a for a in fk.assets["file"].values() if a["name"] == name), None)
            if rec is None:
                return self._send(404, {"error": "not found"})
            self.send_response(200)
            self.send_header("Content-Type", rec["mimeType"])
            self.send_header("Content-Length", str(len(rec["_content"])))
            self.end_headers()
            self.wfile.write(rec["_content"])
            return None
        if url.path == "/identity/oauth/token" and method == "GET":
            return self._send(*fk.identity(query))
        match = next(((m, p, mo) for m, p, rx in _patterns() if m == method and (mo := rx.match(url.path))), None)
        if match is None:
            return self._send(404, {"error": f"no such endpoint: {method} {url.path}"})
        _, spath, mo = match
        status, code = fk.admit(self.headers.get("Authorization"), f"{method} {spath}")
        request_id = f"{secrets.token_hex(3)}#{int(time.time() * 1000):x}"
        with fk.lock:
            fk.stats["paths"][f"{method} {spath}"] += 1
        if status == 0:  # a malformed answer or a redirect (faults)
            return self._odd(str(code))
        if status is not None:
            with fk.lock:
                fk.stats["http"][str(status)] += 1
            return self._send(status, {"error": "injected server error"})
        if code is not None:
            with fk.lock:
                fk.stats["codes"][code] += 1
            return self._send(200, _failure(request_id, code, _MESSAGES.get(code, "Injected error")))
        try:
            if fk.latency:
                time.sleep(fk.latency)
            params, files = dict(query), {}
            ctype = self.headers.get("Content-Type", "")
            contract = fk.contract[(method, spath)]
            if body and ctype.startswith("multipart/form-data"):
                if contract["consumes"] != "multipart/form-data":
                    raise ApiError("1003", f"{spath} does not take multipart/form-data")
                fields, files = _parse_multipart(ctype, body)
                params.update(fields)
            elif body:
                if not ctype.startswith("application/x-www-form-urlencoded"):
                    # EL error-codes: 612 "Invalid Content Type"
                    raise ApiError("612", f"Invalid Content Type {ctype!r}")
                # A form body is read in the charset it declares; without one, as ISO-8859-1 (guess: the HTTP
                # default for text bodies; the issue saw non-ASCII values garbled without charset=utf-8)
                charset = "utf-8" if "charset=utf-8" in ctype.replace(" ", "").lower() else "latin-1"
                params.update({k: v[-1] for k, v in parse_qs(body.decode(charset), keep_blank_values=True,
                                                             encoding=charset).items()})
            allowed = {p["name"] for p in contract["params"]}
            unknown = sorted((set(params) | set(files)) - allowed)
            if unknown:
                raise ApiError("1003", f"fake: parameter(s) {', '.join(unknown)} not in Adobe's contract for {spath}")
            for p in contract["params"]:
                if (p.get("required") and p["in"] in ("query", "formData") and p["name"] not in params
                        and p["name"] not in files):  # a required formData file arrives as a multipart file
                    raise ApiError("701", f"{p['name']} cannot be blank")
            with fk.lock:
                if method == "POST":
                    fk.name_fault(params)
                result = ROUTES[(method, spath)](fk, mo.groupdict(), params, files)
            envelope = {"requestId": request_id, "success": True, "errors": [], "warnings": []}
            with fk.lock:
                for item in result.get("result") or []:
                    if isinstance(item, dict) and isinstance(item.get("folder"), dict) and "id" in item["folder"] \
                            and spath not in ID_FOLDER_ANSWERS:
                        item["folder"] = fk.public_ref(item["folder"])
            envelope.update(result)
            with fk.lock:
                lost = fk.after.pop(threading.get_ident(), None)
                if lost:
                    fk.stats["http"][str(lost)] += 1
            reply = ((lost, {"error": "injected server error after the work was done"}) if lost
                     else (200, envelope))
        except ApiError as e:
            with fk.lock:
                fk.stats["codes"][e.code] += 1
            reply = (200, _failure(request_id, e.code, e.message))
        except KeyError as e:
            with fk.lock:
                fk.stats["codes"]["701"] += 1
            reply = (200, _failure(request_id, "701", f"{e.args[0]} cannot be blank"))
        finally:
            with fk.lock:
                fk.after.pop(threading.get_ident(), None)
            # The call stops counting against the concurrency limit once it is processed, before its
            # answer goes out: a client that starts its next call on receipt never overlaps it here.
            fk.release()
        self._send(*reply)

    def _control(self, method: str, path: str, body: bytes) -> None:
        fk = self.server_state
        if path == "/_fake/stats" and method == "GET":
            return self._send(200, fk.snapshot())
        if path == "/_fake/faults/clear" and method == "POST":
            with fk.lock:
                fk.faults.clear()
            return self._send(200, {"ok": True})
        if path == "/_fake/edit" and method == "POST":  # edits an admin makes in the Marketo UI
            data = json.loads(body or b"{}")
            try:
                area = next((k for k in EDITS if k in data), None)
                if area is not None:
                    with fk.lock:
                        EDITS[area](fk, data)
                elif "campaign" in data:
                    fk.complete_campaign(data["campaign"], data.get("rules"), **data.get("fields", {}))
                elif "approve" in data:  # an admin approves a draft: {"approve": "emailTemplate", "name": "…"}
                    with fk.lock:
                        kind = {"image": "file"}.get(data["approve"], data["approve"])
                        next(a for a in fk.assets[kind].values() if a["name"] == data["name"])["status"] = "approved"
                else:
                    fk.set_email(data["email"], text=data.get("text"), dynamic=data.get("dynamic"),
                                 **data.get("fields", {}))
            except (KeyError, StopIteration):
                return self._send(404, {"error": "no such campaign, email or asset"})
            return self._send(200, {"ok": True})
        if path == "/_fake/faults" and method == "POST":
            try:  # every fault checked before any is added: a bad list adds none
                data = json.loads(body or b"[]")
                faults = [fk.check_fault(f) for f in (data if isinstance(data, list) else [data])]
            except ValueError as e:  # FaultSpecError, or a body that is not JSON
                return self._send(400, {"error": f"bad fault spec: {e}"})
            for fault in faults:
                fk.add_fault(fault)
            return self._send(200, {"ok": True, "faults": len(faults)})
        self._send(404, {"error": "no such control endpoint"})


class HeaderSink:
    """Another host (another port on 127.0.0.1) that a redirect fault points at: it records the headers each
    request brought (to show an Authorization header never follows a redirect there) and answers like
    Marketo would, so a client that followed would take it for an answer."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []
        sink = self

        class H(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def _any(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                sink.seen.append({k.lower(): v for k, v in self.headers.items()})
                data = json.dumps({"requestId": "0#0", "success": True, "result": []}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _any  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class FaultSpecError(ValueError):
    """A fault posted to ``/_fake/faults`` (or given to :meth:`FakeMarketo.add_fault`) that makes no sense."""


FAULT_KEYS = frozenset({"code", "http", "expireTokens", "malformed", "redirect", "times", "call", "path", "name", "after",
                        "message"})
#: malformed answers a proxy, a gateway or a dropped connection can give instead of Marketo's envelope (guess:
#: Adobe documents none of these; a client must still not crash on them)
MALFORMED = frozenset({"html", "list", "null", "string", "cut"})

_MESSAGES = {
    "600": "Access token missing", "601": "Access token invalid", "602": "Access token expired",
    "604": "Request timed out", "606": "Max rate limit exceeded", "611": "System error",
    "615": "Concurrent access limit reached", "702": "No data found for the given search criteria",
    "709": "Business rule violation",
    # EL error-codes
    "607": "Daily quota reached", "608": "API Temporarily Unavailable", "612": "Invalid Content Type",
    "713": "Transient Error",
}


def _failure(request_id: str, code: str, message: str) -> dict[str, Any]:
    return {"requestId": request_id, "success": False, "errors": [{"code": code, "message": message}],
            "warnings": []}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Stand-in Marketo REST server on 127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--client-id", default=os.environ.get("MARKETO_CLIENT_ID"))
    ap.add_argument("--client-secret", default=os.environ.get("MARKETO_CLIENT_SECRET"))
    ap.add_argument("--rate-limit", type=int, default=100)
    ap.add_argument("--rate-window", type=float, default=20.0)
    ap.add_argument("--max-concurrent", type=int, default=10)
    ap.add_argument("--token-ttl", type=float, default=3600.0)
    ap.add_argument("--latency", type=float, default=0.0)
    args = ap.parse_args(argv)
    fake = FakeMarketo(args.client_id, args.client_secret, rate_limit=args.rate_limit,
                       rate_window=args.rate_window, max_concurrent=args.max_concurrent,
                       token_ttl=args.token_ttl, latency=args.latency)
    print(f"fake-marketo listening on {fake.start(args.port)}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fake.stop()
    return 0


# area modules add their routes with @route (run as a script, this module is __main__: they import it by name)
sys.modules.setdefault("fake_marketo", sys.modules[__name__])
import fake_marketo_pages  # noqa: E402,F401  landing pages and reusable smart lists (issue #15)
import fake_marketo_forms  # noqa: E402,F401  forms and static lists (issue #15)

if __name__ == "__main__":
    sys.exit(main())
