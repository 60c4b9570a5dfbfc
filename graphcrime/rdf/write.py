"""Writing encoded triples as N-Triples / N-Quads / Turtle: a join with ``terms`` and one COPY.

Canonical nt strings are valid N-Triples terms, so a line is their concatenation; DuckDB
writes the lines (gzip when the name ends in ``.gz``) to a temporary file that is then
renamed into place, so a reader never sees half a file.

>>> import duckdb, tempfile, pathlib
>>> from graphcrime.rdf.dictionary import create_terms, intern_values
>>> con = duckdb.connect(); create_terms(con)
>>> s, p, o = intern_values(con, ['<http://e/s>', '<http://e/p>', '"a \\\\"b\\\\""@en'])
>>> _ = con.execute(f"CREATE TABLE r AS SELECT {s} AS s, {p} AS p, {o} AS o")
>>> out = pathlib.Path(tempfile.mkdtemp()) / "r.nt"
>>> write_triples(con, "r", out)
1
>>> out.read_text()
'<http://e/s> <http://e/p> "a \\\\"b\\\\""@en .\\n'
"""

from __future__ import annotations

import os
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from graphcrime.db import scalar
from graphcrime.errors import DataError
from graphcrime.rdf.dictionary import _relation, q

_FORMATS = {".nt": "nt", ".nq": "nq", ".ttl": "ttl"}


def _format(path: Path) -> tuple[str, bool]:
    name = path.name.lower()
    gz = name.endswith(".gz")
    stem = name[:-3] if gz else name
    for ext, fmt in _FORMATS.items():
        if stem.endswith(ext):
            return fmt, gz
    raise DataError(f"cannot tell the RDF format of {path.name!r}", file=str(path),
                    hint="name the output .nt, .nq or .ttl (optionally .gz)")


def lines_sql(relation_sql: str, graph_column: str | None = None, sort: bool = False) -> str:
    """SQL query with one column ``line``: each row of the relation as an N-Triples/N-Quads line.

    The relation has integer columns ``s, p, o`` (and ``graph_column`` when given: a graph
    term id, NULL for the default graph).
    """
    g_join = g_part = ""
    if graph_column:
        g_join = f" LEFT JOIN terms tg ON tg.id = r.{graph_column}"
        g_part = " || coalesce(' ' || tg.nt, '')"
    order = " ORDER BY line" if sort else ""
    return (f"SELECT ts.nt || ' ' || tp.nt || ' ' || tob.nt{g_part} || ' .' AS line "
            f"FROM {_relation(relation_sql)} AS r JOIN terms ts ON ts.id = r.s "
            f"JOIN terms tp ON tp.id = r.p JOIN terms tob ON tob.id = r.o{g_join}{order}")


def write_triples(con, relation_sql: str, path: str | Path, graph_column: str | None = None,
                  sort: bool = False) -> int:
    """Write the relation (integer ``s, p, o`` [+ graph]) to ``path``; returns the line count.

    The format follows the name: ``.nt``, ``.nq`` (with ``graph_column``), ``.ttl`` (N-Triples
    lines are Turtle), each optionally ``.gz``. ``sort`` orders the lines (reproducible files).
    """
    path = Path(path)
    fmt, gz = _format(path)
    if graph_column and fmt != "nq":
        raise DataError("graph names can only be written to N-Quads", file=str(path),
                        hint="name the output .nq, or leave graph_column out")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    plain = path.with_name(f".{path.name}.{os.getpid()}.plain") if gz else tmp
    sql = (f"COPY ({lines_sql(relation_sql, graph_column if fmt == 'nq' else None, sort)}) "
           f"TO {q(str(plain))} (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', "
           f"COMPRESSION none)")
    try:
        n = scalar(con, sql)
        if gz:
            gzip_members(plain, tmp)
        os.replace(tmp, path)
    finally:
        for t in {tmp, plain}:
            if t.exists():
                t.unlink()
    return int(n)


def gzip_members(src: Path, dst: Path, level: int = 1, block: int = 32 << 20,
                 threads: int | None = None) -> None:
    """Gzip ``src`` into ``dst`` as one gzip member per block, compressed on several threads.

    Concatenated members are one valid gzip stream (RFC 1952); zlib releases the GIL, so
    this is several times faster than DuckDB's single-threaded gzip writer.
    """
    workers = threads or os.cpu_count() or 1

    def pack(data: bytes) -> bytes:
        c = zlib.compressobj(level, zlib.DEFLATED, 31)
        return c.compress(data) + c.flush()

    with open(src, "rb") as fin, open(dst, "wb") as fout, \
            ThreadPoolExecutor(workers) as pool:
        pending: deque[Future[bytes]] = deque()
        while data := fin.read(block):
            pending.append(pool.submit(pack, data))
            if len(pending) > 2 * workers:
                fout.write(pending.popleft().result())
        while pending:
            fout.write(pending.popleft().result())
