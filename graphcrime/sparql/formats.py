"""Result formats written by DuckDB ``COPY`` (no Python loop over rows).

A SELECT result is an SQL relation with, per variable ``i``, the columns ``n{i}`` (canonical
N-Triples), ``k{i}`` (kind 0 IRI / 1 blank / 2 literal), ``l{i}`` (lexical form), ``d{i}``
(datatype) and ``g{i}`` (language), plus ``_ord`` when ordered. A graph result has ``s, p,
o`` (canonical N-Triples). Each format here is SQL producing text lines; :func:`copy_lines`
writes them, gzip-compressed when asked. Rows of a result without ``ORDER BY`` are written
sorted by their line, so a result file has the same bytes however many threads made it.

>>> csv_value("l0", "k0").startswith("(CASE")
True
"""

from __future__ import annotations

import json

from graphcrime.engine.sqlexpr import q
from graphcrime.vocab import RDF_LANGSTRING, XSD_STRING


def copy_lines(con: object, lines_sql: str, path: str, gzip: bool) -> None:
    """Write the ``line`` column of ``lines_sql`` (in its order) to ``path``, one per line."""
    comp = "gzip" if gzip else "none"
    con.execute(  # type: ignore[attr-defined]
        f"COPY ({lines_sql}) TO {q(path)} (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', "
        f"DELIMITER E'\\x01', COMPRESSION {comp})")


def _framed(body_sql: str, line: str, ordered: bool, head: list[str], tail: list[str],
            comma: bool = False) -> str:
    """Header lines, one line per row (in order, else sorted), footer lines, as one ordered
    relation."""
    sep = "CASE WHEN _rn > 1 THEN ',' ELSE '' END || " if comma else ""
    parts = [f"SELECT 0 AS _k, {i} AS _rn, {q(h)} AS line" for i, h in enumerate(head)]
    rows = (f"SELECT row_number() OVER (ORDER BY _ord) AS _rn, line FROM (SELECT _ord, {line} "
            f"AS line FROM ({body_sql}) b)" if ordered else
            f"SELECT row_number() OVER (ORDER BY line) AS _rn, line FROM (SELECT {line} AS line "
            f"FROM ({body_sql}) b)")
    parts.append(f"SELECT 1 AS _k, _rn, {sep}line FROM ({rows})")
    parts += [f"SELECT 2 AS _k, {i} AS _rn, {q(t)} AS line" for i, t in enumerate(tail)]
    return "SELECT line FROM (" + " UNION ALL ".join(parts) + ") ORDER BY _k, _rn"


def _plain(body_sql: str, line: str, ordered: bool, where: str = "") -> str:
    sql = f"SELECT {line} AS line FROM ({body_sql}) b"
    if where:
        sql += f" WHERE {where}"
    return sql + (" ORDER BY _ord" if ordered else " ORDER BY line")


def csv_value(lex: str, kind: str) -> str:
    """SQL: a SPARQL CSV field (IRI and literal as their string, blank as ``_:x``, quoted)."""
    raw = f"(CASE WHEN {kind} = 1 THEN '_:' || {lex} ELSE {lex} END)"
    return (f"(CASE WHEN {kind} IS NULL THEN '' WHEN regexp_matches({raw}, '[\",\\r\\n]') "
            f"THEN '\"' || replace({raw}, '\"', '\"\"') || '\"' ELSE {raw} END)")


