"""The reference workload end to end: graphcrime (Store) vs the Nemo rule engine.

    python bench/reference.py                      # 1M transactions, 3 runs each
    python bench/reference.py --size 100k --repeat 1
    python bench/reference.py --size 1m --timeout 300
    python bench/reference.py --path run,store --renamed      # the job path and renamed IRIs too

Data (N transactions, N/10 parties, 0.1% suspicious, 3 days, mixed amounts, seed 1) is
generated once into bench/.cache/<size>/ (gitignored) and reused. The two engines then run
alternately, ``--repeat`` times each, every run in a fresh process whose peak RSS is read
with ``os.wait4`` (the child's own ru_maxrss). graphcrime: load, reason with both reference
rule sets (min_amount 100, max_chain_length 30), run both reference queries, write their
results to files; each stage timed. Nemo: ``../shared/peers/nemo/run.py`` (the same chain
rules in Nemo's language; it loads and reasons in one step and prints JSON). Prints one table
of medians, the chain counts of both side by side, and the graphcrime/Nemo ratios.

``--path run`` times the path users take instead: ``graphcrime run`` of a spec as in
``jobs/reference.json`` (its ``resources`` included) as one process, counts read from the job
folder. ``--renamed`` adds a row for a copy of the rules, queries and data in which every
IRI of the vocabulary is changed (namespaces, property and class names, entity prefixes,
the minted chain IRIs): nothing in the engine may be keyed to names, so it must run at the
same speed with the same counts.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
CACHE = ROOT / ".cache"
NEMO = REPO.parent / "shared" / "peers" / "nemo" / "run.py"
SIZES = {"100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}
PARAMS = {"min_amount": 100, "max_chain_length": 30}
RULES = [REPO / "rules" / "suspicious-chains.dlog", REPO / "rules" / "high-value-chains.dlog"]
QUERIES = [REPO / "queries" / "suspicious-chains.rq", REPO / "queries" / "high-value-chains.rq"]
CLASSES = "http://oxfordsemantic.tech/transactions/classes#"
STAGES = ("load", "reason", "query", "write")


def dataset(size: str) -> list[Path]:
    """The reference data for ``size`` (generated on first use)."""
    out = CACHE / size
    if not (out / "manifest.json").exists():
        sys.path.insert(0, str(REPO))
        from generator import generate

        n = SIZES[size]
        t0 = time.perf_counter()
        generate(out, transactions=n, parties=n // 10, suspicious_fraction=0.001, days=3,
                 amounts="mixed", seed=1, force=True)
        print(f"generated {size} into {out} in {time.perf_counter() - t0:.1f} s", flush=True)
    return sorted(p for p in out.glob("*.nt*") if p.is_file())


def single_file(paths: list[Path]) -> Path:
    """The data as one N-Triples file (the Nemo peer imports one resource); cached."""
    if len(paths) == 1:
        return paths[0]
    one = paths[0].parent.with_name(paths[0].parent.name + "-one.nt")
    if not one.exists():
        tmp = one.with_suffix(".tmp")
        with tmp.open("wb") as out:
            for p in paths:
                with p.open("rb") as f:
                    while chunk := f.read(1 << 24):
                        out.write(chunk)
        tmp.rename(one)
    return one


def class_iri(name: str, renamed: bool) -> str:
    """The IRI of a reference class, in the renamed vocabulary when ``renamed``."""
    from renamed import rename_iri_text

    return rename_iri_text(CLASSES + name + ">")[:-1] if renamed else CLASSES + name


def graphcrime_child(paths: list[str], out_dir: str, rules: list[Path] = RULES,
                     queries: list[Path] = QUERIES, renamed: bool = False) -> dict[str, Any]:
    """One graphcrime run (inside the measured process): stage seconds, facts, chain counts."""
    import graphcrime as gc
    from graphcrime.runner.outputs import result_suffix

    secs = dict.fromkeys(STAGES, 0.0)
    store = gc.Store()
    t = time.perf_counter()
    store.load(paths)
    secs["load"] = time.perf_counter() - t
    t = time.perf_counter()
    store.reason([str(r) for r in rules], params=PARAMS)
    secs["reason"] = time.perf_counter() - t
    rows = {}
    for q in queries:
        t = time.perf_counter()
        result = store.query(q.read_text(encoding="utf-8"))
        secs["query"] += time.perf_counter() - t
        t = time.perf_counter()
        path = Path(out_dir) / (q.stem + result_suffix(result))
        result.write(path)
        secs["write"] += time.perf_counter() - t
        rows[q.stem] = path.stat().st_size
    classes = store.derived_counts()["classes"]
    facts = store.stats()["facts"]
    store.close()
    return {"seconds": secs, "facts": facts, "result_bytes": rows,
            "partial_chains": classes.get(class_iri("PartialChain", renamed), 0),
            "suspicious_chains": classes.get(class_iri("SuspiciousChain", renamed), 0),
            "high_value_chains": classes.get(class_iri("HighValueChain", renamed), 0)}


def run_child(cmd: list[str], timeout: float, json_out: bool = True) -> dict[str, Any]:
    """Run ``cmd`` in a new process group; its last stdout line (JSON), wall time and peak RSS.

    Returns ``{"timeout": True}`` if it ran past ``timeout`` seconds (the group is killed).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=REPO, start_new_session=True)
        fired = threading.Event()

        def kill() -> None:
            fired.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        if fired.is_set():
            return {"timeout": True, "wall": wall}
        out.seek(0)
        err.seek(0)
        if proc.returncode:
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n"
                             f"{err.read().decode(errors='replace')[-4000:]}")
        doc = json.loads(out.read().decode().strip().splitlines()[-1]) if json_out else {}
    maxrss = usage.ru_maxrss if sys.platform == "darwin" else usage.ru_maxrss * 1024
    doc.update(wall=wall, rss=maxrss, cpu=usage.ru_utime + usage.ru_stime)
    return doc


