"""Rule applications on Spark joins that read only the chunks able to join the delta.

A semi-naive variant joins a delta with whole tables; in the chain rules those tables grow
every round (a chain's attributes), yet the delta's rows join only the rows of the chains it
extends, all minted in one earlier round and so held by that round's chunk. From chunk
statistics alone (no job): the delta's min/max of each of its variables, and for every
other atom of the body sharing a variable with it, the chunks whose min/max of that column
overlaps the delta's range. While the rule's query is analysed, each table's view is the
union of the chunks some atom of some variant may need; the views are restored right after
(the analysed query keeps the narrowed plan). The shuffle of a big round then moves the
delta and the chunks it can join, not the tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from graphcrime.lang.ast import Rule
from graphcrime.spark.driver import relations

if TYPE_CHECKING:
    from graphcrime.spark.chunks import ChunkStats
    from graphcrime.spark.evaluate import SparkEvaluator
    from graphcrime.spark.store import SparkFactStore

ALL_ROUNDS = (0, 1 << 30)


def _overlaps(s: ChunkStats, col: str, lo: int | None, hi: int | None) -> bool:
    if col not in s.lo:
        return True
    clo, chi = s.lo[col], s.hi[col]
    if clo is None or chi is None or lo is None or hi is None:
        return False  # an empty chunk, or an empty delta: nothing joins
    return clo <= hi and chi >= lo


def needed_chunks(ev: SparkEvaluator, rule: Rule, variants: list[dict[int, str]],
                  joined: tuple[Any, ...]) -> dict[str, list[int]]:
    """Per table of the store that can be narrowed, the positions of the chunks the
    variants may read (tables of which every chunk may be read are left out)."""
    st = ev.store
    need: dict[str, set[int]] = {}
    for versions in variants:
        rels = relations(ev, rule, versions, joined)
        if rels is None:
            return {}
        ranges: dict[str, tuple[int | None, int | None]] = {}
        for d in rels:
            if not d.delta or d.table not in st.chunks:
                continue
            a, b = d.rounds or ALL_ROUNDS
            for c, v in d.cols.items():
                got = st.ranges(d.table, lambda lo, hi, a=a, b=b: lo < b and hi >= a, [c])
                if got is None:
                    continue
                lo, hi = got
                if v in ranges:  # a variable of two deltas: the intersection
                    plo, phi = ranges[v]
                    lo = None if lo is None or plo is None else max(lo, plo)
                    hi = None if hi is None or phi is None else min(hi, phi)
                ranges[v] = (lo, hi)
        for rel in rels:
            if rel.table not in st.chunks:
                continue
            a, b = rel.rounds or ALL_ROUNDS
            keep = need.setdefault(rel.table, set())
            for i, s in enumerate(st.stats[rel.table]):
                if s is None:
                    keep.add(i)
                elif s.rlo < b and s.rhi >= a and (rel.delta or all(
                        _overlaps(s, c, *ranges[v]) for c, v in rel.cols.items()
                        if v in ranges)):
                    keep.add(i)
    return {t: sorted(ix) for t, ix in need.items() if len(ix) < len(st.chunks[t])}


@contextmanager
def narrowed(store: SparkFactStore, need: dict[str, list[int]]) -> Iterator[None]:
    """Each table of ``need`` published as the union of those chunks only, until exit."""
    try:
        for table, picked in need.items():
            chunks = store.chunks[table]
            df = store._union([chunks[i] for i in picked]) if picked else \
                store.spark.createDataFrame([], store.schemas[table])
            df.createOrReplaceTempView(table)
        yield
    finally:
        for table in need:
            store._publish(table)
