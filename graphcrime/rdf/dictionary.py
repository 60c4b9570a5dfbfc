"""The term dictionary: every RDF term gets a dense ``INTEGER`` id once, keyed by canonical nt.

Typed columns (``num``, ``ts``, ``bool``) are computed in SQL from the canonical N-Triples
string, so interning millions of terms is one ``INSERT ... SELECT`` (no per-term Python).

>>> import duckdb
>>> con = duckdb.connect()
>>> create_terms(con)
>>> a, five = intern_values(con, ['<http://e/a>', '"5"^^<http://www.w3.org/2001/XMLSchema#int>'])
>>> con.execute("SELECT kind, lex, dt[-3:], num FROM terms WHERE id = ?", [five]).fetchall()
[(2, '5', 'int', 5.0)]
>>> lookup(con, ['<http://e/a>', '<http://e/zz>']) == [a, None]
True
"""

from __future__ import annotations

from graphcrime.db import scalar
from graphcrime.errors import DataError
from graphcrime.nt import literal_nt
from graphcrime.vocab import (
    RDF_LANGSTRING,
    XSD,
    XSD_BOOLEAN,
    XSD_DATE,
    XSD_DATETIME,
    XSD_DECIMAL,
    XSD_DOUBLE,
    XSD_FLOAT,
    XSD_STRING,
)

#: The stored dictionary; read it through the view ``terms`` (which adds ``lex``), write here.
TERM_ROWS = "term_rows"
#: ``lex`` is stored for literals only (``slex``); for IRIs and blank nodes the view computes
#: it from ``nt`` when read, which keeps the longest strings out of storage and compression
#: (a view rather than a generated column: DuckDB evaluates those on every insert).
#: ``nt`` is never compressed: in a compressed store (see ``FactStore``) FSST-compressing the
#: dictionary was most of each checkpoint's time (single-threaded), for a third of its memory.
# (``substr`` rather than slices: DuckDB's ``nt[2:-2]`` is ~4x slower on long strings)
_IRI_LEX, _BLANK_LEX = "substr(nt, 2, length(nt) - 2)", "substr(nt, 3)"
#: the view's ``lex`` column, computed from a row of ``term_rows``
LEX_SQL = f"CASE kind WHEN 0 THEN {_IRI_LEX} WHEN 1 THEN {_BLANK_LEX} ELSE slex END"
TERMS_DDL = (
    f"CREATE TABLE IF NOT EXISTS {TERM_ROWS}(id INTEGER, "
    "nt VARCHAR USING COMPRESSION uncompressed, kind UTINYINT, slex VARCHAR, dt VARCHAR, "
    "lang VARCHAR, num DOUBLE, ts TIMESTAMP, bool BOOLEAN, h UBIGINT); "
    f"CREATE VIEW IF NOT EXISTS terms AS SELECT *, {LEX_SQL} AS lex FROM {TERM_ROWS}"
)

#: Integer-valued XSD types with their inclusive value ranges (None = unbounded).
_INT_RANGES: dict[str, tuple[int | None, int | None]] = {
    "integer": (None, None),
    "long": (-(2**63), 2**63 - 1),
    "int": (-(2**31), 2**31 - 1),
    "short": (-(2**15), 2**15 - 1),
    "byte": (-128, 127),
    "nonNegativeInteger": (0, None),
    "positiveInteger": (1, None),
    "nonPositiveInteger": (None, 0),
    "negativeInteger": (None, -1),
    "unsignedLong": (0, 2**64 - 1),
    "unsignedInt": (0, 2**32 - 1),
    "unsignedShort": (0, 2**16 - 1),
    "unsignedByte": (0, 255),
}
_DECIMAL_RE = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$"
_DOUBLE_RE = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_ZONE = r"(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?"
_DATE = r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_DATETIME_RE = (f"^{_DATE}T(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]+)?"
                f"|24:00:00(\\.0+)?){_ZONE}$")
_DATE_RE = f"^{_DATE}{_ZONE}$"


def q(text: str) -> str:
    """An SQL string literal.

    >>> q("it's")
    "'it''s'"
    """
    return "'" + text.replace("'", "''") + "'"


def escape_sql(lex_sql: str) -> str:
    """SQL escaping a lexical form for the inside of canonical quotes (\\\\, \\", \\n, \\r)."""
    return (f"replace(replace(replace(replace({lex_sql}, '\\', '\\\\'), '\"', '\\\"'), "
            f"chr(10), '\\n'), chr(13), '\\r')")


