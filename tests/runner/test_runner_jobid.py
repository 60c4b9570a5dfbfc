"""Job ids: format, next free number, and no duplicates under concurrent allocation."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from graphcrime.runner.jobid import allocate

DAY = dt.date(2021, 7, 30)


def test_next_free_number_counts_finished_and_working_folders(tmp_path: Path) -> None:
    (tmp_path / "demo_2021-07-30_007").mkdir()
    (tmp_path / ".tmp-demo_2021-07-30_009").mkdir()
    (tmp_path / "other_2021-07-30_050").mkdir()
    job_id, tmp = allocate(tmp_path, "demo", DAY)
    assert job_id == "demo_2021-07-30_010" and tmp == tmp_path / ".tmp-demo_2021-07-30_010"
    assert allocate(tmp_path, "other", DAY)[0] == "other_2021-07-30_051"
    assert allocate(tmp_path, "demo", dt.date(2021, 7, 31))[0] == "demo_2021-07-31_001"


def test_concurrent_allocations_are_unique(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda _: allocate(tmp_path, "j", DAY)[0], range(40)))
    assert sorted(ids) == [f"j_2021-07-30_{n:03d}" for n in range(1, 41)]


def test_numbers_past_999_keep_sorting_by_value(tmp_path: Path) -> None:
    (tmp_path / "j_2021-07-30_999").mkdir()
    assert allocate(tmp_path, "j", DAY)[0] == "j_2021-07-30_1000"
