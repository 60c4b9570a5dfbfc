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
