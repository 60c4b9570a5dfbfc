"""Pictures of a job's results: a chain, a party's neighbourhood, a per-job summary.

:func:`chain_graph` and :func:`neighbourhood_graph` build a networkx ``MultiDiGraph`` (one
edge per transaction, keyed by its IRI) whose nodes are parties with ``label``,
``suspicious`` and ``role``; edges carry ``amount``, ``date`` and ``label``. :func:`draw`
writes it as a PNG (matplotlib, Agg) or a self-contained HTML page (inline SVG and JS, no
network; nodes can be dragged). :func:`draw_summary` plots chains by length and the amounts
along chains by position.

>>> g = graph_from_transactions([("t1", "a", "b", 250.0, "2021-07-29T10:00:00")], {"b"}, {})
>>> sorted(g.nodes), g.nodes["b"]["suspicious"], g.edges["a", "b", "t1"]["label"]
(['a', 'b'], True, '$250.00 2021-07-29 10:00')
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import networkx as nx

from graphcrime.errors import DataError, UsageError
from graphcrime.results import PREFIXES, JobResults, python_value

SUSPICIOUS_COLOUR = "#d62728"
PLAIN_COLOUR = "#1f77b4"
#: Outline colours of the nodes with a role (fill says suspicious or not).
ROLE_EDGES = {"originator": "#2ca02c", "beneficiary": "#9467bd", "focus": "#ff7f0e"}
TX = (PREFIXES + "SELECT ?t ?o ?b ?a ?d WHERE {{ {where} ?t a type:Transaction ; "
      "prop:hasOriginator ?o ; prop:hasBeneficiary ?b ; prop:hasAmount ?a ; prop:hasDate ?d }}")


def short(iri: str) -> str:
    """The local name of an IRI: ``...#party_ab12`` -> ``party_ab12``."""
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def edge_label(amount: float | None, date: str | None) -> str:
    """``$1,234.50 2021-07-29 10:00`` (amount and date as far as known)."""
    a = "" if amount is None else f"${amount:,.2f}"
    d = "" if not date else date[:16].replace("T", " ")
    return f"{a} {d}".strip()


def graph_from_transactions(txs: Iterable[tuple[str, str, str, Any, Any]], suspicious: set[str],
                            labels: dict[str, str]) -> nx.MultiDiGraph:
    """A MultiDiGraph of ``(transaction, originator, beneficiary, amount, date)`` tuples."""
    g = nx.MultiDiGraph()
    for t, o, b, amount, date in txs:
        for p in (o, b):
            if p not in g:
                g.add_node(p, label=labels.get(p) or short(p), suspicious=p in suspicious,
                           role="party")
        g.add_edge(o, b, key=t, amount=amount, date=date, label=edge_label(amount, date))
    return g


def _party_facts(res: JobResults, parties: Iterable[str]) -> tuple[set[str], dict[str, str]]:
    """(suspicious parties, labels) among ``parties``."""
    values = " ".join(f"<{p}>" for p in parties)
    if not values:
        return set(), {}
    rows = res.query(PREFIXES + "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
                     f"SELECT ?p ?s ?l WHERE {{ VALUES ?p {{ {values} }} "
                     "OPTIONAL { ?p prop:isSuspicious ?s } OPTIONAL { ?p rdfs:label ?l } }").rows()
    sus = {p.value for p, s, _ in rows if s is not None and python_value(s) is True}
    labels = {p.value: lab.value for p, _, lab in rows if lab is not None}
    return sus, labels


