"""A real Spark standalone cluster (a master and two workers on loopback, see the
``standalone`` fixture): ``graphcrime reason --engine spark --spark-master spark://...`` runs
both reference rule sets with Parquet chunks, parses the files in Python tasks on the
executors (the package shipped by the driver), prints the embedded
engine's counts and writes exactly its derived facts (gzipped N-Triples).

(It also stands for ``--engine spark`` on the default local master: the CLI code is the same
but for the master URL, and a local[2] run of the same command, 30-40 s, proved nothing
more than this test plus tests/spark/test_spark_golden.py and test_spark_reference.py.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from generator import generate
from graphcrime.cli import app

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
RULES = [REPO / "rules" / "suspicious-chains.dlog", REPO / "rules" / "high-value-chains.dlog"]
PARAMS = ["max_chain_length=3", "min_amount=500"]
JIT = "-XX:TieredStopAtLevel=1"  # as tests/spark/conftest.py's
#: what the driver asks of the two 1-core workers (the run takes minutes on a busy machine)
SUBMIT = ("--driver-memory 1g --conf spark.executor.memory=1g --conf spark.executor.cores=1 "
          "--conf spark.cores.max=2 --conf spark.sql.shuffle.partitions=2 "
          "--conf spark.sql.adaptive.enabled=false "
          # short-lived JVMs running ~230 tiny jobs: the C1 compiler only (C2 compiling hot
          # code on a 2-core machine cost more than it gave back: 200 -> 150 s for this run)
          f"--conf spark.driver.defaultJavaOptions={JIT} "
          f"--conf spark.executor.defaultJavaOptions={JIT} pyspark-shell")


def test_cli_on_a_standalone_cluster_prints_and_writes_the_embedded_engines_facts(
        standalone: str, tools: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    # small on purpose: every chunk is a Parquet write on the cluster; the chains of these 30
    # transactions still make a SuspiciousChain and a HighValueChain (checked below)
    generate(data, transactions=30, parties=30, typologies="layering=1,cycle=1", seed=3)
    args = ["reason"] + [x for r in RULES for x in ("--rules", str(r))]
    args += [x for p in PARAMS for x in ("--param", p)]
    args += [x for f in sorted(data.glob("*.nt")) for x in ("--data", str(f))]
    default = CliRunner().invoke(app, [*args, "--output", str(tmp_path / "embedded.nt")])
    assert default.exit_code == 0, default.output

    env = {**os.environ, "PYTHONPATH": str(REPO), "SPARK_LOCAL_IP": "127.0.0.1",
           "PYSPARK_SUBMIT_ARGS": SUBMIT,
           # every file parsed in Python tasks on the executors (new terms are typed on the
           # driver: typing them in tasks too, GC_SPARK_LOCAL_TERMS=0, costs ~6 jobs a rule)
           "GC_SPARK_LOCAL_BYTES": "0"}
    env.pop("SPARK_HOME", None)
    res = subprocess.run([sys.executable, "-m", "graphcrime", *args, "--engine", "spark",
                          "--spark-master", standalone, "--output",
                          str(tmp_path / "spark.nt.gz")],
                         env=env, cwd=tmp_path, capture_output=True, text=True, timeout=1800)
    assert res.returncode == 0, res.stdout + res.stderr[-4000:]
    assert tools.summary_lines(res.stdout) == tools.summary_lines(default.output)
    assert re.search(r"derived facts: [1-9]", res.stdout)
    assert "HighValueChain" in res.stdout  # the aggregate rule fired
    # the written files hold the same triples (parsed by pyoxigraph, not by us)
    spark_facts = tools.nt_file(tmp_path / "spark.nt.gz")
    assert spark_facts == tools.nt_file(tmp_path / "embedded.nt") and spark_facts
