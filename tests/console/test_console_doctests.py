"""The docstring examples of graphcrime.console run as tests."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["roots", "jobindex", "tables", "jobdata", "details", "submit", "pages"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(f"graphcrime.console.{name}")
    result = doctest.testmod(module)
    assert result.failed == 0
