"""The syntax tree of an RDFox-dialect Datalog program.

The parser produces it, the printer prints it, the checks and the planner read it. Every
node that a user wrote keeps its source :class:`~graphcrime.errors.Position` (``pos``),
which is not part of equality, so that parse -> print -> parse gives an equal tree.

IRIs are stored absolute (prefixes and BASE already resolved); the :class:`Program` keeps
the prefix table so that the printer can shorten them again.

>>> x, y = Var("x"), Var("y")
>>> p = IRI("http://e/p")
>>> r = Rule(head=(TripleAtom(x, p, y),), body=(TripleAtom(y, p, x),))
>>> sorted(v.name for v in r.head[0].variables())
['x', 'y']
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from graphcrime.errors import Position
from graphcrime.nt import literal_nt
from graphcrime.vocab import XSD_STRING

_NOPOS = Position()


def _pos() -> Position:
    return field(default=_NOPOS, compare=False, repr=False)  # type: ignore[no-any-return]


# ---------------------------------------------------------------- terms


@dataclass(frozen=True)
class Var:
    """A variable ``?name``."""

    name: str
    pos: Position = _pos()


@dataclass(frozen=True)
class IRI:
    """An absolute IRI."""

    value: str
    pos: Position = _pos()


@dataclass(frozen=True)
class BNode:
    """A blank node ``_:label`` (allowed in facts only)."""

    label: str
    pos: Position = _pos()


@dataclass(frozen=True)
class Literal:
    """An RDF literal: lexical form plus datatype IRI, or a language tag.

    ``lang`` set means the datatype is ``rdf:langString``. Plain strings use ``xsd:string``.
    """

    lex: str
    datatype: str = XSD_STRING
    lang: str | None = None
    pos: Position = _pos()


def term_nt(t: object) -> str:
    """Canonical nt of a constant term (:class:`IRI`, :class:`BNode`, :class:`Literal`).

    >>> term_nt(Literal("1", lang="EN")), term_nt(IRI("http://e/a"))
    ('"1"@en', '<http://e/a>')
    """
    if isinstance(t, IRI):
        return f"<{t.value}>"
    if isinstance(t, BNode):
        return f"_:{t.label}"
    if isinstance(t, Literal):
        return literal_nt(t.lex, t.datatype, t.lang)
    raise ValueError(f"not a constant: {t!r}")


Constant = IRI | BNode | Literal
Term = Var | IRI | BNode | Literal


# ---------------------------------------------------------------- expressions


@dataclass(frozen=True)
class Call:
    """A built-in function call, name upper-cased: ``CONCAT(?a, "x")``, ``xsd:integer(?v)``.

    Casts are calls whose ``name`` is the datatype IRI (absolute), e.g.
    ``http://www.w3.org/2001/XMLSchema#integer``.

    ``IRI(e)``/``URI(e)``: with a BASE in scope the parser emits ``Call("IRI", (e, IRI(base)))``,
    without one ``Call("IRI", (e,))``; ``URI`` is stored as ``IRI``. The engine resolves a
    relative result against the second argument per RFC 3986 (as SPARQL does against the query
    base), the way RDFox resolves ``IRI("abc")`` against the rule file's BASE. The printer omits
    the second argument when it equals the program's BASE.
    """

    name: str
    args: tuple[Expr, ...]
    pos: Position = _pos()


@dataclass(frozen=True)
class BinOp:
    """``left op right`` with op in ``|| && = != < <= > >= + - * /``."""

    op: str
    left: Expr
    right: Expr
    pos: Position = _pos()


@dataclass(frozen=True)
class UnaryOp:
    """``op arg`` with op in ``! - +``."""

    op: str
    arg: Expr
    pos: Position = _pos()


Expr = Var | IRI | Literal | Call | BinOp | UnaryOp


# ---------------------------------------------------------------- atoms and body literals


@dataclass(frozen=True)
class TripleAtom:
    """``[s, p, o]``; also what ``C[?x]`` (class) and ``p[?x, ?y]`` (property) mean."""

    s: Term
    p: Term
    o: Term
    pos: Position = _pos()

    @property
    def args(self) -> tuple[Term, Term, Term]:
        return (self.s, self.p, self.o)

    def variables(self) -> Iterator[Var]:
        return (t for t in self.args if isinstance(t, Var))


@dataclass(frozen=True)
class TupleAtom:
    """A tuple-table atom ``name(t1, ..., tn)``; ``name`` is an absolute IRI or a bare name."""

    name: str
    args: tuple[Term, ...]
    pos: Position = _pos()

    def variables(self) -> Iterator[Var]:
        return (t for t in self.args if isinstance(t, Var))


Atom = TripleAtom | TupleAtom


@dataclass(frozen=True)
class Bind:
    """``BIND(expr AS ?var)``."""

    expr: Expr
    var: Var
    pos: Position = _pos()


@dataclass(frozen=True)
class Filter:
    """``FILTER(expr)``: keeps a binding when expr's effective boolean value is true."""

    expr: Expr
    pos: Position = _pos()


@dataclass(frozen=True)
class Negation:
    """``NOT atom`` or ``NOT EXISTS ?v1, ?v2 IN (atom, ...)``.

    ``exists`` lists the variables that are existentially quantified inside (empty for
    plain ``NOT``); all other variables of ``atoms`` must be bound outside.
    """

    atoms: tuple[Atom, ...]
    exists: tuple[Var, ...] = ()
    pos: Position = _pos()


@dataclass(frozen=True)
class AggregateBind:
    """One ``FUNC(DISTINCT? expr) AS ?var`` of an AGGREGATE; func in MIN MAX SUM COUNT AVG."""

    func: str
    arg: Expr | None  # None for COUNT(*)
    var: Var
    distinct: bool = False
    pos: Position = _pos()


@dataclass(frozen=True)
class Aggregate:
    """``AGGREGATE(body ON ?g1 ?g2 BIND f(..) AS ?v ...)``."""

    body: tuple[BodyLiteral, ...]
    group_by: tuple[Var, ...]
    binds: tuple[AggregateBind, ...]
    pos: Position = _pos()


BodyLiteral = TripleAtom | TupleAtom | Bind | Filter | Negation | Aggregate


# ---------------------------------------------------------------- rules and programs


@dataclass(frozen=True)
class Rule:
    """``head1, head2 :- body .``; a fact is a rule with an empty body."""

    head: tuple[Atom, ...]
    body: tuple[BodyLiteral, ...] = ()
    pos: Position = _pos()

    @property
    def is_fact(self) -> bool:
        return not self.body


@dataclass(frozen=True)
class Program:
    """A whole rule file (or several merged): rules in source order plus the prefix table."""

    rules: tuple[Rule, ...]
    prefixes: tuple[tuple[str, str], ...] = ()
    base: str | None = None
    source: str | None = field(default=None, compare=False)

    def merged(self, other: Program) -> Program:
        """Both programs' rules; prefixes of ``self`` win on clashes."""
        names = {p for p, _ in self.prefixes}
        prefixes = self.prefixes + tuple(kv for kv in other.prefixes if kv[0] not in names)
        return Program(self.rules + other.rules, prefixes, self.base or other.base)
