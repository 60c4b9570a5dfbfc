"""Delivery: Graph Store load into a real Oxigraph server; SMTP, HTTP and command notifications."""

from __future__ import annotations

import asyncio
import http.server
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from email import message_from_bytes
from pathlib import Path

import pytest
from runner_helpers import E, P

from graphcrime.errors import UsageError
from graphcrime.runner.graphstore import LoadFailed, graph_iri, load_job
from graphcrime.runner.notify import Notifier
from graphcrime.runner.pipeline import run_job

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def oxigraph_server(tmp_path: Path):
    exe = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    if not Path(exe).exists():
        pytest.skip("oxigraph server not installed (pip install oxigraph)")
    port = free_port()
    proc = subprocess.Popen([exe, "serve", "--location", str(tmp_path / "db"),
                             "--bind", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(base + "/query?query=ASK%7B%7D", timeout=1).close()
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, "oxigraph did not start"
            time.sleep(0.1)
    yield base
    proc.terminate()
    proc.wait(timeout=10)


def sparql(base: str, query: str) -> list[dict]:
    req = urllib.request.Request(
        base + "/query", data=urllib.parse.urlencode({"query": query}).encode(),
        headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)["results"]["bindings"]


def test_gsp_load_into_oxigraph_and_reload_replaces(served: Path, tmp_path: Path,
                                                    store_factory, oxigraph_server: str) -> None:
    job = run_job(served / "job.json", tmp_path / "out", store_factory=store_factory)
    assert job.exit_code == 0
    report = load_job(job.folder, oxigraph_server + "/store")
    assert report.graph == graph_iri(job.job_id) and report.files == ["spo.nt"]
    count = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{report.graph}> {{ ?s ?p ?o }} }}"
    # hand-worked: the 4 triples of t1 (a -> b, 500)
    assert sparql(oxigraph_server, count)[0]["n"]["value"] == "4"
    rows = sparql(oxigraph_server, f"""SELECT ?t ?b WHERE {{ GRAPH ?g {{
        ?t <{P}hasOriginator> <{E}party_a> ; <{P}hasBeneficiary> ?b }} }}""")
    assert [(r["t"]["value"], r["b"]["value"]) for r in rows] == [
        (f"{E}transaction_t1", f"{E}party_b")]
    load_job(job.folder, oxigraph_server + "/store")  # reload: replaced, not duplicated
    assert sparql(oxigraph_server, count)[0]["n"]["value"] == "4"
    load_job(job.folder, oxigraph_server + "/store", graph="urn:other")
    total = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert sparql(oxigraph_server, total)[0]["n"]["value"] == "8"


def test_gsp_errors(served: Path, tmp_path: Path, store_factory) -> None:
    with pytest.raises(UsageError, match="no status.json"):
        load_job(tmp_path, "http://127.0.0.1:9/store")
    job = run_job(served / "job.json", tmp_path / "out", store_factory=store_factory)
    with pytest.raises(LoadFailed, match="cannot reach"):
        load_job(job.folder, f"http://127.0.0.1:{free_port()}/store", timeout=5)
    with pytest.raises(UsageError, match="not an http"):
        load_job(job.folder, "ftp://x/store")


class SMTPSink:
    """A tiny SMTP server on asyncio (smtpd is gone in 3.12): stores each message's bytes."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait(5)

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._session, "127.0.0.1", 0))
        self.port = self.server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 sink\r\n")
        while line := await reader.readline():
            cmd = line.decode().strip().upper()
            if cmd.startswith("DATA"):
                writer.write(b"354 go\r\n")
                await writer.drain()
                body = []
                while (data := await reader.readline()) not in (b".\r\n", b""):
                    body.append(data[1:] if data.startswith(b"..") else data)
                self.messages.append(b"".join(body))
                writer.write(b"250 ok\r\n")
            elif cmd.startswith("QUIT"):
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


class Receiver(http.server.BaseHTTPRequestHandler):
    bodies: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802
        n = int(self.headers["Content-Length"])
        Receiver.bodies.append(json.loads(self.rfile.read(n)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_notify_smtp_http_and_command(served: Path, tmp_path: Path, store_factory) -> None:
    sink = SMTPSink()
    httpd = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    Receiver.bodies = []
    seen = tmp_path / "seen.json"
    script = "import sys, pathlib; pathlib.Path(sys.argv[1]).write_text(sys.stdin.read())"
    try:
        notifier = Notifier(
            command=f"{sys.executable} -c '{script}' '{seen}'",
            url=f"http://127.0.0.1:{httpd.server_address[1]}/hook",
            smtp=f"127.0.0.1:{sink.port}", mail_to="investigator@example.org")
        job = run_job(served / "job.json", tmp_path / "out", store_factory=store_factory,
                      notifier=notifier)
    finally:
        httpd.shutdown()
        httpd.server_close()
        sink.close()
    assert job.exit_code == 0
    assert json.loads(seen.read_text())["job_id"] == job.job_id
    assert [b["job_id"] for b in Receiver.bodies] == [job.job_id]
    assert Receiver.bodies[0]["status"] == "succeeded"
    (raw,) = sink.messages
    mail = message_from_bytes(raw)
    assert mail["To"] == "investigator@example.org" and job.job_id in mail["Subject"]
    text = mail.get_payload(decode=True).decode()
    assert f"Results folder: {job.folder}" in text and "input_facts: 18" in text


def test_notify_failure_is_logged_not_fatal(served: Path, tmp_path: Path, store_factory) -> None:
    notifier = Notifier(url=f"http://127.0.0.1:{free_port()}/nobody", timeout=2,
                        command="false")
    job = run_job(served / "job.json", tmp_path / "out", store_factory=store_factory,
                  notifier=notifier)
    assert job.exit_code == 0
    log = (job.folder / "job.log").read_text()
    assert "notify url failed" in log and "notify command failed" in log


@pytest.mark.parametrize("kw", [{"smtp": "h:25"}, {"mail_to": "a@b"}, {"smtp": "nohost",
                                                                       "mail_to": "a@b"}])
def test_notifier_option_errors(kw: dict) -> None:
    with pytest.raises(UsageError):
        Notifier(**kw)
