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


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except GraphcrimeError as err:  # commands normally convert; this is the safety net
        typer.echo(f"error: {err}", err=True)
        sys.exit(err.exit_code)


if __name__ == "__main__":
    main()
