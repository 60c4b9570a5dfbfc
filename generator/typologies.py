"""Planted money-laundering typologies and their ground truth (``ground-truth.csv``).

Planted transactions are part of ``--transactions``: they take the last global indices, in a
shuffled order, and use ordinary parties (which also trade at random in the background), so
other chains may run through them. Each instance uses its own parties:

- ``layering``: a chain src -> i1 -> ... -> dst between two parties marked suspicious, with
  strictly increasing dates over the window; 2-8 hops, and with 5 or more instances the 5th
  has 31 hops (one past the default maximum length). Amounts shrink by 1-5 % per hop; by
  instance number mod 3 they are all above $100, all below $100, or touch exactly $100.00.
- ``cycle``: p0 -> p1 -> ... -> p0 (3-6 hops, increasing dates); p0 is marked suspicious in
  every other instance, which makes the round trip a SuspiciousChain.
- ``fan-out`` / ``fan-in``: one hub pays / is paid by 5-12 parties within six hours.
- ``scatter-gather``: src pays 3-8 mules, each mule forwards to one dst later.
- ``structuring``: 8-18 transfers of $9,000.00-9,999.99 (just under a $10,000 reporting
  threshold) from one party to 1-3 parties within 48 hours.

ground-truth.csv columns (one row per instance; lists are space-separated full IRIs):

- ``instance_id`` (``layering-0001``), ``typology``;
- ``parties``: members in role order (source first; for a chain, its path order);
- ``transactions``: members; for chain typologies (layering, cycle) in chain order,
  otherwise by role (scatter before gather) and date;
- ``expect_suspicious_chain``: ``true`` when the transactions, in the listed order, form one
  chain that SPEC.md's rules must derive as a ``type:SuspiciousChain`` with the default maximum
  length 30; ``false`` means the rules must not derive a chain of exactly these transactions
  (for non-chain typologies it is always ``false``);
- ``expect_high_value_chain``: ``true`` when that chain is also a ``type:HighValueChain``
  (smallest amount > $100, the default threshold);
- ``min_amount``, ``first_date``, ``last_date``: of the member transactions.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generator.ntformat import datetime_digits
from generator.options import TYPOLOGIES
from generator.plan import STREAM_PLANT, Plan, rng_for
from graphcrime.errors import UsageError
from graphcrime.vocab import ENT

MAX_CHAIN_LENGTH = 30
THRESHOLD_CENTS = 100_00
HOUR = 3600
COLUMNS = (
    "instance_id",
    "typology",
    "parties",
    "transactions",
    "expect_suspicious_chain",
    "expect_high_value_chain",
    "min_amount",
    "first_date",
    "last_date",
)


@dataclass
class Instance:
    """One planted instance; ``rows`` index the planted segment (after shuffling)."""

    instance_id: str
    typology: str
    parties: list[int]
    rows: list[int]
    expect_suspicious_chain: bool = False
    expect_high_value_chain: bool = False


@dataclass
class Planted:
    """Planted transactions in output order, the instances, and parties marked suspicious."""

    originator: np.ndarray
    beneficiary: np.ndarray
    cents: np.ndarray
    seconds: np.ndarray
    instances: list[Instance]
    suspicious: np.ndarray


def _size(rng: np.random.Generator, typology: str, j: int, count: int) -> int:
    """Transactions (layering, cycle) or counterparties (others) of instance ``j``."""
    if typology == "layering":
        return MAX_CHAIN_LENGTH + 1 if j == 4 and count >= 5 else int(rng.integers(2, 9))
    lo, hi = {"cycle": (3, 7), "fan-out": (5, 13), "fan-in": (5, 13), "structuring": (1, 4)}.get(
        typology, (3, 9)
    )
    return int(rng.integers(lo, hi))


def _parties_needed(typology: str, k: int) -> int:
    return {"layering": k + 1, "cycle": k, "scatter-gather": k + 2}.get(typology, k + 1)


class _Rows:
    """Collects planted transactions row by row (a few thousand at most)."""

    def __init__(self, plan: Plan, rng: np.random.Generator) -> None:
        self.rng = rng
        self.start = plan.options.start_seconds
        self.window = plan.options.days * 86400
        self.o: list[int] = []
        self.b: list[int] = []
        self.c: list[int] = []
        self.s: list[int] = []

    def add(self, o, b, cents, secs) -> list[int]:
        first = len(self.o)
        self.o += [int(x) for x in o]
        self.b += [int(x) for x in b]
        self.c += [int(x) for x in cents]
        self.s += [int(x) for x in secs]
        return list(range(first, len(self.o)))

    def increasing(self, k: int, span: int | None = None) -> np.ndarray:
        """``k`` distinct sorted seconds in a random sub-window of ``span`` seconds."""
        span = self.window if span is None else min(span, self.window)
        base = self.start + int(self.rng.integers(0, self.window - span + 1))
        return base + np.sort(self.rng.choice(span, k, replace=False))

    def shrinking(self, start_cents: int, k: int) -> np.ndarray:
        fees = np.concatenate([[0.0], self.rng.uniform(0.01, 0.05, k - 1)])
        return np.floor(start_cents * np.cumprod(1.0 - fees)).astype(np.int64)

    def loguniform(self, lo: int, hi: int, k: int) -> np.ndarray:
        return np.exp(self.rng.uniform(np.log(lo), np.log(hi), k)).astype(np.int64)


def plant(plan: Plan) -> Planted:
    """Draw every requested instance; raise UsageError if they do not fit the options."""
    opts = plan.options
    rng = rng_for(opts.seed, STREAM_PLANT)
    shapes = [(t, j, _size(rng, t, j, n)) for t, n in opts.typologies for j in range(n)]
    need_tx = sum(_tx_count(t, k) for t, _, k in shapes)
    if need_tx > opts.transactions:
        raise UsageError(
            f"the planted typologies need {need_tx} transactions, more than --transactions "
            f"{opts.transactions}",
            json_path="--typologies",
            hint="raise --transactions or plant fewer instances (e.g. layering=3)",
        )
    pool = iter(plan.pick_parties(rng, sum(_parties_needed(t, k) for t, _, k in shapes)).tolist())
    rows = _Rows(plan, rng)
    instances: list[Instance] = []
    suspicious: list[int] = []
    for typology, j, k in shapes:
        parties = [next(pool) for _ in range(_parties_needed(typology, k))]
        inst = Instance(f"{typology}-{j + 1:04d}", typology, parties, [])
        _BUILDERS[typology](rows, inst, j, k, suspicious)
        instances.append(inst)
    order = rng.permutation(len(rows.o))
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    for inst in instances:
        inst.rows = [int(position[r]) for r in inst.rows]
    o, b, c, s = (np.array(x, dtype=np.int64)[order] for x in (rows.o, rows.b, rows.c, rows.s))
    return Planted(o, b, c, s, instances, np.array(sorted(set(suspicious)), dtype=np.int64))


def _tx_count(typology: str, k: int) -> int:
    return {"scatter-gather": 2 * k, "structuring": 5 * k + 3}.get(typology, k)


def _layering(rows: _Rows, inst: Instance, j: int, k: int, suspicious: list[int]) -> None:
    p = inst.parties
    kind = j % 3  # 0: all above $100, 1: all below, 2: smallest exactly $100.00
    start = (
        int(rows.rng.integers(20_00, 100_00))
        if kind == 1
        else int(rows.rng.integers(1000_00, 50000_00))
    )
    cents = rows.shrinking(start, k)
    if kind == 2:
        cents[int(rows.rng.integers(0, k))] = THRESHOLD_CENTS
    inst.rows = rows.add(p[:-1], p[1:], cents, rows.increasing(k))
    suspicious += [p[0], p[-1]]
    inst.expect_suspicious_chain = k <= MAX_CHAIN_LENGTH
    inst.expect_high_value_chain = inst.expect_suspicious_chain and cents.min() > THRESHOLD_CENTS


def _cycle(rows: _Rows, inst: Instance, j: int, k: int, suspicious: list[int]) -> None:
    p = inst.parties
    cents = rows.shrinking(int(rows.rng.integers(2000_00, 20000_00)), k)
    inst.rows = rows.add(p, p[1:] + p[:1], cents, rows.increasing(k, 72 * HOUR))
    if j % 2 == 0:
        suspicious.append(p[0])
        inst.expect_suspicious_chain = True
        inst.expect_high_value_chain = bool(cents.min() > THRESHOLD_CENTS)


def _fan(rows: _Rows, inst: Instance, j: int, k: int, suspicious: list[int], out: bool) -> None:
    hub, others = inst.parties[0], inst.parties[1:]
    secs = rows.increasing(k, 6 * HOUR)
    cents = rows.loguniform(500_00, 20000_00, k)
    o, b = ([hub] * k, others) if out else (others, [hub] * k)
    inst.rows = rows.add(o, b, cents, secs)


def _scatter_gather(rows: _Rows, inst: Instance, j: int, k: int, suspicious: list[int]) -> None:
    src, mules, dst = inst.parties[0], inst.parties[1:-1], inst.parties[-1]
    base = rows.start + int(rows.rng.integers(0, rows.window - 12 * HOUR + 1))  # window >= 1 day
    scatter = base + np.sort(rows.rng.choice(6 * HOUR, k, replace=False))
    gather = scatter + rows.rng.integers(60, 6 * HOUR, k)
    cents = rows.loguniform(1000_00, 50000_00, k)
    fwd = np.floor(cents * (1 - rows.rng.uniform(0.01, 0.05, k))).astype(np.int64)
    inst.rows = rows.add([src] * k, mules, cents, scatter) + rows.add(mules, [dst] * k, fwd, gather)


def _structuring(rows: _Rows, inst: Instance, j: int, k: int, suspicious: list[int]) -> None:
    src, dests = inst.parties[0], inst.parties[1:]
    n = _tx_count("structuring", k)
    b = [dests[i] for i in rows.rng.integers(0, len(dests), n)]
    cents = rows.rng.integers(9000_00, 10000_00, n)
    inst.rows = rows.add([src] * n, b, cents, rows.increasing(n, 48 * HOUR))


_BUILDERS = {
    "layering": _layering,
    "cycle": _cycle,
    "fan-out": lambda r, i, j, k, s: _fan(r, i, j, k, s, True),
    "fan-in": lambda r, i, j, k, s: _fan(r, i, j, k, s, False),
    "scatter-gather": _scatter_gather,
    "structuring": _structuring,
}
assert set(_BUILDERS) == set(TYPOLOGIES)


def _amount(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def write_ground_truth(plan: Plan, path: Path) -> int:
    """Write ``ground-truth.csv`` for the plan's planted instances; returns the row count."""
    planted = plan.planted
    assert planted is not None
    base = plan.background_transactions
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(COLUMNS)
        for inst in planted.instances:
            rows = np.array(inst.rows, dtype=np.int64)
            pids = plan.party_ids(np.array(inst.parties, dtype=np.int64))
            tids = plan.tx_ids(rows + base)
            secs = planted.seconds[rows]
            dates = datetime_digits(np.array([secs.min(), secs.max()]))
            w.writerow(
                [
                    inst.instance_id,
                    inst.typology,
                    " ".join(f"{ENT}party_{int(x):016x}" for x in pids),
                    " ".join(f"{ENT}transaction_{int(x):016x}" for x in tids),
                    str(inst.expect_suspicious_chain).lower(),
                    str(inst.expect_high_value_chain).lower(),
                    _amount(int(planted.cents[rows].min())),
                    bytes(dates[0]).decode(),
                    bytes(dates[1]).decode(),
                ]
            )
    return len(planted.instances)


@dataclass(frozen=True)
class GroundTruth:
    """One row of ``ground-truth.csv``, parsed (see the module docstring for the columns)."""

    instance_id: str
    typology: str
    parties: tuple[str, ...]
    transactions: tuple[str, ...]
    expect_suspicious_chain: bool
    expect_high_value_chain: bool
    min_amount: str
    first_date: str
    last_date: str


def read_ground_truth(path: str | Path) -> list[GroundTruth]:
    """Parse ``ground-truth.csv`` into :class:`GroundTruth` rows, in file order."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise UsageError(
                f"{path}: not a ground-truth.csv (columns {reader.fieldnames})",
                hint="pass the ground-truth.csv written by `graphcrime generate --typologies ...`",
            )
        return [
            GroundTruth(
                r["instance_id"],
                r["typology"],
                tuple(r["parties"].split()),
                tuple(r["transactions"].split()),
                r["expect_suspicious_chain"] == "true",
                r["expect_high_value_chain"] == "true",
                r["min_amount"],
                r["first_date"],
                r["last_date"],
            )
            for r in reader
        ]
