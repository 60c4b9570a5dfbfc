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
import resource
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from graphcrime.db import scalar
from graphcrime.engine.seminaive import materialise
from graphcrime.engine.store import FactStore
from graphcrime.errors import DataError
from graphcrime.lang.ast import Program
from graphcrime.lang.parser import parse_files
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


def peak_rss_bytes() -> int:
    """Peak resident memory of this process."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb if sys.platform == "darwin" else kb * 1024


class Store:
    """An in-memory RDF store with a Datalog reasoner (DuckDB underneath).

    ``memory_limit`` ("8Gi" or bytes) caps DuckDB's memory (it spills to ``temp_dir``
    beyond it); ``threads`` defaults to every core; ``progress`` (a callable taking a stage
    name and a count) is told about each reasoning round.
    """

    def __init__(self, memory_limit: int | str | None = None, threads: int | None = None,
                 temp_dir: PathLike | None = None,
                 progress: bool | Callable[[str, int], None] = False) -> None:
        self._facts = FactStore(memory_limit=memory_limit, threads=threads, temp_dir=temp_dir)
        self.con = self._facts.con
        self._progress = progress
        self.seconds: dict[str, float] = {}
        self.input_facts = 0
        self.derived_facts = 0

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
        """Load N-Triples (``.nt``/``.nt.gz``; ``.nq``/``.ttl`` too) files or globs."""
        files = expand(_flatten(paths))
        t0 = time.perf_counter()
        added = self._facts.all_or_nothing(lambda: self._load_files(files))
        self._facts.pack()
        self.input_facts += added
        secs = time.perf_counter() - t0
        self.seconds["load"] = self.seconds.get("load", 0.0) + secs
        return {"triples": added, "files": len(files), "seconds": round(secs, 3)}

    def _load_files(self, files: list[Path]) -> int:
        """Small files in one batch, big N-Triples files piece by piece (bounded memory)."""
        from graphcrime.rdf import chunks
        from graphcrime.rdf.load import load_ntriples

        def batch(paths: list[Path], lines: dict[str, int] | None = None) -> int:
            load_ntriples(self.con, [str(f) for f in paths], target="_loaded", lines=lines,
                          distinct=False)  # add_loaded de-duplicates
            n = self._facts.add_loaded("_loaded")
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
               params: Mapping[str, object] | None = None, *,
               max_derived_facts: int | None = None,
               timeout_seconds: float | None = None) -> dict[str, Any]:
        """Materialise rule files (or parsed programs) with job ``params``; return a summary."""
        program = load_program(rules)
        t0 = time.perf_counter()
        progress = self._progress if callable(self._progress) else None
        report = materialise(self._facts, program, params, max_derived_facts=max_derived_facts,
                             timeout_seconds=timeout_seconds, progress=progress)
        self.derived_facts += report.derived
        secs = time.perf_counter() - t0
        self.seconds["reason"] = self.seconds.get("reason", 0.0) + secs
        return {"derived_facts": report.derived, "rounds": report.rounds,
                "strata": report.strata, "seconds": round(secs, 3)}

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
        parts = [f"SELECT s, {p}::INTEGER AS p, o FROM {t} WHERE r > 0"
                 for p, t in sorted(self._facts.preds.items())]
        return "(" + (" UNION ALL ".join(parts) or
                      "SELECT NULL::INTEGER s, NULL::INTEGER p, NULL::INTEGER o LIMIT 0") + ")"

    def derived_counts(self) -> dict[str, dict[str, int]]:
        """Derived facts per predicate IRI and per class IRI (``rdf:type``)."""
        preds: dict[str, int] = {}
        classes: dict[str, int] = {}
        for p, t in sorted(self._facts.preds.items()):
            n = scalar(self.con, f"SELECT count(*) FROM {t} WHERE r > 0")
            if not n:
                continue
            iri = scalar(self.con, f"SELECT lex FROM terms WHERE id = {p}")
            preds[iri] = int(n)
            if iri == RDF_TYPE:
                for lex, c in self.con.execute(
                        f"SELECT terms.lex, count(*) FROM {t} JOIN terms ON terms.id = {t}.o "
                        f"WHERE r > 0 GROUP BY terms.lex ORDER BY terms.lex").fetchall():
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
        self._facts.close()


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
    store = Store(**options)
    store.load(data)
    store.reason(rules, params)
    return store


__all__ = ["Store", "expand", "load_program", "reason"]
