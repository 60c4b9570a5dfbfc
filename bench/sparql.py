"""SPARQL speed: the reference queries and a few analytic ones on the engine's store (DuckDB
translation), against pyoxigraph answering the same query over the same triples.

    python bench/sparql.py --transactions 1000000 [--peer]

Generates data (cached under the temp dir), loads it, materialises the reference chain
rules, then times each query end to end (``run_query`` + writing the result file). With
``--peer``, every triple is also bulk-loaded into pyoxigraph and the same queries timed there
(load time printed separately). Prints one table; no assertions.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the top-level generator package, not bench/generator.py
P = ("PREFIX : <http://oxfordsemantic.tech/transactions/entities#> "
     "PREFIX prop: <http://oxfordsemantic.tech/transactions/properties#> "
     "PREFIX type: <http://oxfordsemantic.tech/transactions/classes#> ")
EXTRA = {
    "chains-per-length.csv": P + "SELECT ?l (COUNT(*) AS ?n) { ?c a type:SuspiciousChain ; "
                             "prop:hasLength ?l } GROUP BY ?l ORDER BY ?l",
    "top-amounts.csv": P + "SELECT ?t ?m { ?t prop:hasAmount ?m } ORDER BY DESC(?m) LIMIT 100",
    "small-amounts.csv": P + "SELECT (COUNT(*) AS ?n) { ?t prop:hasAmount ?m FILTER(?m < 100) }",
    "suspicious-senders.csv": P + "SELECT ?p (COUNT(?t) AS ?n) (SUM(?m) AS ?total) "
                              "{ ?p prop:isSuspicious true . ?t prop:hasOriginator ?p ; "
                              "prop:hasAmount ?m } GROUP BY ?p",
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--transactions", type=int, default=100_000)
    ap.add_argument("--peer", action="store_true", help="also time pyoxigraph")
    args = ap.parse_args()

    import graphcrime as gc
    from generator import generate
    from graphcrime.sparql import run_query

    data = Path(tempfile.gettempdir()) / f"gc-bench-sparql-{args.transactions}"
    if not (data / "manifest.json").exists():
        generate(data, transactions=args.transactions, seed=1, force=True)
    files = sorted(data.glob("*.nt"))
    out = Path(tempfile.mkdtemp())
    store = gc.Store()
    t = time.perf_counter()
    store.load(files)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    store.reason([ROOT / "rules" / f"{n}.dlog" for n in ("suspicious-chains", "high-value-chains")])
    reason_s = time.perf_counter() - t
    facts = len(store)
    print(f"{args.transactions} transactions, {facts} facts after reasoning "
          f"(load {load_s:.1f} s, reason {reason_s:.1f} s)")

    queries = {rq.stem + ".nt": rq.read_text() for rq in sorted((ROOT / "queries").glob("*.rq"))}
    queries.update(EXTRA)
    timings = {}
    for name, text in queries.items():
        t = time.perf_counter()
        res = run_query(store.facts, text)
        res.write(out / name)
        timings[name] = (res.engine, len(res), time.perf_counter() - t)

    peer = {}
    if args.peer:
        import pyoxigraph as ox

        dump = out / "all.nt"
        store.dump(dump)
        oxs = ox.Store()
        t = time.perf_counter()
        oxs.bulk_load(path=str(dump), format=ox.RdfFormat.N_TRIPLES)
        print(f"pyoxigraph bulk load of the same {facts} facts: {time.perf_counter() - t:.1f} s")
        for name, text in queries.items():
            t = time.perf_counter()
            r = oxs.query(text)
            n = sum(1 for _ in r) if not isinstance(r, ox.QueryBoolean) else 1
            peer[name] = (n, time.perf_counter() - t)

    print(f"{'query':28} {'engine':8} {'rows':>9} {'graphcrime s':>13} {'pyoxigraph s':>13} "
          f"{'ratio':>7}")
    for name, (engine, rows, secs) in timings.items():
        p = peer.get(name)
        ps = f"{p[1]:13.2f}" if p else f"{'-':>13}"
        ratio = f"{p[1] / secs:6.1f}x" if p and secs else f"{'-':>7}"
        print(f"{name:28} {engine:8} {rows:9d} {secs:13.2f} {ps} {ratio}")


if __name__ == "__main__":
    main()
