"""Run one job: load -> reason -> every query -> outputs, in a folder renamed into place.

:func:`run_job` never raises for a job's own failure: it returns a :class:`JobOutcome`
whose ``exit_code`` is 0 (succeeded), 1 (run-time failure), 2 (bad spec or input) or 3
(a limit), and the job folder's ``status.json`` says why, with the error's position.

>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> _ = (root / "bad.json").write_text('{"data": [], "rules": ["r"], "queries": ["q"]}')
>>> out = run_job(root / "bad.json", root / "out")
>>> out.exit_code, out.status["error"]["json_path"]
(2, 'data')
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphcrime.errors import GraphcrimeError, LimitExceeded
from graphcrime.machine import machine_cores, peak_rss_bytes
from graphcrime.runner.neptune import loader_request
from graphcrime.runner.notify import Notifier
from graphcrime.runner.outputs import (
    OUTPUT_ERRNOS,
    JobFolder,
    OutputError,
    count_lines,
    result_suffix,
    utc_now,
)
from graphcrime.runner.spec import JobSpec, load_spec

StoreFactory = Callable[..., Any]


@dataclass
class JobOutcome:
    job_id: str
    folder: Path
    status: dict
    exit_code: int


def _as_dict(obj: object) -> dict:
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return dict(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    return {k: v for k, v in vars(obj).items() if not k.startswith("_")}


def _first(d: dict, *keys: str) -> Any:
    return next((d[k] for k in keys if d.get(k) is not None), None)


class EngineUnavailable(GraphcrimeError):
    """The embedded engine (``graphcrime.api.Store``) cannot be imported."""

    exit_code = 1


def default_store_factory(**kwargs: Any) -> Any:
    try:
        from graphcrime.api import Store
    except ImportError as e:
        raise EngineUnavailable(f"the embedded engine is not available: {e}",
                                hint="reinstall graphcrime (pip install -e .)") from None
    return Store(**kwargs)


def spark_store_factory(engine: dict[str, Any]) -> StoreFactory:
    """A factory of :class:`graphcrime.spark.SparkStore` for a spec's ``engine`` object
    (pyspark is imported only here, when a job asks for Spark)."""
    def make(**kwargs: Any) -> Any:
        from graphcrime.spark.api import SparkStore

        return SparkStore(master=engine.get("master"), progress=kwargs.get("progress", False))
    return make


def _job_name(spec_path: Path) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "-", spec_path.stem).strip(".-") or "job"


def run_job(spec_path: str | Path, output_root: str | Path, *, serve_root: str | Path | None = None,
            notifier: Notifier | None = None, store_factory: StoreFactory | None = None,
            progress: bool = False, base: str | Path | None = None,
            threads: int | None = None) -> JobOutcome:
    """Run the spec at ``spec_path``; results go to ``<output_root>/<job-id>/``.

    ``base`` is the folder relative paths start from (default: the spec's own folder).
    ``threads`` is how many cores the job may use (the watcher passes its free ones); by
    default ``resources.cores`` (at most the machine's), else every core of the machine.
    """
    spec_path = Path(spec_path)
    started, t0 = utc_now(), time.perf_counter()
    spec: JobSpec | None = None
    error: GraphcrimeError | BaseException | None = None
    try:
        spec = load_spec(spec_path, serve_root, base)
    except GraphcrimeError as e:
        error = e
    try:
        job = JobFolder.create(output_root, spec.name if spec else _job_name(spec_path))
        job.log(f"job {job.job_id} from {spec_path}")
    except OSError as e:  # output root unusable: nothing to publish, say why
        return _unrecorded(spec_path, output_root, OutputError.from_os(e, output_root),
                           started, t0, notifier)
    stats: dict[str, Any] = {"seconds": {}}
    results: list[dict] = []
    store = None
    try:
        if error is not None:
            raise error
        assert spec is not None
        factory = store_factory or (spark_store_factory(spec.engine)
                                    if spec.engine.get("name") == "spark"
                                    else default_store_factory)
        stats["threads"] = threads or min(spec.resources.cores or machine_cores(),
                                          machine_cores())
        store = factory(memory_limit=spec.resources.memory, threads=stats["threads"],
                        temp_dir=None, progress=progress)
        stats.update(_run(spec, job, store, stats, results, t0))
        status = "succeeded"
    except (GraphcrimeError, Exception) as e:  # every failure ends in status.json
        error = _known_failure(e, spec)
        status = "failed"
        if isinstance(error, OutputError):  # drop half-written result files
            job.clear_results()
            results.clear()
        job.try_log(f"FAILED: {error}")
        if not isinstance(error, GraphcrimeError):
            job.try_log(traceback.format_exc().rstrip())
    except BaseException:  # interrupted (SIGTERM, Ctrl-C): leave no working folder behind
        job.discard()
        raise
    finally:
        if store is not None:
            try:
                stats["store"] = store.stats()
                if isinstance(stats["store"], dict) and "bytes_per_fact" in stats["store"]:
                    stats["bytes_per_fact"] = stats["store"]["bytes_per_fact"]
            except Exception:  # noqa: BLE001 - statistics never fail a job
                pass
            store.close()
    seconds = time.perf_counter() - t0
    stats["seconds"]["total"] = round(seconds, 3)
    stats["peak_memory_bytes"] = peak_rss_bytes()
    doc: dict[str, Any] = {
        "job_id": job.job_id, "status": status, "spec": str(spec_path.absolute()),
        "folder": str(job.final), "started": started, "finished": utc_now(),
        "seconds": round(seconds, 3), "results": results,
        "counts": {k: stats[k] for k in ("input_facts", "derived_facts") if k in stats},
    }
    code = 0
    if error is not None:
        if isinstance(error, GraphcrimeError):
            doc["error"], code = error.to_dict(), error.exit_code
        else:
            doc["error"], code = {"type": type(error).__name__, "message": str(error)}, 1
    try:
        job.write_json("stats.json", stats)
        job.write_json("status.json", doc)
        job.write_json("neptune-loader.json", loader_request(job.job_id))
        job.log(f"{status} in {seconds:.2f} s")
        folder = job.publish()
    except OSError as e:  # disk full while recording the job: leave no half folder
        job.discard()
        return _unrecorded(spec_path, output_root, OutputError.from_os(e, output_root),
                           started, t0, notifier, job.job_id)
    if notifier and notifier.enabled:
        failures = notifier.send(doc)
        if failures:
            with open(folder / "job.log", "a", encoding="utf-8") as f:
                f.writelines(f"{utc_now()} {m}\n" for m in failures)
    return JobOutcome(job.job_id, folder, doc, code)


def _known_failure(e: BaseException, spec: JobSpec | None) -> BaseException:
    """Map a full disk to :class:`OutputError` and running out of memory to a limit."""
    full = isinstance(e, OSError) and e.errno in OUTPUT_ERRNOS
    if not full and type(e).__name__ == "IOException":  # DuckDB's COPY TO: the errno text
        full = any(os.strerror(n) in str(e) for n in OUTPUT_ERRNOS)
    if full:
        reason = e.strerror if isinstance(e, OSError) else str(e).splitlines()[0]
        return OutputError(f"cannot write the job folder: {reason}",
                           hint="free disk space (or raise the file size limit) and drop "
                           "the spec again")
    if isinstance(e, MemoryError) or type(e).__name__ == "OutOfMemoryException":
        declared = spec.resources.memory if spec else None
        what = f"resources.memory ({declared:,} bytes)" if declared else "the memory available"
        return LimitExceeded(f"the job needed more than {what}: {str(e).splitlines()[0]}",
                             json_path="resources.memory",
                             hint="raise resources.memory, narrow the data or the rules")
    return e


def _unrecorded(spec_path: Path, output_root: str | Path, error: OutputError, started: str,
                t0: float, notifier: Notifier | None, job_id: str = "") -> JobOutcome:
    """The outcome of a job whose folder could not be written: no folder, ``error`` says why."""
    doc: dict[str, Any] = {
        "job_id": job_id, "status": "failed", "spec": str(spec_path.absolute()), "folder": None,
        "started": started, "finished": utc_now(),
        "seconds": round(time.perf_counter() - t0, 3), "results": [], "counts": {},
        "error": error.to_dict(),
    }
    if notifier and notifier.enabled:
        notifier.send(doc)
    return JobOutcome(job_id, Path(output_root) / job_id if job_id else Path(output_root), doc,
                      error.exit_code)


def _run(spec: JobSpec, job: JobFolder, store: Any, stats: dict, results: list[dict],
         t0: float) -> dict:
    secs = stats["seconds"]
    t = time.perf_counter()
    job.log(f"load {len(spec.data)} file(s)")
    load = _as_dict(store.load(*spec.data))
    secs["load"] = round(time.perf_counter() - t, 3)
    input_facts = _first(load, "triples", "facts", "loaded", "count")
    job.log(f"loaded {input_facts} facts in {secs['load']} s")

    t = time.perf_counter()
    timeout = spec.limits.timeout_seconds
    remaining = None if timeout is None else max(timeout - (t - t0), 0.001)
    job.log(f"reason with {len(spec.rules)} rule file(s), parameters {spec.parameters}")
    reason = _as_dict(store.reason(list(spec.rules), params=spec.parameters,
                                   max_derived_facts=spec.limits.max_derived_facts,
                                   timeout_seconds=remaining))
    secs["reason"] = round(time.perf_counter() - t, 3)
    derived = _first(reason, "derived_facts", "derived", "facts")
    job.log(f"derived {derived} facts in {secs['reason']} s")

    t = time.perf_counter()
    taken: set[str] = set()
    for q in spec.queries:
        if timeout is not None and time.perf_counter() - t0 > timeout:
            raise LimitExceeded(f"job ran past limits.timeout_seconds={timeout}",
                                json_path="limits.timeout_seconds",
                                hint="raise the limit or narrow the data")
        tq = time.perf_counter()
        result = store.query(q.read_text(encoding="utf-8"))
        path = job.result_path(q, result_suffix(result), taken)
        result.write(path)
        rows = count_lines(path) - (path.suffix == ".csv")
        results.append({"query": str(q), "file": f"results/{path.name}",
                        "kind": getattr(result, "kind", None), "rows": max(rows, 0),
                        "seconds": round(time.perf_counter() - tq, 3)})
        job.log(f"query {q.name}: {rows} row(s) -> results/{path.name}")
    secs["query"] = round(time.perf_counter() - t, 3)
    tables = [r["file"] for r in results if r["file"].endswith(".csv")]
    if tables:
        job.log(f"note: neptune-loader.json loads results/ as N-Triples; upload only the .nt "
                f"files, not {', '.join(tables)}")
    out: dict[str, Any] = {"load": load, "reason": reason}
    if input_facts is not None:
        out["input_facts"] = input_facts
    if derived is not None:
        out["derived_facts"] = derived
    total = (input_facts or 0) + (derived or 0)
    if total:
        out["bytes_per_fact"] = round(peak_rss_bytes() / total, 1)
    return out
