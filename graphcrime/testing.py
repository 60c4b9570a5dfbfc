"""Adapter for the ``datalog-conformance`` suite: Soufflé/Prolog-like programs on graphcrime.

The suite hands ``evaluate`` a program of YAML facts and rule strings such as
``path(X, Y) :- edge(X, Z), path(Z, Y).``; bare identifiers are variables, quoted text and
numbers are constants, ``_`` is anonymous, ``not`` negates, ``(n <= 25)`` filters and
arithmetic in a head becomes a BIND. Predicates become tuple tables of graphcrime's AST;
variables that occur only under ``not`` are existential there (Nemo's reading, ``NOT EXISTS``).
Errors carry ``code`` (``arity_mismatch``, ``cyclic_negation``, ``unbound_variable``,
``safety_violations``) as the suite expects.

>>> from datalog_conformance.schema import Program as P
>>> m = ConformanceEvaluator().evaluate(P(facts={"e": [[1, 2], [2, 3]]},
...     rules=["p(X, Y) :- e(X, Y).", "p(X, Y) :- e(X, Z), p(Z, Y)."]))
>>> sorted(m.facts["p"])
[(1, 2), (1, 3), (2, 3)]
"""

from __future__ import annotations

import functools
import re
from typing import Any

from graphcrime.compile.analysis import analyse
from graphcrime.db import scalar
from graphcrime.errors import RuleError
from graphcrime.lang.ast import (
    Bind,
    BinOp,
    Expr,
    Filter,
    Literal,
    Negation,
    Program,
    Rule,
    TupleAtom,
    Var,
)
from graphcrime.nt import literal_nt, parse_nt
from graphcrime.oracle.naive import evaluate as naive_evaluate
from graphcrime.vocab import XSD_INTEGER, XSD_STRING

_TOKEN = re.compile(r'\s*(?:(?P<str>"[^"]*")|(?P<num>\d+)|(?P<id>[A-Za-z_][A-Za-z0-9_]*)'
                    r'|(?P<op>:-|<=|>=|!=|[(),.+\-*/<>=]))')


class SafetyViolationError(RuleError):
    """A variable the rule cannot bind (``code`` says which kind)."""


def _error(code: str, message: str, cls: type[RuleError] = RuleError) -> RuleError:
    err = cls(message, hint="see the datalog-conformance case's rule text")
    err.code = code  # type: ignore[attr-defined]
    return err


def _const(value: Any) -> str:
    if isinstance(value, bool):
        return literal_nt(str(value).lower(), XSD_STRING)
    if isinstance(value, int):
        return literal_nt(str(value), XSD_INTEGER)
    return literal_nt(str(value))


@functools.lru_cache(maxsize=1 << 16)
def _scalar(nt: str) -> Any:
    _, lex, dt, _ = parse_nt(nt)
    return int(lex) if dt == XSD_INTEGER else lex


class _RuleParser:
    """Recursive descent over one rule string."""

    def __init__(self, text: str, fresh: list[int]) -> None:
        self.text = text
        self.toks = [(m.lastgroup, m.group(m.lastgroup or "")) for m in _TOKEN.finditer(text)
                     if m.lastgroup]
        self.i = 0
        self.fresh = fresh
        self.extra: list[Bind | Filter] = []

    def peek(self) -> str | None:
        return self.toks[self.i][1] if self.i < len(self.toks) else None

    def take(self, want: str | None = None) -> tuple[str | None, str]:
        if self.i >= len(self.toks):
            raise _error("syntax", f"unexpected end of rule {self.text!r}")
        tok = self.toks[self.i]
        if want is not None and tok[1] != want:
            raise _error("syntax", f"expected {want!r} in {self.text!r}, found {tok[1]!r}")
        self.i += 1
        return tok

    def _new(self, prefix: str) -> Var:
        self.fresh[0] += 1
        return Var(f"{prefix}{self.fresh[0]}")

    def primary(self) -> Expr:
        kind, text = self.take()
        if text == "(":
            e = self.expr()
            self.take(")")
            return e
        if kind == "str":
            return Literal(text[1:-1])
        if kind == "num":
            return Literal(text, XSD_INTEGER)
        if kind == "id":
            return self._new("_anon") if text == "_" else Var(text)
        raise _error("syntax", f"unexpected {text!r} in {self.text!r}")

    def expr(self, level: int = 0) -> Expr:
        ops = [("<", "<=", ">", ">=", "=", "!="), ("+", "-"), ("*", "/")]
        if level == 3:
            return self.primary()
        left = self.expr(level + 1)
        while self.peek() in ops[level]:
            op = self.take()[1]
            left = BinOp(op, left, self.expr(level + 1))
        return left

    def arg(self) -> Var | Literal:
        e = self.expr(1)
        if isinstance(e, Var | Literal):
            return e
        v = self._new("_expr")
        self.extra.append(Bind(e, v))
        return v

    def atom(self) -> TupleAtom:
        name = self.take()[1]
        self.take("(")
        args = []
        while self.peek() != ")":
            args.append(self.arg())
            if self.peek() == ",":
                self.take(",")
        self.take(")")
        return TupleAtom(name, tuple(args))

    def literal(self) -> Any:
        if self.peek() == "not":
            self.take()
            return ("not", self.atom())
        if self.i + 1 < len(self.toks) and self.toks[self.i][0] == "id" and \
                self.toks[self.i + 1][1] == "(":
            return self.atom()
        return Filter(self.expr())

    def rule(self) -> tuple[TupleAtom, list[Any], list[Bind | Filter]]:
        head = self.atom()
        head_extra, self.extra = self.extra, []
        self.take(":-")
        body = [self.literal()]
        while self.peek() == ",":
            self.take(",")
            body.append(self.literal())
        if self.peek() == ".":
            self.take(".")
        if self.peek() is not None:
            raise _error("syntax", f"trailing text in {self.text!r}")
        return head, body + self.extra, head_extra


