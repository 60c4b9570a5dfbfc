"""Test helpers: the same data in a FactStore and in pyoxigraph, and answer comparison.

Answers are compared as multisets of solutions. Numeric literals are compared by datatype
family and value (pyoxigraph prints computed numbers in its own canonical form, e.g. "3" for
the decimal 3.0), blank nodes by position only (labels are arbitrary).
"""

from __future__ import annotations

import math
import tempfile
from collections import Counter
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyoxigraph as ox

from graphcrime.engine.store import FactStore
from graphcrime.rdf.load import load_ntriples
from graphcrime.sparql import QueryResult, run_query
from graphcrime.vocab import STANDARD_PREFIXES, XSD

_FAMILY = {XSD + t: "int" for t in (
    "integer long int short byte nonNegativeInteger nonPositiveInteger negativeInteger "
    "positiveInteger unsignedLong unsignedInt unsignedShort unsignedByte").split()}
_FAMILY.update({XSD + "decimal": "dec", XSD + "double": "dbl", XSD + "float": "dbl"})


def load_store(text: str | bytes, fmt: ox.RdfFormat = ox.RdfFormat.TURTLE,
               base: str | None = None) -> tuple[FactStore, ox.Store]:
    """(FactStore, pyoxigraph Store) holding the same triples (default graph only).

    The FactStore is filled by the project's loader (``graphcrime.rdf.load``) from the text
    re-serialised as N-Triples by pyoxigraph; pyoxigraph holds its own parse.
    """
    if isinstance(text, str):
        text = text.encode()
    quads = list(ox.parse(text, format=fmt, base_iri=base))
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in quads]
    nt = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "data.nt"
        path.write_bytes(nt)
        store = _fact_store([path])
    oxs = ox.Store()
    oxs.extend([ox.Quad(t.subject, t.predicate, t.object) for t in triples])
    return store, oxs


def _fact_store(paths: list[Path]) -> FactStore:
    store = FactStore()
    load_ntriples(store.con, [str(p) for p in paths], target="_t_loaded")
    store.add_loaded("_t_loaded")
    store.con.execute("DROP TABLE _t_loaded")
    return store


def load_files(paths: list[Path]) -> tuple[FactStore, ox.Store]:
    """Both stores from N-Triples files, each parsed by its own loader."""
    oxs = ox.Store()
    for path in paths:
        oxs.bulk_load(path=str(path), format=ox.RdfFormat.N_TRIPLES)
    return _fact_store(paths), oxs


def norm(term: object) -> object:
    """A comparison key for one term (None = unbound)."""
    if term is None:
        return None
    if isinstance(term, ox.BlankNode):
        return ("bnode",)
    if isinstance(term, ox.Literal):
        if term.datatype.value == XSD + "boolean" and term.value in ("0", "1", "true", "false"):
            return ("bool", term.value in ("1", "true"))  # pyoxigraph's store canonicalises
        fam = _FAMILY.get(term.datatype.value)
        if fam is not None:
            try:
                v = Decimal(term.value.strip())
            except InvalidOperation:
                try:
                    v = Decimal(str(float(term.value)))
                except ValueError:
                    return ("lit", term.value, term.datatype.value)
            if v.is_finite():
                f = float(v)
                v = Decimal(repr(round(f, 9 - int(math.floor(math.log10(abs(f))))) if f else 0.0))
            return ("num", fam, v)
        return ("lit", term.value, term.datatype.value, term.language)
    return ("iri", term.value)


def oracle(oxs: ox.Store, query: str) -> object:
    return oxs.query(query, prefixes=dict(STANDARD_PREFIXES))


def rows_key(rows: list[tuple]) -> Counter:
    return Counter(tuple(norm(t) for t in r) for r in rows)


def compare(store: FactStore, oxs: ox.Store, query: str, *, ordered: bool = False,
            engine: str | None = "duckdb") -> QueryResult:
    """Run ``query`` on both; assert equal answers; return ours."""
    ours = run_query(store, query)
    if engine is not None:
        assert ours.engine == engine, ours.fallback_reason
    theirs = oracle(oxs, query)
    if isinstance(theirs, ox.QueryBoolean):
        assert ours.kind == "ask" and bool(ours) == bool(theirs)
    elif isinstance(theirs, ox.QueryTriples):
        want = Counter((norm(t.subject), norm(t.predicate), norm(t.object)) for t in theirs)
        got = Counter((norm(t.subject), norm(t.predicate), norm(t.object))
                      for t in ours.triples())
        assert got == want
    else:
        names = [v.value for v in theirs.variables]
        assert sorted(ours.variables) == sorted(names)  # SELECT * order is not specified
        want_rows = [tuple(s[i] for i in range(len(names))) for s in theirs]
        index = [ours.variables.index(n) for n in names]
        got_rows = [tuple(r[i] for i in index) for r in ours.rows()]
        assert rows_key(got_rows) == rows_key(want_rows), (got_rows[:10], want_rows[:10])
        if ordered:
            assert [tuple(norm(t) for t in r) for r in got_rows] == \
                   [tuple(norm(t) for t in r) for r in want_rows]
    return ours
