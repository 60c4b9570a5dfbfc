"""GROUP BY and aggregates (COUNT, SUM, AVG, MIN, MAX, SAMPLE, GROUP_CONCAT) in DuckDB.

Three layers: argument values are computed per row (typed columns), a ``GROUP BY`` computes
plain SQL aggregates (sums, counts, highest numeric rank, arg-min...), and an outer select
turns those into RDF terms with SPARQL's typing (integer sums stay integers, AVG of integers is
a decimal, an ill-typed SUM is an error = unbound, an empty group sums to 0).

>>> aggregate_join.__name__
'aggregate_join'
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rdflib import Variable
from rdflib.plugins.sparql.parserutils import CompValue

from graphcrime.engine.sqlexpr import SqlVal, num_val, q, rank_sql, string_val
from graphcrime.sparql.expressions import ExprCompiler
from graphcrime.sparql.values import (
    Env,
    NotTranslatable,
    Rel,
    col,
    from_struct,
    pack,
    sort_key,
)
from graphcrime.vocab import XSD_STRING


def _number(rank: str, value: str) -> SqlVal:
    """A numeric result; decimals printed from the shortest round-trip form of the double
    (the engine's ``round(x, 10)`` form shows binary noise such as 6514419.4300000008)."""
    v = num_val(rank, value)
    text = f"CAST(({value})::DOUBLE AS VARCHAR)"
    lex = (f"(CASE WHEN ({rank}) = 1 AND NOT contains({text}, 'e') "
           f"THEN regexp_replace({text}, '\\.0$', '') ELSE {v.lex} END)")
    return replace(v, lex=lex)


def _agg_sql(kind: str, distinct: bool, a: str, sep: str | None) -> tuple[list[str], str]:
    """Aggregate select items over the argument struct column ``a`` and the final value SQL.

    Items are named ``{a}_x``; the final expression reads them from alias ``g``.
    """
    v = from_struct(a)
    d = "DISTINCT " if distinct else ""
    n = a.strip('"')

    def name(s: str) -> str:
        return f'"{n}_{s}"'

    def ref(s: str) -> str:
        return f'g."{n}_{s}"'

    if kind == "Count":
        return [f"count({d}{a}) AS {name('c')}"], pack(num_val("0", ref("c")))
    if kind in ("Sum", "Avg"):
        items = [f"count(*) FILTER (WHERE ({v.num}) IS NULL) AS {name('bad')}",
                 f"sum({d}{v.num}) AS {name('s')}", f"count({d}{v.num}) AS {name('c')}",
                 f"max({rank_sql(v.dt)}) AS {name('r')}",
                 # integers and decimals add up exactly (amounts!), doubles as doubles
                 f"sum({d}CASE WHEN ({v.num}) IS NOT NULL THEN coalesce(TRY_CAST(trim({v.lex}) AS "
                 f"DECIMAL(38, 10)), TRY_CAST({v.num} AS DECIMAL(38, 10))) END) AS {name('sd')}"]
        rank = f"coalesce({ref('r')}, 0)"
        total = f"(CASE WHEN {rank} <= 1 THEN {ref('sd')}::DOUBLE ELSE {ref('s')} END)"
        if kind == "Sum":
            value = f"coalesce({total}, 0)"
        else:
            value = f"(CASE WHEN {ref('c')} = 0 THEN 0 ELSE {total} / {ref('c')} END)"
            rank = f"(CASE WHEN {ref('c')} = 0 THEN 0 ELSE greatest({rank}, 1) END)"
        value = f"(CASE WHEN {ref('bad')} = 0 THEN {value} END)"
        return items, pack(_number(rank, value))
    if kind in ("Min", "Max"):
        fn = "arg_min" if kind == "Min" else "arg_max"
        return ([f"{fn}({a}, {sort_key(v)}) FILTER (WHERE {a} IS NOT NULL) AS {name('m')}"],
                ref("m"))
    if kind == "Sample":
        return [f"any_value({a}) AS {name('m')}"], ref("m")
    if kind == "GroupConcat":
        is_str = (f"(({v.kind}) = 2 AND ({v.dt}) IN ({q(XSD_STRING)}, "
                  f"'http://www.w3.org/1999/02/22-rdf-syntax-ns#langString'))")
        sep_sql = q(" " if sep is None else sep)
        items = [f"count(*) FILTER (WHERE NOT coalesce({is_str}, false)) AS {name('bad')}",
                 f"string_agg({d}{v.lex}, {sep_sql}) AS {name('s')}"]
        # the result is a simple literal, whatever the tags (SPARQL 1.1 errata, pyoxigraph)
        return items, pack(string_val(f"coalesce({ref('s')}, '')", ok=f"{ref('bad')} = 0"))
    raise NotTranslatable(f"aggregate {kind}")


def aggregate_join(tr: Any, node: CompValue) -> Rel:
    """Translate ``AggregateJoin(A, Group(p, expr))`` into a grouped SELECT."""
    group = node.p
    if not (isinstance(group, CompValue) and group.name == "Group"):
        raise NotTranslatable("aggregate without Group")
    rel = tr.pattern(group.p)
    keys = []
    for k in group.expr or []:
        if not isinstance(k, Variable):
            raise NotTranslatable("GROUP BY an expression")
        keys.append(str(k))

    # layer 1: argument values per row
    env = Env(rel)
    comp = ExprCompiler(env, tr.exists)
    items = [f"r.{col(k)} AS {col(k)}" for k in keys if k in rel.vars]
    plans: list[tuple[str, str, str, tuple[bool, Any] | None]] = []
    for i, agg in enumerate(node.A or []):
        kind = agg.name[len("Aggregate_"):]
        res = str(agg.res)
        distinct = bool(agg["distinct"]) if "distinct" in agg else False
        if kind == "Sample" and isinstance(agg.vars, Variable) and str(agg.vars) in keys:
            plans.append((res, "key", str(agg.vars), None))
            continue
        if agg.vars == "*":
            if kind != "Count":
                raise NotTranslatable(f"{kind}(*)")
            if distinct:
                arg = ", ".join(f"r.{col(v)}" for v in rel.vars) or "1"
                items.append(f"struct_pack(x := row({arg})) AS \"_a{i}\"")
            else:
                items.append(f"1 AS \"_a{i}\"")
        else:
            items.append(f"{pack(comp.compile(agg.vars))} AS \"_a{i}\"")
        sep = agg["separator"] if "separator" in agg else None
        plans.append((res, kind, f'"_a{i}"', (distinct, sep)))
    if not items:
        items = ["1 AS _unit"]
    args_sql = f"SELECT {', '.join(items)} {env.from_clause()}"

    # layer 2: the grouped aggregates
    g_items = [col(k) for k in keys if k in rel.vars]
    finals: list[tuple[str, str, str]] = []
    for res, kind, a, opts in plans:
        if kind == "key":
            finals.append((res, f"g.{col(a)}", rel.vars.get(a, "id")))
            continue
        assert opts is not None
        distinct, sep = opts
        if kind == "Count" and a and not distinct and "*" in str(a):
            pass
        sub, final = _agg_sql(kind, distinct, a, sep)
        g_items += sub
        finals.append((res, final, "val"))
    group_by = " GROUP BY " + ", ".join(col(k) for k in keys if k in rel.vars) \
        if any(k in rel.vars for k in keys) else ""
    grouped = f"SELECT {', '.join(g_items) or '1 AS _unit'} FROM ({args_sql}) a{group_by}"

    # layer 3: RDF terms
    out = [f"g.{col(k)} AS {col(k)}" for k in keys if k in rel.vars]
    out += [f"NULL::INTEGER AS {col(k)}" for k in keys if k not in rel.vars]
    out += [f"{final} AS {col(res)}" for res, final, _ in finals]
    vars_ = {k: rel.vars.get(k, "id") for k in keys}
    vars_.update({res: r for res, _, r in finals})
    maybe = {k for k in keys if k in rel.maybe or k not in rel.vars}
    maybe |= {res for res, _, _ in finals}
    sql = f"SELECT {', '.join(out) or '1 AS _unit'} FROM ({grouped}) g"
    return Rel(sql, vars_, frozenset(maybe))
