"""Persistent stores against from-scratch runs: the reference workload cut into days.

    python bench/incremental.py                    # 1M transactions over 3 days + a 4th day
    python bench/incremental.py --size 100k        # a quick run
    python bench/incremental.py --size 100k --daily  # the 3-day store built day by day
    python bench/incremental.py --big              # + 10M on disk under 4Gi vs in memory

Data: ``--size`` transactions over 3 days plus a 4th day of a third as many (N/10
parties, 0.1% suspicious, mixed amounts, seed 1), written with ``generate --split-by day``
into bench/.cache/incremental-<size>/ (gitignored) and reused. Every step runs in a fresh
process whose peak RSS is read with ``os.wait4``; the store steps run one after the other
on one store folder (in a temporary folder):

- from scratch, in memory (``gc.Store()``): load days 1-4 and reason (both reference rule
  sets, min_amount 100, max_chain_length 30); and days 2-4, the oracle of the retraction;
- store: create it on disk and add days 1-3; add day 4 (goal <= 0.3x the from-scratch run
  over days 1-4); reopen it and answer both reference queries, results written (goal < 2 s);
  retract day 1 (goal < the from-scratch run over days 1-4);
- an hourly batch: the transactions of day 4's first hour added to a copy of the 3-day
  store, against a from-scratch run over days 1-3 plus that hour. Chains grow
  combinatorially with the days (day 4 brings ~97% of the 4-day facts at 100k), so the
  day-4 row cannot show what an update costs against the work it saves; this one can;
- ``--big``: 10M transactions (3 days) added to an on-disk store under a 4Gi memory limit
  against the same in memory (goals: peak RSS <= 5 GB, same counts, time <= 2x).

Every step of the 1M/100k rows runs under ``--memory-limit`` (default 4Gi: the machine is
shared; DuckDB spills beyond it), from scratch and store alike. After each store step its
chain counts and fact count are compared with the from-scratch run over the same days.
Prints one table with the ratios; ``--json`` keeps the numbers.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
sys.path.insert(0, str(ROOT))
from reference import CACHE, CLASSES, PARAMS, QUERIES, RULES, run_child  # noqa: E402

SIZES = {"100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}
DAYS = ("2021-07-27", "2021-07-28", "2021-07-29", "2021-07-30")
CHAINS = ("PartialChain", "SuspiciousChain", "HighValueChain")
BIG_MEMORY = "4Gi"


def dataset(size: str, days: int = 4) -> Path:
    """``size`` transactions over 3 days, a third as many on a 4th (``days=3``: no 4th)."""
    n = SIZES[size]
    out = CACHE / f"incremental-{size}-{days}d"
    if not (out / "manifest.json").exists():
        sys.path.insert(0, str(REPO))
        from generator import generate

        t0 = time.perf_counter()
        generate(out, transactions=n * days // 3, parties=n // 10, suspicious_fraction=0.001,
                 days=days, end=f"2021-07-{27 + days}T00:00:00", amounts="mixed", seed=1,
                 split_by="day", force=True)
        print(f"generated {out.name} in {time.perf_counter() - t0:.1f} s", file=sys.stderr,
              flush=True)
    return out


def first_hour(data: Path) -> str:
    """The transactions of day 4 dated in its first hour (an hourly batch), written once
    next to the day files: every transaction's five triples are contiguous in them."""
    out = data / f"transactions-{DAYS[3]}T00.nt"
    if not out.exists():
        tmp = out.with_suffix(".tmp")
        with open(data / f"transactions-{DAYS[3]}.nt", encoding="utf-8") as src, \
                open(tmp, "w", encoding="utf-8") as dst:
            lines = src.readlines()
            for i in range(0, len(lines), 5):
                block = lines[i:i + 5]
                if any(f'"{DAYS[3]}T00:' in line for line in block):
                    dst.writelines(block)
        tmp.replace(out)
    return str(out)


