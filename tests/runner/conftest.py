"""Fixtures for runner tests: a served folder with hand-worked data, rules, queries."""

from __future__ import annotations

from pathlib import Path

import pytest
from runner_helpers import QUERY_ASK, QUERY_BIG, QUERY_SPO, data_nt, write_spec
from runner_oxistore import OxiStore


@pytest.fixture
def served(tmp_path: Path) -> Path:
    """A served folder: data/day.nt, rules/ok.dlog, queries/*.rq, and a valid job.json."""
    root = tmp_path / "served"
    for d in ("data", "rules", "queries"):
        (root / d).mkdir(parents=True)
    (root / "data" / "day.nt").write_text(data_nt())
    (root / "rules" / "ok.dlog").write_text("% no rules needed by the test double\n")
    (root / "queries" / "big.rq").write_text(QUERY_BIG)
    (root / "queries" / "spo.rq").write_text(QUERY_SPO)
    (root / "queries" / "ask.rq").write_text(QUERY_ASK)
    write_spec(root / "job.json", name="day")
    return root


@pytest.fixture
def store_factory() -> type[OxiStore]:
    """The pyoxigraph test double of graphcrime.api.Store."""
    return OxiStore
