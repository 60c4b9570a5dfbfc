"""Test helpers: read generated files back with pyoxigraph's strict parser."""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox

from graphcrime.vocab import ENT, PROP, RDF_TYPE, RDFS, TYPE, XSD_BOOLEAN, XSD_DATETIME, XSD_DECIMAL

PLANTED = dict(
    transactions=20_000,
    parties=2_000,
    suspicious_fraction=0.01,
    files=2,
    seed=11,
    typologies="all",
)


@dataclass
class Graph:
    """What the files say, as plain Python: parties and transactions by IRI."""

    triples: int = 0
    parties: dict[str, dict[str, object]] = field(default_factory=dict)
    txs: dict[str, dict[str, object]] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)


def _value(term: ox.NamedNode | ox.Literal) -> object:
    if isinstance(term, ox.NamedNode):
        return term.value
    dt = term.datatype.value
    if dt == XSD_BOOLEAN:
        assert term.value in ("true", "false")
        return term.value == "true"
    if dt == XSD_DECIMAL:
        return Decimal(term.value)
    if dt == XSD_DATETIME:
        return term.value  # the lexical form; tests check it is fixed-width
    return term.value


def read_graph(paths: list[Path]) -> Graph:
    """Parse the files strictly (plain or gzip) into a :class:`Graph`."""
    g = Graph()
    for path in paths:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as fh:
            for t in ox.parse(fh, format=ox.RdfFormat.N_TRIPLES):
                g.triples += 1
                s, p, o = t.subject.value, t.predicate.value, t.object
                assert s.startswith(ENT)
                if p == RDF_TYPE:
                    assert s not in g.types, f"two types for {s}"
                    g.types[s] = o.value
                    continue
                local = p.rsplit("#", 1)[1]
                assert p in (PROP + local, RDFS + "label")
                table = g.txs if s.startswith(ENT + "transaction_") else g.parties
                record = table.setdefault(s, {})
                assert local not in record, f"{s} has two {local}"
                record[local] = _value(o)
                if local in ("hasFullName", "label"):
                    assert isinstance(o, ox.Literal) and o.datatype.value.endswith("#string")
    for s, t in g.types.items():
        assert t == TYPE + ("Transaction" if s.startswith(ENT + "transaction_") else "Party")
    return g
