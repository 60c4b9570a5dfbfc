"""Canonical N-Triples text of one term: the form every layer compares and stores.

Shared by the loaders (``rdf``), the engine, SPARQL results and the test oracle, so each
writes and reads a term the same way (docs/architecture.md, "Terms").

>>> literal_nt('say "hi"\\n', lang="EN-gb")
'"say \\\\"hi\\\\"\\\\n"@en-gb'
>>> parse_nt('"5"^^<http://www.w3.org/2001/XMLSchema#int>')
('literal', '5', 'http://www.w3.org/2001/XMLSchema#int', None)
>>> param_nt(250), param_nt("2.5"), param_nt("abc")
('"250"^^<http://www.w3.org/2001/XMLSchema#integer>', \
'"2.5"^^<http://www.w3.org/2001/XMLSchema#decimal>', '"abc"')
"""

from __future__ import annotations

from decimal import Decimal

from graphcrime.vocab import (
    RDF_LANGSTRING,
    XSD_BOOLEAN,
    XSD_DECIMAL,
    XSD_DOUBLE,
    XSD_INTEGER,
    XSD_STRING,
)


def _esc(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")


def literal_nt(lex: str, dt: str | None = None, lang: str | None = None) -> str:
    """Canonical nt of a literal (``dt`` None or ``xsd:string``: a plain string)."""
    if lang:
        return f'"{_esc(lex)}"@{lang.lower()}'
    if dt is None or dt == XSD_STRING:
        return f'"{_esc(lex)}"'
    return f'"{_esc(lex)}"^^<{dt}>'


def _unescape(raw: str) -> str:
    out, i = [], 0
    while i < len(raw):
        if raw[i] == "\\":
            out.append({"n": "\n", "r": "\r", '"': '"', "\\": "\\"}.get(raw[i + 1], raw[i + 1]))
            i += 2
        else:
            out.append(raw[i])
            i += 1
    return "".join(out)


def parse_nt(nt: str) -> tuple[str, str, str | None, str | None]:
    """(kind, lex, datatype, lang) of a canonical term, kind in iri/bnode/literal."""
    if nt.startswith("<"):
        return "iri", nt[1:-1], None, None
    if nt.startswith("_:"):
        return "bnode", nt[2:], None, None
    end = nt.rindex('"')
    raw, rest = nt[1:end], nt[end + 1:]
    lex = _unescape(raw) if "\\" in raw else raw  # most literals have nothing escaped
    if rest.startswith("@"):
        return "literal", lex, RDF_LANGSTRING, rest[1:]
    if rest.startswith("^^<"):
        return "literal", lex, rest[3:-1], None
    return "literal", lex, XSD_STRING, None


def param_nt(value: object) -> str:
    """A job parameter value as a term: numbers by type, numeric strings as numbers."""
    if isinstance(value, bool):
        return literal_nt("true" if value else "false", XSD_BOOLEAN)
    if isinstance(value, int):
        return literal_nt(str(value), XSD_INTEGER)
    if isinstance(value, float):
        return literal_nt(repr(value), XSD_DOUBLE)
    text = str(value)
    try:
        return literal_nt(str(int(text)), XSD_INTEGER)
    except ValueError:
        pass
    try:
        Decimal(text)
        if text.strip().replace(".", "", 1).lstrip("+-").isdigit():
            return literal_nt(text.strip(), XSD_DECIMAL)
    except ArithmeticError:
        pass
    return literal_nt(text)


__all__ = ["literal_nt", "param_nt", "parse_nt"]
