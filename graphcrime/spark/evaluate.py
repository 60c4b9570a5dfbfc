"""Stratified semi-naive evaluation on Spark: the embedded engine's loop, Spark doing the joins.

The program is checked and stratified by :mod:`graphcrime.compile` exactly as for the
embedded engine; every rule body is compiled by the engine's plan layer
(:class:`graphcrime.engine.plan.BodyPlan`, versions all/full/delta/old over the ``r``
column), translated to Spark SQL and run over the store's temp views. Per rule and round:
the body rows (the union of the semi-naive variants) are de-duplicated and checkpointed once,
computed terms are interned, and each head atom's new facts are found with a left anti join
against its table and checkpointed as a new chunk (lineage cut every round).
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from graphcrime.compile.stratify import stratify
from graphcrime.engine.plan import Joined, head_terms, term_nt
from graphcrime.engine.seminaive import Report, StratumLoop, program_facts
from graphcrime.lang.ast import Aggregate, Negation, Program, Rule, TripleAtom, TupleAtom, Var
from graphcrime.spark.dialect import broadcast_chain, check_rule, to_spark
from graphcrime.spark.driver import DriverRound
from graphcrime.spark.prune import narrowed, needed_chunks
from graphcrime.spark.store import SparkFactStore

log = logging.getLogger("graphcrime.spark")

#: a round whose deltas are at most this many rows runs on broadcast joins: the rows joined
#: so far are broadcast into each next join (see :func:`broadcast_chain`), so no table is
#: shuffled; bigger deltas are shuffled like the tables
BROADCAST_ROWS = 200_000
#: ... when the tables the rule reads hold at least this many rows in all: on smaller data a
#: job per broadcast join costs more than shuffling everything (``GC_SPARK_BROADCAST_MIN=0``
#: takes the broadcast path always; a test does)
BROADCAST_MIN = int(os.environ.get("GC_SPARK_BROADCAST_MIN", 50_000))
#: rule applications that start from at most :data:`BROADCAST_ROWS` rows run on the driver
#: (:mod:`graphcrime.spark.driver`) where the rule allows; ``GC_SPARK_DRIVER_ROUNDS=0``
#: keeps them on Spark joins (broadcast or shuffled, as above)
DRIVER_ROUNDS = os.environ.get("GC_SPARK_DRIVER_ROUNDS", "1") != "0"
#: rule applications on Spark joins read only the chunks that can join their deltas
#: (:mod:`graphcrime.spark.prune`); ``GC_SPARK_PRUNE=0`` reads whole tables
PRUNE = os.environ.get("GC_SPARK_PRUNE", "1") != "0"


class SparkEvaluator(StratumLoop):
    """Runs a program on a :class:`SparkFactStore`; one instance per materialisation."""

    # strata as stratified unless GC_SPARK_MERGE_STRATA=1: merged strata are measured on the
    # embedded engine (see docs/scale-out.md for the Spark measurements)
    merge_strata = os.environ.get("GC_SPARK_MERGE_STRATA", "0") == "1"

    def __init__(self, store: SparkFactStore, *, max_derived_facts: int | None = None,
                 deadline: float | None = None,
                 progress: Callable[[str, int], None] | None = None) -> None:
        super().__init__(store, 1 + store.max_round, max_derived_facts=max_derived_facts,
                         deadline=deadline, progress=progress)
        self.spark = store.spark
        #: one entry per rule evaluation: round, rule position, variants, new facts, seconds
        self.trace: list[dict[str, Any]] = []
        self._joins: list[str] = []  # temp views made by _make_join
        self.join_rows: dict[str, int] = {}  # their rows
        self._small = False  # the rule being run has small deltas (see _small_delta)
        #: (first id, variables) of the terms the rule being run minted, if any
        self._fresh_from: tuple[int, frozenset[str]] | None = None
        self._driver: DriverRound | None = None
        #: per table narrowed for the last Spark-path application: (chunks read, chunks)
        self.pruned: dict[str, tuple[int, int]] = {}

    def prepare_constants(self, program: Program) -> None:
        """Intern every constant of the rules' atoms at once (one lookup, one insert)."""
        nts: list[str] = []
        for rule in program.rules:
            if not rule.body:
                continue
            atoms = list(rule.head) + [x for x in rule.body if isinstance(x, (TripleAtom,
                                                                            TupleAtom))]
            atoms += [a for x in rule.body if isinstance(x, Negation) for a in x.atoms]
            atoms += [a for x in rule.body if isinstance(x, Aggregate) for a in x.body
                      if isinstance(a, (TripleAtom, TupleAtom))]
            for a in atoms:
                nts += [term_nt(t) for t in head_terms(a) if not isinstance(t, Var)]
        if nts:
            ids = self.store.intern(nts)
            self._consts.update(zip(nts, ids, strict=True))

    # -- one rule -------------------------------------------------------------------------
    def run_rule(self, rule: Rule, variants: list[dict[int, str]],
                 joined: tuple[Joined, ...] = ()) -> int:
        """Evaluate ``rule`` for each atom-version assignment; insert new head facts."""
        t0, c0 = time.perf_counter(), self.store.compact_seconds
        self.ctx.round = self.round
        got = self._on_driver(rule, variants, joined) if DRIVER_ROUNDS else None
        small, path = False, "driver"
        self.pruned = {}
        if got is not None:
            added = got
        else:
            small = self._small_delta(rule, variants)
            path = "broadcast" if small else "shuffle"
            conf = self.spark.conf
            adaptive = conf.get("spark.sql.adaptive.enabled", "true")
            if small:  # re-planning after each of the broadcasts costs more than it gains
                conf.set("spark.sql.adaptive.enabled", "false")
            try:
                added = self._run_rule(rule, variants, joined, small)
            finally:
                conf.set("spark.sql.adaptive.enabled", adaptive)
        self.trace.append({"round": self.round, "rule": f"{rule.pos.file}:{rule.pos.line}",
                           "variants": len(variants), "new": added, "broadcast": small,
                           "path": path,
                           "seconds": round(time.perf_counter() - t0, 3),
                           "phases": dict(self._driver.phases) if got is not None
                           and self._driver is not None else {},
                           "compact": round(self.store.compact_seconds - c0, 3),
                           "pruned": dict(self.pruned)})
        log.debug("round %s %s: %s new in %.2f s", self.round, self.trace[-1]["rule"], added,
                  self.trace[-1]["seconds"])
        return added

    def _run_rule(self, rule: Rule, variants: list[dict[int, str]],
                  joined: tuple[Joined, ...], small: bool) -> int:
        from pyspark.sql import functions as F

        names = sorted({t.name for a in rule.head for t in head_terms(a) if isinstance(t, Var)})
        selects, kinds = self._selects(rule, variants, names, joined=joined)
        parts = [to_spark(sql) for sql in selects]
        if small:
            delta = re.compile(r"\(SELECT \* FROM \w+ WHERE "
                               + re.escape(self.ctx.version_sql("delta")) + r"\) AS (\w+)")
            for i, sql in enumerate(selects):
                hit = delta.search(sql)
                if hit:
                    parts[i] = broadcast_chain(parts[i], hit.group(1))
        need = needed_chunks(self, rule, variants, joined) if PRUNE else {}
        self.pruned = {t: (len(ix), len(self.store.chunks[t])) for t, ix in need.items()}
        with narrowed(self.store, need):  # the query's plan keeps the chunks it may join
            body = self.spark.sql("SELECT DISTINCT * FROM (" + " UNION ALL ".join(parts)
                                  + ") AS _u")
        computed = [n for n in names if kinds.get(n) == "nt"]
        raw = body
        self._fresh_from = None
        if computed:
            raw = body = body.cache()
            start = self.store.n_terms
            if small:  # the dictionary is streamed through broadcast joins, not shuffled
                for n in computed:
                    look = self.store.intern_lookup(body, f"v_{n}")
                    body = body.join(F.broadcast(look.withColumnsRenamed(
                        {"nt": f"v_{n}", "id": f"i_{n}"})), f"v_{n}") \
                        .drop(f"v_{n}").withColumnRenamed(f"i_{n}", f"v_{n}")
            else:
                for n in computed:
                    self.store.intern_frame(body, f"v_{n}")
                terms = self.store.frame("terms").select("nt", "id")
                for n in computed:
                    body = body.join(terms.withColumnsRenamed({"nt": f"v_{n}", "id": f"i_{n}"}),
                                     f"v_{n}").drop(f"v_{n}").withColumnRenamed(f"i_{n}",
                                                                                f"v_{n}")
            if self.store.n_terms > start:
                self._fresh_from = (start, frozenset(computed))
        self._small = small
        body = body.select(*[F.col(f"v_{n}").cast("long") for n in names] or
                           [F.lit(1).alias("v_")]).cache()
        try:
            added = self._insert_triples([a for a in rule.head if isinstance(a, TripleAtom)],
                                         body)
            added += sum(self._insert_tuple(a, body) for a in rule.head
                         if isinstance(a, TupleAtom))
        finally:
            body.unpersist()
            raw.unpersist()
        return added

    def _on_driver(self, rule: Rule, variants: list[dict[int, str]],
                   joined: tuple[Joined, ...]) -> int | None:
        """The rule evaluated by :class:`DriverRound` (None: it takes the Spark path)."""
        if self._driver is None:
            self._driver = DriverRound(self)
        names = sorted({t.name for a in rule.head for t in head_terms(a) if isinstance(t, Var)})
        return self._driver.run(rule, variants, joined, names)

    def close(self) -> None:
        if self._driver is not None:
            self._driver.close()
            self._driver = None

    def _small_delta(self, rule: Rule, variants: list[dict[int, str]]) -> bool:
        """Whether every variant reads a delta of at most :data:`BROADCAST_ROWS` rows in
        all (from chunk statistics): then the rule runs on broadcast joins."""
        total = 0
        for versions in variants:
            at = [i for i, v in versions.items() if v == "delta"]
            if len(at) != 1:
                return False
            got = self._range_row(self._table_of(rule.body[at[0]]), "delta", [], [])
            if got is None:
                return False
            total += int(got[0])
        if total > BROADCAST_ROWS:
            return False
        tables = {self._table_of(lit) for lit in rule.body
                  if isinstance(lit, (TripleAtom, TupleAtom))} - {"*"}
        return sum(self._table_rows(t) for t in tables) >= BROADCAST_MIN

    def _col(self, t: object) -> Any:
        from pyspark.sql import functions as F

        if isinstance(t, Var):
            return F.col(f"v_{t.name}")
        return F.lit(self._const_id(term_nt(t))).cast("long")  # type: ignore[arg-type]

    def _insert_triples(self, atoms: list[TripleAtom], body: Any) -> int:
        """All triple heads of a rule in one job: union, anti join, checkpoint, count."""
        if not atoms:
            return 0
        parts = [body.select(self._col(a.p).alias("p"), self._col(a.s).alias("s"),
                             self._col(a.o).alias("o")) for a in atoms]
        facts = parts[0]
        for x in parts[1:]:
            facts = facts.unionByName(x)
        preds = None if any(isinstance(a.p, Var) for a in atoms) else \
            [self._const_id(term_nt(a.p)) for a in atoms]
        fresh = self._fresh_from
        # facts whose subject this rule application just minted are not stored yet
        minted = fresh[0] if fresh is not None and all(
            isinstance(a.s, Var) and a.s.name in fresh[1] for a in atoms) else None
        counts = self.store.add_facts(facts, self.round, preds, small=self._small,
                                      minted_from=minted)
        for p, n in counts.items():
            if n:
                self.fresh.add(self.store.pred_table(p))
        n = sum(counts.values())
        self._count(n)
        return n

    def _insert_tuple(self, atom: TupleAtom, body: Any) -> int:
        from pyspark.sql import functions as F

        table = self.store.tuple_table(atom.name, len(atom.args))
        names = [f"c{i}" for i in range(len(atom.args))]
        cols = [self._col(t).alias(n) for t, n in zip(atom.args, names, strict=True)]
        n = self.store.add_new(table, body.select(*cols or [F.lit(1).alias("_x")]), names,
                               self.round)
        if n:
            self.fresh.add(table)
        self._count(n)
        return n

    def interrupt(self) -> None:
        self.spark.sparkContext.cancelAllJobs()

    def _range_row(self, table: str, version: str, consts: list[tuple[str, int]],
                   cols: list[str]) -> tuple | None:
        """From chunk statistics (a chunk holds one round, or the rounds of a compaction:
        a superset); constants are ignored."""
        rounds = self.ctx.version_rounds(version, self.round)
        if rounds is None:
            return self.store.ranges(table, lambda lo, hi: True, cols)
        a, b = rounds
        return self.store.ranges(table, lambda lo, hi: lo < b and hi >= a, cols)

    # -- joins materialised once per stratum ----------------------------------------------
    def _table_rows(self, table: str) -> int:
        got = self.store.ranges(table, lambda lo, hi: True, [])
        return int(got[0]) if got is not None else int(self.store.frame(table).count())

    def _make_join(self, sql: str, cap: int, valued: frozenset[str], names: tuple[str, ...]
                   ) -> tuple[str, tuple[tuple[str, str], ...], bool] | None:
        """The join as a chunk of its own (a checkpoint or Parquet, see
        :meth:`SparkFactStore.persist`), registered as temp view ``_j<n>``."""
        df = self.store.persist(self.spark.sql(to_spark(f"{sql} LIMIT {cap}")))
        n = df.count()
        if n >= cap:
            return None
        name = f"_j{len(self._joins)}"
        self.join_rows[name] = n
        self._joins.append(name)
        df.createOrReplaceTempView(name)
        return name, (), False

    def drop_joins(self, joins: list[Joined]) -> None:
        for j in joins:
            self.spark.catalog.dropTempView(j.table)


