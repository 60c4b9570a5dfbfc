"""Rows the engine leaves without DISTINCT (``Evaluator._rows_distinct``): only when every
projected-away variable is a function of the kept ones. Checked against the naive evaluator
and by hand; ``engine_evaluate`` fails on any duplicate stored row."""

from __future__ import annotations

from engine_oracle import E, oracle_checked

from graphcrime.lang.parser import parse_program


def _iri(n: str) -> str:
    return f"<{E}{n}>"



def test_first_column_unique_per_round_but_not_across_rounds() -> None:
    """Reachability along a path: each round's :b rows have distinct subjects, but :a has
    one in every round; reading all rounds, ?y is not a function of ?x."""
    facts = {(_iri(x), _iri("e"), _iri(y)) for x, y in ("an", "no", "op")}
    derived = oracle_checked("""
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
    derived = oracle_checked("""
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
    derived = oracle_checked("[?x, :p, ?z] :- [?x, :p, ?y], [?y, :p, ?z] .", facts)
    assert derived == {(_iri(x), _iri("p"), _iri(y)) for x, y in ("ac", "bd", "ad")}



def test_stratum_join_rows_are_distinct() -> None:
    """The materialised join of a rule's lower-strata atoms (``plan.joined_sql``) leaves out
    DISTINCT only when it keeps every variable: projected on (?x, ?y) the join of
    [?x, :e, ?y], [?y, :w, ?z] has (n0, n1) twice (two :w values) unless de-duplicated."""
    from graphcrime.engine.plan import Context, joined_sql
    from graphcrime.engine.store import FactStore

    st = FactStore()
    n0, n1, e, w, w1, w2 = st.intern([_iri(x) for x in ("n0", "n1", "e", "w", "w1", "w2")])
    st.add_rows(e, [(n0, n1)])
    st.add_rows(w, [(n1, w1), (n1, w2)])
    ctx = Context(st.pred_table, lambda: dict(st.preds), st.tuple_table,
                  lambda nt: st.intern([nt])[0])
    body = parse_program(f"@prefix : <{E}> . [?y, :r, :yes] :- [?x, :e, ?y], [?y, :w, ?z] ."
                         ).rules[0].body
    for names, rows in ((("x", "y"), 1), (("x", "y", "z"), 2)):
        sql = joined_sql(ctx, body, frozenset({0, 1}), names, frozenset())
        cols = ", ".join("v_" + n for n in names)
        got = st.con.execute(f"SELECT count(*), count(DISTINCT ({cols})) FROM ({sql})").fetchone()
        assert got == (rows, rows)


def test_stratum_join_without_distinct_only_when_it_keeps_every_variable() -> None:
    """A recursive rule's join of lower-strata atoms is materialised once: ``:w`` has two
    values for n1, and ?z is projected away, so that join needs DISTINCT (else (n0, n1)
    comes twice and so does every fact derived from it); the join of :e and :lab keeps
    every variable and needs none."""
    facts = {(_iri(f"n{i}"), _iri("e"), _iri(f"n{i + 1}")) for i in range(4)}
    facts |= {(_iri("n1"), _iri("w"), _iri("w1")), (_iri("n1"), _iri("w"), _iri("w2")),
              (_iri("n0"), _iri("r"), _iri("yes"))}
    facts |= {(_iri(f"n{i}"), _iri("lab"), _iri(f"l{i}")) for i in range(5)}
    derived = oracle_checked("""
        [?y, :r, :yes] :- [?x, :r, :yes], [?x, :e, ?y], [?y, :w, ?z] .
        [?y, :r, :yes] :- [?x, :r, :yes], [?x, :e, ?y], [?y, :lab, ?l], [?x, :lab, ?k] .
        [?y, :via, ?l] :- [?x, :r, :yes], [?x, :e, ?y], [?y, :lab, ?l] .
        """, facts)
    assert {s for s, p, _ in derived if p == _iri("r")} == {_iri(f"n{i}") for i in range(1, 5)}
