"""The watched folder: claim ``INBOX/*.json`` specs, run each in its own process, file them.

Layout: ``INBOX/running/`` (claimed, by ``flock`` then an atomic link+unlink that never
overwrites), ``INBOX/done/`` and ``INBOX/failed/`` (with ``<spec>.reason.txt`` beside a failed
spec). Polling only. A spec is taken once it is complete (see :mod:`graphcrime.runner.inbox`;
write ``x.json.part`` and rename it to ``x.json`` to skip the wait); dotfiles and
``~``/``.part``/``.tmp`` names are ignored, symlinks and other non-regular files are refused.
Jobs run within the machine's cores and memory as declared in each spec's ``resources``
(a job bigger than the machine runs alone); a worker whose resident memory passes its
``resources.memory`` (with :data:`MEMORY_GRACE`) is killed and its job failed. A killed worker
is retried once, then failed. Specs in ``running/`` whose lock is free (their watcher and
worker died) are adopted: filed from the worker's result or published folder, else requeued.
SIGINT/SIGTERM requeue running jobs and stop.

>>> w = Watcher("/tmp/inbox-doctest", "/tmp/out-doctest", workers=2, cores=4)
>>> w.fits(3, 0), w.fits(5, 0)
(True, True)
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from graphcrime.machine import machine_cores, machine_memory
from graphcrime.runner.inbox import Settling, find_published, lock
from graphcrime.runner.spec import parse_size, read_spec_text

MAX_ATTEMPTS = 2
KILL_GRACE = 1.1, 30.0  # a worker past limits.timeout_seconds * 1.1 + 30 s is killed
MEMORY_GRACE = 1.5, 512 << 20  # ... or past resources.memory * 1.5 + 512 MiB resident


def declared_resources(path: Path) -> tuple[int | None, int, float | None]:
    """``(cores, memory bytes, timeout s)`` from a spec (``None``/0: not declared); defaults
    when invalid (it fails later)."""
    try:
        doc = json.loads(read_spec_text(path))
        res, lim = doc.get("resources", {}), doc.get("limits", {})
        cores = res.get("cores")
        cores = cores if isinstance(cores, int) and cores > 0 else None
        memory = parse_size(res["memory"]) if "memory" in res else 0
        timeout = lim.get("timeout_seconds")
        ok = isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0
        return cores, memory, float(timeout) if ok else None
    except Exception:  # noqa: BLE001
        return None, 0, None


@dataclass
class Running:
    spec: Path
    proc: subprocess.Popen
    result: Path
    cores: int
    memory: int
    attempt: int
    lock_fd: int
    deadline: float | None = None
    timed_out: bool = False
    rss_over: int = 0  # resident bytes when killed for passing resources.memory


class Watcher:
    """Poll ``inbox`` and run its specs; :meth:`run` until stopped (or once, for cron/tests).

    ``store_factory`` (``"module:attr"``) replaces the engine's Store in the workers (tests);
    ``cores``/``memory`` default to the machine's; ``workers`` defaults to ``cores``.
    """

    def __init__(self, inbox: str | Path, output_root: str | Path, *, workers: int | None = None,
                 poll_interval: float = 1.0, settle: float = 2.0,
                 serve_root: str | Path | None = None, notify: dict | None = None,
                 store_factory: str | None = None, cores: int | None = None,
                 memory: int | None = None, log: Callable[[str], object] = print) -> None:
        self.inbox = Path(inbox).absolute()
        self.output_root = Path(output_root).absolute()
        self.cores = cores or machine_cores()
        self.memory = memory or machine_memory()
        self.workers = workers or self.cores
        self.poll_interval, self.settle = poll_interval, settle
        self.serve_root = Path(serve_root).absolute() if serve_root is not None else self.inbox
        self.notify = notify or {}
        self.store_factory = store_factory
        self.log = log
        self.running: list[Running] = []
        self.settling = Settling(settle)
        self.stopping = False
        self.left: list[str] = []  # after run(once=True) was stopped: specs not yet filed

    def fits(self, cores: int | None, memory: int) -> bool:
        """Whether a job declaring ``cores`` (None counts as 1) and ``memory`` starts now."""
        if not self.running:
            return True
        used_c = sum(r.cores for r in self.running)
        used_m = sum(r.memory for r in self.running)
        return (len(self.running) < self.workers and used_c + (cores or 1) <= self.cores
                and used_m + memory <= self.memory)

    def threads_for(self, cores: int | None) -> int:
        """Cores a starting job may use: what it declares (at most the machine's), else every
        core that the running jobs' declarations leave free (at least one).

        >>> w = Watcher("/tmp/inbox-doctest", "/tmp/out-doctest", cores=4)
        >>> w.threads_for(None), w.threads_for(2), w.threads_for(16)
        (4, 2, 4)
        """
        if cores is not None:
            return min(cores, self.cores)
        return max(1, self.cores - sum(r.cores for r in self.running))

    # -- folders ---------------------------------------------------------------------------
    def _dirs(self) -> None:
        for d in ("running", "done", "failed"):
            (self.inbox / d).mkdir(parents=True, exist_ok=True)
        try:
            self.output_root.mkdir(parents=True, exist_ok=True)
        except OSError as e:  # each job will fail with the reason until it is fixed
            self.log(f"warning: output root {self.output_root} is not usable: {e}")

    def _move(self, src: Path, folder: str) -> Path | None:
        """Atomic, never-overwriting move into ``inbox/folder`` (a numbered name if taken);
        a symlink is moved itself, never followed."""
        stem, n = src.stem, 1
        while True:
            dst = self.inbox / folder / (f"{stem}.json" if n == 1 else f"{stem}-{n}.json")
            try:
                os.link(src, dst, follow_symlinks=False)
            except FileExistsError:
                n += 1
                continue
            except FileNotFoundError:
                return None  # someone else claimed it
            try:
                os.unlink(src)
            except FileNotFoundError:
                os.unlink(dst)  # another watcher claimed it first and removed the source
                return None
            return dst

    def _attempts_file(self, spec: Path) -> Path:
        return spec.with_name(f".{spec.name}.attempts")

    def recover(self) -> int:
        """Adopt orphans in ``running/`` (unlocked: no live watcher or worker has them).

        A finished one is filed from its worker's result file or published job folder, so it
        is never run twice; the others are requeued, their attempt count kept (a spec whose
        worker died on its last attempt is failed). Returns how many were filed.
        """
        filed = 0
        mine = {r.spec.name for r in self.running}
        for spec in sorted((self.inbox / "running").glob("*.json")):
            if spec.name in mine or (fd := lock(spec)) is None:
                continue
            try:
                attempts = self._attempts_file(spec)
                result = spec.with_name(f".{spec.name}.result")
                claimed_at = attempts.stat().st_mtime if attempts.exists() else 0.0
                if result.exists():
                    self._file_result(spec, result)
                    filed += 1
                elif (doc := find_published(self.output_root, spec, claimed_at)) is not None:
                    self.log(f"{spec.name}: its job {doc['job_id']} was published by a worker "
                             f"that died before reporting")
                    self._file_status(spec, doc)
                    filed += 1
                else:
                    self._discard_working_folders(spec)
                    attempt = int(attempts.read_text() or 0) if attempts.exists() else 0
                    if attempt >= MAX_ATTEMPTS:
                        self._finish(spec, False, f"worker died on attempt {attempt} of "
                                     f"{MAX_ATTEMPTS} (its watcher died too); no job result\n",
                                     None)
                        filed += 1
                    elif self._move(spec, ".") is not None:
                        self.log(f"recovered {spec.name} from running/")
            finally:
                os.close(fd)
        return filed

    def held_elsewhere(self) -> list[Path]:
        """Specs in ``running/`` that are not this watcher's and whose lock someone holds: a
        live worker whose watcher died (adopted when it ends), or another watcher's job."""
        held = []
        mine = {r.spec.name for r in self.running}
        for spec in sorted((self.inbox / "running").glob("*.json")):
            if spec.name in mine:
                continue
            fd = lock(spec)
            if fd is None:
                held.append(spec)
            else:
                os.close(fd)
        return held

    # -- scanning and scheduling -----------------------------------------------------------
    def ready(self) -> tuple[list[Path], bool]:
        """Complete specs in the inbox, oldest first, and whether any are still settling.

        Symlinks and other non-regular ``*.json`` entries are filed as failed on the way.
        """
        specs, refused, pending = self.settling.scan(self.inbox)
        for entry in refused:
            if (dst := self._move(entry, "failed")) is not None:
                dst.with_name(dst.name + ".reason.txt").write_text(
                    "refused: not a regular file (symlinks are not followed in the inbox; "
                    "copy the spec in, or write x.json.part and rename it to x.json)\n",
                    encoding="utf-8")
                self.log(f"{entry.name}: refused (not a regular file)")
        return specs, pending

    def _start(self, spec: Path) -> None:
        fd = lock(spec)  # before the move: no other watcher can take it for an orphan
        if fd is None:
            return
        claimed = self._move(spec, "running")
        if claimed is None:
            os.close(fd)
            return
        declared, memory, timeout = declared_resources(claimed)
        cores, threads = declared or 1, self.threads_for(declared)
        attempts = self._attempts_file(claimed)
        attempt = int(attempts.read_text() or 0) + 1 if attempts.exists() else 1
        attempts.write_text(str(attempt))
        result = claimed.with_name(f".{claimed.name}.result")
        result.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "graphcrime.runner.worker", str(claimed),
               "--output-root", str(self.output_root), "--result", str(result),
               "--notify", json.dumps(self.notify), "--base", str(self.inbox),
               "--serve-root", str(self.serve_root), "--threads", str(threads)]
        if self.store_factory:
            cmd += ["--store-factory", self.store_factory]
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True,
                                pass_fds=(fd,))  # the worker keeps the lock if we die
        deadline = (time.monotonic() + timeout * KILL_GRACE[0] + KILL_GRACE[1]
                    if timeout is not None else None)
        self.running.append(Running(claimed, proc, result, cores, memory, attempt, fd, deadline))
        self.log(f"started {claimed.name} (attempt {attempt}, {threads} core(s), pid {proc.pid})")

    def _reap(self) -> None:
        for r in list(self.running):
            code = r.proc.poll()
            if code is None:
                if r.deadline is not None and time.monotonic() > r.deadline:
                    r.timed_out = True
                    _kill_group(r.proc.pid)
                elif r.memory and not r.rss_over and (rss := resident_bytes(r.proc.pid)) > (
                        r.memory * MEMORY_GRACE[0] + MEMORY_GRACE[1]):
                    r.rss_over = rss
                    _kill_group(r.proc.pid)
                continue
            self.running.remove(r)
            try:
                self._reaped(r, code)
            finally:
                os.close(r.lock_fd)  # after the spec left running/

    def _reaped(self, r: Running, code: int) -> None:
        """File a finished worker's spec: from its result, else by why it ended."""
        if r.result.exists():
            self._file_result(r.spec, r.result)
        elif r.rss_over:
            self._discard_working_folders(r.spec)
            self._finish(r.spec, False, f"killed: resident memory {r.rss_over:,} bytes "
                         f"passed resources.memory ({r.memory:,} bytes) by more than the "
                         f"grace; raise resources.memory or narrow the job\n", None)
        elif r.timed_out:
            self._discard_working_folders(r.spec)
            self._finish(r.spec, False, "killed: ran far past limits.timeout_seconds "
                         "(the job did not stop by itself)\n", None)
        elif r.attempt < MAX_ATTEMPTS and not self.stopping:
            self._discard_working_folders(r.spec)
            self.log(f"{r.spec.name}: worker died ({_exit_text(code)}); retrying")
            self._move(r.spec, ".")
        else:
            self._discard_working_folders(r.spec)
            self._finish(r.spec, False, f"worker died ({_exit_text(code)}) on attempt "
                         f"{r.attempt} of {MAX_ATTEMPTS}; no job result\n", None)

    def _file_result(self, spec: Path, result: Path) -> None:
        """File ``spec`` from its worker's result file (then removed)."""
        doc = json.loads(result.read_text(encoding="utf-8"))
        result.unlink()
        self._file_status(spec, doc["status"], doc["exit_code"])

    def _file_status(self, spec: Path, status: dict, code: int | None = None) -> None:
        ok = status.get("status") == "succeeded" if code is None else code == 0
        err = status.get("error") or {}
        folder = status.get("folder") or "none (nothing could be written)"
        reason = (f"job {status.get('job_id') or '(no id)'} failed"
                  + (f" (exit {code})" if code is not None else "")
                  + f": {_error_text(err)}\nresults folder: {folder}\n")
        self._finish(spec, ok, reason, status.get("job_id") or None)

    def _discard_working_folders(self, spec: Path) -> None:
        """Remove ``.tmp-*`` job folders a killed worker left for ``spec`` (named in job.log)."""
        for tmp in self.output_root.glob(".tmp-*"):
            try:
                with open(tmp / "job.log", encoding="utf-8") as f:
                    first = f.readline().rstrip("\n")
            except OSError:
                continue
            if first.endswith(f" from {spec}"):
                shutil.rmtree(tmp, ignore_errors=True)

    def _finish(self, spec: Path, ok: bool, reason: str, job_id: str | None) -> None:
        self._attempts_file(spec).unlink(missing_ok=True)
        dst = self._move(spec, "done" if ok else "failed")
        if not ok and dst is not None:
            dst.with_name(dst.name + ".reason.txt").write_text(reason, encoding="utf-8")
        self.log(f"{spec.name}: {'done' if ok else 'failed'}" + (f" ({job_id})" if job_id else ""))

    def stop(self, *_: object) -> None:
        self.stopping = True

    def _requeue_running(self) -> None:
        for r in self.running:
            if r.proc.poll() is None:
                r.proc.terminate()
        for r in self.running:
            try:
                r.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                r.proc.kill()
                r.proc.wait()
        self._reap_after_stop()

    def _reap_after_stop(self) -> None:
        for r in list(self.running):
            self.running.remove(r)
            if r.result.exists():  # finished just before the signal
                self.running.append(r)
                self._reap()
                continue
            self._attempts_file(r.spec).unlink(missing_ok=True)
            self._move(r.spec, ".")
            os.close(r.lock_fd)
            self.log(f"requeued {r.spec.name}")

    def run(self, once: bool = False) -> int:
        """Process specs until SIGINT/SIGTERM (or, with ``once``, until the inbox is empty).

        With ``once``, it also waits for the jobs in ``running/`` whose workers outlived an
        earlier watcher, and files them when they end; :attr:`left` names the specs still
        queued or running when it returns (only after a signal).
        """
        self._dirs()
        processed = self.recover()
        orphans = {p.name for p in self.held_elsewhere()} if once else set()
        if orphans:
            self.log(f"waiting for {len(orphans)} job(s) in running/ whose worker outlived its "
                     f"watcher: {', '.join(sorted(orphans))}")
        handlers = {}
        if threading.current_thread() is threading.main_thread():  # signals only reach it
            handlers = {s: signal.signal(s, self.stop) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            while not self.stopping:
                before = len(self.running)
                self._reap()
                processed += before - len(self.running) + self.recover()
                specs, pending = self.ready()
                for spec in specs:
                    cores, memory, _ = declared_resources(spec)
                    if self.stopping or not self.fits(cores, memory):
                        break
                    self._start(spec)
                if orphans:
                    orphans &= {p.name for p in self.held_elsewhere()}
                if once and not self.running and not specs and not pending and not orphans:
                    break
                time.sleep(min(self.poll_interval, 0.1) if once else self.poll_interval)
            if self.stopping:
                self._requeue_running()
        finally:
            for s, h in handlers.items():
                signal.signal(s, h)
        self.left = sorted(orphans | {p.name for p in self.inbox.glob("*.json")}) \
            if self.stopping and once else []
        return processed


def resident_bytes(pid: int) -> int:
    """Resident memory of process ``pid`` (Linux ``/proc``; 0 when unknown)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _exit_text(code: int) -> str:
    return f"killed by signal {-code}" if code < 0 else f"exit status {code}"


def _error_text(err: dict) -> str:
    where = ":".join(str(err[k]) for k in ("file", "line", "col") if k in err)
    if "json_path" in err:
        where = f"{where}: {err['json_path']}" if where else err["json_path"]
    text = f"{where}: {err.get('message')}" if where else str(err.get("message"))
    return text + (f"\n  hint: {err['hint']}" if err.get("hint") else "")
