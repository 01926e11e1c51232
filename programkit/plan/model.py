"""What a plan is: :class:`Action` and :class:`Plan`, plain data with their JSON form, and the mapping an import
records from them. Everything else in the plan stage builds, checks or reads these."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..findings import Finding, Severity
from ..rules import Rules
from ..workspaces.base import DESIGN_KINDS

PLAN_FORMAT = "programkit-plan/1"
#: Every action a plan can hold. ``delete`` only appears with ``--prune``.
ACTIONS = ("create", "reuse", "rename", "replace", "update", "skip", "noop", "delete")
#: Actions that write to the workspace.
WRITES = ("create", "rename", "replace", "update", "delete")
#: What unblocks the writes of a plan a program-level problem stops (``Action.blocked_by``), as the plan says it.
UNBLOCK = {
    "PK510": "import under another name with --as NAME; they are what that import would create",
    "PK511": "import a newer version, or pass --allow-downgrade to go back to this one; they are what the "
             "downgrade would write",
    "PK512": "give the changed bundle a new version (e.g. 1.0.1); they are what that upgrade in place would write",
}


@dataclass
class Action:
    """One planned action on one bundle item (or on a workspace item the bundle no longer has)."""

    kind: str  # program | folder | token | tag | an asset kind
    name: str
    action: str
    decided_by: str = "default"
    reason: str = ""
    as_name: str | None = None  # the name in the workspace when it differs (rename, --as)
    folder: str | None = None
    path: str | None = None  # bundle file (assets)
    sha256: str | None = None
    target_id: int | None = None  # the workspace item acted on (reuse/replace/update/noop/delete)
    #: a Design Studio asset this bundle wrote (created, copied, replaced): later versions update it in place
    owned: bool = False
    #: a local asset whose name or folder changed: apply moves it (the interface has no rename)
    moved: bool = False
    #: other programs that use the workspace asset this action deletes or replaces (kept, or needs a flag)
    used_by: list[str] = field(default_factory=list)
    #: the problem code (PK510/PK511/PK512) that stops this write: it is what the import would do once unblocked
    blocked_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "name": self.name, "action": self.action, "as": self.as_name,
                             "decidedBy": self.decided_by, "reason": self.reason}
        for key, value in (("folder", self.folder), ("path", self.path), ("sha256", self.sha256),
                           ("targetId", self.target_id)):
            if value is not None:
                d[key] = value
        if self.owned:
            d["owned"] = True
        if self.moved:
            d["moved"] = True
        if self.used_by:
            d["usedBy"] = list(self.used_by)
        if self.blocked_by:
            d["blockedBy"] = self.blocked_by
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Action":
        return cls(kind=d["kind"], name=d["name"], action=d["action"], decided_by=d.get("decidedBy", "default"),
                   reason=d.get("reason", ""), as_name=d.get("as"), folder=d.get("folder"), path=d.get("path"),
                   sha256=d.get("sha256"), target_id=d.get("targetId"), owned=d.get("owned", False),
                   moved=d.get("moved", False), used_by=list(d.get("usedBy") or []),
                   blocked_by=d.get("blockedBy"))

    @property
    def workspace_name(self) -> str:
        return self.as_name or self.name


@dataclass
class Plan:
    """What an import will do. Plain data; ``to_dict`` is the JSON form ``plan --format json`` prints."""

    bundle: dict[str, Any]  # name, version, digest, manifest (the manifest without program and assets)
    workspace: dict[str, Any]  # name, revision
    program: dict[str, Any]  # name, as, action, id, data (the program object apply writes)
    rules: Rules
    actions: list[Action] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> dict[str, int]:
        counts = {a: 0 for a in ACTIONS}
        for act in self.actions:
            counts[act.action] += 1
        return counts

    @property
    def ok(self) -> bool:
        return not any(p.severity == Severity.ERROR for p in self.problems)

    @property
    def nothing_to_do(self) -> bool:
        return all(a.action not in WRITES for a in self.actions) and self.program.get("action") == "noop"

    @property
    def writes(self) -> int:
        return sum(1 for a in self.actions if a.action in WRITES)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": PLAN_FORMAT,
            "bundle": self.bundle,
            "workspace": self.workspace,
            "program": self.program,
            "rules": self.rules.to_dict(),
            "options": self.options,
            "actions": [a.to_dict() for a in self.actions],
            "summary": self.summary,
            "problems": [p.to_dict() for p in self.problems],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Plan":
        if d.get("format") != PLAN_FORMAT:
            raise ValueError(f"not a programkit plan (format {d.get('format')!r}, expected {PLAN_FORMAT!r})")
        return cls(bundle=d["bundle"], workspace=d["workspace"], program=d["program"],
                   rules=Rules.from_dict(d.get("rules", {})),
                   actions=[Action.from_dict(a) for a in d["actions"]],
                   problems=[Finding.from_dict(p) for p in d.get("problems", [])],
                   options=d.get("options", {}))

    @classmethod
    def from_json(cls, text: str) -> "Plan":
        return cls.from_dict(json.loads(text))


def history_mapping(plan: Plan, ids: dict[int, tuple[int, str]]) -> list[dict[str, Any]]:
    """The bundle item → workspace item mapping apply records (``ids``: action index → (id, name))."""
    out = []
    for i, act in enumerate(plan.actions):
        if act.kind in ("program", "folder", "token", "tag"):
            entry = {"kind": act.kind, "bundleName": act.name, "workspaceName": act.workspace_name,
                     "action": act.action}
            if act.kind == "program":
                entry["workspaceId"] = ids.get(i, (act.target_id, None))[0]
                entry["workspaceName"] = plan.program.get("as") or act.name
            out.append(entry)
            continue
        if act.action == "delete" or (act.action == "skip" and act.reason.startswith("added in")):
            continue
        wid, wname = ids.get(i, (act.target_id, act.workspace_name))
        owned = act.owned or act.action in ("create", "rename", "replace", "update")
        out.append({"kind": act.kind, "bundleName": act.name, "workspaceId": wid, "workspaceName": wname,
                    "action": act.action, "folder": act.folder, "path": act.path,
                    "owned": owned and act.kind in DESIGN_KINDS})
    return out
