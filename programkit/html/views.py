"""What each HTML report shows, as plain data for its template (pure, except reading the workspace's
current content for the plan's diffs)."""

from __future__ import annotations

import base64
import difflib
import itertools
import json
import re
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any, Iterable, Sequence

from markupsafe import Markup

from ..docs import load_all_codes
from ..findings import Finding
from ..kinds import rules_of_kinds
from ..kinds import HTML_KINDS, JSON_KINDS, PROGRAM_KINDS
from ..model import Bundle, folder_tree
from ..workspaces.base import DESIGN_KINDS
from . import charts
from .preview import offline, render_email

#: the plan's actions, in the order the summary lists them, with the terminal's marks
ACTION_MARKS = {"create": "+", "update": "~", "reuse": "=", "rename": "→", "replace": "!", "delete": "−",
                "skip": "×", "noop": "·"}
#: design kinds whose plan actions a conflict rule decides
RULE_OF_KIND = {**rules_of_kinds(), "tag": "programTags"}
#: a diff longer than this (lines per side) is not computed line by line
MAX_DIFF_LINES = 4000
#: at most this many diffs in one plan report: a 10,000-asset upgrade stays a readable file
MAX_DIFFS = 200
#: rendered previews built into the page (each iframe costs the browser ~30-50 ms to open); the rest are
#: built when asked for (a button, with JavaScript) so a large plan still opens in seconds
EAGER_PREVIEWS = 4
#: an image is shown inline (as a data: URI) up to this size
MAX_INLINE_IMAGE = 1 << 20
#: the inspect report shows this many images as thumbnails; the others are listed (a bundle of 10,000
#: images would otherwise be a page of 10,000 pictures)
MAX_THUMBNAILS = 48
DESIGN_STUDIO = "Design Studio"
PROGRAM_SETTINGS = "Program, folders, tokens and tags"

_ID_UNSAFE = re.compile(r"[^a-z0-9]+")
_IMAGE_TYPES = {b"\x89PNG": "image/png", b"GIF8": "image/gif", b"\xff\xd8\xff": "image/jpeg", b"RIFF": "image/webp"}


class Ids:
    """Unique, stable HTML ids for one report (the same text always gets the same id)."""

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}
        self._used: set[str] = set()

    def __call__(self, *parts: Any) -> str:
        key = "\x00".join(str(p) for p in parts)
        if key not in self._seen:
            base = _ID_UNSAFE.sub("-", "-".join(str(p) for p in parts).casefold()).strip("-")[:60] or "x"
            ident, n = base, 1
            while ident in self._used:
                n += 1
                ident = f"{base}-{n}"
            self._used.add(ident)
            self._seen[key] = ident
        return self._seen[key]


def finding_view(f: Finding, path: str | None = None) -> dict[str, Any]:
    where = f.file or path or ""
    loc = f.location
    return {"code": f.code, "severity": f.severity.value, "rule": f.rule, "message": f.message, "hint": f.hint,
            "file": where, "location": loc, "line": f.line, "column": f.column, "pointer": f.pointer,
            "anchor": "code-" + f.code.lower()}


def code_docs(codes: Iterable[str]) -> list[dict[str, Any]]:
    """The documentation of each code a report mentions (docs/findings.md, in the report itself)."""
    known = load_all_codes()
    out = []
    for code in sorted(set(codes)):
        c = known.get(code)
        if c is not None:
            out.append({"code": c.code, "name": c.name, "severity": c.severity.value, "summary": c.summary,
                        "hint": c.hint, "example": c.example, "anchor": "code-" + c.code.lower(),
                        "doc": f"docs/findings.md#{c.code.lower()}"})
    return out


# --- diffs ------------------------------------------------------------------------------------


def _as_text(kind: str, content: Any) -> str | None:
    if content is None:
        return None
    if isinstance(content, bytes):
        if kind not in JSON_KINDS and kind not in HTML_KINDS:
            return None
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None
        if kind in JSON_KINDS:
            try:
                content = json.loads(content)
            except ValueError:
                return content
    if isinstance(content, str):
        return content
    return json.dumps(content, indent=2, sort_keys=True, ensure_ascii=False)


