"""Where an HTML picture puts its nodes, edges and labels, so that no two labels overlap.

Label boxes are estimated from the text (labels are set in a monospace font, so a
character's width is known: ~0.6 em, double for East Asian wide characters; the estimate
errs wide), and every label is placed on a point of its own edge:

- a **chain** (``g.graph["order"]`` set) is laid out as a snake of rows in date order of
  first appearance, columns wider than the widest label, so consecutive transfers are
  short straight edges with their label on the middle; repeated pairs and transfers back to
  earlier parties become arcs whose curvature and label position are searched until the
  label clears every other label and node (up to 30 transactions this always succeeds);
- a **neighbourhood** is laid out by a force layout (networkx's Fruchterman-Reingold) on a
  canvas that grows with the node count; labels are shown only where they fit (focus and
  suspicious parties, then the largest amounts first) and the rest appear on hover.

>>> import networkx as nx
>>> g = nx.MultiDiGraph(order=["t1", "t2"])
>>> for n in "abc":
...     g.add_node(n, label=n.upper(), suspicious=False, role="party")
>>> _ = g.add_edge("a", "b", key="t1", label="$5.00 2021-07-29 10:00")
>>> _ = g.add_edge("b", "c", key="t2", label="$7.00 2021-07-29 11:00")
>>> pic = layout_picture(g)
>>> [lab.visible for lab in pic.edge_labels.values()], overlapping(pic.boxes())
([True, True], [])
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import networkx as nx

EDGE_FONT, NODE_FONT = 10.0, 11.0
LINE = 1.25  # line height in em
R = 14.0  # node radius
PAD = 90.0  # canvas margin
GAP = 3.0  # least space between two boxes
MAX_WIDTH = 1300.0  # a chain's rows wrap at this width
Box = tuple[float, float, float, float]  # x0, y0, x1, y1


def text_width(text: str, size: float) -> float:
    """A generous estimate of ``text``'s width in a monospace font of ``size`` px."""
    em = 0.0
    for c in text:
        if unicodedata.east_asian_width(c) in ("W", "F"):
            em += 1.05
        elif unicodedata.combining(c):
            continue
        else:
            em += 0.62 if ord(c) < 0x250 else 0.75
    return em * size


@dataclass
class Label:
    """Text lines centred at ``(x, y)``; ``visible`` False: shown on hover only."""

    lines: list[str]
    size: float
    x: float = 0.0
    y: float = 0.0
    visible: bool = True
    t: float = 0.5  # edge labels: where on the edge (0 source .. 1 target)

    @cached_property
    def w(self) -> float:
        return max((text_width(s, self.size) for s in self.lines), default=0.0) + 6

    @cached_property
    def h(self) -> float:
        return len(self.lines) * self.size * LINE + 4

    def box(self, x: float | None = None, y: float | None = None) -> Box:
        x = self.x if x is None else x
        y = self.y if y is None else y
        return (x - self.w / 2, y - self.h / 2, x + self.w / 2, y + self.h / 2)


@dataclass
class Picture:
    """Pixel positions of nodes, edge curvatures and labels on a ``width`` x ``height`` canvas."""

    width: float
    height: float
    xy: dict[str, tuple[float, float]]
    rads: dict[tuple[str, str, str], float] = field(default_factory=dict)
    node_labels: dict[str, Label] = field(default_factory=dict)
    edge_labels: dict[tuple[str, str, str], Label] = field(default_factory=dict)

    def boxes(self) -> list[Box]:
        """Boxes of every visible label."""
        return [lab.box() for lab in [*self.node_labels.values(), *self.edge_labels.values()]
                if lab.visible]


def overlap(a: Box, b: Box, gap: float = 0.0) -> bool:
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


def overlapping(boxes: list[Box]) -> list[tuple[int, int]]:
    """Index pairs of overlapping boxes."""
    return [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes))
            if overlap(boxes[i], boxes[j])]


