"""The deterministic plan of a run: id keys, which parties are suspicious, the planted instances.

Everything random is drawn from numpy generators seeded by ``(seed, stream, block)``, so the
value of party ``p`` or transaction ``t`` depends only on the options and its index - never on
the number of worker processes or on how rows are split into files.

Suspicious parties: exactly ``floor(parties x fraction)`` are chosen uniformly. Per block of
parties the number of suspicious ones is drawn sequentially from the hypergeometric law (global
work is one draw per block), and which rows of the block they are is drawn from the block's own
stream. Planted typologies may mark further parties suspicious.

>>> from generator.options import Options
>>> p = Plan.build(Options.build(transactions=20000, parties=5000, suspicious_fraction=0.01))
>>> int(p.suspicious_mask(0, 5000).sum())
50
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from generator.names import NamePools
from generator.ntformat import mix64
from generator.options import Options
from graphcrime.errors import UsageError

if TYPE_CHECKING:
    from generator.typologies import Planted

BLOCK = 16384  # rows per random-number block; a constant of the output format, never tuned
STREAM_KEYS, STREAM_SUSP_COUNT, STREAM_SUSP_ROWS, STREAM_PARTY, STREAM_TX, STREAM_PLANT = range(
    1, 7
)
_FULL_MASK_LIMIT = 2_000_000  # below this many parties, pick planted parties from a full mask


def rng_for(seed: int, *stream: int) -> np.random.Generator:
    """The numpy generator of one stream (and block) of a run."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *stream])))


@dataclass
class Plan:
    """What every worker needs besides its block number; small and picklable."""

    options: Options
    party_key: int
    tx_key: int
    block_suspicious: np.ndarray  # suspicious parties per party block
    names: NamePools
    extra_suspicious: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    planted: Planted | None = None  # set by build() when typologies are asked for

    @classmethod
    def build(cls, options: Options) -> Plan:
        """Draw keys, per-block suspicious counts, name pools and the planted typologies."""
        keys = rng_for(options.seed, STREAM_KEYS).integers(0, 2**63, size=2)
        plan = cls(
            options=options,
            party_key=int(keys[0]),
            tx_key=int(keys[1]),
            block_suspicious=_block_counts(options),
            names=NamePools.draw(options.seed),
        )
        if options.typologies:
            from generator.typologies import plant

            plan.planted = plant(plan)
            plan.extra_suspicious = np.unique(plan.planted.suspicious)
        return plan

    @property
    def planted_transactions(self) -> int:
        return 0 if self.planted is None else len(self.planted.originator)

    @property
    def background_transactions(self) -> int:
        return self.options.transactions - self.planted_transactions

    def party_ids(self, index: np.ndarray) -> np.ndarray:
        """64-bit ids of parties (unique: a keyed bijection of the index)."""
        return mix64(np.asarray(index, dtype=np.uint64), self.party_key)

    def tx_ids(self, index: np.ndarray) -> np.ndarray:
        """64-bit ids of transactions by global index."""
        return mix64(np.asarray(index, dtype=np.uint64), self.tx_key)

    def suspicious_mask(self, lo: int, hi: int, planted: bool = True) -> np.ndarray:
        """Suspicious flags of parties ``lo..hi-1`` (random choice, plus planted ones)."""
        mask = np.zeros(hi - lo, dtype=bool)
        for b in range(lo // BLOCK, (hi - 1) // BLOCK + 1):
            k = int(self.block_suspicious[b])
            if k == 0:
                continue
            b0 = b * BLOCK
            size = min(BLOCK, self.options.parties - b0)
            rows = rng_for(self.options.seed, STREAM_SUSP_ROWS, b).choice(size, k, replace=False)
            rows = rows + b0
            rows = rows[(rows >= lo) & (rows < hi)]
            mask[rows - lo] = True
        if planted and len(self.extra_suspicious):
            ex = self.extra_suspicious
            ex = ex[(ex >= lo) & (ex < hi)]
            mask[ex - lo] = True
        return mask

    def pick_parties(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """``count`` distinct parties that are not randomly suspicious, in random order."""
        m = self.options.parties
        free = m - self.options.suspicious_parties
        if count > free:
            raise UsageError(
                f"the planted typologies need {count} distinct non-suspicious parties, "
                f"but only {free} of {m} parties are not suspicious",
                json_path="--typologies",
                hint="plant fewer instances, or raise --parties / lower --suspicious-fraction",
            )
        if m <= _FULL_MASK_LIMIT:
            pool = np.flatnonzero(~self.suspicious_mask(0, m, planted=False))
            return rng.choice(pool, count, replace=False)
        picked: list[np.ndarray] = []
        seen = np.zeros(0, dtype=np.int64)
        while len(seen) < count:  # sparse: few rejections, each round halves the shortfall
            cand = rng.integers(0, m, size=2 * (count - len(seen)) + 16)
            _, first = np.unique(cand, return_index=True)
            cand = cand[np.sort(first)]
            cand = cand[~np.isin(cand, seen)]
            cand = cand[~self._is_suspicious(cand)]
            cand = cand[: count - len(seen)]
            picked.append(cand)
            seen = np.concatenate([seen, cand])
        return np.concatenate(picked)

    def _is_suspicious(self, index: np.ndarray) -> np.ndarray:
        out = np.zeros(len(index), dtype=bool)
        blocks = index // BLOCK
        for b in np.unique(blocks):
            sel = blocks == b
            lo = int(b) * BLOCK
            hi = min(lo + BLOCK, self.options.parties)
            out[sel] = self.suspicious_mask(lo, hi, planted=False)[index[sel] - lo]
        return out


def _block_counts(options: Options) -> np.ndarray:
    """Suspicious parties per block: sequential hypergeometric draws summing to exactly S."""
    m, good = options.parties, options.suspicious_parties
    rng = rng_for(options.seed, STREAM_SUSP_COUNT)
    nblocks = (m + BLOCK - 1) // BLOCK
    counts = np.zeros(nblocks, dtype=np.int64)
    bad = m - good
    for b in range(nblocks):
        size = min(BLOCK, m - b * BLOCK)
        if size >= good + bad:
            k = good
        elif good == 0 or bad == 0:
            k = 0 if good == 0 else size
        else:
            k = int(rng.hypergeometric(good, bad, size))
        counts[b] = k
        good -= k
        bad -= size - k
    return counts
