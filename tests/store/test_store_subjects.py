"""The subject index of stores on disk (graphcrime.engine.subjects): its files against DuckDB,
and queries that read it against the same store scanned and against pyoxigraph."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyoxigraph as ox
import pytest
from helpers import PARAMS, RULES

import graphcrime as gc
from graphcrime.engine import subjects
from graphcrime.engine.subjects import SubjectIndex, refresh
from graphcrime.rdf.dictionary import create_terms

_spec = importlib.util.spec_from_file_location(
    "sparql_helpers", Path(__file__).parent.parent / "sparql" / "sparql_helpers.py")
assert _spec is not None and _spec.loader is not None
_helpers: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)


def _norm(term: object) -> str:
    """A term as a string, numbers by value (pyoxigraph writes decimals canonically)."""
    return repr(_helpers.norm(term))


PREFIXES = """PREFIX prop: <http://oxfordsemantic.tech/transactions/properties#>
PREFIX type: <http://oxfordsemantic.tech/transactions/classes#>
"""
#: the queries (all answered three ways); those before ``INDEXED`` read the index (the
#: OPTIONAL one does not: the index serves patterns whose subjects an earlier pattern of the
#: same group binds)
QUERIES = [
    "SELECT ?S ?P ?O WHERE { ?S a type:SuspiciousChain . ?S ?P ?O }",
    "SELECT ?S ?P ?O WHERE { ?S a type:HighValueChain . ?S ?P ?O }",
    "SELECT ?S ?T ?A WHERE { ?S a type:SuspiciousChain . ?S prop:containsTransaction ?T . "
    "?T prop:hasAmount ?A }",
    "CONSTRUCT { ?S ?P ?O } WHERE { ?S a type:HighValueChain . ?S ?P ?O }",
    "ASK { ?S a type:HighValueChain . ?S prop:hasLength ?L }",
    "SELECT ?S ?L WHERE { ?S a type:SuspiciousChain . OPTIONAL { ?S prop:hasLength ?L } "
    "FILTER NOT EXISTS { ?S prop:derivedFrom ?X } }",
    "SELECT ?S WHERE { ?S a type:NoSuchClass }",  # a constant that is not a term
]
INDEXED = 5


# -- the files ----------------------------------------------------------------------------
def _table(con: duckdb.DuckDBPyConnection, rows: np.ndarray) -> None:
    con.register("_rows", {"s": rows[:, 0], "o": rows[:, 1], "r": rows[:, 2]})
    con.execute("INSERT INTO p_1 SELECT s::INTEGER, o::INTEGER, r::INTEGER FROM _rows")
    con.unregister("_rows")


def _check(con: duckdb.DuckDBPyConnection, index: SubjectIndex, rng: np.random.Generator
           ) -> None:
    """Lookups of random subjects (some absent) give DuckDB's rows of those subjects."""
    for n in (1, 17, 400):
        keys = np.unique(rng.integers(-5, 3000, n)).astype(np.int32)
        s, o = index.lookup("p_1", keys)
        con.register("_keys", {"k": keys})
        want = sorted(con.execute("SELECT s, o FROM p_1 WHERE s IN (SELECT k FROM _keys)")
                      .fetchall())
        con.unregister("_keys")
        assert sorted(zip(s.tolist(), o.tolist(), strict=True)) == want
    assert all(np.all(np.diff(run.s) >= 0) for run in index.runs("p_1"))


@pytest.mark.parametrize("every", [1, 2, 8, 64])
def test_run_search_is_searchsorted(every: int) -> None:
    """Run.search (a block from the in-memory sample, then a binary search in it) against
    numpy's searchsorted: subjects repeated past a block, keys below, between and above."""
    rng = np.random.default_rng(every)
    s = np.sort(np.repeat(rng.integers(0, 500, 300), rng.integers(1, 30, 300)))
    run = subjects.Run(s, np.arange(len(s)), s[::every], every)
    keys = np.unique(rng.integers(-10, 520, 200))
    for side in ("left", "right"):
        assert run.search(keys, side).tolist() == np.searchsorted(s, keys, side).tolist()


