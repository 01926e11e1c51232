"""The planner: the action for every bundle item, as the conflict rules and the workspace decide it.

:func:`make_plan` runs the preflight (:mod:`.preflight`), then decides the program (new, upgrade, noop, or a
program-level problem), its folders, tokens and tags, each Design Studio asset (kept up to date in place, reused,
copied, replaced, or a conflict by its kind's rule; drift since the last import goes to the same rules) and each
program-local asset, then applies the guards (:mod:`.guards`). It only reads the workspace.
:func:`plan_path` loads, validates and plans a bundle path, as ``plan`` and ``import`` do.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable, Mapping

import semver

from .. import kinds
from ..canonical import bundle_digest
from ..findings import Finding, Severity, make, register_code, sort_key
from ..jsonpos import escape
from ..jsontypes import as_list
from ..load import load_bundle
from ..kinds import PROGRAM_KINDS
from ..model import Asset, Bundle, folder_tree
from ..rules import REUSE_IDENTICAL, RULE_OF_KIND, Rules, first_free_copy, load_rules_file, resolve
from ..validate import _with_lines, folder_paths, validate_bundle, validate_loaded
from ..workspaces.base import DESIGN_KINDS, AssetInfo, ProgramInfo, Workspace
from .guards import all_noop, guard_shared, mark_blocked, prune_only, refer_to_copies, repair
from .model import Action, Plan
from .preflight import check_program_name, destination_problems, requirement_problems

G = "import"
register_code("PK510", "program-exists", Severity.ERROR,
              "A program with the same name, not imported from this bundle, is already in the workspace.",
              hint="Import under another name with --as NAME.",
              example="program 'OP-Lead Management' already exists in workspace 'default' (not from bundle "
                      "op-lead-management)", group=G)
register_code("PK511", "downgrade", Severity.ERROR,
              "The workspace holds a newer version of this bundle than the one being imported.",
              hint="Import the newer bundle, or pass --allow-downgrade to go back to this version.",
              example="program 'OP-Lead Management' is op-lead-management 1.2.0; refusing to downgrade to 1.1.0",
              group=G)
register_code("PK512", "same-version-changed", Severity.ERROR,
              "The bundle has the version already imported but different content.",
              hint="Give the changed bundle a new version (e.g. 1.0.1) so the import can upgrade in place.",
              example="op-lead-management 1.0.0 was imported with digest 3f1a…; this bundle 1.0.0 has digest 9c2e…",
              group=G)
register_code("PK513", "conflict-fail", Severity.ERROR,
              "A same-named asset exists in the workspace and the conflict rule for it is 'fail'.",
              hint="Choose another option for the rule (e.g. --on-email-template keepBoth), or rename the asset.",
              example="emailTemplate 'Quick Start Email Template' already exists (rule emailTemplates=fail, "
                      "decided by flag)", group=G)
register_code("PK514", "tag-fail", Severity.ERROR,
              "A program tag value is not in the workspace and the programTags rule is 'fail'.",
              hint="Create the tag value in the workspace, or use --on-tag create|ignore.",
              example="tag 'Program Purpose: Lead Management' is not in workspace 'default' (rule programTags=fail)",
              group=G)
register_code("PK515", "not-identical", Severity.ERROR,
              "The rule is reuseIfIdentical, but the same-named asset in the workspace has other content.",
              hint="Choose another option for the rule (keepBoth/copy or replace), or align the two assets.",
              example="emailTemplate 'Quick Start Email Template' differs from the workspace's (sha256 52b1… vs 0c9e…)",
              group=G)
register_code("PK516", "bundle-invalid", Severity.ERROR, "The bundle cannot be planned: it has no readable manifest.",
              hint="Run `programkit validate BUNDLE` and fix what it reports.",
              example="bundle.json: the manifest could not be read", group=G)


def make_plan(
    bundle: Bundle,
    workspace: Workspace,
    rules: Rules,
    *,
    as_name: str | None = None,
    prune: bool = False,
    allow_downgrade: bool = False,
    findings: Iterable[Finding] | None = None,
    allow_shared_replace: bool = False,
) -> Plan:
    """Plan importing ``bundle`` into ``workspace``. Reads the workspace, never writes.

    ``findings`` are the bundle's validation findings when the caller already
    has them (load + validate); otherwise the named checks run here. Their
    errors become problems: a bundle with errors cannot be imported. Its items still to complete by hand
    (``needsCompletion``, PK113) are warnings of the plan: importing such a bundle is allowed, never silent.
    """
    manifest = bundle.manifest
    validation = list(findings) if findings is not None else (validate_bundle(bundle) if manifest else [])
    problems = [f for f in validation if f.severity == Severity.ERROR or f.code == "PK113"]
    if as_name is not None:
        check_program_name(as_name)
    ws_info = {"name": workspace.name, "revision": workspace.revision()}
    if workspace.location is not None:
        ws_info["target"] = workspace.location
    options = {"as": as_name, "prune": prune, "allowDowngrade": allow_downgrade}
    if allow_shared_replace:  # only when given: plans saved before the option existed stay the same
        options["allowSharedReplace"] = True
    # program tags the import supplies (Marketo's `import --tag TYPE=VALUE`, held by the target that applies them):
    # recorded, so the plan and the history say which tags came from the command line, not the bundle
    supplied = getattr(workspace, "extra_tags", None)
    if supplied:
        options["tags"] = dict(sorted(supplied.items()))
    if not isinstance(manifest, dict) or not isinstance(bundle.program.get("name"), str):
        problems.insert(0, make("PK516", "the manifest could not be read", file=bundle.manifest_path))
        return Plan({"name": None, "version": None, "digest": None, "manifest": {}}, ws_info,
                    {"name": None, "as": as_name, "action": "skip", "id": None, "data": {}}, rules,
                    problems=sorted(problems, key=sort_key), options=options)
    digest = bundle_digest(manifest)  # once: it serialises the whole manifest (10k entries: ~10 ms)
    planner = _Planner(bundle, workspace, rules, as_name, prune, allow_downgrade, digest)
    planner.allow_shared_replace = allow_shared_replace
    planner.run()
    problems.extend(_with_lines(planner.problems, bundle.texts))
    header = {k: v for k, v in manifest.items() if k not in ("program", "assets")}
    return Plan(
        bundle={"name": manifest.get("name"), "version": manifest.get("version"),
                "digest": digest, "manifest": header},
        workspace=ws_info,
        program=planner.program,
        rules=rules,
        actions=planner.actions,
        problems=problems,
        options=options,
    )


def _fold(s: Any) -> str:
    return s.casefold() if isinstance(s, str) else ""


def _version(v: Any) -> semver.Version | None:
    try:
        return semver.Version.parse(v) if isinstance(v, str) else None
    except ValueError:
        return None


class _Planner:
    """Holds the look-ups one plan needs; ``run`` fills ``actions``, ``problems`` and ``program``."""

    def __init__(self, bundle: Bundle, ws: Workspace, rules: Rules, as_name: str | None, prune: bool,
                 allow_downgrade: bool, digest: str):
        self.bundle, self.ws, self.rules, self.digest = bundle, ws, rules, digest
        self.as_name, self.prune, self.allow_downgrade = as_name, prune, allow_downgrade
        self.manifest = bundle.manifest or {}
        self.file = bundle.manifest_path
        self.actions: list[Action] = []
        self.problems: list[Finding] = []
        self.target_at = 0
        self.program: dict[str, Any] = {}
        self.existing: ProgramInfo | None = None
        #: previous import of this bundle into the program: (kind, bundle name) → mapping entry
        self.previous: dict[tuple[str, str], dict[str, Any]] = {}
        #: digests the previous import recorded for assets of kinds the target cannot hold (never in its inventory)
        self.recorded: dict[tuple[str, str], str | None] = {}
        self.allow_shared_replace = False
        #: sha256 of each design asset as the previous import wrote it: (kind, folded name) → digest
        self.imported_sha: dict[tuple[str, str], str] = {}
        self.previous_import: int | None = None
        #: design assets changed in the workspace since the previous import (decided by the conflict rules)
        self.drifted: list[Action] = []
        #: the program-level problem (PK510/PK511/PK512) that stops every write of this plan, if any
        self.blocked: str | None = None

    def problem(self, code: str, message: str, pointer: str | None = None, file: str | None = None,
                hint: str | None = None) -> None:
        self.problems.append(make(code, message, file=file or self.file, pointer=pointer, hint=hint))

    # -- the whole plan --------------------------------------------------------------
    def run(self) -> None:
        self.problems.extend(requirement_problems(self.bundle, self.ws))
        self.target_at = len(self.problems)  # the target's own preflight goes here, once the actions are known
        mode = self.plan_program()
        self.plan_folders()
        self.plan_tokens()
        self.plan_tags()
        # bundle order within a kind rank: what a document references by id on a target comes first (kind units)
        design = sorted((a for a in self.bundle.assets if a.kind not in PROGRAM_KINDS), key=lambda a: kinds.rank(a.kind))
        local = sorted((a for a in self.bundle.assets if a.kind in PROGRAM_KINDS), key=lambda a: kinds.rank(a.kind))
        self.plan_design(design)
        self.plan_local(local)
        if mode == "noop":
            # recorded as imported, but the target's inventory lacks some of it: create that again. (Only what
            # is missing: whether content changed is known only while nobody edited it, and an admin
            # completing the checklist edits campaigns and emails, which is no reason to rewrite them.)
            refer_to_copies(self.actions, self.drifted)
            missing = [a for a in self.actions if a.action == "create"]
            pruned = [a for a in self.actions if a.action == "delete"]
            if missing or self.drifted:
                repair(self.actions, self.program, self.manifest, missing + pruned, self.drifted)
            elif pruned:
                prune_only(self.actions, self.program, self.manifest, pruned)
            else:
                self.actions = all_noop(self.actions)
        self.problems.extend(guard_shared(self.bundle, self.ws, self.actions, self.existing, self.allow_shared_replace))
        self.program["data"] = self.program_data()
        # a target's own limits (a Marketo instance cannot create tags, some token types, lifecycles): with the
        # actions known, so what it says is about this plan (a lifecycle imported before is not "left" again);
        # listed where the preflight put them, before the problems the rules found
        target_preflight = getattr(self.ws, "preflight", None)
        if callable(target_preflight):
            self.problems[self.target_at:self.target_at] = target_preflight(self.bundle, self.rules, self.actions)
        mark_blocked(self.actions, self.blocked)

    # -- the program ---------------------------------------------------------------------
    def plan_program(self) -> str:
        prog = self.bundle.program
        name = prog["name"]
        target = self.as_name or name
        bname, version = self.manifest.get("name"), self.manifest.get("version")
        digest = self.digest
        existing = self.ws.program(target)
        as_name = self.as_name if self.as_name and self.as_name != name else None
        if existing is not None and as_name is not None:
            # program names are matched case-insensitively: --as 'olm copy' finds 'OLM Copy', which keeps the
            # name as it was written when it was made (the program is not renamed, the history shows that name)
            as_name = existing.name if existing.name != name else None
        self.program = {"name": name, "as": as_name, "action": "create", "id": None, "data": {}}
        by = "flag" if self.program["as"] else "default"
        if existing is None:
            action = "rename" if self.program["as"] else "create"
            reason = f"new program (imported as {target!r})" if self.program["as"] else "new program"
            self.add(Action("program", name, action, by, reason, as_name=self.program["as"]))
            self.program["action"] = action
            return action
        self.existing = existing
        self.program["id"] = existing.id
        prov = existing.provenance
        if prov is None or prov.bundle != bname:
            origin = f"imported from bundle {prov.bundle}" if prov else "not imported from a bundle"
            self.problem("PK510", f"program {existing.name!r} already exists in workspace {self.ws.name!r} "
                                  f"({origin}); use --as NAME to import under another name", "/program/name")
            self.add(Action("program", name, "skip", by, "a program with this name already exists",
                            as_name=self.program["as"], target_id=existing.id))
            self.program["action"] = "skip"
            self.blocked = "PK510"  # the rest is planned as --as NAME would: a new program
            return "fail"
        self.previous = self._previous_mapping(prov.import_id)
        old, new = _version(prov.version), _version(version)
        if prov.version == version and prov.digest == digest:
            self.add(Action("program", name, "noop", by, f"already imported: {bname} {version}",
                            as_name=self.program["as"], target_id=existing.id))
            self.program["action"] = "noop"
            return "noop"
        if prov.version == version:
            self.problem("PK512", f"{bname} {version} was imported with digest {prov.digest[:12]}…; this bundle "
                                  f"{version} has digest {digest[:12]}…", "/version")
            self.add(Action("program", name, "skip", by, "same version, other content",
                            as_name=self.program["as"], target_id=existing.id))
            self.program["action"] = "skip"
            self.blocked = "PK512"  # the rest is planned as the upgrade a new version would make
            return "fail"
        if old is not None and new is not None and new < old:
            if not self.allow_downgrade:
                self.problem("PK511", f"program {existing.name!r} is {bname} {prov.version}; refusing to "
                                      f"downgrade to {version}", "/version")
                self.add(Action("program", name, "skip", by, f"downgrade {prov.version} → {version} refused",
                                as_name=self.program["as"], target_id=existing.id))
                self.program["action"] = "skip"
                self.blocked = "PK511"  # the rest is planned as the downgrade --allow-downgrade would make
                return "fail"
            by = "flag"
        verb = "downgrade" if old is not None and new is not None and new < old else "upgrade"
        self.add(Action("program", name, "update", by, f"{verb} {bname} {prov.version} → {version}",
                        as_name=self.program["as"], target_id=existing.id))
        self.program["action"] = "update"
        return "update"

    def _previous_mapping(self, import_id: int) -> dict[tuple[str, str], dict[str, Any]]:
        """The mapping of the import the program came from (one look-up when the target offers it)."""
        getter = getattr(self.ws, "import_record", None)
        record = getter(import_id) if getter is not None else next(
            (r for r in self.ws.history() if r.id == import_id), None)
        if record is None:
            return {}
        self.previous_import = import_id
        self.imported_sha = {(a.get("kind"), _fold(a.get("name"))): a["sha256"]
                             for a in (record.plan or {}).get("actions") or []
                             if isinstance(a, dict) and a.get("kind") in DESIGN_KINDS and isinstance(a.get("sha256"), str)}
        # kinds the target cannot hold (a lifecycle on Marketo), and assets it could not create (a smart list
        # Marketo's API had nothing to clone from), exist only in that record: keep their digests
        unwritten = getattr(self.ws, "unwritten", None)
        left = {(m.get("kind"), _fold(m.get("bundleName"))) for m in record.mapping if unwritten and unwritten(m)}
        self.recorded = {(a.get("kind"), _fold(a.get("name"))): a.get("sha256")
                         for a in (record.plan or {}).get("actions") or []
                         if a.get("kind") in self.ws.manual_kinds or (a.get("kind"), _fold(a.get("name"))) in left}
        return {(m["kind"], _fold(m.get("bundleName"))): m for m in record.mapping}

    @property
    def upgrading(self) -> bool:
        """Planning against the program's current content: an upgrade, a no-op, or one blocked only by its
        version (PK511/PK512: once unblocked it is an upgrade in place)."""
        return self.existing is not None and (self.program.get("action") in ("update", "noop")
                                              or self.blocked in ("PK511", "PK512"))

    def add(self, action: Action) -> None:
        self.actions.append(action)

    # -- folders, tokens, tags ---------------------------------------------------------------
    def plan_folders(self) -> None:
        have: set[str] = set()
        if self.upgrading:
            old_paths, _ = folder_paths(self.existing.data)
            have = {_fold(p) for p in old_paths}
        for path, _ in folder_tree(self.bundle.program):
            if _fold(path) in have:
                self.add(Action("folder", path, "noop", reason="already in the program"))
            else:
                self.add(Action("folder", path, "create", reason="new folder"))

    def plan_tokens(self) -> None:
        old = {_fold(t.get("name")): t for t in (self.existing.data.get("tokens") or [])
               if isinstance(t, dict)} if self.upgrading else {}
        seen = set()
        for t in as_list(self.bundle.program.get("tokens")):
            if not isinstance(t, dict) or not isinstance(t.get("name"), str):
                continue
            seen.add(_fold(t["name"]))
            note = " (image token: imported, Marketo's import would skip it)" if t.get("type") == "image" else ""
            prev = old.get(_fold(t["name"]))
            if prev is None:
                self.add(Action("token", t["name"], "create", reason="new local token" + note))
            elif prev == t or (self.ws.token_fields is not None and  # what the target keeps is the same
                               all(prev.get(k) == t.get(k) for k in self.ws.token_fields)):
                self.add(Action("token", t["name"], "noop", reason="unchanged" + note))
            else:
                self.add(Action("token", t["name"], "update", reason="changed in the bundle" + note))
        for key, t in old.items():
            if key in seen:
                continue
            if ("token", key) in self.previous:
                self.removed(Action("token", t.get("name", ""), "skip"))
            else:
                self.add(Action("token", t.get("name", ""), "skip", reason="added in the workspace; kept"))

    def removed(self, action: Action) -> None:
        """A workspace item the previous version of the bundle had and this one has not."""
        if self.prune:
            action.action, action.decided_by, action.reason = "delete", "flag", "removed from the bundle; --prune"
        else:
            action.action, action.reason = "skip", "removed from the bundle; kept (--prune deletes it)"
        self.add(action)

    def plan_tags(self) -> None:
        tags = self.bundle.program.get("tags") or {}
        if not isinstance(tags, dict):
            return
        decision = self.rules["programTags"]
        have = {_fold(k): {_fold(v) for v in vs} for k, vs in self.ws.tag_types().items()}
        old_tags = {(_fold(k), _fold(v)) for k, v in (self.existing.data.get("tags") or {}).items()} \
            if self.upgrading else set()
        for tag_type, value in tags.items():
            label = f"{tag_type}: {value}"
            if (_fold(tag_type), _fold(value)) in old_tags:
                self.add(Action("tag", label, "noop", reason="already set on the program"))
            elif _fold(value) in have.get(_fold(tag_type), set()):
                self.add(Action("tag", label, "reuse", decision.decided_by, "tag value exists in the workspace"))
            elif decision.value == "create":
                self.add(Action("tag", label, "create", decision.decided_by, "programTags=create"))
            elif decision.value == "ignore":
                self.add(Action("tag", label, "skip", decision.decided_by,
                                "programTags=ignore: the program is imported without this tag"))
            else:
                self.problem("PK514", f"tag {label!r} is not in workspace {self.ws.name!r} (rule programTags=fail, "
                                      f"decided by {decision.decided_by})", f"/program/tags/{escape(tag_type)}")
                self.add(Action("tag", label, "skip", decision.decided_by, "programTags=fail: tag not in workspace"))

    # -- Design Studio assets --------------------------------------------------------------
    def plan_design(self, assets: list[Asset]) -> None:
        taken: dict[str, set[str]] = {}  # kind → casefolded names this plan creates
        by_kind: dict[str, list[Asset]] = {}
        for a in assets:
            by_kind.setdefault(a.kind, []).append(a)
        found: dict[str, dict[str, AssetInfo]] = {
            kind: self.ws.design_assets(kind, [a.name for a in group]) for kind, group in by_kind.items()}
        mapped = self._mapped_design(by_kind)
        for a in assets:
            sha = a.actual_sha256 or a.sha256
            base = Action(a.kind, a.name, "create", folder=a.folder, path=a.path, sha256=sha)
            prev = mapped.get((a.kind, _fold(a.name)))
            if prev is not None:  # this bundle wrote it before: keep it up to date in place
                base.target_id, base.as_name = prev.id, prev.name if prev.name != a.name else None
                base.owned = True
                written = self.imported_sha.get((a.kind, _fold(a.name)))
                if prev.sha256 == sha:
                    base.action, base.reason = "noop", "unchanged"
                elif written is not None and prev.sha256 != written:
                    self.add(self.drift(a, base, prev, taken.setdefault(a.kind, set())))
                    continue
                else:
                    base.action, base.reason = "update", "changed in the bundle"
                self.add(base)
                continue
            existing = found.get(a.kind, {}).get(_fold(a.name))
            kind_taken = taken.setdefault(a.kind, set())
            if existing is None and _fold(a.name) not in kind_taken:
                base.reason = "new " + a.kind
                kind_taken.add(_fold(a.name))
                self.add(base)
                continue
            self.add(self._conflict(a, base, existing, kind_taken))

    def drift(self, a: Asset, base: Action, current: AssetInfo, kind_taken: set[str]) -> Action:
        """A design asset this bundle wrote was changed in the workspace since (``workspace load``, an edit in
        the instance): never a silent noop or overwrite. The kind's conflict rule decides, as for a same-named
        asset: keepBoth/copy imports the bundle's as a copy, replace overwrites the edit, fail and
        reuseIfIdentical stop the import, useDestination keeps the workspace's."""
        base.owned = True
        act = self._conflict(a, base, current, kind_taken)
        since = f"import #{self.previous_import}" if self.previous_import else "the import"
        act.reason = f"changed in the workspace since {since}; {act.reason}"
        self.drifted.append(act)
        return act

    def _mapped_design(self, by_kind: dict[str, list[Asset]]) -> dict[tuple[str, str], AssetInfo]:
        """Design assets a previous import of this bundle created (not ones it merely reused)."""
        out: dict[tuple[str, str], AssetInfo] = {}
        wanted: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for (kind, bname), m in self.previous.items():
            if kind in DESIGN_KINDS and m.get("owned") and m.get("workspaceName"):
                wanted.setdefault(kind, []).append((bname, m))
        for kind, items in wanted.items():
            found = self.ws.design_assets(kind, [m["workspaceName"] for _, m in items])
            for bname, m in items:
                info = found.get(_fold(m["workspaceName"]))
                if info is not None and info.id == m.get("workspaceId"):
                    out[(kind, bname)] = info
        # an export of the program names a keep-both copy by its workspace name ("Name - 1"): still the same asset
        for (kind, bname), info in list(out.items()):
            named = {_fold(a.name) for a in by_kind.get(kind, [])}
            if bname not in named and _fold(info.name) in named:
                out.setdefault((kind, _fold(info.name)), info)
        return out

    def _conflict(self, a: Asset, act: Action, existing: AssetInfo | None, kind_taken: set[str]) -> Action:
        """A same-named asset is already there (or planned): apply the kind's rule."""
        sha = act.sha256
        identical = existing is not None and existing.sha256 == sha
        rule = RULE_OF_KIND.get(a.kind)
        reuse = self.rules[REUSE_IDENTICAL]
        if rule is None:  # snippets: no Marketo rule; reuse identical, else keep both
            option, by = ("keepBoth", "default")
        else:
            option, by = self.rules[rule].value, self.rules[rule].decided_by
        label = f"{rule}={option}" if rule else "snippets keep both"
        if existing is not None:
            act.target_id = existing.id
        if existing is not None and option == "useDestination":
            act.action, act.decided_by = "reuse", by
            act.reason = f"{label}: use the workspace's template" + ("" if identical else " (content differs)")
            if not identical:
                self.problems.extend(destination_problems(self.bundle, self.ws, a, existing))
            return act
        if existing is not None and option == "reuseIfIdentical":
            if identical:
                act.action, act.decided_by, act.reason = "reuse", by, f"{label}: identical content (same sha256)"
            else:
                act.action, act.decided_by, act.reason = "skip", by, f"{label}: content differs"
                self.problem("PK515", f"{a.kind} {a.name!r} differs from the workspace's (sha256 {sha[:12]}… vs "
                                      f"{existing.sha256[:12]}…; rule {rule}=reuseIfIdentical, decided by {by})",
                             a.pointer + "/name")
            return act
        if identical and reuse.value:
            act.action, act.decided_by = "reuse", reuse.decided_by
            act.reason = "identical content (same sha256) already in the workspace"
            return act
        if option == "fail":
            act.action, act.decided_by, act.reason = "skip", by, f"{label}: same-named asset exists"
            self.problem("PK513", f"{a.kind} {a.name!r} already exists in workspace {self.ws.name!r} "
                                  f"(rule {rule}=fail, decided by {by})", a.pointer + "/name")
            return act
        if option == "replace" and existing is not None:
            act.action, act.decided_by, act.reason = "replace", by, f"{label}: replace the workspace's {a.kind}"
            return act
        # a keep-both copy an earlier import made ("Name - 1") may hold exactly these bytes: use it, never a 2nd copy
        copy = self._identical_copy(a.kind, a.name, sha) if reuse.value else None
        if copy is not None:
            act.action, act.decided_by, act.as_name, act.target_id = "reuse", reuse.decided_by, copy.name, copy.id
            act.reason = f"identical content (same sha256) already in the workspace as {copy.name!r}"
            return act
        # keepBoth / copy (or a clash with another asset of this same plan): a numbered copy
        kind = a.kind

        def lookup(names: list[str]) -> set[str]:
            found = self.ws.design_assets(kind, names)
            return set(found) | ({_fold(n) for n in names} & kind_taken)

        act.as_name = first_free_copy(kind, a.name, lookup)
        kind_taken.add(_fold(act.as_name))
        act.action, act.decided_by, act.target_id = "rename", by, None
        act.reason = f"{label}: the workspace has another {a.name!r}" if existing else f"{label}: name used twice"
        return act

    def _identical_copy(self, kind: str, name: str, sha: str | None) -> AssetInfo | None:
        """The lowest-numbered copy ("Name - N") of ``kind`` ``name`` in the workspace with content ``sha``."""
        copies = [n for n in self.ws.design_names(kind, name) if _fold(n) != _fold(name)]
        same = [x for x in self.ws.design_assets(kind, copies).values() if x.sha256 == sha] if copies else []
        return min(same, key=lambda x: (_copy_number(x.name), _fold(x.name)), default=None)

    # -- program-local assets -----------------------------------------------------------------
    def plan_local(self, assets: list[Asset]) -> None:
        current: list[AssetInfo] = self.ws.program_assets(self.existing.id) if self.upgrading else []
        by_id = {x.id: x for x in current}
        by_name = {(x.kind, _fold(x.name)): x for x in current}
        used: set[int] = set()
        previous_ids = {m.get("workspaceId") for m in self.previous.values()}
        for a in assets:
            sha = a.actual_sha256 or a.sha256
            act = Action(a.kind, a.name, "create", folder=a.folder, path=a.path, sha256=sha,
                         reason="new " + a.kind + _local_note(a, self.ws))
            prev = self.previous.get((a.kind, _fold(a.name)))
            info = by_id.get(prev.get("workspaceId")) if prev else None
            info = info or by_name.get((a.kind, _fold(a.name)))
            if info is None and prev is not None and (a.kind, _fold(a.name)) in self.recorded:
                # not in the target (it cannot hold it): the previous import put it on its checklist
                act.target_id = prev.get("workspaceId")
                if self.recorded[(a.kind, _fold(a.name))] == sha:
                    act.action, act.reason = "noop", "unchanged (on an earlier import's checklist)"
                else:
                    act.action, act.reason = "update", "changed in the bundle" + _local_note(a, self.ws)
            elif info is not None:
                used.add(info.id)
                act.target_id = info.id
                if info.sha256 == sha and _fold(info.folder) == _fold(a.folder) and info.name == a.name:
                    act.action, act.reason = "noop", "unchanged"
                else:
                    act.action, act.reason = "update", "changed in the bundle" + _local_note(a, self.ws)
                    act.moved = _fold(info.folder) != _fold(a.folder) or info.name != a.name
                    if act.moved:
                        act.reason = f"moved from {info.folder or 'the top'}/{info.name}" + _local_note(a, self.ws)
            self.add(act)
        # workspace items the bundle does not have: removed by this version, or added by a user
        for x in current:
            if x.id in used:
                continue
            act = Action(x.kind, x.name, "skip", folder=x.folder, target_id=x.id)
            if x.id in previous_ids:
                self.removed(act)
            else:
                act.reason = "added in the workspace; kept"
                self.add(act)
        owned = [(key, m) for key, m in self.previous.items() if key[0] in DESIGN_KINDS and m.get("owned")]
        if not owned:  # the usual first import: no need to index 10k bundle assets for nothing
            return
        in_bundle = {(a.kind, _fold(a.name)) for a in self.bundle.assets}
        kept = {a.target_id for a in self.actions if a.kind in DESIGN_KINDS and a.action != "skip"} - {None}
        for (kind, bname), m in owned:
            if (kind, bname) not in in_bundle \
                    and m.get("workspaceId") not in kept:  # not the asset this plan uses under another name
                self.removed(Action(kind, m.get("bundleName", ""), "skip", target_id=m.get("workspaceId"),
                                    owned=True))

    # -- what apply writes as the program object ------------------------------------------------
    def program_data(self) -> dict[str, Any]:
        data = json.loads(json.dumps(self.bundle.program))  # a deep copy, verbatim
        if self.program.get("as"):
            data["name"] = self.program["as"]
        skipped = {a.name for a in self.actions if a.kind == "tag" and a.action == "skip"}
        if isinstance(data.get("tags"), dict):
            data["tags"] = {k: v for k, v in data["tags"].items() if f"{k}: {v}" not in skipped}
            if not data["tags"] and not self.bundle.program.get("tags"):
                data.pop("tags")
        if not self.upgrading:
            return data
        old = self.existing.data
        # user additions survive an upgrade: tokens and tags the bundle never had, folders
        kept_tokens = [t for t in old.get("tokens") or [] if isinstance(t, dict) and any(
            a.kind == "token" and a.action == "skip" and _fold(a.name) == _fold(t.get("name")) for a in self.actions)]
        if kept_tokens:
            data["tokens"] = list(data.get("tokens") or []) + kept_tokens
        extra_tags = {k: v for k, v in (old.get("tags") or {}).items()
                      if _fold(k) not in {_fold(t) for t in (self.bundle.program.get("tags") or {})}}
        if extra_tags:
            data["tags"] = {**data.get("tags", {}), **extra_tags}
        data["folders"] = _merge_folders(data.get("folders") or [], old.get("folders") or [])
        if not data["folders"] and "folders" not in self.bundle.program:
            data.pop("folders")
        return data


