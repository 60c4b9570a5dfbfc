"""The ``graphcrime`` command line: Typer commands only, each a thin layer over the API.

Exit codes: 0 success, 1 a job or command failed at run time, 2 bad input (data, rules,
spec, arguments), 3 a limit was exceeded.
"""

from __future__ import annotations

import sys

import typer

from graphcrime import __version__
from graphcrime.errors import GraphcrimeError

app = typer.Typer(
    name="graphcrime",
    help="Financial-crime graph reasoning: generate data, run Datalog rules and SPARQL jobs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def fail(err: GraphcrimeError) -> typer.Exit:
    """Print a user error on stderr and return the Exit to raise."""
    typer.echo(f"error: {err}", err=True)
    return typer.Exit(err.exit_code)


@app.callback(invoke_without_command=True)
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    if version:
        typer.echo(__version__)
        raise typer.Exit(0)


@app.command()
def generate(
    out_dir: str = typer.Argument(..., help="Folder to write (new or empty, or use --force)."),
    transactions: int = typer.Option(100_000, "--transactions", "-n", help="Transactions."),
    parties: int | None = typer.Option(None, help="Parties (default: transactions / 10)."),
    suspicious_fraction: float = typer.Option(0.001, help="Share of suspicious parties."),
    days: int = typer.Option(3, help="Dates fall within this many days before --end."),
    files: int = typer.Option(1, help="Split parties and transactions into this many files each."),
    seed: int = typer.Option(0, help="Random seed; same options and seed, same bytes."),
    amounts: str = typer.Option("mixed", help="mixed (cents, $0.50 to $10M) or published."),
    gzip: bool = typer.Option(False, "--gzip", help="Write .nt.gz files."),
    typologies: str = typer.Option(
        "", help="Plant typologies: all, or e.g. layering=20,cycle,fan-out=5 (default 10 each)."
    ),
    end: str = typer.Option("2021-07-30T00:00:00", help="Reference time (no time zone)."),
    workers: int | None = typer.Option(None, help="Rendering threads (never changes output)."),
    force: bool = typer.Option(False, "--force", help="Write into a non-empty OUT_DIR."),
) -> None:
    """Generate synthetic AML data (N-Triples, SPEC.md's model) with a manifest and ground truth."""
    import time

    from generator import generate as run

    shown = [-1]

    def progress(done: int, total: int) -> None:
        if 100 * done // total != shown[0]:
            shown[0] = 100 * done // total
            typer.echo(f"\r  {shown[0]:3d}% of {total:,} rows", nl=False, err=True)

    show = sys.stderr.isatty() and transactions >= 1_000_000
    started = time.perf_counter()
    try:
        m = run(
            out_dir,
            force=force,
            workers=workers,
            progress=progress if show else None,
            transactions=transactions,
            parties=parties,
            suspicious_fraction=suspicious_fraction,
            days=days,
            files=files,
            seed=seed,
            amounts=amounts,
            gzip=gzip,
            typologies=typologies or None,
            end=end,
        )
    except GraphcrimeError as err:
        raise fail(err) from None
    finally:
        if show:
            typer.echo("", err=True)
    seconds = time.perf_counter() - started
    c = m.counts
    size = sum(f.bytes for f in m.files)
    typer.echo(
        f"wrote {c['transactions']:,} transactions, {c['parties']:,} parties "
        f"({c['suspicious_parties']:,} suspicious), {c['triples']:,} triples "
        f"in {len(m.files)} files ({size / 1e6:,.1f} MB) to {out_dir} "
        f"in {seconds:.1f} s ({c['transactions'] / seconds:,.0f} transactions/s)"
    )
    if m.ground_truth:
        planted = ", ".join(f"{k} {v}" for k, v in c["instances"].items())
        typer.echo(f"planted {planted}: see {m.ground_truth}")


_NOTIFY_COMMAND = typer.Option(None, "--notify-command", help="Run CMD; status JSON on stdin.")
_NOTIFY_URL = typer.Option(None, "--notify-url", help="POST the status JSON to URL.")
_SMTP = typer.Option(None, "--smtp", help="HOST:PORT of an SMTP server for --mail-to.")
_MAIL_TO = typer.Option(None, "--mail-to", help="Email the job's outcome to ADDRESS.")


@app.command()
def run(
    spec: str = typer.Argument(..., help="Job spec (JSON) as in SPEC.md."),
    output_root: str = typer.Option(..., "--output-root", help="Job folders go here."),
    serve_root: str | None = typer.Option(None, help="Paths must stay in here (default: spec's)."),
    notify_command: str | None = _NOTIFY_COMMAND,
    notify_url: str | None = _NOTIFY_URL,
    smtp: str | None = _SMTP,
    mail_to: str | None = _MAIL_TO,
) -> None:
    """Run one job: load, reason, every query; write <output-root>/<job-id>/ atomically."""
    from graphcrime.runner.notify import Notifier
    from graphcrime.runner.pipeline import run_job

    try:
        notifier = Notifier(notify_command, notify_url, smtp, mail_to)
    except GraphcrimeError as err:
        raise fail(err) from None
    out = run_job(spec, output_root, serve_root=serve_root, notifier=notifier,
                  progress=sys.stderr.isatty())
    if out.exit_code:
        from graphcrime.runner.watch import _error_text

        typer.echo(f"error: {_error_text(out.status.get('error', {}))}", err=True)
    counts = ", ".join(f"{k} {v:,}" for k, v in out.status.get("counts", {}).items())
    typer.echo(f"job {out.job_id} {out.status['status']}" + (f" ({counts})" if counts else ""))
    if (out.folder / "status.json").is_file():
        typer.echo(f"results: {out.folder}")
    else:
        typer.echo("no job folder was written (see the error above)", err=True)
    raise typer.Exit(out.exit_code)


@app.command()
def watch(
    inbox: str = typer.Argument(..., help="Folder to watch for *.json job specs."),
    output_root: str = typer.Option(..., "--output-root", help="Job folders go here."),
    workers: int | None = typer.Option(None, help="Jobs at once (default: cores)."),
    once: bool = typer.Option(False, "--once", help="Process what is there, then exit."),
    poll_interval: float = typer.Option(1.0, help="Seconds between scans of INBOX."),
    serve_root: str | None = typer.Option(None, help="Paths must stay in here (default: INBOX)."),
    notify_command: str | None = _NOTIFY_COMMAND,
    notify_url: str | None = _NOTIFY_URL,
    smtp: str | None = _SMTP,
    mail_to: str | None = _MAIL_TO,
) -> None:
    """Run every spec dropped into INBOX; file it under done/ or failed/ (reason beside it)."""
    from graphcrime.errors import UsageError
    from graphcrime.runner.notify import Notifier
    from graphcrime.runner.watch import Watcher

    try:
        Notifier(notify_command, notify_url, smtp, mail_to)
        if workers is not None and workers < 1:
            raise UsageError("--workers must be at least 1", hint="e.g. --workers 2")
        if poll_interval <= 0:
            raise UsageError("--poll-interval must be positive", hint="e.g. --poll-interval 1")
    except GraphcrimeError as err:
        raise fail(err) from None
    notify = {"command": notify_command, "url": notify_url, "smtp": smtp, "mail_to": mail_to}
    w = Watcher(inbox, output_root, workers=workers, poll_interval=poll_interval,
                serve_root=serve_root, notify={k: v for k, v in notify.items() if v},
                log=lambda m: typer.echo(m, err=True))
    n = w.run(once=once)
    typer.echo(f"processed {n} job(s)")


@app.command()
def load(
    job_dir: str = typer.Argument(..., help="A finished job folder <output-root>/<job-id>/."),
    endpoint: str = typer.Option(..., help="Graph Store endpoint, e.g. http://host:7878/store."),
    graph: str | None = typer.Option(None, help="Named graph IRI (default: one per job id)."),
) -> None:
    """Load a job's N-Triples results into a SPARQL 1.1 Graph Store (reloading replaces)."""
    from graphcrime.runner.graphstore import load_job

    try:
        r = load_job(job_dir, endpoint, graph)
    except GraphcrimeError as err:
        raise fail(err) from None
    typer.echo(f"loaded {len(r.files)} file(s), {r.bytes:,} bytes of job {r.job_id} into graph "
               f"<{r.graph}> (HTTP {r.http_status})")


@app.command()
def demo(
    transactions: int = typer.Option(100_000, "--transactions", "-n", help="Transactions."),
    out: str = typer.Option("graphcrime-demo", "--out", help="Folder for data and results."),
    top: int = typer.Option(5, help="How many chains to show."),
) -> None:
    """Generate data, run the reference job from jobs/, and show the top chains by amount."""
    from graphcrime.runner.demo import run_demo

    try:
        code = run_demo(out, transactions=transactions, top=top, echo=typer.echo)
    except GraphcrimeError as err:
        raise fail(err) from None
    raise typer.Exit(code)


_CHECK_FILES = typer.Argument(..., help="Rule files (.dlog) to check.")
_CHECK_PARAMS = typer.Option(
    [], "--param", help="A job parameter K=V (repeatable); rules reading an unset one fail."
)


@app.command()
def check(files: list[str] = _CHECK_FILES, param: list[str] = _CHECK_PARAMS) -> None:
    """Check rule files: every error as file:line:col with a hint (exit 2), else a summary."""
    from graphcrime.compile.analysis import analyse
    from graphcrime.compile.checks import check_files

    params = parse_params(param)
    failed = False
    for path, program, errors in check_files(files, params):
        for err in errors:
            typer.echo(str(err), err=True)
        if errors or program is None:
            failed = True
            typer.echo(f"{path}: {len(errors)} error(s)", err=True)
            continue
        strata = analyse(program).strata
        facts = sum(r.is_fact for r in program.rules)
        typer.echo(f"{path}: ok, {len(program.rules) - facts} rules, {facts} facts, "
                   f"{len(strata)} strata ({sum(s.recursive for s in strata)} recursive)")
    raise typer.Exit(2 if failed else 0)


_REASON_DATA = typer.Option(..., "--data", help="N-Triples file or glob (repeatable; .gz ok).")
_REASON_RULES = typer.Option(..., "--rules", help="Rule file (.dlog), repeatable, in order.")
_REASON_OUT = typer.Option(None, "--output", "-o",
                           help="Write the derived triples here (.nt/.nq/.ttl, +.gz).")


def parse_params(pairs: list[str]) -> dict[str, object]:
    """``["min_amount=250"]`` -> ``{"min_amount": "250"}`` (values typed later, like JSON)."""
    from graphcrime.errors import UsageError

    params: dict[str, object] = {}
    for kv in pairs:
        key, eq, value = kv.partition("=")
        if not eq or not key:
            raise fail(UsageError(f"bad --param {kv!r}", hint="write --param NAME=VALUE"))
        params[key] = value
    return params


@app.command()
def reason(
    data: list[str] = _REASON_DATA,
    rules: list[str] = _REASON_RULES,
    param: list[str] = _CHECK_PARAMS,
    output: str | None = _REASON_OUT,
    max_derived_facts: int | None = typer.Option(None, help="Stop past this many derived facts."),
    timeout: float | None = typer.Option(None, help="Stop reasoning after this many seconds."),
    memory: str | None = typer.Option(None, help="Memory limit, e.g. 8Gi (spills beyond it)."),
    threads: int | None = typer.Option(None, help="Threads (default: every core)."),
    engine: str = typer.Option("embedded", help="embedded (DuckDB) or spark (needs pyspark)."),
    spark_master: str | None = typer.Option(None, help="Spark master URL (default local[2])."),
) -> None:
    """Load data, materialise rules, write every derived triple, print a summary.

    Example: graphcrime reason --data 'out/*.nt' --rules rules/suspicious-chains.dlog
    --param max_chain_length=10 --output derived.nt.gz
    """
    import time

    from graphcrime.api import Store, peak_rss_bytes
    from graphcrime.errors import UsageError

    params = parse_params(param)
    tty = sys.stderr.isatty()

    rounds = [1]

    def progress(stage: str, n: int) -> None:
        if tty:
            typer.echo(f"\r  {stage} {rounds[0]}: {n:,} derived facts", nl=False, err=True)
            rounds[0] += 1

    secs: dict[str, float] = {}
    if engine not in ("embedded", "spark"):
        raise fail(UsageError(f"unknown engine {engine!r}", hint="use embedded or spark"))
    if spark_master and engine != "spark":
        raise fail(UsageError("--spark-master needs --engine spark",
                              hint="add --engine spark or drop --spark-master"))
    try:
        if engine == "spark":
            from graphcrime.spark.api import SparkStore

            opened: Store | SparkStore = SparkStore(master=spark_master, progress=progress)
        else:
            opened = Store(memory_limit=memory, threads=threads, progress=progress)
        with opened as store:
            t = time.perf_counter()
            loaded = store.load(*data)
            secs["load"] = time.perf_counter() - t
            t = time.perf_counter()
            done = store.reason(rules, params, max_derived_facts=max_derived_facts,
                                timeout_seconds=timeout)
            secs["reason"] = time.perf_counter() - t
            if tty:
                typer.echo("", err=True)
            if output:
                t = time.perf_counter()
                store.dump(output, derived_only=True)
                secs["write"] = time.perf_counter() - t
            counts = store.derived_counts()
    except GraphcrimeError as err:
        raise fail(err) from None
    typer.echo(f"input facts: {loaded['triples']:,} from {loaded['files']} file(s)")
    typer.echo(f"derived facts: {done['derived_facts']:,} in {done['rounds']} round(s), "
               f"{done['strata']} strata")
    for title, key in (("per class", "classes"), ("per predicate", "predicates")):
        if counts[key]:
            typer.echo(f"  {title}:")
            for iri, n in sorted(counts[key].items(), key=lambda kv: -kv[1]):
                typer.echo(f"    {n:>12,}  {iri}")
    typer.echo("seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in secs.items()))
    typer.echo(f"peak memory: {peak_rss_bytes() / 2**20:,.0f} MiB")
    if output:
        typer.echo(f"wrote derived triples to {output}")


@app.command()
def serve(
    job_dir: str = typer.Argument(..., help="A finished job folder <output-root>/<job-id>/."),
    port: int = typer.Option(7878, help="TCP port (0 picks a free one)."),
    host: str = typer.Option("127.0.0.1", help="Address to bind (keep it on loopback)."),
    with_inputs: bool = typer.Option(False, "--with-inputs",
                                     help="Also load the job's input data files."),
) -> None:
    """Serve a job's results as a read-only SPARQL 1.1 Protocol endpoint at /sparql."""
    from graphcrime.serve import make_server

    try:
        server = make_server(job_dir, host, port, with_inputs=with_inputs)
    except GraphcrimeError as err:
        raise fail(err) from None
    except OSError as err:
        typer.echo(f"error: cannot listen on {host}:{port}: {err}", err=True)
        raise typer.Exit(1) from None
    h, p = server.server_address[:2]
    h = h.decode() if isinstance(h, bytes) else h
    typer.echo(f"SPARQL endpoint: http://{h}:{p}/sparql (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@app.command()
def evaluate(
    job_dir: str = typer.Argument(..., help="A finished job folder <output-root>/<job-id>/."),
    ground_truth: str = typer.Option(..., "--ground-truth",
                                     help="The generator's ground-truth.csv."),
    json_out: bool = typer.Option(False, "--json", help="Print the full report as JSON."),
    sweep: str | None = typer.Option(
        None, "--sweep", help="Rerun the job's rules per value, e.g. min_amount=50,100,500."),
) -> None:
    """Precision/recall of SuspiciousChain/HighValueChain results per planted typology."""
    import json

    from graphcrime.investigate.evaluate import evaluate as run_evaluate
    from graphcrime.investigate.evaluate import format_table
    from graphcrime.investigate.sweep import format_sweep, parse_sweep
    from graphcrime.investigate.sweep import sweep as run_sweep

    try:
        if sweep is not None:
            result = run_sweep(job_dir, ground_truth, *parse_sweep(sweep))
            typer.echo(json.dumps(result, indent=2) if json_out else format_sweep(result))
            return
        report = run_evaluate(job_dir, ground_truth)
    except GraphcrimeError as err:
        raise fail(err) from None
    typer.echo(json.dumps(report, indent=2) if json_out else format_table(report))


@app.command()
def explain(
    job_dir: str = typer.Argument(..., help="A finished job folder <output-root>/<job-id>/."),
    iri: str = typer.Argument(..., help="A chain IRI from the job's results."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON instead of a tree."),
) -> None:
    """A chain's transactions in order and the rules (file:line) that classified it."""
    import json

    from graphcrime.investigate.explain import explain as run_explain
    from graphcrime.investigate.explain import format_tree

    try:
        doc = run_explain(job_dir, iri)
    except GraphcrimeError as err:
        raise fail(err) from None
    typer.echo(json.dumps(doc, indent=2) if json_out else format_tree(doc))


@app.command()
def show(
    job_dir: str = typer.Argument(..., help="A finished job folder <output-root>/<job-id>/."),
    iri: str | None = typer.Argument(None, help="A chain IRI or a party IRI."),
    out: str = typer.Option(..., "--out", help="Picture to write: NAME.png or NAME.html."),
    hops: int = typer.Option(1, help="Party neighbourhood depth: 1 or 2."),
    max_edges: int = typer.Option(200, help="At most this many transfers (largest first)."),
    summary: bool = typer.Option(False, "--summary",
                                 help="Chains by length and amounts along chains (PNG)."),
) -> None:
    """Draw a chain or a party's neighbourhood (PNG or interactive HTML), or a job summary."""
    from graphcrime.errors import UsageError
    from graphcrime.investigate.show import draw_summary
    from graphcrime.investigate.show import show as run_show

    try:
        if summary:
            data = draw_summary(job_dir, out)
            typer.echo(f"wrote {out}: {sum(n for n, _ in data['lengths'].values()):,} "
                       f"suspicious chains, lengths {sorted(data['lengths'])}")
            return
        if not iri:
            raise UsageError("show needs a chain or party IRI (or --summary)",
                             hint="e.g. graphcrime show out/<job-id> <chain-iri> --out c.png")
        g = run_show(job_dir, iri, out, hops=hops, max_edges=max_edges)
    except GraphcrimeError as err:
        raise fail(err) from None
    typer.echo(f"wrote {out}: {g.number_of_nodes()} parties, {g.number_of_edges()} transfers"
               + (" (truncated)" if g.graph.get("truncated") else ""))


import_app = typer.Typer(help="Import public AML datasets (CSV) as N-Triples + ground truth.",
                         no_args_is_help=True)
app.add_typer(import_app, name="import")
_SUSPICIOUS = typer.Option("labels", help="labels: accounts in laundering rows are suspicious; "
                                          "none: no account is.")
_FORCE = typer.Option(False, "--force", help="Write into a non-empty OUT_DIR.")


@import_app.command("amlworld")
def import_amlworld(
    file: str = typer.Argument(..., help="AMLworld CSV, e.g. HI-Small_Trans.csv."),
    out_dir: str = typer.Argument(..., help="Folder for parties.nt, transactions.nt, "
                                            "ground-truth.csv."),
    suspicious: str = _SUSPICIOUS,
    force: bool = _FORCE,
) -> None:
    """IBM AMLworld (Kaggle "IBM Transactions for Anti Money Laundering") -> the data model."""
    from graphcrime.investigate.importers import import_amlworld as run

    try:
        typer.echo(run(file, out_dir, suspicious=suspicious, force=force).summary(out_dir))
    except GraphcrimeError as err:
        raise fail(err) from None


@import_app.command("amlsim")
def import_amlsim(
    folder: str = typer.Argument(..., help="AMLSim output folder (transactions.csv, ...)."),
    out_dir: str = typer.Argument(..., help="Folder for parties.nt, transactions.nt, "
                                            "ground-truth.csv."),
    suspicious: str = _SUSPICIOUS,
    base_date: str = typer.Option("2017-01-01", help="Day 0 of step-number timestamps."),
    force: bool = _FORCE,
) -> None:
    """IBM AMLSim output (transactions, accounts, alerts) -> the data model."""
    from graphcrime.investigate.importers import import_amlsim as run

    try:
        r = run(folder, out_dir, suspicious=suspicious, base_date=base_date, force=force)
        typer.echo(r.summary(out_dir))
    except GraphcrimeError as err:
        raise fail(err) from None


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except GraphcrimeError as err:  # commands normally convert; this is the safety net
        typer.echo(f"error: {err}", err=True)
        sys.exit(err.exit_code)


if __name__ == "__main__":
    main()
