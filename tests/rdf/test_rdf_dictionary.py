"""The term dictionary: canonical nt, typed columns (hand-worked), ids, pyoxigraph round trips."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphcrime.errors import DataError
from graphcrime.rdf import create_terms, intern, intern_values, literal_nt, lookup, nt_literal_sql
from graphcrime.vocab import RDF_LANGSTRING, XSD

UTC = dt.datetime


def _con():
    con = duckdb.connect()
    create_terms(con)
    return con


def _row(con, nt: str) -> tuple:
    intern_values(con, [nt])
    return con.execute("SELECT kind, lex, dt, lang, num, ts, bool FROM terms WHERE nt = ?",
                       [nt]).fetchone()


# nt, expected (kind, lex, dt, lang, num, ts, bool): worked out by hand from XSD / RDF 1.1
CASES = [
    ("<http://e/a>", (0, "http://e/a", None, None, None, None, None)),
    ("_:b0", (1, "b0", None, None, None, None, None)),
    ('"x"', (2, "x", XSD + "string", None, None, None, None)),
    ('"chat"@en-gb', (2, "chat", RDF_LANGSTRING, "en-gb", None, None, None)),
    ('"a\\\\nb"', (2, "a\\nb", XSD + "string", None, None, None, None)),
    ('"q\\"\\n\\r\\\\"', (2, 'q"\n\r\\', XSD + "string", None, None, None, None)),
    (f'"-12"^^<{XSD}integer>', (2, "-12", XSD + "integer", None, -12.0, None, None)),
    (f'"+7"^^<{XSD}int>', (2, "+7", XSD + "int", None, 7.0, None, None)),
    (f'"128"^^<{XSD}byte>', (2, "128", XSD + "byte", None, None, None, None)),
    (f'"-1"^^<{XSD}unsignedInt>', (2, "-1", XSD + "unsignedInt", None, None, None, None)),
    (f'"0"^^<{XSD}positiveInteger>', (2, "0", XSD + "positiveInteger", None, None, None, None)),
    (f'"1.5"^^<{XSD}integer>', (2, "1.5", XSD + "integer", None, None, None, None)),
    (f'"12.50"^^<{XSD}decimal>', (2, "12.50", XSD + "decimal", None, 12.5, None, None)),
    (f'".5"^^<{XSD}decimal>', (2, ".5", XSD + "decimal", None, 0.5, None, None)),
    (f'"1e3"^^<{XSD}decimal>', (2, "1e3", XSD + "decimal", None, None, None, None)),
    (f'"1.5E-3"^^<{XSD}double>', (2, "1.5E-3", XSD + "double", None, 0.0015, None, None)),
    (f'"-INF"^^<{XSD}float>', (2, "-INF", XSD + "float", None, float("-inf"), None, None)),
    (f'"inf"^^<{XSD}double>', (2, "inf", XSD + "double", None, None, None, None)),
    (f'"2021-07-29T04:12:14"^^<{XSD}dateTime>',
     (2, "2021-07-29T04:12:14", XSD + "dateTime", None, None, UTC(2021, 7, 29, 4, 12, 14), None)),
    (f'"2021-07-29T04:12:14.25Z"^^<{XSD}dateTime>',
     (2, "2021-07-29T04:12:14.25Z", XSD + "dateTime", None, None,
      UTC(2021, 7, 29, 4, 12, 14, 250000), None)),
    (f'"2021-07-29T01:00:00+02:30"^^<{XSD}dateTime>',
     (2, "2021-07-29T01:00:00+02:30", XSD + "dateTime", None, None, UTC(2021, 7, 28, 22, 30),
      None)),
    (f'"2021-12-31T24:00:00"^^<{XSD}dateTime>',
     (2, "2021-12-31T24:00:00", XSD + "dateTime", None, None, UTC(2022, 1, 1), None)),
    (f'"2021-02-30T00:00:00"^^<{XSD}dateTime>',
     (2, "2021-02-30T00:00:00", XSD + "dateTime", None, None, None, None)),
    (f'"2021-07-29 04:12:14"^^<{XSD}dateTime>',
     (2, "2021-07-29 04:12:14", XSD + "dateTime", None, None, None, None)),
    (f'"2021-07-29-05:00"^^<{XSD}date>',
     (2, "2021-07-29-05:00", XSD + "date", None, None, UTC(2021, 7, 29, 5), None)),
    (f'"true"^^<{XSD}boolean>', (2, "true", XSD + "boolean", None, None, None, True)),
    (f'"1"^^<{XSD}boolean>', (2, "1", XSD + "boolean", None, None, None, True)),
    (f'"0"^^<{XSD}boolean>', (2, "0", XSD + "boolean", None, None, None, False)),
    (f'"TRUE"^^<{XSD}boolean>', (2, "TRUE", XSD + "boolean", None, None, None, None)),
    ('"5"^^<http://e/custom>', (2, "5", "http://e/custom", None, None, None, None)),
]


@pytest.mark.parametrize("nt,expected", CASES, ids=[c[0][:40] for c in CASES])
def test_term_columns(nt: str, expected: tuple):
    assert _row(_con(), nt) == expected


def test_ids_dense_never_duplicated():
    con = _con()
    a = intern_values(con, ["<http://e/a>", "<http://e/b>", "<http://e/a>"])
    assert a[0] == a[2] and sorted(set(a)) == [0, 1]
    b = intern_values(con, ["<http://e/c>", "<http://e/a>"])
    assert b == [2, a[0]]
    assert lookup(con, ["<http://e/c>", "<http://e/zz>", "<http://e/b>"]) == [2, None, a[1]]
    assert lookup(con, []) == [] and intern_values(con, []) == []


def test_intern_relation_forms_and_nulls():
    con = _con()
    con.execute("CREATE TABLE r(x VARCHAR)")
    con.execute("INSERT INTO r VALUES ('<http://e/1>'), (NULL), ('<http://e/1>'), ('\"v\"')")
    assert intern(con, "r", "x") == 2
    assert intern(con, "r", "x") == 0
    assert intern(con, "SELECT '<http://e/2>' AS y UNION ALL SELECT x FROM r", "y") == 1
    assert intern(con, "FROM r", "x") == 0
    assert con.execute("SELECT count(*), max(id) FROM terms").fetchone() == (3, 2)


def test_intern_values_refuses_non_terms():
    with pytest.raises(DataError):
        intern_values(_con(), ["http://no-brackets"])


_text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=12)


@settings(max_examples=80, deadline=None)
@given(_text, st.sampled_from([None, "en", "EN-gb"]),
       st.sampled_from([XSD + "string", XSD + "integer", "http://e/t"]))
def test_literal_round_trip_against_pyoxigraph(lex: str, lang: str | None, datatype: str):
    """nt_literal_sql == literal_nt, pyoxigraph reads it back as the same literal, and
    interning recovers the lexical form."""
    con = _con()
    sql_nt = con.execute(f"SELECT {nt_literal_sql('$lex', '$dt', '$lang')}",
                         {"lex": lex, "dt": datatype, "lang": lang}).fetchone()[0]
    nt = literal_nt(lex, datatype, lang)
    assert sql_nt == nt
    (t,) = ox.parse(f"<http://e/s> <http://e/p> {nt} .", format=ox.RdfFormat.N_TRIPLES)
    if lang:
        assert t.object == ox.Literal(lex, language=lang.lower())
    else:
        assert t.object == ox.Literal(lex, datatype=ox.NamedNode(datatype))
    assert "\n" not in nt and "\r" not in nt
    assert _row(con, nt)[1] == lex


_MIXED = ['"7"^^<http://www.w3.org/2001/XMLSchema#integer>',
          '"300"^^<http://www.w3.org/2001/XMLSchema#byte>',
          '"2.50"^^<http://www.w3.org/2001/XMLSchema#decimal>',
          '"1e3"^^<http://www.w3.org/2001/XMLSchema#double>',
          '"2021-07-29T08:00:17+02:00"^^<http://www.w3.org/2001/XMLSchema#dateTime>',
          '"2021-07-29"^^<http://www.w3.org/2001/XMLSchema#date>',
          '"1"^^<http://www.w3.org/2001/XMLSchema#boolean>',
          '"x"', '"x"@en', '"q"^^<http://e/custom>', "<http://e/a>", "_:b1"]


def _typed(batch: list[str]) -> dict[str, tuple]:
    con = _con()
    intern(con, "SELECT unnest(?::VARCHAR[]) AS nt".replace("?", repr(batch)), "nt")
    return {nt: con.execute("SELECT kind, lex, dt, lang, num, ts, bool FROM terms WHERE nt = ?",
                            [nt]).fetchone() for nt in batch}


@pytest.mark.parametrize("batch", [[nt] for nt in _MIXED] + [_MIXED[:3], _MIXED[4:7]])
def test_batches_with_few_datatypes_get_the_same_typed_columns(batch: list[str]):
    """Interning writes typed-column SQL only for the datatypes in the batch: a batch of a few
    must give the rows a batch of every kind gives (whose values are hand-checked here)."""
    together = _typed(_MIXED)
    assert together[_MIXED[0]][4] == 7.0 and together[_MIXED[1]][4] is None  # 300: no byte
    assert together[_MIXED[4]][5] == dt.datetime(2021, 7, 29, 6, 0, 17)
    assert together[_MIXED[5]][5] == dt.datetime(2021, 7, 29) and together[_MIXED[6]][6] is True
    assert _typed(batch) == {nt: together[nt] for nt in batch}
