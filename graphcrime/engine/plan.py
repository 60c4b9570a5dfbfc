"""Rule bodies compiled to one SQL query each over the fact store's tables.

A :class:`BodyPlan` turns a rule body into ``SELECT <head variables> FROM <atoms> WHERE ...``:
positive atoms become joined tables (DuckDB orders the joins from its statistics), repeated
variables and constants become equalities, FILTER and BIND become SQL expressions
(:mod:`graphcrime.engine.sqlexpr`), ``NOT`` a correlated ``NOT EXISTS``, ``AGGREGATE`` a
``GROUP BY`` subquery. Each atom reads a *version* of its table: ``all``, ``full`` (facts
before the current round), ``delta`` (facts of the last round) or ``old`` (facts before
that), which is what semi-naive evaluation varies.

Head variables come out as term ids (``id``) or, when a BIND computed them, as canonical
N-Triples strings (``nt``) that the evaluator interns before inserting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from graphcrime.compile.checks import expr_vars
from graphcrime.engine.sqlexpr import FIELDS, NULL, ExprCompiler, SqlVal, column_val, num_val
from graphcrime.errors import RuleError
from graphcrime.lang.ast import (
    IRI,
    Aggregate,
    AggregateBind,
    Atom,
    Bind,
    BodyLiteral,
    Filter,
    Negation,
    Term,
    TripleAtom,
    TupleAtom,
    Var,
    term_nt,
)
from graphcrime.rdf.dictionary import q
from graphcrime.vocab import RDF_TYPE

#: atom versions: which rounds of a table an atom reads, given the current round k
#: and, for a recursive atom whose full/old version is split in two (see
#: ``seminaive._split``), the rows from before the stratum (first round ``s``) and the
#: rows of full/old derived in the stratum; an update of an on-disk store
#: (``engine.incremental``) reads the rows it added (``since`` its first round ``u``) and
#: those from ``before`` it
VERSIONS = {"all": "", "full": "r < {k}", "delta": "r = {k} - 1", "old": "r < {k} - 1",
            "pre": "r < {s}", "full_in": "r >= {s} AND r < {k}",
            "old_in": "r >= {s} AND r < {k} - 1", "since": "r >= {u} AND r < {k}",
            "before": "r < {u}"}
#: the same versions (but ``all``) as intervals of rounds [a, b), given (k, s)
VERSION_ROUNDS: dict[str, Callable[[int, int], tuple[int, int]]] = {
    "full": lambda k, s: (0, k), "delta": lambda k, s: (k - 1, k),
    "old": lambda k, s: (0, k - 1), "pre": lambda k, s: (0, s),
    "full_in": lambda k, s: (s, k), "old_in": lambda k, s: (s, k - 1)}
#: versions of the update's first round u, as intervals of rounds [a, b) given (k, u)
UPDATE_ROUNDS: dict[str, Callable[[int, int], tuple[int, int]]] = {
    "since": lambda k, u: (u, k), "before": lambda k, u: (0, u)}


@dataclass
class Context:
    """What compiling needs from the store: tables and constant ids."""

    pred_table: Callable[[int], str]
    pred_tables: Callable[[], dict[int, str]]
    tuple_table: Callable[[str, int], str]
    const_id: Callable[[str], int]
    round: int = 0
    first: int = 0  # the first round of the current stratum
    since: int = 0  # the first round of the current update (engine.incremental)
    #: relations of versions that are not round conditions (an update's deleted rows):
    #: ``relation(table, version)`` gives SQL with the table's columns, or None
    relation: Callable[[str, str], str | None] | None = None
    #: tables holding the rows of a (table, version) for the current round (an update's
    #: few new facts, so that DuckDB plans the join from their real number)
    materialised: dict[tuple[str, str], str] = field(default_factory=dict)

    def version_sql(self, version: str, k: int | None = None) -> str:
        """The row condition of a table version in round ``k`` (default: the current round;
        '' for all rows)."""
        return VERSIONS[version].format(k=self.round if k is None else k, s=self.first,
                                        u=self.since)

    def version_rounds(self, version: str, k: int | None = None) -> tuple[int, int] | None:
        """The rounds ``[a, b)`` of a table version in round ``k`` (default: the current
        round; None for ``all``).

        >>> Context(None, None, None, None, round=7, first=3).version_rounds("old_in")
        (3, 6)
        """
        k = self.round if k is None else k
        if version in UPDATE_ROUNDS:
            return UPDATE_ROUNDS[version](k, self.since)
        rounds = VERSION_ROUNDS.get(version)
        return None if rounds is None else rounds(k, self.first)


@dataclass
class Binding:
    id: str | None = None  # SQL of the term id
    val: SqlVal | None = None  # SQL value when computed by BIND or AGGREGATE


@dataclass(frozen=True)
class Joined:
    """Body atoms whose join is materialised in ``table`` (see :func:`joined_sql`)."""

    atoms: frozenset[int]
    table: str
    names: tuple[str, ...]
    valued: frozenset[str] = frozenset()
    #: recursive atoms among ``atoms``: the table holds their rows from before the stratum
    pre: frozenset[int] = frozenset()
    #: value columns that hold one value in every row, as SQL constants (``date__dt`` ->
    #: ``'...#dateTime'``): compiled in, they let DuckDB fold away the typed comparisons'
    #: branches that cannot apply (and not read those columns)
    consts: tuple[tuple[str, str], ...] = ()
    #: the table is one row and ``consts`` holds all of its columns (``v_<name>`` too): the
    #: query reads the constants and leaves the table out (one relation less to order -
    #: DuckDB's join ordering time grows steeply with the relations of a star join)
    inline: bool = False


@dataclass
class BodyPlan:
    """Compiles one body; ``outer`` is the enclosing plan of a NOT (correlated variables)."""

    ctx: Context
    prefix: str = "a"
    outer: BodyPlan | None = None
    froms: list[str] = field(default_factory=list)
    where: list[str] = field(default_factory=list)
    env: dict[str, Binding] = field(default_factory=dict)
    #: per computed variable, the test that its BIND did not fail (see :meth:`sql_select`)
    bound_checks: dict[str, str] = field(default_factory=dict)
    #: per alias of a table atom or materialised join: its relation and its constant
    #: conditions as (column, SQL) pairs, so an aggregate can read the atom again
    sources: dict[str, tuple[str, list[tuple[str, str]]]] = field(default_factory=dict)
    _n: int = 0

    def _alias(self, tag: str) -> str:
        self._n += 1
        return f"{self.prefix}{tag}{self._n}"

    # -- variables ------------------------------------------------------------------------
    def lookup(self, name: str) -> tuple[BodyPlan, Binding] | None:
        if name in self.env:
            return self, self.env[name]
        return self.outer.lookup(name) if self.outer else None

    def bound(self, name: str) -> bool:
        return self.lookup(name) is not None

    def value(self, name: str) -> SqlVal | None:
        """The typed value of a variable (joining ``terms`` once per variable)."""
        hit = self.lookup(name)
        if hit is None:
            return None
        plan, b = hit
        if b.val is not None:
            return b.val
        alias = plan._alias("t")
        plan.froms.append(f"terms AS {alias}")
        plan.where.append(f"{alias}.id = {b.id}")
        b.val = column_val(alias, b.id or NULL)
        return b.val

    def id_of(self, name: str) -> str:
        """SQL of a bound variable's term id (a computed value is looked up by its nt)."""
        hit = self.lookup(name)
        assert hit is not None, name
        plan, b = hit
        if b.id is None:
            assert b.val is not None
            alias = plan._alias("t")
            plan.froms.append(f"terms AS {alias}")
            plan.where.append(f"{alias}.nt = {b.val.nt()}")
            b.id = f"{alias}.id"
            b.val = column_val(alias, b.id)
        return b.id

    def _match(self, col: str, t: Term) -> None:
        if isinstance(t, Var):
            if self.bound(t.name):
                self.where.append(f"{col} = {self.id_of(t.name)}")
            else:
                self.env[t.name] = Binding(id=col)
        else:
            const = str(self.ctx.const_id(term_nt(t)))
            self.where.append(f"{col} = {const}")
            alias, _, column = col.partition(".")
            if alias in self.sources:
                self.sources[alias][1].append((column, const))

    # -- atoms ----------------------------------------------------------------------------
    def _version(self, table: str, version: str) -> str:
        if version not in VERSIONS:
            assert self.ctx.relation is not None, version
            rel = self.ctx.relation(table, version)
            assert rel is not None, (table, version)
            return rel
        held = self.ctx.materialised.get((table, version))
        if held is not None:
            return held
        cond = self.ctx.version_sql(version)
        return f"(SELECT * FROM {table} WHERE {cond})" if cond else table

    def atom(self, a: Atom, version: str = "all") -> None:
        alias = self._alias("")
        if isinstance(a, TupleAtom):
            table = self.ctx.tuple_table(a.name, len(a.args))
            self.sources[alias] = (self._version(table, version), [])
            self.froms.append(f"{self._version(table, version)} AS {alias}")
            for i, t in enumerate(a.args):
                self._match(f"{alias}.c{i}", t)
            return
        if isinstance(a.p, Var) and not self.bound(a.p.name):
            parts = [f"SELECT s, {p}::INTEGER AS p, o FROM {self._version(t, version)}"
                     for p, t in sorted(self.ctx.pred_tables().items())]
            union = " UNION ALL ".join(parts) or \
                "SELECT NULL::INTEGER AS s, NULL::INTEGER AS p, NULL::INTEGER AS o LIMIT 0"
            self.froms.append(f"({union}) AS {alias}")
            self._match(f"{alias}.s", a.s)
            self._match(f"{alias}.p", a.p)
        else:
            if isinstance(a.p, Var):  # bound predicate variable: scan every table
                parts = [f"SELECT s, {p}::INTEGER AS p, o FROM {self._version(t, version)}"
                         for p, t in sorted(self.ctx.pred_tables().items())]
                self.froms.append(f"({' UNION ALL '.join(parts) or 'SELECT 1 WHERE false'}) "
                                  f"AS {alias}")
                self._match(f"{alias}.p", a.p)
            else:
                pid = self.ctx.const_id(term_nt(a.p))
                rel = self._version(self.ctx.pred_table(pid), version)
                self.sources[alias] = (rel, [])
                self.froms.append(f"{rel} AS {alias}")
            self._match(f"{alias}.s", a.s)
        self._match(f"{alias}.o", a.o)

    # -- the whole body -------------------------------------------------------------------
    def body(self, lits: tuple[BodyLiteral, ...], versions: dict[int, str] | None = None,
             skip: frozenset[int] = frozenset(), joined: tuple[Joined, ...] = ()) -> None:
        """Compile ``lits``; ``versions`` maps a positive atom's index to its table version;
        the literals at indexes in ``skip`` are left out (see :func:`late_binds`), and the
        atoms of each ``joined`` are read from its materialised table instead."""
        versions = versions or {}
        rest: list[BodyLiteral] = []
        firsts = {min(j.atoms): j for j in joined}
        skip = skip.union(*(j.atoms for j in joined))
        for i, lit in enumerate(lits):
            if i in firsts:
                self.relation(firsts[i])
            if i in skip:
                continue
            if isinstance(lit, (TripleAtom, TupleAtom)):
                self.atom(lit, versions.get(i, "all"))
            else:
                rest.append(lit)
        for lit in [x for x in rest if isinstance(x, Aggregate)]:
            self.aggregate(lit)
        pending = [x for x in rest if isinstance(x, (Bind, Filter))]
        while pending:
            ready = next((x for x in pending
                          if all(self.bound(v.name) for v in expr_vars(x.expr))), pending[0])
            pending.remove(ready)
            self.expression(ready)
        for lit in rest:
            if isinstance(lit, Negation):
                self.negation(lit)

    def relation(self, j: Joined) -> None:
        """Bind variables from a materialised join (columns ``v_<name>``; with the typed
        value columns ``<name>__<field>`` for the names in ``j.valued``)."""
        alias = self._alias("j")
        consts = dict(j.consts)
        if not j.inline:
            self.froms.append(f"{j.table} AS {alias}")
            self.sources[alias] = (j.table, [])
        for n in j.names:
            col = consts[f"v_{n}"] if j.inline else f"{alias}.v_{n}"
            if n in j.valued and not self.bound(n):
                val = SqlVal.from_fields({f: consts.get(f"{n}__{f}", f"{alias}.{n}__{f}")
                                          for f in FIELDS})
                self.env[n] = Binding(id=col, val=replace(
                    val, id=col, nt_sql=consts.get(f"{n}__nt", f"{alias}.{n}__nt")))
            else:
                self._match(col, Var(n))

    def expression(self, lit: Bind | Filter) -> None:
        compiler = ExprCompiler(self.value)
        val = compiler.compile(lit.expr)
        if isinstance(lit, Filter):
            # a WHERE drops rows whose condition is NULL (an error) as it drops false ones
            self.where.extend(compiler.guards(lit.expr) + [val.ebv()])
        elif self.bound(lit.var.name):  # BIND to a bound variable: an equality test
            self.where.append(f"{self.value(lit.var.name).nt()} = {val.nt()}")  # type: ignore[union-attr]
        else:
            if val.id is not None:
                self.env[lit.var.name] = Binding(id=val.id, val=val)
            else:
                ok = val.lex if val.static in ("str", "iri") else val.kind
                self.bound_checks[lit.var.name] = f"{ok} IS NOT NULL"
                self.env[lit.var.name] = Binding(val=val)

    def negation(self, neg: Negation) -> None:
        local = {v.name for v in neg.exists}  # NOT EXISTS ?x IN (...): ?x is local
        inner = BodyPlan(self.ctx, prefix=self._alias("n"),
                         outer=_Shadow(self, local))  # type: ignore[arg-type]
        for a in neg.atoms:
            inner.atom(a)
        self.where.append(f"NOT EXISTS ({inner.sql_select(['1'])})")

    def aggregate(self, agg: Aggregate) -> None:
        inner = BodyPlan(self.ctx, prefix=self._alias("g"))
        inner.body(agg.body)
        groups = [v.name for v in agg.group_by]
        groups += sorted(n for n in inner.env if n not in groups and self.bound(n))
        cols = [f"{inner.id_of(g)} AS g{i}" for i, g in enumerate(groups)]
        for g in groups:  # only the groups the atoms before can join with
            keys = self._key_values(g)
            if keys:
                inner.where.append(f"{inner.id_of(g)} IN ({keys})")
        outs: list[tuple[AggregateBind, str, bool]] = []
        for j, b in enumerate(agg.binds):
            sql, is_id = _aggregate_sql(inner, b)
            outs.append((b, f"v{j}", is_id))
            if is_id:
                cols.append(f"{sql} AS v{j}")
            else:
                assert isinstance(sql, SqlVal)
                cols += [f"{s} AS v{j}_{f}" for f, s in sql_fields(sql)]
        group_sql = ", ".join(inner.id_of(g) for g in groups)
        sub = inner.sql_select(cols) + (f" GROUP BY {group_sql}" if groups else "")
        alias = self._alias("agg")
        self.froms.append(f"({sub}) AS {alias}")
        for i, g in enumerate(groups):
            self._match(f"{alias}.g{i}", Var(g))
        for b, col, is_id in outs:
            if is_id:
                self._bind_value(b.var.name, Binding(id=f"{alias}.{col}"))
            else:
                val = SqlVal.from_fields({f: f"{alias}.{col}_{f}" for f in FIELDS})
                self.where.append(f"{val.kind} IS NOT NULL")
                self._bind_value(b.var.name, Binding(val=val))

    def _key_values(self, name: str) -> str | None:
        """SQL of a superset of the ids variable ``name`` can take in this body: the column of
        the atom that bound it, under that atom's constant conditions (None when an
        expression or another plan bound it). An aggregate restricted to these groups
        computes only the groups the join keeps: ``MIN`` over the transactions of 2k chains,
        not of all 2M."""
        b = self.env.get(name)
        alias, _, column = (b.id or "").partition(".") if b else ("", "", "")
        if alias not in self.sources or not column.replace("_", "").isalnum():
            return None
        rel, conds = self.sources[alias]
        where = " AND ".join(f"_k.{c} = {v}" for c, v in conds)
        return f"SELECT _k.{column} FROM {rel} AS _k" + (f" WHERE {where}" if where else "")

    def _bind_value(self, name: str, b: Binding) -> None:
        if self.bound(name):
            other = b.id if b.id is not None else b.val.nt()  # type: ignore[union-attr]
            mine = self.id_of(name) if b.id is not None else self.value(name).nt()  # type: ignore[union-attr]
            self.where.append(f"{mine} = {other}")
        else:
            self.env[name] = b

    # -- SQL ------------------------------------------------------------------------------
    def sql_select(self, cols: list[str], distinct: bool = False,
                   unchecked: frozenset[str] = frozenset()) -> str:
        """The SELECT of ``cols``. A BIND that fails drops the row, except for the
        ``unchecked`` variables: their columns come out NULL instead, for a caller that drops
        NULLs itself (computing the test next to the value would compute the value twice)."""
        froms = ", ".join(self.froms) or "(SELECT 1) AS one"
        conds = self.where + [c for n, c in self.bound_checks.items() if n not in unchecked]
        where = (" WHERE " + " AND ".join(conds)) if conds else ""
        return f"SELECT {'DISTINCT ' if distinct else ''}{', '.join(cols)} FROM {froms}{where}"

    def output(self, names: list[str]) -> tuple[list[str], dict[str, str]]:
        """Select columns ``v_<name>`` for ``names``; returns (columns, kind per name)."""
        cols, kinds = [], {}
        for n in names:
            hit = self.lookup(n)
            if hit is None:
                raise RuleError(f"?{n} is not bound by the body", hint="bind it in the body")
            b = hit[1]
            if b.id is not None:
                cols.append(f"{b.id} AS v_{n}")
                kinds[n] = "id"
            else:
                cols.append(f"{b.val.nt()} AS v_{n}")  # type: ignore[union-attr]
                kinds[n] = "nt"
        return cols, kinds


