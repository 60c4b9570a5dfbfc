"""The reference job with the real engine on generated data, against a pyoxigraph oracle.

The oracle loads the same input plus the engine's derived facts into pyoxigraph, runs every
query of the job there, and the job's result files must hold the same answers. Skipped until
``graphcrime.api.Store`` and the reference rules exist.
"""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from graphcrime.runner.demo import ASSET_DIRS, find_assets
from graphcrime.runner.pipeline import run_job
from graphcrime.runner.spec import load_spec

pytestmark = pytest.mark.slow


def _terms_csv(value: ox.Literal | ox.NamedNode | ox.BlankNode | None) -> str:
    return "" if value is None else value.value


def test_reference_job_matches_pyoxigraph(tmp_path: Path) -> None:
    api = pytest.importorskip("graphcrime.api")
    generator = pytest.importorskip("generator")
    assets = find_assets()
    if assets is None or not list((assets / "rules").glob("*.dlog")):
        pytest.skip("reference rules not in rules/ yet")
    served = tmp_path / "served"
    for d in ASSET_DIRS:
        shutil.copytree(assets / d, served / d)
    generator.generate(served / "data", transactions=6000, parties=3000, typologies="all", seed=3)
    derived = tmp_path / "derived.nt"

    class Dumping(api.Store):  # keep the derived facts for the oracle before the store closes
        def close(self) -> None:
            self.dump(derived, derived_only=True)
            super().close()

    spec_path = served / "jobs" / "reference.json"
    job = run_job(spec_path, tmp_path / "out", serve_root=served, store_factory=Dumping)
    assert job.exit_code == 0, job.status
    oracle = ox.Store()
    for f in [*load_spec(spec_path, served).data, derived]:
        oracle.bulk_load(path=str(f), format=ox.RdfFormat.N_TRIPLES)
    spec = load_spec(spec_path, served)
    for q, r in zip(spec.queries, job.status["results"], strict=True):
        expected = oracle.query(q.read_text())
        path = job.folder / r["file"]
        if path.suffix == ".nt":
            mirror = ox.Store()  # the oracle's store normalises literals ("100.00" -> 100)
            mirror.bulk_load(path=str(path), format=ox.RdfFormat.N_TRIPLES)
            got = {ox.Triple(t.subject, t.predicate, t.object) for t in mirror}
            if isinstance(expected, ox.QuerySolutions):
                want = {ox.Triple(s[0], s[1], s[2]) for s in expected}
            else:
                want = set(expected)
            assert got == want, q.name
            assert got, f"{q.name}: the reference data must give some answers"
        else:
            with open(path, newline="", encoding="utf-8") as f:
                rows = list(csv.reader(f))
            names = [v.value for v in expected.variables]
            assert rows[0] == names
            want_rows = Counter(tuple(_terms_csv(s[n]) for n in names) for s in expected)
            assert Counter(map(tuple, rows[1:])) == want_rows, q.name
