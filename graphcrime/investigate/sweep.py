"""Parameter sweeps: rerun a job's rules over its input for each value of one parameter and
score every run against the ground truth (precision/recall per typology per value).

Each run is in-process (:class:`graphcrime.api.Store`: load the data files the job recorded
in ``inputs.json``, reason with its copies of the rules, its parameters plus the swept one,
under its limits); nothing is written. The
ground truth's labels stay fixed (they were planted for the default parameters, or come
from a labelled dataset), so a sweep shows how a parameter trades precision against recall.

>>> parse_sweep("min_amount=50,100,500.5")
('min_amount', [50, 100, 500.5])
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from graphcrime.errors import UsageError
from graphcrime.investigate.evaluate import report


def parse_value(text: str) -> Any:
    """A parameter value as JSON would type it (``50`` -> 50, ``abc`` -> ``"abc"``)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_sweep(text: str) -> tuple[str, list[Any]]:
    """``NAME=V1,V2,...`` -> (name, typed values)."""
    name, eq, values = text.partition("=")
    vals = [v.strip() for v in values.split(",") if v.strip()]
    if not eq or not name.strip() or not vals:
        raise UsageError(f"bad --sweep {text!r}", hint="write --sweep min_amount=50,100,500")
    return name.strip(), [parse_value(v) for v in vals]


def sweep(job_dir: str | Path, ground_truth: str | Path, name: str,
          values: list[Any]) -> dict[str, Any]:
    """``{"parameter", "runs": [{"value", "derived_facts", "seconds", "report"}]}``."""
    from generator import read_ground_truth
    from graphcrime.api import Store
    from graphcrime.runner.manifest import read_manifest, recorded_paths

    record = read_manifest(job_dir)
    data, rules = recorded_paths(job_dir, "data"), recorded_paths(job_dir, "rules")
    limits = record.get("limits") or {}
    gt = read_ground_truth(ground_truth)
    runs = []
    for value in values:
        params = {**(record.get("parameters") or {}), name: value}
        t0 = time.perf_counter()
        with Store() as store:
            store.load(*data)
            done = store.reason(rules, params,
                                max_derived_facts=limits.get("max_derived_facts"),
                                timeout_seconds=limits.get("timeout_seconds"))
            rep = report(store, gt)
        runs.append({"value": value, "derived_facts": done["derived_facts"],
                     "seconds": round(time.perf_counter() - t0, 3), "report": rep})
    return {"parameter": name, "runs": runs}


def format_sweep(result: dict[str, Any]) -> str:
    """One line per (value, typology) and an overall line per value."""
    def f(x: float | None) -> str:
        return "   -  " if x is None else f"{x:6.3f}"

    name = result["parameter"]
    lines = [f"{name:>14}  {'typology':<16}{'n':>4}  {'susp P':>6} {'susp R':>6}  "
             f"{'high P':>6} {'high R':>6}"]
    for run in result["runs"]:
        rep = run["report"]
        rows = [*rep["typologies"].items(),
                ("overall", {"instances": len(rep["instances"]), **rep["overall"]})]
        for typ, r in rows:
            s, h = r["suspicious"], r["high_value"]
            lines.append(f"{str(run['value']):>14}  {typ:<16}{r['instances']:>4}  "
                         f"{f(s['precision'])} {f(s['recall'])}  "
                         f"{f(h['precision'])} {f(h['recall'])}")
    return "\n".join(lines)
