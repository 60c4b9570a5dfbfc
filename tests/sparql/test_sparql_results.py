"""QueryResult: Python access and every written format, read back by independent parsers
(pyoxigraph's result and RDF parsers, Python's csv/json/xml) and compared with pyoxigraph's
own answer to the same query."""

from __future__ import annotations

import csv
import gzip
import io
import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
from sparql_helpers import load_store, norm, oracle

from graphcrime.errors import QueryError
from graphcrime.sparql import QueryResult, run_query

DATA = """
@prefix : <http://e/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
:a :p 1, "x,y \\"q\\"", "multi\\nline"@en, :b, "2020-01-01T00:00:00"^^xsd:dateTime .
:b :p [ :p "tab\\there" ] .
:c :r "<&>" .
"""
P = "PREFIX : <http://e/> "
SELECT = P + "SELECT ?s ?o ?none { ?s :p ?o OPTIONAL { ?o :zz ?none } } ORDER BY ?s ?o"


@pytest.fixture(scope="module")
def stores():
    return load_store(DATA)


def _want(oxs: ox.Store, q: str) -> Counter:
    sols = oracle(oxs, q)
    n = len(sols.variables)
    return Counter(tuple(norm(s[i]) for i in range(n)) for s in sols)


@pytest.mark.parametrize("suffix,fmt", [(".json", ox.QueryResultsFormat.JSON),
                                        (".xml", ox.QueryResultsFormat.XML),
                                        (".tsv", ox.QueryResultsFormat.TSV),
                                        (".srj.gz", ox.QueryResultsFormat.JSON)])
def test_written_results_parse_back(stores, tmp_path: Path, suffix, fmt) -> None:
    store, oxs = stores
    res = run_query(store, SELECT)
    path = res.write(tmp_path / f"out{suffix}")
    data = path.read_bytes()
    if suffix.endswith(".gz"):
        data = gzip.decompress(data)
    parsed = ox.parse_query_results(data, format=fmt)
    assert [v.value for v in parsed.variables] == ["s", "o", "none"]
    got = Counter(tuple(norm(s[i]) for i in range(3)) for s in parsed)
    assert got == _want(oxs, SELECT)
    assert res.serialize(suffix.split(".")[1].replace("srj", "json")) == data


def test_csv_format(stores, tmp_path: Path) -> None:
    store, oxs = stores
    res = run_query(store, SELECT)
    raw = res.write(tmp_path / "out.csv").read_bytes()
    assert raw.count(b"\r\n") >= len(res) + 1  # CRLF line ends (RFC 4180)
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert rows[0] == ["s", "o", "none"]
    want = []
    for s in oracle(oxs, SELECT):
        want.append(["" if t is None else ("_:" if isinstance(t, ox.BlankNode) else t.value)
                     for t in (s[0], s[1], s[2])])
    got = [[c if not c.startswith("_:") else "_:" for c in r] for r in rows[1:]]
    assert Counter(map(tuple, got)) == Counter(map(tuple, want))


def test_json_shape(stores) -> None:
    store, _ = stores
    doc = json.loads(run_query(store, P + "SELECT ?o { :a :p ?o }").serialize("json"))
    kinds = Counter(b["o"]["type"] for b in doc["results"]["bindings"])
    assert kinds == {"literal": 4, "uri": 1}
    langs = [b["o"].get("xml:lang") for b in doc["results"]["bindings"]]
    assert "en" in langs
    ask = json.loads(run_query(store, P + "ASK { :a :p 1 }").serialize("json"))
    assert ask == {"head": {}, "boolean": True}


def test_xml_escapes(stores) -> None:
    store, _ = stores
    root = ET.fromstring(run_query(store, P + "SELECT ?o { :c :r ?o }").serialize("xml"))
    ns = "{http://www.w3.org/2005/sparql-results#}"
    assert [e.text for e in root.iter(ns + "literal")] == ["<&>"]


