"""Store-job test helpers: a served folder of data generated one file per day, specs on a
store, and every fact of a store (or the lines of a job's results) as sets to compare."""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import tempfile
from pathlib import Path

from fault_helpers import REPO

DAYS = ("2021-07-27", "2021-07-28", "2021-07-29")
PARTIES = "data/parties-0.nt"
# the reference rules and queries, chains up to 6 transactions
RULES = ["rules/suspicious-chains.dlog", "rules/high-value-chains.dlog"]
QUERIES = ["queries/suspicious-chains.rq", "queries/high-value-chains.rq"]
PARAMS = {"min_amount": 100, "max_chain_length": 6}


def day(d: int) -> str:
    """The transactions file of day ``d`` (0, 1, 2)."""
    return f"data/transactions-{DAYS[d]}.nt"


@functools.cache
def _source() -> Path:
    from generator import generate

    root = Path(tempfile.mkdtemp(prefix="gc-store-jobs-"))
    atexit.register(shutil.rmtree, root, True)
    generate(root / "data", transactions=1500, parties=1000, seed=7, typologies="all",
             split_by="day")
    shutil.copytree(REPO / "rules", root / "rules")
    shutil.copytree(REPO / "queries", root / "queries")
    return root


def served(path: Path) -> Path:
    """A fresh copy of the generated data (one transactions file per day), rules, queries."""
    shutil.copytree(_source(), path)
    return path


def spec(folder: Path, name: str, **doc: object) -> Path:
    """Write ``folder/name.json``: the reference rules and queries, ``doc`` on top."""
    full = {"name": name, "rules": RULES, "queries": QUERIES, "parameters": PARAMS, **doc}
    path = folder / f"{name}.json"
    path.write_text(json.dumps(full))
    return path


def store_triples(store_dir: Path) -> set[str]:
    """Every triple of a store, input and derived, as N-Triples lines."""
    import graphcrime as gc

    with tempfile.TemporaryDirectory() as tmp, gc.Store.open(store_dir, read_only=True) as s:
        s.dump(Path(tmp) / "all.nt")
        return set((Path(tmp) / "all.nt").read_text(encoding="utf-8").splitlines())


def result_lines(job_dir: Path) -> dict[str, set[str]]:
    """Each result file of a job as a set of lines (row order is not part of the answer)."""
    return {p.name: set(p.read_text(encoding="utf-8").splitlines())
            for p in sorted((job_dir / "results").iterdir())}


def stats(job_dir: Path) -> dict:
    return json.loads((job_dir / "stats.json").read_text())


def lines(root: Path, *files: str) -> int:
    """Triples in generated files (one per line, no duplicates)."""
    return sum((root / f).read_text(encoding="utf-8").count("\n") for f in files)
