"""Saved plans: a plan file as ``plan --out`` writes it and ``import --plan`` reads it (PK531–PK535).

:meth:`SavedPlan.read` shape-checks the file; :meth:`~SavedPlan.replan_options` gives the options to plan it
again, and :meth:`~SavedPlan.differences` every way the file differs from the plan made now.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BadInput, require_path
from ..findings import Finding, Severity, make, register_code
from ..jsonpos import escape
from ..rules import OPTIONS, REUSE_IDENTICAL
from .model import ACTIONS, PLAN_FORMAT, Plan
from .preflight import check_program_name

G = "import"
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
