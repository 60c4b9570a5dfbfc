"""A job on a persistent store: open (or create) it, bring it up to date, query all of it.

A spec naming ``"store": "daily/aml"`` works on ``<store-root>/daily/aml`` (see
:func:`graphcrime.runner.spec.store_path` for the confinement). The job

1. opens the store, creating it on first use with the job's rules and parameters, and
   waits while another process holds it (the engine's writer lock) for at most the job's
   ``limits.timeout_seconds``, else :data:`STORE_WAIT_SECONDS`; then it fails (exit 1,
   ``StoreLocked``) with the reason. A watcher never starts a second job on a store its
   running job holds, so the wait only happens between separate runners;
2. in one update of the store (one transaction: a job killed in the middle leaves the
   store as it was before the job, and a rerun does the whole job), adds its ``data``,
   retracts its ``retract`` files and, when its rules or parameters differ from the
   store's, replaces them (the engine recomputes what depends on the change);
3. runs its queries on the whole store, and writes its folder as every job does, with
   ``stats.json``'s ``update`` saying what was added, retracted, derived and removed.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from graphcrime.errors import LimitExceeded, SpecError, StoreLocked
from graphcrime.runner.outputs import JobFolder
from graphcrime.runner.spec import JobSpec

#: how long a job waits for a store another job holds, when it declares no timeout
STORE_WAIT_SECONDS = 3600.0


def unfinished(folder: Path) -> bool:
    """True when ``folder`` holds only what a ``Store.create`` killed before it wrote the
    store's marker leaves (the marker is written last), and no process is creating it."""
    import fcntl
    import os

    from graphcrime.engine import disk, subjects

    names = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
    known = {disk.LOCK, disk.DATABASE, disk.DATABASE + ".wal", "tmp", disk.MARKER + ".tmp",
             subjects.FOLDER}
    if not names or not names <= known or disk.LOCK not in names:
        return False
    fd = os.open(folder / disk.LOCK, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # someone is creating it right now
    finally:
        os.close(fd)
    return True


def create_store(folder: Path, rules: list[Any], params: dict[str, object],
                 **options: Any) -> Any:
    """``Store.create``, removing the folder again when creating fails (a rule error, say)
    and the folder was new, so that the next attempt does not meet half a store; a folder
    left by a create that was killed (see :func:`unfinished`) is started afresh."""
    from graphcrime.api import Store

    if unfinished(folder):
        shutil.rmtree(folder)
    new = not folder.exists()
    try:
        return Store.create(folder, rules=rules, params=params, **options)
    except StoreLocked:  # another process is creating it: its folder, not ours
        raise
    except BaseException:
        if new:
            shutil.rmtree(folder, ignore_errors=True)
        raise


def open_job_store(spec: JobSpec, job: JobFolder, progress: bool, t0: float,
                   threads: int | None = None) -> tuple[Any, bool]:
    """``(store, created)``: the spec's store, created on first use (folder absent or empty),
    waiting while another process holds it."""
    from graphcrime.api import Store
    from graphcrime.results import is_store

    if spec.store is None:
        raise SpecError("this job names a store but the runner has no store root",
                        json_path="store", file=str(spec.source),
                        hint="run it with --store-root DIR (graphcrime run/watch)")
    timeout = spec.limits.timeout_seconds
    wait = STORE_WAIT_SECONDS if timeout is None else max(timeout - (time.perf_counter() - t0), 0)
    options = {"memory_limit": spec.resources.memory,
               "threads": threads or spec.resources.cores, "progress": progress}
    folder = spec.store
    for attempt in (0, 1):
        created = not is_store(folder) and (unfinished(folder) or not (
            folder.is_dir() and any(folder.iterdir())))
        try:
            if created:
                folder.parent.mkdir(parents=True, exist_ok=True)
                return create_store(folder, list(spec.rules), spec.parameters,
                                    timeout=attempt * wait, **options), True
            return Store.open(folder, timeout=attempt * wait, **options), False
        except StoreLocked as e:
            if attempt or wait <= 0:
                raise StoreLocked(f"{e.message} (waited {attempt * wait:.0f} s)",
                                  json_path="store", hint="another job holds it: run this one "
                                  "again when that has finished (or raise "
                                  "limits.timeout_seconds to wait longer)") from None
            job.log(f"store {spec.store_name} is busy ({e.message}); waiting up to "
                    f"{wait:.0f} s")
    raise AssertionError("unreachable")


def _terms(params: dict[str, object]) -> dict[str, str]:
    """Parameters as the terms rules see (``"100"`` from a command line is ``100``)."""
    from graphcrime.nt import param_nt

    return {k: param_nt(v) for k, v in params.items()}


def update_store(spec: JobSpec, job: JobFolder, store: Any, created: bool,
                 t0: float) -> dict[str, Any]:
    """Steps 2 and 3 of the module docstring, as one update of the store (all or nothing:
    a job killed in the middle leaves the store as it was before the job); returns
    ``stats.json``'s ``update``."""
    from graphcrime.api import load_program
    from graphcrime.lang.printer import format_program
    from graphcrime.store_api import _read

    disk = store._disk
    program = load_program(list(spec.rules))
    changed = not created and (format_program(program) != disk.meta("program")
                               or _terms(spec.parameters) != _terms(disk.params))
    if changed:
        job.log(f"rules or parameters differ from the store's: {len(spec.rules)} rule "
                f"file(s), parameters {spec.parameters} replace them")

    def read() -> None:
        if spec.data:
            _read(store, list(spec.data), "_gc_add")
        if spec.retract:
            _read(store, list(spec.retract), "_gc_ret")

    job.log(f"update store {spec.store_name}: add {len(spec.data)} file(s), retract "
            f"{len(spec.retract)} file(s)")
    progress = store._progress if callable(store._progress) else None
    out = disk.update(add="_gc_add" if spec.data else None,
                      retract="_gc_ret" if spec.retract else None,
                      program=program if changed else None,
                      params=dict(spec.parameters) if changed else None, before=read,
                      max_derived_facts=spec.limits.max_derived_facts, progress=progress)
    job.log(f"store {spec.store_name}: {out['added']} triple(s) added, {out['retracted']} "
            f"retracted, {out['derived']} fact(s) derived, {out['removed']} removed in "
            f"{out['seconds']} s")
    timeout = spec.limits.timeout_seconds
    if timeout is not None and time.perf_counter() - t0 > timeout:
        raise LimitExceeded(f"job ran past limits.timeout_seconds={timeout} (its update of "
                            f"store {spec.store_name} is kept)",
                            json_path="limits.timeout_seconds",
                            hint="raise the limit or add less data per job")
    info = store.info()
    update: dict[str, Any] = {"store": spec.store_name, "path": str(spec.store),
                              "created": created, "rules_changed": changed}
    update.update({k: out[k] for k in ("added", "retracted", "derived", "removed")})
    update.update({k: info[k] for k in ("facts", "input_facts", "derived_facts", "rounds",
                                        "size_bytes")})
    update["seconds"] = out["seconds"]
    return update
