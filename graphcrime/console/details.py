"""What the chain, party and transaction pages show, read from a job's :class:`JobData`.

Each function returns a JSON-ready dict. IRIs arrive from URLs, so they are checked
(:func:`check_iri`) before they are written into a query between ``<`` and ``>``. Graphs are
drawn by :mod:`graphcrime.investigate.show` exactly as ``graphcrime show`` draws them.

>>> check_iri("<http://e/a>")
'http://e/a'
>>> try:
...     check_iri("http://e/a b")
... except QueryError as e:
...     print(e.message)
not an IRI: 'http://e/a b'
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from graphcrime.console.jobdata import CHAIN_COLUMNS, JobData
from graphcrime.console.tables import Table
from graphcrime.errors import DataError, GraphcrimeError, QueryError
from graphcrime.results import PREFIXES, python_value

_IRI = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*:[^\x00-\x20<>"{}|^`\\]*$')
MAX_GRAPH_EDGES = 150


def check_iri(iri: str | None) -> str:
    """``iri`` without ``<>`` when it is a well-formed absolute IRI; else QueryError."""
    text = (iri or "").strip().removeprefix("<").removesuffix(">")
    if not _IRI.match(text) or len(text) > 2000:
        raise QueryError(f"not an IRI: {iri!r}", hint="give an absolute IRI, e.g. "
                         "http://oxfordsemantic.tech/transactions/entities#party_...")
    return text


def kind_of(data: JobData, iri: str) -> str:
    """``chain``, ``party``, ``transaction`` or ``resource``: which page shows ``iri``."""
    if data.scalar("SELECT count(*) FROM gc_console_chains WHERE chain = ?", [iri]):
        return "chain"
    if data.scalar("SELECT count(*) FROM gc_console_parties WHERE iri = ?", [iri]):
        return "party"
    with data.lock:
        if bool(data.res.query(PREFIXES + f"ASK {{ {{ <{iri}> a type:Transaction }} UNION "
                               f"{{ ?c prop:containsTransaction <{iri}> }} }}")):
            return "transaction"
        if bool(data.res.query(PREFIXES + f"ASK {{ {{ <{iri}> a type:Party }} UNION "
                               f"{{ ?x prop:hasOriginator <{iri}> }} UNION "
                               f"{{ ?x prop:hasBeneficiary <{iri}> }} }}")):
            return "party"
    return "resource"


def facts(data: JobData, iri: str) -> dict[str, Any]:
    """Every triple with ``iri`` as subject, as a one-page table."""
    return query_table(data, f"SELECT ?property ?value WHERE {{ <{iri}> ?property ?value }} "
                       "ORDER BY ?property ?value").page(limit=500)


def query_table(data: JobData, sparql: str) -> Table:
    answer = data.run_query(sparql)
    assert answer[0] == "table"
    return answer[1]


def parties(data: JobData, iris: set[str]) -> dict[str, dict[str, Any]]:
    """``{iri: {"label", "suspicious"}}`` for the parties known among ``iris``."""
    if not iris:
        return {}
    marks = ", ".join("?" for _ in iris)
    with data.lock:
        rows = data.con.execute(f"SELECT iri, label, suspicious FROM gc_console_parties "
                                f"WHERE iri IN ({marks})", sorted(iris)).fetchall()
    return {r[0]: {"label": r[1], "suspicious": bool(r[2])} for r in rows}


def chain(data: JobData, iri: str) -> dict[str, Any]:
    """A chain: its row of the chains table, classes, transactions by date (with parties),
    parent and extensions, and the rules (file:line, text) that gave it its classes."""
    with data.lock:
        return _chain(data, iri)


def _chain(data: JobData, iri: str) -> dict[str, Any]:
    rows = data.con.execute(f"SELECT {', '.join(CHAIN_COLUMNS)} FROM gc_console_chains "
                            "WHERE chain = ?", [iri]).fetchall()
    if not rows:
        raise DataError(f"no chain <{iri}> in the job's results",
                        hint="pick a chain from the job's chains table")
    classes = sorted(t[0].value for t in data.res.query(
        f"SELECT ?c WHERE {{ <{iri}> a ?c }}").rows())
    txs = data.res.transactions(iri)
    parent = [python_value(r[0]) for r in data.res.query(
        PREFIXES + f"SELECT ?p WHERE {{ <{iri}> prop:derivedFrom ?p }}").rows()]
    children = [python_value(r[0]) for r in data.res.query(
        PREFIXES + f"SELECT ?c WHERE {{ ?c prop:derivedFrom <{iri}> }} ORDER BY ?c").rows()]
    known = parties(data, {t[k] for t in txs for k in ("originator", "beneficiary") if t[k]})
    for t in txs:
        for k in ("originator", "beneficiary"):
            info = known.get(t[k] or "", {})
            t[f"{k}_label"] = info.get("label")
            t[f"{k}_suspicious"] = info.get("suspicious")
    in_results = set()
    if parent or children:
        marks = ", ".join("?" for _ in parent + children)
        in_results = {r[0] for r in data.con.execute(
            f"SELECT chain FROM gc_console_chains WHERE chain IN ({marks})",
            parent + children).fetchall()}
    return {"chain": dict(zip(CHAIN_COLUMNS, rows[0], strict=True)), "classes": classes,
            "transactions": txs, "details": any(t["originator"] for t in txs),
            "parent": [{"iri": p, "in_results": p in in_results} for p in parent],
            "extensions": [{"iri": c, "in_results": c in in_results} for c in children],
            "rules": rules(data, classes), "notes": data.notes}


def rules(data: JobData, classes: list[str]) -> dict[str, Any]:
    """``{"rules": [{"class", "file", "line", "text"}], "note"}`` for ``classes`` (cached)."""
    key = "\x00".join(classes)
    if key not in data._rules:
        data._rules[key] = _rules(data, classes)
    return data._rules[key]


def _rules(data: JobData, classes: list[str]) -> dict[str, Any]:
    from graphcrime.investigate.explain import rules_for_classes
    from graphcrime.lang.parser import parse_files
    from graphcrime.lang.printer import format_rule

    try:
        files = data.res.spec_paths("rules")
    except GraphcrimeError as e:
        return {"rules": [], "note": f"rule files not found ({e.message})"}
    out, texts = [], {}
    for r in rules_for_classes(files, classes):
        key = r["file"]
        if key not in texts:
            program = parse_files([Path(key)])
            texts[key] = {rule.pos.line: format_rule(rule, program) for rule in program.rules}
        out.append({**r, "file_name": Path(key).name, "text": texts[key].get(r["line"], "")})
    return {"rules": out, "note": None}


def transactions_query(iri: str) -> str:
    """Transfers out of and into a party, by date (with the parties' labels)."""
    return PREFIXES + f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?transaction ?originator ?beneficiary ?amount ?date ?originator_label
       ?beneficiary_label WHERE {{
  {{ ?transaction prop:hasOriginator <{iri}> }} UNION {{ ?transaction prop:hasBeneficiary <{iri}> }}
  ?transaction prop:hasOriginator ?originator ; prop:hasBeneficiary ?beneficiary .
  OPTIONAL {{ ?transaction prop:hasAmount ?amount }} OPTIONAL {{ ?transaction prop:hasDate ?date }}
  OPTIONAL {{ ?originator rdfs:label ?originator_label }}
  OPTIONAL {{ ?beneficiary rdfs:label ?beneficiary_label }}
}} ORDER BY ?date ?transaction"""


def party(data: JobData, iri: str) -> dict[str, Any]:
    """A party: label, flag, its facts, counts of its chains and transactions."""
    info = parties(data, {iri}).get(iri, {})
    with data.lock:
        as_orig = data.scalar("SELECT count(*) FROM gc_console_chains WHERE originator = ?",
                              [iri])
        as_ben = data.scalar("SELECT count(*) FROM gc_console_chains WHERE beneficiary = ?",
                             [iri])
        txs = query_table(data, transactions_query(iri)).total
    return {"party": iri, "label": info.get("label"), "suspicious": info.get("suspicious"),
            "facts": facts(data, iri), "chains_as_originator": as_orig,
            "chains_as_beneficiary": as_ben, "transactions": txs, "notes": data.notes}


def transaction(data: JobData, iri: str) -> dict[str, Any]:
    """A transaction: its facts and the chains of the results that contain it."""
    with data.lock:
        chains = [python_value(r[0]) for r in data.res.query(
            PREFIXES + f"SELECT ?c WHERE {{ ?c prop:containsTransaction <{iri}> }} "
            "ORDER BY ?c LIMIT 1000").rows()]
    return {"transaction": iri, "facts": facts(data, iri), "chains": chains,
            "notes": data.notes}


def graph_html(data: JobData, iri: str, hops: int = 1) -> str:
    """The page ``graphcrime show`` writes for ``iri`` (a chain, else a party), as text."""
    from graphcrime.investigate.html_page import graph_html as page
    from graphcrime.investigate.show import chain_graph, neighbourhood_graph

    with data.lock:
        is_chain = bool(data.res.query(
            PREFIXES + f"ASK {{ <{iri}> prop:containsTransaction ?t }}"))
        g = (chain_graph(data.res, iri) if is_chain
             else neighbourhood_graph(data.res, iri, hops=hops, max_edges=MAX_GRAPH_EDGES))
    return page(g)

