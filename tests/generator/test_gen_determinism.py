"""Same options and seed -> same bytes, whatever the worker count; --files only splits."""

from __future__ import annotations

import gzip
from pathlib import Path

from generator import generate

# crosses several 16,384-row blocks, the planted segment and (with 3 files) block-internal cuts
OPTS = dict(transactions=40_000, parties=3_000, suspicious_fraction=0.01, seed=5)


def _bytes(folder: Path, pattern: str) -> bytes:
    parts = sorted(folder.glob(pattern), key=lambda p: int(p.name.split("-")[1].split(".")[0]))
    return b"".join(
        gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes() for p in parts
    )


def _all_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_workers_do_not_change_bytes(tmp_path):
    a = generate(tmp_path / "a", workers=1, typologies="layering=4,cycle=2", **OPTS)
    b = generate(tmp_path / "b", workers=3, typologies="layering=4,cycle=2", **OPTS)
    assert _all_files(a.out_dir) == _all_files(b.out_dir)


def test_files_only_split_the_same_triples(tmp_path):
    one = generate(tmp_path / "one", files=1, typologies="fan-in=3", **OPTS)
    three = generate(tmp_path / "three", files=3, gzip=True, typologies="fan-in=3", **OPTS)
    for pattern in ("parties-*", "transactions-*"):
        assert _bytes(one.out_dir, pattern) == _bytes(three.out_dir, pattern)
    assert [f.path for f in three.files][:3] == [
        "parties-0.nt.gz",
        "parties-1.nt.gz",
        "parties-2.nt.gz",
    ]
    gt1 = (one.out_dir / "ground-truth.csv").read_bytes()
    assert gt1 == (three.out_dir / "ground-truth.csv").read_bytes()
    assert one.counts == three.counts


def test_seed_changes_data(tmp_path):
    a = generate(tmp_path / "a", transactions=500, seed=1)
    b = generate(tmp_path / "b", transactions=500, seed=2)
    assert _bytes(a.out_dir, "transactions-*") != _bytes(b.out_dir, "transactions-*")
