"""The real ``graphcrime.api.Store``, reporting the thread count DuckDB runs with in ``stats()``
(so a job's stats.json shows how many cores it was given)."""

from __future__ import annotations

from typing import Any

from graphcrime.api import Store
from graphcrime.db import scalar


class ThreadsStore(Store):
    def stats(self) -> dict[str, Any]:
        threads = int(scalar(self.con, "SELECT current_setting('threads')"))
        return {**super().stats(), "duckdb_threads": threads}
