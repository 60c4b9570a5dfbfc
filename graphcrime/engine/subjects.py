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
from typing import Any

import numpy as np
import pyarrow as pa

from graphcrime.db import first_row, scalar
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


class SubjectIndex:
    """The sorted (s, o) files and the dictionary files of one generation of a store, all
    mapped (not read) when opened: an update removes files a reader may still use."""

    def __init__(self, folder: Path, manifest: dict[str, Any]) -> None:
        self.folder, self.manifest = folder, manifest
        self.generation: str = manifest["generation"]
        self.tables: dict[str, dict[str, Any]] = manifest["tables"]
        self._runs = {t: [(np.load(folder / run["s"], mmap_mode="r"),
                           np.load(folder / run["o"], mmap_mode="r")) for run in meta["runs"]]
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

    def runs(self, table: str) -> list[tuple[np.ndarray, np.ndarray]]:
        """The runs of ``table``: subjects (sorted) and objects, memory-mapped."""
        return self._runs[table]

    def lookup(self, table: str, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The (s, o) rows of ``table`` whose subject is in ``keys`` (sorted, distinct)."""
        found = [_lookup(s, o, keys) for s, o in self.runs(table)]
        return (np.concatenate([f[0] for f in found]) if found else np.empty(0, np.int32),
                np.concatenate([f[1] for f in found]) if found else np.empty(0, np.int32))


def _lookup(s: np.ndarray, o: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows of one run (``s`` sorted) whose subject is in ``keys``."""
    if len(s):  # only the keys within the run's subjects (chains are not transactions)
        keys = keys[np.searchsorted(keys, s[0], "left"):np.searchsorted(keys, s[-1], "right")]
    lo = np.searchsorted(s, keys, "left")
    n = np.searchsorted(s, keys, "right") - lo
    n_all = int(n.sum())
    # row positions: each key's rows lo .. lo + n
    at = np.repeat(lo - (np.cumsum(n) - n), n) + np.arange(n_all)
    return np.asarray(s[at], dtype=np.int32), np.asarray(o[at], dtype=np.int32)


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
    name = f"_gc_subjects_{next(_tables)}"
    con.register(name + "_rows", pa.concat_tables(parts))
    try:
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {name}_rows")
    finally:
        con.unregister(name + "_rows")
    return name


def _run(folder: Path, stem: str, con: Any, sql: str, rows: int) -> dict[str, Any]:
    """A run: the rows of ``sql`` (columns s, o; ``rows`` of them) sorted by subject, in
    ``stem.s.npy`` and ``stem.o.npy``."""
    names = {"s": stem + ".s.npy", "o": stem + ".o.npy"}
    got = sortedfiles.write(folder, names, {"s": np.int32, "o": np.int32}, con,
                            f"SELECT s, o FROM ({sql}) ORDER BY s")
    assert got == rows, (sql, got, rows)
    return {"rows": rows, **names}


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
        run[k] for meta in out.values() for run in meta["runs"] for k in ("s", "o")}
    for path in folder.iterdir():
        if path.name not in keep:
            path.unlink(missing_ok=True)  # readers keep their mappings of removed files
    return SubjectIndex(folder, manifest)
