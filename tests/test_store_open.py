"""gc.open(store) and ``graphcrime serve STORE``: a store opened read-only, nothing reloaded,
answering like a from-scratch job over the same files."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

import graphcrime as gc
from graphcrime.errors import DataError, StoreLocked
from graphcrime.results import StoreResults
from graphcrime.serve import make_server

REPO = Path(__file__).resolve().parents[1]
RULES = [REPO / "rules" / "suspicious-chains.dlog", REPO / "rules" / "high-value-chains.dlog"]
PARAMS = {"min_amount": 100, "max_chain_length": 30}
E = "http://e/"


@pytest.fixture(scope="module")
def days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from generator import generate

    root = tmp_path_factory.mktemp("days")
    generate(root / "data", transactions=800, parties=450, seed=5, typologies="all",
             split_by="day")
    return root / "data"


def closure_store(tmp_path: Path) -> Path:
    (tmp_path / "r.dlog").write_text(f"@prefix : <{E}> .\n:p[?x, ?z] :- :p[?x, ?y], :p[?y, ?z] .\n")
    (tmp_path / "d.nt").write_text(f"<{E}a> <{E}p> <{E}b> .\n<{E}b> <{E}p> <{E}c> .\n")
    with gc.Store.create(tmp_path / "s", rules=tmp_path / "r.dlog") as s:
        s.add(tmp_path / "d.nt")
    (tmp_path / "d.nt").unlink()  # opening must not need the inputs
    (tmp_path / "r.dlog").unlink()
    return tmp_path / "s"


def test_open_a_store_without_its_inputs(tmp_path: Path) -> None:
    store = closure_store(tmp_path)
    with gc.open(store) as res:
        assert isinstance(res, StoreResults) and res.status == {}
        assert res.stats["facts"] - res.stats["input_facts"] == res.stats["derived_facts"] == 1
        rows = res.query(f"SELECT ?y WHERE {{ <{E}a> <{E}p> ?y }} ORDER BY ?y").rows()
        assert [r[0].value for r in rows] == [f"{E}b", f"{E}c"]
        with pytest.raises(DataError, match="is a store"):
            res.spec_paths("data")
    writer = subprocess.Popen(  # another process writes to it: readers are told so
        [sys.executable, "-c", "import sys, time, graphcrime as gc\n"
         "s = gc.Store.open(sys.argv[1]); print('open', flush=True); time.sleep(60)", str(store)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline() == "open\n"
        with pytest.raises(StoreLocked, match="open for writing"):
            gc.open(store)
    finally:
        writer.kill()
        writer.wait()
        assert writer.stdout is not None
        writer.stdout.close()
    with gc.open(store) as res:
        assert res.stats["derived_facts"] == 1


def test_a_folder_that_is_neither_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a job folder"):
        gc.open(tmp_path)


def test_store_chains_equal_a_from_scratch_job(days: Path, tmp_path: Path) -> None:
    files = sorted(days.glob("*.nt"))
    with gc.Store.create(tmp_path / "s", rules=RULES, params=PARAMS) as s:
        s.add(files[:2])  # parties, first day
        s.add(files[2:])  # the other days
    with gc.Store() as m:
        m.load(files)
        m.reason(RULES, PARAMS)
        expected = {(r[0].value, r[1].value) for r in m.query(
            "SELECT ?c ?t WHERE { ?c a <http://oxfordsemantic.tech/transactions/classes#"
            "SuspiciousChain> ; <http://oxfordsemantic.tech/transactions/properties#"
            "containsTransaction> ?t }").rows()}
    with gc.open(tmp_path / "s") as res:
        chains = res.chains()
        rows = chains.to_dict("records") if hasattr(chains, "to_dict") else chains
        suspicious = {r["chain"] for r in rows if r["suspicious"]}
        assert suspicious == {c for c, _ in expected} and suspicious
        some = sorted(suspicious)[0]
        txs = res.transactions(some)  # the store holds the inputs: amounts and dates too
        assert {t["transaction"] for t in txs} == {t for c, t in expected if c == some}
        assert all(t["amount"] is not None and t["date"] for t in txs)


def test_serve_a_store(tmp_path: Path) -> None:
    store = closure_store(tmp_path)
    server = make_server(store, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/sparql?" + urllib.parse.urlencode(
            {"query": f"SELECT ?y WHERE {{ <{E}a> <{E}p> ?y }} ORDER BY ?y"})
        req = urllib.request.Request(url, headers={"Accept": "text/csv"})
        with urllib.request.urlopen(req, timeout=30) as r:
            assert r.read().decode().splitlines() == ["y", f"{E}b", f"{E}c"]
        update = urllib.parse.urlencode({"update": f"INSERT DATA {{ <{E}x> <{E}p> <{E}y> }}"})
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(urllib.request.Request(
                url.split("?")[0], data=update.encode()), timeout=30)
        assert e.value.code == 400
        e.value.close()
    finally:
        server.shutdown()
        server.server_close()
        server.endpoint.results.close()  # type: ignore[attr-defined]
    shutil.rmtree(store)