def side_by_side(old: str, new: str, context: int = 3) -> dict[str, Any]:
    """A side-by-side line diff: hunks of rows (tag, old number, old line, new number, new line)."""
    a, b = old.splitlines(), new.splitlines()
    if len(a) > MAX_DIFF_LINES or len(b) > MAX_DIFF_LINES:
        return {"hunks": [], "added": None, "removed": None, "too_long": True, "old_lines": len(a),
                "new_lines": len(b)}
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    hunks, added, removed = [], 0, 0
    for group in matcher.get_grouped_opcodes(context):
        rows = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows += [("equal", i + 1, a[i], j1 + k + 1, b[j1 + k]) for k, i in enumerate(range(i1, i2))]
                continue
            removed += i2 - i1
            added += j2 - j1
            for k in range(max(i2 - i1, j2 - j1)):
                i, j = i1 + k, j1 + k
                rows.append(("delete" if j >= j2 else "insert" if i >= i2 else "replace",
                             i + 1 if i < i2 else None, a[i] if i < i2 else "",
                             j + 1 if j < j2 else None, b[j] if j < j2 else ""))
        hunks.append(rows)
    return {"hunks": hunks, "added": added, "removed": removed, "too_long": False}


def image_uri(data: bytes | None) -> str | None:
    """A data: URI for an image's bytes (PNG, GIF, JPEG, WebP; SVG is never inlined), else None."""
    if not data or len(data) > MAX_INLINE_IMAGE:
        return None
    for magic, mime in _IMAGE_TYPES.items():
        if data.startswith(magic) and (magic != b"RIFF" or data[8:12] == b"WEBP"):
            return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")
    return None


# --- plan ---------------------------------------------------------------------------------------


def _safe_read(workspace: Any, asset_id: int | None) -> bytes | None:
    if workspace is None or asset_id is None:
        return None
    try:
        return workspace.read(asset_id)
    except Exception:  # noqa: BLE001 - a diff is a courtesy: a target that cannot read it shows none
        return None


def _bundle_bytes(bundle: Bundle | None, path: str | None, asset: Any = None) -> bytes | None:
    if bundle is None or not path:
        return None
    if asset is None:
        asset = next((a for a in bundle.assets if a.path == path), None)
    if asset is not None and asset.data is not None:
        return asset.data
    try:
        return bundle.source.read_bytes(path)
    except Exception:  # noqa: BLE001 - a closed archive or a missing file: no preview
        return None


def _tokens(bundle: Bundle | None) -> dict[str, Any]:
    out = {}
    for t in (bundle.program.get("tokens") if bundle else None) or []:
        if isinstance(t, dict) and isinstance(t.get("name"), str):
            out[t["name"]] = t.get("value", "")
    return out


def _template_text(name: Any, bundle: Bundle | None, workspace: Any) -> str | None:
    if not isinstance(name, str):
        return None
    for a in bundle.assets if bundle else []:
        if a.kind == "emailTemplate" and a.name.casefold() == name.casefold() and isinstance(a.content, str):
            return a.content
    if workspace is not None:
        try:
            found = workspace.design_assets("emailTemplate", [name])
            info = found.get(name.casefold())
            data = _safe_read(workspace, info.id) if info else None
            return data.decode("utf-8", "replace") if data else None
        except Exception:  # noqa: BLE001
            return None
    return None


def preview_of(kind: str, content: Any, bundle: Bundle | None, workspace: Any, current: bool = False) -> str | None:
    """The srcdoc of a rendered preview of an email or an HTML asset (offline), else None. ``current``: the
    workspace's version, so an email is built on the workspace's template rather than the bundle's."""
    if kind == "email":
        doc = content
        if isinstance(doc, bytes):
            try:
                doc = json.loads(doc.decode("utf-8-sig"))
            except ValueError:
                return None
        if not isinstance(doc, dict):
            return None
        template = _template_text(doc.get("template"), None if current else bundle, workspace)
        if template is None and current:
            template = _template_text(doc.get("template"), bundle, None)
        return offline(render_email(doc, template, _tokens(bundle)))
    if kind in HTML_KINDS:
        text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
        return offline(render_email({}, text, _tokens(bundle))) if isinstance(text, str) else None
    return None


