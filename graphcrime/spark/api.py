"""SparkStore: the :class:`graphcrime.api.Store` interface with Spark doing the work.

>>> # doctest: +SKIP
>>> from graphcrime.spark import SparkStore
>>> with SparkStore(master="local[2]") as st:
...     st.load("out/*.nt"); st.reason("rules/suspicious-chains.dlog")
...     st.dump("derived.nt", derived_only=True)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from graphcrime.api import PathLike, Reasoning, _flatten, expand, reasoned
from graphcrime.spark.evaluate import materialise
from graphcrime.spark.io import (
    load_encoded,
    local_limit,
    read_ntriples,
    read_parquet_model,
    write_nt,
    write_parquet,
)
from graphcrime.spark.session import get_session
from graphcrime.spark.store import SparkFactStore
from graphcrime.vocab import RDF_TYPE


class SparkStore(Reasoning):
    """Load, reason and write on Spark (``master`` like ``local[2]``, ``spark://h:7077``)."""

    _materialise = staticmethod(materialise)

    def __init__(self, master: str | None = None, conf: dict[str, str] | None = None,
                 progress: bool | Callable[[str, int], None] = False, spark: Any = None) -> None:
        super().__init__(progress)
        self.spark = spark or get_session(master, conf)
        self._facts = SparkFactStore(self.spark)
        self._local: Any = None

    @property
    def facts(self) -> SparkFactStore:
        return self._facts

    def __enter__(self) -> SparkStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def load(self, *paths: PathLike | Iterable[PathLike]) -> dict[str, Any]:
        """Load N-Triples files or globs (strictly). Into an empty store, inputs up to
        :func:`local_limit` bytes are loaded on the driver by the embedded loader (ids and
        typed terms made there); else they are parsed in Spark tasks and interned in Spark."""
        files = expand(_flatten(paths))
        t0 = time.perf_counter()
        names = [str(f) for f in files]
        st = self._facts
        if not st.n_terms and not any(st.chunks[t] for t in st.preds.values()) and \
                sum(f.stat().st_size for f in files) <= local_limit(self.spark):
            added = st.add_arrow(*load_encoded(names))  # ids and typed terms by DuckDB
        else:
            added = st.add_nt_triples(read_ntriples(self.spark, names))
        self._drop_local()
        self.input_facts += added
        return {"triples": added, "files": len(files),
                "seconds": round(self._timed("load", t0), 3)}

    def load_parquet(self, transactions: PathLike | None = None,
                     parties: PathLike | None = None,
                     mapping: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, Any]:
        """Load Parquet tables of transactions and parties (columns mapped to the model)."""
        t0 = time.perf_counter()
        df = read_parquet_model(self.spark, str(transactions) if transactions else None,
                                str(parties) if parties else None, mapping)
        added = self._facts.add_nt_triples(df)
        self._drop_local()
        self.input_facts += added
        files = int(transactions is not None) + int(parties is not None)
        return {"triples": added, "files": files, "seconds": round(self._timed("load", t0), 3)}

    def _reasoned(self) -> None:
        self._drop_local()

    def query(self, sparql: str) -> Any:
        """Run a SPARQL query over the materialised graph.

        The graph is copied once (after each load/reason) into an embedded store on the
        driver, which answers the query: fine for results of a job, but the whole graph must
        fit on the driver (docs/scale-out.md).
        """
        if self._local is None:
            import tempfile

            from graphcrime.api import Store

            with tempfile.TemporaryDirectory(prefix="gc-spark-") as tmp:
                path = f"{tmp}/graph.nt"
                self.dump(path)
                self._local = Store()
                self._local.load(path)
        return self._local.query(sparql)

    @property
    def driver_store(self) -> Any:
        """The embedded :class:`~graphcrime.api.Store` on the driver that answers
        :meth:`query` (None before the first query); jobs read chain transactions from it."""
        return self._local

    def _drop_local(self) -> None:
        if self._local is not None:
            self._local.close()
            self._local = None

    def triples(self, derived_only: bool = False) -> Any:
        """DataFrame ``(s, p, o)`` of canonical N-Triples strings."""
        return self._facts.nt_frame(derived_only)

    def dump(self, path: PathLike, *, derived_only: bool = False) -> int:
        """Write triples: ``.nt``/``.nt.gz`` one file, ``.parquet`` a Parquet folder of
        ``(s, p, o)`` nt strings, anything else a folder of N-Triples part files."""
        t0 = time.perf_counter()
        text = str(path)
        df = self.triples(derived_only)
        n = write_parquet(df, text) if text.endswith(".parquet") else write_nt(df, text)
        self._timed("write", t0)
        return n

    def derived_counts(self) -> dict[str, dict[str, int]]:
        """Derived facts per predicate IRI and per class IRI (``rdf:type``)."""
        from pyspark.sql import functions as F

        preds: dict[str, int] = {}
        classes: dict[str, int] = {}
        terms = self._facts.frame("terms").select("id", "lex")
        per = self._facts.pattern_frame(derived_only=True).groupBy("p").count() \
            .join(terms, F.col("p") == F.col("id")).collect()
        for row in per:
            preds[row["lex"]] = int(row["count"])
        type_id = self._facts.lookup([f"<{RDF_TYPE}>"]).get(f"<{RDF_TYPE}>")
        if type_id is not None and type_id in self._facts.preds:
            t = self._facts.frame(self._facts.preds[type_id]).where("r > 0")
            for row in t.groupBy("o").count().join(terms, F.col("o") == F.col("id")).collect():
                classes[row["lex"]] = int(row["count"])
        return {"predicates": dict(sorted(preds.items())),
                "classes": dict(sorted(classes.items()))}

    def stats(self) -> dict[str, Any]:
        """Fact counts and timings."""
        facts = self._facts.count()
        return {"facts": facts, "input_facts": self.input_facts,
                "derived_facts": self.derived_facts, "terms": self._facts.n_terms,
                "engine": "spark", "master": self.spark.sparkContext.master,
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()}}

    def close(self) -> None:
        self._drop_local()
        self._facts.close()


def reason(data: PathLike | Iterable[PathLike], rules: PathLike | Iterable[PathLike],
           params: Mapping[str, object] | None = None, **options: Any) -> SparkStore:
    """Load ``data``, materialise ``rules`` on Spark and return the open SparkStore."""
    return reasoned(SparkStore(**options), data, rules, params)


__all__ = ["SparkStore", "reason"]
