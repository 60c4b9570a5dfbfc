"""The subject index of a store on disk: its big predicate tables' (s, o) pairs sorted by
subject, in numpy files beside the database (``subjects/``).

A question about a few subjects (``?S a type:SuspiciousChain . ?S ?P ?O``: 57k chains in a
store of a billion facts) reads those subjects' rows with a binary search instead of scanning
every predicate table: DuckDB has no index joins and its ART index lives in memory (6 GB for
200M keys). The index belongs to one state of the database: its manifest names the store's
``generation`` (a token every update writes), and a store whose generation differs (an update
killed after its commit, before its index) is simply scanned.

After an update that only added rows (every row of a round up to the index's is still there)
the new rows are written as a run of their own (see ``RUNS``); otherwise a table is sorted
again.

>>> import duckdb, tempfile, numpy as np
>>> from graphcrime.rdf.dictionary import create_terms
>>> con = duckdb.connect()
>>> create_terms(con)
>>> _ = con.execute("CREATE TABLE p_1 AS SELECT (i % 7)::INTEGER AS s, i::INTEGER AS o, "
...                 "1 AS r FROM range(30) t(i)")
>>> folder = Path(tempfile.mkdtemp())
>>> index = refresh(folder, con, ["p_1"], "g1", None, min_rows=10)
>>> s, o = index.lookup("p_1", np.array([3, 5], dtype=np.int32))
>>> sorted(zip(s.tolist(), o.tolist()))[:3]
[(3, 3), (3, 10), (3, 17)]
>>> SubjectIndex.open(folder, "another generation") is None
True
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import pyarrow as pa

from graphcrime.db import first_row, scalar, temp_table
from graphcrime.engine import sortedfiles
from graphcrime.engine.disk import fsync
from graphcrime.engine.termfiles import TermFiles, append, hash_runs

FOLDER = "subjects"
MANIFEST = "manifest.json"
#: tables with fewer rows are scanned (a scan of a million ids takes milliseconds)
INDEX_ROWS = 1_000_000
#: a table's rows added by later updates are runs of their own, searched one after the other,
#: until there would be more than RUNS of them or they would hold over 1/RUN_SHARE of the
#: first: then the table is sorted into one run again (each row is rewritten a few times in
#: all, and a small update writes only its rows)
RUNS = 8
RUN_SHARE = 4
#: every TOP-th subject of a run is kept in memory (see Run)
TOP = 512


class SubjectIndex:
    """The sorted (s, o) files and the dictionary files of one generation of a store, all
    mapped (not read) when opened: an update removes files a reader may still use."""

    def __init__(self, folder: Path, manifest: dict[str, Any]) -> None:
        self.folder = folder
        self.tables: dict[str, dict[str, Any]] = manifest["tables"]
        self._runs = {t: [Run(np.load(folder / run["s"], mmap_mode="r"),
                              np.load(folder / run["o"], mmap_mode="r"),
                              np.load(folder / run["top"]), run["every"])
                          for run in meta["runs"]]
                      for t, meta in self.tables.items()}
        self.terms: list[dict[str, Any]] = manifest.get("terms", [])
        self.hashes: dict[str, Any] | None = manifest.get("hashes")
        #: the dictionary by id and by hash (graphcrime.engine.termfiles)
        self.term_files = TermFiles(folder, self.terms, self.hashes)

    @classmethod
    def open(cls, store_folder: Path, generation: str | None) -> SubjectIndex | None:
        """The index of ``store_folder`` if it was made for ``generation``, else None."""
        try:
            manifest = json.loads((store_folder / FOLDER / MANIFEST).read_text())
            if generation is None or manifest.get("generation") != generation:
                return None
            return cls(store_folder / FOLDER, manifest)
        except (OSError, ValueError, KeyError, pa.ArrowException):
            return None  # none, or half removed by an update: the store is scanned

    def rows(self, table: str) -> int:
        """How many rows ``table`` has in the index (0: not indexed)."""
        return int(self.tables.get(table, {}).get("rows", 0))

    def runs(self, table: str) -> list[Run]:
        """The runs of ``table``."""
        return self._runs[table]

    def lookup(self, table: str, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The (s, o) rows of ``table`` whose subject is in ``keys`` (sorted, distinct)."""
        found = [run.lookup(keys) for run in self.runs(table)]
        return (np.concatenate([f[0] for f in found]) if found else np.empty(0, np.int32),
                np.concatenate([f[1] for f in found]) if found else np.empty(0, np.int32))


