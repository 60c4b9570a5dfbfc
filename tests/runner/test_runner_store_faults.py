"""kill -9 in the middle of a store job: the store is left as it was before the job or as
the job leaves it, never in between, and running the job again finishes it.

The oracles: the store's triples before the job, and after the same job run without a fault
on a copy of the store.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fault_helpers import WatcherProcess, kill_group, wait_for, working
from store_helpers import PARTIES, day, result_lines, served, spec, store_triples

from graphcrime.runner.pipeline import run_job

pytestmark = pytest.mark.slow


def updating(out: Path) -> bool:
    """True once some working job folder's log says the store update has begun."""
    for tmp in working(out):
        try:
            if "update store" in (tmp / "job.log").read_text():
                return True
        except OSError:
            continue
    return False


def prepared(tmp_path: Path) -> tuple[Path, Path, Path, set[str], set[str], dict]:
    """A served folder, a store holding days 0 and 1, the daily job's spec (add day 2,
    retract day 0), the store's triples before and after that job, its fault-free results."""
    root = served(tmp_path / "served")
    stores = tmp_path / "stores"
    seed = run_job(spec(root, "seed", store="aml", data=[PARTIES, day(0), day(1)]),
                   tmp_path / "seed-out", store_root=stores)
    assert seed.exit_code == 0, seed.status
    before = store_triples(stores / "aml")
    job = spec(root, "daily", store="aml", data=[day(2)], retract=[day(0)])
    shutil.copytree(stores, tmp_path / "copy")
    ok = run_job(job, tmp_path / "copy-out", store_root=tmp_path / "copy")
    assert ok.exit_code == 0, ok.status
    after = store_triples(tmp_path / "copy" / "aml")
    assert before != after
    return root, stores, job, before, after, result_lines(ok.folder)


@pytest.mark.reliability("kill -9 of `graphcrime run` during a store job's update (a day "
                         "added and another retracted, one transaction)", "the store reopens "
                         "with exactly its triples from before the job or exactly those of a "
                         "fault-free run; running the job again leaves the fault-free store")
@pytest.mark.parametrize("delay", [0.2, 1.0])
def test_run_killed_mid_update_leaves_the_store_before_or_after(tmp_path: Path,
                                                                delay: float) -> None:
    root, stores, job, before, after, _ = prepared(tmp_path)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "graphcrime", "run", str(job),
                             "--output-root", str(out), "--store-root", str(stores)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: updating(out) or proc.poll() is not None, message="the update")
        time.sleep(delay)
    finally:
        proc.kill()
        proc.wait()
    now = store_triples(stores / "aml")
    assert now == before or now == after, (len(now), len(before), len(after))
    again = run_job(job, tmp_path / "again", store_root=stores)
    assert again.exit_code == 0, again.status
    assert store_triples(stores / "aml") == after


@pytest.mark.reliability("kill -9 of a store job's worker (process group) during its update, "
                         "the watcher alive", "the watcher retries the job once: one job "
                         "folder, the store and the results equal a fault-free run's")
def test_worker_killed_mid_update_is_retried_to_the_same_store(tmp_path: Path) -> None:
    root, stores, job, _, after, results = prepared(tmp_path)
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    shutil.copytree(root / "data", inbox / "data")
    shutil.copytree(root / "rules", inbox / "rules")
    shutil.copytree(root / "queries", inbox / "queries")
    w = WatcherProcess(inbox, out, "--store-root", str(stores))
    try:
        shutil.copy(job, inbox / "daily.json.part")
        (inbox / "daily.json.part").rename(inbox / "daily.json")
        wait_for(lambda: updating(out), message="the worker to start the update")
        time.sleep(0.3)
        kill_group(w.worker_pids()[0])
        wait_for(lambda: (inbox / "done" / "daily.json").exists(), message="the retry")
    finally:
        assert w.stop() == 0
    assert "worker died (killed by signal 9); retrying" in w.log()
    jobs = [p for p in out.iterdir() if not p.name.startswith(".")]
    assert len(jobs) == 1 and not working(out)
    assert result_lines(jobs[0]) == results
    assert store_triples(stores / "aml") == after
