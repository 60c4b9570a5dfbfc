"""The watcher under load and odd drops: 50 specs at once on 2 workers, specs written slowly
(or rewritten) while the watcher scans, specs that are huge, devices or symlinks, and the
same jobs on 1 or 2 workers giving byte-identical results.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest
from fault_helpers import REFERENCE, drop, published, reference_inbox, results, status, working
from runner_helpers import HERE, write_spec

from graphcrime.runner.pipeline import run_job
from graphcrime.runner.spec import MAX_SPEC_BYTES
from graphcrime.runner.watch import Watcher

FACTORY = "runner_oxistore:OxiStore"


@pytest.fixture(autouse=True)
def _worker_path(monkeypatch: pytest.MonkeyPatch) -> None:
    path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", str(HERE) + (os.pathsep + path if path else ""))


def watcher(inbox: Path, out: Path, **kw) -> Watcher:
    kw.setdefault("workers", 2)
    return Watcher(inbox, out, poll_interval=0.05, log=lambda m: None, **kw)


def names(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


@pytest.mark.slow
@pytest.mark.reliability("50 specs dropped at once, 2 workers (double)",
                         "each processed exactly once: 50 done, 50 job folders with distinct "
                         "names, all succeeded, never more than 2 jobs at a time")
def test_fifty_specs_at_once_each_processed_exactly_once(served: Path, tmp_path: Path) -> None:
    (served / "job.json").unlink()
    for i in range(50):
        write_spec(served / f"s{i:02d}.json", name=f"s{i:02d}")
    out = tmp_path / "out"
    assert watcher(served, out, store_factory=FACTORY).run(once=True) == 50
    assert names(served / "done") == [f"s{i:02d}.json" for i in range(50)]
    assert names(served / "running") == [] and names(served / "failed") == []
    docs = [status(d) for d in published(out)]
    assert sorted(d["job_id"].split("_")[0] for d in docs) == [f"s{i:02d}" for i in range(50)]
    assert all(d["status"] == "succeeded" for d in docs) and not working(out)
    events = sorted([(d["started"], 1) for d in docs] + [(d["finished"], -1) for d in docs])
    running = [sum(e for _, e in events[:i + 1]) for i in range(len(events))]
    assert max(running) <= 2


def slow_writer(path: Path, text: str, chunks: int, pause: float, old_mtime: bool) -> None:
    """Write ``text`` to ``path`` in pieces, pausing longer than a poll between them;
    ``old_mtime`` sets the mtime back an hour after each piece (as ``cp -p`` does)."""
    step = -(-len(text) // chunks)
    with open(path, "w") as f:
        for i in range(0, len(text), step):
            f.write(text[i:i + step])
            f.flush()
            if old_mtime:
                os.utime(path, (time.time() - 3600, time.time() - 3600))
            time.sleep(pause)


@pytest.mark.slow
@pytest.mark.parametrize("old_mtime", [False, True], ids=["fresh", "cp-p-old-mtime"])
@pytest.mark.reliability("a spec written (or rewritten) slowly in chunks, pausing longer "
                         "than a poll, with a fresh or an old (cp -p) mtime (double)", "not taken "
                         "until it is a whole JSON document and unchanged for a poll; runs "
                         "with its full content (used to be taken half-written and failed)")
def test_slowly_written_spec_is_not_taken_half_written(served: Path, tmp_path: Path,
                                                       old_mtime: bool) -> None:
    (served / "job.json").unlink()
    doc = {"data": ["data/*.nt"], "rules": ["rules/ok.dlog"], "queries": ["queries/*.rq"],
           "parameters": {"pad": "x" * 4000}, "name": "whole"}  # the name comes last
    writer = threading.Thread(target=slow_writer, args=(
        served / "slow.json", json.dumps(doc), 8, 0.25, old_mtime))
    writer.start()
    time.sleep(0.05)
    try:
        watcher(served, tmp_path / "out", store_factory=FACTORY).run(once=True)
    finally:
        writer.join()
    assert names(served / "failed") == [] and names(served / "done") == ["slow.json"]
    [job] = published(tmp_path / "out")
    assert job.name.startswith("whole_") and status(job)["status"] == "succeeded"


@pytest.mark.reliability("a spec that is a symlink to /dev/zero, a FIFO, or a 1 GiB sparse "
                         "file, given to run_job", "refused with exit 2 without reading it "
                         "whole (not a regular file / larger than MAX_SPEC_BYTES); a failed "
                         "job folder says why")
def test_device_fifo_and_huge_specs_refused_unread(served: Path, tmp_path: Path) -> None:
    os.symlink("/dev/zero", served / "zero.json")
    os.mkfifo(served / "fifo.json")
    with open(served / "huge.json", "wb") as f:
        f.truncate(1 << 30)
    for name, words in [("zero", "not a regular file"), ("fifo", "not a regular file"),
                        ("huge", f"larger than {MAX_SPEC_BYTES:,} bytes")]:
        t = time.perf_counter()
        out = run_job(served / f"{name}.json", tmp_path / "out")
        assert time.perf_counter() - t < 5 and out.exit_code == 2
        err = status(out.folder)["error"]
        assert words in err["message"] and err["json_path"] == "$"


@pytest.mark.slow
@pytest.mark.reliability("in the inbox: a symlink to /dev/zero, a symlink to a valid spec, "
                         "a spec over the size cap (double)", "symlinks are filed in "
                         "failed/ unread (links are not followed), the huge spec fails with "
                         "its size; a good spec beside them runs")
def test_inbox_symlinks_and_huge_specs_are_refused(served: Path, tmp_path: Path) -> None:
    os.symlink("/dev/zero", served / "zero.json")
    (served / "elsewhere").mkdir()
    write_spec(served / "elsewhere" / "real.json")
    os.symlink(served / "elsewhere" / "real.json", served / "link.json")
    (served / "huge.json").write_text(json.dumps({"pad": "x" * MAX_SPEC_BYTES}))
    watcher(served, tmp_path / "out", store_factory=FACTORY).run(once=True)
    assert names(served / "done") == ["job.json"]
    assert names(served / "failed") == ["huge.json", "huge.json.reason.txt", "link.json",
                                        "link.json.reason.txt", "zero.json",
                                        "zero.json.reason.txt"]
    assert (served / "failed" / "zero.json").is_symlink()  # moved, never opened
    assert "not a regular file" in (served / "failed" / "zero.json.reason.txt").read_text()
    assert "larger than" in (served / "failed" / "huge.json.reason.txt").read_text()


@pytest.mark.slow
@pytest.mark.reliability("the same 4 reference jobs (real engine) run with 1 worker and "
                         "with 2 workers", "byte-identical result files")
def test_results_do_not_depend_on_the_number_of_workers(tmp_path: Path) -> None:
    variants = {f"len{n}-min{m}": {**REFERENCE, "parameters": {"min_amount": m,
                                                               "max_chain_length": n}}
                for n, m in [(2, 100), (3, 1000), (4, 100), (6, 5000)]}
    by_workers = {}
    for workers in (1, 2):
        inbox = reference_inbox(tmp_path / f"in{workers}")
        for name, doc in variants.items():
            drop(inbox, name, {**doc, "name": name})
        out = tmp_path / f"out{workers}"
        assert watcher(inbox, out, workers=workers).run(once=True) == 4
        by_workers[workers] = {d.name.split("_")[0]: results(d) for d in published(out)}
    assert sorted(by_workers[1]) == sorted(variants)
    assert by_workers[1] == by_workers[2]
    assert all(any(files.values()) for files in by_workers[1].values())  # not all empty


def test_run_job_outcome_when_nothing_can_be_written(served: Path, tmp_path: Path) -> None:
    """Output root under a regular file: exit 1, OutputError, no folder pretended."""
    (tmp_path / "file").write_text("")
    out = run_job(served / "job.json", tmp_path / "file" / "out")
    assert out.exit_code == 1 and out.status["folder"] is None
    assert out.status["error"]["type"] == "OutputError" and not out.folder.exists()


def test_settling_takes_broken_specs_after_settle_and_doctests(tmp_path: Path) -> None:
    import doctest

    from graphcrime.runner import inbox

    assert doctest.testmod(inbox).failed == 0
    s = inbox.Settling(settle=0.3)
    (tmp_path / "broken.json").write_text("{oops")
    (tmp_path / "x.json.part").write_text("{}")  # the atomic-rename convention: ignored
    os.utime(tmp_path / "broken.json", (time.time() - 60, time.time() - 60))  # cp -p
    assert s.scan(tmp_path) == ([], [], True)  # never parses: an old mtime proves nothing
    assert s.scan(tmp_path) == ([], [], True)  # unchanged, but not yet for `settle`
    time.sleep(0.35)
    assert s.scan(tmp_path) == ([tmp_path / "broken.json"], [], False)  # taken, to be failed
