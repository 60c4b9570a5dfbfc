"""A job uses the cores it can have: all of them run alone, the watcher's free ones, at most
``resources.cores``; read back from DuckDB's own setting in the real engine."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from runner_helpers import HERE, write_spec
from runner_threads import ThreadsStore

from graphcrime.runner import pipeline
from graphcrime.runner.pipeline import run_job
from graphcrime.runner.watch import Watcher

RULES = "# no rules: the job only loads and queries\n"


def _duckdb_threads(folder: Path) -> int:
    return json.loads((folder / "stats.json").read_text())["store"]["duckdb_threads"]


@pytest.fixture
def job(served: Path) -> Path:
    (served / "rules" / "ok.dlog").write_text(RULES)
    return served


@pytest.mark.parametrize(("resources", "threads"), [
    (None, 3),  # undeclared: every core (the machine is made to have 3)
    ({"cores": 2}, 2),  # declared: the cap
    ({"cores": 8}, 3),  # more than the machine: the machine's
])
def test_run_alone_uses_the_machine_up_to_the_cap(job: Path, tmp_path: Path, resources,
                                                  threads: int, monkeypatch) -> None:
    monkeypatch.setattr(pipeline, "machine_cores", lambda: 3)
    write_spec(job / "job.json", **({"resources": resources} if resources else {}))
    out = run_job(job / "job.json", tmp_path / "out", store_factory=ThreadsStore)
    assert out.exit_code == 0, out.status
    assert _duckdb_threads(out.folder) == threads
    assert json.loads((out.folder / "stats.json").read_text())["threads"] == threads


@pytest.mark.slow
def test_watcher_gives_a_job_its_free_cores(job: Path, tmp_path: Path, monkeypatch) -> None:
    path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", str(HERE) + (os.pathsep + path if path else ""))
    (job / "job.json").unlink()
    write_spec(job / "a.json", name="a")
    write_spec(job / "b.json", name="b", resources={"cores": 2})
    w = Watcher(job, tmp_path / "out", cores=3, workers=1, poll_interval=0.05,
                store_factory="runner_threads:ThreadsStore", log=lambda m: None)
    assert w.run(once=True) == 2
    folders = {json.loads((d / "status.json").read_text())["job_id"].split("_")[0]: d
               for d in (tmp_path / "out").iterdir()}
    assert _duckdb_threads(folders["a"]) == 3 and _duckdb_threads(folders["b"]) == 2
