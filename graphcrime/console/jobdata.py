"""One job's results, loaded once and kept for the console's pages (an LRU of a few jobs).

:class:`JobData` opens the job folder as :class:`graphcrime.results.JobResults` (its
``results/*.nt``, plus the job's input data while the spec and data are still in place, for
the transactions' parties, amounts and dates) and builds, in the same DuckDB connection:

- ``gc_console_parties``: every party with its label and suspicious flag;
- ``gc_console_chains``: one typed row per chain (the SPARQL of
  :data:`graphcrime.results.CHAINS_QUERY`), which :meth:`JobData.chains` filters, sorts and
  pages in SQL: two million chains never leave DuckDB, one page does;
- one :class:`~graphcrime.console.tables.Table` per result file, made on first view.

Every method takes the job's lock: a DuckDB connection answers one statement at a time.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import duckdb

from graphcrime.console.roots import inside
from graphcrime.console.tables import Table, clamp
from graphcrime.engine.sqlexpr import q
from graphcrime.errors import DataError, GraphcrimeError, QueryError
from graphcrime.results import CHAINS_QUERY, PREFIXES, JobResults

RDFS = "http://www.w3.org/2000/01/rdf-schema#"
PARTIES_QUERY = PREFIXES + f"""PREFIX rdfs: <{RDFS}>
SELECT ?p ?label ?name ?sus WHERE {{
  ?p a type:Party .
  OPTIONAL {{ ?p rdfs:label ?label }} OPTIONAL {{ ?p prop:hasFullName ?name }}
  OPTIONAL {{ ?p prop:isSuspicious ?sus }} }}"""

#: The chains table's columns, in order (``*_label``: the party's rdfs:label, when known).
CHAIN_COLUMNS = ("chain", "originator", "originator_label", "beneficiary", "beneficiary_label",
                 "length", "first_amount", "final_amount", "end_date", "suspicious",
                 "high_value")
#: The demo's order: high-value chains first, then by final amount and length.
DEFAULT_ORDER = "high_value DESC, final_amount DESC NULLS LAST, length DESC NULLS LAST, chain"
QUERY_TIMEOUT = 60.0


def _float(value: Any, what: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise QueryError(f"{what} must be a number, not {value!r}",
                         hint="type a number such as 1000 or 2.5") from None


def chain_filter(filters: dict[str, Any]) -> tuple[str, list[Any]]:
    """A ``WHERE`` clause (with ``?`` parameters) of the chains table's filters:
    ``high_value`` (only high-value chains), ``party`` (text in an originator's or
    beneficiary's IRI or label, any case), ``party_iri`` (exactly that originator or
    beneficiary), ``length_min``/``length_max`` and ``amount_min``/``amount_max`` (on the
    final amount).

    >>> chain_filter({"high_value": "1", "length_min": "3"})
    ('WHERE high_value AND length >= ?', [3.0])
    """
    where: list[str] = []
    params: list[Any] = []
    if str(filters.get("high_value") or "").lower() in ("1", "true", "on", "yes"):
        where.append("high_value")
    party = str(filters.get("party") or "").strip()
    if party:  # searched among the chains' parties (few), then a semi-join on the chains
        where.append("(originator_pid IN (SELECT pid FROM gc_console_chain_parties WHERE "
                     "contains(search, lower(?))) OR beneficiary_pid IN (SELECT pid FROM "
                     "gc_console_chain_parties WHERE contains(search, lower(?))))")
        params += [party, party]
    if filters.get("party_iri"):
        where.append("(originator = ? OR beneficiary = ?)")
        params += [str(filters["party_iri"])] * 2
    for key, column, op in (("length_min", "length", ">="), ("length_max", "length", "<="),
                            ("amount_min", "final_amount", ">="),
                            ("amount_max", "final_amount", "<=")):
        value = _float(filters.get(key), key.replace("_", " "))
        if value is not None:
            where.append(f"{column} {op} ?")
            params.append(value)
    return ("WHERE " + " AND ".join(where) if where else ""), params


def remember_term_ids(facts: Any, size: int = 100_000) -> None:
    """Memoise ``facts.term_id`` (the SPARQL translator looks up every constant of every
    query, one statement each: ~10 ms on a small store, more on a big one). Only known ids
    are kept: they never change, while an unknown term may be interned later."""
    lookup = facts.term_id
    memo: dict[str, int] = {}

    def term_id(nt: str) -> int | None:
        if nt in memo:
            return memo[nt]
        found = lookup(nt)
        if found is not None and len(memo) < size:
            memo[nt] = found
        return found

    facts.term_id = term_id


def refuse_links_out(folder: Path) -> None:
    """Refuse a job folder whose ``results/`` holds a link to anything outside the output
    root (the folder's parent): the console would load and show what it points to."""
    res = folder / "results"
    for p in sorted(res.iterdir()) if res.is_dir() else []:
        if not inside(p, folder.parent):
            raise DataError(f"results/{p.name} points outside the output root; the console "
                            "does not open this job", file=str(p),
                            hint="replace the link by the file itself")


class JobData:
    """A job's results store plus the console's tables; see the module docstring."""

    def __init__(self, folder: str | Path, *, with_inputs: bool = True,
                 query_timeout: float = QUERY_TIMEOUT) -> None:
        self.folder = Path(folder)
        refuse_links_out(self.folder)
        self.notes: list[str] = []
        self.query_timeout = query_timeout
        res = None
        if with_inputs:
            try:
                res = JobResults(self.folder, with_inputs=True)
            except GraphcrimeError as e:
                self.notes.append(f"input data not loaded ({e.message}): graphs and "
                                  "transactions show the result chains' transfers (from "
                                  "results/chain-transactions.nt), a party's other transfers "
                                  "need the job's inputs")
        self.res = res if res is not None else JobResults(self.folder)
        self.con = self.res.store.con
        self.lock = threading.RLock()
        remember_term_ids(self.res.store.facts)
        self._files: dict[str, Table] = {}
        self._queries: OrderedDict[str, Any] = OrderedDict()
        self._rules: dict[str, Any] = {}
        with self.lock:
            self._build()

    # -- building -------------------------------------------------------------------------
    def _build(self) -> None:
        parties = self.res.query(PARTIES_QUERY)
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE gc_console_parties AS SELECT l0 AS iri, "
            "any_value(l1) AS label, any_value(l2) AS name, coalesce(bool_or(l3 = 'true'), "
            f"false) AS suspicious FROM ({parties.sql}) x GROUP BY l0")
        chains = self.res.query(CHAINS_QUERY)
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE gc_console_chains AS SELECT c.l0 AS chain, "
            "c.l1 AS originator, po.label AS originator_label, c.l2 AS beneficiary, "
            "pb.label AS beneficiary_label, TRY_CAST(c.l3 AS BIGINT) AS length, "
            "TRY_CAST(c.l4 AS DOUBLE) AS first_amount, TRY_CAST(c.l5 AS DOUBLE) AS "
            "final_amount, c.l6 AS end_date, coalesce(c.l7 = 'true', false) AS suspicious, "
            "coalesce(c.l8 = 'true', false) AS high_value "
            f"FROM ({chains.sql}) c LEFT JOIN gc_console_parties po ON po.iri = c.l1 "
            "LEFT JOIN gc_console_parties pb ON pb.iri = c.l2")
        self.index_parties()
        self.chain_count = self.scalar("SELECT count(*) FROM gc_console_chains")
        self.party_count = self.scalar("SELECT count(*) FROM gc_console_parties")
        self.has_inputs = bool(self.res.input_files)

    def index_parties(self) -> None:
        """Number the chains' originators and beneficiaries: ``gc_console_chain_parties``
        (``pid``, ``iri``, lower-case ``search`` text of IRI and label) and the chains'
        ``originator_pid``/``beneficiary_pid``, so that the party filter searches the
        parties (few) and semi-joins the chains on integers."""
        cols = ", ".join(f"c.{c}" for c in CHAIN_COLUMNS)
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE gc_console_chain_parties AS SELECT "
            "row_number() OVER ()::INTEGER AS pid, iri, search FROM (SELECT iri, "
            "lower(iri || ' ' || coalesce(any_value(label), '')) AS search FROM ("
            "SELECT originator AS iri, originator_label AS label FROM gc_console_chains "
            "UNION ALL SELECT beneficiary, beneficiary_label FROM gc_console_chains) p "
            "WHERE iri IS NOT NULL GROUP BY iri) q")
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE gc_console_chains AS SELECT {cols}, "
            "po.pid AS originator_pid, pb.pid AS beneficiary_pid FROM gc_console_chains c "
            "LEFT JOIN gc_console_chain_parties po ON po.iri = c.originator "
            "LEFT JOIN gc_console_chain_parties pb ON pb.iri = c.beneficiary")

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        with self.lock:
            rows = self.con.execute(sql, params or []).fetchall()
        return rows[0][0] if rows else None

    # -- the chains table -------------------------------------------------------------------
    def chains(self, filters: dict[str, Any], *, offset: int = 0, limit: int = 50,
               sort: str | None = None, desc: bool = False) -> dict[str, Any]:
        """One page of the chains table: ``{"columns", "rows" (dicts), "total", ...}``."""
        where, params = chain_filter(filters)
        off, lim = clamp(offset, limit)
        order = DEFAULT_ORDER
        if sort in CHAIN_COLUMNS:
            order = f"{sort}{' DESC' if desc else ''} NULLS LAST, chain"
        cols = ", ".join(CHAIN_COLUMNS)
        with self.lock:
            total = self.con.execute(f"SELECT count(*) FROM gc_console_chains {where}",
                                     params).fetchall()[0][0]
            rows = self.con.execute(
                f"SELECT {cols} FROM gc_console_chains {where} ORDER BY {order} "
                f"LIMIT {lim} OFFSET {off}", params).fetchall()
        return {"columns": list(CHAIN_COLUMNS), "total": int(total), "offset": off,
                "limit": lim, "rows": [dict(zip(CHAIN_COLUMNS, r, strict=True)) for r in rows]}

    def chains_csv(self, filters: dict[str, Any]) -> bytes:
        """The filtered chains table as CSV (written by pyarrow: no Python per row)."""
        import pyarrow.csv as pacsv

        where, params = chain_filter(filters)
        with self.lock:
            table = self.con.sql(f"SELECT {', '.join(CHAIN_COLUMNS)} FROM gc_console_chains "
                                 f"{where} ORDER BY {DEFAULT_ORDER}", params=params
                                 ).to_arrow_table()
        buf = io.BytesIO()
        pacsv.write_csv(table, buf)
        return buf.getvalue()

    # -- result files -----------------------------------------------------------------------
    def result_names(self) -> list[str]:
        res = self.folder / "results"
        return sorted(p.name for p in res.iterdir() if p.is_file()) if res.is_dir() else []


    def file_table(self, name: str, path: Path) -> Table:
        """The table of one result file (``.nt``/``.nt.gz`` as S, P, O; ``.csv`` by header)."""
        from graphcrime.rdf.load import load_ntriples

        with self.lock:
            if name in self._files:
                return self._files[name]
            lower = name.lower()
            if lower.endswith((".nt", ".nt.gz")):
                target = f"gc_console_file{len(self._files)}"
                load_ntriples(self.con, [str(path)], target=target)
                sql = (f"SELECT ts.nt AS n0, ts.lex AS l0, tp.nt AS n1, tp.lex AS l1, "
                       f"tob.nt AS n2, tob.lex AS l2 FROM {target} f "
                       "JOIN terms ts ON ts.id = f.s JOIN terms tp ON tp.id = f.p "
                       "JOIN terms tob ON tob.id = f.o ORDER BY ts.lex, tp.lex, tob.nt")
                table = Table.create(self.con, sql, ["S", "P", "O"], lex=True, lock=self.lock)
                self.con.execute(f"DROP TABLE {target}")
            elif lower.endswith((".csv", ".csv.gz")):
                rel = self.con.execute(f"SELECT * FROM read_csv({q(str(path))}, header = true, "
                                       "all_varchar = true) LIMIT 0")
                names = [d[0] for d in rel.description]
                sel = ", ".join(f'"{n.replace(chr(34), chr(34) * 2)}" AS l{i}'
                                for i, n in enumerate(names))
                table = Table.create(self.con, f"SELECT {sel} FROM read_csv({q(str(path))}, "
                                     "header = true, all_varchar = true)", names, lex=True,
                                     nt=False, lock=self.lock)
            else:
                raise QueryError(f"{name} is not a table (.nt or .csv)",
                                 hint="download it instead")
            self._files[name] = table
            return table

    # -- SPARQL -----------------------------------------------------------------------------
    def run_query(self, text: str) -> Any:
        """Answer ``text`` (read-only; a timer interrupts it after ``query_timeout`` s).
        Returns ``("ask", bool)`` or ``("table", Table, engine)``; cached per text."""
        with self.lock:
            if text in self._queries:
                self._queries.move_to_end(text)
                return self._queries[text]
            timer = threading.Timer(self.query_timeout, self.con.interrupt)
            timer.start()
            try:
                result = self.res.query(text)
                if result.kind == "ask":
                    answer: Any = ("ask", bool(result))
                elif result.kind == "graph":
                    answer = ("table", Table.create(
                        self.con, f"SELECT s AS n0, p AS n1, o AS n2 FROM ({result.sql}) g",
                        ["subject", "predicate", "object"], lock=self.lock), result.engine)
                else:
                    answer = ("table", Table.create(self.con, result.sql, result.variables,
                                                    lex=True, ordered=result.ordered,
                                                    lock=self.lock), result.engine)
            except duckdb.InterruptException:
                raise QueryError(f"the query ran longer than {self.query_timeout:g} s and "
                                 "was stopped", hint="add a LIMIT or narrow the pattern"
                                 ) from None
            except duckdb.Error as e:
                raise QueryError(f"the query failed: {str(e).splitlines()[0]}",
                                 hint="simplify the query") from None
            finally:
                timer.cancel()
            self._queries[text] = answer
            while len(self._queries) > 16:
                _, old = self._queries.popitem(last=False)
                if old[0] == "table":
                    old[1].drop()
            return answer

    def close(self) -> None:
        with self.lock:
            self.res.close()


class JobCache:
    """At most ``size`` open :class:`JobData`, least recently used closed first; a job is
    loaded once even when several requests ask for it at the same time."""

    def __init__(self, size: int = 3, **options: Any) -> None:
        self.size = size
        self.options = options
        self._jobs: OrderedDict[tuple[str, int], JobData] = OrderedDict()
        self._loading: dict[tuple[str, int], threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, folder: Path) -> JobData:
        key = (str(folder), (folder / "status.json").stat().st_mtime_ns)
        with self._lock:
            if key in self._jobs:
                self._jobs.move_to_end(key)
                return self._jobs[key]
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._lock:
                if key in self._jobs:
                    return self._jobs[key]
            data = JobData(folder, **self.options)
            with self._lock:
                self._jobs[key] = data
                self._loading.pop(key, None)
                while len(self._jobs) > self.size:
                    _, old = self._jobs.popitem(last=False)
                    old.close()
        return data

    def close(self) -> None:
        with self._lock:
            for data in self._jobs.values():
                data.close()
            self._jobs.clear()
