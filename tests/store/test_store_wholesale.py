"""A re-evaluated stratum that loses most of its facts (``Maintainer.wholesale``): the
strata reading or deriving its tables are evaluated again instead of being told each lost
fact; after every update the store must equal the naive evaluator's model."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import no_duplicates, store_facts, write_nt

import graphcrime as gc
from graphcrime.lang.parser import parse_program
from graphcrime.oracle.naive import evaluate as naive_evaluate

E = "http://e/"
# b is re-evaluated when c changes (NOT); d and e read b only positively, so nothing but b's
# lost facts tells them to change
NEGATED = (f"@prefix : <{E}> .\n:b[?x, ?y] :- :a[?x, ?y], NOT :c[?x, ?y] .\n"
           ":d[?x, ?y] :- :b[?x, ?y] .\n:e[?x, ?z] :- :d[?x, ?y], :d[?y, ?z] .\n")
# the same through a recursive stratum whose input loses most of its facts
RECURSIVE = (f"@prefix : <{E}> .\n:b[?x, ?y] :- :a[?x, ?y], NOT :c[?x, ?y] .\n"
             ":reach[?x, ?y] :- :b[?x, ?y] .\n:reach[?x, ?z] :- :reach[?x, ?y], :b[?y, ?z] .\n"
             ":far[?x, ?y] :- :reach[?x, ?y], NOT :b[?x, ?y] .\n")


def _t(p: str, x: int, y: int) -> tuple[str, str, str]:
    return f"<{E}n{x}>", f"<{E}{p}>", f"<{E}n{y}>"


def _run(d: Path, rules: str, steps: list[tuple[str, set]]) -> None:
    (d / "r.dlog").write_text(rules)
    explicit: set = set()
    with gc.Store.create(d / "s", rules=d / "r.dlog", threads=1) as store:
        for n, (op, batch) in enumerate(steps):
            f = write_nt(d / f"{n}.nt", batch)
            if op == "add":
                store.add(f)
                explicit |= batch
            else:
                store.retract(f)
                explicit -= batch
            want, _ = naive_evaluate(parse_program(rules), explicit)
            assert store_facts(store)[0] == want, (n, op)
            no_duplicates(store)


PATH = {_t("a", i, i + 1) for i in range(10)}


@pytest.mark.parametrize("rules", [NEGATED, RECURSIVE], ids=["negated", "recursive"])
@pytest.mark.parametrize("limit", [None, "0"], ids=["copy", "transaction"])
def test_most_of_a_stratum_lost_and_found_again(tmp_path: Path, rules: str, limit: str | None,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Updates on a copy of the database file, and (GC_STORE_COPY_LIMIT 0) in a transaction."""
    if limit is not None:
        monkeypatch.setenv("GC_STORE_COPY_LIMIT", limit)
    blocked = {_t("c", i, i + 1) for i in range(1, 10)}  # 9 of b's 10 facts go
    _run(tmp_path, rules, [("add", PATH), ("add", blocked), ("retract", blocked),
                           ("add", {_t("c", 0, 1)}), ("retract", PATH)])