def _diff(act: Any, bundle: Bundle | None, workspace: Any, new_asset: Any) -> dict[str, Any] | None:
    """Old (the workspace's) against new (the bundle's) for an update, replace or rename."""
    old_id = act.target_id
    if act.action == "rename" and workspace is not None and act.kind not in PROGRAM_KINDS:
        try:  # a keep-both copy: compare with the same-named asset it is kept beside
            info = workspace.design_assets(act.kind, [act.name]).get(act.name.casefold())
            old_id = info.id if info else None
        except Exception:  # noqa: BLE001
            old_id = None
    old_raw = _safe_read(workspace, old_id)
    new_content = new_asset.content if new_asset is not None else None
    if act.kind == "image":
        new_raw = _bundle_bytes(bundle, act.path)
        if old_raw is None and new_raw is None:
            return None
        return {"kind": "image", "old_image": image_uri(old_raw), "new_image": image_uri(new_raw),
                "old_size": len(old_raw) if old_raw is not None else None,
                "new_size": len(new_raw) if new_raw is not None else None}
    old_text, new_text = _as_text(act.kind, old_raw), _as_text(act.kind, new_content)
    if old_text is None and new_text is None:
        return None
    out = {"kind": "text", **side_by_side(old_text or "", new_text or ""), "old_missing": old_text is None}
    if act.kind == "email" or act.kind in HTML_KINDS:
        out["old_preview"] = preview_of(act.kind, old_raw, bundle, workspace, current=True) if old_raw is not None else None
        out["new_preview"] = preview_of(act.kind, new_content, bundle, workspace)
    return out


def _group_of(act: Any) -> str:
    if act.kind in ("program", "folder", "token", "tag"):
        return PROGRAM_SETTINGS
    if act.kind in PROGRAM_KINDS:
        return act.folder or "(program top level)"
    return DESIGN_STUDIO


def replacement_reach(plan: Any, workspace: Any) -> dict[int, dict[str, list[str]]]:
    """For each Design Studio asset the plan replaces or updates in place (by workspace id): the other
    programs whose assets use it, and the Design Studio assets that use it (they change too), as
    ``workspace used-by`` finds them. Only on a target that can list every asset (an embedded workspace):
    on Marketo each asset would be an API call, so it is not checked there and the report says so."""
    changed = {a.target_id for a in plan.actions
               if a.action in ("replace", "update") and a.kind in DESIGN_KINDS and a.target_id is not None}
    if not changed or workspace is None or hasattr(workspace, "estimate_calls"):
        return {}
    from ..usage import usage

    program_name = (plan.program.get("as") or plan.program.get("name") or "").casefold()
    try:
        found = usage(workspace)
    except Exception:  # noqa: BLE001 - what a replacement touches is extra information, never a failure
        return {}
    out: dict[int, dict[str, list[str]]] = {}
    for asset_id in changed:
        programs: list[str] = []
        design: list[str] = []
        for user in found.users_of(asset_id):
            if user.program_id is None:
                design.append(f"{user.kind} {user.name}")
            else:
                name = found.programs.get(user.program_id, "?")
                if name.casefold() != program_name and name not in programs:
                    programs.append(name)
        out[asset_id] = {"programs": programs, "design": design}
    return out


