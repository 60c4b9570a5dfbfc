"""run_query: parse SPARQL with rdflib, answer it in DuckDB, fall back to pyoxigraph.

Refused, with the position and a hint: updates (INSERT, LOAD, ...), SERVICE, and FROM /
FROM NAMED (a query runs on the job's store and never reaches the network).

>>> from graphcrime.engine.store import FactStore
>>> store = FactStore()
>>> a, p, b = store.intern(["<http://e/a>", "<http://e/p>", "<http://e/b>"])
>>> _ = store.add_rows(p, [(a, b)])
>>> r = run_query(store, "SELECT ?x WHERE { ?x <http://e/p> ?y }")
>>> r.engine, [str(t) for row in r.rows() for t in row]
('duckdb', ['<http://e/a>'])
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import duckdb
from pyparsing import ParseException
from rdflib import BNode, Variable
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from graphcrime.db import scalar
from graphcrime.engine.sqlexpr import q
from graphcrime.errors import QueryError
from graphcrime.sparql.fallback import run_fallback
from graphcrime.sparql.result import QueryResult, drop_released
from graphcrime.sparql.translate import Translator
from graphcrime.sparql.values import ORD, Env, NotTranslatable, Rel, col, term_nt
from graphcrime.vocab import STANDARD_PREFIXES


def _pos(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _find(text: str, word: str) -> tuple[int | None, int | None]:
    m = re.search(rf"(?i)\b{word}\b", text)
    return _pos(text, m.start()) if m else (None, None)


def parse(text: str, base: str | None = None) -> Any:
    """rdflib's algebra of a query, refusing updates, SERVICE and FROM with a QueryError."""
    try:
        tree = parseQuery(text)
    except ParseException as e:
        try:
            parseUpdate(text)
        except ParseException:
            raise QueryError(f"SPARQL syntax error: {e.msg}", line=e.lineno, col=e.col,
                             hint="check the query near this position") from None
        m = re.search(r"(?i)\b(INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b",
                      text)
        line, c = _pos(text, m.start()) if m else (None, None)
        raise QueryError(f"SPARQL updates ({m.group(1).upper() if m else 'update'}) are "
                         "refused: queries only read the store", line=line, col=c,
                         hint="write a SELECT, ASK, CONSTRUCT or DESCRIBE query") from None
    try:
        query = translateQuery(tree, base=base, initNs=dict(STANDARD_PREFIXES))
    except Exception as e:  # rdflib raises bare Exceptions for unknown prefixes
        m = re.search(r"prefix\s*:?\s*'?([\w-]*)", str(e), re.IGNORECASE)
        line = c = None
        if m and m.group(1):
            line, c = _find(text, re.escape(m.group(1)) + ":") if False else (None, None)
            hit = re.search(rf"(?<![\w<]){re.escape(m.group(1))}:", text)
            if hit:
                line, c = _pos(text, hit.start())
        raise QueryError(f"cannot read the query: {e}", line=line, col=c,
                         hint="declare every prefix with PREFIX p: <...>") from None
    _refuse(text, query.algebra)
    head = tree[1]
    query.star = head.name == "SelectQuery" and "projection" not in head  # type: ignore[attr-defined]
    return query


def _refuse(text: str, algebra: CompValue) -> None:
    if "datasetClause" in algebra and algebra["datasetClause"]:
        line, c = _find(text, "FROM")
        raise QueryError("FROM / FROM NAMED are refused: a query runs on the job's store and "
                         "never loads data from elsewhere", line=line, col=c,
                         hint="remove the FROM clause; load data through the job's 'data' list")

    def walk(x: Any) -> None:
        if isinstance(x, CompValue):
            if x.name == "ServiceGraphPattern":
                line, c = _find(text, "SERVICE")
                raise QueryError("SERVICE is refused: queries never reach the network",
                                 line=line, col=c,
                                 hint="load the remote data into the job instead")
            for v in x.values():
                walk(v)
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v)

    walk(algebra)


