"""A job's output folder: built in ``<root>/.tmp-<id>/``, renamed to ``<root>/<id>/`` at the end.

Readers therefore never see half a job: a folder named by a job id is complete, with
``status.json``, ``stats.json``, ``job.log``, ``neptune-loader.json`` and ``results/``.

>>> import tempfile, json
>>> out = JobFolder.create(tempfile.mkdtemp(), "demo")
>>> out.log("hello"); _ = out.write_json("status.json", {"status": "succeeded"})
>>> final = out.publish()
>>> json.loads((final / "status.json").read_text())["status"], final.name.startswith("demo_")
('succeeded', True)
"""

from __future__ import annotations

import datetime as _dt
import errno
import json
import os
import shutil
from pathlib import Path

from graphcrime.engine.disk import fsync
from graphcrime.errors import GraphcrimeError
from graphcrime.runner.jobid import allocate

TRIPLE_VARIABLES = ("S", "P", "O")
# errors that mean "the output side is full or read-only", not "the job is wrong"
OUTPUT_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS}


class OutputError(GraphcrimeError):
    """A job's folder could not be written (disk full, file too large, output root unusable)."""

    exit_code = 1

    @classmethod
    def from_os(cls, e: OSError, root: str | Path) -> OutputError:
        return cls(f"cannot write the job folder under {root}: {e.strerror or e}",
                   file=e.filename if isinstance(e.filename, str) else None,
                   hint="free disk space or fix the output root (it must be a writable "
                   "folder), then drop the spec again")


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def count_lines(path: Path) -> int:
    """Newlines in a file, read in 1 MiB blocks (no per-line Python)."""
    n = 0
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            n += block.count(b"\n")
    return n


def result_suffix(result: object) -> str:
    """``.nt`` for CONSTRUCT/DESCRIBE and for a SELECT of exactly ``?S ?P ?O``, else ``.csv``."""
    kind = getattr(result, "kind", "select")
    if kind == "graph":
        return ".nt"
    names = [str(v).lstrip("?$") for v in getattr(result, "variables", ()) or ()]
    if kind == "select" and tuple(n.upper() for n in names) == TRIPLE_VARIABLES:
        return ".nt"
    return ".csv"


class JobFolder:
    """The working folder of one job and its log; :meth:`publish` renames it into place."""

    def __init__(self, root: Path, job_id: str, tmp: Path) -> None:
        self.root, self.job_id, self.tmp = root, job_id, tmp
        self.final = root / job_id
        self.results = tmp / "results"
        self.results.mkdir(exist_ok=True)
        self._log = open(tmp / "job.log", "a", encoding="utf-8")  # noqa: SIM115

    @classmethod
    def create(cls, root: str | Path, name: str) -> JobFolder:
        job_id, tmp = allocate(root, name)
        return cls(Path(root), job_id, tmp)

    def log(self, message: str) -> None:
        """Append a time-stamped line to ``job.log`` (flushed, so a crash keeps it)."""
        self._log.write(f"{utc_now()} {message}\n")
        self._log.flush()

    def try_log(self, message: str) -> None:
        """:meth:`log`, ignoring a full disk (used while reporting that very failure)."""
        try:
            self.log(message)
        except OSError:
            pass

    def clear_results(self) -> None:
        """Drop whatever ``results/`` holds (partial files of a job that could not finish)."""
        shutil.rmtree(self.results, ignore_errors=True)
        self.results.mkdir(exist_ok=True)

    def write_json(self, name: str, doc: object) -> Path:
        path = self.tmp / name
        part = path.with_name(f".{name}.part")
        part.write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")
        os.replace(part, path)
        return path

    def result_path(self, query: Path, suffix: str, taken: set[str]) -> Path:
        """``results/<query stem><suffix>``, numbered when two queries share a stem."""
        stem, n = query.stem, 2
        while stem + suffix in taken:
            stem, n = f"{query.stem}-{n}", n + 1
        taken.add(stem + suffix)
        return self.results / (stem + suffix)

    def publish(self) -> Path:
        """Close the log, flush every file to disk, rename the working folder to its final
        name (atomic), and flush the rename: a published folder survives a power cut whole,
        and a disk that fills up while flushing fails here, before anything is published."""
        if not self._log.closed:
            self._log.close()
        for leftover in self.tmp.glob(".*.part"):
            leftover.unlink()
        for path in [*self.tmp.rglob("*"), self.tmp]:
            fsync(path)
        os.rename(self.tmp, self.final)
        try:
            fsync(self.root)
        except OSError:  # published already: a failed flush of the rename must not undo it
            pass
        return self.final

    def discard(self) -> None:
        """Remove the working folder (closing the log even when its last flush fails)."""
        try:
            if not self._log.closed:
                self._log.close()
        except OSError:
            pass
        shutil.rmtree(self.tmp, ignore_errors=True)