def measure_graphcrime(paths: list[Path], timeout: float, renamed: bool = False
                       ) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gc-bench-") as tmp:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", tmp,
               *(["--renamed"] if renamed else []), *map(str, paths)]
        return run_child(cmd, timeout)


def run_spec(paths: list[Path], rules: list[Path], queries: list[Path]) -> Path:
    """A job spec as in jobs/reference.json over ``paths``, in bench/.cache (the served root)."""
    spec = json.loads((REPO / "jobs" / "reference.json").read_text())
    folder = CACHE / "jobs"
    folder.mkdir(parents=True, exist_ok=True)
    rel = [os.path.relpath(p, folder) for p in paths]
    name = "-".join(p.name for p in paths[0].parents[:2] if p.name != "data")
    for kind, files in (("rules", rules), ("queries", queries)):
        copies = []
        for f in files:  # copies inside the served root (the repository's are outside it)
            (CACHE / kind).mkdir(exist_ok=True)
            target = CACHE / kind / f.name
            target.write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
            copies.append(os.path.relpath(target, folder))
        spec[kind] = copies
    spec.update(name=name, data=rel, parameters=PARAMS)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(spec, indent=1))
    return path


def chain_counts(job: Path, renamed: bool) -> dict[str, int]:
    """SuspiciousChain/HighValueChain counts from a job folder's result files."""
    rdf_type = b"<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    out = {}
    for key, name in (("suspicious_chains", "SuspiciousChain"),
                      ("high_value_chains", "HighValueChain")):
        needle = b" " + rdf_type + b" <" + class_iri(name, renamed).encode() + b"> ."
        lines: set[bytes] = set()  # distinct: both queries' answers state SuspiciousChain
        for f in (job / "results").glob("*.nt"):
            lines.update(line for line in f.read_bytes().splitlines() if line.endswith(needle))
        out[key] = len(lines)
    return out


def measure_run(paths: list[Path], timeout: float, renamed: bool = False,
                rules: list[Path] = RULES, queries: list[Path] = QUERIES) -> dict[str, Any]:
    """``graphcrime run`` of a reference spec as one measured process."""
    spec = run_spec(paths, rules, queries)
    with tempfile.TemporaryDirectory(prefix="gc-bench-run-") as tmp:
        cmd = [sys.executable, "-m", "graphcrime", "run", str(spec), "--serve-root", str(CACHE),
               "--output-root", tmp]
        doc = run_child(cmd, timeout, json_out=False)
        if doc.get("timeout"):
            return doc
        (job,) = Path(tmp).iterdir()
        stats = json.loads((job / "stats.json").read_text())
        secs = stats["seconds"]
        doc["seconds"] = {s: secs.get(s, 0.0) for s in ("load", "reason", "query")}
        doc["seconds"]["write"] = max(0.0, secs["total"] - sum(doc["seconds"].values()))
        doc.update(chain_counts(job, renamed), facts=stats["store"]["facts"],
                   partial_chains=None)
        return doc


