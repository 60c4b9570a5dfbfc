"""Small job folders for the console's tests and its benchmark (``bench/console.py``).

:func:`line_chain_job` plants one chain of exactly ``n`` transactions: parties ``p0 ..
pn`` in a line, ``p0`` and ``pn`` suspicious, transfers ``p{i} -> p{i+1}`` an hour apart,
so the reference rules find one SuspiciousChain of length ``n``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from graphcrime.vocab import ENT, PROP, TYPE

REPO = Path(__file__).resolve().parents[2]
XSD = "http://www.w3.org/2001/XMLSchema#"
RDFS_LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"


def reference_spec(served: Path, parameters: dict) -> Path:
    """``served/job.json``: the reference rules and queries over ``served/data/*.nt``."""
    for d in ("rules", "queries"):
        if not (served / d).exists():
            shutil.copytree(REPO / d, served / d)
    spec = served / "job.json"
    spec.write_text(json.dumps({
        "name": "console", "data": ["data/*.nt*"],
        "rules": ["rules/suspicious-chains.dlog", "rules/high-value-chains.dlog"],
        "queries": ["queries/suspicious-chains.rq", "queries/high-value-chains.rq"],
        "parameters": parameters}), encoding="utf-8")
    return spec


def line_chain_job(served: Path, root: Path, n: int = 30) -> tuple[str, str]:
    """Run a job over one planted ``n``-transaction chain; ``(job id, chain IRI)``."""
    from graphcrime.runner.pipeline import run_job

    (served / "data").mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(n + 1):
        p = f"<{ENT}party_line{i:02d}>"
        sus = "true" if i in (0, n) else "false"
        lines += [f"{p} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{TYPE}Party> .",
                  f'{p} {RDFS_LABEL} "Party {i} «ligne» 線"',
                  f'{p} <{PROP}isSuspicious> "{sus}"^^<{XSD}boolean> .']
        lines[-2] += " ."
    for i in range(n):
        t = f"<{ENT}transaction_line{i:02d}>"
        lines += [f"{t} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{TYPE}Transaction> .",
                  f"{t} <{PROP}hasOriginator> <{ENT}party_line{i:02d}> .",
                  f"{t} <{PROP}hasBeneficiary> <{ENT}party_line{i + 1:02d}> .",
                  f'{t} <{PROP}hasAmount> "{5000 - 10 * i}.50"^^<{XSD}decimal> .',
                  f'{t} <{PROP}hasDate> "2021-07-{27 + i // 24}T{i % 24:02d}:15:00"'
                  f"^^<{XSD}dateTime> ."]
    (served / "data" / "line.nt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    job = run_job(reference_spec(served, {"min_amount": 100, "max_chain_length": n}), root)
    assert job.exit_code == 0, job.status
    from graphcrime.results import JobResults

    with JobResults(job.folder) as res:
        ((chain,),) = res.query(f"SELECT ?c WHERE {{ ?c a <{TYPE}SuspiciousChain> ; "
                                f"<{PROP}hasLength> {n} }}").rows()
    return job.job_id, chain.value
