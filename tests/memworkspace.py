"""An in-memory Workspace for plan/apply unit tests (the embedded SQLite target is tested on its own).

Transactions snapshot the whole state and restore it on an exception, so
tests can check all-or-nothing behaviour without a database.
"""

from __future__ import annotations

import copy
import hashlib
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

from programkit.rules import copy_pattern
from programkit.workspaces.base import (AssetInfo, FieldInfo, ImportRecord, ProgramInfo, Provenance, Workspace,
                                        WorkspaceWriter)

OPERATIONAL = {"Operational": ["01-Member"]}


class MemoryWorkspace(Workspace, WorkspaceWriter):
    def __init__(self, name: str = "default", *, fields: dict[str, str] | None = None, crm: str | None = "salesforce",
                 channels: dict[str, list[str]] | None = None, tags: dict[str, set[str]] | None = None,
                 names: dict[str, set[str]] | None = None):
        self.name = name
        self.state: dict[str, Any] = {
            "rev": 0, "next": 1,
            "fields": {k: FieldInfo(k, k, t) for k, t in (fields or {}).items()},
            "crm": crm,
            "channels": dict(OPERATIONAL if channels is None else channels),
            "tags": {k: set(v) for k, v in (tags or {}).items()},
            "names": {k: set(v) for k, v in (names or {}).items()},
            "programs": {},  # id → dict(name, data, folders, provenance)
            "assets": {},  # id → dict(kind, name, content, sha256, folder, program_id, meta)
            "history": [],
        }

    # -- reads -------------------------------------------------------------------
    def revision(self) -> str:
        return str(self.state["rev"])

    def fields(self) -> dict[str, FieldInfo]:
        return dict(self.state["fields"])

    def names(self, what: str) -> set[str]:
        if what == "snippets":
            return {a["name"] for a in self.state["assets"].values() if a["kind"] == "snippet"} | \
                self.state["names"].get(what, set())
        return set(self.state["names"].get(what, set()))

    def crm(self) -> str | None:
        return self.state["crm"]

    def channels(self) -> dict[str, list[str]]:
        return dict(self.state["channels"])

    def tag_types(self) -> dict[str, set[str]]:
        return {k: set(v) for k, v in self.state["tags"].items()}

    def _info(self, pid: int) -> ProgramInfo:
        p = self.state["programs"][pid]
        return ProgramInfo(pid, p["name"], copy.deepcopy(p["data"]), p["provenance"])

    def program(self, name: str) -> ProgramInfo | None:
        for pid, p in self.state["programs"].items():
            if p["name"].casefold() == name.casefold():
                return self._info(pid)
        return None

    def programs(self) -> list[ProgramInfo]:
        return [self._info(pid) for pid in self.state["programs"]]

    def _asset_info(self, aid: int) -> AssetInfo:
        a = self.state["assets"][aid]
        return AssetInfo(aid, a["kind"], a["name"], a["sha256"], a["folder"], a["program_id"], dict(a["meta"]))

    def program_assets(self, program_id: int) -> list[AssetInfo]:
        return [self._asset_info(i) for i, a in self.state["assets"].items() if a["program_id"] == program_id]

    def design_assets(self, kind: str, names: Iterable[str]) -> dict[str, AssetInfo]:
        wanted = {n.casefold() for n in names}
        return {a["name"].casefold(): self._asset_info(i) for i, a in self.state["assets"].items()
                if a["kind"] == kind and a["program_id"] is None and a["name"].casefold() in wanted}

    def design_names(self, kind: str, base: str) -> set[str]:
        rx = copy_pattern(kind, base)  # images: "logo - 1.png"
        return {a["name"] for a in self.state["assets"].values() if a["kind"] == kind and a["program_id"] is None
                and rx.fullmatch(a["name"])}

    def read(self, asset_id: int) -> bytes:
        return self.state["assets"][asset_id]["content"]

    def count(self) -> dict[str, int]:
        out: dict[str, int] = {"program": len(self.state["programs"])}
        for a in self.state["assets"].values():
            out[a["kind"]] = out.get(a["kind"], 0) + 1
        return out

    @contextmanager
    def transaction(self) -> Iterator[WorkspaceWriter]:
        saved = copy.deepcopy(self.state)
        try:
            yield self
        except BaseException:
            self.state = saved
            raise

    def history(self, limit: int | None = None) -> list[ImportRecord]:
        rows = list(reversed(self.state["history"]))
        return copy.deepcopy(rows[:limit] if limit else rows)

    # -- writes ------------------------------------------------------------------
    def _id(self) -> int:
        self.state["rev"] += 1
        self.state["next"] += 1
        return self.state["next"] - 1

    def create_program(self, data: dict[str, Any], folder: str | None = None) -> int:
        pid = self._id()
        self.state["programs"][pid] = {"name": data["name"], "data": copy.deepcopy(data), "folders": set(),
                                       "provenance": None}
        return pid

    def update_program(self, program_id: int, data: dict[str, Any]) -> None:
        self._id()
        self.state["programs"][program_id].update(name=data["name"], data=copy.deepcopy(data))

    def ensure_folder(self, program_id: int, path: str) -> None:
        self._id()
        self.state["programs"][program_id]["folders"].add(path)

    def put_asset(self, kind: str, name: str, content: bytes, sha256: str, *, folder: str | None = None,
                  program_id: int | None = None, meta: dict[str, Any] | None = None) -> int:
        assert hashlib.sha256(content).hexdigest() == sha256
        for a in self.state["assets"].values():
            assert not (a["kind"] == kind and a["program_id"] == program_id and a["name"].casefold() == name.casefold()), \
                f"name taken: {kind} {name}"
        aid = self._id()
        self.state["assets"][aid] = dict(kind=kind, name=name, content=content, sha256=sha256, folder=folder,
                                         program_id=program_id, meta=dict(meta or {}))
        return aid

    def replace_asset(self, asset_id: int, content: bytes, sha256: str, meta: dict[str, Any] | None = None) -> None:
        self._id()
        a = self.state["assets"][asset_id]
        a.update(content=content, sha256=sha256)
        if meta is not None:
            a["meta"] = dict(meta)

    def delete_asset(self, asset_id: int) -> None:
        self._id()
        del self.state["assets"][asset_id]

    def add_tag_value(self, tag_type: str, value: str) -> None:
        self._id()
        self.state["tags"].setdefault(tag_type, set()).add(value)

    def record_import(self, record: ImportRecord) -> int:
        rid = self._id()
        record = copy.deepcopy(record)
        record.id = rid
        self.state["history"].append(record)
        if record.outcome in ("applied", "noop"):
            pid = next((m["workspaceId"] for m in record.mapping if m["kind"] == "program"), None)
            if pid is not None and pid in self.state["programs"]:
                self.state["programs"][pid]["provenance"] = Provenance(record.bundle, record.version, record.digest,
                                                                      rid)
        return rid

    # -- test helpers -------------------------------------------------------------
    def add_design(self, kind: str, name: str, content: bytes) -> int:
        return self.put_asset(kind, name, content, hashlib.sha256(content).hexdigest())

    def design(self, kind: str) -> dict[str, bytes]:
        return {a["name"]: a["content"] for a in self.state["assets"].values()
                if a["kind"] == kind and a["program_id"] is None}
