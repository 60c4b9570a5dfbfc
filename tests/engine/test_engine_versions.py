"""Table versions: the SQL row conditions and the round intervals must pick the same rows."""

import duckdb
import pytest

from graphcrime.engine.plan import UPDATE_ROUNDS, VERSION_ROUNDS, VERSIONS, Context


@pytest.mark.parametrize("version", sorted(VERSIONS))
@pytest.mark.parametrize(("k", "s"), [(1, 1), (2, 1), (5, 3), (9, 9), (12, 4)])
def test_version_rounds_pick_the_rows_of_the_sql_condition(version: str, k: int, s: int):
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT range AS r FROM range(15)")
    # an update's versions (since/before) count from its first round, here s - 1
    ctx = Context(None, None, None, None, round=k, first=s, since=s - 1)  # type: ignore[arg-type]
    cond = ctx.version_sql(version) or "true"
    by_sql = {r for (r,) in con.execute(f"SELECT r FROM t WHERE {cond}").fetchall()}
    rounds = ctx.version_rounds(version)
    if version == "all":
        assert rounds is None and by_sql == set(range(15))
    else:
        a, b = rounds
        assert by_sql == set(range(a, b))
        assert version in VERSION_ROUNDS or version in UPDATE_ROUNDS
