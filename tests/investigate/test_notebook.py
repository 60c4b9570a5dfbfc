"""notebooks/investigate.ipynb runs end to end (nbclient + ipykernel); the numbers it prints
are checked against pyoxigraph over the job folder it wrote and the ground-truth file."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import nbformat
import pyoxigraph as ox
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "investigate.ipynb"
P = "http://oxfordsemantic.tech/transactions/properties#"
T = "http://oxfordsemantic.tech/transactions/classes#"
PREFIXES = f"PREFIX prop: <{P}>\nPREFIX type: <{T}>\n"


def printed(nb: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs if o.output_type == "stream")


def value(text: str, label: str) -> str:
    m = re.search(rf"^{re.escape(label)}:? (\S+)", text, re.M)
    assert m, f"{label!r} not printed"
    return m.group(1)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPHCRIME_NOTEBOOK_DIR", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    out = printed(nb)
    job = Path(value(out, "job folder"))
    assert job.parent == tmp_path / "out" and value(out, "status") == "succeeded"

    store = ox.Store()
    for f in [*(job / "results").glob("*.nt"), *(tmp_path / "data").glob("*.nt")]:
        store.bulk_load(path=str(f), format=ox.RdfFormat.N_TRIPLES)

    def count(where: str) -> int:
        q = PREFIXES + f"SELECT (COUNT(DISTINCT ?c) AS ?n) {{ {where} }}"
        return int(next(iter(store.query(q)))["n"].value)

    suspicious = count("?c a type:SuspiciousChain")
    assert suspicious > 0
    assert int(value(out, "in-process suspicious chains")) == suspicious
    assert int(value(out, "chains")) == count("{ ?c a type:SuspiciousChain } UNION "
                                              "{ ?c a type:HighValueChain }")
    assert int(re.search(r"high-value: (\d+)", out).group(1)) == count("?c a type:HighValueChain")

    chain = value(out, "longest chain")
    longest = PREFIXES + "SELECT (MAX(?l) AS ?m) { ?c a type:SuspiciousChain ; prop:hasLength ?l }"
    assert int(re.search(r"length: (\d+)", out).group(1)) == int(
        next(iter(store.query(longest)))["m"].value)
    txs = [(s["o"].value, s["b"].value) for s in store.query(
        PREFIXES + f"SELECT ?t ?o ?b {{ <{chain}> prop:containsTransaction ?t . "
                   "?t prop:hasOriginator ?o ; prop:hasBeneficiary ?b }")]
    m = re.search(r"picture: (\d+) parties, (\d+) transactions", out)
    assert (int(m.group(1)), int(m.group(2))) == (len({p for t in txs for p in t}), len(txs))
    assert any("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
               for o in c.outputs)
    assert any("text/html" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
               for o in c.outputs), "no DataFrame shown"

    # recall of SuspiciousChain against the planted instances, from the files
    sets: dict[str, set[str]] = {}
    for s in store.query(PREFIXES + "SELECT ?c ?t { ?c a type:SuspiciousChain ; "
                         "prop:containsTransaction ?t }"):
        sets.setdefault(s["c"].value, set()).add(s["t"].value)
    chains = {frozenset(v) for v in sets.values()}
    with open(tmp_path / "data" / "ground-truth.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["expect_suspicious_chain"] == "true"]
    found = sum(frozenset(r["transactions"].split()) in chains for r in rows)
    assert float(value(out, "overall suspicious recall")) == round(found / len(rows), 4)
