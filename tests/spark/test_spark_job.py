"""Job specs with ``"engine": {"name": "spark", ...}``: validated with JSON paths, and a job
run on Spark publishes the same query results as the embedded engine."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from graphcrime.errors import SpecError
from graphcrime.runner.pipeline import run_job
from graphcrime.runner.spec import load_spec

GOLDEN = Path(__file__).parent.parent / "engine" / "golden" / "recursion"
QUERY = "PREFIX : <http://e/>\nSELECT ?x ?y WHERE { ?x :r ?y } ORDER BY ?x ?y\n"


def _job(root: Path, engine: dict | None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(GOLDEN / "data.nt", root / "data.nt")
    shutil.copy(GOLDEN / "rules.dlog", root / "rules.dlog")
    (root / "r.rq").write_text(QUERY)
    doc: dict[str, Any] = {"data": ["data.nt"], "rules": ["rules.dlog"], "queries": ["r.rq"]}
    if engine is not None:
        doc["engine"] = engine
    (root / "job.json").write_text(json.dumps(doc))
    return root / "job.json"


@pytest.mark.parametrize(("engine", "path", "words"), [
    ({"name": "spark", "master": "nowhere"}, "engine.master", "Spark master URL"),
    ({"name": "spark", "master": 2}, "engine.master", "Spark master URL"),
    ({"name": "embedded", "master": "local[2]"}, "engine.master", "only"),
    ({"name": "spark", "cores": 2}, "engine.cores", "unknown key"),
])
def test_engine_errors_name_the_json_path(tmp_path: Path, engine: dict, path: str,
                                          words: str) -> None:
    with pytest.raises(SpecError) as e:
        load_spec(_job(tmp_path, engine))
    assert e.value.json_path == path and words in e.value.message


@pytest.mark.parametrize("master", ["local[2]", "local[*]", "spark://host:7077",
                                    "k8s://https://api.example:443", "yarn"])
def test_spark_engine_is_accepted(tmp_path: Path, master: str) -> None:
    spec = load_spec(_job(tmp_path, {"name": "spark", "master": master}))
    assert spec.engine == {"name": "spark", "master": master}


@pytest.mark.slow
def test_a_spark_job_publishes_the_embedded_results(spark: Any, tmp_path: Path) -> None:
    outs = {}
    for name, engine in (("embedded", None), ("spark", {"name": "spark", "master": "local[2]"})):
        out = run_job(_job(tmp_path / name, engine), tmp_path / f"out-{name}")
        assert out.exit_code == 0, out.status
        outs[name] = out
    a, b = (outs[n].status for n in ("embedded", "spark"))
    assert a["counts"] == b["counts"] == {"input_facts": 3, "derived_facts": 6}
    files = [sorted((outs[n].folder / "results").iterdir()) for n in ("embedded", "spark")]
    assert [f.read_text() for f in files[0]] == [f.read_text() for f in files[1]]
    stats = json.loads((outs["spark"].folder / "stats.json").read_text())
    assert stats["store"]["engine"] == "spark"
