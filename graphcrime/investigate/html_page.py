"""A self-contained interactive HTML page for a party graph: inline SVG plus a little JS.

Every node is a ``<g class="node">`` (circle, label, ``<title>`` hover text) and every edge a
``<g class="edge">`` (curved path, amount/date label, hover title); dragging a node redraws
its edges. No external scripts, styles or fonts: the page works offline.

>>> import networkx as nx
>>> g = nx.MultiDiGraph(title="t")
>>> g.add_node("a", label="A", suspicious=True, role="party")
>>> g.add_node("b", label="B", suspicious=False, role="party")
>>> _ = g.add_edge("a", "b", key="t1", label="$5.00", amount=5.0, date="")
>>> page = graph_html(g, {"a": (0.0, 0.0), "b": (1.0, 0.0)}, {("a", "b", "t1"): 0.2})
>>> page.count('class="node"'), page.count('class="edge"'), "http" in page.split("<svg")[0]
(2, 1, False)
"""

from __future__ import annotations

import html
from typing import Any

import networkx as nx

W, H, PAD = 1100.0, 700.0, 80.0

SCRIPT = """
(function () {
  const svg = document.querySelector('svg');
  let drag = null, off = [0, 0];
  const pos = id => { const n = document.getElementById(id);
    return [parseFloat(n.dataset.x), parseFloat(n.dataset.y)]; };
  function path(e) {
    const [x1, y1] = pos(e.dataset.source), [x2, y2] = pos(e.dataset.target);
    const r = parseFloat(e.dataset.rad), cx = (x1 + x2) / 2 + r * (y2 - y1),
          cy = (y1 + y2) / 2 - r * (x2 - x1);
    e.querySelector('path').setAttribute('d', `M${x1},${y1} Q${cx},${cy} ${x2},${y2}`);
    const t = e.querySelector('text');
    t.setAttribute('x', (x1 + 2 * cx + x2) / 4); t.setAttribute('y', (y1 + 2 * cy + y2) / 4);
  }
  function point(ev) { const p = svg.createSVGPoint(); p.x = ev.clientX; p.y = ev.clientY;
    return p.matrixTransform(svg.getScreenCTM().inverse()); }
  document.querySelectorAll('g.node').forEach(n => n.addEventListener('mousedown', ev => {
    drag = n; const p = point(ev); off = [p.x - n.dataset.x, p.y - n.dataset.y];
    ev.preventDefault(); }));
  svg.addEventListener('mousemove', ev => { if (!drag) return; const p = point(ev);
    drag.dataset.x = p.x - off[0]; drag.dataset.y = p.y - off[1];
    drag.setAttribute('transform', `translate(${drag.dataset.x},${drag.dataset.y})`);
    document.querySelectorAll(`g.edge[data-source="${drag.id}"], g.edge[data-target="${drag.id}"]`)
      .forEach(path); });
  window.addEventListener('mouseup', () => { drag = null; });
  document.querySelectorAll('g.edge').forEach(path);
})();
"""

STYLE = """
body { font-family: sans-serif; margin: 12px; }
svg { border: 1px solid #ccc; background: #fff; }
g.node { cursor: move; } g.node text { font-size: 11px; pointer-events: none; }
g.edge path { fill: none; stroke: #666; stroke-width: 1.4; }
g.edge text { font-size: 10px; fill: #333; }
.legend span { display: inline-block; width: 12px; height: 12px; border-radius: 6px;
  margin: 0 4px 0 14px; vertical-align: middle; }
"""


def _scale(pos: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    sx = (W - 2 * PAD) / ((max(xs) - min(xs)) or 1.0)
    sy = (H - 2 * PAD) / ((max(ys) - min(ys)) or 1.0)
    return {n: (round(PAD + (x - min(xs)) * sx, 1), round(H - PAD - (y - min(ys)) * sy, 1))
            for n, (x, y) in pos.items()}


def graph_html(g: nx.MultiDiGraph, pos: dict[str, tuple[float, float]],
               rads: dict[tuple[str, str, str], float]) -> str:
    """The page's text; node/edge colours as in the PNG (see ``show.node_colour``)."""
    from graphcrime.investigate.show import PLAIN_COLOUR, ROLE_EDGES, SUSPICIOUS_COLOUR, node_colour

    esc = html.escape
    xy = _scale(pos)
    ids = {n: f"n{i}" for i, n in enumerate(g)}
    parts: list[str] = [
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="24" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#666"/></marker></defs>']
    for o, b, k, d in g.edges(keys=True, data=True):
        r = rads.get((o, b, k), 0.15)
        (x1, y1), (x2, y2) = xy[o], xy[b]
        cx, cy = (x1 + x2) / 2 + r * (y2 - y1), (y1 + y2) / 2 - r * (x2 - x1)
        parts.append(
            f'<g class="edge" data-source="{ids[o]}" data-target="{ids[b]}" '
            f'data-rad="{r}"><title>{esc(str(k))}\n{esc(o)} -&gt; '
            f'{esc(b)}\n{esc(d["label"])}</title><path marker-end="url(#arrow)" '
            f'd="M{x1},{y1} Q{cx:.1f},{cy:.1f} {x2},{y2}"/><text text-anchor="middle" '
            f'x="{(x1 + 2 * cx + x2) / 4:.1f}" y="{(y1 + 2 * cy + y2) / 4:.1f}">'
            f'{esc(d["label"])}</text></g>')
    for n, d in g.nodes(data=True):
        x, y = xy[n]
        what = "suspicious " if d["suspicious"] else ""
        parts.append(
            f'<g class="node" id="{ids[n]}" data-iri="{esc(n)}" data-x="{x}" data-y="{y}" '
            f'transform="translate({x},{y})"><title>{esc(n)}\n{what}{esc(d["role"])}</title>'
            f'<circle r="14" fill="{node_colour(d)}" stroke="{ROLE_EDGES.get(d["role"], "#000")}" '
            f'stroke-width="{4 if d["role"] in ROLE_EDGES else 1}"/>'
            f'<text y="30" text-anchor="middle">{esc(d["label"])}</text></g>')
    roles = {d["role"] for _, d in g.nodes(data=True)}
    legend = "".join(f'<span style="background:{c}"></span>{t}' for t, c in (
        ("suspicious party", SUSPICIOUS_COLOUR), ("other party", PLAIN_COLOUR)))
    legend += "".join(f'<span style="border:3px solid {c}"></span>{t}'
                      for t, c in ROLE_EDGES.items() if t in roles)
    title = esc(str(g.graph.get("title", "graphcrime")))
    body: Any = "\n".join(parts)
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>"
            f"<style>{STYLE}</style></head><body><h3>{title}</h3>"
            f'<div class="legend">{legend}</div>'
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{int(W)}" height="{int(H)}" '
            f'viewBox="0 0 {int(W)} {int(H)}">\n{body}\n</svg>'
            f"<p>Drag nodes to rearrange; hover for IRIs, amounts and dates.</p>"
            f"<script>{SCRIPT}</script></body></html>\n")
