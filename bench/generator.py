"""Benchmark the data generator: transactions per second and peak memory, 1M and 10M transactions.

Each size runs in a fresh process (``python -m generator``) so that its peak RSS is its own; the
output folder is deleted afterwards. The published rdflib-based generator is the peer: DESIGN.md
measured 18 s and 650 MB for 100k transactions on this machine. ``--rdflib N`` re-measures an
rdflib-style generator (one Python object per triple, then serialise) on N transactions.

usage: python bench/generator.py [--sizes 1000000,10000000] [--workers W] [--gzip] [--rdflib 100000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PUBLISHED = {"n": 100_000, "seconds": 18.0, "peak_mb": 650.0, "out_mb": float("nan")}  # DESIGN.md


def run_generator(n: int, folder: Path, workers: int | None, gzip: bool) -> dict:
    """Generate ``n`` transactions in a child process; seconds, peak RSS, output size."""
    cmd = [sys.executable, "-m", "generator", str(folder), "-n", str(n), "--seed", "1"]
    cmd += ["--gzip"] if gzip else []
    cmd += ["--workers", str(workers)] if workers else []
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    err = proc.stderr.read().decode() if proc.stderr else ""
    if status != 0:
        raise SystemExit(f"generator failed for n={n}: {err}")
    size = sum(p.stat().st_size for p in folder.iterdir())
    return {"n": n, "seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "out_mb": size / 1e6}


def rdflib_style(n: int, folder: Path) -> dict:
    """The published approach: build an rdflib Graph triple by triple, then serialise it."""
    code = f"""
import random, resource, uuid, datetime as dt
from decimal import Decimal
from rdflib import Graph, Literal, Namespace, RDF, RDFS, XSD
E = Namespace("http://oxfordsemantic.tech/transactions/entities#")
P = Namespace("http://oxfordsemantic.tech/transactions/properties#")
T = Namespace("http://oxfordsemantic.tech/transactions/classes#")
g = Graph(); n = {n}; m = max(2, n // 10); random.seed(1)
parties = [E["party_" + uuid.uuid4().hex] for _ in range(m)]
for i, p in enumerate(parties):
    g.add((p, RDF.type, T.Party)); g.add((p, P.isSuspicious, Literal(i < m // 1000)))
    g.add((p, P.isInternal, Literal(random.random() < .5)))
    g.add((p, P.isExited, Literal(False)))
    name = Literal("Name %d" % i)
    g.add((p, P.hasFullName, name)); g.add((p, RDFS.label, name))
end = dt.datetime(2021, 7, 30)
for _ in range(n):
    t = E["transaction_" + uuid.uuid4().hex]; o, b = random.sample(parties, 2)
    g.add((t, RDF.type, T.Transaction)); g.add((t, P.hasOriginator, o))
    g.add((t, P.hasBeneficiary, b))
    amt = 1000 * random.randint(1, 10000) * random.choice((1, 10, 100))
    g.add((t, P.hasAmount, Literal(Decimal(amt))))
    d = end - dt.timedelta(seconds=random.randrange(3 * 86400))
    g.add((t, P.hasDate, Literal(d, datatype=XSD.dateTime)))
g.serialize(r"{folder / "data.nt"}", format="nt", encoding="utf-8")
"""
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code])
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit("rdflib-style baseline failed")
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in folder.iterdir())
    return {"n": n, "seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "out_mb": size / 1e6}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000,10000000", help="comma-separated counts")
    ap.add_argument("--workers", type=int, default=None, help="rendering threads")
    ap.add_argument("--gzip", action="store_true")
    ap.add_argument("--rdflib", type=int, default=0, help="also time an rdflib-style peer")
    ap.add_argument("--dir", default=None, help="scratch folder (default: system temp)")
    a = ap.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="gen-bench-", dir=a.dir))
    rows = []
    try:
        if a.rdflib:
            rows.append(("rdflib-style (measured)", rdflib_style(a.rdflib, scratch / "rdflib")))
        else:
            rows.append(("published rdflib (DESIGN.md)", PUBLISHED))
        peer_rate = rows[0][1]["n"] / rows[0][1]["seconds"]
        for n in (int(s) for s in a.sizes.split(",")):
            folder = scratch / f"n{n}"
            rows.append(("graphcrime generate", run_generator(n, folder, a.workers, a.gzip)))
            shutil.rmtree(folder)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(
        f"{'generator':30} {'transactions':>13} {'seconds':>8} {'tx/s':>10} "
        f"{'peak RSS MB':>12} {'output MB':>10} {'x peer':>7}"
    )
    for name, r in rows:
        n = r["n"]
        rate = n / r["seconds"]
        out_mb = "-" if r["out_mb"] != r["out_mb"] else f"{r['out_mb']:,.0f}"  # NaN: not measured
        print(
            f"{name:30} {n:>13,} {r['seconds']:>8.1f} {rate:>10,.0f} {r['peak_mb']:>12,.0f} "
            f"{out_mb:>10} {rate / peer_rate:>7.1f}"
        )
    print(f"(cpus: {os.cpu_count()}, gzip: {a.gzip}, workers: {a.workers or 'default'})")


if __name__ == "__main__":
    main()
