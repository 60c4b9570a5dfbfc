"""BINDs of one variable computed per distinct value (``engine.latebind``): the values, the
rows a failed BIND drops, and recursion through the computed terms must be what computing
them per row gives. Checked against the naive evaluator and by hand."""

from __future__ import annotations

from engine_oracle import E, oracle_checked

XSD = "http://www.w3.org/2001/XMLSchema#"


def _iri(n: str) -> str:
    return f"<{E}{n}>"


def _lit(lex: str, dt: str) -> str:
    return f'"{lex}"^^<{XSD}{dt}>'



def test_mixed_types_and_failures() -> None:
    """Many rows share few values of every numeric type; a string and an IRI make the BIND
    fail, which drops their rows (no fact for them), not other rows with the same subject."""
    vals = [_lit("1", "integer"), _lit("2.5", "decimal"), _lit("1.0E0", "double"),
            _lit("7", "int"), '"x"', _iri("v")]
    facts = {(_iri(f"s{i}"), _iri("val"), vals[i % len(vals)]) for i in range(24)}
    facts.add((_iri("s0"), _iri("val"), '"oops"'))
    derived = oracle_checked("""
        [?s, :next, ?n], [?s, :label, ?l] :- [?s, :val, ?v], BIND(?v + 1 AS ?n),
                                              BIND(STR(?s) AS ?l) .
        """, facts)
    nexts = {(s, o) for s, p, o in derived if p == _iri("next")}
    assert (_iri("s0"), _lit("2", "integer")) in nexts
    assert (_iri("s1"), _lit("3.5", "decimal")) in nexts
    assert (_iri("s2"), _lit("2.0", "double")) in nexts
    assert (_iri("s3"), _lit("8", "integer")) in nexts
    assert not any(s in (_iri("s4"), _iri("s5")) for s, _ in nexts)
    assert len(nexts) == 16
    labels = {s for s, p, _ in derived if p == _iri("label")}
    assert labels == {s for s, _ in nexts}


def test_counter_through_recursion() -> None:
    """A counter along a path: each round's BIND input is the previous round's output
    (terms the dictionary got in the last round), and two heads read the same BIND."""
    facts = {(_iri(f"n{i}"), _iri("e"), _iri(f"n{i + 1}")) for i in range(6)}
    facts.add((_iri("n0"), _iri("depth"), _lit("0", "integer")))
    derived = oracle_checked("""
        [?y, :depth, ?d1], [?y, :seen, ?d1] :- [?x, :depth, ?d], [?x, :e, ?y],
                                               FILTER(?d < 4), BIND(?d + 1 AS ?d1) .
        """, facts)
    depths = {(s, o) for s, p, o in derived if p == _iri("depth")}
    assert depths == {(_iri(f"n{i}"), _lit(str(i), "integer")) for i in range(1, 5)}


def test_value_that_is_a_stored_term() -> None:
    """A BIND whose value is a term of the dictionary already (the input itself, or a
    value another fact mentions) gets that term's id."""
    facts = {(_iri("a"), _iri("val"), _lit("1", "integer")),
             (_iri("b"), _iri("val"), _lit("2", "integer"))}
    derived = oracle_checked("""
        [?s, :same, ?w], [?s, :plus, ?n] :- [?s, :val, ?v], BIND(?v AS ?w),
                                             BIND(?v + 1 AS ?n) .
        """, facts)
    assert (_iri("a"), _iri("plus"), _lit("2", "integer")) in derived
    assert (_iri("b"), _iri("same"), _lit("2", "integer")) in derived


def test_minted_iris_beside_computed_literals() -> None:
    """A rule that mints IRIs and computes literals per row (two inputs): the new terms'
    kinds and datatypes are read from the literal columns only, so every new literal must
    still be stored with its typed value (the FILTER of the next rule reads it)."""
    facts = {(_iri(f"a{i}"), _iri("p"), _iri(f"bb{i % 3}")) for i in range(12)}
    derived = oracle_checked("""
        [?c, :of, ?a], [?c, :len, ?n] :- [?a, :p, ?b],
            BIND(IRI(CONCAT("http://e/c_", MD5(CONCAT(STR(?a), STR(?b))))) AS ?c),
            BIND(STRLEN(CONCAT(STR(?a), STR(?b))) AS ?n) .
        [?c, :long, :yes] :- [?c, :len, ?n], FILTER(?n > 23) .
        """, facts)
    assert len({s for s, p, _ in derived if p == _iri("len")}) == 12
    assert len({s for s, p, _ in derived if p == _iri("long")}) == 2
