"""The driver rounds' reads from Spark: filtered scans collected as Arrow, and the dictionary
(typed values by id, minted strings by string, new terms numbered and typed on the driver).

:class:`DriverReads` is a base of :class:`graphcrime.spark.driver.DriverRound`, which
provides the attributes declared here.
"""

from __future__ import annotations

from typing import Any

from graphcrime.spark.chunks import kind_of, may_hold

#: key sets up to this size filter a scan with ``IN (...)`` (analysing a long IN list took
#: seconds per scan: Spark copies it into every chunk of a union and walks it in each rule);
#: bigger ones with a broadcast semi join against a frame made from Arrow
IN_MAX = 64


class DriverReads:
    """Reading for a driver round; ``con`` is its DuckDB connection."""

    ev: Any
    store: Any
    spark: Any
    con: Any

    def _keyed(self, df: Any, col: str, keys: Any) -> Any:
        """``df`` restricted to rows whose ``col`` is among ``keys`` (an Arrow array)."""
        import pyarrow as pa
        import pyarrow.compute as pc
        from pyspark.sql import functions as F

        if len(keys) <= IN_MAX:
            text = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, len(keys)], pa.int32()),
                                                           keys.cast(pa.string())), ",")
            return df.where(f"{col} IN ({text[0].as_py()})")
        right = self.spark.createDataFrame(pa.table({"_k": keys.cast(pa.int64())}))
        return df.join(F.broadcast(right), F.col(col) == F.col("_k"), "left_semi")

    def _collect(self, df: Any) -> Any:
        import pyarrow as pa

        out = df.toArrow()
        cols = [c.cast(pa.timestamp("us")) if pa.types.is_timestamp(c.type) else c
                for c in out.columns]  # naive UTC timestamps, as in the embedded store
        return pa.table(cols, names=out.column_names)

    def _terms(self, ids: list[Any], add: bool = False) -> None:
        """The dictionary rows of ``ids`` as DuckDB table ``terms`` (``add``: added to it)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        want = pc.unique(pa.chunked_array(ids, pa.int64())) if ids else \
            pa.array([], pa.int64())
        self.con.register("_t_terms", self._term_rows(want))
        self.con.execute("INSERT INTO terms SELECT * FROM _t_terms WHERE id NOT IN "
                         "(SELECT id FROM terms)" if add else
                         "CREATE OR REPLACE TEMP TABLE terms AS SELECT * FROM _t_terms")
        self.con.unregister("_t_terms")

    def _term_chunks(self, kind: str, keys: dict[str, Any] | None = None) -> Any:
        """The ``terms`` chunks that may hold literals (``kind`` "lit") or other terms
        ("other"), and (``keys``: column -> Arrow array) a key by their min/max."""

        st = self.store
        picked = [c for c, s in zip(st.chunks["terms"], st.stats["terms"], strict=True)
                  if s is None or (kind_of(s) in (kind, "any") and may_hold(s, keys or {}))]
        return st._union(picked) if picked else \
            self.spark.createDataFrame([], st.schemas["terms"])

    def _term_rows(self, want: Any) -> Any:
        """Arrow ``terms`` rows of the ids ``want``: looked up in the literals' chunks whose id
        range can hold them (FILTERs read typed values: literals), then only the ids not found
        there in the other terms' chunks."""
        import pyarrow as pa
        import pyarrow.compute as pc

        parts = []
        for kind in ("lit", "other"):
            if not len(want):
                break
            got = self._collect(self._keyed(self._term_chunks(kind, {"id": want}), "id", want))
            parts.append(got)
            want = pc.filter(want, pc.invert(pc.is_in(want, got.column("id"))))
        if not parts:
            return self._collect(self.store.frame("terms").limit(0))
        return pa.concat_tables(parts)

    def _intern(self, computed: list[str]) -> int | None:
        """Replace the nt columns ``v_<name>`` of ``_body`` by term ids (new terms added to
        the store, numbered and typed on the driver); returns the first new id, if any."""
        import pyarrow as pa
        import pyarrow.compute as pc
        from pyspark.sql import functions as F

        from graphcrime.spark.terms import typed_terms

        if not computed:
            return None
        st = self.store
        nts = self.con.sql(" UNION ".join(f"SELECT v_{n} AS nt FROM _body WHERE v_{n} IS NOT "
                                          f"NULL" for n in computed)).to_arrow_table()
        # only the strings whose hash is a stored term's may be terms (None: unknown);
        # literals are looked up in the literals' chunks only, IRIs in the others'
        maybe = st.hashes.may_hold(nts.column("nt"))
        asked = nts if maybe is None else nts.filter(maybe)
        lit = pc.starts_with(asked.column("nt"), '"')
        frames = []
        for kind, mask in (("lit", lit), ("other", pc.invert(lit))):
            cand = asked.filter(mask)
            if cand.num_rows:
                frames.append(self._term_chunks(kind).select("nt", "id").join(
                    F.broadcast(self.spark.createDataFrame(cand)), "nt", "left_semi"))
        hits = self._collect(st._union(frames)) if frames else \
            pa.table({"nt": pa.array([], pa.string()), "id": pa.array([], pa.int64())})
        self.con.register("_nts", nts)
        self.con.register("_hits", hits)
        missing = self.con.sql("SELECT nt FROM _nts ANTI JOIN _hits USING (nt) ORDER BY nt"
                               ).to_arrow_table().column(0)
        start = st.n_terms
        if len(missing):  # the strings are on the driver already: typed here, however many
            st.add_terms(typed_terms(missing, start), self.ev.round)
        self.con.register("_new", pa.table({"nt": missing, "id": pa.array(
            range(start, start + len(missing)), pa.int64())}))
        self.con.execute("CREATE OR REPLACE TEMP TABLE _ids AS SELECT nt, id FROM _hits "
                         "UNION ALL SELECT nt, id FROM _new")
        for t in ("_nts", "_hits", "_new"):
            self.con.unregister(t)
        cols = []
        joins = []
        for k, n in enumerate(computed):
            joins.append(f"JOIN _ids AS i{k} ON i{k}.nt = b.v_{n}")
            cols.append(f"i{k}.id AS v_{n}")
        rest = [f"b.{c}" for c in self.con.sql("SELECT * FROM _body").columns
                if c[2:] not in computed]
        out = self.con.sql(f"SELECT {', '.join(rest + cols)} FROM _body AS b "
                           + " ".join(joins)).to_arrow_table()
        self.con.unregister("_body")
        self.con.register("_body", out)
        return start if len(missing) else None
