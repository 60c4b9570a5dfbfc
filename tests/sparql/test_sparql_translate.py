"""Every translated feature against pyoxigraph answering the same query on the same data.

The data mixes XSD numeric types, dates with and without time zones, booleans, language
strings, blank nodes and an ill-typed literal, so typed comparisons and error semantics show.
Each query must be answered by DuckDB (``engine == "duckdb"``) and agree with pyoxigraph.
"""

from __future__ import annotations

import pytest
from sparql_helpers import compare, load_store

DATA = """
@prefix : <http://e/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
:a a :T ; :p 1, 2.5, "x", "y"@en, "3"^^xsd:int ; :q :b ; :name "Alice"@en, "Alicia"@es ;
   :d "2020-01-01T00:00:00"^^xsd:dateTime ; :flag true ; :amount 100.50 .
:b a :T ; :p 3, "1e1"^^xsd:double ; :q :c ; :name "Bob" ;
   :d "2020-06-01T12:30:00+02:00"^^xsd:dateTime ; :flag false ; :amount 7 .
:c a :U ; :p "10"^^xsd:double, "abc"^^xsd:integer ; :name "carol" ; :d "2021-03-04"^^xsd:date ;
   :amount 1200.0 ; :knows [ :name "anon" ] .
:d :q :a ; :amount -5 ; :name "Dave, \\"the\\" tab\\there"@en-GB .
"""

P = "PREFIX : <http://e/> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> "


@pytest.fixture(scope="module")
def stores():
    return load_store(DATA)