def measure_nemo(paths: list[Path], timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, str(NEMO), str(single_file(paths)),
           "--max-length", str(PARAMS["max_chain_length"]),
           "--threshold", str(PARAMS["min_amount"])]
    doc = run_child(cmd, timeout)
    if not doc.get("timeout"):
        doc["seconds"] = {"reason": doc["seconds"]}  # Nemo imports the data while reasoning
    return doc


def summarise(runs: list[dict[str, Any]], timeout: float) -> dict[str, Any]:
    """Medians over finished runs; ``None`` entries mark a timeout."""
    done = [r for r in runs if not r.get("timeout")]
    if not done:
        return {"timeout": timeout, "runs": len(runs)}
    med = statistics.median
    stages = {s: med(r["seconds"][s] for r in done) for s in STAGES if s in done[0]["seconds"]}
    out = {"stages": stages, "total": med(sum(r["seconds"].values()) for r in done),
           "wall": med(r["wall"] for r in done), "cpu": med(r["cpu"] for r in done),
           "rss": med(r["rss"] for r in done), "facts": done[0].get("facts"),
           "runs": len(done), "timeouts": len(runs) - len(done)}
    for k in ("partial_chains", "suspicious_chains", "high_value_chains"):
        values = {r[k] for r in done}
        out[k] = values.pop() if len(values) == 1 else f"varies {sorted(values)}"
    return out


def fmt(x: Any, spec: str = ".2f") -> str:
    return "-" if x is None else format(x, spec) if isinstance(x, int | float) else str(x)


def table(size: str, triples: int, res: dict[str, dict[str, Any]]) -> str:
    counts = ", ".join(f"{k} {v.get('runs', 0)}" for k, v in res.items())
    lines = [f"reference workload {size}: {triples:,d} input triples; medians of run(s): {counts}",
             f"{'engine':<11} {'load':>7} {'reason':>8} {'query':>7} {'write':>7} {'total':>8} "
             f"{'process':>8} {'CPU s':>8} {'peak RSS MB':>11} {'facts':>12} {'B/fact':>7} "
             f"{'Partial':>10} {'Suspicious':>10} {'HighValue':>9}"]
    for name, r in res.items():
        if "timeout" in r:
            lines.append(f"{name:<11} did not finish in {r['timeout']:.0f} s")
            continue
        st = r["stages"]
        facts = r["facts"]
        lines.append(
            f"{name:<11} {fmt(st.get('load')):>7} {fmt(st.get('reason')):>8} "
            f"{fmt(st.get('query')):>7} {fmt(st.get('write')):>7} {fmt(r['total']):>8} "
            f"{fmt(r['wall']):>8} {fmt(r['cpu']):>8} {r['rss'] / 1e6:11,.0f} "
            f"{fmt(facts, ',d'):>12} {fmt(r['rss'] / facts if facts else None, '.0f'):>7} "
            f"{fmt(r['partial_chains'], ',d'):>10} {fmt(r['suspicious_chains'], ',d'):>10} "
            f"{fmt(r['high_value_chains'], ',d'):>9}")
    n = res.get("nemo", {})
    for name, g in res.items():
        if name == "nemo" or "total" not in g or "total" not in n:
            continue
        agree = all(g[k] in (None, n[k]) for k in ("partial_chains", "suspicious_chains",
                                                   "high_value_chains"))
        lines.append(f"{name[:5] + '/nemo':<11} {'':>7} {'':>8} {'':>7} {'':>7} "
                     f"{g['total'] / n['total']:8.2f} {g['wall'] / n['wall']:8.2f} "
                     f"{g['cpu'] / n['cpu']:8.2f} {g['rss'] / n['rss']:11.2f} "
                     f"{'':>12} {'':>7} chain counts {'agree' if agree else 'DISAGREE'}")
    lines.append("stages in seconds (Nemo imports the file while reasoning: its load is in "
                 "reason; no queries/writes);\nprocess: wall clock of the child incl. "
                 "interpreter start and imports; CPU s: its user+sys; peak RSS: the child's "
                 "ru_maxrss;\nfacts: triples stored after reasoning (graphcrime); B/fact: "
                 "peak RSS / facts;\nrows: store = the Store API in one process; "
                 "run = `graphcrime run` of a spec as in jobs/ (its write column is the\n"
                 "rest of the job: results, stats, folder); -renamed = the same work with "
                 "every IRI renamed; a ratio row "
                 "compares the row named first with Nemo (- = a count the path does not see)")
    return "\n".join(lines)