def control(p1: tuple[float, float], p2: tuple[float, float], rad: float) -> tuple[float, float]:
    """The quadratic Bezier control point of an edge bent by ``rad`` (0: straight)."""
    (x1, y1), (x2, y2) = p1, p2
    return (x1 + x2) / 2 + rad * (y2 - y1), (y1 + y2) / 2 - rad * (x2 - x1)


def point(p1: tuple[float, float], p2: tuple[float, float], rad: float,
          t: float) -> tuple[float, float]:
    """The point at ``t`` on the edge from ``p1`` to ``p2`` bent by ``rad``."""
    cx, cy = control(p1, p2, rad)
    u = 1 - t
    return (u * u * p1[0] + 2 * u * t * cx + t * t * p2[0],
            u * u * p1[1] + 2 * u * t * cy + t * t * p2[1])


def edge_lines(label: str) -> list[str]:
    """``"$5.00 2021-07-29 10:00"`` -> amount and date on two lines."""
    amount, _, date = label.partition(" ")
    return [s for s in (amount, date) if s]


def node_text(label: str, width: float) -> str:
    """The label cut (with an ellipsis) to fit ``width`` px."""
    if text_width(label, NODE_FONT) + 6 <= width:
        return label
    while label and text_width(label + "…", NODE_FONT) + 6 > width:
        label = label[:-1]
    return label + "…"


class Placer:
    """Greedy placement of label boxes that must not overlap each other or node circles
    (and, when ``bounded``, must stay on the canvas)."""

    def __init__(self, width: float, height: float, xy: dict[str, tuple[float, float]],
                 bounded: bool = True) -> None:
        self.width, self.height, self.bounded = width, height, bounded
        self.taken: list[Box] = [(x - R, y - R, x + R, y + R) for x, y in xy.values()]

    def fits(self, box: Box) -> bool:
        inside = not self.bounded or (box[0] >= 2 and box[1] >= 2 and
                                      box[2] <= self.width - 2 and box[3] <= self.height - 2)
        return inside and not any(overlap(box, b, GAP) for b in self.taken)

    def take(self, box: Box) -> None:
        self.taken.append(box)


