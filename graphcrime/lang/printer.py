"""Printer of :mod:`graphcrime.lang.ast` back to RDFox Datalog text.

``parse_program(format_program(p)) == p`` for every program the parser can produce. IRIs are
shortened with the program's prefixes (and the predeclared standard ones) when the local part
is a plain Turtle local name, otherwise written as ``<iri>``. ``IRI(e, <base>)`` calls whose
second argument is the program's BASE are printed as ``IRI(e)``. One limit: a one-argument
``IRI(e)`` call in a program that has a BASE cannot be printed faithfully (the parser would add
the BASE), so rule files with a BASE after an ``IRI(...)`` use are the one round-trip exception.

>>> from graphcrime.lang.parser import parse_program
>>> text = '@prefix : <http://e/> . :H[?x] :- [?x,:p,1], NOT :B[?x].'
>>> print(format_program(parse_program(text)), end="")
@prefix : <http://e/> .
<BLANKLINE>
[?x, a, :H] :-
    [?x, :p, 1],
    NOT [?x, a, :B] .
"""

from __future__ import annotations

import re

from graphcrime.lang.ast import (
    IRI,
    Aggregate,
    AggregateBind,
    Atom,
    Bind,
    BinOp,
    BNode,
    BodyLiteral,
    Call,
    Expr,
    Filter,
    Literal,
    Negation,
    Program,
    Rule,
    Term,
    TripleAtom,
    UnaryOp,
    Var,
)
from graphcrime.lang.lexer import _PN_CHARS, _PN_CHARS_BASE
from graphcrime.vocab import (
    RDF_LANGSTRING,
    RDF_TYPE,
    STANDARD_PREFIXES,
    XSD_BOOLEAN,
    XSD_DECIMAL,
    XSD_DOUBLE,
    XSD_INTEGER,
    XSD_STRING,
)

_LOCAL = re.compile(rf"(?:[{_PN_CHARS_BASE}_:0-9](?:[{_PN_CHARS}.:]*[{_PN_CHARS}:])?)?")
_NAME = re.compile(rf"[{_PN_CHARS_BASE}_][{_PN_CHARS_BASE}_0-9]*")
_BARE = {
    XSD_INTEGER: re.compile(r"[+-]?[0-9]+"),
    XSD_DECIMAL: re.compile(r"[+-]?[0-9]*\.[0-9]+"),
    XSD_DOUBLE: re.compile(r"[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)[eE][+-]?[0-9]+"),
    XSD_BOOLEAN: re.compile(r"true|false"),
}
_STR_ESC = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b",
            "\f": "\\f"}
_PREC = {"||": 1, "&&": 2, "=": 3, "!=": 3, "<": 3, "<=": 3, ">": 3, ">=": 3,
         "+": 4, "-": 4, "*": 5, "/": 5}


def quote(s: str) -> str:
    """A string literal in double quotes with escapes.

    >>> quote('say "hi"\\n')
    '"say \\\\"hi\\\\"\\\\n"'
    """
    return '"' + "".join(_STR_ESC.get(c, c) for c in s) + '"'