def joined_sql(ctx: Context, body: tuple[BodyLiteral, ...], atoms: frozenset[int],
               names: tuple[str, ...], valued: frozenset[str],
               pre: frozenset[int] = frozenset(), version: str = "all") -> str:
    """SQL of the distinct rows of the join of ``atoms`` (indexes into ``body``) projected on
    ``names``, with the typed value columns of the ``valued`` names (for :class:`Joined`);
    the atoms in ``pre`` read their rows from before the stratum, the others ``version``.
    When ``names`` keeps every variable of the atoms, the rows are distinct without a
    DISTINCT: stored rows are sets, so two combinations of atom rows differ in some value.

    >>> from graphcrime.lang.parser import parse_program
    >>> r = parse_program("@prefix : <http://e/> . [?x, :r, ?z] :- [?x, :p, ?y], [?y, :q, ?z] ."
    ...                   ).rules[0]
    >>> ctx = Context(lambda p: f"p_{p}", dict, None, lambda nt: len(nt))
    >>> [joined_sql(ctx, r.body, frozenset({0, 1}), n, frozenset())[:15] for n in (("x", "y", "z"),
    ...                                                                           ("x", "z"))]
    ['SELECT a1.s AS ', 'SELECT DISTINCT']
    """
    plan = BodyPlan(ctx)
    for i in sorted(atoms):
        plan.atom(body[i], "pre" if i in pre else version)  # type: ignore[arg-type]
    cols = [f"{plan.id_of(n)} AS v_{n}" for n in names]
    for n in sorted(valued):
        v = plan.value(n)
        assert v is not None
        cols += [f"{v.nt()} AS {n}__nt"] + [f"{getattr(v, f)} AS {n}__{f}" for f in _FIELDS]
    every = set().union(*(literal_vars(body[i]) for i in atoms))
    return plan.sql_select(cols or ["1 AS one_"], distinct=not every <= set(names))


