"""Runner test helpers: hand-worked data, queries and spec writing."""

from __future__ import annotations

import json
from pathlib import Path

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


def write_spec(path: Path, **overrides) -> Path:
    doc = {"data": ["data/*.nt"], "rules": ["rules/ok.dlog"], "queries": ["queries/*.rq"]}
    doc.update(overrides)
    path.write_text(json.dumps(doc))
    return path
