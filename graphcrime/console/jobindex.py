"""The jobs page's rows: every job folder of the output root and every spec in the inbox.

A row is a dict: ``kind`` (``job``/``spec``), ``status`` (``queued``, ``running``,
``succeeded``, ``failed``, ``done``), ``id`` (job id, when known), ``name``, ``parameters``,
``counts``, ``rows`` (result rows), ``seconds``, ``reason`` (failure), ``time`` (ISO, for
ordering, newest first) and ``where`` (``output``, ``inbox``, ``inbox/running``, ...).
Job folders are read once per change of their ``status.json`` (cached by mtime and size), so
listing a thousand folders costs a thousand ``stat`` calls. A filed spec whose job folder is
listed is shown on that job's row (``spec``), not twice.

>>> import tempfile, pathlib, json
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> (root / "a_2021-07-30_001").mkdir()
>>> _ = (root / "a_2021-07-30_001" / "status.json").write_text(json.dumps(
...     {"job_id": "a_2021-07-30_001", "status": "succeeded", "seconds": 1.5}))
>>> [(r["id"], r["status"], r["seconds"]) for r in JobIndex(root).rows()]
[('a_2021-07-30_001', 'succeeded', 1.5)]
"""

from __future__ import annotations

import ast
import datetime as _dt
import json
import os
import re
import threading
from pathlib import Path
from typing import Any

from graphcrime.console.roots import SAFE_NAME
from graphcrime.runner.inbox import ignored

INBOX_FOLDERS = (("", "queued"), ("running", "running"), ("done", "done"), ("failed", "failed"))
_PARAMS_LINE = re.compile(r" reason with \d+ rule file\(s\), parameters (\{.*\})$")
_FAILED_REASON = re.compile(r"^job (\S+) failed")
MAX_SPEC_BYTES = 1 << 20


def iso_mtime(st: os.stat_result) -> str:
    return _dt.datetime.fromtimestamp(st.st_mtime, _dt.timezone.utc).isoformat(
        timespec="milliseconds")


def error_text(err: dict[str, Any] | None) -> str | None:
    """``file:line:col: message (hint: ...)`` of a ``status.json`` error."""
    if not err:
        return None
    where = ":".join(str(err[k]) for k in ("file", "line", "col") if err.get(k) is not None)
    if err.get("json_path"):
        where = f"{where}: {err['json_path']}" if where else str(err["json_path"])
    text = f"{where}: {err.get('message')}" if where else str(err.get("message"))
    return text + (f" (hint: {err['hint']})" if err.get("hint") else "")


def _head(path: Path, size: int = 8192) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(size)
    except OSError:
        return ""


def log_parameters(log_head: str) -> dict[str, Any] | None:
    """The job parameters a job's ``job.log`` states (a Python literal; never evaluated)."""
    for line in log_head.splitlines():
        m = _PARAMS_LINE.search(line)
        if m:
            try:
                value = ast.literal_eval(m.group(1))
            except (ValueError, SyntaxError):
                return None
            return value if isinstance(value, dict) else None
    return None


def job_row(folder: Path) -> dict[str, Any]:
    """The row of one published job folder."""
    try:
        doc = json.loads((folder / "status.json").read_text(encoding="utf-8"))
        if not isinstance(doc, dict):
            raise ValueError("not an object")
    except (OSError, ValueError) as e:
        return {"kind": "job", "id": folder.name, "status": "damaged", "name": folder.name,
                "reason": f"status.json unreadable: {e}", "where": "output", "time": "",
                "parameters": None, "counts": {}, "rows": None, "seconds": None}
    results = doc.get("results") or []
    spec = doc.get("spec")
    return {
        "kind": "job", "id": folder.name, "status": doc.get("status", "unknown"),
        "name": folder.name.rsplit("_", 2)[0] if folder.name.count("_") >= 2 else folder.name,
        "parameters": log_parameters(_head(folder / "job.log")), "counts": doc.get("counts") or {},
        "rows": sum(int(r.get("rows") or 0) for r in results if isinstance(r, dict)),
        "seconds": doc.get("seconds"), "reason": error_text(doc.get("error")),
        "time": doc.get("finished") or doc.get("started") or "", "where": "output",
        "spec_file": spec if isinstance(spec, str) else None,
    }


def working_row(folder: Path) -> dict[str, Any]:
    """A job still being written (``.tmp-<id>``): running, with its log's last line."""
    job_id = folder.name.removeprefix(".tmp-")
    first = _head(folder / "job.log", 300).split("\n", 1)[0]
    last = _last_line(folder / "job.log")
    return {"kind": "job", "id": None, "job_id": job_id, "status": "running",
            "name": job_id.rsplit("_", 2)[0], "parameters": None, "counts": {}, "rows": None,
            "seconds": None, "reason": None, "progress": last.split(" ", 1)[-1],
            "time": first.split(" ", 1)[0] if first[:4].isdigit() else "", "where": "output"}


