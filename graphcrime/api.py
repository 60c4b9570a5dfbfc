"""The Python API: a store you load, reason over, query and dump, like pyoxigraph's ``Store``.

>>> import graphcrime as gc, tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "g.nt").write_text("<http://e/a> <http://e/p> <http://e/b> .\\n"
...                             "<http://e/b> <http://e/p> <http://e/c> .\\n")
>>> _ = (d / "r.dlog").write_text("@prefix : <http://e/> . :p[?x, ?z] :- :p[?x, ?y], :p[?y, ?z] .")
>>> with gc.Store() as store:
...     store.load(d / "g.nt")["triples"], store.reason(d / "r.dlog")["derived_facts"]
(2, 1)
"""

from __future__ import annotations

import glob
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from graphcrime.db import scalar
from graphcrime.engine.store import FactStore
from graphcrime.errors import DataError
from graphcrime.lang.ast import Program
from graphcrime.lang.parser import parse_files
from graphcrime.machine import peak_rss_bytes
from graphcrime.vocab import RDF_TYPE

PathLike = str | Path


def expand(paths: Iterable[PathLike]) -> list[Path]:
    """Paths with globs expanded (sorted); a pattern matching nothing is an error."""
    out: list[Path] = []
    for p in paths:
        text = str(p)
        if any(c in text for c in "*?["):
            hits = sorted(glob.glob(text, recursive=True))
            if not hits:
                raise DataError(f"no file matches {text}", hint="check the pattern and folder")
            out += [Path(h) for h in hits]
        else:
            out.append(Path(text))
    for p in out:
        if not p.is_file():
            raise DataError("no such file", file=str(p), hint="check the path (globs: quote them)")
    return out


def _flatten(args: tuple[Any, ...]) -> list[PathLike]:
    flat: list[PathLike] = []
    for a in args:
        if isinstance(a, (list, tuple)):
            flat += list(a)
        else:
            flat.append(a)
    return flat


class Reasoning(ABC):
    """What :class:`Store` and :class:`graphcrime.spark.SparkStore` share: per-stage seconds
    and :meth:`reason`, over the engine's ``materialise`` (``_materialise``) each names."""

    _materialise: Callable[..., Any]  # (facts, program, params, *, limits, progress) -> report

    def __init__(self, progress: bool | Callable[[str, int], None]) -> None:
        self._progress = progress
        self.seconds: dict[str, float] = {}
        self.input_facts = 0
        self.derived_facts = 0

    def _timed(self, stage: str, t0: float) -> float:
        secs = time.perf_counter() - t0
        self.seconds[stage] = self.seconds.get(stage, 0.0) + secs
        return secs

    def _reasoned(self) -> None:
        """Called after each :meth:`reason` (SparkStore drops its driver-side copy)."""
        return None

    def reason(self, rules: PathLike | Program | Iterable[PathLike | Program],
               params: Mapping[str, object] | None = None, *,
               max_derived_facts: int | None = None,
               timeout_seconds: float | None = None) -> dict[str, Any]:
        """Materialise rule files (or parsed programs) with job ``params``; return a summary."""
        program = load_program(rules)
        t0 = time.perf_counter()
        progress = self._progress if callable(self._progress) else None
        report = self._materialise(self.facts, program, params,
                                   max_derived_facts=max_derived_facts,
                                   timeout_seconds=timeout_seconds, progress=progress)
        self.derived_facts += report.derived
        self._reasoned()
        secs = self._timed("reason", t0)
        return {"derived_facts": report.derived, "rounds": report.rounds,
                "strata": report.strata, "seconds": round(secs, 3)}

    @property
    @abstractmethod
    def facts(self) -> Any:
        """The engine's fact store."""

    @abstractmethod
    def load(self, *paths: PathLike | Iterable[PathLike]) -> dict[str, Any]:
        """Load N-Triples files or globs."""

    @abstractmethod
    def close(self) -> None:
        """Release the store."""


def _materialise(*args: Any, **kwargs: Any) -> Any:
    """:func:`graphcrime.engine.seminaive.materialise`, imported when first used (opening
    an on-disk store to query it need not import the evaluator: 0.3-1 s)."""
    from graphcrime.engine.seminaive import materialise

    return materialise(*args, **kwargs)


