"""Stratified semi-naive evaluation to fixpoint over a :class:`FactStore`.

Each stratum runs every rule once over all facts (round k), then, while the last round added
facts, re-runs the recursive rules with one recursive atom reading only the last round's
facts (*delta*), the recursive atoms before it the facts older than that (*old*) and those
after it everything up to the last round (*full*) -- the textbook scheme, so a new
combination is found once per round rather than once per atom. The body result of a rule is
materialised once and shared by all of its head atoms; computed terms (BIND/IRI minting) are
interned with one statement per column.

>>> from graphcrime.lang.parser import parse_program
>>> from graphcrime.engine.store import FactStore
>>> st = FactStore()
>>> a, p, b, c = st.intern(["<http://e/a>", "<http://e/p>", "<http://e/b>", "<http://e/c>"])
>>> _ = st.add_rows(p, [(a, b), (b, c)])
>>> prog = parse_program("@prefix : <http://e/> . [?x, :p, ?z] :- [?x, :p, ?y], [?y, :p, ?z] .")
>>> materialise(st, prog).derived
1
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphcrime.compile.analysis import keys_overlap, merge_recursive, pred_key
from graphcrime.compile.checks import expr_vars, rule_atoms
from graphcrime.compile.stratify import stratify
from graphcrime.db import first_row, scalar
from graphcrime.engine.latebind import distinct_binds, single_input_binds
from graphcrime.engine.plan import (
    Binding,
    BodyPlan,
    Context,
    Joined,
    constant_columns,
    head_terms,
    joined_sql,
    late_binds,
    literal_vars,
    term_nt,
)
from graphcrime.engine.store import FactStore
from graphcrime.errors import LimitExceeded
from graphcrime.lang.ast import (
    Aggregate,
    Bind,
    Filter,
    Negation,
    Program,
    Rule,
    TripleAtom,
    TupleAtom,
    Var,
)
from graphcrime.nt import literal_nt, param_nt
from graphcrime.rdf.dictionary import intern, next_id
from graphcrime.vocab import PARAM_TABLE


@dataclass
class Report:
    """What a materialisation did."""

    derived: int = 0
    rounds: int = 0
    strata: int = 0
    seconds: float = 0.0
    per_rule: dict[str, int] = field(default_factory=dict)


class StratumLoop:
    """The stratified semi-naive loop, shared by the embedded and the Spark evaluators.

    A backend subclasses it and provides :meth:`run_rule` (evaluate variants, insert the new
    head facts, call :meth:`_count`), :meth:`_range_row` (min/max ids over a table version)
    and, optionally, the per-stratum joins and the end-of-round hook.
    """

    #: evaluate a recursive stratum inside the recursive group it reads (merge_recursive)
    merge_strata = True

    def __init__(self, store: Any, first_round: int, *, max_derived_facts: int | None = None,
                 deadline: float | None = None,
                 progress: Callable[[str, int], None] | None = None) -> None:
        self.store = store
        self.max_derived, self.deadline = max_derived_facts, deadline
        self.progress = progress
        self.report = Report()
        self.round = first_round
        self.ctx = Context(store.pred_table, lambda: dict(store.preds), store.tuple_table,
                           self._const_id)
        self._consts: dict[str, int] = {}
        self.fresh: set[str] = set()  # tables that got facts in the current round
        self._range_cache: dict[tuple, tuple | None] = {}

    def _const_id(self, nt: str) -> int:
        if nt not in self._consts:
            self._consts[nt] = self.store.intern([nt])[0]
        return self._consts[nt]

    def _preload_consts(self, rules: list[Rule]) -> None:
        """The ids of every constant term of ``rules``' atoms, interned in one batch (one
        dictionary lookup instead of one per constant)."""
        nts = sorted({term_nt(t) for rule in rules for a in rule_atoms(rule)
                      for t in head_terms(a)
                      if not isinstance(t, Var)} - self._consts.keys())
        if nts:
            self._consts.update(zip(nts, self.store.intern(nts), strict=True))

    def _table_of(self, atom: object) -> str:
        """The table an atom reads ("*" for a variable predicate: any table)."""
        return table_of(self.store, self._const_id, atom)

    def _count(self, n: int) -> None:
        self.report.derived += n
        check_limits(self.report.derived, self.max_derived, self.deadline)

    # -- backend hooks --------------------------------------------------------------------
    def run_rule(self, rule: Rule, variants: list[dict[int, str]],
                 joined: tuple[Joined, ...] = ()) -> int:
        raise NotImplementedError

    def _range_row(self, table: str, version: str, consts: list[tuple[str, int]],
                   cols: list[str]) -> tuple | None:
        """``(min(c1), max(c1), min(c2), ...)`` over the rows of ``table`` in ``version``
        whose columns equal ``consts`` (a backend may ignore ``consts``: a superset is
        fine), or ``(count, count)`` when ``cols`` is empty; None when it cannot tell."""
        raise NotImplementedError

    def stratum_joins(self, rule: Rule, rec: list[int], version: str = "all",
                      merge_rec: bool = True) -> tuple[Joined, ...]:
        """Materialise the joins that stay the same in every round of a stratum: connected
        groups of two or more atoms that read lower strata only (or one small atom whose
        values FILTERs or BINDs read, such as a parameter), each joined with the rows
        from before the stratum of the recursive atoms that share a variable with one of its
        atoms (the rows a recursive atom gains in the stratum are joined per round, see
        :func:`_split`). A group whose join comes out larger than twice its biggest table is
        left to the per-round query (where the delta may make it cheap). The atoms read
        ``version`` of their tables; without ``merge_rec`` recursive atoms join no group."""
        atoms = [i for i, lit in enumerate(rule.body) if isinstance(lit, (TripleAtom, TupleAtom))
                 and self._table_of(lit) != "*"]
        groups: list[set[int]] = []
        for i in sorted(atoms, key=lambda i: i in rec):  # lower strata first
            mine = literal_vars(rule.body[i])
            touching = [g for g in groups if any(mine & literal_vars(rule.body[j])
                                                 for j in g if j not in rec)]
            if i in rec and (not touching or not merge_rec):
                continue
            merged = {i}.union(*touching)
            groups = [g for g in groups if g not in touching] + [merged]
        out: list[Joined] = []
        late = late_binds(rule.body)
        for g in groups:
            inside = set().union(*(literal_vars(rule.body[i]) for i in g))
            rest = [lit for i, lit in enumerate(rule.body) if i not in g]
            outside = {t.name for a in rule.head for t in head_terms(a) if isinstance(t, Var)}
            outside = outside.union(*(literal_vars(lit) for lit in rest))
            names = tuple(sorted(inside & outside))
            # typed values for the FILTERs and BINDs of the per-round query (late BINDs read
            # term ids: they run after it, see run_rule)
            early = [lit for i, lit in enumerate(rule.body) if i not in g and i not in late
                     and isinstance(lit, (Filter, Bind))]
            valued = frozenset(n for n in names if any(n in literal_vars(lit) for lit in early))
            if len(g) == 1 and not valued:
                continue
            sizes = [self._table_rows(self._table_of(rule.body[i])) for i in g]
            # a lone atom only when it is a few rows whose values the FILTERs/BINDs read (a
            # parameter): its values become constants (see constant_columns)
            if len(g) == 1 and sizes[0] > SMALL_ATOM:
                continue
            cap = 2 * max(sizes) + 1
            pre = frozenset(g & set(rec))
            sql = joined_sql(self.ctx, rule.body, frozenset(g), names, valued, pre, version)
            made = self._make_join(sql, cap, valued, names)
            if made is not None:
                table, consts, inline = made
                out.append(Joined(frozenset(g), table, names, valued, pre, consts,
                                  inline=inline))
        return tuple(out)

    def _table_rows(self, table: str) -> int:
        """The rows of a store table (backend hook of :meth:`stratum_joins`)."""
        raise NotImplementedError

    def _make_join(self, sql: str, cap: int, valued: frozenset[str], names: tuple[str, ...]
                   ) -> tuple[str, tuple[tuple[str, str], ...], bool] | None:
        """Materialise the rows of ``sql`` (a :func:`joined_sql`) as a table, unless they
        are ``cap`` or more: returns (table, constant columns, inline) or None (left to the
        per-round query). A backend without materialised joins returns None."""
        return None

    def drop_joins(self, joins: list[Joined]) -> None:
        """Release what :meth:`stratum_joins` made."""

    def end_round(self) -> None:
        """Called after every round of a recursive stratum."""

    def interrupt(self) -> None:
        """Stop the running statement (called from a timer thread at the time limit)."""
        raise NotImplementedError

    def run(self, strata: Any, timeout_seconds: float | None, t0: float) -> Report:
        """Evaluate ``strata`` in order; past ``timeout_seconds`` (counted from the monotonic
        ``t0``) the running statement is interrupted and LimitExceeded raised."""
        fired, timer = threading.Event(), None
        if timeout_seconds is not None:
            def stop() -> None:
                fired.set()
                self.interrupt()
            timer = threading.Timer(max(timeout_seconds - (time.monotonic() - t0), 0.001), stop)
            timer.daemon = True
            timer.start()
        strata = tuple(merge_recursive(tuple(strata)) if self.merge_strata else strata)
        self._preload_consts([rule for stratum in strata for rule in stratum.rules])
        try:
            for stratum in strata:
                self.run_stratum(stratum.rules, stratum.heads, stratum.recursive)
                self.report.strata += 1
        except Exception as err:
            if fired.is_set() and not isinstance(err, LimitExceeded):
                raise LimitExceeded(f"reasoning ran past its time limit of {timeout_seconds} s",
                                    json_path="limits.timeout_seconds",
                                    hint="raise the limit or narrow the data") from None
            raise
        finally:
            if timer is not None:
                timer.cancel()
        self.report.seconds = time.monotonic() - t0
        return self.report

    def _selects(self, rule: Rule, variants: list[dict[int, str]], names: list[str],
                 skip: frozenset[int] = frozenset(), joined: tuple[Joined, ...] = ()
                 ) -> tuple[list[str], dict[str, str]]:
        """One SELECT of ``names`` per variant, and each name's kind (id or nt)."""
        selects: list[str] = []
        kinds: dict[str, str] = {}
        for versions in variants:
            plan = BodyPlan(self.ctx)
            usable = tuple(j for j in joined if all(versions.get(i) == "pre" for i in j.pre))
            plan.body(rule.body, versions, skip=skip, joined=usable)
            cols, kinds = plan.output(names)
            selects.append(plan.sql_select(cols or ["1 AS v_"]))
        return selects, kinds

    # -- pruning --------------------------------------------------------------------------
    def _variant_empty(self, rule: Rule, versions: dict[int, str], i: int) -> bool:
        """Whether the variant is empty for sure, judged from atom ``i`` (the delta, or a
        part of a split atom): it has no rows, or the id range of a variable it shares does
        not meet that variable's range in another atom (e.g. an *old* atom cannot mention the
        terms minted in the last round). Ranges are min/max over a superset of the rows an
        atom can match (its version and its constants), so the test never drops an answer."""
        atom = rule.body[i]
        assert isinstance(atom, (TripleAtom, TupleAtom))
        delta = self._ranges(atom, versions[i])
        if delta is None:
            return False
        if not delta or any(lo is None for lo, _ in delta.values()):
            return True
        for j, lit in enumerate(rule.body):
            if j == i or not isinstance(lit, (TripleAtom, TupleAtom)):
                continue
            names = {v.name for v in lit.variables()} & delta.keys()
            if not names:
                continue
            other = self._ranges(lit, versions.get(j, "all"), names)
            if other is None:
                continue
            for name, (lo, hi) in other.items():
                dlo, dhi = delta[name]
                if lo is None or hi < dlo or lo > dhi:  # type: ignore[operator]
                    return True
        return False

    def _ranges(self, atom: TripleAtom | TupleAtom, version: str,
                names: set[str] | None = None) -> dict[str, tuple[int | None, int | None]] | None:
        """min/max id of each variable of ``atom`` (only ``names`` if given) over the rows of
        its table in ``version`` that match its constants; ``{}`` for an atom without
        variables that has no rows; None when it cannot tell (a variable predicate, a ground
        atom with rows). Cached for the current round."""
        table = self._table_of(atom)
        if table == "*":
            return None
        terms = ([("s", atom.s), ("o", atom.o)] if isinstance(atom, TripleAtom)
                 else [(f"c{n}", t) for n, t in enumerate(atom.args)])
        consts = [(c, self._const_id(term_nt(t))) for c, t in terms if not isinstance(t, Var)]
        cols = [(c, t.name) for c, t in terms if isinstance(t, Var)
                and (names is None or t.name in names)]
        key = (table, version, tuple(consts), tuple(c for c, _ in cols))
        if key not in self._range_cache:
            self._range_cache[key] = self._range_row(table, version, consts,
                                                     [c for c, _ in cols])
        row = self._range_cache[key]
        if row is None:
            return None
        if not cols:
            return {} if not row[0] else None
        out: dict[str, tuple[int | None, int | None]] = {}
        for n, (_, name) in enumerate(cols):
            lo, hi = row[2 * n], row[2 * n + 1]
            if name in out and out[name][0] is not None and lo is not None:  # repeated variable
                lo, hi = max(lo, out[name][0]), min(hi, out[name][1])  # type: ignore[type-var]
                if lo > hi:
                    lo = hi = None
            out[name] = (lo, hi)
        return out

    # -- strata ---------------------------------------------------------------------------
    def run_stratum(self, rules: tuple[Rule, ...], heads: frozenset, recursive: bool) -> None:
        """Run the rules of one stratum to fixpoint (once when not ``recursive``)."""
        rules = tuple(r for r in rules if r.body)
        if not rules:
            return
        self.fresh = set()
        self.ctx.first = self.round
        for rule in rules:
            self.run_rule(rule, [{}])
        self.round += 1
        if recursive:
            self.recursive_rounds(rules, heads)

    def recursive_rounds(self, rules: tuple[Rule, ...], heads: frozenset) -> None:
        """The rounds of a recursive stratum after its first, until one adds nothing (the
        rounds before ``self.round`` are complete: every combination of their facts has been
        joined; ``self.fresh`` holds the tables the last round added to)."""
        rec = {id(rule): [i for i, lit in enumerate(rule.body)
                          if isinstance(lit, (TripleAtom, TupleAtom))
                          and any(keys_overlap(pred_key(lit), h) for h in heads)]
               for rule in rules}
        joined = {id(rule): self.stratum_joins(rule, rec[id(rule)]) for rule in rules}
        try:
            while True:
                before = self.report.derived
                last, self.fresh = self.fresh, set()
                self._range_cache = {}
                for rule in rules:
                    idx = rec[id(rule)]
                    candidates = [(i, {j: ("old" if j < i else "delta" if j == i else "full")
                                       for j in idx})
                                  for i in idx if self._table_of(rule.body[i]) in last | {"*"}]
                    variants = [v for i, c in candidates for v in _split(c, joined[id(rule)])
                                if not any(self._variant_empty(rule, v, j) for j in v
                                           if j == i or v[j].endswith("_in"))]
                    if variants:
                        self.run_rule(rule, variants, joined[id(rule)])
                self.report.rounds += 1
                self.end_round()
                if self.progress:
                    self.progress("round", self.report.derived)
                self.round += 1
                if self.report.derived == before:
                    return
        finally:
            self.drop_joins([j for js in joined.values() for j in js])


