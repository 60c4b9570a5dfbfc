"""Stratification: hand-worked programs and a naive reachability oracle on random programs."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from graphcrime.compile.analysis import analyse, keys_overlap, pred_key
from graphcrime.lang.ast import (
    IRI,
    Aggregate,
    AggregateBind,
    Negation,
    Program,
    Rule,
    TripleAtom,
    TupleAtom,
    Var,
)
from graphcrime.lang.parser import parse_program

P = "@prefix : <http://e/> .\n"
E = "http://e/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def test_pred_keys() -> None:
    x = Var("x")
    assert pred_key(TripleAtom(x, IRI(E + "p"), x)) == ("t", E + "p")
    assert pred_key(TripleAtom(x, IRI(RDF_TYPE), IRI(E + "C"))) == ("c", E + "C")
    assert pred_key(TripleAtom(x, IRI(RDF_TYPE), Var("c"))) == ("c", "*")
    assert pred_key(TripleAtom(x, Var("p"), x)) == ("t", "*")
    assert pred_key(TupleAtom("T", (x,))) == ("tt", "T")


def test_keys_overlap_table() -> None:
    t, c = ("t", E + "p"), ("c", E + "C")
    cases = {
        (t, t): True, (t, ("t", E + "q")): False, (t, c): False, (c, ("c", "*")): True,
        (t, ("c", "*")): False, (t, ("t", "*")): True, (c, ("t", "*")): True,
        (("c", "*"), ("t", "*")): True, (("tt", "T"), ("tt", "T")): True,
        (("tt", "T"), ("t", "*")): False, (("tt", "T"), ("tt", "U")): False,
    }
    for (a, b), want in cases.items():
        assert keys_overlap(a, b) is want and keys_overlap(b, a) is want, (a, b)


def test_linear_program_orders_strata_and_puts_facts_first() -> None:
    prog = parse_program(P + ":C[?x] :- :B[?x] .\n:B[?x] :- :A[?x], NOT :N[?x] .\n:A[:a] .\n"
                         ":N[?x] :- :A[?x], :p[?x, ?y] .\n")
    a = analyse(prog)
    assert a.errors == ()
    order = [[prog.rules.index(r) for r in s.rules] for s in a.strata]
    assert order == [[2], [3], [1], [0]]
    assert a.strata[0].heads == frozenset({("c", E + "A")})
    assert not any(s.recursive for s in a.strata)


def test_recursive_stratum_and_negation_on_lower_stratum() -> None:
    prog = parse_program(P + ":reach[?x, ?y] :- :edge[?x, ?y] .\n"
                         ":reach[?x, ?z] :- :reach[?x, ?y], :edge[?y, ?z] .\n"
                         ":far[?x, ?y] :- :node[?x], :node[?y], NOT :reach[?x, ?y] .\n"
                         ":cnt[?x, ?n] :- AGGREGATE(:reach[?x, ?y] ON ?x BIND COUNT(?y) AS ?n) .")
    a = analyse(prog)
    assert a.errors == ()
    assert [len(s.rules) for s in a.strata] == [1, 1, 1, 1]
    assert [s.recursive for s in a.strata] == [False, True, False, False]
    assert a.strata[1].rules == (prog.rules[1],)


def test_mutual_recursion_is_one_stratum() -> None:
    prog = parse_program(P + ":A[?x] :- :B[?x] .\n:B[?x] :- :A[?x] .\n:B[?x] :- :S[?x] .")
    a = analyse(prog)
    assert [tuple(prog.rules.index(r) for r in s.rules) for s in a.strata] == [(2,), (0, 1)]
    assert a.strata[1].recursive and a.strata[1].heads == {("c", E + "A"), ("c", E + "B")}


def test_negation_through_recursion_names_the_cycle() -> None:
    text = P + ":A[?x] :- :S[?x], NOT :B[?x] .\n:B[?x] :- :A[?x] .\n"
    a = analyse(parse_program(text, "r.dlog"))
    assert len(a.errors) == 1
    e = a.errors[0]
    assert (e.file, e.line, e.col) == ("r.dlog", 2, 19)
    assert e.message == ":A -> :B -> :A through NOT at r.dlog:2:19"
    assert "stratifiable" in (e.hint or "")


def test_self_negation_and_aggregate_cycle_via_wildcard() -> None:
    text = (P + "\n:A[?x] :- :S[?x], NOT :A[?x] .\n"
            ":m[?x, ?n] :- AGGREGATE([?x, ?p, ?y] ON ?x BIND COUNT(?y) AS ?n) .")
    a = analyse(parse_program(text, "r.dlog"))
    msgs = [e.message for e in a.errors]
    assert msgs[0] == ":A -> :A through NOT at r.dlog:3:19"
    # [?x, ?p, ?y] reads every triple, including the :m triples the rule derives
    assert msgs[1] == ":m -> :m through AGGREGATE at r.dlog:4:15"


def test_cycle_through_tuple_tables() -> None:
    text = "T(?x) :- U(?x) .\nU(?x) :- V(?x), NOT W(?x) .\nW(?x) :- T(?x) .\n"
    a = analyse(parse_program(text, "t.dlog"))
    assert [e.message for e in a.errors] == ["U -> W -> T -> U through NOT at t.dlog:2:17"]


# ---------------------------------------------------------------- random programs vs a naive oracle

PREDS = [("c", E + "A"), ("c", E + "B"), ("t", E + "p"), ("tt", "T"), ("c", "*"), ("t", "*")]


def atom_of(key: tuple[str, str]):
    x, y = Var("x"), Var("y")
    kind, name = key
    if kind == "tt":
        return TupleAtom(name, (x,))
    if kind == "c":
        return TripleAtom(x, IRI(RDF_TYPE), Var("c") if name == "*" else IRI(name))
    return TripleAtom(x, Var("p") if name == "*" else IRI(name), y)


head_keys = st.sampled_from([k for k in PREDS if "*" not in k[1]])
body_item = st.tuples(st.sampled_from(["+", "NOT", "AGG"]), st.sampled_from(PREDS))
rules = st.builds(lambda h, b: (h, b), head_keys, st.lists(body_item, min_size=0, max_size=3))


def build(spec) -> Program:
    out = []
    for h, body in spec:
        lits = []
        for how, k in body:
            a = atom_of(k)
            if how == "NOT":
                lits.append(Negation((a,)))
            elif how == "AGG":
                lits.append(Aggregate((a,), (), (AggregateBind("COUNT", None, Var("n")),)))
            else:
                lits.append(a)
        out.append(Rule((atom_of(h),), tuple(lits)))
    return Program(tuple(out))


@settings(max_examples=150, deadline=None)
@given(st.lists(rules, min_size=1, max_size=7))
def test_strata_against_naive_reachability(spec) -> None:
    prog = build(spec)
    n = len(spec)
    # oracle: edge i -> j when rule j reads a key rule i derives; transitive closure by hand
    edge = {(i, j): [how for how, k in spec[j][1] if keys_overlap(spec[i][0], k)]
            for i in range(n) for j in range(n)}
    reach = {(i, j): bool(edge[i, j]) for i in range(n) for j in range(n)}
    for k, i, j in itertools.product(range(n), repeat=3):
        reach[i, j] = reach[i, j] or (reach[i, k] and reach[k, j])
    bad = any(how != "+" for (i, j), hows in edge.items() for how in hows
              if reach[j, i] or i == j and hows)
    a = analyse(prog)
    assert bool(a.errors) == bad
    where = {}
    for s_i, s in enumerate(a.strata):
        for r in s.rules:
            where.setdefault(id(r), s_i)
    idx = {j: where[id(prog.rules[j])] for j in range(n)}
    assert sorted(id(r) for s in a.strata for r in s.rules) == sorted(id(r) for r in prog.rules)
    for i, j in itertools.product(range(n), repeat=2):
        if not spec[i][1] or not spec[j][1]:
            continue  # facts sit in the first stratum
        same = i == j or (reach[i, j] and reach[j, i])
        assert (idx[i] == idx[j]) == same
        if edge[i, j] and not same:
            assert idx[i] < idx[j]
    for s_i, s in enumerate(a.strata):
        members = [j for j in range(n) if idx[j] == s_i and spec[j][1]]
        assert s.recursive == any("+" in edge[i, j] for i in members for j in members)
