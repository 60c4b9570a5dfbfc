"""``graphcrime demo``: generate data, run the reference job, show what it found.

The demo builds a served folder ``OUT/`` laid out like the repository (``data/``,
``rules/``, ``queries/``, ``jobs/reference.json``), runs the job into ``OUT/results/`` and
prints the counts and the top chains by amount read back from the job's N-Triples results.

>>> find_assets() is None or (find_assets() / "jobs" / "reference.json").is_file()
True
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import graphcrime
from graphcrime.errors import UsageError
from graphcrime.vocab import PROP, TYPE

ASSET_DIRS = ("jobs", "rules", "queries")


def find_assets() -> Path | None:
    """The folder holding ``jobs/``, ``rules/`` and ``queries/``: the checkout, or package data."""
    pkg = Path(graphcrime.__file__).resolve().parent
    for base in (pkg.parent, pkg / "data"):
        if (base / "jobs" / "reference.json").is_file() and all(
            (base / d).is_dir() for d in ASSET_DIRS
        ):
            return base
    return None


def top_chains(results: Path, top: int) -> list[dict]:
    """The ``top`` chains by final amount in a job's ``results/*.nt`` (read with pyoxigraph)."""
    import pyoxigraph as ox

    store = ox.Store()
    for f in sorted(results.glob("*.nt")):
        store.bulk_load(path=str(f), format=ox.RdfFormat.N_TRIPLES)
    q = f"""SELECT ?c ?o ?b ?len ?first ?last ?hv WHERE {{
      ?c a <{TYPE}SuspiciousChain> ; <{PROP}hasOriginator> ?o ; <{PROP}hasBeneficiary> ?b ;
         <{PROP}hasLength> ?len ; <{PROP}hasStartingAmount> ?first ; <{PROP}hasFinalAmount> ?last .
      BIND(EXISTS {{ ?c a <{TYPE}HighValueChain> }} AS ?hv)
    }} ORDER BY DESC(?hv) DESC(?last) DESC(?len) ?c LIMIT {int(top)}"""
    keys = ("chain", "originator", "beneficiary", "length", "first_amount", "final_amount",
            "high_value")
    rows = store.query(q)
    assert isinstance(rows, ox.QuerySolutions)
    return [dict(zip(keys, (t.value for t in row), strict=True)) for row in rows]


def chain_mix(results: Path, ground_truth: Path) -> tuple[int, int]:
    """``(suspicious chains, those containing a planted transaction)`` in a job's results."""
    import csv

    import pyoxigraph as ox

    planted: set[str] = set()
    with open(ground_truth, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            planted.update(row["transactions"].split())
    store = ox.Store()
    for f in sorted(results.glob("*.nt")):
        store.bulk_load(path=str(f), format=ox.RdfFormat.N_TRIPLES)
    members = ", ".join(f"<{t}>" for t in sorted(planted)) or "<urn:none>"
    q = f"""SELECT ?c (SUM(IF(?t IN ({members}), 1, 0)) AS ?n) WHERE {{
      ?c a <{TYPE}SuspiciousChain> ; <{PROP}containsTransaction> ?t .
    }} GROUP BY ?c"""
    rows = store.query(q)
    assert isinstance(rows, ox.QuerySolutions)
    flags = [int(row["n"].value) > 0 for row in rows]
    return len(flags), sum(flags)


def _short(iri: str) -> str:
    return iri.rsplit("#", 1)[-1]


def run_demo(out: str | Path, *, transactions: int = 100_000, top: int = 5,
             echo: Callable[[str], None] = print) -> int:
    """Generate data into ``out/data``, run ``jobs/reference.json``; return the exit code."""
    from generator import generate
    from graphcrime.runner.pipeline import run_job

    assets = find_assets()
    if assets is None:
        raise UsageError("cannot find jobs/, rules/ and queries/ next to the graphcrime package",
                         hint="run the demo from a git checkout installed with "
                              "`pip install -e .`; a wheel does not ship the reference job")
    out = Path(out)
    for d in ASSET_DIRS:
        shutil.copytree(assets / d, out / d, dirs_exist_ok=True)
    t = time.perf_counter()
    # every typology, sized so that chains through planted instances stay a minority
    typologies = "proportional" if transactions >= 5_000 else None
    m = generate(out / "data", transactions=transactions, typologies=typologies, seed=0,
                 force=True)
    c = m.counts
    echo(f"generated {c['transactions']:,} transactions, {c['parties']:,} parties "
         f"({c['suspicious_parties']:,} suspicious) in {time.perf_counter() - t:.1f} s")
    if m.ground_truth:
        from generator.manifest import planted_proportion

        echo(planted_proportion(c))
    t = time.perf_counter()
    job = run_job(out / "jobs" / "reference.json", out / "results", serve_root=out)
    if job.exit_code:
        err = job.status.get("error", {})
        echo(f"job {job.job_id} failed: {err.get('message')} (see {job.folder}/job.log)")
        return job.exit_code
    for r in job.status["results"]:
        echo(f"  {r['file']}: {r['rows']:,} rows")
    counts = job.status.get("counts", {})
    echo(f"job {job.job_id} succeeded in {time.perf_counter() - t:.1f} s: "
         + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in counts.items()))
    if m.ground_truth:
        total, planted = chain_mix(job.folder / "results", out / "data" / m.ground_truth)
        echo(f"suspicious chains: {total:,}, {planted:,} through planted instances "
             f"({100 * planted / max(total, 1):.0f}%), {total - planted:,} background only")
    chains = top_chains(job.folder / "results", top)
    if chains:
        echo(f"top {len(chains)} suspicious chains by final amount (* = high value):")
        echo(f"  {'originator':<24} {'beneficiary':<24} {'len':>3} {'first':>14} {'final':>14}")
        for ch in chains:
            echo(f"{'*' if ch['high_value'] == 'true' else ' '} {_short(ch['originator']):<24} "
                 f"{_short(ch['beneficiary']):<24} {ch['length']:>3} "
                 f"{float(ch['first_amount']):>14,.2f} {float(ch['final_amount']):>14,.2f}")
    else:
        echo("no suspicious chains found")
    echo(f"results: {job.folder}")
    echo(f"load them: graphcrime load {job.folder} --endpoint http://127.0.0.1:7878/store")
    return 0
