"""Small typed helpers over a DuckDB connection (one place for "the first column of one row").

>>> import duckdb
>>> con = duckdb.connect()
>>> scalar(con, "SELECT 40 + ?", [2]), first_row(con, "SELECT 1, 'a'")
(42, (1, 'a'))
"""

from __future__ import annotations

from typing import Any

import duckdb


def first_row(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> tuple[Any, ...]:
    """The first row of ``sql`` (a query of one row: it is fetched to the end, which
    finishes the connection's result); a query that gives none is a bug, so it raises."""
    got = con.execute(sql, params).fetchall() if params is not None else con.execute(sql).fetchall()
    if not got:
        raise RuntimeError(f"query returned no row: {sql[:200]}")
    return got[0]


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> Any:
    """The first column of the first row of ``sql`` (``count(*)``, ``current_setting(...)``)."""
    return first_row(con, sql, params)[0]


def temp_table(con: duckdb.DuckDBPyConnection, name: str, data: Any,
               select: str = "SELECT * FROM {rows}") -> str:
    """Temporary table ``name`` made by ``select`` over the Arrow table ``data``, which is
    registered as ``{rows}`` meanwhile; returns ``name``.

    >>> import pyarrow as pa
    >>> con = duckdb.connect()
    >>> t = temp_table(con, "_t", pa.table({"x": [1, 2]}), "SELECT x * 2 AS y FROM {rows}")
    >>> con.execute(f"SELECT sum(y) FROM {t}").fetchall()
    [(6,)]
    """
    rows = name + "_rows"
    con.register(rows, data)
    try:
        con.execute(f"CREATE TEMP TABLE {name} AS " + select.replace("{rows}", rows))
    finally:
        con.unregister(rows)
    return name


__all__ = ["first_row", "scalar", "temp_table"]
