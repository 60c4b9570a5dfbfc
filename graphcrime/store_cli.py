"""``graphcrime store ...``: persistent on-disk stores, maintained incrementally.

A store is one folder (a DuckDB database and its metadata) holding facts, dictionary,
rules and parameters between runs; ``add``/``retract``/``prune``/``set-rules`` change it and
update the derived facts incrementally, each change all or nothing, one writer at a time.

    graphcrime store create stores/aml --rules rules/*.dlog --param max_chain_length=30
    graphcrime store add stores/aml data/parties-0.nt data/transactions-2021-07-2*.nt
    graphcrime store retract stores/aml data/transactions-2021-07-27.nt
    graphcrime store info stores/aml [--json]
    graphcrime store query stores/aml queries/suspicious-chains.rq -o chains.nt
    graphcrime store dump stores/aml all.nt.gz [--derived-only]
    graphcrime store prune stores/aml --before 2021-07-01

Several files may follow ``--rules`` (so a shell-expanded ``rules/*.dlog`` works) as well as
the repeated form ``--rules a.dlog --rules b.dlog``; give STORE first.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from graphcrime.errors import GraphcrimeError, UsageError

#: options that take every following argument up to the next option (shell-expanded globs)
SPREAD_OPTIONS = ("--rules", "--param")


def spread(args: list[str], options: tuple[str, ...] = SPREAD_OPTIONS) -> list[str]:
    """``--rules a b --x`` -> ``--rules a --rules b --x``: several values after one option.

    >>> spread(["s", "--rules", "a.dlog", "b.dlog", "--param", "k=1", "--json"])
    ['s', '--rules', 'a.dlog', '--rules', 'b.dlog', '--param', 'k=1', '--json']
    """
    out: list[str] = []
    current: str | None = None
    taken = 0
    for arg in args:
        if arg == "--":
            current = None
            out.append(arg)
        elif arg.startswith("-") and arg != "-":
            current, taken = (arg if arg in options else None), 0
            out.append(arg)
        elif current is not None:
            if taken:
                out.append(current)
            out.append(arg)
            taken += 1
        else:
            out.append(arg)
    return out


class _SpreadGroup(TyperGroup):
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, spread(list(args)))


store_app = typer.Typer(
    cls=_SpreadGroup,
    help="Persistent stores on disk: add and retract data; the derived facts are maintained "
         "incrementally (equal to a from-scratch run over what the store holds).\n\n"
         "A store is a folder made by `store create`. Each change is all or nothing; one "
         "writer at a time (another gets exit 1 at once, or waits --lock-timeout seconds). "
         "Give STORE first; several files may follow --rules and --param.\n\n"
         "Example: graphcrime store create stores/aml --rules rules/*.dlog ; "
         "graphcrime store add stores/aml data/*.nt ; "
         "graphcrime store query stores/aml queries/suspicious-chains.rq -o chains.nt",
    no_args_is_help=True,
)

_STORE = typer.Argument(..., help="The store's folder (created by `store create`).")
_FILES = typer.Argument(..., help="N-Triples files or quoted globs (.nt, .nt.gz, .nq, .ttl).")
_MEMORY = typer.Option(None, "--memory", help="Memory limit, e.g. 4Gi (DuckDB spills beyond).")
_THREADS = typer.Option(None, "--threads", help="Threads (default: every core).")
_JSON = typer.Option(False, "--json", help="Print the summary as JSON.")
_WAIT = typer.Option(0.0, "--lock-timeout", help="Seconds to wait while another process "
                     "updates the store (default: fail at once, exit 1).")
_PARAMS = typer.Option([], "--param", help="A rule parameter K=V (repeatable, or several).")
_RULES = typer.Option(..., "--rules", help="Rule files (.dlog), in order; several may follow "
                      "one --rules (rules/*.dlog) or repeat --rules.")
_QUERIES = typer.Argument(..., help="SPARQL query files (.rq).")


def fail(err: GraphcrimeError) -> typer.Exit:
    """Print a user error on stderr and return the Exit to raise."""
    typer.echo(f"error: {err}", err=True)
    return typer.Exit(err.exit_code)


def _progress() -> Callable[[str, int], None] | bool:
    if not sys.stderr.isatty():
        return False

    def show(stage: str, n: int) -> None:
        typer.echo(f"\r  {stage}: {n:,} derived facts", nl=False, err=True)
    return show


@contextmanager
def opened(path: str, memory: str | None = None, threads: int | None = None,
           *, wait: float = 0.0, read_only: bool = False, create: bool = False,
           **create_args: Any) -> Iterator[Any]:
    """The store at ``path`` (created with ``create``), errors turned into exit codes."""
    from graphcrime.api import Store
    from graphcrime.runner.storejob import create_store

    tty = sys.stderr.isatty() and not read_only
    options: dict[str, Any] = {"memory_limit": memory, "threads": threads, "timeout": wait}
    try:
        if create:
            store = create_store(Path(path), create_args["rules"], create_args["params"],
                                 progress=_progress(), **options)
        else:
            store = Store.open(path, read_only=read_only,
                               progress=False if read_only else _progress(), **options)
        try:
            yield store
        finally:
            store.close()
            if tty:
                typer.echo("", err=True)
    except GraphcrimeError as err:
        raise fail(err) from None


def _summary(report: dict[str, Any], seconds: float) -> str:
    """``added 5 triple(s), retracted 0; derived 7 fact(s), removed 0; 0.12 s``."""
    return (f"added {report['added']:,} triple(s), retracted {report['retracted']:,}; derived "
            f"{report['derived']:,} fact(s), removed {report['removed']:,}; {seconds:.2f} s")


def _update(do: Callable[[], dict[str, Any]], prefix: str = "") -> None:
    """Run one store update and print its :func:`_summary` (after ``prefix``)."""
    t = time.perf_counter()
    report = do()
    typer.echo(prefix + _summary(report, time.perf_counter() - t))


def parse_params(pairs: list[str]) -> dict[str, object]:
    """``["min_amount=250"]`` -> ``{"min_amount": "250"}`` (see ``graphcrime reason``)."""
    from graphcrime.cli import parse_params as parse

    return parse(pairs)


@store_app.command("create")
def create(
    store: str = _STORE,
    rules: list[str] = _RULES,
    param: list[str] = _PARAMS,
    memory: str | None = _MEMORY,
    threads: int | None = _THREADS,
) -> None:
    """Create an empty store with its rules and parameters (STORE must be new or empty)."""
    params = parse_params(param)
    with opened(store, memory, threads, create=True, rules=rules, params=params) as s:
        info = s.info()
    typer.echo(f"created {store}: {info['rules']} rule(s), parameters "
               f"{json.dumps(info['parameters'])}")


@store_app.command("set-rules")
def set_rules(
    store: str = _STORE,
    rules: list[str] = _RULES,
    param: list[str] = _PARAMS,
    memory: str | None = _MEMORY,
    threads: int | None = _THREADS,
    wait: float = _WAIT,
) -> None:
    """Replace the store's rules and parameters; recomputes only what the change needs."""
    params = parse_params(param)
    with opened(store, memory, threads, wait=wait) as s:
        _update(lambda: s.set_rules(rules, params), "rules replaced: ")


