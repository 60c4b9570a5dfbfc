"""Fixtures of the console tests: a real job, a real console process, a real browser.

``console_job``: a small generated dataset (planted typologies) whose suspicious parties
are renamed to hostile strings (quotes, angle brackets, scripts, accents, non-Latin text),
run through the reference job into an output root. ``console``: ``graphcrime console`` in a
subprocess on a free port. ``page``: a headless Chromium page (Playwright driving the
system browser); the tests skip only when no browser can be launched.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.console.jobs import reference_spec

REPO = Path(__file__).resolve().parents[2]
#: Names given to the suspicious parties (every one starts a chain): XSS probes, quotes,
#: accents and non-Latin scripts.
HOSTILE = [
    '<img src=x onerror="window.__xss=1">Zoë "Zed" O\'Brien',
    "</script><script>window.__xss=2</script>Łukasz & Søren",
    '"><svg onload=window.__xss=3>عبدالله "عبد" بني رشيد',
    "徐秀兰 <b>bold</b> ' OR 1=1 --",
    "javascript:window.__xss=4 श्यामा सरकार",
]
BROWSER_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]


def nt_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


@pytest.fixture(scope="session")
def console_job(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``{"root", "job", "folder", "served", "names"}`` of one finished reference job
    (3,000 transactions, 2% of the parties suspicious: a few hundred chains)."""
    from generator import generate
    from graphcrime.runner.pipeline import run_job

    served = tmp_path_factory.mktemp("served")
    generate(served / "data", transactions=3000, suspicious_fraction=0.02, seed=5, force=True)
    parties = next((served / "data").glob("parties*.nt"))
    lines = parties.read_text(encoding="utf-8").splitlines()
    sus = sorted({ln.split(" ", 1)[0] for ln in lines
                  if "#isSuspicious> \"true\"" in ln})
    names = {iri: HOSTILE[i % len(HOSTILE)] + f" #{i}" for i, iri in enumerate(sus)}
    out = []
    for line in lines:
        s, p, _ = line.split(" ", 2)
        if s in names and p.endswith(("#label>", "#hasFullName>")):
            line = f'{s} {p} "{nt_escape(names[s])}" .'
        out.append(line)
    parties.write_text("\n".join(out) + "\n", encoding="utf-8")
    spec = reference_spec(served, {"min_amount": 100, "max_chain_length": 10})
    root = tmp_path_factory.mktemp("out")
    job = run_job(spec, root)
    assert job.exit_code == 0, job.status
    return {"root": root, "job": job.job_id, "folder": job.folder, "served": served,
            "names": {k.strip("<>"): v for k, v in names.items()}}


def start_console(*args: str) -> tuple[subprocess.Popen, str]:
    """``graphcrime console ARGS --port 0`` in a subprocess; (process, base URL)."""
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "graphcrime", "console", *args, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    m = re.search(r"(http://\S+/)", line)
    if not m:
        proc.kill()
        raise AssertionError(f"console did not start: {line}{proc.stdout.read()}")
    url = m.group(1)
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # never let the pipe fill
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "api/jobs", timeout=5).read()
            break
        except OSError:
            time.sleep(0.1)
    return proc, url


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


@pytest.fixture(scope="session")
def console(console_job: dict, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A running console over ``console_job``'s output root, with an inbox and submit on."""
    inbox = tmp_path_factory.mktemp("inbox")
    proc, url = start_console("--output-root", str(console_job["root"]), "--inbox", str(inbox),
                              "--allow-submit")
    try:
        yield {**console_job, "url": url, "inbox": inbox, "proc": proc}
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def browser() -> object:
    """The process's one Chromium (tests/browser.py: two sync Playwrights cannot coexist)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from browser import shared_browser

    return shared_browser()


@pytest.fixture
def page(browser: object, tmp_path: Path) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    pg = context.new_page()
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.dialogs, pg.errors = dialogs, errors
    yield pg
    context.close()
