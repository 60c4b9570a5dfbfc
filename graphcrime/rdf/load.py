"""Strict, fast N-Triples loading into the term dictionary and an encoded triple table.

DuckDB reads whole lines (in parallel, gzip included), splits them with string functions,
and validates each *distinct* token once against the fast subset (:mod:`.syntax`). Lines it
does not take go to pyoxigraph (:mod:`.slowparse`), which is strict and places errors. Only
when every file has validated are terms interned, then triples encoded by joins.

>>> import duckdb, tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "a.nt").write_text('<http://e/s> <http://e/p> "v\\\\u0041" .\\n# note\\n')
>>> con = duckdb.connect()
>>> load_ntriples(con, [d / "a.nt"])
1
>>> con.sql("SELECT t.nt FROM loaded JOIN terms t ON t.id = loaded.o").fetchall()
[('"vA"',)]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

import pyarrow as pa

from graphcrime.errors import DataError
from graphcrime.rdf import slowparse
from graphcrime.rdf.dictionary import create_terms, intern, q
from graphcrime.rdf.syntax import canonical_sql, ok_sql, skip_sql, split_sql

Progress = Callable[[str, int, int], None]
_STEPS = 5
_TMP = ("_gc_raw", "_gc_slow", "_gc_ts", "_gc_tp", "_gc_to")


def _read_csv(path: Path) -> str:
    return (f"read_csv({q(str(path))}, columns={{'line': 'VARCHAR'}}, delim='\\x01', quote='', "
            f"escape='', header=false, auto_detect=false, max_line_size=1073741824, "
            f"compression={q('gzip' if path.name.lower().endswith('.gz') else 'none')})")


def _is_fast(path: Path) -> bool:
    return slowparse.rdf_format(path) == slowparse.ox.RdfFormat.N_TRIPLES


class _Loader:
    """One load: the temp tables and the steps that fill them."""

    def __init__(self, con, paths: list[Path], progress: Progress | None) -> None:
        self.con, self.paths, self.progress = con, paths, progress
        self.step = 0

    def tick(self, stage: str) -> None:
        self.step += 1
        if self.progress is not None:
            self.progress(stage, self.step, _STEPS)

    def run(self, target: str) -> int:
        con = self.con
        con.execute("CREATE OR REPLACE TEMP TABLE _gc_raw(f INTEGER, s VARCHAR, p VARCHAR, "
                    "o VARCHAR, line VARCHAR)")
        con.execute("CREATE OR REPLACE TEMP TABLE _gc_slow(s VARCHAR, p VARCHAR, o VARCHAR)")
        for f, path in enumerate(self.paths):
            if not path.is_file():
                raise DataError("no such data file", file=str(path),
                                hint="check the path and the glob in the job spec")
            if not (_is_fast(path) and self._read_fast(f, path)):
                for cols in slowparse.iter_file(path):
                    self._add_slow(cols)
        self.tick("read")
        self._validate_tokens()
        self.tick("validate")
        self._slow_lines()
        self.tick("parse escapes")
        start = int(con.execute("SELECT count(*) FROM terms").fetchone()[0])
        try:
            intern(con, "SELECT tok AS nt FROM _gc_ts UNION ALL SELECT tok FROM _gc_tp "
                   "UNION ALL SELECT nt FROM _gc_to UNION ALL SELECT s FROM _gc_slow "
                   "UNION ALL SELECT p FROM _gc_slow UNION ALL SELECT o FROM _gc_slow", "nt")
            self.tick("intern")
            con.execute(
                f"CREATE OR REPLACE TABLE {target} AS SELECT DISTINCT s, p, o FROM ("
                "SELECT ts.id AS s, tp.id AS p, tm.id AS o FROM _gc_raw r "
                "JOIN terms ts ON ts.nt = r.s JOIN terms tp ON tp.nt = r.p "
                "JOIN (SELECT o.tok, t.id FROM _gc_to o JOIN terms t ON t.nt = o.nt) tm "
                "ON tm.tok = r.o WHERE r.line IS NULL UNION ALL "
                "SELECT ts.id, tp.id, tob.id FROM _gc_slow x JOIN terms ts ON ts.nt = x.s "
                "JOIN terms tp ON tp.nt = x.p JOIN terms tob ON tob.nt = x.o)")
        except BaseException:
            con.execute("DELETE FROM terms WHERE id >= ?", [start])
            raise
        self.tick("encode")
        return int(con.execute(f"SELECT count(*) FROM {target}").fetchone()[0])

    def _read_fast(self, f: int, path: Path) -> bool:
        """Split the lines of ``path`` into ``_gc_raw``; False when DuckDB cannot read it."""
        try:
            self.con.execute(
                f"INSERT INTO _gc_raw SELECT {f}, CASE WHEN fast THEN s END, "
                "CASE WHEN fast THEN p END, CASE WHEN fast THEN o END, "
                "CASE WHEN NOT fast THEN line END FROM ("
                f"SELECT line, suffix(line, ' .') AS fast, {split_sql('line')} "
                f"FROM {_read_csv(path)} WHERE NOT {skip_sql('line')})")
            return True
        except Exception:  # noqa: BLE001 - anything DuckDB refuses, pyoxigraph judges
            self.con.execute("DELETE FROM _gc_raw WHERE f = ?", [f])
            return False

    def _add_slow(self, cols: slowparse.Columns) -> None:
        tbl = pa.table({"s": cols[0], "p": cols[1], "o": cols[2]}, schema=pa.schema(
            [("s", pa.string()), ("p", pa.string()), ("o", pa.string())]))
        self.con.register("_gc_arrow", tbl)
        try:
            self.con.execute("INSERT INTO _gc_slow SELECT s, p, o FROM _gc_arrow")
        finally:
            self.con.unregister("_gc_arrow")

    def _validate_tokens(self) -> None:
        """Distinct tokens per position, checked once; lines with a bad token go slow."""
        con = self.con
        for col in ("s", "p"):
            con.execute(f"CREATE OR REPLACE TEMP TABLE _gc_t{col} AS SELECT tok, "
                        f"{ok_sql('tok', col)} AS ok FROM (SELECT DISTINCT {col} AS tok "
                        f"FROM _gc_raw WHERE line IS NULL)")
        con.execute(f"CREATE OR REPLACE TEMP TABLE _gc_to AS SELECT tok, ok, "
                    f"CASE WHEN ok THEN {canonical_sql('tok')} END AS nt FROM ("
                    f"SELECT tok, {ok_sql('tok', 'o')} AS ok FROM (SELECT DISTINCT o AS tok "
                    f"FROM _gc_raw WHERE line IS NULL))")
        bad = con.execute("SELECT (SELECT count(*) FROM _gc_ts WHERE NOT ok) + "
                          "(SELECT count(*) FROM _gc_tp WHERE NOT ok) + "
                          "(SELECT count(*) FROM _gc_to WHERE NOT ok)").fetchone()[0]
        if bad:
            con.execute(
                "UPDATE _gc_raw SET line = s || ' ' || p || ' ' || o || ' .' WHERE line IS NULL "
                "AND (s IN (SELECT tok FROM _gc_ts WHERE NOT ok) OR p IN (SELECT tok FROM "
                "_gc_tp WHERE NOT ok) OR o IN (SELECT tok FROM _gc_to WHERE NOT ok))")
            for col in ("s", "p", "o"):
                con.execute(f"DELETE FROM _gc_t{col} WHERE NOT ok")

    def _slow_lines(self) -> None:
        """Parse the lines the fast path did not take with pyoxigraph, one batch per file."""
        files = [r[0] for r in self.con.execute(
            "SELECT DISTINCT f FROM _gc_raw WHERE line IS NOT NULL ORDER BY f").fetchall()]
        for f in files:
            lines = [r[0] for r in self.con.execute(
                "SELECT line FROM _gc_raw WHERE f = ? AND line IS NOT NULL", [f]).fetchall()]
            path = self.paths[f]
            self._add_slow(slowparse.parse_text(
                "\n".join(lines) + "\n", str(path), lambda p=path: slowparse.locate_error(p)))


def load_ntriples(con, paths: Iterable[str | Path], target: str = "loaded",
                  progress: Progress | None = None, workers: int | None = None) -> int:
    """Load RDF files into table ``target(s, p, o INTEGER)`` (replaced), interning terms.

    N-Triples (``.nt``, ``.nt.gz``, multi-member gzip too) takes the fast path; ``.nq`` and
    ``.ttl`` (optionally gzipped) are parsed by pyoxigraph (graph names of quads dropped).
    Triples are de-duplicated. A bad line raises :class:`DataError` with file, line and
    column, and nothing is loaded: ``terms`` and ``target`` are left as they were.
    ``progress(stage, step, steps)`` is called after each stage; ``workers`` caps DuckDB's
    threads for the load. Returns the number of distinct triples.
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?", target):
        raise DataError(f"bad target table name {target!r}", hint="use a plain SQL identifier")
    create_terms(con)
    old_threads = None
    if workers:
        old_threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
        con.execute(f"SET threads = {int(workers)}")
    try:
        return _Loader(con, [Path(p) for p in paths], progress).run(target)
    finally:
        for t in _TMP:
            con.execute(f"DROP TABLE IF EXISTS {t}")
        if old_threads is not None:
            con.execute(f"SET threads = {int(old_threads)}")
