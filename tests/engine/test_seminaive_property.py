"""Property: semi-naive materialisation equals the naive oracle on random small programs.

Hypothesis draws stratified programs over triple predicates (``:b``, ``:d``, ``type:K``) and
tuple tables (``A``, ``C``, base ``G``) with recursion, NOT on lower strata, FILTER
comparisons (on integers via ``:val`` and on IRIs) and one AGGREGATE rule, plus a random
small graph. The engine (:func:`graphcrime.engine.seminaive.materialise` on a
:class:`FactStore`) must give exactly the facts of :func:`graphcrime.oracle.naive.evaluate`,
and loading the same graph from shuffled, re-split N-Triples files through
:class:`graphcrime.api.Store` must not change the result.
"""

from __future__ import annotations

import random
from pathlib import Path

import pyoxigraph as ox
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphcrime.api import Store
from graphcrime.lang.parser import parse_program
from graphcrime.oracle.naive import evaluate as naive_evaluate
from graphcrime.testing import engine_evaluate
from graphcrime.vocab import RDF_TYPE

E = "http://e/"
INT = "http://www.w3.org/2001/XMLSchema#integer"
PREFIXES = f"@prefix : <{E}> .\n@prefix type: <{E}T#> .\n"
NODES = [f":n{i}" for i in range(4)]
NODE_VARS = ["?x", "?y", "?z", "?w"]
# (name, level, kind, arity): base predicates are level 0; a rule for a level-i head may use
# positive atoms of level <= i (recursion) and negated atoms of level < i (stratified).
PREDS = [
    (":e", 0, "triple", 2), (":f", 0, "triple", 2), ("G", 0, "tuple", 2),
    ("A", 1, "tuple", 2), (":b", 2, "triple", 2), ("type:K", 3, "triple", 1),
    ("C", 3, "tuple", 2), (":d", 4, "triple", 2),
]
HEADS = [p for p in PREDS if p[1] > 0]


def _atom(pred: tuple, args: list[str]) -> str:
    name, _, kind, _ = pred
    return f"{name}[{', '.join(args)}]" if kind == "triple" else f"{name}({', '.join(args)})"


@st.composite
def rules(draw: st.DrawFn, head: tuple) -> str:
    """One safe rule text for ``head`` (only node variables reach heads and NOTs)."""
    level = head[1]
    pos = [p for p in PREDS if p[1] <= level]
    body, bound = [], []
    for _ in range(draw(st.integers(1, 3))):
        pred = draw(st.sampled_from(pos))
        args = [draw(st.sampled_from(NODE_VARS[:3])) for _ in range(pred[3])]
        body.append(_atom(pred, args))
        bound += [a for a in args if a not in bound]
    pick = st.sampled_from(bound)
    if draw(st.booleans()):  # integer comparison through :val
        body.append(f":val[{draw(pick)}, ?k]")
        op = draw(st.sampled_from(["<", "<=", ">", ">=", "=", "!="]))
        if draw(st.booleans()):
            body.append(f"FILTER(?k {op} {draw(st.integers(0, 4))})")
        else:
            body.append(f":val[{draw(pick)}, ?m]")
            body.append(f"FILTER(?k {op} ?m)")
    if len(bound) > 1 and draw(st.booleans()):  # IRI (in)equality
        body.append(f"FILTER({draw(pick)} {draw(st.sampled_from(['=', '!=']))} {draw(pick)})")
    lower = [p for p in PREDS if p[1] < level]
    if lower and draw(st.booleans()):
        neg = draw(st.sampled_from(lower))
        args = [draw(st.one_of(pick, st.sampled_from(NODES))) for _ in range(neg[3])]
        body.append("NOT " + _atom(neg, args))
    head_args = [draw(pick) for _ in range(head[3])]
    return f"{_atom(head, head_args)} :- {', '.join(body)} ."


@st.composite
def programs(draw: st.DrawFn) -> str:
    """Rule facts for the base table ``G`` and 1-2 rules per derived predicate."""
    lines = [PREFIXES]
    for _ in range(draw(st.integers(0, 3))):
        a, b = draw(st.sampled_from(NODES)), draw(st.sampled_from(NODES))
        lines.append(f"G({a}, {b}) .")
    for head in HEADS:
        for _ in range(draw(st.integers(1, 2))):
            lines.append(draw(rules(head)))
    lines.append(draw(aggregate_rules()))
    return "\n".join(lines)