class Run(NamedTuple):
    """Subjects (sorted) and objects of one run, memory-mapped, and every ``every``-th
    subject in memory (``top``): a binary search of 57k chains over a 2.7 GB file of subjects
    touched nearly all its pages (each key's last dozen steps a page of their own), 20 s with
    a cold cache; with ``top`` each key reads one block of ``every`` subjects.

    >>> run = Run(np.array([1, 3, 3, 3, 7]), np.arange(5), np.array([1, 3, 7]), 2)
    >>> run.search(np.array([0, 3, 4, 9]), "left").tolist(), run.lookup(np.array([3]))[1]
    ([0, 1, 4, 5], array([1, 2, 3], dtype=int32))
    """

    s: np.ndarray
    o: np.ndarray
    top: np.ndarray
    every: int

    def search(self, keys: np.ndarray, side: Literal["left", "right"]) -> np.ndarray:
        """``np.searchsorted(self.s, keys, side)``, reading one block of ``s`` per key."""
        right = side == "right"
        b = np.searchsorted(self.top, keys, side)  # (b-1)*every < the position <= b*every
        lo = np.maximum(b - 1, 0).astype(np.int64) * self.every
        hi = np.minimum(b.astype(np.int64) * self.every, len(self.s))
        while True:
            todo = lo < hi
            if not todo.any():
                return lo
            mid = (lo + hi) // 2
            v = self.s[np.where(todo, mid, 0)]
            up = todo & ((v <= keys) if right else (v < keys))
            lo = np.where(up, mid + 1, lo)
            hi = np.where(todo & ~up, mid, hi)

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows whose subject is in ``keys`` (sorted, distinct)."""
        s = self.s
        if len(s):  # only the keys within the run's subjects (chains are not transactions)
            keys = keys[np.searchsorted(keys, s[0], "left"):np.searchsorted(keys, s[-1],
                                                                            "right")]
        lo = self.search(keys, "left")
        n = self.search(keys, "right") - lo
        # row positions: each key's rows lo .. lo + n
        at = np.repeat(lo - (np.cumsum(n) - n), n) + np.arange(int(n.sum()))
        return np.asarray(s[at], dtype=np.int32), np.asarray(self.o[at], dtype=np.int32)


_tables = itertools.count()


def rows_table(con: Any, index: SubjectIndex, tables: Iterable[tuple[int, str]],
               keys: np.ndarray) -> str:
    """A temporary table ``(s, p, o)`` of the rows of the indexed ``tables`` (predicate id,
    table) whose subject is in ``keys`` (sorted, distinct); returns its name (the caller
    drops it)."""
    parts = []
    for p, table in tables:
        s, o = index.lookup(table, keys)
        parts.append(pa.table({"s": s, "p": np.full(len(s), p, np.int32), "o": o}))
    return temp_table(con, f"_gc_subjects_{next(_tables)}", pa.concat_tables(parts))


def _run(folder: Path, stem: str, con: Any, sql: str, rows: int) -> dict[str, Any]:
    """A run: the rows of ``sql`` (columns s, o; ``rows`` of them) sorted by subject, in
    ``stem.s.npy`` and ``stem.o.npy``, and every ``TOP``-th subject in ``stem.top.npy``."""
    names = {"s": stem + ".s.npy", "o": stem + ".o.npy"}
    got = sortedfiles.write(folder, names, {"s": np.int32, "o": np.int32}, con,
                            f"SELECT s, o FROM ({sql}) ORDER BY s", sample=("s", TOP))
    assert got.rows == rows and got.sample is not None, (sql, got.rows, rows)
    top = stem + ".top.npy"
    np.save(folder / top, got.sample)
    fsync(folder / top)
    return {"rows": rows, **names, "top": top, "every": TOP}


def refresh(store_folder: Path, con: Any, tables: Iterable[str], generation: str,
            base: SubjectIndex | None, min_rows: int | None = None) -> SubjectIndex:
    """The index of ``tables`` (those of at least ``min_rows`` rows) for ``generation``,
    reusing ``base`` (the index of the state before the update) where a table only gained
    rows. The manifest is written last, after the files are synced: a refresh killed
    halfway leaves the old manifest, whose generation no longer matches."""
    folder = store_folder / FOLDER
    folder.mkdir(exist_ok=True)
    min_rows = INDEX_ROWS if min_rows is None else min_rows
    out: dict[str, dict[str, Any]] = {}
    for table in tables:
        rows, top = first_row(con, f"SELECT count(*), coalesce(max(r), 0) FROM {table}")
        if rows < min_rows:
            continue
        old = base.tables.get(table) if base is not None else None
        kept = old is not None and scalar(
            con, f"SELECT count(*) FROM {table} WHERE r <= {old['round']}") == old["rows"]
        if old is not None and kept and rows == old["rows"]:
            out[table] = old
            continue
        stem = f"{table}-{generation}"
        if old is not None and kept and len(old["runs"]) < RUNS and \
                (rows - old["runs"][0]["rows"]) * RUN_SHARE <= old["runs"][0]["rows"]:
            run = _run(folder, stem, con, f"SELECT s, o FROM {table} WHERE r > {old['round']}",
                       rows - old["rows"])
            runs = [*old["runs"], run]
        else:  # all rows in one run: the first index, a deletion, or enough runs to merge
            runs = [_run(folder, stem, con, f"SELECT s, o FROM {table}", rows)]
        out[table] = {"rows": rows, "round": int(top), "runs": runs}
    terms = append(folder, con, base.terms if base is not None else [], generation)
    hashes = hash_runs(folder, con, base.hashes if base is not None else None,
                       terms[-1]["hi"] if terms else 0, generation)
    manifest = {"generation": generation, "tables": out, "terms": terms, "hashes": hashes}
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1) + "\n")
    fsync(tmp)
    os.replace(tmp, folder / MANIFEST)
    fsync(folder)
    keep = {MANIFEST} | {run[k] for run in hashes["runs"] for k in ("h", "id")} | {
        seg["file"] for seg in terms} | {
        run[k] for meta in out.values() for run in meta["runs"] for k in ("s", "o", "top")}
    for path in folder.iterdir():
        if path.name not in keep:
            path.unlink(missing_ok=True)  # readers keep their mappings of removed files
    return SubjectIndex(folder, manifest)