def constant_columns(con, table: str, valued: frozenset[str],
                     names: tuple[str, ...] = ()) -> tuple[tuple[str, str], ...]:
    """The value columns of ``table`` (see :func:`joined_sql`) that hold one value (or only
    NULL) in every row, each with that value as an SQL constant of the column's type; the id
    columns ``v_<name>`` of ``names`` are asked about too.

    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE j AS SELECT 7 AS v_d, range::VARCHAR AS d__nt, "
    ...                 "2::UTINYINT AS d__kind, 'x' AS d__lex, NULL::VARCHAR AS d__dt, "
    ...                 "NULL::VARCHAR AS d__lang, range::DOUBLE AS d__num, "
    ...                 "NULL::TIMESTAMP AS d__ts, NULL::BOOLEAN AS d__bool FROM range(3)")
    >>> constant_columns(con, "j", frozenset({"d"}), ("d",))  # doctest: +NORMALIZE_WHITESPACE
    (('v_d', "CAST('7' AS INTEGER)"), ('d__kind', "CAST('2' AS UTINYINT)"),
     ('d__lex', "CAST('x' AS VARCHAR)"), ('d__dt', 'CAST(NULL AS VARCHAR)'),
     ('d__lang', 'CAST(NULL AS VARCHAR)'), ('d__ts', 'CAST(NULL AS TIMESTAMP)'),
     ('d__bool', 'CAST(NULL AS BOOLEAN)'))
    """
    cols = [f"v_{n}" for n in names] + [f"{n}__{f}" for n in sorted(valued)
                                        for f in ("nt",) + _FIELDS]
    if not cols:
        return ()
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {table})"
                             ).fetchall())
    # per column: one value (or none) in every row, and that value as text (min = max: no
    # hash table per column, which for a 10M-row join cost seconds)
    parts = ", ".join(f"count({c}) = 0 OR (count({c}) = count(*) AND min({c}) = max({c})), "
                      f"any_value({c})::VARCHAR" for c in cols)
    row = con.execute(f"SELECT {parts} FROM {table}").fetchone()
    out = []
    for i, c in enumerate(cols):
        if row[2 * i]:
            value = "NULL" if row[2 * i + 1] is None else q(row[2 * i + 1])
            out.append((c, f"CAST({value} AS {types[c]})"))
    return tuple(out)