QUERIES = {
    "bgp": "SELECT * { ?s :p ?o }",
    "bgp-join": "SELECT ?s ?n { ?s :q ?x . ?x :name ?n }",
    "bgp-const-subject": "SELECT ?p ?o { :a ?p ?o }",
    "bgp-repeated-var": "SELECT ?s { ?s :q ?s }",
    "bgp-unknown-const": "SELECT ?s { ?s :nothere ?o }",
    "bgp-bnode": "SELECT ?s ?n { ?s :knows [ :name ?n ] }",
    "reference": "SELECT ?S ?P ?O { ?S a :T . ?S ?P ?O }",
    "filter-num-gt": "SELECT ?s ?o { ?s :p ?o FILTER(?o > 2) }",
    "filter-num-eq-types": "SELECT ?s ?o { ?s :p ?o FILTER(?o = 3) }",
    "filter-decimal": "SELECT ?s { ?s :amount ?m FILTER(?m >= 100.5 && ?m < 1200) }",
    "filter-neg": "SELECT ?s { ?s :amount ?m FILTER(?m < 0) }",
    "filter-date": "SELECT ?s { ?s :d ?d FILTER(?d > '2020-06-01T00:00:00Z'^^xsd:dateTime) }",
    "filter-bool": "SELECT ?s { ?s :flag ?f FILTER(?f) }",
    "filter-not-bool": "SELECT ?s { ?s :flag ?f FILTER(!?f) }",
    "filter-string": "SELECT ?s ?n { ?s :name ?n FILTER(?n = 'Bob') }",
    "filter-string-lt": "SELECT ?n { ?s :name ?n FILTER(?n < 'c') }",
    "filter-lang": "SELECT ?n { ?s :name ?n FILTER(lang(?n) = 'en') }",
    "filter-langmatches": "SELECT ?n { ?s :name ?n FILTER(langMatches(lang(?n), 'en')) }",
    "filter-regex": "SELECT ?n { ?s :name ?n FILTER(regex(?n, '^a', 'i')) }",
    "filter-str-fns": "SELECT ?n { ?s :name ?n FILTER(contains(?n, 'li') || strstarts(?n, 'B') "
                      "|| strends(str(?n), 'ol')) }",
    "filter-isfns": "SELECT ?o (isIRI(?o) AS ?i) (isLiteral(?o) AS ?l) (isBlank(?o) AS ?b) "
                    "(isNumeric(?o) AS ?n) { ?s ?p ?o }",
    "filter-error-or": "SELECT ?o { :c :p ?o FILTER(?o > 5 || true) }",
    "filter-error-and": "SELECT ?o { :c :p ?o FILTER(!(?o > 5 && false)) }",
    "filter-in": "SELECT ?o { ?s :p ?o FILTER(?o IN (1, 'x', 3)) }",
    "filter-not-in": "SELECT ?o { ?s :p ?o FILTER(?o NOT IN (1, 'x')) }",
    "filter-bound": "SELECT ?s { ?s :q ?x OPTIONAL { ?x :flag ?f } FILTER(!bound(?f)) }",
    "filter-sameterm": "SELECT ?o { ?s :p ?o FILTER(sameTerm(?o, 1)) }",
    "filter-datatype": "SELECT ?o { ?s :p ?o FILTER(datatype(?o) = xsd:double) }",
    "bind-arith": "SELECT ?s ?z { ?s :amount ?m BIND(?m * 2 + 1 AS ?z) }",
    "bind-division": "SELECT ?s ?z { ?s :amount ?m BIND(?m / 4 AS ?z) }",
    "bind-string": "SELECT ?s ?z { ?s :name ?n BIND(CONCAT(UCASE(?n), '!') AS ?z) }",
    "bind-strlen-substr": "SELECT ?n ?l ?t { ?s :name ?n BIND(STRLEN(?n) AS ?l) "
                          "BIND(SUBSTR(?n, 2, 3) AS ?t) }",
    "bind-if-coalesce": "SELECT ?s ?z { ?s :q ?x OPTIONAL { ?x :flag ?f } "
                        "BIND(COALESCE(IF(?f, 'yes', 'no'), 'none') AS ?z) }",
    "bind-date-parts": "SELECT ?s ?y ?m ?h { ?s :d ?d BIND(YEAR(?d) AS ?y) BIND(MONTH(?d) AS ?m) "
                       "BIND(HOURS(?d) AS ?h) }",
    "bind-md5": "SELECT ?n (MD5(STR(?n)) AS ?h) { ?s :name ?n }",
    "bind-then-join": "SELECT ?s ?x { ?s :q ?y BIND(?y AS ?x) ?x :amount ?m }",
    "bind-const-join": "SELECT ?s { BIND(:b AS ?x) ?s :q ?x }",
    "optional": "SELECT ?s ?x ?n { ?s :amount ?m OPTIONAL { ?s :q ?x . ?x :name ?n } }",
    "optional-filter": "SELECT ?s ?o { ?s a ?t OPTIONAL { ?s :p ?o FILTER(isNumeric(?o)) } }",
    "optional-filter-outer-var": "SELECT ?s ?x { ?s :amount ?m OPTIONAL { ?s :q ?x . "
                                 "?x :amount ?m2 FILTER(?m2 > ?m) } }",
    "optional-nested": "SELECT * { ?s :q ?x OPTIONAL { ?x :q ?y OPTIONAL { ?y :flag ?f } } }",
    "union": "SELECT ?s ?v { { ?s :p ?v } UNION { ?s :amount ?v } }",
    "union-different-vars": "SELECT ?s ?a ?b { { ?s :flag ?a } UNION { ?s :q ?b } }",
    "union-then-join": "SELECT ?s ?n { { ?s :flag ?f } UNION { ?s :q ?x } ?s :name ?n }",
    "minus": "SELECT ?s { ?s :amount ?m MINUS { ?s a :T } }",
    "minus-no-shared": "SELECT ?s { ?s :amount ?m MINUS { ?x :zz ?y } }",
    "exists": "SELECT ?s { ?s :amount ?m FILTER EXISTS { ?s :q ?x } }",
    "not-exists": "SELECT ?s { ?s :amount ?m FILTER NOT EXISTS { ?s :p ?o FILTER(?o > 2) } }",
    "group-count": "SELECT ?s (COUNT(*) AS ?c) (COUNT(DISTINCT ?o) AS ?d) { ?s :p ?o } GROUP BY ?s",
    "group-sum-avg": "SELECT ?t (SUM(?m) AS ?sum) (AVG(?m) AS ?avg) (MIN(?m) AS ?min) "
                     "(MAX(?m) AS ?max) { ?s a ?t ; :amount ?m } GROUP BY ?t",
    "group-sum-error": "SELECT ?s (SUM(?o) AS ?sum) { ?s :p ?o } GROUP BY ?s",
    "group-min-max-mixed": "SELECT ?s (MIN(?o) AS ?min) (MAX(?o) AS ?max) { ?s :p ?o } GROUP BY ?s",
    "group-min-dates": "SELECT (MIN(?d) AS ?first) (MAX(?d) AS ?last) { ?s :d ?d }",
    "group-no-rows": "SELECT (COUNT(*) AS ?c) (SUM(?x) AS ?s) (MAX(?x) AS ?m) { ?s :zz ?x }",
    "group-having": "SELECT ?s (COUNT(*) AS ?c) { ?s :p ?o } GROUP BY ?s HAVING (COUNT(*) > 2)",
    # simple literals only: pyoxigraph keeps a common language tag, the W3C tests do not
    "group-concat": "SELECT ?s (GROUP_CONCAT(?n; separator='|') AS ?g) { ?s :name ?n "
                    "FILTER(?s != :a && lang(?n) = '') } GROUP BY ?s",
    "group-sample-single": "SELECT ?s (SAMPLE(?m) AS ?x) { ?s :amount ?m } GROUP BY ?s",
    "group-key-only": "SELECT ?t { ?s a ?t } GROUP BY ?t",
    "group-expr-agg": "SELECT ?s ((SUM(?m) * 2) AS ?x) { ?s :amount ?m } GROUP BY ?s",
    "count-distinct-star": "SELECT (COUNT(DISTINCT *) AS ?c) { ?s a ?t }",
    "distinct": "SELECT DISTINCT ?t { ?s a ?t }",
    "reduced-count": "SELECT (COUNT(*) AS ?c) { SELECT DISTINCT ?p { ?s ?p ?o } }",
    "values": "SELECT ?s ?m { VALUES ?s { :a :c :nothere } ?s :amount ?m }",
    "values-undef": "SELECT * { VALUES (?s ?n) { (:a UNDEF) (UNDEF 'Bob') } ?s :name ?n }",
    "values-new-terms": "SELECT ?x ?y { VALUES (?x ?y) { (1 'new') (:zz 2.5) } }",
    "values-after": "SELECT ?s ?m { ?s :amount ?m } VALUES ?s { :b :d }",
    "subquery-limit": "SELECT ?s ?m { { SELECT ?s ?m { ?s :amount ?m } ORDER BY DESC(?m) "
                      "LIMIT 2 } }",
    "ask-true": "ASK { :a :q :b }",
    "ask-false": "ASK { :a :q :c }",
    "ask-filter": "ASK { ?s :amount ?m FILTER(?m > 1000) }",
    "construct": "CONSTRUCT { ?x :qBy ?s . ?s :tag 'linked' } WHERE { ?s :q ?x }",
    "construct-skip-literal-subject": "CONSTRUCT { ?n :of ?s } WHERE { ?s :name ?n }",
    "construct-where": "CONSTRUCT WHERE { ?s :flag ?f }",
    "describe": "DESCRIBE :b",
    "describe-var": "DESCRIBE ?s WHERE { ?s :flag false }",
    "empty-group-pattern": "SELECT (1 AS ?one) {}",
}

