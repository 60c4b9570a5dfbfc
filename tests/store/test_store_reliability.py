"""Reliability of on-disk stores: kill -9 in the middle of an update leaves the state before
or after it; a second writer waits or is refused; foreign and corrupt folders are refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import PARAMS, RULES, store_facts

import graphcrime as gc
from graphcrime.errors import StoreError, StoreLocked

CHILD = textwrap.dedent("""
    import sys, graphcrime as gc
    store = gc.Store.open(sys.argv[1])
    print("go", flush=True)
    getattr(store, sys.argv[2])(sys.argv[3])
    print("done", flush=True)
    store.close()
""")


def _kill_during(store: Path, op: str, file: Path, delay: float, env: dict) -> bool:
    """Run ``op`` on the store in a child and SIGKILL it ``delay`` s after it started the
    update; whether it was killed before finishing."""
    with subprocess.Popen([sys.executable, "-c", CHILD, str(store), op, str(file)],
                          stdout=subprocess.PIPE, text=True, env=env) as child:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "go"
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        rest = child.stdout.read()
    return "done" not in rest


@pytest.mark.slow
@pytest.mark.reliability("kill -9 during store add/retract", "the store reopens at the state "
                         "before the update or after it, never in between")
@pytest.mark.parametrize("op, mode", [("add", "copy"), ("retract", "copy"),
                                      ("add", "transaction")])
def test_kill_during_update(days, scratch, tmp_path, op, mode) -> None:
    """``copy``: the update works on a copy of the database file renamed over it at the end;
    ``transaction``: a file above GC_STORE_COPY_LIMIT is updated in one DuckDB transaction."""
    env = {**os.environ, **({"GC_STORE_COPY_LIMIT": "0"} if mode == "transaction" else {})}
    parties, (d1, d2, d3) = days
    path = tmp_path / "store"
    with gc.Store.create(path, rules=RULES, params=PARAMS, threads=1) as s:
        s.add(parties, d1, d2)
    if op == "add":
        before, after, file = [parties, d1, d2], [parties, d1, d2, d3], d3
    else:
        before, after, file = [parties, d1, d2], [parties, d2], d1
    # from-scratch runs (conftest.py's scratch)
    states = {"before": scratch(before)[0], "after": scratch(after)[0]}
    killed = 0
    for delay in (0.3, 0.8, 1.5):
        if _kill_during(path, op, file, delay, env):
            killed += 1
        with gc.Store.open(path, read_only=True) as s:  # a reader ignores a dead update's copy
            assert store_facts(s)[0] in (states["before"], states["after"]), delay
        with gc.Store.open(path, threads=1) as s:
            assert not (path / "store.duckdb.next").exists()  # the writer removed it
            got = store_facts(s)[0]
            assert got in (states["before"], states["after"]), delay
            if got == states["after"]:  # finished (or committed just before the kill)
                if op == "add":
                    s.retract(d3)
                else:
                    s.add(d1)
                assert store_facts(s)[0] == states["before"]
    assert killed, "the update always finished before the kill: make it longer"


def test_second_writer_waits_or_is_refused(tmp_path) -> None:
    path = tmp_path / "store"
    gc.Store.create(path).close()
    with subprocess.Popen(
            [sys.executable, "-c", "import sys, time, graphcrime as gc\n"
             "s = gc.Store.open(sys.argv[1]); print('held', flush=True); time.sleep(1.5); "
             "s.close()", str(path)], stdout=subprocess.PIPE, text=True) as holder:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreLocked, match="being updated by another process"):
            gc.Store.open(path)
        t0 = time.monotonic()
        with gc.Store.open(path, timeout=30) as s:  # waits for the holder to finish
            assert time.monotonic() - t0 > 0.2
            assert s.info()["facts"] == 0


def test_readers_and_the_writer_do_not_wait_for_each_other(tmp_path) -> None:
    """Between updates a writer keeps the file open read-only, and an update works on a copy:
    a reader in another process opens the store while the writer has it, and sees each
    update once it is done."""
    path = tmp_path / "store"
    reader = ("import sys, graphcrime as gc\n"
              "with gc.Store.open(sys.argv[1], read_only=True) as r: print(len(r))")
    (tmp_path / "a.nt").write_text("<http://e/a> <http://e/p> <http://e/b> .\n")
    (tmp_path / "b.nt").write_text("<http://e/b> <http://e/p> <http://e/c> .\n")
    with gc.Store.create(path) as s:
        for n, f in enumerate(("a.nt", "b.nt"), 1):
            s.add(tmp_path / f)
            out = subprocess.run([sys.executable, "-c", reader, str(path)], text=True,
                                 capture_output=True, timeout=120)
            assert out.returncode == 0, out.stderr
            assert out.stdout.strip() == str(n)


def test_reader_and_read_only(tmp_path) -> None:
    path = tmp_path / "store"
    (tmp_path / "a.nt").write_text("<http://e/a> <http://e/p> <http://e/b> .\n")
    with gc.Store.create(path) as s:
        s.add(tmp_path / "a.nt")
    with gc.Store.open(path, read_only=True) as r:
        assert len(r) == 1
        assert r.info()["read_only"] is True
        with pytest.raises(StoreError, match="read-only"):
            r.add(tmp_path / "a.nt")


@pytest.mark.reliability("a folder that is not a store", "refused with StoreError")
def test_foreign_and_corrupt_folders(tmp_path) -> None:
    with pytest.raises(StoreError, match="no such folder"):
        gc.Store.open(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(StoreError, match="not a graphcrime store"):
        gc.Store.open(tmp_path / "empty")
    other = tmp_path / "other"
    other.mkdir()
    (other / "graphcrime-store.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(StoreError, match="does not describe"):
        gc.Store.open(other)
    (other / "graphcrime-store.json").write_text("{not json")
    with pytest.raises(StoreError, match="corrupt"):
        gc.Store.open(other)
    good = tmp_path / "good"
    gc.Store.create(good).close()
    marker = json.loads((good / "graphcrime-store.json").read_text())
    (good / "graphcrime-store.json").write_text(json.dumps({**marker, "version": 99}))
    with pytest.raises(StoreError, match="format 99"):
        gc.Store.open(good)
    (good / "graphcrime-store.json").write_text(json.dumps(marker))
    (good / "store.duckdb").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="store.duckdb"):
        gc.Store.open(good)
    with pytest.raises(StoreError, match="not empty"):
        gc.Store.create(good)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    import duckdb
    duckdb.connect(str(foreign / "store.duckdb")).close()
    (foreign / "graphcrime-store.json").write_text(json.dumps(marker))
    with pytest.raises(StoreError, match="not a graphcrime store database"):
        gc.Store.open(foreign)
