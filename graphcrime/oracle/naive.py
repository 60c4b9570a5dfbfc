"""The naive evaluator: a deliberately simple tuple-at-a-time oracle for the engine's tests.

Every rule of a stratum is recomputed from scratch each round until nothing new appears;
terms are canonical N-Triples strings (docs/architecture.md), so its output compares directly
with the engine's dump. It shares no evaluation code with the engine; clarity over speed.

>>> from graphcrime.lang.ast import IRI, Rule, TripleAtom, Var, Program
>>> p, q = IRI("http://e/p"), IRI("http://e/q")
>>> x, y, z = Var("x"), Var("y"), Var("z")
>>> prog = Program((Rule((TripleAtom(x, q, y),), (TripleAtom(x, p, y),)),
...                 Rule((TripleAtom(x, q, z),), (TripleAtom(x, q, y), TripleAtom(y, p, z)))))
>>> facts = {("<http://e/a>", "<http://e/p>", "<http://e/b>"),
...          ("<http://e/b>", "<http://e/p>", "<http://e/c>")}
>>> triples, _ = evaluate(prog, facts)
>>> sorted(o for s, p_, o in triples if p_ == "<http://e/q>" and s == "<http://e/a>")
['<http://e/b>', '<http://e/c>']
"""

from __future__ import annotations

from collections.abc import Mapping

from graphcrime.compile.analysis import Analysis, analyse
from graphcrime.lang.ast import (
    Aggregate,
    Atom,
    Bind,
    Filter,
    Negation,
    Program,
    Rule,
    TripleAtom,
    TupleAtom,
    Var,
    term_nt,
)
from graphcrime.nt import literal_nt, param_nt
from graphcrime.oracle.expr import ExprError, Row, ebv, eval_expr
from graphcrime.oracle.expr import aggregate as run_aggregate
from graphcrime.vocab import PARAM_TABLE

Triple = tuple[str, str, str]


class _State:
    def __init__(self, triples: set[Triple], tuples: dict[str, set[tuple[str, ...]]]) -> None:
        self.triples: set[Triple] = set()
        self.by_p: dict[str, set[Triple]] = {}
        self.add(triples)
        self.tuples = tuples
        self._index: dict[tuple[str, tuple[int, ...]], tuple[int, dict]] = {}

    def _lookup(self, atom: TupleAtom, row: Row) -> list[tuple[str, ...]]:
        """Rows of a tuple table that agree with the atom's constants and bound variables;
        a plain hash index per (table, size, bound positions), rebuilt when the table grows."""
        table = self.tuples.get(atom.name, set())
        known = {i: (row[t.name] if isinstance(t, Var) else term_nt(t))
                 for i, t in enumerate(atom.args) if not isinstance(t, Var) or t.name in row}
        if not known:
            return list(table)
        positions = tuple(sorted(known))
        cache_key = (atom.name, positions)
        entry = self._index.get(cache_key)
        if entry is None or entry[0] != len(table):
            index: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
            for fact in table:
                if len(fact) > positions[-1]:
                    index.setdefault(tuple(fact[i] for i in positions), []).append(fact)
            entry = (len(table), index)
            self._index[cache_key] = entry
        return entry[1].get(tuple(known[i] for i in positions), [])

    def add(self, triples: set[Triple]) -> bool:
        new = triples - self.triples
        self.triples |= new
        for t in new:
            self.by_p.setdefault(t[1], set()).add(t)
        return bool(new)

    def match(self, atom: Atom, row: Row) -> list[Row]:
        """Every extension of ``row`` that makes ``atom`` a fact."""
        if isinstance(atom, TripleAtom) and isinstance(atom.p, Var):
            candidates: list[tuple[str, ...]] = list(self.triples)
        elif isinstance(atom, TripleAtom):
            candidates = list(self.by_p.get(term_nt(atom.p), ()))
        else:
            candidates = self._lookup(atom, row)
        out = []
        for fact in candidates:
            if len(fact) != len(atom.args):
                continue
            new = dict(row)
            for term, value in zip(atom.args, fact, strict=True):
                if isinstance(term, Var):
                    if new.setdefault(term.name, value) != value:
                        break
                elif term_nt(term) != value:
                    break
            else:
                out.append(new)
        return out


def _ready(lit: object, bound: set[str]) -> bool:
    from graphcrime.compile.checks import expr_vars

    if isinstance(lit, Bind | Filter):
        return {v.name for v in expr_vars(lit.expr)} <= bound
    if isinstance(lit, Negation):
        inner = {v.name for v in lit.exists}
        return {v.name for a in lit.atoms for v in a.variables()} - inner <= bound
    return True


