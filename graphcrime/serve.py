"""A read-only SPARQL 1.1 Protocol endpoint over a job's results (stdlib ``http.server``).

``GET /sparql?query=...``, ``POST /sparql`` with a form (``query=...``) or a raw
``application/sparql-query`` body. The result format follows ``Accept`` (SPARQL JSON, CSV,
TSV, XML; N-Triples or Turtle for CONSTRUCT/DESCRIBE); updates are refused with 400.

>>> media_format("text/csv, */*;q=0.1", "select")
('csv', 'text/csv; charset=utf-8')
>>> media_format("", "graph")
('nt', 'application/n-triples')
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from graphcrime.errors import GraphcrimeError

#: media type -> (serializer format, Content-Type sent back)
MEDIA = {
    "application/sparql-results+json": ("json", "application/sparql-results+json"),
    "application/json": ("json", "application/sparql-results+json"),
    "text/csv": ("csv", "text/csv; charset=utf-8"),
    "text/tab-separated-values": ("tsv", "text/tab-separated-values; charset=utf-8"),
    "application/sparql-results+xml": ("xml", "application/sparql-results+xml"),
    "application/xml": ("xml", "application/sparql-results+xml"),
    "text/xml": ("xml", "application/sparql-results+xml"),
    "application/n-triples": ("nt", "application/n-triples"),
    "text/plain": ("nt", "application/n-triples"),
    "text/turtle": ("ttl", "text/turtle; charset=utf-8"),
}
_GRAPH_FORMATS = {"nt", "ttl"}
_UPDATE_WORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD")


def media_format(accept: str, kind: str) -> tuple[str, str]:
    """(format, content type) for an ``Accept`` header and a result kind, by q-value order."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        q = 1.0
        for f in fields[1:]:
            if f.startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        ranked.append((-q, i, fields[0].lower()))
    graph = kind == "graph"
    for _, _, media in sorted(ranked):
        hit = MEDIA.get(media)
        if hit and (hit[0] in _GRAPH_FORMATS) == graph:
            return hit
    return MEDIA["application/n-triples"] if graph else MEDIA["application/sparql-results+json"]


def looks_like_update(text: str) -> bool:
    """True when a request text is a SPARQL Update (prologue and comments skipped)."""
    import re

    body = re.sub(r"<[^>\s]*>|#[^\n]*", lambda m: m[0] if m[0][0] == "<" else " ", text)
    body = re.sub(r"(?is)^\s*((PREFIX\s+\S*\s*<[^>]*>|BASE\s*<[^>]*>)\s*)*", "", body)
    return body.lstrip().upper().startswith(_UPDATE_WORDS)


class Endpoint:
    """The query side: one store, one lock (a DuckDB connection serves one query at a time)."""

    def __init__(self, results: Any) -> None:
        self.results = results
        self.lock = threading.Lock()

    def answer(self, query: str, accept: str) -> tuple[int, str, bytes]:
        """(HTTP status, content type, body) for one query text."""
        if looks_like_update(query):
            return 400, "text/plain; charset=utf-8", b"this endpoint is read-only: SPARQL " \
                b"Update is refused\n"
        try:
            with self.lock:
                result = self.results.query(query)
                fmt, ctype = media_format(accept, result.kind)
                body = result.serialize(fmt)
        except GraphcrimeError as e:
            return 400, "text/plain; charset=utf-8", (str(e) + "\n").encode()
        return 200, ctype, body


def make_handler(endpoint: Endpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "graphcrime-sparql"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            pass

        def _send(self, status: int, ctype: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _bad(self, status: int, text: str) -> None:
            self._send(status, "text/plain; charset=utf-8", (text + "\n").encode())

        def _run(self, params: dict[str, list[str]], raw: str | None = None) -> None:
            if "update" in params:
                return self._bad(400, "this endpoint is read-only: SPARQL Update is refused")
            queries = params.get("query", [])
            if raw is not None:
                queries = [raw]
            if len(queries) != 1:
                return self._bad(400, "give exactly one query (?query=... or a POST body)")
            self._send(*endpoint.answer(queries[0], self.headers.get("Accept", "")))

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            url = urlparse(self.path)
            if url.path != "/sparql":
                return self._bad(404, "the SPARQL endpoint is at /sparql")
            self._run(parse_qs(url.query))

        do_HEAD = do_GET  # noqa: N815

        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            url = urlparse(self.path)
            if url.path != "/sparql":
                return self._bad(404, "the SPARQL endpoint is at /sparql")
            size = int(self.headers.get("Content-Length") or 0)
            text = self.rfile.read(size).decode("utf-8", "replace")
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if ctype == "application/x-www-form-urlencoded":
                return self._run(parse_qs(text))
            if ctype == "application/sparql-query":
                return self._run(parse_qs(url.query), raw=text)
            if ctype == "application/sparql-update":
                return self._bad(400, "this endpoint is read-only: SPARQL Update is refused")
            self._bad(415, "POST a form (query=...) or an application/sparql-query body")

    return Handler


def make_server(job_dir: str | Path, host: str = "127.0.0.1", port: int = 7878, *,
                with_inputs: bool = False) -> ThreadingHTTPServer:
    """A server (not yet serving) over a job's results; ``port=0`` picks a free port."""
    from graphcrime.results import JobResults

    endpoint = Endpoint(JobResults(job_dir, with_inputs=with_inputs))
    server = ThreadingHTTPServer((host, port), make_handler(endpoint))
    server.daemon_threads = True
    server.endpoint = endpoint  # type: ignore[attr-defined]
    return server


@contextmanager
def serving(job_dir: str | Path, host: str = "127.0.0.1", port: int = 0, *,
            with_inputs: bool = False) -> Iterator[str]:
    """Serve a job's results on a background thread; yields the endpoint URL (tests, notebooks).

    ``with serving(job) as url: SPARQLWrapper(url)...``; the server stops on leaving.
    """
    server = make_server(job_dir, host, port, with_inputs=with_inputs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    h, p = server.server_address[:2]
    try:
        yield f"http://{h if isinstance(h, str) else h.decode()}:{p}/sparql"
    finally:
        server.shutdown()
        server.server_close()
        server.endpoint.results.close()  # type: ignore[attr-defined]
        thread.join(timeout=10)
