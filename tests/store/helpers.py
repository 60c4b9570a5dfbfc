"""Shared by the store tests: the generators of the engine's property test, and reading
every fact of a store as N-Triples strings."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

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
    facts, con = store.facts, store.con
    triples = {tuple(r) for r in con.execute(
        f"SELECT a.nt, b.nt, c.nt FROM {facts.pattern_sql()} x JOIN terms a ON a.id = x.s "
        "JOIN terms b ON b.id = x.p JOIN terms c ON c.id = x.o").fetchall()}
    tuples: dict[str, set[tuple[str, ...]]] = {}
    for (name, arity), table in facts.tuple_tables.items():
        sel = ", ".join(f"t{i}.nt" for i in range(arity))
        joins = " ".join(f"JOIN terms t{i} ON t{i}.id = x.c{i}" for i in range(arity))
        rows = con.execute(f"SELECT {sel or '1'} FROM {table} x {joins}").fetchall()
        if rows:
            tuples.setdefault(name, set()).update(tuple(r) if arity else () for r in rows)
    return triples, tuples  # type: ignore[return-value]


def no_duplicates(store: Any) -> None:
    """No table of the store holds a fact twice."""
    facts, con = store.facts, store.con
    for table in list(facts.preds.values()) + list(facts.tuple_tables.values()):
        cols = ", ".join(facts.columns(table)) or "1"
        n, d = con.execute(f"SELECT count(*), (SELECT count(*) FROM (SELECT DISTINCT {cols} "
                           f"FROM {table})) FROM {table}").fetchone()
        assert n == d, f"{n - d} duplicate rows in {table}"


def write_nt(path: Path, triples: set[tuple[str, str, str]] | list) -> Path:
    path.write_text("".join(f"{s} {p} {o} .\n" for s, p, o in sorted(triples)))
    return path
