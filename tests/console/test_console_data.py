"""The console's data layer against pyoxigraph over the same files: the chains table (every
row, every filter), result-file tables page by page, and the jobs index over a watched inbox."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyoxigraph as ox
import pytest

from graphcrime.console.jobdata import JobData, chain_filter
from graphcrime.console.jobindex import JobIndex, store_rows
from graphcrime.errors import QueryError
from graphcrime.vocab import PROP, TYPE

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


@pytest.fixture(scope="module")
def data(console_job: dict) -> JobData:
    d = JobData(console_job["folder"])
    yield d
    d.close()


@pytest.fixture(scope="module")
def oracle(console_job: dict) -> ox.Store:
    store = ox.Store()
    for f in [*sorted((console_job["folder"] / "results").glob("*.nt")),
              *sorted((console_job["served"] / "data").glob("*.nt"))]:
        store.bulk_load(path=str(f), format=ox.RdfFormat.N_TRIPLES)
    return store


def all_chains(data: JobData, **filters: str) -> list[dict]:
    page = data.chains(filters, limit=500)
    rows = page["rows"]
    while len(rows) < page["total"]:
        rows += data.chains(filters, offset=len(rows), limit=500)["rows"]
    return rows


def test_chains_table_is_every_chain_with_its_values(data: JobData, oracle: ox.Store) -> None:
    expected = {}
    for c, o, b, n, first, final, end, hv, ol in oracle.query(f"""
        SELECT ?c ?o ?b ?n ?first ?final ?end ?hv ?ol WHERE {{ ?c a <{TYPE}SuspiciousChain> ;
          <{PROP}hasOriginator> ?o ; <{PROP}hasBeneficiary> ?b ; <{PROP}hasLength> ?n ;
          <{PROP}hasStartingAmount> ?first ; <{PROP}hasFinalAmount> ?final ;
          <{PROP}hasEndDate> ?end . OPTIONAL {{ ?o <{RDFS_LABEL}> ?ol }}
          BIND(EXISTS {{ ?c a <{TYPE}HighValueChain> }} AS ?hv) }}"""):
        expected[c.value] = (o.value, b.value, int(n.value), float(first.value),
                             float(final.value), end.value, hv.value == "true",
                             ol.value if ol else None)
    rows = all_chains(data)
    got = {r["chain"]: (r["originator"], r["beneficiary"], r["length"], r["first_amount"],
                        r["final_amount"], r["end_date"], r["high_value"],
                        r["originator_label"]) for r in rows}
    assert got == expected and len(rows) == len(expected) > 50
    keys = [(-r["high_value"], -r["final_amount"], -r["length"], r["chain"]) for r in rows]
    assert keys == sorted(keys)  # the demo's order


@pytest.mark.parametrize("filters, where", [
    ({"high_value": "1"}, "?hv"),
    ({"length_min": "4", "length_max": "7"}, "?n >= 4 && ?n <= 7"),
    ({"amount_min": "1000", "amount_max": "100000"}, "?final >= 1000 && ?final <= 100000"),
    ({"high_value": "on", "length_min": "2", "amount_min": "500"},
     "?hv && ?n >= 2 && ?final >= 500"),
])
def test_chain_filters(data: JobData, oracle: ox.Store, filters: dict, where: str) -> None:
    expected = {r[0].value for r in oracle.query(f"""SELECT ?c WHERE {{
        ?c a <{TYPE}SuspiciousChain> ; <{PROP}hasLength> ?n ; <{PROP}hasFinalAmount> ?final .
        BIND(EXISTS {{ ?c a <{TYPE}HighValueChain> }} AS ?hv) FILTER({where}) }}""")}
    assert {r["chain"] for r in all_chains(data, **filters)} == expected and expected


def test_party_filter_matches_names_and_iris(data: JobData, oracle: ox.Store,
                                            console_job: dict) -> None:
    word = "søren"  # in a hostile name as "Søren": any case, accents kept
    expected = {r[0].value for r in oracle.query(f"""SELECT DISTINCT ?c WHERE {{
        ?c a <{TYPE}SuspiciousChain> . {{ ?c <{PROP}hasOriginator> ?p }} UNION
        {{ ?c <{PROP}hasBeneficiary> ?p }} ?p <{RDFS_LABEL}> ?l .
        FILTER(CONTAINS(LCASE(?l), "{word}")) }}""")}
    assert {r["chain"] for r in all_chains(data, party=word)} == expected and expected
    assert all_chains(data, party="100%_") == []  # LIKE wildcards are plain text
    party = next(iter(console_job["names"]))
    exact = all_chains(data, party_iri=party)
    assert exact and all(party in (r["originator"], r["beneficiary"]) for r in exact)


def test_bad_filter_values_are_clear_errors() -> None:
    with pytest.raises(QueryError, match="length min must be a number"):
        chain_filter({"length_min": "three"})


def test_result_file_table_pages_are_the_file(data: JobData, oracle: ox.Store,
                                              console_job: dict) -> None:
    path = console_job["folder"] / "results" / "high-value-chains.nt"
    table = data.file_table(path.name, path)
    triples = set()
    for offset in range(0, table.total, 200):
        for s, p, o in table.page(offset, 200)["rows"]:
            triples.add((s["v"], p["v"], o["v"]))
    expected = {(t.subject.value, t.predicate.value, t.object.value)
                for t in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES)}
    assert triples == expected and table.total == len(expected)
    amounts = [float(r[2]["v"]) for r in table.page(0, 500, sort=2, desc=True)["rows"]
               if r[1]["v"] == f"{PROP}hasFinalAmount"]
    assert amounts == sorted(amounts, reverse=True)  # numbers sort as numbers


def test_csv_download_is_the_filtered_table(data: JobData) -> None:
    text = data.chains_csv({"high_value": "1"}).decode()
    lines = text.strip().splitlines()
    assert lines[0].startswith('"chain","originator"')
    assert len(lines) - 1 == data.chains({"high_value": "1"})["total"]


def test_jobs_index_lists_inbox_states(tmp_path: Path, console_job: dict) -> None:
    inbox = tmp_path / "inbox"
    for sub in ("running", "done", "failed"):
        (inbox / sub).mkdir(parents=True)
    (inbox / "a.json").write_text(json.dumps({"name": "alpha", "parameters": {"min_amount": 5},
                                              "data": [], "rules": [], "queries": []}))
    (inbox / "draft.json.part").write_text("{")
    (inbox / "running" / "b.json").write_text(json.dumps({"name": "beta"}))
    (inbox / "failed" / "c.json").write_text("{not json")
    (inbox / "failed" / "c.json.reason.txt").write_text(
        "job (no id) failed: c.json:1:2: not valid JSON\n")
    (inbox / "done" / "d.json").write_text("{}")
    os.utime(inbox / "a.json", (2e9, 2e9))  # the newest
    rows = JobIndex(console_job["root"], inbox).rows()
    by_status = {r["status"]: r for r in rows if r["kind"] == "spec"}
    assert rows[0]["name"] == "alpha" and rows[0]["parameters"] == {"min_amount": 5}
    assert by_status["running"]["name"] == "beta"
    assert "not valid JSON" in by_status["failed"]["reason"]
    assert by_status["done"]["spec"] == "done/d.json"
    assert not any("draft" in (r.get("spec") or "") for r in rows)
    job = next(r for r in rows if r["id"] == console_job["job"])
    assert job["status"] == "succeeded" and job["parameters"]["max_chain_length"] == 10


def test_jobs_index_cache_sees_changes(tmp_path: Path) -> None:
    folder = tmp_path / "x_2021-07-30_001"
    folder.mkdir()
    (folder / "status.json").write_text(json.dumps({"status": "failed", "error": {
        "message": "boom", "file": "r.dlog", "line": 3, "col": 7, "hint": "fix it"}}))
    index = JobIndex(tmp_path)
    assert index.rows()[0]["reason"] == "r.dlog:3:7: boom (hint: fix it)"
    (folder / "status.json").write_text(json.dumps({"status": "succeeded", "seconds": 2}))
    os.utime(folder / "status.json", (3e9, 3e9))
    assert index.rows()[0]["status"] == "succeeded"
    (tmp_path / ".tmp-y_2021-07-30_001").mkdir()
    (tmp_path / ".tmp-y_2021-07-30_001" / "job.log").write_text(
        "2021-07-30T10:00:00.000+00:00 job y_2021-07-30_001 from s.json\n"
        "2021-07-30T10:00:01.000+00:00 load 2 file(s)\n")
    running = [r for r in index.rows() if r["status"] == "running"]
    assert running and running[0]["progress"] == "load 2 file(s)"


def test_store_root_lists_its_stores(tmp_path: Path) -> None:
    (tmp_path / "cases-2021").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "file.txt").write_text("x")
    assert [r["name"] for r in store_rows(tmp_path)] == ["cases-2021"]
    assert store_rows(None) == [] and store_rows(tmp_path / "missing") == []