def _solve(body: tuple, state: _State, row: Row) -> list[Row]:
    """All bindings of ``body``; BIND/FILTER/NOT wait until their variables are bound."""
    rows = [row]
    pending = list(body)
    while pending and rows:
        bound = set(rows[0])
        lit = next((x for x in pending if _ready(x, bound)), pending[0])
        pending.remove(lit)
        rows = [r2 for r in rows for r2 in _apply(lit, state, r)]
    return rows


def _apply(lit: object, state: _State, row: Row) -> list[Row]:
    if isinstance(lit, TripleAtom | TupleAtom):
        return state.match(lit, row)
    if isinstance(lit, Filter):
        try:
            return [row] if ebv(eval_expr(lit.expr, row)) else []
        except ExprError:
            return []
    if isinstance(lit, Bind):
        try:
            value = eval_expr(lit.expr, row)
        except ExprError:
            return []
        old = row.get(lit.var.name)
        if old is not None:
            return [row] if old == value else []
        return [{**row, lit.var.name: value}]
    if isinstance(lit, Negation):
        outer = {k: v for k, v in row.items() if k not in {x.name for x in lit.exists}}
        return [] if _solve(lit.atoms, state, outer) else [row]
    if isinstance(lit, Aggregate):
        return _aggregate(lit, state, row)
    raise TypeError(f"unknown body literal {lit!r}")


def _aggregate(agg: Aggregate, state: _State, row: Row) -> list[Row]:
    keys = [v.name for v in agg.group_by]
    start = {k: row[k] for k in keys if k in row}
    groups: dict[tuple[str, ...], list[Row]] = {}
    for r in _solve(agg.body, state, start):
        groups.setdefault(tuple(r[k] for k in keys), []).append(r)
    out = []
    for key, members in groups.items():
        new = {**row, **dict(zip(keys, key, strict=True))}
        try:
            for b in agg.binds:
                value = run_aggregate(b.func, b.arg, b.distinct, members)
                if new.setdefault(b.var.name, value) != value:
                    raise ExprError("aggregate result differs from bound value")
        except ExprError:
            continue
        out.append(new)
    return out


def _head_facts(rule: Rule, state: _State) -> tuple[set[Triple], dict[str, set[tuple[str, ...]]]]:
    triples: set[Triple] = set()
    tuples: dict[str, set[tuple[str, ...]]] = {}
    for row in _solve(rule.body, state, {}):
        for atom in rule.head:
            try:
                values = tuple(row[t.name] if isinstance(t, Var) else term_nt(t)
                               for t in atom.args)
            except KeyError:
                continue
            if isinstance(atom, TripleAtom):
                s, p, o = values
                if s.startswith('"') or not p.startswith("<"):
                    continue  # not a valid RDF triple: dropped, as RDFox does
                triples.add((s, p, o))
            else:
                tuples.setdefault(atom.name, set()).add(values)
    return triples, tuples


def evaluate(
    program_or_analysis: Program | Analysis,
    facts: set[Triple],
    params: Mapping[str, object] | None = None,
    tuples: dict[str, set[tuple[str, ...]]] | None = None,
) -> tuple[set[Triple], dict[str, set[tuple[str, ...]]]]:
    """Materialise the program over ``facts``; return all triples (input included) and tuples.

    ``params`` become ``gc:param(name, value)`` tuples and replace the program's default
    facts of the same name. Blank nodes in rule facts are kept with their label.
    """
    analysis = (program_or_analysis if isinstance(program_or_analysis, Analysis)
                else analyse(program_or_analysis))
    if analysis.errors:
        raise analysis.errors[0]
    params = dict(params or {})
    state = _State(set(facts), {k: set(v) for k, v in (tuples or {}).items()})
    if params:
        table = state.tuples.setdefault(PARAM_TABLE, set())
        table -= {t for t in table if t and t[0] in {literal_nt(n) for n in params}}
        table |= {(literal_nt(n), param_nt(v)) for n, v in params.items()}
    overridden = {literal_nt(n) for n in params}
    for stratum in analysis.strata:
        changed = True
        while changed:
            changed = False
            for rule in stratum.rules:
                new_t, new_tt = _head_facts(rule, state)
                if rule.is_fact:
                    new_tt.get(PARAM_TABLE, set()).difference_update(
                        {t for t in new_tt.get(PARAM_TABLE, set()) if t[:1] and
                         t[0] in overridden})
                if state.add(new_t):
                    changed = True
                for name, rows in new_tt.items():
                    table = state.tuples.setdefault(name, set())
                    if not rows <= table:
                        table |= rows
                        changed = True
    return state.triples, state.tuples


__all__ = ["evaluate"]
