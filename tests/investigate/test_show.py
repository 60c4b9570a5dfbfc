"""graphcrime show: pictures opened and their nodes counted; oracle: pyoxigraph on the job files."""

from __future__ import annotations

import struct
from html.parser import HTMLParser
from pathlib import Path

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from graphcrime.cli import app
from graphcrime.investigate.show import draw_summary, show

P = "http://oxfordsemantic.tech/transactions/properties#"
T = "http://oxfordsemantic.tech/transactions/classes#"
PREFIXES = f"PREFIX prop: <{P}>\nPREFIX type: <{T}>\n"


@pytest.fixture(scope="module")
def oracle(inv_job: Path) -> ox.Store:
    store = ox.Store()
    for f in [*(inv_job / "results").glob("*.nt"), *(inv_job.parents[1] / "data").glob("*.nt")]:
        store.bulk_load(path=str(f), format=ox.RdfFormat.N_TRIPLES)
    return store


def longest_chain(store: ox.Store) -> str:
    q = PREFIXES + "SELECT ?c ?l { ?c a type:SuspiciousChain ; prop:hasLength ?l } " \
                   "ORDER BY DESC(?l) ?c LIMIT 1"
    return next(iter(store.query(q)))["c"].value


def chain_txs(store: ox.Store, chain: str) -> list[tuple[str, str, str]]:
    q = PREFIXES + f"""SELECT ?t ?o ?b {{ <{chain}> prop:containsTransaction ?t .
        ?t prop:hasOriginator ?o ; prop:hasBeneficiary ?b ; prop:hasDate ?d }} ORDER BY ?d"""
    return [(s["t"].value, s["o"].value, s["b"].value) for s in store.query(q)]


def suspicious(store: ox.Store) -> set[str]:
    q = PREFIXES + "SELECT ?p { ?p prop:isSuspicious true }"
    return {s["p"].value for s in store.query(q)}


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