def nt_literal_sql(lex_sql: str, dt_sql: str, lang_sql: str) -> str:
    """SQL expression: canonical nt of a literal from SQL expressions for lex, datatype, lang.

    A non-empty ``lang`` wins (tag lower-cased); a NULL datatype means ``xsd:string``.

    >>> import duckdb
    >>> duckdb.connect().sql("SELECT " + nt_literal_sql("'a\\"b'", "NULL", "'EN'")).fetchall()[0][0]
    '"a\\\\"b"@en'
    """
    return (f"('\"' || {escape_sql(lex_sql)} || '\"' || CASE "
            f"WHEN coalesce({lang_sql}, '') <> '' THEN '@' || lower({lang_sql}) "
            f"WHEN {dt_sql} IS NULL OR {dt_sql} = {q(XSD_STRING)} THEN '' "
            f"ELSE '^^<' || {dt_sql} || '>' END)")


def _unescape_sql(raw: str) -> str:
    """SQL: the lexical form of an escaped literal body (split on ``\\\\`` so it is unambiguous)."""
    simple = ("replace(replace(replace(replace(replace(replace(replace({x}, '\\\"', '\"'), "
              "'\\n', chr(10)), '\\r', chr(13)), '\\t', chr(9)), '\\b', chr(8)), "
              "'\\f', chr(12)), '\\''', '''')")
    return (f"CASE WHEN strpos({raw}, '\\') = 0 THEN {raw} "
            f"WHEN strpos({raw}, '\\\\') = 0 THEN {simple.format(x=raw)} "
            f"ELSE array_to_string(list_transform(string_split({raw}, '\\\\'), "
            f"lambda _x: {simple.format(x='_x')}), '\\') END")


def _num_sql(lex: str, dt: str, dts: frozenset[str] | None = None) -> str:
    cases = []
    for name, (lo, hi) in _INT_RANGES.items():
        if dts is not None and XSD + name not in dts:
            continue
        cond = f"regexp_full_match({lex}, '^[+-]?[0-9]+$')"
        if lo is not None or hi is not None:
            v = f"TRY_CAST({lex} AS HUGEINT)"
            cond += "".join([f" AND {v} >= {lo}" if lo is not None else "",
                             f" AND {v} <= {hi}" if hi is not None else ""])
        cases.append(f"WHEN {dt} = {q(XSD + name)} THEN CASE WHEN {cond} "
                     f"THEN TRY_CAST({lex} AS DOUBLE) END")
    if dts is None or XSD_DECIMAL in dts:
        cases.append(f"WHEN {dt} = {q(XSD_DECIMAL)} THEN CASE WHEN regexp_full_match({lex}, "
                     f"{q(_DECIMAL_RE)}) THEN TRY_CAST({lex} AS DOUBLE) END")
    if dts is None or XSD_DOUBLE in dts or XSD_FLOAT in dts:
        cases.append(f"WHEN {dt} IN ({q(XSD_DOUBLE)}, {q(XSD_FLOAT)}) THEN CASE "
                     f"WHEN regexp_full_match({lex}, {q(_DOUBLE_RE)}) "
                     f"THEN TRY_CAST({lex} AS DOUBLE) "
                     f"WHEN {lex} IN ('INF', '+INF') THEN 'Infinity'::DOUBLE "
                     f"WHEN {lex} = '-INF' THEN '-Infinity'::DOUBLE "
                     f"WHEN {lex} = 'NaN' THEN 'NaN'::DOUBLE END")
    return ("CASE " + " ".join(cases) + " END") if cases else "NULL::DOUBLE"