class Evaluator(StratumLoop):
    """Runs a program on a :class:`FactStore`; one instance per ``materialise`` call."""

    def __init__(self, store: FactStore, *, max_derived_facts: int | None = None,
                 deadline: float | None = None,
                 progress: Callable[[str, int], None] | None = None) -> None:
        self.con = store.con
        first = int(scalar(self.con,
            "SELECT 1 + coalesce(max(r), 0) FROM (" + " UNION ALL ".join(
                [f"SELECT max(r) AS r FROM {t}" for t in
                 list(store.preds.values()) + list(store.tuple_tables.values())] or
                ["SELECT 0 AS r"]) + ")"))
        super().__init__(store, first, max_derived_facts=max_derived_facts, deadline=deadline,
                         progress=progress)
        self._joined_tables: list[str] = []
        self._minted, self._touched = 0, set[str]()  # see run_rule / _insert
        self._row_ranges: dict[tuple[str, str, str], tuple] = {}  # (min, max, unique): _insert
        self._round_ranges: dict[tuple, dict[int, tuple]] = {}  # see _rounds
        self._rounds_read: dict[tuple, int] = {}  # rounds r < this are in _round_ranges
        #: (table, round) -> whether the first column is distinct over that round's rows
        self._unique_rounds: dict[tuple[str, int], bool] = {}
        self._inserts: dict[tuple[str, int], int] = {}  # inserts into (table, round)

    # -- one rule -------------------------------------------------------------------------
    def run_rule(self, rule: Rule, variants: list[dict[int, str]],
                 joined: tuple[Joined, ...] = ()) -> int:
        """Evaluate ``rule`` for each atom-version assignment; insert new head facts.

        The join (all variants, UNION ALL) is materialised once as distinct rows of term ids;
        BINDs only the head uses are computed afterwards over those rows (:func:`late_binds`).
        """
        names = sorted({t.name for a in rule.head for t in head_terms(a) if isinstance(t, Var)})
        late, first, inputs = self._late_split(rule, names)
        self.ctx.round = self.round
        selects, kinds = self._selects(rule, variants, first, late, joined)
        if late and any(kinds[n] != "id" for n in first if n in inputs):
            late, first = frozenset(), names  # a late BIND reads a computed value: no split
            selects, kinds = self._selects(rule, variants, first, late, joined)
        # distinct rows, unless the only head atom's insert makes its rows distinct anyway
        once = len(rule.head) > 1 or late or any(kinds[n] != "id" for n in first)
        key = None if once else self._key_range(rule, variants, rule.head[0])
        distinct = (once or key is not None) and not self._rows_distinct(
            rule, variants, set(first), late)
        self._minted, self._touched, self._row_ranges = next_id(self.con), set(), {}
        if key is not None:  # one head atom of term ids: insert straight from the join
            return self._insert_head(rule.head[0], "(" + " UNION ALL ".join(selects) + ")",
                                     key, distinct)
        n = scalar(self.con, f"CREATE OR REPLACE TEMP TABLE _rb AS SELECT "
                             f"{'DISTINCT ' if distinct else ''}* FROM ("
                             + " UNION ALL ".join(selects) + ")")
        if not n:
            return 0
        maps: dict[str, tuple[str, str]] = {}
        iris: set[str] = set()
        if late:
            # a failed BIND gives a NULL nt, which interning skips and its join below drops
            kinds, maps, iris = self._apply_late("_rb", rule, late, first, names,
                                                  per_value=True)
        computed = [n for n in names if kinds.get(n) == "nt" and n not in maps]
        if computed or maps:
            # one interning for all computed columns (per row and per value); each nt is in
            # the map, and when no two of its nts share a hash, the hash alone finds it (no
            # string comparison)
            rel = " UNION ALL ".join([f"SELECT v_{n} AS nt FROM _rb" for n in computed] + [
                f"SELECT v_{n} AS nt FROM {t}" for n, (t, _) in maps.items()])
            # the kinds and datatypes of the new terms, read where they can vary
            typed = " UNION ALL ".join(
                [f"SELECT v_{n} AS nt FROM _rb" for n in computed if n not in iris]
                + [f"SELECT v_{n} AS nt FROM {t}" for n, (t, _) in maps.items()]
                + ["SELECT NULL::VARCHAR AS nt"])
            intern(self.con, rel, "nt", into="_m", typed=typed)
            unique = scalar(self.con, "SELECT count(DISTINCT h) = count(*) FROM _m")
            on = {n: f"_rb.v_{n}" for n in computed} | {n: f"l_{n}.v_{n}" for n in maps}
            joins = " ".join(f"JOIN {t} l_{n} ON l_{n}.v_{v} = _rb.v_{v}"
                             for n, (t, v) in maps.items())
            joins += " " + " ".join(f"JOIN _m m_{n} ON " + (f"m_{n}.h = hash({c})" if unique
                                                             else f"m_{n}.nt = {c}")
                                    for n, c in on.items())
            sel = ", ".join(f"m_{n}.id AS v_{n}" if n in on else f"_rb.v_{n}" for n in names)
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE _rb AS SELECT {sel} FROM _rb {joins}")
            for t in ["_m"] + [t for t, _ in maps.values()]:
                self.con.execute(f"DROP TABLE {t}")
        added = sum(self._insert_head(atom) for atom in rule.head)
        self.con.execute("DROP TABLE IF EXISTS _rb")
        return added

    def _late_split(self, rule: Rule, names: list[str]
                    ) -> tuple[frozenset[int], list[str], set[str]]:
        """The BINDs only the head reads (:func:`late_binds`, computed after the join over its
        distinct rows): their literals' indexes, the variables the join must give instead of
        ``names`` (``first``), and the variables those BINDs read."""
        late = late_binds(rule.body)
        if not late:
            return late, names, set()
        inputs = set().union(*(literal_vars(rule.body[i]) for i in late))
        outs = {rule.body[i].var.name for i in late}  # type: ignore[union-attr]
        return late, sorted((set(names) | inputs) - outs), inputs

    def _apply_late(self, table: str, rule: Rule, late: frozenset[int], first: list[str],
                    names: list[str], per_value: bool = False
                    ) -> tuple[dict[str, str], dict[str, tuple[str, str]], set[str]]:
        """Replace temp table ``table`` (columns ``v_<first>``) by its rows with the late
        BINDs computed (columns ``v_<names>``); returns the columns' kinds, and the BINDs
        computed per value (``per_value``, see :mod:`.latebind`): target -> (table of
        ``v_<input>, v_<target>`` nts, input), whose rows keep ``v_<input>`` instead, and the
        computed columns that hold IRIs whatever the row (``IRI(...)`` of a string). With
        ``per_value`` computed terms are not checked against the dictionary: the caller
        interns them (a failed BIND is a NULL nt)."""
        plan = BodyPlan(self.ctx, froms=[f"{table} AS b"],
                        env={v: Binding(id=f"b.v_{v}") for v in first})
        maps: dict[str, tuple[str, str]] = {}
        small: dict[int, str] = {}
        if per_value:
            small = distinct_binds(self.con, self.ctx, table, rule.body,
                                   single_input_binds(rule.body, late, set(first)),
                                   lambda i: f"_lb{i}")
            maps = {rule.body[i].var.name: (f"_lb{i}", v)  # type: ignore[union-attr]
                    for i, v in small.items()}
        plan.body(tuple(rule.body[i] for i in sorted(late) if i not in small))
        outs = [n for n in names if n not in maps] + sorted({v for _, v in maps.values()}
                                                            - set(names))
        cols, kinds = plan.output(outs)
        # computed columns that are IRIs whatever the row (IRI(...) of a string)
        iris = {n for n in outs if kinds[n] == "nt" and plan.env[n].val is not None
                and plan.env[n].val.static == "iri"}  # type: ignore[union-attr]
        unchecked = frozenset(n for n in outs if per_value and kinds[n] == "nt")
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS "
                         + plan.sql_select(cols, unchecked=unchecked))
        return kinds | dict.fromkeys(maps, "nt"), maps, iris

    def _col(self, t: object) -> str:
        return f"v_{t.name}" if isinstance(t, Var) else str(self._const_id(term_nt(t)))  # type: ignore[arg-type]

    def _key_range(self, rule: Rule, variants: list[dict[int, str]],
                   atom: TripleAtom | TupleAtom) -> tuple[int, int] | None:
        """A (min, max) superset of the ids the first column of head ``atom`` takes, from
        the id ranges of the body atoms that bind it; None when they cannot tell, or when the
        predicate is a variable (the caller then materialises the body)."""
        if isinstance(atom, TripleAtom) and isinstance(atom.p, Var):
            return None
        first = atom.s if isinstance(atom, TripleAtom) else (atom.args[0] if atom.args else None)
        if first is None:
            return None
        if not isinstance(first, Var):
            i = self._const_id(term_nt(first))
            return i, i
        los: list[int] = []
        his: list[int] = []
        for versions in variants:
            lo, hi = None, None
            for j, lit in enumerate(rule.body):
                if isinstance(lit, (TripleAtom, TupleAtom)) and first.name in {
                        v.name for v in lit.variables()}:
                    got = self._ranges(lit, versions.get(j, "all"), {first.name})
                    if got is None or first.name not in got:
                        continue
                    a, b = got[first.name]
                    if a is None or b is None:
                        lo, hi = 1, 0  # no rows: the variant adds nothing
                        break
                    lo = a if lo is None else max(lo, a)
                    hi = b if hi is None else min(hi, b)
            if lo is None or hi is None:
                return None
            if lo <= hi:
                los.append(lo)
                his.append(hi)
        return (min(los), max(his)) if los else None

    def _insert_head(self, atom: TripleAtom | TupleAtom, rows: str = "_rb",
                     key: tuple[int, int] | None = None, distinct: bool = True) -> int:
        """Insert the new facts of head ``atom`` from the relation ``rows`` (columns
        ``v_<name>``); ``key`` is a known (min, max) of its first column; ``distinct`` False
        says the rows are distinct already."""
        if isinstance(atom, TupleAtom):
            table = self.store.tuple_table(atom.name, len(atom.args))
            cols = [self._col(t) for t in atom.args]
            return self._insert(table, [f"c{i}" for i in range(len(cols))], cols, rows=rows,
                                key=key, distinct=distinct)
        s, o = self._col(atom.s), self._col(atom.o)
        if isinstance(atom.p, Var):
            preds = [r[0] for r in self.con.execute(
                f"SELECT DISTINCT v_{atom.p.name} FROM _rb").fetchall()]
            return sum(self._insert(self.store.pred_table(p), ["s", "o"], [s, o],
                                    f"v_{atom.p.name} = {p}") for p in preds)
        pid = self._const_id(term_nt(atom.p))
        return self._insert(self.store.pred_table(pid), ["s", "o"], [s, o], rows=rows, key=key,
                            distinct=distinct)

    def _insert(self, table: str, names: list[str], cols: list[str], where: str = "",
                rows: str = "_rb", key: tuple[int, int] | None = None,
                distinct: bool = True) -> int:
        sel = ", ".join(f"{c} AS {n}" for c, n in zip(cols, names, strict=True)) or "1 AS x"
        unique = False  # whether the rows' first column alone is distinct (then so are the rows)
        if names and key is not None:
            lo, hi = key
        elif names:
            # prune the existing table to the key range of the new rows (zone maps skip the rest)
            ask = (rows, cols[0], where)  # head atoms often share their first column
            if ask not in self._row_ranges:
                self._row_ranges[ask] = first_row(self.con,
                    f"SELECT min({cols[0]}), max({cols[0]}), count(DISTINCT {cols[0]}) = "
                    f"count(*) FROM {rows}" + (f" WHERE {where}" if where else ""))
            lo, hi, unique = self._row_ranges[ask]
            if lo is None:
                return 0
        src = (f"SELECT {'DISTINCT ' if distinct and not unique else ''}{sel} FROM {rows}"
               + (f" WHERE {where}" if where else ""))
        # no check when every key is a term this rule application minted: no stored fact has it
        if names and (lo < self._minted or table in self._touched):
            match = " AND ".join(f"t.{n} = n.{n}" for n in names)
            src = (f"SELECT * FROM ({src}) n WHERE NOT EXISTS (SELECT 1 FROM {table} t "
                   f"WHERE t.{names[0]} BETWEEN {lo} AND {hi} AND {match})")
        elif not names:
            src = f"SELECT 1 FROM ({src}) n WHERE NOT EXISTS (SELECT 1 FROM {table})"
        self._touched.add(table)
        cols_sql = ", ".join(names + ["r"])
        n = scalar(self.con, f"INSERT INTO {table} ({cols_sql}) SELECT "
                             f"{', '.join(names) + ', ' if names else ''}{self.round} FROM ({src})")
        self._count(n)
        # what the new rows' first column is known to be: distinct, when this is the round's
        # only insert into the table (see _first_unique_over)
        at = (table, self.round)
        self._inserts[at] = self._inserts.get(at, 0) + 1
        if unique and self._inserts[at] == 1:
            self._unique_rounds[at] = True
        else:
            self._unique_rounds.pop(at, None)
        if n:
            self.fresh.add(table)
            # cached ranges over all of the table's rows are out of date (the other versions
            # leave out the current round's rows)
            self._range_cache = {k: v for k, v in self._range_cache.items()
                                 if k[:2] != (table, "all")}
        return int(n)

    # -- distinct rows without DISTINCT ---------------------------------------------------
    def _rows_distinct(self, rule: Rule, variants: list[dict[int, str]], kept: set[str],
                       skip: frozenset[int]) -> bool:
        """Whether every variant's body rows (without the literals in ``skip``) are distinct on
        the ``kept`` variables already, so no DISTINCT is needed.

        They are when each other variable is a function of the kept ones: bound by an atom
        whose first column is known and unique in the rows the atom reads in any of the
        variants (a chain's one parent, the one beneficiary of a parent) or by a BIND of
        known values. Stored rows are sets and the variants read disjoint rows, so distinct
        full rows stay distinct. (Unique within each variant's rows is not enough: in
        ``p(x, z) :- p(x, y), p(y, z)`` over a->b->c->d, the variant whose first atom is
        the delta {a->c} and the one whose first atom is the old {a->b} both give a->d.)
        """
        lits = [(i, lit) for i, lit in enumerate(rule.body) if i not in skip]
        if any(isinstance(lit, Aggregate) for _, lit in lits):
            return False
        need = set().union(*(literal_vars(lit) for _, lit in lits
                             if not isinstance(lit, Negation)))
        # the rounds each atom reads in any variant (a superset: their hull), so the same
        # variables follow in every variant
        reads = {i: self._rounds_hull([v.get(i, "all") for v in variants]) for i, lit in lits
                 if isinstance(lit, (TripleAtom, TupleAtom))}
        known, grew = set(kept), True
        while grew and need - known:
            grew = False
            for i, lit in lits:
                if isinstance(lit, Bind):
                    new = {lit.var.name} - known
                    if new and all(v.name in known for v in expr_vars(lit.expr)):
                        known |= new
                        grew = True
                    continue
                if not isinstance(lit, (TripleAtom, TupleAtom)) or (
                        isinstance(lit, TripleAtom) and isinstance(lit.p, Var)):
                    continue
                terms = [lit.s, lit.o] if isinstance(lit, TripleAtom) else list(lit.args)
                new = {t.name for t in terms[1:] if isinstance(t, Var)} - known
                if not new or (isinstance(terms[0], Var) and terms[0].name not in known):
                    continue
                rounds = reads[i]
                if not isinstance(rounds, str) and self._first_unique_over(lit, rounds):
                    known |= new
                    grew = True
        return not need - known

    def _rounds_hull(self, versions: list[str]) -> tuple[int, int] | None | str:
        """The smallest interval of rounds ``[a, b)`` holding the rows of every version in
        ``versions`` (None: all rows; "unknown": a version that is not rounds of the table)."""
        spans = []
        for v in versions:
            if not self._round_version(v):
                return "unknown"
            rounds = self.ctx.version_rounds(v, self.round)
            if rounds is None:
                return None
            spans.append(rounds)
        return min(a for a, _ in spans), max(b for _, b in spans)

    def _round_version(self, version: str) -> bool:
        """Whether a version's rows are rounds of the table (not an update's deletions)."""
        return True

    def _first_unique_over(self, atom: TripleAtom | TupleAtom,
                           rounds: tuple[int, int] | None) -> bool:
        """Whether the first column of ``atom``'s table is unique over its rows of the rounds
        ``[a, b)`` (None: all rows): unique within each round, and the rounds' id ranges
        disjoint."""
        table = self._table_of(atom)
        if rounds is None:  # all rows: known only while the current round added none
            if table in self.fresh:
                return False
            rounds = (0, self.round)
        a, b = rounds
        col = "s" if isinstance(atom, TripleAtom) else "c0"
        spans = sorted((lo, hi, r) for r, (lo, hi) in self._rounds(table, [], [col], b).items()
                       if a <= r < b and lo is not None)
        if any(nxt[0] <= cur[1] for cur, nxt in zip(spans, spans[1:], strict=False)):
            return False
        todo = [r for _, _, r in spans if (table, r) not in self._unique_rounds]
        if todo:
            for r, ok in self.con.execute(
                    f"SELECT r, count(DISTINCT {col}) = count(*) FROM {table} WHERE r IN "
                    f"({', '.join(map(str, todo))}) GROUP BY r").fetchall():
                self._unique_rounds[(table, r)] = bool(ok)
        return all(self._unique_rounds.get((table, r), False) for _, _, r in spans)

    def _range_row(self, table: str, version: str, consts: list[tuple[str, int]],
                   cols: list[str]) -> tuple | None:
        """Versions other than ``all`` are rounds ``[a, b)`` that are over (b <= the current
        round): their per-round ranges never change, so each round of a table is read once
        (:meth:`_rounds`) and a version's range is combined from them."""
        rounds = self.ctx.version_rounds(version, self.round)
        if rounds is None:
            where = [f"{c} = {v}" for c, v in consts]
            sql = ", ".join(f"min({c}), max({c})" for c in cols) or "count(*), count(*)"
            return self.con.execute(f"SELECT {sql} FROM {table}"
                                    + (f" WHERE {' AND '.join(where)}" if where else "")
                                    ).fetchone()
        a, b = rounds
        rows = [row for r, row in self._rounds(table, consts, cols, b).items() if a <= r < b]
        if not cols:
            n = sum(row[0] for row in rows)
            return n, n
        out: list[int | None] = []
        for i in range(len(cols)):
            los = [row[2 * i] for row in rows if row[2 * i] is not None]
            his = [row[2 * i + 1] for row in rows if row[2 * i + 1] is not None]
            out += [min(los) if los else None, max(his) if his else None]
        return tuple(out)

    def _rounds(self, table: str, consts: list[tuple[str, int]], cols: list[str],
                upto: int) -> dict[int, tuple]:
        """Per round r < ``upto``: the (min, max) of ``cols`` (or the count) over the rows of
        ``table`` derived in r that match ``consts``."""
        key = (table, tuple(consts))
        known = self._round_ranges.setdefault(key, {})
        if self._rounds_read.get(key, 0) < upto:
            assert upto <= self.round, "only finished rounds have final ranges"
            self._read_rounds()
        names = self._columns(table)
        at = [names.index(c) for c in cols]
        return {r: tuple(x for i in at for x in row[1 + 2 * i:3 + 2 * i]) if cols else row[:1]
                for r, row in known.items()}

    def _read_rounds(self) -> None:
        """Read the per-round (count, min, max of every column) of the finished rounds not
        read yet, for every (table, constants) asked about so far, in one statement (rows
        are appended in round order, so zone maps skip the older rounds)."""
        stale = [(key, self._rounds_read.get(key, 0)) for key in self._round_ranges
                 if self._rounds_read.get(key, 0) < self.round]
        width = max(len(self._columns(t)) for (t, _), _ in stale)
        parts = []
        for i, ((table, consts), done) in enumerate(stale):
            names = self._columns(table)
            aggs = [f"{f}({c})" for c in names for f in ("min", "max")]
            aggs += ["NULL::INTEGER"] * (2 * (width - len(names)))
            where = [f"r >= {done}", f"r < {self.round}"] + [f"{c} = {v}" for c, v in consts]
            parts.append(f"SELECT {i} AS k, r, count(*), {', '.join(aggs)} FROM {table} "
                         f"WHERE {' AND '.join(where)} GROUP BY r")
        for k, r, *row in self.con.execute(" UNION ALL ".join(parts)).fetchall():
            self._round_ranges[stale[k][0]][r] = tuple(row)
        for key, _ in stale:
            self._rounds_read[key] = self.round

    def _columns(self, table: str) -> list[str]:
        """The id columns of a store table (``s, o``, or ``c0..`` of a tuple table)."""
        for (_, arity), name in self.store.tuple_tables.items():
            if name == table:
                return [f"c{i}" for i in range(arity)]
        return ["s", "o"]

    def end_round(self) -> None:
        self.store.pack()

    def interrupt(self) -> None:
        self.con.interrupt()

    def drop_joins(self, joins: list[Joined]) -> None:
        for j in joins:
            self.con.execute(f"DROP TABLE IF EXISTS {j.table}")

    def _table_rows(self, table: str) -> int:
        return int(scalar(self.con, f"SELECT count(*) FROM {table}"))

    def _make_join(self, sql: str, cap: int, valued: frozenset[str], names: tuple[str, ...]
                   ) -> tuple[str, tuple[tuple[str, str], ...], bool] | None:
        table = f"_j{len(self._joined_tables)}"
        self._joined_tables.append(table)
        n = scalar(self.con, f"CREATE OR REPLACE TEMP TABLE {table} AS {sql} LIMIT {cap}")
        if n >= cap:
            self.con.execute(f"DROP TABLE {table}")
            return None
        if n == 1:  # every column is a constant: the query need not read the table
            return table, constant_columns(self.con, table, valued, names), True
        return table, constant_columns(self.con, table, valued), False


