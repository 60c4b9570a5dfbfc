"""Strict, fast N-Triples loading into the term dictionary and an encoded triple table.

DuckDB's CSV reader splits lines at spaces into ``s p o .`` (in parallel, gzip included);
lines of another shape (literals with spaces, comments, tabs) are found by a line count and
split in SQL. Each *distinct* token is validated once against the fast subset
(:mod:`.syntax`); lines with anything else go to pyoxigraph (:mod:`.slowparse`), which is
strict and places errors at file:line:col. Only when every file has validated are terms
interned (one INSERT), then triples encoded by integer joins on hashed tokens.

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

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pyarrow as pa

from graphcrime.db import scalar
from graphcrime.errors import DataError
from graphcrime.rdf import slowparse
from graphcrime.rdf.chunks import count_lines
from graphcrime.rdf.dictionary import (
    TERM_ROWS,
    create_terms,
    known_sql,
    next_id,
    q,
    terms_rows_sql,
)
from graphcrime.rdf.syntax import canonical_sql, ok_sql, skip_sql, split_sql

Progress = Callable[[str, int, int], None]
_STEPS = 5
#: Encode with 64-bit hash keys (checked collision-free per load); False forces string joins.
HASH_JOINS = True
#: known terms are looked up by hash first once the dictionary holds this many times more
#: terms than a piece has distinct tokens (see ``known_sql``'s ``spread``)
SPREAD = 4
_TMP = ("_gc_raw", "_gc_lines", "_gc_slow", "_gc_ts", "_gc_tp", "_gc_to", "_gc_ms", "_gc_mp",
        "_gc_mo", "_gc_u", "_gc_e", "_gc_n", "_gc_h")


def _read_csv(path: Path, fields: int) -> str:
    """DuckDB read_csv of ``path``: whole lines (fields=1) or 4 space-separated fields."""
    comp = q("gzip" if path.name.lower().endswith(".gz") else "none")
    if fields == 1:
        return (f"read_csv({q(str(path))}, columns={{'line': 'VARCHAR'}}, delim='\\x01', "
                f"quote='', escape='', header=false, auto_detect=false, compression={comp})")
    return (f"read_csv({q(str(path))}, columns={{'s': 'VARCHAR', 'p': 'VARCHAR', 'o': 'VARCHAR', "
            f"'d': 'VARCHAR'}}, delim=' ', quote='', escape='', header=false, auto_detect=false, "
            f"compression={comp}, ignore_errors=true)")


def _count_lines(con, path: Path, lines_sql: str) -> int:
    """Lines in the file: newlines counted by numpy (plain files) or by DuckDB (gzip)."""
    if path.name.lower().endswith(".gz"):
        return int(scalar(con, f"SELECT count(*) FROM {lines_sql}"))
    with open(path, "rb") as fh:
        return count_lines(fh, 0, path.stat().st_size)


def _is_fast(path: Path) -> bool:
    return slowparse.rdf_format(path) == slowparse.ox.RdfFormat.N_TRIPLES


_FAST_ROW = "(d = '.' AND s IS NOT NULL AND p IS NOT NULL AND o IS NOT NULL)"
_LINE = "concat_ws(' ', coalesce(s, ''), coalesce(p, ''), coalesce(o, ''), coalesce(d, ''))"


class _Loader:
    """One load: the temp tables and the steps that fill them.

    ``_gc_raw(f, s, p, o, d)`` holds lines split at single spaces (``d`` is the final dot),
    ``_gc_lines(f, line)`` the lines for pyoxigraph, ``_gc_slow(s, p, o)`` its canonical
    output, ``_gc_t{s,p,o}(tok, h, ok[, nt])`` the distinct tokens per position.
    """

    def __init__(self, con, paths: list[Path], progress: Progress | None,
                 lines: Mapping[str, int] | None = None, distinct: bool = True) -> None:
        self.con, self.paths, self.progress = con, paths, progress
        self.lines = dict(lines or {})  # line counts the caller already knows
        self.distinct = "DISTINCT " if distinct else ""
        self.step = 0

    def tick(self, stage: str) -> None:
        self.step += 1
        if self.progress is not None:
            self.progress(stage, self.step, _STEPS)

    def run(self, target: str) -> int:
        con = self.con
        con.execute("CREATE OR REPLACE TEMP TABLE _gc_raw(f INTEGER, s VARCHAR, p VARCHAR, "
                    "o VARCHAR, d VARCHAR)")
        con.execute("CREATE OR REPLACE TEMP TABLE _gc_lines(f INTEGER, line VARCHAR)")
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
        start = next_id(con)
        try:
            self._intern(start)
            self.tick("intern")
            self._encode(target, start)
        except BaseException:
            con.execute(f"DELETE FROM {TERM_ROWS} WHERE id >= ?", [start])
            raise
        self.tick("encode")
        return int(scalar(con, f"SELECT count(*) FROM {target}"))

    def _read_fast(self, f: int, path: Path) -> bool:
        """Split the lines of ``path`` into ``_gc_raw``; False when DuckDB cannot read it.

        Lines of exactly four space-separated fields come from a CSV read; when some lines
        were not taken (literals with spaces, comments, tabs, ...) a second whole-line read
        picks those out for ``_gc_lines``.
        """
        con = self.con
        try:
            rows = scalar(con, f"INSERT INTO _gc_raw SELECT {f}, s, p, o, d "
                               f"FROM {_read_csv(path, 4)}")
            lines = _read_csv(path, 1)
            known = self.lines.get(str(path))
            if rows != (known if known is not None else _count_lines(con, path, lines)):
                con.execute(f"INSERT INTO _gc_lines SELECT {f}, line FROM {lines} WHERE NOT "
                            f"{skip_sql('line')} AND len(string_split(line, ' ')) <> 4")
            return True
        except Exception:  # noqa: BLE001 - anything DuckDB refuses, pyoxigraph judges
            con.execute("DELETE FROM _gc_raw WHERE f = ?", [f])
            con.execute("DELETE FROM _gc_lines WHERE f = ?", [f])
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
        # whole lines ending in " ." that the 4-field read could not take: split them here
        splits = ("suffix(line, ' .') AND length(line) > length(split_part(line, ' ', 1)) "
                  "+ length(split_part(line, ' ', 2)) + 4")  # s p o . with o non-empty
        con.execute(f"INSERT INTO _gc_raw SELECT f, s, p, o, '.' FROM (SELECT f, "
                    f"{split_sql('line')} FROM _gc_lines WHERE {splits})")
        con.execute(f"DELETE FROM _gc_lines WHERE {splits}")
        n = scalar(con, f"INSERT INTO _gc_lines SELECT f, {_LINE} FROM _gc_raw "
                        f"WHERE NOT coalesce({_FAST_ROW}, false)")
        if n:
            con.execute(f"DELETE FROM _gc_raw WHERE NOT coalesce({_FAST_ROW}, false)")
        for col in ("s", "p"):
            con.execute(f"CREATE OR REPLACE TEMP TABLE _gc_t{col} AS SELECT tok, hash(tok) AS h, "
                        f"{ok_sql('tok', col)} AS ok FROM (SELECT DISTINCT {col} AS tok "
                        f"FROM _gc_raw)")
        con.execute(f"CREATE OR REPLACE TEMP TABLE _gc_to AS SELECT tok, h, ok, "
                    f"CASE WHEN ok THEN {canonical_sql('tok')} END AS nt FROM ("
                    f"SELECT tok, hash(tok) AS h, {ok_sql('tok', 'o')} AS ok FROM ("
                    f"SELECT DISTINCT o AS tok FROM _gc_raw))")
        bad = scalar(con, "SELECT (SELECT count(*) FROM _gc_ts WHERE NOT ok) + "
                          "(SELECT count(*) FROM _gc_tp WHERE NOT ok) + "
                          "(SELECT count(*) FROM _gc_to WHERE NOT ok)")
        if bad:
            cond = ("s IN (SELECT tok FROM _gc_ts WHERE NOT ok) OR p IN (SELECT tok FROM "
                    "_gc_tp WHERE NOT ok) OR o IN (SELECT tok FROM _gc_to WHERE NOT ok)")
            con.execute(f"INSERT INTO _gc_lines SELECT f, {_LINE} FROM _gc_raw WHERE {cond}")
            con.execute(f"DELETE FROM _gc_raw WHERE {cond}")
            for col in ("s", "p", "o"):
                con.execute(f"DELETE FROM _gc_t{col} WHERE NOT ok")

    def _slow_lines(self) -> None:
        """Parse the lines the fast path did not take with pyoxigraph, one batch per file."""
        files = [r[0] for r in self.con.execute(
            "SELECT DISTINCT f FROM _gc_lines ORDER BY f").fetchall()]
        for f in files:
            lines = [r[0] for r in self.con.execute(
                "SELECT line FROM _gc_lines WHERE f = ?", [f]).fetchall()]
            path = self.paths[f]
            self._add_slow(slowparse.parse_text("\n".join(lines) + "\n", str(path),
                                                functools.partial(slowparse.locate_error, path)))

    def _intern(self, start: int) -> None:
        """All distinct canonical nts with their hash; new ones become terms (ids from start)."""
        con = self.con
        con.execute("CREATE OR REPLACE TEMP TABLE _gc_u AS SELECT nt, hash(nt) AS hn FROM ("
                    "SELECT tok AS nt FROM _gc_ts UNION SELECT tok FROM _gc_tp UNION "
                    "SELECT nt FROM _gc_to UNION SELECT s FROM _gc_slow UNION "
                    "SELECT p FROM _gc_slow UNION SELECT o FROM _gc_slow)")
        spread = start > SPREAD * scalar(con, "SELECT count(*) FROM _gc_u")
        con.execute(f"CREATE OR REPLACE TEMP TABLE _gc_e AS SELECT h AS hn, id FROM "
                    f"({known_sql('_gc_u', h='hn', many=True, spread=spread)})")
        # new terms; their ids are start + rowid (dense from 0 in a new table; row_number()
        # would be a single-threaded window over all of them)
        con.execute("CREATE OR REPLACE TEMP TABLE _gc_n AS SELECT u.nt, u.hn FROM _gc_u u "
                    "WHERE NOT EXISTS (SELECT 1 FROM _gc_e e WHERE e.hn = u.hn)")
        # (inside a transaction - an on-disk store's update - a new table's rowids start at
        # 2^55 - 3968 instead of 0: still dense, so they are counted from the first)
        first = con.execute("SELECT coalesce(min(rowid), 0) FROM _gc_n").fetchone()[0]
        con.execute(f"CREATE OR REPLACE TEMP VIEW _gc_nv AS SELECT nt, hn, "
                    f"{start} + (rowid - {first})::INTEGER AS id FROM _gc_n")
        source = "SELECT id, nt FROM _gc_nv"
        con.execute(f"INSERT INTO {TERM_ROWS} " + terms_rows_sql(source))

    def _encode(self, target: str, start: int) -> None:
        """Token -> id maps keyed by 64-bit hashes, then integer joins over all lines.

        Exact as long as no two distinct nts (nor two distinct object tokens) share a hash;
        that is checked, and string joins are used in the (astronomically rare) other case.
        """
        con = self.con
        con.execute("CREATE OR REPLACE TEMP TABLE _gc_h AS SELECT hn, id "
                    "FROM _gc_nv UNION ALL SELECT hn, id FROM _gc_e")
        exact = HASH_JOINS and scalar(con,
            "SELECT (SELECT count(DISTINCT hn) = count(*) FROM _gc_u) AND "
            "(SELECT count(DISTINCT h) = count(*) FROM _gc_to)")
        if exact:
            con.execute("CREATE OR REPLACE TEMP TABLE _gc_ms AS SELECT x.h, m.id FROM _gc_ts x "
                        "JOIN _gc_h m ON m.hn = x.h")
            con.execute("CREATE OR REPLACE TEMP TABLE _gc_mp AS SELECT x.h, m.id FROM _gc_tp x "
                        "JOIN _gc_h m ON m.hn = x.h")
            con.execute("CREATE OR REPLACE TEMP TABLE _gc_mo AS SELECT x.h, m.id FROM _gc_to x "
                        "JOIN _gc_h m ON m.hn = hash(x.nt)")
            fast = ("SELECT ms.id AS s, mp.id AS p, mo.id AS o FROM _gc_raw r "
                    "JOIN _gc_ms ms ON ms.h = hash(r.s) JOIN _gc_mp mp ON mp.h = hash(r.p) "
                    "JOIN _gc_mo mo ON mo.h = hash(r.o)")
            slow = ("SELECT hs.id, hp.id, ho.id FROM _gc_slow x JOIN _gc_h hs ON hs.hn = hash(x.s) "
                    "JOIN _gc_h hp ON hp.hn = hash(x.p) JOIN _gc_h ho ON ho.hn = hash(x.o)")
        else:
            fast = ("SELECT ts.id AS s, tp.id AS p, tob.id AS o FROM _gc_raw r "
                    "JOIN terms ts ON ts.nt = r.s JOIN terms tp ON tp.nt = r.p "
                    "JOIN _gc_to x ON x.tok = r.o JOIN terms tob ON tob.nt = x.nt")
            slow = ("SELECT ts.id, tp.id, tob.id FROM _gc_slow x JOIN terms ts ON ts.nt = x.s "
                    "JOIN terms tp ON tp.nt = x.p JOIN terms tob ON tob.nt = x.o")
        con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT {self.distinct}s, p, o FROM ("
                    f"{fast} UNION ALL {slow})")


def load_ntriples(con, paths: Iterable[str | Path], target: str = "loaded",
                  progress: Progress | None = None, workers: int | None = None,
                  lines: Mapping[str, int] | None = None, distinct: bool = True) -> int:
    """Load RDF files into table ``target(s, p, o INTEGER)`` (replaced), interning terms.

    N-Triples (``.nt``, ``.nt.gz``, multi-member gzip too) takes the fast path; ``.nq`` and
    ``.ttl`` (optionally gzipped) are parsed by pyoxigraph (graph names of quads dropped).
    Triples are de-duplicated (unless ``distinct`` is False: a caller that de-duplicates
    anyway saves the pass). A bad line raises :class:`DataError` with file, line and
    column, and nothing is loaded: ``terms`` and ``target`` are left as they were.
    ``progress(stage, step, steps)`` is called after each stage; ``workers`` caps DuckDB's
    threads for the load; ``lines`` gives the line count of files whose count the caller
    knows (it saves counting them). Returns the number of rows in ``target``.
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?", target):
        raise DataError(f"bad target table name {target!r}", hint="use a plain SQL identifier")
    if isinstance(paths, (str, Path)):
        paths = [paths]
    create_terms(con)
    old_threads = None
    if workers:
        old_threads = scalar(con, "SELECT current_setting('threads')")
        con.execute(f"SET threads = {int(workers)}")
    # row order never matters here; not keeping it makes DuckDB's inserts ~20% cheaper
    old_order = scalar(con, "SELECT current_setting('preserve_insertion_order')")
    con.execute("SET preserve_insertion_order = false")
    try:
        return _Loader(con, [Path(p) for p in paths], progress, lines, distinct).run(target)
    finally:
        con.execute("DROP VIEW IF EXISTS _gc_nv")
        for t in _TMP:
            con.execute(f"DROP TABLE IF EXISTS {t}")
        if old_threads is not None:
            con.execute(f"SET threads = {int(old_threads)}")
        con.execute(f"SET preserve_insertion_order = {bool(old_order)}")
