"""The runner modules' docstring examples run as tests."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["spec", "jobid", "outputs", "pipeline", "watch", "notify", "graphstore", "neptune",
           "demo"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(f"graphcrime.runner.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and (result.attempted > 0 or name == "worker")
