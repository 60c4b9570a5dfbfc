"""A self-contained interactive HTML picture of a party graph: inline SVG plus a little JS.

:func:`svg_fragment` gives an embeddable ``<svg class="gc-graph">`` (positions and labels
from :mod:`~graphcrime.investigate.svg_layout`); pages embedding it add :data:`STYLE` and
:data:`SCRIPT` once (the script wires up every ``svg.gc-graph`` on the page).
:func:`graph_html` wraps one fragment in a whole page. Every node is a ``<g class="node">``
(circle, label, ``<title>`` hover text) and every edge a ``<g class="edge">`` (path, label
on the path, hover title); labels that do not fit are ``hidden`` and appear on hover;
dragging a node redraws its edges and moves their labels along. No external scripts, styles
or fonts: the page works offline.

>>> import networkx as nx
>>> g = nx.MultiDiGraph(title="t")
>>> g.add_node("a", label="A", suspicious=True, role="party")
>>> g.add_node("b", label="B", suspicious=False, role="party")
>>> _ = g.add_edge("a", "b", key="t1", label="$5.00", amount=5.0, date="")
>>> page = graph_html(g)
>>> page.count('class="node"'), page.count('class="edge"'), "http" in page.split("<svg")[0]
(2, 1, False)
"""

from __future__ import annotations

import html

import networkx as nx

from graphcrime.investigate.svg_layout import LINE, Label, Picture, R, control, layout_picture

SCRIPT = """
(function () {
  function init(svg) {
    let drag = null, off = [0, 0];
    const node = id => svg.querySelector(`g.node[data-id="${id}"]`);
    const pos = id => { const n = node(id); return [+n.dataset.x, +n.dataset.y]; };
    function redraw(e) {
      const [x1, y1] = pos(e.dataset.source), [x2, y2] = pos(e.dataset.target);
      const r = +e.dataset.rad, cx = (x1 + x2) / 2 + r * (y2 - y1),
            cy = (y1 + y2) / 2 - r * (x2 - x1), t = +e.dataset.t, u = 1 - t;
      e.querySelector('path').setAttribute('d', `M${x1},${y1} Q${cx},${cy} ${x2},${y2}`);
      const lx = u * u * x1 + 2 * u * t * cx + t * t * x2,
            ly = u * u * y1 + 2 * u * t * cy + t * t * y2;
      e.querySelector('g.label').setAttribute('transform', `translate(${lx},${ly})`);
    }
    function at(ev) { const p = svg.createSVGPoint(); p.x = ev.clientX; p.y = ev.clientY;
      return p.matrixTransform(svg.getScreenCTM().inverse()); }
    svg.querySelectorAll('g.node').forEach(n => n.addEventListener('mousedown', ev => {
      drag = n; const p = at(ev); off = [p.x - n.dataset.x, p.y - n.dataset.y];
      ev.preventDefault(); }));
    svg.addEventListener('mousemove', ev => { if (!drag) return; const p = at(ev);
      drag.dataset.x = p.x - off[0]; drag.dataset.y = p.y - off[1];
      drag.setAttribute('transform', `translate(${drag.dataset.x},${drag.dataset.y})`);
      const id = drag.dataset.id;
      svg.querySelectorAll(`g.edge[data-source="${id}"], g.edge[data-target="${id}"]`)
        .forEach(redraw); });
    window.addEventListener('mouseup', () => { drag = null; });
  }
  document.querySelectorAll('svg.gc-graph').forEach(init);
})();
"""

STYLE = """
body { font-family: sans-serif; margin: 12px; }
svg.gc-graph { border: 1px solid #ccc; background: #fff; }
svg.gc-graph text { font-family: "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas,
  monospace; fill: #222; }
svg.gc-graph g.node { cursor: move; }
svg.gc-graph g.node text { font-size: 11px; pointer-events: none; }
svg.gc-graph g.edge path { fill: none; stroke: #777; stroke-width: 1.4; }
svg.gc-graph g.edge:hover path { stroke: #000; stroke-width: 2.5; }
svg.gc-graph g.edge text { font-size: 10px; }
svg.gc-graph g.label rect { fill: #fff; fill-opacity: 0.9; stroke: #ddd; }
svg.gc-graph g.label.hidden { display: none; }
svg.gc-graph g.edge:hover g.label.hidden, svg.gc-graph g.node:hover g.label.hidden {
  display: inline; }
.legend span { display: inline-block; width: 12px; height: 12px; border-radius: 6px;
  margin: 0 4px 0 14px; vertical-align: middle; }
"""


