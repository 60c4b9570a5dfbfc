"""Open a finished job's folder for investigation: its results as a queryable store.

``gc.open(job_dir)`` loads ``<job_dir>/results/*.nt`` (and ``.nt.gz``) into a
:class:`graphcrime.api.Store`. The results include ``chain-transactions.nt``, the result
chains' transactions and parties, so :meth:`JobResults.transactions` gives parties, amounts
and dates from the folder alone; ``with_inputs=True`` also loads the input data files the
job recorded in ``inputs.json`` (every transfer, not only the chains').
``gc.open(store_dir)`` opens
a persistent store (``graphcrime store create``) read-only instead, loading nothing: every
fact, input and derived, is already in it (:class:`StoreResults`).

>>> import graphcrime as gc                      # doctest: +SKIP
>>> job = gc.open("out/reference_2021-07-30_001")  # doctest: +SKIP
>>> job.status["status"], len(job.chains())       # doctest: +SKIP
('succeeded', 369)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from graphcrime.errors import DataError
from graphcrime.vocab import ENT, PROP, TYPE

PREFIXES = f"PREFIX : <{ENT}>\nPREFIX prop: <{PROP}>\nPREFIX type: <{TYPE}>\n"

CHAINS_QUERY = PREFIXES + """
SELECT ?chain ?originator ?beneficiary ?length ?first_amount ?final_amount ?end_date
       ?suspicious ?high_value