def chain_graph(res: JobResults, chain: str) -> nx.MultiDiGraph:
    """The chain's transactions in date order; roles originator/intermediary/beneficiary.

    ``res`` needs the chain's transaction details (the job folder's
    ``results/chain-transactions.nt``, or its inputs). The graph's ``chain`` attribute holds
    the IRI and ``order`` the transactions in date order.
    """
    iri = chain.strip("<>")
    txs = res.transactions(iri, complete=True)
    if not txs:
        raise DataError(f"no chain <{iri}> with transactions in the job's results",
                        file=str(res.folder), hint="take a chain IRI from res.chains()")
    tuples = [(t["transaction"], t["originator"], t["beneficiary"], t["amount"], t["date"])
              for t in txs]
    sus, labels = _party_facts(res, {p for t in tuples for p in t[1:3]})
    g = graph_from_transactions(tuples, sus, labels)
    for n in g:
        g.nodes[n]["role"] = "intermediary"
    g.nodes[tuples[0][1]]["role"] = "originator"
    g.nodes[tuples[-1][2]]["role"] = "beneficiary"
    g.graph.update(chain=iri, order=[t[0] for t in tuples],
                   title=f"chain {short(iri)}: {len(tuples)} transactions")
    return g


def neighbourhood_graph(res: JobResults, party: str, hops: int = 1,
                        max_edges: int = 200) -> nx.MultiDiGraph:
    """Transfers in and out of ``party`` (``hops=2``: also of its counterparties), at most
    ``max_edges`` of them, largest amounts first (``g.graph["truncated"]`` says if cut)."""
    if hops not in (1, 2):
        raise UsageError(f"--hops must be 1 or 2, not {hops}", hint="use --hops 1 or --hops 2")
    iri = party.strip("<>")
    frontier, seen = {iri}, {iri}
    edges: dict[str, tuple[str, str, str, Any, str]] = {}
    truncated = False
    for _ in range(hops):
        values = " ".join(f"<{p}>" for p in sorted(frontier))
        where = (f"VALUES ?x {{ {values} }} {{ ?t prop:hasOriginator ?x }} UNION "
                 "{ ?t prop:hasBeneficiary ?x }")
        q = TX.format(where=where) + f" ORDER BY DESC(?a) ?t LIMIT {max_edges + 1}"
        for t, o, b, a, d in res.query(q).rows():
            edges.setdefault(t.value, (t.value, o.value, b.value, python_value(a), d.value))
        if len(edges) > max_edges:
            truncated = True
            edges = dict(sorted(edges.items(), key=lambda kv: -kv[1][3])[:max_edges])
            break
        frontier = {p for e in edges.values() for p in e[1:3]} - seen
        seen |= frontier
    if not edges:
        raise DataError(f"no transactions of <{iri}> in the job's data", file=str(res.folder),
                        hint="pass a party IRI from the input data (or a chain IRI)")
    sus, labels = _party_facts(res, {p for e in edges.values() for p in e[1:3]} | {iri})
    g = graph_from_transactions(edges.values(), sus, labels)
    g.nodes[iri]["role"] = "focus"
    g.graph.update(party=iri, hops=hops, truncated=truncated,
                   title=f"{short(iri)}: {g.number_of_edges()} transfers, {hops} hop(s)"
                         + (f" (largest {max_edges})" if truncated else ""))
    return g


def layout(g: nx.MultiDiGraph) -> dict[str, tuple[float, float]]:
    """Chains left to right in order of first appearance; neighbourhoods by spring layout."""
    if "order" in g.graph:
        rank = {t: i for i, t in enumerate(g.graph["order"])}
        seq: list[str] = []
        for o, b, _k in sorted(g.edges(keys=True), key=lambda e: rank[e[2]]):
            seq += [p for p in (o, b) if p not in seq]
        return {p: (float(i), 0.35 * (i % 2)) for i, p in enumerate(seq)}
    pos = nx.spring_layout(nx.Graph(g), seed=7)
    return {n: (float(x), float(y)) for n, (x, y) in pos.items()}


def _rads(g: nx.MultiDiGraph) -> dict[tuple[str, str, str], float]:
    """Arc curvature per edge so parallel and opposite edges do not overlap."""
    out: dict[tuple[str, str, str], float] = {}
    count: dict[frozenset[str], int] = {}
    for o, b, k in g.edges(keys=True):
        i = count.get(frozenset((o, b)), 0)
        count[frozenset((o, b))] = i + 1
        out[(o, b, k)] = 0.15 + 0.15 * i
    return out


