"""SPARQL expression semantics for the naive evaluator (the test oracle), on nt strings.

Independent of the engine: plain Python values, ``hashlib`` for digests, ``urllib.parse``
for IRI resolution. An expression error raises :class:`ExprError`; the caller drops the row.

>>> from graphcrime.lang.ast import BinOp, Literal, Var
>>> one = Literal("1", "http://www.w3.org/2001/XMLSchema#integer")
>>> eval_expr(BinOp("+", Var("x"), one), {"x": '"1.5"^^<http://www.w3.org/2001/XMLSchema#decimal>'})
'"2.5"^^<http://www.w3.org/2001/XMLSchema#decimal>'
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import urljoin

from graphcrime.lang.ast import IRI, BinOp, Call, Expr, Literal, UnaryOp, Var, term_nt
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

Row = dict[str, str]


class ExprError(Exception):
    """A SPARQL expression error: the binding is dropped."""


_RANK = {XSD_INTEGER: 0, XSD_DECIMAL: 1, XSD_FLOAT: 2, XSD_DOUBLE: 3}


def numeric(nt: str) -> tuple[int, int | Decimal | float] | None:
    """(rank, value) of a numeric literal with a valid lexical form, else None."""
    kind, lex, dt, _ = parse_nt(nt)
    if kind != "literal" or dt not in XSD_NUMERIC:
        return None
    try:
        if dt in (XSD_DOUBLE, XSD_FLOAT):
            return _RANK[dt], float(lex)
        if dt == XSD_DECIMAL:
            return 1, Decimal(lex.strip())
        return 0, int(lex.strip())
    except (ValueError, InvalidOperation):
        return None


def dt_value(nt: str) -> datetime | None:
    kind, lex, dt, _ = parse_nt(nt)
    if kind != "literal" or dt not in (XSD_DATETIME, XSD_DATE):
        return None
    try:
        v = datetime.fromisoformat(lex.strip())
    except ValueError:
        return None
    return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)


def num_nt(rank: int, v: int | Decimal | float) -> str:
    if rank == 0:
        return literal_nt(str(int(v)), XSD_INTEGER)
    if rank == 1:
        d = Decimal(v).normalize()
        text = format(d, "f")
        return literal_nt(text if "." in text else text + ".0", XSD_DECIMAL)
    return literal_nt(repr(float(v)).upper().replace("INF", "INF"), XSD_DOUBLE)


def bool_nt(b: bool) -> str:
    return literal_nt("true" if b else "false", XSD_BOOLEAN)


def ebv(nt: str) -> bool:
    """Effective boolean value."""
    kind, lex, dt, _ = parse_nt(nt)
    if kind != "literal":
        raise ExprError("no boolean value for an IRI or blank node")
    if dt == XSD_BOOLEAN:
        if lex in ("true", "1"):
            return True
        if lex in ("false", "0"):
            return False
        raise ExprError("invalid boolean")
    n = numeric(nt)
    if n is not None:
        return bool(n[1]) and n[1] == n[1]
    if dt in XSD_NUMERIC:
        return False
    if dt in (XSD_STRING, RDF_LANGSTRING):
        return lex != ""
    raise ExprError(f"no boolean value for {nt}")


def compare(op: str, a: str, b: str) -> bool:
    """SPARQL typed comparison; incomparable values raise ExprError (except RDF term =/!=)."""
    na, nb = numeric(a), numeric(b)
    pa, pb = parse_nt(a), parse_nt(b)
    x: object
    y: object
    if na is not None and nb is not None:
        x, y = na[1], nb[1]
        if isinstance(x, float) or isinstance(y, float):
            x, y = float(x), float(y)
        else:
            x, y = Decimal(x), Decimal(y)
    elif (da := dt_value(a)) is not None and (db := dt_value(b)) is not None:
        x, y = da, db
    elif pa[0] == pb[0] == "literal" and pa[2] == pb[2] and pa[3] == pb[3] and \
            pa[2] in (XSD_STRING, XSD_BOOLEAN, RDF_LANGSTRING):
        x, y = (ebv(a), ebv(b)) if pa[2] == XSD_BOOLEAN else (pa[1], pb[1])
        if pa[2] == RDF_LANGSTRING and op not in ("=", "!="):
            raise ExprError("language-tagged strings are not ordered")
    elif op in ("=", "!="):
        if a == b:
            return op == "="
        if "literal" in (pa[0], pb[0]) and pa[0] == pb[0] and pa[2] == pb[2]:
            raise ExprError("cannot compare literals of an unknown datatype")
        return op == "!="
    else:
        raise ExprError(f"cannot order {a} and {b}")
    return {"=": x == y, "!=": x != y, "<": x < y, "<=": x <= y,  # type: ignore[operator]
            ">": x > y, ">=": x >= y}[op]  # type: ignore[operator]


def arith(op: str, a: str, b: str) -> str:
    na, nb = numeric(a), numeric(b)
    if na is None or nb is None:
        raise ExprError("arithmetic on a non-number")
    rank = max(na[0], nb[0])
    if rank >= 2:
        fx, fy = float(na[1]), float(nb[1])
        if op == "/":
            r: float | Decimal = fx / fy if fy != 0 else (
                float("nan") if fx == 0 else float("inf") * (1 if fx > 0 else -1))
        else:
            r = {"+": fx + fy, "-": fx - fy, "*": fx * fy}[op]
        return num_nt(rank, r)
    dx, dy = Decimal(na[1]), Decimal(nb[1])
    if op == "/":
        if dy == 0:
            raise ExprError("division by zero")
        return num_nt(max(rank, 1), dx / dy)
    return num_nt(rank, {"+": dx + dy, "-": dx - dy, "*": dx * dy}[op])


def _string(nt: str) -> tuple[str, str | None]:
    kind, lex, dt, lang = parse_nt(nt)
    if kind != "literal" or dt not in (XSD_STRING, RDF_LANGSTRING):
        raise ExprError("string function on a non-string")
    return lex, lang


_HASH = {"MD5": "md5", "SHA1": "sha1", "SHA256": "sha256", "SHA384": "sha384",
         "SHA512": "sha512"}


def _cast(dt: str, nt: str) -> str:
    kind, lex, sdt, _ = parse_nt(nt)
    if kind == "bnode":
        raise ExprError("cannot cast a blank node")
    if dt == XSD_STRING:
        return literal_nt(lex)
    if kind == "iri":
        raise ExprError("cannot cast an IRI")
    n = numeric(nt)
    if dt in (XSD_INTEGER, XSD_DECIMAL, XSD_DOUBLE, XSD_FLOAT):
        if sdt == XSD_BOOLEAN:
            n = (0, int(ebv(nt)))
        elif n is None:
            n = numeric(literal_nt(lex.strip(), dt))
            if n is None or (dt in (XSD_INTEGER, XSD_DECIMAL) and "e" in lex.lower()):
                raise ExprError(f"cannot cast {nt}")
        if dt == XSD_INTEGER:
            return num_nt(0, int(n[1]))
        return num_nt(1 if dt == XSD_DECIMAL else 3, n[1])
    if dt == XSD_BOOLEAN:
        if n is not None:
            return bool_nt(bool(n[1]))
        if lex in ("true", "false", "1", "0"):
            return bool_nt(lex in ("true", "1"))
        raise ExprError(f"cannot cast {nt} to boolean")
    if dt in (XSD_DATETIME, XSD_DATE):
        if dt_value(literal_nt(lex, dt)) is None:
            raise ExprError(f"cannot cast {nt}")
        return literal_nt(lex, dt)
    raise ExprError(f"unsupported cast to {dt}")


def call(name: str, args: tuple[Expr, ...], row: Row) -> str:
    if name == "BOUND":
        return bool_nt(isinstance(args[0], Var) and args[0].name in row)
    if name == "IF":
        return eval_expr(args[1] if ebv(eval_expr(args[0], row)) else args[2], row)
    if name == "COALESCE":
        for a in args:
            try:
                return eval_expr(a, row)
            except ExprError:
                continue
        raise ExprError("COALESCE: every argument is an error")
    if name in ("IN", "NOTIN"):
        x = eval_expr(args[0], row)
        hit = False
        for a in args[1:]:
            try:
                hit = hit or compare("=", x, eval_expr(a, row))
            except ExprError:
                continue
        return bool_nt(hit == (name == "IN"))
    v = [eval_expr(a, row) for a in args]
    if name.startswith(XSD):
        return _cast(name, v[0])
    if name == "STR":
        kind, lex, _, _ = parse_nt(v[0])
        if kind == "bnode":
            raise ExprError("STR of a blank node")
        return literal_nt(lex)
    if name in _HASH:
        return literal_nt(hashlib.new(_HASH[name], _string(v[0])[0].encode()).hexdigest())
    if name == "CONCAT":
        parts = [_string(x) for x in v]
        langs = {lang for _, lang in parts}
        lang = langs.pop() if len(langs) == 1 else None
        return literal_nt("".join(p for p, _ in parts), XSD_STRING, lang)
    if name in ("IRI", "URI"):
        kind, lex, dt, _ = parse_nt(v[0])
        if kind == "iri":
            return v[0]
        if kind != "literal" or dt != XSD_STRING:
            raise ExprError("IRI() needs a simple string")
        if len(v) > 1:
            lex = urljoin(parse_nt(v[1])[1], lex)
        return f"<{lex}>"
    if name == "STRLEN":
        return num_nt(0, len(_string(v[0])[0]))
    if name in ("UCASE", "LCASE"):
        s, lang = _string(v[0])
        return literal_nt(s.upper() if name == "UCASE" else s.lower(), XSD_STRING, lang)
    if name in ("CONTAINS", "STRSTARTS", "STRENDS"):
        hay, needle = _string(v[0])[0], _string(v[1])[0]
        return bool_nt({"CONTAINS": needle in hay, "STRSTARTS": hay.startswith(needle),
                        "STRENDS": hay.endswith(needle)}[name])
    if name in ("STRAFTER", "STRBEFORE"):
        hay, needle = _string(v[0])[0], _string(v[1])[0]
        if needle not in hay:
            return literal_nt("")
        head, _, tail = hay.partition(needle)
        return literal_nt(tail if name == "STRAFTER" else head)
    if name in ("ISIRI", "ISURI", "ISBLANK", "ISLITERAL"):
        want = {"ISIRI": "iri", "ISURI": "iri", "ISBLANK": "bnode", "ISLITERAL": "literal"}
        return bool_nt(parse_nt(v[0])[0] == want[name])
    if name == "ISNUMERIC":
        return bool_nt(numeric(v[0]) is not None)
    if name == "DATATYPE":
        kind, _, dt, _ = parse_nt(v[0])
        if kind != "literal":
            raise ExprError("DATATYPE of a non-literal")
        return f"<{dt}>"
    if name == "LANG":
        kind, _, _, lang = parse_nt(v[0])
        if kind != "literal":
            raise ExprError("LANG of a non-literal")
        return literal_nt(lang or "")
    if name == "STRDT":
        return literal_nt(_string(v[0])[0], parse_nt(v[1])[1])
    if name == "SAMETERM":
        return bool_nt(v[0] == v[1])
    if name in ("ABS", "CEIL", "FLOOR", "ROUND"):
        n = numeric(v[0])
        if n is None:
            raise ExprError(f"{name} of a non-number")
        import math
        num = n[1]
        out: int | Decimal | float
        if name == "ABS":
            out = -num if num < 0 else num
        elif name == "CEIL":
            out = math.ceil(num)
        elif name == "FLOOR":
            out = math.floor(num)
        else:
            out = math.floor(num + 0.5 if isinstance(num, float) else num + Decimal("0.5"))
        return num_nt(n[0], out if n[0] != 3 else float(out))
    raise ExprError(f"function {name} is not supported by the naive evaluator")


def eval_expr(e: Expr, row: Row) -> str:
    """The value of ``e`` under ``row`` as an N-Triples string, or ExprError."""
    if isinstance(e, Var):
        if e.name not in row:
            raise ExprError(f"?{e.name} is unbound")
        return row[e.name]
    if isinstance(e, IRI | Literal):
        return term_nt(e)
    if isinstance(e, UnaryOp):
        v = eval_expr(e.arg, row)
        if e.op == "!":
            return bool_nt(not ebv(v))
        n = numeric(v)
        if n is None:
            raise ExprError("unary sign on a non-number")
        return num_nt(n[0], -n[1] if e.op == "-" else n[1])
    if isinstance(e, BinOp):
        if e.op in ("||", "&&"):
            results: list[bool | None] = []
            for side in (e.left, e.right):
                try:
                    results.append(ebv(eval_expr(side, row)))
                except ExprError:
                    results.append(None)
            if e.op == "||" and True in results:
                return bool_nt(True)
            if e.op == "&&" and False in results:
                return bool_nt(False)
            if None in results:
                raise ExprError("error operand of a logical operator")
            return bool_nt(e.op == "&&")
        a, b = eval_expr(e.left, row), eval_expr(e.right, row)
        if e.op in ("=", "!=", "<", "<=", ">", ">="):
            return bool_nt(compare(e.op, a, b))
        return arith(e.op, a, b)
    if isinstance(e, Call):
        return call(e.name, e.args, row)
    raise ExprError(f"unknown expression {e!r}")


def aggregate(func: str, arg: Expr | None, distinct: bool, rows: list[Row]) -> str:
    """MIN/MAX/SUM/COUNT/AVG over the group's rows; an error value makes the group an error."""
    if arg is None:
        values = [repr(sorted(r.items())) for r in rows]
    else:
        values = []
        for r in rows:
            try:
                values.append(eval_expr(arg, r))
            except ExprError:
                if func != "COUNT":
                    raise
    if distinct:
        values = list(dict.fromkeys(values))
    if func == "COUNT":
        return num_nt(0, len(values))
    if func in ("MIN", "MAX"):
        best = values[0]
        for x in values[1:]:
            if compare("<" if func == "MIN" else ">", x, best):
                best = x
        return best
    total = literal_nt("0", XSD_INTEGER)
    for x in values:
        total = arith("+", total, x)
    if func == "SUM":
        return total
    if func == "AVG":
        return arith("/", total, num_nt(0, len(values))) if values else num_nt(0, 0)
    raise ExprError(f"unknown aggregate {func}")
