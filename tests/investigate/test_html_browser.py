"""HTML pictures opened in Chromium: label boxes measured by the browser must not overlap.

Chains: the longest chain of a generated job, and 30-transaction chains walked at random
over a few of the generated parties (so parties repeat, transfers go back and forth and
pairs carry many transfers), labelled with the generated names. Every visible text label's
bounding box is read from the browser; no two may overlap, every edge label must hold a
point of its own edge, and no text may stick out of its background box (the layout's width
estimate errs wide). Neighbourhoods: no visible overlaps either, the rest shown on hover.
"""

from __future__ import annotations

import random
from pathlib import Path

import networkx as nx
import pyoxigraph as ox
import pytest
from browser import browser, measure_labels, page  # noqa: F401  (pytest fixtures)

from graphcrime.investigate.show import draw, graph_from_transactions, show
from graphcrime.investigate.svg_layout import describe, layout_picture

P = "http://oxfordsemantic.tech/transactions/properties#"
T = "http://oxfordsemantic.tech/transactions/classes#"
PREFIXES = f"PREFIX prop: <{P}>\nPREFIX type: <{T}>\n"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"


@pytest.fixture(scope="module")
def inputs(inv_job: Path) -> ox.Store:
    store = ox.Store()
    for f in (inv_job.parents[1] / "data").glob("*.nt"):
        store.bulk_load(path=str(f), format=ox.RdfFormat.N_TRIPLES)
    return store


def names(store: ox.Store) -> dict[str, str]:
    return {s["p"].value: s["l"].value for s in store.query(
        f"SELECT ?p ?l {{ ?p a <{T}Party> ; <{RDFS}label> ?l }} ORDER BY ?p")}


def random_chain(labels: dict[str, str], n: int, pool: int, seed: int) -> nx.MultiDiGraph:
    """``n`` transfers walked at random over ``pool`` generated parties, in date order."""
    rnd = random.Random(seed)
    parties = rnd.sample(sorted(labels), pool)
    cur, txs = parties[0], []
    for i in range(n):
        nxt = rnd.choice([p for p in parties if p != cur])
        amount = rnd.choice([1.0, 250.5, 12_345.67, 9_876_543.21, 123_456_789.99])
        txs.append((f"http://e/t{i:02d}", cur, nxt, amount,
                    f"2021-07-{27 + i // 12}T{i % 12 + 10:02d}:{rnd.randrange(60):02d}:00"))
        cur = nxt
    g = graph_from_transactions(txs, {parties[0], cur}, labels)
    g.graph.update(order=[t[0] for t in txs], title=f"{n} transfers over {pool} parties")
    return g


CASES = [(30, 2, 1), (30, 3, 2), (30, 5, 3), (30, 10, 4), (30, 31, 5), (14, 15, 6)]


@pytest.mark.parametrize(("n", "pool", "seed"), CASES)
def test_layout_estimates_no_overlaps(inputs: ox.Store, n: int, pool: int, seed: int) -> None:
    """Without a browser: the layout's own boxes never overlap (for any chain up to 30)."""
    for s in range(seed, seed + 5):
        rep = describe(layout_picture(random_chain(names(inputs), n, pool, s)))
        assert rep["overlaps"] == 0 and rep["hidden"] == 0


@pytest.mark.slow
def test_chains_in_browser(inv_job: Path, inputs: ox.Store, page, tmp_path: Path) -> None:  # noqa: F811
    q = PREFIXES + "SELECT ?c { ?c a type:SuspiciousChain ; prop:hasLength ?l } " \
                   "ORDER BY DESC(?l) ?c LIMIT 1"
    results = ox.Store()
    for f in (inv_job / "results").glob("*.nt"):
        results.bulk_load(path=str(f), format=ox.RdfFormat.N_TRIPLES)
    longest = list(results.query(q))[0]["c"].value
    pictures = [(show(inv_job, longest, tmp_path / "job.html"), tmp_path / "job.html")]
    for n, pool, seed in CASES:
        g = random_chain(names(inputs), n, pool, seed)
        pictures.append((g, draw(g, tmp_path / f"chain-{n}-{pool}-{seed}.html")))
    for g, path in pictures:
        page.goto(path.as_uri())
        m = measure_labels(page)
        assert m["edgeLabels"] == g.number_of_edges(), (path.name, m)
        assert m["labels"] == g.number_of_edges() + g.number_of_nodes(), (path.name, m)
        assert m["overlaps"] == 0 and m["offEdge"] == 0 and m["outside"] == 0, (path.name, m)


@pytest.mark.slow
def test_neighbourhood_in_browser(inv_job: Path, inputs: ox.Store, page, tmp_path: Path) -> None:  # noqa: F811
    busiest = PREFIXES + "SELECT ?p (COUNT(?t) AS ?n) { ?t prop:hasOriginator|prop:hasBeneficiary" \
                         " ?p } GROUP BY ?p ORDER BY DESC(?n) ?p LIMIT 1"
    party = list(inputs.query(busiest))[0]["p"].value
    g = show(inv_job, party, tmp_path / "n.html", hops=2, max_edges=200)
    assert g.number_of_edges() > 20
    # and a hairball: the 200 largest of the generated transfers in one picture
    rows = inputs.query(PREFIXES + "SELECT ?t ?o ?b ?a ?d { ?t prop:hasOriginator ?o ; "
                        "prop:hasBeneficiary ?b ; prop:hasAmount ?a ; prop:hasDate ?d } "
                        "ORDER BY DESC(?a) ?t LIMIT 200")
    big = graph_from_transactions([(r["t"].value, r["o"].value, r["b"].value,
                                    float(r["a"].value), r["d"].value) for r in rows],
                                  set(), names(inputs))
    big.graph["title"] = "200 transfers"
    draw(big, tmp_path / "big.html")
    for graph, path in ((big, tmp_path / "big.html"), (g, tmp_path / "n.html")):
        page.goto(path.as_uri())
        m = measure_labels(page)
        assert m["overlaps"] == 0 and m["offEdge"] == 0 and m["outside"] == 0, m
        assert m["labels"] + m["hidden"] == graph.number_of_edges() + graph.number_of_nodes()
        assert m["labels"] > 0, m
    page.goto((tmp_path / "big.html").as_uri())
    assert measure_labels(page)["hidden"] > 0
    # hovering an edge whose label did not fit shows that label
    mid = page.evaluate("""() => {
      for (const [i, e] of [...document.querySelectorAll('g.edge')].entries()) {
        if (!e.querySelector('g.label.hidden')) continue;
        const p = e.querySelector('path');
        p.scrollIntoView({block: 'center', inline: 'center'});
        const q = p.getPointAtLength(p.getTotalLength() / 2).matrixTransform(p.getScreenCTM());
        if (document.elementFromPoint(q.x, q.y) === p) return [i, q.x, q.y];
      }
      return null; }""")
    assert mid is not None, "no hidden label's edge can be pointed at"
    text = page.locator("g.edge").nth(mid[0]).locator("text")
    width = "t => t.getBoundingClientRect().width"
    assert text.evaluate(width) == 0
    page.mouse.move(mid[1], mid[2])
    assert text.evaluate(width) > 0