@st.composite
def aggregate_rules(draw: st.DrawFn) -> str:
    """A rule for ``:agg`` (read by no rule) whose AGGREGATE groups on ``?x``, which atoms
    before it bind too, sometimes under a constant (the aggregate computes only the groups
    those atoms can join with: the restriction must not change a group's value)."""
    body = []
    base = [p for p in PREDS if p[0] in (":e", ":f")]  # mostly the facts: non-empty groups
    for i in range(draw(st.integers(1, 2))):
        pred = draw(st.sampled_from(base * 3 + PREDS))
        args = [draw(st.sampled_from(["?x", "?w", "?w"] + NODES)) for _ in range(pred[3])]
        if i == 0 and "?x" not in args:
            args[draw(st.integers(0, len(args) - 1))] = "?x"
        body.append(_atom(pred, args))
    pred = draw(st.sampled_from(base * 3 + [p for p in PREDS if p[3] == 2]))
    inner = [_atom(pred, draw(st.permutations(["?x", "?y"])))]
    func = draw(st.sampled_from(["COUNT(?y)", "MIN(?k)", "MAX(?k)", "SUM(?k)"]))
    if "?k" in func:
        inner.append(":val[?y, ?k]")
    body.append(f"AGGREGATE({', '.join(inner)} ON ?x BIND {func} AS ?c)")
    return f":agg[?x, ?c] :- {', '.join(body)} ."


@st.composite
def graphs(draw: st.DrawFn) -> set[tuple[str, str, str]]:
    """Some :e/:f edges between 4 nodes and an integer :val for some of them."""
    iri = [f"<{E}n{i}>" for i in range(4)]
    facts = set()
    for _ in range(draw(st.integers(5, 14))):
        p = draw(st.sampled_from([f"<{E}e>", f"<{E}f>"]))
        facts.add((draw(st.sampled_from(iri)), p, draw(st.sampled_from(iri))))
    for n in iri:
        for v in draw(st.sets(st.integers(0, 4), max_size=2)):
            facts.add((n, f"<{E}val>", f'"{v}"^^<{INT}>'))
    return facts


def engine_all(text: str, facts: set[tuple[str, str, str]]
               ) -> tuple[set[tuple[str, str, str]], dict[str, set[tuple[str, ...]]]]:
    """All triples and tuple-table rows after ``materialise`` on a fresh FactStore."""
    return engine_evaluate(parse_program(text), facts)


def _nonempty(tables: dict[str, set[tuple[str, ...]]]) -> dict[str, set[tuple[str, ...]]]:
    return {k: v for k, v in tables.items() if v}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), graphs())
def test_seminaive_equals_naive(text: str, facts: set[tuple[str, str, str]]) -> None:
    prog = parse_program(text)
    want_triples, want_tuples = naive_evaluate(prog, facts)
    got_triples, got_tuples = engine_all(text, facts)
    assert got_triples == want_triples, text
    assert _nonempty(got_tuples) == _nonempty(want_tuples), text


def _read_nt(path: Path) -> set[tuple[str, str, str]]:
    with path.open("rb") as fh:
        return {(str(t.subject), str(t.predicate), str(t.object))
                for t in ox.parse(fh, format=ox.RdfFormat.N_TRIPLES)}


def _store_triples(text: str, files: list[Path], out: Path) -> set[tuple[str, str, str]]:
    with Store(threads=1) as store:
        store.load(*files)
        store.reason(parse_program(text))
        store.dump(out)
    return _read_nt(out)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(programs(), graphs(), st.randoms(use_true_random=False))
def test_result_independent_of_file_order(tmp_path_factory, text: str,
                                          facts: set[tuple[str, str, str]],
                                          rnd: random.Random) -> None:
    d = tmp_path_factory.mktemp("order")
    lines = [f"{s} {p} {o} .\n" for s, p, o in sorted(facts)]
    results = []
    for attempt in range(2):
        rnd.shuffle(lines)
        k = rnd.randint(1, 3)
        files = []
        for i in range(k):
            f = d / f"part{attempt}_{i}.nt"
            f.write_text("".join(lines[i::k]))
            files.append(f)
        rnd.shuffle(files)
        results.append(_store_triples(text, files, d / f"out{attempt}.nt"))
    assert results[0] == results[1], text
    want, _ = naive_evaluate(parse_program(text), facts)
    assert results[0] == want, text


def test_generator_reaches_recursion_and_negation() -> None:
    """Sanity: a hand-written program of the generated shape has the hand-worked answer."""
    text = PREFIXES + """
    A(?x, ?y) :- :e[?x, ?y] .
    A(?x, ?z) :- A(?x, ?y), :e[?y, ?z] .
    :b[?x, ?y] :- :f[?x, ?y], NOT A(?x, ?y) .
    type:K[?x] :- :val[?x, ?k], FILTER(?k >= 3) .
    """
    n = [f"<{E}n{i}>" for i in range(4)]
    facts = {(n[0], f"<{E}e>", n[1]), (n[1], f"<{E}e>", n[2]), (n[0], f"<{E}f>", n[2]),
             (n[0], f"<{E}f>", n[3]), (n[3], f"<{E}val>", f'"3"^^<{INT}>'),
             (n[2], f"<{E}val>", f'"2"^^<{INT}>')}
    triples, tuples = engine_all(text, facts)
    assert tuples["A"] == {(n[0], n[1]), (n[1], n[2]), (n[0], n[2])}
    derived = triples - facts
    assert derived == {(n[0], f"<{E}b>", n[3]), (n[3], f"<{RDF_TYPE}>", f"<{E}T#K>")}
