"""The W3C RDF 1.1 N-Triples syntax tests: every positive test loads, every negative one is
refused with a DataError naming the file and the line (the manifest is the oracle; the
expected triples of positive tests come from pyoxigraph's parse of the same file)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyoxigraph as ox
import pytest

from graphcrime.errors import DataError
from graphcrime.rdf import load_ntriples

SUITE = Path(__file__).resolve().parents[1] / "data" / "w3c-rdf11-ntriples"  # vendored copy
MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
RDFT = "http://www.w3.org/ns/rdftest#"


def _manifest() -> list[tuple[str, bool]]:
    if not SUITE.is_dir():
        return []
    store = ox.Store()
    store.load(path=str(SUITE / "manifest.ttl"), format=ox.RdfFormat.TURTLE,
               base_iri=(SUITE / "manifest.ttl").as_uri())
    rows = store.query(f"SELECT ?type ?action WHERE {{ ?t a ?type ; <{MF}action> ?action }}")
    tests = []
    for row in rows:
        kind = row["type"].value
        if kind in (RDFT + "TestNTriplesPositiveSyntax", RDFT + "TestNTriplesNegativeSyntax"):
            tests.append((row["action"].value.rsplit("/", 1)[-1], kind.endswith("Positive" +
                                                                                  "Syntax")))
    return sorted(tests)


TESTS = _manifest()


def test_manifest_is_complete():
    assert len(TESTS) >= 60, "the W3C N-Triples suite is missing or incomplete"
    assert sum(pos for _, pos in TESTS) >= 30 and sum(not pos for _, pos in TESTS) >= 25


def _oracle(path: Path) -> set[ox.Triple]:
    return set(ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES))


def _ours(con) -> set[ox.Triple]:
    rows = con.execute("SELECT ts.nt || ' ' || tp.nt || ' ' || tob.nt || ' .' FROM loaded l "
                       "JOIN terms ts ON ts.id = l.s JOIN terms tp ON tp.id = l.p "
                       "JOIN terms tob ON tob.id = l.o").fetchall()
    return set(ox.parse("\n".join(r[0] for r in rows), format=ox.RdfFormat.N_TRIPLES))


@pytest.mark.parametrize("name,positive", TESTS, ids=[n for n, _ in TESTS])
def test_w3c(name: str, positive: bool):
    path = SUITE / name
    con = duckdb.connect()
    if positive:
        n = load_ntriples(con, [path])
        expected = _oracle(path)
        assert n == len(expected)
        assert _ours(con) == expected
    else:
        with pytest.raises(DataError) as err:
            load_ntriples(con, [path])
        assert err.value.file == str(path)
        assert err.value.line is not None and err.value.line >= 1
        assert err.value.hint
        # the reported line is the one that is wrong: it alone fails to parse
        bad = path.read_bytes().split(b"\n")[err.value.line - 1]
        with pytest.raises(SyntaxError):
            list(ox.parse(bad, format=ox.RdfFormat.N_TRIPLES))
        assert con.execute("SELECT count(*) FROM terms").fetchone()[0] == 0
