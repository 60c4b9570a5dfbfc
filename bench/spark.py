"""Spark backend vs the embedded engine on the reference workload (local mode).

    python bench/spark.py --transactions 100000 1000000 [--master local[2]] \
        [--max-chain-length 30]

For each size: generates data (parties = transactions / 2, every typology planted), runs both
reference rule sets on the embedded engine and on Spark, checks that the derived counts agree
and prints two tables: the stage times side by side with the Spark / embedded ratio, and
Spark's per-round figures (rule evaluations, where they ran: on the driver, on broadcast or on
shuffle joins; new facts, seconds, shuffle bytes read and written from Spark's status API),
which docs/scale-out.md scales up to 500M transactions. The local session's driver memory is
``GC_SPARK_MEMORY`` (default 2g; the 100k run needs 8g).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# the top-level generator package, not bench/generator.py; and bench/profile.py must not
# shadow the standard library's profile module (pyspark imports cProfile)
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
RULES = [REPO / "rules" / "suspicious-chains.dlog", REPO / "rules" / "high-value-chains.dlog"]


def _shuffle_bytes(spark: object) -> tuple[int, int]:
    """Total shuffle bytes read and written so far, from Spark's REST API (0 if off)."""
    sc = spark.sparkContext  # type: ignore[attr-defined]
    url = sc.uiWebUrl
    if not url:
        return 0, 0
    try:
        with urllib.request.urlopen(f"{url}/api/v1/applications/{sc.applicationId}/stages",
                                    timeout=10) as r:
            stages = json.load(r)
    except OSError:
        return 0, 0
    return (sum(s.get("shuffleReadBytes", 0) for s in stages),
            sum(s.get("shuffleWriteBytes", 0) for s in stages))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--transactions", type=int, nargs="+", default=[100_000])
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--max-chain-length", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", help="use this data folder instead of generating one (one size)")
    ap.add_argument("--trace", help="write Spark's per-rule trace (JSON lines) to this file")
    args = ap.parse_args()
    for n in args.transactions:
        run(args, n)


def run(args: argparse.Namespace, transactions: int) -> None:
    """One size: both engines, the two tables."""
    from generator import generate
    from graphcrime.api import Store
    from graphcrime.spark.api import SparkStore
    from graphcrime.spark.evaluate import SparkEvaluator

    params = {"max_chain_length": args.max_chain_length}
    tmp = Path(tempfile.mkdtemp(prefix="gc-bench-spark-"))
    data = Path(args.data) if args.data else tmp / "data"
    if not args.data:
        generate(data, transactions=transactions, parties=max(transactions // 2, 50),
                 seed=args.seed, typologies="all")
    files = sorted(data.glob("*.nt*"))
    size = sum(f.stat().st_size for f in files)

    rows: dict[str, dict[str, float]] = {}
    t = time.perf_counter()
    with Store() as st:
        load = st.load(files)
        done = st.reason(RULES, params)
        rows["embedded"] = {"load": load["seconds"], "reason": done["seconds"],
                            "input": load["triples"], "derived": done["derived_facts"],
                            "rounds": done["rounds"]}
    rows["embedded"]["total"] = time.perf_counter() - t

    # per-round trace: wrap the evaluator's rule runs
    trace: list[dict] = []
    original = SparkEvaluator.run_rule

    def traced(self: SparkEvaluator, rule: object, variants: list, joined: tuple = ()) -> int:
        before = _shuffle_bytes(self.spark)
        n = original(self, rule, variants, joined)  # type: ignore[arg-type]
        after = _shuffle_bytes(self.spark)
        entry = dict(self.trace[-1])
        entry["shuffle_read"] = after[0] - before[0]
        entry["shuffle_write"] = after[1] - before[1]
        trace.append(entry)
        if log is not None:  # as it goes: a run stopped early keeps its rounds
            log.write(json.dumps(entry) + "\n")
            log.flush()
        return n

    log = open(args.trace, "w") if args.trace else None  # noqa: SIM115
    SparkEvaluator.run_rule = traced  # type: ignore[method-assign]
    t = time.perf_counter()
    def progress(stage: str, n: int) -> None:
        print(f"  spark {stage}: {n:,} derived after {time.perf_counter() - t:.0f} s",
              file=sys.stderr, flush=True)

    with SparkStore(master=args.master, conf={"spark.ui.enabled": "true"},
                    progress=progress) as sp:
        t_session = time.perf_counter() - t
        load = sp.load(files)
        done = sp.reason(RULES, params)
        rows["spark"] = {"load": load["seconds"], "reason": done["seconds"],
                         "input": load["triples"], "derived": done["derived_facts"],
                         "rounds": done["rounds"]}
    SparkEvaluator.run_rule = original  # type: ignore[method-assign]
    rows["spark"]["total"] = time.perf_counter() - t - t_session

    print(f"\n{transactions:,} transactions, {size / 2**20:.1f} MiB N-Triples, "
          f"max_chain_length {args.max_chain_length}, Spark {args.master} "
          f"(session start {t_session:.1f} s, not counted)\n")
    print("| engine | input facts | derived facts | rounds | load s | reason s | total s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in rows.items():
        print(f"| {name} | {r['input']:,} | {r['derived']:,} | {r['rounds']} | "
              f"{r['load']:.1f} | {r['reason']:.1f} | {r['total']:.1f} |")
    e, sp = rows["embedded"], rows["spark"]
    print(f"| Spark / embedded | | | | {sp['load'] / max(e['load'], 1e-9):.0f}x | "
          f"{sp['reason'] / max(e['reason'], 1e-9):.0f}x | "
          f"{sp['total'] / max(e['total'], 1e-9):.0f}x |")
    same = rows["embedded"]["derived"] == rows["spark"]["derived"]
    print(f"\nderived counts agree: {same}\n")
    if log is not None:
        log.close()
    print("| round | rule evaluations | path | new facts | seconds | shuffle read MiB | "
          "shuffle write MiB | driver steps s: gather/terms/body/intern/insert (compaction) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---|")
    by_round: dict[int, dict[str, float]] = {}
    steps = ("gather", "terms", "body", "intern", "insert")
    for e in trace:
        r = by_round.setdefault(e["round"], {"n": 0, "paths": {}, "new": 0, "s": 0.0, "rd": 0,
                                             "wr": 0, "c": 0.0, **{k: 0.0 for k in steps}})
        r["c"] += e.get("compact", 0.0)
        for k, v in e.get("phases", {}).items():
            r[k if k in steps else "terms"] += v
        r["n"] += 1
        r["paths"][e["path"]] = r["paths"].get(e["path"], 0) + 1
        r["new"] += e["new"]
        r["s"] += e["seconds"]
        r["rd"] += e["shuffle_read"]
        r["wr"] += e["shuffle_write"]
    for k, r in sorted(by_round.items()):
        paths = ", ".join(p if n == 1 else f"{n}x {p}" for p, n in sorted(r["paths"].items()))
        print(f"| {k} | {r['n']} | {paths} | {r['new']:,} | {r['s']:.1f} | "
              f"{r['rd'] / 2**20:.1f} | "
              f"{r['wr'] / 2**20:.1f} | "
              + "/".join(f"{r[k]:.1f}" for k in steps) + f" ({r['c']:.1f}) |")


if __name__ == "__main__":
    main()
