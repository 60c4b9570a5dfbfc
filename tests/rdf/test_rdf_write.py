"""write_triples: N-Triples / N-Quads / Turtle (gzip too), checked by parsing with pyoxigraph."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import pyoxigraph as ox
import pytest

from generator import generate
from graphcrime.errors import DataError
from graphcrime.rdf import load_ntriples, write_triples


def _parse(path: Path, fmt: ox.RdfFormat) -> set:
    data = gzip.open(path).read() if path.name.endswith(".gz") else path.read_bytes()
    return set(ox.parse(data, format=fmt))


def _triples(quads: set) -> set:
    return {q.triple if isinstance(q, ox.Quad) else q for q in quads}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    d = tmp_path_factory.mktemp("w")
    m = generate(d / "g", transactions=300, seed=5)
    paths = m.paths("parties") + m.paths("transactions")
    extra = d / "extra.nt"
    extra.write_text('<http://e/s> <http://e/p> "tab\\t \\"q\\" \\\\ \\u00e9 \\n"@EN .\n'
                     '<http://e/s> <http://e/p> _:b1 .\n', encoding="utf-8")
    con = duckdb.connect()
    load_ntriples(con, [*paths, extra])
    expected = set()
    for p in [*paths, extra]:
        expected |= _triples(_parse(p, ox.RdfFormat.N_TRIPLES))
    return con, expected


@pytest.mark.parametrize("name,fmt", [("out.nt", ox.RdfFormat.N_TRIPLES),
                                      ("out.nt.gz", ox.RdfFormat.N_TRIPLES),
                                      ("out.ttl", ox.RdfFormat.TURTLE),
                                      ("sub/out.nq.gz", ox.RdfFormat.N_QUADS)])
def test_round_trip(loaded, tmp_path: Path, name: str, fmt: ox.RdfFormat):
    con, expected = loaded
    out = tmp_path / name
    assert write_triples(con, "loaded", out) == len(expected)
    assert _triples(_parse(out, fmt)) == expected
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # temp file renamed


def test_sorted_output_is_reproducible(loaded, tmp_path: Path):
    con, _ = loaded
    a, b = tmp_path / "a.nt", tmp_path / "b.nt"
    write_triples(con, "SELECT * FROM loaded", a, sort=True)
    write_triples(con, "SELECT * FROM loaded ORDER BY o DESC", b, sort=True)
    assert a.read_bytes() == b.read_bytes()
    lines = a.read_text(encoding="utf-8").splitlines()
    assert lines == sorted(lines)


def test_quads_with_graph_column(loaded, tmp_path: Path):
    con, expected = loaded
    g = con.execute("SELECT id FROM terms WHERE nt = '<http://e/s>'").fetchone()[0]
    con.execute(f"CREATE OR REPLACE TEMP TABLE q AS SELECT s, p, o, CASE WHEN s = {g} THEN {g} "
                "END AS g FROM loaded")
    out = tmp_path / "q.nq"
    assert write_triples(con, "q", out, graph_column="g") == len(expected)
    quads = _parse(out, ox.RdfFormat.N_QUADS)
    named = {q for q in quads if q.graph_name == ox.NamedNode("http://e/s")}
    assert len(named) == 2 and _triples(quads) == expected


def test_empty_relation_and_bad_names(loaded, tmp_path: Path):
    con, _ = loaded
    out = tmp_path / "empty.nt"
    assert write_triples(con, "SELECT * FROM loaded WHERE false", out) == 0
    assert out.read_bytes() == b""
    with pytest.raises(DataError):
        write_triples(con, "loaded", tmp_path / "out.csv")
    with pytest.raises(DataError):
        write_triples(con, "loaded", tmp_path / "out.nt", graph_column="g")


def test_gzip_members_are_one_stream(tmp_path: Path):
    from graphcrime.rdf.write import gzip_members

    src, dst = tmp_path / "plain", tmp_path / "out.gz"
    data = b"".join(b"<http://e/%d> <http://e/p> \"%d\" .\n" % (i, i) for i in range(5000))
    src.write_bytes(data)
    gzip_members(src, dst, block=4096, threads=3)
    raw = dst.read_bytes()
    assert raw.count(b"\x1f\x8b\x08") >= len(data) // 4096  # many members
    assert gzip.decompress(raw) == data