def _copy_number(name: str) -> int:
    """N of a copy name "Name - N" (images: "logo - N.png")."""
    numbers = re.findall(r" - ([0-9]+)", name)
    return int(numbers[-1]) if numbers else 0


def _local_note(a: Asset, ws: Any = None) -> str:
    """A note on what importing ``a`` writes that is easy to miss (its kind unit says: an email's dynamic content)."""
    unit = kinds.get(a.kind)
    return unit.plan_note(a.content, ws) if unit is not None and a.content is not None else ""


def _merge_folders(new: list[Any], old: list[Any]) -> list[Any]:
    """The bundle's folder tree plus folders only the workspace has (never dropped by an upgrade)."""
    merged = json.loads(json.dumps(new))
    names = {_fold(f.get("name")): f for f in merged if isinstance(f, dict)}
    for f in old:
        if not isinstance(f, dict):
            continue
        mine = names.get(_fold(f.get("name")))
        if mine is None:
            merged.append(f)
        elif f.get("folders"):
            sub = _merge_folders(mine.get("folders") or [], f["folders"])
            if sub:
                mine["folders"] = sub
    return merged


def plan_path(
    path: str,
    workspace: Workspace,
    *,
    flags: dict[str, Any] | None = None,
    rules_file: str | None = None,
    as_name: str | None = None,
    prune: bool = False,
    allow_downgrade: bool = False,
    keep_bytes: bool = True,
    file_rules: Mapping[str, Any] | None = None,
    allow_shared_replace: bool = False,
) -> tuple[Plan, Bundle]:
    """Load and validate the bundle at ``path``, resolve the rules, plan. What ``plan``/``import`` run.

    Raises BadInput (exit 2) for a path that is not a bundle or an invalid rules file.
    Rules given as ``flags`` (None = not given) outrank the file, which outranks the bundle.
    ``keep_bytes`` keeps the files' bytes on the bundle for :func:`~programkit.apply.apply_plan`
    (see :func:`~programkit.load.load_bundle`); a plan that is only shown does not need them.
    ``file_rules``: rules-file level values already read (a saved plan's), instead of ``rules_file``.
    """
    file_rules = load_rules_file(rules_file) if rules_file else file_rules
    # an unsafe archive raises UnsafeArchive (exit 1), not a bare traceback
    loaded = load_bundle(path, keep_bytes=keep_bytes)
    findings = validate_loaded(loaded)
    manifest = loaded.bundle.manifest if isinstance(loaded.bundle.manifest, dict) else {}
    bundle_rules = manifest.get("conflictRules") if isinstance(manifest.get("conflictRules"), dict) else None
    if bundle_rules and any(f.pointer and f.pointer.startswith("/conflictRules") for f in findings):
        bundle_rules = None  # schema-invalid rules: validation reports them, planning must not choke
    rules = resolve(flags=flags, rules_file=file_rules, bundle=bundle_rules)
    plan = make_plan(loaded.bundle, workspace, rules, as_name=as_name, prune=prune,
                     allow_downgrade=allow_downgrade, findings=findings, allow_shared_replace=allow_shared_replace)
    return plan, loaded.bundle
