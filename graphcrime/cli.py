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


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except GraphcrimeError as err:  # commands normally convert; this is the safety net
        typer.echo(f"error: {err}", err=True)
        sys.exit(err.exit_code)


if __name__ == "__main__":
    main()
