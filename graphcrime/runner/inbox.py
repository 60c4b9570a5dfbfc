"""The inbox side of the watcher: when a dropped spec is complete, and who owns a claimed one.

*Complete*: a spec is taken once it parses as JSON and has not changed for one scan (a
prefix of a JSON object never parses, so a spec still being copied or rewritten is not read
half-written), or, if it never parses, once it has not changed for ``settle`` seconds on the
watcher's own clock (then it is taken to be failed with its JSON error; ``cp -p`` keeps an
old mtime, so mtimes alone prove nothing). Writers should still write ``name.json.part`` (or
a dotfile) and rename it into place: that is atomic and needs no waiting.

*Owned*: a claimed spec is ``flock``-ed before it is moved to ``running/``, and the lock's
descriptor is inherited by the worker, so the lock lives exactly as long as some process
still works on the spec. A spec in ``running/`` whose lock is free is an orphan: its watcher
and worker are gone (``kill -9``, power loss), and the next watcher adopts it.

>>> import tempfile, pathlib, os
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "a.json").write_text("{}")
>>> fd = lock(d / "a.json"); lock(d / "a.json") is None  # held by fd
True
>>> os.close(fd); fd = lock(d / "a.json"); fd is not None
True
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import json
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from graphcrime.errors import SpecError
from graphcrime.runner.spec import read_spec_text


def ignored(name: str) -> bool:
    """Names the watcher never takes: dotfiles, editor backups, ``.part``/``.tmp`` drafts."""
    return (name.startswith((".", "~", "#")) or not name.endswith(".json")
            or name.endswith((".part.json", ".tmp.json")))


def lock(path: Path) -> int | None:
    """An exclusive ``flock`` on ``path`` (a regular file, links not followed), or ``None``
    when another process holds it or the file is gone."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    if not same_file(fd, path):  # moved away (finished) between open and flock
        os.close(fd)
        return None
    return fd


def same_file(fd: int, path: Path) -> bool:
    try:
        a, b = os.fstat(fd), os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def parses(path: Path) -> bool:
    """True when ``path`` holds a whole JSON document, or can never become one by growing
    (too big, not a regular file, not UTF-8 in its first bytes: taken, to be refused)."""
    try:
        json.loads(read_spec_text(path))
    except SpecError as e:
        return "larger than" in e.message or "regular file" in e.message
    except (ValueError, RecursionError):
        return False
    return True


@dataclass
class Seen:
    key: tuple[int, int]
    since: float  # watcher clock when this size/mtime was first seen
    complete: bool


class Settling:
    """Tracks inbox files between scans; :meth:`scan` says which are ready to claim."""

    def __init__(self, settle: float) -> None:
        self.settle = settle
        self.seen: dict[str, Seen] = {}

    def scan(self, inbox: Path) -> tuple[list[Path], list[Path], bool]:
        """``(ready specs oldest first, non-regular entries to refuse, any still settling)``."""
        now, clock = time.time(), time.monotonic()
        stats, refused = [], []
        with os.scandir(inbox) as entries:
            for entry in entries:
                if ignored(entry.name):
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:  # claimed by another watcher meanwhile
                    continue
                if stat.S_ISREG(st.st_mode):
                    stats.append((entry.name, st))
                elif not stat.S_ISDIR(st.st_mode):  # symlink, FIFO, device, socket
                    refused.append(inbox / entry.name)
        out, pending, seen = [], False, {}
        for name, st in stats:
            key, old = (st.st_size, st.st_mtime_ns), self.seen.get(name)
            unchanged = old is not None and old.key == key
            s = old if old is not None and unchanged else Seen(key, clock, parses(inbox / name))
            seen[name] = s
            aged = now - st.st_mtime >= self.settle
            if (s.complete and (unchanged or aged)) or (aged and clock - s.since >= self.settle):
                out.append((st.st_mtime_ns, name))
            else:
                pending = True
        self.seen = seen
        return [inbox / n for _, n in sorted(out)], sorted(refused), pending


def iso_seconds(text: str) -> float:
    return _dt.datetime.fromisoformat(text).timestamp()


def find_published(output_root: Path, spec: Path, claimed_at: float) -> dict | None:
    """``status.json`` of a job folder published for this claim of ``spec`` (a worker that
    died between publishing and reporting), or ``None``."""
    for log in output_root.glob("*/job.log"):
        try:
            with open(log, encoding="utf-8") as f:
                first = f.readline().rstrip("\n")
            if not first.endswith(f" from {spec}"):
                continue
            doc = json.loads((log.parent / "status.json").read_text(encoding="utf-8"))
            if iso_seconds(doc["started"]) >= claimed_at - 0.01:
                return doc
        except (OSError, ValueError, KeyError):
            continue
    return None
