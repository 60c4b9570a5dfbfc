"""The watched folder with real files and real worker processes (pyoxigraph test double)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from runner_helpers import HERE, write_spec

from graphcrime.runner import watch
from graphcrime.runner.watch import Watcher

pytestmark = pytest.mark.slow
FACTORY = "runner_oxistore:OxiStore"


@pytest.fixture(autouse=True)
def _worker_path(monkeypatch: pytest.MonkeyPatch) -> None:
    path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", str(HERE) + (os.pathsep + path if path else ""))


def watcher(inbox: Path, out: Path, **kw) -> Watcher:
    kw.setdefault("workers", 2)
    return Watcher(inbox, out, poll_interval=0.05, store_factory=FACTORY,
                   log=lambda m: None, **kw)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def statuses(out: Path) -> dict[str, dict]:
    docs = [json.loads((d / "status.json").read_text()) for d in out.iterdir()
            if not d.name.startswith(".")]
    return {Path(d["spec"]).name: d for d in docs}


def test_several_specs_bad_spec_and_failing_rules(served: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (served / "rules" / "bad.dlog").write_text("BROKEN\n")
    write_spec(served / "a.json", name="a")
    write_spec(served / "b.json", name="b", parameters={"min_amount": 5})
    write_spec(served / "rules-fail.json", rules=["rules/bad.dlog"])
    (served / "not-json.json").write_text("{oops")
    (served / ".hidden.json").write_text("{}")
    (served / "draft.part.json").write_text("{}")
    (served / "notes.txt").write_text("not a spec")
    (served / "job.json").unlink()
    assert watcher(served, out).run(once=True) == 4
    assert names(served / "done") == ["a.json", "b.json"]
    assert names(served / "failed") == ["not-json.json", "not-json.json.reason.txt",
                                        "rules-fail.json", "rules-fail.json.reason.txt"]
    assert names(served / "running") == []
    assert {".hidden.json", "draft.part.json", "notes.txt"} <= set(os.listdir(served))
    reason = (served / "failed" / "rules-fail.json.reason.txt").read_text()
    assert "bad.dlog:1:1: syntax error" in reason and "exit 2" in reason
    assert "not valid JSON" in (served / "failed" / "not-json.json.reason.txt").read_text()
    st = statuses(out)
    assert st["a.json"]["status"] == "succeeded" and st["rules-fail.json"]["status"] == "failed"
    assert len(st) == 4 and not list(out.glob(".tmp-*"))
    # the spec paths were resolved relative to running/ -> the served root is the inbox
    assert (out / st["b.json"]["job_id"] / "results" / "big.csv").is_file()


def test_killed_worker_is_retried_once(served: Path, tmp_path: Path) -> None:
    (served / "rules" / "once.dlog").write_text("% CRASHONCE\n")
    (served / "rules" / "always.dlog").write_text("% CRASHALWAYS\n")
    write_spec(served / "once.json", rules=["rules/once.dlog"])
    write_spec(served / "always.json", rules=["rules/always.dlog"])
    (served / "job.json").unlink()
    watcher(served, tmp_path / "out").run(once=True)
    assert names(served / "done") == ["once.json"]
    assert names(served / "failed") == ["always.json", "always.json.reason.txt"]
    reason = (served / "failed" / "always.json.reason.txt").read_text()
    assert "killed by signal 9" in reason and "attempt 2 of 2" in reason
    assert list(statuses(tmp_path / "out")) == ["once.json"]
    assert not list((tmp_path / "out").glob(".tmp-*"))  # the crashes left no working folders


def test_worker_far_past_its_timeout_is_killed(served: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch, "KILL_GRACE", (1.0, 0.5))
    (served / "rules" / "stuck.dlog").write_text("% SLEEP 60\n")
    write_spec(served / "job.json", rules=["rules/stuck.dlog"], limits={"timeout_seconds": 0.2})
    started = time.monotonic()
    watcher(served, tmp_path / "out").run(once=True)
    assert time.monotonic() - started < 20
    assert "limits.timeout_seconds" in (served / "failed" / "job.json.reason.txt").read_text()
    assert os.listdir(tmp_path / "out") == []


def test_recovers_specs_left_in_running(served: Path, tmp_path: Path) -> None:
    (served / "running").mkdir()
    os.rename(served / "job.json", served / "running" / "job.json")
    watcher(served, tmp_path / "out").run(once=True)
    assert names(served / "done") == ["job.json"] and names(served / "running") == []


def test_resources_serialise_jobs_that_do_not_fit(served: Path, tmp_path: Path) -> None:
    (served / "rules" / "slow.dlog").write_text("% SLEEP 0.4\n")
    for n in ("x", "y"):
        write_spec(served / f"{n}.json", rules=["rules/slow.dlog"], resources={"cores": 2})
    (served / "job.json").unlink()
    watcher(served, tmp_path / "out", cores=3, workers=4).run(once=True)
    st = sorted(statuses(tmp_path / "out").values(), key=lambda d: d["started"])
    assert len(st) == 2 and st[0]["finished"] <= st[1]["started"]


def test_fits_counts_cores_memory_and_workers(tmp_path: Path) -> None:
    w = watcher(tmp_path, tmp_path / "o", cores=4, memory=8 << 30, workers=2)
    assert w.fits(99, 99 << 30)  # nothing running: a big job runs alone

    class R:
        cores, memory = 2, 4 << 30

    w.running.append(R())  # type: ignore[arg-type]
    assert w.fits(2, 4 << 30) and not w.fits(3, 0) and not w.fits(1, 5 << 30)
    w.running.append(R())  # type: ignore[arg-type]
    assert not w.fits(0, 0)  # two workers busy


def test_sigterm_requeues_running_job(served: Path, tmp_path: Path) -> None:
    (served / "rules" / "slow.dlog").write_text("% SLEEP 30\n")
    write_spec(served / "job.json", rules=["rules/slow.dlog"])
    code = (f"from graphcrime.runner.watch import Watcher; "
            f"Watcher({str(served)!r}, {str(tmp_path / 'out')!r}, poll_interval=0.05, "
            f"store_factory={FACTORY!r}).run()")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not (served / "running" / "job.json").exists():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        time.sleep(0.5)  # the worker is inside reason()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        output, _ = proc.communicate(timeout=5)
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout:
            proc.stdout.close()
    assert "requeued job.json" in output
    assert (served / "job.json").exists() and names(served / "running") == []
    assert os.listdir(tmp_path / "out") == []  # the interrupted job left nothing half-written


def test_files_still_being_written_wait(tmp_path: Path) -> None:
    w = watcher(tmp_path, tmp_path / "out")
    spec = tmp_path / "growing.json"
    spec.write_text('{"data": ')
    assert w.ready() == ([], True)  # new and fresh: settling
    with open(spec, "a") as f:
        f.write('["x"]')
    assert w.ready() == ([], True)  # changed since the last scan
    assert w.ready() == ([], True)  # unchanged, but not a whole JSON document yet
    with open(spec, "a") as f:
        f.write('}')
    assert w.ready() == ([], True)  # complete, but changed since the last scan
    assert w.ready() == ([spec], False)  # complete and unchanged for one poll: taken
    old = tmp_path / "old.json"
    old.write_text("{}")
    os.utime(old, (time.time() - 60, time.time() - 60))
    assert watcher(tmp_path, tmp_path / "out").ready()[0] == [old]  # older than settle


def test_two_watchers_claim_each_spec_once(served: Path, tmp_path: Path) -> None:
    import threading

    (served / "job.json").unlink()
    for i in range(6):
        write_spec(served / f"s{i}.json", name=f"s{i}")
    counts: list[int] = []
    threads = [threading.Thread(target=lambda: counts.append(
        watcher(served, tmp_path / "out", workers=1).run(once=True))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    # (a spec claimed in the same instant by both may be renamed s0-2.json: still once)
    assert sum(counts) == 6 and len(names(served / "done")) == 6
    jobs = sorted(d["job_id"].split("_")[0] for d in statuses(tmp_path / "out").values())
    assert jobs == [f"s{i}" for i in range(6)]


def test_watcher_notifies(served: Path, tmp_path: Path) -> None:
    seen = tmp_path / "seen.json"
    script = "import sys; open(sys.argv[1], 'w').write(sys.stdin.read())"
    cmd = f'{sys.executable} -c "{script}" {seen}'
    watcher(served, tmp_path / "out", notify={"command": cmd}).run(once=True)
    assert json.loads(seen.read_text())["status"] == "succeeded"
