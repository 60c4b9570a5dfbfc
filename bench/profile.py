"""Per-statement profile of the reference workload (Store path, one process).

    python bench/profile.py --size 1m [--top 40] [--memory 4Gi]

Every statement the store's DuckDB connection runs is timed (wall seconds of ``execute``,
which runs the statement to the end); statements are grouped by their text with numbers
blanked, and the groups printed by total time per stage (load, reason, query). Profiling
adds a little Python per statement, so stage totals run slightly above the benchmark's.
"""

from __future__ import annotations

import argparse
import re
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference  # noqa: E402

STATS: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
LAST: dict[tuple[str, str], str] = {}  # the last full text of each group
STAGE = ["setup"]
EXPLAIN: list[Any] = [None, 0]  # a statement text to analyse, and at which occurrence
_NUM = re.compile(r"\b\d+\b")


class _Timed:
    """A DuckDB connection whose ``execute`` is timed per statement group."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def execute(self, sql: str, *args: Any, **kw: Any) -> Any:
        if EXPLAIN[0] and EXPLAIN[0] in sql and sql.startswith(("CREATE", "INSERT")):
            EXPLAIN[1] -= 1
            if EXPLAIN[1] == 0:  # the query part of the statement, analysed (it runs twice)
                query = (sql.split(" AS ", 1)[1] if sql.startswith("CREATE")
                         else sql[sql.index(" SELECT ") + 1:])
                plan = self._con.execute("EXPLAIN ANALYZE " + query).fetchall()
                print(plan[0][1], file=sys.stderr)
        t, c = time.perf_counter(), time.process_time()
        out = self._con.execute(sql, *args, **kw)
        key = (STAGE[0], _NUM.sub("N", " ".join(sql.split()))[:160])
        s = STATS[key]
        s[0] += 1
        s[1] += time.perf_counter() - t
        s[2] += time.process_time() - c
        LAST[key] = sql
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="1m")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--show", type=int, default=0, help="print the full SQL of the top N")
    ap.add_argument("--explain", nargs=2, metavar=("TEXT", "NTH"),
                    help="print EXPLAIN ANALYZE of the NTH CREATE/INSERT statement with TEXT")
    ap.add_argument("--memory", default=None, help="the store's memory budget (e.g. 4Gi)")
    args = ap.parse_args()
    if args.explain:
        EXPLAIN[:] = [args.explain[0], int(args.explain[1])]
    paths = reference.dataset(args.size)
    real = duckdb.connect
    duckdb.connect = lambda *a, **k: _Timed(real(*a, **k))  # type: ignore[assignment]
    import graphcrime as gc

    store = gc.Store(memory_limit=args.memory) if args.memory else gc.Store()
    secs, cpu, rss = {}, {}, {}
    for stage, fn in (("load", lambda: store.load([str(p) for p in paths])),
                      ("reason", lambda: store.reason([str(r) for r in reference.RULES],
                                                      params=reference.PARAMS)),
                      ("query", lambda: [store.query(q.read_text(encoding="utf-8")).write(
                          Path(tempfile.mkdtemp()) / (q.stem + ".nt"))
                          for q in reference.QUERIES])):
        STAGE[0] = stage
        t, c = time.perf_counter(), time.process_time()
        fn()
        secs[stage] = time.perf_counter() - t
        cpu[stage] = time.process_time() - c
        rss[stage] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("wall", {k: round(v, 2) for k, v in secs.items()})
    print("cpu ", {k: round(v, 2) for k, v in cpu.items()})
    print("peak RSS MB after", {k: round(v) for k, v in rss.items()})
    for stage in secs:
        rows = sorted(((v[1], v[2], v[0], k[1]) for k, v in STATS.items() if k[0] == stage),
                      reverse=True)
        total = sum(r[0] for r in rows)
        print(f"\n== {stage}: {secs[stage]:.2f} s wall ({cpu[stage]:.2f} CPU), {total:.2f} s in "
              f"{sum(r[2] for r in rows)} statements (wall, CPU s, count, statement)")
        for t, c, n, sql in rows[:args.top]:
            print(f"{t:7.2f} {c:7.2f} {n:5d}  {sql}")
        for _, _, _, sql in rows[:args.show]:
            print("\n" + LAST[(stage, sql)])


if __name__ == "__main__":
    main()
