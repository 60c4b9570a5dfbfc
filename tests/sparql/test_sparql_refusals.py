"""Refusals: updates, SERVICE and FROM never run; errors carry line, column and a hint."""

from __future__ import annotations

import pytest
from sparql_helpers import load_store

from graphcrime.errors import QueryError
from graphcrime.sparql import run_query


@pytest.fixture(scope="module")
def store():
    return load_store("<http://e/a> <http://e/p> <http://e/b> .")[0]


@pytest.mark.parametrize("text,word,line,col", [
    ("SELECT * WHERE {\n  SERVICE <http://example.org/sparql> { ?s ?p ?o }\n}", "SERVICE", 2, 3),
    ("SELECT * {\n ?a ?b ?c OPTIONAL { SERVICE SILENT <http://x/> { ?a ?b ?d } } }",
     "SERVICE", 2, 22),
    ("LOAD <http://example.org/data.ttl>", "LOAD", 1, 1),
    ("PREFIX : <http://e/>\nINSERT DATA { :a :p :c }", "INSERT", 2, 1),
    ("DELETE WHERE { ?s ?p ?o }", "DELETE", 1, 1),
    ("CLEAR ALL", "CLEAR", 1, 1),
    ("SELECT * FROM <http://example.org/remote.ttl> { ?s ?p ?o }", "FROM", 1, 10),
    ("SELECT *\nFROM NAMED <https://example.org/g> { ?s ?p ?o }", "FROM", 2, 1),
])
def test_refused(store, text, word, line, col) -> None:
    with pytest.raises(QueryError) as e:
        run_query(store, text)
    err = e.value
    assert word in err.message and (err.line, err.col) == (line, col) and err.hint


def test_syntax_error_position(store) -> None:
    with pytest.raises(QueryError) as e:
        run_query(store, "SELECT ?s\nWHERE { ?s ?p }")
    assert e.value.line == 2 and e.value.col is not None and e.value.hint


def test_unknown_prefix(store) -> None:
    with pytest.raises(QueryError) as e:
        run_query(store, "SELECT ?s WHERE {\n  ?s foo:bar ?o }")
    assert e.value.line == 2 and e.value.hint and "PREFIX" in e.value.hint


def test_standard_prefixes_need_no_declaration(store) -> None:
    r = run_query(store, "SELECT ?s { ?s ?p ?o FILTER(isIRI(?o) || datatype(?o) = xsd:string) }")
    assert r.engine == "duckdb" and len(r) == 1
