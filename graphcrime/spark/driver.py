"""Small rounds on the driver: the delta's neighbourhood read from Spark, joined by DuckDB.

A rule whose variants each read a small delta needs only the rows that can join with it.
Starting at the delta atom (only the chunks of its rounds are read), every other relation of
the body is read filtered to the values its variables took in the rows read so far (a
superset of the rows that join: a plain filtered scan, never a shuffle), level by level, the
relations of one level as concurrent Spark jobs. Those rows, and the dictionary rows of the
values FILTERs and BINDs read, are registered on a DuckDB connection on the driver under the
store's table names, and the plan layer's own DuckDB SQL gives the body rows. New terms are
numbered and typed on the driver; the head facts are checked against the stored rows of their
subjects (skipped when every subject was just minted) and added as one chunk made from Arrow.

A round then costs a few plain jobs whatever the body's size, and moves data proportional to
its delta; rules this path does not cover (negation, aggregates, variable predicates, tuple
heads, a large relation not reachable from the delta) return None and take the Spark path.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphcrime.compile.checks import expr_vars
from graphcrime.engine.plan import VERSIONS, late_binds, term_nt
from graphcrime.lang.ast import Aggregate, Bind, Filter, Negation, Rule, TripleAtom, TupleAtom, Var
from graphcrime.spark.chunks import may_hold
from graphcrime.spark.driver_reads import IN_MAX, DriverReads

if TYPE_CHECKING:
    from graphcrime.spark.evaluate import SparkEvaluator

#: a rule application runs here when the relation it starts from (its delta, or its smallest
#: relation) holds at most this many rows
START_MAX = int(os.environ.get("GC_SPARK_DRIVER_START", 200_000))
#: ... and gives up (for the Spark path) when a relation read holds more rows than this
READ_MAX = 2_000_000
#: the same two in local mode, where the driver is the machine the tasks run on anyway (at
#: 1M transactions a Spark-path extension round took 218 s and 1.7 GB of shuffle where the
#: driver took 16-30 s for a delta of the same size; a containsTransaction round starting
#: from 2M rows ran an 8 GB driver heap out of memory)
LOCAL_START_MAX = int(os.environ.get("GC_SPARK_DRIVER_START", 1_000_000))
LOCAL_READ_MAX = 20_000_000
#: the values the late BINDs may read are fetched with the FILTERs' when they are at most
#: this many; else only those of the rows that pass the FILTERs, in a second scan
LATE_MAX = 50_000
#: a relation that no variable ties to the delta is read whole when it has at most this many
#: rows (a parameter); otherwise the rule takes the Spark path
LONE_MAX = 10_000


@dataclass
class Rel:
    """One relation of a variant's body: a store table (or stratum join) and its variables."""

    table: str
    cols: dict[str, str]  # column -> variable
    consts: list[tuple[str, int]] = field(default_factory=list)
    rounds: tuple[int, int] | None = None  # rounds [a, b) read; None: all
    delta: bool = False
    valued: frozenset[str] = frozenset()  # variables whose typed values are columns


def relations(ev: SparkEvaluator, rule: Rule, versions: dict[int, str],
              joined: tuple[Any, ...]) -> list[Rel] | None:
    """The relations one variant reads (as :meth:`StratumLoop._selects` compiles it), or None
    when the body has a literal this path does not handle."""
    usable = [j for j in joined if all(versions.get(i) == "pre" for i in j.pre)]
    rels = [Rel(j.table, {f"v_{n}": n for n in j.names}, valued=j.valued) for j in usable
            if not j.inline]
    skip = set().union(*(j.atoms for j in usable))
    for i, lit in enumerate(rule.body):
        if isinstance(lit, (Negation, Aggregate)):
            return None
        if i in skip or not isinstance(lit, (TripleAtom, TupleAtom)):
            continue
        if isinstance(lit, TripleAtom):
            if isinstance(lit.p, Var):
                return None
            terms = [("s", lit.s), ("o", lit.o)]
        else:
            terms = [(f"c{n}", t) for n, t in enumerate(lit.args)]
        version = versions.get(i, "all")
        if version not in VERSIONS:
            return None
        rels.append(Rel(ev._table_of(lit), {c: t.name for c, t in terms if isinstance(t, Var)},
                        [(c, ev._const_id(term_nt(t))) for c, t in terms
                         if not isinstance(t, Var)], ev.ctx.version_rounds(version),
                        version == "delta"))
    return rels