def _ts_sql(lex: str, dt: str, dts: frozenset[str] | None = None) -> str:
    """SQL: UTC TIMESTAMP of an xsd:dateTime / xsd:date (no zone = UTC), NULL when invalid."""
    if dts is not None and not dts & {XSD_DATETIME, XSD_DATE}:
        return "NULL::TIMESTAMP"
    has_off = (f"(length({lex}) > 6 AND substr({lex}, -6, 1) IN ('+', '-') "
               f"AND substr({lex}, -3, 1) = ':')")
    main = (f"CASE WHEN suffix({lex}, 'Z') THEN left({lex}, -1) "
            f"WHEN {has_off} THEN left({lex}, -6) ELSE {lex} END")
    off = (f"CASE WHEN {has_off} THEN (CASE WHEN substr({lex}, -6, 1) = '-' THEN -1 ELSE 1 END) * "
           f"(CAST(substr({lex}, -5, 2) AS INTEGER) * 60 + CAST(substr({lex}, -2, 2) AS INTEGER)) "
           f"ELSE 0 END")
    base_dt = (f"CASE WHEN strpos({main}, 'T24:') > 0 THEN "
               f"TRY_CAST(TRY_CAST(split_part({main}, 'T', 1) AS DATE) + 1 AS TIMESTAMP) "
               f"ELSE TRY_CAST({main} AS TIMESTAMP) END")
    return (f"CASE WHEN {dt} = {q(XSD_DATETIME)} AND regexp_full_match({lex}, {q(_DATETIME_RE)}) "
            f"THEN {base_dt} - to_minutes({off}) "
            f"WHEN {dt} = {q(XSD_DATE)} AND regexp_full_match({lex}, {q(_DATE_RE)}) "
            f"THEN TRY_CAST(TRY_CAST({main} AS DATE) AS TIMESTAMP) - to_minutes({off}) END")


def _bool_sql(lex: str, dt: str, dts: frozenset[str] | None = None) -> str:
    if dts is not None and XSD_BOOLEAN not in dts:
        return "NULL::BOOLEAN"
    return (f"CASE WHEN {dt} = {q(XSD_BOOLEAN)} THEN CASE {lex} WHEN 'true' THEN true "
            f"WHEN '1' THEN true WHEN 'false' THEN false WHEN '0' THEN false END END")


def term_columns_sql(source: str, typed: bool = False,
                     kinds: tuple[bool, bool, bool] = (True, True, True),
                     names_lex: bool = True, dts: frozenset[str] | None = None) -> str:
    """SQL query: ``id, nt, kind, lex, dt, lang`` for the rows ``(id, nt)`` of query ``source``.

    IRIs, blank nodes and literals take separate branches, so literal parsing (the part after
    the closing quote, unescaping) runs on literals only; ``kinds`` says which of the three
    (IRI, blank node, literal) can occur, to leave the others out. With ``typed`` the
    columns ``num, ts, bool`` follow (computed for literals only). Without ``names_lex`` the
    ``lex`` of IRIs and blank nodes is NULL (``terms`` computes it from ``nt`` when read).
    ``dts``, when given, are the only datatypes the literals can have: the typed columns' SQL
    leaves the others out (a shorter statement plans faster).
    """
    raw = "substr(nt, 2, length(nt) - length(rest) - 2)"
    nulls = ", NULL::DOUBLE AS num, NULL::TIMESTAMP AS ts, NULL::BOOLEAN AS bool" if typed else ""
    lit = (f"SELECT id, nt, 2::UTINYINT AS kind, {_unescape_sql(raw)} AS lex, "
           f"CASE WHEN rest = '' THEN {q(XSD_STRING)} WHEN left(rest, 1) = '@' "
           f"THEN {q(RDF_LANGSTRING)} ELSE substr(rest, 4, length(rest) - 4) END AS dt, "
           f"CASE WHEN left(rest, 1) = '@' THEN substr(rest, 2) END AS lang FROM ("
           f"SELECT id, nt, split_part(nt, '\"', -1) AS rest FROM ({source}) "
           f"WHERE left(nt, 1) NOT IN ('<', '_'))")
    if typed:
        lit = f"SELECT *, {typed_columns_sql(dts=dts)} FROM ({lit})"
    iri_lex, blank_lex = (_IRI_LEX, _BLANK_LEX) if names_lex else ("NULL::VARCHAR",) * 2
    branches = [
        f"SELECT id, nt, 0::UTINYINT AS kind, {iri_lex} AS lex, NULL::VARCHAR AS dt, "
        f"NULL::VARCHAR AS lang{nulls} FROM ({source}) WHERE left(nt, 1) = '<'",
        f"SELECT id, nt, 1::UTINYINT AS kind, {blank_lex} AS lex, NULL::VARCHAR AS dt, "
        f"NULL::VARCHAR AS lang{nulls} FROM ({source}) WHERE left(nt, 1) = '_'",
        lit,
    ]
    chosen = [b for b, k in zip(branches, kinds, strict=True) if k] or branches[:1]
    return " UNION ALL ".join(f"({b})" for b in chosen) if len(chosen) > 1 else chosen[0]


