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
``entry`` (its manifest entry, verbatim), ``bundle`` (the bundle name) and
``index`` (its position in the manifest's ``assets``);
every asset written also gets ``designNames`` ({kind: {bundle name: workspace
name}}) when the import put a Design Studio asset it may reference under
another name (a keep-both copy): an email naming its template, a template or
snippet naming an image. Bytes stay verbatim (so a re-import is a ``noop`` and
upgrades diff cleanly) and keep the bundle's names; export resolves them
through this map. Assets reused from the workspace keep their own meta: their
bytes use the workspace's names. The history mapping gives every bundle asset
its ``index`` too, so export knows the bundle's order for reused assets as well.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime, timezone
from typing import Any, Callable

from .canonical import bundle_digest, sha256_bytes
from .errors import BadInput, ProgramkitError
from .findings import Severity, make, register_code
from . import kinds
from .kinds import PROGRAM_KINDS
from .model import Bundle
from .plan import WRITES, Action, Plan, SavedPlan, history_mapping, plan_path
from .workspaces.base import DESIGN_KINDS, ImportRecord, Workspace, WorkspaceWriter

G = "import"
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


def check_current(plan: Plan, bundle: Bundle, workspace: Workspace, source: str = "the plan") -> None:
    """Refuse a plan made for another bundle (PK533, exit 2), another target (PK535), another content of the
    bundle (PK521), another workspace or another revision of it (PK520). ``source`` names the plan in messages."""
    name = bundle.manifest.get("name") if isinstance(bundle.manifest, dict) else None
    if name is not None and plan.bundle.get("name") != name:
        message = f"{source} is a plan for bundle {plan.bundle.get('name')}; the bundle given is {name}"
        raise BadInput(message, [make("PK533", message, file=source)])
    made_for, here = plan.workspace.get("target"), workspace.location
    if made_for is not None and here is not None and made_for != here:
        message = f"this plan was made for target {made_for}, not {here}"
        raise ProgramkitError(message + "; nothing was written", [make("PK535", message, file=source)])
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


def replay(saved: SavedPlan, path: str, workspace: Workspace) -> tuple[Plan, Bundle]:
    """What ``import --plan`` applies: the plan made now from the bundle at ``path``, the workspace and the
    options and rules ``saved`` records, provided ``saved`` is exactly that plan.

    Refuses (nothing written) a plan for another bundle (PK533, exit 2), target (PK535), bundle content (PK521),
    workspace or revision (PK520), and then a file that differs in any other way from the plan made now
    (PK534, exit 1, one finding per difference): an edited or cut-down plan is never applied as it stands.
    Returns the plan made now (equal to the file) and the loaded bundle, for :func:`apply_plan`.
    """
    supplied = getattr(workspace, "extra_tags", None)
    if isinstance(supplied, dict):  # the file's --tag values apply as its --as does; a different --tag now differs
        for ttype, value in saved.tags.items():
            supplied.setdefault(ttype, value)
    plan, bundle = plan_path(path, workspace, **saved.replan_options())
    check_current(saved.plan, bundle, workspace, saved.path)
    differences = saved.differences(plan)
    if differences:
        n = len(differences)
        raise ProgramkitError(
            f"{saved.path} is not the plan programkit makes now for this bundle and workspace ({n} "
            f"difference{'s' if n != 1 else ''}); nothing was written", differences,
            hint="A saved plan is applied only as `programkit plan --out` wrote it: plan again (with the "
                 "options you want: --as, --prune, the rule flags) and review that plan.")
    return plan, bundle


def apply_plan(plan: Plan, bundle: Bundle, workspace: Workspace, *,
               progress: Callable[[int], None] | None = None) -> ImportRecord:
    """Execute ``plan`` on ``workspace`` in one transaction and record it in the history.

    Raises :class:`ProgramkitError` (nothing written) if the plan has problems,
    or the workspace or bundle is not the one it was made for. The workspace's
    own errors (e.g. busy: another import holds the write lock) propagate.
    """
    if not plan.ok:
        n = sum(1 for p in plan.problems if p.severity == Severity.ERROR)
        raise ProgramkitError(f"{n} problem{'s stop' if n != 1 else ' stops'} the import; nothing was written",
                              [p for p in plan.problems if p.severity == Severity.ERROR])
    record = ImportRecord(
        bundle=plan.bundle["name"], version=plan.bundle["version"], digest=plan.bundle["digest"],
        program=plan.program.get("as") or plan.program["name"], rules=plan.rules.to_dict(), plan=plan.to_dict(),
        mapping=[], started_at=_now(), outcome="noop" if plan.nothing_to_do else "applied",
        workspace=workspace.name)
    origin = getattr(bundle.source, "origin", None)  # read from a registry: the history keeps reference and digest
    if origin:
        record.plan["bundle"] = dict(record.plan["bundle"], source=origin)
    hook = _Hook()
    with workspace.transaction() as w:
        check_current(plan, bundle, workspace)  # under the write lock: nobody can change it now
        begin = getattr(w, "begin", None)
        if callable(begin):  # a remote target journals the plan, so an interrupted import can be resumed
            begin(plan.to_dict())
        ids = _Applier(plan, bundle, workspace, w, hook, progress).run()
        record.mapping = _with_positions(history_mapping(plan, ids), bundle)
        record.finished_at = _now()
        record.id = w.record_import(record)
        hook()
    hook()
    return record


def _with_positions(mapping: list[dict[str, Any]], bundle: Bundle) -> list[dict[str, Any]]:
    """The mapping with each bundle asset's manifest position (``index``), so export can keep the bundle's order."""
    positions = {a.path: a.index for a in bundle.assets}
    for m in mapping:
        if m.get("path") in positions:
            m["index"] = positions[m["path"]]
    return mapping


#: program-local kinds created in batches: nothing in them refers to another asset of the batch by id (a lead
#: lifecycle names the program's campaigns, so it is created on its own, after them). Each kind unit says.
BATCH_LOCAL = tuple(k.name for k in kinds.all_kinds() if k.local and k.batch)


class _Applier:
    """Executes the actions in plan order. Consecutive creates that need nothing from one another go to the
    writer together (:meth:`WorkspaceWriter.put_assets`): new Design Studio assets, then the program's new
    emails and campaigns. The embedded target writes a batch in one executemany (10k images, one statement);
    Marketo sends its calls side by side within its limits. Dependencies keep their order: the program and
    its folders come first, every Design Studio batch is written before the program's assets (an email needs
    its template), and any other write ends the batch before it."""

    BATCH = 500

    def __init__(self, plan: Plan, bundle: Bundle, ws: Workspace, w: WorkspaceWriter, hook: _Hook,
                 progress: Callable[[int], None] | None):
        self.plan, self.bundle, self.ws, self.w, self.hook, self.progress = plan, bundle, ws, w, hook, progress
        self.entries = {a.path: a for a in bundle.assets}
        self.positions = {a.path: a.index for a in bundle.assets}
        self.ids: dict[int, tuple[int, str]] = {}
        self.pid: int | None = plan.program.get("id")
        self.pending: list[tuple[int, Action, bytes, str, dict[str, Any]]] = []
        self.pending_local = False
        self.pending_rank = 0
        #: Design Studio assets that live under another name than the bundle's (keep-both copies):
        #: local assets carry this so a reader can resolve their references ("template": …) by bundle name
        self.design_names: dict[str, dict[str, str]] = {}
        for act in plan.actions:
            # (reuse with a name: an earlier import's identical copy, "Name - 1")
            if act.kind in DESIGN_KINDS and act.as_name and act.action in ("rename", "update", "noop", "reuse"):
                self.design_names.setdefault(act.kind, {})[act.name] = act.as_name

    def run(self) -> dict[int, tuple[int, str]]:
        for i, act in enumerate(self.plan.actions):
            local = _batched(act)
            if local is not None:
                # a batch holds one scope and one kind rank: a form is written before the page that embeds it
                if self.pending and (local != self.pending_local or kinds.rank(act.kind) != self.pending_rank):
                    self.flush()
                self.pending_local, self.pending_rank = local, kinds.rank(act.kind)
                self.pending.append((i, act, *self.content(act)))
                if len(self.pending) >= self.BATCH:
                    self.flush()
            else:
                if act.action in WRITES or act.kind == "program":
                    self.flush()
                self.one(i, act)
            if self.progress is not None:
                self.progress(1)
        self.flush()
        return self.ids

    def content(self, act: Action) -> tuple[bytes, str, dict[str, Any]]:
        """The file's bytes (checked against the plan's sha256), their digest, and the meta export reads.

        Bytes the load kept (``load_bundle(keep_bytes=True)``) are the ones it hashed, validated and
        planned: they are written as they are, without reading and hashing the file again.
        """
        asset = self.entries.get(act.path)
        if asset is not None and asset.data is not None and asset.actual_sha256 is not None:
            content, digest = asset.data, asset.actual_sha256
        else:
            content = self.bundle.source.read_bytes(act.path)
            digest = sha256_bytes(content)
        if digest != act.sha256:
            raise ProgramkitError("a bundle file changed between planning and applying; nothing was written", [make(
                "PK522", f"{act.path} has sha256 {digest[:12]}…, the plan says {str(act.sha256)[:12]}…",
                file=act.path)])
        meta = {"path": act.path, "entry": dict(asset.entry) if asset else {}, "bundle": self.plan.bundle["name"]}
        if act.path in self.positions:
            meta["index"] = self.positions[act.path]
        if self.design_names:  # templates and snippets name images too: every written asset gets it
            meta["designNames"] = self.design_names
        return content, digest, meta

    def flush(self) -> None:
        if not self.pending:
            return
        new_ids = self.w.put_assets([(a.kind, a.workspace_name, c, d, a.folder, m) for _, a, c, d, m in self.pending],
                                    program_id=self.pid if self.pending_local else None)
        for (i, a, *_), new_id in zip(self.pending, new_ids, strict=True):
            self.ids[i] = (new_id, a.workspace_name)
        self.pending = []
        self.hook()

    def one(self, i: int, act: Action) -> None:
        w, data = self.w, self.plan.program["data"]
        if act.kind == "program":
            if act.action in ("create", "rename"):
                self.pid = w.create_program(data)
            elif act.action == "update":
                w.update_program(self.pid, data)
            if act.action in ("create", "rename", "update"):
                if hasattr(w, "set_program_source"):
                    # the manifest beside the program (description, requires, conflictRules…) for export
                    w.set_program_source(self.pid, self.plan.bundle.get("manifest") or {})
                self.hook()
            self.ids[i] = (self.pid, act.workspace_name)
        elif act.kind == "folder":
            if act.action == "create":
                w.ensure_folder(self.pid, act.name)
                self.hook()
        elif act.kind == "tag":
            if act.action == "create":
                tags = {f"{k}: {v}": (k, v) for k, v in (data.get("tags") or {}).items()}
                w.add_tag_value(*tags[act.name])
                self.hook()
        elif act.kind != "token":  # tokens are part of the program object
            self.asset(i, act)

    def asset(self, i: int, act: Action) -> None:
        w = self.w
        local = act.kind in PROGRAM_KINDS
        if act.action == "delete":
            w.delete_asset(act.target_id)
            self.hook()
            return
        if act.action not in ("create", "rename", "replace", "update"):
            return
        content, digest, meta = self.content(act)
        name = act.workspace_name
        if act.action in ("create", "rename") or (act.moved and local):
            if act.moved:
                w.delete_asset(act.target_id)
            self.ids[i] = (w.put_asset(act.kind, name, content, digest, folder=act.folder,
                                       program_id=self.pid if local else None, meta=meta), name)
        else:
            w.replace_asset(act.target_id, content, digest, meta=meta)
            self.ids[i] = (act.target_id, name)
        self.hook()


def _batched(act: Action) -> bool | None:
    """Whether a create goes in a batch of the program's own assets (True) or of Design Studio assets
    (False); None when the action is done on its own."""
    if act.kind in DESIGN_KINDS and act.action in ("create", "rename"):
        return False
    if act.kind in BATCH_LOCAL and act.action == "create" and not act.moved:
        return True
    return None