def renamed_workload(size: str) -> tuple[list[Path], list[Path], list[Path]]:
    """The renamed copy of ``size``'s data, rules and queries (made once, in bench/.cache)."""
    sys.path.insert(0, str(ROOT))
    from renamed import renamed_copy

    return renamed_copy(dataset(size), RULES, QUERIES, CACHE / f"{size}-renamed")


def rows(args: argparse.Namespace, paths: list[Path]) -> dict[str, Any]:
    """The table's rows: name -> a function of the timeout that measures one run."""
    out: dict[str, Any] = {}
    chosen = [p.strip() for p in args.path.split(",")]
    if unknown := set(chosen) - {"store", "run"}:
        raise SystemExit(f"--path: unknown {sorted(unknown)} (store, run)")
    engines = [e.strip() for e in args.engines.split(",")]
    renamed = renamed_workload(args.size) if args.renamed and "graphcrime" in engines else None
    for e in engines:
        if e == "nemo":
            out["nemo"] = lambda t: measure_nemo(paths, t)
            continue
        if "store" in chosen:
            out["graphcrime"] = lambda t: measure_graphcrime(paths, t)
        if "run" in chosen:
            out["gc run"] = lambda t: measure_run(paths, t)
        if renamed and "store" in chosen:
            out["store-renamed"] = lambda t: measure_graphcrime(renamed[0], t, renamed=True)
        if renamed and "run" in chosen:
            out["run-renamed"] = lambda t: measure_run(renamed[0], t, True, *renamed[1:])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="1m")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=1800,
                    help="seconds per run before it is killed (default 1800)")
    ap.add_argument("--engines", default="graphcrime,nemo")
    ap.add_argument("--path", default="store",
                    help="graphcrime paths to time: store, run or store,run (default store)")
    ap.add_argument("--renamed", action="store_true",
                    help="also time a copy of the workload with every IRI renamed")
    ap.add_argument("--json", help="also write the medians as JSON here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        sys.path.insert(0, str(REPO))
        rules, queries = RULES, QUERIES
        if args.renamed:  # the renamed data's folder sits beside its rules and queries
            base = Path(args.paths[0]).parent.parent
            rules = [base / "rules" / ("renamed-" + r.name) for r in RULES]
            queries = [base / "queries" / ("renamed-" + q.name) for q in QUERIES]
        print(json.dumps(graphcrime_child(args.paths, args.child, rules, queries,
                                          args.renamed)))
        return
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    paths = dataset(args.size)
    manifest = json.loads((CACHE / args.size / "manifest.json").read_text())
    triples = int(manifest.get("counts", {}).get("triples") or 0)
    measure = rows(args, paths)
    engines = list(measure)
    runs: dict[str, list[dict[str, Any]]] = {e: [] for e in engines}
    for i in range(args.repeat):
        for e in engines:  # alternate, so drift on the machine hits both alike
            if any(r.get("timeout") for r in runs[e]):
                continue  # one timeout is enough: do not spend T seconds again
            r = measure[e](args.timeout)
            runs[e].append(r)
            what = (f"did not finish in {args.timeout:.0f} s" if r.get("timeout")
                    else f"{r['wall']:.1f} s, {r['rss'] / 1e6:,.0f} MB")
            print(f"run {i + 1}/{args.repeat} {e}: {what}", file=sys.stderr, flush=True)
    res = {e: summarise(runs[e], args.timeout) for e in engines}
    print(table(args.size, triples, res))
    if args.json:
        Path(args.json).write_text(json.dumps({"size": args.size, "results": res,
                                               "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