#: a single body atom of at most this many rows is materialised like a join (see stratum_joins)
SMALL_ATOM = 16


def _split(versions: dict[int, str], joined: tuple[Joined, ...]) -> list[dict[int, str]]:
    """The variant ``versions`` as variants that can read the materialised joins.

    A recursive atom in a join's ``pre`` set reads, in the join's table, only its rows from
    before the stratum; its full/old version is the union of those and the rows derived in
    the stratum (``full_in``/``old_in``). For the atoms a_1..a_m of such sets: one variant
    with every a_p ``pre`` (it reads the tables), and for each p one with a_1..a_(p-1)
    ``pre``, a_p ``*_in`` and the rest unchanged - together exactly the original variant.
    A join one of whose atoms is the delta is not split.

    >>> j = Joined(frozenset({0, 1}), "_j0", (), pre=frozenset({1}))
    >>> _split({1: "full", 2: "delta"}, (j,))
    [{1: 'pre', 2: 'delta'}, {1: 'full_in', 2: 'delta'}]
    """
    parts = sorted(a for j in joined for a in j.pre
                   if all(versions.get(b) in ("full", "old") for b in j.pre))
    if not parts:
        return [versions]
    out = [{**versions, **{a: "pre" for a in parts}}]
    for p, a in enumerate(parts):
        out.append({**versions, **{b: "pre" for b in parts[:p]}, a: versions[a] + "_in"})
    return out


