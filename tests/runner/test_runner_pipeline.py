"""run_job end to end with the pyoxigraph test double; outputs checked against hand-worked data."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pyoxigraph as ox
from runner_helpers import E, P, write_spec

from graphcrime.runner.pipeline import run_job


def test_success_writes_every_output(served: Path, tmp_path: Path, store_factory) -> None:
    out = run_job(served / "job.json", tmp_path / "out", store_factory=store_factory)
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    assert out.exit_code == 0 and out.job_id == f"day_{today}_001"
    folder = tmp_path / "out" / out.job_id
    assert sorted(p.name for p in folder.iterdir()) == [
        "inputs", "inputs.json", "job.log", "neptune-loader.json", "results", "stats.json",
        "status.json"]
    assert sorted(p.name for p in (folder / "results").iterdir()) == [
        "ask.csv", "big.csv", "spo.nt"]
    # hand-worked: amounts above 100 are t1 (500) and t3 (7000)
    with open(folder / "results" / "big.csv") as f:
        rows = list(csv.reader(f))
    assert rows == [["t", "amount"], [f"{E}transaction_t1", "500"],
                    [f"{E}transaction_t3", "7000"]]
    # ?S ?P ?O -> N-Triples: the 4 triples of t1, the only transaction a originated
    g = list(ox.parse(path=str(folder / "results" / "spo.nt"), format=ox.RdfFormat.N_TRIPLES))
    assert {t.subject.value for t in g} == {f"{E}transaction_t1"} and len(g) == 4
    assert (folder / "results" / "ask.csv").read_text().split() == ["result", "true"]
    status = json.loads((folder / "status.json").read_text())
    assert status["status"] == "succeeded" and status["folder"] == str(folder)
    assert {r["file"]: r["rows"] for r in status["results"]} == {
        "results/ask.csv": 1, "results/big.csv": 2, "results/spo.nt": 4}
    stats = json.loads((folder / "stats.json").read_text())
    assert stats["input_facts"] == 6 + 12 and set(stats["seconds"]) >= {"load", "reason", "query"}
    assert stats["peak_memory_bytes"] > 0 and stats["bytes_per_fact"] > 0
    neptune = json.loads((folder / "neptune-loader.json").read_text())
    assert neptune["format"] == "ntriples" and neptune["source"].endswith(f"/{out.job_id}/results/")
    assert "loaded 18 facts" in (folder / "job.log").read_text()
    assert not list((tmp_path / "out").glob(".tmp-*"))


def test_ids_increase_and_parameters_reach_reason(served: Path, tmp_path: Path,
                                                  store_factory) -> None:
    write_spec(served / "job.json", name="day", parameters={"min_amount": 250})
    a = run_job(served / "job.json", tmp_path / "out", store_factory=store_factory)
    b = run_job(served / "job.json", tmp_path / "out", store_factory=store_factory)
    assert a.job_id.endswith("_001") and b.job_id.endswith("_002")
    stats = json.loads((b.folder / "stats.json").read_text())
    assert stats["reason"]["params"] == {"min_amount": 250}


def test_rule_error_fails_with_position(served: Path, tmp_path: Path, store_factory) -> None:
    (served / "rules" / "bad.dlog").write_text("% fine\n  [?x, a, ?y] BROKEN :-\n")
    write_spec(served / "job.json", rules=["rules/bad.dlog"])
    out = run_job(served / "job.json", tmp_path / "out", store_factory=store_factory)
    assert out.exit_code == 2
    status = json.loads((out.folder / "status.json").read_text())
    assert status["status"] == "failed"
    assert status["error"]["type"] == "RuleError"
    assert (status["error"]["line"], status["error"]["col"]) == (2, 15)
    assert status["error"]["file"].endswith("bad.dlog")
    assert "FAILED" in (out.folder / "job.log").read_text()


def test_bad_spec_still_gets_a_failed_folder(served: Path, tmp_path: Path) -> None:
    (served / "broken spec!.json").write_text('{"data": ["data/*.nt"]')
    out = run_job(served / "broken spec!.json", tmp_path / "out")
    assert out.exit_code == 2 and out.job_id.startswith("broken-spec_")
    assert json.loads((out.folder / "status.json").read_text())["error"]["type"] == "SpecError"


def test_timeout_is_a_limit(served: Path, tmp_path: Path, store_factory) -> None:
    (served / "rules" / "slow.dlog").write_text("% SLEEP 0.3\n")
    write_spec(served / "job.json", rules=["rules/slow.dlog"], limits={"timeout_seconds": 0.1})
    out = run_job(served / "job.json", tmp_path / "out", store_factory=store_factory)
    assert out.exit_code == 3
    assert out.status["error"]["json_path"] == "limits.timeout_seconds"


def test_unexpected_exception_is_exit_1(served: Path, tmp_path: Path, store_factory) -> None:
    class Exploding(store_factory):
        def query(self, sparql):
            raise RuntimeError("disk on fire")

    out = run_job(served / "job.json", tmp_path / "out", store_factory=Exploding)
    assert out.exit_code == 1 and out.status["error"]["message"] == "disk on fire"
    assert "Traceback" in (out.folder / "job.log").read_text()


def test_same_query_stem_twice_gets_numbered(served: Path, tmp_path: Path, store_factory) -> None:
    (served / "queries" / "more").mkdir()
    (served / "queries" / "more" / "big.rq").write_text((served / "queries" / "big.rq").read_text())
    write_spec(served / "job.json", queries=["queries/big.rq", "queries/more/big.rq"])
    out = run_job(served / "job.json", tmp_path / "out", store_factory=store_factory)
    assert sorted(p.name for p in (out.folder / "results").iterdir()) == ["big-2.csv", "big.csv"]


def test_select_spo_detection_ignores_case(served: Path, tmp_path: Path, store_factory) -> None:
    (served / "queries" / "lower.rq").write_text(
        f"SELECT ?s ?p ?o WHERE {{ ?s <{P}hasAmount> ?o BIND(<{P}hasAmount> AS ?p) }}")
    write_spec(served / "job.json", queries=["queries/lower.rq"])
    out = run_job(served / "job.json", tmp_path / "out", store_factory=store_factory)
    assert (out.folder / "results" / "lower.nt").read_text().count("\n") == 3


def test_missing_engine_is_a_clear_failure(served: Path, tmp_path: Path, monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "graphcrime.api", None)  # import fails
    out = run_job(served / "job.json", tmp_path / "out")
    assert out.exit_code == 1 and out.status["error"]["type"] == "EngineUnavailable"
