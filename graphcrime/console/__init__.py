"""The investigator's console: a local web application over an output root (and an inbox).

``graphcrime console --output-root out/ [--inbox inbox/] [--port 8780] [--allow-submit]``
serves, on 127.0.0.1 by default: the jobs page (job folders and inbox specs, live), a job's
results and chains (paged in DuckDB), chain and party pages with the graph ``graphcrime
show`` draws, and a read-only SPARQL editor. From Python::

    from graphcrime.console import make_app, serve
    serve("out/", inbox="inbox/", port=8780)          # blocks; Ctrl-C stops

Modules: :mod:`~.roots` (what URLs may name), :mod:`~.jobindex` (the jobs page),
:mod:`~.jobdata` (one job's store and tables), :mod:`~.tables` (server-side paging),
:mod:`~.details` (chain/party/transaction pages), :mod:`~.submit` (reruns), :mod:`~.pages`
(HTML shells), :mod:`~.app` (routes and security headers).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def make_app(output_root: str | Path, *, inbox: str | Path | None = None,
             store_root: str | Path | None = None, allow_submit: bool = False,
             host: str = "127.0.0.1", with_inputs: bool = True) -> Any:
    """The ASGI application; answers only ``Host`` names that reach ``host``."""
    from graphcrime.console.app import make_app as build
    from graphcrime.console.roots import Roots

    roots = Roots(Path(output_root), Path(inbox) if inbox else None,
                  Path(store_root) if store_root else None)
    hosts = None if host in ("0.0.0.0", "::", "") else LOOPBACK | {host}
    return build(roots, allow_submit=allow_submit, hosts=hosts, with_inputs=with_inputs)


def serve(output_root: str | Path, *, inbox: str | Path | None = None,
          store_root: str | Path | None = None, host: str = "127.0.0.1", port: int = 8780,
          allow_submit: bool = False, with_inputs: bool = True,
          echo: Callable[[str], object] = print) -> None:
    """Run the console with uvicorn until interrupted (``port=0`` picks a free port); tells
    ``echo`` the address once it listens."""
    import socket

    import uvicorn

    app = make_app(output_root, inbox=inbox, store_root=store_root, allow_submit=allow_submit,
                   host=host, with_inputs=with_inputs)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    shown = f"[{host}]" if ":" in host else host
    echo(f"graphcrime console: http://{shown}:{sock.getsockname()[1]}/ (Ctrl-C stops)")
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])


__all__ = ["make_app", "serve"]
