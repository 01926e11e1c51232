"""Apply stage: execute exactly a :class:`~programkit.plan.Plan` in one workspace transaction.

Nothing is decided here: every write is an action of the plan. The whole
import runs inside :meth:`Workspace.transaction`, so on the embedded target a
crash, an exception or ``kill -9`` anywhere leaves the workspace as it was
before or as it is after, never in between. Inside the transaction the plan's
workspace revision and bundle digest are checked again, so a plan made
before another import (or a saved ``--plan``) is refused rather than applied
to a workspace it was not made for.

Each import is recorded in the workspace's history: bundle, version, digest,
rules with the level that decided each, the plan, the mapping bundle item →
workspace item, start and end time and the outcome. An import of a bundle
that is already there writes nothing but that history row (outcome ``noop``).

Asset meta written for export: ``path`` (the asset's file in the bundle),
``entry`` (its manifest entry, verbatim) and ``bundle`` (the bundle name).
"""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime, timezone
from typing import Any, Callable

from .canonical import bundle_digest, sha256_bytes
from .errors import ProgramkitError
from .findings import Severity, make, register_code
from .model import PROGRAM_KINDS, Bundle
from .plan import Action, Plan, history_mapping
from .workspaces.base import ImportRecord, Workspace, WorkspaceWriter

G = "import"
register_code("PK520", "workspace-changed", Severity.ERROR,
              "The workspace changed since the plan was made, so the plan no longer describes it.",
              hint="Make a new plan (`programkit plan`) and review it, or import without --plan.",
              example="workspace 'default' is at revision 42, the plan was made at revision 40", group=G)
register_code("PK521", "bundle-changed", Severity.ERROR, "The bundle is not the one the plan was made for.",
              hint="Plan again with this bundle, or import the bundle the plan names.",
              example="the plan is for op-lead-management 1.0.0 (digest 3f1a…); this bundle has digest 9c2e…",
              group=G)
register_code("PK522", "file-changed", Severity.ERROR, "A bundle file changed between planning and applying.",
              hint="Plan again: the bundle on disk is not the one that was planned.",
              example="emails/01-email-alert-mql.json has sha256 9c2e…, the plan says 4779…", group=G)
register_code("PK523", "plan-has-problems", Severity.ERROR, "The plan has preflight problems, so nothing was written.",
              hint="Fix the problems the plan lists, then import again.",
              example="3 problems stop the import; nothing was written", group=G)

#: Test-only hooks (crash-safety tests): kill the process with SIGKILL at the N-th write step,
#: or sleep this many seconds at every step so an outside kill lands mid-transaction.
KILL_AT_ENV = "PROGRAMKIT_TEST_KILL_AT"
DELAY_ENV = "PROGRAMKIT_TEST_APPLY_DELAY"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Hook:
    """Checkpoints between writes; inert unless a test sets the environment variables."""

    def __init__(self) -> None:
        kill = os.environ.get(KILL_AT_ENV)
        self.kill_at = int(kill) if kill and kill.lstrip("-").isdigit() else None
        self.delay = float(os.environ.get(DELAY_ENV) or 0)
        self.step = 0

    def __call__(self) -> None:
        if self.kill_at is None and not self.delay:
            return
        self.step += 1
        if self.delay:
            time.sleep(self.delay)
        if self.step == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)


def check_current(plan: Plan, bundle: Bundle, workspace: Workspace) -> None:
    """Refuse a plan made for another workspace revision or another bundle."""
    digest = bundle_digest(bundle.manifest) if bundle.manifest is not None else None
    if digest != plan.bundle.get("digest"):
        raise ProgramkitError("the bundle is not the one the plan was made for", [make(
            "PK521", f"the plan is for {plan.bundle.get('name')} {plan.bundle.get('version')} (digest "
                     f"{str(plan.bundle.get('digest'))[:12]}…); this bundle has digest {str(digest)[:12]}…")])
    if workspace.name != plan.workspace.get("name"):
        raise ProgramkitError("the plan was made for another workspace", [make(
            "PK520", f"the plan is for workspace {plan.workspace.get('name')!r}, not {workspace.name!r}")])
    revision = workspace.revision()
    if revision != plan.workspace.get("revision"):
        raise ProgramkitError("the workspace changed since the plan was made; nothing was written", [make(
            "PK520", f"workspace {workspace.name!r} is at revision {revision}, the plan was made at revision "
                     f"{plan.workspace.get('revision')}")])