class Counter(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[str] = []
        self.edges = 0
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "g" and a.get("class") == "node":
            self.nodes.append(a["data-iri"] or "")
        if tag == "g" and a.get("class") == "edge":
            self.edges += 1
        if tag in ("script", "img", "link", "iframe") and (a.get("src") or a.get("href")):
            self.external.append(tag)


def test_chain_png(inv_job: Path, oracle: ox.Store, tmp_path: Path) -> None:
    chain = longest_chain(oracle)
    txs = chain_txs(oracle, chain)
    g = show(inv_job, chain, tmp_path / "chain.png")
    w, h = png_size(tmp_path / "chain.png")
    assert w >= 600 and h >= 300
    parties = {p for _, o, b in txs for p in (o, b)}
    assert set(g.nodes) == parties and g.number_of_nodes() == len(parties)
    assert g.graph["order"] == [t for t, _, _ in txs] and len(txs) > 5
    assert {(o, b, k) for o, b, k in g.edges(keys=True)} == {(o, b, t) for t, o, b in txs}
    assert {p for p in g if g.nodes[p]["suspicious"]} == parties & suspicious(oracle)
    assert g.nodes[txs[0][1]]["role"] == "originator" and g.nodes[txs[-1][2]]["role"] == \
        "beneficiary"
    label = g.edges[txs[0][1], txs[0][2], txs[0][0]]["label"]
    assert label.startswith("$") and label.split()[1][:4] == "2021"


def test_chain_html(inv_job: Path, oracle: ox.Store, tmp_path: Path) -> None:
    chain = longest_chain(oracle)
    g = show(inv_job, chain, tmp_path / "chain.html")
    page = Counter()
    page.feed((tmp_path / "chain.html").read_text(encoding="utf-8"))
    parties = {p for _, o, b in chain_txs(oracle, chain) for p in (o, b)}
    assert sorted(page.nodes) == sorted(parties) == sorted(g.nodes)
    assert page.edges == g.number_of_edges() == len(chain_txs(oracle, chain))
    assert page.external == []


def test_html_script_parses(inv_job: Path, oracle: ox.Store, tmp_path: Path) -> None:
    """The inline script is valid JavaScript (checked by node when it is installed)."""
    import re
    import shutil
    import subprocess

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    show(inv_job, longest_chain(oracle), tmp_path / "c.html")
    script = re.search(r"<script>(.*)</script>", (tmp_path / "c.html").read_text(), re.S)
    assert script
    (tmp_path / "c.js").write_text(script.group(1))
    subprocess.run([node, "--check", str(tmp_path / "c.js")], check=True, timeout=30)


def test_party_neighbourhood(inv_job: Path, oracle: ox.Store, tmp_path: Path) -> None:
    party = sorted(suspicious(oracle))[0]
    q = PREFIXES + f"""SELECT ?t ?o ?b {{ ?t a type:Transaction ; prop:hasOriginator ?o ;
        prop:hasBeneficiary ?b . FILTER(?o = <{party}> || ?b = <{party}>) }}"""
    one = {(s["t"].value, s["o"].value, s["b"].value) for s in oracle.query(q)}
    g = show(inv_job, party, tmp_path / "p.png")
    png_size(tmp_path / "p.png")
    assert {(o, b, k) for o, b, k in g.edges(keys=True)} == {(o, b, t) for t, o, b in one}
    assert g.nodes[party]["role"] == "focus" and g.nodes[party]["suspicious"]
    # two hops: every transfer touching the party or one of its counterparties
    near = {p for _, o, b in one for p in (o, b)}
    two = {s["t"].value for s in oracle.query(PREFIXES + "SELECT ?t { ?t a type:Transaction ; "
                                              "prop:hasOriginator ?o ; prop:hasBeneficiary ?b . "
                                              f"VALUES ?x {{ {' '.join(f'<{p}>' for p in near)} }}"
                                              " FILTER(?o = ?x || ?b = ?x) }")}
    g2 = show(inv_job, party, tmp_path / "p2.html", hops=2, max_edges=10_000)
    assert {k for _, _, k in g2.edges(keys=True)} == two and not g2.graph["truncated"]
    capped = show(inv_job, party, tmp_path / "p3.png", hops=2, max_edges=3)
    assert capped.number_of_edges() == 3 and capped.graph["truncated"]


def test_summary(inv_job: Path, oracle: ox.Store, tmp_path: Path) -> None:
    data = draw_summary(inv_job, tmp_path / "s.png")
    png_size(tmp_path / "s.png")
    q = PREFIXES + "SELECT ?l (COUNT(?c) AS ?n) { ?c a type:SuspiciousChain ; prop:hasLength ?l }" \
                   " GROUP BY ?l"
    assert {k: v[0] for k, v in data["lengths"].items()} == {
        int(s["l"].value): int(s["n"].value) for s in oracle.query(q)}
    # one amount per (chain, transaction) pair, the first positions hold every chain
    pairs = len(list(oracle.query(PREFIXES + "SELECT ?c ?t { ?c a type:SuspiciousChain ; "
                                  "prop:containsTransaction ?t }")))
    assert sum(len(v) for v in data["amounts"].values()) == pairs
    assert len(data["amounts"][1]) == sum(v[0] for v in data["lengths"].values())


def test_cli_show(inv_job: Path, oracle: ox.Store, tmp_path: Path) -> None:
    runner = CliRunner()
    chain = longest_chain(oracle)
    r = runner.invoke(app, ["show", str(inv_job), chain, "--out", str(tmp_path / "c.html")])
    assert r.exit_code == 0, r.output
    assert "wrote" in r.output and (tmp_path / "c.html").stat().st_size > 1000
    r = runner.invoke(app, ["show", str(inv_job), "--summary", "--out", str(tmp_path / "s.png")])
    assert r.exit_code == 0 and png_size(tmp_path / "s.png")
    r = runner.invoke(app, ["show", str(inv_job), chain, "--out", str(tmp_path / "c.svg")])
    assert r.exit_code == 2 and "png or" in r.output.lower()
    r = runner.invoke(app, ["show", str(inv_job), "--out", str(tmp_path / "c.png")])
    assert r.exit_code == 2
    r = runner.invoke(app, ["show", str(inv_job), "http://example.org/nobody", "--out",
                            str(tmp_path / "n.png")])
    assert r.exit_code != 0 and "no transactions" in r.output
