"""Inputs and outputs of the Spark backend: N-Triples, Parquet tables, derived facts.

N-Triples files are parsed in Spark tasks (one file per task at a time) by the embedded
engine's strict loader, so validation and error positions are the same; a task reports a bad
line as an ``err`` row instead of failing, and the driver raises it as a DataError with
file:line:col. Parquet tables of transactions and parties become triples of the data model
(../shared/SPEC.md) through a column mapping; string columns are taken as lexical forms as
they are (so ``"1234.50"`` stays ``"1234.50"^^xsd:decimal``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from graphcrime.errors import DataError, GraphcrimeError
from graphcrime.vocab import ENT, PROP, RDF_TYPE, RDFS, TYPE, XSD

NT_DDL = "s STRING, p STRING, o STRING, err STRING"

#: data-model field -> default column name, per table
TRANSACTION_COLUMNS = {"id": "id", "originator": "originator", "beneficiary": "beneficiary",
                       "amount": "amount", "date": "date"}
PARTY_COLUMNS = {"id": "id", "name": "name", "is_suspicious": "is_suspicious",
                 "is_internal": "is_internal", "is_exited": "is_exited"}


def _parse_files(batches: Iterator[Any]) -> Iterator[Any]:
    """mapInArrow body: batches of paths -> (s, p, o) nt strings, or one ``err`` row."""
    import duckdb
    import pyarrow as pa

    from graphcrime.rdf.load import load_ntriples

    schema = pa.schema([(n, pa.string()) for n in ("s", "p", "o", "err")])
    for batch in batches:
        for path in batch.column(0).to_pylist():
            con = duckdb.connect()
            try:
                load_ntriples(con, [path], target="_gc_l")
            except GraphcrimeError as err:
                info = json.dumps({**err.to_dict(), "file": err.file or path})
                yield pa.RecordBatch.from_pylist([{"err": info}], schema=schema)
                con.close()
                continue
            table = con.sql(
                "SELECT ts.nt AS s, tp.nt AS p, tn.nt AS o, NULL::VARCHAR AS err FROM _gc_l l "
                "JOIN terms ts ON ts.id = l.s JOIN terms tp ON tp.id = l.p "
                "JOIN terms tn ON tn.id = l.o").to_arrow_table()
            con.close()
            yield from table.cast(schema).to_batches(max_chunksize=1 << 16)


#: inputs up to this many bytes are parsed on the driver (no Python workers to start);
#: ``GC_SPARK_LOCAL_BYTES=0`` parses every file in Spark tasks (the cluster test does)
LOCAL_BYTES = int(os.environ.get("GC_SPARK_LOCAL_BYTES", 64 << 20))
#: ... in local mode (driver and executors share the machine anyway) up to this many
#: bytes, loaded by the embedded engine's loader straight into ids and typed terms
LOCAL_MODE_BYTES = int(os.environ.get("GC_SPARK_LOCAL_BYTES", 8 << 30))


def local_limit(spark: Any) -> int:
    """How many bytes of input the driver parses itself on this session's master."""
    local = spark.sparkContext.master.startswith("local")
    return LOCAL_MODE_BYTES if local else LOCAL_BYTES


def load_encoded(paths: list[str]) -> tuple[Any, Any]:
    """N-Triples files loaded on the driver by the embedded loader (strict, same errors):
    Arrow tables ``terms`` (dense ids from 0, typed columns as :func:`typed_table` gives
    them) and ``triples(s, p, o)`` of those ids, de-duplicated. Nothing goes through
    strings again, unlike :func:`read_ntriples` followed by interning in Spark."""
    import duckdb
    import pyarrow as pa

    from graphcrime.rdf.load import load_ntriples
    from graphcrime.spark.terms import typed_table

    with duckdb.connect() as con:
        load_ntriples(con, paths, target="_gc_l")
        triples = con.sql("SELECT s::BIGINT AS s, p::BIGINT AS p, o::BIGINT AS o FROM _gc_l"
                          ).to_arrow_table()
        ids = con.sql("SELECT id::BIGINT AS id, nt FROM terms ORDER BY id").to_arrow_table()
        terms = typed_table(con, ids)
    return terms, triples.cast(pa.schema([(c, pa.int64()) for c in ("s", "p", "o")]))


