"""load_ntriples: strictness, error positions, atomicity, and agreement with pyoxigraph."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from generator import generate
from graphcrime.errors import DataError
from graphcrime.rdf import load_ntriples
from graphcrime.vocab import XSD

S, P = "<http://e/s>", "<http://e/p>"


def _decoded(con, target: str = "loaded") -> set[ox.Triple]:
    """Our loaded triples, decoded through terms and parsed by pyoxigraph (the oracle)."""
    rows = con.execute(f"SELECT ts.nt || ' ' || tp.nt || ' ' || tob.nt || ' .' FROM {target} l "
                       "JOIN terms ts ON ts.id = l.s JOIN terms tp ON tp.id = l.p "
                       "JOIN terms tob ON tob.id = l.o").fetchall()
    return {_triple(t) for t in ox.parse("\n".join(r[0] for r in rows),
                                         format=ox.RdfFormat.N_TRIPLES)}


def _triple(t: ox.Triple | ox.Quad) -> ox.Triple:
    return t.triple if isinstance(t, ox.Quad) else t


def _oracle(*paths: Path) -> set[ox.Triple]:
    out: set[ox.Triple] = set()
    for p in paths:
        data = gzip.open(p).read() if p.suffix == ".gz" else p.read_bytes()
        out |= {_triple(t) for t in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)}
    return out


def _write(tmp_path: Path, text: str | bytes, name: str = "d.nt") -> Path:
    p = tmp_path / name
    data = text.encode() if isinstance(text, str) else text
    p.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return p


def _load_error(tmp_path: Path, text: str | bytes, name: str = "d.nt") -> DataError:
    p = _write(tmp_path, text, name)
    con = duckdb.connect()
    with pytest.raises(DataError) as err:
        load_ntriples(con, [p])
    assert err.value.file == str(p) and err.value.hint
    assert con.execute("SELECT count(*) FROM terms").fetchone()[0] == 0
    return err.value


def test_generated_data_matches_pyoxigraph(tmp_path: Path):
    m = generate(tmp_path / "g", transactions=2000, seed=1)
    paths = m.paths("parties") + m.paths("transactions")
    con = duckdb.connect()
    n = load_ntriples(con, paths)
    expected = _oracle(*paths)
    assert n == len(expected)
    assert _decoded(con) == expected
    # every distinct term once, ids dense from 0
    assert con.execute("SELECT count(*), count(DISTINCT nt), min(id), max(id) FROM terms"
                       ).fetchone() == (len({x for t in expected for x in t}),) * 2 + (0, len(
                           {x for t in expected for x in t}) - 1)


def test_string_join_fallback_gives_the_same_triples(tmp_path: Path, monkeypatch):
    """The encoder's path for a hash collision (forced here) agrees with the hash path."""
    from graphcrime.rdf import load as load_module

    m = generate(tmp_path / "g", transactions=200, seed=2)
    paths = m.paths("parties") + m.paths("transactions")
    esc = _write(tmp_path, f'{S} {P} "\\u0041 x"^^<{XSD}string> .\n{S} {P} "A x" .\n', "e.nt")
    con = duckdb.connect()
    monkeypatch.setattr(load_module, "HASH_JOINS", False)
    assert load_ntriples(con, [*paths, esc]) == len(_oracle(*paths, esc))
    assert _decoded(con) == _oracle(*paths, esc)


def test_generated_gzip_files(tmp_path: Path):
    m = generate(tmp_path / "g", transactions=500, seed=3, gzip=True, files=2)
    paths = m.paths("parties") + m.paths("transactions")
    assert all(p.name.endswith(".gz") for p in paths)
    con = duckdb.connect()
    assert load_ntriples(con, paths) == len(_oracle(*paths))
    assert _decoded(con) == _oracle(*paths)