def run_query(store: Any, text: str, *, base: str | None = None) -> QueryResult:
    """Answer a SPARQL query over ``store`` (a FactStore: ``con``, ``pattern_sql``, ``term_id``).

    The result records which engine answered in ``.engine`` (``"duckdb"`` or ``"pyoxigraph"``).
    """
    query = parse(text, base)
    try:
        result = _translate(store, query.algebra, query.star, text)
        # bind the SQL now so that a translation gap shows here, not when writing
        if result.sql is not None:
            store.con.execute(f"DESCRIBE {result.sql}")
        return result
    except NotTranslatable as e:
        reason = str(e)
    except duckdb.Error as e:  # pragma: no cover - a translation bug; pyoxigraph still answers
        reason = f"SQL error: {e}".splitlines()[0]
    return run_fallback(store, text, query.algebra, base, reason)


def select_sql(rel: Rel, names: list[str], terms: str = "terms") -> str:
    """The output relation of a SELECT: n/k/l/d/g columns per variable (+ _ord); ``terms``
    names the relation its ids are looked up in."""
    env = Env(rel, terms=terms)
    items = []
    for i, name in enumerate(names):
        v = env.value(name)
        if v is None:
            items += [f"NULL::VARCHAR AS n{i}", f"NULL::UTINYINT AS k{i}",
                      f"NULL::VARCHAR AS l{i}", f"NULL::VARCHAR AS d{i}",
                      f"NULL::VARCHAR AS g{i}"]
        else:
            items += [f"{v.nt()} AS n{i}", f"({v.kind})::UTINYINT AS k{i}",
                      f"({v.lex})::VARCHAR AS l{i}", f"({v.dt})::VARCHAR AS d{i}",
                      f"({v.lang})::VARCHAR AS g{i}"]
    if rel.ordered:
        items.append(f"r.{ORD} AS {ORD}")
    return f"SELECT {', '.join(items) or '1 AS _unit'} {env.from_clause()}"


_answers = itertools.count()


def materialised(con: Any, rel: Rel) -> tuple[Rel, str]:
    """``rel`` computed into a temporary table, and the table's name (the caller drops it).

    The answer's term ids are then joined with the dictionary knowing how many rows the
    answer has: DuckDB plans a LEFT JOIN from its estimates, and for a join over a union of
    predicate tables those are orders of magnitude too high (26M estimated, 54k real for a
    reference query over 80M facts), so it hashed the whole dictionary (4.3M terms with their
    strings: 4-9 s a query on a store on disk) instead of the answer (0.1 s)."""
    drop_released(con)
    name = f"_gc_answer_{next(_answers)}"
    con.execute(f"CREATE TEMP TABLE {name} AS {rel.sql}")
    return Rel(f"SELECT * FROM {name}", rel.vars, rel.maybe, rel.ordered), name


def _translate(store: Any, alg: CompValue, star: bool = False, text: str = "") -> QueryResult:
    tr = Translator(store)
    for m in re.finditer(r"[?$]([^\W]+)", text):
        tr.first_seen.setdefault(m.group(1), m.start())
    try:
        return _answer(tr, alg, star)
    except BaseException:
        for name in tr.temps:
            store.con.execute(f"DROP TABLE IF EXISTS {name}")
        raise


def answer_terms(tr: Translator, rel: Rel, table: str) -> str:
    """The relation the term ids of the answer in ``table`` are looked up in: ``terms``, or
    a table of just those terms read from the store's dictionary files (see
    :mod:`graphcrime.engine.termfiles`), which spares scanning the whole dictionary."""
    index = getattr(tr.store, "subjects", None)
    ids = [col(v) for v, kind in rel.vars.items() if kind == "id"]
    if index is None or not index.terms or not ids:
        return "terms"
    got = tr.con.execute(" UNION ".join(f"SELECT {c} AS id FROM {table} WHERE {c} IS NOT NULL"
                                        for c in ids)).fetchnumpy()["id"]
    name = index.term_files.table(tr.con, got)
    tr.temps.append(name)
    return name


