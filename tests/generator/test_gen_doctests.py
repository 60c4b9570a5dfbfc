"""The examples in the generator's docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["ntformat", "options", "names", "plan", "render", "manifest", "output", "__init__"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module("generator" if name == "__init__" else f"generator.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