def test_typed_columns_of_loaded_literals(tmp_path: Path):
    p = _write(tmp_path, "\n".join([
        f'{S} {P} "12.50"^^<{XSD}decimal> .',
        f'{S} {P} "2021-07-29T04:12:14"^^<{XSD}dateTime> .',
        f'{S} {P} "2021-07-29T04:12:14-02:00"^^<{XSD}dateTime> .',
        f'{S} {P} "true"^^<{XSD}boolean> .',
        f'{S} {P} "0"^^<{XSD}boolean> .',
        f'{S} {P} "12x"^^<{XSD}integer> .',
        f'{S} {P} "abc"^^<http://unknown/dt> .',
        f'{S} {P} "plain"^^<{XSD}string> .',
    ]) + "\n")
    con = duckdb.connect()
    assert load_ntriples(con, [p]) == 8
    got = {r[0]: r[1:] for r in con.execute(
        "SELECT lex, num, ts::VARCHAR, bool, dt FROM terms WHERE kind = 2").fetchall()}
    assert got["12.50"][0] == 12.5
    assert got["2021-07-29T04:12:14"][1] == "2021-07-29 04:12:14"
    assert got["2021-07-29T04:12:14-02:00"][1] == "2021-07-29 06:12:14"  # UTC
    assert got["true"][2] is True and got["0"][2] is False
    assert got["12x"][:3] == (None, None, None)  # invalid lexical form: typed columns NULL
    assert got["abc"] == (None, None, None, "http://unknown/dt")  # unknown datatype accepted
    assert got["plain"][3] == XSD + "string"
    assert con.execute("SELECT count(*) FROM terms WHERE nt = '\"plain\"'").fetchone()[0] == 1


def test_escapes_are_canonicalised(tmp_path: Path):
    text = (f'{S} {P} "tab\\there\\\\back \\"q\\" \\u00e9\\U0001F600 \\n\\r\\b\\f\\\'" .\n'
            f'<http://e/\\u00e9> {P} "x"@EN-gb .\n'
            f'{S} {P} "a\\tb" .\n')
    p = _write(tmp_path, text)
    con = duckdb.connect()
    assert load_ntriples(con, [p]) == 3
    assert _decoded(con) == _oracle(p)
    nts = {r[0] for r in con.execute("SELECT nt FROM terms").fetchall()}
    assert '"tab\there\\\\back \\"q\\" é😀 \\n\\r\b\f\'"' in nts
    assert "<http://e/é>" in nts and '"x"@en-gb' in nts and '"a\tb"' in nts
    lex = con.execute("SELECT lex FROM terms WHERE nt LIKE '\"tab%'").fetchone()[0]
    assert lex == "tab\there\\back \"q\" é😀 \n\r\b\f'"


def test_odd_but_valid_layout(tmp_path: Path):
    text = ("# a comment\n\n   \n"
            f"{S}\t{P}  <http://e/o> .   # trailing comment\r\n"
            f"{S} {P} \"with  two spaces and \x01 and tab\t\" .\n"
            f"{S} {P} _:b1 .\n_:b1 {P} \"x\" .\n"
            f"{S}{P}<http://e/o2>.\n"
            f"{S} {P} <http://e/o> .\n"  # duplicate of line 4
            f"{S} {P} \"last line, no newline\" .")
    p = _write(tmp_path, text)
    con = duckdb.connect()
    expected = _oracle(p)
    assert load_ntriples(con, [p]) == len(expected) == 6
    assert _decoded(con) == expected


def test_files_duckdb_cannot_split_go_to_the_strict_parser(tmp_path: Path):
    """Lone CR line ends and a 3 MB line: DuckDB's reader refuses, pyoxigraph loads them."""
    cr = _write(tmp_path, f"{S} {P} <http://e/1> .\r{S} {P} <http://e/2> .\r", "cr.nt")
    big = _write(tmp_path, f'{S} {P} "{"x" * 3_000_000}" .\n{S} {P} <http://e/3> .\n', "big.nt")
    con = duckdb.connect()
    assert load_ntriples(con, [cr, big]) == 4
    assert _decoded(con) == _oracle(cr, big)


def test_multi_member_gzip(tmp_path: Path):
    p = tmp_path / "m.nt.gz"
    p.write_bytes(gzip.compress(f"{S} {P} <http://e/1> .\n".encode())
                  + gzip.compress(f"{S} {P} <http://e/2> .\n".encode()))
    con = duckdb.connect()
    assert load_ntriples(con, [p]) == 2


def test_empty_file_loads_zero_triples(tmp_path: Path):
    con = duckdb.connect()
    assert load_ntriples(con, [_write(tmp_path, "")]) == 0
    assert con.execute("SELECT count(*) FROM loaded").fetchone()[0] == 0


