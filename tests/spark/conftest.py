"""One local[2] SparkSession for every Spark test (starting one costs seconds)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

GOLDEN = Path(__file__).parent.parent / "engine" / "golden"


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
                                      "spark.sql.codegen.factoryMode": "NO_CODEGEN"})
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


class Tools:
    golden = GOLDEN
    nt_set = staticmethod(nt_set)
    embedded_derived = staticmethod(embedded_derived)
    spark_derived = staticmethod(spark_derived)


@pytest.fixture
def tools() -> type[Tools]:
    """The helpers above (test files import nothing from conftest)."""
    return Tools
