"""The engine's DuckDB SQL, translated to Spark SQL; rule features Spark cannot run yet.

The plan layer (:mod:`graphcrime.engine.plan`) writes DuckDB SQL. sqlglot parses it and
writes Spark SQL; the few functions whose Spark spelling or meaning differs are rewritten on
the syntax tree first (``suffix`` -> ``endswith``, ``HUGEINT`` -> ``DECIMAL(38,0)``, numeric
``trunc`` -> toward-zero rounding, ``gc_sha384`` -> ``sha2(x, 384)``).

Rule expressions whose Spark translation is not proven equal to the embedded engine (checked
by the tests in tests/spark) are refused up front by :func:`check_rule`, with the rule's
file:line and the feature, instead of risking a different answer.

>>> to_spark("SELECT suffix(a.lex, 'Z'), 1::INTEGER FROM p_1 AS a WHERE a.r < 3")
"SELECT ENDSWITH(a.lex, 'Z'), CAST(1 AS INT) FROM p_1 AS a WHERE a.r < 3"
"""

from __future__ import annotations

import functools
from typing import Any

from graphcrime.errors import Position, RuleError
from graphcrime.lang.ast import (
    Aggregate,
    Bind,
    BinOp,
    Call,
    Expr,
    Filter,
    Negation,
    Rule,
    UnaryOp,
)
from graphcrime.vocab import XSD

#: SPARQL functions whose Spark translation the tests check against the embedded engine.
SUPPORTED_FUNCTIONS = frozenset({
    "STR", "IRI", "URI", "CONCAT", "MD5", "SHA1", "SHA256", "SHA384", "SHA512", "STRLEN",
    "UCASE", "LCASE", "CONTAINS", "STRSTARTS", "STRENDS", "STRBEFORE", "STRAFTER", "SUBSTR",
    "ISIRI", "ISURI", "ISBLANK", "ISLITERAL", "ISNUMERIC", "DATATYPE", "LANG", "SAMETERM",
    "ABS", "CEIL", "FLOOR", "ROUND", "YEAR", "MONTH", "DAY", "HOURS", "MINUTES", "IF",
    "COALESCE", "IN", "NOTIN", "BOUND", "STRLANG", "STRDT",
})
#: aggregates the Spark backend runs
SUPPORTED_AGGREGATES = frozenset({"COUNT", "SUM", "MIN", "MAX", "AVG"})
#: why the others are refused (shown in the error)
_WHY = {
    "REGEX": "regular-expression flags and dialect differ between Java and DuckDB (RE2)",
    "REPLACE": "regular-expression replacement syntax differs between Java and DuckDB (RE2)",
    "SECONDS": "fractional seconds are not translated yet",
}


def _walk(e: Expr):
    yield e
    for child in (getattr(e, "args", None) or ()):
        yield from _walk(child)
    for name in ("left", "right", "arg"):
        child = getattr(e, name, None)
        if child is not None and not isinstance(child, (str, tuple)):
            yield from _walk(child)