def test_nt_from_spo_select_and_construct(stores, tmp_path: Path) -> None:
    store, oxs = stores
    q = P + "SELECT ?S ?P ?O { ?S ?P ?O }"
    res = run_query(store, q)
    path = res.write(tmp_path / "spo.nt.gz")
    got = list(ox.parse(gzip.decompress(path.read_bytes()), format=ox.RdfFormat.N_TRIPLES))
    want = [q_ for q_ in oxs]
    assert Counter((norm(t.subject), norm(t.predicate), norm(t.object)) for t in got) == \
        Counter((norm(t.subject), norm(t.predicate), norm(t.object)) for t in want)
    assert len(res.triples()) == len(want)
    # rows with a literal subject or a non-IRI predicate are skipped in N-Triples
    odd = run_query(store, P + "SELECT ?S ?P ?O { ?O :p ?S . BIND(:p AS ?P) }")
    text = odd.write(tmp_path / "odd.nt").read_text()
    assert len(list(ox.parse(text.encode(), format=ox.RdfFormat.N_TRIPLES))) == \
        sum(1 for r in odd.rows() if not isinstance(r[0], ox.Literal))
    c = run_query(store, P + "CONSTRUCT { ?o :back ?s } WHERE { ?s :p ?o }")
    assert c.kind == "graph"
    ttl = c.serialize("ttl")
    parsed = list(ox.parse(ttl, format=ox.RdfFormat.TURTLE))
    assert len(parsed) == len(c) == len(c.triples())
    assert all(not isinstance(t.subject, ox.Literal) for t in parsed)


def test_python_access(stores) -> None:
    store, _ = stores
    res = run_query(store, SELECT)
    assert res.kind == "select" and res.variables == ["s", "o", "none"]
    rows = res.rows()
    assert len(res) == len(rows) == 7 and all(r[2] is None for r in rows)
    assert bool(res) and list(res) == rows
    ask = run_query(store, P + "ASK { :a :p :zz }")
    assert ask.kind == "ask" and not ask and len(ask) == 1
    with pytest.raises(QueryError):
        ask.rows()
    with pytest.raises(QueryError):
        res.triples()


def test_to_pandas(stores) -> None:
    pd = pytest.importorskip("pandas")
    store, _ = stores
    df = run_query(store, SELECT).to_pandas()
    assert isinstance(df, pd.DataFrame) and list(df.columns) == ["s", "o", "none"]


def test_bad_suffix_and_format(stores, tmp_path: Path) -> None:
    store, _ = stores
    res = run_query(store, P + "SELECT ?o { :a :p ?o }")
    with pytest.raises(QueryError) as e:
        res.write(tmp_path / "x.parquet")
    assert e.value.hint
    with pytest.raises(QueryError):
        res.write(tmp_path / "x.nt")  # not ?S ?P ?O
    g = run_query(store, P + "CONSTRUCT WHERE { ?s :r ?o }")
    with pytest.raises(QueryError):
        g.write(tmp_path / "g.csv")
    assert QueryResult.suffix_format("a/b.TSV.gz") == ("tsv", True)


def test_fallback_result_writes(stores, tmp_path: Path) -> None:
    store, oxs = stores
    q = P + "SELECT ?x ?o { ?x :p+ ?o } ORDER BY ?o"
    res = run_query(store, q)
    assert res.engine == "pyoxigraph"
    parsed = ox.parse_query_results(res.write(tmp_path / "f.json").read_bytes(),
                                    format=ox.QueryResultsFormat.JSON)
    assert Counter(tuple(norm(s[i]) for i in range(2)) for s in parsed) == _want(oxs, q)


def test_nt_lines_in_byte_order(tmp_path: Path) -> None:
    """Unordered N-Triples output is sorted by line (written through per-column ranks):
    terms that are prefixes of others (a literal and its tagged or typed forms, blank labels,
    IRIs), shared subjects and predicates, non-ASCII text; SELECT and CONSTRUCT alike."""
    store, _ = load_store("""
@prefix : <http://e/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
:a :p "a", "a"@en, "a"@en-us, "a"^^xsd:token, "a b", "ab", "é", "z", :a, :ab, _:b1, _:b12 .
:ab :p "a" . :a :pq "a" . :a :p_ "a" . _:b1 :p "x" . _:b12 :p "x" . :a\u00e9 :p "x" .
""")
    for i, q in enumerate([P + "SELECT ?S ?P ?O { ?S ?P ?O }",
                           P + "CONSTRUCT { ?S ?P ?O } WHERE { ?S ?P ?O }"]):
        data = run_query(store, q).write(tmp_path / f"out{i}.nt").read_bytes()
        lines = data.splitlines()
        assert len(lines) == 18
        assert lines == sorted(lines)  # bytes: UTF-8 order is code point order