@pytest.mark.parametrize(("rows", "every"), [(0, 7), (1, 512), (12_345, 512), (12_345, 7)])
def test_sample_taken_while_writing_is_every_nth(tmp_path: Path, monkeypatch,
                                                 rows: int, every: int) -> None:
    """The in-memory sample a run keeps, taken batch by batch as the file is written, is the
    written file's values[::every] (batches of 1,000 rows: samples straddle them)."""
    from graphcrime.engine import sortedfiles

    monkeypatch.setattr(sortedfiles, "BATCH", 1000)
    w = sortedfiles.write(tmp_path, {"s": "s.npy"}, {"s": np.int32}, duckdb.connect(),
                          f"SELECT (i * 3 % 1000)::INTEGER AS s FROM range({rows}) t(i) "
                          f"ORDER BY s", sample=("s", every))
    written = np.load(tmp_path / "s.npy")
    assert w.rows == rows == len(written) and w.sample is not None
    assert w.sample.dtype == written.dtype and w.sample.tolist() == written[::every].tolist()


def _add(con: duckdb.DuckDBPyConnection, rng: np.random.Generator, n: int, r: int) -> None:
    """``n`` rows of round ``r``, subjects old (1500-1999) and new."""
    _table(con, np.unique(np.column_stack([rng.integers(1500, 3000, n),
                                           rng.integers(50, 99, n), np.full(n, r)]), axis=0))


def test_index_files_follow_adds_and_deletions(tmp_path: Path, monkeypatch) -> None:
    """Sorted from scratch; an update's added rows become a run of their own, until the runs
    would hold too much; kept when nothing changed; sorted again after a deletion: every
    state against DuckDB, and files no manifest names are removed."""
    from graphcrime.engine import sortedfiles
    monkeypatch.setattr(sortedfiles, "BATCH", 1000)  # several batches per file
    monkeypatch.setattr(subjects, "TOP", 8)  # many blocks
    rng = np.random.default_rng(7)
    con = duckdb.connect()
    create_terms(con)
    con.execute("CREATE TABLE p_1 (s INTEGER, o INTEGER, r INTEGER)")
    _table(con, np.unique(np.column_stack([rng.integers(0, 2000, 5000),
                                           rng.integers(0, 50, 5000), np.zeros(5000, int)]),
                          axis=0))
    index = refresh(tmp_path, con, ["p_1"], "g1", None, min_rows=100)
    assert len(index.runs("p_1")) == 1
    _check(con, index, rng)

    _add(con, rng, 300, 1)
    index = refresh(tmp_path, con, ["p_1"], "g2", index, min_rows=100)
    assert len(index.runs("p_1")) == 2  # the first run is kept, the new rows are the second
    _check(con, index, rng)

    same = refresh(tmp_path, con, ["p_1"], "g3", index, min_rows=100)
    assert same.tables["p_1"] == index.tables["p_1"]

    _add(con, rng, 2000, 2)  # more than a quarter of the first run: one run again
    index = refresh(tmp_path, con, ["p_1"], "g4", same, min_rows=100)
    assert len(index.runs("p_1")) == 1
    _check(con, index, rng)

    _add(con, rng, 100, 3)
    index = refresh(tmp_path, con, ["p_1"], "g5", index, min_rows=100)
    assert len(index.runs("p_1")) == 2
    con.execute("DELETE FROM p_1 WHERE s % 3 = 0 AND r = 0")
    index = refresh(tmp_path, con, ["p_1"], "g6", index, min_rows=100)
    assert len(index.runs("p_1")) == 1
    _check(con, index, rng)
    names = {p.name for p in (tmp_path / "subjects").iterdir()}
    assert {n for n in names if n.startswith("p_1")} == {"p_1-g6.s.npy", "p_1-g6.o.npy",
                                                         "p_1-g6.top.npy"}
    assert SubjectIndex.open(tmp_path, "g5") is None
    assert SubjectIndex.open(tmp_path, "g6") is not None


