"""QueryResult: a SPARQL answer held as SQL over the store's DuckDB connection.

Rows stay in DuckDB: writing a result is a ``COPY`` (see :mod:`graphcrime.sparql.formats`);
only :meth:`QueryResult.rows` and :meth:`QueryResult.triples` build Python objects.

>>> QueryResult.suffix_format("out/answers.csv.gz")
('csv', True)
"""

from __future__ import annotations

import contextlib
import gzip as _gzip
import os
import tempfile
import weakref
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from graphcrime.db import scalar
from graphcrime.errors import QueryError
from graphcrime.nt import parse_nt
from graphcrime.sparql import formats

_SUFFIX = {"nt": "nt", "ttl": "ttl", "csv": "csv", "tsv": "tsv", "json": "json", "srj": "json",
           "xml": "xml", "srx": "xml"}


@lru_cache(maxsize=65536)
def nt_to_term(nt: str) -> Any:
    """A pyoxigraph term from canonical N-Triples.

    >>> nt_to_term('"a"@en')
    <Literal value=a language=en>
    """
    kind, lex, dt, lang = parse_nt(nt)
    if kind == "iri":
        return ox.NamedNode(lex)
    if kind == "bnode":
        return ox.BlankNode(lex)
    if lang:
        return ox.Literal(lex, language=lang)
    return ox.Literal(lex, datatype=ox.NamedNode(dt or "http://www.w3.org/2001/XMLSchema#string"))


#: (id of a connection, temporary table) of answers that no result reads any more: dropped
#: by :func:`drop_released` the next time a query runs on that connection. A finalizer must
#: not run SQL itself: it runs whenever the garbage collector does, possibly between another
#: thread's ``execute`` and its ``fetchall`` on the same connection, whose result it replaces.
_released: list[tuple[int, str]] = []


def _release(con_id: int, names: tuple[str, ...]) -> None:
    _released.extend((con_id, name) for name in names)


def drop_released(con: Any) -> None:
    """Drop the temporary answer tables of ``con`` whose results are gone."""
    for item in [r for r in list(_released) if r[0] == id(con)]:
        con.execute(f"DROP TABLE IF EXISTS {item[1]}")
        with contextlib.suppress(ValueError):
            _released.remove(item)


