"""Load a job's N-Triples results into a SPARQL 1.1 Graph Store Protocol server.

One HTTP ``PUT`` per job into a named graph (default :func:`graph_iri` of the job id), so a
reload *replaces* the graph instead of duplicating it. Standard library only (urllib); the
body is streamed from the files, concatenated, never held whole in memory.

>>> graph_iri("demo_2021-07-30_001")
'urn:graphcrime:job:demo_2021-07-30_001'
>>> target_url("http://127.0.0.1:7878/store", "urn:x")
'http://127.0.0.1:7878/store?graph=urn%3Ax'
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from graphcrime.errors import DataError, GraphcrimeError, UsageError


class LoadFailed(GraphcrimeError):
    """The Graph Store server refused the data or could not be reached."""

    exit_code = 1


def graph_iri(job_id: str) -> str:
    """The default named graph of a job (also what ``neptune-loader.json`` names)."""
    return f"urn:graphcrime:job:{urllib.parse.quote(job_id, safe='-._~')}"


def target_url(endpoint: str, graph: str) -> str:
    sep = "&" if urllib.parse.urlsplit(endpoint).query else "?"
    return f"{endpoint}{sep}graph={urllib.parse.quote(graph, safe='')}"


@dataclass
class LoadReport:
    job_id: str
    graph: str
    files: list[str]
    bytes: int
    http_status: int


def _chunks(files: list[Path]) -> Iterator[bytes]:
    for f in files:
        last = b"\n"
        with open(f, "rb") as fh:
            while block := fh.read(1 << 20):
                last = block[-1:]
                yield block
        if last != b"\n":
            yield b"\n"


def load_job(job_dir: str | Path, endpoint: str, graph: str | None = None,
             timeout: float = 600.0) -> LoadReport:
    """PUT every ``results/*.nt`` of a finished job into ``graph`` at a Graph Store endpoint."""
    job_dir = Path(job_dir)
    status_path = job_dir / "status.json"
    if not status_path.is_file():
        raise UsageError(f"{job_dir} is not a finished job folder (no status.json)",
                         hint="pass <output-root>/<job-id>/ as written by graphcrime run")
    status = json.loads(status_path.read_text(encoding="utf-8"))
    if status.get("status") != "succeeded":
        raise UsageError(f"job {status.get('job_id')} did not succeed; nothing to load",
                         file=str(status_path), json_path="status",
                         hint="see its status.json and job.log")
    files = sorted((job_dir / "results").glob("*.nt"))
    if not files:
        raise DataError(f"{job_dir / 'results'} holds no .nt results",
                        hint="only CONSTRUCT and ?S ?P ?O queries give triples to load")
    if urllib.parse.urlsplit(endpoint).scheme not in ("http", "https"):
        raise UsageError(f"--endpoint {endpoint!r} is not an http(s) URL",
                         hint="e.g. http://127.0.0.1:7878/store")
    job_id = status.get("job_id") or job_dir.name
    graph = graph or graph_iri(job_id)
    size = sum(f.stat().st_size for f in files)
    req = urllib.request.Request(
        target_url(endpoint, graph), data=_chunks(files), method="PUT",
        headers={"Content-Type": "application/n-triples"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
            code = resp.status
    except urllib.error.HTTPError as e:
        body = e.read().decode(errors="replace")[:500]
        raise LoadFailed(f"{endpoint} answered {e.code} {e.reason}: {body}",
                         hint="is this the Graph Store endpoint (e.g. .../store)?") from None
    except (urllib.error.URLError, OSError) as e:
        raise LoadFailed(f"cannot reach {endpoint}: {e}",
                         hint="is the server running and the URL right?") from None
    return LoadReport(job_id, graph, [f.name for f in files], size, code)