def check_rule(rule: Rule) -> None:
    """Raise RuleError (rule file:line, the feature) if Spark cannot evaluate ``rule`` yet."""
    exprs: list[Expr] = []
    for lit in rule.body:
        if isinstance(lit, (Bind, Filter)):
            exprs.append(lit.expr)
        elif isinstance(lit, Aggregate):
            for b in lit.binds:
                if b.func.upper() not in SUPPORTED_AGGREGATES:
                    _refuse(rule, f"aggregate {b.func}", b.pos)
                if b.arg is not None:
                    exprs.append(b.arg)
            exprs += [x.expr for x in lit.body if isinstance(x, (Bind, Filter))]
        elif isinstance(lit, Negation):
            continue
    for top in exprs:
        for e in _walk(top):
            if isinstance(e, Call) and e.name not in SUPPORTED_FUNCTIONS:
                what = f"cast to {e.name}" if e.name.startswith(XSD) else f"function {e.name}"
                _refuse(rule, what, e.pos, _WHY.get(e.name))
            if isinstance(e, (BinOp, UnaryOp)) and getattr(e, "op", "") not in \
                    {"&&", "||", "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "!"}:
                _refuse(rule, f"operator {e.op}", e.pos)


def _refuse(rule: Rule, what: str, pos: Position | None = None, why: str | None = None) -> None:
    p = pos if pos is not None and pos.line is not None else rule.pos
    raise RuleError(f"the Spark engine does not support {what} yet"
                    + (f" ({why})" if why else ""), file=p.file, line=p.line, col=p.col,
                    hint="run it on the embedded engine (the default, --engine embedded)")


def _is_terms(item: object) -> bool:
    from sqlglot import exp

    return isinstance(item, exp.Table) and item.name == "terms"


def _equi_order(select: object) -> None:
    """Reorder the comma-joined FROM items of ``select`` so that each one is tied to an
    earlier one by an equality in WHERE (breadth first from the first item). Where no item
    is, a cross join cannot be avoided: it takes the first remaining item that is not a
    ``terms`` lookup (a parameter row, say), whose own lookups then follow by equality.

    The session joins in this order (Spark's greedy ``ReorderJoin`` is off: it takes the
    first item sharing *any* condition, and joined a typed-value lookup compared by ``<``
    as a cartesian product with the whole dictionary).
    """
    from sqlglot import exp

    assert isinstance(select, exp.Select)
    key = "from_" if "from_" in select.args else "from"
    src, joins = select.args.get(key), select.args.get("joins") or []
    where = select.args.get("where")
    if src is None or not joins or where is None or any(
            j.args.get("on") or j.args.get("using") or j.args.get("side") or
            j.args.get("kind") for j in joins):
        return
    items = [src.this] + [j.this for j in joins]
    names = [it.alias_or_name for it in items]
    edges: set[tuple[str, str]] = set()
    for cond in where.this.flatten() if isinstance(where.this, exp.And) else [where.this]:
        if isinstance(cond, exp.EQ) and isinstance(cond.this, exp.Column) and \
                isinstance(cond.expression, exp.Column):
            a, b = cond.this.table, cond.expression.table
            if a and b and a != b:
                edges |= {(a, b), (b, a)}
    order, placed = [0], {names[0]}
    rest = list(range(1, len(items)))
    while rest:
        pick = next((i for i in rest if any((names[i], p) in edges for p in placed)),
                    next((i for i in rest if not _is_terms(items[i])), rest[0]))
        rest.remove(pick)
        order.append(pick)
        placed.add(names[pick])
    if order == list(range(len(items))):
        return
    select.set(key, exp.From(this=items[order[0]]))
    select.set("joins", [exp.Join(this=items[i]) for i in order[1:]])


@functools.lru_cache(maxsize=4096)
def to_spark(sql: str) -> str:
    """Spark SQL for one DuckDB query written by the plan layer."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")

    def fix(node: exp.Expression) -> Any:  # an Expression (sqlglot's func() says Func)
        if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.INT128:
            return exp.DataType.build("DECIMAL(38, 0)")
        if isinstance(node, exp.Anonymous):
            name = str(node.this).lower()
            args = node.expressions
            if name == "suffix":
                return exp.func("endswith", *args)
            if name in ("gc_sha384", "gc_sha512"):
                return exp.func("sha2", args[0], exp.Literal.number(name[-3:]))
        if isinstance(node, exp.Trunc) or (isinstance(node, exp.Anonymous)
                                           and str(node.this).lower() == "trunc"):
            arg = node.this if isinstance(node, exp.Trunc) else node.expressions[0]
            return exp.If(this=exp.LT(this=arg.copy(), expression=exp.Literal.number(0)),
                          true=exp.Ceil(this=arg.copy()), false=exp.Floor(this=arg.copy()))
        return node

    tree = tree.transform(fix)
    for select in list(tree.find_all(exp.Select)):
        _equi_order(select)
    return tree.sql(dialect="spark")


def broadcast_chain(sql: str, start: str) -> str:
    """``sql`` (one Spark SELECT over comma-joined FROM items, as :func:`to_spark` writes it)
    as nested joins that start at the FROM item aliased ``start`` and broadcast the rows
    joined so far into each next join: for a small delta, every join then streams the next
    table once (no shuffle of any table) instead of shuffling both sides.

    Items are joined breadth first from ``start`` along equalities; each condition moves to
    the first join that has all of its aliases (conditions with subqueries, such as NOT
    EXISTS, stay in the outer WHERE), and each level passes on the columns later levels
    read, as ``<alias>__<column>``. A query of another shape is returned unchanged.

    >>> print(broadcast_chain("SELECT a2.o AS v_y FROM p_1 AS a1, p_2 AS a2 "
    ...                       "WHERE a1.o = a2.s AND a1.s = 7", "a1").replace(" FROM", "\\nFROM"))
    SELECT x1.a2__o AS v_y
    FROM (SELECT /*+ BROADCAST(a1) */ a2.o AS a2__o
    FROM p_1 AS a1 JOIN p_2 AS a2 ON a1.o = a2.s AND a1.s = 7) AS x1
    """
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="spark")
    if not isinstance(tree, exp.Select):
        return sql
    key = "from_" if "from_" in tree.args else "from"
    src, joins, where = tree.args.get(key), tree.args.get("joins") or [], tree.args.get("where")
    comma = all(not (j.args.get("on") or j.args.get("using") or j.args.get("side"))
                and j.args.get("kind") in (None, "CROSS") for j in joins)
    if src is None or not joins or not comma or any(
            tree.args.get(a) for a in ("group", "having", "order", "limit", "qualify")):
        return sql
    items = [src.this] + [j.this for j in joins]
    names = [it.alias_or_name for it in items]
    if start not in names or len(set(names)) < len(names):
        return sql
    conds = (where.this.flatten() if isinstance(where.this, exp.And) else [where.this]) \
        if where is not None else []
    conds = [c.copy() for c in conds]
    outer = set(names)

    def refs(node: exp.Expression) -> set[tuple[str, str]]:
        return {(c.table, c.name) for c in node.find_all(exp.Column) if c.table in outer}

    edges: set[tuple[str, str]] = set()
    for c in conds:
        if isinstance(c, exp.EQ) and isinstance(c.this, exp.Column) and \
                isinstance(c.expression, exp.Column) and c.this.table != c.expression.table:
            edges |= {(c.this.table, c.expression.table), (c.expression.table, c.this.table)}
    order, rest = [start], [n for n in names if n != start]
    while rest:
        pick = next((n for n in rest if any((n, p) in edges for p in order)), rest[0])
        rest.remove(pick)
        order.append(pick)
    pos = {n: i for i, n in enumerate(order)}
    last = len(order) - 1
    # the join (1..last) each condition belongs to; last + 1: the outer WHERE
    level = [last + 1 if c.find(exp.Subquery, exp.Exists) is not None or c.find(exp.Select)
             is not None else max([1] + [pos[a] for a, _ in refs(c)]) for c in conds]
    later: list[set[tuple[str, str]]] = [set() for _ in range(last + 2)]
    for c, lv in zip(conds, level, strict=True):
        later[lv] |= refs(c)
    later[last + 1] |= set().union(*(refs(e) for e in tree.expressions))
    for lv in range(last, -1, -1):
        later[lv] |= later[lv + 1]
    by_name = dict(zip(names, items, strict=True))

    def rename(node: exp.Expression, prev: set[str], x: str) -> exp.Expression:
        def fix(n: exp.Expression) -> exp.Expression:
            if isinstance(n, exp.Column) and n.table in prev:
                return exp.column(f"{n.table}__{n.name}", table=x)
            return n
        return node.copy().transform(fix)

    body = ""
    for k in range(1, last + 1):
        prev, x = set(order[:k]), f"x{k - 1}"
        placed = set(order[:k + 1])
        cols = sorted((a, c) for a, c in later[k + 1] if a in placed)
        sel = ", ".join((f"{x}.{a}__{c}" if a in prev and k > 1 else f"{a}.{c}") + f" AS {a}__{c}"
                        for a, c in cols) or "1 AS one_"
        on = [rename(c, prev, x) if k > 1 else c for c, lv in zip(conds, level, strict=True)
              if lv == k]
        cond = " AND ".join(c.sql(dialect="spark") for c in on) or "TRUE"
        left = by_name[order[0]].sql(dialect="spark") if k == 1 else f"({body}) AS {x}"
        hint = order[0] if k == 1 else x
        body = (f"SELECT /*+ BROADCAST({hint}) */ {sel} FROM {left} JOIN "
                f"{by_name[order[k]].sql(dialect='spark')} ON {cond}")
    x, every = f"x{last}", set(order)
    out = [rename(e, every, x).sql(dialect="spark") for e in tree.expressions]
    tail = [rename(c, every, x).sql(dialect="spark") for c, lv in zip(conds, level, strict=True)
            if lv == last + 1]
    distinct = "DISTINCT " if tree.args.get("distinct") else ""
    return (f"SELECT {distinct}{', '.join(out)} FROM ({body}) AS {x}"
            + (f" WHERE {' AND '.join(tail)}" if tail else ""))
