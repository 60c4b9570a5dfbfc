"""SQL building blocks for SPARQL solutions: relations of variables and term values.

A translated pattern is a :class:`Rel`: SQL text whose columns are the pattern's variables.
A variable column holds either the ``INTEGER`` id of a stored term (``"id"``) or, for values a
query computes (BIND, aggregates, VALUES of unknown terms), a ``STRUCT`` with the columns of
``terms`` (``"val"``). NULL means unbound. Expressions work on
:class:`graphcrime.engine.sqlexpr.SqlVal`, the engine's typed-value form.

>>> col("x")
'"v_x"'
>>> Rel("SELECT 1 AS _unit", {}, frozenset()).columns()
[]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphcrime.engine.sqlexpr import SqlVal, column_val
from graphcrime.rdf.dictionary import literal_nt

#: The SQL type of a computed term value.
VAL_TYPE = ("STRUCT(kind UTINYINT, lex VARCHAR, dt VARCHAR, lang VARCHAR, num DOUBLE, "
            "ts TIMESTAMP, bool BOOLEAN)")
ORD = "_ord"


class NotTranslatable(Exception):
    """Raised for SPARQL the DuckDB translation does not cover; the caller falls back."""


def col(var: str) -> str:
    """The quoted SQL column name of a variable."""
    return '"v_' + var.replace('"', '""') + '"'


@dataclass
class Rel:
    """A relation of solutions: ``sql`` (a SELECT) with one column per variable.

    ``vars`` maps names to ``"id"`` or ``"val"``; ``maybe`` are the variables that may be
    unbound; ``ordered`` says the relation carries an ``_ord`` column (ORDER BY rank).
    """

    sql: str
    vars: dict[str, str] = field(default_factory=dict)
    maybe: frozenset[str] = frozenset()
    ordered: bool = False

    def columns(self, prefix: str = "") -> list[str]:
        """Column references of the variables (and ``_ord``), for select lists."""
        out = [f"{prefix}{col(v)}" for v in self.vars]
        if self.ordered:
            out.append(f"{prefix}{ORD}")
        return out

    def select_list(self, prefix: str = "") -> str:
        return ", ".join(self.columns(prefix)) or "1 AS _unit"


def null_of(repr_: str) -> str:
    """An unbound value of a representation."""
    return "NULL::INTEGER" if repr_ == "id" else f"NULL::{VAL_TYPE}"


def empty_rel(vars_: list[str]) -> Rel:
    """No solutions, with the given variables."""
    cols = ", ".join(f"NULL::INTEGER AS {col(v)}" for v in vars_) or "1 AS _unit"
    return Rel(f"SELECT {cols} WHERE false", {v: "id" for v in vars_})


def unit_rel() -> Rel:
    """One empty solution (the identity of join)."""
    return Rel("SELECT 1 AS _unit", {})


def pack(v: SqlVal) -> str:
    """SQL: a value as a ``VAL_TYPE`` struct (NULL for an error/unbound)."""
    return (f"(CASE WHEN ({v.kind}) IS NOT NULL THEN struct_pack(kind := ({v.kind})::UTINYINT, "
            f"lex := ({v.lex})::VARCHAR, dt := ({v.dt})::VARCHAR, lang := ({v.lang})::VARCHAR, "
            f"num := ({v.num})::DOUBLE, ts := ({v.ts})::TIMESTAMP, bool := ({v.bool})::BOOLEAN)"
            f" END)")


def from_struct(ref: str) -> SqlVal:
    """The value held in a struct column."""
    def f(k: str) -> str:
        return f"struct_extract({ref}, '{k}')"

    return SqlVal(kind=f("kind"), lex=f("lex"), dt=f("dt"), lang=f("lang"), num=f("num"),
                  ts=f("ts"), bool=f("bool"))


class Env:
    """Values of a relation's variables inside one SELECT over it (aliased ``r``).

    Stored-term variables are joined with ``terms`` (or the relation ``terms`` names: a
    table holding the terms the relation's rows use) on demand; :meth:`joins` gives the joins.
    """

    def __init__(self, rel: Rel, alias: str = "r", terms: str = "terms") -> None:
        self.rel = rel
        self.alias = alias
        self.terms = terms
        self._joins: dict[str, str] = {}

    def ref(self, var: str) -> str:
        return f"{self.alias}.{col(var)}"

    def value(self, var: str) -> SqlVal | None:
        repr_ = self.rel.vars.get(var)
        if repr_ is None:
            return None
        if repr_ == "val":
            return from_struct(self.ref(var))
        t = self._joins.setdefault(var, f"_t{len(self._joins)}")
        return column_val(t, self.ref(var))

    def joins(self) -> str:
        return " ".join(f"LEFT JOIN {self.terms} {t} ON {t}.id = {self.ref(v)}"
                        for v, t in self._joins.items())

    def from_clause(self) -> str:
        return f"FROM ({self.rel.sql}) {self.alias} {self.joins()}"


def order_keys(v: SqlVal, descending: bool) -> list[str]:
    """SQL ORDER BY keys for SPARQL's ordering: unbound < blank < IRI < literal, then value."""
    d = " DESC" if descending else " ASC"
    klass = (f"(CASE WHEN ({v.kind}) IS NULL THEN 0 WHEN ({v.kind}) = 1 THEN 1 "
             f"WHEN ({v.kind}) = 0 THEN 2 ELSE 3 END)")
    return [klass + d, f"({v.num}){d} NULLS LAST", f"({v.ts}){d} NULLS LAST",
            f"({v.bool}){d} NULLS LAST", f"({v.lex}){d} NULLS LAST"]


def sort_key(v: SqlVal) -> str:
    """One orderable SQL value (a struct without NULLs) for MIN/MAX over terms."""
    klass = (f"(CASE WHEN ({v.kind}) = 1 THEN 1 WHEN ({v.kind}) = 0 THEN 2 ELSE 3 END)")
    return (f"struct_pack(k := {klass}, n := coalesce(({v.num})::DOUBLE, 'Infinity'::DOUBLE), "
            f"t := coalesce(({v.ts})::TIMESTAMP, 'infinity'::TIMESTAMP), "
            f"b := coalesce(({v.bool})::INTEGER, 2), l := coalesce(({v.lex})::VARCHAR, ''))")


def term_nt(term: object) -> str:
    """Canonical N-Triples of an rdflib IRI or literal (``NotTranslatable`` for others)."""
    from rdflib import Literal, URIRef

    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, Literal):
        dt = str(term.datatype) if term.datatype is not None else None
        return literal_nt(str(term), dt, term.language)
    raise NotTranslatable(f"term {term!r}")
