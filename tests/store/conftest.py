"""Shared data of the store tests: generated transactions cut into days."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import DATE, PARAMS, RULES, store_facts


@pytest.fixture(scope="session")
def days(tmp_path_factory) -> tuple[Path, list[Path]]:
    """The parties file, and the transactions of each of 3 days in its own file."""
    from typer.testing import CliRunner

    from graphcrime.cli import app

    d = tmp_path_factory.mktemp("days")
    res = CliRunner().invoke(app, ["generate", str(d / "g"), "-n", "1000", "--seed", "5",
                                   "--suspicious-fraction", "0.01", "--days", "3"])
    assert res.exit_code == 0, res.output
    by_subject: dict[str, list[str]] = {}
    for line in (d / "g" / "transactions-0.nt").read_text().splitlines(keepends=True):
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


@pytest.fixture(scope="session")
def scratch() -> Callable[[list[Path]], tuple[frozenset, dict]]:
    """``scratch(files)``: every triple (as N-Triples strings) and the derived class counts of
    a from-scratch in-memory run of the reference rules on ``files``: the oracle of the store
    tests. Remembered per list of files: the tests of both files ask for the same day sets
    (6 distinct of 11 runs, ~2-4 s each)."""
    import graphcrime as gc

    runs: dict[tuple[Path, ...], tuple[frozenset, dict]] = {}

    def run(files: list[Path]) -> tuple[frozenset, dict]:
        key = tuple(files)
        if key not in runs:
            with gc.Store(threads=1) as s:
                s.load(files)
                s.reason(RULES, PARAMS)
                runs[key] = (frozenset(store_facts(s)[0]), s.derived_counts()["classes"])
        facts, classes = runs[key]
        return facts, dict(classes)

    return run
