"""What the Spark store knows about its chunks without reading them, and what it does with it.

A chunk (see :mod:`graphcrime.spark.store`) carries :class:`ChunkStats`: its rounds, rows
and min/max per column (for dictionary chunks: of ``id`` and ``kind``). From them alone the
semi-naive pruning bounds table versions, the driver rounds and the Spark joins skip chunks
that cannot hold a key (:func:`may_hold`), and compaction picks what to merge
(:func:`merges`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ChunkStats:
    """What is known about a chunk without reading it: rounds, rows, min/max per column."""

    rlo: int
    rhi: int
    n: int
    lo: dict[str, int | None] = field(default_factory=dict)
    hi: dict[str, int | None] = field(default_factory=dict)

    @staticmethod
    def merge(parts: list[ChunkStats]) -> ChunkStats:
        cols = parts[0].lo.keys()
        los = {c: [v for p in parts if (v := p.lo.get(c)) is not None] for c in cols}
        his = {c: [v for p in parts if (v := p.hi.get(c)) is not None] for c in cols}
        return ChunkStats(min(p.rlo for p in parts), max(p.rhi for p in parts),
                          sum(p.n for p in parts), {c: min(v) if v else None
                                                    for c, v in los.items()},
                          {c: max(v) if v else None for c, v in his.items()})


def kind_of(s: ChunkStats) -> str:
    """What a chunk of ``terms`` holds (by its min/max ``kind``): literals, other terms or
    either ("" for chunks of other tables)."""
    if "kind" not in s.lo:
        return ""
    return "lit" if s.lo["kind"] == s.hi["kind"] == 2 else \
        "other" if s.hi["kind"] is not None and s.hi["kind"] < 2 else "any"


def merges(stats: list[ChunkStats | None]) -> list[list[int]]:
    """The groups of chunks (positions) to compact, each into one chunk.

    Chunks without statistics: all of them into one. Else the chunks of the newest round stay
    apart, and the others are grouped by what they hold: the input's (round 0) apart from
    derived ones (a chunk mixing both has id ranges that defeat the semi-naive pruning of the
    variants reading a stratum's own rows, ``full_in``), and in ``terms`` literals apart from
    other terms (the typed values a FILTER reads are then found without reading IRIs). In a
    group, a chunk holding at least as many rows as the others together stays as it is (size
    tiers: a row is copied O(log n) times, not at every compaction)."""
    if any(s is None for s in stats):
        return [list(range(len(stats)))]
    known = [s for s in stats if s is not None]
    newest = max(s.rhi for s in known)
    by: dict[tuple[bool, str], list[int]] = {}
    for i, s in enumerate(known):
        if s.rhi != newest:
            by.setdefault((s.rhi == 0, kind_of(s)), []).append(i)
    out = []
    for group in by.values():
        group.sort(key=lambda i: known[i].n, reverse=True)
        rest = group[1:]
        if known[group[0]].n >= sum(known[i].n for i in rest):
            if len(rest) > 1:
                out.append(sorted(rest))
        else:
            out.append(sorted(group))
    return out


def stats_aggs(cols: list[str]) -> list[Any]:
    """Aggregates giving ``n`` and ``lo_<c>``/``hi_<c>`` for :func:`stats_of`."""
    from pyspark.sql import functions as F

    return [F.count("*").alias("n")] + [f(c).alias(f"{k}_{c}") for c in cols
                                         for k, f in (("lo", F.min), ("hi", F.max))]


def stats_of(row: Any, cols: list[str], round_: int) -> ChunkStats:
    return ChunkStats(round_, round_, int(row["n"]), {c: row[f"lo_{c}"] for c in cols},
                      {c: row[f"hi_{c}"] for c in cols})


def may_hold(stats: Any, keys: dict[str, Any]) -> bool:
    """Whether a chunk of ``stats`` (:class:`ChunkStats`) can hold a row whose column ``c``
    is among ``keys[c]`` for every ``c`` (from its min/max alone)."""
    import numpy as np

    for c, values in keys.items():
        if c not in stats.lo:
            continue
        lo, hi = stats.lo[c], stats.hi[c]
        if lo is None or hi is None:
            return False  # no non-NULL value: no key can match
        arr = np.sort(values.to_numpy(zero_copy_only=False))
        at = np.searchsorted(arr, lo)
        if at >= len(arr) or arr[at] > hi:
            return False
    return True