def _last_line(path: Path, size: int = 4096) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - size))
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    return lines[-1] if lines else ""


def spec_row(path: Path, status: str, where: str) -> dict[str, Any]:
    """The row of one spec file in the inbox (or one of its folders)."""
    st = os.stat(path)
    row: dict[str, Any] = {"kind": "spec", "id": None, "status": status, "name": path.stem,
                           "spec": f"{where}/{path.name}".lstrip("/"), "parameters": None,
                           "counts": {}, "rows": None, "seconds": None, "reason": None,
                           "time": iso_mtime(st), "where": f"inbox/{where}".rstrip("/")}
    try:
        if st.st_size > MAX_SPEC_BYTES:
            raise ValueError(f"larger than {MAX_SPEC_BYTES} bytes")
        doc = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict):
            if isinstance(doc.get("name"), str):
                row["name"] = doc["name"]
            if isinstance(doc.get("parameters"), dict):
                row["parameters"] = doc["parameters"]
    except (OSError, ValueError) as e:
        if status != "failed":
            row["reason"] = f"not a readable JSON spec yet: {e}"
    if status == "failed":
        reason = _head(path.with_name(path.name + ".reason.txt"), 4000).strip()
        row["reason"] = reason or row["reason"]
        m = _FAILED_REASON.match(reason)
        if m and SAFE_NAME.match(m.group(1)):
            row["id"] = m.group(1)
    return row


class JobIndex:
    """Lists jobs and inbox specs; job folders are cached by their ``status.json`` stat."""

    def __init__(self, output_root: str | Path, inbox: str | Path | None = None) -> None:
        self.output_root = Path(output_root)
        self.inbox = Path(inbox) if inbox is not None else None
        self._cache: dict[str, tuple[tuple[int, int], dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def job_rows(self) -> list[dict[str, Any]]:
        rows, cache = [], {}
        try:
            entries = list(os.scandir(self.output_root))
        except OSError:
            return []
        for entry in entries:
            if entry.name.startswith(".tmp-") and entry.is_dir(follow_symlinks=False):
                rows.append(working_row(Path(entry.path)))
                continue
            if entry.name.startswith(".") or not SAFE_NAME.match(entry.name):
                continue
            try:
                st = os.stat(os.path.join(entry.path, "status.json"))
            except OSError:
                continue
            key = (st.st_mtime_ns, st.st_size)
            old = self._cache.get(entry.name)
            row = old[1] if old is not None and old[0] == key else job_row(Path(entry.path))
            cache[entry.name] = (key, row)
            rows.append(row)
        with self._lock:
            self._cache = cache
        return rows

    def spec_rows(self) -> list[dict[str, Any]]:
        if self.inbox is None:
            return []
        rows = []
        for sub, status in INBOX_FOLDERS:
            folder = self.inbox / sub if sub else self.inbox
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                if ignored(entry.name) or not entry.is_file(follow_symlinks=False):
                    continue
                try:
                    rows.append(spec_row(Path(entry.path), status, sub))
                except OSError:  # moved on meanwhile
                    continue
        return rows

    def rows(self) -> list[dict[str, Any]]:
        """Every row, newest first; filed specs folded into their job's row."""
        jobs = [dict(r) for r in self.job_rows()]
        specs = self.spec_rows()
        by_id = {r["id"]: r for r in jobs if r.get("id")}
        from_inbox: dict[str, list[dict[str, Any]]] = {}
        if self.inbox is not None:
            running = str(self.inbox.absolute() / "running")
            for r in jobs:
                sf = r.get("spec_file")
                if sf and os.path.dirname(sf) == running:
                    from_inbox.setdefault(os.path.basename(sf), []).append(r)
        out = list(jobs)
        for s in specs:
            job = by_id.get(s["id"]) if s["id"] else None
            if job is None and s["status"] == "done":
                cands = sorted(from_inbox.get(os.path.basename(s["spec"]), []),
                               key=lambda r: r["time"])
                job = cands[-1] if cands else None
            if job is not None and s["status"] in ("done", "failed"):
                job.setdefault("spec", s["spec"])
                if job.get("parameters") is None:
                    job["parameters"] = s["parameters"]
                continue
            out.append(s)
        out.sort(key=lambda r: r.get("time") or "", reverse=True)
        return [{k: v for k, v in r.items() if k != "spec_file"} for r in out]


def store_rows(store_root: Path | None) -> list[dict[str, Any]]:
    """The folders of a store root (persistent stores): name and last change, newest first."""
    if store_root is None:
        return []
    try:
        entries = list(os.scandir(store_root))
    except OSError:
        return []
    rows = []
    for e in entries:
        if e.is_dir(follow_symlinks=False) and SAFE_NAME.match(e.name):
            rows.append({"name": e.name, "time": iso_mtime(e.stat(follow_symlinks=False))})
    return sorted(rows, key=lambda r: r["time"], reverse=True)