def literal_vars(lit: BodyLiteral) -> set[str]:
    """Every variable a body literal mentions (a BIND's target included)."""
    if isinstance(lit, (TripleAtom, TupleAtom)):
        return {v.name for v in lit.variables()}
    if isinstance(lit, Filter):
        return {v.name for v in expr_vars(lit.expr)}
    if isinstance(lit, Bind):
        return {lit.var.name} | {v.name for v in expr_vars(lit.expr)}
    if isinstance(lit, Negation):
        return {v.name for a in lit.atoms for v in a.variables()}
    out = {v.name for v in lit.group_by} | {b.var.name for b in lit.binds}
    return out.union(*(literal_vars(x) for x in lit.body))


def late_binds(body: tuple[BodyLiteral, ...]) -> frozenset[int]:
    """Indexes of the BINDs whose values only the head uses: they can be computed after the
    join, once per distinct body row, instead of on every candidate row the join produces.

    >>> from graphcrime.lang.parser import parse_program
    >>> r = parse_program("@prefix : <http://e/> . "
    ...                   "[?x, :p, ?y] :- [?x, :q, ?z], BIND(?z + 1 AS ?y) .").rules[0]
    >>> sorted(late_binds(r.body))
    [1]
    """
    late = {i for i, lit in enumerate(body) if isinstance(lit, Bind)}
    while True:
        used = set().union(*(literal_vars(lit) - ({lit.var.name} if isinstance(lit, Bind)
                                                    else set())
                             for i, lit in enumerate(body) if i not in late), set())
        drop = {i for i in late if body[i].var.name in used}  # type: ignore[union-attr]
        if not drop:
            return frozenset(late)
        late -= drop