def files(data: Path, days: list[str]) -> list[str]:
    """The parties file and the transactions files of ``days``."""
    return [str(p) for p in sorted(data.glob("parties-*.nt"))] + \
        [str(data / f"transactions-{d}.nt") for d in days]


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# -- what runs inside the measured processes -------------------------------------------------
def _counts(store: Any) -> dict[str, Any]:
    classes = store.derived_counts()["classes"]
    out = {c: classes.get(CLASSES + c, 0) for c in CHAINS}
    out["facts"] = len(store)
    return out


def child(step: str, store_path: str, paths: list[str], memory: str | None) -> dict[str, Any]:
    """One step, timed inside the process (``seconds``: the step's own work)."""
    import graphcrime as gc

    t = time.perf_counter()
    extra: dict[str, Any] = {}
    if step == "scratch":
        store = gc.Store(memory_limit=memory)
        store.load(paths)
        store.reason([str(r) for r in RULES], params=PARAMS)
    elif step == "create":
        store = gc.Store.create(store_path, rules=[str(r) for r in RULES], params=PARAMS,
                                memory_limit=memory)
        store.add(paths)
    elif step in ("add", "retract"):
        store = gc.Store.open(store_path, memory_limit=memory)
        t = time.perf_counter()  # the update itself (opening is the query step's business)
        extra["index_seconds"] = getattr(store, step)(paths).get("index_seconds")
    elif step == "query":
        from graphcrime.runner.outputs import result_suffix

        store = gc.Store.open(store_path, memory_limit=memory)
        results = [store.query(q.read_text(encoding="utf-8")) for q in QUERIES]
        extra["answered"] = time.perf_counter() - t  # computed (term ids), not yet written
        extra["answer_rows"] = sum(len(r) for r in results)
        with tempfile.TemporaryDirectory() as out:
            for q, result in zip(QUERIES, results, strict=True):
                path = result.write(Path(out) / (q.stem + result_suffix(result)))
                extra["written_bytes"] = extra.get("written_bytes", 0) + path.stat().st_size
    else:
        raise SystemExit(f"unknown step {step}")
    seconds = time.perf_counter() - t
    doc = {"seconds": seconds, **extra, **_counts(store)}
    store.close()
    return doc


def measure(step: str, store: Path, paths: list[str], timeout: float,
            memory: str | None = None) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", step, "--store",
           str(store), *(["--memory", memory] if memory else []), *paths]
    try:
        doc = run_child(cmd, timeout)
    except SystemExit as e:  # the child failed (killed, out of memory): say so in the table
        doc = {"failed": str(e).splitlines()[0][-120:]}
        print(f"  {step}: {e}", file=sys.stderr, flush=True)
        return doc
    print(f"  {step} {len(paths)} file(s): "
          + ("timeout" if doc.get("timeout") else f"{doc['seconds']:.2f} s, "
             f"{doc['rss'] / 1e6:,.0f} MB"), file=sys.stderr, flush=True)
    if not doc.get("timeout") and step != "scratch":
        doc["disk"] = folder_bytes(store)
    return doc


# -- the table --------------------------------------------------------------------------------
def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return all(a.get(k) == b.get(k) for k in (*CHAINS, "facts"))