WHERE {
  { SELECT DISTINCT ?chain WHERE {
      { ?chain a type:SuspiciousChain } UNION { ?chain a type:HighValueChain }
      UNION { ?chain a type:PartialChain } } }
  OPTIONAL { ?chain prop:hasOriginator ?originator }
  OPTIONAL { ?chain prop:hasBeneficiary ?beneficiary }
  OPTIONAL { ?chain prop:hasLength ?length }
  OPTIONAL { ?chain prop:hasStartingAmount ?first_amount }
  OPTIONAL { ?chain prop:hasFinalAmount ?final_amount }
  OPTIONAL { ?chain prop:hasEndDate ?end_date }
  BIND(EXISTS { ?chain a type:SuspiciousChain } AS ?suspicious)
  BIND(EXISTS { ?chain a type:HighValueChain } AS ?high_value)
}
ORDER BY DESC(?first_amount) ?chain
"""

#: Columns of :meth:`JobResults.chains`, in order.
CHAIN_COLUMNS = ("chain", "originator", "beneficiary", "length", "first_amount",
                 "final_amount", "end_date", "suspicious", "high_value")


def python_value(term: Any) -> Any:
    """A pyoxigraph term as a plain Python value: IRI/blank node -> str, numbers -> int/float,
    booleans -> bool, other literals -> their lexical form.

    >>> import pyoxigraph as ox
    >>> python_value(ox.Literal("2.50", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal")))
    2.5
    """
    if term is None:
        return None
    if not hasattr(term, "datatype"):
        return term.value
    dt = term.datatype.value.rsplit("#", 1)[-1]
    text = term.value
    try:
        if dt in ("integer", "int", "long", "short", "byte", "nonNegativeInteger",
                  "positiveInteger"):
            return int(text)
        if dt in ("decimal", "double", "float"):
            return float(text)
    except ValueError:
        return text
    if dt == "boolean":
        return text in ("true", "1")
    return text


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DataError(f"not valid JSON: {e.msg}", file=str(path), line=e.lineno, col=e.colno,
                        hint="the job folder is damaged; rerun the job") from None


#: Transaction details :meth:`JobResults.transactions` needs, and where the job put them.
DETAILS = ("originator", "beneficiary", "amount", "date")


class JobResults:
    """A finished job folder: ``status``, ``stats``, ``result_files`` and a store of its results.

    ``with_inputs`` also loads the job's input data files (so that transactions' parties,
    amounts and dates can be queried); ``store`` is the underlying :class:`~graphcrime.api.Store`.
    """

    def __init__(self, job_dir: str | Path, *, with_inputs: bool = False) -> None:
        from graphcrime.api import Store

        self.folder = Path(job_dir)
        if not (self.folder / "status.json").is_file():
            raise DataError(f"{self.folder} is not a job folder (no status.json)",
                            file=str(self.folder),
                            hint="pass <output-root>/<job-id>/ as written by `graphcrime run`")
        self.status: dict[str, Any] = _read_json(self.folder / "status.json")
        self.stats: dict[str, Any] = _read_json(self.folder / "stats.json")
        res = self.folder / "results"
        self.result_files = sorted([*res.glob("*.nt"), *res.glob("*.nt.gz")])
        self.store = Store()
        if self.result_files:
            self.store.load(*self.result_files)
        self.input_files: list[Path] = []
        if with_inputs:
            self.input_files = self.spec_paths("data")
            self.store.load(*self.input_files)

    # -- what the job read -----------------------------------------------------------------
    def spec_paths(self, member: str) -> list[Path]:
        """The ``data``/``rules``/``queries`` files the job read, as recorded in
        ``inputs.json`` (rules and queries: the job folder's copies); a
        :class:`~graphcrime.errors.DataError` names any that is gone or changed."""
        from graphcrime.runner.manifest import recorded_paths

        return recorded_paths(self.folder, member)

    # -- queries ---------------------------------------------------------------------------
    def query(self, sparql: str) -> Any:
        """Run SPARQL over the results; a :class:`graphcrime.sparql.QueryResult`."""
        return self.store.query(sparql)

    def chains(self) -> Any:
        """Every chain in the results, largest first amount first: a pandas DataFrame when
        pandas is installed, else a list of dicts with :data:`CHAIN_COLUMNS`."""
        rows = [dict(zip(CHAIN_COLUMNS, map(python_value, r), strict=True))
                for r in self.query(CHAINS_QUERY).rows()]
        try:
            import pandas as pd
        except ImportError:
            return rows
        return pd.DataFrame(rows, columns=list(CHAIN_COLUMNS))

    def transactions(self, chain: str, *, complete: bool = False) -> list[dict[str, Any]]:
        """The transactions a chain contains, by date: transaction, originator, beneficiary,
        amount, date (None where neither the folder nor the loaded inputs say).

        ``complete=True`` raises a :class:`~graphcrime.errors.DataError` naming the
        transactions whose details are missing (and where they were looked for) instead.
        """
        iri = chain.strip("<>")
        q = PREFIXES + f"""
        SELECT ?transaction ?originator ?beneficiary ?amount ?date WHERE {{
          <{iri}> prop:containsTransaction ?transaction .
          OPTIONAL {{ ?transaction prop:hasOriginator ?originator }}
          OPTIONAL {{ ?transaction prop:hasBeneficiary ?beneficiary }}
          OPTIONAL {{ ?transaction prop:hasAmount ?amount }}
          OPTIONAL {{ ?transaction prop:hasDate ?date }}
        }} ORDER BY ?date ?transaction"""
        cols = ("transaction", *DETAILS)
        rows = [dict(zip(cols, map(python_value, r), strict=True)) for r in self.query(q).rows()]
        missing = [r["transaction"] for r in rows if any(r[k] is None for k in DETAILS)]
        if complete and missing:
            looked = "results/*.nt" + (" and the job's inputs" if self.input_files else "")
            raise DataError(
                f"{len(missing)} of the {len(rows)} transactions of <{iri}> have no "
                f"originator, beneficiary, amount or date in {looked}: "
                + ", ".join(m.rsplit("#", 1)[-1] for m in missing[:5])
                + (" ..." if len(missing) > 5 else ""), file=str(self.folder / "results"),
                hint="older job folders lack results/chain-transactions.nt: rerun the job, "
                     "or open it with_inputs=True while its inputs are in place")
        return rows

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> JobResults:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"<JobResults {self.status.get('job_id', self.folder.name)} "
                f"{self.status.get('status')} files={len(self.result_files)}>")


class StoreResults(JobResults):
    """A persistent store opened read-only for investigation, with :class:`JobResults`'s
    queries (``chains()``, ``transactions()``: the store holds its inputs). ``status`` is
    empty, ``stats`` is the store's :meth:`~graphcrime.api.Store.info`."""

    def __init__(self, store_dir: str | Path) -> None:  # noqa: D107 - loads nothing
        from graphcrime.api import Store

        self.folder = Path(store_dir)
        self.store = Store.open(self.folder, read_only=True)
        self.status = {}
        self.stats = dict(self.store.info())
        self.result_files = []
        self.input_files = []

    def spec_paths(self, member: str) -> list[Path]:
        raise DataError(f"{self.folder} is a store, not a job folder: it has no spec",
                        file=str(self.folder), hint="its facts are all in the store: query it")

    def __repr__(self) -> str:
        return f"<StoreResults {self.folder} facts={self.stats.get('facts')}>"


def is_store(folder: str | Path) -> bool:
    """True when ``folder`` holds a persistent store (rather than a job's results)."""
    from graphcrime.engine.disk import MARKER

    return (Path(folder) / MARKER).is_file()


def open(job_dir: str | Path, *, with_inputs: bool = False) -> JobResults:  # noqa: A001
    """Open a finished job folder (see :class:`JobResults`) or a store folder (read-only,
    nothing reloaded; ``with_inputs`` changes nothing: see :class:`StoreResults`)."""
    if is_store(job_dir):
        return StoreResults(job_dir)
    return JobResults(job_dir, with_inputs=with_inputs)
