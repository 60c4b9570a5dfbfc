"""Explain one chain: its transactions in order and the rules that gave it its classes.

The classes come from the job's results; the rules from parsing the job's rule files and
keeping every rule with a head atom ``[?x, rdf:type, C]`` for each class ``C`` the chain has.
Transaction details need the job's input data (loaded when the spec and data still exist).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphcrime.errors import DataError, GraphcrimeError
from graphcrime.lang.ast import IRI, TripleAtom
from graphcrime.results import PREFIXES, JobResults, python_value
from graphcrime.vocab import RDF_TYPE

CHAIN_PROPS = ("hasOriginator", "hasBeneficiary", "hasLength", "hasStartingAmount",
               "hasFinalAmount", "hasEndDate", "derivedFrom")


def rules_for_classes(rule_files: list[Path], classes: list[str]) -> list[dict[str, Any]]:
    """``[{"class", "file", "line"}]`` of every rule whose head types something as a class."""
    from graphcrime.lang.parser import parse_files

    out = []
    for path in rule_files:
        for rule in parse_files([path]).rules:
            for atom in rule.head:
                if (isinstance(atom, TripleAtom) and atom.p == IRI(RDF_TYPE)
                        and isinstance(atom.o, IRI) and atom.o.value in classes
                        and not rule.is_fact):
                    out.append({"class": atom.o.value, "file": str(path),
                                "line": rule.pos.line})
    return out


def explain(job_dir: str | Path, chain: str) -> dict[str, Any]:
    """A JSON-ready explanation of ``chain`` (an IRI, with or without ``<>``)."""
    iri = chain.strip("<>")
    notes: list[str] = []
    try:
        res = JobResults(job_dir, with_inputs=True)
    except GraphcrimeError as e:
        notes.append(f"input data not loaded ({e.message}); transactions lack details")
        res = JobResults(job_dir)
    with res:
        classes = sorted(t[0].value for t in res.query(
            f"SELECT ?c WHERE {{ <{iri}> a ?c }}").rows())
        if not classes:
            raise DataError(f"no chain <{iri}> in the job's results", file=str(job_dir),
                            hint="take a chain IRI from results/*.nt or JobResults.chains()")
        props: dict[str, Any] = {}
        for name in CHAIN_PROPS:
            rows = res.query(PREFIXES + f"SELECT ?v WHERE {{ <{iri}> prop:{name} ?v }}").rows()
            if rows:
                props[name] = python_value(rows[0][0])
        transactions = res.transactions(iri)
        try:
            rules = rules_for_classes(res.spec_paths("rules"), classes)
        except GraphcrimeError as e:
            notes.append(f"rule files not found ({e.message})")
            rules = []
    return {"chain": iri, "classes": classes, "properties": props,
            "transactions": transactions, "rules": rules, "notes": notes}


def format_tree(doc: dict[str, Any]) -> str:
    """An indented text tree of :func:`explain`'s answer."""
    def short(x: Any) -> str:
        return str(x).rsplit("#", 1)[-1] if isinstance(x, str) and "#" in x else str(x)

    lines = [f"chain {short(doc['chain'])}",
             "  classes: " + ", ".join(short(c) for c in doc["classes"])]
    for k, v in doc["properties"].items():
        lines.append(f"  {k}: {short(v)}")
    lines.append(f"  transactions ({len(doc['transactions'])}, by date):")
    for i, t in enumerate(doc["transactions"], 1):
        lines.append(f"    {i}. {short(t['transaction'])}  {t['date'] or '?'}  "
                     f"{short(t['originator'])} -> {short(t['beneficiary'])}  "
                     f"{t['amount'] if t['amount'] is not None else '?'}")
    lines.append("  made by:")
    for r in doc["rules"]:
        lines.append(f"    {short(r['class'])}: {r['file']}:{r['line']}")
    lines += [f"  note: {n}" for n in doc["notes"]]
    return "\n".join(lines)
