"""graphcrime serve: the SPARQL 1.1 Protocol over HTTP, answers checked against pyoxigraph."""

from __future__ import annotations

import csv
import io
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from graphcrime.serve import looks_like_update, media_format, serving

E = "http://oxfordsemantic.tech/transactions/entities#"
P = "http://oxfordsemantic.tech/transactions/properties#"
T = "http://oxfordsemantic.tech/transactions/classes#"
DATA = "".join(
    f"<{E}chain_{i}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{T}SuspiciousChain> .\n"
    f"<{E}chain_{i}> <{P}hasLength> \"{i + 1}\"^^<http://www.w3.org/2001/XMLSchema#integer> .\n"
    f"<{E}chain_{i}> <{P}hasBeneficiary> <{E}party_{i % 3}> .\n"
    for i in range(7))
QUERY = f"SELECT ?c ?l WHERE {{ ?c a <{T}SuspiciousChain> ; <{P}hasLength> ?l }}"


def write_job(folder: Path) -> Path:
    (folder / "results").mkdir(parents=True)
    (folder / "results" / "suspicious-chains.nt").write_text(DATA, encoding="utf-8")
    (folder / "status.json").write_text(json.dumps({"job_id": "x_1", "status": "succeeded"}))
    (folder / "stats.json").write_text("{}")
    return folder


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(write_job(tmp_path_factory.mktemp("job") / "x_1")) as endpoint:
        yield endpoint


def oracle(query: str) -> ox.QuerySolutions:
    store = ox.Store()
    store.load(DATA.encode(), format=ox.RdfFormat.N_TRIPLES)
    return store.query(query)


def fetch(req: urllib.request.Request | str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers["Content-Type"], r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read()


def expected_pairs() -> set[tuple[str, str]]:
    return {(s["c"].value, s["l"].value) for s in oracle(QUERY)}


def test_get_json(url: str) -> None:
    req = urllib.request.Request(url + "?" + urllib.parse.urlencode({"query": QUERY}),
                                 headers={"Accept": "application/sparql-results+json"})
    status, ctype, body = fetch(req)
    assert status == 200 and ctype == "application/sparql-results+json"
    doc = json.loads(body)
    assert doc["head"]["vars"] == ["c", "l"]
    got = {(b["c"]["value"], b["l"]["value"]) for b in doc["results"]["bindings"]}
    assert got == expected_pairs() and len(got) == 7


def test_post_form_csv(url: str) -> None:
    req = urllib.request.Request(url, data=urllib.parse.urlencode({"query": QUERY}).encode(),
                                 headers={"Accept": "text/csv",
                                          "Content-Type": "application/x-www-form-urlencoded"})
    status, ctype, body = fetch(req)
    assert status == 200 and ctype.startswith("text/csv")
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert rows[0] == ["c", "l"]
    assert {tuple(r) for r in rows[1:]} == expected_pairs()


def test_post_raw_tsv_and_xml(url: str) -> None:
    for accept, start in (("text/tab-separated-values", b"?c\t?l"),
                          ("application/sparql-results+xml", b"<?xml")):
        req = urllib.request.Request(url, data=QUERY.encode(), headers={
            "Accept": accept, "Content-Type": "application/sparql-query"})
        status, _, body = fetch(req)
        assert status == 200 and body.startswith(start)
        assert body.count(b"chain_") == 7


def test_construct_ntriples(url: str) -> None:
    q = f"CONSTRUCT {{ ?c <{P}to> ?b }} WHERE {{ ?c <{P}hasBeneficiary> ?b }}"
    status, ctype, body = fetch(url + "?" + urllib.parse.urlencode({"query": q}))
    assert status == 200 and ctype == "application/n-triples"
    got = {q.triple for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)}
    assert got == set(oracle(q)) and len(got) == 7


def test_ask(url: str) -> None:
    q = f"ASK {{ ?c <{P}hasLength> 7 }}"
    status, _, body = fetch(url + "?" + urllib.parse.urlencode({"query": q}))
    assert status == 200 and json.loads(body)["boolean"] is bool(oracle(q))


def test_updates_and_errors_refused(url: str) -> None:
    upd = f"PREFIX p: <{P}>\nINSERT DATA {{ <{E}a> p:x <{E}b> }}"
    for req in (
        urllib.request.Request(url, data=urllib.parse.urlencode({"update": upd}).encode(),
                               headers={"Content-Type": "application/x-www-form-urlencoded"}),
        urllib.request.Request(url, data=upd.encode(),
                               headers={"Content-Type": "application/sparql-update"}),
        url + "?" + urllib.parse.urlencode({"query": upd}),
    ):
        status, _, body = fetch(req)
        assert status == 400 and b"refused" in body
    status, _, body = fetch(url + "?" + urllib.parse.urlencode({"query": "SELEC ?x {"}))
    assert status == 400 and body
    assert fetch(url)[0] == 400
    assert fetch(url.replace("/sparql", "/nope"))[0] == 404
    # nothing was inserted
    status, _, body = fetch(url + "?" + urllib.parse.urlencode(
        {"query": f"ASK {{ <{E}a> ?p ?o }}"}))
    assert json.loads(body)["boolean"] is False


def test_media_format_and_update_detection() -> None:
    assert media_format("text/csv;q=0.5, application/sparql-results+xml", "select")[0] == "xml"
    assert media_format("text/turtle", "select")[0] == "json"
    assert media_format("text/turtle, text/csv", "graph")[0] == "ttl"
    assert looks_like_update("# c\nPREFIX a: <x:>\n DELETE WHERE { ?s ?p ?o }")
    assert not looks_like_update("PREFIX a: <x:> SELECT * { ?s ?p ?o }")
