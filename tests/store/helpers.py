"""Shared by the store tests: the generators of the engine's property test, and reading
every fact of a store as N-Triples strings."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

from graphcrime.testing import assert_no_duplicates, fact_sets

ROOT = Path(__file__).resolve().parents[2]
RULES = [ROOT / "rules" / "suspicious-chains.dlog", ROOT / "rules" / "high-value-chains.dlog"]
#: chains of at most 6 transactions keep the derived facts at ~50k (fast tests)
PARAMS = {"max_chain_length": 6}
DATE = re.compile(r'#hasDate> "(\d{4}-\d\d-\d\d)')

_spec = importlib.util.spec_from_file_location(
    "seminaive_property", Path(__file__).parent.parent / "engine" / "test_seminaive_property.py")
assert _spec is not None and _spec.loader is not None
generators: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(generators)


def store_facts(store: Any) -> tuple[set[tuple[str, str, str]], dict[str, set[tuple[str, ...]]]]:
    """Every triple and non-empty tuple-table row of a :class:`graphcrime.Store`."""
    return fact_sets(store.facts, keep_empty=False)


def no_duplicates(store: Any) -> None:
    """No table of the store holds a fact twice."""
    assert_no_duplicates(store.facts)


def write_nt(path: Path, triples: set[tuple[str, str, str]] | list) -> Path:
    path.write_text("".join(f"{s} {p} {o} .\n" for s, p, o in sorted(triples)))
    return path
