"""Chunk statistics of the Spark fact store: what semi-naive pruning reads instead of data."""

from __future__ import annotations

from typing import Any

from graphcrime.spark.store import MAX_CHUNKS, SparkFactStore


def test_ranges_per_round_survive_compaction(spark: Any) -> None:
    st = SparkFactStore(spark)
    try:
        p = 7
        rounds = MAX_CHUNKS + 4  # enough chunks to force compaction
        for r in range(rounds):
            facts = spark.createDataFrame([(p, 100 * r + i, 5 * r) for i in range(3)],
                                          "p LONG, s LONG, o LONG")
            assert st.add_facts(facts, r) == {p: 3}
        table = st.pred_table(p)
        assert len(st.chunks[table]) <= MAX_CHUNKS
        # the data, read back, is the oracle for every range
        rows = [tuple(x) for x in st.frame(table).collect()]
        assert len(rows) == 3 * rounds

        def want(keep: Any) -> tuple:
            sel = [(s, o) for s, o, r in rows if keep(r, r)]
            return (min(s for s, _ in sel), max(s for s, _ in sel),
                    min(o for _, o in sel), max(o for _, o in sel))

        k = rounds  # the round being evaluated next
        delta = st.ranges(table, lambda lo, hi: lo <= k - 1 <= hi, ["s", "o"])
        assert delta == want(lambda lo, hi: lo == k - 1)  # the newest round is kept apart
        old = st.ranges(table, lambda lo, hi: lo < k - 1, ["s", "o"])
        assert old == want(lambda lo, hi: lo < k - 1)
        assert st.ranges(table, lambda lo, hi: True, []) == (3 * rounds, 3 * rounds)
        assert st.ranges(table, lambda lo, hi: lo > k, ["s"]) == (None, None)
        # a fact already stored is not added again, and adds no chunk
        again = spark.createDataFrame([(p, 0, 0)], "p LONG, s LONG, o LONG")
        n_chunks = len(st.chunks[table])
        assert st.add_facts(again, k) == {}
        assert len(st.chunks[table]) == n_chunks
    finally:
        st.close()


def test_compaction_keeps_input_newest_and_kinds_apart_and_big_chunks_as_they_are() -> None:
    from graphcrime.spark.chunks import ChunkStats, merges

    def c(r: int, n: int, kind: tuple[int, int] | None = None) -> ChunkStats:
        if kind is None:
            return ChunkStats(r, r, n, {"s": 0}, {"s": 1})
        return ChunkStats(r, r, n, {"id": 0, "kind": kind[0]}, {"id": 1, "kind": kind[1]})

    # input (0), a big derived chunk, small derived ones, the newest round (9)
    stats = [c(0, 500), c(1, 100), c(2, 10), c(3, 20), c(4, 5), c(9, 1)]
    assert merges(stats) == [[2, 3, 4]]  # 100 >= 10 + 20 + 5: the big one stays
    stats = [c(0, 500), c(1, 30), c(2, 10), c(3, 25), c(9, 1)]
    assert merges(stats) == [[1, 2, 3]]  # 30 < 35: all derived ones, never input/newest
    assert merges([c(0, 5), None, c(2, 1)]) == [[0, 1, 2]]  # without statistics: all
    # dictionary chunks: literals (kind 2) apart from IRIs and blank nodes (0-1)
    terms = [c(0, 9, (2, 2)), c(0, 9, (0, 1)), c(1, 3, (2, 2)), c(1, 50, (0, 0)),
             c(2, 2, (2, 2)), c(2, 40, (0, 0)), c(3, 1, (2, 2)), c(3, 30, (0, 0)),
             c(4, 1, (2, 2))]
    assert sorted(merges(terms)) == [[3, 5, 7], [4, 6]]  # 3 >= 2 + 1 stays; 50 < 70


def test_driver_term_lookup_finds_literals_and_iris_across_chunks(spark: Any) -> None:
    """Ids are looked up in the literals' chunks first, then (the rest) in the others':
    every asked id's row comes back once, whatever chunk holds it."""
    from types import SimpleNamespace

    import pyarrow as pa

    from graphcrime.spark.driver import DriverRound
    from graphcrime.spark.terms import typed_terms

    st = SparkFactStore(spark)
    dr = DriverRound(SimpleNamespace(store=st, spark=spark))  # type: ignore[arg-type]
    try:
        nts = [[f'"{r}"^^<http://www.w3.org/2001/XMLSchema#integer>', f"<http://e/c{r}>",
                f"_:b{r}", f'"x{r}"'] for r in range(MAX_CHUNKS + 3)]
        for r, batch in enumerate(nts):  # ids interleave literals and IRIs in every round
            st.add_terms(typed_terms(batch, st.n_terms), r)
        assert len(st.chunks["terms"]) <= MAX_CHUNKS
        want = [1, 4, 5, 8, 14, st.n_terms - 1, st.n_terms + 5]  # the last is no term
        got = dr._term_rows(pa.array(want, pa.int64()))
        flat = [nt for batch in nts for nt in batch]
        assert sorted(zip(got.column("id").to_pylist(), got.column("nt").to_pylist(),
                          strict=True)) == [(i, flat[i]) for i in sorted(want[:-1])]
        assert got.column("num").to_pylist()[got.column("id").to_pylist().index(4)] == 1.0
    finally:
        dr.close()
        st.close()


def test_term_hashes_never_deny_a_stored_term() -> None:
    import pyarrow as pa

    from graphcrime.spark.terms import TermHashes

    th = TermHashes()
    try:
        batches = [[f"<http://e/c{r}_{i}>" for i in range(50)] + [f'"{r}"'] for r in range(12)]
        for b in batches:  # more batches than parts kept apart: merged on the way
            th.add(pa.array(b))
        stored = [nt for b in batches for nt in b]
        asked = pa.array(stored + [f"<http://e/new{i}>" for i in range(200)])
        mask = th.may_hold(asked).to_pylist()
        assert all(mask[:len(stored)])  # every stored term may be one
        assert sum(mask[len(stored):]) <= 1  # new strings: no (a 64-bit collision at most)
        th.forget()  # terms added where the hashes are not seen: no filter any more
        assert th.may_hold(asked) is None
    finally:
        th.close()
