"""What investigation needs of a job's inputs, written into its results: chain transactions.

:func:`write_chain_transactions` takes the chains that a job's triple-shaped results
mention as subjects, follows their ``prop:containsTransaction`` facts in the store, and
writes every such transaction's type, originator, beneficiary, amount and date, plus those
parties' type, flags (``isSuspicious``, ``isInternal``, ``isExited``) and names
(``hasFullName``, ``rdfs:label``) as N-Triples. All of it is SQL over the store's predicate
tables and one ``COPY`` (no Python per fact). The file goes to ``results/`` so that pictures
and explanations work from the job folder alone, and a bulk load of ``results/`` carries the
transactions a graph database needs to draw a chain.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from graphcrime.db import first_row
from graphcrime.rdf.dictionary import q
from graphcrime.rdf.write import write_triples
from graphcrime.vocab import PROP, RDF_TYPE, RDFS, TYPE

FILE = "chain-transactions.nt"
TX_PROPS = tuple(PROP + p for p in ("hasOriginator", "hasBeneficiary", "hasAmount", "hasDate"))
PARTY_PROPS = (*(PROP + p for p in ("isSuspicious", "isInternal", "isExited", "hasFullName")),
               RDFS + "label")
CLASSES = (TYPE + "Transaction", TYPE + "Party")
_T = "_gc_ev"  # prefix of the temporary tables


def subjects_sql(files: list[Path]) -> str:
    """SQL relation ``(nt)``: the distinct subjects of N-Triples files (read by DuckDB).

    A subject never holds a space, so it is the text before a line's first space; lines the
    reader cannot take (a raw U+0001 in a literal) are skipped: their subject has other lines.
    """
    paths = ", ".join(q(str(f)) for f in files)
    return (f"SELECT DISTINCT split_part(line, ' ', 1) AS nt FROM read_csv([{paths}], "
            "columns={'line': 'VARCHAR'}, header=false, delim=E'\\x01', quote='', escape='', "
            "auto_detect=false, strict_mode=false, ignore_errors=true, max_line_size=1048576) "
            "WHERE starts_with(line, '<') OR starts_with(line, '_:')")


def write_chain_transactions(facts: Any, results: list[Path], path: str | Path
                             ) -> dict[str, Any]:
    """Write the chains that the N-Triples files ``results`` mention as subjects: their
    transactions and parties, to ``path``; counts and seconds.

    ``facts`` is the job's :class:`~graphcrime.engine.store.FactStore`.
    """
    t0 = time.perf_counter()
    con = facts.con
    ids = {iri: facts.term_id(f"<{iri}>") for iri in
           (PROP + "containsTransaction", RDF_TYPE, *TX_PROPS, *PARTY_PROPS, *CLASSES)}
    table = {iri: facts.preds.get(i) for iri, i in ids.items() if i is not None}
    subjects = subjects_sql(results) if results else None
    contains = table.get(PROP + "containsTransaction")
    empty = "(SELECT NULL::INTEGER AS s, NULL::INTEGER AS p, NULL::INTEGER AS o LIMIT 0)"
    try:
        if subjects and contains:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {_T}_chains AS SELECT DISTINCT t.id AS c "
                f"FROM ({subjects}) x "
                f"JOIN terms t ON t.h = hash(x.nt) AND t.nt = x.nt")
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {_T}_tx AS SELECT DISTINCT ct.o AS id "
                f"FROM {contains} ct JOIN {_T}_chains ch ON ct.s = ch.c")
        else:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {_T}_chains AS SELECT NULL::INTEGER AS c "
                        "LIMIT 0")
            con.execute(f"CREATE OR REPLACE TEMP TABLE {_T}_tx AS SELECT NULL::INTEGER AS id "
                        "LIMIT 0")
        ends = [table[PROP + p] for p in ("hasOriginator", "hasBeneficiary")
                if PROP + p in table]
        party_sql = " UNION ".join(f"SELECT e.o AS id FROM {t} e JOIN {_T}_tx x ON e.s = x.id"
                                   for t in ends) or "SELECT NULL::INTEGER AS id LIMIT 0"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_T}_parties AS {party_sql}")
        parts = []
        for props, keys in ((TX_PROPS, f"{_T}_tx"), (PARTY_PROPS, f"{_T}_parties")):
            for iri in props:
                if iri in table:
                    parts.append(f"SELECT f.s, {ids[iri]}::INTEGER AS p, f.o FROM {table[iri]} f "
                                 f"JOIN {keys} k ON f.s = k.id")
        classes = [str(ids[c]) for c in CLASSES if ids.get(c) is not None]
        if RDF_TYPE in table and classes:
            for keys in (f"{_T}_tx", f"{_T}_parties"):
                parts.append(f"SELECT f.s, {ids[RDF_TYPE]}::INTEGER AS p, f.o "
                             f"FROM {table[RDF_TYPE]} f JOIN {keys} k ON f.s = k.id "
                             f"WHERE f.o IN ({', '.join(classes)})")
        relation = "(" + " UNION ".join(parts) + ")" if parts else empty
        triples = write_triples(con, relation, path, sort=True)
        counts = first_row(
            con, f"SELECT (SELECT count(*) FROM {_T}_chains), (SELECT count(*) FROM {_T}_tx), "
            f"(SELECT count(*) FROM {_T}_parties)")
    finally:
        for name in ("chains", "tx", "parties"):
            con.execute(f"DROP TABLE IF EXISTS {_T}_{name}")
    return {"file": f"results/{Path(path).name}", "triples": triples, "chains": int(counts[0]),
            "transactions": int(counts[1]), "parties": int(counts[2]),
            "bytes": Path(path).stat().st_size,
            "seconds": round(time.perf_counter() - t0, 3)}
