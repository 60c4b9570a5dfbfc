"""The Spark fact store: the embedded engine's tables as Spark temp views.

Same layout as :class:`graphcrime.engine.store.FactStore`: ``terms`` (the dictionary),
``p_<id>(s, o, r)`` per predicate and ``tt_<n>(c0.., r)`` per tuple table, integer-encoded.
Each table is a list of *chunks* (one per insert), every chunk written once as Parquet under
the checkpoint folder and read back, so a round's lineage never reaches back into earlier
rounds and the optimiser sees real sizes (Spark's in-memory checkpoints carry the estimated
size of the plan that made them, and estimates of chained joins grow without bound round
after round); the temp view of a table is the union of its chunks. The plan layer's SQL
therefore runs unchanged (after translation by :mod:`graphcrime.spark.dialect`) against the
same table names.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterable
from typing import Any

from graphcrime.errors import DataError
from graphcrime.spark.terms import TERMS_DDL, new_terms

#: a table of more chunks than this is compacted into one
MAX_CHUNKS = 8


class SparkFactStore:
    """Triples, tuples and terms as Spark DataFrames registered as temp views."""

    def __init__(self, spark: Any) -> None:
        self.spark = spark
        self.preds: dict[int, str] = {}
        self.tuple_tables: dict[tuple[str, int], str] = {}
        self.chunks: dict[str, list[Any]] = {}
        self.schemas: dict[str, str] = {}
        self.n_terms = 0
        self.max_round = 0
        self._ids: dict[str, int] = {}
        self._views: set[str] = set()
        base = spark.sparkContext.getCheckpointDir() or tempfile.mkdtemp(prefix="gc-spark-")
        self.chunk_dir = f"{base.rstrip('/')}/graphcrime-{uuid.uuid4().hex[:12]}"
        self._n_chunks = 0
        self._table("terms", TERMS_DDL)

    # -- tables ---------------------------------------------------------------------------
    def _table(self, name: str, ddl: str) -> str:
        if name not in self.chunks:
            self.chunks[name] = []
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
        """Write ``df`` as a Parquet chunk and return it read back (lineage cut here)."""
        self._n_chunks += 1
        path = f"{self.chunk_dir}/c{self._n_chunks}"
        df.write.mode("overwrite").parquet(path)
        return self.spark.read.parquet(path)

    def append(self, name: str, df: Any, round_: int | None = None) -> None:
        """Add a checkpointed chunk to table ``name`` and republish its view."""
        self.chunks[name].append(df)
        if len(self.chunks[name]) > MAX_CHUNKS:  # plans over long unions get slow to analyse
            self.chunks[name] = [self.persist(self._union(self.chunks[name]))]
        if round_ is not None:
            self.max_round = max(self.max_round, round_)
        self._publish(name)

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
    def intern_frame(self, df: Any, column: str) -> int:
        """Add every distinct non-NULL nt of ``df[column]`` that is not a term yet."""
        from pyspark.sql import functions as F

        cand = df.select(F.col(column).alias("nt")).where(F.col("nt").isNotNull()).distinct()
        fresh = cand.join(self.frame("terms").select("nt"), "nt", "left_anti")
        rows, n = new_terms(fresh, self.n_terms)
        if n:
            self.append("terms", self.persist(rows))
            self.n_terms += n
        return n

    def intern(self, nts: Iterable[str]) -> list[int]:
        """Ids of canonical N-Triples terms, adding the missing ones (small lists only)."""
        from graphcrime.rdf.dictionary import _check_nt
        from graphcrime.spark.terms import local_terms

        nts = list(nts)
        ask = list(dict.fromkeys(nt for nt in nts if nt not in self._ids))
        if ask:
            for nt in ask:
                _check_nt(nt)
            self._ids.update(self.lookup(ask))
            missing = [nt for nt in ask if nt not in self._ids]
            if missing:
                self.append("terms", self.persist(local_terms(self.spark, missing,
                                                              self.n_terms)))
                self._ids.update({nt: self.n_terms + i for i, nt in enumerate(missing)})
                self.n_terms += len(missing)
        return [self._ids[nt] for nt in nts]

    def lookup(self, nts: list[str]) -> dict[str, int]:
        """Ids of the known terms among ``nts`` (small lists)."""
        from pyspark.sql import functions as F

        rows = self.frame("terms").where(F.col("nt").isin(list(nts))).select("nt", "id").collect()
        return {r["nt"]: int(r["id"]) for r in rows}

    def term_id(self, nt: str) -> int | None:
        return self.lookup([nt]).get(nt)

    # -- adding facts ---------------------------------------------------------------------
    def add_facts(self, facts: Any, round_: int, preds: list[int] | None = None
                  ) -> dict[int, int]:
        """Add triples ``(p, s, o)`` of ids not stored yet as round ``round_``; returns the
        number added per predicate. One anti join over every target table, one checkpoint,
        one count per predicate; each predicate's chunk is a filter of that checkpoint.
        ``preds``, when known, are the only predicates ``facts`` can have."""
        from pyspark.sql import functions as F

        facts = facts.select(F.col("p").cast("long"), F.col("s").cast("long"),
                             F.col("o").cast("long")).distinct()
        known = [self.frame(t).select(F.lit(p).cast("long").alias("p"), "s", "o")
                 for p, t in self.preds.items() if self.chunks[t]
                 and (preds is None or p in preds)]
        if known:
            old = known[0]
            for k in known[1:]:
                old = old.unionByName(k)
            facts = facts.join(old, ["p", "s", "o"], "left_anti")
        new = self.persist(facts.withColumn("r", F.lit(round_)))
        counts = {int(r["p"]): int(r["count"]) for r in new.groupBy("p").count().collect()}
        for p, _n in counts.items():
            self.append(self.pred_table(p), new.where(F.col("p") == p).select("s", "o", "r"),
                        round_)
        return counts

    def add_encoded(self, triples: Any) -> int:
        """Move integer triples ``(s, p, o)`` into the predicate tables as round 0."""
        return sum(self.add_facts(triples, 0).values())

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
        from pyspark.sql import functions as F

        if not rows:
            return 0
        ddl = ", ".join(f"{n} LONG" for n in names) or "x INT"
        df = self.spark.createDataFrame(rows if names else [(1,)], ddl).distinct()
        if self.chunks[table]:
            df = df.join(self.frame(table), names, "left_anti") if names else \
                df.where(F.lit(self.frame(table).limit(1).count() == 0))
        if not names:
            df = df.drop("x")
        chunk = self.persist(df.withColumn("r", F.lit(0)))
        n = chunk.count()
        if n:
            self.append(table, chunk)
        return n

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
        for name in self._views:
            self.spark.catalog.dropTempView(name)
        self.chunks.clear()
        if self.chunk_dir.startswith(("file:", "/")):
            shutil.rmtree(self.chunk_dir.removeprefix("file:"), ignore_errors=True)


def check_no_errors(df: Any) -> None:
    """Raise the first DataError a parse task reported in column ``err`` (JSON)."""
    import json

    bad = df.where("err IS NOT NULL").select("err").limit(1).collect()
    if bad:
        info = json.loads(bad[0]["err"])
        raise DataError(info.get("message", "bad input"), file=info.get("file"),
                        line=info.get("line"), col=info.get("col"), hint=info.get("hint"))
