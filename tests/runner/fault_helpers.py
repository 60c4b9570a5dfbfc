"""Fault-injection helpers: a generated reference inbox, a real ``graphcrime watch`` process,
atomic spec drops, waits, and the results of a fault-free run to compare against.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from runner_helpers import HERE

REPO = HERE.parents[1]
ALL_TRIPLES = "SELECT ?S ?P ?O WHERE { ?S ?P ?O }\n"
# the reference rules and queries, chains up to 6 transactions: a job of a few seconds
REFERENCE = {"data": ["data/*.nt"], "rules": ["rules/*.dlog"], "queries": ["queries/*.rq"],
             "parameters": {"min_amount": 100, "max_chain_length": 6}}
# every pair of subjects, from every pair of triples: ?p and ?q are not functions of the
# pair, so the engine has to de-duplicate ~100M rows (a hash table bigger than 64 MiB)
CROSS_PRODUCT = """@prefix : <http://e/> .
[?x, :pair, ?y] :- [?x, ?p, ?c], [?y, ?q, ?d] .
"""


@functools.cache
def _source() -> Path:
    """Generated data (1,000 transactions, planted typologies), reference rules and queries."""
    from generator import generate

    root = Path(tempfile.mkdtemp(prefix="gc-faults-"))
    atexit.register(shutil.rmtree, root, True)
    generate(root / "data", transactions=1000, parties=1000, seed=7, typologies="all")
    for extra in root.joinpath("data").iterdir():
        if extra.suffix != ".nt":
            extra.unlink()
    shutil.copytree(REPO / "rules", root / "rules")
    shutil.copytree(REPO / "queries", root / "queries")
    (root / "extra").mkdir()
    (root / "extra" / "all.rq").write_text(ALL_TRIPLES)
    (root / "extra" / "cross.dlog").write_text(CROSS_PRODUCT)
    (root / "extra" / "none.dlog").write_text("# no rules\n")
    return root


def reference_inbox(path: Path) -> Path:
    """A fresh inbox at ``path`` holding a copy of the generated data, rules and queries."""
    shutil.copytree(_source(), path)
    return path


@functools.cache
def _baseline(doc_json: str) -> dict[str, bytes]:
    from graphcrime.runner.pipeline import run_job

    root = Path(tempfile.mkdtemp(prefix="gc-baseline-"))
    atexit.register(shutil.rmtree, root, True)
    spec = drop(reference_inbox(root / "in"), "base", json.loads(doc_json))
    out = run_job(spec, root / "out")
    assert out.exit_code == 0, out.status
    return results(out.folder)


def baseline(doc: dict) -> dict[str, bytes]:
    """Result files of ``doc`` run once in this process with no fault (the oracle for reruns)."""
    return _baseline(json.dumps(doc, sort_keys=True))


def results(job_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((job_dir / "results").iterdir())}


def drop(inbox: Path, name: str, doc: dict) -> Path:
    """Drop a spec the recommended way: write ``name.json.part``, rename it into place."""
    part = inbox / f"{name}.json.part"
    part.write_text(json.dumps(doc))
    os.rename(part, inbox / f"{name}.json")
    return inbox / f"{name}.json"


def wait_for(what: Callable[[], object], timeout: float = 120, message: str = "") -> object:
    deadline = time.monotonic() + timeout
    while not (value := what()):
        assert time.monotonic() < deadline, f"timed out waiting for {message or what}"
        time.sleep(0.05)
    return value


def published(out: Path) -> list[Path]:
    """Job folders readers can see (working folders are dot-named)."""
    return sorted(p for p in out.iterdir() if not p.name.startswith(".")) if out.is_dir() else []


def working(out: Path) -> list[Path]:
    return sorted(out.glob(".tmp-*")) if out.is_dir() else []


def status(job_dir: Path) -> dict:
    return json.loads((job_dir / "status.json").read_text())


def reasoning(out: Path) -> bool:
    """True once some worker's job.log says it is inside ``reason``."""
    for tmp in working(out):
        try:
            if "reason with" in (tmp / "job.log").read_text():
                return True
        except OSError:
            continue
    return False


class WatcherProcess:
    """``graphcrime watch INBOX --output-root OUT`` as a real process, its log in a file."""

    def __init__(self, inbox: Path, out: Path, *args: str, fsize: int | None = None) -> None:
        self.log_path = inbox.parent / f"watch-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115
        cmd = [sys.executable, "-m", "graphcrime", "watch", str(inbox), "--output-root",
               str(out), "--poll-interval", "0.1", *args]

        def limit() -> None:  # runs in the child: its workers inherit the file size limit
            import resource

            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     preexec_fn=limit if fsize else None)

    def log(self) -> str:
        return self.log_path.read_text()

    def worker_pids(self) -> list[int]:
        return [int(p) for p in re.findall(r", pid (\d+)\)", self.log())]

    def kill(self) -> None:
        """``kill -9`` the watcher only (its workers live on in their own sessions)."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> int:
        """SIGTERM, wait, then SIGKILL any worker group this watcher started that is left."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in self.worker_pids():
            kill_group(pid)
        self._log.close()
        return self.proc.returncode


@contextlib.contextmanager
def reference_job_reasoning(root: Path) -> Iterator[tuple[Path, Path, WatcherProcess]]:
    """``(inbox, out, watcher)``: a watcher over a reference inbox under ``root`` whose job
    ``job.json`` has reached reason(), the moment the fault tests strike; stopped on exit
    (:meth:`WatcherProcess.stop` may be called again inside, it is idempotent)."""
    inbox, out = reference_inbox(root / "in"), root / "out"
    w = WatcherProcess(inbox, out)
    try:
        drop(inbox, "job", REFERENCE)
        wait_for(lambda: reasoning(out), message="the worker to reach reason()")
        yield inbox, out, w
    finally:
        w.stop()


def kill_group(pid: int) -> None:
    """``kill -9`` a worker's process group (the worker is its session leader)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][:1] not in ("Z", "X")
    except OSError:
        return False