def plan_view(plan: Any, bundle: Bundle | None = None, workspace: Any = None) -> dict[str, Any]:
    """The plan report's data: header, counts, actions grouped by program folder with rule and reason,
    diffs and previews for update/replace/rename, preflight problems, the call estimate on Marketo."""
    ids = Ids()
    assets = {(a.kind, a.name.casefold(), a.path): a for a in bundle.assets} if bundle else {}
    by_path = {a.path: a for a in bundle.assets} if bundle else {}
    rules = plan.rules
    reach = replacement_reach(plan, workspace)
    remote = workspace is not None and hasattr(workspace, "estimate_calls")
    groups: dict[str, list[dict[str, Any]]] = {}
    diffs = previews = 0
    for act in plan.actions:
        rule = RULE_OF_KIND.get(act.kind)
        row = {"action": act.action, "mark": ACTION_MARKS.get(act.action, "?"), "kind": act.kind, "name": act.name,
               "as": act.as_name, "decided_by": act.decided_by, "reason": act.reason, "path": act.path,
               "folder": act.folder, "id": ids("action", act.kind, act.folder or "", act.name, act.action),
               "rule": f"{rule}={rules.value(rule)}" if rule else None,
               "rule_level": rules[rule].decided_by if rule else None, "diff": None, "reach": None,
               "blocked_by": act.blocked_by}
        if act.action in ("update", "replace", "rename") and act.kind not in ("program", "folder", "token", "tag"):
            if diffs < MAX_DIFFS:
                new_asset = by_path.get(act.path) or assets.get((act.kind, act.name.casefold(), act.path))
                row["diff"] = _diff(act, bundle, workspace, new_asset)
                if row["diff"] is not None:
                    row["diff"]["eager"] = previews < EAGER_PREVIEWS
                    previews += "new_preview" in row["diff"]
                diffs += row["diff"] is not None
            else:
                row["diff_skipped"] = True
        if act.action in ("replace", "update") and act.kind in DESIGN_KINDS and act.target_id is not None:
            row["reach"] = reach.get(act.target_id, {"programs": [], "design": []})
            row["reach_checked"] = act.target_id in reach
        groups.setdefault(_group_of(act), []).append(row)
    folder_order = [PROGRAM_SETTINGS] + [p for p, _ in folder_tree(bundle.program)] if bundle else [PROGRAM_SETTINGS]
    ordered = [g for g in folder_order if g in groups] + sorted(g for g in groups
                                                                 if g not in folder_order and g != DESIGN_STUDIO)
    if DESIGN_STUDIO in groups:
        ordered.append(DESIGN_STUDIO)
    summary = plan.summary
    counts = [{"action": k, "count": n, "mark": ACTION_MARKS[k]} for k, n in summary.items() if n]
    problems = [finding_view(p) for p in plan.problems]
    cost = None
    if remote and bundle is not None:
        try:
            cost = dict(workspace.estimate_calls(plan, bundle))
            cost["planCalls"] = getattr(getattr(workspace, "client", None), "calls", None)
        except Exception:  # noqa: BLE001 - an estimate is advice: a failure to make one hides only it
            cost = None
    from ..plan import UNBLOCK

    blocked: Counter[str] = Counter(a.blocked_by for a in plan.actions if a.blocked_by)
    b = plan.bundle
    chart = charts.hbars([(c["action"], c["count"], f"{c['count']:,}") for c in counts],
                         "Planned actions by kind of action", width=520) if counts else Markup("")
    return {
        "kind": "plan",
        "title": f"Plan: {b.get('name') or '(unreadable bundle)'} {b.get('version') or ''}".strip(),
        "bundle": b, "workspace": plan.workspace,
        "program": plan.program.get("as") or plan.program.get("name"),
        "program_action": plan.program.get("action"),
        "ok": plan.ok, "nothing_to_do": plan.nothing_to_do and plan.ok, "counts": counts, "chart": chart,
        "total": len(plan.actions), "writes": plan.writes,
        "groups": [{"title": g, "id": ids("group", g), "actions": groups[g],
                    "counts": Counter(r["action"] for r in groups[g])} for g in ordered],
        "errors": [p for p in problems if p["severity"] == "error"],
        "warnings": [p for p in problems if p["severity"] != "error"],
        "rules": [{"rule": r, "value": d["value"], "decided_by": d["decidedBy"]} for r, d in rules.to_dict().items()],
        "options": plan.options, "cost": cost, "remote": remote, "diffs": diffs,
        "diffs_capped": sum(1 for g in groups.values() for r in g if r.get("diff_skipped")),
        "codes": code_docs(p["code"] for p in problems),
        "blocked": [{"code": c, "count": n, "unblock": UNBLOCK.get(c, ""), "anchor": "code-" + c.lower()}
                    for c, n in sorted(blocked.items())],
    }


# --- inspect ------------------------------------------------------------------------------------

