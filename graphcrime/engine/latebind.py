"""Late BINDs of one variable, computed once per distinct value and interned as a small map.

A BIND only the head reads (``plan.late_binds``) runs after the join, over its rows. When
its expression reads a single variable that the rows carry as a term id (``?length + 1``),
its value depends on that id alone: computing it per row repeats the same work (a join
with ``terms``, the numeric type of the value, building and hashing the result's string)
for every row of the few distinct inputs. :func:`distinct_binds` computes such a BIND over
the distinct ids only, into a table ``(v_<in> id, v_<out> nt)`` that the evaluator interns
with the other computed terms and joins the rows with: a failed BIND's nt is NULL and has
no id, so its rows drop, as they do when the value is computed per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from graphcrime.compile.checks import expr_vars
from graphcrime.engine.plan import Binding, BodyPlan, Context
from graphcrime.lang.ast import Bind, BodyLiteral


def single_input_binds(body: tuple[BodyLiteral, ...], late: Iterable[int],
                       ids: set[str]) -> dict[int, str]:
    """The late BINDs (indexes into ``body``) whose expression reads exactly one variable,
    one of ``ids`` (carried as term ids), and whose target no other late BIND reads: each
    with its input variable.

    >>> from graphcrime.lang.parser import parse_program
    >>> r = parse_program("@prefix : <http://e/> . [?x, :p, ?y] :- [?x, :q, ?z], "
    ...                   "BIND(?z + 1 AS ?y), BIND(STR(?x) AS ?w) .").rules[0]
    >>> single_input_binds(r.body, [1, 2], {"x", "z"})
    {1: 'z', 2: 'x'}
    """
    late = sorted(late)
    read = {v.name for i in late for v in expr_vars(body[i].expr)}  # type: ignore[union-attr]
    out: dict[int, str] = {}
    for i in late:
        lit = body[i]
        assert isinstance(lit, Bind)
        names = {v.name for v in expr_vars(lit.expr)}
        if len(names) == 1 and names <= ids and lit.var.name not in read:
            out[i] = next(iter(names))
    return out


def distinct_binds(con, ctx: Context, table: str, body: tuple[BodyLiteral, ...],
                   binds: dict[int, str], tag: Callable[[int], str]) -> dict[int, str]:
    """For each BIND ``i`` of ``binds`` (index -> its input variable), make the temp table
    ``tag(i)`` of ``(v_<input> id, v_<target> nt)`` over the distinct inputs in ``table``
    (the nt NULL where the BIND fails; the caller interns them). Returns the BINDs whose
    value is a computed term; the others (a BIND whose value is a stored term already,
    such as ``BIND(?x AS ?y)``) are left to the caller's per-row plan."""
    done: dict[int, str] = {}
    for i, var in binds.items():
        lit = body[i]
        assert isinstance(lit, Bind)
        target = lit.var.name
        plan = BodyPlan(ctx, froms=[f"(SELECT DISTINCT v_{var} FROM {table}) AS b"],
                        env={var: Binding(id=f"b.v_{var}")})
        plan.body((lit,))
        cols, kinds = plan.output([var, target])
        if kinds[target] != "nt":
            continue
        con.execute(f"CREATE OR REPLACE TEMP TABLE {tag(i)} AS "
                    + plan.sql_select(cols, unchecked=frozenset({target})))
        done[i] = var
    return done


__all__ = ["distinct_binds", "single_input_binds"]
