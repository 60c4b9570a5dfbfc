"""``--split-by day``: one transactions file per calendar day, the same transactions as unsplit."""

from __future__ import annotations

import gzip
import hashlib
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from gen_helpers import read_graph

from generator import generate
from graphcrime.errors import UsageError

# several 16,384-row blocks and the planted segment
OPTS = dict(transactions=40_000, parties=3_000, suspicious_fraction=0.01, seed=5,
            typologies="layering=4,cycle=2")


def _lines(paths: list[Path]) -> Counter:
    out: Counter = Counter()
    for p in paths:
        data = gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
        out.update(data.splitlines())
    return out


def test_day_files_hold_the_unsplit_transactions_by_their_date(tmp_path: Path) -> None:
    one = generate(tmp_path / "one", **OPTS)
    days = generate(tmp_path / "days", split_by="day", **OPTS)
    names = [f.path for f in days.files]
    assert names == ["parties-0.nt", "transactions-2021-07-27.nt",
                     "transactions-2021-07-28.nt", "transactions-2021-07-29.nt"]
    assert (one.out_dir / "parties-0.nt").read_bytes() == \
        (days.out_dir / "parties-0.nt").read_bytes()
    assert _lines(one.paths("transactions")) == _lines(days.paths("transactions"))
    total = 0
    for entry, path in zip(days.files[1:], days.paths("transactions"), strict=True):
        g = read_graph([path])  # strict parse: every record whole
        dates = {str(t["hasDate"])[:10] for t in g.txs.values()}
        assert dates == {path.name[len("transactions-"):-len(".nt")]}
        assert entry.rows == len(g.txs) > 0 and entry.triples == g.triples == 5 * entry.rows
        assert entry.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert entry.bytes == path.stat().st_size
        total += entry.rows
    assert total == days.counts["transactions"] == 40_000
    gt = "ground-truth.csv"
    assert (one.out_dir / gt).read_bytes() == (days.out_dir / gt).read_bytes()
    assert days.parameters["split_by"] == "day" and "split_by" not in one.parameters


def test_gzip_days_and_a_window_not_on_midnight(tmp_path: Path) -> None:
    plain = generate(tmp_path / "p", transactions=3000, split_by="day",
                     end="2021-07-30T12:00:00", days=2)
    gz = generate(tmp_path / "g", transactions=3000, split_by="day", gzip=True,
                  end="2021-07-30T12:00:00", days=2)
    # [07-28 12:00, 07-30 12:00) touches three calendar days
    assert [f.path for f in gz.files][1:] == [f"transactions-2021-07-{d}.nt.gz"
                                              for d in (28, 29, 30)]
    for a, b in zip(plain.paths(), gz.paths(), strict=True):
        assert a.read_bytes() == gzip.decompress(b.read_bytes())


def test_days_without_transactions_get_empty_files(tmp_path: Path) -> None:
    m = generate(tmp_path / "d", transactions=3, parties=2, days=40, split_by="day", gzip=True)
    tx = [f for f in m.files if f.kind == "transactions"]
    assert len(tx) == 40 and sum(f.rows for f in tx) == 3
    assert sum(f.rows == 0 for f in tx) >= 37
    for p in m.paths("transactions"):
        gzip.decompress(p.read_bytes())  # every file is a valid gzip stream, empty or not


def test_bad_split_options_are_refused() -> None:
    with pytest.raises(UsageError, match="unknown split"):
        generate("/nonexistent/never-written", split_by="week")
    with pytest.raises(UsageError, match="--files"):
        generate("/nonexistent/never-written", split_by="day", files=2)


def test_cli_split_by_day(tmp_path: Path) -> None:
    run = [sys.executable, "-m", "graphcrime", "generate", str(tmp_path / "d"), "-n", "500"]
    ok = subprocess.run([*run, "--split-by", "day"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert sorted(p.name for p in (tmp_path / "d").glob("transactions-*.nt")) == [
        "transactions-2021-07-27.nt", "transactions-2021-07-28.nt", "transactions-2021-07-29.nt"]
    bad = subprocess.run([*run[:-3], str(tmp_path / "e"), "--split-by", "hour"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "--split-by" in bad.stderr and not (tmp_path / "e").exists()
