"""Dependency analysis and stratification of a program: what the engine evaluates, in order.

Rules are nodes; an edge ``r1 -> r2`` says that ``r2`` reads (in its body, under NOT, or in an
AGGREGATE) a predicate key that ``r1`` derives. Strata are the strongly connected components
in topological order (ties by source order; all facts first). A negative or aggregate edge
inside a component makes the program unstratifiable; the error names the cycle.

>>> from graphcrime.lang.parser import parse_program
>>> a = analyse(parse_program('''@prefix : <http://e/> .
... :A[?x] :- :B[?x] .
... :B[?x] :- :C[?x], NOT :A[?x] .'''))
>>> print(a.errors[0].message)
:B -> :A -> :B through NOT at <input>:3:19
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import networkx as nx

from graphcrime.errors import Position, RuleError
from graphcrime.lang.ast import (
    IRI,
    Aggregate,
    Atom,
    BodyLiteral,
    Negation,
    Program,
    Rule,
    TripleAtom,
    TupleAtom,
    Var,
)
from graphcrime.lang.printer import Printer
from graphcrime.vocab import RDF_TYPE

PredKey = tuple[str, str]
"""("t", p) triple with constant predicate p != rdf:type; ("c", C) [?, rdf:type, C];
("t", "*") variable predicate (matches every "t" and "c" key); ("c", "*") [?, rdf:type, ?v]
(matches every "c" key); ("tt", name) tuple table."""


def _const_text(t: object) -> str:
    return t.value if isinstance(t, IRI) else repr(t)


def pred_key(atom: Atom) -> PredKey:
    """The predicate key an atom reads or derives.

    >>> pred_key(TripleAtom(Var("x"), IRI(RDF_TYPE), IRI("http://e/C")))
    ('c', 'http://e/C')
    >>> pred_key(TripleAtom(Var("x"), Var("p"), Var("y")))
    ('t', '*')
    """
    if isinstance(atom, TupleAtom):
        return ("tt", atom.name)
    if isinstance(atom.p, Var):
        return ("t", "*")
    if atom.p == IRI(RDF_TYPE):
        return ("c", "*") if isinstance(atom.o, Var) else ("c", _const_text(atom.o))
    return ("t", _const_text(atom.p))


def keys_overlap(a: PredKey, b: PredKey) -> bool:
    """Whether an atom with key ``a`` can match a fact of an atom with key ``b``.

    >>> keys_overlap(("t", "*"), ("c", "http://e/C")), keys_overlap(("c", "*"), ("t", "http://e/p"))
    (True, False)
    """
    if a == b:
        return True
    if a[0] == "tt" or b[0] == "tt":
        return False
    if a == ("t", "*") or b == ("t", "*"):
        return True
    return a[0] == b[0] == "c" and "*" in (a[1], b[1])


@dataclass(frozen=True)
class Stratum:
    rules: tuple[Rule, ...]  # in source order
    heads: frozenset[PredKey]  # keys derived by these rules
    recursive: bool  # some rule reads (positively) a key derived in this stratum


@dataclass(frozen=True)
class Analysis:
    program: Program
    strata: tuple[Stratum, ...]  # evaluation order
    errors: tuple[RuleError, ...]


@dataclass(frozen=True)
class Read:
    """One body atom's key, how it is read (``+``, ``NOT`` or ``AGGREGATE``) and where."""

    key: PredKey
    how: str
    pos: Position


def body_reads(body: tuple[BodyLiteral, ...], how: str = "+",
               at: Position | None = None) -> Iterator[Read]:
    """Every atom key a body reads; atoms under NOT/AGGREGATE report that literal's position."""
    for lit in body:
        if isinstance(lit, (TripleAtom, TupleAtom)):
            yield Read(pred_key(lit), how, at or lit.pos)
        elif isinstance(lit, Negation):
            for a in lit.atoms:
                yield Read(pred_key(a), "NOT" if how == "+" else how, at or lit.pos)
        elif isinstance(lit, Aggregate):
            yield from body_reads(lit.body, "AGGREGATE" if how == "+" else how, at or lit.pos)


def key_text(key: PredKey, printer: Printer) -> str:
    """A key as a user reads it: a shortened IRI, a tuple-table name, or a wildcard."""
    kind, name = key
    if name == "*":
        return "[?s, a, ?class]" if kind == "c" else "[?s, ?p, ?o]"
    if kind == "tt":
        return printer.iri(name) if ":" in name else name
    return printer.iri(name) if ":" in name else name


def _graph(rules: tuple[Rule, ...]) -> nx.MultiDiGraph:
    """Rules with a body only: facts read nothing and sit in the first stratum anyway."""
    g = nx.MultiDiGraph()
    proper = [i for i, r in enumerate(rules) if not r.is_fact]
    g.add_nodes_from(proper)
    heads = {i: sorted({pred_key(a) for a in rules[i].head}) for i in proper}
    for j in proper:
        for read in body_reads(rules[j].body):
            for i, hs in heads.items():
                for h in hs:
                    if keys_overlap(h, read.key):
                        g.add_edge(i, j, key=(h, read), how=read.how)
                        break
    return g


