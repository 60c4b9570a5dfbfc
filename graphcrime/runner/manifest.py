"""What a job read, recorded in its own folder: ``inputs.json`` and copies of its rules/queries.

At run time :class:`InputRecorder` hashes every resolved input file (sha256, read in 1 MiB
blocks in a low-priority background thread while the store loads, so big jobs barely wait
for it) and
:meth:`InputRecorder.write` puts ``inputs.json`` in the job folder: the spec, the served
root, the base folder, the parameters and limits, and per role (``data``, ``rules``,
``queries``) each file's resolved path, size and sha256. Rule and query files (small) are
also copied to ``inputs/<role>/`` so that explanations cite the exact lines that ran.

Readers (:func:`read_manifest`, :func:`recorded_paths`) use only that record: they never
re-resolve the spec, which may name paths relative to a served root they cannot know.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "a.nt").write_bytes(b"abc")
>>> file_record(d / "a.nt")["sha256"][:16], file_record(d / "a.nt")["size"]
('ba7816bf8f01cfea', 3)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from graphcrime.errors import DataError

MANIFEST = "inputs.json"
COPIES = "inputs"
BLOCK = 1 << 20
ROLES = ("data", "rules", "queries")


def sha256_file(path: str | Path, block: int = BLOCK) -> str:
    """The file's sha256 in hex, read ``block`` bytes at a time (bounded memory)."""
    h = hashlib.sha256()
    buf = bytearray(block)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def file_record(path: str | Path) -> dict[str, Any]:
    """``{"path", "size", "sha256"}`` of one file (its resolved path)."""
    real = os.path.realpath(path)
    return {"path": real, "size": os.stat(real).st_size, "sha256": sha256_file(real)}


class InputRecorder:
    """Hashes a spec's input files in a background thread; :meth:`write` records them.

    ``spec`` is a :class:`~graphcrime.runner.spec.JobSpec`; ``served_root`` and ``base`` the
    folders the runner resolved it against.
    """

    def __init__(self, spec: Any, served_root: str | Path | None, base: str | Path | None
                 ) -> None:
        self.spec = spec
        src = Path(spec.source)
        self.base = Path(base).absolute() if base is not None else src.parent
        self.served_root = Path(os.path.realpath(served_root if served_root is not None
                                                 else self.base))
        self.records: dict[str, list[dict[str, Any]]] = {}
        self.seconds = 0.0
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._hash, name="gc-hash-inputs", daemon=True)
        self._thread.start()

    def _hash(self) -> None:
        t0 = time.perf_counter()
        try:  # the load comes first: hash on the CPU time it leaves (Linux: per-thread nice)
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except (AttributeError, OSError):
            pass
        try:
            for role in ROLES:
                self.records[role] = [file_record(p) for p in getattr(self.spec, role)]
        except OSError as e:  # a file vanished after validation: the load reports it too
            self.error = e
        self.seconds = time.perf_counter() - t0

    def write(self, folder: Path) -> dict[str, Any]:
        """Wait for the hashes, copy rules and queries, write ``folder/inputs.json``."""
        self._thread.join()
        doc: dict[str, Any] = {
            "spec": str(Path(self.spec.source).absolute()),
            "served_root": str(self.served_root), "base": str(self.base),
            "parameters": dict(self.spec.parameters),
            "limits": {"max_derived_facts": self.spec.limits.max_derived_facts,
                       "timeout_seconds": self.spec.limits.timeout_seconds},
            "hash_seconds": round(self.seconds, 3),
        }
        if self.error is not None:
            doc["error"] = f"could not hash every input: {self.error}"
        for role in ROLES:
            recs = [dict(r) for r in self.records.get(role, [])]
            if role != "data":
                taken: set[str] = set()
                for r in recs:
                    name, n = Path(r["path"]).name, 2
                    while name in taken:
                        name, n = f"{Path(r['path']).stem}-{n}{Path(r['path']).suffix}", n + 1
                    taken.add(name)
                    dest = folder / COPIES / role / name
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(r["path"], dest)
                    r["copy"] = f"{COPIES}/{role}/{name}"
            doc[role] = recs
        part = folder / f".{MANIFEST}.part"
        part.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        os.replace(part, folder / MANIFEST)
        return doc


def read_manifest(job_dir: str | Path) -> dict[str, Any]:
    """The job folder's ``inputs.json``; a :class:`DataError` saying why when it is absent."""
    path = Path(job_dir) / MANIFEST
    if not path.is_file():
        raise DataError(f"the job folder has no {MANIFEST}: it was made before graphcrime "
                        "recorded what a job read", file=str(job_dir),
                        hint="rerun the job to record its inputs")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DataError(f"not valid JSON: {e.msg}", file=str(path), line=e.lineno, col=e.colno,
                        hint="the job folder is damaged; rerun the job") from None
    if not isinstance(doc, dict):
        raise DataError("expected a JSON object", file=str(path), json_path="$",
                        hint="the job folder is damaged; rerun the job")
    return doc


def recorded_paths(job_dir: str | Path, role: str) -> list[Path]:
    """The files of ``role`` the job read, as recorded; rules/queries from the job's copies.

    Every file must still be there with its recorded size, else a :class:`DataError` names
    it (and the ``inputs.json`` entry that recorded it).
    """
    folder = Path(job_dir)
    doc = read_manifest(folder)
    out: list[Path] = []
    for i, rec in enumerate(doc.get(role) or []):
        where = f"{role}[{i}]"
        if rec.get("copy") and (folder / rec["copy"]).is_file():
            out.append(folder / rec["copy"])
            continue
        path = Path(rec["path"])
        if not path.is_file():
            raise DataError(f"the job's input file {path} is gone", file=str(folder / MANIFEST),
                            json_path=where, hint="restore it there (inputs.json records its "
                            "size and sha256), or work from the job folder alone")
        if path.stat().st_size != rec.get("size"):
            raise DataError(f"the job's input file {path} has changed since the job ran "
                            f"({path.stat().st_size:,} bytes, recorded {rec.get('size'):,})",
                            file=str(folder / MANIFEST), json_path=where,
                            hint="restore the file the job read, or rerun the job")
        out.append(path)
    return out