@store_app.command("add")
def add(store: str = _STORE, files: list[str] = _FILES, memory: str | None = _MEMORY,
        threads: int | None = _THREADS, wait: float = _WAIT) -> None:
    """Add the triples of FILES and derive what follows from them (incrementally)."""
    with opened(store, memory, threads, wait=wait) as s:
        _update(lambda: s.add(files))


@store_app.command("retract")
def retract(store: str = _STORE, files: list[str] = _FILES, memory: str | None = _MEMORY,
            threads: int | None = _THREADS, wait: float = _WAIT) -> None:
    """Remove the triples of FILES and every derived fact that no longer follows."""
    with opened(store, memory, threads, wait=wait) as s:
        _update(lambda: s.retract(files))


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2})?$")


@store_app.command("prune")
def prune(
    store: str = _STORE,
    before: str = typer.Option(..., "--before", help="Retract every transaction dated "
                               "before this day (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)."),
    memory: str | None = _MEMORY,
    threads: int | None = _THREADS,
    wait: float = _WAIT,
) -> None:
    """Retract every transaction dated before --before, with all its triples (retention)."""
    if not _DATE.match(before):
        raise fail(UsageError(f"--before: not a date {before!r}",
                              hint="write --before 2021-07-01 (or 2021-07-01T00:00:00)"))
    with opened(store, memory, threads, wait=wait) as s:
        _update(lambda: s.prune(before=before), f"pruned transactions before {before}: ")