# -- queries over a store ---------------------------------------------------------------
@pytest.fixture(scope="module")
def days(tmp_path_factory) -> tuple[Path, list[Path]]:
    """Parties and three days of transactions with a tenth of the parties suspicious (627
    suspicious chains over the three days)."""
    from typer.testing import CliRunner

    from graphcrime.cli import app

    d = tmp_path_factory.mktemp("chains")
    res = CliRunner().invoke(app, ["generate", str(d), "-n", "1500", "--seed", "3",
                                   "--suspicious-fraction", "0.1", "--days", "3",
                                   "--split-by", "day"])
    assert res.exit_code == 0, res.output
    return d / "parties-0.nt", sorted(d.glob("transactions-*.nt"))


def _answers(store: gc.Store, text: str) -> object:
    res = store.query(PREFIXES + text)
    if res.kind == "ask":
        return bool(res)
    if res.kind == "graph":
        return sorted(tuple(_norm(t) for t in triple) for triple in res.triples())
    return sorted(tuple(_norm(t) for t in row) for row in res.rows())


def _oxigraph(store: gc.Store, tmp_path: Path) -> ox.Store:
    path = tmp_path / "dump.nt"
    store.dump(path)
    oxs = ox.Store()
    oxs.bulk_load(path=str(path), format=ox.RdfFormat.N_TRIPLES)
    return oxs


def _ox_answers(oxs: ox.Store, text: str) -> object:
    res = oxs.query(PREFIXES + text)
    if isinstance(res, ox.QueryBoolean):
        return bool(res)
    if isinstance(res, ox.QuerySolutions):
        names = [v.value for v in res.variables]
        return sorted(tuple(_norm(sol[v]) for v in names) for sol in res)
    return sorted((_norm(t.subject), _norm(t.predicate), _norm(t.object)) for t in res)


def _same_three_ways(store: gc.Store, tmp_path: Path, used: list[int]) -> int:
    """Every query: read from the index (and it was), scanned, and in pyoxigraph; returns
    the number of rows of the first."""
    oxs = _oxigraph(store, tmp_path)
    index = store.facts.subjects
    assert index is not None
    for i, text in enumerate(QUERIES):
        before = len(used)
        got = _answers(store, text)
        assert (len(used) > before) == (i < INDEXED), text
        store.facts.subjects = None
        try:
            assert got == _answers(store, text), text
        finally:
            store.facts.subjects = index
        assert got == _ox_answers(oxs, text), text
    return len(_answers(store, QUERIES[0]))  # type: ignore[arg-type]


