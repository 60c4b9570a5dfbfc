"""evaluate --sweep: per-value precision/recall against an oracle computed from the ground-truth
file and pyoxigraph over the job's files (a HighValueChain at threshold v is a SuspiciousChain
whose smallest transaction amount is above v)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from graphcrime.cli import app
from graphcrime.errors import UsageError
from graphcrime.investigate.sweep import parse_sweep, sweep

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_results import PREFIXES, make_job  # noqa: E402

VALUES = [50, 100, 500]


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_job(tmp_path_factory.mktemp("sweep"), transactions=200, parties=150, seed=4,
                    typologies="layering=4,cycle=2,fan-in=1")


def gt_rows(job: Path) -> list[dict[str, str]]:
    with open(job.parents[1] / "data" / "ground-truth.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def oracle_scores(job: Path, threshold: float) -> dict[str, dict[str, int]]:
    """tp/fp/fn per key from pyoxigraph: chains' transaction sets and their smallest amounts."""
    store = ox.Store()
    for f in [*(job / "results").glob("*.nt"), *(job.parents[1] / "data").glob("*.nt")]:
        store.bulk_load(path=str(f), format=ox.RdfFormat.N_TRIPLES)
    sets: dict[str, set[str]] = {}
    low: dict[str, float] = {}
    for s in store.query(PREFIXES + "SELECT ?c ?t ?a { ?c a type:SuspiciousChain ; "
                         "prop:containsTransaction ?t . ?t prop:hasAmount ?a }"):
        sets.setdefault(s["c"].value, set()).add(s["t"].value)
        low[s["c"].value] = min(low.get(s["c"].value, float("inf")), float(s["a"].value))
    sus = {frozenset(v) for v in sets.values()}
    high = {frozenset(v) for c, v in sets.items() if low[c] > threshold}
    out = {}
    for key, chains, col in (("suspicious", sus, "expect_suspicious_chain"),
                             ("high_value", high, "expect_high_value_chain")):
        found = {r["instance_id"] for r in gt_rows(job)
                 if frozenset(r["transactions"].split()) in chains}
        expect = {r["instance_id"] for r in gt_rows(job) if r[col] == "true"}
        out[key] = {"tp": len(found & expect), "fp": len(found - expect),
                    "fn": len(expect - found)}
    return out


def test_sweep_matches_oracle(job: Path) -> None:
    result = sweep(job, job.parents[1] / "data" / "ground-truth.csv", "min_amount", VALUES)
    assert result["parameter"] == "min_amount"
    assert [r["value"] for r in result["runs"]] == VALUES
    seen = set()
    for run in result["runs"]:
        want = oracle_scores(job, run["value"])
        for key in ("suspicious", "high_value"):
            o = run["report"]["overall"][key]
            assert {k: o[k] for k in ("tp", "fp", "fn")} == want[key], (run["value"], key)
            tp, fp, fn = want[key]["tp"], want[key]["fp"], want[key]["fn"]
            assert o["recall"] == (round(tp / (tp + fn), 4) if tp + fn else None)
            assert o["precision"] == (round(tp / (tp + fp), 4) if tp + fp else None)
        seen.add(tuple(want["high_value"].values()))
    assert len(seen) > 1, "the sweep values should change the high-value scores"
    # the rerun at the job's own value gives the job's own results
    r100 = next(r for r in result["runs"] if r["value"] == 100)
    status = json.loads((job / "status.json").read_text())
    assert r100["derived_facts"] == status["counts"]["derived_facts"]


def test_cli_sweep(job: Path) -> None:
    gt = str(job.parents[1] / "data" / "ground-truth.csv")
    r = CliRunner().invoke(app, ["evaluate", str(job), "--ground-truth", gt,
                                 "--sweep", "min_amount=1000", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert [x["value"] for x in doc["runs"]] == [1000]
    assert doc["runs"][0]["report"]["overall"]["high_value"]["fp"] == oracle_scores(
        job, 1000)["high_value"]["fp"]
    r = CliRunner().invoke(app, ["evaluate", str(job), "--ground-truth", gt,
                                 "--sweep", "min_amount"])
    assert r.exit_code == 2 and "--sweep" in r.output


def test_parse_sweep() -> None:
    assert parse_sweep("max_chain_length=3, 5") == ("max_chain_length", [3, 5])
    with pytest.raises(UsageError):
        parse_sweep("=1,2")