def _parse_local(spark: Any, paths: list[str]) -> Any:
    """Small inputs: the embedded loader on the driver, shipped to Spark as one Arrow table."""
    import duckdb

    from graphcrime.rdf.load import load_ntriples

    with duckdb.connect() as con:
        load_ntriples(con, paths, target="_gc_l")
        table = con.sql("SELECT ts.nt AS s, tp.nt AS p, tn.nt AS o FROM _gc_l l "
                        "JOIN terms ts ON ts.id = l.s JOIN terms tp ON tp.id = l.p "
                        "JOIN terms tn ON tn.id = l.o").to_arrow_table()
    return spark.createDataFrame(table, "s STRING, p STRING, o STRING")


def read_ntriples(spark: Any, paths: list[str], local_bytes: int = LOCAL_BYTES) -> Any:
    """DataFrame ``(s, p, o)`` of canonical nt strings from N-Triples files (strict).

    Up to ``local_bytes`` of files are parsed on the driver, more in Spark tasks.
    """
    from graphcrime.spark.store import check_no_errors

    if sum(Path(p).stat().st_size for p in paths) <= local_bytes:
        return _parse_local(spark, paths)
    files = spark.createDataFrame([(str(Path(p).resolve()),) for p in paths], "path STRING")
    files = files.repartition(max(1, min(len(paths), spark.sparkContext.defaultParallelism)))
    df = files.mapInArrow(_parse_files, NT_DDL).localCheckpoint(eager=True)
    check_no_errors(df)
    return df.drop("err")


# -- Parquet --------------------------------------------------------------------------------
def _esc(col: Any) -> Any:
    from pyspark.sql import functions as F

    out = col
    for a, b in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r")):
        out = F.replace(out, F.lit(a), F.lit(b))
    return out


def _iri(prefix: str, col: Any) -> Any:
    from pyspark.sql import functions as F

    return F.concat(F.lit("<" + prefix), col.cast("string"), F.lit(">"))


def _lit(col: Any, dt: str | None) -> Any:
    from pyspark.sql import functions as F

    body = F.concat(F.lit('"'), _esc(col.cast("string")), F.lit('"'))
    return body if dt is None else F.concat(body, F.lit(f"^^<{dt}>"))


def _bool(col: Any) -> Any:
    from pyspark.sql import functions as F

    text = F.lower(col.cast("string"))
    return F.when(text.isin("true", "1"), F.lit("true")).when(
        text.isin("false", "0"), F.lit("false")).otherwise(col.cast("string"))


def _date(col: Any, dtype: str) -> Any:
    """Lexical xsd:dateTime of a column: timestamps as UTC ``yyyy-MM-ddTHH:mm:ss[.f]Z``."""
    from pyspark.sql import functions as F

    if dtype.startswith("timestamp"):
        text = F.date_format(col, "yyyy-MM-dd'T'HH:mm:ss.SSSSSS")
        return F.concat(F.regexp_replace(F.regexp_replace(text, "0+$", ""), "[.]$", ""),
                        F.lit("Z"))
    return col.cast("string")


def _mapping(given: Mapping[str, str] | None, defaults: dict[str, str], what: str) -> dict:
    given = dict(given or {})
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise DataError(f"unknown {what} field {unknown[0]!r} in the column mapping",
                        json_path=f"mapping.{what}.{unknown[0]}",
                        hint="fields: " + ", ".join(defaults))
    return {**defaults, **given}


def _require(df: Any, cols: dict[str, str], what: str, optional: set[str]) -> dict[str, str]:
    have = set(df.columns)
    out = {}
    for field, col in cols.items():
        if col in have:
            out[field] = col
        elif field not in optional:
            raise DataError(f"the {what} table has no column {col!r} (for {field})",
                            json_path=f"mapping.{what}.{field}",
                            hint="map the field to a column: " + ", ".join(sorted(have)))
    return out