def add_program_facts(store: SparkFactStore, program: Program,
                      params: Mapping[str, object] | None) -> None:
    """The program's facts as round 0, job parameters replacing ``gc:param`` defaults."""
    facts = program_facts(program, params)
    store.intern([nt for _, nts in facts for nt in nts])
    groups: dict[tuple[str, tuple[str, ...]], list[tuple[int, ...]]] = {}
    for atom, nts in facts:
        ids = tuple(store.intern(nts))
        if isinstance(atom, TupleAtom):
            key = (store.tuple_table(atom.name, len(ids)), tuple(f"c{i}" for i in range(len(ids))))
            groups.setdefault(key, []).append(ids)
        else:
            key = (store.pred_table(ids[1]), ("s", "o"))
            groups.setdefault(key, []).append((ids[0], ids[2]))
    for (table, cols), rows in groups.items():
        store.add_rows(table, rows, list(cols))


def materialise(store: SparkFactStore, program: Program,
                params: Mapping[str, object] | None = None, *,
                max_derived_facts: int | None = None, timeout_seconds: float | None = None,
                progress: Callable[[str, int], None] | None = None) -> Report:
    """Check, stratify and evaluate ``program`` on Spark; same contract as the engine's."""
    t0 = time.monotonic()
    strata = stratify(program, params)
    for rule in program.rules:
        if rule.body:
            check_rule(rule)
    deadline = None if timeout_seconds is None else t0 + timeout_seconds
    ev = SparkEvaluator(store, max_derived_facts=max_derived_facts, deadline=deadline,
                        progress=progress)
    add_program_facts(store, program, params)
    ev.prepare_constants(program)
    try:
        return ev.run(strata, timeout_seconds, t0)
    finally:
        ev.close()
