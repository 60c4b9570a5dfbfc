"""One local[2] SparkSession for every Spark test (starting one costs seconds)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

GOLDEN = Path(__file__).parent.parent / "engine" / "golden"
#: the JIT of the tests' short-lived JVMs: the C1 compiler only
JIT = "-XX:TieredStopAtLevel=1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/spark/" in str(item.fspath).replace("\\", "/"):
            # pyspark 4 warns about pandas >= 3 on import; py4j leaves sockets to the GC
            item.add_marker(pytest.mark.filterwarnings(
                "ignore:PySpark does not yet fully support pandas:FutureWarning"))
            item.add_marker(pytest.mark.filterwarnings("ignore::ResourceWarning"))
            item.add_marker(pytest.mark.filterwarnings(
                "ignore::pytest.PytestUnraisableExceptionWarning"))


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark")
    pytest.importorskip("sqlglot")
    if shutil.which("java") is None:
        pytest.skip("the Spark tests need Java 17 on PATH")
    from graphcrime.spark.session import get_session

    # tiny data: one shuffle partition, no adaptive re-planning, interpreted expressions
    # (compiling generated code costs more than it saves on a few hundred rows)
    session = get_session("local[2]", {"spark.sql.shuffle.partitions": "1",
                                      "spark.sql.adaptive.enabled": "false",
                                      "spark.sql.codegen.wholeStage": "false",
                                      "spark.sql.codegen.factoryMode": "NO_CODEGEN",
                                      # C1 only: the JVM lives a few minutes planning tiny
                                      # queries, and C2 compiling on 2 busy cores cost more
                                      # than it gave back (these tests: 139 -> 95 s)
                                      "spark.driver.defaultJavaOptions": JIT})
    yield session
    session.stop()


def nt_set(rows: Any) -> set[tuple[str, str, str]]:
    return {(r[0], r[1], r[2]) for r in rows}


def embedded_derived(data: list[Path], rules: list[Path], params: dict | None = None
                     ) -> set[tuple[str, str, str]]:
    """The embedded engine's derived triples as canonical nt strings."""
    from graphcrime.api import Store

    with Store() as st:
        st.load(data)
        st.reason(rules, params)
        return nt_set(st.con.execute(
            f"SELECT ts.nt, tp.nt, tn.nt FROM {st.derived_sql()} d JOIN terms ts ON ts.id = d.s "
            "JOIN terms tp ON tp.id = d.p JOIN terms tn ON tn.id = d.o").fetchall())


def spark_derived(spark: Any, data: list[Path], rules: list[Path], params: dict | None = None
                  ) -> tuple[set[tuple[str, str, str]], dict]:
    from graphcrime.spark.api import SparkStore

    with SparkStore(spark=spark) as st:
        st.load(data)
        summary = st.reason(rules, params)
        return nt_set(st.triples(derived_only=True).collect()), summary


def summary_lines(text: str) -> list[str]:
    """The ``graphcrime reason`` summary without timings, memory, rounds and strata (the
    embedded engine merges recursive strata, Spark evaluates them as stratified: same facts,
    other round counts), sorted (rows with equal counts may come in another order)."""
    import re

    return sorted(re.sub(r" in \d+ round\(s\), \d+ strata", "", line)
                  for line in text.splitlines()
                  if not line.startswith(("seconds:", "peak memory:", "wrote")))


def nt_file(path: Path) -> set[str]:
    """The triples of an N-Triples file (``.gz`` too) as parsed by pyoxigraph, not by us."""
    import gzip

    import pyoxigraph as ox

    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return {str(t) for t in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)}


class Tools:
    golden = GOLDEN
    nt_set = staticmethod(nt_set)
    summary_lines = staticmethod(summary_lines)
    nt_file = staticmethod(nt_file)
    embedded_derived = staticmethod(embedded_derived)
    spark_derived = staticmethod(spark_derived)


@pytest.fixture
def tools() -> type[Tools]:
    """The helpers above (test files import nothing from conftest)."""
    return Tools


@pytest.fixture
def rule_paths(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The path (driver, broadcast, shuffle) of every rule application Spark runs in the
    test, in order."""
    from graphcrime.spark import evaluate

    paths: list[str] = []
    original = evaluate.SparkEvaluator.run_rule

    def traced(self: Any, *args: Any) -> int:
        n = original(self, *args)
        paths.append(self.trace[-1]["path"])
        return n

    monkeypatch.setattr(evaluate.SparkEvaluator, "run_rule", traced)
    return paths


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def standalone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Spark standalone cluster on loopback: a master and two workers (1 core, 1200 MiB
    each) started from the pyspark distribution's ``spark-class``; yields the master URL
    and stops every process it started afterwards, also when a test fails.

    The workers run without the tests' PYTHONPATH, so executors import graphcrime only from
    what the driver ships (``graphcrime.spark.session.ship_package``) or an installed copy.
    """
    import os
    import signal
    import subprocess
    import time

    pyspark = pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("the Spark tests need Java 17 on PATH")
    home = Path(pyspark.__file__).parent
    root = tmp_path_factory.mktemp("standalone")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SPARK_HOME")}
    env.update(SPARK_HOME=str(home), SPARK_LOCAL_IP="127.0.0.1", SPARK_DAEMON_MEMORY="256m",
               SPARK_LOG_DIR=str(root), SPARK_WORKER_DIR=str(root / "work"),
               SPARK_NO_DAEMONIZE="1",
               SPARK_DAEMON_JAVA_OPTS=JIT)
    port, ui = _free_port(), _free_port()
    url = f"spark://127.0.0.1:{port}"
    klass = str(home / "bin" / "spark-class")
    procs: list[subprocess.Popen] = []

    def start(name: str, *args: str) -> None:
        log = open(root / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        procs.append(subprocess.Popen([klass, *args], env=env, cwd=root, stdout=log,
                                      stderr=subprocess.STDOUT, start_new_session=True))

    try:
        start("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
              "--port", str(port), "--webui-port", str(ui))
        for i in range(2):
            start(f"worker{i}", "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                  "--cores", "1", "--memory", "1200m", "--webui-port", str(_free_port()),
                  "--work-dir", str(root / f"work{i}"), url)
        deadline = time.monotonic() + 60
        while True:
            alive = _alive_workers(ui)
            if alive >= 2:
                break
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                logs = "\n".join((root / f).read_text(errors="replace")[-2000:]
                                 for f in ("master.log", "worker0.log", "worker1.log")
                                 if (root / f).exists())
                pytest.fail(f"the standalone cluster did not start ({alive} workers):\n{logs}")
            time.sleep(0.5)
        yield url
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def _alive_workers(ui: int) -> int:
    import json
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=2) as r:
            return int(json.load(r).get("aliveworkers", 0))
    except (OSError, ValueError):
        return 0
