"""Shared fixtures for runner tests: a served folder with hand-worked data, rules, queries."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
E = "http://oxfordsemantic.tech/transactions/entities#"
P = "http://oxfordsemantic.tech/transactions/properties#"
T = "http://oxfordsemantic.tech/transactions/classes#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

# Hand-worked: three transactions a->b (500), b->c (50), c->a (7000); a is suspicious.
TX = [("t1", "a", "b", "500"), ("t2", "b", "c", "50"), ("t3", "c", "a", "7000")]

QUERY_BIG = f"""PREFIX prop: <{P}>
SELECT ?t ?amount WHERE {{ ?t prop:hasAmount ?amount FILTER(?amount > 100) }} ORDER BY ?t"""
QUERY_SPO = f"""PREFIX prop: <{P}>
SELECT ?S ?P ?O WHERE {{ ?S prop:hasOriginator <{E}party_a> . ?S ?P ?O }}"""
QUERY_ASK = f"ASK {{ <{E}party_a> <{P}isSuspicious> true }}"


def data_nt() -> str:
    lines = []
    for p in "abc":
        lines.append(f"<{E}party_{p}> <{RDF_TYPE}> <{T}Party> .")
        flag = "true" if p == "a" else "false"
        lines.append(f'<{E}party_{p}> <{P}isSuspicious> "{flag}"^^<{XSD}boolean> .')
    for t, o, b, amount in TX:
        s = f"<{E}transaction_{t}>"
        lines += [f"{s} <{RDF_TYPE}> <{T}Transaction> .",
                  f"{s} <{P}hasOriginator> <{E}party_{o}> .",
                  f"{s} <{P}hasBeneficiary> <{E}party_{b}> .",
                  f'{s} <{P}hasAmount> "{amount}"^^<{XSD}decimal> .']
    return "\n".join(lines) + "\n"


@pytest.fixture
def served(tmp_path: Path) -> Path:
    """A served folder: data/day.nt, rules/ok.dlog, queries/*.rq, and a valid job.json."""
    root = tmp_path / "served"
    for d in ("data", "rules", "queries"):
        (root / d).mkdir(parents=True)
    (root / "data" / "day.nt").write_text(data_nt())
    (root / "rules" / "ok.dlog").write_text("% no rules needed by the test double\n")
    (root / "queries" / "big.rq").write_text(QUERY_BIG)
    (root / "queries" / "spo.rq").write_text(QUERY_SPO)
    (root / "queries" / "ask.rq").write_text(QUERY_ASK)
    write_spec(root / "job.json", name="day")
    return root


def write_spec(path: Path, **overrides) -> Path:
    doc = {"data": ["data/*.nt"], "rules": ["rules/ok.dlog"], "queries": ["queries/*.rq"]}
    doc.update(overrides)
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def store_factory():
    sys.path.insert(0, str(HERE))
    from runner_oxistore import OxiStore

    return OxiStore