class Printer:
    """Prints terms, expressions, atoms and rules with one program's prefixes and BASE."""

    def __init__(self, prefixes: tuple[tuple[str, str], ...] = (), base: str | None = None):
        table = {k: v for k, v in STANDARD_PREFIXES.items()}
        table.update(dict(prefixes))
        # longest namespace first, so the most specific prefix wins
        self.namespaces = sorted(((v, k) for k, v in table.items()), key=lambda t: -len(t[0]))
        self.base = base

    def iri(self, value: str) -> str:
        for ns, prefix in self.namespaces:
            if value.startswith(ns) and _LOCAL.fullmatch(value[len(ns):]):
                return f"{prefix}:{value[len(ns):]}"
        return f"<{value}>"

    def term(self, t: Term) -> str:
        if isinstance(t, Var):
            return "?" + t.name
        if isinstance(t, IRI):
            return self.iri(t.value)
        if isinstance(t, BNode):
            return "_:" + t.label
        return self.literal(t)

    def literal(self, lit: Literal) -> str:
        if lit.lang is not None:
            return f"{quote(lit.lex)}@{lit.lang}"
        bare = _BARE.get(lit.datatype)
        if bare is not None and bare.fullmatch(lit.lex):
            return lit.lex
        if lit.datatype == XSD_STRING:
            return quote(lit.lex)
        if lit.datatype == RDF_LANGSTRING:  # no tag: only reachable by hand-built trees
            return f"{quote(lit.lex)}^^<{RDF_LANGSTRING}>"
        return f"{quote(lit.lex)}^^{self.iri(lit.datatype)}"

    # ------------------------------------------------------------ expressions
    def expr(self, e: Expr) -> str:
        if isinstance(e, BinOp):
            p = _PREC[e.op]
            left, right = self.expr(e.left), self.expr(e.right)
            lp, rp = _prec(e.left), _prec(e.right)
            if lp < p or (p == 3 and lp == 3):
                left = f"({left})"
            if rp <= p:
                right = f"({right})"
            return f"{left} {e.op} {right}"
        if isinstance(e, UnaryOp):
            arg = self.expr(e.arg)
            numeric = isinstance(e.arg, Literal) and arg[:1] in "0123456789."
            if _prec(e.arg) < 6 or numeric:
                arg = f"({arg})"
            return e.op + arg
        if isinstance(e, Call) and e.name in ("IN", "NOTIN") and e.args:
            left = self.expr(e.args[0])
            if _prec(e.args[0]) <= 3:
                left = f"({left})"
            rest = ", ".join(self.expr(a) for a in e.args[1:])
            return f"{left} {'IN' if e.name == 'IN' else 'NOT IN'} ({rest})"
        if isinstance(e, Call):
            args = e.args
            if (e.name == "IRI" and len(args) == 2 and self.base is not None
                    and args[1] == IRI(self.base)):
                args = args[:1]
            name = self.iri(e.name) if ":" in e.name else e.name
            return f"{name}({', '.join(self.expr(a) for a in args)})"
        return self.term(e)

    # ------------------------------------------------------------ atoms, literals, rules
    def atom(self, a: Atom) -> str:
        if isinstance(a, TripleAtom):
            p = "a" if a.p == IRI(RDF_TYPE) else self.term(a.p)
            return f"[{self.term(a.s)}, {p}, {self.term(a.o)}]"
        name = a.name if _NAME.fullmatch(a.name) else self.iri(a.name)
        return f"{name}({', '.join(self.term(t) for t in a.args)})"

    def body_literal(self, b: BodyLiteral) -> str:
        if isinstance(b, Bind):
            return f"BIND({self.expr(b.expr)} AS ?{b.var.name})"
        if isinstance(b, Filter):
            return f"FILTER({self.expr(b.expr)})"
        if isinstance(b, Negation):
            atoms = ", ".join(self.atom(a) for a in b.atoms)
            if len(b.atoms) > 1:
                atoms = f"({atoms})"
            if b.exists:
                names = ", ".join("?" + v.name for v in b.exists)
                return f"NOT EXISTS {names} IN {atoms}"
            return f"NOT {atoms}"
        if isinstance(b, Aggregate):
            parts = [", ".join(self.body_literal(x) for x in b.body)]
            if b.group_by:
                parts.append("ON " + " ".join("?" + v.name for v in b.group_by))
            parts.extend(self.aggregate_bind(ab) for ab in b.binds)
            return f"AGGREGATE({' '.join(parts)})"
        return self.atom(b)

    def aggregate_bind(self, ab: AggregateBind) -> str:
        arg = "*" if ab.arg is None else self.expr(ab.arg)
        distinct = "DISTINCT " if ab.distinct else ""
        return f"BIND {ab.func}({distinct}{arg}) AS ?{ab.var.name}"

    def rule(self, r: Rule) -> str:
        head = ", ".join(self.atom(a) for a in r.head)
        if not r.body:
            return head + " ."
        body = ",\n    ".join(self.body_literal(b) for b in r.body)
        return f"{head} :-\n    {body} ."


def _prec(e: Expr) -> int:
    if isinstance(e, BinOp):
        return _PREC[e.op]
    if isinstance(e, Call) and e.name in ("IN", "NOTIN") and e.args:
        return 3
    return 6 if isinstance(e, UnaryOp) else 7


def format_program(program: Program) -> str:
    """The program as RDFox Datalog text: BASE, prefixes, then one rule per paragraph."""
    pr = Printer(program.prefixes, program.base)
    lines = []
    if program.base is not None:
        lines.append(f"BASE <{program.base}>")
    lines.extend(f"@prefix {k}: <{v}> ." for k, v in program.prefixes)
    head = "\n".join(lines)
    rules = "\n\n".join(pr.rule(r) for r in program.rules)
    return "\n\n".join(part for part in (head, rules) if part) + "\n"


def format_rule(rule: Rule, program: Program | None = None) -> str:
    """One rule as text, shortened with ``program``'s prefixes (for error messages and logs)."""
    if program is None:
        return Printer().rule(rule)
    return Printer(program.prefixes, program.base).rule(rule)
