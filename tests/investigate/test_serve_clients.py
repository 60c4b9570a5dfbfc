"""graphcrime serve through real SPARQL clients (SPARQLWrapper, rdflib's SPARQLStore) on a real
job's results; every answer is compared with pyoxigraph over the job's result files."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, N3, POST, POSTDIRECTLY, TURTLE, XML, SPARQLWrapper

from graphcrime.serve import serving

P = "http://oxfordsemantic.tech/transactions/properties#"
T = "http://oxfordsemantic.tech/transactions/classes#"
PREFIXES = f"PREFIX prop: <{P}>\nPREFIX type: <{T}>\n"
SELECT = PREFIXES + ("SELECT ?c ?b ?l WHERE { ?c a type:HighValueChain ; prop:hasBeneficiary ?b ;"
                     " prop:hasLength ?l }")
CONSTRUCT = PREFIXES + ("CONSTRUCT { ?c prop:hasBeneficiary ?b } WHERE { ?c a type:SuspiciousChain"
                        " ; prop:hasBeneficiary ?b }")


@pytest.fixture(scope="module")
def url(inv_job: Path) -> Iterator[str]:
    with serving(inv_job) as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def oracle(inv_job: Path) -> ox.Store:
    store = ox.Store()
    for f in (inv_job / "results").glob("*.nt"):
        store.bulk_load(path=str(f), format=ox.RdfFormat.N_TRIPLES)
    return store


def expected_rows(oracle: ox.Store) -> set[tuple[str, str, str]]:
    rows = {(s["c"].value, s["b"].value, s["l"].value) for s in oracle.query(SELECT)}
    assert rows
    return rows


def expected_graph(oracle: ox.Store) -> set[tuple[str, str, str]]:
    got = {(t.subject.value, t.predicate.value, t.object.value) for t in oracle.query(CONSTRUCT)}
    assert got
    return got


def client(url: str, query: str, fmt: str, method: str | None = None) -> SPARQLWrapper:
    sw = SPARQLWrapper(url)
    sw.setQuery(query)
    sw.setReturnFormat(fmt)
    if method == "form":
        sw.setMethod(POST)
    elif method == "direct":
        sw.setMethod(POST)
        sw.setRequestMethod(POSTDIRECTLY)
    return sw


@pytest.mark.parametrize("method", [None, "form", "direct"])
def test_select_json(url: str, oracle: ox.Store, method: str | None) -> None:
    doc = client(url, SELECT, JSON, method).query().convert()
    assert doc["head"]["vars"] == ["c", "b", "l"]
    got = {(b["c"]["value"], b["b"]["value"], b["l"]["value"]) for b in doc["results"]["bindings"]}
    assert got == expected_rows(oracle)


def test_select_csv(url: str, oracle: ox.Store) -> None:
    body = client(url, SELECT, CSV).query().convert()
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert rows[0] == ["c", "b", "l"]
    assert {tuple(r) for r in rows[1:]} == expected_rows(oracle)


def test_select_xml(url: str, oracle: ox.Store) -> None:
    dom = client(url, SELECT, XML, "form").query().convert()
    got = set()
    for result in dom.getElementsByTagName("result"):
        vals = {b.getAttribute("name"): b.firstChild.firstChild.data
                for b in result.getElementsByTagName("binding")}
        got.add((vals["c"], vals["b"], vals["l"]))
    assert got == expected_rows(oracle)


@pytest.mark.parametrize("fmt", [N3, TURTLE])
def test_construct(url: str, oracle: ox.Store, fmt: str) -> None:
    """CONSTRUCT as N-Triples (an explicit Accept) and as Turtle (SPARQLWrapper's own)."""
    sw = client(url, CONSTRUCT, fmt)
    if fmt == N3:
        sw.addCustomHttpHeader("Accept", "application/n-triples")
    res = sw.query()
    ctype = res.info()["content-type"]
    body = res.convert()
    assert ctype.startswith("text/turtle" if fmt == TURTLE else "application/n-triples")
    g = rdflib.Graph().parse(data=body, format="turtle" if fmt == TURTLE else "nt")
    assert {(str(s), str(p), str(o)) for s, p, o in g} == expected_graph(oracle)


def test_ask(url: str, oracle: ox.Store) -> None:
    q = PREFIXES + "ASK { ?c a type:HighValueChain }"
    assert client(url, q, JSON).query().convert()["boolean"] is bool(oracle.query(q))


def test_rdflib_sparqlstore(url: str, oracle: ox.Store) -> None:
    store = SPARQLStore(url, returnFormat="json")
    g = rdflib.Graph(store=store)
    got = {(str(c), str(b), str(n)) for c, b, n in g.query(SELECT)}
    assert got == expected_rows(oracle)
    n = len(list(g.triples((None, rdflib.URIRef(P + "hasLength"), None))))
    want = next(iter(oracle.query(f"SELECT (COUNT(*) AS ?n) {{ ?s <{P}hasLength> ?o }}")))["n"]
    assert n == int(want.value)
