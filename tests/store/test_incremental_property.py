"""Property: after any sequence of add/retract/set_rules on an on-disk store, its facts are
exactly the naive evaluator's model of the current input facts.

Random stratified programs (recursion, NOT, AGGREGATE: the generators of
tests/engine/test_seminaive_property.py) and random batches of a random graph; after every
step the store's triples and tuples must equal :func:`graphcrime.oracle.naive.evaluate` on
(everything added minus everything retracted), with no fact stored twice.
"""

from __future__ import annotations

from helpers import generators, no_duplicates, store_facts, write_nt
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import graphcrime as gc
import graphcrime.engine.incremental as inc
from graphcrime.lang.parser import parse_program
from graphcrime.oracle.naive import evaluate as naive_evaluate


@st.composite
def steps(draw: st.DrawFn, pool: list) -> list[tuple[str, object]]:
    """3-5 steps: ("add"|"retract", a subset of the pool) or ("rules", program text)."""
    out: list[tuple[str, object]] = []
    for _ in range(draw(st.integers(3, 5))):
        kind = draw(st.sampled_from(["add", "add", "retract", "retract", "rules"]))
        if kind == "rules":
            out.append((kind, draw(generators.programs())))
        else:
            out.append((kind, draw(st.sets(st.sampled_from(pool), max_size=len(pool)))))
    return out


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[str, set, list, float]:
    """A program, the first input facts, the steps, and when DRed gives up for a
    re-evaluation (never, always: both paths must give the same model)."""
    pool = sorted(draw(generators.graphs()))
    return draw(generators.programs()), set(draw(st.sets(st.sampled_from(pool)))), \
        draw(steps(pool)), draw(st.sampled_from([float("inf"), float("inf"), -1.0]))


def _check(store: gc.Store, text: str, explicit: set, where: str) -> None:
    want_triples, want_tuples = naive_evaluate(parse_program(text), explicit)
    got_triples, got_tuples = store_facts(store)
    assert got_triples == want_triples, (where, sorted(got_triples ^ want_triples))
    assert got_tuples == {k: v for k, v in want_tuples.items() if v}, where
    no_duplicates(store)


# no shrinking: each example is a few DuckDB transactions, and shrinking one took > 5 min
@settings(max_examples=12, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(scenarios())
def test_updates_equal_naive(tmp_path_factory, scenario) -> None:
    text, first, plan, share = scenario
    inc.RECOMPUTE_SHARE, default = share, inc.RECOMPUTE_SHARE
    try:
        _run(tmp_path_factory.mktemp("inc"), text, first, plan)
    finally:
        inc.RECOMPUTE_SHARE = default


def _run(d, text: str, first: set, plan: list) -> None:
    (d / "r.dlog").write_text(text)
    explicit = set(first)
    with gc.Store.create(d / "store", rules=d / "r.dlog", threads=1) as store:
        store.add(write_nt(d / "0.nt", first))
        _check(store, text, explicit, "initial add")
        for n, (kind, arg) in enumerate(plan, 1):
            if kind == "rules":
                text = str(arg)
                store.set_rules(parse_program(text))
            else:
                f = write_nt(d / f"{n}.nt", arg)  # type: ignore[arg-type]
                getattr(store, kind)(f)
                explicit = explicit | set(arg) if kind == "add" else explicit - set(arg)  # type: ignore[arg-type]
            _check(store, text, explicit, f"step {n} {kind}: {plan[:n]}\n{text}")
    # and the store reopened from disk is the same
    with gc.Store.open(d / "store", read_only=True) as store:
        _check(store, text, explicit, "reopened")
