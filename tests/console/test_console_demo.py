"""The README's promise: `graphcrime demo`, then `graphcrime console --output-root
graphcrime-demo/results`, open the page, and the demo's top chains are two clicks away."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.console.conftest import start_console, stop
from tests.console.jobs import REPO
from tests.console.test_console_browser import shot

pytestmark = pytest.mark.slow
TOP = re.compile(r"^([* ]) (party_\w+)\s+(party_\w+)\s+(\d+)\s+([\d,.]+)\s+([\d,.]+)$")


def test_demo_then_console(page: object, tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "graphcrime", "demo", "--out",
                          str(tmp_path / "graphcrime-demo")], capture_output=True, text=True,
                         check=True, cwd=tmp_path, env={"PYTHONPATH": str(REPO),
                                                        "PATH": "/usr/bin:/bin"}).stdout
    printed = [m.groups() for line in out.splitlines() if (m := TOP.match(line))]
    assert len(printed) == 5, out
    proc, url = start_console("--output-root", str(tmp_path / "graphcrime-demo" / "results"))
    try:
        pg = page
        pg.goto(url)  # open the page
        pg.locator("a.job-link").first.click()  # click 1: the demo's job
        pg.wait_for_selector("#chains tbody tr")
        rows = pg.evaluate("""() => [...document.querySelectorAll('#chains tbody tr')]
            .slice(0, 5).map(tr => [...tr.children].map(td => {
              const a = td.querySelector('a'); return a ? a.title : td.textContent; }))""")
        shown = [(r[1].rsplit("#", 1)[-1], r[2].rsplit("#", 1)[-1], r[3], r[5]) for r in rows]
        assert shown == [(o, b, n, final) for _, o, b, n, _, final in printed]
        shot(pg, tmp_path, "demo-job")
        pg.locator("#chains a.chain-link").first.click()  # click 2: the top chain
        pg.wait_for_selector("#tx-table tbody tr")
        assert pg.locator("#tx-table tbody tr").count() == int(printed[0][3])
        assert printed[0][1] in pg.locator("#summary").inner_html()
        shot(pg, tmp_path, "demo-chain")
    finally:
        stop(proc)
