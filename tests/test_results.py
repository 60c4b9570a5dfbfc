"""gc.open(job_dir): results of a real (tiny) job, checked against pyoxigraph on the same files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

import graphcrime as gc
from graphcrime.errors import DataError
from graphcrime.results import CHAIN_COLUMNS, PREFIXES

REPO = Path(__file__).resolve().parents[1]


def make_job(root: Path, transactions: int = 800, parties: int = 450, seed: int = 5,
             typologies: str = "all") -> Path:
    """Generate tiny data with typologies, run the reference job on it; the job folder."""
    from generator import generate
    from graphcrime.runner.pipeline import run_job

    generate(root / "data", transactions=transactions, parties=parties, seed=seed,
             typologies=typologies)
    for sub in ("rules", "queries"):
        shutil.copytree(REPO / sub, root / sub)
    spec = {"name": "t", "data": ["data/*.nt"],
            "rules": ["rules/suspicious-chains.dlog", "rules/high-value-chains.dlog"],
            "queries": ["queries/suspicious-chains.rq", "queries/high-value-chains.rq"],
            "parameters": {"min_amount": 100, "max_chain_length": 30}}
    (root / "job.json").write_text(json.dumps(spec))
    out = run_job(root / "job.json", root / "out")
    assert out.exit_code == 0, out.status
    return out.folder


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_job(tmp_path_factory.mktemp("job"))


def oracle(folder: Path, with_inputs: bool = False, skip: tuple[str, ...] = ()) -> ox.Store:
    """pyoxigraph over a job's result files (but those named in ``skip``) [+ its inputs]."""
    store = ox.Store()
    files = sorted(f for f in (folder / "results").glob("*.nt") if f.name not in skip)
    if with_inputs:
        files += sorted((folder.parents[1] / "data").glob("*.nt"))
    for f in files:
        store.bulk_load(path=str(f), format=ox.RdfFormat.N_TRIPLES)
    return store


def test_status_and_stats(job: Path) -> None:
    with gc.open(job) as res:
        assert res.status == json.loads((job / "status.json").read_text())
        assert res.status["status"] == "succeeded"
        assert res.stats["input_facts"] > 0
        assert [p.name for p in res.result_files] == ["chain-transactions.nt",
                                                      "high-value-chains.nt",
                                                      "suspicious-chains.nt"]


def test_query_matches_pyoxigraph(job: Path) -> None:
    q = PREFIXES + "SELECT ?c ?b WHERE { ?c a type:HighValueChain ; prop:hasBeneficiary ?b }"
    expected = {(s["c"].value, s["b"].value) for s in oracle(job).query(q)}
    with gc.open(job) as res:
        got = {(c.value, b.value) for c, b in res.query(q).rows()}
    assert got == expected and expected


def test_chains_match_pyoxigraph(job: Path) -> None:
    o = oracle(job)
    q = PREFIXES + """SELECT ?c ?o ?b ?l ?s ?f ?d WHERE { ?c a type:SuspiciousChain ;
        prop:hasOriginator ?o ; prop:hasBeneficiary ?b ; prop:hasLength ?l ;
        prop:hasStartingAmount ?s ; prop:hasFinalAmount ?f ; prop:hasEndDate ?d }"""
    expected = {s["c"].value: (s["o"].value, s["b"].value, int(s["l"].value),
                               float(s["s"].value), float(s["f"].value), s["d"].value)
                for s in o.query(q)}
    high = {s["c"].value for s in o.query(PREFIXES + "SELECT ?c { ?c a type:HighValueChain }")}
    with gc.open(job) as res:
        rows = res.chains()
    if not isinstance(rows, list):  # pandas installed
        rows = rows.to_dict("records")
    assert rows and set(rows[0]) == set(CHAIN_COLUMNS)
    got = {r["chain"]: (r["originator"], r["beneficiary"], r["length"], r["first_amount"],
                        r["final_amount"], r["end_date"]) for r in rows}
    assert got == expected
    assert {r["chain"] for r in rows if r["high_value"]} == high
    assert all(r["suspicious"] for r in rows)
    firsts = [r["first_amount"] for r in rows]
    assert firsts == sorted(firsts, reverse=True)


def test_transactions_with_inputs(job: Path) -> None:
    o = oracle(job, with_inputs=True)
    with gc.open(job, with_inputs=True) as res:
        rows = res.chains()
        if not isinstance(rows, list):  # pandas installed
            rows = rows.to_dict("records")
        chain = max(rows, key=lambda r: r["length"])["chain"]
        txs = res.transactions(chain)
    q = PREFIXES + f"""SELECT ?t ?d ?a ?x ?y WHERE {{ <{chain}> prop:containsTransaction ?t .
        ?t prop:hasDate ?d ; prop:hasAmount ?a ; prop:hasOriginator ?x ;
        prop:hasBeneficiary ?y }} ORDER BY ?d"""
    expected = [(s["t"].value, s["x"].value, s["y"].value, float(s["a"].value), s["d"].value)
                for s in o.query(q)]
    assert [(t["transaction"], t["originator"], t["beneficiary"], t["amount"], t["date"])
            for t in txs] == expected
    # a chain: each transaction is sent by the previous one's beneficiary
    assert all(a["beneficiary"] == b["originator"] for a, b in zip(txs, txs[1:], strict=False))


def test_not_a_job_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a job folder") as e:
        gc.open(tmp_path)
    assert e.value.hint
