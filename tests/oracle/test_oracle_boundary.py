"""The production code never loads the test oracle; the oracle's examples run."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import pytest

PRODUCTION = ["graphcrime.engine.seminaive", "graphcrime.engine.sqlexpr", "graphcrime.engine.plan",
              "graphcrime.api", "graphcrime.cli", "graphcrime.runner.pipeline",
              "graphcrime.sparql", "graphcrime.serve"]


def test_production_modules_do_not_import_the_oracle() -> None:
    code = ("import sys\n"
            f"for m in {PRODUCTION!r}: __import__(m)\n"
            "bad = sorted(m for m in sys.modules if m.startswith('graphcrime.oracle')\n"
            "             or m in ('graphcrime.engine.naive', 'graphcrime.engine.naive_expr'))\n"
            "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("name", ["graphcrime.oracle.naive", "graphcrime.oracle.expr"])
def test_oracle_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
