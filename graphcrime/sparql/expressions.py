"""rdflib SPARQL expressions -> SQL typed values (:class:`~graphcrime.engine.sqlexpr.SqlVal`).

The value semantics (typed comparison, numeric promotion, error = NULL) are the engine's
(``graphcrime.engine.sqlexpr``), shared with rule BIND/FILTER. This module maps rdflib's
expression nodes onto them; anything unmapped raises :class:`NotTranslatable`.

>>> from rdflib import Variable, Literal
>>> from graphcrime.sparql.values import Rel
>>> env = Env(Rel("SELECT 1", {"x": "id"}))
>>> "num" in ExprCompiler(env).compile(Variable("x")).num
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rdflib import BNode, Literal, URIRef, Variable
from rdflib.plugins.sparql.parserutils import CompValue

from graphcrime.engine.sqlexpr import (
    FUNCTIONS,
    NULL,
    SqlVal,
    arith,
    bool_val,
    compare,
    const_val,
    num_val,
    q,
    string_val,
)
from graphcrime.sparql.values import Env, NotTranslatable, col, term_nt

# rdflib builtin name -> (engine function name, argument attribute names)
_ARGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "STR": ("STR", ("arg",)), "IRI": ("IRI", ("arg",)), "URI": ("IRI", ("arg",)),
    "MD5": ("MD5", ("arg",)), "SHA1": ("SHA1", ("arg",)), "SHA256": ("SHA256", ("arg",)),
    "SHA384": ("SHA384", ("arg",)), "SHA512": ("SHA512", ("arg",)),
    "STRLEN": ("STRLEN", ("arg",)), "UCASE": ("UCASE", ("arg",)), "LCASE": ("LCASE", ("arg",)),
    "CONTAINS": ("CONTAINS", ("arg1", "arg2")), "STRSTARTS": ("STRSTARTS", ("arg1", "arg2")),
    "STRENDS": ("STRENDS", ("arg1", "arg2")), "STRBEFORE": ("STRBEFORE", ("arg1", "arg2")),
    "STRAFTER": ("STRAFTER", ("arg1", "arg2")),
    "isIRI": ("ISIRI", ("arg",)), "isURI": ("ISIRI", ("arg",)), "isBLANK": ("ISBLANK", ("arg",)),
    "isLITERAL": ("ISLITERAL", ("arg",)), "isNUMERIC": ("ISNUMERIC", ("arg",)),
    "DATATYPE": ("DATATYPE", ("arg",)), "LANG": ("LANG", ("arg",)),
    "sameTerm": ("SAMETERM", ("arg1", "arg2")),
    "ABS": ("ABS", ("arg",)), "CEIL": ("CEIL", ("arg",)), "FLOOR": ("FLOOR", ("arg",)),
    "ROUND": ("ROUND", ("arg",)),
    "IF": ("IF", ("arg1", "arg2", "arg3")),
}


def _is_str(v: SqlVal) -> str:
    return (f"(({v.kind}) = 2 AND ({v.dt}) IN ('http://www.w3.org/2001/XMLSchema#string', "
            f"'http://www.w3.org/1999/02/22-rdf-syntax-ns#langString'))")


_SIMPLE = "'http://www.w3.org/2001/XMLSchema#string'"
_DT_RE = r"'^(-?[0-9]{4,})-([0-9]{2})-([0-9]{2})(T([0-9]{2}):([0-9]{2}):([0-9]{2}(\\.[0-9]+)?))?'"
#: date/time parts read from the lexical form (the literal's own time zone, as SPARQL says)
_PARTS = {"YEAR": 1, "MONTH": 2, "DAY": 3, "HOURS": 5, "MINUTES": 6, "SECONDS": 7}


def _part(fn: str, v: SqlVal) -> SqlVal:
    g = f"regexp_extract({v.lex}, {_DT_RE}, {_PARTS[fn]})"
    ok = f"({v.ts}) IS NOT NULL AND {g} <> ''"
    value = f"(CASE WHEN {ok} THEN TRY_CAST({g} AS DOUBLE) END)"
    return num_val("1" if fn == "SECONDS" else "0", value)


def _str_pair(fn: str, a: SqlVal, b: SqlVal) -> SqlVal:
    """STRBEFORE / STRAFTER with SPARQL's argument compatibility and language tags."""
    ok = f"{_is_str(a)} AND {_is_str(b)} AND ({b.lang} IS NULL OR {b.lang} = {a.lang})"
    pos = f"strpos({a.lex}, {b.lex})"
    part = (f"left({a.lex}, {pos} - 1)" if fn == "STRBEFORE"
            else f"substr({a.lex}, {pos} + length({b.lex}))")
    return string_val(f"(CASE WHEN {pos} > 0 THEN {part} ELSE '' END)",
                      f"(CASE WHEN {pos} > 0 THEN {a.lang} END)", ok)


