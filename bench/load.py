"""Loading speed: graphcrime's load_ntriples vs pyoxigraph, on generated transaction data.

    python bench/load.py                 # 100k and 1M transactions
    python bench/load.py --sizes 100k    # just one size
    python bench/load.py --workers 1     # DuckDB threads for graphcrime

Data is generated once into bench/.cache/ (gitignored). Each measurement runs in its own
process, so peak RSS is that method's alone. Prints one table with ratios to graphcrime.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
CACHE = ROOT / ".cache"
SIZES = {"100k": 100_000, "1m": 1_000_000}


def dataset(size: str) -> list[Path]:
    out = CACHE / f"tx{size}"
    if not (out / "manifest.json").exists():
        sys.path.insert(0, str(ROOT.parent))
        from generator import generate

        generate(out, transactions=SIZES[size], seed=1, force=True)
    return sorted(out.glob("*.nt*"))


def _child(method: str, paths: list[str], workers: int | None) -> dict:
    """Runs inside the measuring process; returns seconds, triples and peak RSS."""
    import resource

    t0 = time.perf_counter()
    if method == "graphcrime":
        import duckdb

        from graphcrime.rdf import load_ntriples

        con = duckdb.connect()
        n = load_ntriples(con, paths, workers=workers)
    elif method == "pyoxigraph bulk_load":
        import pyoxigraph as ox

        store = ox.Store()
        for p in paths:
            store.bulk_load(path=p, format=ox.RdfFormat.N_TRIPLES)
        n = len(store)
    else:  # parse iteration: every triple as Python objects, nothing stored
        import pyoxigraph as ox

        n = sum(1 for p in paths for _ in ox.parse(path=p, format=ox.RdfFormat.N_TRIPLES))
    seconds = time.perf_counter() - t0
    use = resource.getrusage(resource.RUSAGE_SELF)
    return {"seconds": seconds, "triples": n, "rss": use.ru_maxrss * 1024,
            "cpu": use.ru_utime + use.ru_stime}


def measure(method: str, paths: list[Path], workers: int | None) -> dict:
    """Run one method in a fresh process (``--child``) and read its JSON line."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", method,
           "--workers", str(workers or 0), *map(str, paths)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT.parent)
    if out.returncode:
        raise SystemExit(f"{method} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100k,1m")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--methods", default="graphcrime,pyoxigraph bulk_load,pyoxigraph parse")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT.parent))
        print(json.dumps(_child(args.child, args.paths, args.workers or None)))
        return
    methods = [m.strip() for m in args.methods.split(",")]
    rows = []
    for size in args.sizes.split(","):
        paths = dataset(size)
        mb = sum(p.stat().st_size for p in paths) / 1e6
        base = None
        for method in methods:
            r = measure(method, paths, args.workers)
            base = base or r["seconds"]
            rows.append((size, f"{mb:,.0f}", method, r["seconds"], r["cpu"], r["triples"],
                         r["rss"], r["seconds"] / base))
    print(f"{'data':>5} {'MB':>6}  {'method':<22} {'seconds':>8} {'CPU s':>7} {'triples':>10} "
          f"{'triples/s':>10} {'peak RSS MB':>11} {'x graphcrime':>12}")
    for size, mb, method, sec, cpu, n, rss, ratio in rows:
        print(f"{size:>5} {mb:>6}  {method:<22} {sec:8.2f} {cpu:7.2f} {n:10,d} {n / sec:10,.0f} "
              f"{rss / 1e6:11,.0f} {ratio:12.2f}")
    print("seconds: wall clock of the load in a fresh process; CPU s: user+sys of that process "
          "(with interpreter start);\nother load on the machine shows as seconds > CPU s / cores")


if __name__ == "__main__":
    main()
