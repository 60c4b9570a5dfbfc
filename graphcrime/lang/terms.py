"""Token cursor and the parsing of terms and SPARQL-style expressions (the parser's base).

Expression precedence follows SPARQL: ``||`` < ``&&`` < comparisons and ``IN`` < ``+ -`` <
``* /`` < unary ``! - +``; ``-5`` written without a blank is a negative literal.

>>> from graphcrime.lang.parser import parse_program
>>> f = parse_program("p(?x) :- q(?x), FILTER(?x * 2 + 1 > -3) .").rules[0].body[1]
>>> f.expr.op, f.expr.left.op, f.expr.right.lex
('>', '+', '-3')
"""

from __future__ import annotations

import re
from typing import cast
from urllib.parse import urljoin

from graphcrime.errors import Position, RuleError
from graphcrime.lang.ast import IRI, BinOp, BNode, Call, Expr, Literal, Term, UnaryOp, Var
from graphcrime.lang.lexer import Token, tokenize
from graphcrime.vocab import (
    MODEL_PREFIXES,
    RDF_LANGSTRING,
    RDF_TYPE,
    STANDARD_PREFIXES,
    XSD_BOOLEAN,
    XSD_DECIMAL,
    XSD_DOUBLE,
    XSD_INTEGER,
)

_NUM_TYPES = {"INTEGER": XSD_INTEGER, "DECIMAL": XSD_DECIMAL, "DOUBLE": XSD_DOUBLE}
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_CMP = ("=", "!=", "<", "<=", ">", ">=")


