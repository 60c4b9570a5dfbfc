"""A job on a persistent store: open (or create) it, bring it up to date, query all of it.

A spec naming ``"store": "daily/aml"`` works on ``<store-root>/daily/aml`` (see
:func:`graphcrime.runner.spec.store_path` for the confinement). The job

1. opens the store, creating it on first use with the job's rules and parameters, and
   waits while another job holds it (the engine's writer lock): at most the job's
   ``limits.timeout_seconds``, else :data:`STORE_WAIT_SECONDS`, then it fails (exit 3) with
   the reason; a watcher does not even start a second job on a store its running job
   holds, so the wait only happens between separate runners;
2. changes the store's rules and parameters when the job's differ (the engine recomputes
   what depends on the change);
3. adds its ``data`` and retracts its ``retract`` files, each an all-or-nothing update of
   the store and its derived facts;
4. runs its queries on the whole store, and writes its folder as every job does, with
   ``stats.json``'s ``update`` saying what was added, retracted, derived and removed.
"""

from __future__ import annotations

import time
from typing import Any

from graphcrime.errors import GraphcrimeError, LimitExceeded, SpecError
from graphcrime.runner.outputs import JobFolder
from graphcrime.runner.spec import JobSpec

#: how long a job waits for a store another job holds, when it declares no timeout
STORE_WAIT_SECONDS = 3600.0
_POLL = 0.25


def is_busy(err: BaseException) -> bool:
    """True when ``err`` says another writer holds the store."""
    from graphcrime import api

    busy = getattr(api, "StoreBusy", None) or getattr(api, "StoreLocked", None)
    return busy is not None and isinstance(err, busy)


def open_job_store(spec: JobSpec, job: JobFolder, progress: bool, t0: float) -> tuple[Any, bool]:
    """``(store, created)``: the spec's store, created on first use, waiting while it is busy."""
    from graphcrime.api import Store

    if spec.store is None:
        raise SpecError("this job names a store but the runner has no store root",
                        json_path="store", file=str(spec.source),
                        hint="run it with --store-root DIR (graphcrime run/watch)")
    timeout = spec.limits.timeout_seconds
    wait = STORE_WAIT_SECONDS if timeout is None else max(timeout - (time.perf_counter() - t0), 0)
    deadline = time.monotonic() + wait
    told = False
    options = {"memory_limit": spec.resources.memory, "threads": spec.resources.cores,
               "progress": progress}
    while True:
        created = not Store.exists(spec.store)
        try:
            if created:
                spec.store.parent.mkdir(parents=True, exist_ok=True)
                store = Store.create(spec.store, rules=list(spec.rules),
                                     params=spec.parameters, **options)
            else:
                store = Store.open(spec.store, **options)
            return store, created
        except GraphcrimeError as e:
            if not is_busy(e):
                raise
            if time.monotonic() >= deadline:
                raise LimitExceeded(
                    f"store {spec.store_name} stayed busy for {wait:.0f} s: {e.message}",
                    json_path="store", hint="another job holds it; rerun this one when it "
                    "has finished (or raise limits.timeout_seconds)") from None
            if not told:
                job.log(f"store {spec.store_name} is busy ({e.message}); waiting up to "
                        f"{wait:.0f} s")
                told = True
            time.sleep(_POLL)


def _n(report: Any, *keys: str) -> int:
    doc = report if isinstance(report, dict) else vars(report) if report is not None else {}
    return int(next((doc[k] for k in keys if doc.get(k) is not None), 0))


def update_store(spec: JobSpec, job: JobFolder, store: Any, created: bool,
                 t0: float) -> dict[str, Any]:
    """Steps 2 and 3 of the module docstring; returns ``stats.json``'s ``update``."""
    info = store.info()
    update: dict[str, Any] = {"store": spec.store_name, "path": str(spec.store),
                              "created": created, "rules_changed": False,
                              "added": 0, "retracted": 0, "derived": 0, "removed": 0}
    secs: dict[str, float] = {}
    rules = [str(r) for r in spec.rules]
    if not created and (list(info.get("rules") or []) != rules
                        or dict(info.get("parameters") or {}) != spec.parameters):
        t = time.perf_counter()
        job.log(f"rules or parameters differ from the store's: set {len(rules)} rule "
                f"file(s), parameters {spec.parameters}")
        changed = store.set_rules(rules, spec.parameters)
        secs["set_rules"] = round(time.perf_counter() - t, 3)
        update["rules_changed"] = True
        update["derived"] += _n(changed, "derived", "derived_facts")
        update["removed"] += _n(changed, "removed")
    for step, files in (("add", spec.data), ("retract", spec.retract)):
        if not files:
            continue
        t = time.perf_counter()
        job.log(f"{step} {len(files)} file(s) to store {spec.store_name}")
        report = getattr(store, step)(list(files))
        secs[step] = round(time.perf_counter() - t, 3)
        n = _n(report, "triples", "added" if step == "add" else "retracted")
        update["added" if step == "add" else "retracted"] += n
        update["derived"] += _n(report, "derived", "derived_facts")
        update["removed"] += _n(report, "removed")
        job.log(f"{step}: {n} triple(s), derived facts +{_n(report, 'derived')} "
                f"-{_n(report, 'removed')} in {secs[step]} s")
        timeout = spec.limits.timeout_seconds
        if timeout is not None and time.perf_counter() - t0 > timeout:
            raise LimitExceeded(f"job ran past limits.timeout_seconds={timeout} (the store "
                                f"keeps what the job changed so far)",
                                json_path="limits.timeout_seconds",
                                hint="raise the limit or add less data per job")
    info = store.info()
    update.update({k: info.get(k) for k in ("facts", "input_facts", "derived_facts")})
    update["seconds"] = secs
    return update
