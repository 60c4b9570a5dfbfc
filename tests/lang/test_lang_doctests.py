"""The examples in the lang/compile docstrings are true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["graphcrime.lang", "graphcrime.lang.ast", "graphcrime.lang.lexer",
           "graphcrime.lang.parser", "graphcrime.lang.terms", "graphcrime.lang.printer",
           "graphcrime.compile.analysis",
           "graphcrime.compile.checks", "graphcrime.compile.stratify"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0
