"""Late BINDs of one variable, computed once per distinct value and interned as a small map.

A BIND only the head reads (``plan.late_binds``) runs after the join, over its rows. When
its expression reads a single variable that the rows carry as a term id (``?length + 1``),
its value depends on that id alone: computing it per row repeats the same work (a join
with ``terms``, the numeric type of the value, building and hashing the result's string)
for every row of the few distinct inputs. :func:`distinct_binds` computes such a BIND over
the distinct ids only, interns the results, and leaves a table ``(v_<in>, v_<out>)`` of
term ids that the rows join with: a failed BIND has no row there, so its rows drop, as they
do when the value is computed per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from graphcrime.compile.checks import expr_vars
from graphcrime.engine.plan import Binding, BodyPlan, Context
from graphcrime.lang.ast import Bind, BodyLiteral
from graphcrime.rdf.dictionary import intern


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
    ``tag(i)`` of ``(v_<input>, v_<target>)`` ids over the distinct inputs in ``table``
    (their computed terms interned). Returns the BINDs whose value is a computed term; the
    others (a BIND whose value is a stored term already, such as ``BIND(?x AS ?y)``) are
    left to the caller's per-row plan."""
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
        out = tag(i)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {out} AS "
                    + plan.sql_select(cols, unchecked=frozenset({target})))
        intern(con, out, f"v_{target}", into="_lbm")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT l.v_{var}, m.id AS "
                    f"v_{target} FROM {out} l JOIN _lbm m ON m.nt = l.v_{target}")
        con.execute("DROP TABLE _lbm")
        done[i] = var
    return done


__all__ = ["distinct_binds", "single_input_binds"]
