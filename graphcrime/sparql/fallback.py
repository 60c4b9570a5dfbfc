"""The pyoxigraph fallback: queries (or parts) the DuckDB translation does not cover.

Only the triples the query can touch are exported: with constant predicates only, the
predicate tables of the IRIs the query names; with a variable predicate (or a negated
property set, or DESCRIBE) every triple. The export is N-Triples written by DuckDB ``COPY``
and bulk loaded into an in-memory pyoxigraph store; the answer goes back into a DuckDB
temporary table so that :class:`~graphcrime.sparql.result.QueryResult` writes it the same way.

>>> from rdflib.paths import InvPath
>>> from rdflib import URIRef
>>> sorted(touched_iris(InvPath(URIRef("http://e/p")))[0])
['http://e/p']
"""

from __future__ import annotations

import itertools
import os
import tempfile
from typing import Any

import pyarrow as pa
import pyoxigraph as ox
from rdflib import BNode, URIRef, Variable
from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, SequencePath
from rdflib.plugins.sparql.parserutils import CompValue

from graphcrime.db import temp_table
from graphcrime.errors import QueryError
from graphcrime.rdf.slowparse import term_nt
from graphcrime.sparql.formats import copy_lines
from graphcrime.sparql.result import QueryResult
from graphcrime.vocab import RDF_LANGSTRING, STANDARD_PREFIXES, XSD_STRING

_TABLES = itertools.count()


def touched_iris(node: Any) -> tuple[set[str], bool]:
    """IRIs named anywhere in an algebra tree, and whether any predicate is open (variable)."""
    iris: set[str] = set()
    open_pred = False

    def walk(x: Any) -> None:
        nonlocal open_pred
        if isinstance(x, CompValue):
            if x.name in ("BGP", "TriplesBlock"):
                for t in (x["triples"] if "triples" in x else None) or []:
                    if isinstance(t[1], (Variable, BNode)):
                        open_pred = True
            if x.name == "DescribeQuery":
                open_pred = True
            for v in x.values():
                walk(v)
        elif isinstance(x, URIRef):
            iris.add(str(x))
        elif isinstance(x, NegatedPath):
            open_pred = True
        elif isinstance(x, (SequencePath, AlternativePath)):
            for a in x.args:
                walk(a)
        elif isinstance(x, MulPath):
            if x.mod in ("*", "?"):  # zero-length paths reach every node of the graph
                open_pred = True
            walk(x.path)
        elif isinstance(x, InvPath):
            walk(x.arg)
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, (list, tuple, set, frozenset)):
            for v in x:
                walk(v)

    walk(node)
    return iris, open_pred


def export_sql(store: Any, algebra: Any) -> str:
    """SQL lines (N-Triples) of the triples the query may read."""
    iris, open_pred = touched_iris(algebra)
    if open_pred:
        rel = store.pattern_sql(None)
    else:
        ids = [i for i in (store.term_id(f"<{iri}>") for iri in sorted(iris)) if i is not None]
        if not ids:
            return "SELECT ''::VARCHAR AS line WHERE false"
        rel = "(" + " UNION ALL ".join(f"SELECT * FROM {store.pattern_sql(i)} x"
                                       for i in ids) + ")"
    return (f"SELECT ts.nt || ' ' || tp.nt || ' ' || tob.nt || ' .' AS line FROM {rel} t "
            f"JOIN terms ts ON ts.id = t.s JOIN terms tp ON tp.id = t.p "
            f"JOIN terms tob ON tob.id = t.o WHERE ts.kind <> 2 AND tp.kind = 0")


def _columns(terms: list[Any]) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {"n": [], "k": [], "l": [], "d": [], "g": []}
    for t in terms:
        if t is None:
            row: tuple[Any, ...] = (None, None, None, None, None)
        elif isinstance(t, ox.NamedNode):
            row = (term_nt(t), 0, t.value, None, None)
        elif isinstance(t, ox.BlankNode):
            row = (term_nt(t), 1, t.value, None, None)
        else:
            lang = t.language.lower() if t.language else None
            dt = RDF_LANGSTRING if lang else (t.datatype.value or XSD_STRING)
            row = (term_nt(t), 2, t.value, dt, lang)
        for key, value in zip("nkldg", row, strict=True):
            cols[key].append(value)
    return cols


def _table(con: Any, data: dict[str, pa.Array]) -> str:
    return temp_table(con, f"_gc_sparql_fallback_{os.getpid()}_{next(_TABLES)}",
                      pa.table(data))


def run_fallback(store: Any, text: str, algebra: Any, base: str | None,
                 reason: str) -> QueryResult:
    """Answer ``text`` with pyoxigraph over the needed triples of ``store``."""
    con = store.con
    fd, tmp = tempfile.mkstemp(suffix=".nt")
    os.close(fd)
    ox_store = ox.Store()
    try:
        copy_lines(con, export_sql(store, algebra), tmp, False)
        if os.path.getsize(tmp):
            ox_store.bulk_load(path=tmp, format=ox.RdfFormat.N_TRIPLES)
    finally:
        os.unlink(tmp)
    try:
        answer = ox_store.query(text, base_iri=base, prefixes=dict(STANDARD_PREFIXES))
    except (SyntaxError, ValueError, OSError) as e:
        raise QueryError(f"query failed: {e}", hint="check the query against SPARQL 1.1") from e
    if isinstance(answer, ox.QueryBoolean):
        return QueryResult(con, "ask", ask=bool(answer), engine="pyoxigraph",
                           fallback_reason=reason)
    if isinstance(answer, ox.QueryTriples):
        s: list[str] = []
        p: list[str] = []
        o: list[str] = []
        for t in answer:
            s.append(term_nt(t.subject))
            p.append(term_nt(t.predicate))
            o.append(term_nt(t.object))
        table = _table(con, {"s": pa.array(s, pa.string()), "p": pa.array(p, pa.string()),
                             "o": pa.array(o, pa.string())})
        return QueryResult(con, "graph", sql=f"SELECT DISTINCT s, p, o FROM {table}",
                           engine="pyoxigraph", fallback_reason=reason)
    names = [v.value for v in answer.variables]
    rows = [[sol[i] for i in range(len(names))] for sol in answer]
    data: dict[str, pa.Array] = {"_ord": pa.array(range(len(rows)), pa.int64())}
    for i in range(len(names)):
        cols = _columns([r[i] for r in rows])
        for key, values in cols.items():
            data[f"{key}{i}"] = pa.array(values, pa.uint8() if key == "k" else pa.string())
    table = _table(con, data)
    return QueryResult(con, "select", variables=names, sql=f"SELECT * FROM {table}",
                       ordered=True, engine="pyoxigraph", fallback_reason=reason)
