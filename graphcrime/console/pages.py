"""The console's HTML pages: small server-made shells that ``static/console.js`` fills in.

Every value written here goes through :func:`html.escape`; everything else reaches the
page as JSON and is put in with ``textContent`` (never as HTML), so names with quotes,
angle brackets or any script stay text.

>>> '<script>' in shell("jobs", "Jobs <script>", {"job": '"x"'}, "")
False
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

NAV = '<a href="/">Jobs</a>'


def shell(page: str, title: str, data: dict[str, str], body: str, crumbs: str = "") -> str:
    """A whole page: ``data`` becomes ``data-*`` attributes of ``<body>`` for the script."""
    attrs = "".join(f' data-{k}="{escape(v)}"' for k, v in data.items())
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} - graphcrime console</title>"
        '<link rel="stylesheet" href="/static/console.css"></head>'
        f'<body data-page="{escape(page)}"{attrs}>'
        f'<header><span class="brand">graphcrime console</span> {NAV}{crumbs}</header>'
        f'<main><h1 id="title">{escape(title)}</h1>{body}</main>'
        '<script src="/static/console.js"></script></body></html>\n')


def job_crumb(job_id: str) -> str:
    return f' / <a href="/jobs/{quote(job_id)}">{escape(job_id)}</a>'


def jobs_page(inbox: str | None, submit: bool) -> str:
    where = (f"Specs in the inbox {escape(inbox)} and its queue are listed too."
             if inbox else "Start with --inbox DIR to list the watched folder's specs too.")
    body = (f'<p class="note">Every job of the output root, newest first. {where} '
            'The list updates by itself.</p>'
            '<p class="muted">Updated <span id="updated">never</span></p>'
            '<div id="jobs" class="tablebox"></div>'
            '<section id="stores-box" hidden><h2>Stores</h2><ul id="stores"></ul></section>')
    return shell("jobs", "Jobs", {"submit": "1" if submit else ""}, body)


def job_page(job_id: str, submit: bool, csrf: str) -> str:
    rerun = ""
    if submit:
        rerun = (f'<section id="rerun-box"><h2>Run again with other parameters</h2>'
                 f'<form id="rerun" method="post" action="/jobs/{quote(job_id)}/submit">'
                 f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
                 '<div id="rerun-params"></div>'
                 '<p><label>new parameter <input name="new_name" size="16"></label> = '
                 '<input name="new_value" size="16"></p>'
                 '<button type="submit">Drop the spec into the inbox</button></form>'
                 '<p class="muted">The new spec goes through the queue like any other; it '
                 'appears on the jobs page.</p></section>')
    body = (
        '<section id="summary"><p>Loading the job\'s results...</p></section>'
        f'<p class="links"><a id="sparql-link" href="/jobs/{quote(job_id)}/sparql">'
        'SPARQL editor</a></p>'
        '<section><h2>Chains</h2>'
        '<form id="chain-filters" class="filters">'
        '<label><input type="checkbox" name="high_value" value="1"> high value only</label>'
        '<label>party <input name="party" size="18" placeholder="name or IRI"></label>'
        '<label>length <input name="length_min" size="3" inputmode="numeric"> to '
        '<input name="length_max" size="3" inputmode="numeric"></label>'
        '<label>final amount <input name="amount_min" size="9" inputmode="decimal"> to '
        '<input name="amount_max" size="9" inputmode="decimal"></label>'
        '<button type="submit">Filter</button> <button type="reset">Clear</button>'
        ' <a id="chains-csv" href="#">CSV</a></form>'
        '<div id="chains" class="tablebox"></div></section>'
        '<section><h2>Query results</h2><div id="results"></div></section>'
        f"{rerun}")
    return shell("job", job_id, {"job": job_id}, body, job_crumb(job_id))


def detail_page(kind: str, job_id: str, iri: str) -> str:
    """The chain, party or transaction page (``kind``)."""
    graph = ""
    if kind in ("chain", "party"):
        src = f"/jobs/{quote(job_id)}/graph?iri={quote(iri, safe='')}"
        graph = (f'<section><h2>Graph</h2><iframe id="graph" title="graph" src="{escape(src)}">'
                 '</iframe><p class="muted">As <code>graphcrime show</code> draws it: date '
                 'order, suspicious parties red, amounts and dates on the edges; drag nodes, '
                 'click one to open its party.</p></section>')
    sections = {
        "chain": ('<section id="summary"></section>' + graph
                  + '<section><h2>Transactions</h2><div id="transactions" class="tablebox">'
                  '</div></section><section><h2>Explanation</h2><div id="explanation"></div>'
                  '</section>'),
        "party": ('<section id="summary"></section>' + graph
                  + '<section><h2>Chains from or to this party</h2>'
                  '<div id="chains" class="tablebox"></div></section>'
                  '<section><h2>Transactions</h2><div id="transactions" class="tablebox">'
                  '</div></section><section><h2>Facts</h2><div id="facts" class="tablebox">'
                  '</div></section>'),
        "transaction": ('<section id="summary"></section><section><h2>Facts</h2>'
                        '<div id="facts" class="tablebox"></div></section>'
                        '<section><h2>Chains containing it</h2><div id="chains"></div>'
                        '</section>'),
    }
    short = iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return shell(kind, f"{kind} {short}", {"job": job_id, "iri": iri}, sections[kind],
                 job_crumb(job_id))


def sparql_page(job_id: str, text: str) -> str:
    body = ('<form id="sparql"><textarea id="query" name="query" rows="14" cols="100" '
            f'spellcheck="false">{escape(text)}</textarea>'
            '<p><button type="submit">Run</button> <span class="muted">Ctrl+Enter runs; '
            'read-only: updates, SERVICE, LOAD and FROM are refused.</span></p></form>'
            '<pre id="error" class="error" hidden></pre><p id="answer" class="muted"></p>'
            '<div id="table" class="tablebox"></div>')
    return shell("sparql", f"SPARQL on {job_id}", {"job": job_id}, body, job_crumb(job_id))


def frame_message(text: str) -> str:
    """What the graph frame shows when there is no graph to draw."""
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<link rel="stylesheet" href="/static/console.css"></head><body>'
            f'<p class="note">No graph: {escape(text)}</p></body></html>\n')


def message_page(status: int, text: str) -> str:
    return shell("message", "Not found" if status == 404 else "Refused", {},
                 f'<p class="error">{escape(text)}</p>')