def _strdt(a: SqlVal, b: SqlVal) -> SqlVal:
    ok = f"({a.kind}) = 2 AND ({a.dt}) = {_SIMPLE} AND ({b.kind}) = 0"
    return SqlVal(kind=f"(CASE WHEN {ok} THEN 2 END)", lex=f"(CASE WHEN {ok} THEN {a.lex} END)",
                  dt=f"(CASE WHEN {ok} THEN {b.lex} END)")


def _strlang(a: SqlVal, b: SqlVal) -> SqlVal:
    ok = (f"({a.kind}) = 2 AND ({a.dt}) = {_SIMPLE} AND ({b.kind}) = 2 AND ({b.dt}) = {_SIMPLE}"
          f" AND {b.lex} <> ''")
    return string_val(a.lex, f"lower({b.lex})", ok)


def _lang_matches(tag: SqlVal, rng: SqlVal) -> SqlVal:
    t, r = f"lower({tag.lex})", f"lower({rng.lex})"
    cond = (f"(CASE WHEN {_is_str(tag)} AND {_is_str(rng)} THEN (CASE WHEN {r} = '*' "
            f"THEN {t} <> '' ELSE {t} = {r} OR starts_with({t}, {r} || '-') END) END)")
    return bool_val(cond)


def _regex(text: SqlVal, pattern: SqlVal, flags: SqlVal | None) -> SqlVal:
    opts = ""
    if flags is not None:
        if not flags.lex.startswith("'"):
            raise NotTranslatable("REGEX flags that are not constant")
        f = flags.lex[1:-1]
        if set(f) - set("ism"):
            raise NotTranslatable(f"REGEX flags {f!r}")
        opts = f", '{f}'"
    ok = f"{_is_str(text)} AND {_is_str(pattern)}"
    return bool_val(f"(CASE WHEN {ok} THEN regexp_matches({text.lex}, {pattern.lex}{opts}) END)")


def _substr(a: list[SqlVal]) -> SqlVal:
    # SPARQL: characters at positions p with round(start) <= p < round(start) + round(len)
    s = f"round({a[1].num})"
    start = f"greatest({s}, 1)"
    if len(a) > 2:
        end = f"({s} + round({a[2].num}))"
        length = f"greatest({end} - {start}, 0)"
        lex = f"substr({a[0].lex}, ({start})::BIGINT, ({length})::BIGINT)"
        ok = f"{_is_str(a[0])} AND {a[1].num} IS NOT NULL AND {a[2].num} IS NOT NULL"
    else:
        lex = f"substr({a[0].lex}, ({start})::BIGINT)"
        ok = f"{_is_str(a[0])} AND {a[1].num} IS NOT NULL"
    return string_val(lex, a[0].lang, ok)


def _args(x: Any) -> list[Any]:
    """An argument list from rdflib: a list, one item, or rdf:nil for none."""
    if isinstance(x, URIRef) and str(x) == "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil":
        return []
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


