"""On-disk stores in the Python API: create, add, retract, prune, set_rules, info.

The methods of :class:`graphcrime.Store` for a store opened with a ``path``; the engine
work is :mod:`graphcrime.engine.incremental`, the folder :mod:`graphcrime.engine.disk`.

>>> import graphcrime as gc, tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "r.dlog").write_text("@prefix : <http://e/> . :p[?x, ?z] :- :p[?x, ?y], :p[?y, ?z] .")
>>> _ = (d / "1.nt").write_text("<http://e/a> <http://e/p> <http://e/b> .\\n")
>>> _ = (d / "2.nt").write_text("<http://e/b> <http://e/p> <http://e/c> .\\n")
>>> with gc.Store.create(d / "store", rules=d / "r.dlog") as s:
...     s.add(d / "1.nt")["added"], s.add(d / "2.nt")["derived"]
(1, 1)
>>> with gc.Store.open(d / "store") as s:
...     s.retract(d / "1.nt")["removed"], len(s)
(2, 1)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from graphcrime.errors import DataError, UsageError
from graphcrime.lang.ast import Program
from graphcrime.vocab import PROP, RDF_TYPE, TYPE

#: what :func:`prune` retracts by default: ``type:Transaction`` dated by ``prop:hasDate``
TRANSACTION = TYPE + "Transaction"
HAS_DATE = PROP + "hasDate"


def _disk(store: Any) -> Any:
    if store._disk is None:
        raise UsageError("this store is in memory; add/retract/prune/info need an on-disk "
                         "store", hint="use gc.Store.create(path, ...) or gc.Store.open(path)")
    return store._disk


def create(cls: Any, path: str | Path, rules: Any = (), params: Mapping[str, object] | None = None,
           *, memory_limit: int | str | None = None, threads: int | None = None,
           temp_dir: str | Path | None = None, timeout: float = 0, **options: Any) -> Any:
    from graphcrime.api import load_program
    from graphcrime.engine.disk import DiskStore

    program = load_program(rules) if rules else Program(())
    disk = DiskStore.create(path, program, dict(params or {}), timeout=timeout,
                            memory_limit=memory_limit, threads=threads, temp_dir=temp_dir)
    disk.close()
    return cls(path=path, memory_limit=memory_limit, threads=threads, temp_dir=temp_dir,
               timeout=timeout, **options)


def _read(store: Any, files: list[Path], table: str) -> int:
    """Parse ``files`` into the temporary table ``table(s, p, o)`` of term ids."""
    con = store.con
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} (s INTEGER, p INTEGER, o INTEGER)")

    def sink(loaded: str) -> int:
        return int(con.execute(f"INSERT INTO {table} SELECT s, p, o FROM {loaded}"
                               ).fetchone()[0])
    return store._load_files(files, sink)


def _limits(store: Any, limits: Mapping[str, Any]) -> dict[str, Any]:
    progress = store._progress if callable(store._progress) else None
    return {"max_derived_facts": limits.get("max_derived_facts"), "progress": progress}


def _finish(store: Any, out: dict[str, Any], key: str) -> dict[str, Any]:
    store.seconds[key] = store.seconds.get(key, 0.0) + out["seconds"]
    store.input_facts += out["added"] - out["retracted"]
    store.derived_facts += out["derived"] - out["removed"]
    return out


def add(store: Any, files: list[Path], **limits: Any) -> dict[str, Any]:
    """``files``' triples become input facts; returns added, retracted, derived, removed."""
    disk = _disk(store)
    out = disk.update(add="_gc_add", before=lambda: _read(store, files, "_gc_add"),
                      **_limits(store, limits))
    out["files"] = len(files)
    return _finish(store, out, "add")


def retract(store: Any, files: list[Path], **limits: Any) -> dict[str, Any]:
    """The triples of ``files`` stop being input facts (and facts, unless they follow)."""
    disk = _disk(store)
    out = disk.update(retract="_gc_ret", before=lambda: _read(store, files, "_gc_ret"),
                      **_limits(store, limits))
    out["files"] = len(files)
    return _finish(store, out, "retract")


def prune(store: Any, before: dt.date | dt.datetime | str, *, class_iri: str = TRANSACTION,
          date_predicate: str = HAS_DATE, **limits: Any) -> dict[str, Any]:
    """Retract every input fact whose subject is an instance of ``class_iri`` (an input
    ``rdf:type``) dated by ``date_predicate`` before ``before`` (a date or date-time; no
    time zone = UTC), the sliding window of AML monitoring."""
    disk = _disk(store)
    try:
        when = before if isinstance(before, (dt.date, dt.datetime)) else \
            dt.datetime.fromisoformat(str(before))
    except ValueError:
        raise DataError(f"not a date: {before!r}", hint="give a date like 2021-07-01") from None
    if isinstance(when, dt.datetime) and when.tzinfo is not None:
        when = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
    facts = store._facts

    def select() -> None:
        con = store.con
        con.execute("CREATE OR REPLACE TEMP TABLE _gc_ret (s INTEGER, p INTEGER, o INTEGER)")
        ids = [facts.term_id(f"<{i}>") for i in (RDF_TYPE, class_iri, date_predicate)]
        if None in ids or ids[0] not in facts.preds or ids[2] not in facts.preds:
            return
        typ, cls, date = ids
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _gc_old AS SELECT DISTINCT x.s FROM "
            f"x_{facts.preds[typ]} x JOIN {facts.preds[date]} d ON d.s = x.s "
            f"JOIN terms t ON t.id = d.o WHERE x.o = {cls} AND NOT x.prog "
            f"AND t.ts < TIMESTAMP '{when}'")
        for p, table in sorted(facts.preds.items()):
            if con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = 'gc' "
                           f"AND table_name = 'x_{table}'").fetchone()[0]:
                con.execute(f"INSERT INTO _gc_ret SELECT x.s, {p}, x.o FROM x_{table} x "
                            "JOIN _gc_old o ON o.s = x.s WHERE NOT x.prog")
        con.execute("DROP TABLE _gc_old")
    out = disk.update(retract="_gc_ret", before=select, **_limits(store, limits))
    out["before"] = when.isoformat()
    return _finish(store, out, "prune")


def set_rules(store: Any, program: Program, params: Mapping[str, object] | None = None,
              **limits: Any) -> dict[str, Any]:
    """Replace the program and parameters; the strata whose rules changed are evaluated
    again, changed parameters and rule-file facts are retracted/added."""
    disk = _disk(store)
    out = disk.update(program=program, params=dict(params or {}), **_limits(store, limits))
    return _finish(store, out, "set_rules")


def info(store: Any) -> dict[str, Any]:
    """What is in the store and how big it is."""
    disk = _disk(store)
    facts = store._facts
    program = disk.program
    total = facts.count()
    derived = facts.count(derived=True)
    return {"path": str(disk.folder), "facts": total, "input_facts": total - derived,
            "derived_facts": derived,
            "terms": int(store.con.execute("SELECT count(*) FROM terms").fetchone()[0]),
            "rules": sum(1 for r in program.rules if r.body),
            "parameters": disk.params, "rounds": disk.rounds(),
            "size_bytes": disk.size_bytes(), "read_only": disk.read_only,
            "subject_index": disk.index_info()}

