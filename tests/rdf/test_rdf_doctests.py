"""The examples in graphcrime.rdf's docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["graphcrime.rdf.dictionary", "graphcrime.rdf.syntax", "graphcrime.rdf.slowparse",
           "graphcrime.rdf.load", "graphcrime.rdf.write"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
