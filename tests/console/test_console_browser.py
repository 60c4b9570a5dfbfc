"""The console in a real browser: click from the jobs page to a job, a chain and a party,
check the graph against pyoxigraph, run SPARQL, filter the chains table, and look for
script injection through the hostile party names. Screenshots go to ``tmp_path`` (or to
``$GRAPHCRIME_SCREENSHOTS``) and must not be blank."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from graphcrime.vocab import PROP, TYPE
from tests.console.jobs import REPO, line_chain_job

pytestmark = pytest.mark.slow


def oxstore(*files: Path) -> ox.Store:
    store = ox.Store()
    for f in files:
        store.bulk_load(path=str(f), format=ox.RdfFormat.N_TRIPLES)
    return store


_STORES: dict[str, ox.Store] = {}


def job_store(console: dict) -> ox.Store:
    """pyoxigraph over the job's results and its input data: the independent oracle."""
    if console["job"] not in _STORES:
        files = sorted((console["folder"] / "results").glob("*.nt"))
        files += sorted((console["served"] / "data").glob("*.nt"))
        _STORES[console["job"]] = oxstore(*files)
    return _STORES[console["job"]]


def shot(page: object, tmp_path: Path, name: str) -> Path:
    folder = Path(os.environ.get("GRAPHCRIME_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert not blank(path), f"{path} is blank"
    return path


def blank(path: Path) -> bool:
    """True when the PNG has (almost) one colour."""
    import matplotlib.image as mpimg
    import numpy as np

    img = mpimg.imread(str(path))[..., :3]
    flat = img.reshape(-1, 3)
    common = np.all(np.isclose(flat, np.median(flat, axis=0), atol=0.02), axis=1).mean()
    return bool(common > 0.995)


def top_chains(store: ox.Store, n: int) -> list[str]:
    """The demo's order of chains (graphcrime.runner.demo.top_chains, independently)."""
    rows = store.query(f"""SELECT ?c WHERE {{
      ?c a <{TYPE}SuspiciousChain> ; <{PROP}hasLength> ?len ; <{PROP}hasFinalAmount> ?last .
      BIND(EXISTS {{ ?c a <{TYPE}HighValueChain> }} AS ?hv)
    }} ORDER BY DESC(?hv) DESC(?last) DESC(?len) ?c LIMIT {n}""")
    return [r[0].value for r in rows]


def test_jobs_to_job_to_chain_graph(console: dict, page: object, tmp_path: Path) -> None:
    pg = page
    pg.goto(console["url"])
    link = pg.locator(f"a.job-link:text-is('{console['job']}')")
    link.wait_for()
    shot(pg, tmp_path, "1-jobs")
    link.click()
    pg.wait_for_selector("#chains table tbody tr")
    pg.wait_for_selector("#summary dl")
    shot(pg, tmp_path, "2-job")
    store = job_store(console)
    shown = [a.get_attribute("title") for a in pg.locator("#chains a.chain-link").all()]
    assert shown[:5] == top_chains(store, 5)
    pg.locator("#chains a.chain-link").first.click()
    pg.wait_for_selector("#tx-table tbody tr")
    chain = shown[0]
    frame = pg.frame_locator("#graph")
    frame.locator("g.node").first.wait_for()
    nodes = frame.locator("g.node").count()
    edges = frame.locator("g.edge").count()
    txs = list(store.query(f"SELECT ?t ?o ?b WHERE {{ <{chain}> <{PROP}containsTransaction> ?t . "
                           f"?t <{PROP}hasOriginator> ?o ; <{PROP}hasBeneficiary> ?b }}"))
    parties = {r[1].value for r in txs} | {r[2].value for r in txs}
    assert (nodes, edges) == (len(parties), len(txs))
    assert pg.locator("#tx-table tbody tr").count() == len(txs)
    assert pg.locator("#explanation pre").count() >= 1
    assert "high-value-chains.dlog:" in pg.locator("#explanation").inner_text()
    shot(pg, tmp_path, "3-chain")
    assert not pg.dialogs and not pg.errors


def cells(pg: object, selector: str) -> list[list[str]]:
    """A rendered table's cells: a link's title (the full IRI), else the value's text."""
    return pg.evaluate(
        """sel => [...document.querySelectorAll(sel + ' tbody tr')].map(tr =>
             [...tr.children].map(td => { const a = td.querySelector('a');
               if (a) return a.title; const l = td.querySelector('.lit');
               return l ? l.firstChild.textContent : td.textContent; }))""", selector)


def no_injection(pg: object) -> None:
    """No probe ran, in the page or its frames, and no probe became an element."""
    for frame in pg.frames:
        assert frame.evaluate("window.__xss") is None
        probes = "document.querySelectorAll('img, [onload], [onerror], b').length"
        assert frame.evaluate(probes) == 0
    assert not pg.dialogs and not pg.errors


def test_sparql_table_matches_pyoxigraph(console: dict, page: object, tmp_path: Path) -> None:
    pg = page
    pg.goto(f"{console['url']}jobs/{console['job']}/sparql")
    area = pg.locator("#query")
    assert f"PREFIX prop: <{PROP}>" in area.input_value()  # the job's query prefixes
    pg.click("#sparql button[type=submit]")
    pg.wait_for_selector("#table tbody tr")
    query = (f"PREFIX prop: <{PROP}>\nPREFIX type: <{TYPE}>\n"
             "SELECT ?chain ?length ?final WHERE {\n  ?chain a type:HighValueChain ; "
             "prop:hasLength ?length ; prop:hasFinalAmount ?final .\n  FILTER(?length >= 3)\n"
             "} ORDER BY DESC(?final) ?chain LIMIT 60")
    area.fill(query)
    with pg.expect_response(lambda r: r.url.endswith("/sparql") and r.request.method == "POST"):
        pg.click("#sparql button[type=submit]")
    pg.wait_for_function("() => !document.querySelector('#table').classList.contains('loading')")
    store = job_store(console)
    expected = [[t.value for t in row] for row in store.query(query)]
    shown = cells(pg, "#table")
    pg.click("#table .pager button:has-text('next')")
    pg.wait_for_function(
        "() => document.querySelector('#table .count').textContent.startsWith('rows 51')")
    shown += cells(pg, "#table")
    assert shown == expected and len(expected) == 60
    shot(pg, tmp_path, "5-sparql")
    area.fill("SELECT ?s\nWHERE { ?s ?p }")
    pg.click("#sparql button[type=submit]")
    pg.wait_for_selector("#error:not([hidden])")
    assert pg.locator("#error").inner_text().startswith("line 2, column")
    area.fill("DELETE WHERE { ?s ?p ?o }")
    pg.click("#sparql button[type=submit]")
    pg.wait_for_function("() => document.querySelector('#error').textContent.includes('Update')")
    no_injection(pg)


def filtered_total(pg: object) -> int:
    pg.wait_for_function("() => !document.querySelector('#chains').classList.contains('loading')")
    return int(pg.locator("#chains").get_attribute("data-total"))


def test_filter_the_chains_table(console: dict, page: object, tmp_path: Path) -> None:
    pg = page
    pg.goto(f"{console['url']}jobs/{console['job']}")
    pg.wait_for_selector("#chains tbody tr")
    store = job_store(console)
    pg.check("#chain-filters [name=high_value]")
    pg.fill("#chain-filters [name=length_min]", "3")
    pg.fill("#chain-filters [name=length_max]", "6")
    pg.fill("#chain-filters [name=amount_min]", "1000")
    with pg.expect_response(lambda r: "length_min=3" in r.url):
        pg.click("#chain-filters button[type=submit]")
    (n,), = store.query(f"""SELECT (COUNT(*) AS ?n) WHERE {{ ?c a <{TYPE}HighValueChain> ;
        <{PROP}hasLength> ?l ; <{PROP}hasFinalAmount> ?a .
        FILTER(?l >= 3 && ?l <= 6 && ?a >= 1000) }}""")
    assert filtered_total(pg) == int(n.value) > 0
    lengths = [int(r[3]) for r in cells(pg, "#chains")]
    assert lengths and all(3 <= x <= 6 for x in lengths)
    shot(pg, tmp_path, "6-filtered")
    header = pg.locator("#chains th button:has-text('final amount')")
    with pg.expect_response(lambda r: "sort=final_amount" in r.url and "desc=1" not in r.url):
        header.click()
    filtered_total(pg)
    finals = [float(r[5].replace(",", "")) for r in cells(pg, "#chains")]
    assert finals == sorted(finals)
    with pg.expect_response(lambda r: "sort=final_amount" in r.url and "desc=1" in r.url):
        header.click()
    filtered_total(pg)
    finals = [float(r[5].replace(",", "")) for r in cells(pg, "#chains")]
    assert finals == sorted(finals, reverse=True)
    assert "length_min=3" in pg.locator("#chains-csv").get_attribute("href")
    pg.click("#chain-filters button[type=reset]")
    name = next(iter(console["names"].values()))
    word = name.split()[1]  # e.g. 'Zoë' or 'Łukasz': accents, case as written
    pg.fill("#chain-filters [name=party]", word)
    with pg.expect_response(lambda r: "party=" in r.url):
        pg.click("#chain-filters button[type=submit]")
    (n,), = store.query(f"""SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{
        ?c a <{TYPE}SuspiciousChain> . {{ ?c <{PROP}hasOriginator> ?p }} UNION
        {{ ?c <{PROP}hasBeneficiary> ?p }} ?p <http://www.w3.org/2000/01/rdf-schema#label> ?l .
        FILTER(CONTAINS(?l, "{word}")) }}""")
    assert filtered_total(pg) == int(n.value) > 0
    no_injection(pg)


def degree(store: ox.Store, party: str) -> int:
    (n,), = store.query(f"""SELECT (COUNT(DISTINCT ?t) AS ?n) WHERE {{
        {{ ?t <{PROP}hasOriginator> <{party}> }} UNION
        {{ ?t <{PROP}hasBeneficiary> <{party}> }} }}""")
    return int(n.value)


def test_party_page_and_hostile_names(console: dict, page: object, tmp_path: Path) -> None:
    pg = page
    store = job_store(console)
    chain = top_chains(store, 1)[0]
    pg.goto(f"{console['url']}jobs/{console['job']}/chain?iri=" + chain.replace("#", "%23"))
    pg.wait_for_selector("#tx-table tbody tr")
    no_injection(pg)
    origin = pg.locator("#summary dd a").first
    party = origin.get_attribute("title")
    assert origin.inner_text() == console["names"][party]  # the hostile name, as text
    if degree(store, party) > 150:  # a hub: the graph would show only its largest 150
        party = next(p for p in (a.get_attribute("title") for a in pg.locator(
            "#tx-table a[href*='/party?']").all()) if degree(store, p) <= 150)
        pg.locator(f"#tx-table a[title='{party}']").first.click()
    else:
        origin.click()
    pg.wait_for_selector("#party-name")
    if party in console["names"]:
        assert pg.locator("#party-name").inner_text() == console["names"][party]
    frame = pg.frame_locator("#graph")
    frame.locator("g.node").first.wait_for()
    txs = list(store.query(f"""SELECT DISTINCT ?t ?o ?b WHERE {{
        {{ ?t <{PROP}hasOriginator> <{party}> }} UNION {{ ?t <{PROP}hasBeneficiary> <{party}> }}
        ?t <{PROP}hasOriginator> ?o ; <{PROP}hasBeneficiary> ?b }}"""))
    parties = {r[1].value for r in txs} | {r[2].value for r in txs}
    assert (frame.locator("g.node").count(), frame.locator("g.edge").count()) == (
        len(parties), len(txs))
    pg.wait_for_selector("#transactions tbody tr")
    assert int(pg.locator("#transactions").get_attribute("data-total")) == len(txs)
    pg.wait_for_selector("#chains table")
    (n,), = store.query(f"""SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ ?c a ?k .
        VALUES ?k {{ <{TYPE}SuspiciousChain> <{TYPE}HighValueChain> }}
        {{ ?c <{PROP}hasOriginator> <{party}> }} UNION
        {{ ?c <{PROP}hasBeneficiary> <{party}> }} }}""")
    assert int(pg.locator("#chains").get_attribute("data-total")) == int(n.value)
    shot(pg, tmp_path, "4-party")
    no_injection(pg)


def test_graph_of_a_30_transaction_chain(console: dict, page: object, tmp_path: Path) -> None:
    job, chain = line_chain_job(tmp_path / "line", console["root"], 30)
    pg = page
    pg.goto(f"{console['url']}jobs/{job}/chain?iri=" + chain.replace("#", "%23"))
    frame = pg.frame_locator("#graph")
    frame.locator("g.node").first.wait_for()
    assert (frame.locator("g.node").count(), frame.locator("g.edge").count()) == (31, 30)
    pg.wait_for_selector("#tx-table tbody tr")
    dates = [r[2] for r in cells(pg, "#tx-table")]
    assert len(dates) == 30 and dates == sorted(dates)  # date order
    red = frame.locator("g.node circle[fill='#d62728']").count()
    assert red == 2  # the two suspicious ends
    shot(pg, tmp_path, "7-chain30")
    node = frame.locator("g.node[data-iri$='party_line10']")
    before = node.get_attribute("transform")
    node.scroll_into_view_if_needed()
    box = node.locator("circle").bounding_box()
    pg.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    pg.mouse.down()
    pg.mouse.move(box["x"] + 60, box["y"] + 90, steps=5)
    pg.mouse.up()
    assert node.get_attribute("transform") != before  # show's own script runs (CSP hash)
    with pg.expect_navigation():  # a click on a node opens its party
        frame.locator("g.node[data-iri$='party_line05'] circle").click()
    assert pg.url.endswith("party_line05") and "/party?" in pg.url


def test_rerun_goes_through_the_queue(console: dict, page: object, tmp_path: Path) -> None:
    pg = page
    pg.goto(f"{console['url']}jobs/{console['job']}")
    pg.wait_for_selector("#rerun-params input[name=param_min_amount]")
    pg.fill("#rerun-params input[name=param_min_amount]", "250")
    pg.fill("#rerun-params input[name=param_max_chain_length]", "4")
    with pg.expect_navigation():
        pg.click("#rerun button[type=submit]")
    assert pg.url == console["url"], pg.locator("main").inner_text()
    queued = pg.locator("tr.job-row[data-status=queued]")
    queued.first.wait_for()
    assert "min_amount=250" in queued.first.inner_text()
    shot(pg, tmp_path, "8-queued")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    watcher = subprocess.Popen(
        [sys.executable, "-m", "graphcrime", "watch", str(console["inbox"]), "--output-root",
         str(console["root"]), "--serve-root", str(console["inbox"].parent), "--once",
         "--poll-interval", "0.2"], env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        # the page updates by itself: no reload from here on
        done = pg.locator("tr.job-row[data-status=succeeded]:has-text('min_amount=250')")
        done.first.wait_for(timeout=120_000)
    finally:
        watcher.wait(timeout=120)
    assert watcher.returncode == 0
    assert pg.locator("tr.job-row[data-status=queued]").count() == 0
    assert "max_chain_length=4" in done.first.inner_text()
    shot(pg, tmp_path, "9-rerun-done")