def test_invalid_utf8_is_refused_with_line(tmp_path: Path):
    err = _load_error(tmp_path, f"{S} {P} \"ok\" .\n{S} {P} \"bad \xff\" .\n".encode("latin-1"))
    assert err.line == 2 and "UTF-8" in err.message


def test_line_without_final_dot(tmp_path: Path):
    err = _load_error(tmp_path, f"{S} {P} <http://e/o> .\n{S} {P} <http://e/o2>\n{S} {P} _:x .\n")
    assert err.line == 2


def test_bnode_as_predicate(tmp_path: Path):
    err = _load_error(tmp_path, f"{S} {P} <http://e/o> .\n\n{S} _:p <http://e/o> .\n")
    assert err.line == 3 and err.col is not None


def test_relative_iri_and_bad_escape_in_fast_shaped_lines(tmp_path: Path):
    assert _load_error(tmp_path, f"{S} {P} <o> .\n").line == 1
    assert _load_error(tmp_path, f"{S} {P} <http://e/o> .\n{S} {P} \"a\\zb\" .\n").line == 2
    assert _load_error(tmp_path, f"{S} {P} \"x\"@1 .\n").line == 1
    assert _load_error(tmp_path, f"\"lit\" {P} <http://e/o> .\n").line == 1


def test_gzip_cut_short(tmp_path: Path):
    data = gzip.compress("".join(f"{S} {P} \"{i}\" .\n" for i in range(20000)).encode())
    p = tmp_path / "cut.nt.gz"
    p.write_bytes(data[: len(data) // 2])
    con = duckdb.connect()
    with pytest.raises(DataError) as err:
        load_ntriples(con, [p])
    assert err.value.file == str(p) and "gzip" in (err.value.hint or "")
    assert con.execute("SELECT count(*) FROM terms").fetchone()[0] == 0


def test_failed_load_leaves_terms_and_target_alone(tmp_path: Path):
    con = duckdb.connect()
    good = _write(tmp_path, f"{S} {P} <http://e/o> .\n", "good.nt")
    assert load_ntriples(con, [good]) == 1
    before = con.execute("SELECT * FROM terms ORDER BY id").fetchall()
    bad = _write(tmp_path, f"{S} {P} <http://e/new> .\n{S} {P} oops .\n", "bad.nt")
    with pytest.raises(DataError) as err:
        load_ntriples(con, [good, bad])
    assert err.value.file == str(bad) and err.value.line == 2
    assert con.execute("SELECT * FROM terms ORDER BY id").fetchall() == before
    assert con.execute("SELECT count(*) FROM loaded").fetchone()[0] == 1


def test_second_load_reuses_terms(tmp_path: Path):
    con = duckdb.connect()
    a = _write(tmp_path, f"{S} {P} <http://e/o> .\n", "a.nt")
    b = _write(tmp_path, f"{S} {P} <http://e/o2> .\n", "b.nt")
    load_ntriples(con, [a], target="t1")
    load_ntriples(con, [b], target="t2")
    assert con.execute("SELECT count(*) FROM terms").fetchone()[0] == 4
    assert con.execute("SELECT s, p FROM t1").fetchall() == con.execute(
        "SELECT s, p FROM t2").fetchall()


@pytest.mark.parametrize("spread", [0, 10**9])
def test_later_loads_find_known_terms_either_way(tmp_path: Path, monkeypatch, spread: int):
    """Known terms of a later load, looked up by hash first (``spread``: a dictionary many
    times bigger than the load) or by one join on hash and string: the same ids."""
    from graphcrime.rdf import load as load_module

    monkeypatch.setattr(load_module, "SPREAD", spread)
    m = generate(tmp_path / "g", transactions=300, seed=3)
    parties, txs = m.paths("parties"), m.paths("transactions")
    con = duckdb.connect()
    load_ntriples(con, parties, target="t1")
    load_ntriples(con, [*txs, *parties], target="t2")
    assert con.execute("SELECT count(*) FROM (SELECT nt FROM terms GROUP BY nt "
                       "HAVING count(*) > 1)").fetchone()[0] == 0  # no term twice
    assert con.execute("SELECT count(*) FROM (SELECT * FROM t1 EXCEPT SELECT * FROM t2)"
                       ).fetchone()[0] == 0  # the parties' triples got the same ids
    assert _decoded(con, "t2") == _oracle(*txs, *parties)


def test_missing_file(tmp_path: Path):
    with pytest.raises(DataError) as err:
        load_ntriples(duckdb.connect(), [tmp_path / "nope.nt"])
    assert err.value.file == str(tmp_path / "nope.nt")


def test_turtle_and_nquads(tmp_path: Path):
    ttl = _write(tmp_path, "@prefix e: <http://e/> .\ne:s e:p e:o , \"x\"@EN ; e:q 5 .\n", "a.ttl")
    nq = _write(tmp_path, f"{S} {P} <http://e/o> <http://e/g> .\n{S} {P} \"y\" .\n", "b.nq.gz")
    con = duckdb.connect()
    assert load_ntriples(con, [ttl, nq]) == 4  # e:s e:p e:o is in both: once
    assert f'"5"^^<{XSD}integer>' in {r[0] for r in con.execute("SELECT nt FROM terms").fetchall()}
    bad = _write(tmp_path, "@prefix e: <http://e/> .\ne:s e:p .\n", "bad.ttl")
    with pytest.raises(DataError) as err:
        load_ntriples(con, [bad])
    assert err.value.line == 2


def test_progress_and_workers(tmp_path: Path):
    seen = []
    con = duckdb.connect()
    load_ntriples(con, [_write(tmp_path, f"{S} {P} <http://e/o> .\n")], workers=1,
                  progress=lambda stage, i, n: seen.append((stage, i, n)))
    assert [i for _, i, _ in seen] == list(range(1, len(seen) + 1)) and seen[-1][1] == seen[-1][2]
    # the connection's settings are as they were
    assert con.execute("SELECT current_setting('preserve_insertion_order'), "
                       "current_setting('threads')").fetchone() == (
        True, duckdb.connect().execute("SELECT current_setting('threads')").fetchone()[0])


_iri = st.sampled_from(["http://e/", "urn:x:", "http://a.b:80/p?q=1#f", "mailto:"]).flatmap(
    lambda base: st.text(st.sampled_from(list("az09-._~%/?#:@!$&'()*+,;=é<> {}|^`\\\"\t")),
                         max_size=6).map(lambda tail: f"<{base}{tail}>"))
_lit = st.builds(
    lambda body, suffix: f'"{body}"{suffix}',
    st.text(st.sampled_from(list('ab "\\ntrbfu0041\'\té😀')), max_size=8),
    st.sampled_from(["", "@en", "@EN-gb", "@1", "@en-", f"^^<{XSD}integer>", "^^<rel>"]))
_term = st.one_of(_iri, _lit, st.sampled_from(["_:b1", "_:1a", "_:a.b", "_:a.", "_::a"]))
_line = st.builds(lambda s, p, o, ws, end: f"{s}{ws}{p}{ws}{o}{end}", _term, _iri, _term,
                  st.sampled_from([" ", "\t", "  "]), st.sampled_from([" .", ".", " . # c", ""]))


def _parses(line: str) -> bool:
    try:
        list(ox.parse(line, format=ox.RdfFormat.N_TRIPLES))
        return True
    except SyntaxError:
        return False


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_line, min_size=1, max_size=4))
@example(["<http://e/>\t<http://e/>\t_:b1 ."])  # found by hypothesis: tabs, one space
@example(["_:b1 <http://e/> <http://e/>", "_:b1 <http://e/<> _:b1 ."])  # no dot, then bad IRI
def test_fuzz_agrees_with_pyoxigraph(tmp_path: Path, lines: list[str]):
    """Random near-N-Triples: we accept exactly what pyoxigraph accepts, with the same triples."""
    p = tmp_path / "fuzz.nt"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        expected: set[ox.Triple] | None = _oracle(p)
    except SyntaxError:
        expected = None
    con = duckdb.connect()
    if expected is None:
        with pytest.raises(DataError) as err:
            load_ntriples(con, [p])
        # the reported line is the first that does not parse on its own
        alone = [_parses(line) for line in lines]
        assert err.value.line == alone.index(False) + 1
    else:
        assert load_ntriples(con, [p]) == len(expected)
        assert _decoded(con) == expected
