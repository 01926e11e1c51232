"""Plan stage: bundle + workspace inventory + rules → :class:`Plan` (pure data).

:func:`make_plan` only reads the workspace. It decides one action per bundle
item (the program, each folder, token, tag and asset), says which rule level
decided it, and runs the preflight: every missing field, segmentation,
snippet, webhook, custom object, CRM connection, channel or status, every
bundle validation error and every collision a ``fail`` rule hits, all at once.
A plan with problems cannot be applied. Apply executes exactly a plan, so a
saved plan (``--out``) is also what ``import --plan`` replays; it records the
workspace revision and the bundle digest to refuse when either changed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import semver

from .canonical import bundle_digest
from .errors import BadInput, require_path
from .findings import Finding, Severity, make, register_code, sort_key
from .jsontypes import as_list
from .jsonpos import escape
from . import kinds
from .model import PROGRAM_KINDS, Asset, Bundle, folder_tree
from .rules import OPTIONS, REUSE_IDENTICAL, RULE_OF_KIND, Rules, first_free_copy
from .validate import _with_lines, folder_paths, validate_bundle
from .workspaces.base import DESIGN_KINDS, AssetInfo, ProgramInfo, Workspace

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

G = "import"
register_code("PK501", "missing-field", Severity.ERROR, "A person field the bundle requires is not in the workspace.",
              hint="Create the field in the instance (same API name and type); the embedded workspace learns an "
                   "instance's fields from `programkit workspace load INVENTORY.json`, whose {\"fields\": [...]} "
                   "entries are shaped as requires.fields is (apiName, displayName, type): copy the missing ones "
                   "there to rehearse. Then plan again.",
              example="/requires/fields/0: field 'leadGrade' (string) is missing in workspace 'default'", group=G)
register_code("PK502", "field-type-mismatch", Severity.ERROR,
              "A required person field exists in the workspace with another type (Marketo's import fails on this).",
              hint="Use a field of the required type, or change requires.fields if the bundle can use this type.",
              example="/requires/fields/1: field 'mqlDate' is datetime in workspace 'default'; the bundle needs date",
              group=G)
register_code("PK503", "missing-segmentation", Severity.ERROR, "A segmentation the bundle requires is not in the workspace.",
              hint="Create and approve the segmentation in the workspace, then plan again.",
              example="/requires/segmentations/0: segmentation 'Region' is missing in workspace 'default'", group=G)
register_code("PK504", "missing-snippet", Severity.ERROR,
              "A snippet the bundle requires is neither in the workspace nor in the bundle.",
              hint="Create the snippet in the workspace or add it to the bundle.",
              example="/requires/snippets/0: snippet 'Footer' is missing in workspace 'default'", group=G)
register_code("PK505", "missing-webhook", Severity.ERROR, "A webhook the bundle requires is not in the workspace.",
              hint="Create the webhook in the workspace, then plan again.",
              example="/requires/webhooks/0: webhook 'Enrich' is missing in workspace 'default'", group=G)
register_code("PK506", "missing-custom-object", Severity.ERROR,
              "A custom object the bundle requires is not in the workspace.",
              hint="Create and approve the custom object in the workspace, then plan again.",
              example="/requires/customObjects/0: custom object 'Subscription' is missing in workspace 'default'",
              group=G)
#: PK507's hint, for the CRM the bundle needs: a real instance connects it; ours says so with our commands
CRM_HINT = ("Connect {what} to the instance. An embedded workspace: create it with `programkit workspace init --crm "
            "{crm}`, or give an existing one the CRM with `programkit workspace load INVENTORY.json`, the inventory "
            'saying {{"crm": "{crm}"}}.')
register_code("PK507", "missing-crm", Severity.ERROR, "The bundle needs a CRM connection the workspace does not have.",
              hint=CRM_HINT.format(what="the CRM requires.crm names (here salesforce)", crm="salesforce"),
              example="/requires/crm: the bundle needs a salesforce connection; workspace 'default' has none", group=G)
register_code("PK508", "unknown-channel", Severity.ERROR, "The program's channel is not a channel of the workspace.",
              hint="Create the channel in the workspace (Admin → Tags → Channels) or change program.channel.",
              example="/program/channel: channel 'Operational' is not in workspace 'default' (channels: Content)",
              group=G)
register_code("PK509", "unknown-membership-status", Severity.ERROR,
              "A program membership status is not a status of its channel in the workspace.",
              hint="Add the status to the channel in the workspace, or use one of the channel's statuses.",
              example="/program/membershipStatuses/0: '01-Member' is not a status of channel 'Operational' "
                      "(statuses: Member)", group=G)
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
register_code("PK116", "shared-replace", Severity.ERROR,
              "The rule 'replace' would replace a Design Studio asset that other programs use too: their emails "
              "would change with it. The plan lists every program affected.",
              hint="Pass --allow-shared-replace to replace it anyway (the history records that you did), or choose "
                   "keepBoth so the other programs keep what they use.",
              example="emailTemplate 'Quick Start Email Template' is also used by 'Webinar 2026'; replacing it "
                      "changes what they send", group=G)
SAVED_PLAN_HINT = "Give the file `programkit plan BUNDLE --out plan.json` wrote, or plan again."
register_code("PK531", "plan-unreadable", Severity.ERROR,
              "An --plan file is not a programkit plan: not JSON, cut short, or not shaped like a plan (exit 2).",
              hint=SAVED_PLAN_HINT, example="p.json is not a programkit plan: a JSON list, not an object",
              group=G)
register_code("PK532", "plan-format", Severity.ERROR,
              "An --plan file is a plan of another format version than this programkit reads (exit 2).",
              hint="Plan again with this programkit (`programkit plan BUNDLE --out plan.json`).",
              example="plan.json is a programkit-plan/2 plan; this programkit reads programkit-plan/1", group=G)
register_code("PK533", "plan-other-bundle", Severity.ERROR,
              "An --plan file is a plan for another bundle than the one given (exit 2).",
              hint="Give the bundle the plan names, or plan this bundle (`programkit plan BUNDLE --out plan.json`).",
              example="plan.json is a plan for bundle webinar-kit; the bundle given is op-lead-management", group=G)
register_code("PK534", "plan-edited", Severity.ERROR,
              "An --plan file is not the plan programkit makes now from the bundle, the workspace and the options "
              "the file records (an action added, removed or changed, an option or rule changed): it was edited.",
              hint="Apply only a plan as `programkit plan --out` wrote it: plan again (with the options you want, "
                   "e.g. --as, --on-image) and review that.",
              example="plan.json:/actions/3: emailTemplate 'Quick Start Email Template' is planned now "
                      "(create) but not in the file", group=G)
register_code("PK535", "plan-other-target", Severity.ERROR,
              "An --plan file was made for another target (another workspace file or Marketo instance).",
              hint="Apply it with the --target it was made for, or plan again against this target.",
              example="this plan was made for target /home/me/a.db, not /home/me/b.db", group=G)
register_code("PK536", "bad-program-name", Severity.ERROR,
              "The program name given with --as is empty, blank, starts or ends with a space, holds a line break, "
              "or is longer than Marketo's 255 characters (exit 2).",
              hint="Give --as a program name of 1 to 255 characters, without leading or trailing spaces.",
              example="--as '   ': the program name is blank", group=G)


register_code("PK537", "missing-referenced-asset", Severity.ERROR,
              "A campaign or smart list names a form, landing page, smart list or static list that is neither in "
              "the bundle nor in the workspace.",
              hint="Add it to the bundle, create it in the workspace first, or fix the name in the trigger or filter.",
              example="campaigns/registered.json:14:21 /smartList/triggers/0/constraints/0/values/0: form "
                      "'Event Registration' is neither in the bundle nor in workspace 'Default'", group=G)


register_code("PK538", "destination-template-lacks-section", Severity.ERROR,
              "With useDestination, a landing page of the bundle would be shown on the workspace's own template, "
              "which lacks an editable element or variable the page fills: that content would be lost.",
              hint="Import with --on-landing-page-template copy (the bundle's template as a copy), or add the "
                   "element to the workspace's template.",
              example="landing-pages/register.json:6:5 /sections/form: the workspace's template 'Event Page' has no "
                      "editable element 'form' (rule landingPageTemplates=useDestination)", group=G)


def check_program_name(name: str, what: str = "--as") -> None:
    """Raise BadInput (PK536, exit 2) unless ``name`` is a program name Marketo takes: the rules a bundle's own
    ``program.name`` follows (schemas/program.json: 1 to 255 characters, no leading or trailing whitespace, one
    line); 255 is also the limit the Marketo asset API's Swagger gives a program name (clone program)."""
    from .schema import get_schema

    rule = get_schema("program")["properties"]["name"]
    if not name:
        why = "the program name is empty"
    elif not name.strip():
        why = "the program name is blank"
    elif name != name.strip():
        why = "the program name starts or ends with whitespace"
    elif len(name) > rule["maxLength"]:
        why = f"the program name has {len(name)} characters; a Marketo program name has at most {rule['maxLength']}"
    elif not re.fullmatch(rule["pattern"], name):
        why = "the program name holds a line break"
    else:
        return
    message = f"{what} {name[:40]!r}{'…' if len(name) > 40 else ''}: {why}"
    raise BadInput(message, [make("PK536", message)])


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


