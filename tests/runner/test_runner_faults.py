"""Fault injection on a real ``graphcrime watch`` process and the real engine: kill -9 the
watcher and/or its worker mid-job, fill the disk, break the output root, exhaust memory.

The oracle for "complete results" is the same spec run once in-process with no fault; every
test also checks that nothing is left half-done (no working folder, nothing in running/).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fault_helpers import (
    REFERENCE,
    WatcherProcess,
    alive,
    baseline,
    drop,
    kill_group,
    published,
    reference_inbox,
    reference_job_reasoning,
    results,
    status,
    wait_for,
    working,
)

pytestmark = pytest.mark.slow


def names(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))  # hidden files too: attempts and result files count


def exactly_once(inbox: Path, out: Path, spec: str = "job") -> Path:
    """The spec is done, ran to one published, succeeded job folder, and nothing is left."""
    assert names(inbox / "done") == [f"{spec}.json"] and names(inbox / "running") == []
    jobs = published(out)
    assert len(jobs) == 1 and not working(out), os.listdir(out)
    assert status(jobs[0])["status"] == "succeeded"
    return jobs[0]


@pytest.mark.reliability("kill -9 of the watcher and its worker's process group mid-job, "
                         "then a restart", "the orphan in running/ is adopted (its lock is "
                         "free), its working folder removed and the job rerun: one job folder, "
                         "results equal a fault-free run")
def test_watcher_and_worker_killed_mid_job_then_restarted(tmp_path: Path) -> None:
    with reference_job_reasoning(tmp_path) as (inbox, out, w):
        w.kill()
        for pid in w.worker_pids():
            kill_group(pid)
        wait_for(lambda: not any(alive(p) for p in w.worker_pids()), 30)
    assert names(inbox / "running")[-1] == "job.json" and working(out) and not published(out)
    w2 = WatcherProcess(inbox, out)
    try:
        wait_for(lambda: (inbox / "done" / "job.json").exists(), message="the rerun")
    finally:
        assert w2.stop() == 0
    assert "recovered job.json from running/" in w2.log()
    assert results(exactly_once(inbox, out)) == baseline(REFERENCE)


@pytest.mark.reliability("kill -9 of the watcher only, mid-job, and an immediate restart",
                         "the worker keeps its inherited lock and finishes; the new watcher "
                         "does not rerun the locked spec and files it from the worker's "
                         "result: one job folder, results equal a fault-free run")
def test_orphaned_worker_finishes_and_is_adopted_not_rerun(tmp_path: Path) -> None:
    w2 = None
    try:
        with reference_job_reasoning(tmp_path) as (inbox, out, w):
            w.kill()
            assert any(alive(p) for p in w.worker_pids())  # the worker outlives its watcher
            w2 = WatcherProcess(inbox, out)
            wait_for(lambda: (inbox / "done" / "job.json").exists(), message="adoption")
            assert w2.stop() == 0
    finally:
        if w2:
            w2.stop()
    assert "started" not in w2.log()  # never rerun by the second watcher
    assert results(exactly_once(inbox, out)) == baseline(REFERENCE)


@pytest.mark.reliability("kill -9 of the watcher only, mid-job, then watch --once",
                         "--once says it waits for the job whose worker outlived its watcher, "
                         "files it from the worker's result when it ends (never reruns it) and "
                         "exits 0 with processed 1: the queue is empty when it returns")
def test_watch_once_waits_for_the_orphaned_worker(tmp_path: Path) -> None:
    with reference_job_reasoning(tmp_path) as (inbox, out, w):
        w.kill()
        assert any(alive(p) for p in w.worker_pids())  # the worker outlives its watcher
        once = subprocess.run([sys.executable, "-m", "graphcrime", "watch", str(inbox),
                               "--output-root", str(out), "--poll-interval", "0.1", "--once"],
                              capture_output=True, text=True, timeout=600)
    assert once.returncode == 0, once.stderr
    assert "waiting for 1 job(s) in running/ whose worker outlived its watcher: job.json" \
        in once.stderr
    assert "started" not in once.stderr and "processed 1 job(s)" in once.stdout
    assert results(exactly_once(inbox, out)) == baseline(REFERENCE)


@pytest.mark.reliability("kill -9 of a worker's process group mid-job (watcher alive)",
                         "the watcher sees no result, removes the working folder and retries "
                         "once: one job folder, results equal a fault-free run")
def test_worker_killed_mid_job_is_retried_to_the_same_results(tmp_path: Path) -> None:
    with reference_job_reasoning(tmp_path) as (inbox, out, w):
        kill_group(w.worker_pids()[0])
        wait_for(lambda: (inbox / "done" / "job.json").exists(), message="the retry")
        assert w.proc.poll() is None
        assert w.stop() == 0
    assert "worker died (killed by signal 9); retrying" in w.log()
    assert results(exactly_once(inbox, out)) == baseline(REFERENCE)


@pytest.mark.reliability("worker died after publishing its job folder but before reporting, "
                         "and its watcher died too", "the next watcher finds the published "
                         "folder of that claim and files the spec as done without rerunning")
def test_job_published_by_a_dead_worker_is_not_rerun(tmp_path: Path) -> None:
    from graphcrime.runner.pipeline import run_job
    from graphcrime.runner.watch import Watcher

    inbox, out = reference_inbox(tmp_path / "in"), tmp_path / "out"
    spec = drop(inbox, "job", {**REFERENCE, "rules": ["extra/none.dlog"]})
    (inbox / "running").mkdir()
    claimed = inbox / "running" / "job.json"
    os.rename(spec, claimed)
    (inbox / "running" / ".job.json.attempts").write_text("1")  # written at claim time
    time.sleep(0.02)
    assert run_job(claimed, out, base=inbox).exit_code == 0  # ... then no result file
    n = Watcher(inbox, out, poll_interval=0.05, log=lambda m: None).run(once=True)
    assert n == 1 and len(published(out)) == 1
    exactly_once(inbox, out)


@pytest.mark.reliability("a query result larger than the worker's file size limit "
                         "(RLIMIT_FSIZE: EFBIG, as on a full disk)", "that job fails with "
                         "OutputError in status.json and failed/*.reason.txt, its partial "
                         "result files removed; the same watcher then runs the next job")
def test_full_disk_fails_the_job_and_the_watcher_serves_the_next(tmp_path: Path) -> None:
    inbox, out = reference_inbox(tmp_path / "in"), tmp_path / "out"
    w = WatcherProcess(inbox, out, fsize=256 << 10)
    try:
        drop(inbox, "big", {**REFERENCE, "rules": ["extra/none.dlog"],
                            "queries": ["extra/all.rq"]})
        wait_for(lambda: (inbox / "failed" / "big.json.reason.txt").exists())
        drop(inbox, "job", REFERENCE)
        wait_for(lambda: (inbox / "done" / "job.json").exists())
        assert w.proc.poll() is None
    finally:
        assert w.stop() == 0
    reason = (inbox / "failed" / "big.json.reason.txt").read_text()
    assert "File too large" in reason and "exit 1" in reason
    failed = next(d for d in published(out) if d.name.startswith("big_"))
    err = status(failed)["error"]
    assert err["type"] == "OutputError" and "free disk space" in err["hint"]
    assert list((failed / "results").iterdir()) == []  # no half-written all.nt
    done = next(d for d in published(out) if d.name.startswith("job_"))
    assert results(done) == baseline(REFERENCE) and not working(out)


@pytest.fixture
def small_tmpfs(tmp_path: Path):
    """A 1 MiB tmpfs mounted at ``tmp_path/full`` (skipped where mounting is not allowed)."""
    mnt = tmp_path / "full"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)],
                          capture_output=True, text=True)
    if done.returncode or not os.path.ismount(mnt):
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        if subprocess.run(["umount", str(mnt)], capture_output=True).returncode:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


@pytest.mark.reliability("output root on a real 1 MiB tmpfs that fills up (ENOSPC) while a "
                         "1.5 MB result is written", "that job fails with OutputError \"No "
                         "space left on device\", its partial result removed; the same "
                         "watcher then writes the next job into the freed space")
def test_real_full_disk_enospc(tmp_path: Path, small_tmpfs: Path) -> None:
    inbox, out = reference_inbox(tmp_path / "in"), small_tmpfs / "out"
    w = WatcherProcess(inbox, out)
    try:
        drop(inbox, "big", {**REFERENCE, "rules": ["extra/none.dlog"],
                            "queries": ["extra/all.rq"]})
        wait_for(lambda: (inbox / "failed" / "big.json.reason.txt").exists())
        drop(inbox, "job", REFERENCE)
        wait_for(lambda: (inbox / "done" / "job.json").exists())
    finally:
        assert w.stop() == 0
    assert "No space left on device" in (inbox / "failed" / "big.json.reason.txt").read_text()
    done = next(d for d in published(out) if d.name.startswith("job_"))
    assert results(done) == baseline(REFERENCE) and not working(out)


@pytest.mark.reliability("output root is a regular file (not a folder) while the watcher "
                         "runs", "the watcher starts anyway; the job fails with OutputError "
                         "and the reason in failed/*.reason.txt (no job folder can exist); "
                         "once the root is fixed the next job succeeds")
def test_unusable_output_root_fails_jobs_not_the_watcher(tmp_path: Path) -> None:
    inbox, out = reference_inbox(tmp_path / "in"), tmp_path / "out"
    out.write_text("not a folder")
    quick = {**REFERENCE, "rules": ["extra/none.dlog"]}
    w = WatcherProcess(inbox, out)
    try:
        drop(inbox, "a", quick)
        wait_for(lambda: (inbox / "failed" / "a.json.reason.txt").exists())
        assert w.proc.poll() is None
        out.unlink()
        drop(inbox, "b", quick)
        wait_for(lambda: (inbox / "done" / "b.json").exists())
    finally:
        assert w.stop() == 0
    reason = (inbox / "failed" / "a.json.reason.txt").read_text()
    assert "cannot write the job folder" in reason and "results folder: none" in reason
    assert "warning: output root" in w.log()
    assert [status(d)["status"] for d in published(out)] == ["succeeded"]


@pytest.mark.reliability("reasoning that needs more than resources.memory (64Mi, a cross "
                         "product) next to a normal job", "DuckDB's memory limit stops it: "
                         "exit 3, LimitExceeded at json_path resources.memory; the other job "
                         "succeeds")
def test_job_over_its_memory_is_stopped_while_another_completes(tmp_path: Path) -> None:
    from graphcrime.runner.watch import Watcher

    inbox, out = reference_inbox(tmp_path / "in"), tmp_path / "out"
    drop(inbox, "hog", {**REFERENCE, "rules": ["extra/cross.dlog"], "queries": ["extra/all.rq"],
                        "resources": {"memory": "64Mi"}})
    drop(inbox, "job", REFERENCE)
    assert Watcher(inbox, out, workers=2, poll_interval=0.05, log=lambda m: None
                   ).run(once=True) == 2
    reason = (inbox / "failed" / "hog.json.reason.txt").read_text()
    assert "exit 3" in reason and "resources.memory" in reason
    by_name = {d.name.split("_")[0]: d for d in published(out)}
    err = status(by_name["hog"])["error"]
    assert err["type"] == "LimitExceeded" and err["json_path"] == "resources.memory"
    assert "Out of Memory" in err["message"] and err["hint"]
    assert results(by_name["job"]) == baseline(REFERENCE)


@pytest.mark.reliability("a worker whose resident memory passes resources.memory outside "
                         "DuckDB (600 MiB of Python bytes in a double; grace set to 0), next "
                         "to a normal job",
                         "the watcher's RSS watchdog kills its process group and fails it "
                         "(not retried), reason names the memory; the other job succeeds")
def test_rss_watchdog_kills_a_worker_over_its_memory(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from runner_helpers import HERE, write_spec

    from graphcrime.runner import watch

    monkeypatch.setenv("PYTHONPATH", str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.setattr(watch, "MEMORY_GRACE", (1.0, 0))
    inbox = tmp_path / "in"
    for d in ("data", "rules", "queries"):
        (inbox / d).mkdir(parents=True)
    (inbox / "data" / "x.nt").write_text("<http://e/a> <http://e/b> <http://e/c> .\n")
    (inbox / "rules" / "hog.dlog").write_text("% HOG 600\n")
    (inbox / "rules" / "ok.dlog").write_text("% nothing\n")
    (inbox / "queries" / "q.rq").write_text("SELECT ?S ?P ?O WHERE { ?S ?P ?O }")
    write_spec(inbox / "hog.json", rules=["rules/hog.dlog"], resources={"memory": "160Mi"})
    write_spec(inbox / "ok.json")
    t = time.monotonic()
    watch.Watcher(inbox, tmp_path / "out", workers=2, poll_interval=0.05,
                  store_factory="runner_hogstore:HogStore", log=lambda m: None).run(once=True)
    assert time.monotonic() - t < 50  # the hog sleeps 60 s after allocating
    reason = (inbox / "failed" / "hog.json.reason.txt").read_text()
    assert "resident memory" in reason and "167,772,160" in reason
    assert names(inbox / "done") == ["ok.json"] and names(inbox / "running") == []
    assert len(published(tmp_path / "out")) == 1 and not working(tmp_path / "out")
