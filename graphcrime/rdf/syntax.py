"""The fast N-Triples subset, as RE2 patterns and SQL run by DuckDB on whole columns.

The fast path is deliberately a *subset* of N-Triples: ASCII blank-node labels, IRIs that
are plainly RFC 3987 (scheme, simple authority, path, query, fragment; no ``\\u`` escapes),
the common BCP 47 tag shapes and string escapes other than ``\\\\`` and ``\\u``. Anything
else is not rejected here; it goes to the strict pyoxigraph path (:mod:`.slowparse`),
which has the last word. So the fast path only has to never accept what N-Triples refuses.

>>> import duckdb
>>> duckdb.execute("SELECT regexp_full_match(?, ?)", ["<http://e/a?q#f>", IRI_RE]).fetchall()
[(True,)]
"""

from __future__ import annotations

from graphcrime.rdf.dictionary import q
from graphcrime.vocab import XSD_STRING

_UCS = (r"\x{A0}-\x{D7FF}\x{F900}-\x{FDCF}\x{FDF0}-\x{FFEF}\x{10000}-\x{1FFFD}"
        r"\x{20000}-\x{2FFFD}\x{30000}-\x{3FFFD}\x{40000}-\x{4FFFD}\x{50000}-\x{5FFFD}"
        r"\x{60000}-\x{6FFFD}\x{70000}-\x{7FFFD}\x{80000}-\x{8FFFD}\x{90000}-\x{9FFFD}"
        r"\x{A0000}-\x{AFFFD}\x{B0000}-\x{BFFFD}\x{C0000}-\x{CFFFD}\x{D0000}-\x{DFFFD}"
        r"\x{E1000}-\x{EFFFD}")
_PCT = r"%[0-9A-Fa-f]{2}"
_SUB = r"!$&'()*+,;="
_PCHAR = rf"(?:[A-Za-z0-9._~\-{_SUB}:@{_UCS}]|{_PCT})"
_SEG = rf"(?:{_PCHAR}|/)*"
_AUTH = rf"(?:[A-Za-z0-9._~\-{_SUB}]|{_PCT})*(?::[0-9]*)?"
_HIER = rf"(?://{_AUTH}(?:/{_SEG})?|/(?:{_PCHAR}{_SEG})?|(?:{_PCHAR}{_SEG})?)"
_QF = rf"(?:{_PCHAR}|[/?])*"
_IRI = rf"<[A-Za-z][A-Za-z0-9+.\-]*:{_HIER}(?:\?{_QF})?(?:#{_QF})?>"

#: An IRI token ``<...>`` of the fast subset.
IRI_RE = _IRI
#: A blank-node token ``_:label`` with an ASCII label.
BNODE_RE = r"_:[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?"
#: Language tags of the shapes ``ll``, ``ll-Ssss``, ``ll-RR``, ``ll-Ssss-RR``, ``ll-999``.
LANG_RE = r"[a-zA-Z]{2,3}(?:-[a-zA-Z]{4})?(?:-(?:[a-zA-Z]{2}|[0-9]{3}))?"
#: A literal token with simple escapes only (no ``\\\\``, no ``\\u``).
LITERAL_RE = rf"\"(?:[^\"\\\n\r]|\\[tbnrf\"'])*\"(?:@{LANG_RE}|\^\^{_IRI})?"


def ok_sql(tok: str, position: str) -> str:
    """SQL boolean: the token is in the fast subset for ``position`` ('s', 'p' or 'o')."""
    iri = f"regexp_full_match({tok}, {q(IRI_RE)})"
    bnode = f"regexp_full_match({tok}, {q(BNODE_RE)})"
    if position == "p":
        return f"(left({tok}, 1) = '<' AND {iri})"
    lit = f"WHEN '\"' THEN regexp_full_match({tok}, {q(LITERAL_RE)}) " if position == "o" else ""
    return f"(CASE left({tok}, 1) WHEN '<' THEN {iri} WHEN '_' THEN {bnode} {lit}ELSE false END)"


def canonical_sql(tok: str) -> str:
    """SQL: the canonical nt of a fast-subset token (literals: escapes, xsd:string, lang case)."""
    close = f"(length({tok}) - strpos(reverse({tok}), '\"') + 1)"
    body = f"substr({tok}, 2, {close} - 2)"
    rest = f"substr({tok}, {close} + 1)"
    body2 = (f"CASE WHEN strpos({body}, '\\') = 0 THEN {body} ELSE "
             f"replace(replace(replace(replace({body}, '\\t', chr(9)), '\\b', chr(8)), "
             f"'\\f', chr(12)), '\\''', '''') END")
    rest2 = (f"CASE WHEN {rest} = '' THEN '' WHEN {rest} = {q('^^<' + XSD_STRING + '>')} THEN '' "
             f"WHEN left({rest}, 1) = '@' THEN lower({rest}) ELSE {rest} END")
    plain = (f"(strpos({tok}, '\\') = 0 AND NOT suffix({tok}, {q(XSD_STRING + '>')}) "
             f"AND (strpos({tok}, '\"@') = 0 OR {tok} = lower({tok})))")
    return (f"CASE WHEN left({tok}, 1) <> '\"' OR {plain} THEN {tok} "
            f"ELSE '\"' || {body2} || '\"' || {rest2} END")


def split_sql(line: str = "line") -> str:
    """SQL select list ``s, p, o`` for a line of the shape ``s p o .`` (single spaces).

    Works for any line ending in `` .``: whatever else is wrong shows in the tokens, which
    are then validated (as distinct values) by :func:`ok_sql`.
    """
    s = f"split_part({line}, ' ', 1)"
    p = f"split_part({line}, ' ', 2)"
    return (f"{s} AS s, {p} AS p, substr({line}, length({s}) + length({p}) + 3, "
            f"length({line}) - length({s}) - length({p}) - 4) AS o")


def skip_sql(line: str = "line") -> str:
    """SQL boolean: the line is blank or only a comment (valid, and carries no triple)."""
    return f"({line} IS NULL OR ltrim({line}, ' \t') = '' OR left(ltrim({line}, ' \t'), 1) = '#')"