class Store(Reasoning):
    """An in-memory RDF store with a Datalog reasoner (DuckDB underneath).

    ``memory_limit`` ("8Gi" or bytes) caps DuckDB's memory (it spills to ``temp_dir``
    beyond it); ``threads`` defaults to every core; ``progress`` (a callable taking a stage
    name and a count) is told about each reasoning round.
    """

    _materialise = staticmethod(_materialise)

    def __init__(self, memory_limit: int | str | None = None, threads: int | None = None,
                 temp_dir: PathLike | None = None,
                 progress: bool | Callable[[str, int], None] = False, *,
                 path: PathLike | None = None, read_only: bool = False,
                 timeout: float = 0) -> None:
        super().__init__(progress)
        #: the on-disk store (graphcrime.engine.disk) when ``path`` is given: see store_api
        self._disk: Any = None
        if path is not None:
            from graphcrime.engine.disk import DiskStore

            self._disk = DiskStore.open(path, read_only=read_only, timeout=timeout,
                                        memory_limit=memory_limit, threads=threads,
                                        temp_dir=temp_dir)
            self._facts = self._disk.facts
        else:
            self._facts = FactStore(memory_limit=memory_limit, threads=threads,
                                    temp_dir=temp_dir)
        self.con = self._facts.con

    @property
    def facts(self) -> FactStore:
        """The underlying :class:`~graphcrime.engine.store.FactStore`."""
        return self._facts

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return self._facts.count()

    def load(self, *paths: PathLike | Iterable[PathLike]) -> dict[str, Any]:
        """Load N-Triples (``.nt``/``.nt.gz``; ``.nq``/``.ttl`` too) files or globs (on an
        on-disk store: :meth:`add`, which also maintains the materialisation)."""
        if self._disk is not None:
            out = self.add(*paths)
            return {"triples": out["added"], **out}
        files = expand(_flatten(paths))
        t0 = time.perf_counter()
        added = self._facts.all_or_nothing(lambda: self._load_files(files))
        self._facts.pack(settled=True)
        self.input_facts += added
        return {"triples": added, "files": len(files),
                "seconds": round(self._timed("load", t0), 3)}

    def _load_files(self, files: list[Path], sink: Callable[[str], int] | None = None) -> int:
        """Small files in one batch, big N-Triples files piece by piece (bounded memory);
        each batch's encoded triples go to ``sink`` (default: the store, as input facts)."""
        from graphcrime.rdf import chunks
        from graphcrime.rdf.load import load_ntriples

        def batch(paths: list[Path], lines: dict[str, int] | None = None) -> int:
            load_ntriples(self.con, [str(f) for f in paths], target="_loaded", lines=lines,
                          distinct=False)  # add_loaded de-duplicates
            n = (sink or self._facts.add_loaded)("_loaded")
            self.con.execute("DROP TABLE IF EXISTS _loaded")
            return n

        size = chunks.piece_bytes(self._facts.budget)
        big = [f for f in files if chunks.is_big(f, size)]
        added = batch([f for f in files if f not in big]) if len(big) < len(files) else 0
        for f in big:
            for piece, before, lines in chunks.pieces(f, self._facts.temp_dir, size):
                try:
                    added += batch([piece], {str(piece): lines})
                except DataError as e:
                    raise chunks.at_original(e, piece, f, before) from None
                self._facts.pack()  # compressed when it has grown enough
        return added

    def reason(self, rules: PathLike | Program | Iterable[PathLike | Program],
               params: Mapping[str, object] | None = None, **limits: Any) -> dict[str, Any]:
        """Materialise rule files (or parsed programs) with job ``params``; return a summary
        (on an on-disk store: :meth:`set_rules`)."""
        if self._disk is not None:
            out = self.set_rules(rules, params)
            return {"derived_facts": out["derived"], **out}
        return super().reason(rules, params, **limits)

    def query(self, sparql: str) -> Any:
        """Run a SPARQL query; returns a :class:`graphcrime.sparql.QueryResult`."""
        from graphcrime.sparql import run_query

        return run_query(self._facts, sparql)

    def dump(self, path: PathLike, *, derived_only: bool = False) -> int:
        """Write every (or every derived) triple to ``path`` (.nt/.nq/.ttl, optional .gz)."""
        from graphcrime.rdf.write import write_triples

        rel = self.derived_sql() if derived_only else self._facts.pattern_sql()
        return write_triples(self.con, rel, str(path))

    def derived_sql(self) -> str:
        """SQL relation (s, p, o) of the derived triples."""
        parts = [f"SELECT s, {p}::INTEGER AS p, o FROM {t} t WHERE {self._facts.derived_where(t)}"
                 for p, t in sorted(self._facts.preds.items())]
        return "(" + (" UNION ALL ".join(parts) or
                      "SELECT NULL::INTEGER s, NULL::INTEGER p, NULL::INTEGER o LIMIT 0") + ")"

    def derived_counts(self) -> dict[str, dict[str, int]]:
        """Derived facts per predicate IRI and per class IRI (``rdf:type``)."""
        preds: dict[str, int] = {}
        classes: dict[str, int] = {}
        for p, t in sorted(self._facts.preds.items()):
            derived = self._facts.derived_where(t, t)
            n = scalar(self.con, f"SELECT count(*) FROM {t} WHERE {derived}")
            if not n:
                continue
            iri = scalar(self.con, f"SELECT lex FROM terms WHERE id = {p}")
            preds[iri] = int(n)
            if iri == RDF_TYPE:
                for lex, c in self.con.execute(
                        f"SELECT terms.lex, count(*) FROM {t} JOIN terms ON terms.id = {t}.o "
                        f"WHERE {derived} GROUP BY terms.lex ORDER BY terms.lex").fetchall():
                    classes[lex] = int(c)
        return {"predicates": preds, "classes": classes}

    def stats(self) -> dict[str, Any]:
        """Fact counts, memory and bytes per stored fact."""
        facts = self._facts.count()
        rss = peak_rss_bytes()
        terms = scalar(self.con, "SELECT count(*) FROM terms")
        return {"facts": facts, "input_facts": self.input_facts,
                "derived_facts": self.derived_facts, "terms": int(terms),
                "duckdb_bytes": self._facts.memory_bytes(), "peak_rss_bytes": rss,
                "bytes_per_fact": round(rss / facts, 1) if facts else None,
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()}}

    def close(self) -> None:
        if self._disk is not None:
            self._disk.close()
        else:
            self._facts.close()

    # -- on-disk stores (graphcrime.store_api) ---------------------------------------------
    @classmethod
    def create(cls, path: PathLike, rules: PathLike | Program | Iterable[PathLike | Program] = (),
               params: Mapping[str, object] | None = None, **options: Any) -> Store:
        """A new on-disk store in folder ``path`` with ``rules`` and ``params``."""
        from graphcrime.store_api import create
        return create(cls, path, rules, params, **options)

    @classmethod
    def open(cls, path: PathLike, **options: Any) -> Store:
        """Open the on-disk store in folder ``path`` (``read_only``, ``timeout``, ...)."""
        return cls(path=path, **options)

    def add(self, *paths: PathLike | Iterable[PathLike], **limits: Any) -> dict[str, Any]:
        """Add the triples of N-Triples files as input facts, maintaining what follows."""
        from graphcrime.store_api import add
        return add(self, expand(_flatten(paths)), **limits)

    def retract(self, *paths: PathLike | Iterable[PathLike], **limits: Any) -> dict[str, Any]:
        """Retract the triples of N-Triples files (input facts), maintaining what follows."""
        from graphcrime.store_api import retract
        return retract(self, expand(_flatten(paths)), **limits)

    def prune(self, before: Any, **options: Any) -> dict[str, Any]:
        """Retract every transaction dated before ``before`` with all of its triples."""
        from graphcrime.store_api import prune
        return prune(self, before, **options)

    def set_rules(self, rules: PathLike | Program | Iterable[PathLike | Program],
                  params: Mapping[str, object] | None = None, **limits: Any) -> dict[str, Any]:
        """Replace the store's rules and parameters, recomputing what they change."""
        from graphcrime.store_api import set_rules
        return set_rules(self, load_program(rules), params, **limits)

    def info(self) -> dict[str, Any]:
        """Facts, terms, rules, parameters, rounds and size on disk."""
        from graphcrime.store_api import info
        return info(self)

    @property
    def path(self) -> Path | None:
        """The folder of an on-disk store (None in memory)."""
        return None if self._disk is None else self._disk.folder


