"""The console's speed: the jobs page over 1,000 job folders, chains-table pages of the 1M
reference job (and of a two-million-row chains table), the graph of a 30-transaction chain.

    python bench/console.py                 # 1M reference job (generated once into bench/.cache)
    python bench/console.py --size 100k     # quicker
    python bench/console.py --no-browser    # HTTP figures only

The console runs in this process (uvicorn in a thread) over real job folders; requests go
over HTTP (``http.client``), the browser figures come from headless Chromium driven by
Playwright. Targets (issue 19): jobs page < 1 s with 1,000 folders, a chains-table page of
the 1M job < 0.5 s, a 30-transaction chain's graph rendered < 1 s. Prints one table: the
median of ``--repeat`` runs per figure, and how it compares with its target.
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(ROOT))

BROWSER_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]


class Console:
    """The console app served by uvicorn in a background thread."""

    def __init__(self, output_root: Path) -> None:
        import uvicorn

        from graphcrime.console import make_app

        self.asgi = make_app(output_root)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(self.asgi, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]},
                                       daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}/"

    def get(self, path: str) -> tuple[float, bytes]:
        con = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        t = time.perf_counter()
        con.request("GET", path)
        r = con.getresponse()
        body = r.read()
        secs = time.perf_counter() - t
        con.close()
        if r.status != 200:
            raise RuntimeError(f"{path}: HTTP {r.status}: {body[:300]!r}")
        return secs, body

    def cache(self) -> Any:
        return self.asgi.app.state.cache

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def median(fn: Any, repeat: int) -> float:
    return statistics.median(fn() for _ in range(repeat))


def thousand_jobs(base: Path, template: Path, n: int = 1000) -> Path:
    """``n`` copies of a small finished job folder (status, stats, log, loader request)."""
    root = base / "thousand"
    root.mkdir()
    status = json.loads((template / "status.json").read_text())
    for i in range(n):
        job_id = f"bench_2021-07-{1 + i % 28:02d}_{i:03d}"
        folder = root / job_id
        (folder / "results").mkdir(parents=True)
        for name in ("stats.json", "job.log", "neptune-loader.json"):
            shutil.copy(template / name, folder / name)
        doc = dict(status, job_id=job_id, folder=str(folder),
                   status="failed" if i % 10 == 0 else "succeeded")
        if i % 10 == 0:
            doc["error"] = {"message": "no file matches data/*.nt", "json_path": "data[0]",
                            "hint": "check the pattern"}
        (folder / "status.json").write_text(json.dumps(doc))
    return root


def reference_job(size: str, base: Path) -> Path:
    """The reference job over bench/reference.py's data for ``size``, run into ``base``."""
    import reference

    from graphcrime.runner.pipeline import run_job
    from tests.console.jobs import reference_spec

    data = reference.dataset(size)
    served = reference.CACHE / f"console-{size}"  # hard links: the spec's data stays inside
    shutil.rmtree(served, ignore_errors=True)
    (served / "data").mkdir(parents=True)
    for f in data:
        (served / "data" / f.name).hardlink_to(f)

    spec = reference_spec(served, dict(reference.PARAMS))
    t = time.perf_counter()
    job = run_job(spec, base / "out")
    print(f"ran the {size} reference job in {time.perf_counter() - t:.1f} s", flush=True)
    assert job.exit_code == 0, job.status
    return job.folder


def synthetic_chains(data: Any, n: int) -> None:
    """Replace the job's chains table by ``n`` made-up rows (same columns and types)."""
    with data.lock:
        data.con.execute(f"""CREATE OR REPLACE TEMP TABLE gc_console_chains AS SELECT
            'http://e/chain_' || i AS chain, 'http://e/party_' || (i % 50000) AS originator,
            'Name ' || (i % 50000) AS originator_label,
            'http://e/party_' || ((i * 7) % 50000) AS beneficiary,
            'Name ' || ((i * 7) % 50000) AS beneficiary_label, (1 + i % 30)::BIGINT AS length,
            ((i % 100000) * 1.5)::DOUBLE AS first_amount,
            ((i * 37 % 1000003) * 0.75)::DOUBLE AS final_amount,
            '2021-07-' || (27 + i % 3) || 'T10:00:00' AS end_date, true AS suspicious,
            i % 11 = 0 AS high_value FROM range({n}) t(i)""")
        data.index_parties()