def _cycle_error(g: nx.MultiDiGraph, scc: set[int], p: int, c: int, head: PredKey, read: Read,
                 rules: tuple[Rule, ...], printer: Printer) -> RuleError:
    sub = g.subgraph(scc)
    path = nx.shortest_path(sub, c, p)  # c's heads feed ... feed p
    keys = []
    for u, v in zip(path, path[1:], strict=False):
        keys.append(next(iter(g.get_edge_data(u, v)))[0])
    if keys:
        chain = [keys[0], head, *reversed(keys[1:]), keys[0]]
    else:
        chain = [head, head]
    text = " -> ".join(key_text(k, printer) for k in chain)
    what = "negation" if read.how == "NOT" else "aggregation"
    return RuleError(
        f"{text} through {read.how} at {read.pos}",
        file=read.pos.file, line=read.pos.line, col=read.pos.col,
        hint=f"the program is not stratifiable: {what} through recursion; "
             "break the cycle or derive the negated/aggregated facts in an earlier rule set",
    )


def analyse(program: Program) -> Analysis:
    """Stratify ``program``; user errors are collected in ``errors``, never raised."""
    rules = program.rules
    printer = Printer(program.prefixes, program.base)
    g = _graph(rules)
    facts = [i for i, r in enumerate(rules) if r.is_fact]
    cond = nx.condensation(nx.DiGraph(g))
    members = cond.graph["mapping"]
    comps: dict[int, list[int]] = {}
    for node, comp in members.items():
        comps.setdefault(comp, []).append(node)
    order = nx.lexicographical_topological_sort(cond, key=lambda c: min(comps[c]))
    strata: list[Stratum] = []
    if facts:
        fact_rules = tuple(rules[i] for i in facts)
        strata.append(Stratum(fact_rules, frozenset(pred_key(a) for r in fact_rules
                                                    for a in r.head), False))
    errors: list[RuleError] = []
    seen: set[tuple[int, Position]] = set()
    for comp in order:
        idx = sorted(i for i in comps[comp] if not rules[i].is_fact)
        if not idx:
            continue
        scc = set(idx)
        recursive = False
        for u, v, (head, read) in g.subgraph(scc).edges(keys=True):
            if read.how == "+":
                recursive = True
            elif (v, read.pos) not in seen:
                seen.add((v, read.pos))
                errors.append(_cycle_error(g, scc, u, v, head, read, rules, printer))
        members_ = tuple(rules[i] for i in idx)
        strata.append(Stratum(members_, frozenset(pred_key(a) for r in members_ for a in r.head),
                              recursive))
    errors.sort(key=lambda e: (e.file or "", e.line or 0, e.col or 0))
    return Analysis(program, tuple(strata), tuple(errors))


def merge_recursive(strata: tuple[Stratum, ...]) -> tuple[Stratum, ...]:
    """The strata to evaluate: a recursive stratum that reads a recursive group's facts only
    positively joins that group's fixpoint loop (same least model, fewer rounds, and each
    round's new facts meet the previous round's: ``containsTransaction`` copied from a chain
    to its extension as the extension is derived, not level by level afterwards). It joins
    the latest group it reads, so everything it needs is derived before or with it; a
    stratum that reads a group through NOT or AGGREGATE still waits for the group to end.

    >>> from graphcrime.lang.parser import parse_program
    >>> p = parse_program("@prefix : <http://e/> . "
    ...     "[?x, :c, ?z] :- [?x, :c, ?y], [?y, :e, ?z] . "
    ...     "[?x, :d, ?z] :- [?x, :c, ?y], [?y, :d, ?z] . "
    ...     "[?x, :n, ?y] :- [?x, :e, ?y], NOT [?x, :d, ?y] .")
    >>> strata = analyse(p).strata
    >>> [len(s.rules) for s in strata], [len(s.rules) for s in merge_recursive(strata)]
    ([1, 1, 1], [2, 1])
    """
    groups: list[Stratum] = []
    for st in strata:
        reads = [r for rule in st.rules for r in body_reads(rule.body)]
        fed = [i for i, g in enumerate(groups)
               if any(keys_overlap(h, r.key) for h in g.heads for r in reads)]
        last = max(fed, default=-1)
        g = groups[last] if last >= 0 else None
        if st.recursive and g is not None and g.recursive and not any(
                keys_overlap(h, r.key) for h in g.heads for r in reads if r.how != "+"):
            groups[last] = Stratum(g.rules + st.rules, g.heads | st.heads, True)
        else:
            groups.append(st)
    return tuple(groups)