def load_program(rules: PathLike | Program | Iterable[PathLike | Program]) -> Program:
    """One program from rule files and/or parsed programs (rules in the order given)."""
    items = [rules] if isinstance(rules, (str, Path, Program)) else list(rules)
    programs = [r for r in items if isinstance(r, Program)]
    files = [str(r) for r in items if not isinstance(r, Program)]
    if files:
        for f in files:
            if not Path(f).is_file():
                raise DataError(f"{f} is not a file", file=f, hint="check the rule file path")
        programs.append(parse_files(files))
    if not programs:
        return Program(())
    merged = programs[0]
    for other in programs[1:]:
        merged = merged.merged(other)
    return merged


def reason(data: PathLike | Iterable[PathLike], rules: PathLike | Iterable[PathLike],
           params: Mapping[str, object] | None = None, **options: Any) -> Store:
    """Load ``data``, materialise ``rules`` and return the open :class:`Store`.

    ``gc.reason(data="out/*.nt", rules="rules/suspicious-chains.dlog")``
    """
    return reasoned(Store(**options), data, rules, params)


R = TypeVar("R", bound=Reasoning)


def reasoned(store: R, data: PathLike | Iterable[PathLike], rules: PathLike | Iterable[PathLike],
             params: Mapping[str, object] | None = None) -> R:
    """``store`` with ``data`` loaded and ``rules`` materialised (closed if either fails)."""
    try:
        store.load(data)
        store.reason(rules, params)
    except BaseException:
        store.close()
        raise
    return store


__all__ = ["Reasoning", "Store", "expand", "load_program", "reason", "reasoned"]
