"""Spark inputs and outputs: Parquet tables mapped to the data model, Parquet and N-Triples
output, strict N-Triples errors with positions, rules Spark cannot run yet refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pyoxigraph as ox
import pytest

from graphcrime.errors import DataError, RuleError
from graphcrime.vocab import ENT, PROP, RDF_TYPE, RDFS, TYPE, XSD

pytestmark = pytest.mark.slow

DATA = """\
<{e}transaction_1> <{p}hasOriginator> <{e}party_a> .
<{e}transaction_1> <{p}hasBeneficiary> <{e}party_b> .
<{e}transaction_1> <{p}hasAmount> "1234.50"^^<{x}decimal> .
<{e}transaction_1> <{p}hasDate> "2024-05-01T10:00:00"^^<{x}dateTime> .
<{e}transaction_1> <{a}> <{c}Transaction> .
<{e}transaction_2> <{p}hasOriginator> <{e}party_b> .
<{e}transaction_2> <{p}hasBeneficiary> <{e}party_a> .
<{e}transaction_2> <{p}hasAmount> "99"^^<{x}decimal> .
<{e}transaction_2> <{p}hasDate> "2024-05-02T11:30:00"^^<{x}dateTime> .
<{e}transaction_2> <{a}> <{c}Transaction> .
<{e}party_a> <{a}> <{c}Party> .
<{e}party_a> <{p}isSuspicious> "true"^^<{x}boolean> .
<{e}party_a> <{p}hasFullName> "Ann \\"A\\" Lee" .
<{e}party_a> <{lb}> "Ann \\"A\\" Lee" .
<{e}party_b> <{a}> <{c}Party> .
<{e}party_b> <{p}isSuspicious> "false"^^<{x}boolean> .
""".format(e=ENT, p=PROP, x=XSD, a=RDF_TYPE, c=TYPE, lb=RDFS + "label")  # noqa: UP032

RULES = """\
@prefix prop: <http://oxfordsemantic.tech/transactions/properties#> .
@prefix : <http://e/> .
:big[?t] :- prop:hasAmount[?t, ?a], FILTER(?a > 1000) .
:late[?t] :- prop:hasDate[?t, ?d],
    FILTER(?d > "2024-05-02T00:00:00Z"^^<http://www.w3.org/2001/XMLSchema#dateTime>) .
"""


def _oxi(path: Path) -> set[str]:
    return {str(t) for t in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES)}


def test_parquet_tables_give_the_same_triples_and_answers(spark: Any, tools: Any,
                                                          tmp_path: Path) -> None:
    from graphcrime.spark.api import SparkStore

    (tmp_path / "data.nt").write_text(DATA)
    pq.write_table(pa.table({
        "tx": ["1", "2"], "from": ["a", "b"], "to": ["b", "a"],
        "amount": ["1234.50", "99"], "ts": ["2024-05-01T10:00:00", "2024-05-02T11:30:00"]}),
        tmp_path / "tx.parquet")
    pq.write_table(pa.table({"id": ["a", "b"], "name": ['Ann "A" Lee', None],
                             "is_suspicious": [True, False]}), tmp_path / "parties.parquet")
    (tmp_path / "rules.dlog").write_text(RULES)
    mapping = {"transactions": {"id": "tx", "originator": "from", "beneficiary": "to",
                                "date": "ts"}}
    with SparkStore(spark=spark) as st:
        loaded = st.load_parquet(tmp_path / "tx.parquet", tmp_path / "parties.parquet", mapping)
        assert loaded["triples"] == DATA.count("\n")
        st.dump(tmp_path / "all.nt")
        st.reason(tmp_path / "rules.dlog")
        got = tools.nt_set(st.triples(derived_only=True).collect())
        st.dump(tmp_path / "derived.parquet", derived_only=True)
    assert _oxi(tmp_path / "all.nt") == _oxi(tmp_path / "data.nt")
    assert got == tools.embedded_derived([tmp_path / "data.nt"], [tmp_path / "rules.dlog"])
    assert len(got) == 2  # transaction_1 is big, transaction_2 is late: worked by hand
    back = pq.read_table(tmp_path / "derived.parquet")
    assert set(zip(*(back.column(c).to_pylist() for c in "spo"), strict=True)) == got


def test_parquet_mapping_errors_name_the_field(spark: Any, tmp_path: Path) -> None:
    from graphcrime.spark.api import SparkStore

    pq.write_table(pa.table({"id": ["1"]}), tmp_path / "tx.parquet")
    with SparkStore(spark=spark) as st:
        with pytest.raises(DataError) as e:
            st.load_parquet(tmp_path / "tx.parquet")
        assert e.value.json_path == "mapping.transactions.originator"
        with pytest.raises(DataError) as e:
            st.load_parquet(tmp_path / "tx.parquet", mapping={"transactions": {"colour": "x"}})
        assert "colour" in e.value.message


@pytest.mark.parametrize("on_driver", [True, False])
def test_bad_ntriples_line_is_reported_with_its_position(spark: Any, tmp_path: Path,
                                                         on_driver: bool) -> None:
    from graphcrime.spark.io import read_ntriples

    bad = tmp_path / "bad.nt"
    bad.write_text("<http://e/a> <http://e/p> <http://e/b> .\n<http://e/a> <http://e/p> oops .\n")
    with pytest.raises(DataError) as e:
        read_ntriples(spark, [str(bad)], local_bytes=1 << 20 if on_driver else 0)
    assert e.value.file and e.value.file.endswith("bad.nt") and e.value.line == 2


def test_files_parsed_in_tasks_equal_the_driver_parse(spark: Any, tools: Any,
                                                      tmp_path: Path) -> None:
    from graphcrime.spark.io import read_ntriples

    (tmp_path / "a.nt").write_text(DATA)
    (tmp_path / "b.nt").write_text('<http://e/x> <http://e/p> "tab\\there"@EN .\n')
    paths = [str(tmp_path / "a.nt"), str(tmp_path / "b.nt")]
    tasks = tools.nt_set(read_ntriples(spark, paths, local_bytes=0).collect())
    driver = tools.nt_set(read_ntriples(spark, paths).collect())
    assert tasks == driver and len(tasks) == DATA.count("\n") + 1


def test_driver_encoded_load_equals_the_load_interned_in_spark(spark: Any, tools: Any,
                                                               tmp_path: Path) -> None:
    """The driver load (ids and typed terms made by DuckDB, one chunk per predicate) holds
    the same triples and the same dictionary rows (typed columns too) as the load interned
    in Spark, and a scan of one predicate's table reads that predicate's rows only."""
    from graphcrime.spark.io import load_encoded, read_ntriples
    from graphcrime.spark.store import SparkFactStore

    (tmp_path / "a.nt").write_text(DATA)
    (tmp_path / "b.nt").write_text('<http://e/x> <http://e/p> "tab\\there"@EN .\n'
                                   '<http://e/x> <http://e/p> "12"^^<' + XSD + 'integer> .\n')
    paths = [str(tmp_path / "a.nt"), str(tmp_path / "b.nt")]
    cols = ["nt", "kind", "lex", "dt", "lang", "num", "ts", "bool"]
    seen = []
    for encoded in (True, False):  # one store at a time: they share the view names
        st = SparkFactStore(spark)
        try:
            n = st.add_arrow(*load_encoded(paths)) if encoded else \
                st.add_nt_triples(read_ntriples(spark, paths))
            terms = st.frame("terms")
            amounts = st.frame(st.preds[st.term_id(f"<{PROP}hasAmount>")]).collect()
            seen.append((n, tools.nt_set(st.nt_frame().collect()),
                         sorted(map(tuple, terms.select(*cols).collect()), key=repr)))
            if encoded:
                assert {r["id"] for r in terms.select("id").collect()} == \
                    set(range(st.n_terms)) and st.n_terms == terms.count()  # dense from 0
                assert len(amounts) == 2 and all(len(st.chunks[t]) == 1
                                                 for t in st.preds.values())
        finally:
            st.close()
    assert seen[0] == seen[1] and seen[0][0] == 18


def test_unsupported_function_is_refused_with_the_rule_position(spark: Any,
                                                               tmp_path: Path) -> None:
    from graphcrime.spark.api import SparkStore

    (tmp_path / "d.nt").write_text('<http://e/a> <http://e/name> "Ann" .\n')
    (tmp_path / "r.dlog").write_text('@prefix : <http://e/> .\n\n'
                                     ':A[?x] :- :name[?x, ?n], FILTER(REGEX(?n, "^a", "i")) .\n')
    with SparkStore(spark=spark) as st:
        st.load(tmp_path / "d.nt")
        with pytest.raises(RuleError) as e:
            st.reason(tmp_path / "r.dlog")
    assert e.value.line == 3 and e.value.file.endswith("r.dlog")
    assert "REGEX" in e.value.message and "embedded" in (e.value.hint or "")