def table_of(store: Any, const_id: Callable[[str], int], atom: object) -> str:
    """The table an atom reads in ``store`` ("*" for a variable predicate: any table)."""
    if isinstance(atom, TupleAtom):
        return store.tuple_table(atom.name, len(atom.args))
    assert isinstance(atom, TripleAtom)
    if isinstance(atom.p, Var):
        return "*"
    return store.pred_table(const_id(term_nt(atom.p)))


def check_limits(derived: int, max_derived: int | None, deadline: float | None) -> None:
    """Raise LimitExceeded past ``max_derived`` facts or the monotonic ``deadline``."""
    if max_derived is not None and derived > max_derived:
        raise LimitExceeded(
            f"more than {max_derived} derived facts (limits.max_derived_facts)",
            json_path="limits.max_derived_facts",
            hint="a rule may derive without bound; check recursive rules or raise the limit")
    if deadline is not None and time.monotonic() > deadline:
        raise LimitExceeded("reasoning ran past its time limit (limits.timeout_seconds)",
                            json_path="limits.timeout_seconds",
                            hint="raise the limit or narrow the data")


def program_facts(program: Program, params: Mapping[str, object] | None
                  ) -> list[tuple[TripleAtom | TupleAtom, list[str]]]:
    """The program's facts as (atom, nt terms), job parameters replacing ``gc:param``
    defaults (shared by both backends)."""
    params = dict(params or {})
    names = {term_nt_str(n) for n in params}
    facts: list[tuple[TripleAtom | TupleAtom, list[str]]] = []
    for rule in program.rules:
        if rule.body:
            continue
        for atom in rule.head:
            nts = [term_nt(t) for t in head_terms(atom)]
            if isinstance(atom, TupleAtom) and atom.name == PARAM_TABLE and nts[:1] and \
                    nts[0] in names:
                continue
            facts.append((atom, nts))
    for name, value in params.items():
        facts.append((TupleAtom(PARAM_TABLE, ()), [term_nt_str(name), param_nt(value)]))
    return facts


