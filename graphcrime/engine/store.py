"""The fact store: integer-encoded triples partitioned by predicate, tuple tables, one DuckDB.

Each predicate with id ``p`` has a table ``p_<p>(s INTEGER, o INTEGER, r INTEGER)``; ``r`` is
the evaluation round that derived the fact (0 for input facts), which is all semi-naive
evaluation needs to tell new facts from old ones. Tuple tables (``gc:param`` and other
non-RDF predicates) are ``tt_<n>(c0, c1, ..., r)``. Terms live in ``terms``
(docs/architecture.md).

>>> store = FactStore()
>>> ids = store.intern(["<http://e/a>", "<http://e/p>", "<http://e/b>"])
>>> store.add_rows(ids[1], [(ids[0], ids[2])])
1
>>> scalar(store.con, f"SELECT count(*) FROM {store.pattern_sql()}")
1
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from graphcrime.db import scalar
from graphcrime.engine.sqlexpr import register_functions
from graphcrime.rdf.dictionary import (
    TERM_ROWS,
    create_terms,
    intern_values,
    lookup,
    next_id,
    q,
)


def parse_size(text: str | int | None) -> int | None:
    """Bytes from ``8Gi``, ``512MB``, ``1.5G`` or an int.

    >>> parse_size("8Gi"), parse_size("512MB"), parse_size(1024)
    (8589934592, 512000000, 1024)
    """
    if text is None or isinstance(text, int):
        return text
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(i?)B?\s*", str(text), re.IGNORECASE)
    if not m:
        raise ValueError(f"not a size: {text!r}")
    power = " KMGT".index(m.group(2).upper() or " ")
    base = 1024 if m.group(3) else 1000
    return int(float(m.group(1)) * base**power)


T = TypeVar("T")

#: the store is compressed once its tables hold at least PACK_FLOOR of the memory budget
#: (``memory_limit``, else DuckDB's default of 80% of RAM) and have grown by PACK_SHARE of it
#: since the last compression: memory is spent on speed while it is plentiful, and
#: compressing is a pass over every changed table that holds the old and the new copy at
#: once. A 1M job under ``memory: 4Gi`` compressed twice at 1/8 with no floor (7-9 s of its
#: reasoning); at a floor of 1/3 once, and its peak RSS rose from 1.65 to 1.97 GB with it.
PACK_SHARE = 1 / 8
PACK_FLOOR = 1 / 2
#: At the end of a load the facts it added are settled (reasoning appends to the tables but
#: never rewrites those rows): they are compressed once, whatever the budget, when the tables
#: have grown by this many bytes since the last compression. The 1M job's input tables went
#: 385 -> 199 MB for a 1.7 s pass, and its peak RSS (at the end of reasoning) 1.67 -> 1.46 GB.
SETTLED_BYTES = 64 << 20


class FactStore:
    """Triples and tuples in one DuckDB connection (see module docstring)."""

    def __init__(self, *, memory_limit: int | str | None = None, threads: int | None = None,
                 temp_dir: str | Path | None = None, path: str | Path | None = None,
                 read_only: bool = False) -> None:
        config: dict[str, str | bool | int | float | list[str]] = {
            "preserve_insertion_order": False}
        limit = parse_size(memory_limit)
        if limit:
            config["memory_limit"] = f"{max(limit // (1024 * 1024), 64)}MiB"
        if threads:
            config["threads"] = int(threads)
        if temp_dir:
            config["temp_directory"] = str(temp_dir)
        self.temp_dir = Path(temp_dir) if temp_dir else Path(tempfile.gettempdir())
        self.con = duckdb.connect(":memory:", config=config)
        #: the database file of an on-disk store (graphcrime.engine.disk), else None; such a
        #: store keeps its input facts in tables ``x_<table>`` (see :meth:`derived_where`)
        self.path = Path(path) if path else None
        self.read_only = read_only  # the file is attached read-only
        #: the subject index of a store on disk (engine.subjects.SubjectIndex), or None
        self.subjects: Any = None
        if self.path:
            mode = " (READ_ONLY)" if read_only else ""
            self.con.execute(f"ATTACH {q(str(self.path))} AS gc{mode}; USE gc")
        else:
            # a compressed in-memory catalog: CHECKPOINT packs the integer columns
            # (bit-packing, RLE) and the term strings (FSST, dictionary) - several times less
            # memory per fact
            self.con.execute("ATTACH ':memory:' AS gc (COMPRESS); USE gc")
        # DuckDB would also checkpoint by itself after every 16 MB of changes, compressing
        # whatever the statement in flight happened to be (0.5-0.9 s pauses mid-reasoning);
        # :meth:`pack` decides when instead
        self.con.execute("SET checkpoint_threshold = '1000TB'")
        try:  # graphcrime draws its own progress; in Jupyter DuckDB refuses without ipywidgets
            self.con.execute("SET enable_progress_bar = false")
        except duckdb.Error:
            pass
        budget = limit or parse_size(scalar(self.con, "SELECT current_setting('memory_limit')"))
        self.budget = budget or 1 << 33  # bytes
        self.pack_bytes = int(self.budget * PACK_SHARE)
        self.pack_floor = int(self.budget * PACK_FLOOR)
        self._packed_bytes = 0
        if not read_only:
            create_terms(self.con)
        register_functions(self.con)
        self.preds: dict[int, str] = {}
        self.tuple_tables: dict[tuple[str, int], str] = {}
        if self.path:
            self._read_catalog(read_only)

    def _read_catalog(self, read_only: bool) -> None:
        """The predicate and tuple tables an on-disk store already has."""
        if not read_only:
            self.con.execute("CREATE TABLE IF NOT EXISTS _gc_tuples "
                             "(name VARCHAR, arity INTEGER, tbl VARCHAR)")
        names = {r[0] for r in self.con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'gc'").fetchall()}
        self.preds = {int(n[2:]): n for n in names if re.fullmatch(r"p_\d+", n)}
        if "_gc_tuples" in names:
            self.tuple_tables = {(n, a): t for n, a, t in self.con.execute(
                "SELECT name, arity, tbl FROM _gc_tuples ORDER BY tbl").fetchall()}

    # -- terms ----------------------------------------------------------------------------
    def intern(self, nts: Iterable[str]) -> list[int]:
        """Ids of canonical N-Triples terms, adding the missing ones (small lists only)."""
        return intern_values(self.con, list(nts))

    def term_id(self, nt: str) -> int | None:
        """Id of a canonical N-Triples term, or None when the store has never seen it."""
        if self.subjects is not None and self.subjects.term_files.hashes:
            return self.subjects.term_files.ids(self.con, [nt])[0]  # type: ignore[no-any-return]
        return lookup(self.con, [nt])[0]

    # -- tables ---------------------------------------------------------------------------
    def pred_table(self, p: int) -> str:
        """The table of predicate ``p``, created empty on first use."""
        name = self.preds.get(p)
        if name is None:
            name = self.preds[p] = f"p_{p}"
            self.con.execute(f"CREATE TABLE {name} (s INTEGER, o INTEGER, r INTEGER)")
        return name

    def tuple_table(self, name: str, arity: int) -> str:
        """The table of tuple table ``name`` with ``arity`` columns, created on first use."""
        key = (name, arity)
        table = self.tuple_tables.get(key)
        if table is None:
            table = self.tuple_tables[key] = f"tt_{len(self.tuple_tables)}"
            cols = ", ".join(f"c{i} INTEGER" for i in range(arity))
            self.con.execute(f"CREATE TABLE {table} ({cols}{', ' if cols else ''}r INTEGER)")
            if self.path:
                self.con.execute(f"INSERT INTO _gc_tuples VALUES ({q(name)}, {arity}, "
                                 f"'{table}')")
        return table

    def derived_where(self, table: str, alias: str = "t") -> str:
        """SQL condition on the rows ``alias`` of ``table``: the fact is derived, not input
        (in memory ``r > 0``; on disk: not in the table's input facts ``x_<table>``)."""
        if not self.path:
            return f"{alias}.r > 0"
        if not scalar(self.con, f"SELECT count(*) FROM duckdb_tables() WHERE database_name = "
                                f"'gc' AND table_name = 'x_{table}'"):
            return "true"
        cols = [c for c in self.columns(table)]
        match = " AND ".join(f"x.{c} = {alias}.{c}" for c in cols) or "true"
        return f"NOT EXISTS (SELECT 1 FROM x_{table} x WHERE {match})"

    def columns(self, table: str) -> list[str]:
        """The id columns of a store table (``s, o``, or ``c0..`` of a tuple table)."""
        for (_, arity), name in self.tuple_tables.items():
            if name == table:
                return [f"c{i}" for i in range(arity)]
        return ["s", "o"]

    def pattern_sql(self, p: int | None = None) -> str:
        """An SQL relation ``(s, p, o)`` of every triple with predicate ``p`` (all if None)."""
        if p is not None:
            if p not in self.preds:
                return "(SELECT NULL::INTEGER AS s, NULL::INTEGER AS p, NULL::INTEGER AS o LIMIT 0)"
            return f"(SELECT s, {p}::INTEGER AS p, o FROM {self.preds[p]})"
        if not self.preds:
            return self.pattern_sql(-1)
        return "(" + " UNION ALL ".join(f"SELECT s, {pid}::INTEGER AS p, o FROM {t}"
                                        for pid, t in sorted(self.preds.items())) + ")"

    # -- adding facts ---------------------------------------------------------------------
    def add_loaded(self, table: str) -> int:
        """Move the encoded triples of ``table(s, p, o)`` into the predicate tables (round 0).

        Returns how many were new. Triples already stored are skipped.
        """
        added = 0
        preds = self.con.execute(f"SELECT p, min(s), max(s) FROM {table} GROUP BY p").fetchall()
        for p, lo, hi in preds:
            fresh = p not in self.preds
            target = self.pred_table(p)
            src = f"(SELECT DISTINCT s, o FROM {table} WHERE p = {p})"
            if not fresh:  # only stored rows in the new subjects' id range can be duplicates
                src = (f"(SELECT s, o FROM {src} n WHERE NOT EXISTS (SELECT 1 FROM {target} t "
                       f"WHERE t.s BETWEEN {lo} AND {hi} AND t.s = n.s AND t.o = n.o))")
            added += scalar(self.con, f"INSERT INTO {target} SELECT s, o, 0 FROM {src}")
        return added

    def add_rows(self, p: int, rows: list[tuple[int, int]], r: int = 0) -> int:
        """Add a few (s, o) id pairs for predicate ``p`` (tests and small inputs)."""
        if not rows:
            return 0
        target = self.pred_table(p)
        values = ", ".join(f"({s}, {o})" for s, o in rows)
        return scalar(self.con,
            f"INSERT INTO {target} SELECT DISTINCT s, o, {r} FROM (VALUES {values}) v(s, o) "
            f"WHERE NOT EXISTS (SELECT 1 FROM {target} t WHERE t.s = v.s AND t.o = v.o)")

    def all_or_nothing(self, work: Callable[[], T]) -> T:
        """Run ``work`` (which only adds facts and terms); on any error remove what it added,
        so the store is as it was. (Not a DuckDB transaction: inside one, the temporary
        tables of a big load would stay in memory until the end.)"""
        preds, tuples = dict(self.preds), dict(self.tuple_tables)
        ends = {t: scalar(self.con, f"SELECT coalesce(max(rowid) + 1, 0) FROM {t}")
                for t in list(preds.values()) + list(tuples.values())}
        start = next_id(self.con)
        try:
            return work()
        except BaseException:
            for t in list(self.preds.values()) + list(self.tuple_tables.values()):
                if t in ends:
                    self.con.execute(f"DELETE FROM {t} WHERE rowid >= {ends[t]}")
                else:
                    self.con.execute(f"DROP TABLE IF EXISTS {t}")
            self.con.execute(f"DELETE FROM {TERM_ROWS} WHERE id >= {start}")
            self.preds, self.tuple_tables = preds, tuples
            raise

    def pack(self, settled: bool = False) -> None:
        """Compress the tables (a CHECKPOINT of the in-memory catalog) when they hold
        ``pack_floor`` bytes and have grown by ``pack_bytes`` since the last time, or, when
        the caller says the rows added since are ``settled`` (a finished load), when they
        have grown by ``SETTLED_BYTES``. (An on-disk store checkpoints after each update's
        commit instead: CHECKPOINT cannot run inside its transaction.)"""
        if self.path:
            return
        held = self.table_bytes()
        grown = held - self._packed_bytes
        if (held >= self.pack_floor and grown >= self.pack_bytes) or (
                settled and grown >= SETTLED_BYTES):
            self.con.execute("CHECKPOINT gc")
            self._packed_bytes = self.table_bytes()

    # -- statistics -----------------------------------------------------------------------
    def count(self, derived: bool | None = None) -> int:
        """Stored triples and tuples: all, only derived or only input (see derived_where)."""
        tables = list(self.preds.values()) + list(self.tuple_tables.values())
        if not tables:
            return 0

        def where(t: str) -> str:
            if derived is None:
                return ""
            cond = self.derived_where(t)
            return f"WHERE {cond}" if derived else f"WHERE NOT ({cond})"
        sql = " + ".join(f"(SELECT count(*) FROM {t} t {where(t)})" for t in tables)
        return int(scalar(self.con, f"SELECT {sql}"))

    def table_bytes(self) -> int:
        """Bytes DuckDB holds for tables (the store's and temporary ones)."""
        return int(scalar(self.con, "SELECT coalesce(sum(memory_usage_bytes), 0) FROM "
                                    "duckdb_memory() WHERE tag = 'IN_MEMORY_TABLE'"))

    def memory_bytes(self) -> int:
        """Bytes DuckDB holds for this store (tables, dictionary, buffers)."""
        try:
            return int(scalar(self.con, "SELECT sum(memory_usage_bytes) FROM duckdb_memory()")
                       or 0)
        except duckdb.Error:
            return 0

    def reattach(self, path: str | Path | None, read_only: bool = False) -> None:
        """Detach the database file of an on-disk store and, unless ``path`` is None, attach
        ``path`` in its place (same tables; ``graphcrime.engine.disk`` swaps copies)."""
        self.con.execute("USE memory")
        self.con.execute("DETACH DATABASE IF EXISTS gc")
        if path is not None:
            mode = " (READ_ONLY)" if read_only else ""
            self.con.execute(f"ATTACH {q(str(path))} AS gc{mode}; USE gc")
            self.path, self.read_only = Path(path), read_only

    def close(self) -> None:
        self.con.close()


def default_threads() -> int:
    return max(os.cpu_count() or 1, 1)
