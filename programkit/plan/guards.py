"""The plan's guards: what protects the workspace once the actions are decided.

A program-level problem (PK510/PK511/PK512) blocks every write and says what would unblock it
(:func:`mark_blocked`); a Design Studio asset other programs use is never deleted by ``--prune`` and is replaced
only with ``--allow-shared-replace`` (:func:`guard_shared`, PK116); a bundle already imported with the same digest
is a noop (:func:`all_noop`), a repair of what the target lost or changed (:func:`repair`, with
:func:`refer_to_copies` for drifted assets kept as copies), or a prune of what an earlier version dropped
(:func:`prune_only`). Each works on the list of actions the planner built.
"""

from __future__ import annotations

from typing import Any

from ..findings import Finding, Severity, make, register_code
from ..kinds import PROGRAM_KINDS
from ..model import Bundle
from ..usage import design_users, used_by_text
from ..workspaces.base import DESIGN_KINDS, ProgramInfo, Workspace
from .model import WRITES, Action

G = "import"
register_code("PK116", "shared-replace", Severity.ERROR,
              "The rule 'replace' would replace a Design Studio asset that other programs use too: their emails "
              "would change with it. The plan lists every program affected.",
              hint="Pass --allow-shared-replace to replace it anyway (the history records that you did), or choose "
                   "keepBoth so the other programs keep what they use.",
              example="emailTemplate 'Quick Start Email Template' is also used by 'Webinar 2026'; replacing it "
                      "changes what they send", group=G)


def mark_blocked(actions: list[Action], blocked: str | None) -> None:
    """A program-level problem stops the whole import: its writes are what the import would do once that
    problem is solved the way its hint says (--as NAME: a new program; a new version or --allow-downgrade: an
    upgrade in place), never what runs now. Each says so (``blockedBy``; :data:`UNBLOCK` says how)."""
    if blocked is None:
        return
    for act in actions:
        if act.action in WRITES and act.kind != "program":
            act.blocked_by = blocked


def guard_shared(bundle: Bundle, workspace: Workspace, actions: list[Action], existing: ProgramInfo | None,
                 allow_shared_replace: bool) -> list[Finding]:
    """A design asset another program uses is never deleted by --prune (kept, "used by: …"), and replacing
    one needs --allow-shared-replace (PK116 otherwise); either way the plan names every program affected."""
    out: list[Finding] = []
    risky = [a for a in actions if a.kind in DESIGN_KINDS and a.action in ("delete", "replace")
             and isinstance(a.target_id, int)]
    if not risky:
        return out
    own = existing.id if existing is not None else None
    extra_ids = {a.target_id for a in actions if a.kind in PROGRAM_KINDS and a.action == "skip"
                 and a.reason.startswith("added in the workspace")}
    extra = [x for x in workspace.program_assets(own) if x.id in extra_ids] if own is not None and extra_ids else []
    users = design_users(workspace, {a.target_id for a in risky}, program_id=own, own_extra=extra)
    for act in risky:
        names = users.get(act.target_id)
        if not names:
            continue
        act.used_by = names
        if act.action == "delete":
            act.action, act.decided_by = "skip", "default"
            act.reason = f"removed from the bundle; kept, {used_by_text(names)}"
        elif allow_shared_replace:
            act.decided_by = "flag"
            act.reason += f" ({used_by_text(names)}; --allow-shared-replace)"
        else:
            act.reason += f" ({used_by_text(names)})"
            out.append(make("PK116", f"{act.kind} {act.name!r} in workspace {workspace.name!r} is "
                                     f"{used_by_text(names)}; replacing it changes what they use",
                            file=bundle.manifest_path, pointer=_pointer_of(bundle, act), hint=None))
    return out


def _pointer_of(bundle: Bundle, act: Action) -> str | None:
    for a in bundle.assets:
        if a.kind == act.kind and a.name == act.name:
            return a.pointer + "/name"
    return None


def refer_to_copies(actions: list[Action], drifted: list[Action]) -> None:
    """A drifted design asset imported as a copy: the bundle's own assets are rewritten (same bytes) so what
    they record as the names they use points at the copy, not at the edited asset."""
    if not any(d.action == "rename" for d in drifted):
        return
    for act in actions:
        if act.kind in PROGRAM_KINDS and act.action == "noop" and act.path is not None:
            act.action, act.reason = "update", "unchanged; now uses the bundle's copy of an asset edited " \
                                               "in the workspace"
            drifted.append(act)


def repair(actions: list[Action], program: dict[str, Any], manifest: dict[str, Any], missing: list[Action],
           drifted: list[Action] = ()) -> None:  # type: ignore[assignment]
    """Same bundle and digest as the program's provenance, but the target no longer holds some of it
    (deleted there since, or an import only partly rolled back) or holds it changed (``drifted``): those are
    created again or left to the conflict rules, and the program is updated, never called noop."""
    keep = [*missing, *drifted]
    for act in actions:
        if act.action in WRITES and all(act is not k for k in keep):  # the rest stays as it was: no rewrite
            act.action, act.reason = "noop", "already imported"
    act = next(a for a in actions if a.kind == "program")
    act.action = program["action"] = "update"
    name = f"{manifest.get('name')} {manifest.get('version')}"
    gone = [a for a in missing if a.action == "create"]
    if gone:
        what = ", ".join(f"{a.kind} {a.name!r}" for a in gone[:3]) + (", …" if len(gone) > 3 else "")
        act.reason = (f"{name} is recorded as imported, but the target no longer holds {len(gone)} item(s) of "
                      f"it ({what}): created again")
    else:
        changed = [a for a in drifted if a.kind in DESIGN_KINDS]
        what = ", ".join(f"{a.kind} {a.name!r}" for a in changed[:3]) + (", …" if len(changed) > 3 else "")
        act.reason = f"{name} is recorded as imported, but the workspace changed {what} since: see below"


def prune_only(actions: list[Action], program: dict[str, Any], manifest: dict[str, Any], pruned: list[Action]) -> None:
    """Same bundle and digest as the program's provenance, with --prune: what an earlier upgrade of this
    bundle dropped and kept is deleted now (an import that only prunes is not a noop)."""
    for act in actions:
        if act.action in WRITES and act not in pruned:
            act.action, act.reason = "noop", "already imported"
    act = next(a for a in actions if a.kind == "program")
    act.action = program["action"] = "update"
    act.reason = (f"{manifest.get('name')} {manifest.get('version')} is already "
                  f"imported; --prune deletes {len(pruned)} item(s) an earlier version had")


def all_noop(actions: list[Action]) -> list[Action]:
    """Nothing to do: every bundle item is a noop; what was added in the workspace is left out of the plan."""
    kept = []
    for act in actions:
        if act.action == "skip" and act.reason.startswith("added in the workspace"):
            continue  # not a bundle item
        act.action, act.decided_by = "noop", "default"  # no rule decides anything here
        act.reason = act.reason if act.reason in ("unchanged", "already in the program") else "already imported"
        kept.append(act)
    return kept
