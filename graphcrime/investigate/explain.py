"""Explain one chain: its transactions in order and the rules that gave it its classes.

The classes come from the job's results; the rules from parsing the job's copies of its
rule files (``inputs/rules/``, recorded in ``inputs.json``) and keeping every rule with a
head atom ``[?x, rdf:type, C]`` for each class ``C`` the chain has. Transactions and their
parties come from ``results/chain-transactions.nt``: the job folder alone is enough.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphcrime.errors import DataError, GraphcrimeError
from graphcrime.investigate.source import open_for_chain
from graphcrime.lang.ast import IRI, TripleAtom
from graphcrime.results import PREFIXES, JobResults, python_value
from graphcrime.vocab import RDF_TYPE, RDFS

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


def party_facts(res: JobResults, parties: list[str]) -> dict[str, dict[str, Any]]:
    """``{party: {"label", "suspicious"}}`` from the job's results (None where unknown)."""
    if not parties:
        return {}
    values = " ".join(f"<{p}>" for p in parties)
    rows = res.query(PREFIXES + f"PREFIX rdfs: <{RDFS}>\nSELECT ?p ?s ?l WHERE "
                     f"{{ VALUES ?p {{ {values} }} OPTIONAL {{ ?p prop:isSuspicious ?s }} "
                     "OPTIONAL { ?p rdfs:label ?l } }").rows()
    out: dict[str, dict[str, Any]] = {p: {"label": None, "suspicious": None} for p in parties}
    for p, sus, label in rows:
        out[p.value] = {"label": label.value if label is not None else None,
                        "suspicious": python_value(sus)}
    return out


def explain(job_dir: str | Path, chain: str) -> dict[str, Any]:
    """A JSON-ready explanation of ``chain`` (an IRI, with or without ``<>``): ``classes``,
    ``properties``, ``transactions`` (date order, every detail present), ``parties``,
    ``rules`` ({class, file, line}) and ``notes``."""
    iri = chain.strip("<>")
    res, notes = open_for_chain(job_dir, iri)
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
        transactions = res.transactions(iri, complete=True)
        parties = party_facts(res, list(dict.fromkeys(
            p for t in transactions for p in (t["originator"], t["beneficiary"]))))
        try:
            rules = rules_for_classes(res.spec_paths("rules"), classes)
        except GraphcrimeError as e:
            notes.append(f"rule files not found ({e.message})")
            rules = []
    return {"chain": iri, "classes": classes, "properties": props,
            "transactions": transactions, "parties": parties, "rules": rules, "notes": notes}


def format_tree(doc: dict[str, Any]) -> str:
    """An indented text tree of :func:`explain`'s answer."""
    def short(x: Any) -> str:
        return str(x).rsplit("#", 1)[-1] if isinstance(x, str) and "#" in x else str(x)

    lines = [f"chain {short(doc['chain'])}",
             "  classes: " + ", ".join(short(c) for c in doc["classes"])]
    for k, v in doc["properties"].items():
        lines.append(f"  {k}: {short(v)}")
    parties = doc.get("parties", {})

    def party(p: str) -> str:
        info = parties.get(p) or {}
        name = f" ({info['label']})" if info.get("label") else ""
        return short(p) + name + (" [suspicious]" if info.get("suspicious") else "")

    def money(a: Any) -> str:
        return f"${a:,.2f}" if isinstance(a, (int, float)) else str(a)

    lines.append(f"  transactions ({len(doc['transactions'])}, by date):")
    for i, t in enumerate(doc["transactions"], 1):
        lines.append(f"    {i:>2}. {str(t['date']).replace('T', ' ')}  {money(t['amount'])}  "
                     f"{party(t['originator'])} -> {party(t['beneficiary'])}  "
                     f"{short(t['transaction'])}")
    lines.append("  made by:")
    for r in doc["rules"]:
        lines.append(f"    {short(r['class'])}: {r['file']}:{r['line']}")
    lines += [f"  note: {n}" for n in doc["notes"]]
    return "\n".join(lines)
