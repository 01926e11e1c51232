"""Inline SVG charts and diagrams drawn by programkit: no library, nothing fetched.

Every function returns :class:`markupsafe.Markup` holding one ``<svg>`` whose
text comes through :func:`markupsafe.escape`, so a state or campaign name from
a bundle can never become markup. Colours are CSS classes (``bar``, ``node``,
``edge`` …) so the report's light and dark themes and print styles apply.
Each chart has ``role="img"``, a ``<title>`` and an ``aria-label``; the numbers
it shows are also in a table next to it, for screen readers and for copying.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any, Iterable, Sequence

from markupsafe import Markup, escape

#: average width of a character of the 12px sans-serif the charts use, for laying out labels
CHAR_W = 7.0


def _e(value: Any) -> str:
    return str(escape(str(value)))


def _svg(width: float, height: float, label: str, body: list[str], cls: str = "chart") -> Markup:
    return Markup(
        f'<svg class="{cls}" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'role="img" aria-label="{_e(label)}" xmlns="http://www.w3.org/2000/svg"><title>{_e(label)}</title>'
        + "".join(body) + "</svg>")


def _fit(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: max(1, chars - 1)] + "…"


def _number(n: float) -> str:
    return f"{n:,.0f}" if float(n).is_integer() else f"{n:,.1f}"


def hbars(items: Sequence[tuple[str, float, str]], label: str, width: int = 640, cls: str = "bar") -> Markup:
    """Horizontal bars: (label, value, text shown after the bar) per row, longest bar = the largest value."""
    if not items:
        return Markup("")
    label_chars = min(32, max(len(i[0]) for i in items))
    left = 10 + label_chars * CHAR_W
    tail = 10 + max(len(i[2]) for i in items) * CHAR_W
    span = max(60.0, width - left - tail)
    top = max((i[1] for i in items), default=0) or 1
    row = 24
    body = []
    for n, (name, value, text) in enumerate(items):
        y = n * row + 4
        w = span * value / top if value > 0 else 0
        body.append(f'<text class="label" x="{left - 8:.0f}" y="{y + 13}" text-anchor="end">'
                    f'<title>{_e(name)}</title>{_e(_fit(name, label_chars))}</text>')
        body.append(f'<rect class="{cls}" x="{left:.0f}" y="{y}" width="{max(w, 1 if value else 0):.1f}" height="16" '
                    f'rx="2"><title>{_e(name)}: {_e(text)}</title></rect>')
        body.append(f'<text class="value" x="{left + w + 6:.1f}" y="{y + 13}">{_e(text)}</text>')
    return _svg(left + span + tail, len(items) * row + 8, label, body)


def funnel(steps: Sequence[dict[str, Any]], label: str, width: int = 640) -> Markup:
    """The lifecycle funnel: one centred band per stage, narrower as fewer people reach it, with the
    conversion from the previous stage between bands."""
    if not steps:
        return Markup("")
    top = max(s["reached"] for s in steps) or 1
    band, gap = 34, 22
    body = []
    cx = width / 2
    for n, s in enumerate(steps):
        y = n * (band + gap)
        w = max(4.0, (width - 40) * s["reached"] / top)
        body.append(f'<rect class="bar funnel-band" x="{cx - w / 2:.1f}" y="{y}" width="{w:.1f}" height="{band}" rx="3">'
                    f'<title>{_e(s["state"])}: {s["reached"]}</title></rect>')
        body.append(f'<text class="on-bar" x="{cx:.1f}" y="{y + 21}" text-anchor="middle">'
                    f'{_e(_fit(s["state"], 40))}: {_e(_number(s["reached"]))}</text>')
        if n and s.get("conversion") is not None:
            body.append(f'<text class="value" x="{cx:.1f}" y="{y - 6}" text-anchor="middle">'
                        f'↓ {s["conversion"] * 100:.1f}% of previous</text>')
    return _svg(width, len(steps) * (band + gap) - gap + 2, label, body)


def columns(items: Sequence[tuple[str, float]], label: str, width: int = 640, height: int = 180,
            cls: str = "bar", every: int | None = None) -> Markup:
    """Vertical columns over a category axis (days, duration buckets); axis labels thinned to fit."""
    if not items:
        return Markup("")
    top = max(v for _, v in items) or 1
    left, bottom, right = 44, 34, 8
    plot_w = width - left - right
    plot_h = height - bottom - 10
    step = plot_w / len(items)
    widest = max(len(k) for k, _ in items) * CHAR_W + 8
    every = every or max(1, math.ceil(widest / step))
    body = [f'<line class="axis" x1="{left}" y1="{10 + plot_h}" x2="{width - right}" y2="{10 + plot_h}"/>',
            f'<text class="value" x="{left - 6}" y="{14}" text-anchor="end">{_e(_number(top))}</text>',
            f'<text class="value" x="{left - 6}" y="{10 + plot_h}" text-anchor="end">0</text>']
    for n, (key, value) in enumerate(items):
        h = plot_h * value / top
        x = left + n * step
        body.append(f'<rect class="{cls}" x="{x + step * 0.1:.1f}" y="{10 + plot_h - h:.1f}" '
                    f'width="{max(step * 0.8, 0.5):.1f}" height="{h:.1f}"><title>{_e(key)}: {_e(_number(value))}'
                    f'</title></rect>')
        if n % every == 0:
            body.append(f'<text class="label" x="{x + step / 2:.1f}" y="{height - bottom + 18}" '
                        f'text-anchor="middle">{_e(key)}</text>')
    return _svg(width, height, label, body)


# --- lifecycle state diagram ------------------------------------------------------------------

ANY = "(any state)"


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _requirement(r: Any) -> str:
    """A required or optional field of a transition: a name, or {"field", "requiredBy": setting}."""
    if isinstance(r, str):
        return r
    if isinstance(r, dict) and isinstance(r.get("field"), str):
        return r["field"] + (f" (when {r['requiredBy']} is on)" if r.get("requiredBy") else "")
    return ""


def lifecycle_edges(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every arrow of a lifecycle: transitions (one per source state) and timers, with their conditions."""
    edges = []
    for t in doc.get("transitions") or []:
        if not isinstance(t, dict) or not isinstance(t.get("to"), str):
            continue
        cond = []
        requires = [_requirement(r) for r in (t.get("requires") if isinstance(t.get("requires"), list) else [])]
        if requires:
            cond.append("requires " + ", ".join(r for r in requires if r))
        reason = t.get("reason")
        if isinstance(reason, dict):
            field = f" ({reason['field']})" if reason.get("field") else ""
            cond.append(f"a reason{field} from '{reason.get('list', '')}'"
                        + (f" when {reason['requiredBy']} is on" if reason.get("requiredBy") else ""))
        if t.get("optional"):
            cond.append("optional " + ", ".join(_requirement(r) for r in t["optional"] if _requirement(r)))
        if t.get("automatic"):
            cond.append("automatic")
        on = t.get("onField")
        if isinstance(on, dict):
            values = on.get("values")
            cond.append(f"when {on.get('field', '')} becomes "
                        + (" or ".join(str(v).lower() if isinstance(v, bool) else str(v) for v in values)
                           if isinstance(values, list) and values else "set"))
        elif isinstance(on, str):
            cond.append(f"when {on} changes")
        if isinstance(t.get("description"), str):
            cond.append(t["description"])
        for src in _names(t.get("from")) or [ANY]:
            edges.append({"from": ANY if src == "*" else src, "to": t["to"], "label": str(t.get("event", "")),
                          "conditions": cond, "timer": False})
    for tm in doc.get("timers") or []:
        if isinstance(tm, dict) and isinstance(tm.get("state"), str) and isinstance(tm.get("to"), str):
            edges.append({"from": tm["state"], "to": tm["to"], "label": f"after {tm.get('after', '?')}",
                          "conditions": [str(tm.get("name", ""))], "timer": True})
    return edges


