"""The reference rules on generated data cut into days: an on-disk store that adds day 1, 2
and 3, retracts day 1 and prunes equals, after every step, a from-scratch in-memory run on
the same input facts (every triple, as N-Triples strings; and the chain counts)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import store_facts

import graphcrime as gc

ROOT = Path(__file__).resolve().parents[2]
RULES = [ROOT / "rules" / "suspicious-chains.dlog", ROOT / "rules" / "high-value-chains.dlog"]
DATE = re.compile(r'#hasDate> "(\d{4}-\d\d-\d\d)')


@pytest.fixture(scope="module")
def days(tmp_path_factory) -> tuple[Path, list[Path]]:
    """Parties, and the transactions of each of 3 days in its own file."""
    from typer.testing import CliRunner

    from graphcrime.cli import app

    d = tmp_path_factory.mktemp("days")
    res = CliRunner().invoke(app, ["generate", str(d / "g"), "-n", "1500", "--seed", "5",
                                   "--suspicious-fraction", "0.03", "--days", "3"])
    assert res.exit_code == 0, res.output
    lines = (d / "g" / "transactions-0.nt").read_text().splitlines(keepends=True)
    by_subject: dict[str, list[str]] = {}
    for line in lines:
        by_subject.setdefault(line.split(" ", 1)[0], []).append(line)
    by_day: dict[str, list[str]] = {}
    for group in by_subject.values():
        day = next(m.group(1) for x in group if (m := DATE.search(x)))
        by_day.setdefault(day, []).extend(group)
    assert len(by_day) == 3, sorted(by_day)
    files = []
    for i, day in enumerate(sorted(by_day)):
        files.append(d / f"day{i + 1}.nt")
        files[-1].write_text("".join(by_day[day]))
    return d / "g" / "parties-0.nt", files


def _scratch(files: list[Path]) -> tuple[set, dict]:
    with gc.Store(threads=1) as s:
        s.load(files)
        s.reason(RULES)
        return store_facts(s)[0], s.derived_counts()["classes"]


def test_days_added_retracted_pruned(days, tmp_path) -> None:
    parties, (d1, d2, d3) = days
    store = gc.Store.create(tmp_path / "store", rules=RULES, threads=1)
    try:
        store.add(parties)
        current: list[Path] = [parties]
        for day in (d1, d2, d3):
            out = store.add(day)
            current.append(day)
            want, counts = _scratch(current)
            assert store_facts(store)[0] == want, day
            assert store.derived_counts()["classes"] == counts
            assert out["added"] > 0
        assert counts.get(gc.store_api.TRANSACTION.replace("Transaction", "SuspiciousChain"),
                          0) > 0, "the data must have chains that cross days"
        out = store.retract(d1)
        current.remove(d1)
        assert out["removed"] > out["retracted"] > 0
        assert store_facts(store)[0] == _scratch(current)[0]
        # prune everything before day 3 (day 2's transactions): leaves parties and day 3
        first_day3 = min(DATE.findall(d3.read_text()))
        out = store.prune(first_day3)
        assert out["retracted"] > 0
        assert store_facts(store)[0] == _scratch([parties, d3])[0]
    finally:
        store.close()
    with gc.Store.open(tmp_path / "store", read_only=True) as again:
        assert store_facts(again)[0] == _scratch([parties, d3])[0]
