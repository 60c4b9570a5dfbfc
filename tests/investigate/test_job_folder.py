"""A finished job folder is all an investigator needs (issue 22).

The jobs here are laid out like ``graphcrime demo``'s: the spec in ``jobs/`` names
``../data/*.nt`` and runs with the served root one folder up. Oracles: ``sha256sum`` and
``os.stat`` for the record, pyoxigraph over the job's input files for the chain
transactions and the explanation.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pyoxigraph as ox
import pytest
from test_results import oracle
from typer.testing import CliRunner

import graphcrime as gc
from graphcrime.cli import app
from graphcrime.errors import DataError
from graphcrime.runner.manifest import sha256_file

REPO = Path(__file__).resolve().parents[2]
P = "http://oxfordsemantic.tech/transactions/properties#"
T = "http://oxfordsemantic.tech/transactions/classes#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
PREFIXES = f"PREFIX prop: <{P}>\nPREFIX type: <{T}>\n"


def demo_like_job(root: Path) -> Path:
    """Data in root/data, rules/queries copied, spec in root/jobs, served root = root."""
    from generator import generate
    from graphcrime.runner.pipeline import run_job

    generate(root / "data", transactions=400, parties=250, seed=11,
             typologies="layering=4,cycle=4,fan-out=2,structuring=2")
    for sub in ("rules", "queries"):
        shutil.copytree(REPO / sub, root / sub)
    (root / "jobs").mkdir()
    spec = {"name": "demo", "data": ["../data/*.nt"],
            "rules": ["../rules/suspicious-chains.dlog", "../rules/high-value-chains.dlog"],
            "queries": ["../queries/suspicious-chains.rq", "../queries/high-value-chains.rq"],
            "parameters": {"min_amount": 100, "max_chain_length": 30}}
    (root / "jobs" / "job.json").write_text(json.dumps(spec))
    out = run_job(root / "jobs" / "job.json", root / "results", serve_root=root)
    assert out.exit_code == 0, out.status
    return out.folder


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_like_job(tmp_path_factory.mktemp("demo"))


def query_results(job: Path, *, inputs: bool) -> ox.Store:
    """pyoxigraph over the query results (not chain-transactions.nt) [+ the input files]."""
    return oracle(job, inputs, skip=("chain-transactions.nt",))


def top_chain(job: Path) -> str:
    q = PREFIXES + "SELECT ?c { ?c a type:HighValueChain ; prop:hasFinalAmount ?a ; " \
                   "prop:hasLength ?l } ORDER BY DESC(?l) DESC(?a) ?c LIMIT 1"
    return list(query_results(job, inputs=False).query(q))[0]["c"].value


def oracle_transactions(job: Path, chain: str) -> list[dict]:
    q = PREFIXES + f"""SELECT ?t ?o ?b ?a ?d {{ <{chain}> prop:containsTransaction ?t .
        ?t prop:hasOriginator ?o ; prop:hasBeneficiary ?b ; prop:hasAmount ?a ;
        prop:hasDate ?d }} ORDER BY ?d"""
    return [{"transaction": s["t"].value, "originator": s["o"].value,
             "beneficiary": s["b"].value, "amount": float(s["a"].value), "date": s["d"].value}
            for s in query_results(job, inputs=True).query(q)]


def test_inputs_recorded(job: Path) -> None:
    root = job.parents[1]
    doc = json.loads((job / "inputs.json").read_text())
    assert doc["served_root"] == os.path.realpath(root)
    assert doc["spec"] == str(root / "jobs" / "job.json")
    data = sorted(os.path.realpath(p) for p in (root / "data").glob("*.nt"))
    assert [r["path"] for r in doc["data"]] == data
    for r in doc["data"] + doc["rules"] + doc["queries"]:
        assert r["size"] == os.stat(r["path"]).st_size
        if shutil.which("sha256sum"):
            out = subprocess.run(["sha256sum", r["path"]], capture_output=True, text=True,
                                 check=True).stdout
            assert r["sha256"] == out.split()[0]
    for r in doc["rules"] + doc["queries"]:  # the job keeps the exact files it ran
        assert (job / r["copy"]).read_bytes() == Path(r["path"]).read_bytes()
    status = json.loads((job / "status.json").read_text())
    assert status["inputs"]["files"] == len(doc["data"]) + 4
    assert status["inputs"]["bytes"] == sum(r["size"] for r in doc["data"] + doc["rules"]
                                            + doc["queries"])


def test_sha256_in_blocks(tmp_path: Path) -> None:
    import hashlib

    blob = os.urandom(3 * 1024 + 17)
    (tmp_path / "b").write_bytes(blob)
    assert sha256_file(tmp_path / "b", block=1024) == hashlib.sha256(blob).hexdigest()


def test_chain_transactions_equal_oracle(job: Path) -> None:
    """Every transaction of every result chain, its parties' flags and names: pyoxigraph
    over the query results and the job's input files gives the same triples."""
    party = f"""?c prop:containsTransaction ?t . ?t prop:hasOriginator|prop:hasBeneficiary ?s .
        ?s ?p ?o . FILTER(?p IN (prop:isSuspicious, prop:isInternal, prop:isExited,
        prop:hasFullName, <{RDFS_LABEL}>) || (?p = <{RDF_TYPE}> && ?o = type:Party))"""
    tx = f"""?c prop:containsTransaction ?s . ?s ?p ?o . FILTER(?p IN (prop:hasOriginator,
        prop:hasBeneficiary, prop:hasAmount, prop:hasDate)
        || (?p = <{RDF_TYPE}> && ?o = type:Transaction))"""
    q = PREFIXES + f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {{ {tx} }} UNION {{ {party} }} }}"
    expected = set(query_results(job, inputs=True).query(q))
    written = ox.Store()  # the store normalises literals as the oracle's did ("100.00")
    written.bulk_load(path=str(job / "results" / "chain-transactions.nt"),
                      format=ox.RdfFormat.N_TRIPLES)
    got = {q.triple for q in written}
    lines = (job / "results" / "chain-transactions.nt").read_text().splitlines()
    assert got == expected and len(got) > 100 and len(lines) == len(got)
    status = json.loads((job / "status.json").read_text())
    assert status["chain_transactions"]["triples"] == len(got)
    assert "chain-transactions.nt" not in {r["file"] for r in status["results"]}