def read_parquet_model(spark: Any, transactions: str | None = None, parties: str | None = None,
                       mapping: Mapping[str, Mapping[str, str]] | None = None) -> Any:
    """DataFrame ``(s, p, o)`` of nt strings: the data model's triples from Parquet tables.

    ``mapping`` is ``{"transactions": {field: column}, "parties": {field: column}}``; ids
    become ``:transaction_<id>`` / ``:party_<id>`` unless they already are IRIs (``http...``).
    """
    from pyspark.sql import functions as F

    mapping = dict(mapping or {})
    for key in mapping:
        if key not in ("transactions", "parties"):
            raise DataError(f"unknown table {key!r} in the column mapping",
                            json_path=f"mapping.{key}", hint="use transactions and parties")
    parts: list[Any] = []

    def ident(col: Any, kind: str) -> Any:
        text = col.cast("string")
        return F.when(text.startswith("http"), F.concat(F.lit("<"), text, F.lit(">"))) \
            .otherwise(_iri(f"{ENT}{kind}_", text))

    def triples(df: Any, s: Any, pred: str, o: Any) -> None:
        parts.append(df.select(s.alias("s"), F.lit(f"<{pred}>").alias("p"), o.alias("o"))
                     .where(F.col("o").isNotNull()))

    if transactions:
        t = spark.read.parquet(transactions)
        cols = _require(t, _mapping(mapping.get("transactions"), TRANSACTION_COLUMNS,
                                    "transactions"), "transactions", set())
        types = dict(t.dtypes)
        s = ident(F.col(cols["id"]), "transaction")
        triples(t, s, RDF_TYPE, F.lit(f"<{TYPE}Transaction>"))
        triples(t, s, PROP + "hasOriginator", ident(F.col(cols["originator"]), "party"))
        triples(t, s, PROP + "hasBeneficiary", ident(F.col(cols["beneficiary"]), "party"))
        triples(t, s, PROP + "hasAmount", _lit(F.col(cols["amount"]), XSD + "decimal"))
        triples(t, s, PROP + "hasDate", _lit(_date(F.col(cols["date"]), types[cols["date"]]),
                                             XSD + "dateTime"))
    if parties:
        p = spark.read.parquet(parties)
        cols = _require(p, _mapping(mapping.get("parties"), PARTY_COLUMNS, "parties"),
                        "parties", {"name", "is_internal", "is_exited"})
        s = ident(F.col(cols["id"]), "party")
        triples(p, s, RDF_TYPE, F.lit(f"<{TYPE}Party>"))
        for field, prop in (("is_suspicious", "isSuspicious"), ("is_internal", "isInternal"),
                            ("is_exited", "isExited")):
            if field in cols:
                triples(p, s, PROP + prop, _lit(_bool(F.col(cols[field])), XSD + "boolean"))
        if "name" in cols:
            triples(p, s, PROP + "hasFullName", _lit(F.col(cols["name"]), None))
            triples(p, s, RDFS + "label", _lit(F.col(cols["name"]), None))
    if not parts:
        raise DataError("no Parquet table given", hint="give transactions and/or parties")
    out = parts[0]
    for x in parts[1:]:
        out = out.unionByName(x)
    return out


# -- outputs --------------------------------------------------------------------------------
def write_nt(df: Any, path: str) -> int:
    """Write nt-string triples ``(s, p, o)``: one sorted file (``.nt``/``.nt.gz``) or, for a
    path without those suffixes, a Spark folder of part files. Returns the triple count."""
    from pyspark.sql import functions as F

    lines = df.select(F.concat_ws(" ", "s", "p", "o", F.lit(".")).alias("value"))
    if path.endswith((".nt", ".nt.gz")):
        import gzip

        opener = gzip.open if path.endswith(".gz") else open
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        table = lines.orderBy("value").toArrow()
        with opener(path, "wt", encoding="utf-8") as fh:  # type: ignore[operator]
            for chunk in table.column("value").chunks:
                values = chunk.to_pylist()
                if values:
                    fh.write("\n".join(values) + "\n")
        return table.num_rows
    lines = lines.localCheckpoint(eager=True)
    lines.write.mode("overwrite").text(path)
    return lines.count()


def write_parquet(df: Any, path: str) -> int:
    """Write nt-string triples ``(s, p, o)`` as a Parquet folder. Returns the triple count."""
    df = df.localCheckpoint(eager=True)
    df.write.mode("overwrite").parquet(path)
    return df.count()