def terms_rows_sql(source: str, kinds: tuple[bool, bool, bool] = (True, True, True),
                   dts: frozenset[str] | None = None) -> str:
    """SQL query: stored ``terms`` rows (typed columns and the hash of ``nt``; ``slex`` only
    for literals) for the rows ``(id, nt)`` of query ``source`` (``kinds``, ``dts``: see
    :func:`term_columns_sql`)."""
    return (f"SELECT id, nt, kind, lex, dt, lang, num, ts, bool, hash(nt) FROM "
            f"({term_columns_sql(source, typed=True, kinds=kinds, names_lex=False, dts=dts)})")


def typed_columns_sql(lex: str = "lex", dt: str = "dt", assign: bool = False,
                      dts: frozenset[str] | None = None) -> str:
    """SQL select list ``num, ts, bool`` from lexical form and datatype columns.

    With ``assign`` it is an UPDATE's SET list (``num = ..., ts = ..., bool = ...``); with
    ``dts`` only the branches of those datatypes are written.
    """
    parts = {"num": _num_sql(lex, dt, dts), "ts": _ts_sql(lex, dt, dts),
             "bool": _bool_sql(lex, dt, dts)}
    if assign:
        return ", ".join(f"{k} = {v}" for k, v in parts.items())
    return ", ".join(f"{v} AS {k}" for k, v in parts.items())


def create_terms(con) -> None:
    """Create the dictionary (table ``term_rows``, view ``terms``) if missing."""
    con.execute(TERMS_DDL)


def _relation(relation_sql: str) -> str:
    s = relation_sql.strip()
    head = s.split(None, 1)[0].upper() if s else ""
    return f"({s})" if head in ("SELECT", "WITH", "VALUES", "FROM") else s


def next_id(con) -> int:
    """The id the next interned term gets (ids are dense from 0)."""
    return int(scalar(con, f"SELECT count(*) FROM {TERM_ROWS}"))


def known_sql(candidates: str, h: str = "h", many: bool = False, spread: bool = False) -> str:
    """SQL query: ``nt, id, h`` of the rows of relation ``candidates`` (columns ``nt`` and its
    hash, named by ``h``) that are terms. It joins on the stored 64-bit hash first (integers)
    and reads term strings only for the hash matches: a join on the string would read every
    term's.

    With ``many`` (most candidates are terms already, e.g. the tokens of a load's later
    pieces) the matches' strings lie all over the dictionary and are read anyway; then one
    join on hash and string is quicker (300k of 1M candidates against 20M terms: 0.34 s
    instead of 1.3 s). With ``spread`` too (the dictionary holds several times more terms
    than there are candidates) that join would still read every term's string: the rows
    whose hash is a candidate's are taken in one scan first (the strings of those rows only)
    and compared after (1.5M candidates, 600k of them terms, against 30M terms: 0.95 s
    against 1.6 s; it holds the matched rows meanwhile, so it is not used on a small
    dictionary, where it saves nothing)."""
    if many and spread:
        return (f"WITH _hm AS MATERIALIZED (SELECT id, nt, h FROM {TERM_ROWS} WHERE h IN "
                f"(SELECT {h} FROM {candidates})) SELECT c.nt, t.id, t.h FROM _hm t "
                f"JOIN {candidates} c ON c.{h} = t.h AND c.nt = t.nt")
    if many:
        return (f"SELECT c.nt, t.id, t.h FROM {TERM_ROWS} t JOIN {candidates} c "
                f"ON t.h = c.{h} AND t.nt = c.nt")
    return (f"WITH _hm AS MATERIALIZED (SELECT t.id, c.nt, t.h FROM terms t JOIN {candidates} c "
            f"ON t.h = c.{h}) SELECT _hm.nt, _hm.id, _hm.h FROM _hm JOIN terms t "
            f"ON t.id = _hm.id AND t.nt = _hm.nt")


