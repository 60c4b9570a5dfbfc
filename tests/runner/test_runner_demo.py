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