# --- planning ---------------------------------------------------------------------


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
        self.preflight()
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
            self._refer_to_copies()
            missing = [a for a in self.actions if a.action == "create"]
            pruned = [a for a in self.actions if a.action == "delete"]
            if missing or self.drifted:
                self.repair(missing + pruned, self.drifted)
            elif pruned:
                self.prune_only(pruned)
            else:
                self.all_noop()
        self.guard_shared()
        self.program["data"] = self.program_data()
        # a target's own limits (a Marketo instance cannot create tags, some token types, lifecycles): with the
        # actions known, so what it says is about this plan (a lifecycle imported before is not "left" again);
        # listed where the preflight put them, before the problems the rules found
        target_preflight = getattr(self.ws, "preflight", None)
        if callable(target_preflight):
            self.problems[self.target_at:self.target_at] = target_preflight(self.bundle, self.rules, self.actions)
        self.mark_blocked()

    def mark_blocked(self) -> None:
        """A program-level problem stops the whole import: its writes are what the import would do once that
        problem is solved the way its hint says (--as NAME: a new program; a new version or --allow-downgrade: an
        upgrade in place), never what runs now. Each says so (``blockedBy``; :data:`UNBLOCK` says how)."""
        if self.blocked is None:
            return
        for act in self.actions:
            if act.action in WRITES and act.kind != "program":
                act.blocked_by = self.blocked

    # -- preflight: what must already exist --------------------------------------------
    def preflight(self) -> None:
        req, ws = self.bundle.requires, self.ws.name
        fields = {_fold(k): v for k, v in self.ws.fields().items()}
        for i, f in enumerate(req.get("fields") or []):
            if not isinstance(f, dict) or not isinstance(f.get("apiName"), str):
                continue
            have = fields.get(_fold(f["apiName"]))
            pointer = f"/requires/fields/{i}"
            if have is None:
                self.problem("PK501", f"{pointer}: field {f['apiName']!r} ({f.get('type')}) is missing in "
                                      f"workspace {ws!r}", pointer)
            elif f.get("type") and _fold(have.type) != _fold(f["type"]):
                self.problem("PK502", f"{pointer}: field {f['apiName']!r} is {have.type} in workspace {ws!r}; "
                                      f"the bundle needs {f['type']}", pointer)
        bundled_snippets = {_fold(a.name) for a in self.bundle.assets_of("snippet")}
        for key, code, what in (("segmentations", "PK503", "segmentation"), ("snippets", "PK504", "snippet"),
                                ("webhooks", "PK505", "webhook"), ("customObjects", "PK506", "custom object")):
            wanted = [n for n in req.get(key) or [] if isinstance(n, str)]
            if not wanted or key in getattr(self.ws, "unreadable", ()):
                continue  # a target that cannot list these warns about them in its own preflight
            have_names = {_fold(n) for n in self.ws.names(key)}
            for i, name in enumerate(req.get(key) or []):
                if not isinstance(name, str) or _fold(name) in have_names:
                    continue
                if key == "snippets" and _fold(name) in bundled_snippets:
                    continue
                self.problem(code, f"/requires/{key}/{i}: {what} {name!r} is missing in workspace {ws!r}",
                             f"/requires/{key}/{i}")
        self.preflight_references()
        crm = req.get("crm")
        if isinstance(crm, str) and self.ws.crm() != crm:
            have = self.ws.crm()
            self.problem("PK507", f"/requires/crm: the bundle needs a {crm} connection; workspace {ws!r} has "
                                  f"{have or 'none'}", "/requires/crm", hint=CRM_HINT.format(what=crm, crm=crm))
        prog = self.bundle.program
        channel = prog.get("channel")
        if isinstance(channel, str):
            channels = {_fold(k): (k, v) for k, v in self.ws.channels().items()}
            found = channels.get(_fold(channel))
            if found is None:
                names = ", ".join(sorted(k for k, _ in channels.values())) or "none"
                self.problem("PK508", f"/program/channel: channel {channel!r} is not in workspace {ws!r} "
                                      f"(channels: {names})", "/program/channel")
            else:
                statuses = {_fold(s) for s in found[1]}
                for i, status in enumerate(as_list(prog.get("membershipStatuses"))):
                    if isinstance(status, str) and _fold(status) not in statuses:
                        self.problem("PK509", f"/program/membershipStatuses/{i}: {status!r} is not a status of "
                                              f"channel {found[0]!r} (statuses: {', '.join(found[1]) or 'none'})",
                                     f"/program/membershipStatuses/{i}")
        self.target_at = len(self.problems)  # the target's own preflight goes here, once the actions are known

    def preflight_references(self) -> None:
        """PK537: what the bundle's documents name that may already be in the target (a form in a "Fills Out Form"
        trigger, a smart list in "Member of Smart List") is in the bundle or in the workspace (kind units say which
        references these are). The workspace is asked only about names the bundle does not have."""
        present: dict[str, set[str]] = {}
        for a in self.bundle.assets:
            present.setdefault(a.kind, set()).add(_fold(a.name))
        wanted: list[tuple[Asset, Any]] = []
        for a in self.bundle.assets:
            unit = kinds.get(a.kind)
            if unit is None or a.content is None:
                continue
            for ref in unit.references(a.content):
                target = kinds.get(ref.kind)
                if ref.outside and target is not None and target.local and _fold(ref.name) not in present.get(ref.kind, ()):
                    wanted.append((a, ref))
        have: dict[str, set[str]] = {}
        for a, ref in wanted:
            if ref.kind not in have:
                have[ref.kind] = {_fold(n) for n in self.ws.local_names(ref.kind)}
            if _fold(ref.name) not in have[ref.kind]:
                self.problem("PK537", f"{ref.pointer}: {ref.label or ref.kind} {ref.name!r} is neither in the bundle "
                                      f"nor in workspace {self.ws.name!r}", ref.pointer, file=a.path)

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
        # kinds the target cannot hold (a lifecycle on Marketo) exist only in that record: keep their digests
        self.recorded = {(a.get("kind"), _fold(a.get("name"))): a.get("sha256")
                         for a in (record.plan or {}).get("actions") or [] if a.get("kind") in self.ws.manual_kinds}
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

    def _refer_to_copies(self) -> None:
        """A drifted design asset imported as a copy: the bundle's own assets are rewritten (same bytes) so what
        they record as the names they use points at the copy, not at the edited asset."""
        if not any(d.action == "rename" for d in self.drifted):
            return
        for act in self.actions:
            if act.kind in PROGRAM_KINDS and act.action == "noop" and act.path is not None:
                act.action, act.reason = "update", "unchanged; now uses the bundle's copy of an asset edited " \
                                                   "in the workspace"
                self.drifted.append(act)

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
                self.destination_problems(a, existing)
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

    def destination_problems(self, a: Asset, existing: AssetInfo) -> None:
        """PK538: documents that would lose content on the workspace's own asset (``useDestination``), as their kind
        units say (a landing page section the workspace's template does not have)."""
        units = [u for u in kinds.all_kinds() if u.on_destination is not None]
        content = self.ws.read(existing.id) if units else b""
        for unit in units:
            for asset, pointer, message in unit.on_destination(self.bundle, a.kind, a.name, content):
                self.problem("PK538", f"{pointer}: {message} (rule {RULE_OF_KIND.get(a.kind)}=useDestination)",
                             pointer, file=asset.path)

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

    # -- shared Design Studio assets ------------------------------------------------------------
    def guard_shared(self) -> None:
        """A design asset another program uses is never deleted by --prune (kept, "used by: …"), and replacing
        one needs --allow-shared-replace (PK116 otherwise); either way the plan names every program affected."""
        from .usage import design_users, used_by_text

        risky = [a for a in self.actions if a.kind in DESIGN_KINDS and a.action in ("delete", "replace")
                 and isinstance(a.target_id, int)]
        if not risky:
            return
        own = self.existing.id if self.existing is not None else None
        extra_ids = {a.target_id for a in self.actions if a.kind in PROGRAM_KINDS and a.action == "skip"
                     and a.reason.startswith("added in the workspace")}
        extra = [x for x in self.ws.program_assets(own) if x.id in extra_ids] if own is not None and extra_ids else []
        users = design_users(self.ws, {a.target_id for a in risky}, program_id=own, own_extra=extra)
        for act in risky:
            names = users.get(act.target_id)
            if not names:
                continue
            act.used_by = names
            if act.action == "delete":
                act.action, act.decided_by = "skip", "default"
                act.reason = f"removed from the bundle; kept, {used_by_text(names)}"
            elif self.allow_shared_replace:
                act.decided_by = "flag"
                act.reason += f" ({used_by_text(names)}; --allow-shared-replace)"
            else:
                act.reason += f" ({used_by_text(names)})"
                self.problem("PK116", f"{act.kind} {act.name!r} in workspace {self.ws.name!r} is "
                                      f"{used_by_text(names)}; replacing it changes what they use",
                             self._pointer_of(act))

    def _pointer_of(self, act: Action) -> str | None:
        for a in self.bundle.assets:
            if a.kind == act.kind and a.name == act.name:
                return a.pointer + "/name"
        return None

    # -- same bundle, same digest ---------------------------------------------------------------
    def repair(self, missing: list[Action], drifted: list[Action] = ()) -> None:  # type: ignore[assignment]
        """Same bundle and digest as the program's provenance, but the target no longer holds some of it
        (deleted there since, or an import only partly rolled back) or holds it changed (``drifted``): those are
        created again or left to the conflict rules, and the program is updated, never called noop."""
        keep = [*missing, *drifted]
        for act in self.actions:
            if act.action in WRITES and all(act is not k for k in keep):  # the rest stays as it was: no rewrite
                act.action, act.reason = "noop", "already imported"
        act = next(a for a in self.actions if a.kind == "program")
        act.action = self.program["action"] = "update"
        name = f"{self.bundle.manifest.get('name')} {self.bundle.manifest.get('version')}"
        gone = [a for a in missing if a.action == "create"]
        if gone:
            what = ", ".join(f"{a.kind} {a.name!r}" for a in gone[:3]) + (", …" if len(gone) > 3 else "")
            act.reason = (f"{name} is recorded as imported, but the target no longer holds {len(gone)} item(s) of "
                          f"it ({what}): created again")
        else:
            changed = [a for a in drifted if a.kind in DESIGN_KINDS]
            what = ", ".join(f"{a.kind} {a.name!r}" for a in changed[:3]) + (", …" if len(changed) > 3 else "")
            act.reason = f"{name} is recorded as imported, but the workspace changed {what} since: see below"

    def prune_only(self, pruned: list[Action]) -> None:
        """Same bundle and digest as the program's provenance, with --prune: what an earlier upgrade of this
        bundle dropped and kept is deleted now (an import that only prunes is not a noop)."""
        for act in self.actions:
            if act.action in WRITES and act not in pruned:
                act.action, act.reason = "noop", "already imported"
        act = next(a for a in self.actions if a.kind == "program")
        act.action = self.program["action"] = "update"
        act.reason = (f"{self.bundle.manifest.get('name')} {self.bundle.manifest.get('version')} is already "
                      f"imported; --prune deletes {len(pruned)} item(s) an earlier version had")

    def all_noop(self) -> None:
        kept = []
        for act in self.actions:
            if act.action == "skip" and act.reason.startswith("added in the workspace"):
                continue  # not a bundle item
            act.action, act.decided_by = "noop", "default"  # no rule decides anything here
            act.reason = act.reason if act.reason in ("unchanged", "already in the program") else "already imported"
            kept.append(act)
        self.actions = kept

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
    from .load import load_bundle
    from .rules import load_rules_file, resolve
    from .validate import validate_loaded

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