def apply_plan(plan: Plan, bundle: Bundle, workspace: Workspace, *,
               progress: Callable[[int], None] | None = None) -> ImportRecord:
    """Execute ``plan`` on ``workspace`` in one transaction and record it in the history.

    Raises :class:`ProgramkitError` (nothing written) if the plan has problems,
    or the workspace or bundle is not the one it was made for. The workspace's
    own errors (e.g. busy: another import holds the write lock) propagate.
    """
    if not plan.ok:
        n = sum(1 for p in plan.problems if p.severity == Severity.ERROR)
        raise ProgramkitError(f"{n} problem{'s' if n != 1 else ''} stop the import; nothing was written",
                              [p for p in plan.problems if p.severity == Severity.ERROR])
    record = ImportRecord(
        bundle=plan.bundle["name"], version=plan.bundle["version"], digest=plan.bundle["digest"],
        program=plan.program.get("as") or plan.program["name"], rules=plan.rules.to_dict(), plan=plan.to_dict(),
        mapping=[], started_at=_now(), outcome="noop" if plan.nothing_to_do else "applied",
        workspace=workspace.name)
    hook = _Hook()
    entries = {a.path: a for a in bundle.assets}
    with workspace.transaction() as w:
        check_current(plan, bundle, workspace)  # under the write lock: nobody can change it now
        begin = getattr(w, "begin", None)
        if callable(begin):  # a remote target journals the plan, so an interrupted import can be resumed
            begin(plan.to_dict())
        ids = _execute(plan, bundle, w, entries, hook, progress)
        record.mapping = history_mapping(plan, ids)
        record.finished_at = _now()
        record.id = w.record_import(record)
        hook()
    hook()
    return record


def _execute(plan: Plan, bundle: Bundle, w: WorkspaceWriter, entries: dict[str, Any], hook: _Hook,
             progress: Callable[[int], None] | None) -> dict[int, tuple[int, str]]:
    ids: dict[int, tuple[int, str]] = {}
    pid = plan.program.get("id")
    data = plan.program["data"]
    tags = {f"{k}: {v}": (k, v) for k, v in (data.get("tags") or {}).items()}
    for i, act in enumerate(plan.actions):
        if act.kind == "program":
            if act.action in ("create", "rename"):
                pid = w.create_program(data)
                hook()
            elif act.action == "update":
                w.update_program(pid, data)
                hook()
            ids[i] = (pid, act.workspace_name)
        elif act.kind == "folder":
            if act.action == "create":
                w.ensure_folder(pid, act.name)
                hook()
        elif act.kind == "tag":
            if act.action == "create":
                w.add_tag_value(*tags[act.name])
                hook()
        elif act.kind == "token":
            pass  # tokens are part of the program object written above
        else:
            result = _asset(act, bundle, w, entries, pid, plan.bundle["name"])
            if result is not None:
                ids[i] = result
                hook()
        if progress is not None:
            progress(1)
    return ids


def _asset(act: Action, bundle: Bundle, w: WorkspaceWriter, entries: dict[str, Any], pid: int | None,
           bundle_name: str) -> tuple[int, str] | None:
    local = act.kind in PROGRAM_KINDS
    if act.action == "delete":
        w.delete_asset(act.target_id)
        return None
    if act.action not in ("create", "rename", "replace", "update"):
        return None
    content = bundle.source.read_bytes(act.path)
    digest = sha256_bytes(content)
    if digest != act.sha256:
        raise ProgramkitError("a bundle file changed between planning and applying; nothing was written", [make(
            "PK522", f"{act.path} has sha256 {digest[:12]}…, the plan says {str(act.sha256)[:12]}…", file=act.path)])
    asset = entries.get(act.path)
    meta = {"path": act.path, "entry": dict(asset.entry) if asset else {}, "bundle": bundle_name}
    name = act.workspace_name
    if act.action in ("create", "rename") or (act.moved and local):
        if act.moved:
            w.delete_asset(act.target_id)
        new_id = w.put_asset(act.kind, name, content, digest, folder=act.folder if local else act.folder,
                             program_id=pid if local else None, meta=meta)
        return new_id, name
    w.replace_asset(act.target_id, content, digest, meta=meta)
    return act.target_id, name
