"""Job ids ``<name>_<YYYY-MM-DD>_<NNN>``, allocated atomically by ``mkdir`` of a reservation.

The reservation is the hidden working folder ``<root>/.tmp-<id>/``; an id counts as taken when
either it or the final ``<root>/<id>/`` exists, so two runners never get the same id.

>>> import tempfile, datetime
>>> root = tempfile.mkdtemp()
>>> day = datetime.date(2021, 7, 30)
>>> [allocate(root, "demo", day)[0] for _ in range(2)]
['demo_2021-07-30_001', 'demo_2021-07-30_002']
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from pathlib import Path

from graphcrime.errors import UsageError

MAX_PER_DAY = 999_999


def allocate(root: str | Path, name: str, day: _dt.date | None = None) -> tuple[str, Path]:
    """Reserve the next free id for ``name`` today; return ``(job_id, working_folder)``."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    day = day or _dt.datetime.now(_dt.timezone.utc).date()
    prefix = f"{name}_{day.isoformat()}_"
    pattern = re.compile(re.escape(prefix) + r"(\d{3,})$")
    taken = [int(m.group(1)) for e in os.listdir(root)
             if (m := pattern.match(e.removeprefix(".tmp-")))]
    n = max(taken, default=0) + 1
    while n <= MAX_PER_DAY:
        job_id = f"{prefix}{n:03d}"
        tmp = root / f".tmp-{job_id}"
        if not (root / job_id).exists():
            try:
                tmp.mkdir()
                if not (root / job_id).exists():
                    return job_id, tmp
                tmp.rmdir()
            except FileExistsError:
                pass
        n += 1
    raise UsageError(f"no free job id left for {prefix}NNN in {root}",
                     hint="use another --output-root or job name")