def info_text(info: dict[str, Any]) -> str:
    """``store info``'s lines.

    >>> print(info_text({"path": "s", "facts": 12, "input_facts": 10, "derived_facts": 2,
    ...     "terms": 9, "rules": 3, "parameters": {"k": 1}, "rounds": 4, "size_bytes": 2**20}))
    store: s
    facts: 12 (10 input, 2 derived)
    terms: 9
    rules: 3
    parameters: k=1
    rounds: 4
    size on disk: 1.0 MiB
    """
    params = info["parameters"]
    index = info.get("subject_index")
    lines = [] if index is None else [
        f"subject index: {index['tables']} tables, {index['size_bytes'] / 2**20:,.1f} MiB"
        if index["current"] else "subject index: none for this state (queries scan; the "
        "next update writes it)"]
    return "\n".join([
        f"store: {info['path']}",
        f"facts: {info['facts']:,} ({info['input_facts']:,} input, "
        f"{info['derived_facts']:,} derived)",
        f"terms: {info['terms']:,}",
        f"rules: {info['rules']:,}",
        "parameters: " + (", ".join(f"{k}={v}" for k, v in sorted(params.items())) or "none"),
        f"rounds: {info['rounds']:,}",
        f"size on disk: {info['size_bytes'] / 2**20:,.1f} MiB", *lines])


@store_app.command("info")
def info(store: str = _STORE, json_out: bool = _JSON, wait: float = _WAIT) -> None:
    """Facts (input and derived), terms, rules, parameters, rounds, size on disk and the
    subject index."""
    with opened(store, wait=wait, read_only=True) as s:
        doc = dict(s.info())
    typer.echo(json.dumps(doc, indent=2, default=str) if json_out else info_text(doc))


@store_app.command("query")
def query(
    store: str = _STORE,
    queries: list[str] = _QUERIES,
    output: str | None = typer.Option(
        None, "--output", "-o", help="Write the answers here; the format follows the suffix "
        "(.nt .ttl .csv .tsv .json .xml, + .gz). One query only."),
    output_dir: str | None = typer.Option(
        None, "--output-dir", help="Write each query's answers to DIR/<query>.nt (triples) "
        "or DIR/<query>.csv, as a job does."),
    fmt: str | None = typer.Option(
        None, "--format", help="Format on stdout: csv, tsv, json, xml (SELECT/ASK) or nt, ttl "
        "(triples). Default: csv for SELECT, nt for CONSTRUCT, json for ASK."),
    wait: float = _WAIT,
) -> None:
    """Run SPARQL queries over the whole store (input and derived facts)."""
    from graphcrime.runner.outputs import result_suffix

    if output and (output_dir or len(queries) > 1):
        raise fail(UsageError("--output takes one query", hint="use --output-dir DIR for "
                              "several queries"))
    texts = []
    for q in queries:
        try:
            texts.append((Path(q), Path(q).read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as e:
            raise fail(UsageError(f"cannot read the query: {e}", file=q,
                                  hint="give a SPARQL query file (.rq)")) from None
    with opened(store, wait=wait, read_only=True) as s:
        for path, text in texts:
            try:
                result = s.query(text)
                if output:
                    result.write(output)
                    typer.echo(f"{path}: {len(result):,} answer(s) -> {output}", err=True)
                elif output_dir:
                    target = Path(output_dir) / (path.stem + result_suffix(result))
                    target.parent.mkdir(parents=True, exist_ok=True)
                    result.write(target)
                    typer.echo(f"{path}: {len(result):,} answer(s) -> {target}")
                else:
                    default = {"select": "csv", "graph": "nt", "ask": "json"}[result.kind]
                    sys.stdout.buffer.write(result.serialize(fmt or default))
                    sys.stdout.flush()
            except GraphcrimeError as err:
                if err.file is None:
                    err.file = str(path)
                raise fail(err) from None


@store_app.command("dump")
def dump(
    store: str = _STORE,
    out: str = typer.Argument(..., help="File to write: .nt/.nq/.ttl, optionally .gz."),
    derived_only: bool = typer.Option(False, "--derived-only", help="Only derived triples."),
    wait: float = _WAIT,
) -> None:
    """Write every triple of the store (or only the derived ones) to OUT."""
    with opened(store, wait=wait, read_only=True) as s:
        t = time.perf_counter()
        try:
            n = s.dump(out, derived_only=derived_only)
        except GraphcrimeError as err:
            raise fail(err) from None
    typer.echo(f"wrote {n:,} triple(s) to {out} in {time.perf_counter() - t:.2f} s")