def row(name: str, r: dict[str, Any], ratio: str = "", goal: str = "") -> str:
    if r.get("timeout"):
        return f"{name:<40} did not finish in time"
    if r.get("failed"):
        return f"{name:<40} FAILED: {r['failed']}"
    disk = f"{r['disk'] / 1e6:,.0f}" if r.get("disk") else "-"
    return (f"{name:<40} {r['seconds']:8.2f} {r['wall']:8.2f} {r['rss'] / 1e6:9,.0f} "
            f"{disk:>8} {r['facts']:>12,} {r['PartialChain']:>10,} {r['SuspiciousChain']:>10,} "
            f"{r['HighValueChain']:>9,} {ratio:>7} {goal}")


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def run(size: str, timeout: float, big: bool, memory: str, daily: bool = False
        ) -> tuple[str, dict[str, Any]]:
    data = dataset(size)
    manifest = json.loads((data / "manifest.json").read_text())
    per_day = {f.split("-", 1)[1][:10]: r for f, r in
               ((e["path"], e["rows"]) for e in manifest["files"]) if f.startswith("trans")}
    res: dict[str, Any] = {}
    tmp = Path(tempfile.mkdtemp(prefix="gc-incremental-"))
    store = tmp / "store"
    try:
        res["scratch4"] = measure("scratch", store, files(data, list(DAYS)), timeout, memory)
        if daily:  # days 1, 2, 3 in three updates (chains crossing days end up in later rounds)
            res["create3"] = measure("create", store, files(data, [DAYS[0]]), timeout, memory)
            for d in DAYS[1:3]:
                step = measure("add", store, files(data, [d])[1:], timeout, memory)
                res["create3"] = {**step, "seconds": res["create3"].get("seconds", 0)
                                  + step.get("seconds", 0),
                                  "wall": res["create3"].get("wall", 0) + step.get("wall", 0),
                                  "rss": max(res["create3"].get("rss", 0), step.get("rss", 0))}
        else:
            res["create3"] = measure("create", store, files(data, list(DAYS[:3])), timeout,
                                     memory)
        hour = first_hour(data)
        res["scratch3h"] = measure("scratch", store, files(data, list(DAYS[:3])) + [hour],
                                   timeout, memory)
        shutil.copytree(store, tmp / "store3")
        res["add_hour"] = measure("add", tmp / "store3", [hour], timeout, memory)
        shutil.rmtree(tmp / "store3")
        res["add4"] = measure("add", store, files(data, [DAYS[3]])[1:], timeout, memory)
        res["query"] = measure("query", store, [], timeout, memory)
        res["scratch234"] = measure("scratch", store, files(data, list(DAYS[1:])), timeout,
                                    memory)
        res["retract1"] = measure("retract", store, files(data, [DAYS[0]])[1:], timeout,
                                  memory)
        if big:
            big_data = dataset("10m", days=3)
            paths = files(big_data, list(DAYS[:3]))
            big_store = tmp / "big"
            res["big_memory"] = measure("scratch", big_store, paths, 4 * timeout)
            res["big_disk"] = measure("create", big_store, paths, 4 * timeout, BIG_MEMORY)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    s4, a4, r1, q = res["scratch4"], res["add4"], res["retract1"], res["query"]
    done = not any(r.get("timeout") or r.get("failed") for r in res.values())
    three = sum(per_day[d] for d in DAYS[:3])
    lines = [f"incremental workload {size}: {three:,} transactions over 3 days + "
             f"{per_day[DAYS[3]]:,} on day 4, {manifest['counts']['parties']:,} parties; "
             "one run each",
             f"{'step':<40} {'seconds':>8} {'process':>8} {'peak MB':>9} {'disk MB':>8} "
             f"{'facts':>12} {'Partial':>10} {'Suspicious':>10} {'HighValue':>9} "
             f"{'ratio':>7} goal"]
    lines.append(row("from scratch in memory, days 1-4", s4))
    lines.append(row("store: days 1, 2, 3 added one by one" if daily
                     else "store: create on disk + add days 1-3", res["create3"]))
    lines.append(row("from scratch in memory, days 1-3 + hour", res["scratch3h"]))
    if not any(res[k].get("timeout") or res[k].get("failed") for k in ("scratch3h", "add_hour")):
        h = res["add_hour"]
        lines.append(row("store: add day 4's first hour", h,
                         f"{h['seconds'] / res['scratch3h']['seconds']:.2f}x",
                         "vs from scratch 1-3 + hour; counts "
                         + ("agree" if same(h, res["scratch3h"]) else "DISAGREE")
                         + f" (subject index {h.get('index_seconds') or 0:.1f} s)"))
    if not done:
        for key, name in (("add4", "store: add day 4"), ("query", "store: reopen + queries"),
                          ("scratch234", "from scratch in memory, days 2-4"),
                          ("retract1", "store: retract day 1")):
            lines.append(row(name, res[key]))
    else:
        ratio = a4["seconds"] / s4["seconds"]
        share = (a4["facts"] - res["create3"]["facts"]) / a4["facts"]
        lines.append(row("store: add day 4", a4, f"{ratio:.2f}x",
                         f"<= 0.3x from scratch 1-4: {verdict(ratio <= 0.3)} (day 4 brings "
                         f"{share:.1%} of the facts; per fact {ratio / share:.2f}x; subject "
                         f"index {a4.get('index_seconds') or 0:.1f} s)"))
        lines.append(row("store: reopen + reference queries", q, f"{q['answered']:.2f}s",
                         f"< 2 s: {verdict(q['answered'] < 2)} (answers: {q['answer_rows']:,} "
                         f"rows; 'seconds' incl. writing them, {q['written_bytes'] / 1e6:,.0f} MB"
                         f" of N-Triples)"))
        lines.append(row("from scratch in memory, days 2-4", res["scratch234"]))
        ratio = r1["seconds"] / s4["seconds"]
        lines.append(row("store: retract day 1", r1, f"{ratio:.2f}x",
                         f"< 1x from scratch 1-4: {verdict(ratio < 1)} (subject index "
                         f"{r1.get('index_seconds') or 0:.1f} s)"))
        lines.append(f"counts: store after day 4 vs from scratch 1-4 "
                     f"{'agree' if same(a4, s4) else 'DISAGREE'}; after retracting day 1 vs "
                     f"from scratch 2-4 {'agree' if same(r1, res['scratch234']) else 'DISAGREE'};"
                     f" reopened store {'agrees' if same(q, a4) else 'DISAGREES'}")
    if big and "big_disk" in res:
        m, d = res["big_memory"], res["big_disk"]
        lines.append(row("10M from scratch in memory", m))
        if not any(r.get("timeout") or r.get("failed") for r in (d, m)):
            ratio = d["wall"] / m["wall"]
            lines.append(row(f"10M on disk, memory {BIG_MEMORY}", d, f"{ratio:.2f}x",
                             f"<= 2x, peak <= 5 GB: {verdict(ratio <= 2 and d['rss'] <= 5e9)}; "
                             f"counts {'agree' if same(d, m) else 'DISAGREE'}; CPU s "
                             f"{d['cpu']:.0f} vs {m['cpu']:.0f} ({d['cpu'] / m['cpu']:.2f}x)"))
        else:
            lines.append(row(f"10M on disk, memory {BIG_MEMORY}", d))
    lines.append(f"every step under memory_limit {memory} (DuckDB spills beyond it); "
                 "seconds: the step's own work inside its process (add/retract: the update "
                 "after opening, incl. its subject index; query: opening + both queries + "
                 "writing their results; ratio: opening + both answers);\n"
                 "process: the child's wall clock incl. interpreter start; peak MB: its "
                 "ru_maxrss; disk MB: the store folder after the step; ratio: against "
                 "from scratch over days 1-4")
    return "\n".join(lines), res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=("100k", "1m"), default="1m")
    ap.add_argument("--big", action="store_true", help="also 10M on disk under 4Gi")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per step")
    ap.add_argument("--memory-limit", default="4Gi",
                    help="DuckDB memory limit of every step (default 4Gi; a shared machine)")
    ap.add_argument("--daily", action="store_true",
                    help="build the 3-day store day by day (three updates), not in one add")
    ap.add_argument("--json", help="also write the measurements as JSON here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--store", help=argparse.SUPPRESS)
    ap.add_argument("--memory", help=argparse.SUPPRESS)
    ap.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        sys.path.insert(0, str(REPO))
        print(json.dumps(child(args.child, args.store, args.paths, args.memory)))
        return
    text, res = run(args.size, args.timeout, args.big, args.memory_limit, args.daily)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps({"size": args.size, "results": res}, indent=1))


if __name__ == "__main__":
    main()
