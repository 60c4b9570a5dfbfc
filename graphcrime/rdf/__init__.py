"""graphcrime.rdf: the term dictionary, strict fast N-Triples loading and RDF writing."""

from graphcrime.rdf.dictionary import (
    create_terms,
    intern,
    intern_values,
    literal_nt,
    lookup,
    nt_literal_sql,
)
from graphcrime.rdf.load import load_ntriples
from graphcrime.rdf.write import write_triples

__all__ = [
    "create_terms",
    "intern",
    "intern_values",
    "literal_nt",
    "load_ntriples",
    "lookup",
    "nt_literal_sql",
    "write_triples",
]
