"""The driver rounds' chunk pruning: a chunk is skipped only when no key can be in it."""

from __future__ import annotations

import pyarrow as pa

from graphcrime.spark.chunks import ChunkStats, may_hold


def test_a_chunk_is_read_when_a_key_falls_in_its_range_of_every_keyed_column() -> None:
    chunk = ChunkStats(3, 3, 10, {"s": 100, "o": 5}, {"s": 200, "o": 9})
    assert may_hold(chunk, {"s": pa.array([7, 150, 900])})
    assert may_hold(chunk, {"s": pa.array([100])}) and may_hold(chunk, {"s": pa.array([200])})
    assert not may_hold(chunk, {"s": pa.array([7, 99, 201, 900])})
    assert not may_hold(chunk, {"s": pa.array([150]), "o": pa.array([4, 10])})
    assert may_hold(chunk, {"s": pa.array([150]), "o": pa.array([9])})
    assert may_hold(chunk, {"c0": pa.array([1])})  # a column without statistics: read
    empty = ChunkStats(3, 3, 0, {"s": None}, {"s": None})
    assert not may_hold(empty, {"s": pa.array([1])})