def test_queries_read_the_index_across_updates(tmp_path: Path, days, monkeypatch) -> None:
    """The reference rules on three days: the index is made after add, merged after the next
    add, made again after a retraction, used by a reader, and ignored once stale."""
    parties, files = days
    monkeypatch.setattr(subjects, "INDEX_ROWS", 20)
    from graphcrime.sparql import translate
    monkeypatch.setattr(translate, "KEY_SHARE", 1.0)
    used: list[int] = []
    real = subjects.rows_table
    monkeypatch.setattr(subjects, "rows_table", lambda *a: used.append(1) or real(*a))
    from graphcrime.engine import termfiles
    named: list[int] = []
    real_terms = termfiles.TermFiles.table
    monkeypatch.setattr(termfiles.TermFiles, "table",
                        lambda *a: named.append(1) or real_terms(*a))

    path = tmp_path / "store"
    gc.Store.create(path, rules=RULES, params=PARAMS).close()
    with gc.Store.open(path) as store:
        store.add(parties, files[0])
        sizes = [_same_three_ways(store, tmp_path, used)]
        store.add(files[1])
        sizes.append(_same_three_ways(store, tmp_path, used))
        store.retract(files[0])
        sizes.append(_same_three_ways(store, tmp_path, used))
    with gc.Store.open(path, read_only=True) as reader:
        assert reader.facts.subjects is not None
        info = reader.info()["subject_index"]
        assert info["current"] and info["tables"] > 3 and info["size_bytes"] > 0
        sizes.append(_same_three_ways(reader, tmp_path, used))
    assert sizes[1] > 100 and sizes[2] > 100, sizes  # there are suspicious chains to read
    assert len(named) >= 4 * (INDEXED - 1)  # answers' terms read from the term files

    manifest = path / "subjects" / "manifest.json"
    doc = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**doc, "generation": "an older state"}))
    with gc.Store.open(path, read_only=True) as reader:
        assert reader.facts.subjects is None  # scanned: answers as before
        assert not reader.info()["subject_index"]["current"]
        n = len(used)
        assert _answers(reader, QUERIES[0]) == _ox_answers(_oxigraph(reader, tmp_path),
                                                           QUERIES[0])
        assert len(used) == n


@pytest.mark.parametrize("share", [0.0])
def test_many_subjects_scan(tmp_path: Path, days, monkeypatch, share: float) -> None:
    """More subjects than KEY_SHARE of the indexed rows: the query scans (same answer)."""
    parties, files = days
    monkeypatch.setattr(subjects, "INDEX_ROWS", 20)
    from graphcrime.sparql import translate
    monkeypatch.setattr(translate, "KEY_SHARE", share)
    used: list[int] = []
    real = subjects.rows_table
    monkeypatch.setattr(subjects, "rows_table", lambda *a: used.append(1) or real(*a))
    path = tmp_path / "store"
    gc.Store.create(path, rules=RULES, params=PARAMS).close()
    with gc.Store.open(path) as store:
        store.add(parties, files[0])
        assert store.facts.subjects is not None and store.facts.subjects.tables
        got = _answers(store, QUERIES[0])
        assert not used and got == _ox_answers(_oxigraph(store, tmp_path), QUERIES[0])


def test_term_files_give_the_dictionary_rows(tmp_path: Path) -> None:
    """A table of terms read from the segment files equals the view ``terms`` (every column:
    kinds, lexical forms, datatypes, languages, typed values, hashes); the hash runs find
    every term and no other; a later segment and hash run are read with the first."""
    from graphcrime.engine.termfiles import TermFiles, append, hash_runs
    from graphcrime.rdf.dictionary import intern_values

    con = duckdb.connect()
    create_terms(con)
    x = "http://www.w3.org/2001/XMLSchema#"
    first = ["<http://e/a>", "_:b1", '"plain"', '"chat"@fr', f'"7"^^<{x}integer>',
             f'"3.50"^^<{x}decimal>', f'"2021-07-27T10:00:00"^^<{x}dateTime>',
             f'"true"^^<{x}boolean>', f'"x"^^<{x}string>', '"tab\\there"']
    ids = intern_values(con, first)
    segments = append(tmp_path, con, [], "g1")
    hashes = hash_runs(tmp_path, con, None, len(first), "g1")
    later = ['"later"@en', f'"-1.5e3"^^<{x}double>', "<http://e/z>"]
    ids += intern_values(con, later)
    n = len(first) + len(later)
    files = TermFiles(tmp_path, append(tmp_path, con, segments, "g2"),
                      hash_runs(tmp_path, con, hashes, n, "g2"))
    assert len(files.segments) == 2 and len(files.hashes) == 2
    name = files.table(con, list(range(n))[::-1])
    assert con.execute(f"SELECT * FROM {name} ORDER BY id").fetchall() == \
        con.execute("SELECT * FROM terms ORDER BY id").fetchall()
    assert files.ids(con, [*first, *later, "<http://e/none>"]) == [*ids, None]
