"""Throughput of `graphcrime import amlworld` on a synthetic AMLworld-schema CSV.

Run: python bench/import_amlworld.py [ROWS ...]  (default 100000 500000). Prints a table of
reader (fast: pyarrow + DuckDB; strict: row by row), rows, seconds, rows/s and output MB. The
CSV is random (uniform accounts over 10 banks, 0.1 % laundering); only the speed means
anything.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # not bench/generator.py
from graphcrime.investigate.importers import import_amlworld  # noqa: E402

HEADER = ("Timestamp,From Bank,Account,To Bank,Account,Amount Received,Receiving Currency,"
          "Amount Paid,Payment Currency,Payment Format,Is Laundering\n")


def write_csv(path: Path, rows: int, seed: int = 0) -> None:
    rnd = random.Random(seed)
    accounts = max(100, rows // 10)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(HEADER)
        for i in range(rows):
            a, b = rnd.randrange(accounts), rnd.randrange(accounts)
            amt = f"{rnd.uniform(1, 50_000):.2f}"
            fh.write(f"2022/09/{1 + i * 10 // rows:02d} {rnd.randrange(24):02d}:"
                     f"{rnd.randrange(60):02d},{a % 10:03d},{a:09X},{b % 10:03d},{b:09X},"
                     f"{amt},US Dollar,{amt},US Dollar,ACH,{int(rnd.random() < 0.001)}\n")


def main(sizes: list[int]) -> None:
    print(f"{'reader':>7} {'rows':>10} {'seconds':>8} {'rows/s':>10} {'MB out':>7}")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "trans.csv"
            write_csv(src, n)
            for fast in (True, False):
                out = Path(tmp) / ("fast" if fast else "strict")
                t0 = time.perf_counter()
                import_amlworld(src, out, fast=fast)
                secs = time.perf_counter() - t0
                mb = sum(f.stat().st_size for f in out.iterdir()) / 1e6
                print(f"{out.name:>7} {n:>10,} {secs:>8.2f} {n / secs:>10,.0f} {mb:>7.1f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000, 500_000])