def _vars(x: Any) -> set[str]:
    if isinstance(x, Var):
        return {x.name}
    if isinstance(x, TupleAtom):
        return set().union(*(_vars(a) for a in x.args)) if x.args else set()
    if isinstance(x, BinOp):
        return _vars(x.left) | _vars(x.right)
    if isinstance(x, Bind | Filter):
        return _vars(x.expr)
    return set()


def translate(rules: list[str]) -> Program:
    """Suite rule strings -> a graphcrime Program of tuple-table rules (safety checked)."""
    fresh = [0]
    out = []
    for text in rules:
        head, body, head_extra = _RuleParser(text, fresh).rule()
        positive = set().union(*(_vars(b) for b in body if isinstance(b, TupleAtom)))
        for b in body:  # a BIND's variable is bound once its inputs are
            if isinstance(b, Bind) and _vars(b.expr) <= positive:
                positive.add(b.var.name)
        lits: list[Any] = []
        for b in body:
            if isinstance(b, tuple):
                local = tuple(Var(n) for n in sorted(_vars(b[1]) - positive))
                lits.append(Negation((b[1],), local))
            elif isinstance(b, Bind | Filter) and not _vars(b) <= positive:
                raise _error("unbound_variable", f"{text!r}: a variable in an expression is "
                             "not bound by a positive atom", SafetyViolationError)
            else:
                lits.append(b)
        anon_head = [a for a in head.args if isinstance(a, Var) and a.name.startswith("_anon")]
        if anon_head:
            raise _error("safety_violations", f"{text!r}: '_' in the head",
                         SafetyViolationError)
        free = _vars(head) - positive - {e.var.name for e in head_extra if isinstance(e, Bind)}
        if free or any(not _vars(e.expr) <= positive for e in head_extra):
            raise _error("unbound_variable", f"{text!r}: head variable(s) {sorted(free)} are not "
                         "bound by a positive body atom", SafetyViolationError)
        out.append(Rule((head,), tuple(lits + head_extra)))
    return Program(tuple(out))


class ConformanceEvaluator:
    """``evaluate(program) -> Model`` for ``datalog_conformance``'s runner.

    ``backend="engine"`` (the default) runs the DuckDB engine; ``"naive"`` graphcrime's naive
    evaluator (the engine's own test oracle).
    """

    def __init__(self, backend: str = "engine") -> None:
        self.backend = backend

    def evaluate(self, program: Any) -> Any:
        from datalog_conformance.schema import Model

        prog = translate(list(program.rules))
        arity: dict[str, int] = {}
        tables: dict[str, set[tuple[str, ...]]] = {}
        atoms = [(name, len(row)) for name, rows in program.facts.items() for row in rows]
        for rule in prog.rules:
            for lit in (*rule.head, *rule.body):
                for a in (lit.atoms if isinstance(lit, Negation) else (lit,)):
                    if isinstance(a, TupleAtom):
                        atoms.append((a.name, len(a.args)))
        for name, n in atoms:
            if arity.setdefault(name, n) != n:
                raise _error("arity_mismatch", f"{name} used with {arity[name]} and {n} "
                             "arguments")
        for name, rows in program.facts.items():
            tables[name] = {tuple(_const(v) for v in row) for row in rows}
        analysis = analyse(prog)
        if analysis.errors:
            first = analysis.errors[0]
            code = "cyclic_negation" if "NOT" in first.message else "cyclic_aggregation"
            raise _error(code, first.message)
        if self.backend == "naive":
            _, tuples = naive_evaluate(analysis, set(), tuples=tables)
        else:
            _, tuples = engine_evaluate(prog, tuples=tables)
        facts = {name: {tuple(_scalar(v) for v in row) for row in rows}
                 for name, rows in tuples.items()}
        return Model(facts=facts)


