"""The vectorised AMLworld import: pyarrow reads the CSV in blocks, DuckDB turns each chunk
of about a million rows into N-Triples text (no Python per row, bounded memory). It accepts
only the plain forms the dataset uses (``YYYY/MM/DD HH:MM`` timestamps, plain decimal
amounts, labels 0/1, 11 fields); on any other row it returns False and
:func:`graphcrime.investigate.importers.import_amlworld` redoes the file with the strict
row-by-row reader, which names the offending ``file:line``. Both paths write the same bytes
(transaction IRIs hash the file name and the record number)."""

from __future__ import annotations

import itertools
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

from graphcrime.db import first_row
from graphcrime.vocab import ENT, PROP, RDF_TYPE, TYPE, XSD

NAMES = ["ts", "fb", "fa", "tb", "ta", "ar", "rc", "ap", "pc", "pf", "lab"]
BLOCK = 1 << 23
#: Rows per DuckDB pass (bounded memory however long the file).
CHUNK = 1_000_000
_TS = r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}(:\d{2})?$"
_AMOUNT = r"^(0|[1-9][0-9]*)(\.[0-9]+)?$"
_FORMATS = "['%Y/%m/%d %H:%M:%S', '%Y/%m/%d %H:%M']"

ROWS = f"""
CREATE OR REPLACE TEMP TABLE cur AS
SELECT rec, '{ENT}transaction_' || substr(md5(? || ':' || rec::VARCHAR), 1, 16) AS t,
       '{ENT}party_' || substr(md5(fb || '/' || fa), 1, 16) AS o,
       '{ENT}party_' || substr(md5(tb || '/' || ta), 1, 16) AS b,
       fb || '/' || fa AS ol, tb || '/' || ta AS bl, trim(ap) AS amount,
       strftime(try_strptime(trim(ts), {_FORMATS}), '%Y-%m-%dT%H:%M:%S') AS d,
       trim(lab) = '1' AS laundering,
       coalesce(regexp_matches(trim(ts), '{_TS}') AND regexp_matches(trim(ap), '{_AMOUNT}')
                AND trim(lab) IN ('0', '1')
                AND try_strptime(trim(ts), {_FORMATS}) IS NOT NULL, false) AS ok
FROM batch
"""
LINE = (f"'<' || t || '> <{RDF_TYPE}> <{TYPE}Transaction> .\n<' || t || '> <{PROP}hasOriginator>"
        f" <' || o || '> .\n<' || t || '> <{PROP}hasBeneficiary> <' || b || '> .\n<' || t || "
        f"'> <{PROP}hasAmount> \"' || amount || '\"^^<{XSD}decimal> .\n<' || t || "
        f"'> <{PROP}hasDate> \"' || d || '\"^^<{XSD}dateTime> .'")


def fast_amlworld(path: Path, conv: Any) -> bool:
    """Fill ``conv`` (an importers.Converter, its ``transactions.nt`` rewritten by DuckDB) from
    ``path``; False if a row needs the strict reader (``conv`` must then be discarded)."""
    import duckdb
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from graphcrime.investigate.importers import Tx

    schema = pa.schema([(n, pa.string()) for n in NAMES] + [("rec", pa.int64())])
    try:
        reader = pacsv.open_csv(
            path, read_options=pacsv.ReadOptions(column_names=NAMES, skip_rows=1,
                                                 block_size=BLOCK, encoding="utf8"),
            parse_options=pacsv.ParseOptions(newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in NAMES}, strings_can_be_null=False,
                quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return False

    keep = "o <> b" if conv.skip_self else "true"  # rows written (self-transfers: see importers)
    con = duckdb.connect()
    con.execute("CREATE TABLE parties (iri VARCHAR PRIMARY KEY, label VARCHAR, k BIGINT)")
    out = conv.out / "transactions.nt"
    part = str(conv.out / "transactions.part").replace("'", "''")
    conv.fh.close()
    try:
        with open(out, "wb") as dest:
            for chunk in _chunks(reader, schema):
                con.register("batch", chunk)
                con.execute(ROWS, [path.name])
                con.unregister("batch")
                total, bad, selfs, self_laundering = first_row(con,
                    "SELECT count(*), count(*) FILTER (NOT ok), count(*) FILTER (o = b), "
                    "count(*) FILTER (o = b AND laundering) FROM cur")
                if bad:
                    return False
                con.execute(f"COPY (SELECT {LINE} FROM cur WHERE {keep} ORDER BY rec) TO "
                            f"'{part}' (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', "
                            "DELIMITER '\x01')")
                with open(conv.out / "transactions.part", "rb") as src:
                    shutil.copyfileobj(src, dest, 1 << 22)
                rep = conv.report
                if conv.skip_self:
                    rep.transactions += total - selfs
                    rep.skipped_self += selfs
                    rep.skipped_laundering += self_laundering
                else:
                    rep.transactions += total
                    rep.self_transfers += selfs
                    rep.self_laundering += self_laundering
                con.execute(f"""INSERT OR IGNORE INTO parties
                    SELECT iri, min_by(label, k), min(k) FROM (
                        SELECT o AS iri, ol AS label, 2 * rec AS k FROM cur WHERE {keep}
                        UNION ALL SELECT b, bl, 2 * rec + 1 FROM cur WHERE {keep})
                    GROUP BY iri""")
                for t, o, b, amount, d, r in con.execute(
                        f"SELECT t, o, b, amount, d, rec FROM cur WHERE laundering AND {keep} "
                        "ORDER BY rec").fetchall():
                    conv.laundering.append(Tx(t, o, b, Decimal(amount), d, r))
        conv.parties.update(con.execute("SELECT iri, label FROM parties ORDER BY k").fetchall())
    except (pa.ArrowInvalid, UnicodeDecodeError, duckdb.Error):
        return False
    finally:
        con.close()
        (conv.out / "transactions.part").unlink(missing_ok=True)
    return True


def _chunks(reader: Any, schema: Any) -> Any:
    """pyarrow Tables of about CHUNK rows each, with a 1-based record number column."""
    import numpy as np
    import pyarrow as pa

    rec, blocks, rows = 0, [], 0
    for block in itertools.chain(reader, [None]):
        if block is not None:
            n = block.num_rows
            blocks.append(pa.RecordBatch.from_arrays(
                [*block.columns, pa.array(np.arange(rec + 1, rec + n + 1, dtype=np.int64))],
                schema=schema))
            rec, rows = rec + n, rows + n
        if blocks and (block is None or rows >= CHUNK):
            yield pa.Table.from_batches(blocks, schema=schema)
            blocks, rows = [], 0
