"""Incremental maintenance of a store's materialisation: additions and retractions (DRed).

An on-disk store (:mod:`graphcrime.engine.disk`) keeps every fact, input or derived, in the
predicate and tuple tables with the round ``r`` that produced it, and its input facts in
``x_<table>`` (``prog`` marks the facts of the rule files and job parameters). An update
gets the next round ``u``; its new input facts get round ``u`` and the strata are visited in
order. A stratum none of whose inputs changed is skipped; the others are maintained:

* **monotone** (no NOT or AGGREGATE over a changed table), in three steps of DRed:
  *over-delete* - semi-naive propagation of the deleted facts (``_del_<table>``, deletion
  round ``dr``): each rule with one atom reading the last deletions and the others the
  pre-update facts (current plus deleted) marks the head facts it derived for deletion
  (never an input fact); *re-derive* - a marked fact is derived again when the rule finds
  it from the remaining facts (the body is joined with the marked facts of one head atom and
  the pre-update facts of the rule's other head atoms, which any such derivation also made,
  so the join starts from the few marked facts even when the head term is minted by a
  BIND); *add* - the semi-naive evaluation continues from the facts added by the update
  (``since`` round ``u``): atom i reads them, the atoms before it the older facts
  (``before``), those after it all, then the usual rounds of a recursive stratum.
* **non-monotone** (a NOT or AGGREGATE reads a changed table), or a stratum whose rules
  changed: it is evaluated again from scratch and compared with what it had: the facts it
  lost become deletions for the strata above, the new ones additions, and the facts it kept
  get their round back (they are not news for the strata above).

Everything is SQL over whole tables; the caller runs the update in one transaction.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from typing import Any, cast

import duckdb

from graphcrime.compile.analysis import keys_overlap, pred_key
from graphcrime.compile.stratify import stratify
from graphcrime.db import first_row, scalar
from graphcrime.engine.plan import (
    VERSIONS,
    Joined,
    head_terms,
    is_type_atom,
    term_nt,
)
from graphcrime.engine.seminaive import Evaluator, program_facts
from graphcrime.engine.store import FactStore
from graphcrime.lang.ast import (
    Aggregate,
    Negation,
    Program,
    Rule,
    TripleAtom,
    TupleAtom,
    Var,
)
from graphcrime.lang.printer import format_rule

Row = tuple[int, ...]


def explicit_table(store: FactStore, table: str) -> str:
    """The input facts of ``table`` (``x_<table>``, created empty on first use)."""
    name = f"x_{table}"
    cols = ", ".join(f"{c} INTEGER" for c in store.columns(table))
    store.con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({cols}{', ' if cols else ''}"
                      "prog BOOLEAN)")
    return name


def _match(cols: list[str], a: str, b: str) -> str:
    return " AND ".join(f"{a}.{c} = {b}.{c}" for c in cols) or "true"


#: over-deletion gives up, and the stratum is evaluated again, once it has marked this share
#: of the stratum's facts (retracting the first of three days removes most chains)
RECOMPUTE_SHARE = 0.2
#: an update's new rows of a table are held in a temporary table up to this share of it
HELD_SHARE = 0.1


class Maintainer(Evaluator):
    """One update of a store: explicit changes, then the strata in order (module docstring)."""

    def __init__(self, store: FactStore, **options: Any) -> None:
        super().__init__(store, **options)
        self.since = self.round  # the update's first round: its new input facts
        self.ctx.since = self.since
        self.ctx.relation = self._relation
        self.round += 1
        self.dels: set[str] = set()  # tables with a _del_<table>
        #: tables that a re-evaluation changed wholesale: no _del_ rows, and every stratum
        #: that reads or derives them is evaluated again
        self.wholesale: set[str] = set()
        self.dround = 1  # the next deletion round (explicit retractions are round 0)
        self.added: set[str] = set()  # tables with rows of round >= since
        self.changes = {"added": 0, "retracted": 0}
        self.facts_before = store.count()  # see summary

    # -- versions an update adds ----------------------------------------------------------
    def _relation(self, table: str, version: str) -> str:
        cols = ", ".join(self.store.columns(table) + ["r"])
        if version == "olddb":  # the facts before the update (and the update's additions)
            if table not in self.dels:
                return table
            return f"(SELECT {cols} FROM {table} UNION ALL SELECT {cols} FROM _del_{table})"
        if table not in self.dels:
            return f"(SELECT {cols} FROM {table} WHERE false)"
        if version == "del_all":
            return f"(SELECT {cols} FROM _del_{table})"
        assert version == "del_last", version
        return f"(SELECT {cols} FROM _del_{table} WHERE dr = {self.dround - 1})"

    def _range_row(self, table: str, version: str, consts: list[tuple[str, int]],
                   cols: list[str]) -> tuple | None:
        if version not in VERSIONS:
            return None
        return super()._range_row(table, version, consts, cols)

    def _round_version(self, version: str) -> bool:
        # the deleted rows (del_*) and the pre-update facts (olddb) are not rounds of a table
        return version in VERSIONS

    def forget(self) -> None:
        """Drop the cached per-round ranges (after rows changed rounds)."""
        self._round_ranges, self._rounds_read, self._range_cache = {}, {}, {}
        self._unique_rounds = {}

    # -- explicit changes -----------------------------------------------------------------
    def _del_table(self, table: str) -> str:
        if table not in self.dels:
            cols = ", ".join(f"{c} INTEGER" for c in self.store.columns(table))
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE _del_{table} "
                             f"({cols}{', ' if cols else ''}r INTEGER, dr INTEGER)")
            self.dels.add(table)
        return f"_del_{table}"

    def add_explicit(self, table: str, rows: str, prog: bool = False) -> int:
        """Make the rows of relation ``rows`` (the table's id columns) input facts: they are
        added to ``x_<table>`` and, when new, to the table at the update's round."""
        cols = self.store.columns(table)
        x = explicit_table(self.store, table)
        sel = ", ".join(cols) or "1"
        n = scalar(self.con, 
            f"INSERT INTO {x} SELECT DISTINCT {sel}{', ' if cols else ''}{prog} FROM {rows} a "
            f"WHERE NOT EXISTS (SELECT 1 FROM {x} x WHERE {_match(cols, 'x', 'a')} "
            f"AND x.prog = {prog})")
        new = scalar(self.con, 
            f"INSERT INTO {table} SELECT DISTINCT {sel + ', ' if cols else ''}{self.since} "
            f"FROM {rows} a WHERE NOT EXISTS (SELECT 1 FROM {table} t "
            f"WHERE {_match(cols, 't', 'a')})")
        if new:
            self.added.add(table)
            self.fresh.add(table)
        return int(n)

    def remove_explicit(self, table: str, rows: str, prog: bool = False) -> int:
        """Retract the input facts in relation ``rows``; those no longer input facts leave
        the table as deletions (the strata re-derive them if they still follow)."""
        cols = self.store.columns(table)
        x = explicit_table(self.store, table)
        sel = ", ".join(cols) or "1"
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE _gone AS SELECT DISTINCT {sel} "
                         f"FROM {rows} a")
        n = scalar(self.con, f"DELETE FROM {x} USING _gone a WHERE {_match(cols, x, 'a')} "
                             f"AND {x}.prog = {prog}")
        if n:
            d = self._del_table(table)
            self.con.execute(
                f"INSERT INTO {d} SELECT {', '.join(f't.{c}' for c in cols + ['r'])}, 0 "
                f"FROM {table} t JOIN _gone a ON {_match(cols, 't', 'a')} WHERE NOT EXISTS "
                f"(SELECT 1 FROM {x} x WHERE {_match(cols, 'x', 't')})")
            self._delete_marked(table)
        self.con.execute("DROP TABLE _gone")
        return int(n)

    def _delete_marked(self, table: str) -> None:
        cols = self.store.columns(table)
        self.con.execute(f"DELETE FROM {table} USING _del_{table} d "
                         f"WHERE {_match(cols, table, 'd')}")

    def add_triples(self, rel: str) -> int:
        """Input triples of relation ``rel(s, p, o)`` (term ids)."""
        n = 0
        for (p,) in self.con.execute(f"SELECT DISTINCT p FROM {rel}").fetchall():
            n += self.add_explicit(self.store.pred_table(p),
                                   f"(SELECT s, o FROM {rel} WHERE p = {p})")
        self.changes["added"] += n
        return n

    def retract_triples(self, rel: str) -> int:
        n = 0
        for (p,) in self.con.execute(f"SELECT DISTINCT p FROM {rel}").fetchall():
            if p in self.store.preds:
                n += self.remove_explicit(self.store.preds[p],
                                          f"(SELECT s, o FROM {rel} WHERE p = {p})")
        self.changes["retracted"] += n
        return n

    def program_rows(self, program: Program, params: Mapping[str, object] | None
                     ) -> dict[str, set[Row]]:
        """The program's facts (rule-file facts, parameters) as id rows per table."""
        out: dict[str, set[Row]] = {}
        for atom, nts in program_facts(program, params):
            ids = self.store.intern(nts)
            if isinstance(atom, TupleAtom):
                out.setdefault(self.store.tuple_table(atom.name, len(ids)), set()).add(
                    tuple(ids))
            else:
                out.setdefault(self.store.pred_table(ids[1]), set()).add((ids[0], ids[2]))
        return out

    def change_program_facts(self, old: dict[str, set[Row]], new: dict[str, set[Row]]) -> None:
        for table in sorted(set(old) | set(new)):
            gone, came = old.get(table, set()) - new.get(table, set()), \
                new.get(table, set()) - old.get(table, set())
            cols = self.store.columns(table)
            for rows, op in ((gone, self.remove_explicit), (came, self.add_explicit)):
                if rows:
                    values = ", ".join("(" + ", ".join(map(str, r or (0,))) + ")"
                                       for r in sorted(rows))
                    names = ", ".join(cols) or "x_"
                    op(table, f"(SELECT * FROM (VALUES {values}) v({names}))", True)

    def drop_derived(self, rules: tuple[Rule, ...]) -> None:
        """Every derived fact the heads of ``rules`` can match becomes a deletion (those
        rules are gone)."""
        for table, cond in self.head_rows(rules).items():
            cols = self.store.columns(table)
            x = explicit_table(self.store, table)
            d = self._del_table(table)
            self.con.execute(f"INSERT INTO {d} SELECT "
                             f"{', '.join(f't.{c}' for c in cols + ['r'])}, 0 FROM {table} t "
                             f"WHERE {cond} AND NOT EXISTS (SELECT 1 FROM {x} x "
                             f"WHERE {_match(cols, 'x', 't')}) AND NOT EXISTS (SELECT 1 FROM "
                             f"{d} d WHERE {_match(cols, 'd', 't')})")
            self._delete_marked(table)

    # -- the strata -----------------------------------------------------------------------
    def maintain(self, strata: Any, dirty: Callable[[Any], bool] = lambda s: False) -> None:
        """Visit the strata in order; ``dirty(stratum)`` says its rules changed."""
        from graphcrime.compile.analysis import merge_recursive

        earlier: list[Rule] = []
        for stratum in merge_recursive(tuple(strata)):
            rules = tuple(r for r in stratum.rules if r.body)
            if not rules:
                continue
            # the rules of earlier strata with a head table of this one join it: a fact this
            # stratum deletes may follow from them (or feed them), and a recomputed table
            # is recomputed with all of its rules
            own = rules
            keys = {pred_key(a) for r in rules for a in r.head}
            while True:
                more = tuple(r for r in earlier if r not in rules and any(
                    keys_overlap(pred_key(a), k) for a in r.head for k in keys))
                if not more:
                    break
                rules = more + rules
                keys |= {pred_key(a) for r in more for a in r.head}
            earlier += own
            heads = self._head_tables(rules)
            changed = self.added | self.wholesale | {t for t in self.dels if self._has_dels(t)}
            pos, nonmono = self._reads(rules)
            touched = pos | nonmono | heads
            recursive = stratum.recursive or (own != rules and any(
                keys_overlap(pred_key(lit), k) for r in rules for lit in r.body
                if isinstance(lit, (TripleAtom, TupleAtom)) for k in keys))
            if dirty(stratum) or (nonmono & changed) or ("*" in nonmono and changed) or (
                    touched & self.wholesale) or ("*" in touched and self.wholesale):
                self.recompute(rules, frozenset(keys), recursive)
            elif (pos & changed) or ("*" in pos and changed) or (heads & changed):
                self.monotone(rules, frozenset(keys), recursive, heads)
            else:
                continue
            self.report.strata += 1
            for t in heads:
                if scalar(self.con, f"SELECT count(*) FROM {t} WHERE r >= {self.since}"
                                    ):
                    self.added.add(t)

    def _has_dels(self, table: str) -> bool:
        return bool(scalar(self.con, f"SELECT count(*) FROM _del_{table}"))

    def head_rows(self, rules: tuple[Rule, ...]) -> dict[str, str]:
        """Per table, an SQL condition on its rows (alias ``t``) that holds for every fact the
        ``rules`` can derive in it: the classes of ``rdf:type`` heads (one table holds every
        class), else ``true``."""
        out: dict[str, set[str] | None] = {}
        for rule in rules:
            for atom in rule.head:
                t = self._table_of(atom)
                for table in (self.store.preds.values() if t == "*" else [t]):
                    cls = (atom.o if isinstance(atom, TripleAtom) and not isinstance(atom.p, Var)
                           and is_type_atom(atom) and not isinstance(atom.o, Var) else None)
                    if cls is None or out.get(table, set()) is None:
                        out[table] = None
                    else:
                        out[table] = (out.get(table) or set()) | {
                            str(self._const_id(term_nt(cls)))}
        return {t: "true" if ids is None else f"t.o IN ({', '.join(sorted(ids))})"
                for t, ids in out.items()}

    def _head_tables(self, rules: tuple[Rule, ...]) -> set[str]:
        out: set[str] = set()
        for rule in rules:
            for atom in rule.head:
                t = self._table_of(atom)
                out |= set(self.store.preds.values()) if t == "*" else {t}
        return out

    def _reads(self, rules: tuple[Rule, ...]) -> tuple[set[str], set[str]]:
        """Tables the rules read positively, and through NOT or AGGREGATE."""
        pos: set[str] = set()
        nonmono: set[str] = set()

        def walk(lits: tuple, into: set[str]) -> None:
            for lit in lits:
                if isinstance(lit, (TripleAtom, TupleAtom)):
                    into.add(self._table_of(lit))
                elif isinstance(lit, Negation):
                    nonmono.update(self._table_of(a) for a in lit.atoms)
                elif isinstance(lit, Aggregate):
                    walk(lit.body, nonmono)
        for rule in rules:
            walk(rule.body, pos)
        return pos, nonmono

    def monotone(self, rules: tuple[Rule, ...], heads: frozenset, recursive: bool,
                 tables: set[str]) -> None:
        """DRed's over-delete and re-derive, then the semi-naive additions (module doc)."""
        if any(self._has_dels(t) for t in self.dels):
            if not self.overdelete(rules, tables):
                self.recompute(rules, heads, recursive)  # most of it goes: cheaper
                return
            self.rederive(rules)
        self.fresh = set()
        self.ctx.first = self.ctx.round = self.round
        self._hold_since(rules)
        try:
            for rule in rules:
                atoms = [i for i, lit in enumerate(rule.body)
                         if isinstance(lit, (TripleAtom, TupleAtom))]
                variants = []
                for i in atoms:
                    t = self._table_of(rule.body[i])
                    if t != "*" and t not in self.added:
                        continue
                    v = {j: "before" for j in atoms if j < i} | {i: "since"}
                    self.ctx.round = self.round
                    if self._variant_empty(rule, v, i) or any(
                            self._variant_empty(rule, v, j) for j in atoms if j < i):
                        continue
                    variants.append(v)
                if variants:
                    self.run_rule(rule, variants)
        finally:
            for name in self.ctx.materialised.values():
                self.con.execute(f"DROP TABLE IF EXISTS {name}")
            self.ctx.materialised = {}
        self.round += 1
        if recursive and self.fresh:
            self.recursive_rounds(rules, heads)

    def _hold_since(self, rules: tuple[Rule, ...]) -> None:
        """The update's new rows of each table the rules read, in temporary tables, when
        they are few (at most HELD_SHARE of the table): DuckDB estimates a round condition
        at a fifth of the table, and an hourly batch's 1,398 new transactions estimated at
        64k made it join all old chains with every originator first (2.7M rows, 1.9 s of a
        4 s update)."""
        pos, _ = self._reads(rules)
        for t in sorted(self.added & pos):
            rows = f"SELECT * FROM {t} WHERE {self.ctx.version_sql('since')}"
            name = f"_gc_since_{t}"
            n = scalar(self.con, f"CREATE OR REPLACE TEMP TABLE {name} AS {rows}")
            if n <= HELD_SHARE * scalar(self.con, f"SELECT count(*) FROM {t}"):
                self.ctx.materialised[(t, "since")] = name
            else:
                self.con.execute(f"DROP TABLE {name}")

    def overdelete(self, rules: tuple[Rule, ...], tables: set[str]) -> bool:
        """Mark for deletion every derived fact of the stratum one of whose derivations
        (over the pre-update facts) uses a deleted fact; then delete the marked facts.
        False (nothing deleted) when the marks pass RECOMPUTE_SHARE of the stratum's facts:
        evaluating it again is then cheaper than deleting and re-deriving."""
        stored = sum(scalar(self.con, f"SELECT count(*) FROM {t} t WHERE {cond}")
                     for t, cond in self.head_rows(rules).items())
        pos, _ = self._reads(rules)
        lower = [t for t in pos - tables if t in self.dels]
        if lower:  # a big share of the inputs goes: so will most of the stratum
            gone = sum(scalar(self.con, f"SELECT count(*) FROM _del_{t}")
                       for t in lower)
            kept = sum(scalar(self.con, f"SELECT count(*) FROM {t}")
                       for t in lower)
            if gone >= RECOMPUTE_SHARE * (gone + kept):
                return False
        # the joins of lower-strata atoms over the pre-update facts, once for all rounds
        joins = {}
        for rule in rules:
            rec = [i for i, lit in enumerate(rule.body) if isinstance(lit, (TripleAtom, TupleAtom))
                   and self._table_of(lit) in tables | {"*"}]
            joins[id(rule)] = self.stratum_joins(rule, rec, version="olddb", merge_rec=False)
        done = self._overdelete(rules, joins, stored * RECOMPUTE_SHARE if stored else 0.0)
        self.drop_joins([j for js in joins.values() for j in js])
        if done:
            for t in tables:
                if t in self.dels:
                    self._delete_marked(t)
        return done

    def _overdelete(self, rules: tuple[Rule, ...], joins: dict[int, tuple[Joined, ...]],
                    budget: float) -> bool:
        first, total = True, 0
        while True:
            marked = 0
            version = "del_all" if first else "del_last"
            live = {t for t in self.dels if self._has_dels(t)} if first else {
                t for t in self.dels if scalar(self.con, 
                    f"SELECT count(*) FROM _del_{t} WHERE dr = {self.dround - 1}")}
            for rule in rules:
                atoms = [i for i, lit in enumerate(rule.body)
                         if isinstance(lit, (TripleAtom, TupleAtom))]
                variants = [{j: "olddb" for j in atoms} | {i: version} for i in atoms
                            if self._table_of(rule.body[i]) in live | {"*"}
                            and not self._none_deleted(
                                cast("TripleAtom | TupleAtom", rule.body[i]), version)]
                if variants:
                    marked += self._mark(rule, variants, joins[id(rule)])
            self.dround += 1
            first = False
            total += marked
            if total > budget:
                return False
            if not marked:
                return True

    def _none_deleted(self, atom: TripleAtom | TupleAtom, version: str) -> bool:
        """Whether the deletions ``version`` has no row that matches ``atom``'s constants."""
        table = self._table_of(atom)
        if table == "*":
            return False
        terms = ([("s", atom.s), ("o", atom.o)] if isinstance(atom, TripleAtom)
                 else [(f"c{n}", t) for n, t in enumerate(atom.args)])
        where = [f"{c} = {self._const_id(term_nt(t))}" for c, t in terms
                 if not isinstance(t, Var)]
        return not scalar(self.con, 
            f"SELECT count(*) FROM {self._relation(table, version)} d"
            + (f" WHERE {' AND '.join(where)}" if where else ""))

    def _mark(self, rule: Rule, variants: list[dict[int, str]],
              joined: tuple[Joined, ...] = ()) -> int:
        """Insert the head facts of ``rule``'s ``variants`` that are stored, derived and not
        marked yet into the deletion tables (round ``self.dround``)."""
        names = sorted({t.name for a in rule.head for t in head_terms(a) if isinstance(t, Var)})
        self.ctx.round = self.round
        # as in run_rule: the BINDs only the head reads run over the join's distinct rows
        late, first, inputs = self._late_split(rule, names)

        def selects_of(first: list[str], late: frozenset[int]) -> tuple[list[str], dict]:
            # a materialised join serves the variants whose deletions it does not read
            out: list[str] = []
            kinds: dict[Any, Any] = {}
            for v in variants:
                usable = tuple(j for j in joined if not any(v[i].startswith("del_")
                                                            for i in j.atoms))
                sel, kinds = self._selects(rule, [v], first, late, usable)
                out += sel
            return out, kinds
        selects, kinds = selects_of(first, late)
        if late and any(kinds[n] != "id" for n in first if n in inputs):
            late, first = frozenset(), names
            selects, kinds = selects_of(first, late)
        n = scalar(self.con, "CREATE OR REPLACE TEMP TABLE _od AS SELECT DISTINCT * FROM ("
                             + " UNION ALL ".join(selects) + ")")
        if not n:
            return 0
        if late:
            kinds, _, _ = self._apply_late("_od", rule, late, first, names)
        computed = [v for v in names if kinds.get(v) == "nt"]
        if computed:  # minted terms: a fact can only mention a term the dictionary has
            joins = " ".join(f"JOIN terms m_{v} ON m_{v}.h = hash(_od.v_{v}) "
                             f"AND m_{v}.nt = _od.v_{v}" for v in computed)
            sel = ", ".join(f"m_{v}.id AS v_{v}" if v in computed else f"_od.v_{v}"
                            for v in names)
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE _od AS SELECT {sel} FROM _od {joins}")
        marked = 0
        for atom in rule.head:
            terms = head_terms(atom)
            if isinstance(atom, TupleAtom):
                targets = [(self.store.tuple_table(atom.name, len(terms)), "true")]
                vals = [self._col(t) for t in terms]
            else:
                vals = [self._col(atom.s), self._col(atom.o)]
                if isinstance(atom.p, Var):
                    targets = [(self.store.pred_table(p), f"v_{atom.p.name} = {p}")
                               for (p,) in self.con.execute(
                                   f"SELECT DISTINCT v_{atom.p.name} FROM _od").fetchall()]
                else:
                    targets = [(self.store.pred_table(self._const_id(term_nt(atom.p))), "true")]
            for table, where in targets:
                marked += self._mark_rows(table, vals, where)
        self.con.execute("DROP TABLE _od")
        return marked

    def _mark_rows(self, table: str, vals: list[str], where: str) -> int:
        cols = self.store.columns(table)
        x = explicit_table(self.store, table)
        d = self._del_table(table)
        sel = ", ".join(f"{v} AS {c}" for v, c in zip(vals, cols, strict=True)) or "1 AS one_"
        tcols = ", ".join(f"t.{c}" for c in cols + ["r"])
        return int(scalar(self.con, 
            f"INSERT INTO {d} SELECT DISTINCT {tcols}, {self.dround} FROM "
            f"(SELECT {sel} FROM _od WHERE {where}) n JOIN {table} t ON {_match(cols, 't', 'n')}"
            f" WHERE NOT EXISTS (SELECT 1 FROM {x} x WHERE {_match(cols, 'x', 't')}) "
            f"AND NOT EXISTS (SELECT 1 FROM {d} d WHERE {_match(cols, 'd', 't')})"
        ))

    def rederive(self, rules: tuple[Rule, ...]) -> None:
        """Derive again, from the remaining facts, the deleted facts that still follow (one
        step; the additions step then propagates them)."""
        self.ctx.first = self.round
        for rule in rules:
            for k, atom in enumerate(rule.head):
                table = self._table_of(atom)
                if table == "*":  # a variable predicate: the whole rule, heads filtered later
                    self.run_rule(Rule((atom,), rule.body, rule.pos), [{}])
                    continue
                if table not in self.dels or not self._has_dels(table):
                    continue
                others = [h for j, h in enumerate(rule.head) if j != k
                          and self._table_of(h) != "*"]
                body = (atom, *others, *rule.body)
                versions = {0: "del_all"} | {1 + j: "olddb" for j in range(len(others))}
                self.run_rule(Rule((atom,), body, rule.pos), [versions])
        self.round += 1

    def recompute(self, rules: tuple[Rule, ...], heads: frozenset, recursive: bool) -> None:
        """Evaluate the stratum again and turn the difference into additions/deletions.

        Each head table is renamed to ``_gc_old_<table>`` and a new one gets the rows the
        stratum does not derive (input facts, other classes): no copy or delete of the
        derived rows, which are often most of the table (retracting the first of 4 days
        drops 95% of the chains). The old table is dropped at the end."""
        start = self.round
        rows = self.head_rows(rules)
        olds: dict[str, tuple[str, int]] = {}  # the old derived rows and their number
        for t, cond in rows.items():
            cols = self.store.columns(t)
            x = explicit_table(self.store, t)
            old = f"_gc_old_{t}"
            self.con.execute(f"ALTER TABLE {t} RENAME TO {old}")
            self.con.execute(f"CREATE TABLE {t} AS SELECT * FROM {old} LIMIT 0")
            derived = f"{cond} AND NOT EXISTS (SELECT 1 FROM {x} x WHERE {_match(cols, 'x', 't')})"
            others = scalar(self.con, f"INSERT INTO {t} SELECT * FROM {old} t WHERE NOT "
                                      f"({derived})")
            olds[t] = (f"(SELECT * FROM {old} t WHERE {derived})",
                       scalar(self.con, f"SELECT count(*) FROM {old}") - others)
        self.forget()
        self.run_stratum(rules, heads, recursive)
        for t, (old, before) in olds.items():
            lost = before - self._restore_rounds(t, old, start)
            if lost and lost >= RECOMPUTE_SHARE * before:
                # most of it went: the strata that read the table are evaluated again
                # instead of being told each lost fact (77M rows when day 1 of 4 goes)
                self.wholesale.add(t)
            else:
                cols = self.store.columns(t)
                d = self._del_table(t)
                self.con.execute(
                    f"INSERT INTO {d} SELECT {', '.join(f'o.{c}' for c in cols + ['r'])}, "
                    f"{self.dround} FROM {old} o WHERE NOT EXISTS (SELECT 1 FROM {t} t "
                    f"WHERE {_match(cols, 't', 'o')})")
            self.con.execute(f"DROP TABLE _gc_old_{t}")
        self.dround += 1
        self.forget()

    def _restore_rounds(self, table: str, old: str, start: int) -> int:
        """Give the rows of ``table`` derived again since round ``start`` that are in the
        relation ``old`` their old round, and return how many there are: a join hashing the
        new rows, then the table made again with those rounds (an UPDATE joined with the old
        rows took 40-80 s at 3.8M of 80M chain facts)."""
        cols = self.store.columns(table)
        kept = f"_gc_kept_{table}"
        n = scalar(self.con, f"CREATE OR REPLACE TEMP TABLE {kept} AS SELECT "
                             f"{''.join(f'n.{c}, ' for c in cols)}o.r FROM (SELECT * FROM "
                             f"{table} WHERE r >= {start}) n JOIN {old} o ON "
                             f"{_match(cols, 'n', 'o')}")
        if n:
            new = f"_gc_new_{table}"
            self.con.execute(f"CREATE TABLE {new} AS SELECT {''.join(f'n.{c}, ' for c in cols)}"
                             f"coalesce(k.r, n.r) AS r FROM {table} n LEFT JOIN {kept} k ON "
                             f"{_match(cols, 'n', 'k')}")
            self.con.execute(f"DROP TABLE {table}")
            self.con.execute(f"ALTER TABLE {new} RENAME TO {table}")
        self.con.execute(f"DROP TABLE {kept}")
        return int(n)

    # -- the outcome ----------------------------------------------------------------------
    def summary(self) -> dict[str, int]:
        """Facts added and retracted as input, derived anew and removed by the update.

        A row of round >= ``since`` is new, or a fact deleted and derived again in the
        update (``readded``: it is in ``_del_<table>``; counted from the new rows, which
        are few when most of a table goes); removed = facts before - facts after + new."""
        new = readded = inputs = 0
        tables = list(self.store.preds.values()) + list(self.store.tuple_tables.values())
        for t in tables:
            fresh, given = first_row(self.con, f"SELECT count(*), count(*) FILTER (WHERE r = "
                                               f"{self.since}) FROM {t} WHERE r >= {self.since}")
            new += fresh
            inputs += given
            if t in self.dels:
                cols = self.store.columns(t)
                sel = ", ".join(f"n.{c}" for c in cols) or "1 AS one_"
                readded += scalar(
                    self.con,
                    f"SELECT count(*) FROM (SELECT DISTINCT {sel} FROM (SELECT * FROM {t} "
                    f"WHERE r >= {self.since}) n JOIN _del_{t} d ON {_match(cols, 'n', 'd')})")
        removed = self.facts_before - self.store.count() + (new - readded)
        return {"added": self.changes["added"], "retracted": self.changes["retracted"],
                "derived": max(new - readded - inputs, 0), "removed": removed,
                "rounds": self.round - self.since}

    def close(self) -> None:
        """Drop the update's temporary tables (after a failure the transaction's rollback
        does, and a statement here would fail: the original error is what matters)."""
        with contextlib.suppress(duckdb.Error):
            for t in self.dels:
                self.con.execute(f"DROP TABLE IF EXISTS _del_{t}")
        self.dels = set()


