"""Queries over generated AML data (2000 transactions, 1000 parties, every typology), checked
against pyoxigraph on the same files: the reference queries' shape, joins, typed filters on
amounts and dates, aggregates and ordering."""

from __future__ import annotations

from pathlib import Path

import pytest
from sparql_helpers import compare, load_files

from generator import generate

P = ("PREFIX : <http://oxfordsemantic.tech/transactions/entities#> "
     "PREFIX prop: <http://oxfordsemantic.tech/transactions/properties#> "
     "PREFIX type: <http://oxfordsemantic.tech/transactions/classes#> "
     "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> ")


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen") / "data"
    # the planted typologies need more distinct parties than the default 10 per transaction
    m = generate(out, transactions=2000, parties=1000, seed=1, typologies="all")
    return load_files(m.paths())


QUERIES = {
    "reference-shape": "SELECT ?S ?P ?O { ?S a type:Party ; prop:isSuspicious true . ?S ?P ?O }",
    "tx-join": "SELECT ?t ?a ?b { ?t prop:hasOriginator ?a ; prop:hasBeneficiary ?b . "
               "?a prop:isSuspicious true }",
    "amount-filter": "SELECT ?t ?m { ?t prop:hasAmount ?m FILTER(?m < 100) }",
    "date-filter": "SELECT (COUNT(*) AS ?c) { ?t prop:hasDate ?d "
                   "FILTER(?d >= '2021-01-01T00:00:00Z'^^xsd:dateTime) }",
    "two-hop": "SELECT ?t1 ?t2 { ?t1 prop:hasBeneficiary ?b . ?t2 prop:hasOriginator ?b ; "
               "prop:hasDate ?d2 . ?t1 prop:hasDate ?d1 FILTER(?d2 > ?d1) } ",
    "per-party": "SELECT ?p (COUNT(?t) AS ?n) (SUM(?m) AS ?total) (MAX(?m) AS ?max) "
                 "(AVG(?m) AS ?avg) { ?t prop:hasOriginator ?p ; prop:hasAmount ?m } GROUP BY ?p",
    "names-optional": "SELECT ?p ?n { ?p a type:Party OPTIONAL { ?p prop:hasFullName ?n "
                      "FILTER(STRSTARTS(?n, 'A')) } }",
    "internal-minus": "SELECT ?p { ?p a type:Party MINUS { ?p prop:isInternal true } }",
    "ask": "ASK { ?p prop:isSuspicious true }",
}

ORDERED = {
    "top-amounts": "SELECT ?t ?m { ?t prop:hasAmount ?m } ORDER BY DESC(?m) ?t LIMIT 25",
    "busiest": "SELECT ?p (COUNT(*) AS ?n) { ?t prop:hasBeneficiary ?p } GROUP BY ?p "
               "ORDER BY DESC(?n) ?p LIMIT 10",
}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_generated(stores, name: str) -> None:
    compare(*stores, P + QUERIES[name])


@pytest.mark.parametrize("name", sorted(ORDERED))
def test_generated_ordered(stores, name: str) -> None:
    compare(*stores, P + ORDERED[name], ordered=True)


def test_reference_queries_run_in_duckdb(stores) -> None:
    """The shipped queries (no chains without reasoning: empty, but answered by DuckDB)."""
    root = Path(__file__).resolve().parents[2] / "queries"
    for rq in sorted(root.glob("*.rq")):
        compare(*stores, rq.read_text(encoding="utf-8"))