def _levels(rels: list[Rel], rows: Callable[[Rel], int | None], start_max: int = START_MAX
            ) -> list[list[int]] | None:
    """The relations in levels, breadth first along shared variables from the start: the
    delta, or else the relation of fewest rows from which the big ones can be reached; it
    must hold at most ``start_max`` rows. The relations no variable reaches come first
    when they are small; else None."""
    counts = [rows(r) for r in rels]
    delta = [i for i, r in enumerate(rels) if r.delta]
    starts = delta or sorted((i for i, n in enumerate(counts) if n is not None),
                             key=lambda i: counts[i])  # type: ignore[arg-type, return-value]
    for start in starts:
        n = counts[start]
        if n is None or n > start_max:
            return None
        got = _reach(rels, counts, start)
        if got is not None:
            return got
    return None


def _reach(rels: list[Rel], counts: list[int | None], start: int) -> list[list[int]] | None:
    lone, reach, bound = [], [[start]], set(rels[start].cols.values())
    rest = [i for i in range(len(rels)) if i != start]
    while rest:
        nxt = [i for i in rest if bound & set(rels[i].cols.values())]
        if not nxt:
            break
        reach.append(nxt)
        rest = [i for i in rest if i not in nxt]
        bound |= set().union(*(rels[i].cols.values() for i in nxt))
    for i in rest:
        n = counts[i]
        if n is None or n > LONE_MAX:
            return None
        lone.append(i)
    return ([lone] if lone else []) + reach


class _TooBig(Exception):
    """A relation read for the driver holds more than :data:`READ_MAX` rows."""