def chain_pages(console: Console, job_id: str, repeat: int) -> list[tuple[str, float]]:
    base = f"/api/jobs/{quote(job_id)}/chains?limit=50"
    cases = [("first page (demo order)", ""), ("page 40", "&offset=2000"),
             ("sorted by final amount", "&sort=final_amount&desc=1"),
             ("high value, length 3-10", "&high_value=1&length_min=3&length_max=10"),
             ("party text filter", "&party=party_1"),
             ("amount range, page 3", "&amount_min=1000&amount_max=500000&offset=100")]
    return [(name, median(lambda q=q: console.get(base + q)[0], repeat)) for name, q in cases]


def browser_times(console: Console, job_id: str, chain: str, repeat: int) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    out: dict[str, float] = {}
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                              args=BROWSER_ARGS)
        page = b.new_page()

        def jobs_page() -> float:
            t = time.perf_counter()
            page.goto(console.url)
            page.wait_for_function("() => document.querySelectorAll('tr.job-row').length >= 1000")
            return time.perf_counter() - t

        def graph() -> float:
            t = time.perf_counter()
            page.goto(f"{console.url}jobs/{quote(job_id)}/chain?iri={quote(chain, safe='')}")
            page.frame_locator("#graph").locator("g.node >> nth=30").wait_for()
            return time.perf_counter() - t

        out["jobs"] = median(jobs_page, repeat)
        graph()  # the job's first open loads it
        out["graph"] = median(graph, repeat)
        b.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="1m", choices=["100k", "1m", "10m"])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    from tests.console.jobs import line_chain_job

    rows: list[tuple[str, float, float | None]] = []
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        base = Path(tmp)
        line_job, chain = line_chain_job(base / "line", base / "lineout", 30)
        root = thousand_jobs(base, base / "lineout" / line_job)
        shutil.move(str(base / "lineout" / line_job), str(root / line_job))
        console = Console(root)
        try:
            cold = console.get("/api/jobs")[0]
            rows.append(("jobs API, 1,001 folders, first (reads every status.json)", cold, 1.0))
            rows.append(("jobs API, 1,001 folders, again (cached by stat)",
                         median(lambda: console.get("/api/jobs")[0], args.repeat), 1.0))
            t = time.perf_counter()
            console.get(f"/api/jobs/{line_job}")
            rows.append(("open the 30-chain job (load into DuckDB)", time.perf_counter() - t,
                         None))
            rows.append(("graph frame of the 30-transaction chain (HTTP)", median(
                lambda: console.get(f"/jobs/{line_job}/graph?iri={quote(chain, safe='')}")[0],
                args.repeat), 1.0))
            if not args.no_browser:
                bt = browser_times(console, line_job, chain, args.repeat)
                rows.append(("jobs page rendered in Chromium (1,001 rows)", bt["jobs"], 1.0))
                rows.append(("30-transaction chain page, graph drawn in Chromium",
                             bt["graph"], 1.0))
        finally:
            console.stop()
        folder = reference_job(args.size, base / "ref")
        console = Console(folder.parent)
        try:
            t = time.perf_counter()
            _, body = console.get(f"/api/jobs/{folder.name}")
            doc = json.loads(body)
            rows.append((f"open the {args.size} job: results + inputs into DuckDB "
                         f"({doc['chains']:,} chains)", time.perf_counter() - t, None))
            for name, secs in chain_pages(console, folder.name, args.repeat):
                rows.append((f"{args.size} chains table: {name}", secs, 0.5))
            (data,) = console.cache()._jobs.values()
            synthetic_chains(data, 2_000_000)
            for name, secs in chain_pages(console, folder.name, args.repeat):
                rows.append((f"2M-row chains table: {name}", secs, 0.5))
        finally:
            console.stop()
    print(f"\nconsole benchmark (median of {args.repeat}; shared 2-core machine, see "
          "`uptime`)\n")
    print(f"| {'figure':<72} | {'seconds':>8} | {'target':>6} | {'ratio':>5} |")
    print(f"|{'-' * 74}|{'-' * 10}:|{'-' * 8}:|{'-' * 7}:|")
    for name, secs, target in rows:
        ratio = f"{secs / target:.2f}" if target else ""
        print(f"| {name:<72} | {secs:>8.3f} | {target or '':>6} | {ratio:>5} |")


if __name__ == "__main__":
    main()
