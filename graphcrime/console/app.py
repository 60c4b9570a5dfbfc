"""The console's web application (Starlette): HTML pages, a JSON API, downloads, submit.

``make_app(roots)`` returns the ASGI app; :func:`graphcrime.console.serve` runs it with
uvicorn. Pages are shells (:mod:`~graphcrime.console.pages`) that ``static/console.js``
fills from ``/api/...``; tables are paged on the server (:mod:`~graphcrime.console.tables`).

Security: only the ``Host`` names the console was bound for are answered (no DNS
rebinding); every response forbids scripts from anywhere but ``/static`` (the graph frame
allows exactly the script ``graphcrime show`` writes, by its hash); job ids and file names
from URLs go through :class:`~graphcrime.console.roots.Roots`; submit is a POST with the
page's CSRF token and a same-origin ``Origin``, refused unless ``allow_submit``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from graphcrime.console import details, pages
from graphcrime.console.jobdata import JobCache, JobData
from graphcrime.console.jobindex import JobIndex, job_row, store_rows
from graphcrime.console.roots import NotFound, Roots
from graphcrime.console.submit import Csrf, rerun_spec
from graphcrime.errors import GraphcrimeError
from graphcrime.results import PREFIXES

STATIC = Path(__file__).with_name("static")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "frame-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'; "
       "object-src 'none'")
MAX_FORM = 64 << 10
DEFAULT_QUERY = """SELECT ?chain ?length ?final_amount WHERE {
  ?chain a type:HighValueChain ; prop:hasLength ?length ; prop:hasFinalAmount ?final_amount .
} ORDER BY DESC(?final_amount) LIMIT 100"""


def graph_csp(page: str) -> str:
    """The graph frame's policy: only the inline scripts that ``graphcrime show``'s page
    module defines as constants (hashed), never text built from data."""
    from graphcrime.investigate import html_page

    hashes = sorted({base64.b64encode(hashlib.sha256(v.encode()).digest()).decode()
                     for v in vars(html_page).values()
                     if isinstance(v, str) and len(v) > 20 and f"<script>{v}</script>" in page})
    scripts = " ".join(f"'sha256-{h}'" for h in hashes) or "'none'"
    return (f"default-src 'none'; script-src {scripts}; style-src 'unsafe-inline'; "
            "frame-ancestors 'self'; base-uri 'none'; form-action 'none'")


class Headers:
    """ASGI middleware: refuse unknown ``Host`` names; security headers on every response."""

    def __init__(self, app: Any, hosts: set[str] | None) -> None:
        self.app, self.hosts = app, hosts

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if self.hosts is not None and name.strip("[]") not in self.hosts:
            return await Response("unknown Host\n", 421)(scope, receive, send)

        async def with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                have = {k.lower() for k, _ in headers}
                extra = {b"content-security-policy": CSP.encode(),
                         b"x-content-type-options": b"nosniff",
                         b"referrer-policy": b"same-origin", b"x-frame-options": b"SAMEORIGIN",
                         b"cache-control": b"no-store"}
                headers += [(k, v) for k, v in extra.items() if k not in have]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def error_json(e: GraphcrimeError, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": e.message, "line": e.line, "col": e.col, "hint": e.hint,
                         "where": str(e.position) if e.line else None}, status)


def _int(value: str | None, default: int | None = None) -> int | None:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def prefixes_of(data: JobData) -> str:
    """The PREFIX lines of the job's query files (else graphcrime's usual ones)."""
    lines: dict[str, str] = {}
    try:
        for path in data.res.spec_paths("queries"):
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip().upper().startswith("PREFIX"):
                    lines.setdefault(line.split()[1] if len(line.split()) > 1 else line,
                                     line.strip())
    except (GraphcrimeError, OSError):
        pass
    text = "\n".join(lines.values()) if lines else PREFIXES.strip()
    if "rdfs:" not in text:
        text += "\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>"
    return text + "\n\n"


def make_app(roots: Roots, *, allow_submit: bool = False, hosts: set[str] | None = None,
             with_inputs: bool = True, cache_size: int = 3) -> Any:
    """The console over ``roots``; ``hosts``: Host names answered (None: any)."""
    index = JobIndex(roots.output_root, roots.inbox)
    cache = JobCache(cache_size, with_inputs=with_inputs)
    csrf = Csrf()

    def job(request: Request) -> tuple[str, Path]:
        job_id = request.path_params["job"]
        return job_id, roots.job_dir(job_id)

    def data_of(request: Request) -> JobData:
        return cache.get(job(request)[1])

    def iri_of(request: Request) -> str:
        return details.check_iri(request.query_params.get("iri"))

    # -- pages ----------------------------------------------------------------------------
    def jobs_page(request: Request) -> Response:
        return HTMLResponse(pages.jobs_page(str(roots.inbox) if roots.inbox else None,
                                            allow_submit))

    def job_page(request: Request) -> Response:
        job_id, _ = job(request)
        return HTMLResponse(pages.job_page(job_id, allow_submit and roots.inbox is not None,
                                           csrf.token))

    def detail_page(kind: str) -> Any:
        def page(request: Request) -> Response:
            job_id, _ = job(request)
            return HTMLResponse(pages.detail_page(kind, job_id, iri_of(request)))
        return page

    def resource(request: Request) -> Response:
        job_id, _ = job(request)
        iri = iri_of(request)
        kind = details.kind_of(data_of(request), iri)
        if kind == "resource":
            kind = "transaction"  # the facts page shows any subject
        return RedirectResponse(f"/jobs/{quote(job_id)}/{kind}?iri={quote(iri, safe='')}", 303)

    def sparql_page(request: Request) -> Response:
        job_id, _ = job(request)
        return HTMLResponse(pages.sparql_page(job_id, prefixes_of(data_of(request))
                                              + DEFAULT_QUERY))

    def graph(request: Request) -> Response:
        hops = 2 if request.query_params.get("hops") == "2" else 1
        try:
            text = details.graph_html(data_of(request), iri_of(request), hops)
        except GraphcrimeError as e:
            return HTMLResponse(pages.frame_message(e.message + (f" ({e.hint})" if e.hint
                                                                 else "")))
        return HTMLResponse(text, headers={"content-security-policy": graph_csp(text)})

    def download(request: Request) -> Response:
        job_id, _ = job(request)
        path = roots.result_file(job_id, request.path_params["name"])
        media = "application/n-triples" if ".nt" in path.name else "text/csv"
        return FileResponse(path, media_type=media, filename=path.name)

    def chains_csv(request: Request) -> Response:
        body = data_of(request).chains_csv(dict(request.query_params))
        return Response(body, media_type="text/csv; charset=utf-8", headers={
            "content-disposition": f'attachment; filename="{job(request)[0]}-chains.csv"'})

    async def submit(request: Request) -> Response:
        if not allow_submit or roots.inbox is None:
            return HTMLResponse(pages.message_page(403, "submitting is off: start the console "
                                                   "with --inbox DIR --allow-submit"), 403)
        origin = request.headers.get("origin")
        if origin is not None and origin.split("://", 1)[-1] != request.headers.get("host"):
            return HTMLResponse(pages.message_page(403, "cross-site submit refused"), 403)
        body = await request.body()
        if len(body) > MAX_FORM:
            return HTMLResponse(pages.message_page(413, "form too large"), 413)
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"),
                                              keep_blank_values=True).items()}
        if not csrf.valid(form.pop("csrf", None)):
            return HTMLResponse(pages.message_page(403, "missing or wrong CSRF token: reload "
                                                   "the job page and submit again"), 403)
        _, folder = job(request)
        changes = {k.removeprefix("param_"): v for k, v in form.items()
                   if k.startswith("param_")}
        new_name, new_value = form.get("new_name", "").strip(), form.get("new_value", "")
        if new_name:
            changes[new_name] = new_value
        try:
            rerun_spec(folder, roots.inbox, changes)
        except GraphcrimeError as e:
            return HTMLResponse(pages.message_page(400, str(e)), 400)
        return RedirectResponse("/", 303)

    # -- API --------------------------------------------------------------------------------
    def api_jobs(request: Request) -> Response:
        return JSONResponse({"rows": index.rows(), "inbox": roots.inbox is not None,
                             "stores": store_rows(roots.store_root)})

    def api_job(request: Request) -> Response:
        job_id, folder = job(request)
        data = cache.get(folder)
        status = json.loads((folder / "status.json").read_text(encoding="utf-8"))
        stats_path = folder / "stats.json"
        stats = json.loads(stats_path.read_text(encoding="utf-8")) if stats_path.is_file() else {}
        rows = {Path(r.get("file", "")).name: r.get("rows") for r in status.get("results", [])}
        params = job_row(folder)["parameters"]
        return JSONResponse({
            "id": job_id, "status": status.get("status"), "started": status.get("started"),
            "finished": status.get("finished"), "seconds": status.get("seconds"),
            "counts": status.get("counts"), "error": status.get("error"), "stats": stats,
            "parameters": params, "results": [{"name": n, "rows": rows.get(n)}
                                              for n in data.result_names()],
            "chains": data.chain_count, "parties": data.party_count,
            "inputs": data.has_inputs, "notes": data.notes})

    def api_chains(request: Request) -> Response:
        qp = request.query_params
        return JSONResponse(data_of(request).chains(
            dict(qp), offset=_int(qp.get("offset"), 0) or 0, limit=_int(qp.get("limit"), 50)
            or 50, sort=qp.get("sort"), desc=qp.get("desc") == "1"))

    def page_args(qp: Any) -> dict[str, Any]:
        return {"offset": _int(qp.get("offset"), 0), "limit": _int(qp.get("limit"), 50),
                "sort": _int(qp.get("sort")), "desc": qp.get("desc") == "1"}

    def api_table(request: Request) -> Response:
        job_id, _ = job(request)
        path = roots.result_file(job_id, request.path_params["name"])
        table = data_of(request).file_table(path.name, path)
        return JSONResponse(table.page(**page_args(request.query_params)))

    def api_detail(kind: str) -> Any:
        fn = {"chain": details.chain, "party": details.party,
              "transaction": details.transaction}[kind]

        def endpoint(request: Request) -> Response:
            return JSONResponse(fn(data_of(request), iri_of(request)))
        return endpoint

    def api_party_transactions(request: Request) -> Response:
        data = data_of(request)
        table = details.query_table(data, details.transactions_query(iri_of(request)))
        return JSONResponse(table.page(**page_args(request.query_params)))

    async def api_sparql(request: Request) -> Response:
        try:
            doc = json.loads(await request.body() or b"{}")
        except ValueError:
            return JSONResponse({"error": "send a JSON body {\"query\": ...}"}, 400)
        text = doc.get("query") if isinstance(doc, dict) else None
        if not isinstance(text, str) or not text.strip():
            return JSONResponse({"error": "no query given"}, 400)
        from starlette.concurrency import run_in_threadpool

        def answer() -> Response:
            from graphcrime.serve import looks_like_update

            if looks_like_update(text):
                return JSONResponse({"error": "SPARQL Update is refused: the console is "
                                     "read-only", "line": 1, "col": 1}, 400)
            result = data_of(request).run_query(text)
            if result[0] == "ask":
                return JSONResponse({"kind": "ask", "ask": result[1]})
            page = result[1].page(**page_args(doc))
            return JSONResponse({"kind": "table", "engine": result[2], **page})
        try:
            return await run_in_threadpool(answer)
        except GraphcrimeError as e:
            return error_json(e)

    # -- errors -------------------------------------------------------------------------------
    async def not_found(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(exc) or "not found"}, 404)
        return HTMLResponse(pages.message_page(404, str(exc) or "not found"), 404)

    async def bad_input(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, GraphcrimeError)
        if request.url.path.startswith("/api/"):
            return error_json(exc)
        return HTMLResponse(pages.message_page(400, str(exc)), 400)

    j = "/jobs/{job}"
    routes = [
        Route("/", jobs_page), Route(j, job_page), Route(j + "/chain", detail_page("chain")),
        Route(j + "/party", detail_page("party")),
        Route(j + "/transaction", detail_page("transaction")),
        Route(j + "/resource", resource), Route(j + "/sparql", sparql_page),
        Route(j + "/graph", graph), Route(j + "/results/{name}", download),
        Route(j + "/chains.csv", chains_csv), Route(j + "/submit", submit, methods=["POST"]),
        Route("/api/jobs", api_jobs), Route("/api" + j, api_job),
        Route("/api" + j + "/chains", api_chains),
        Route("/api" + j + "/table/{name}", api_table),
        Route("/api" + j + "/chain", api_detail("chain")),
        Route("/api" + j + "/party", api_detail("party")),
        Route("/api" + j + "/party-transactions", api_party_transactions),
        Route("/api" + j + "/transaction", api_detail("transaction")),
        Route("/api" + j + "/sparql", api_sparql, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        yield
        cache.close()

    app = Starlette(routes=routes, exception_handlers={
        NotFound: not_found, 404: not_found, GraphcrimeError: bad_input}, lifespan=lifespan)
    app.state.cache, app.state.csrf, app.state.index = cache, csrf, index
    return Headers(app, hosts)
