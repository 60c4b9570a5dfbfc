"""Both reference rule sets on small generated data, loaded from Parquet tables (the
lakehouse path): the Spark backend derives exactly the embedded engine's facts and answers
the reference job's queries like pyoxigraph. (``graphcrime reason --engine spark`` printing
the embedded engine's counts and writing its facts, ``.nt.gz`` too, is
tests/spark/test_spark_cluster.py's test, on a standalone cluster.)"""

from __future__ import annotations

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


def _lake(data: list[Path], root: Path) -> tuple[Path, Path]:
    """The generated N-Triples as the two Parquet tables a lakehouse would hold (ids as
    IRIs, values as their lexical forms), pivoted by pyoxigraph."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows: dict[str, dict[str, str]] = {}
    for f in data:
        for t in ox.parse(path=str(f), format=ox.RdfFormat.N_TRIPLES):
            key = t.predicate.value.rsplit("#", 1)[-1]
            val = t.object.value
            rows.setdefault(t.subject.value, {})[key] = val
    tx = {k: v for k, v in rows.items() if v["type"].endswith("#Transaction")}
    parties = {k: v for k, v in rows.items() if v["type"].endswith("#Party")}
    assert len(tx) == 60 and len(tx) + len(parties) == len(rows)
    pq.write_table(pa.table({
        "tx_id": list(tx), "from": [v["hasOriginator"] for v in tx.values()],
        "to": [v["hasBeneficiary"] for v in tx.values()],
        "amount": [v["hasAmount"] for v in tx.values()],
        "booked_at": [v["hasDate"] for v in tx.values()]}), root / "tx.parquet")
    pq.write_table(pa.table({"id": list(parties)} | {
        col: [v[key] == "true" if col.startswith("is_") else v[key] for v in parties.values()]
        for col, key in (("name", "hasFullName"), ("is_suspicious", "isSuspicious"),
                         ("is_internal", "isInternal"), ("is_exited", "isExited"))}),
        root / "parties.parquet")
    return root / "tx.parquet", root / "parties.parquet"


def test_lakehouse_parquet_in_reason_parquet_out_then_the_jobs_queries(
        spark: Any, tools: Any, data: list[Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, rule_paths: list[str]) -> None:
    """Both reference rule sets on Parquet tables: the loaded triples are the generated
    files', the derived facts (written as Parquet) exactly the embedded engine's, and the
    reference job's queries answer what pyoxigraph answers over input + derived facts.
    The chain rules run on the driver (graphcrime/spark/driver.py), the aggregate rule on
    Spark's joins; test_spark_golden runs small rounds on broadcast joins too."""
    import pyarrow.parquet as pq

    from graphcrime.spark import driver, evaluate
    from graphcrime.spark.api import SparkStore

    monkeypatch.setattr(evaluate, "BROADCAST_MIN", 0)
    # the late BINDs' values read in a second dictionary scan, for the rows that pass only
    # (the golden cases read them with the FILTERs')
    monkeypatch.setattr(driver, "LATE_MAX", 0)

    tx, parties = _lake(data, tmp_path)
    mapping = {"transactions": {"id": "tx_id", "originator": "from", "beneficiary": "to",
                                "date": "booked_at"}}
    queries = [REPO / "queries" / n for n in ("suspicious-chains.rq", "high-value-chains.rq")]
    with SparkStore(spark=spark) as st:
        st.load_parquet(tx, parties, mapping)
        st.dump(tmp_path / "input.nt")
        summary = st.reason([SUSPICIOUS, HIGH_VALUE], PARAMS)
        st.dump(tmp_path / "derived.parquet", derived_only=True)
        answers = [{tuple(str(x) for x in row) for row in st.query(q.read_text()).rows()}
                   for q in queries]
    generated = set().union(*(tools.nt_file(f) for f in data))
    assert tools.nt_file(tmp_path / "input.nt") == generated
    back = pq.read_table(tmp_path / "derived.parquet")
    got = set(zip(*(back.column(c).to_pylist() for c in "spo"), strict=True))
    expected = tools.embedded_derived(data, [SUSPICIOUS, HIGH_VALUE], PARAMS)
    assert got == expected and summary["derived_facts"] == len(expected)
    assert "driver" in rule_paths  # rounds did run on the driver
    classes = {o for _, p, o in got if p.endswith("#type>")}
    assert any("HighValueChain" in c for c in classes)  # the aggregate rule fired
    graph = ox.Store()
    for f in data:
        graph.load(path=str(f), format=ox.RdfFormat.N_TRIPLES)
    graph.load("".join(f"{s} {p} {o} .\n" for s, p, o in got), format=ox.RdfFormat.N_TRIPLES)
    for q, mine in zip(queries, answers, strict=True):
        want = {tuple(str(sol[v]) for v in ("S", "P", "O")) for sol in graph.query(q.read_text())}
        # a pyoxigraph store keeps values (24839.50 comes back as 24839.5): its spellings
        canon = ox.Store()
        canon.load("".join(f"{s} {p} {o} .\n" for s, p, o in mine),
                   format=ox.RdfFormat.N_TRIPLES)
        mine = {(str(t.subject), str(t.predicate), str(t.object)) for t in canon}
        assert mine == want and want


def test_cli_refuses_a_master_without_spark(data: list[Path]) -> None:
    res = CliRunner().invoke(app, ["reason", "--data", str(data[0]), "--rules", str(SUSPICIOUS),
                                   "--spark-master", "local[2]"])
    assert res.exit_code == 2 and "--engine spark" in res.output


def test_spark_joins_read_only_the_chunks_that_join_the_delta(
        spark: Any, tools: Any, data: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """The chain rules on Spark's joins (driver rounds off): the extension rule's variants
    read, of the parent chain's attribute tables, only the chunks whose id ranges overlap
    the delta's (graphcrime/spark/prune.py), and derive the embedded engine's facts."""
    from graphcrime.spark import evaluate

    monkeypatch.setattr(evaluate, "DRIVER_ROUNDS", False)
    pruned: list[dict[str, tuple[int, int]]] = []
    original = evaluate.SparkEvaluator.run_rule

    def traced(self: Any, *args: Any) -> int:
        n = original(self, *args)
        pruned.append(dict(self.pruned))
        return n

    monkeypatch.setattr(evaluate.SparkEvaluator, "run_rule", traced)
    params = {"max_chain_length": 4}
    got, _ = tools.spark_derived(spark, data, [SUSPICIOUS], params)
    assert got == tools.embedded_derived(data, [SUSPICIOUS], params)
    narrowed = [t for p in pruned for t, (read, total) in p.items() if read < total]
    assert len(set(narrowed)) >= 4  # the parent's type, originator, length, end date...
