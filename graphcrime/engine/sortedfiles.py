"""Numpy files of a DuckDB query's columns, written in its order batch by batch.

The subject index (``engine.subjects``) and the dictionary's hash runs (``engine.termfiles``)
are such files. They are written with plain file writes, never through a writable memory
map, whose pages would count in the writer's resident memory until the whole file is
written (2.4 GB for a table of 300M rows, on top of DuckDB's memory limit); DuckDB sorts
(and spills beyond its limit) and hands over one batch at a time.

>>> import duckdb, tempfile, numpy as np
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> con = duckdb.connect()
>>> w = write(folder, {"k": "k.npy", "v": "v.npy"}, {"k": np.int32, "v": np.uint64}, con,
...           "SELECT (10 - i)::INTEGER AS k, i::UBIGINT AS v FROM range(4) t(i) ORDER BY k",
...           sample=("k", 3))
>>> w.rows, np.load(folder / "k.npy").tolist(), np.load(folder / "v.npy").tolist()
(4, [7, 8, 9, 10], [3, 2, 1, 0])
>>> w.sample.tolist()  # every 3rd k, taken while writing
[7, 10]
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from graphcrime.engine.disk import fsync

#: rows per batch (bounds the memory of writing)
BATCH = 8_000_000


class Written(NamedTuple):
    """What :func:`write` wrote: the number of rows, and the sampled values (if asked)."""

    rows: int
    sample: np.ndarray | None


def write(folder: Path, names: dict[str, str], dtypes: dict[str, Any], con: Any,
          sql: str, sample: tuple[str, int] | None = None) -> Written:
    """Write each column of ``sql`` named in ``names`` to its ``.npy`` file (dtype from
    ``dtypes``), rows in the query's order; sync them. ``sample`` = (column, n): every n-th
    value of that column is kept as it goes by (``values[::n]`` of the file, without reading
    it again)."""
    # the row count is known after the query only: headers are written last, in place,
    # at the fixed size numpy's format pads them to
    header = {c: _header(dtypes[c], 0) for c in names}
    rows = 0
    kept: list[np.ndarray] = []
    with contextlib.ExitStack() as stack:
        files = {c: stack.enter_context(open(folder / n, "wb")) for c, n in names.items()}
        for c, f in files.items():
            f.write(header[c])
        for batch in con.sql(sql).to_arrow_reader(BATCH):
            for c, f in files.items():
                col = batch.column(batch.schema.get_field_index(c))
                values = col.to_numpy(zero_copy_only=False).astype(dtypes[c], copy=False)
                f.write(values.tobytes())
                if sample is not None and c == sample[0]:
                    kept.append(values[(-rows) % sample[1]::sample[1]].copy())
            rows += batch.num_rows
        for c, f in files.items():
            f.seek(0)
            f.write(_header(dtypes[c], rows, len(header[c])))
    for n in names.values():
        fsync(folder / n)
    got = None if sample is None else (
        np.concatenate(kept) if kept else np.empty(0, dtypes[sample[0]]))
    return Written(rows, got)


def _header(dtype: Any, rows: int, size: int | None = None) -> bytes:
    """A ``.npy`` (format 1.0) header of a 1-d array of ``rows`` values, padded to ``size``
    bytes (or numpy's own padding plus room for any row count)."""
    d = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
         "shape": (rows,)}
    text = repr(d).encode("latin1")
    size = size or ((10 + len(text) + 32 + 63) // 64) * 64
    pad = size - 10 - len(text)
    return (b"\x93NUMPY\x01\x00" + (size - 10).to_bytes(2, "little") + text
            + b" " * (pad - 1) + b"\n")