def engine_evaluate(prog: Program, facts: set[tuple[str, str, str]] | None = None,
                    params: dict[str, object] | None = None,
                    tuples: dict[str, set[tuple[str, ...]]] | None = None
                    ) -> tuple[set[tuple[str, str, str]], dict[str, set[tuple[str, ...]]]]:
    """The naive evaluator's signature on the engine: every triple (input included) and every
    tuple-table row, as canonical nt strings, after materialising ``prog``."""
    import pyarrow as pa

    from graphcrime.engine.seminaive import materialise
    from graphcrime.engine.store import FactStore
    from graphcrime.rdf.dictionary import intern

    store = FactStore(threads=1)
    con = store.con

    def register(cols: list[str], rows: list[tuple[str, ...]]) -> None:
        data = {c: pa.array([r[i] for r in rows], pa.string()) for i, c in enumerate(cols)}
        con.register("_facts", pa.table(data) if cols else pa.table({"x": [1] * len(rows)}))
        for c in cols:
            intern(con, "_facts", c)

    if facts:
        register(["s", "p", "o"], sorted(facts))
        con.execute("CREATE TABLE _loaded AS SELECT DISTINCT ts.id AS s, tp.id AS p, "
                    "tob.id AS o FROM _facts f JOIN terms ts ON ts.nt = f.s "
                    "JOIN terms tp ON tp.nt = f.p JOIN terms tob ON tob.nt = f.o")
        con.unregister("_facts")
        store.add_loaded("_loaded")
    for name, rows in (tuples or {}).items():
        if not rows:
            continue
        arity = len(next(iter(rows)))
        register([f"c{i}" for i in range(arity)], sorted(rows))
        table = store.tuple_table(name, arity)
        sel = ", ".join(f"t{i}.id" for i in range(arity))
        joins = " ".join(f"JOIN terms t{i} ON t{i}.nt = f.c{i}" for i in range(arity))
        con.execute(f"INSERT INTO {table} SELECT DISTINCT {sel}{', ' if sel else ''}0 "
                    f"FROM _facts f {joins}")
        con.unregister("_facts")
    materialise(store, prog, params)
    assert_no_duplicates(store)
    triples, out = fact_sets(store)
    store.close()
    return triples, out


def assert_no_duplicates(store: Any) -> None:
    """No table of ``store`` (a :class:`~graphcrime.engine.store.FactStore`) holds a fact
    twice."""
    con = store.con
    for table in list(store.preds.values()) + list(store.tuple_tables.values()):
        cols = [c[0] for c in con.execute(f"DESCRIBE {table}").fetchall() if c[0] != "r"]
        dupes = scalar(con, f"SELECT count(*) - (SELECT count(*) FROM (SELECT DISTINCT "
                            f"{', '.join(cols) or '1'} FROM {table})) FROM {table}")
        assert dupes == 0, f"{dupes} duplicate rows in {table}"


def fact_sets(store: Any, keep_empty: bool = True
              ) -> tuple[set[tuple[str, str, str]], dict[str, set[tuple[str, ...]]]]:
    """Every triple and tuple-table row of ``store`` (a
    :class:`~graphcrime.engine.store.FactStore`) as N-Triples strings; ``keep_empty`` also
    names the tuple tables that have no rows."""
    con = store.con
    triples = {(a, b, c) for a, b, c in con.execute(
        f"SELECT a.nt, b.nt, c.nt FROM {store.pattern_sql()} x JOIN terms a ON a.id = x.s "
        "JOIN terms b ON b.id = x.p JOIN terms c ON c.id = x.o").fetchall()}
    out: dict[str, set[tuple[str, ...]]] = {}
    for (name, arity), table in store.tuple_tables.items():
        sel = ", ".join(f"t{i}.nt" for i in range(arity))
        joins = " ".join(f"JOIN terms t{i} ON t{i}.id = x.c{i}" for i in range(arity))
        got = con.execute(f"SELECT {sel or '1'} FROM {table} x {joins}").fetchall()
        if got or keep_empty:
            out.setdefault(name, set()).update(tuple(r) if arity else () for r in got)
    return triples, out
