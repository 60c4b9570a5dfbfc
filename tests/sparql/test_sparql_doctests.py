"""The docstring examples of graphcrime.sparql run as tests."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["values", "expressions", "translate", "aggregate", "formats", "result", "fallback",
           "query"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(f"graphcrime.sparql.{name}")
    failed, _ = doctest.testmod(module)
    assert failed == 0