def _rule_texts(rules: tuple[Rule, ...]) -> set[str]:
    return {format_rule(r) for r in rules if r.body}


def update(store: FactStore, program: Program, params: Mapping[str, object] | None = None, *,
           add: str | None = None, retract: str | None = None,
           old_program: Program | None = None, old_params: Mapping[str, object] | None = None,
           max_derived_facts: int | None = None,
           progress: Callable[[str, int], None] | None = None) -> dict[str, Any]:
    """Apply one update to ``store`` (whose materialisation of ``old_program``/``old_params``
    - the same as ``program``/``params`` unless given - is complete): input triples of the
    relations ``add``/``retract`` (columns s, p, o), and the change of program. Returns the
    counts of :meth:`Maintainer.summary` and the seconds. Run it inside a transaction."""
    t0 = time.monotonic()
    strata = stratify(program, params)
    m = Maintainer(store, max_derived_facts=max_derived_facts, progress=progress)
    try:
        dirty: Callable[[Any], bool] = lambda s: False  # noqa: E731
        if old_program is not None:
            m.change_program_facts(m.program_rows(old_program, old_params or {}),
                                   m.program_rows(program, params))
            old_rules = tuple(r for r in old_program.rules if r.body)
            new_keys = {pred_key(a) for r in program.rules if r.body for a in r.head}
            m.drop_derived(tuple(
                Rule((a,), r.body) for r in old_rules for a in r.head
                if not any(keys_overlap(pred_key(a), k) for k in new_keys)))

            def dirty(stratum: Any) -> bool:
                mine = [r for r in old_rules if any(keys_overlap(pred_key(a), h)
                                                    for a in r.head for h in stratum.heads)]
                return _rule_texts(tuple(mine)) != _rule_texts(stratum.rules)
        if retract is not None:
            m.retract_triples(retract)
        if add is not None:
            m.add_triples(add)
        m.maintain(strata, dirty)
        out: dict[str, Any] = m.summary()
    finally:
        m.close()
    out["seconds"] = round(time.monotonic() - t0, 3)
    return out


def create_program(store: FactStore, program: Program,
                   params: Mapping[str, object] | None = None) -> dict[str, Any]:
    """Install ``program`` in an empty store: its facts become input facts (``prog``)."""
    return update(store, program, params, old_program=Program(()), old_params={})
