"""Parser of the RDFox Datalog dialect into :mod:`graphcrime.lang.ast`.

Directives ``@prefix p: <iri> .``, ``PREFIX p: <iri>``, ``@base <iri> .`` and ``BASE <iri>``;
the prefixes of :data:`graphcrime.vocab.STANDARD_PREFIXES` are predeclared. Relative IRIs are
resolved against the BASE in scope (RFC 3986). ``IRI(expr)``/``URI(expr)`` with a BASE in
scope becomes ``Call("IRI", (expr, IRI(base)))``, without one ``Call("IRI", (expr,))``: the
engine resolves a relative result against the second argument, as RDFox resolves
``IRI("abc")`` against the rule file's BASE (and SPARQL against the query base).

Other choices: keywords (NOT, EXISTS, IN, BIND, FILTER, AGGREGATE, ON, AS, DISTINCT) are
case-insensitive; function names are upper-cased, ``URI`` is stored as ``IRI``; ``?x IN (a, b)``
and ``?x NOT IN (...)`` become ``Call("IN"/"NOTIN", (x, a, b))``; ``NOT (a1, a2)`` negates a
conjunction without EXISTS variables; an unknown prefix is reported and parsing goes on. BASE
resolution uses :func:`urllib.parse.urljoin` (RFC 3986 for hierarchical schemes such as http).

>>> p = parse_program('@prefix : <http://e/> . :C[?x] :- [?x, :p, 1], FILTER(?x != :a) .')
>>> p.rules[0].head[0].p.value
'http://www.w3.org/1999/02/22-rdf-syntax-ns#type'
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from graphcrime.errors import RuleError
from graphcrime.lang.ast import (
    IRI,
    Aggregate,
    AggregateBind,
    Atom,
    Bind,
    BodyLiteral,
    Expr,
    Filter,
    Negation,
    Program,
    Rule,
    Term,
    TripleAtom,
    TupleAtom,
    Var,
)
from graphcrime.lang.lexer import Token
from graphcrime.lang.terms import TermParser
from graphcrime.vocab import RDF_TYPE

AGG_FUNCS = frozenset({"MIN", "MAX", "SUM", "COUNT", "AVG"})
KEYWORDS = frozenset({"NOT", "BIND", "FILTER", "AGGREGATE"})


class _Parser(TermParser):
    """Directives, rules, body literals and atoms; terms and expressions come from the base."""

    # ------------------------------------------------------------ program
    def program(self) -> Program:
        rules: list[Rule] = []
        while self.tok.kind != "EOF":
            start = self.i
            try:
                if not self.directive():
                    rules.append(self.rule())
            except RuleError as e:
                self.errors.append(e)
                self.recover(start)
        prefixes = tuple(self.prefixes.items())
        return Program(tuple(rules), prefixes, self.first_base)

    def recover(self, start: int) -> None:
        """Skip past the next '.' (the only statement terminator) at or after the error."""
        self.i = max(self.i, start)
        while self.tok.kind not in (".", "EOF"):
            self.i += 1
        if self.tok.kind == ".":
            self.i += 1

    def directive(self) -> bool:
        t = self.tok
        turtle = t.kind == "LANGTAG" and t.value in ("prefix", "base")
        sparql = t.kind == "NAME" and t.text.upper() in ("PREFIX", "BASE") and self.peek().kind in (
            "PNAME", "IRI")
        if not (turtle or sparql):
            if t.kind == "LANGTAG":
                raise self.err(f"unknown directive '{t.text}'", "use @prefix or @base")
            return False
        word = str(t.value if turtle else t.text).lower()
        self.i += 1
        if word == "prefix":
            name = self.tok
            if name.kind != "PNAME" or name.value[1]:  # type: ignore[index]
                raise self.unexpected("a prefix name such as 'p:'", "write @prefix p: <iri> .")
            self.i += 1
            iri = self.resolve(self.expect("IRI", "write the namespace IRI in <...>"))
            self.prefixes[name.value[0]] = iri  # type: ignore[index]
        else:
            self.base = self.resolve(self.expect("IRI", "write the base IRI in <...>"))
            if self.first_base is None:
                self.first_base = self.base
        if turtle:
            self.expect(".", "end a @-directive with '.'")
        return True

    def rule(self) -> Rule:
        start = self.pos()
        head = [self.atom()]
        while self.tok.kind == ",":
            self.i += 1
            head.append(self.atom())
        body: list[BodyLiteral] = []
        if self.tok.kind == ":-":
            self.i += 1
            body = self.body()
        self.expect(".", "end each rule and fact with '.'")
        return Rule(tuple(head), tuple(body), start)

    def body(self) -> list[BodyLiteral]:
        out = [self.literal()]
        while self.tok.kind == ",":
            self.i += 1
            out.append(self.literal())
        return out

    # ------------------------------------------------------------ body literals
    def literal(self) -> BodyLiteral:
        t = self.tok
        if t.kind == "NAME" and t.text.upper() in KEYWORDS:
            word = t.text.upper()
            self.i += 1
            if word == "NOT":
                return self.negation(t)
            if word == "BIND":
                self.expect("(", "write BIND(expr AS ?v)")
                e = self.expr()
                self.expect_kw("AS", "write BIND(expr AS ?v)")
                v = self.var()
                self.expect(")", "close BIND(...)")
                return Bind(e, v, self.pos(t))
            if word == "FILTER":
                self.expect("(", "write FILTER(expr)")
                e = self.expr()
                self.expect(")", "close FILTER(...)")
                return Filter(e, self.pos(t))
            return self.aggregate(t)
        return self.atom()

    def negation(self, t: Token) -> Negation:
        exists: list[Var] = []
        if self.is_kw("EXISTS"):
            self.i += 1
            exists.append(self.var())
            while self.tok.kind == ",":
                self.i += 1
                exists.append(self.var())
            self.expect_kw("IN", "write NOT EXISTS ?v IN (atom, ...)")
        if self.tok.kind == "(":
            self.i += 1
            atoms = [self.atom()]
            while self.tok.kind == ",":
                self.i += 1
                atoms.append(self.atom())
            self.expect(")", "close the negated atoms with ')'")
        else:
            atoms = [self.atom()]
        return Negation(tuple(atoms), tuple(exists), self.pos(t))

    def aggregate(self, t: Token) -> Aggregate:
        self.expect("(", "write AGGREGATE(body ON ?g BIND MIN(?x) AS ?m)")
        body = self.body()
        group: list[Var] = []
        if self.is_kw("ON"):
            self.i += 1
            while self.tok.kind == "VAR":
                group.append(self.var())
        binds: list[AggregateBind] = []
        while self.is_kw("BIND") or (binds and self.tok.kind in ("NAME", ",")):
            if binds and self.tok.kind == ",":  # optional comma between the BINDs
                self.i += 1
            if self.is_kw("BIND"):
                self.i += 1
            binds.append(self.aggregate_bind())
        if not binds:
            raise self.unexpected("BIND f(...) AS ?v", "an AGGREGATE needs at least one BIND")
        self.expect(")", "close AGGREGATE(...)")
        return Aggregate(tuple(body), tuple(group), tuple(binds), self.pos(t))

    def aggregate_bind(self) -> AggregateBind:
        f = self.tok
        if f.kind != "NAME" or f.text.upper() not in AGG_FUNCS:
            raise self.unexpected("an aggregate function", "use MIN, MAX, SUM, COUNT or AVG")
        self.i += 1
        self.expect("(", f"write {f.text.upper()}(expr)")
        distinct = self.is_kw("DISTINCT")
        if distinct:
            self.i += 1
        arg: Expr | None
        if self.tok.kind == "*" and f.text.upper() == "COUNT":
            self.i += 1
            arg = None
        else:
            arg = self.expr()
        self.expect(")", "close the aggregate's argument")
        self.expect_kw("AS", "write f(expr) AS ?v")
        v = self.var()
        return AggregateBind(f.text.upper(), arg, v, distinct, self.pos(f))

    # ------------------------------------------------------------ atoms and terms
    def atom(self) -> Atom:
        t = self.tok
        if t.kind == "[":
            self.i += 1
            s = self.term()
            self.expect(",", "write [subject, predicate, object]")
            p = self.term()
            self.expect(",", "write [subject, predicate, object]")
            o = self.term()
            self.expect("]", "close the triple atom with ']'")
            return TripleAtom(s, p, o, self.pos(t))
        if t.kind in ("PNAME", "IRI") or (t.kind == "NAME" and t.text.upper() not in KEYWORDS):
            if t.kind == "NAME":
                name = t.text
            else:
                name = self.expand(t) if t.kind == "PNAME" else self.resolve(t)
            self.i += 1
            if self.tok.kind == "[":
                if t.kind == "NAME":
                    raise self.err(f"class/property shorthand needs an IRI, not '{name}'",
                                   "write p:Name[?x] with a declared prefix", t)
                self.i += 1
                args = self.terms("]")
                if len(args) == 1:
                    return TripleAtom(args[0], IRI(RDF_TYPE, self.pos(t)), IRI(name, self.pos(t)),
                                      self.pos(t))
                if len(args) == 2:
                    return TripleAtom(args[0], IRI(name, self.pos(t)), args[1], self.pos(t))
                raise self.err(f"shorthand atom with {len(args)} arguments",
                               "write C[?x] for a class or p[?x, ?y] for a property", t)
            if self.tok.kind == "(":
                self.i += 1
                return TupleAtom(name, tuple(self.terms(")")), self.pos(t))
            raise self.unexpected("'(' or '['", "write name(?x, ...) or C[?x] or p[?x, ?y]")
        raise self.unexpected("an atom", "write [s, p, o], C[?x], p[?x, ?y] or name(?x, ...)")

    def terms(self, close: str) -> list[Term]:
        out = [self.term()]
        while self.tok.kind == ",":
            self.i += 1
            out.append(self.term())
        self.expect(close, f"close the argument list with '{close}'")
        return out


def parse_program_collect(text: str, file: str | None = None) -> tuple[Program, list[RuleError]]:
    """Parse, recovering after a bad statement: the program and every error, in order.

    >>> p, errs = parse_program_collect('[?x, a, q:C] :- [?x, a, :D .')
    >>> [f"{e.line}:{e.col}" for e in errs]
    ['1:9', '1:25', '1:28']
    """
    parser = _Parser(text, file)
    prog = parser.program()
    # a syntax error after a bad character on the same line is its echo: drop it
    bad = {e.line: e.col or 0 for e in reversed(parser.lex_errors)}
    echoes = [e for e in parser.errors if not (e.line in bad and (e.col or 0) > bad[e.line])]
    errors = sorted(parser.lex_errors + echoes, key=lambda e: (e.line or 0, e.col or 0))
    return Program(prog.rules, prog.prefixes, prog.base, source=text), errors


def parse_program(text: str, file: str | None = None) -> Program:
    """Parse one rule file; raise the first RuleError (file:line:col and a hint) if any.

    >>> len(parse_program('PREFIX : <http://e/> :a[:b] . p(?x) :- :a[?x] .').rules)
    2
    """
    prog, errors = parse_program_collect(text, file)
    if errors:
        raise errors[0]
    return prog


def parse_files(paths: Iterable[str | Path]) -> Program:
    """Parse several files and merge them into one program (rules in file order)."""
    merged: Program | None = None
    for path in paths:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as e:
            raise RuleError(f"cannot read rule file: {e.strerror}", file=str(p),
                            hint="check the path") from None
        prog = parse_program(text, str(p))
        merged = prog if merged is None else merged.merged(prog)
    return merged if merged is not None else Program(())
