"""The console over HTTP (a real ``graphcrime console`` process): confinement to the served
roots in every URL, Host checking, security headers, escaping, read-only SPARQL, submit."""

from __future__ import annotations

import http.client
import json
import re
import urllib.parse
from pathlib import Path

import pytest

from tests.console.conftest import start_console, stop

pytestmark = pytest.mark.slow
SECRET = "TOP-SECRET-0123456789"


def get(url: str, path: str, method: str = "GET", body: bytes | None = None,
        headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One raw request (the path is sent exactly as given: no normalisation)."""
    u = urllib.parse.urlsplit(url)
    con = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    try:
        con.request(method, path, body=body, headers=headers or {})
        r = con.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        con.close()


@pytest.fixture(scope="module")
def planted(console: dict) -> dict:
    """A secret file beside the output root and symlinks to it from inside the job folder."""
    root: Path = console["root"]
    secret = root.parent / "secret.nt"
    secret.write_text(f'<http://e/s> <http://e/p> "{SECRET}" .\n', encoding="utf-8")
    outside = root.parent / "outside-job"
    outside.mkdir(exist_ok=True)
    (outside / "status.json").write_text(json.dumps({"status": SECRET}), encoding="utf-8")
    (outside / "results").mkdir(exist_ok=True)
    (outside / "results" / "x.nt").write_text(secret.read_text(), encoding="utf-8")
    link_job = root / "linked_2021-01-01_001"
    if not link_job.exists():
        link_job.symlink_to(outside)
    leaky = root / "leaky_2021-01-01_001"
    if not leaky.exists():
        (leaky / "results").mkdir(parents=True)
        (leaky / "status.json").write_text(json.dumps({"status": "succeeded"}))
        (leaky / "results" / "leak.nt").symlink_to(secret)
    return {"secret": secret, "link_job": link_job.name, "leaky": leaky.name}


TRAVERSALS = ["..", "%2e%2e", "..%2f..%2fetc", "%2e%2e%2f%2e%2e%2fsecret.nt", ".", "...",
              "%2fetc%2fpasswd", "linked_2021-01-01_001", "outside-job", "~", "%00",
              "console_2021-01-01_001%2f..%2f..", ".tmp-x"]
ROUTES = ["/jobs/{job}", "/jobs/{job}/chain?iri=http://e/x", "/jobs/{job}/party?iri=http://e/x",
          "/jobs/{job}/transaction?iri=http://e/x", "/jobs/{job}/sparql",
          "/jobs/{job}/graph?iri=http://e/x", "/jobs/{job}/results/high-value-chains.nt",
          "/jobs/{job}/chains.csv", "/api/jobs/{job}", "/api/jobs/{job}/chains",
          "/api/jobs/{job}/table/high-value-chains.nt", "/api/jobs/{job}/chain?iri=http://e/x",
          "/api/jobs/{job}/party?iri=http://e/x", "/api/jobs/{job}/transaction?iri=http://e/x",
          "/api/jobs/{job}/party-transactions?iri=http://e/x"]


@pytest.mark.parametrize("route", ROUTES)
def test_no_job_outside_the_output_root(console: dict, planted: dict, route: str) -> None:
    for bad in TRAVERSALS:
        path = route.replace("{job}", bad)
        status, _, body = get(console["url"], path)
        assert status in (400, 404), (path, status)
        assert SECRET.encode() not in body


def test_no_job_with_links_out_of_the_root(console: dict, planted: dict) -> None:
    for path in [f"/api/jobs/{planted['leaky']}", f"/api/jobs/{planted['leaky']}/chains",
                 f"/api/jobs/{planted['leaky']}/table/leak.nt",
                 f"/jobs/{planted['leaky']}/results/leak.nt"]:
        status, _, body = get(console["url"], path)
        assert status in (400, 404), (path, status)
        assert SECRET.encode() not in body
    status, _, body = get(console["url"], f"/api/jobs/{planted['leaky']}/sparql", "POST",
                          json.dumps({"query": "SELECT * { ?s ?p ?o }"}).encode(),
                          {"Content-Type": "application/json"})
    assert status == 400 and SECRET.encode() not in body


FILES = ["..%2fstatus.json", "%2e%2e%2fstatus.json", "..", "%2e%2e",
         "..%2f..%2fsecret.nt", "%2fetc%2fpasswd", ".hidden"]


@pytest.mark.parametrize("prefix", ["/jobs/{job}/results/", "/api/jobs/{job}/table/"])
def test_no_result_file_outside_results(console: dict, planted: dict, prefix: str) -> None:
    for bad in FILES:
        path = prefix.replace("{job}", console["job"]) + bad
        status, _, body = get(console["url"], path)
        assert status in (400, 404), (path, status)
        assert SECRET.encode() not in body and b'"job_id"' not in body


@pytest.mark.parametrize("path", ["/static/../app.py", "/static/%2e%2e/app.py",
                                  "/static/..%2fapp.py", "/static/%2e%2e%2f%2e%2e%2fcli.py",
                                  "/static//etc/passwd", "/../../etc/passwd"])
def test_static_is_confined(console: dict, path: str) -> None:
    status, _, body = get(console["url"], path)
    assert status in (400, 404), (path, status)
    assert b"import" not in body and b"root:" not in body


def test_a_real_result_file_downloads(console: dict) -> None:
    status, headers, body = get(console["url"],
                                f"/jobs/{console['job']}/results/high-value-chains.nt")
    assert status == 200 and headers["content-type"].startswith("application/n-triples")
    assert body == (console["folder"] / "results" / "high-value-chains.nt").read_bytes()


def test_unknown_host_refused_and_headers_set(console: dict) -> None:
    status, _, _ = get(console["url"], "/api/jobs", headers={"Host": "evil.example:80"})
    assert status == 421  # DNS rebinding: another name pointing at 127.0.0.1
    status, headers, _ = get(console["url"], "/")
    assert status == 200
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("style-src")[0]
    assert headers["x-content-type-options"] == "nosniff"


def test_pages_escape_what_urls_carry(console: dict) -> None:
    iri = "http://e/x'&y"
    status, _, body = get(console["url"], f"/jobs/{console['job']}/chain?iri="
                          + urllib.parse.quote(iri, safe=""))
    assert status == 200
    assert b"x&#x27;&amp;y" in body and b"x'&y" not in body
    status, _, body = get(console["url"], f"/jobs/{console['job']}/chain?iri="
                          + urllib.parse.quote('http://e/"><script>alert(1)</script>', safe=""))
    assert status == 400 and b"<script>alert" not in body  # not an IRI
    status, _, body = get(console["url"], f"/jobs/{console['job']}/chain?iri="
                          + urllib.parse.quote("javascript:alert(1)", safe=""))
    assert status == 200 and b'href="javascript' not in body  # an IRI, never a link target


def test_hostile_names_arrive_as_json_text(console: dict) -> None:
    status, _, body = get(console["url"], f"/api/jobs/{console['job']}/chains?limit=500")
    doc = json.loads(body)
    labels = {r["originator_label"] for r in doc["rows"]} - {None}
    assert labels and labels <= set(console["names"].values())
    html_status, _, page = get(console["url"], f"/jobs/{console['job']}")
    assert html_status == 200 and b"onerror" not in page  # names are not in the HTML at all


def sparql(console: dict, query: str) -> tuple[int, dict]:
    status, _, body = get(console["url"], f"/api/jobs/{console['job']}/sparql", "POST",
                          json.dumps({"query": query}).encode(),
                          {"Content-Type": "application/json"})
    return status, json.loads(body)


@pytest.mark.parametrize("query, word", [
    ("INSERT DATA { <http://e/a> <http://e/b> <http://e/c> }", "Update"),
    ("PREFIX x: <http://e/>\nDELETE WHERE { ?s ?p ?o }", "Update"),
    ("LOAD <http://example.org/data.nt>", "Update"),
    ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", "SERVICE"),
    ("SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }", "FROM"),
])
def test_sparql_is_read_only(console: dict, query: str, word: str) -> None:
    status, doc = sparql(console, query)
    assert status == 400 and word.lower() in doc["error"].lower(), doc


def test_sparql_errors_have_line_and_column(console: dict) -> None:
    status, doc = sparql(console, "SELECT ?s\nWHERE { ?s ?p }")
    assert status == 400 and doc["line"] == 2 and doc["col"], doc


def post_submit(url: str, job: str, fields: dict[str, str],
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    body = urllib.parse.urlencode(fields).encode()
    status, _, out = get(url, f"/jobs/{job}/submit", "POST", body,
                         {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
    return status, out


def csrf_token(console: dict) -> str:
    _, _, page = get(console["url"], f"/jobs/{console['job']}")
    m = re.search(rb'name="csrf" value="([^"]+)"', page)
    assert m
    return m.group(1).decode()


def test_submit_needs_the_csrf_token_and_same_origin(console: dict) -> None:
    before = set(console["inbox"].glob("*.json"))
    status, _ = post_submit(console["url"], console["job"], {"param_min_amount": "5"})
    assert status == 403
    status, _ = post_submit(console["url"], console["job"],
                            {"csrf": "forged", "param_min_amount": "5"})
    assert status == 403
    status, _ = post_submit(console["url"], console["job"],
                            {"csrf": csrf_token(console), "param_min_amount": "5"},
                            {"Origin": "http://evil.example"})
    assert status == 403
    assert set(console["inbox"].glob("*.json")) == before
    status, _, _ = get(console["url"], f"/jobs/{console['job']}/submit")
    assert status == 405  # GET never submits


def test_submit_writes_a_rerun_spec(console: dict) -> None:
    before = set(console["inbox"].glob("*.json"))
    status, _ = post_submit(console["url"], console["job"],
                            {"csrf": csrf_token(console), "param_min_amount": "250",
                             "param_max_chain_length": "8", "new_name": "note",
                             "new_value": "rerun"})
    assert status == 303
    (new,) = set(console["inbox"].glob("*.json")) - before
    doc = json.loads(new.read_text())
    assert doc["parameters"] == {"min_amount": 250, "max_chain_length": 8, "note": "rerun"}
    # relative paths now start from the inbox and still name the same files
    data = (console["inbox"] / doc["data"][0]).resolve()
    assert data == (console["served"] / "data" / "*.nt*").resolve()
    new.unlink()


def test_submit_refused_when_off(console_job: dict, tmp_path: Path) -> None:
    proc, url = start_console("--output-root", str(console_job["root"]), "--inbox",
                              str(tmp_path))
    try:
        _, _, page = get(url, f"/jobs/{console_job['job']}")
        assert b'name="csrf"' not in page  # no form at all
        status, _ = post_submit(url, console_job["job"], {"param_min_amount": "5"})
        assert status == 403
        assert not list(tmp_path.glob("*.json"))
    finally:
        stop(proc)


def test_parallel_requests_share_the_job_safely(console: dict) -> None:
    """A chain page asks for its data and its graph at once; nothing may collide in DuckDB."""
    from concurrent.futures import ThreadPoolExecutor

    _, _, body = get(console["url"], f"/api/jobs/{console['job']}/chains?limit=5")
    chain = urllib.parse.quote(json.loads(body)["rows"][0]["chain"], safe="")
    j = console["job"]
    paths = [f"/api/jobs/{j}/chain?iri={chain}", f"/jobs/{j}/graph?iri={chain}",
             f"/api/jobs/{j}/chains?sort=length&offset=3", f"/api/jobs/{j}/table/"
             "high-value-chains.nt?offset=7", f"/jobs/{j}/chains.csv", "/api/jobs"] * 4
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda p: get(console["url"], p)[0], paths))
    assert statuses == [200] * len(paths)


def test_resource_links_go_to_the_right_page(console: dict) -> None:
    _, _, body = get(console["url"], f"/api/jobs/{console['job']}/chains?limit=1")
    row = json.loads(body)["rows"][0]
    _, _, body = get(console["url"], f"/api/jobs/{console['job']}/chain?iri="
                     + urllib.parse.quote(row["chain"], safe=""))
    tx = json.loads(body)["transactions"][0]["transaction"]
    for iri, kind in ((row["chain"], "chain"), (row["originator"], "party"),
                      (tx, "transaction")):
        status, headers, _ = get(console["url"], f"/jobs/{console['job']}/resource?iri="
                                 + urllib.parse.quote(iri, safe=""))
        assert status == 303 and headers["location"].split("?")[0].endswith("/" + kind)


@pytest.mark.parametrize("args, message", [
    (["--output-root", "/nonexistent/out"], "no such folder"),
    (["--output-root", ".", "--allow-submit"], "--allow-submit needs --inbox"),
])
def test_console_cli_refuses_bad_arguments(args: list[str], message: str) -> None:
    import subprocess
    import sys

    from tests.console.jobs import REPO

    out = subprocess.run([sys.executable, "-m", "graphcrime", "console", *args],
                         capture_output=True, text=True, env={"PYTHONPATH": str(REPO)})
    assert out.returncode == 2 and message in out.stderr


def test_graph_frame_allows_only_show_s_own_script(console: dict) -> None:
    import base64
    import hashlib

    from graphcrime.investigate.html_page import SCRIPT

    _, _, body = get(console["url"], f"/api/jobs/{console['job']}/chains?limit=1")
    chain = urllib.parse.quote(json.loads(body)["rows"][0]["chain"], safe="")
    status, headers, page = get(console["url"], f"/jobs/{console['job']}/graph?iri={chain}")
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    assert status == 200 and b'class="node"' in page
    assert f"script-src 'sha256-{digest}';" in headers["content-security-policy"]
