"""The term dictionary built with Spark: distinct N-Triples terms -> dense ids, typed columns.

Ids are dense from 0, as in the embedded engine: new terms get ``start + rank`` where the rank
comes from per-partition counts (``spark_partition_id`` plus ``monotonically_increasing_id``
and a tiny offsets table), so no single partition has to number everything. The typed
columns (``kind, lex, dt, lang, num, ts, bool``) are computed per Arrow batch by DuckDB with
the very SQL the embedded dictionary uses (:func:`graphcrime.rdf.dictionary.term_columns_sql`),
so both engines read every literal the same way.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

TERMS_DDL = ("id LONG, nt STRING, kind INT, lex STRING, dt STRING, lang STRING, num DOUBLE, "
             "ts TIMESTAMP, bool BOOLEAN")


#: at most this many new terms are typed on the driver (one DuckDB query, no Python workers);
#: ``GC_SPARK_LOCAL_TERMS=0`` types every batch in Spark tasks (the cluster test does)
LOCAL_TERMS = int(os.environ.get("GC_SPARK_LOCAL_TERMS", 100_000))
#: ... in local mode (the driver is the machine the tasks run on) up to this many
LOCAL_MODE_TERMS = int(os.environ.get("GC_SPARK_LOCAL_TERMS", 5_000_000))


def _schema() -> Any:
    import pyarrow as pa

    return pa.schema([("id", pa.int64()), ("nt", pa.string()), ("kind", pa.int32()),
                      ("lex", pa.string()), ("dt", pa.string()), ("lang", pa.string()),
                      ("num", pa.float64()), ("ts", pa.timestamp("us", tz="UTC")),
                      ("bool", pa.bool_())])


def typed_table(con: Any, ids_nts: Any) -> Any:
    """Arrow ``terms`` rows for an Arrow table ``(id, nt)``, computed by DuckDB ``con``."""
    from graphcrime.rdf.dictionary import term_columns_sql

    con.register("_gc_batch", ids_nts)
    try:
        out = con.sql("SELECT id::BIGINT AS id, nt, kind::INTEGER AS kind, lex, dt, lang, "
                          "num::DOUBLE AS num, ts::TIMESTAMP AS ts, bool::BOOLEAN AS bool FROM ("
                          + term_columns_sql("SELECT id, nt FROM _gc_batch", typed=True)
                          + ") AS x(id, nt, kind, lex, dt, lang, num, ts, bool)"
                          ).to_arrow_table()
    finally:
        con.unregister("_gc_batch")
    return out.cast(_schema())


def _typed_batches(batches: Iterator[Any]) -> Iterator[Any]:
    """mapInArrow body: (id, nt) batches -> full ``terms`` rows, computed by DuckDB."""
    import duckdb
    import pyarrow as pa

    con = duckdb.connect()
    for batch in batches:
        if batch.num_rows:
            yield from typed_table(con, pa.Table.from_batches([batch])).to_batches()


def dense_ids(df: Any, start: int, column: str = "id") -> tuple[Any, int]:
    """``df`` with a dense ``column`` numbered from ``start``; returns (frame, row count).

    ``df`` is checkpointed first so its partitions are stable between the two passes.
    """
    from pyspark.sql import functions as F

    spark = df.sparkSession
    df = df.withColumn("_pid", F.spark_partition_id()) \
        .withColumn("_mid", F.monotonically_increasing_id()).localCheckpoint(eager=True)
    parts = df.groupBy("_pid").agg(F.count("*").alias("n"), F.min("_mid").alias("lo")) \
        .orderBy("_pid").collect()
    rows, offset = [], start
    for p in parts:
        rows.append((int(p["_pid"]), offset - int(p["lo"])))
        offset += int(p["n"])
    if not rows:
        return df.drop("_pid", "_mid").withColumn(column, F.lit(0).cast("long")), 0
    shift = spark.createDataFrame(rows, "_pid INT, _shift LONG")
    out = df.join(F.broadcast(shift), "_pid") \
        .withColumn(column, (F.col("_mid") + F.col("_shift")).cast("long")) \
        .drop("_pid", "_mid", "_shift")
    return out, offset - start


def typed_terms(nts: Any, start: int) -> Any:
    """Arrow ``terms`` rows for new distinct nt strings (a list or an Arrow array), numbered
    from ``start`` and typed on the driver."""
    import duckdb
    import pyarrow as pa

    ids = pa.table({"id": pa.array(range(start, start + len(nts)), pa.int64()),
                    "nt": nts if isinstance(nts, (pa.Array, pa.ChunkedArray))
                    else pa.array(nts, pa.string())})
    with duckdb.connect() as con:
        return typed_table(con, ids)


def new_terms(nts: Any, start: int) -> tuple[Any, int]:
    """``terms`` rows for the distinct strings of single-column frame ``nts(nt)`` (all new).

    Up to :data:`LOCAL_TERMS` of them (:data:`LOCAL_MODE_TERMS` in local mode) are typed on
    the driver, more in Spark tasks. They are materialised first: a limit over the query
    itself ran it again in each of the growing jobs the limit takes.
    """
    from pyspark.sql import functions as F

    spark = nts.sparkSession
    limit = LOCAL_MODE_TERMS if spark.sparkContext.master.startswith("local") else LOCAL_TERMS
    fresh = nts.where(F.col("nt").isNotNull()).distinct().localCheckpoint(eager=True)
    few = fresh.limit(limit + 1).toArrow().column("nt")
    if not len(few):
        return None, 0
    if len(few) <= limit:
        return spark.createDataFrame(typed_terms(few.combine_chunks(), start), TERMS_DDL), \
            len(few)
    numbered, n = dense_ids(fresh, start)
    if n == 0:
        return None, 0
    typed = numbered.select("id", "nt").mapInArrow(_typed_batches, TERMS_DDL)
    return typed, n


class TermHashes:
    """The 64-bit hashes of every stored term's nt string, kept on the driver (8 bytes a
    term), so that a driver round asks Spark about the minted strings whose hash is known
    only (new chain IRIs: none) instead of reading every IRI of the dictionary. Terms added
    by Spark jobs are not seen here: :meth:`forget` then turns the filter off for good."""

    def __init__(self) -> None:
        self.parts: list[Any] = []  # sorted uint64 arrays
        self.known = True
        self._con: Any = None

    def _hash(self, nts: Any) -> Any:
        import duckdb
        import pyarrow as pa

        if self._con is None:
            self._con = duckdb.connect()
        self._con.register("_gc_h", pa.table({"nt": nts}))
        try:
            return self._con.sql("SELECT hash(nt) AS h FROM _gc_h").fetchnumpy()["h"]
        finally:
            self._con.unregister("_gc_h")

    def add(self, nts: Any) -> None:
        """Record new terms' strings (an Arrow array)."""
        import numpy as np

        if not self.known or not len(nts):
            return
        self.parts.append(np.sort(self._hash(nts)))
        if len(self.parts) > 8:
            self.parts = [np.sort(np.concatenate(self.parts))]

    def forget(self) -> None:
        self.known, self.parts = False, []

    def may_hold(self, nts: Any) -> Any:
        """Arrow mask: which strings may be terms (False: certainly not); None if unknown."""
        import numpy as np
        import pyarrow as pa

        if not self.known:
            return None
        h = self._hash(nts)
        hit = np.zeros(len(h), dtype=bool)
        for part in self.parts:
            at = np.minimum(np.searchsorted(part, h), max(len(part) - 1, 0))
            if len(part):
                hit |= part[at] == h
        return pa.array(hit)

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
