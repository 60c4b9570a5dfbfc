"""Rule expressions (BIND/FILTER) compiled to DuckDB SQL with SPARQL's typed-value semantics.

A value is a :class:`SqlVal`: one SQL expression per column of the ``terms`` table (kind, lex,
dt, lang, num, ts, bool). An expression error is a NULL ``kind``; every other column is then
NULL too, so a FILTER on it drops the row, as SPARQL says. Values of variables come from a
join with ``terms``; computed values are turned into canonical N-Triples (:meth:`SqlVal.nt`)
and interned only when a head needs them.

>>> v = const_val('"41"^^<http://www.w3.org/2001/XMLSchema#integer>')
>>> one = const_val('"1"^^<http://www.w3.org/2001/XMLSchema#integer>')
>>> import duckdb
>>> duckdb.connect().execute("SELECT " + arith("+", v, one).nt()).fetchall()[0][0]
'"42"^^<http://www.w3.org/2001/XMLSchema#integer>'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urljoin

from graphcrime.errors import RuleError
from graphcrime.lang.ast import IRI, BinOp, BNode, Call, Expr, Literal, UnaryOp, Var
from graphcrime.nt import literal_nt, parse_nt
from graphcrime.vocab import (
    RDF_LANGSTRING,
    XSD,
    XSD_BOOLEAN,
    XSD_DATE,
    XSD_DATETIME,
    XSD_DECIMAL,
    XSD_DOUBLE,
    XSD_FLOAT,
    XSD_INTEGER,
    XSD_NUMERIC,
    XSD_STRING,
)

NULL = "NULL"


def q(text: str | None) -> str:
    """An SQL string literal (or NULL).

    >>> q("it's")
    "'it''s'"
    """
    return NULL if text is None else "'" + text.replace("'", "''") + "'"


_INTEGER_TYPES = sorted(XSD_NUMERIC - {XSD_DECIMAL, XSD_DOUBLE, XSD_FLOAT})
_INT_LIST = ", ".join(q(t) for t in _INTEGER_TYPES)


def rank_sql(dt: str) -> str:
    """Numeric type rank of a datatype column: 0 integer, 1 decimal, 2 float, 3 double."""
    return (f"(CASE WHEN {dt} = {q(XSD_DOUBLE)} THEN 3 WHEN {dt} = {q(XSD_FLOAT)} THEN 2 "
            f"WHEN {dt} = {q(XSD_DECIMAL)} THEN 1 WHEN {dt} IN ({_INT_LIST}) THEN 0 END)")


def _esc_sql(lex: str) -> str:
    return (f"replace(replace(replace(replace({lex}, '\\', '\\\\'), '\"', '\\\"'), "
            f"chr(10), '\\n'), chr(13), '\\r')")


#: The SQL expressions of a :class:`SqlVal` that together are one term's value.
FIELDS = ("kind", "lex", "dt", "lang", "num", "ts", "bool")


@dataclass(frozen=True)
class SqlVal:
    """One RDF term (or an error) as SQL expressions; ``id`` is set when it is a stored term."""

    kind: str
    lex: str = NULL
    dt: str = NULL
    lang: str = NULL
    num: str = NULL
    ts: str = NULL
    bool: str = NULL
    id: str | None = None
    nt_sql: str | None = None
    rank: int | None = None  # numeric rank when known at compile time
    static: str | None = None  # "str", "iri" or "bool" when known; NULL lex/bool = error

    @classmethod
    def from_fields(cls, sql: Mapping[str, str]) -> SqlVal:
        """A value whose :data:`FIELDS` are ``sql[field]`` (a CASE over values, columns).

        >>> SqlVal.from_fields({f: f"t.v_{f}" for f in FIELDS}).num
        't.v_num'
        """
        return cls(kind=sql["kind"], lex=sql["lex"], dt=sql["dt"], lang=sql["lang"],
                   num=sql["num"], ts=sql["ts"], bool=sql["bool"])

    def nt(self) -> str:
        """SQL for the canonical N-Triples form (NULL for an error)."""
        if self.nt_sql is not None:
            return self.nt_sql
        if self.static == "iri":
            return f"('<' || {self.lex} || '>')"
        if self.static == "str":
            return f"('\"' || {_esc_sql(self.lex)} || '\"')"
        lit = (f"'\"' || {_esc_sql(self.lex)} || '\"' || CASE WHEN {self.lang} IS NOT NULL "
               f"THEN '@' || {self.lang} WHEN {self.dt} = {q(XSD_STRING)} THEN '' "
               f"ELSE '^^<' || {self.dt} || '>' END")
        return (f"(CASE {self.kind} WHEN 0 THEN '<' || {self.lex} || '>' "
                f"WHEN 1 THEN '_:' || {self.lex} WHEN 2 THEN {lit} END)")

    def ebv(self) -> str:
        """SQL boolean: the effective boolean value (NULL = error)."""
        if self.static == "bool" or (self.kind == "2" and self.dt == q(XSD_BOOLEAN)):
            return self.bool
        return (f"(CASE WHEN {self.kind} = 2 AND {self.dt} = {q(XSD_BOOLEAN)} THEN {self.bool} "
                f"WHEN {self.num} IS NOT NULL THEN {self.num} <> 0 AND NOT isnan({self.num}) "
                f"WHEN {self.kind} = 2 AND {self.dt} IN ({_INT_LIST}, {q(XSD_DECIMAL)}, "
                f"{q(XSD_DOUBLE)}, {q(XSD_FLOAT)}) THEN false "
                f"WHEN {self.kind} = 2 AND {self.dt} IN ({q(XSD_STRING)}, {q(RDF_LANGSTRING)}) "
                f"THEN {self.lex} <> '' END)")


def column_val(alias: str, id_sql: str) -> SqlVal:
    """The value of a stored term: the columns of ``terms`` joined as ``alias``."""
    return SqlVal(kind=f"{alias}.kind", lex=f"{alias}.lex", dt=f"{alias}.dt",
                  lang=f"{alias}.lang", num=f"{alias}.num", ts=f"{alias}.ts",
                  bool=f"{alias}.bool", id=id_sql, nt_sql=f"{alias}.nt")


def bool_val(cond: str) -> SqlVal:
    """An xsd:boolean from an SQL boolean (NULL = error)."""
    return SqlVal(kind=f"(CASE WHEN {cond} IS NOT NULL THEN 2 END)",
                  lex=f"(CASE WHEN {cond} THEN 'true' WHEN NOT {cond} THEN 'false' END)",
                  dt=f"(CASE WHEN {cond} IS NOT NULL THEN {q(XSD_BOOLEAN)} END)",
                  bool=cond, static="bool")


def string_val(lex: str, lang: str = NULL, ok: str | None = None) -> SqlVal:
    """A simple (or language-tagged) string literal; ``ok`` guards it (else error)."""
    if lang == NULL:  # a simple string: NULL lex is the error, kind and dt follow from it
        if ok and ok != "true":
            lex = f"(CASE WHEN {ok} THEN {lex} END)"
        return SqlVal(kind=f"(CASE WHEN {lex} IS NOT NULL THEN 2 END)", lex=lex,
                      dt=f"(CASE WHEN {lex} IS NOT NULL THEN {q(XSD_STRING)} END)", static="str")
    cond = f"({lex}) IS NOT NULL" + (f" AND ({ok})" if ok else "")
    dt = f"CASE WHEN {lang} IS NOT NULL THEN {q(RDF_LANGSTRING)} ELSE {q(XSD_STRING)} END"
    return SqlVal(kind=f"(CASE WHEN {cond} THEN 2 END)", lex=f"(CASE WHEN {cond} THEN {lex} END)",
                  dt=f"(CASE WHEN {cond} THEN {dt} END)",
                  lang=f"(CASE WHEN {cond} THEN {lang} END)" if lang != NULL else NULL)


def _num_lex(rank: str, value: str) -> str:
    """Canonical lexical form of a DOUBLE ``value`` for a numeric rank expression."""
    if rank.isdigit() and int(rank) == 0:
        return f"CAST(CAST(round({value}) AS HUGEINT) AS VARCHAR)"
    if rank.isdigit() and int(rank) >= 2:
        return f"upper(CAST({value} AS VARCHAR))"
    dec = f"CAST(round({value}, 10)::DECIMAL(38,10) AS VARCHAR)"
    dec = f"regexp_replace(regexp_replace({dec}, '0+$', ''), '\\.$', '.0')"
    return (f"(CASE {rank} WHEN 0 THEN CAST(CAST(round({value}) AS HUGEINT) AS VARCHAR) "
            f"WHEN 1 THEN {dec} ELSE upper(CAST({value} AS VARCHAR)) END)")


def num_val(rank: str, value: str) -> SqlVal:
    """A numeric literal of rank ``rank`` (SQL) with DOUBLE value ``value`` (NULL = error)."""
    if rank.isdigit():  # known rank: short SQL
        dt = {0: XSD_INTEGER, 1: XSD_DECIMAL, 2: XSD_FLOAT, 3: XSD_DOUBLE}[int(rank)]
        lex = _num_lex(rank, value)
        return SqlVal(kind=f"(CASE WHEN ({value}) IS NOT NULL THEN 2 END)", lex=lex,
                      dt=f"(CASE WHEN ({value}) IS NOT NULL THEN {q(dt)} END)",
                      num=f"({value})::DOUBLE", rank=int(rank),
                      nt_sql=f"('\"' || {lex} || '\"^^<{dt}>')")
    ok = f"({value}) IS NOT NULL AND ({rank}) IS NOT NULL"
    dt = (f"(CASE {rank} WHEN 0 THEN {q(XSD_INTEGER)} WHEN 1 THEN {q(XSD_DECIMAL)} "
          f"WHEN 2 THEN {q(XSD_FLOAT)} WHEN 3 THEN {q(XSD_DOUBLE)} END)")
    nt = " ".join(f"WHEN {r} THEN '\"' || {_num_lex(str(r), value)} || '\"^^<{t}>'"
                  for r, t in enumerate((XSD_INTEGER, XSD_DECIMAL, XSD_FLOAT, XSD_DOUBLE)))
    return SqlVal(kind=f"(CASE WHEN {ok} THEN 2 END)", lex=f"(CASE WHEN {ok} THEN "
                  f"{_num_lex(rank, value)} END)", dt=f"(CASE WHEN {ok} THEN {dt} END)",
                  num=f"(CASE WHEN {ok} THEN ({value})::DOUBLE END)",
                  nt_sql=f"(CASE {rank} {nt} END)")


def _py_num(lex: str, dt: str) -> float | None:
    try:
        return float(lex.strip()) if dt in XSD_NUMERIC else None
    except ValueError:
        return None


def _py_ts(lex: str, dt: str) -> str | None:
    if dt not in (XSD_DATETIME, XSD_DATE):
        return None
    try:
        v = datetime.fromisoformat(lex.strip())
    except ValueError:
        return None
    v = v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)
    return f"TIMESTAMP '{v.replace(tzinfo=None).isoformat(sep=' ')}'"


def const_val(nt: str) -> SqlVal:
    """A constant term (canonical N-Triples) as a value, typed columns computed here."""
    kind, lex, dt, lang = parse_nt(nt)
    if kind != "literal":
        return SqlVal(kind="0" if kind == "iri" else "1", lex=q(lex), nt_sql=q(nt),
                      static="iri" if kind == "iri" else None)
    num = _py_num(lex, dt or "")
    ts = _py_ts(lex, dt or "")
    boolean = {"true": "true", "1": "true", "false": "false", "0": "false"}.get(lex) \
        if dt == XSD_BOOLEAN else None
    rank = {XSD_DECIMAL: 1, XSD_FLOAT: 2, XSD_DOUBLE: 3}.get(dt or "",
                                                          0 if dt in XSD_NUMERIC else None)
    return SqlVal(kind="2", lex=q(lex), dt=q(dt), lang=q(lang),
                  num=NULL if num is None else f"({num!r})::DOUBLE",
                  ts=ts or NULL, bool=boolean or NULL, nt_sql=q(nt),
                  rank=rank if num is not None else None,
                  static="str" if dt == XSD_STRING and not lang else None)


def _all(*vals: SqlVal, fields: tuple[str, ...] = ("kind",)) -> str:
    return " AND ".join(f"{getattr(v, f)} IS NOT NULL" for v in vals for f in fields)


_CMP = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_CONST = re.compile(r"^(?:CAST\((?P<c>'(?:[^']|'')*'|NULL) AS \w+\)|(?P<p>'(?:[^']|'')*'|NULL))$")
_NOT_CONST = object()


def sql_const(sql: str) -> object:
    """The value of an SQL constant string or NULL (as written by :func:`q` or a materialised
    join's constant columns), else ``_NOT_CONST``.

    >>> sql_const("CAST('a''b' AS VARCHAR)"), sql_const("NULL"), sql_const("x.dt") is _NOT_CONST
    ("a'b", None, True)
    """
    m = _CONST.match(sql.strip())
    if m is None:
        return _NOT_CONST
    text = m.group("c") or m.group("p")
    return None if text == "NULL" else text[1:-1].replace("''", "'")


_STR_TYPES = (XSD_STRING, XSD_BOOLEAN, RDF_LANGSTRING)


def compare(op: str, a: SqlVal, b: SqlVal) -> str:
    """SQL boolean for a SPARQL comparison (NULL when the operands are incomparable)."""
    o = _CMP[op]
    same_str = (f"{a.kind} = 2 AND {b.kind} = 2 AND {a.dt} = {b.dt} AND "
                f"{a.dt} IN ({q(XSD_STRING)}, {q(XSD_BOOLEAN)}, {q(RDF_LANGSTRING)}) AND "
                f"coalesce({a.lang}, '') = coalesce({b.lang}, '')")
    str_cmp = (f"CASE WHEN {a.dt} = {q(XSD_BOOLEAN)} THEN {a.bool} {o} {b.bool} "
               f"WHEN {a.dt} = {q(RDF_LANGSTRING)} AND {q(op)} NOT IN ('=', '!=') THEN NULL "
               f"ELSE {a.lex} {o} {b.lex} END")
    if a.num != NULL and b.num != NULL and a.rank is not None and b.rank is not None:
        return f"({a.num} {o} {b.num})"
    # branches that a constant side rules out are left out: the database would still read
    # the columns of a branch it folded to false (the lexical forms, for a date comparison)
    dts = (sql_const(a.dt), sql_const(b.dt))
    parts, typed = [], []
    for f in ("num", "ts"):
        x, y = getattr(a, f), getattr(b, f)
        if sql_const(x) is not None and sql_const(y) is not None:
            typed.append(f"{x} {o} {y}")
            parts.append(f"WHEN {x} IS NOT NULL AND {y} IS NOT NULL THEN {typed[-1]}")
    if all(d is _NOT_CONST or d in _STR_TYPES for d in dts):
        parts.append(f"WHEN {same_str} THEN {str_cmp}")
    if op in ("=", "!="):
        eq = f"{a.id} = {b.id}" if a.id and b.id else f"{a.nt()} = {b.nt()}"
        parts.append(f"WHEN {_all(a, b)} AND {eq} THEN {'true' if op == '=' else 'false'}")
        parts.append(f"WHEN {a.kind} = 2 AND {b.kind} = 2 AND {a.dt} = {b.dt} THEN NULL")
        parts.append(f"WHEN {_all(a, b)} THEN {'false' if op == '=' else 'true'}")
    if len(parts) == 1 and typed:  # NULL anyway when a side is: no CASE needed
        return f"({typed[0]})"
    return "(CASE " + " ".join(parts) + " END)" if parts else "NULL::BOOLEAN"


def _rank(v: SqlVal) -> str:
    return str(v.rank) if v.rank is not None else rank_sql(v.dt)


def arith(op: str, a: SqlVal, b: SqlVal) -> SqlVal:
    """``a op b`` for + - * / on numbers, with XSD type promotion."""
    ra, rb = _rank(a), _rank(b)
    rank = f"greatest({ra}, {rb})"
    if op == "/":
        rank = f"greatest({rank}, 1)"
        value = (f"(CASE WHEN {b.num} = 0 AND {rank} < 2 THEN NULL "
                 f"ELSE {a.num}::DOUBLE / {b.num}::DOUBLE END)")
    else:
        value = f"({a.num} {op} {b.num})"
    out = num_val(rank, value)
    if a.rank is not None and b.rank is not None:
        known = max(a.rank, b.rank, 1 if op == "/" else 0)
        out = replace(num_val(str(known), value), rank=known)
    return out


def _unary(op: str, v: SqlVal) -> SqlVal:
    if op == "!":
        return bool_val(f"(NOT {v.ebv()})")
    value = f"(-{v.num})" if op == "-" else v.num
    return replace(num_val(_rank(v), value), rank=v.rank)


def _is_str(v: SqlVal) -> str:
    if v.static == "str":
        return "true"
    return f"({v.kind} = 2 AND {v.dt} IN ({q(XSD_STRING)}, {q(RDF_LANGSTRING)}))"


def _hash(fn: str) -> Callable[[list[SqlVal]], SqlVal]:
    return lambda a: string_val(f"{fn}({a[0].lex})", ok=_is_str(a[0]))


def _cast(dt: str, v: SqlVal) -> SqlVal:
    if dt == XSD_STRING:
        return string_val(v.lex, ok=f"{v.kind} IN (0, 2)")
    if dt in (XSD_INTEGER, XSD_DECIMAL, XSD_DOUBLE, XSD_FLOAT):
        src = (f"(CASE WHEN {v.dt} = {q(XSD_BOOLEAN)} THEN {v.bool}::INT::DOUBLE "
               f"WHEN {v.num} IS NOT NULL THEN {v.num} "
               f"WHEN {v.kind} = 2 AND {v.dt} = {q(XSD_STRING)} THEN "
               + ("TRY_CAST(trim(" + v.lex + ") AS DOUBLE)" if dt in (XSD_DOUBLE, XSD_FLOAT)
                  else f"(CASE WHEN NOT contains(lower({v.lex}), 'e') THEN "
                  f"TRY_CAST(trim({v.lex}) AS DOUBLE) END)") + " END)")
        if dt == XSD_INTEGER:
            src = f"trunc({src})"
        rank = {XSD_INTEGER: 0, XSD_DECIMAL: 1, XSD_FLOAT: 3, XSD_DOUBLE: 3}[dt]
        return replace(num_val(str(rank), src), rank=rank)
    if dt == XSD_BOOLEAN:
        b = (f"(CASE WHEN {v.num} IS NOT NULL THEN {v.num} <> 0 "
             f"WHEN {v.dt} = {q(XSD_BOOLEAN)} THEN {v.bool} "
             f"WHEN {v.kind} = 2 AND {v.lex} IN ('true', '1') THEN true "
             f"WHEN {v.kind} = 2 AND {v.lex} IN ('false', '0') THEN false END)")
        return bool_val(b)
    if dt in (XSD_DATETIME, XSD_DATE):
        ts = f"TRY_CAST(TRY_CAST({v.lex} AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP)"
        ok = f"{v.kind} = 2 AND {ts} IS NOT NULL"
        return SqlVal(kind=f"(CASE WHEN {ok} THEN 2 END)", lex=f"(CASE WHEN {ok} THEN {v.lex} END)",
                      dt=f"(CASE WHEN {ok} THEN {q(dt)} END)", ts=f"(CASE WHEN {ok} THEN {ts} END)")
    raise KeyError(dt)


def _iri(a: list[SqlVal]) -> SqlVal:
    v = a[0]
    lex = v.lex if v.static else (f"(CASE WHEN {v.kind} = 0 THEN {v.lex} WHEN {v.kind} = 2 "
                                  f"AND {v.dt} = {q(XSD_STRING)} THEN {v.lex} END)")
    if len(a) > 1 and a[1].lex.startswith("'"):
        base = a[1].lex[1:-1].replace("''", "'")
        # absolute IRIs (with a scheme) stay; anything else is resolved against BASE in SQL
        # for the simple cases (fragment, relative path); urljoin is the reference.
        prefix = urljoin(base, "x")[:-1]
        lex = (f"(CASE WHEN regexp_matches({lex}, '^[A-Za-z][A-Za-z0-9+.-]*:') THEN {lex} "
               f"WHEN starts_with({lex}, '#') THEN {q(base.split('#')[0])} || {lex} "
               f"ELSE {q(prefix)} || {lex} END)")
    return SqlVal(kind=f"(CASE WHEN {lex} IS NOT NULL THEN 0 END)", lex=lex, static="iri")


def _concat(a: list[SqlVal]) -> SqlVal:
    ok = " AND ".join(x for x in (_is_str(v) for v in a) if x != "true") or "true"
    lex = " || ".join(f"{v.lex}" for v in a) or "''"
    if all(v.static == "str" or v.lang == NULL for v in a):
        return string_val(f"({lex})", ok=ok)
    if len(a) == 1:
        lang = a[0].lang
    else:
        same = " AND ".join(f"{v.lang} = {a[0].lang}" for v in a[1:])
        lang = f"(CASE WHEN {same} THEN {a[0].lang} END)"
    return string_val(f"({lex})", lang=lang, ok=ok)


def _str(a: list[SqlVal]) -> SqlVal:
    ok = "true" if a[0].static else f"{a[0].kind} IN (0, 2)"
    return string_val(a[0].lex, ok=ok)


def _strfn(fn: Callable[[str, str], str]) -> Callable[[list[SqlVal]], SqlVal]:
    return lambda a: bool_val(f"(CASE WHEN {_is_str(a[0])} AND {_is_str(a[1])} "
                              f"THEN {fn(a[0].lex, a[1].lex)} END)")


def _int(expr: str, ok: str) -> SqlVal:
    return replace(num_val("0", f"(CASE WHEN {ok} THEN ({expr})::DOUBLE END)"), rank=0)


def _part(fn: str) -> Callable[[list[SqlVal]], SqlVal]:
    return lambda a: _int(f"{fn}({a[0].ts})", f"{a[0].ts} IS NOT NULL")


def _seconds(a: list[SqlVal]) -> SqlVal:
    v = f"(second({a[0].ts}) + microsecond({a[0].ts}) % 1000000 / 1e6)"
    return replace(num_val("1", f"(CASE WHEN {a[0].ts} IS NOT NULL THEN {v} END)"), rank=1)


def _if(a: list[SqlVal]) -> SqlVal:
    c = a[0].ebv()
    return SqlVal.from_fields({f: f"(CASE WHEN {c} THEN {getattr(a[1], f)} WHEN NOT {c} "
                                  f"THEN {getattr(a[2], f)} END)" for f in FIELDS})


def _coalesce(a: list[SqlVal]) -> SqlVal:
    return SqlVal.from_fields({f: "(CASE " + " ".join(
        f"WHEN {v.kind} IS NOT NULL THEN {getattr(v, f)}" for v in a) + " END)" for f in FIELDS})


def _in(negate: bool) -> Callable[[list[SqlVal]], SqlVal]:
    def build(a: list[SqlVal]) -> SqlVal:
        hits = [compare("=", a[0], b) for b in a[1:]]
        any_hit = " OR ".join(f"coalesce({h}, false)" for h in hits) or "false"
        return bool_val(f"(NOT ({any_hit}))" if negate else f"({any_hit})")
    return build


def _round(fn: str) -> Callable[[list[SqlVal]], SqlVal]:
    def build(a: list[SqlVal]) -> SqlVal:
        value = {"ABS": "abs", "CEIL": "ceil", "FLOOR": "floor"}.get(fn)
        expr = f"{value}({a[0].num})" if value else f"floor({a[0].num} + 0.5)"
        return replace(num_val(_rank(a[0]), expr), rank=a[0].rank)
    return build


def _datatype(a: list[SqlVal]) -> SqlVal:
    return SqlVal(kind=f"(CASE WHEN {a[0].kind} = 2 THEN 0 END)", lex=a[0].dt)


def _is(kind: int) -> Callable[[list[SqlVal]], SqlVal]:
    return lambda a: bool_val(f"(CASE WHEN {a[0].kind} IS NOT NULL THEN {a[0].kind} = {kind} END)")


FUNCTIONS: dict[str, Callable[[list[SqlVal]], SqlVal]] = {
    "STR": _str,
    "IRI": _iri,
    "URI": _iri,
    "CONCAT": _concat,
    "MD5": _hash("md5"),
    "SHA1": _hash("sha1"),
    "SHA256": _hash("sha256"),
    "SHA384": _hash("gc_sha384"),
    "SHA512": _hash("gc_sha512"),
    "STRLEN": lambda a: _int(f"length({a[0].lex})", _is_str(a[0])),
    "UCASE": lambda a: string_val(f"upper({a[0].lex})", a[0].lang, _is_str(a[0])),
    "LCASE": lambda a: string_val(f"lower({a[0].lex})", a[0].lang, _is_str(a[0])),
    "CONTAINS": _strfn(lambda x, y: f"contains({x}, {y})"),
    "STRSTARTS": _strfn(lambda x, y: f"starts_with({x}, {y})"),
    "STRENDS": _strfn(lambda x, y: f"suffix({x}, {y})"),
    "STRBEFORE": lambda a: string_val(
        f"(CASE WHEN strpos({a[0].lex}, {a[1].lex}) > 0 THEN "
        f"left({a[0].lex}, strpos({a[0].lex}, {a[1].lex}) - 1) ELSE '' END)",
        ok=f"{_is_str(a[0])} AND {_is_str(a[1])}"),
    "STRAFTER": lambda a: string_val(
        f"(CASE WHEN strpos({a[0].lex}, {a[1].lex}) > 0 THEN substr({a[0].lex}, "
        f"strpos({a[0].lex}, {a[1].lex}) + length({a[1].lex})) ELSE '' END)",
        ok=f"{_is_str(a[0])} AND {_is_str(a[1])}"),
    "SUBSTR": lambda a: string_val(
        f"substr({a[0].lex}, CAST({a[1].num} AS BIGINT)"
        + (f", CAST({a[2].num} AS BIGINT))" if len(a) > 2 else ")"), a[0].lang, _is_str(a[0])),
    "REGEX": lambda a: bool_val(
        f"(CASE WHEN {_is_str(a[0])} THEN regexp_matches({a[0].lex}, {a[1].lex}"
        + (f", replace({a[2].lex}, 'x', ''))" if len(a) > 2 else ")") + " END)"),
    "REPLACE": lambda a: string_val(
        f"regexp_replace({a[0].lex}, {a[1].lex}, regexp_replace({a[2].lex}, '\\$(\\d)', "
        f"'\\\\\\1', 'g'), 'g')", a[0].lang, _is_str(a[0])),
    "ISIRI": _is(0),
    "ISURI": _is(0),
    "ISBLANK": _is(1),
    "ISLITERAL": _is(2),
    "ISNUMERIC": lambda a: bool_val(f"(CASE WHEN {a[0].kind} IS NOT NULL THEN "
                                    f"{a[0].num} IS NOT NULL END)"),
    "DATATYPE": _datatype,
    "LANG": lambda a: string_val(f"coalesce({a[0].lang}, '')", ok=f"{a[0].kind} = 2"),
    "STRDT": lambda a: SqlVal(kind=f"(CASE WHEN {_is_str(a[0])} AND {a[1].kind} = 0 THEN 2 END)",
                              lex=a[0].lex, dt=a[1].lex),
    "STRLANG": lambda a: string_val(a[0].lex, f"lower({a[1].lex})", _is_str(a[0])),
    "SAMETERM": lambda a: bool_val(f"(CASE WHEN {_all(a[0], a[1])} THEN "
                                   f"{a[0].nt()} = {a[1].nt()} END)"),
    "ABS": _round("ABS"),
    "CEIL": _round("CEIL"),
    "FLOOR": _round("FLOOR"),
    "ROUND": _round("ROUND"),
    "YEAR": _part("year"),
    "MONTH": _part("month"),
    "DAY": _part("day"),
    "HOURS": _part("hour"),
    "MINUTES": _part("minute"),
    "SECONDS": _seconds,
    "IF": _if,
    "COALESCE": _coalesce,
    "IN": _in(False),
    "NOTIN": _in(True),
}


class ExprCompiler:
    """Compiles expressions given a function that gives each variable's value.

    ``var_value(name)`` returns the variable's :class:`SqlVal` (or None when unbound, which
    only ``BOUND`` and ``COALESCE`` tolerate).
    """

    def __init__(self, var_value: Callable[[str], SqlVal | None]) -> None:
        self.var_value = var_value

    def compile(self, e: Expr) -> SqlVal:
        if isinstance(e, Var):
            v = self.var_value(e.name)
            return v if v is not None else SqlVal(kind=NULL)
        if isinstance(e, IRI):
            return const_val(f"<{e.value}>")
        if isinstance(e, BNode):
            return const_val(f"_:{e.label}")
        if isinstance(e, Literal):
            return const_val(literal_nt(e.lex, e.datatype, e.lang))
        if isinstance(e, UnaryOp):
            return _unary(e.op, self.compile(e.arg))
        if isinstance(e, BinOp):
            a, b = self.compile(e.left), self.compile(e.right)
            if e.op == "&&":
                return bool_val(f"({a.ebv()} AND {b.ebv()})")
            if e.op == "||":
                return bool_val(f"({a.ebv()} OR {b.ebv()})")
            if e.op in _CMP:
                return bool_val(compare(e.op, a, b))
            return arith(e.op, a, b)
        if isinstance(e, Call):
            return self._call(e)
        raise RuleError(f"unsupported expression {e!r}", hint="see docs for supported syntax")

    def guards(self, e: Expr) -> list[str]:
        """Conditions implied by FILTER(``e``) being true, that the database can use to join:
        an ordering or ``=`` comparison of two variables is only true when both terms are
        of the same kind (the comparison's own SQL is a CASE, which a join cannot use).

        >>> c = ExprCompiler(lambda n: SqlVal(kind=f"t_{n}.kind"))
        >>> c.guards(BinOp("&&", BinOp("<", Var("a"), Var("b")), BinOp("!=", Var("a"), Var("c"))))
        ['t_a.kind = t_b.kind']
        """
        if isinstance(e, BinOp) and e.op == "&&":
            return self.guards(e.left) + self.guards(e.right)
        if isinstance(e, BinOp) and e.op in ("=", "<", "<=", ">", ">=") and \
                isinstance(e.left, Var) and isinstance(e.right, Var):
            a, b = self.var_value(e.left.name), self.var_value(e.right.name)
            if a is not None and b is not None and NULL not in (a.kind, b.kind):
                return [f"{a.kind} = {b.kind}"]
        return []

    def _call(self, e: Call) -> SqlVal:
        name = e.name
        if name == "BOUND":
            arg = e.args[0]
            v = self.var_value(arg.name) if isinstance(arg, Var) else None
            return bool_val("false" if v is None else f"({v.kind} IS NOT NULL)")
        args = [self.compile(a) for a in e.args]
        if name.startswith(XSD):
            try:
                return _cast(name, args[0])
            except KeyError:
                pass
        elif name in FUNCTIONS:
            return FUNCTIONS[name](args)
        pos = e.pos
        raise RuleError(f"function {name} is not supported by the engine", file=pos.file,
                        line=pos.line, col=pos.col,
                        hint="supported: " + ", ".join(sorted(FUNCTIONS)) + " and XSD casts")


def register_functions(con: object) -> None:
    """SQL functions DuckDB lacks (SHA-384/512), as vectorised Python functions."""
    import hashlib

    import pyarrow as pa

    def make(algo: str) -> Callable[[pa.Array], pa.Array]:
        def fn(col: pa.Array) -> pa.Array:
            return pa.array([None if s is None else hashlib.new(algo, s.encode()).hexdigest()
                             for s in col.to_pylist()], pa.string())
        return fn

    for algo in ("sha384", "sha512"):
        try:
            con.create_function(f"gc_{algo}", make(algo), ["VARCHAR"], "VARCHAR",  # type: ignore[attr-defined]
                                type="arrow")
        except Exception:  # noqa: BLE001 - already registered on this connection
            pass
