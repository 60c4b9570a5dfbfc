"""Rows the engine leaves without DISTINCT (``Evaluator._rows_distinct``): only when every
projected-away variable is a function of the kept ones. Checked against the naive evaluator
and by hand; ``engine_evaluate`` fails on any duplicate stored row."""

from __future__ import annotations

from graphcrime.lang.parser import parse_program
from graphcrime.oracle.naive import evaluate as naive_evaluate
from graphcrime.testing import engine_evaluate

E = "http://e/"


def _iri(n: str) -> str:
    return f"<{E}{n}>"


def _run(text: str, facts: set[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    prog = parse_program(f"@prefix : <{E}> .\n" + text)
    got, _ = engine_evaluate(prog, facts)
    want, _ = naive_evaluate(prog, facts)
    assert got == want
    return got - facts


def test_first_column_unique_per_round_but_not_across_rounds() -> None:
    """Reachability along a path: each round's :b rows have distinct subjects, but :a has
    one in every round; reading all rounds, ?y is not a function of ?x."""
    facts = {(_iri(x), _iri("e"), _iri(y)) for x, y in ("an", "no", "op")}
    derived = _run("""
        [?x, :b, ?y] :- [?x, :e, ?y] .
        [?x, :b, ?z] :- [?x, :b, ?y], [?y, :e, ?z] .
        [?x, :mark, :yes] :- [?x, :b, ?y] .
        """, facts)
    assert {s for s, p, _ in derived if p == _iri("mark")} == {_iri(x) for x in "ano"}
    assert len([1 for s, p, _ in derived if p == _iri("b") and s == _iri("a")]) == 3


def test_projection_through_a_unique_column() -> None:
    """?p is a function of ?c (one :parent each), so (c, t) rows are distinct as they are;
    ?w is not a function of ?c (two :weight rows for c1): its rows need DISTINCT."""
    facts = {(_iri("c1"), _iri("parent"), _iri("p1")), (_iri("c2"), _iri("parent"), _iri("p1")),
             (_iri("p1"), _iri("has"), _iri("t1")), (_iri("p1"), _iri("has"), _iri("t2")),
             (_iri("c1"), _iri("weight"), _iri("w1")), (_iri("c1"), _iri("weight"), _iri("w2"))}
    derived = _run("""
        [?c, :copy, ?t] :- [?c, :parent, ?p], [?p, :has, ?t] .
        [?c, :heavy, ?p] :- [?c, :weight, ?w], [?c, :parent, ?p] .
        """, facts)
    assert {(s, o) for s, p, o in derived if p == _iri("copy")} == {
        (_iri(c), _iri(t)) for c in ("c1", "c2") for t in ("t1", "t2")}
    assert {(s, o) for s, p, o in derived if p == _iri("heavy")} == {(_iri("c1"), _iri("p1"))}


def test_variants_with_different_versions_of_the_unique_atom() -> None:
    """Transitive closure of the path a->b->c->d: in the round after {a->c, b->d}, the
    variant reading the delta {a->c} in the first atom and the one reading the old {a->b}
    in it both derive a->d (?y is a function of ?x in each variant's rows, not in their
    union): a->d must be stored once (it was stored twice)."""
    facts = {(_iri(x), _iri("p"), _iri(y)) for x, y in ("ab", "bc", "cd")}
    derived = _run("[?x, :p, ?z] :- [?x, :p, ?y], [?y, :p, ?z] .", facts)
    assert derived == {(_iri(x), _iri("p"), _iri(y)) for x, y in ("ac", "bd", "ad")}