# --- saved plans (``plan --out``, ``import --plan``) ------------------------------------


@dataclass
class SavedPlan:
    """A plan file as read: its path, its JSON exactly as written (what is compared), and the :class:`Plan`."""

    path: str
    data: dict[str, Any]
    plan: Plan

    @classmethod
    def read(cls, path: str) -> "SavedPlan":
        """Read and shape-check a plan file. Raises BadInput (exit 2): PK413 no such file, PK531 not a plan (not
        JSON, cut short, not shaped like one), PK532 a plan of another format version."""
        require_path(path, "--plan names a plan file that `programkit plan BUNDLE --out plan.json` wrote.")
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as e:
            raise BadInput(f"cannot read plan {path}: {e.strerror}") from None
        except UnicodeDecodeError:
            raise _not_a_plan(path, "not UTF-8 text") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            cut = " (the file is cut short)" if e.pos >= len(text.rstrip()) else ""
            raise _not_a_plan(path, f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}{cut}") from None
        except RecursionError:
            raise _not_a_plan(path, "JSON nested too deeply") from None
        if not isinstance(data, dict):
            raise _not_a_plan(path, f"a JSON {_json_type(data)}, not an object")
        fmt = data.get("format")
        if fmt != PLAN_FORMAT:
            if isinstance(fmt, str) and fmt.startswith("programkit-plan/"):
                message = f"{path} is a {fmt} plan; this programkit reads {PLAN_FORMAT}"
                raise BadInput(message, [make("PK532", message, file=path, pointer="/format")])
            raise _not_a_plan(path, f"its format is {fmt!r}, not {PLAN_FORMAT!r}")
        shape = (("bundle", dict), ("workspace", dict), ("program", dict), ("rules", dict), ("options", dict),
                 ("actions", list), ("problems", list))
        for key, typ in shape:
            if not isinstance(data.get(key), typ):
                what = "missing" if key not in data else f"a JSON {_json_type(data[key])}"
                raise _not_a_plan(path, f"/{key} is {what}, not a JSON {_json_type(typ())}")
        for i, a in enumerate(data["actions"]):
            if not isinstance(a, dict) or not all(isinstance(a.get(k), str) for k in ("kind", "name", "action")) \
                    or a["action"] not in ACTIONS:
                raise _not_a_plan(path, f"/actions/{i} is not an action (kind, name and one of {', '.join(ACTIONS)})")
        options = data["options"]
        if not isinstance(options.get("as"), (str, type(None))) or \
                not all(isinstance(options.get(k, False), bool) for k in ("prune", "allowDowngrade")):
            raise _not_a_plan(path, "/options must give as (a name or null), prune and allowDowngrade (true/false)")
        tags = options.get("tags", {})
        if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
            raise _not_a_plan(path, "/options/tags must map tag types to values (text), as --tag TYPE=VALUE gives them")
        if not isinstance(data["bundle"].get("name"), (str, type(None))):
            raise _not_a_plan(path, "/bundle/name is not a bundle name")
        try:
            plan = Plan.from_dict(data)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise _not_a_plan(path, f"{type(e).__name__}: {e}") from None
        return cls(path, data, plan)

    def replan_options(self) -> dict[str, Any]:
        """The options :func:`plan_path` needs to plan again what this file records: --as, --prune,
        --allow-downgrade, and the rules set by a flag or a rules file (the bundle's and the defaults come from
        the bundle and the code, so an edited one shows up as a difference)."""
        levels: dict[str, dict[str, Any]] = {"flag": {}, "rules-file": {}}
        for rule, decision in self.data["rules"].items():
            if not isinstance(decision, dict) or decision.get("decidedBy") not in levels:
                continue
            value = decision.get("value")
            allowed = (True, False) if rule == REUSE_IDENTICAL else OPTIONS.get(rule, ())
            if any(value is v for v in allowed) or (isinstance(value, str) and value in allowed):
                levels[decision["decidedBy"]][rule] = value
        options = self.data["options"]
        as_name = options.get("as")
        if as_name is not None:
            check_program_name(as_name, f"{self.path}: /options/as")
        return {"flags": levels["flag"], "file_rules": levels["rules-file"], "as_name": as_name,
                "prune": options.get("prune", False), "allow_downgrade": options.get("allowDowngrade", False),
                "allow_shared_replace": options.get("allowSharedReplace", False) is True}

    @property
    def tags(self) -> dict[str, str]:
        """The program tags the import supplied (``--tag TYPE=VALUE`` on a Marketo target), as recorded."""
        return dict(self.data["options"].get("tags") or {})

    def differences(self, current: Plan) -> list[Finding]:
        """Every way this file differs from ``current`` (the plan made now with :meth:`replan_options`), one
        PK534 finding each: actions added, removed, changed or reordered, options, rules, program, bundle header,
        summary, problems, keys a plan does not have. Empty: the file is exactly what is planned now."""
        now = json.loads(current.to_json())
        if "target" not in self.data["workspace"]:  # saved before plans named their target: checked by revision
            now["workspace"].pop("target", None)
        out: list[Finding] = []

        def diff(pointer: str, message: str) -> None:
            out.append(make("PK534", message, file=self.path, pointer=pointer))

        for key in self.data:
            if key not in now:
                diff(f"/{escape(key)}", f"/{key} is not part of a plan")
        for key in ("bundle", "workspace", "program", "rules", "options", "summary"):
            _diff_fields(self.data.get(key), now[key], f"/{key}", diff)
        _diff_actions(self.data["actions"], now["actions"], diff)
        said = [(p.get("code"), p.get("message")) if isinstance(p, dict) else p for p in self.data["problems"]]
        found = [(p["code"], p["message"]) for p in now["problems"]]
        for i, p in enumerate(self.data["problems"]):
            if said[i] not in found:
                diff(f"/problems/{i}", f"problem {_short(p)} is not found now")
        for p in now["problems"]:
            if (p["code"], p["message"]) not in said:
                diff("/problems", f"problem {p['code']} {_short(p['message'])} is found now but not in the file")
        return out