class DriverRound(DriverReads):
    """Evaluates one rule application (small deltas) as described in the module docstring."""

    def __init__(self, ev: SparkEvaluator) -> None:
        import duckdb

        from graphcrime.engine.sqlexpr import register_functions

        self.ev, self.store, self.spark = ev, ev.store, ev.spark
        self.con = duckdb.connect()
        try:
            self.con.execute("SET TimeZone = 'UTC'")
        except duckdb.Error:  # without the ICU extension timestamps have no zone anyway
            pass
        register_functions(self.con)
        self.pool = ThreadPoolExecutor(max_workers=4)
        local = self.store.local
        self.start_max = LOCAL_START_MAX if local else START_MAX
        self.read_max = LOCAL_READ_MAX if local else READ_MAX
        #: seconds of the last application's steps (gather, terms, body, intern, insert)
        self.phases: dict[str, float] = {}
        self._t = 0.0

    def _lap(self, name: str) -> None:
        now = time.perf_counter()
        self.phases[name] = round(self.phases.get(name, 0.0) + now - self._t, 3)
        self._t = now

    def close(self) -> None:
        self.pool.shutdown()
        self.con.close()

    # -- reading from Spark ---------------------------------------------------------------
    def _frame(self, rel: Rel, keys: dict[str, Any] | None = None) -> Any:
        """The rows of ``rel``'s table in its rounds (only the chunks holding them), with its
        constants applied; chunks whose min/max of a column in ``keys`` (column -> Arrow
        array of the values it must take) hold none of those values are not read either
        (the rows of a round's new chains are in that round's chunk alone)."""
        from pyspark.sql import functions as F

        st = self.store
        if rel.table not in st.chunks:
            df = self.spark.table(rel.table)
        else:
            a, b = rel.rounds if rel.rounds is not None else (0, 1 << 30)
            picked = [c for c, s in zip(st.chunks[rel.table], st.stats[rel.table], strict=True)
                      if s is None or (s.rlo < b and s.rhi >= a and may_hold(s, keys or {}))]
            df = st._union(picked) if picked else \
                self.spark.createDataFrame([], st.schemas[rel.table])
            if rel.rounds is not None:
                df = df.where((F.col("r") >= a) & (F.col("r") < b))
        for c, v in rel.consts:
            df = df.where(F.col(c) == F.lit(v))
        return df

    def _values(self, name: str, got: dict[int, Any], rels: list[Rel]) -> Any:
        """The distinct values variable ``name`` takes in every collected relation binding
        it (their intersection), as an Arrow array."""
        parts = [f"SELECT {c} AS v FROM _r{i}" for i in got for c, n in rels[i].cols.items()
                 if n == name]
        return self.con.sql(" INTERSECT ".join(parts)).to_arrow_table().column(0) \
            .combine_chunks()

    def _gather(self, rels: list[Rel], levels: list[list[int]]) -> dict[int, Any] | None:
        """The rows of every relation that can join the delta; None if the body is empty."""
        got: dict[int, Any] = {}
        for level in levels:
            frames = []
            for i in level:
                keys = {c: self._values(n, got, rels) for c, n in rels[i].cols.items()
                        if any(n in rels[j].cols.values() for j in got)}
                df = self._frame(rels[i], keys)
                for c, values in keys.items():
                    df = self._keyed(df, c, values)
                frames.append(df)
            for i, table in zip(level, self.pool.map(self._collect, frames), strict=True):
                if table.num_rows == 0:
                    return None
                if table.num_rows > self.read_max:
                    raise _TooBig
                got[i] = table
                self.con.register(f"_r{i}", table)
        return got

    # -- one rule -------------------------------------------------------------------------
    def run(self, rule: Rule, variants: list[dict[int, str]], joined: tuple[Any, ...],
            names: list[str]) -> int | None:
        """Evaluate and insert; the number of new facts, or None (take the Spark path)."""
        import pyarrow as pa

        heads = [a for a in rule.head if isinstance(a, TripleAtom) and not isinstance(a.p, Var)]
        if not heads or len(heads) < len(rule.head):
            return None
        self.phases, self._t = {}, time.perf_counter()
        st = self.store

        def rows(rel: Rel) -> int | None:
            if rel.table not in st.stats:  # a stratum join
                return self.ev.join_rows.get(rel.table)
            a, b = rel.rounds if rel.rounds is not None else (0, 1 << 30)
            got = st.ranges(rel.table, lambda lo, hi: lo < b and hi >= a, [])
            return None if got is None else int(got[0])

        plans = []
        for versions in variants:
            rels = relations(self.ev, rule, versions, joined)
            levels = None if rels is None else _levels(rels, rows, self.start_max)
            if rels is None or levels is None:
                return None
            plans.append((versions, rels, levels))
        selects, kinds = self.ev._selects(rule, variants, names, joined=joined)
        if any(f"{alias}.nt = " in sql for sql in selects
               for alias in re.findall(r"\bterms AS (\w+)", sql)):
            return None  # a computed value looked up by its string: the whole dictionary
        # typed values the body reads: those of the FILTERs and early BINDs at once; those
        # only the late BINDs (head values) read too when few (LATE_MAX), else only for the
        # rows that pass the FILTERs
        late = late_binds(rule.body)
        early = {v.name for i, lit in enumerate(rule.body) if isinstance(lit, (Bind, Filter))
                 and i not in late for v in expr_vars(lit.expr)}
        targets = {rule.body[i].var.name for i in late}  # type: ignore[union-attr]
        later = {v.name for i in late for v in expr_vars(rule.body[i].expr)  # type: ignore[union-attr]
                 } - targets - early
        tables: dict[str, list[Any]] = {}
        ids: list[Any] = []
        late_ids: list[Any] = []  # candidates for the late BINDs' values
        live: list[int] = []
        try:
            for k, (_, rels, levels) in enumerate(plans):
                try:
                    got = self._gather(rels, levels)
                except _TooBig:
                    return None
                if got is None:
                    continue
                live.append(k)
                for i, t in got.items():
                    tables.setdefault(rels[i].table, []).append(t)
                for n in early | later:
                    binders = [i for i in got if n in rels[i].cols.values()]
                    if binders and not all(n in rels[i].valued for i in binders):
                        (ids if n in early else late_ids).append(
                            self._values(n, got, rels).cast(pa.int64()))
                for i in got:
                    self.con.unregister(f"_r{i}")
            self._lap("gather")
            if not live:
                return 0
            for table, parts in tables.items():
                self.con.register(f"_t_{table}", pa.concat_tables(parts))
                self.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS "
                                 f"SELECT DISTINCT * FROM _t_{table}")
                self.con.unregister(f"_t_{table}")
            if sum(len(x) for x in late_ids) <= LATE_MAX:  # one dictionary scan, not two
                ids, later = ids + late_ids, set()
            self._terms(ids)
            self._lap("terms")
            if later:
                pre, _ = self.ev._selects(rule, [variants[k] for k in live], sorted(later),
                                          skip=late, joined=joined)
                self.con.execute("CREATE OR REPLACE TEMP TABLE _pre AS SELECT DISTINCT * FROM ("
                                 + " UNION ALL ".join(pre) + ") AS _u")
                more = [self.con.sql(f"SELECT DISTINCT v_{n}::BIGINT FROM _pre")
                        .to_arrow_table().column(0).combine_chunks() for n in sorted(later)]
                self.con.execute("DROP TABLE _pre")
                self._terms(more, add=True)
                self._lap("late terms")
            body = self.con.sql("SELECT DISTINCT * FROM (" + " UNION ALL ".join(
                selects[k] for k in live) + ") AS _u").to_arrow_table()
            self._lap("body")
            if body.num_rows == 0:
                return 0
            self.con.register("_body", body)
            computed = [n for n in names if kinds.get(n) == "nt"]
            fresh = self._intern(computed)
            self._lap("intern")
            out = self._insert(heads, names, computed, fresh)
            self._lap("insert")
            return out
        finally:
            for table in tables:
                self.con.execute(f"DROP TABLE IF EXISTS {table}")
            for t in ("_body", "_ids"):
                try:
                    self.con.unregister(t)
                except Exception:  # noqa: BLE001 - not registered in this run
                    pass

    def _insert(self, heads: list[TripleAtom], names: list[str], computed: list[str],
                fresh: int | None) -> int:
        """Add the head facts the store lacks as one chunk; returns how many."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc
        from pyspark.sql import functions as F

        from graphcrime.spark.chunks import ChunkStats

        ev, st = self.ev, self.store

        def col(t: Any) -> str:
            return f"v_{t.name}" if isinstance(t, Var) else str(ev._const_id(term_nt(t)))

        parts = [f"SELECT {col(a.p)}::BIGINT AS p, {col(a.s)}::BIGINT AS s, "
                 f"{col(a.o)}::BIGINT AS o FROM _body" for a in heads]
        facts = self.con.sql("SELECT DISTINCT * FROM (" + " UNION ALL ".join(parts) + ")"
                             ).to_arrow_table()
        minted = fresh is not None and all(isinstance(a.s, Var) and a.s.name in computed
                                           for a in heads)
        self.con.register("_facts", facts)
        lo = self.con.execute("SELECT min(s) FROM _facts").fetchall()[0][0]
        preds = sorted({ev._const_id(term_nt(a.p)) for a in heads})
        stored = [p for p in preds if p in st.preds and st.chunks[st.preds[p]]]
        if stored and not (minted and lo is not None and lo >= fresh):  # type: ignore[operator]
            subjects = self.con.sql("SELECT DISTINCT s FROM _facts").to_arrow_table().column(0) \
                .combine_chunks()
            # only the chunks whose subject range holds one of the subjects, streamed past
            # the new facts (broadcast): only the stored facts equal to one come back (the
            # stored facts of the subjects were millions at 1M: the driver ran out of heap)
            frames = [self._frame(Rel(st.preds[p], {}), {"s": subjects})
                      .select(F.lit(p).cast("long").alias("p"), "s", "o") for p in stored]
            old = st._union(frames)
            if len(subjects) <= IN_MAX:
                old = self._keyed(old, "s", subjects)
            new = self.spark.createDataFrame(facts, "p LONG, s LONG, o LONG")
            old = self._collect(old.join(F.broadcast(new), ["p", "s", "o"], "left_semi"))
            self.con.register("_old", old)
            facts = self.con.sql("SELECT * FROM _facts ANTI JOIN _old USING (p, s, o)"
                                 ).to_arrow_table()
            self.con.unregister("_old")
            self.con.unregister("_facts")
            self.con.register("_facts", facts)
        stats = self.con.sql("SELECT p, count(*), min(s), max(s), min(o), max(o) FROM _facts "
                             "GROUP BY p").fetchall()
        self.con.unregister("_facts")
        if not facts.num_rows:
            return 0
        rnd = ev.round
        total = 0
        for p, n, slo, shi, olo, ohi in stats:  # one chunk per predicate, of its rows alone
            table = st.pred_table(int(p))
            rows = facts.filter(pc.equal(facts.column("p"), int(p)))
            new = self.spark.createDataFrame(pa.table({
                "s": rows.column("s"), "o": rows.column("o"),
                "r": pa.array(np.full(rows.num_rows, rnd, np.int32))}), "s LONG, o LONG, r INT")
            st.append(table, new if st.local else st.persist(new), rnd,
                      ChunkStats(rnd, rnd, int(n), {"s": slo, "o": olo}, {"s": shi, "o": ohi}))
            ev.fresh.add(table)
            total += int(n)
        ev._count(total)
        return total