def chain_layout(g: nx.MultiDiGraph) -> Picture:
    """Snake rows in order of first appearance; see the module docstring."""
    rank = {t: i for i, t in enumerate(g.graph["order"])}
    edges = sorted(g.edges(keys=True), key=lambda e: rank.get(e[2], len(rank)))
    seq: list[str] = []
    for o, b, _k in edges:
        seq += [p for p in (o, b) if p not in seq]
    seq += [n for n in g if n not in seq]
    labels = {e: Label(edge_lines(g.edges[e]["label"]), EDGE_FONT) for e in edges}
    pairs: dict[frozenset[str], int] = {}
    for o, b, _k in edges:
        pairs[frozenset((o, b))] = pairs.get(frozenset((o, b)), 0) + 1
    # many transfers between two parties need room for their arcs' labels
    dx = max([170.0, *(lab.w + 50 for lab in labels.values())]) * (
        1 + max(pairs.values(), default=0) // 8)
    cols = max(2, min(len(seq), int((MAX_WIDTH - 2 * PAD) // dx) + 1))
    rows = math.ceil(len(seq) / cols)
    dy = 170.0
    xy = {}
    for i, p in enumerate(seq):
        row, col = divmod(i, cols)
        col = cols - 1 - col if row % 2 else col
        xy[p] = (PAD + col * dx, PAD + row * dy)
    pic = Picture(2 * PAD + (min(cols, len(seq)) - 1) * dx, 2 * PAD + (rows - 1) * dy, xy)
    place = Placer(pic.width, pic.height, xy, bounded=False)  # arcs may leave; fit() after
    for n in seq:
        lab = Label([node_text(str(g.nodes[n]["label"]), dx - 20)], NODE_FONT)
        x, y = xy[n]
        lab.x, lab.y = x, y + R + 4 + lab.h / 2
        place.take(lab.box())
        pic.node_labels[n] = lab
    index = {p: i for i, p in enumerate(seq)}
    used: set[frozenset[str]] = set()
    straight = []
    for e in edges:  # first transfer between neighbours in the sequence: a straight edge
        o, b, _k = e
        if abs(index[o] - index[b]) == 1 and frozenset((o, b)) not in used:
            used.add(frozenset((o, b)))
            straight.append(e)
    for e in [*straight, *(e for e in edges if e not in straight)]:
        rads = [0.0] if e in straight else [r / 20 * s for r in range(6, 80, 3)
                                           for s in (1, -1)]
        _place_edge_label(pic, place, e, labels[e], rads, always=True)
    fit(pic)
    return pic


def fit(pic: Picture) -> None:
    """Move everything so nodes, labels and edge curves lie inside the canvas with a
    margin of :data:`PAD`, and size the canvas to them."""
    xs: list[float] = []
    ys: list[float] = []
    for x, y in pic.xy.values():
        xs += [x - R, x + R]
        ys += [y - R, y + R]
    for lab in [*pic.node_labels.values(), *pic.edge_labels.values()]:
        box = lab.box()
        xs += [box[0], box[2]]
        ys += [box[1], box[3]]
    for (o, b, _k), rad in pic.rads.items():
        for i in range(11):
            x, y = point(pic.xy[o], pic.xy[b], rad, i / 10)
            xs.append(x)
            ys.append(y)
    dx, dy = PAD / 2 - min(xs), PAD / 2 - min(ys)
    pic.xy = {n: (round(x + dx, 1), round(y + dy, 1)) for n, (x, y) in pic.xy.items()}
    for lab in [*pic.node_labels.values(), *pic.edge_labels.values()]:
        lab.x, lab.y = lab.x + dx, lab.y + dy
    pic.width, pic.height = max(xs) - min(xs) + PAD, max(ys) - min(ys) + PAD


def _place_edge_label(pic: Picture, place: Placer, e: tuple[str, str, str], lab: Label,
                      rads: list[float], always: bool) -> None:
    """Put ``lab`` on edge ``e`` at the first (rad, t) whose box fits; else (``always``)
    where it overlaps least, or hidden."""
    p1, p2 = pic.xy[e[0]], pic.xy[e[1]]
    best: tuple[int, float, float] | None = None
    for rad in rads:
        for t in (0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74):
            box = lab.box(*point(p1, p2, rad, t))
            if place.fits(box):
                lab.x, lab.y = point(p1, p2, rad, t)
                lab.t, pic.rads[e] = t, rad
                place.take(box)
                pic.edge_labels[e] = lab
                return
            hits = sum(overlap(box, b, GAP) for b in place.taken) if always else 0
            if best is None or hits < best[0]:
                best = (hits, rad, t)
    assert best is not None
    _, rad, t = best
    pic.rads[e] = rad
    lab.x, lab.y = point(p1, p2, rad, t)
    lab.t = t
    lab.visible = always
    if always:
        place.take(lab.box())
    pic.edge_labels[e] = lab


def force_layout(g: nx.MultiDiGraph) -> Picture:
    """Fruchterman-Reingold positions; labels only where they fit (others on hover)."""
    xy, width, height = packed_components(g)
    pic = Picture(width, height, xy)
    place = Placer(width, height, xy)
    rank = {"focus": 0, "originator": 1, "beneficiary": 1}
    order = sorted(g, key=lambda v: (rank.get(g.nodes[v]["role"], 2),
                                     not g.nodes[v]["suspicious"], -g.degree(v), str(v)))
    for v in order:
        lab = Label([node_text(str(g.nodes[v]["label"]), 160)], NODE_FONT)
        x, y = xy[v]
        lab.x, lab.y = x, y + R + 4 + lab.h / 2
        lab.visible = place.fits(lab.box())
        if lab.visible:
            place.take(lab.box())
        pic.node_labels[v] = lab
    count: dict[frozenset[str], int] = {}
    for o, b, k in g.edges(keys=True):
        i = count.get(frozenset((o, b)), 0)
        count[frozenset((o, b))] = i + 1
        pic.rads[(o, b, k)] = 0.0 if i == 0 else 0.2 * ((i + 1) // 2) * (-1) ** i
    edges = sorted(g.edges(keys=True, data=True),
                   key=lambda e: (-(e[3].get("amount") or 0), str(e[2])))
    for o, b, k, d in edges:
        e = (o, b, k)
        _place_edge_label(pic, place, e, Label(edge_lines(d["label"]), EDGE_FONT),
                          [pic.rads[e]], always=False)
    return pic


SPACING = 120.0  # px per node along a component's side (sqrt of its node count)


def packed_components(g: nx.MultiDiGraph) -> tuple[dict[str, tuple[float, float]], float, float]:
    """Each connected component by its own force layout in a square growing with the root of
    its size, the squares packed in rows (largest first): small components no longer
    squeeze the main one into the middle of the canvas."""
    und = nx.Graph(g)
    comps = sorted(nx.connected_components(und), key=lambda c: (-len(c), min(map(str, c))))
    total = sum(max(SPACING, SPACING * math.sqrt(len(c))) ** 2 for c in comps)
    row_width = max(1100.0, math.sqrt(total) * 1.5)
    xy: dict[str, tuple[float, float]] = {}
    x = y = row_h = 0.0
    width = 0.0
    for comp in comps:
        side = max(SPACING, SPACING * math.sqrt(len(comp)))
        if x > 0 and x + side > row_width:
            x, y, row_h = 0.0, y + row_h, 0.0
        sub = und.subgraph(comp)
        pos = (nx.spring_layout(sub, seed=7, k=1.5 / math.sqrt(len(comp)), iterations=100)
               if len(comp) > 1 else {next(iter(comp)): (0.0, 0.0)})
        xs = [p[0] for p in pos.values()]
        ys = [p[1] for p in pos.values()]
        inner = side - SPACING / 2 if len(comp) > 1 else 0.0
        sx = inner / ((max(xs) - min(xs)) or 1.0)
        sy = inner / ((max(ys) - min(ys)) or 1.0)
        for v, (px, py) in pos.items():
            xy[v] = (PAD + x + SPACING / 4 + (px - min(xs)) * sx,
                     PAD + y + SPACING / 4 + (py - min(ys)) * sy)
        x += side
        row_h = max(row_h, side)
        width = max(width, x)
    width, height = width + 2 * PAD, y + row_h + 2 * PAD
    return spread(xy, width, height), width, height


def spread(xy: dict[str, tuple[float, float]], width: float, height: float,
           least: float = 3 * R, rounds: int = 60) -> dict[str, tuple[float, float]]:
    """Push apart nodes closer than ``least`` px (the force layout packs hubs tightly),
    keeping them on the canvas; numpy over all pairs, a few dozen rounds."""
    import numpy as np

    names = list(xy)
    p = np.array([xy[n] for n in names], dtype=float).reshape(-1, 2)
    for _ in range(rounds):
        d = p[:, None, :] - p[None, :, :]
        dist = np.sqrt((d ** 2).sum(-1)) + np.eye(len(p)) * least
        close = dist < least
        if not close.any():
            break
        push = np.where(close, (least - dist) / np.maximum(dist, 1e-3) / 2, 0.0)
        p += (d * push[:, :, None]).sum(1)
        p[:, 0] = p[:, 0].clip(PAD, width - PAD)
        p[:, 1] = p[:, 1].clip(PAD, height - PAD)
    return {n: (round(float(x), 1), round(float(y), 1)) for n, (x, y) in zip(names, p, strict=True)}


def layout_picture(g: nx.MultiDiGraph) -> Picture:
    """:func:`chain_layout` for a chain (``g.graph["order"]``), else :func:`force_layout`."""
    return chain_layout(g) if "order" in g.graph else force_layout(g)


def describe(pic: Picture) -> dict[str, Any]:
    """Counts for tests and logs: labels shown, hidden, and overlapping pairs (estimated)."""
    labels = [*pic.node_labels.values(), *pic.edge_labels.values()]
    return {"shown": sum(lab.visible for lab in labels),
            "hidden": sum(not lab.visible for lab in labels),
            "overlaps": len(overlapping(pic.boxes()))}