def _not_a_plan(path: str, why: str) -> BadInput:
    message = f"{path} is not a programkit plan: {why}"
    return BadInput(message, [make("PK531", message, file=path)])


def _json_type(value: Any) -> str:
    return {dict: "object", list: "list", str: "string", bool: "true/false", type(None): "null"}.get(
        type(value), "number")


def _short(value: Any, width: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= width else text[:width - 1] + "…"


def _diff_fields(saved: Any, now: Any, pointer: str, diff: Any) -> None:
    """One difference per key of a section (``program/data`` one per key of the program object, ``rules`` one per
    field of a rule)."""
    if not isinstance(saved, dict) or not isinstance(now, dict):
        if saved != now:
            diff(pointer, f"{pointer} is {_short(saved)} in the file, {_short(now)} planned now")
        return
    for key in list(saved) + [k for k in now if k not in saved]:
        where = f"{pointer}/{escape(key)}"
        if key not in now:
            diff(where, f"{where} is in the file but not in the plan made now")
        elif key not in saved:
            diff(where, f"{where} is missing from the file (planned now: {_short(now[key])})")
        elif (pointer, key) == ("/program", "data") or pointer == "/rules":
            _diff_fields(saved[key], now[key], where, diff)
        elif saved[key] != now[key]:
            diff(where, f"{where} is {_short(saved[key])} in the file, {_short(now[key])} planned now")


def _action_keys(actions: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """(kind, name, n) per action: the n-th action on that item (an item seldom has more than one)."""
    seen: dict[tuple[str, str], int] = {}
    keys = []
    for a in actions:
        item = (a["kind"], a["name"])
        seen[item] = seen.get(item, -1) + 1
        keys.append((*item, seen[item]))
    return keys


def _diff_actions(saved: list[dict[str, Any]], now: list[dict[str, Any]], diff: Any) -> None:
    saved_keys, now_keys = _action_keys(saved), _action_keys(now)
    planned = dict(zip(now_keys, range(len(now))))
    in_file = dict(zip(saved_keys, range(len(saved))))
    for j, key in enumerate(saved_keys):
        a = saved[j]
        label = f"{a['kind']} {a['name']!r}"
        if key not in planned:
            diff(f"/actions/{j}", f"{a['action']} {label} is in the file but not planned now")
            continue
        b = now[planned[key]]
        for field_ in list(a) + [k for k in b if k not in a]:
            if a.get(field_) != b.get(field_):
                diff(f"/actions/{j}/{escape(field_)}", f"{label}: {field_} is {_short(a.get(field_))} in the file, "
                                                        f"{_short(b.get(field_))} planned now")
    for i, key in enumerate(now_keys):
        if key not in in_file:
            b = now[i]
            diff("/actions", f"{b['action']} {b['kind']} {b['name']!r} is planned now (action {i + 1} of "
                             f"{len(now)}) but not in the file")
    common_saved = [k for k in saved_keys if k in planned]
    common_now = [k for k in now_keys if k in in_file]
    if common_saved != common_now:
        j = next(i for i, (x, y) in enumerate(zip(common_saved, common_now)) if x != y)
        diff("/actions", f"the actions are in another order than planned now (from {common_saved[j][0]} "
                         f"{common_saved[j][1]!r} on)")