def _answer(tr: Translator, alg: CompValue, star: bool) -> QueryResult:
    con = tr.con
    if alg.name == "SelectQuery":
        tr.star = star
        rel, temp = materialised(con, tr.pattern(alg.p))
        names = list(rel.vars) if star else [str(v) for v in alg.PV]
        terms = answer_terms(tr, rel, temp)
        return QueryResult(con, "select", variables=names, sql=select_sql(rel, names, terms),
                           ordered=rel.ordered, temp=[temp, *tr.temps])
    if alg.name == "AskQuery":
        rel = tr.pattern(alg.p)
        value = scalar(con, f"SELECT EXISTS ({rel.sql})")
        return QueryResult(con, "ask", ask=bool(value), temp=tr.temps)
    if alg.name == "ConstructQuery":
        rel, temp = materialised(con, tr.pattern(alg.p))
        template = alg.template if "template" in alg and alg.template else _where_triples(alg.p)
        terms = answer_terms(tr, rel, temp)
        return QueryResult(con, "graph", sql=construct_sql(rel, template, terms),
                           temp=[temp, *tr.temps])
    if alg.name == "DescribeQuery":
        return QueryResult(con, "graph", sql=describe_sql(tr, alg), temp=tr.temps)
    raise NotTranslatable(alg.name)


def _where_triples(node: Any) -> list[Any]:
    """The triples of CONSTRUCT WHERE's pattern (the short form's template)."""
    out: list[Any] = []
    if isinstance(node, CompValue):
        if node.name == "BGP":
            out += list(node.triples)
        for v in node.values():
            out += _where_triples(v)
    return out


def construct_sql(rel: Rel, template: list[Any], terms: str = "terms") -> str:
    """The instantiated template triples (distinct), skipping ill-formed ones."""
    rid = "\x00rid"
    base = Rel("SELECT * FROM _gc_tpl", {**rel.vars, rid: "id"}, rel.maybe)
    env = Env(base, "r", terms)
    parts = []
    for triple in template:
        cells = []
        for t in triple:
            if isinstance(t, Variable):
                v = env.value(str(t))
                cells.append("NULL::VARCHAR" if v is None else v.nt())
            elif isinstance(t, BNode):
                label = q(re.sub(r"[^A-Za-z0-9]", "", str(t)))
                cells.append(f"'_:b' || r.{col(rid)} || 'x' || {label}")
            else:
                cells.append(q(term_nt(t)))
        parts.append(f"SELECT {cells[0]} AS s, {cells[1]} AS p, {cells[2]} AS o")
    if not parts:
        return "SELECT NULL::VARCHAR AS s, NULL::VARCHAR AS p, NULL::VARCHAR AS o WHERE false"
    src = f"SELECT row_number() OVER () AS {col(rid)}, {rel.select_list()} FROM ({rel.sql}) w"
    joins = env.joins()
    body = " UNION ALL ".join(f"{p} FROM _gc_tpl r {joins}" for p in parts)
    return (f"WITH _gc_tpl AS MATERIALIZED ({src}) SELECT DISTINCT s, p, o FROM ({body}) c "
            f"WHERE s IS NOT NULL AND p IS NOT NULL AND o IS NOT NULL "
            f"AND left(s, 1) <> '\"' AND left(p, 1) = '<'")


def describe_sql(tr: Translator, alg: CompValue) -> str:
    """Triples whose subject is a described resource (constant IRIs or WHERE bindings)."""
    resources = []
    rel = tr.pattern(alg.p) if "p" in alg and alg["p"] is not None else None
    for item in alg.PV:
        if isinstance(item, Variable):
            if rel is None or str(item) not in rel.vars:
                continue
            if rel.vars[str(item)] != "id":
                raise NotTranslatable("DESCRIBE of a computed value")
            resources.append(f"SELECT {col(str(item))} AS id FROM ({rel.sql}) d")
        else:
            tid = tr.term_id(item)
            if tid is not None:
                resources.append(f"SELECT {tid}::INTEGER AS id")
    if not resources:
        return "SELECT NULL::VARCHAR AS s, NULL::VARCHAR AS p, NULL::VARCHAR AS o WHERE false"
    res = " UNION ".join(resources)
    return (f"SELECT DISTINCT ts.nt AS s, tp.nt AS p, tob.nt AS o "
            f"FROM {tr.store.pattern_sql(None)} t JOIN ({res}) d ON t.s = d.id "
            f"JOIN terms ts ON ts.id = t.s JOIN terms tp ON tp.id = t.p "
            f"JOIN terms tob ON tob.id = t.o")