def add_program_facts(store: FactStore, program: Program,
                      params: Mapping[str, object] | None) -> None:
    """Insert the program's facts (round 0), job parameters replacing ``gc:param`` defaults."""
    for atom, nts in program_facts(program, params):
        _add_fact(store, atom, nts)


def term_nt_str(text: str) -> str:
    return literal_nt(str(text))


def _add_fact(store: FactStore, atom: TripleAtom | TupleAtom, nts: list[str]) -> None:
    ids = store.intern(nts)
    if isinstance(atom, TupleAtom):
        table = store.tuple_table(atom.name, len(ids))
        match = " AND ".join(f"c{i} = {v}" for i, v in enumerate(ids)) or "true"
        store.con.execute(f"INSERT INTO {table} SELECT {', '.join(map(str, ids + [0]))} "
                          f"WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE {match})")
    else:
        store.add_rows(ids[1], [(ids[0], ids[2])])


def materialise(store: FactStore, program: Program, params: Mapping[str, object] | None = None,
                *, max_derived_facts: int | None = None, timeout_seconds: float | None = None,
                progress: Callable[[str, int], None] | None = None) -> Report:
    """Check, stratify and evaluate ``program`` on ``store``; return what was derived.

    Raises RuleError for a bad program and LimitExceeded when ``max_derived_facts`` or
    ``timeout_seconds`` is passed (the store then holds a partial result).
    """
    t0 = time.monotonic()
    strata = stratify(program, params)
    deadline = None if timeout_seconds is None else t0 + timeout_seconds
    ev = Evaluator(store, max_derived_facts=max_derived_facts, deadline=deadline,
                   progress=progress)
    add_program_facts(store, program, params)
    return ev.run(strata, timeout_seconds, t0)
