"""The demo's plumbing (with the test double) and its chain table (hand-worked results)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graphcrime.runner import demo, pipeline
from graphcrime.vocab import ENT, PROP, RDF_TYPE, TYPE, XSD


def chain(name: str, length: int, first: str, final: str, high: bool) -> str:
    c = f"<{ENT}{name}>"
    lines = [f"{c} <{RDF_TYPE}> <{TYPE}SuspiciousChain> .",
             f"{c} <{PROP}hasOriginator> <{ENT}party_o{name}> .",
             f"{c} <{PROP}hasBeneficiary> <{ENT}party_b{name}> .",
             f'{c} <{PROP}hasLength> "{length}"^^<{XSD}integer> .',
             f'{c} <{PROP}hasStartingAmount> "{first}"^^<{XSD}decimal> .',
             f'{c} <{PROP}hasFinalAmount> "{final}"^^<{XSD}decimal> .']
    if high:
        lines.append(f"{c} <{RDF_TYPE}> <{TYPE}HighValueChain> .")
    return "\n".join(lines) + "\n"


def test_top_chains_high_value_first_then_by_final_amount(tmp_path: Path) -> None:
    (tmp_path / "a.nt").write_text(chain("c1", 2, "500", "90.5", False)
                                   + chain("c2", 3, "7000", "250", True))
    (tmp_path / "b.nt").write_text(chain("c3", 1, "40", "40", False)
                                   + chain("c4", 2, "900", "120", True))
    rows = demo.top_chains(tmp_path, 3)
    assert [r["chain"].rsplit("#")[1] for r in rows] == ["c2", "c4", "c1"]
    assert rows[0]["originator"] == f"{ENT}party_oc2" and rows[0]["length"] == "3"
    assert (rows[0]["first_amount"], rows[0]["final_amount"]) == ("7000", "250")


def test_demo_runs_the_reference_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     store_factory) -> None:
    assets = tmp_path / "assets"
    for d in demo.ASSET_DIRS:
        (assets / d).mkdir(parents=True)
    (assets / "rules" / "r.dlog").write_text("% test double\n")
    (assets / "queries" / "chains.rq").write_text("SELECT ?S ?P ?O WHERE { ?S ?P ?O } LIMIT 5")
    (assets / "jobs" / "reference.json").write_text(json.dumps(
        {"name": "reference", "data": ["../data/*.nt"], "rules": ["../rules/*.dlog"],
         "queries": ["../queries/*.rq"]}))
    monkeypatch.setattr(demo, "find_assets", lambda: assets)
    monkeypatch.setattr(pipeline, "default_store_factory", store_factory)
    lines: list[str] = []
    assert demo.run_demo(tmp_path / "out", transactions=500, echo=lines.append) == 0
    text = "\n".join(lines)
    assert "generated 500 transactions" in text and "results/chains.nt: 5 rows" in text
    assert "no suspicious chains found" in text
    (job,) = (tmp_path / "out" / "results").iterdir()
    assert f"results: {job}" in text and (tmp_path / "out" / "jobs" / "reference.json").exists()


def test_demo_without_assets_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "find_assets", lambda: None)
    with pytest.raises(Exception, match="cannot find jobs/"):
        demo.run_demo(tmp_path, transactions=10)


def test_chain_mix_counts_chains_through_planted_transactions(tmp_path: Path) -> None:
    """Hand-worked: c1 holds a planted transaction, c2 only background ones, c3 is no
    SuspiciousChain (not counted)."""
    (tmp_path / "results").mkdir()
    contains = f"<{PROP}containsTransaction>"
    lines = [chain("c1", 2, "1", "1", False), chain("c2", 1, "1", "1", False),
             f"<{ENT}c1> {contains} <{ENT}transaction_p1> .\n",
             f"<{ENT}c1> {contains} <{ENT}transaction_b1> .\n",
             f"<{ENT}c2> {contains} <{ENT}transaction_b2> .\n",
             f"<{ENT}c3> {contains} <{ENT}transaction_p1> .\n"]
    (tmp_path / "results" / "chains.nt").write_text("".join(lines))
    gt = tmp_path / "ground-truth.csv"
    gt.write_text("instance_id,typology,parties,transactions,expect_suspicious_chain,"
                  "expect_high_value_chain,min_amount,first_date,last_date\n"
                  f"layering-0001,layering,,{ENT}transaction_p1 {ENT}transaction_p9,true,false,"
                  "1,2021-07-27T00:00:00,2021-07-27T00:00:00\n")
    assert demo.chain_mix(tmp_path / "results", gt) == (2, 1)


def test_proportional_typologies_keep_planted_chain_roots_a_minority(tmp_path: Path) -> None:
    """`--typologies proportional` (the demo's): every typology, with planting marking at most
    half as many parties suspicious as the background has, and the summary says so."""
    from typer.testing import CliRunner

    from graphcrime.cli import app

    res = CliRunner().invoke(app, ["generate", str(tmp_path / "d"), "-n", "20000",
                                   "--suspicious-fraction", "0.01", "--typologies",
                                   "proportional"])
    assert res.exit_code == 0, res.output
    m = json.loads((tmp_path / "d" / "manifest.json").read_text())
    c = m["counts"]
    assert set(c["instances"]) == {"layering", "fan-out", "fan-in", "cycle", "scatter-gather",
                                   "structuring"}
    assert c["random_suspicious_parties"] == 20 and set(c["instances"].values()) == {4}
    assert 0 < c["planted_suspicious_parties"] <= c["random_suspicious_parties"] / 2
    share = 100 * c["planted_suspicious_parties"] / (c["planted_suspicious_parties"] + 20)
    assert (f"suspicious parties (where chains start) 20 background + "
            f"{c['planted_suspicious_parties']} planted ({share:.0f}% planted)") in res.output
    assert f"{c['planted_transactions']:,} planted of 20,000 transactions" in res.output
