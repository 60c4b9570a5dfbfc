"""The examples in graphcrime.engine's docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["graphcrime.compile.analysis", "graphcrime.engine.latebind", "graphcrime.engine.plan",
           "graphcrime.engine.seminaive",
           "graphcrime.engine.sqlexpr", "graphcrime.engine.store", "graphcrime.nt",
           "graphcrime.lang.ast"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