#: scan HTML for snippet and image names only up to this many of them (a bundle of 10,000 images is listed,
#: its "used by" from HTML text is not worked out)
MAX_NAMED_SCAN = 2000
#: draw the dependency graph up to this many items; past that the table alone lists what uses what
MAX_GRAPH_NODES = 150
_MY_TOKEN = re.compile(r"\{\{\s*my\.([^{}:]+?)\s*(?::default=[^{}]*)?\}\}")


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _humanize(key: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", key).replace("_", " ").capitalize()


def _values(v: Any) -> str:
    if isinstance(v, list):
        return ", ".join(_values(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{_humanize(k)}: {_values(x)}" for k, x in v.items())
    if v is True:
        return "true"
    if v is False:
        return "false"
    return "" if v is None else str(v)


def condition_text(c: Any, name_key: str) -> str:
    """One trigger, filter or constraint as Marketo words it: 'Person Score at least 100'."""
    if not isinstance(c, dict):
        return _values(c)
    head = str(c.get(name_key) or c.get("name") or c.get("field") or "")
    op = c.get("operator")
    vals = c.get("values")
    text = head
    if op:
        text += f" {op}"
    if vals not in (None, []):
        text += f" {_values(vals)}"
    extra = {k: v for k, v in c.items() if k not in (name_key, "name", "field", "operator", "values", "constraints")}
    if extra:
        text += f" ({_values(extra)})"
    return text


def campaign_view(doc: Any) -> dict[str, Any]:
    """A smart campaign's smart list (triggers, filters, rule logic), flow steps and schedule settings."""
    if not isinstance(doc, dict):
        return {"unreadable": True}
    smart = doc.get("smartList") if isinstance(doc.get("smartList"), dict) else {}
    triggers = []
    for t in smart.get("triggers") or []:
        cons = [condition_text(c, "name") for c in (t.get("constraints") or [] if isinstance(t, dict) else [])]
        triggers.append({"text": condition_text(t, "trigger"), "constraints": cons})
    filters = []
    for f in smart.get("filters") or []:
        cons = [condition_text(c, "name") for c in (f.get("constraints") or [] if isinstance(f, dict) else [])]
        filters.append({"text": condition_text(f, "filter"), "constraints": cons})
    steps = []
    for s in doc.get("flow") or []:
        if isinstance(s, dict):
            details = [(_humanize(k), _values(v)) for k, v in s.items()
                       if k not in ("step", "choices") and v not in (None, [], {}, "")]
            choices = [condition_text(c, "if") for c in s.get("choices") or []] if isinstance(s.get("choices"), list) else []
            steps.append({"step": str(s.get("step", "?")), "details": details, "choices": choices})
    logic = smart.get("ruleLogic") or "all"
    logic_text = {"all": "Use all filters", "any": "Use any filters"}.get(str(logic), f"Advanced: {logic}")
    return {"type": doc.get("type"), "active": doc.get("active"), "description": doc.get("description"),
            "qualification": doc.get("qualificationRule"), "limits": doc.get("communicationLimits"),
            "triggers": triggers, "filters": filters, "logic": logic_text, "steps": steps}


def lifecycle_view(doc: Any, ident: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        return {"unreadable": True}
    states = [s for s in doc.get("states") or [] if isinstance(s, dict) and isinstance(s.get("name"), str)]
    terminal = set(charts._names(doc.get("terminal")))
    return {
        "system": doc.get("system"), "description": doc.get("description"), "initial": doc.get("initial"),
        "state_field": doc.get("stateField"),
        "states": [{"name": s["name"], "description": s.get("description"), "category": s.get("category"),
                    "terminal": s["name"] in terminal, "initial": s["name"] == doc.get("initial")} for s in states],
        "edges": charts.lifecycle_edges(doc),
        "timers": [t for t in doc.get("timers") or [] if isinstance(t, dict)],
        "flags": [{"name": f.get("name"), "for": f.get("for"), "on_enter": f.get("onEnter"),
                   "description": f.get("description"),
                   "conditions": [condition_text(c, "field") for c in f.get("conditions") or []]}
                  for f in doc.get("flags") or [] if isinstance(f, dict)],
        "applies_to": [condition_text(c, "field") for c in doc.get("appliesTo") or []],
        "reason_lists": doc.get("reasonLists") if isinstance(doc.get("reasonLists"), dict) else {},
        "settings": [s for s in doc.get("settings") or [] if isinstance(s, dict)],
        "funnel": doc.get("funnel") or [],
        "diagram": charts.state_diagram(doc, "State diagram of the lifecycle", ident=ident),
    }


def inspect_view(inspection: Any, bundle: Bundle, findings: Sequence[Finding] = ()) -> dict[str, Any]:
    """The inspect report's data: the program tree as Marketo shows it, the dependency graph with "used by",
    each campaign's smart list and flow, each lifecycle's state diagram."""
    ids = Ids()
    program = bundle.program
    tokens = [t for t in program.get("tokens") or [] if isinstance(t, dict) and isinstance(t.get("name"), str)]
    nodes: dict[str, dict[str, Any]] = {}

    def node(kind: str, name: str) -> str:
        ident = ids(kind, name)
        nodes.setdefault(ident, {"id": ident, "kind": kind, "name": name, "uses": [], "used_by": []})
        return ident

    for t in tokens:
        node("token", t["name"])
    by_name = {}
    for a in bundle.assets:
        ident = node(a.kind, a.name)
        by_name.setdefault((a.kind, a.name.casefold()), ident)
    token_ids = {t["name"].casefold(): ids("token", t["name"]) for t in tokens}
    edges: list[tuple[str, str]] = []

    def link(src: str, kind: str, name: Any) -> None:
        if not isinstance(name, str):
            return
        dst = by_name.get((kind, name.casefold())) if kind != "token" else token_ids.get(name.strip().casefold())
        if dst is None:
            dst = node(kind, name)
            nodes[dst]["missing"] = True
        if (src, dst) not in edges and src != dst:
            edges.append((src, dst))

    # snippets and images are used by name in HTML (an image's name ends its URL): one pattern for them all
    named = {a.name: a.kind for a in bundle.assets if a.kind in ("snippet", "image") and a.name}
    by_text = re.compile("|".join(re.escape(n) for n in sorted(named, key=len, reverse=True))) \
        if 0 < len(named) <= MAX_NAMED_SCAN else None
    for a in bundle.assets:
        src = by_name[(a.kind, a.name.casefold())]
        doc = a.content
        if a.kind == "email" and isinstance(doc, dict):
            link(src, "emailTemplate", doc.get("template"))
        if a.kind == "smartCampaign" and isinstance(doc, dict):
            for s in doc.get("flow") or []:
                if isinstance(s, dict) and isinstance(s.get("email"), str):
                    link(src, "email", s["email"])
        texts = list(_strings(doc)) if a.kind in JSON_KINDS else [doc] if isinstance(doc, str) else []
        for text in texts:
            for m in _MY_TOKEN.finditer(text):
                link(src, "token", m.group(1))
            if by_text is not None and a.kind in ("email",) + HTML_KINDS:
                for m in by_text.finditer(text):
                    if m.group() != a.name:
                        link(src, named[m.group()], m.group())
    for s, d in edges:
        nodes[s]["uses"].append(d)
        nodes[d]["used_by"].append(s)
    # the tree: program folders with their assets, then Design Studio
    tree = []
    for path, _ in folder_tree(program):
        depth = path.count("/")
        items = [a for a in bundle.assets if a.kind in PROGRAM_KINDS and (a.folder or "") == path]
        tree.append({"path": path, "name": path.rsplit("/", 1)[-1], "depth": depth,
                     "assets": [_asset_row(a, by_name) for a in sorted(items, key=lambda x: (x.kind, x.name))]})
    top = [a for a in bundle.assets if a.kind in PROGRAM_KINDS and not a.folder]
    design = [a for a in bundle.assets if a.kind not in PROGRAM_KINDS]
    campaigns, emails, lifecycles = [], [], []
    tokens_by_name = {t["name"]: t.get("value", "") for t in tokens}
    for a in bundle.assets:
        ident = by_name[(a.kind, a.name.casefold())]
        if a.kind == "smartCampaign":
            campaigns.append({"id": ident, "name": a.name, "folder": a.folder, **campaign_view(a.content)})
        elif a.kind == "email" and isinstance(a.content, dict):
            doc = a.content
            emails.append({"id": ident, "name": a.name, "folder": a.folder, "subject": doc.get("subject"),
                           "from": f"{doc.get('fromName', '')} <{doc.get('fromEmail', '')}>",
                           "reply_to": doc.get("replyTo"), "template": doc.get("template"),
                           "operational": doc.get("operational"),
                           "preview": offline(render_email(doc, _template_text(doc.get("template"), bundle, None),
                                                           tokens_by_name))})
        elif a.kind == "leadLifecycle":
            lifecycles.append({"id": ident, "name": a.name, "folder": a.folder,
                               **lifecycle_view(a.content, ident=f"lc{len(lifecycles)}")})
    design_rows = []
    images = 0
    for a in sorted(design, key=lambda x: (x.kind, x.name)):
        row = _asset_row(a, by_name)
        if a.kind in HTML_KINDS and isinstance(a.content, str):
            row["preview"] = offline(render_email({}, a.content, tokens_by_name))
        elif a.kind == "image" and images < MAX_THUMBNAILS:
            row["image"] = image_uri(_bundle_bytes(bundle, a.path, a))
            images += 1
        design_rows.append(row)
    graph_nodes = list(nodes.values())
    fv = [finding_view(f) for f in findings]
    return {
        "kind": "inspect",
        "title": f"Bundle: {inspection.name or '?'} {inspection.version or ''}".strip(),
        "ins": inspection, "program": program, "tokens": [{**t, "id": token_ids[t["name"].casefold()]} for t in tokens],
        "tree": tree, "top": [_asset_row(a, by_name) for a in top], "design": design_rows,
        "nodes": sorted(graph_nodes, key=lambda n: (charts.GRAPH_COLUMNS.index(next(
            (c for c in charts.GRAPH_COLUMNS if n["kind"] in c), charts.GRAPH_COLUMNS[-1])), n["kind"], n["name"])),
        "node_names": {n["id"]: n for n in graph_nodes},
        "graph": charts.dependency_graph(graph_nodes, edges, "Dependency graph: what uses what")
        if len(graph_nodes) <= MAX_GRAPH_NODES else None, "graph_limit": MAX_GRAPH_NODES,
        "campaigns": campaigns, "emails": emails, "lifecycles": lifecycles,
        "findings": fv, "codes": code_docs(f["code"] for f in fv),
        "folders": [p for p, _ in folder_tree(program)],
    }


def _asset_row(a: Any, by_name: dict[tuple[str, str], str]) -> dict[str, Any]:
    return {"kind": a.kind, "name": a.name, "path": a.path, "id": by_name[(a.kind, a.name.casefold())]}


# --- validate -----------------------------------------------------------------------------------


def _file_text(result: Any, file: str | None) -> str | None:
    bundle = getattr(result, "bundle", None)
    if bundle is None or not file:
        return None
    if file in bundle.texts:
        return bundle.texts[file]
    for a in bundle.assets:
        if a.path == file and isinstance(a.content, str):
            return a.content
    return None


def source_excerpt(text: str | None, line: int | None, around: int = 3) -> list[tuple[int, str, bool]]:
    """The lines around ``line`` (1-based): (number, text, is the finding's line)."""
    if text is None or not line:
        return []
    lines = text.splitlines()
    lo, hi = max(1, line - around), min(len(lines), line + around)
    return [(n, lines[n - 1][:400], n == line) for n in range(lo, hi + 1)]


def validate_view(results: Sequence[Any], unreadable: Sequence[tuple[str, str]] = (), strict: bool = False) -> dict[str, Any]:
    """Findings of every bundle, grouped by file, each with the source lines around it."""
    from ..report import file_path

    ids = Ids()
    bundles = []
    codes = []
    for r in results:
        by_file: dict[str, list[dict[str, Any]]] = {}
        for f in r.findings:
            fv = finding_view(f)
            fv["file"] = file_path(r.path, f.file)
            fv["id"] = ids("finding", r.path, f.file or "", f.code, f.location, f.message)
            fv["source"] = source_excerpt(_file_text(r, f.file), f.line)
            by_file.setdefault(fv["file"], []).append(fv)
            codes.append(f.code)
        c = r.counts
        bundles.append({"path": r.path, "id": ids("bundle", r.path), "counts": c,
                        "failed": r.failed(strict), "files": [{"file": k, "id": ids("file", r.path, k),
                                                                "findings": v} for k, v in by_file.items()]})
    total = Counter({"error": 0, "warning": 0, "info": 0})
    for b in bundles:
        total.update(b["counts"])
    return {"kind": "validate", "title": "Validation: " + ", ".join(b["path"] for b in bundles[:3])
            + (" …" if len(bundles) > 3 else "") if bundles else "Validation",
            "bundles": bundles, "unreadable": [{"path": p, "message": m} for p, m in unreadable],
            "total": dict(total), "strict": strict, "codes": code_docs(codes)}


# --- simulate -----------------------------------------------------------------------------------

#: time-in-stage buckets: (upper bound in hours, label)
BUCKETS = ((1, "< 1 h"), (24, "1 h–1 d"), (72, "1–3 d"), (168, "3–7 d"), (336, "7–14 d"), (720, "14–30 d"),
           (float("inf"), "≥ 30 d"))


def _ts(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except (ValueError, AttributeError):
        return None


def simulate_view(result: Any, people_limit: int = 200) -> dict[str, Any]:
    """The simulation report's data: funnel, conversion, time in each stage, volume per day, campaigns fired."""
    durations: dict[str, list[float]] = defaultdict(list)
    per_day: Counter[str] = Counter()
    changes_per_day: Counter[str] = Counter()
    for p in result.people:
        entered: tuple[str, float] | None = None
        for h in p.get("history") or []:
            at = h.get("at")
            if isinstance(at, str) and "event" in h:
                per_day[at[:10]] += 1
            if "to" not in h:
                continue
            t = _ts(at) if isinstance(at, str) else None
            if t is None:
                continue
            if h.get("from") != h.get("to"):
                if isinstance(at, str):
                    changes_per_day[at[:10]] += 1
                if entered is not None:
                    durations[entered[0]].append((t - entered[1]) / 3600)
                entered = (h["to"], t)
    order = list(result.states) + [f["state"] for f in result.funnel]
    stage_names = sorted(durations, key=lambda s: (order.index(s) if s in order else len(order), s))
    stages = []
    for s in stage_names:
        hours = sorted(durations[s])
        counts = [0] * len(BUCKETS)
        for h in hours:
            counts[next(i for i, (hi, _) in enumerate(BUCKETS) if h < hi)] += 1
        median = hours[len(hours) // 2] if hours else None
        stages.append({"state": s, "n": len(hours), "median_hours": median, "max_hours": hours[-1] if hours else None,
                       "buckets": [(BUCKETS[i][1], n) for i, n in enumerate(counts)],
                       "chart": charts.columns([(BUCKETS[i][1], n) for i, n in enumerate(counts)],
                                               f"Time in {s}: people per duration", width=460, height=150)})
    days = sorted(set(per_day) | set(changes_per_day))
    if days:
        first, last = datetime.fromisoformat(days[0]), datetime.fromisoformat(days[-1])
        span = (last - first).days
        if span <= 3660:  # a continuous axis, quiet days at 0
            days = [datetime.fromordinal(first.toordinal() + i).date().isoformat() for i in range(span + 1)]
    volume = [(d, per_day.get(d, 0)) for d in days]
    funnel = list(result.funnel)
    states = list(result.states.items())
    campaigns = sorted(result.campaigns.items(), key=lambda kv: (-kv[1], kv[0]))
    findings = [finding_view(f) for f in itertools.islice(result.findings, 500)]
    return {
        "kind": "simulate",
        "title": f"Simulation: {result.bundle} {result.version}",
        "result": result, "events": result.events, "lifecycle": result.lifecycle, "until": result.until,
        "funnel": funnel, "funnel_chart": charts.funnel(funnel, "Funnel: people who reached each stage"),
        "states": states, "states_chart": charts.hbars([(s, n, f"{n:,}") for s, n in states],
                                                       "People per final state"),
        "stages": stages, "volume": volume,
        "volume_chart": charts.columns(volume, "Lifecycle and campaign events per day", width=760, height=200),
        "campaigns": campaigns, "campaigns_chart": charts.hbars([(c, n, f"{n:,}") for c, n in campaigns],
                                                                "Campaign runs (campaigns fired)"),
        "alerts": list(itertools.islice(result.alerts, people_limit)), "alerts_total": len(result.alerts),
        "rejected": list(itertools.islice(result.rejected, people_limit)), "rejected_total": len(result.rejected),
        "people": [{"id": p["id"], "state": p["state"], "applies": p["applies"], "flags": p["flags"],
                    "path": " → ".join(h["to"] for h in p["history"] if "to" in h and h.get("from") != h["to"])}
                   for p in result.people[:people_limit]],
        "people_total": len(result.people), "people_limit": people_limit,
        "findings": findings, "findings_total": len(result.findings), "codes": code_docs(f["code"] for f in findings),
    }

