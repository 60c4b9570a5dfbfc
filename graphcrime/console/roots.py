"""The folders the console serves, and the only ways a URL may name something inside them.

A job id in a URL must be the name of a job folder directly under the output root (no
separators, no dot files, no symlink leading elsewhere); a result file must be a regular file
directly in that job's ``results/``. Anything else is :class:`NotFound`, so no URL can read
outside the served roots.

>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> (root / "a_2021-07-30_001").mkdir()
>>> _ = (root / "a_2021-07-30_001" / "status.json").write_text("{}")
>>> r = Roots(root)
>>> r.job_dir("a_2021-07-30_001").name
'a_2021-07-30_001'
>>> try:
...     r.job_dir("../etc")
... except NotFound as e:
...     print(e)
no job '../etc'
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

#: What a job folder or result file name may look like (job ids: ``<name>_<date>_<NNN>``).
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")


class NotFound(LookupError):
    """A URL named something that is not (or may not be shown) inside the served roots."""


def inside(path: Path, root: Path) -> bool:
    """True when ``path`` (symlinks resolved) is ``root`` or below it."""
    real, top = Path(os.path.realpath(path)), Path(os.path.realpath(root))
    return real == top or top in real.parents


def child(folder: Path, name: str, *, want_dir: bool) -> Path:
    """``folder/name`` when ``name`` is a plain entry of ``folder`` of the wanted kind whose
    real path stays inside ``folder``; else :class:`NotFound`."""
    if not SAFE_NAME.match(name) or ".." in name:
        raise NotFound(f"no {'job' if want_dir else 'file'} {name!r}")
    path = folder / name
    try:
        st = os.stat(path)  # follows links: the target's kind
    except OSError:
        raise NotFound(f"no {'job' if want_dir else 'file'} {name!r}") from None
    kind_ok = stat.S_ISDIR(st.st_mode) if want_dir else stat.S_ISREG(st.st_mode)
    if not kind_ok or Path(os.path.realpath(path)).parent != Path(os.path.realpath(folder)):
        raise NotFound(f"no {'job' if want_dir else 'file'} {name!r}")
    return path


@dataclass(frozen=True)
class Roots:
    """``output_root`` (job folders), optional ``inbox`` (watched folder) and ``store_root``."""

    output_root: Path
    inbox: Path | None = None
    store_root: Path | None = None

    def __post_init__(self) -> None:
        for name in ("output_root", "inbox", "store_root"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, Path(value).absolute())

    def job_dir(self, job_id: str) -> Path:
        """The folder of a finished job (it has ``status.json``); :class:`NotFound` otherwise."""
        path = child(self.output_root, job_id, want_dir=True)
        if not (path / "status.json").is_file():
            raise NotFound(f"no job {job_id!r}")
        return path

    def result_file(self, job_id: str, name: str) -> Path:
        """A file directly in the job's ``results/`` folder."""
        results = self.job_dir(job_id) / "results"
        if not results.is_dir() or not inside(results, self.output_root):
            raise NotFound(f"no file {name!r}")
        return child(results, name, want_dir=False)
