"""SPARQL algebra (rdflib) -> one DuckDB SQL relation over the fact store.

Each algebra node becomes a :class:`~graphcrime.sparql.values.Rel`. Basic graph patterns join
``store.pattern_sql(p)`` relations (most selective pattern first, constants looked up as ids
once); OPTIONAL is a LEFT JOIN (a filtered one goes through a numbered copy of the left
side), UNION is ``UNION ALL``, MINUS a ``NOT EXISTS``; ORDER BY keeps a rank column ``_ord``
that DISTINCT and LIMIT respect. Grouping lives in :mod:`graphcrime.sparql.aggregate`.

>>> Translator.__name__
'Translator'
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rdflib import BNode, Variable
from rdflib.plugins.sparql.parserutils import CompValue

from graphcrime.db import scalar
from graphcrime.engine.sqlexpr import column_val
from graphcrime.sparql.expressions import ExprCompiler, exists_correlation
from graphcrime.sparql.values import (
    ORD,
    VAL_TYPE,
    Env,
    NotTranslatable,
    Rel,
    col,
    empty_rel,
    from_struct,
    null_of,
    order_keys,
    pack,
    term_nt,
    unit_rel,
)

_BIG = 1e15
#: a pattern reads its rows from the store's subject index when its subjects are at most
#: this share of the indexed rows (else it scans: a binary search per subject costs more)
KEY_SHARE = 1 / 50


def _paren(sql: str) -> str:
    s = sql.strip()
    return s if s.startswith("(") and s.endswith(")") else f"({s})"


class Translator:
    """Translates algebra nodes against one store (see module docstring)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.con = store.con
        self._ids: dict[str, int | None] = {}
        self._counts: dict[int, int] = {}
        self._n = 0
        #: set for ``SELECT *``: the outermost projection keeps every in-scope variable
        self.star = False
        #: offsets of each variable's first mention in the query text (SELECT * order)
        self.first_seen: dict[str, int] = {}
        #: temporary tables the translation made (rows read from a subject index)
        self.temps: list[str] = []

    # -- helpers --------------------------------------------------------------------------
    def fresh(self, stem: str) -> str:
        self._n += 1
        return f"_{stem}{self._n}"

    def term_id(self, term: Any) -> int | None:
        nt = term_nt(term)
        if nt not in self._ids:
            self._ids[nt] = self.store.term_id(nt)
        return self._ids[nt]

    def pred_count(self, p: int) -> int:
        if p not in self._counts:
            sql = f"SELECT count(*) FROM {_paren(self.store.pattern_sql(p))} x"
            self._counts[p] = int(scalar(self.con, sql))
        return self._counts[p]

    def to_val(self, rel: Rel, names: set[str]) -> Rel:
        """The same relation with the given id variables turned into values."""
        names = {n for n in names if rel.vars.get(n) == "id"}
        if not names:
            return rel
        env = Env(rel)
        items = []
        for v in rel.vars:
            if v in names:
                val = env.value(v)
                assert val is not None
                items.append(f"{pack(val)} AS {col(v)}")
            else:
                items.append(env.ref(v) + f" AS {col(v)}")
        if rel.ordered:
            items.append(f"r.{ORD}")
        vars_ = {v: ("val" if v in names else r) for v, r in rel.vars.items()}
        return Rel(f"SELECT {', '.join(items) or '1 AS _unit'} {env.from_clause()}", vars_,
                   rel.maybe, rel.ordered)

    @staticmethod
    def _eq(a: str, b: str, repr_: str) -> str:
        if repr_ == "id":
            return f"{a} = {b}"
        return f"{from_struct(a).nt()} = {from_struct(b).nt()}"

    # -- dispatch -------------------------------------------------------------------------
    def pattern(self, node: Any) -> Rel:
        if not isinstance(node, CompValue):
            raise NotTranslatable(f"pattern {node!r}")
        method = getattr(self, "_p_" + node.name, None)
        if method is None:
            raise NotTranslatable(f"{node.name} patterns")
        return method(node)

    def _p_BGP(self, node: CompValue) -> Rel:
        pats: list[list[tuple[str, Any]]] = []
        for triple in node.triples:
            terms: list[tuple[str, Any]] = []
            for t in triple:
                if isinstance(t, Variable):
                    terms.append(("var", str(t)))
                elif isinstance(t, BNode):
                    terms.append(("var", "_:" + str(t)))
                else:
                    tid = self.term_id(t)  # raises NotTranslatable for paths
                    if tid is None:
                        names = [str(x) for tr in node.triples for x in tr
                                 if isinstance(x, Variable)]
                        return empty_rel(list(dict.fromkeys(names)))
                    terms.append(("const", tid))
            pats.append(terms)
        if not pats:
            return unit_rel()
        order = self._order(pats)
        froms: list[str] = []
        where: list[str] = []
        bound: dict[str, str] = {}
        for i, terms in enumerate(order):
            a = f"t{i}"
            p = terms[1][1] if terms[1][0] == "const" else None
            src = None
            if terms[0][0] == "var" and terms[0][1] in bound:  # subjects known from before
                cond = " WHERE " + " AND ".join(where) if where else ""
                src = self.by_subject(p, f"SELECT {bound[terms[0][1]]} AS s "
                                         f"FROM {', '.join(froms)}{cond}",
                                      min(self._estimate(t) for t in order[:i]))
            froms.append(f"{_paren(src or self.store.pattern_sql(p))} AS {a}")
            for pos, (k, v) in zip("spo", terms, strict=False):
                ref = f"{a}.{pos}"
                if k == "const":
                    if pos != "p":
                        where.append(f"{ref} = {v}")
                elif v in bound:
                    where.append(f"{ref} = {bound[v]}")
                else:
                    bound[v] = ref
        sel = ", ".join(f"{ref} AS {col(v)}" for v, ref in bound.items()) or "1 AS _unit"
        sql = f"SELECT {sel} FROM {', '.join(froms)}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return Rel(sql, {v: "id" for v in bound})

    def by_subject(self, p: int | None, subjects: str, estimate: float) -> str | None:
        """The relation ``(s, p, o)`` of the triples with predicate ``p`` (None: any) whose
        subject the query ``subjects`` (column ``s``, about ``estimate`` rows at most) gives,
        read from the store's subject index (``graphcrime.engine.subjects``); None, to scan
        instead, when there is no index for those tables or the subjects are too many."""
        from graphcrime.engine.subjects import rows_table

        index = getattr(self.store, "subjects", None)
        if index is None:
            return None
        preds = self.store.preds
        tables = sorted(preds.items()) if p is None else [(p, preds[p])] if p in preds else []
        indexed = [(pid, t) for pid, t in tables if index.rows(t)]
        limit = int(sum(index.rows(t) for _, t in indexed) * KEY_SHARE)
        if not limit or estimate > 50 * limit:  # surely too many: do not compute them
            return None
        keys = self.con.execute(f"SELECT DISTINCT s FROM ({subjects}) k WHERE s IS NOT NULL "
                                f"LIMIT {limit + 1}").fetchnumpy()["s"]
        if len(keys) > limit:
            return None
        name = rows_table(self.con, index, indexed, np.sort(keys.astype(np.int32)))
        self.temps.append(name)
        rest = [f"SELECT s, {pid}::INTEGER AS p, o FROM {t}" for pid, t in tables
                if not index.rows(t)]
        return "(" + " UNION ALL ".join([f"SELECT s, p, o FROM {name}", *rest]) + ")"

    def _estimate(self, terms: list[tuple[str, Any]]) -> float:
        """A guess at the rows of a triple pattern (its predicate's count, divided for a
        constant object, at most 10 for a constant subject)."""
        (ks, _), (kp, p), (ko, _) = terms
        n = float(self.pred_count(p)) if kp == "const" else _BIG
        if ks == "const":
            n = min(n, 10.0)
        if ko == "const":
            n = n / 50.0
        return n

    def _order(self, pats: list[list[tuple[str, Any]]]) -> list[list[tuple[str, Any]]]:
        left = sorted(pats, key=self._estimate)
        out = [left.pop(0)]
        seen = {v for k, v in out[0] if k == "var"}
        while left:
            linked = [t for t in left if any(k == "var" and v in seen for k, v in t)]
            nxt = linked[0] if linked else left[0]
            left.remove(nxt)
            out.append(nxt)
            seen |= {v for k, v in nxt if k == "var"}
        return out

    def join(self, a: Rel, b: Rel, how: str = "JOIN") -> Rel:
        shared = [v for v in a.vars if v in b.vars]
        mixed = {v for v in shared if a.vars[v] != b.vars[v]}
        a, b = self.to_val(a, mixed), self.to_val(b, mixed)
        conds, items = [], []
        for v in shared:
            x, y = f"l.{col(v)}", f"r.{col(v)}"
            eq = self._eq(x, y, a.vars[v])
            if v in a.maybe or v in b.maybe:
                conds.append(f"({x} IS NULL OR {y} IS NULL OR {eq})")
                items.append(f"coalesce({x}, {y}) AS {col(v)}")
            else:
                conds.append(eq)
                items.append(f"{x} AS {col(v)}")
        items += [f"l.{col(v)}" for v in a.vars if v not in b.vars]
        items += [f"r.{col(v)}" for v in b.vars if v not in a.vars]
        vars_ = {**b.vars, **a.vars}
        maybe = set(a.maybe | b.maybe)
        if how == "LEFT JOIN":
            maybe |= {v for v in b.vars if v not in a.vars} | {v for v in shared if v in a.maybe}
        else:
            maybe -= {v for v in shared if not (v in a.maybe and v in b.maybe)}
        on = " AND ".join(conds) or "true"
        sel = ", ".join(items) or "1 AS _unit"
        sql = f"SELECT {sel} FROM ({a.sql}) l {how} ({b.sql}) r ON {on}"
        return Rel(sql, vars_, frozenset(maybe))

    def _p_Join(self, node: CompValue) -> Rel:
        return self.join(self.pattern(node.p1), self.pattern(node.p2))

    def _p_LeftJoin(self, node: CompValue) -> Rel:
        a, b = self.pattern(node.p1), self.pattern(node.p2)
        expr = node.expr
        if expr is None or (isinstance(expr, CompValue) and expr.name == "TrueFilter"):
            return self.join(a, b, "LEFT JOIN")
        # OPTIONAL with a filter: number the left rows, join + filter, left join back by number
        rid, lt, jt = "\x00rid", self.fresh("l"), self.fresh("j")
        numbered = Rel(f"SELECT * FROM {lt}", {**a.vars, rid: "id"}, a.maybe)
        inner = self.filter(self.join(numbered, b), expr)
        keep = [v for v in b.vars if v not in a.vars or v in a.maybe]
        inner_sel = ", ".join([f"{col(rid)}"] + [col(v) for v in keep])
        bnew = Rel("", {v: inner.vars[v] for v in keep}, inner.maybe)
        a2 = self.to_val(Rel(f"SELECT * FROM {lt}", {**a.vars, rid: "id"}, a.maybe),
                         {v for v in keep if v in a.vars and bnew.vars[v] != a.vars[v]})
        items = []
        for v in a.vars:
            if v in keep:
                items.append(f"coalesce(x.{col(v)}, y.{col(v)}) AS {col(v)}")
            else:
                items.append(f"x.{col(v)}")
        items += [f"y.{col(v)}" for v in keep if v not in a.vars]
        src = ", ".join([f"row_number() OVER () AS {col(rid)}"] + a.columns())
        sql = (f"WITH {lt} AS MATERIALIZED (SELECT {src} FROM ({a.sql}) s), "
               f"{jt} AS (SELECT {inner_sel} FROM ({inner.sql}) i) "
               f"SELECT {', '.join(items) or '1 AS _unit'} FROM ({a2.sql}) x "
               f"LEFT JOIN {jt} y ON x.{col(rid)} = y.{col(rid)}")
        vars_ = {**{v: a2.vars[v] for v in a.vars}, **{v: bnew.vars[v] for v in keep
                                                        if v not in a.vars}}
        for v in keep:
            if v in a.vars and a2.vars[v] != bnew.vars[v]:
                raise NotTranslatable("OPTIONAL over mixed term representations")
        return Rel(sql, vars_, frozenset(a.maybe | set(keep)))

    def filter(self, rel: Rel, expr: Any) -> Rel:
        env = Env(rel)
        cond = ExprCompiler(env, self.exists).ebv(expr)
        return Rel(f"SELECT {rel.select_list('r.')} {env.from_clause()} WHERE {cond}",
                   rel.vars, rel.maybe, rel.ordered)

    def exists(self, graph: Any, env: Env) -> str:
        from rdflib.plugins.sparql.algebra import translateGroupGraphPattern

        inner = self.pattern(translateGroupGraphPattern(graph))
        alias = self.fresh("e")
        conds = exists_correlation(inner.vars, env, alias)
        where = (" WHERE " + " AND ".join(conds)) if conds else ""
        return f"EXISTS (SELECT 1 FROM ({inner.sql}) {alias}{where})"

    def _p_Filter(self, node: CompValue) -> Rel:
        return self.filter(self.pattern(node.p), node.expr)

    def _p_Extend(self, node: CompValue) -> Rel:
        rel = self.pattern(node.p)
        var = str(node.var)
        expr = node.expr
        if isinstance(expr, Variable) and str(expr) in rel.vars:
            src = str(expr)
            vars_ = {**rel.vars, var: rel.vars[src]}
            maybe = rel.maybe | ({var} if src in rel.maybe else set())
            return Rel(f"SELECT {rel.select_list()}, {col(src)} AS {col(var)} FROM ({rel.sql}) r",
                       vars_, frozenset(maybe), rel.ordered)
        env = Env(rel)
        value = pack(ExprCompiler(env, self.exists).compile(expr))
        items = [c for c in rel.columns("r.")] + [f"{value} AS {col(var)}"]
        return Rel(f"SELECT {', '.join(items)} {env.from_clause()}", {**rel.vars, var: "val"},
                   rel.maybe | {var}, rel.ordered)

    def _p_Union(self, node: CompValue) -> Rel:
        a, b = self.pattern(node.p1), self.pattern(node.p2)
        names = list(dict.fromkeys([*a.vars, *b.vars]))
        vals = {v for v in names if "val" in (a.vars.get(v), b.vars.get(v))}
        a, b = self.to_val(a, vals), self.to_val(b, vals)
        vars_ = {v: ("val" if v in vals else "id") for v in names}

        def side(r: Rel) -> str:
            items = [col(v) if v in r.vars else f"{null_of(vars_[v])} AS {col(v)}" for v in names]
            return f"SELECT {', '.join(items) or '1 AS _unit'} FROM ({r.sql}) u"

        maybe = a.maybe | b.maybe | {v for v in names if v not in a.vars or v not in b.vars}
        return Rel(f"{side(a)} UNION ALL {side(b)}", vars_, frozenset(maybe))

    def _p_Minus(self, node: CompValue) -> Rel:
        a, b = self.pattern(node.p1), self.pattern(node.p2)
        shared = [v for v in a.vars if v in b.vars]
        if not shared:
            return a
        mixed = {v for v in shared if a.vars[v] != b.vars[v]}
        a, b = self.to_val(a, mixed), self.to_val(b, mixed)
        conds, some = [], []
        for v in shared:
            x, y = f"l.{col(v)}", f"m.{col(v)}"
            eq = self._eq(x, y, a.vars[v])
            if v in a.maybe or v in b.maybe:
                conds.append(f"({x} IS NULL OR {y} IS NULL OR {eq})")
                some.append(f"({x} IS NOT NULL AND {y} IS NOT NULL)")
            else:
                conds.append(eq)
                some = ["true"]
        cond = " AND ".join(conds) + " AND (" + (" OR ".join(some) or "false") + ")"
        sql = (f"SELECT {a.select_list('l.')} FROM ({a.sql}) l WHERE NOT EXISTS "
               f"(SELECT 1 FROM ({b.sql}) m WHERE {cond})")
        return Rel(sql, a.vars, a.maybe, a.ordered)

    def _p_Project(self, node: CompValue) -> Rel:
        star, self.star = self.star, False
        rel = self.pattern(node.p)
        names = [str(v) for v in node.PV]
        if star:
            names = [v for v in rel.vars if not v.startswith(("_:", "\x00", "__agg"))]
            names.sort(key=lambda n: self.first_seen.get(n, 1 << 30))
        items = [f"{col(v)}" if v in rel.vars else f"NULL::INTEGER AS {col(v)}" for v in names]
        if rel.ordered:
            items.append(ORD)
        vars_ = {v: rel.vars.get(v, "id") for v in names}
        maybe = {v for v in names if v in rel.maybe or v not in rel.vars}
        return Rel(f"SELECT {', '.join(items) or '1 AS _unit'} FROM ({rel.sql}) r", vars_,
                   frozenset(maybe), rel.ordered)

    def _p_Distinct(self, node: CompValue) -> Rel:
        rel = self.pattern(node.p)
        cols = ", ".join(col(v) for v in rel.vars)
        if not rel.vars:
            sql = f"SELECT 1 AS _unit{', min(_ord) AS _ord' if rel.ordered else ''} " \
                  f"FROM ({rel.sql}) r LIMIT 1"
        elif rel.ordered:
            sql = f"SELECT {cols}, min({ORD}) AS {ORD} FROM ({rel.sql}) r GROUP BY ALL"
        else:
            sql = f"SELECT DISTINCT {cols} FROM ({rel.sql}) r"
        return Rel(sql, rel.vars, rel.maybe, rel.ordered)

    _p_Reduced = _p_Distinct

    def _p_OrderBy(self, node: CompValue) -> Rel:
        rel = self.pattern(node.p)
        env = Env(rel)
        comp = ExprCompiler(env, self.exists)
        keys: list[str] = []
        for cond in node.expr:
            if isinstance(cond, CompValue) and cond.name == "OrderCondition":
                keys += order_keys(comp.compile(cond.expr), cond.order == "DESC")
            else:
                keys += order_keys(comp.compile(cond), False)
        items = [f"r.{col(v)}" for v in rel.vars]
        if rel.ordered:  # an earlier order breaks ties
            keys.append(f"r.{ORD}")
        items.append(f"row_number() OVER (ORDER BY {', '.join(keys)}) AS {ORD}")
        return Rel(f"SELECT {', '.join(items)} {env.from_clause()}", rel.vars, rel.maybe, True)

    def _p_Slice(self, node: CompValue) -> Rel:
        rel = self.pattern(node.p)
        sql = f"SELECT {rel.select_list()} FROM ({rel.sql}) r"
        if rel.ordered:
            sql += f" ORDER BY {ORD}"
        if node.length is not None:
            sql += f" LIMIT {int(node.length)}"
        if node.start:
            sql += f" OFFSET {int(node.start)}"
        return Rel(sql, rel.vars, rel.maybe, rel.ordered)

    def _p_ToMultiSet(self, node: CompValue) -> Rel:
        rel = self.pattern(node.p)
        return Rel(f"SELECT {', '.join(col(v) for v in rel.vars) or '1 AS _unit'} "
                   f"FROM ({rel.sql}) r", rel.vars, rel.maybe)

    def _p_values(self, node: CompValue) -> Rel:
        rows = node.res or []
        names = list(dict.fromkeys(str(v) for row in rows for v in row))
        if not rows:
            return empty_rel(names)
        reprs: dict[str, str] = {}
        for v in names:
            ids = [self.term_id(row[Variable(v)]) for row in rows
                   if row.get(Variable(v), "UNDEF") != "UNDEF"]
            reprs[v] = "id" if all(i is not None for i in ids) else "val"
        from graphcrime.engine.sqlexpr import const_val

        tuples = []
        for row in rows:
            cells = []
            for v in names:
                t = row.get(Variable(v), "UNDEF")
                if t == "UNDEF":
                    cells.append(null_of(reprs[v]))
                elif reprs[v] == "id":
                    cells.append(f"{self.term_id(t)}::INTEGER")
                else:
                    cells.append(f"{pack(const_val(term_nt(t)))}::{VAL_TYPE}")
            tuples.append("(" + (", ".join(cells) or "1") + ")")
        cols = ", ".join(col(v) for v in names) or "_unit"
        maybe = {v for v in names if any(row.get(Variable(v), "UNDEF") == "UNDEF"
                                         for row in rows)}
        return Rel(f"SELECT * FROM (VALUES {', '.join(tuples)}) vt({cols})", reprs,
                   frozenset(maybe))

    def _p_AggregateJoin(self, node: CompValue) -> Rel:
        from graphcrime.sparql.aggregate import aggregate_join

        return aggregate_join(self, node)

    def _p_Group(self, node: CompValue) -> Rel:
        from graphcrime.sparql.aggregate import aggregate_join

        return aggregate_join(self, CompValue("AggregateJoin", A=[], p=node))


def output_values(rel: Rel, names: list[str]) -> tuple[str, list[Any]]:
    """FROM clause over ``rel`` (aliased r) and each named variable's value (None = absent)."""
    env = Env(rel)
    vals = [env.value(n) for n in names]
    return env.from_clause(), vals


__all__ = ["Translator", "output_values", "column_val"]
