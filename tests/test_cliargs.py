"""graphcrime.cliargs: several values after one list option, positional words kept."""

from __future__ import annotations

import doctest

import click
import pytest

from graphcrime import cliargs
from graphcrime.cli import app


@click.command()
@click.argument("store")
@click.option("--data", multiple=True)
@click.option("--rules", multiple=True)
@click.option("--name")
@click.option("--force", is_flag=True)
def add(store: str, data: tuple[str, ...], rules: tuple[str, ...], name: str | None,
        force: bool) -> None:
    """A command like ``store add STORE --data ... --rules ...``."""


@pytest.mark.parametrize(("args", "parsed"), [
    (["s", "--data", "a", "b", "--rules", "r"], ("s", ("a", "b"), ("r",))),
    (["--data", "a", "b", "s"], ("s", ("a", "b"), ())),  # the last word is the STORE slot
    (["--data", "a", "b", "c", "s", "--force"], ("s", ("a", "b", "c"), ())),
    (["--data", "a", "--name", "n", "s"], ("s", ("a",), ())),  # single-valued: no run
    (["--data=a", "b", "s"], ("s", ("a", "b"), ())),
    (["s", "--rules", "r1", "r2", "--data", "a"], ("s", ("a",), ("r1", "r2"))),
    (["--", "--data"], ("--data", (), ())),
])
def test_spread_args(args: list[str], parsed: tuple) -> None:
    got = add.make_context("add", cliargs.spread_args(add, list(args)))
    p = got.params
    assert (p["store"], p["data"], p["rules"]) == parsed


def test_words_before_a_positional_are_not_taken() -> None:
    """A command line that parsed before spreading parses the same way."""
    for args in (["--data", "a", "s"], ["s", "--data", "a"], ["--force", "s", "--data", "a"]):
        assert cliargs.spread_args(add, list(args)) == args


def test_a_group_spreads_its_subcommands_args() -> None:
    group = click.Group(commands={"add": add})
    assert cliargs.spread_args(group, ["add", "--data", "a", "b", "c", "s"]) == \
        ["add", "--data", "a", "--data", "b", "--data", "c", "s"]


def test_doctests() -> None:
    result = doctest.testmod(cliargs)
    assert result.attempted > 0 and result.failed == 0


def test_the_cli_uses_the_spreading_group() -> None:
    import typer.main

    assert isinstance(typer.main.get_command(app), cliargs.SpreadingGroup)
