"""The console in a real browser: click from the jobs page to a job, a chain and a party,
check the graph against pyoxigraph, run SPARQL, filter the chains table, and look for
script injection through the hostile party names. Screenshots go to ``tmp_path`` (or to
``$GRAPHCRIME_SCREENSHOTS``) and must not be blank."""

from __future__ import annotations

import os
from pathlib import Path

import pyoxigraph as ox
import pytest

from graphcrime.vocab import PROP, TYPE

pytestmark = pytest.mark.slow


def oxstore(*files: Path) -> ox.Store:
    store = ox.Store()
    for f in files:
        store.bulk_load(path=str(f), format=ox.RdfFormat.N_TRIPLES)
    return store


def job_store(console: dict) -> ox.Store:
    """pyoxigraph over the job's results and its input data: the independent oracle."""
    files = sorted((console["folder"] / "results").glob("*.nt"))
    files += sorted((console["served"] / "data").glob("*.nt"))
    return oxstore(*files)


def shot(page: object, tmp_path: Path, name: str) -> Path:
    folder = Path(os.environ.get("GRAPHCRIME_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
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
    pg.goto(console["url"])  # type: ignore[attr-defined]
    link = pg.locator(f"a.job-link:text-is('{console['job']}')")  # type: ignore[attr-defined]
    link.wait_for()
    shot(pg, tmp_path, "1-jobs")
    link.click()
    pg.wait_for_selector("#chains table tbody tr")  # type: ignore[attr-defined]
    pg.wait_for_selector("#summary dl")  # type: ignore[attr-defined]
    shot(pg, tmp_path, "2-job")
    store = job_store(console)
    shown = [a.get_attribute("title") for a in pg.locator("#chains a.chain-link").all()]  # type: ignore[attr-defined]
    assert shown[:5] == top_chains(store, 5)
    pg.locator("#chains a.chain-link").first.click()  # type: ignore[attr-defined]
    pg.wait_for_selector("#tx-table tbody tr")  # type: ignore[attr-defined]
    chain = shown[0]
    frame = pg.frame_locator("#graph")  # type: ignore[attr-defined]
    frame.locator("g.node").first.wait_for()
    nodes = frame.locator("g.node").count()
    edges = frame.locator("g.edge").count()
    txs = list(store.query(f"SELECT ?t ?o ?b WHERE {{ <{chain}> <{PROP}containsTransaction> ?t . "
                           f"?t <{PROP}hasOriginator> ?o ; <{PROP}hasBeneficiary> ?b }}"))
    parties = {r[1].value for r in txs} | {r[2].value for r in txs}
    assert (nodes, edges) == (len(parties), len(txs))
    assert pg.locator("#tx-table tbody tr").count() == len(txs)  # type: ignore[attr-defined]
    assert pg.locator("#explanation pre").count() >= 1  # type: ignore[attr-defined]
    assert "high-value-chains.dlog:" in pg.locator("#explanation").inner_text()  # type: ignore[attr-defined]
    shot(pg, tmp_path, "3-chain")
    assert not pg.dialogs and not pg.errors  # type: ignore[attr-defined]
