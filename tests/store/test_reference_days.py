"""The reference rules on generated data cut into days: an on-disk store that adds day 1, 2
and 3, retracts day 1 and prunes equals, after every step, a from-scratch in-memory run on
the same input facts (every triple, as N-Triples strings; and the chain counts: conftest.py's
``scratch``)."""

from __future__ import annotations

from pathlib import Path

from helpers import DATE, PARAMS, RULES, store_facts

import graphcrime as gc


def test_days_added_retracted_pruned(days, scratch, tmp_path) -> None:
    parties, (d1, d2, d3) = days
    store = gc.Store.create(tmp_path / "store", rules=RULES, params=PARAMS,
                            threads=1)
    try:
        store.add(parties)
        current: list[Path] = [parties]
        for day in (d1, d2, d3):
            out = store.add(day)
            current.append(day)
            want, counts = scratch(current)
            assert store_facts(store)[0] == want, day
            assert store.derived_counts()["classes"] == counts
            assert out["added"] > 0
        assert counts.get(gc.store_api.TRANSACTION.replace("Transaction", "SuspiciousChain"),
                          0) > 0, "the data must have chains that cross days"
        out = store.retract(d1)
        current.remove(d1)
        assert out["removed"] > out["retracted"] > 0
        assert store_facts(store)[0] == scratch(current)[0]
        # prune everything before day 3 (day 2's transactions): leaves parties and day 3
        first_day3 = min(DATE.findall(d3.read_text()))
        out = store.prune(first_day3)
        assert out["retracted"] > 0
        assert store_facts(store)[0] == scratch([parties, d3])[0]
    finally:
        store.close()
    with gc.Store.open(tmp_path / "store", read_only=True) as again:
        assert store_facts(again)[0] == scratch([parties, d3])[0]