ORDERED = {
    "order-num": "SELECT ?s ?m { ?s :amount ?m } ORDER BY ?m",
    "order-desc": "SELECT ?s ?m { ?s :amount ?m } ORDER BY DESC(?m)",
    "order-two-keys": "SELECT ?t ?s { ?s a ?t } ORDER BY DESC(?t) ?s",
    "order-expr": "SELECT ?s ?m { ?s :amount ?m } ORDER BY (-?m)",
    "order-limit-offset": "SELECT ?s { ?s :amount ?m } ORDER BY ?m LIMIT 2 OFFSET 1",
    "order-dates": "SELECT ?d { ?s :d ?d } ORDER BY DESC(?d)",
    "order-unbound-first": "SELECT ?s ?f { ?s :amount ?m OPTIONAL { ?s :flag ?f } } ORDER BY ?f ?s",
    "order-distinct": "SELECT DISTINCT ?t { ?s a ?t } ORDER BY DESC(?t)",
    "order-strings": "SELECT ?n { ?s :name ?n FILTER(lang(?n) = '') } ORDER BY ?n",
    "order-group": "SELECT ?s (COUNT(*) AS ?c) { ?s ?p ?o } GROUP BY ?s ORDER BY DESC(?c) ?s",
}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_translated(stores, name: str) -> None:
    store, oxs = stores
    compare(store, oxs, P + QUERIES[name])


@pytest.mark.parametrize("name", sorted(ORDERED))
def test_translated_ordered(stores, name: str) -> None:
    store, oxs = stores
    compare(store, oxs, P + ORDERED[name], ordered=True)


FALLBACK = {
    "path-plus": "SELECT ?s ?x { ?s :q+ ?x }",
    "path-seq-inv": "SELECT ?s ?n { ?s ^:q/:name ?n }",
    "path-alt": "SELECT ?s ?v { ?s :flag|:amount ?v }",
    "path-star": "SELECT ?x { :d :q* ?x }",
    "cast": "SELECT ?s (xsd:integer(?m) AS ?i) { ?s :amount ?m }",
    "uncommon-fn": "SELECT (ENCODE_FOR_URI(?n) AS ?e) { ?s :name ?n }",
    "group-by-expr": "SELECT (COUNT(*) AS ?c) { ?s :name ?n } GROUP BY (LANG(?n))",
}


@pytest.mark.parametrize("name", sorted(FALLBACK))
def test_fallback(stores, name: str) -> None:
    store, oxs = stores
    ours = compare(store, oxs, P + FALLBACK[name], engine="pyoxigraph")
    assert ours.fallback_reason


def test_group_concat_multi_values(stores) -> None:
    """The order inside GROUP_CONCAT is arbitrary: compare the parts."""
    from graphcrime.sparql import run_query

    store, oxs = stores
    q = P + "SELECT (GROUP_CONCAT(?n; separator='|') AS ?g) { :a :name ?n }"
    ours = run_query(store, q)
    assert ours.engine == "duckdb"
    want = next(iter(oxs.query(q)))[0].value
    assert sorted(ours.rows()[0][0].value.split("|")) == sorted(want.split("|"))


def test_fallback_exports_only_needed_predicates(stores) -> None:
    from graphcrime.sparql.fallback import export_sql
    from graphcrime.sparql.query import parse

    store, _ = stores
    lines = store.con.execute(export_sql(store, parse(P + FALLBACK["path-plus"]).algebra)
                              ).fetchall()
    assert lines and all(" <http://e/q> " in line for (line,) in lines)
    every = store.con.execute(export_sql(store, parse(P + "SELECT * { ?s !:zz+ ?o }").algebra)
                              ).fetchall()
    assert len(every) > len(lines)