def png_label(label: str, iri: str) -> str:
    """The label if the default font has its glyphs (Latin), else the IRI's local name."""
    return label if all(ord(c) < 0x250 for c in label) else short(iri)


def node_colour(data: dict[str, Any]) -> str:
    return SUSPICIOUS_COLOUR if data["suspicious"] else PLAIN_COLOUR


def draw_png(g: nx.MultiDiGraph, out: Path) -> None:
    """Write ``g`` as a PNG with matplotlib's Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    pos = layout(g)
    n = g.number_of_nodes()
    fig, ax = plt.subplots(figsize=(max(8, min(24, 1.8 * n)), 6) if "order" in g.graph
                           else (12, 10))
    rads = _rads(g)
    for o, b, k, d in g.edges(keys=True, data=True):
        (x1, y1), (x2, y2), r = pos[o], pos[b], rads[(o, b, k)]
        ax.annotate("", xy=(x2, y2), xytext=(x1, y1), arrowprops={
            "arrowstyle": "-|>", "color": "#555", "shrinkA": 14, "shrinkB": 14,
            "connectionstyle": f"arc3,rad={r}"})
        mx, my = (x1 + x2) / 2 + 0.5 * r * (y2 - y1), (y1 + y2) / 2 - 0.5 * r * (x2 - x1)
        ax.text(mx, my, d["label"].replace(" ", "\n", 1), fontsize=7, ha="center",
                va="center", bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none",
                                   "alpha": 0.8})
    xs = [pos[p][0] for p in g]
    ys = [pos[p][1] for p in g]
    ax.scatter(xs, ys, s=500, c=[node_colour(g.nodes[p]) for p in g], zorder=3,
               edgecolors=[ROLE_EDGES.get(g.nodes[p]["role"], "black") for p in g],
               linewidths=[3.5 if g.nodes[p]["role"] in ROLE_EDGES else 1 for p in g])
    for p in g:
        ax.text(pos[p][0], pos[p][1] - 0.07 if "order" in g.graph else pos[p][1] + 0.06,
                png_label(g.nodes[p]["label"], p), fontsize=8, ha="center", va="top", zorder=4)
    handles = [Line2D([], [], marker="o", ls="", color=c, markersize=10, label=t)
               for t, c in (("suspicious party", SUSPICIOUS_COLOUR),
                            ("other party", PLAIN_COLOUR))]
    handles += [Line2D([], [], marker="o", ls="", mfc="white", mec=c, mew=3, markersize=10,
                       label=role) for role, c in ROLE_EDGES.items()
                if any(g.nodes[p]["role"] == role for p in g)]
    ax.legend(handles=handles, loc="upper right", fontsize=8)
    ax.set_title(g.graph.get("title", ""))
    ax.margins(0.15)
    if "order" in g.graph:
        ax.set_ylim(-0.6, 0.9)
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def draw(g: nx.MultiDiGraph, out: str | Path) -> Path:
    """Write ``g`` to ``out``: ``.png``, or ``.html`` (:mod:`~graphcrime.investigate.html_page`)."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix == ".png":
        draw_png(g, out)
    elif suffix in (".html", ".htm"):
        from graphcrime.investigate.html_page import graph_html

        out.write_text(graph_html(g), encoding="utf-8")
    else:
        raise UsageError(f"cannot draw to {out.name!r}", hint="use --out NAME.png or NAME.html")
    return out


def show(job_dir: str | Path, iri: str, out: str | Path, hops: int = 1,
         max_edges: int = 200) -> nx.MultiDiGraph:
    """Draw a chain (if ``iri`` is a chain in the results) or a party's neighbourhood.

    A chain is drawn from the job folder alone; a neighbourhood from the job's recorded
    inputs, or (noted in ``g.graph["notes"]``) the folder's chain transactions once they are
    gone.
    """
    g = graph_for(job_dir, iri, hops=hops, max_edges=max_edges)
    draw(g, out)
    return g