class _Shadow:
    """The outer plan as a NOT's inner plan sees it: ``NOT EXISTS`` locals hidden."""

    def __init__(self, plan: BodyPlan, hidden: set[str]) -> None:
        self.plan, self.hidden = plan, hidden

    def lookup(self, name: str) -> tuple[BodyPlan, Binding] | None:
        return None if name in self.hidden else self.plan.lookup(name)


_FIELDS = FIELDS


def sql_fields(val: SqlVal) -> list[tuple[str, str]]:
    return [(f, getattr(val, f)) for f in _FIELDS]


def _aggregate_sql(inner: BodyPlan, b: AggregateBind) -> tuple[SqlVal | str, bool]:
    """SQL of one aggregate over ``inner``'s rows: (term-id SQL, True) or (SqlVal, False)."""
    func = b.func.upper()
    if func == "COUNT":
        if b.arg is None:
            n = "count(*)"
        else:
            v = ExprCompiler(inner.value).compile(b.arg)
            n = f"count({'DISTINCT ' if b.distinct else ''}{v.nt()})"
        return num_val("0", f"{n}::DOUBLE"), False
    if b.arg is None:
        raise RuleError(f"{func}(*) is not an aggregate", file=b.pos.file, line=b.pos.line,
                        col=b.pos.col, hint="only COUNT takes *")
    v = ExprCompiler(inner.value).compile(b.arg)
    ok = f"count(*) = count({v.kind})"
    if func in ("MIN", "MAX") and v.id is not None:
        f = "arg_min" if func == "MIN" else "arg_max"
        is_str = f"{v.kind} = 2 AND {v.dt} = 'http://www.w3.org/2001/XMLSchema#string'"
        sql = (f"(CASE WHEN NOT ({ok}) THEN NULL "
               f"WHEN count({v.num}) = count(*) THEN {f}({v.id}, {v.num}) "
               f"WHEN count({v.ts}) = count(*) THEN {f}({v.id}, {v.ts}) "
               f"WHEN count(CASE WHEN {is_str} THEN 1 END) = count(*) THEN {f}({v.id}, {v.lex}) "
               f"END)")
        return sql, True
    from graphcrime.engine.sqlexpr import rank_sql
    rank = f"max({rank_sql(v.dt)})"
    d = "DISTINCT " if b.distinct else ""
    if func in ("MIN", "MAX"):
        value = f"{func.lower()}({v.num})"
    elif func == "SUM":
        value = f"coalesce(sum({d}{v.num}), 0)"
        rank = f"coalesce({rank}, 0)"
    elif func == "AVG":
        value = f"coalesce(avg({d}{v.num}), 0)"
        rank = f"greatest(coalesce({rank}, 0), 1)"
    else:
        raise RuleError(f"unknown aggregate {func}", file=b.pos.file, line=b.pos.line,
                        col=b.pos.col, hint="use MIN, MAX, SUM, COUNT or AVG")
    return num_val(rank, f"(CASE WHEN {ok} AND count({v.num}) = count(*) THEN {value} END)"), \
        False


def head_terms(atom: Atom) -> list[Term]:
    """The terms of a head atom in column order: s, p, o for triples, args for tuples."""
    if isinstance(atom, TupleAtom):
        return list(atom.args)
    return [atom.s, atom.p, atom.o]


def is_type_atom(atom: Atom) -> bool:
    return isinstance(atom, TripleAtom) and atom.p == IRI(RDF_TYPE)