def intern(con, relation_sql: str, column: str | list[str], into: str | None = None,
           typed: str | None = None) -> int:
    """Add every distinct non-NULL nt of ``column`` (or of several columns) in the relation
    that is not yet a term.

    ``relation_sql`` is a table/view name or a query. Returns the number of terms added;
    new ids follow the existing ones (dense; their order among themselves is unspecified).
    With ``into``, a temporary table of that name maps each of those nts to its id
    (``nt, id, h`` with ``h = hash(nt)``), so callers join a small table rather than the
    whole dictionary. ``typed``, when given, is a query whose ``nt`` column holds every
    candidate that may not be an IRI (a superset will do; the others are IRIs, as a caller
    minting IRIs knows): the kinds of term and the datatypes that occur are read from it
    rather than from all new terms.
    """
    start = next_id(con)
    columns = [column] if isinstance(column, str) else column
    rel = _relation(relation_sql)
    nts = " UNION ALL ".join(f"SELECT n.{c} AS nt FROM {rel} AS n" for c in columns)
    table = into or "_gc_intern"
    # distinct candidates first, then the ones that are terms already (see known_sql)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS "
        f"WITH c AS MATERIALIZED (SELECT DISTINCT nt, hash(nt) AS h FROM ({nts}) "
        f"WHERE nt IS NOT NULL), "
        f"e AS MATERIALIZED ({known_sql('c')}) "
        f"SELECT nt, id, h FROM e UNION ALL SELECT nt, "
        f"{start} + row_number() OVER () - 1, h FROM (SELECT c.nt, c.h FROM c ANTI JOIN e "
        f"ON e.nt = c.nt)")
    source = f"SELECT id, nt FROM {table} WHERE id >= {start}"
    # which kinds of term, and what follows literals' closing quotes (their datatypes), occur
    *kinds, tails = con.execute(
        f"SELECT {'true' if typed else 'bool_or(left(nt, 1) = ' + q('<') + ')'}, "
        f"bool_or(left(nt, 1) = '_'), "
        f"bool_or(left(nt, 1) NOT IN ('<', '_')), list(DISTINCT split_part(nt, '\"', -1)) "
        f"FILTER (left(nt, 1) NOT IN ('<', '_')) FROM ({typed or source})").fetchone()
    dts = None if tails is None or len(tails) > 32 else frozenset(
        t[3:-1] for t in tails if t.startswith("^^<"))
    added = 0
    if any(kinds):
        added = int(scalar(con, f"INSERT INTO {TERM_ROWS} " + terms_rows_sql(
            source, kinds=(bool(kinds[0]), bool(kinds[1]), bool(kinds[2])), dts=dts)))
    if into is None:
        con.execute(f"DROP TABLE {table}")
    return added


def lookup(con, nts: list[str]) -> list[int | None]:
    """Ids of the given canonical nt strings, None where a term is unknown (small lists)."""
    if not nts:
        return []
    rows = con.execute(known_sql("(SELECT nt, hash(nt) AS h FROM (SELECT unnest(?::VARCHAR[]) "
                                 "AS nt))"), [list(nts)]).fetchall()
    ids = {nt: i for nt, i, _ in rows}
    return [ids.get(nt) for nt in nts]


def _check_nt(nt: str) -> None:
    ok = ((nt.startswith("<") and nt.endswith(">") and len(nt) > 2)
          or (nt.startswith("_:") and len(nt) > 2)
          or (nt.startswith('"') and nt.rfind('"') > 0))
    if not ok:
        raise DataError(f"not a canonical N-Triples term: {nt!r}",
                        hint='write <iri>, _:label or "lex", "lex"@lang, "lex"^^<datatype>')


def intern_values(con, nts: list[str]) -> list[int]:
    """Ids of the given canonical nt strings, adding the missing ones (small lists)."""
    nts = list(nts)
    for nt in nts:
        _check_nt(nt)
    if not nts:
        return []
    ids = lookup(con, nts)
    if any(i is None for i in ids):
        missing = list(dict.fromkeys(nt for nt, i in zip(nts, ids, strict=True) if i is None))
        intern(con, "SELECT unnest(?::VARCHAR[]) AS nt".replace("?", _list_sql(missing)), "nt")
        ids = lookup(con, nts)
    return [int(i) for i in ids]  # type: ignore[arg-type]


def _list_sql(values: list[str]) -> str:
    return "[" + ", ".join(q(v) + "::VARCHAR" for v in values) + "]"


__all__ = ["create_terms", "intern", "intern_values", "known_sql", "lookup", "nt_literal_sql",
           "literal_nt", "term_columns_sql", "terms_rows_sql", "typed_columns_sql", "next_id"]