def graph_for(job_dir: str | Path, iri: str, hops: int = 1,
              max_edges: int = 200) -> nx.MultiDiGraph:
    """The graph :func:`show` draws: a chain's, or a party's neighbourhood."""
    from graphcrime.investigate.source import open_for_chain, open_with_inputs

    iri = iri.strip("<>")
    with JobResults(job_dir) as res:
        is_chain = bool(res.query(PREFIXES + f"ASK {{ <{iri}> prop:containsTransaction ?t }}"))
    opened, notes = open_for_chain(job_dir, iri) if is_chain else open_with_inputs(job_dir)
    with opened as res:
        g = (chain_graph(res, iri) if is_chain
             else neighbourhood_graph(res, iri, hops=hops, max_edges=max_edges))
    g.graph["notes"] = notes
    if notes and not is_chain:
        g.graph["title"] += " - inputs gone: chain transactions only"
    return g


SUMMARY_LENGTHS = PREFIXES + """
SELECT ?len (COUNT(DISTINCT ?c) AS ?n) (COUNT(DISTINCT ?h) AS ?high) WHERE {
  ?c a type:SuspiciousChain ; prop:hasLength ?len .
  OPTIONAL { ?c a type:HighValueChain . BIND(?c AS ?h) }
} GROUP BY ?len ORDER BY ?len"""
SUMMARY_AMOUNTS = PREFIXES + """
SELECT ?pos ?a WHERE {
  { SELECT ?c ?t (COUNT(?t2) AS ?pos) WHERE {
      ?c a type:SuspiciousChain ; prop:containsTransaction ?t, ?t2 .
      ?t prop:hasDate ?d . ?t2 prop:hasDate ?d2 . FILTER(?d2 <= ?d) } GROUP BY ?c ?t }
  ?t prop:hasAmount ?a }"""


def summary_data(res: JobResults) -> dict[str, Any]:
    """``lengths``: {length: (suspicious, high_value)}; ``amounts``: {position: [amounts]}."""
    lengths = {int(r[0].value): (int(r[1].value), int(r[2].value))
               for r in res.query(SUMMARY_LENGTHS).rows()}
    amounts: dict[int, list[float]] = {}
    for pos, a in res.query(SUMMARY_AMOUNTS).rows():
        amounts.setdefault(int(pos.value), []).append(float(a.value))
    return {"lengths": lengths, "amounts": dict(sorted(amounts.items()))}


def draw_summary(job_dir: str | Path, out: str | Path) -> dict[str, Any]:
    """A PNG with chains by length (bars) and amounts by position along chains (boxes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    if out.suffix.lower() != ".png":
        raise UsageError(f"the summary is a PNG, not {out.name!r}", hint="use --out NAME.png")
    with JobResults(job_dir) as res:  # results/chain-transactions.nt has the amounts
        data = summary_data(res)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 5))
    ls = sorted(data["lengths"])
    a1.bar([x - 0.2 for x in ls], [data["lengths"][x][0] for x in ls], 0.4,
           label="SuspiciousChain", color=SUSPICIOUS_COLOUR)
    a1.bar([x + 0.2 for x in ls], [data["lengths"][x][1] for x in ls], 0.4,
           label="HighValueChain", color=PLAIN_COLOUR)
    a1.set(xlabel="chain length (transactions)", ylabel="chains", title="Chains by length")
    a1.legend()
    if data["amounts"]:
        ps = list(data["amounts"])
        a2.boxplot([data["amounts"][p] for p in ps], positions=ps)
        a2.set_yscale("log")
        a2.set(xlabel="position in chain", ylabel="amount ($, log)",
               title="Amounts along suspicious chains")
    else:
        a2.text(0.5, 0.5, "no chains (or no results/chain-transactions.nt)", ha="center")
        a2.axis("off")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return data
