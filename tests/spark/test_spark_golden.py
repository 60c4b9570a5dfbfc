"""Golden cases on Spark: exactly the hand-worked expected facts, the naive evaluator's and
the embedded engine's (full derived fact sets)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from graphcrime.lang.parser import parse_files
from graphcrime.oracle.naive import evaluate

pytestmark = pytest.mark.slow
GOLDEN = Path(__file__).parent.parent / "engine" / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "expected.nt").exists())


def _read(path: Path) -> set[tuple[str, str, str]]:
    return {(str(t.subject), str(t.predicate), str(t.object))
            for t in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES)}


@pytest.mark.parametrize("name", CASES)
def test_spark_matches_golden_naive_and_engine(spark: Any, tools: Any, name: str) -> None:
    case = GOLDEN / name
    params = json.loads((case / "params.json").read_text()) if (case / "params.json").exists() \
        else {}
    got, _ = tools.spark_derived(spark, [case / "data.nt"], [case / "rules.dlog"], params)
    # canonical strings through pyoxigraph so both sides use the same literal spelling
    expected = _read(case / "expected.nt")
    data = _read(case / "data.nt")
    naive, _ = evaluate(parse_files([case / "rules.dlog"]), data, params=params)
    assert _canon(got) == expected == naive - data
    assert got == tools.embedded_derived([case / "data.nt"], [case / "rules.dlog"], params)


def _canon(triples: set[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    text = "".join(f"{s} {p} {o} .\n" for s, p, o in triples)
    return {(str(t.subject), str(t.predicate), str(t.object))
            for t in ox.parse(text, format=ox.RdfFormat.N_TRIPLES)}


@pytest.mark.parametrize("name", ["recursion", "split-recursion", "ground-recursion"])
def test_spark_joins_without_the_driver_match_the_engine(spark: Any, tools: Any, name: str,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         rule_paths: list[str]) -> None:
    """Small rounds on Spark's broadcast joins (the path rules the driver does not take run
    on), with the driver path off: the embedded engine's facts."""
    from graphcrime.spark import evaluate

    monkeypatch.setattr(evaluate, "DRIVER_ROUNDS", False)
    monkeypatch.setattr(evaluate, "BROADCAST_MIN", 0)
    case = GOLDEN / name
    params = json.loads((case / "params.json").read_text()) if (case / "params.json").exists() \
        else {}
    got, _ = tools.spark_derived(spark, [case / "data.nt"], [case / "rules.dlog"], params)
    assert got == tools.embedded_derived([case / "data.nt"], [case / "rules.dlog"], params)
    assert "broadcast" in rule_paths and "driver" not in rule_paths


def test_spark_with_big_deltas_off_the_driver_match_the_engine(
        spark: Any, tools: Any, monkeypatch: pytest.MonkeyPatch, rule_paths: list[str]) -> None:
    """Rule applications whose start exceeds the driver's limit take Spark's joins, the
    others the driver, in one run: the embedded engine's facts."""
    from graphcrime.spark import driver

    monkeypatch.setattr(driver, "LOCAL_START_MAX", 2)
    case = GOLDEN / "recursion"
    params = json.loads((case / "params.json").read_text()) if (case / "params.json").exists() \
        else {}
    got, _ = tools.spark_derived(spark, [case / "data.nt"], [case / "rules.dlog"], params)
    assert got == tools.embedded_derived([case / "data.nt"], [case / "rules.dlog"], params)
    assert "driver" in rule_paths and "shuffle" in rule_paths