def select_lines(fmt: str, body: str, names: list[str], ordered: bool) -> str:
    """SQL lines of a SELECT result in ``fmt`` (csv, tsv, json, xml, nt)."""
    n = range(len(names))
    if fmt == "csv":
        line = " || ',' || ".join(csv_value(f"l{i}", f"k{i}") for i in n) or "''"
        return _framed(body, f"{line} || chr(13)", ordered, [",".join(names) + "\r"], [])
    if fmt == "tsv":
        cells = [f"coalesce(replace(n{i}, chr(9), '\\t'), '')" for i in n]
        return _framed(body, " || chr(9) || ".join(cells) or "''", ordered,
                       ["\t".join("?" + v for v in names)], [])
    if fmt == "json":
        parts = []
        for i, v in zip(n, names, strict=False):
            key = json.dumps(v) + ":"
            lit = (f"'{{\"type\":\"literal\",\"value\":' || to_json(l{i})::VARCHAR || "
                   f"CASE WHEN g{i} IS NOT NULL THEN ',\"xml:lang\":' || to_json(g{i})::VARCHAR "
                   f"WHEN d{i} IS NOT NULL AND d{i} NOT IN ({q(XSD_STRING)}, {q(RDF_LANGSTRING)}) "
                   f"THEN ',\"datatype\":' || to_json(d{i})::VARCHAR ELSE '' END || '}}'")
            parts.append(f"(CASE WHEN k{i} = 0 THEN {q(key)} || '{{\"type\":\"uri\",\"value\":' "
                         f"|| to_json(l{i})::VARCHAR || '}}' WHEN k{i} = 1 THEN {q(key)} || "
                         f"'{{\"type\":\"bnode\",\"value\":' || to_json(l{i})::VARCHAR || '}}' "
                         f"WHEN k{i} = 2 THEN {q(key)} || {lit} END)")
        line = "'{' || concat_ws(',', " + ", ".join(parts) + ") || '}'" if parts else "'{}'"
        head = '{"head":{"vars":' + json.dumps(names) + '},"results":{"bindings":['
        return _framed(body, line, ordered, [head], ["]}}"], comma=True)
    if fmt == "xml":
        def esc(x: str) -> str:
            return (f"replace(replace(replace(replace({x}, '&', '&amp;'), '<', '&lt;'), "
                    f"'>', '&gt;'), '\"', '&quot;')")
        parts = []
        for i, v in zip(n, names, strict=False):
            b = f'<binding name="{_xml_attr(v)}">'
            lit = (f"'<literal' || CASE WHEN g{i} IS NOT NULL THEN ' xml:lang=\"' || {esc(f'g{i}')}"
                   f" || '\"' WHEN d{i} NOT IN ({q(XSD_STRING)}, {q(RDF_LANGSTRING)}) THEN "
                   f"' datatype=\"' || {esc(f'd{i}')} || '\"' ELSE '' END || '>' || "
                   f"{esc(f'l{i}')} || '</literal>'")
            parts.append(f"(CASE WHEN k{i} = 0 THEN {q(b)} || '<uri>' || {esc(f'l{i}')} || "
                         f"'</uri></binding>' WHEN k{i} = 1 THEN {q(b)} || '<bnode>' || "
                         f"{esc(f'l{i}')} || '</bnode></binding>' WHEN k{i} = 2 THEN {q(b)} || "
                         f"{lit} || '</binding>' END)")
        line = "'<result>' || concat_ws('', " + ", ".join(parts) + ") || '</result>'" \
            if parts else "'<result></result>'"
        xml_head = ['<?xml version="1.0"?>',
                    '<sparql xmlns="http://www.w3.org/2005/sparql-results#">',
                    "<head>" + "".join(f'<variable name="{_xml_attr(v)}"/>' for v in names)
                    + "</head>", "<results>"]
        return _framed(body, line, ordered, xml_head, ["</results>", "</sparql>"])
    if fmt in ("nt", "ttl"):
        if [v.upper() for v in names] != ["S", "P", "O"]:
            raise ValueError("N-Triples output needs a SELECT of exactly ?S ?P ?O")
        return _plain(body, "n0 || ' ' || n1 || ' ' || n2 || ' .'", ordered,
                      "k0 IN (0, 1) AND k1 = 0 AND k2 IS NOT NULL")
    raise ValueError(f"unknown result format {fmt!r}")


def graph_lines(fmt: str, body: str) -> str:
    """SQL lines of a graph result (N-Triples, also valid Turtle)."""
    if fmt not in ("nt", "ttl"):
        raise ValueError(f"graph results are written as N-Triples (.nt/.ttl), not {fmt!r}")
    return _plain(body, "s || ' ' || p || ' ' || o || ' .'", False)


def ask_text(fmt: str, value: bool) -> str:
    """An ASK result in ``fmt`` (json, xml, csv, tsv)."""
    v = "true" if value else "false"
    if fmt == "json":
        return '{"head":{},"boolean":' + v + "}\n"
    if fmt == "xml":
        return ('<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                f"<head></head><boolean>{v}</boolean></sparql>\n")
    if fmt in ("csv", "tsv"):
        return v + "\n"
    raise ValueError(f"an ASK result cannot be written as {fmt!r}")


def _xml_attr(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
