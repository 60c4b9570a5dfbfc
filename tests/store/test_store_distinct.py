"""Rows a store update leaves without DISTINCT (``Evaluator._rows_distinct`` across
updates): the facts must equal the naive evaluator's and none may be stored twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import no_duplicates, store_facts, write_nt

import graphcrime as gc
from graphcrime.lang.parser import parse_program
from graphcrime.oracle.naive import evaluate as naive_evaluate

E = "http://e/"
CLOSURE = f"@prefix : <{E}> .\n:p[?x, ?z] :- :p[?x, ?y], :p[?y, ?z] .\n"
# a chain's one parent: (chain, t) rows are distinct without DISTINCT (?parent is a function
# of ?chain), as in the reference rules' containsTransaction
COPY = (f"@prefix : <{E}> .\n:has[?c, ?t] :- :parent[?c, ?p], :has[?p, ?t] .\n"
        ":parent[?y, ?x] :- :next[?x, ?y] .\n")


def _t(s: str, p: str, o: str) -> tuple[str, str, str]:
    return f"<{E}{s}>", f"<{E}{p}>", f"<{E}{o}>"


def _steps(d: Path, rules: str, batches: list[set]) -> None:
    (d / "r.dlog").write_text(rules)
    explicit: set = set()
    with gc.Store.create(d / "s", rules=d / "r.dlog", threads=1) as store:
        for n, batch in enumerate(batches):
            store.add(write_nt(d / f"{n}.nt", batch))
            explicit |= batch
            want, _ = naive_evaluate(parse_program(rules), explicit)
            assert store_facts(store)[0] == want, n
            no_duplicates(store)


@pytest.mark.parametrize("split", [[3], [1, 2], [2, 1], [1, 1, 1]])
def test_closure_of_a_path_added_in_updates(tmp_path: Path, split: list[int]) -> None:
    """a->b->c->d added at once derived a->d twice in one round (two variants give it)."""
    edges = [_t(x, "p", y) for x, y in ("ab", "bc", "cd")]
    batches, at = [], 0
    for n in split:
        batches.append(set(edges[at:at + n]))
        at += n
    _steps(tmp_path, CLOSURE, batches)


def test_unique_parent_across_updates(tmp_path: Path) -> None:
    """Chains growing over three updates (each adds a link and a transaction)."""
    batches = [{_t("c1", "has", "t1"), _t("c1", "next", "c2")},
               {_t("c2", "has", "t2"), _t("c2", "next", "c3"), _t("c1", "next", "c4")},
               {_t("c3", "next", "c5"), _t("c4", "has", "t3"), _t("c5", "next", "c6")}]
    _steps(tmp_path, COPY, batches)
