"""The Spark fact store: the embedded engine's tables as Spark temp views.

Same layout as :class:`graphcrime.engine.store.FactStore`: ``terms`` (the dictionary),
``p_<id>(s, o, r)`` per predicate and ``tt_<n>(c0.., r)`` per tuple table, integer-encoded.
Each table is a list of *chunks* (one per insert, so one per round), each cut from its
lineage: a local checkpoint in local mode, a Parquet folder under the checkpoint directory on
a cluster (so losing an executor loses no facts). Each chunk carries :class:`ChunkStats`
(rounds, rows, min/max per column), which the semi-naive pruning reads instead of the data.
The temp view of a table is the union of its chunks, so the plan layer's SQL runs unchanged
(after translation by :mod:`graphcrime.spark.dialect`) against the same table names.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from collections.abc import Iterable
from typing import Any

from graphcrime.errors import DataError
from graphcrime.spark.chunks import ChunkStats, merges, stats_aggs, stats_of
from graphcrime.spark.terms import TERMS_DDL, TermHashes, new_terms

#: a table of more chunks than this is compacted (the chunks of its newest round stay apart)
MAX_CHUNKS = 8
#: a compacted chunk gets one partition per this many rows
PART_ROWS = 1_000_000


class SparkFactStore:
    """Triples, tuples and terms as Spark DataFrames registered as temp views."""

    def __init__(self, spark: Any) -> None:
        from graphcrime.spark.session import configure

        self.spark = configure(spark)
        self.preds: dict[int, str] = {}
        self.tuple_tables: dict[tuple[str, int], str] = {}
        self.chunks: dict[str, list[Any]] = {}
        self.stats: dict[str, list[ChunkStats | None]] = {}
        self.schemas: dict[str, str] = {}
        self.n_terms = 0
        #: hashes of every term's string while only the driver adds terms (see TermHashes)
        self.hashes = TermHashes()
        self.max_round = 0
        self._ids: dict[str, int] = {}
        self._views: set[str] = set()
        base = spark.sparkContext.getCheckpointDir() or tempfile.mkdtemp(prefix="gc-spark-")
        self.chunk_dir = f"{base.rstrip('/')}/graphcrime-{uuid.uuid4().hex[:12]}"
        self._n_chunks = 0
        self.compact_seconds = 0.0  # spent compacting chunks so far
        self.local = spark.sparkContext.master.startswith("local")
        self._table("terms", TERMS_DDL)

    # -- tables ---------------------------------------------------------------------------
    def _table(self, name: str, ddl: str) -> str:
        if name not in self.chunks:
            self.chunks[name], self.stats[name] = [], []
            self.schemas[name] = ddl
            self._publish(name)
        return name

    @staticmethod
    def _union(parts: list[Any]) -> Any:
        df = parts[0]
        for p in parts[1:]:
            df = df.unionByName(p)
        return df

    def _publish(self, name: str) -> None:
        parts = self.chunks[name]
        df = self._union(parts) if parts else self.spark.createDataFrame([], self.schemas[name])
        df.createOrReplaceTempView(name)
        self._views.add(name)

    def frame(self, name: str) -> Any:
        """The DataFrame of table ``name`` (all chunks)."""
        return self.spark.table(name)

    def persist(self, df: Any) -> Any:
        """Materialise ``df`` as a chunk and return it (lineage cut here).

        In local mode the chunk is a local checkpoint (executor memory, spilling to disk);
        on a cluster it is written as Parquet under the checkpoint folder and read back, so
        losing an executor loses no facts.
        """
        if self.local:
            return _without_estimates(df.localCheckpoint(eager=True))
        self._n_chunks += 1
        path = f"{self.chunk_dir}/c{self._n_chunks}"
        df.write.mode("overwrite").parquet(path)
        return self.spark.read.parquet(path)

    def append(self, name: str, df: Any, round_: int | None = None,
               stats: ChunkStats | None = None) -> None:
        """Add a checkpointed chunk (of one round, described by ``stats``) to table ``name``
        and republish its view. Past :data:`MAX_CHUNKS` the chunks of earlier rounds are
        compacted (plans over long unions get slow to analyse): the input's into one, the
        derived ones into another."""
        chunks, stats_ = self.chunks[name], self.stats[name]
        chunks.append(df)
        stats_.append(stats)
        if len(chunks) > MAX_CHUNKS:
            groups = merges(stats_)
            if groups:
                t0 = time.perf_counter()
                done = set().union(*groups)
                keep = [i for i in range(len(chunks)) if i not in done]
                known = [[stats_[i] for i in g] for g in groups]
                self.chunks[name] = [self.persist(self._merged([chunks[i] for i in g],
                                                               [stats_[i] for i in g]))
                                     for g in groups] + [chunks[i] for i in keep]
                self.stats[name] = [None if any(s is None for s in k) else
                                    ChunkStats.merge(k) for k in known  # type: ignore[arg-type]
                                    ] + [stats_[i] for i in keep]
                self.compact_seconds += time.perf_counter() - t0
        if round_ is not None:
            self.max_round = max(self.max_round, round_)
        self._publish(name)

    def _merged(self, parts: list[Any], stats: list[ChunkStats | None]) -> Any:
        """The union of ``parts`` in few partitions: a union has the partitions of all its
        parts, and compacted chunks made of compacted chunks had hundreds of tiny ones (a
        task each, in every scan); one partition per :data:`PART_ROWS` rows, at least the
        default parallelism."""
        df = self._union(parts)
        rows = sum(s.n for s in stats if s is not None) if all(
            s is not None for s in stats) else None
        n = self.spark.sparkContext.defaultParallelism
        if rows is not None:
            n = max(n, rows // PART_ROWS + 1)
        return df.coalesce(n)  # never more partitions than the parts had

    def ranges(self, name: str, keep: Any, cols: list[str]) -> tuple | None:
        """``(min(c1), max(c1), ...)`` (``(n, n)`` without ``cols``) over the chunks of
        ``name`` whose rounds ``keep(lo, hi)`` accepts, from chunk statistics alone; None
        when a chunk has none."""
        picked = [s for s in self.stats[name] if s is None or keep(s.rlo, s.rhi)]
        chosen = [s for s in picked if s is not None]
        if len(chosen) < len(picked):
            return None
        if not cols:
            n = sum(s.n for s in chosen)
            return (n, n)
        out: list[int | None] = []
        for c in cols:
            los = [s.lo.get(c) for s in chosen if s.n]
            his = [s.hi.get(c) for s in chosen if s.n]
            out += [min((v for v in los if v is not None), default=None),
                    max((v for v in his if v is not None), default=None)]
        return tuple(out)

    def pred_table(self, p: int) -> str:
        """The table of predicate ``p``, created empty on first use."""
        name = self.preds.get(p)
        if name is None:
            name = self.preds[p] = self._table(f"p_{p}", "s LONG, o LONG, r INT")
        return name

    def tuple_table(self, name: str, arity: int) -> str:
        """The table of tuple table ``name`` with ``arity`` columns, created on first use."""
        key = (name, arity)
        table = self.tuple_tables.get(key)
        if table is None:
            table = f"tt_{len(self.tuple_tables)}"
            cols = "".join(f"c{i} LONG, " for i in range(arity))
            self.tuple_tables[key] = self._table(table, cols + "r INT")
        return table

    # -- terms ----------------------------------------------------------------------------
    def add_terms(self, rows: Any, round_: int, persist: bool = False) -> None:
        """Add new ``terms`` rows given as Arrow (ids from :attr:`n_terms` on, typed: see
        :func:`typed_terms`) as up to two chunks with statistics: the literals and the other
        terms apart (lookups of typed values read the literals' chunks only). On a cluster,
        or with ``persist``, the chunks are persisted; in local mode a frame made from Arrow
        has no lineage to cut."""
        import pyarrow.compute as pc

        kinds = rows.column("kind")
        for part in (rows.filter(pc.equal(kinds, 2)), rows.filter(pc.not_equal(kinds, 2))):
            if not part.num_rows:
                continue
            ids, ks = pc.min_max(part.column("id")), pc.min_max(part.column("kind"))
            df = self.spark.createDataFrame(part, TERMS_DDL)
            if persist or not self.local:
                df = self.persist(df)
            lo = {"id": ids["min"].as_py(), "kind": ks["min"].as_py()}
            hi = {"id": ids["max"].as_py(), "kind": ks["max"].as_py()}
            self.append("terms", df, None, ChunkStats(round_, round_, part.num_rows, lo, hi))
        self.n_terms += rows.num_rows
        self.hashes.add(rows.column("nt"))

    def intern_frame(self, df: Any, column: str) -> int:
        """Add every distinct non-NULL nt of ``df[column]`` that is not a term yet."""
        from pyspark.sql import functions as F

        cand = df.select(F.col(column).alias("nt")).where(F.col("nt").isNotNull()).distinct()
        fresh = cand.join(self.frame("terms").select("nt"), "nt", "left_anti")
        rows, n = new_terms(fresh, self.n_terms)
        if n:
            self.hashes.forget()  # terms made in Spark jobs
            self.append("terms", self.persist(rows))
            self.n_terms += n
        return n

    def intern_lookup(self, df: Any, column: str) -> Any:
        """Intern the distinct non-NULL nts of ``df[column]`` (a small frame) and return
        ``(nt, id)`` of each of them, small: the dictionary is streamed past the candidates
        (broadcast), never shuffled."""
        from pyspark.sql import functions as F

        cand = df.select(F.col(column).alias("nt")).where(F.col("nt").isNotNull()).distinct() \
            .localCheckpoint(eager=True)
        hits = self.frame("terms").select("nt", "id").join(F.broadcast(cand), "nt") \
            .localCheckpoint(eager=True)
        fresh = cand.join(F.broadcast(hits.select("nt")), "nt", "left_anti")
        rows, n = new_terms(fresh, self.n_terms)
        if not n:
            return hits
        self.hashes.forget()  # terms made in Spark jobs
        rows = self.persist(rows)
        self.append("terms", rows)
        self.n_terms += n
        return hits.unionByName(rows.select("nt", "id"))

    def intern(self, nts: Iterable[str]) -> list[int]:
        """Ids of canonical N-Triples terms, adding the missing ones (small lists only)."""
        from graphcrime.rdf.dictionary import _check_nt
        from graphcrime.spark.terms import typed_terms

        nts = list(nts)
        ask = list(dict.fromkeys(nt for nt in nts if nt not in self._ids))
        if ask:
            for nt in ask:
                _check_nt(nt)
            self._ids.update(self.lookup(ask))
            missing = [nt for nt in ask if nt not in self._ids]
            if missing:
                self._ids.update({nt: self.n_terms + i for i, nt in enumerate(missing)})
                self.add_terms(typed_terms(missing, self.n_terms), self.max_round, persist=True)
        return [self._ids[nt] for nt in nts]

    def lookup(self, nts: list[str]) -> dict[str, int]:
        """Ids of the known terms among ``nts`` (small lists)."""
        from pyspark.sql import functions as F

        rows = self.frame("terms").where(F.col("nt").isin(list(nts))).select("nt", "id").collect()
        return {r["nt"]: int(r["id"]) for r in rows}

    def term_id(self, nt: str) -> int | None:
        return self.lookup([nt]).get(nt)

    # -- adding facts ---------------------------------------------------------------------
    def add_facts(self, facts: Any, round_: int, preds: list[int] | None = None, *,
                  small: bool = False, minted_from: int | None = None) -> dict[int, int]:
        """Add triples ``(p, s, o)`` of ids not stored yet as round ``round_``; returns the
        number added per predicate. One anti join over every target table, one checkpoint,
        one count per predicate; each predicate's chunk is a filter of that checkpoint.
        ``preds``, when known, are the only predicates ``facts`` can have. ``small`` says
        ``facts`` are few: the stored facts are then streamed past them (a broadcast semi
        join finds those already stored) instead of shuffled. When every subject is at
        least ``minted_from`` (terms minted for these facts), no stored fact can equal one
        and the check is skipped."""
        from pyspark.sql import functions as F

        facts = facts.select(F.col("p").cast("long"), F.col("s").cast("long"),
                             F.col("o").cast("long")).distinct()
        known = [self.frame(t).select(F.lit(p).cast("long").alias("p"), "s", "o")
                 for p, t in self.preds.items() if self.chunks[t]
                 and (preds is None or p in preds)]
        if known and minted_from is not None:
            facts = facts.localCheckpoint(eager=True)
            lo = facts.agg(F.min("s")).first()[0]
            if lo is None or lo >= minted_from:
                known = []
        if known:
            old = known[0]
            for k in known[1:]:
                old = old.unionByName(k)
            keys = ["p", "s", "o"]
            if small:
                facts = facts.localCheckpoint(eager=True)
                stored = old.join(F.broadcast(facts), keys, "left_semi")
                facts = facts.join(F.broadcast(stored), keys, "left_anti")
            else:
                facts = facts.join(old, keys, "left_anti")
        new = self.persist(facts.withColumn("r", F.lit(round_)))
        rows = new.groupBy("p").agg(*stats_aggs(["s", "o"])).collect()
        counts = {}
        for row in rows:
            p = int(row["p"])
            counts[p] = int(row["n"])
            self.append(self.pred_table(p), new.where(F.col("p") == p).select("s", "o", "r"),
                        round_, stats_of(row, ["s", "o"], round_))
        return counts

    def add_encoded(self, triples: Any) -> int:
        """Move integer triples ``(s, p, o)`` into the predicate tables as round 0."""
        return sum(self.add_facts(triples, 0).values())

    def add_arrow(self, terms: Any, triples: Any) -> int:
        """Fill an empty store from Arrow tables made on the driver (:func:`load_encoded`):
        ``terms`` (dense ids from 0) and distinct ``triples(s, p, o)`` of those ids, as
        round 0: one chunk per predicate, each made from that predicate's rows alone (a
        table's scans do not read the other predicates' rows). Returns the triples added."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.n_terms or any(self.chunks[t] for t in self.preds.values()):
            raise ValueError("add_arrow needs an empty store")
        self.add_terms(terms, 0, persist=True)
        for p in pc.unique(triples.column("p")).to_pylist():
            rows = triples.filter(pc.equal(triples.column("p"), p))
            n = rows.num_rows
            part = pa.table({"s": rows.column("s"), "o": rows.column("o"),
                             "r": pa.array(np.zeros(n, np.int32))})
            s, o = pc.min_max(part.column("s")), pc.min_max(part.column("o"))
            chunk = self.persist(self.spark.createDataFrame(part, "s LONG, o LONG, r INT"))
            self.append(self.pred_table(int(p)), chunk, 0, ChunkStats(
                0, 0, n, {"s": s["min"].as_py(), "o": o["min"].as_py()},
                {"s": s["max"].as_py(), "o": o["max"].as_py()}))
        return triples.num_rows

    def add_nt_triples(self, df: Any) -> int:
        """Intern and add triples given as canonical nt strings ``(s, p, o)``."""
        from pyspark.sql import functions as F

        df = df.localCheckpoint(eager=True)
        terms_cols = df.select(F.explode(F.array("s", "p", "o")).alias("nt"))
        self.intern_frame(terms_cols, "nt")
        t = self.frame("terms").select("nt", "id")
        enc = (df.join(t.withColumnsRenamed({"nt": "s", "id": "si"}), "s")
               .join(t.withColumnsRenamed({"nt": "p", "id": "pi"}), "p")
               .join(t.withColumnsRenamed({"nt": "o", "id": "oi"}), "o")
               .select(F.col("si").alias("s"), F.col("pi").alias("p"), F.col("oi").alias("o")))
        return self.add_encoded(enc)

    def add_rows(self, table: str, rows: list[tuple[int, ...]], names: list[str]) -> int:
        """Add a few id rows to ``table`` (program facts, parameters) as round 0."""
        if not rows:
            return 0
        ddl = ", ".join(f"{n} LONG" for n in names) or "x INT"
        return self.add_new(table, self.spark.createDataFrame(rows if names else [(1,)], ddl),
                            names, 0)

    def add_new(self, table: str, df: Any, names: list[str], round_: int) -> int:
        """Add the distinct rows of ``df`` (columns ``names``; for a table without columns,
        any row stands for the empty tuple) that ``table`` lacks, as round ``round_``, as
        one chunk; returns how many."""
        from pyspark.sql import functions as F

        if names:
            df = df.select(*names).distinct()
            if self.chunks[table]:
                df = df.join(self.frame(table).select(*names), names, "left_anti")
        else:
            if self.chunks[table]:
                return 0
            df = df.limit(1).drop(*df.columns)
        chunk = self.persist(df.withColumn("r", F.lit(round_)))
        info = stats_of(chunk.agg(*stats_aggs(names)).collect()[0], names, round_)
        if info.n:
            self.append(table, chunk, round_, info)
        return info.n

    # -- statistics -----------------------------------------------------------------------
    def count(self, derived: bool | None = None) -> int:
        """Stored triples and tuples: all, only derived (r > 0) or only input (r = 0)."""
        total = 0
        for name in list(self.preds.values()) + list(self.tuple_tables.values()):
            df = self.frame(name)
            if derived is not None:
                df = df.where("r > 0" if derived else "r = 0")
            total += df.count()
        return total

    def pattern_frame(self, derived_only: bool = False) -> Any:
        """DataFrame ``(s, p, o)`` of every (or every derived) triple, as ids."""
        from pyspark.sql import functions as F

        parts = []
        for p, t in sorted(self.preds.items()):
            df = self.frame(t)
            if derived_only:
                df = df.where("r > 0")
            parts.append(df.select("s", F.lit(p).cast("long").alias("p"), "o"))
        if not parts:
            return self.spark.createDataFrame([], "s LONG, p LONG, o LONG")
        out = parts[0]
        for x in parts[1:]:
            out = out.unionByName(x)
        return out

    def nt_frame(self, derived_only: bool = False) -> Any:
        """DataFrame ``(s, p, o)`` of canonical nt strings."""
        t = self.frame("terms").select("id", "nt")
        ids = self.pattern_frame(derived_only)
        return (ids.join(t.withColumnsRenamed({"id": "s", "nt": "sn"}), "s")
                .join(t.withColumnsRenamed({"id": "p", "nt": "pn"}), "p")
                .join(t.withColumnsRenamed({"id": "o", "nt": "on"}), "o")
                .selectExpr("sn AS s", "pn AS p", "on AS o"))

    def close(self) -> None:
        self.hashes.close()
        for name in self._views:
            self.spark.catalog.dropTempView(name)
        self.chunks.clear()
        if self.chunk_dir.startswith(("file:", "/")):
            shutil.rmtree(self.chunk_dir.removeprefix("file:"), ignore_errors=True)


def _without_estimates(df: Any) -> Any:
    """``df`` (a checkpoint) as a new leaf that forgets the size estimate of its origin.

    A local checkpoint keeps the estimated size of the plan that made it, and the estimates
    of chained joins grow round after round until computing them exhausts the heap; a leaf
    made from the checkpoint's rows is estimated like any other scan of unknown size.
    """
    from pyspark.sql import DataFrame

    jdf = df._jdf
    leaf = df.sparkSession._jsparkSession.internalCreateDataFrame(
        jdf.queryExecution().toRdd(), jdf.schema(), False)
    return DataFrame(leaf, df.sparkSession)


def check_no_errors(df: Any) -> None:
    """Raise the first DataError a parse task reported in column ``err`` (JSON)."""
    import json

    bad = df.where("err IS NOT NULL").select("err").limit(1).collect()
    if bad:
        info = json.loads(bad[0]["err"])
        raise DataError(info.get("message", "bad input"), file=info.get("file"),
                        line=info.get("line"), col=info.get("col"), hint=info.get("hint"))
