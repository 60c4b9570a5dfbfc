"""Static checks of a parsed program, every error at once, each with file:line:col and a hint.

Binding is SPARQL-style, left to right: atoms bind their variables, ``BIND`` binds its
variable, an ``AGGREGATE`` binds its group and result variables. Checked: unsafe head
variables, BIND/FILTER/aggregate variables unbound where used, BIND to a bound variable,
negated variables bound nowhere outside (except the ``EXISTS`` ones), blank nodes outside facts,
arity clashes of a tuple table, unknown job parameters (when ``params`` is given), and
stratification (see :mod:`graphcrime.compile.analysis`).

>>> from graphcrime.lang.parser import parse_program
>>> errs = check_program(parse_program('@prefix : <http://e/> . :A[?y] :- :B[?x] .', 'r.dlog'))
>>> print(errs[0])
r.dlog:1:28: unsafe head variable ?y: it appears in no positive body atom, BIND or AGGREGATE
  hint: bind ?y in the body, e.g. with an atom that mentions it
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from graphcrime.compile.analysis import analyse
from graphcrime.errors import Position, RuleError
from graphcrime.lang.ast import (
    Aggregate,
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
    TripleAtom,
    TupleAtom,
    UnaryOp,
    Var,
)
from graphcrime.lang.parser import parse_program_collect
from graphcrime.vocab import PARAM_TABLE

#: Built-in functions the dialect knows (SPARQL 1.1's plus RDFox's common extras); casts
#: (datatype-IRI calls) are always allowed.
KNOWN_FUNCTIONS = frozenset("""
IRI URI BNODE STR LANG LANGMATCHES DATATYPE BOUND SAMETERM ISIRI ISURI ISBLANK ISLITERAL
ISNUMERIC STRLEN SUBSTR UCASE LCASE STRSTARTS STRENDS CONTAINS STRBEFORE STRAFTER ENCODE_FOR_URI
CONCAT REPLACE REGEX ABS ROUND CEIL FLOOR RAND NOW YEAR MONTH DAY HOURS MINUTES SECONDS TIMEZONE
TZ MD5 SHA1 SHA256 SHA384 SHA512 COALESCE IF STRLANG STRDT UUID STRUUID IN NOTIN
""".split())


def unknown_functions(e: Expr) -> list[Call]:
    """Calls of names that are neither built-in functions nor casts."""
    if isinstance(e, BinOp):
        return unknown_functions(e.left) + unknown_functions(e.right)
    if isinstance(e, UnaryOp):
        return unknown_functions(e.arg)
    if isinstance(e, Call):
        own = [] if ":" in e.name or e.name in KNOWN_FUNCTIONS else [e]
        return own + [c for a in e.args for c in unknown_functions(a)]
    return []


def expr_vars(e: Expr) -> list[Var]:
    """The variables of an expression, in order of appearance (repeats kept)."""
    if isinstance(e, Var):
        return [e]
    if isinstance(e, BinOp):
        return expr_vars(e.left) + expr_vars(e.right)
    if isinstance(e, UnaryOp):
        return expr_vars(e.arg)
    if isinstance(e, Call):
        return [v for a in e.args for v in expr_vars(a)]
    return []


def _err(msg: str, pos: Position, hint: str) -> RuleError:
    return RuleError(msg, file=pos.file, line=pos.line, col=pos.col, hint=hint)


def _body_binds(body: Iterable[BodyLiteral]) -> set[str]:
    out: set[str] = set()
    for lit in body:
        if isinstance(lit, (TripleAtom, TupleAtom)):
            out.update(v.name for v in lit.variables())
        elif isinstance(lit, Bind):
            out.add(lit.var.name)
        elif isinstance(lit, Aggregate):
            out.update(v.name for v in lit.group_by)
            out.update(b.var.name for b in lit.binds)
    return out


def check_body(body: tuple[BodyLiteral, ...], errors: list[RuleError]) -> set[str]:
    """Check one body left to right; return the variables it binds."""
    bound: set[str] = set()
    everywhere = _body_binds(body)

    def need(vars_: Iterable[Var], what: str) -> None:
        for v in vars_:
            if v.name not in bound:
                errors.append(_err(
                    f"variable ?{v.name} in {what} is not bound by the body before it", v.pos,
                    f"add an atom that binds ?{v.name} before the {what}, or move the "
                    f"{what} after it"))

    for lit in body:
        exprs = [lit.expr] if isinstance(lit, (Bind, Filter)) else (
            [b.arg for b in lit.binds if b.arg is not None] if isinstance(lit, Aggregate) else [])
        for call in (c for e in exprs for c in unknown_functions(e)):
            errors.append(_err(f"unknown function {call.name}", call.pos,
                               "use a SPARQL built-in (STR, CONCAT, IF, COALESCE, MD5, ...) or "
                               "a cast such as xsd:integer(...)"))
        if isinstance(lit, (TripleAtom, TupleAtom)):
            bound.update(v.name for v in lit.variables())
        elif isinstance(lit, Bind):
            need(expr_vars(lit.expr), "BIND")
            if lit.var.name in bound:
                errors.append(_err(f"BIND to ?{lit.var.name}, which is already bound",
                                   lit.var.pos, "BIND to a new variable and compare them with "
                                   "FILTER(?new = ?old) if that is meant"))
            bound.add(lit.var.name)
        elif isinstance(lit, Filter):
            need(expr_vars(lit.expr), "FILTER")
        elif isinstance(lit, Negation):
            local = {v.name for v in lit.exists}
            for v in lit.exists:
                if v.name in everywhere:
                    errors.append(_err(
                        f"?{v.name} is listed in NOT EXISTS but also bound outside it", v.pos,
                        f"rename the inner ?{v.name}, or drop it from the EXISTS list to "
                        "join on it"))
            for a in lit.atoms:
                for v in a.variables():
                    if v.name not in local and v.name not in everywhere:
                        errors.append(_err(
                            f"variable ?{v.name} under NOT is bound nowhere outside it", v.pos,
                            f"bind ?{v.name} in a positive atom, or write "
                            f"NOT EXISTS ?{v.name} IN (...)"))
        elif isinstance(lit, Aggregate):
            inner = check_body(lit.body, errors)
            for v in lit.group_by:
                if v.name not in inner:
                    errors.append(_err(f"group variable ?{v.name} is not bound in the "
                                       "AGGREGATE's body", v.pos,
                                       f"mention ?{v.name} in an atom inside AGGREGATE(...)"))
            for b in lit.binds:
                for v in expr_vars(b.arg) if b.arg is not None else []:
                    if v.name not in inner:
                        errors.append(_err(f"aggregated variable ?{v.name} is not bound in "
                                           "the AGGREGATE's body", v.pos,
                                           f"mention ?{v.name} in an atom inside AGGREGATE(...)"))
            for v in [*lit.group_by, *(b.var for b in lit.binds)]:
                if v in lit.group_by and v.name in bound:
                    continue  # grouping on an outer variable joins on it
                if v.name in bound:
                    errors.append(_err(f"AGGREGATE binds ?{v.name}, which is already bound",
                                       v.pos, "use a new variable for the aggregate's result"))
                bound.add(v.name)
    return bound


def check_rule(rule: Rule, errors: list[RuleError]) -> None:
    """Safety of one rule."""
    bound = check_body(rule.body, errors)
    for atom in rule.head:
        for t in atom.args:
            if isinstance(t, Var) and t.name not in bound:
                what = "a fact cannot have variables" if rule.is_fact else (
                    "it appears in no positive body atom, BIND or AGGREGATE")
                errors.append(_err(f"unsafe head variable ?{t.name}: {what}", t.pos,
                                   f"bind ?{t.name} in the body, e.g. with an atom that "
                                   "mentions it"))
            if isinstance(t, BNode) and not rule.is_fact:
                errors.append(_err(f"blank node _:{t.label} in a rule", t.pos,
                                   "blank nodes are allowed in facts only; use an IRI or "
                                   "BIND(IRI(...) AS ?v)"))


def rule_atoms(rule: Rule) -> Iterable[TripleAtom | TupleAtom]:
    """Every atom of ``rule``: heads, body atoms, and those under NOT and in aggregates."""
    def walk(body: tuple[BodyLiteral, ...]) -> Iterable[TripleAtom | TupleAtom]:
        for lit in body:
            if isinstance(lit, (TripleAtom, TupleAtom)):
                yield lit
            elif isinstance(lit, Negation):
                yield from lit.atoms
            elif isinstance(lit, Aggregate):
                yield from walk(lit.body)

    yield from rule.head
    yield from walk(rule.body)


def check_program(program: Program, params: Mapping[str, object] | None = None) -> list[RuleError]:
    """All errors of ``program``, sorted by position; ``params`` enables the parameter check."""
    errors: list[RuleError] = []
    arity: dict[str, tuple[int, Position]] = {}
    defaults: set[str] = set()
    param_reads: list[tuple[str, Position]] = []
    for rule in program.rules:
        check_rule(rule, errors)
        for a in rule_atoms(rule):
            if not isinstance(a, TupleAtom):
                continue
            first = arity.setdefault(a.name, (len(a.args), a.pos))
            if first[0] != len(a.args):
                errors.append(_err(
                    f"tuple table {a.name} used with {len(a.args)} arguments, but with "
                    f"{first[0]} at {first[1]}", a.pos, "use the same number of arguments "
                    "everywhere, or give the tables different names"))
            if a.name == PARAM_TABLE and a.args and isinstance(a.args[0], Literal):
                if rule.is_fact and a in rule.head:
                    defaults.add(a.args[0].lex)
                else:
                    param_reads.append((a.args[0].lex, a.pos))
    if params is not None:
        for name, pos in param_reads:
            if name not in params and name not in defaults:
                errors.append(_err(f"job parameter '{name}' has no value", pos,
                                   f"pass --param {name}=VALUE (or set it in the job spec), or "
                                   f"add a default fact gc:param(\"{name}\", VALUE) ."))
    errors.extend(analyse(program).errors)
    errors.sort(key=lambda e: (e.file or "", e.line or 0, e.col or 0))
    return errors


def check_text(text: str, file: str | None = None,
               params: Mapping[str, object] | None = None) -> tuple[Program, list[RuleError]]:
    """Parse and check one file: the program and every syntax and check error, sorted."""
    program, errors = parse_program_collect(text, file)
    errors = errors + check_program(program, params)
    errors.sort(key=lambda e: (e.line or 0, e.col or 0))
    return program, errors


def param_defaults(program: Program) -> set[str]:
    """Names of the job parameters that ``program`` gives a default fact ``gc:param(name, v)``."""
    return {
        a.args[0].lex
        for r in program.rules if r.is_fact
        for a in r.head
        if isinstance(a, TupleAtom) and a.name == PARAM_TABLE and a.args
        and isinstance(a.args[0], Literal)
    }


def check_files(paths: Iterable[str], params: Mapping[str, object] | None = None
                ) -> list[tuple[str, Program | None, list[RuleError]]]:
    """Check each file on its own; parameter defaults of any of the files count for all.

    Returns ``(path, program or None if unreadable, errors)`` per file.
    """
    parsed: list[tuple[str, Program | None, list[RuleError]]] = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            parsed.append((path, None, [RuleError(f"cannot read rule file: {e}", file=path,
                                                  hint="check the path and that it is UTF-8")]))
            continue
        program, errors = parse_program_collect(text, path)
        parsed.append((path, program, errors))
    known: dict[str, object] | None = None
    if params is not None:
        known = dict(params)
        for _, prog, _ in parsed:
            if prog is not None:
                known.update(dict.fromkeys(param_defaults(prog), None))
    out: list[tuple[str, Program | None, list[RuleError]]] = []
    for path, prog, errors in parsed:
        if prog is not None:
            errors = sorted(errors + check_program(prog, known),
                            key=lambda e: (e.line or 0, e.col or 0))
        out.append((path, prog, errors))
    return out