class TermParser:
    """A cursor over one file's tokens with its prefixes and BASE; parses terms and expressions."""

    def __init__(self, text: str, file: str | None) -> None:
        self.file = file
        self.lex_errors: list[RuleError] = []
        self.toks = tokenize(text, file, self.lex_errors)
        self.i = 0
        self.prefixes: dict[str, str] = {}
        self.base: str | None = None
        self.first_base: str | None = None
        self.errors: list[RuleError] = []

    # ------------------------------------------------------------ helpers
    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def pos(self, t: Token | None = None) -> Position:
        t = t or self.tok
        return Position(self.file, t.line, t.col)

    def err(self, msg: str, hint: str, t: Token | None = None) -> RuleError:
        t = t or self.tok
        return RuleError(msg, file=self.file, line=t.line, col=t.col, hint=hint)

    def unexpected(self, wanted: str, hint: str | None = None) -> RuleError:
        t = self.tok
        found = "end of file" if t.kind == "EOF" else repr(t.text)
        return self.err(f"expected {wanted}, found {found}", hint or f"write {wanted} here")

    def is_kw(self, word: str, t: Token | None = None) -> bool:
        t = t or self.tok
        return t.kind == "NAME" and t.text.upper() == word

    def expect(self, kind: str, hint: str | None = None) -> Token:
        if self.tok.kind != kind:
            raise self.unexpected(repr(kind), hint)
        t = self.tok
        self.i += 1
        return t

    def expect_kw(self, word: str, hint: str | None = None) -> Token:
        if not self.is_kw(word):
            raise self.unexpected(word, hint)
        t = self.tok
        self.i += 1
        return t

    def resolve(self, t: Token) -> str:
        ref = str(t.value)
        if _SCHEME.match(ref):
            return ref
        if self.base is not None:
            return urljoin(self.base, ref)
        raise self.err(f"relative IRI <{ref}> without a BASE",
                       "declare BASE <http://...> first, or write an absolute IRI", t)

    def expand(self, t: Token) -> str:
        prefix, local = cast("tuple[str, str]", t.value)
        if prefix in self.prefixes:
            return self.prefixes[prefix] + local
        if prefix in STANDARD_PREFIXES:
            return STANDARD_PREFIXES[prefix] + local
        known = MODEL_PREFIXES.get(prefix)
        hint = f"add @prefix {prefix}: <{known or 'http://...'}> . before its first use"
        self.errors.append(self.err(f"unknown prefix '{prefix}:'", hint, t))
        return f"urn:graphcrime:unknown-prefix:{prefix}:{local}"


    # ------------------------------------------------------------ terms and expressions
    def var(self) -> Var:
        t = self.expect("VAR", "write a variable such as ?x")
        return Var(str(t.value), self.pos(t))

    def term(self) -> Term:
        t = self.tok
        if t.kind == "VAR":
            return self.var()
        if t.kind == "BNODE":
            self.i += 1
            return BNode(str(t.value), self.pos(t))
        if t.kind == "NAME" and t.text == "a":
            self.i += 1
            return IRI(RDF_TYPE, self.pos(t))
        c = self.constant()
        if c is None:
            raise self.unexpected("a term (variable, IRI or literal)",
                                  "write ?x, <iri>, p:name, \"text\", a number, true or false")
        return c

    def constant(self) -> IRI | Literal | None:
        t = self.tok
        if t.kind == "IRI":
            self.i += 1
            return IRI(self.resolve(t), self.pos(t))
        if t.kind == "PNAME":
            self.i += 1
            return IRI(self.expand(t), self.pos(t))
        if t.kind == "STRING":
            self.i += 1
            if self.tok.kind == "LANGTAG":
                lang = str(self.tok.value)
                self.i += 1
                return Literal(str(t.value), RDF_LANGSTRING, lang, self.pos(t))
            if self.tok.kind == "^^":
                self.i += 1
                dt = self.tok
                if dt.kind not in ("IRI", "PNAME"):
                    raise self.unexpected("a datatype IRI", "write \"lex\"^^xsd:type")
                self.i += 1
                iri = self.resolve(dt) if dt.kind == "IRI" else self.expand(dt)
                return Literal(str(t.value), iri, None, self.pos(t))
            return Literal(str(t.value), pos=self.pos(t))
        if t.kind in _NUM_TYPES:
            self.i += 1
            return Literal(t.text, _NUM_TYPES[t.kind], None, self.pos(t))
        if t.kind in ("+", "-") and self.peek().kind in _NUM_TYPES and self.peek().offset == (
            t.offset + 1
        ):
            n = self.peek()
            self.i += 2
            return Literal(t.text + n.text, _NUM_TYPES[n.kind], None, self.pos(t))
        if t.kind == "NAME" and t.text in ("true", "false"):
            self.i += 1
            return Literal(t.text, XSD_BOOLEAN, None, self.pos(t))
        return None

    # ------------------------------------------------------------ expressions
    def expr(self) -> Expr:
        return self.binary(0)

    _LEVELS: tuple[tuple[str, ...], ...] = (("||",), ("&&",), _CMP, ("+", "-"), ("*", "/"))

    def binary(self, level: int) -> Expr:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        ops = self._LEVELS[level]
        if ops is _CMP and (self.is_kw("IN") or (self.is_kw("NOT") and self.is_kw("IN",
                                                                                   self.peek()))):
            name = "IN" if self.is_kw("IN") else "NOTIN"
            self.i += 1 if name == "IN" else 2
            self.expect("(", f"write ?x {'NOT ' if name == 'NOTIN' else ''}IN (value, ...)")
            return self.call(name, self.toks[self.i - 1], (left,), left.pos)
        while self.tok.kind in ops:
            op = self.tok.kind
            self.i += 1
            right = self.binary(level + 1)
            left = BinOp(op, left, right, left.pos)
            if ops is _CMP:
                break
        return left

    def unary(self) -> Expr:
        t = self.tok
        if t.kind in ("!", "+", "-"):
            c = self.constant() if t.kind != "!" else None
            if c is not None:
                return c
            self.i += 1
            return UnaryOp(t.kind, self.unary(), self.pos(t))
        return self.primary()

    def primary(self) -> Expr:
        t = self.tok
        if t.kind == "(":
            self.i += 1
            e = self.expr()
            self.expect(")", "close the parenthesis")
            return e
        if t.kind == "VAR":
            return self.var()
        if t.kind == "NAME" and t.text not in ("true", "false"):
            if self.peek().kind != "(":
                raise self.err(f"unknown name '{t.text}' in an expression",
                               "call a function as NAME(...), or write a variable ?x", t)
            self.i += 2
            return self.call(t.text.upper(), t)
        if t.kind in ("PNAME", "IRI") and self.peek().kind == "(":
            name = self.expand(t) if t.kind == "PNAME" else self.resolve(t)
            self.i += 2
            return self.call(name, t)
        c = self.constant()
        if c is None:
            raise self.unexpected("an expression", "write a variable, a constant or f(...)")
        return c

    def call(self, name: str, t: Token, first: tuple[Expr, ...] = (),
             pos: Position | None = None) -> Call:
        """Arguments up to ')' (the '(' is consumed); ``first`` are prepended (``?x IN (..)``)."""
        args: list[Expr] = list(first)
        if self.tok.kind != ")":
            args.append(self.expr())
            while self.tok.kind == ",":
                self.i += 1
                args.append(self.expr())
        self.expect(")", f"close {name}(...)")
        if name == "URI":
            name = "IRI"
        if name == "IRI" and len(args) == 1 and self.base is not None:
            args.append(IRI(self.base, self.pos(t)))
        return Call(name, tuple(args), pos or self.pos(t))