class QueryResult:
    """The answer of :func:`graphcrime.sparql.run_query`.

    ``kind`` is ``"select"``, ``"ask"`` or ``"graph"``; ``variables`` the SELECT variable
    names (no ``?``); ``engine`` ``"duckdb"`` or ``"pyoxigraph"`` (``fallback_reason`` says
    why the fallback ran).
    """

    def __init__(self, con: Any, kind: str, *, variables: list[str] | None = None,
                 sql: str | None = None, ordered: bool = False, ask: bool | None = None,
                 engine: str = "duckdb", fallback_reason: str | None = None,
                 temp: list[str] | None = None) -> None:
        self.con = con
        self.kind = kind
        self.variables = list(variables or [])
        self.sql = sql
        self.ordered = ordered
        self.ask = ask
        self.engine = engine
        self.fallback_reason = fallback_reason
        self._len: int | None = None
        if temp:  # the answer's temporary tables live as long as the result
            weakref.finalize(self, _release, id(con), tuple(temp))

    def __repr__(self) -> str:
        return (f"<QueryResult {self.kind} engine={self.engine} "
                f"variables={self.variables}>")

    # -- Python access --------------------------------------------------------------------
    def _ordered_sql(self, cols: str) -> str:
        order = " ORDER BY _ord" if self.ordered else ""
        return f"SELECT {cols} FROM ({self.sql}) x{order}"

    def rows(self) -> list[tuple[Any, ...]]:
        """SELECT solutions as tuples of pyoxigraph terms (None where unbound), in order."""
        if self.kind != "select":
            raise QueryError(f"a {self.kind} result has no rows",
                             hint="use .triples() for CONSTRUCT/DESCRIBE, bool() for ASK")
        cols = ", ".join(f"n{i}" for i in range(len(self.variables))) or "1"
        out = self.con.execute(self._ordered_sql(cols)).fetchall()
        if not self.variables:
            return [() for _ in out]
        return [tuple(None if t is None else nt_to_term(t) for t in row) for row in out]

    def __iter__(self) -> Any:
        return iter(self.triples() if self.kind == "graph" else self.rows())

    def triples(self) -> list[Any]:
        """CONSTRUCT/DESCRIBE triples (or the rows of a ?S ?P ?O SELECT) as pyoxigraph Triples."""
        if self.kind == "graph":
            sql = f"SELECT s, p, o FROM ({self.sql}) x"
        elif self.kind == "select" and [v.upper() for v in self.variables] == ["S", "P", "O"]:
            sql = self._ordered_sql("n0, n1, n2") + ""
            sql = f"SELECT * FROM ({sql}) y WHERE n0 NOT LIKE '\"%' AND n1 LIKE '<%' " \
                  f"AND n2 IS NOT NULL"
        else:
            raise QueryError("this result has no triples",
                             hint="CONSTRUCT/DESCRIBE or SELECT ?S ?P ?O give triples")
        return [ox.Triple(nt_to_term(s), nt_to_term(p), nt_to_term(o))
                for s, p, o in self.con.execute(sql).fetchall()]

    def __len__(self) -> int:
        if self.kind == "ask":
            return 1
        if self._len is None:
            self._len = int(scalar(self.con, f"SELECT count(*) FROM ({self.sql}) x"))
        return self._len

    def __bool__(self) -> bool:
        if self.kind == "ask":
            return bool(self.ask)
        return len(self) > 0

    def to_pandas(self) -> Any:
        """A pandas DataFrame of canonical N-Triples strings (needs pandas installed)."""
        try:
            import pandas  # noqa: F401
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise QueryError("to_pandas() needs pandas", hint="pip install pandas") from e
        if self.kind == "ask":
            import pandas as pd

            return pd.DataFrame({"ask": [bool(self.ask)]})
        if self.kind == "graph":
            return self.con.execute(f"SELECT s, p, o FROM ({self.sql}) x").df()
        cols = ", ".join(f'n{i} AS "{v}"' for i, v in enumerate(self.variables)) or "1 AS _"
        return self.con.execute(self._ordered_sql(cols)).df()

    # -- writing --------------------------------------------------------------------------
    @staticmethod
    def suffix_format(path: str | os.PathLike[str]) -> tuple[str, bool]:
        """(format, gzip) from a file name: ``.nt .ttl .csv .tsv .json .xml`` (+ ``.gz``)."""
        name = Path(path).name.lower()
        gz = name.endswith(".gz")
        if gz:
            name = name[:-3]
        ext = name.rsplit(".", 1)[-1] if "." in name else ""
        if ext not in _SUFFIX:
            raise QueryError(f"cannot tell the result format from {Path(path).name!r}",
                             file=str(path),
                             hint="end the name with .nt, .ttl, .csv, .tsv, .json or .xml "
                                  "(optionally .gz)")
        return _SUFFIX[ext], gz

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the result to ``path`` in the format its suffix names; returns the path."""
        fmt, gz = self.suffix_format(path)
        self._write(fmt, str(path), gz)
        return Path(path)

    def _write(self, fmt: str, path: str, gz: bool) -> None:
        if self.kind == "ask":
            try:
                text = formats.ask_text(fmt, bool(self.ask)).encode()
            except ValueError as e:
                raise QueryError(str(e), file=path, hint="write ASK results as .json or .xml"
                                 ) from e
            with (_gzip.open(path, "wb") if gz else open(path, "wb")) as f:
                f.write(text)
            return
        try:
            if self.kind == "graph":
                lines = formats.graph_lines(fmt, self.sql or "")
            else:
                lines = formats.select_lines(fmt, self.sql or "", self.variables, self.ordered)
        except ValueError as e:
            raise QueryError(str(e), file=path,
                             hint="graph results: .nt/.ttl; SELECT: .csv/.tsv/.json/.xml "
                                  "(.nt only for ?S ?P ?O)") from e
        formats.copy_lines(self.con, lines, path, gz)

    def serialize(self, fmt: str) -> bytes:
        """The result as bytes in ``fmt`` (json, csv, tsv, xml, nt, ttl) for an endpoint."""
        fmt = _SUFFIX.get(fmt.lower().lstrip("."), fmt)
        fd, tmp = tempfile.mkstemp(suffix="." + fmt)
        os.close(fd)
        try:
            self._write(fmt, tmp, False)
            return Path(tmp).read_bytes()
        finally:
            os.unlink(tmp)
