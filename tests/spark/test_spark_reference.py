"""Both reference rule sets on small generated data: the Spark backend derives exactly the
embedded engine's facts, and ``graphcrime reason --engine spark`` prints the same counts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from generator import generate
from graphcrime.cli import app

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
SUSPICIOUS = REPO / "rules" / "suspicious-chains.dlog"
HIGH_VALUE = REPO / "rules" / "high-value-chains.dlog"
PARAMS = {"max_chain_length": 4, "min_amount": 2000}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("spark-ref") / "data"
    generate(out, transactions=60, parties=60, typologies="layering=2,cycle=1", seed=3)
    return sorted(out.glob("*.nt"))


def test_both_reference_rule_sets_equal_the_embedded_engine(spark: Any, tools: Any,
                                                            data: list[Path]) -> None:
    rules = [SUSPICIOUS, HIGH_VALUE]
    got, summary = tools.spark_derived(spark, data, rules, PARAMS)
    expected = tools.embedded_derived(data, rules, PARAMS)
    assert got == expected
    classes = {o for _, p, o in got if p.endswith("#type>")}
    assert any("HighValueChain" in c for c in classes)  # the aggregate rule fired
    assert summary["derived_facts"] == len(expected)


def _summary(text: str) -> list[str]:
    """The CLI summary without timings, memory, rounds and strata (the embedded engine merges
    recursive strata, Spark evaluates them as stratified: same facts, other round counts)."""
    return [re.sub(r" in \d+ round\(s\), \d+ strata", "", line) for line in text.splitlines()
            if not line.startswith(("seconds:", "peak memory:", "wrote"))]


def test_cli_engine_spark_prints_the_default_engines_counts(spark: Any, data: list[Path],
                                                            tmp_path: Path) -> None:
    args = ["reason", "--rules", str(SUSPICIOUS), "--param", "max_chain_length=4"]
    for f in data:
        args += ["--data", str(f)]
    runner = CliRunner()
    default = runner.invoke(app, [*args, "--output", str(tmp_path / "embedded.nt")])
    assert default.exit_code == 0, default.output
    res = runner.invoke(app, [*args, "--engine", "spark", "--output",
                              str(tmp_path / "spark.nt.gz")])
    assert res.exit_code == 0, res.output
    # same lines; rows with equal counts may come in another order (ties keep term-id order)
    assert sorted(_summary(res.output)) == sorted(_summary(default.output))
    assert re.search(r"derived facts: [1-9]", res.output)
    # and the written files hold the same triples (parsed by pyoxigraph, not by us)
    import gzip

    (tmp_path / "spark.nt").write_bytes(gzip.decompress((tmp_path / "spark.nt.gz").read_bytes()))
    triples = [{str(t) for t in ox.parse(path=str(tmp_path / n), format=ox.RdfFormat.N_TRIPLES)}
               for n in ("embedded.nt", "spark.nt")]
    assert triples[0] == triples[1] and triples[0]


def test_cli_refuses_a_master_without_spark(data: list[Path]) -> None:
    res = CliRunner().invoke(app, ["reason", "--data", str(data[0]), "--rules", str(SUSPICIOUS),
                                   "--spark-master", "local[2]"])
    assert res.exit_code == 2 and "--engine spark" in res.output