def test_show_and_explain_with_a_served_root(job: Path, tmp_path: Path) -> None:
    """The demo's failure: the spec's ../data is outside the spec's folder; show and explain
    must use what the job recorded, not re-resolve the spec."""
    chain = top_chain(job)
    runner = CliRunner()
    for out in ("c.png", "c.html"):
        r = runner.invoke(app, ["show", str(job), chain, "--out", str(tmp_path / out)])
        assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["explain", str(job), chain, "--json"])
    assert r.exit_code == 0, r.output
    with gc.open(job, with_inputs=True) as res:
        assert sorted(map(str, res.input_files)) == sorted(
            os.path.realpath(p) for p in (job.parents[1] / "data").glob("*.nt"))


def test_folder_alone_after_inputs_deleted(tmp_path: Path) -> None:
    job = demo_like_job(tmp_path / "demo")
    chain = top_chain(job)
    expected = oracle_transactions(job, chain)
    assert len(expected) >= 3
    dates = [t["date"] for t in expected]
    assert dates == sorted(dates)
    shutil.rmtree(tmp_path / "demo" / "data")
    runner = CliRunner()
    r = runner.invoke(app, ["explain", str(job), chain, "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["transactions"] == expected
    r = runner.invoke(app, ["explain", str(job), chain])
    assert r.exit_code == 0 and "None" not in r.output and " ? " not in r.output
    lines = [ln for ln in r.output.splitlines() if re.match(r"\s+\d+\. ", ln)]
    assert len(lines) == len(expected)
    for line, t in zip(lines, expected, strict=True):
        assert t["date"].replace("T", " ") in line and f"${t['amount']:,.2f}" in line
        assert t["originator"].rsplit("#", 1)[1] in line
    for out in ("c.png", "c.html"):
        r = runner.invoke(app, ["show", str(job), chain, "--out", str(tmp_path / out)])
        assert r.exit_code == 0, r.output
    party = expected[0]["originator"]
    r = runner.invoke(app, ["show", str(job), party, "--out", str(tmp_path / "p.html")])
    assert r.exit_code == 0 and "chain transactions only" in r.output
    with pytest.raises(DataError, match="is gone"):
        gc.open(job, with_inputs=True)
    # the folder moved elsewhere still works: it does not depend on the run's layout
    moved = shutil.copytree(job, tmp_path / "moved")
    r = runner.invoke(app, ["explain", str(moved), chain, "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["transactions"] == expected
    # truly missing: say what and where, exit 2, never None
    (moved / "results" / "chain-transactions.nt").unlink()
    r = runner.invoke(app, ["explain", str(moved), chain])
    assert r.exit_code == 2, r.output
    assert "chain-transactions.nt" in r.output and "is gone" in r.output
    assert expected[0]["transaction"].rsplit("#", 1)[1] in r.output and "None" not in r.output
    r = runner.invoke(app, ["show", str(moved), chain, "--out", str(tmp_path / "x.png")])
    assert r.exit_code == 2 and "chain-transactions.nt" in r.output


@pytest.mark.slow
def test_demo_commands_after_its_data_is_deleted(tmp_path: Path) -> None:
    """The README's path: `graphcrime demo`, then the explain/show commands it prints, also
    once the demo's data folder is gone."""
    from graphcrime.runner.demo import run_demo

    lines: list[str] = []
    assert run_demo(tmp_path / "demo", transactions=5000, echo=lines.append) == 0
    commands = [ln.split(": ", 1)[1].split(" (or")[0] for ln in lines
                if ln.startswith(("explain the top chain:", "draw it:"))]
    assert len(commands) == 2
    shutil.rmtree(tmp_path / "demo" / "data")
    runner = CliRunner()
    for cmd in commands:
        args = cmd.split()[1:]
        for out in (["--out", str(tmp_path / "c.png")], ["--out", str(tmp_path / "c.html")]):
            if "--out" in args:
                args = [*args[:args.index("--out")], *out]
            r = runner.invoke(app, args)
            assert r.exit_code == 0, (args, r.output)
            assert "None" not in r.output