class ExprCompiler:
    """Compiles rdflib expression trees over the variables of one :class:`Env`.

    ``exists`` (optional) translates the graph pattern of EXISTS into SQL for a correlated
    subquery: it gets the rdflib pattern and the env and returns SQL for a boolean.
    """

    def __init__(self, env: Env, exists: Callable[[Any, Env], str] | None = None) -> None:
        self.env = env
        self.exists = exists
        self._conds: dict[int, tuple[SqlVal, str]] = {}

    def ebv(self, e: Any) -> str:
        """SQL boolean (NULL = error); booleans built here are used as they are, so nested
        &&/||/! stay linear in size."""
        v = self.compile(e)
        hit = self._conds.get(id(v))
        return hit[1] if hit is not None and hit[0] is v else v.ebv()

    def _bool(self, cond: str) -> SqlVal:
        v = bool_val(cond)
        self._conds[id(v)] = (v, cond)
        return v

    def compile(self, e: Any) -> SqlVal:
        if isinstance(e, Variable):
            v = self.env.value(str(e))
            return v if v is not None else SqlVal(kind=NULL)
        if isinstance(e, BNode):
            raise NotTranslatable("blank node in an expression")
        if isinstance(e, (URIRef, Literal)):
            return const_val(term_nt(e))
        if not isinstance(e, CompValue):
            raise NotTranslatable(f"expression {e!r}")
        name = e.name
        if name == "RelationalExpression":
            a = self.compile(e.expr)
            if e.op in ("IN", "NOT IN"):
                hits = [compare("=", a, self.compile(b)) for b in _args(e.other)]
                # SPARQL IN: true if any equal; error if none equal and some error
                cond = " OR ".join(f"({h})" for h in hits) or "false"
                return self._bool(f"(NOT ({cond}))" if e.op == "NOT IN" else f"({cond})")
            b = self.compile(e.other)
            # xsd:date and xsd:dateTime are not comparable with each other (an error)
            mixed = (f"(({a.ts}) IS NOT NULL AND ({b.ts}) IS NOT NULL AND "
                     f"({a.dt}) <> ({b.dt}))")
            return self._bool(f"(CASE WHEN {mixed} THEN NULL ELSE {compare(e.op, a, b)} END)"
                              if a.ts != NULL and b.ts != NULL else compare(e.op, a, b))
        if name in ("ConditionalAndExpression", "ConditionalOrExpression"):
            op = " AND " if name == "ConditionalAndExpression" else " OR "
            parts = [self.ebv(e.expr)] + [self.ebv(x) for x in e.other or []]
            return self._bool("(" + op.join(f"({p})" for p in parts) + ")")
        if name in ("AdditiveExpression", "MultiplicativeExpression"):
            acc = self.compile(e.expr)
            for op, other in zip(e.op or [], e.other or [], strict=False):
                acc = arith(op, acc, self.compile(other))
            return acc
        if name == "UnaryNot":
            return self._bool(f"(NOT {self.ebv(e.expr)})")
        if name in ("UnaryMinus", "UnaryPlus"):
            v = self.compile(e.expr)
            from graphcrime.engine.sqlexpr import rank_sql

            rank = str(v.rank) if v.rank is not None else rank_sql(v.dt)
            return num_val(rank, f"(-{v.num})" if name == "UnaryMinus" else v.num)
        if name == "Function":
            # XSD casts: the engine's casts are more lenient than SPARQL's (xsd:integer("1.5")
            # gives 1 there, an error here), so casts go to the fallback
            raise NotTranslatable(f"function <{e.iri}>")
        if name.startswith("Builtin_"):
            return self._builtin(name[len("Builtin_"):], e)
        raise NotTranslatable(f"expression {name}")

    def _builtin(self, fn: str, e: CompValue) -> SqlVal:
        if fn == "BOUND":
            var = str(e.arg)
            if var not in self.env.rel.vars:
                return self._bool("false")
            return self._bool(f"({self.env.ref(var)} IS NOT NULL)")
        if fn in ("EXISTS", "NOTEXISTS"):
            if self.exists is None:
                raise NotTranslatable("EXISTS here")
            sql = self.exists(e.graph, self.env)
            return self._bool(f"(NOT {sql})" if fn == "NOTEXISTS" else sql)
        if fn == "REGEX":
            flags = self.compile(e.flags) if e.flags is not None else None
            return _regex(self.compile(e.text), self.compile(e.pattern), flags)
        if fn == "LANGMATCHES":
            return _lang_matches(self.compile(e.arg1), self.compile(e.arg2))
        if fn == "SUBSTR":
            args = [self.compile(e.arg), self.compile(e.start)]
            if e.length is not None:
                args.append(self.compile(e.length))
            return _substr(args)
        if fn in _PARTS:
            return _part(fn, self.compile(e.arg))
        if fn in ("STRBEFORE", "STRAFTER"):
            return _str_pair(fn, self.compile(e.arg1), self.compile(e.arg2))
        if fn == "STRDT":
            return _strdt(self.compile(e.arg1), self.compile(e.arg2))
        if fn == "STRLANG":
            return _strlang(self.compile(e.arg1), self.compile(e.arg2))
        if fn in ("CONCAT", "COALESCE"):
            args = [self.compile(x) for x in _args(e.arg)]
            if not args:
                return string_val("''") if fn == "CONCAT" else SqlVal(kind=NULL)
            return FUNCTIONS[fn](args)
        if fn in _ARGS:
            engine_name, attrs = _ARGS[fn]
            args = [self.compile(getattr(e, a)) for a in attrs]
            if engine_name == "IRI":
                raise NotTranslatable("IRI() (needs BASE resolution)")
            return FUNCTIONS[engine_name](args)
        raise NotTranslatable(f"function {fn}")


def exists_correlation(inner_vars: dict[str, str], env: Env, alias: str) -> list[str]:
    """SQL conditions tying an EXISTS pattern (aliased ``alias``) to the outer row."""
    conds = []
    for v, rep in inner_vars.items():
        outer = env.rel.vars.get(v)
        if outer is None:
            continue
        a, b = env.ref(v), f"{alias}.{col(v)}"
        if rep == outer == "id":
            eq = f"{a} = {b}"
        else:
            va = env.value(v)
            from graphcrime.sparql.values import from_struct

            vb = from_struct(b) if rep == "val" else None
            if vb is None:
                raise NotTranslatable("EXISTS over mixed term representations")
            assert va is not None
            eq = f"{va.nt()} = {vb.nt()}"
        conds.append(f"({a} IS NULL OR {eq})" if v in env.rel.maybe else eq)
    return conds


__all__ = ["ExprCompiler", "exists_correlation", "q"]
