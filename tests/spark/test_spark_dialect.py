"""The plan layer's SQL in Spark: joins keep their equality keys (no cartesian products)."""

from __future__ import annotations

from typing import Any

import duckdb

from graphcrime.spark.dialect import to_spark

# a body like the chain extension's: two atoms joined on s, each object's typed value looked
# up in terms and compared with "<"; the lookups come first in FROM on purpose
SQL = ("SELECT a1.s AS x, v1.num AS lo, v2.num AS hi FROM terms AS v2, terms AS v1, p_1 AS a1, "
       "(SELECT * FROM p_2 WHERE r = 0) AS a2 WHERE a1.s = a2.s AND v1.id = a1.o "
       "AND v2.id = a2.o AND v1.num < v2.num")
P1 = [(1, 10, 0), (2, 11, 0), (3, 12, 0)]
P2 = [(1, 11, 0), (2, 10, 0), (3, 12, 0), (3, 10, 1)]
TERMS = [(10, 5.0), (11, 7.0), (12, 9.0)]


def test_each_from_item_is_tied_to_an_earlier_one_by_an_equality() -> None:
    out = to_spark(SQL)
    # v2 first (as written), then a2 (v2.id = a2.o), a1 (a1.s = a2.s), v1 (v1.id = a1.o)
    assert [out.index(f"AS {a}") for a in ("v2", "a2", "a1", "v1")] == \
        sorted(out.index(f"AS {a}") for a in ("v2", "a2", "a1", "v1"))


def test_spark_plan_has_no_cartesian_product_and_duckdb_answers(spark: Any) -> None:
    for name, rows, ddl in (("p_1", P1, "s LONG, o LONG, r INT"),
                            ("p_2", P2, "s LONG, o LONG, r INT"),
                            ("terms", TERMS, "id LONG, num DOUBLE")):
        spark.createDataFrame(rows, ddl).createOrReplaceTempView(name)
    df = spark.sql(to_spark(SQL))
    plan = df._jdf.queryExecution().executedPlan().toString()
    assert "CartesianProduct" not in plan and "NestedLoopJoin" not in plan, plan
    con = duckdb.connect()
    con.execute("CREATE TABLE p_1 (s BIGINT, o BIGINT, r INT); CREATE TABLE p_2 (s BIGINT, "
                "o BIGINT, r INT); CREATE TABLE terms (id BIGINT, num DOUBLE)")
    con.executemany("INSERT INTO p_1 VALUES (?, ?, ?)", P1)
    con.executemany("INSERT INTO p_2 VALUES (?, ?, ?)", P2)
    con.executemany("INSERT INTO terms VALUES (?, ?)", TERMS)
    want = sorted(con.execute(SQL).fetchall())
    assert sorted(tuple(r) for r in df.collect()) == want == [(1, 5.0, 7.0)]
