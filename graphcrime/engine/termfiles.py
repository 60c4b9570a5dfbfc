"""The dictionary of a store on disk by id: ``term_rows`` copied into Arrow files beside the
database (in ``subjects/``, listed by its manifest), read by position.

Writing an answer turns its term ids into strings; DuckDB does that with a hash join that
scans the whole dictionary (3.4 GB for the 133k distinct objects of a reference answer over
54M terms). Ids are dense and only grow, so the term strings of ids ``lo .. hi`` are rows
``0 .. hi - lo`` of a segment file, and a memory-mapped ``take`` reads only their pages; the
other columns (kind, datatype, typed values) are computed from them as the dictionary does.
Each update appends one segment with its new terms; past ``SEGMENTS`` they are merged.
The other way, a constant's id, comes from the terms' 64-bit hashes sorted with their ids
(``hashes-*.npy``, one run per update, merged like the segments): a binary search per run,
then the candidate's string compared, instead of a scan of every hash.

>>> import duckdb, tempfile
>>> from graphcrime.rdf.dictionary import create_terms, intern_values
>>> con = duckdb.connect()
>>> create_terms(con)
>>> ids = intern_values(con, ['<http://e/a>', '"7"^^<http://www.w3.org/2001/XMLSchema#int>'])
>>> folder = Path(tempfile.mkdtemp())
>>> files = TermFiles(folder, append(folder, con, [], "g1"), hash_runs(folder, con, None, 2, "g1"))
>>> name = files.table(con, ids[::-1])
>>> con.execute(f"SELECT id, lex, num FROM {name} ORDER BY id").fetchall()
[(0, 'http://e/a', None), (1, '7', 7.0)]
>>> files.ids(con, ['<http://e/b>', '<http://e/a>'])
[None, 0]
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from graphcrime.db import scalar, temp_table
from graphcrime.engine import sortedfiles
from graphcrime.engine.disk import fsync
from graphcrime.rdf.dictionary import LEX_SQL, TERM_ROWS, terms_rows_sql

#: segments kept apart before they are merged into one
SEGMENTS = 32
#: the columns of ``term_rows``, in its order (the view ``terms`` adds ``lex``)
COLUMNS = "id, nt, kind, slex, dt, lang, num, ts, bool, h"
_tables = itertools.count()


def _write(folder: Path, con: Any, lo: int, hi: int, tag: str) -> dict[str, Any]:
    """A segment of the terms with ids ``lo .. hi - 1`` (ordered by id), synced; files are
    never rewritten (``tag``: the generation that wrote it)."""
    name = f"terms-{lo}-{hi}-{tag}.arrow"
    reader = con.sql(f"SELECT nt FROM {TERM_ROWS} WHERE id >= {lo} AND id < {hi} "
                     f"ORDER BY id").to_arrow_reader(1_000_000)
    with pa.OSFile(str(folder / name), "wb") as sink, \
            pa.ipc.new_file(sink, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)
    fsync(folder / name)
    return {"file": name, "lo": lo, "hi": hi}


def append(folder: Path, con: Any, segments: list[dict[str, Any]], tag: str
           ) -> list[dict[str, Any]]:
    """The segments covering every term: ``segments`` (those of the state before) with one
    for the newer terms, or all in one when there would be more than ``SEGMENTS``."""
    n = int(scalar(con, f"SELECT count(*) FROM {TERM_ROWS}"))
    top = segments[-1]["hi"] if segments else 0
    if top > n:  # fewer terms than indexed: not a state the index followed
        segments, top = [], 0
    if top == n:
        return segments
    if len(segments) >= SEGMENTS:
        return [_write(folder, con, 0, n, tag)]
    return [*segments, _write(folder, con, top, n, tag)]


class TermFiles:
    """The dictionary files of one generation, mapped (not read) when made: an update may
    remove files a reader of the state before still uses."""

    def __init__(self, folder: Path, segments: list[dict[str, Any]],
                 hashes: dict[str, Any] | None) -> None:
        self.segments = []
        for seg in segments:
            reader = pa.ipc.open_file(pa.memory_map(str(folder / seg["file"])))
            batches = [reader.get_batch(i) for i in range(reader.num_record_batches)]
            starts = seg["lo"] + np.cumsum([0] + [b.num_rows for b in batches])
            self.segments.append((batches, starts))
        self.hashes = [(np.load(folder / run["h"], mmap_mode="r"),
                        np.load(folder / run["id"], mmap_mode="r"))
                       for run in (hashes or {}).get("runs", [])]

    def _take(self, ids: np.ndarray) -> list[pa.RecordBatch]:
        """The rows of ``ids`` (sorted, distinct), taken batch by batch from the mapped files
        (a take over a whole file would join its batches: over 2 GB of strings)."""
        out = []
        for batches, starts in self.segments:
            cuts = np.searchsorted(ids, starts)
            out += [batch.take(pa.array(ids[a:b] - start)) for batch, start, a, b
                    in zip(batches, starts[:-1], cuts[:-1], cuts[1:], strict=True) if b > a]
        return out

    def table(self, con: Any, ids: Iterable[int] | np.ndarray) -> str:
        """A temporary table shaped like the view ``terms`` holding the terms of ``ids``;
        returns its name (the caller drops it)."""
        want = np.unique(np.asarray(ids, dtype=np.int64))
        parts = self._take(want)
        nts = pa.concat_arrays([b.column(0) for b in parts]) if parts else pa.array([], pa.string())
        # the other columns of the terms, as the dictionary computes them
        rows = terms_rows_sql("SELECT id, nt FROM {rows}")
        return temp_table(con, f"_gc_terms_{next(_tables)}",
                          pa.table({"id": pa.array(want[:len(nts)], pa.int32()), "nt": nts}),
                          f"SELECT *, {LEX_SQL} AS lex FROM (SELECT * FROM ({rows}) t({COLUMNS}))")

    def ids(self, con: Any, nts: list[str]) -> list[int | None]:
        """The ids of canonical N-Triples terms, None for unknown ones: their hashes
        searched in the sorted hash runs, each candidate's string compared."""
        if not nts:
            return []
        got = con.execute("SELECT hash(nt) AS h FROM (SELECT unnest(?::VARCHAR[]) AS nt)",
                          [nts]).fetchnumpy()["h"].astype(np.uint64)
        found: list[list[int]] = [[] for _ in nts]
        for h, ids in self.hashes:
            lo, hi = np.searchsorted(h, got, "left"), np.searchsorted(h, got, "right")
            for i, (a, b) in enumerate(zip(lo.tolist(), hi.tolist(), strict=True)):
                found[i] += [int(x) for x in ids[a:b]]  # almost always one, or none
        out: list[int | None] = []
        for nt, candidates in zip(nts, found, strict=True):
            ids_ = np.unique(np.asarray(candidates, dtype=np.int64))
            strings = [x for batch in self._take(ids_) for x in batch.column("nt").to_pylist()]
            out.append(next((int(i) for i, x in zip(ids_, strings, strict=True) if x == nt),
                            None))
        return out


def hash_runs(folder: Path, con: Any, old: dict[str, Any] | None, n: int, tag: str
              ) -> dict[str, Any]:
    """Sorted hash files of the terms with ids below ``n``: ``old``'s runs (terms below
    ``old["terms"]``) and one for the terms after them, or all in one run past ``SEGMENTS``."""
    runs = list(old["runs"]) if old is not None and old["terms"] <= n else []
    lo = old["terms"] if runs and old is not None else 0
    if lo == n and old is not None:
        return old
    if len(runs) >= SEGMENTS:
        runs, lo = [], 0
    run = {"h": f"hashes-{lo}-{n}-{tag}.h.npy", "id": f"hashes-{lo}-{n}-{tag}.id.npy"}
    sortedfiles.write(folder, run, {"h": np.uint64, "id": np.int32}, con,
                      f"SELECT h, id FROM {TERM_ROWS} WHERE id >= {lo} AND id < {n} ORDER BY h")
    return {"terms": n, "runs": [*runs, run]}
