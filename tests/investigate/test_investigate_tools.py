"""evaluate and explain on a tiny real job; oracles: pyoxigraph queries and the rule files' text."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from graphcrime.cli import app
from graphcrime.investigate.evaluate import evaluate
from graphcrime.investigate.explain import explain

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_results import PREFIXES  # noqa: E402


@pytest.fixture(scope="module")
def job(inv_job: Path) -> Path:
    return inv_job


def gt_path(job: Path) -> Path:
    return job.parents[1] / "data" / "ground-truth.csv"


def oracle_found(job: Path, cls: str) -> set[str]:
    """Instances whose exact transaction set is one chain of class cls (pyoxigraph)."""
    store = ox.Store()
    for f in (job / "results").glob("*.nt"):
        store.bulk_load(path=str(f), format=ox.RdfFormat.N_TRIPLES)
    sets: dict[str, set[str]] = {}
    for s in store.query(PREFIXES + f"SELECT ?c ?t {{ ?c a type:{cls} ; "
                         "prop:containsTransaction ?t }"):
        sets.setdefault(s["c"].value, set()).add(s["t"].value)
    chains = {frozenset(v) for v in sets.values()}
    with open(gt_path(job), newline="") as fh:
        return {r["instance_id"] for r in csv.DictReader(fh)
                if frozenset(r["transactions"].split()) in chains}


def test_evaluate_matches_oracle(job: Path) -> None:
    rep = evaluate(job, gt_path(job))
    with open(gt_path(job), newline="") as fh:
        rows = list(csv.DictReader(fh))
    for key, cls, col in (("suspicious", "SuspiciousChain", "expect_suspicious_chain"),
                          ("high_value", "HighValueChain", "expect_high_value_chain")):
        found = oracle_found(job, cls)
        expect = {r["instance_id"] for r in rows if r[col] == "true"}
        o = rep["overall"][key]
        assert (o["tp"], o["fp"], o["fn"]) == (len(found & expect), len(found - expect),
                                               len(expect - found))
        assert expect, "the generator planted no chain to find"
        got = {i["instance_id"] for i in rep["instances"] if i[f"{key}_chain"]}
        assert got == found
    assert set(rep["typologies"]) == {r["typology"] for r in rows}


def test_evaluate_sees_a_missing_chain(job: Path, tmp_path: Path) -> None:
    """Drop one expected chain's triples from the results: recall must fall by one."""
    import shutil

    rep = evaluate(job, gt_path(job))
    victim = next(i for i in rep["instances"] if i["expect_suspicious"] and i["suspicious_chain"])
    copy = tmp_path / job.name
    shutil.copytree(job, copy)
    for f in (copy / "results").glob("*.nt"):
        lines = f.read_text().splitlines(keepends=True)
        drop = f"<{victim['suspicious_chain']}>"
        f.write_text("".join(x for x in lines if not x.startswith(drop)))
    after = evaluate(copy, gt_path(job))["overall"]["suspicious"]
    assert after["fn"] == rep["overall"]["suspicious"]["fn"] + 1


def test_explain_chain(job: Path) -> None:
    rep = evaluate(job, gt_path(job))
    inst = max((i for i in rep["instances"] if i["high_value_chain"]),
               key=lambda i: i["instance_id"])
    with open(gt_path(job), newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["instance_id"] == inst["instance_id"])
    doc = explain(job, inst["high_value_chain"])
    # transactions in the planted chain order, linked party to party
    assert [t["transaction"] for t in doc["transactions"]] == row["transactions"].split()
    assert [t["originator"] for t in doc["transactions"]][0] == row["parties"].split()[0]
    assert doc["properties"]["hasLength"] == len(row["transactions"].split())
    # the rules named are the ones whose head line types a chain as that class
    made = {(r["class"].rsplit("#", 1)[1], Path(r["file"]).name) for r in doc["rules"]}
    assert made >= {("SuspiciousChain", "suspicious-chains.dlog"),
                    ("HighValueChain", "high-value-chains.dlog")}
    for r in doc["rules"]:
        text = Path(r["file"]).read_text().splitlines()[r["line"] - 1]
        assert r["class"].rsplit("#", 1)[1] in text


def test_cli_evaluate_and_explain(job: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["evaluate", str(job), "--ground-truth", str(gt_path(job))])
    assert r.exit_code == 0, r.output
    assert "layering" in r.output and "overall" in r.output
    chain = evaluate(job, gt_path(job))["instances"][0]["suspicious_chain"]
    r = runner.invoke(app, ["explain", str(job), chain, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["chain"] == chain
    r = runner.invoke(app, ["explain", str(job), "http://example.org/nope"])
    assert r.exit_code == 2 and "no chain" in r.output
