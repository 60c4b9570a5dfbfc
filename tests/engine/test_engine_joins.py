"""Joins materialised once per stratum (``Evaluator.stratum_joins``), checked against the
naive evaluator and hand-worked answers: a one-row join is compiled in as constants (ids
and values), a many-row one is read as a table."""

from __future__ import annotations

from graphcrime.lang.parser import parse_program
from graphcrime.oracle.naive import evaluate as naive_evaluate
from graphcrime.testing import engine_evaluate

E = "http://e/"
INT = "http://www.w3.org/2001/XMLSchema#integer"
PROGRAM = f"""@prefix : <{E}> .
@prefix gc: <https://w3id.org/graphcrime#> .
gc:param("limit", 3) .
[?x, :reach, ?y] :- [?x, :e, ?y] .
# the parameter atom is one row: its id (?m) reaches the head, its value the FILTER
[?x, :reach, ?z], [?z, :cap, ?m] :-
    [?x, :reach, ?y], [?y, :e, ?z], gc:param("limit", ?m), [?z, :val, ?v], FILTER(?v < ?m) .
# two lower-stratum atoms joined into one row: ?k (in the head) and ?w come from it
[?y, :tag, ?k] :- [?x, :tag, ?j], [?x, :e, ?y], [:cfg, :kind, ?k], [?k, :weight, ?w],
    FILTER(?w > 1) .
"""


def _iri(n: str) -> str:
    return f"<{E}{n}>"


def _int(v: int) -> str:
    return f'"{v}"^^<{INT}>'


def test_one_row_joins_compile_to_constants() -> None:
    e, val = _iri("e"), _iri("val")
    facts = {(_iri("a"), e, _iri("b")), (_iri("b"), e, _iri("c")), (_iri("c"), e, _iri("d")),
             (_iri("b"), val, _int(1)), (_iri("c"), val, _int(2)), (_iri("d"), val, _int(5)),
             (_iri("cfg"), _iri("kind"), _iri("K")), (_iri("K"), _iri("weight"), _int(2)),
             (_iri("a"), _iri("tag"), _iri("K0"))}
    prog = parse_program(PROGRAM)
    got, _ = engine_evaluate(prog, facts)
    want, _ = naive_evaluate(prog, facts)
    assert got == want
    derived = got - facts
    reach, cap, tag = _iri("reach"), _iri("cap"), _iri("tag")
    # by hand: a->b, b->c, c->d by :e; a->c (c's 2 < 3) by the rule; a->d needs d's 5 < 3: no
    assert {(s, o) for s, p, o in derived if p == reach} == {
        (_iri("a"), _iri("b")), (_iri("b"), _iri("c")), (_iri("c"), _iri("d")),
        (_iri("a"), _iri("c"))}
    assert {(s, o) for s, p, o in derived if p == cap} == {(_iri("c"), _int(3))}
    assert {(s, o) for s, p, o in derived if p == tag} == {
        (_iri(x), _iri("K")) for x in "bcd"}


def test_many_row_joins_are_read_as_tables() -> None:
    """Two parameter rows: the join is not one row, so it stays a table; same answers."""
    prog = parse_program(PROGRAM.replace('gc:param("limit", 3) .',
                                         'gc:param("limit", 3) .\ngc:param("limit", 6) .'))
    e, val = _iri("e"), _iri("val")
    facts = {(_iri("a"), e, _iri("b")), (_iri("b"), e, _iri("c")), (_iri("b"), val, _int(1)),
             (_iri("c"), val, _int(5))}
    got, _ = engine_evaluate(prog, facts)
    want, _ = naive_evaluate(prog, facts)
    assert got == want
    assert {(s, o) for s, p, o in got if p == _iri("cap")} == {(_iri("c"), _int(6))}
