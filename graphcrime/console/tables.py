"""Server-side paging of result tables: a relation stays in DuckDB, one page reaches the browser.

A :class:`Table` is materialised once (``CREATE TEMP TABLE ... AS``) from a relation with
columns ``n0..nk`` (canonical N-Triples) and, when known, ``l0..lk`` (lexical forms, which
sort numbers as numbers); :meth:`Table.page` sorts by one column and cuts a page in SQL.
Cells are JSON objects ``{"t": "iri"|"bnode"|"lit", "v": value, "dt": datatype, "lang": tag}``.

>>> import duckdb
>>> con = duckdb.connect()
>>> t = Table.create(con, "SELECT * FROM (VALUES ('\\"10\\"', '10'), ('\\"9\\"', '9')) v(n0, l0)",
...                  ["x"], lex=True)
>>> [r[0]["v"] for r in t.page(sort=0)["rows"]]
['9', '10']
"""

from __future__ import annotations

import contextlib
import itertools
import re
from dataclasses import dataclass
from typing import Any

from graphcrime.nt import parse_nt

MAX_PAGE = 500
XSD = "http://www.w3.org/2001/XMLSchema#"
_IRI_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"]+$")
_names = itertools.count()


def cell(nt: str | None, lex: str | None = None) -> dict[str, Any] | None:
    """A JSON cell from a canonical N-Triples term (or, for CSV tables, a plain value)."""
    if nt is None:
        if lex is None:
            return None
        return {"t": "iri" if _IRI_LIKE.match(lex) else "lit", "v": lex}
    kind, value, dt, lang = parse_nt(nt)
    out: dict[str, Any] = {"t": {"iri": "iri", "bnode": "bnode"}.get(kind, "lit"), "v": value}
    if kind == "literal":
        if lang:
            out["lang"] = lang
        elif dt and dt != XSD + "string":
            out["dt"] = dt.removeprefix(XSD) if dt.startswith(XSD) else dt
    return out


def clamp(offset: int | None, limit: int | None) -> tuple[int, int]:
    """A valid (offset, limit): offset >= 0, 1 <= limit <= :data:`MAX_PAGE`."""
    off = max(0, int(offset or 0))
    lim = min(MAX_PAGE, max(1, int(limit or 50)))
    return off, lim


@dataclass
class Table:
    """A materialised relation: ``columns`` names its ``n<i>`` (and ``l<i>``) columns."""

    con: Any
    name: str
    columns: list[str]
    lex: bool
    ordered: bool
    total: int
    lock: Any = None  # the connection's lock (a DuckDB connection runs one call at a time)

    @classmethod
    def create(cls, con: Any, sql: str, columns: list[str], *, lex: bool = False,
               nt: bool = True, ordered: bool = False, lock: Any = None) -> Table:
        """Materialise ``sql``; ``nt=False`` for tables of plain values (``l<i>`` only)."""
        name = f"gc_console_t{next(_names)}"
        cols = []
        for i in range(len(columns)):
            cols.append(f"n{i}" if nt else f"NULL::VARCHAR AS n{i}")
            if lex:
                cols.append(f"l{i}")
        if ordered:
            cols.append("_ord")
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT {', '.join(cols) or '1 AS _x'} "
                    f"FROM ({sql}) src")
        total = int(con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0])
        return cls(con, name, list(columns), lex, ordered, total, lock)

    def order_by(self, sort: int | None, desc: bool) -> str:
        if sort is None or not 0 <= sort < len(self.columns):
            return " ORDER BY _ord" if self.ordered else ""
        d = " DESC" if desc else ""
        key = f"l{sort}" if self.lex else f"n{sort}"
        return (f" ORDER BY TRY_CAST({key} AS DOUBLE){d} NULLS LAST, {key}{d} NULLS LAST"
                + (", _ord" if self.ordered else ""))

    def page(self, offset: int | None = 0, limit: int | None = 50, sort: int | None = None,
             desc: bool = False) -> dict[str, Any]:
        """``{"columns", "rows", "total", "offset", "limit"}`` for one page."""
        off, lim = clamp(offset, limit)
        n = len(self.columns)
        sel = ", ".join(f"n{i}" + (f", l{i}" if self.lex else "") for i in range(n)) or "1"
        with self.lock or contextlib.nullcontext():
            got = self.con.execute(f"SELECT {sel} FROM {self.name}"
                                   f"{self.order_by(sort, desc)} LIMIT {lim} OFFSET {off}"
                                   ).fetchall()
        step = 2 if self.lex else 1
        rows = [[cell(r[i * step], r[i * step + 1] if self.lex else None) for i in range(n)]
                for r in got] if n else [[] for _ in got]
        return {"columns": self.columns, "rows": rows, "total": self.total, "offset": off,
                "limit": lim}

    def drop(self) -> None:
        try:  # called under the owner's lock
            self.con.execute(f"DROP TABLE IF EXISTS {self.name}")
        except Exception:  # noqa: BLE001 - the connection may be closed already
            pass
