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
from pathlib import Path

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
    sql = (f"COPY ({lines_sql(relation_sql, graph_column if fmt == 'nq' else None, sort)}) "
           f"TO {q(str(tmp))} (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', "
           f"COMPRESSION {'gzip' if gz else 'none'})")
    try:
        n = con.execute(sql).fetchone()[0]
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return int(n)
