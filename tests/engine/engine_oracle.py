"""Shared by the engine's hand-worked tests: a program's derived triples, checked against the
naive evaluator (``graphcrime.oracle``) before they are returned."""

from __future__ import annotations

from graphcrime.lang.parser import parse_program
from graphcrime.oracle.naive import evaluate as naive_evaluate
from graphcrime.testing import engine_evaluate

E = "http://e/"


def oracle_checked(text: str, facts: set[tuple[str, str, str]],
            tuples: dict[str, set[tuple[str, ...]]] | None = None) -> set[tuple[str, str, str]]:
    """The triples the engine derives from ``facts`` with the rules ``text`` (prefix ``:`` is
    ``E``), after asserting that its whole model equals the naive evaluator's."""
    prog = parse_program(f"@prefix : <{E}> .\n" + text)
    got, _ = engine_evaluate(prog, facts, tuples=tuples)
    want, _ = naive_evaluate(prog, facts, tuples=tuples)
    assert got == want
    return got - facts
