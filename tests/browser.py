"""A real browser for tests: the system Chromium driven by Python Playwright.

Import the fixtures into a test module (``tests/`` must be on ``sys.path``, as the
``conftest.py`` files of ``tests/investigate`` arrange)::

    from browser import browser, page  # noqa: F401  (pytest fixtures)

    def test_picture(page):
        page.goto(path.as_uri())
        assert measure_labels(page)["overlaps"] == 0

``browser`` (one per session) skips the test, with the reason, only when no browser can be
launched: Playwright missing, or no Chromium at ``$GRAPHCRIME_CHROMIUM`` (default
``/usr/bin/chromium``; ``.ci/run`` installs Debian's package when it is missing).
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = os.environ.get("GRAPHCRIME_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 900}


_SHARED: dict[str, Any] = {}


def shared_browser() -> Any:
    """The test process's one Chromium (Playwright ``Browser``), launched on first use, or a
    skip saying why there is none. Two sync Playwrights cannot run in one process, so every
    browser fixture (this module's, tests/console's) goes through here."""
    if "skip" in _SHARED:
        pytest.skip(_SHARED["skip"])
    if "browser" in _SHARED:
        return _SHARED["browser"]
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:
        _SHARED["skip"] = (f"no browser: Python Playwright is not installed ({e}); "
                           "pip install -e '.[test]'")
        pytest.skip(_SHARED["skip"])
    if not os.path.exists(CHROMIUM):
        _SHARED["skip"] = (f"no browser: {CHROMIUM} does not exist (apt-get install chromium, "
                           "or set GRAPHCRIME_CHROMIUM)")
        pytest.skip(_SHARED["skip"])
    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    except Exception as e:  # noqa: BLE001 - any launch failure means "no browser here"
        pw.stop()
        _SHARED["skip"] = f"no browser: {CHROMIUM} did not start: {str(e).splitlines()[0]}"
        pytest.skip(_SHARED["skip"])
    _SHARED.update(playwright=pw, browser=b)
    atexit.register(_close)
    return b


def _close() -> None:
    try:
        _SHARED["browser"].close()
        _SHARED["playwright"].stop()
    except Exception:  # noqa: BLE001 - the process is ending anyway
        pass


@pytest.fixture(scope="session")
def browser() -> Any:
    """A launched Chromium (Playwright ``Browser``), or a skip saying why there is none."""
    return shared_browser()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh 1400x900 page; JavaScript errors on it fail the test at teardown."""
    pg = browser.new_page(viewport=VIEWPORT)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield pg
    finally:
        pg.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


#: JavaScript: visible text labels of ``svg.gc-graph`` pictures, overlapping pairs of their
#: bounding boxes, edge labels whose box holds no point of their own edge, and text boxes
#: sticking out of their background box.
MEASURE_LABELS = """() => {
  const shown = el => el.getBoundingClientRect().width > 0;
  const texts = [...document.querySelectorAll('svg.gc-graph text')].filter(shown);
  const boxes = texts.map(t => t.getBoundingClientRect());
  let overlaps = 0;
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) overlaps++;
  }
  let offEdge = 0, edgeLabels = 0, outside = 0;
  for (const e of document.querySelectorAll('svg.gc-graph g.edge')) {
    const text = e.querySelector('g.label text');
    if (!shown(text)) continue;
    edgeLabels++;
    const box = text.getBoundingClientRect(), path = e.querySelector('path');
    const m = path.getScreenCTM(), len = path.getTotalLength();
    let on = false;
    for (let i = 0; i <= 400 && !on; i++) {
      const p = path.getPointAtLength(len * i / 400).matrixTransform(m);
      on = p.x >= box.left && p.x <= box.right && p.y >= box.top && p.y <= box.bottom;
    }
    if (!on) offEdge++;
  }
  for (const t of texts) {
    const r = t.parentNode.querySelector('rect').getBoundingClientRect(),
          b = t.getBoundingClientRect();
    if (b.left < r.left - 0.5 || b.right > r.right + 0.5) outside++;
  }
  return {labels: texts.length, edgeLabels, overlaps, offEdge, outside,
          hidden: document.querySelectorAll('svg.gc-graph g.label.hidden').length};
}"""


def measure_labels(page: Any) -> dict[str, int]:
    """Run :data:`MEASURE_LABELS` on the page (after its fonts have loaded)."""
    page.evaluate("document.fonts.ready.then(() => true)")
    return page.evaluate(MEASURE_LABELS)