def _label(lab: Label, x: float, y: float) -> str:
    """A label group centred at ``(x, y)`` (relative to its parent): box and text lines."""
    lh = lab.size * LINE
    first = -(len(lab.lines) - 1) * lh / 2 + lab.size * 0.35
    spans = "".join(f'<tspan x="0" y="{first + i * lh:.1f}">{html.escape(s)}</tspan>'
                    for i, s in enumerate(lab.lines))
    cls = "label" if lab.visible else "label hidden"
    return (f'<g class="{cls}" transform="translate({x:.1f},{y:.1f})">'
            f'<rect x="{-lab.w / 2:.1f}" y="{-lab.h / 2:.1f}" width="{lab.w:.1f}" '
            f'height="{lab.h:.1f}" rx="3"/><text text-anchor="middle">{spans}</text></g>')


def svg_fragment(g: nx.MultiDiGraph, pic: Picture | None = None) -> str:
    """The ``<svg class="gc-graph">`` element of ``g`` (laid out by ``pic`` or afresh)."""
    from graphcrime.investigate.show import ROLE_EDGES, node_colour

    esc = html.escape
    pic = pic or layout_picture(g)
    ids = {n: f"n{i}" for i, n in enumerate(g)}
    parts: list[str] = [
        f'<defs><marker id="gc-arrow" viewBox="0 0 10 10" refX="{R + 10:.0f}" refY="5" '
        'markerWidth="8" markerHeight="8" markerUnits="userSpaceOnUse" orient="auto">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#777"/></marker></defs>']
    for o, b, k, d in g.edges(keys=True, data=True):
        e = (o, b, k)
        lab = pic.edge_labels[e]
        rad = pic.rads.get(e, 0.0)
        (x1, y1), (x2, y2) = pic.xy[o], pic.xy[b]
        cx, cy = control((x1, y1), (x2, y2), rad)
        parts.append(
            f'<g class="edge" data-key="{esc(str(k))}" data-source="{ids[o]}" '
            f'data-target="{ids[b]}" data-rad="{rad}" data-t="{lab.t}">'
            f'<title>{esc(str(k))}\n{esc(o)} -&gt; {esc(b)}\n{esc(d["label"])}</title>'
            f'<path marker-end="url(#gc-arrow)" d="M{x1},{y1} Q{cx:.1f},{cy:.1f} {x2},{y2}"/>'
            f'{_label(lab, lab.x, lab.y)}</g>')
    for n, d in g.nodes(data=True):
        x, y = pic.xy[n]
        lab = pic.node_labels[n]
        what = "suspicious " if d["suspicious"] else ""
        parts.append(
            f'<g class="node" data-id="{ids[n]}" data-iri="{esc(n)}" data-x="{x}" '
            f'data-y="{y}" transform="translate({x},{y})">'
            f'<title>{esc(n)}\n{esc(str(d["label"]))}\n{what}{esc(d["role"])}</title>'
            f'<circle r="{R:.0f}" fill="{node_colour(d)}" '
            f'stroke="{ROLE_EDGES.get(d["role"], "#000")}" '
            f'stroke-width="{4 if d["role"] in ROLE_EDGES else 1}"/>'
            f'{_label(lab, lab.x - x, lab.y - y)}</g>')
    w, h = int(pic.width), int(pic.height)
    return (f'<svg class="gc-graph" xmlns="http://www.w3.org/2000/svg" width="{w}" '
            f'height="{h}" viewBox="0 0 {w} {h}">\n' + "\n".join(parts) + "\n</svg>")


def graph_html(g: nx.MultiDiGraph) -> str:
    """A whole page: title, legend, :func:`svg_fragment`, :data:`STYLE` and :data:`SCRIPT`."""
    from graphcrime.investigate.show import PLAIN_COLOUR, ROLE_EDGES, SUSPICIOUS_COLOUR

    esc = html.escape
    roles = {d["role"] for _, d in g.nodes(data=True)}
    legend = "".join(f'<span style="background:{c}"></span>{t}' for t, c in (
        ("suspicious party", SUSPICIOUS_COLOUR), ("other party", PLAIN_COLOUR)))
    legend += "".join(f'<span style="border:3px solid {c}"></span>{t}'
                      for t, c in ROLE_EDGES.items() if t in roles)
    title = esc(str(g.graph.get("title", "graphcrime")))
    notes = "".join(f"<p>note: {esc(n)}</p>" for n in g.graph.get("notes", []))
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>"
            f"<style>{STYLE}</style></head><body><h3>{title}</h3>"
            f'<div class="legend">{legend}</div>{notes}\n{svg_fragment(g)}\n'
            f"<p>Drag nodes to rearrange; hover an edge or a party for its IRI and any label "
            f"that did not fit.</p><script>{SCRIPT}</script></body></html>\n")
