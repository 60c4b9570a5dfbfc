"""The subject index of a store on disk: its big predicate tables' (s, o) pairs sorted by
subject, in numpy files beside the database (``subjects/``).

A question about a few subjects (``?S a type:SuspiciousChain . ?S ?P ?O``: 57k chains in a
store of a billion facts) reads those subjects' rows with a binary search instead of scanning
every predicate table: DuckDB has no index joins and its ART index lives in memory (6 GB for
200M keys). The index belongs to one state of the database: its manifest names the store's
``generation`` (a token every update writes), and a store whose generation differs (an update
killed after its commit, before its index) is simply scanned.

After an update that only added rows (every row of a round up to the index's is still there)
the new rows are merged into the sorted files; otherwise a table is sorted again.

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
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from graphcrime.db import first_row, scalar
from graphcrime.engine.disk import fsync
from graphcrime.engine.termfiles import TermFiles, append, merge_hashes

FOLDER = "subjects"
MANIFEST = "manifest.json"
#: tables with fewer rows are scanned (a scan of a million ids takes milliseconds)
INDEX_ROWS = 1_000_000
#: rows written per step when a table's files are made (bounds the memory a refresh takes)
CHUNK = 8_000_000


class SubjectIndex:
    """The sorted (s, o) files and the dictionary files of one generation of a store, all
    mapped (not read) when opened: an update removes files a reader may still use."""

    def __init__(self, folder: Path, manifest: dict[str, Any]) -> None:
        self.folder, self.manifest = folder, manifest
        self.generation: str = manifest["generation"]
        self.tables: dict[str, dict[str, Any]] = manifest["tables"]
        self._arrays = {t: (np.load(folder / meta["s"], mmap_mode="r"),
                            np.load(folder / meta["o"], mmap_mode="r"))
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

    def arrays(self, table: str) -> tuple[np.ndarray, np.ndarray]:
        """The subjects (sorted) and objects of ``table``, memory-mapped."""
        return self._arrays[table]

    def lookup(self, table: str, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The (s, o) rows of ``table`` whose subject is in ``keys`` (sorted, distinct)."""
        s, o = self.arrays(table)
        lo = np.searchsorted(s, keys, "left")
        n = np.searchsorted(s, keys, "right") - lo
        n_all = int(n.sum())
        if not n_all:
            return np.empty(0, np.int32), np.empty(0, np.int32)
        # row positions: each key's run lo .. lo + n
        first = np.repeat(lo - (np.cumsum(n) - n), n)
        at = first + np.arange(n_all)
        return np.asarray(s[at]), np.asarray(o[at])


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


def _write(folder: Path, stem: str, n: int,
           parts: Iterable[tuple[Any, np.ndarray, np.ndarray]]) -> dict[str, Any]:
    """``stem.s.npy`` and ``stem.o.npy``, ``n`` int32 values each, filled by ``parts``
    (positions - a slice or an index array - with their subjects and objects), synced."""
    names = {"s": stem + ".s.npy", "o": stem + ".o.npy"}
    s = np.lib.format.open_memmap(folder / names["s"], mode="w+", dtype=np.int32, shape=(n,))
    o = np.lib.format.open_memmap(folder / names["o"], mode="w+", dtype=np.int32, shape=(n,))
    for at, ps, po in parts:
        s[at], o[at] = ps, po
    for arr in (s, o):
        arr.flush()
    del s, o
    for name in names.values():
        fsync(folder / name)
    return {"rows": n, **names}


def _sorted_rows(con: Any, sql: str) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The rows of ``sql`` (columns s, o) ordered by s, in batches (DuckDB sorts, spilling
    beyond its memory limit)."""
    reader = con.sql(f"SELECT s, o FROM ({sql}) ORDER BY s").to_arrow_reader(CHUNK)
    for batch in reader:
        yield (batch.column(0).to_numpy(zero_copy_only=False).astype(np.int32, copy=False),
               batch.column(1).to_numpy(zero_copy_only=False).astype(np.int32, copy=False))


def _build(folder: Path, stem: str, con: Any, table: str, rows: int) -> dict[str, Any]:
    """The files of ``table`` from scratch."""
    def parts() -> Iterator[tuple[Any, np.ndarray, np.ndarray]]:
        at = 0
        for s, o in _sorted_rows(con, f"SELECT s, o FROM {table}"):
            yield slice(at, at + len(s)), s, o
            at += len(s)
    return _write(folder, stem, rows, parts())


def _merge(folder: Path, stem: str, con: Any, table: str, rows: int,
           old: SubjectIndex, since: int) -> dict[str, Any]:
    """The files of ``table``: the old index's rows with the rows of rounds > ``since``
    merged in (one pass over the old files)."""
    s0, o0 = old.arrays(table)
    new = list(_sorted_rows(con, f"SELECT s, o FROM {table} WHERE r > {since}"))
    s1 = np.concatenate([s for s, _ in new]) if new else np.empty(0, np.int32)
    o1 = np.concatenate([o for _, o in new]) if new else np.empty(0, np.int32)
    pos = np.searchsorted(s0, s1, "right")  # where each new row goes among the old ones

    def parts() -> Iterator[tuple[Any, np.ndarray, np.ndarray]]:
        yield pos + np.arange(len(pos)), s1, o1
        for a in range(0, len(s0), CHUNK):
            i = np.arange(a, min(a + CHUNK, len(s0)))
            yield i + np.searchsorted(pos, i, "right"), s0[a:a + CHUNK], o0[a:a + CHUNK]
    return _write(folder, stem, rows, parts())


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
        stem = f"{table}-{generation}"
        n0 = base.rows(table) if base is not None else 0
        since = base.tables[table]["round"] if n0 and base is not None else 0
        kept = n0 and scalar(con, f"SELECT count(*) FROM {table} WHERE r <= {since}") == n0
        if kept and rows == n0 and base is not None:
            out[table] = base.tables[table]
            continue
        if kept and rows - n0 <= n0 and base is not None:
            out[table] = _merge(folder, stem, con, table, rows, base, since)
        else:
            out[table] = _build(folder, stem, con, table, rows)
        out[table]["round"] = int(top)
    terms = append(folder, con, base.terms if base is not None else [], generation)
    n = terms[-1]["hi"] if terms else 0
    hashes = base.hashes if base is not None else None
    if hashes is None or hashes["terms"] > n:
        hashes = merge_hashes(folder, con, None, 0, generation)
    elif hashes["terms"] < n:
        hashes = merge_hashes(folder, con, hashes, hashes["terms"], generation)
    manifest = {"generation": generation, "tables": out, "terms": terms, "hashes": hashes}
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1) + "\n")
    fsync(tmp)
    os.replace(tmp, folder / MANIFEST)
    fsync(folder)
    keep = {MANIFEST, hashes["h"], hashes["id"]} | {
        meta[k] for meta in out.values() for k in ("s", "o")} | {seg["file"] for seg in terms}
    for path in folder.iterdir():
        if path.name not in keep:
            path.unlink(missing_ok=True)  # readers keep their mappings of removed files
    return SubjectIndex(folder, manifest)
