"""The W3C SPARQL 1.1 evaluation tests (vendored in tests/data/) for the features
graphcrime answers, read from the manifests with rdflib, answers compared with the expected
result files (parsed by pyoxigraph) as multisets (blank nodes by position, numbers by value).

Tests that cannot apply are skipped with the reason listed in ``SKIP``.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.collection import Collection
from sparql_helpers import load_store, norm

from graphcrime.errors import QueryError
from graphcrime.sparql import run_query

ROOT = Path(__file__).resolve().parents[1] / "data" / "w3c-sparql11"  # vendored copy
FEATURES = ["aggregates", "bind", "bindings", "cast", "construct", "csv-tsv-res", "exists",
            "functions", "grouping", "json-res", "negation", "project-expression",
            "property-path", "subquery"]
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
QT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")

#: test name -> why it does not apply to graphcrime (or what is known to differ)
SKIP = {
    # the store has one default graph; these need named graphs (qt:graphData / GRAPH)
    "agg-empty-group-count-graph": "needs named graphs",
    "exists-graph-variable": "needs named graphs",
    "graph": "needs named graphs",
    "graph-minus": "needs named graphs",
    "subquery01": "needs named graphs", "subquery02": "needs named graphs",
    "subquery03": "needs named graphs", "subquery04": "needs named graphs",
    "subquery05": "needs named graphs", "subquery06": "needs named graphs",
    "subquery07": "needs named graphs", "exists03": "needs named graphs",
    "sq01": "needs named graphs",
    # non-deterministic functions: the expected file is one possible answer
    "rand01": "non-deterministic (RAND)", "uuid01": "non-deterministic (UUID)",
    "uuid02": "non-deterministic (UUID)", "struuid01": "non-deterministic (STRUUID)",
    "now01": "non-deterministic (NOW)",
    # property paths run on the pyoxigraph fallback, whose answer on an empty dataset with
    # a constant end is empty (the 2023 W3C tests expect the constant itself)
    "zero_or_more_set_start": "pyoxigraph 0.5 differs (zero-length path, empty data)",
    "zero_or_more_set_end": "pyoxigraph 0.5 differs (zero-length path, empty data)",
    "zero_or_one_set_start": "pyoxigraph 0.5 differs (zero-length path, empty data)",
    "zero_or_one_set_end": "pyoxigraph 0.5 differs (zero-length path, empty data)",
}


def _file(u: URIRef | None) -> Path | None:
    if u is None:
        return None
    return Path(str(u).removeprefix("file://"))


def _cases() -> list:
    out = []
    for feature in FEATURES:
        mpath = ROOT / feature / "manifest.ttl"
        if not mpath.exists():
            continue
        g = Graph().parse(mpath, format="turtle", publicID=mpath.as_uri())
        for m in g.subjects(RDF.type, MF.Manifest):
            entries = g.value(m, MF.entries)
            for test in Collection(g, entries) if entries else []:
                kind = g.value(test, RDF.type)
                if kind not in (MF.QueryEvaluationTest, MF.CSVResultFormatTest):
                    continue
                name = str(g.value(test, MF.name))
                local = str(test).rsplit("#", 1)[-1]
                action = g.value(test, MF.action)
                query = _file(g.value(action, QT.query))
                data = [_file(d) for d in g.objects(action, QT.data)]
                graph_data = list(g.objects(action, QT.graphData))
                result = _file(g.value(test, MF.result))
                marks = []
                reason = SKIP.get(local) or ("needs named graphs" if graph_data else None)
                if reason:
                    marks.append(pytest.mark.skip(reason=reason))
                out.append(pytest.param(query, data, result, id=f"{feature}/{local}",
                                        marks=marks))
                del name
    return out


def _load(data: list[Path | None]) -> tuple:
    text = b""
    for d in data:
        assert d is not None
        fmt = ox.RdfFormat.from_extension(d.suffix.lstrip("."))
        # re-serialise as N-Triples so several files become one input
        quads = ox.parse(path=str(d), format=fmt, base_iri=d.as_uri())
        text += ox.serialize([ox.Triple(q.subject, q.predicate, q.object) for q in quads],
                             format=ox.RdfFormat.N_TRIPLES) or b""
    return load_store(text, ox.RdfFormat.N_TRIPLES)


def _expected(result: Path) -> object:
    ext = result.suffix.lstrip(".")
    if ext in ("srx", "srj", "tsv", "csv"):
        fmt = {"srx": ox.QueryResultsFormat.XML, "srj": ox.QueryResultsFormat.JSON,
               "tsv": ox.QueryResultsFormat.TSV, "csv": ox.QueryResultsFormat.CSV}[ext]
        return ox.parse_query_results(path=str(result), format=fmt)
    fmt = ox.RdfFormat.from_extension(ext)
    return [ox.Triple(q.subject, q.predicate, q.object)
            for q in ox.parse(path=str(result), format=fmt, base_iri=result.as_uri())]


def _csv_text(data: bytes) -> list[str]:
    """CSV lines with line ends and blank node labels normalised."""
    text = data.decode("utf-8").replace("\r\n", "\n")
    return [re.sub(r"_:[^,\n]+", "_:b", line) for line in text.strip("\n").split("\n")]


@pytest.mark.slow
@pytest.mark.parametrize("query,data,result", _cases())
def test_w3c(query: Path, data: list[Path], result: Path, tmp_path: Path) -> None:
    store, _ = _load(data)
    text = query.read_text(encoding="utf-8")
    try:
        ours = run_query(store, text, base=query.as_uri())
    except QueryError as e:  # pragma: no cover - shown on failure
        pytest.fail(f"refused: {e}")
    if result.suffix == ".csv":  # CSVResultFormatTest: our CSV writer against the file
        out = tmp_path / "r.csv"
        ours.write(out)
        assert _csv_text(out.read_bytes()) == _csv_text(result.read_bytes())
        return
    expected = _expected(result)
    if isinstance(expected, ox.QueryBoolean):
        assert ours.kind == "ask" and bool(ours) == bool(expected)
    elif isinstance(expected, list):
        got = Counter((norm(t.subject), norm(t.predicate), norm(t.object))
                      for t in ours.triples())
        want = Counter((norm(t.subject), norm(t.predicate), norm(t.object)) for t in expected)
        assert got == want, ours.engine
    else:
        names = [v.value for v in expected.variables]
        rows = [tuple(s[v] for v in names) for s in expected]
        index = [ours.variables.index(n) for n in names]
        got_rows = [tuple(r[i] for i in index) for r in ours.rows()]
        got = Counter(tuple(norm(t) for t in r) for r in got_rows)
        want = Counter(tuple(norm(t) for t in r) for r in rows)
        assert got == want, (ours.engine, ours.fallback_reason)