def state_diagram(doc: dict[str, Any], label: str, ident: str = "lc") -> Markup:
    """A lifecycle as a left-to-right state diagram: columns by distance from the initial state, a start
    dot, double borders on terminal states, solid arrows for transitions, dashed ones for timers, and
    one "(any state)" box for transitions allowed from every state."""
    states = [s["name"] for s in doc.get("states") or [] if isinstance(s, dict) and isinstance(s.get("name"), str)]
    if not states:
        return Markup("")
    edges = [e for e in lifecycle_edges(doc) if e["to"] in states and (e["from"] in states or e["from"] == ANY)]
    initial = doc.get("initial") if doc.get("initial") in states else states[0]
    terminal = set(_names(doc.get("terminal")))
    # columns: breadth-first distance from the initial state, then pushed right so that every arrow between
    # states of increasing distance points right (longest path); states never reached go after the rest
    dist = {initial: 0}
    queue = deque([initial])
    while queue:
        s = queue.popleft()
        for e in edges:
            if (e["from"] == s or e["from"] == ANY) and e["to"] not in dist:
                dist[e["to"]] = dist[s] + 1
                queue.append(e["to"])
    far = max(dist.values())
    for s in states:
        dist.setdefault(s, far + 1)
    layer = dict(dist)
    forward = [(e["from"], e["to"]) for e in edges
               if e["from"] != ANY and e["from"] != e["to"] and dist[e["from"]] <= dist[e["to"]]]
    for _ in range(len(states)):  # bounded: equal-distance cycles stop growing after len(states) rounds
        changed = False
        for a, b in forward:
            if layer[b] < layer[a] + 1 and layer[a] + 1 < len(states):
                layer[b] = layer[a] + 1
                changed = True
        if not changed:
            break
    has_any = any(e["from"] == ANY for e in edges)
    cols: dict[int, list[str]] = {}
    for s in states:
        cols.setdefault(layer[s], []).append(s)
    box_w = min(200.0, max(90.0, max(len(s) for s in states) * CHAR_W + 24))
    box_h, col_gap, row_gap = 36, 110, 34
    x0 = 40 + (box_w + 40 if has_any else 0)
    pos: dict[str, tuple[float, float]] = {}
    rows = max(len(v) for v in cols.values())
    y_top = 56
    for c in sorted(cols):
        column = cols[c]
        off = (rows - len(column)) * (box_h + row_gap) / 2
        for r, s in enumerate(column):
            pos[s] = (x0 + c * (box_w + col_gap), y_top + off + r * (box_h + row_gap))
    width = max(x for x, _ in pos.values()) + box_w + 40
    height = y_top + rows * (box_h + row_gap) + 10
    if has_any:
        pos[ANY] = (20, y_top)
    body = [f'<defs><marker id="{_e(ident)}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            'orient="auto-start-reverse"><path class="arrowhead" d="M0,0 L10,5 L0,10 z"/></marker></defs>']
    ix, iy = pos[initial]
    body.append(f'<circle class="start" cx="{ix - 22}" cy="{iy + box_h / 2}" r="6"><title>initial state</title></circle>'
                f'<line class="edge" x1="{ix - 16}" y1="{iy + box_h / 2}" x2="{ix - 2}" y2="{iy + box_h / 2}" '
                f'marker-end="url(#{_e(ident)}-arrow)"/>')
    loops: dict[str, int] = {}
    back = 0
    bottom = max(y for _, y in pos.values()) + box_h + 14
    for e in edges:
        (sx, sy), (tx, ty) = pos[e["from"]], pos[e["to"]]
        title = f"{e['from']} → {e['to']}: {e['label']}" + (f" ({'; '.join(e['conditions'])})" if e["conditions"] else "")
        dash = ' stroke-dasharray="6 4"' if e["timer"] else ""
        cls = "edge timer" if e["timer"] else "edge any" if e["from"] == ANY else "edge"
        if e["from"] == e["to"]:  # a self-loop above the box
            k = loops.get(e["to"], 0)
            loops[e["to"]] = k + 1
            x1, x2, y = sx + box_w * 0.35, sx + box_w * 0.65, sy
            d = f"M{x1:.1f},{y} C{x1 - 10:.1f},{y - 40 - 12 * k} {x2 + 10:.1f},{y - 40 - 12 * k} {x2:.1f},{y}"
            lx, ly = sx + box_w / 2, y - 34 - 12 * k
        else:
            forward = tx > sx + 1
            if forward:
                x1, y1, x2, y2 = sx + box_w, sy + box_h / 2, tx, ty + box_h / 2
                mid = (x1 + x2) / 2
                d = f"M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
                lx, ly = mid, (y1 + y2) / 2 - 4
            elif abs(tx - sx) < 1:  # within a column: a bow on the right of the boxes
                x1, y1, x2, y2 = sx + box_w, sy + box_h / 2, tx + box_w, ty + box_h / 2
                bow = x1 + 28
                d = f"M{x1:.1f},{y1:.1f} C{bow:.1f},{y1:.1f} {bow:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
                lx, ly = bow + 4, (y1 + y2) / 2
            else:  # backwards: an arc under the whole diagram, one lane per arc
                back += 1
                x1, y1, x2, y2 = sx + box_w / 2, sy + box_h, tx + box_w / 2, ty + box_h
                dip = bottom + 16 * back
                d = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{dip:.1f} {x2:.1f},{dip:.1f} {x2:.1f},{y2:.1f}"
                lx, ly = (x1 + x2) / 2, dip * 0.75 + max(y1, y2) * 0.25 + 4
                height = max(height, dip + 10)
        body.append(f'<g class="transition"><title>{_e(title)}</title><path class="{cls}" d="{d}" fill="none"{dash} '
                    f'marker-end="url(#{_e(ident)}-arrow)"/>')
        if e["from"] != ANY:
            body.append(f'<text class="edge-label" x="{lx:.1f}" y="{ly:.1f}" text-anchor="middle">'
                        f'{_e(_fit(e["label"], 22))}</text>')
        body.append("</g>")
    for s, (x, y) in pos.items():
        cls = "node any" if s == ANY else "node terminal" if s in terminal else "node initial" if s == initial else "node"
        body.append(f'<g class="state" data-state="{_e(s)}"><title>{_e(s)}</title>'
                    f'<rect class="{cls}" x="{x:.1f}" y="{y:.1f}" width="{box_w:.0f}" height="{box_h}" rx="8"'
                    + (' stroke-dasharray="4 3"' if s == ANY else "") + "/>")
        if s in terminal:
            body.append(f'<rect class="node-inner" x="{x + 3:.1f}" y="{y + 3:.1f}" width="{box_w - 6:.0f}" '
                        f'height="{box_h - 6}" rx="6" fill="none"/>')
        body.append(f'<text class="node-label" x="{x + box_w / 2:.1f}" y="{y + 23:.1f}" text-anchor="middle">'
                    f'{_e(_fit(s, int((box_w - 12) / CHAR_W)))}</text></g>')
    return _svg(width, height, label, body, cls="diagram")


# --- dependency graph -------------------------------------------------------------------------

#: columns of the dependency graph, users on the left, what they use to the right
GRAPH_COLUMNS = (("smartCampaign",), ("email", "leadLifecycle"), ("emailTemplate", "landingPageTemplate", "snippet",
                                                                  "image", "form"), ("token", "field"))


def dependency_graph(nodes: Sequence[dict[str, Any]], edges: Iterable[tuple[str, str]], label: str) -> Markup:
    """Assets in columns (campaigns → emails → templates, snippets, images → tokens), an arrow from each
    user to what it uses; each node links to its entry in the report."""
    col_of = {k: i for i, kinds in enumerate(GRAPH_COLUMNS) for k in kinds}
    cols: dict[int, list[dict[str, Any]]] = {}
    for n in nodes:
        cols.setdefault(col_of.get(n["kind"], len(GRAPH_COLUMNS) - 1), []).append(n)
    if not cols:
        return Markup("")
    box_w, box_h, col_gap, row_gap = 210.0, 30, 70, 12
    pos: dict[str, tuple[float, float]] = {}
    used_cols = sorted(cols)
    rows = max(len(v) for v in cols.values())
    for ci, c in enumerate(used_cols):
        for r, n in enumerate(cols[c]):
            pos[n["id"]] = (20 + ci * (box_w + col_gap), 20 + r * (box_h + row_gap))
    width = 40 + len(used_cols) * (box_w + col_gap) - col_gap
    height = 30 + rows * (box_h + row_gap)
    body = ['<defs><marker id="dep-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" '
            'orient="auto"><path class="arrowhead" d="M0,0 L10,5 L0,10 z"/></marker></defs>']
    for a, b in edges:
        if a not in pos or b not in pos:
            continue
        (ax, ay), (bx, by) = pos[a], pos[b]
        if bx > ax:
            x1, y1, x2, y2 = ax + box_w, ay + box_h / 2, bx, by + box_h / 2
        else:
            x1, y1, x2, y2 = ax, ay + box_h / 2, bx + box_w, by + box_h / 2
        mid = (x1 + x2) / 2
        body.append(f'<path class="edge" d="M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}" '
                    f'fill="none" marker-end="url(#dep-arrow)"/>')
    for n in nodes:
        x, y = pos[n["id"]]
        body.append(f'<a href="#{_e(n["id"])}"><g class="dep-node kind-{_e(n["kind"])}"><title>{_e(n["kind"])} '
                    f'{_e(n["name"])}</title><rect class="node" x="{x:.1f}" y="{y:.1f}" width="{box_w:.0f}" '
                    f'height="{box_h}" rx="5"/><text class="node-label" x="{x + 8:.1f}" y="{y + 19:.1f}">'
                    f'{_e(_fit(n["name"], int((box_w - 16) / CHAR_W)))}</text></g></a>')
    return _svg(width, height, label, body, cls="diagram")
