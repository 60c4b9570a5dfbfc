"""Draw and format one unit of work: a slice of parties or transactions as N-Triples bytes.

A unit is ``(kind, lo, hi)`` with global row indices inside one random-number block (or inside
the planted segment). Its bytes depend only on the plan and the indices, so any process can
render any unit and the output is the same for every worker count and file split.

>>> from generator.options import Options
>>> from generator.plan import Plan
>>> plan = Plan.build(Options.build(transactions=10, parties=4))
>>> text = b"".join(render_unit(plan, "tx", 0, 1)).decode()
>>> text.count(" .\\n"), "prop" in text
(5, True)
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from generator.ntformat import (
    Template,
    datetime_digits,
    hex_digits,
    right_aligned_digits,
    two_digits,
)
from generator.plan import BLOCK, STREAM_PARTY, STREAM_TX, Plan, rng_for
from graphcrime.vocab import ENT, PROP, RDF_TYPE, RDFS, TYPE, XSD_BOOLEAN, XSD_DATETIME, XSD_DECIMAL

RENDER_ROWS = 8192  # rows per formatting pass (bounds the working matrices to ~10 MB)
P_INTERNAL = 0.5
P_EXITED = 0.05
#: Mixed amount model: (probability, low, high) in cents, log-uniform inside each band.
AMOUNT_BANDS = ((0.35, 50, 1000_00), (0.45, 1000_00, 100_000_00), (0.20, 100_000_00, 10**9))
GZIP_LEVEL = 1  # every unit is one gzip member; level 1 keeps --gzip near the plain rate

_BOOL = np.frombuffer(b"false true", dtype=np.uint8).reshape(2, 5)  # row 1 = " true"
_BOOL_LEN = np.array([5, 4])


def _iri(iri: str) -> bytes:
    return f"<{iri}>".encode()


def _line(subject: str, pred: str, *rest: bytes | tuple) -> list[bytes | tuple]:
    return [f"<{ENT}{subject}_".encode(), (subject, 16), b"> " + _iri(pred) + b" ", *rest]


_TX = "transaction"
TX_TEMPLATE = Template(
    _line(_TX, RDF_TYPE, _iri(TYPE + "Transaction") + b" .\n")
    + _line(_TX, PROP + "hasOriginator", f"<{ENT}party_".encode(), ("orig", 16), b"> .\n")
    + _line(_TX, PROP + "hasBeneficiary", f"<{ENT}party_".encode(), ("benef", 16), b"> .\n")
    + _line(_TX, PROP + "hasAmount", b'"', ("units", 12, True), ("frac", 3, True))
    + [b'"^^' + _iri(XSD_DECIMAL) + b" .\n"]
    + _line(_TX, PROP + "hasDate", b'"', ("date", 19), b'"^^' + _iri(XSD_DATETIME) + b" .\n")
)
_templates: dict[tuple[int, int], Template] = {}


def party_template(a_width: int, b_width: int) -> Template:
    """The party record for name pools of the given widths (cached per process)."""
    key = (a_width, b_width)
    if key not in _templates:
        name: list[bytes | tuple] = [
            b'"',
            ("a", a_width, True),
            ("sep", 1, True),
            ("b", b_width, True),
            b'" .\n',
        ]
        typed = b'"^^' + _iri(XSD_BOOLEAN) + b" .\n"
        parts = _line("party", RDF_TYPE, _iri(TYPE + "Party") + b" .\n")
        for prop in ("isInternal", "isExited", "isSuspicious"):
            parts += _line("party", PROP + prop, b'"', (prop, 5, True), typed)
        parts += _line("party", PROP + "hasFullName", *name)
        parts += _line("party", RDFS + "label", *name)
        _templates[key] = Template(parts)
    return _templates[key]


def mixed_cents(rng: np.random.Generator, n: int) -> np.ndarray:
    """Amounts in cents: small, medium and large bands, log-uniform within each."""
    probs = np.array([b[0] for b in AMOUNT_BANDS])
    band = np.searchsorted(np.cumsum(probs), rng.random(n) * probs.sum(), side="right")
    band = np.minimum(band, len(AMOUNT_BANDS) - 1)
    lo = np.log(np.array([b[1] for b in AMOUNT_BANDS], dtype=np.float64))[band]
    hi = np.log(np.array([b[2] for b in AMOUNT_BANDS], dtype=np.float64))[band]
    return np.maximum(1, np.exp(lo + rng.random(n) * (hi - lo)).astype(np.int64))


def published_dollars(rng: np.random.Generator, n: int) -> np.ndarray:
    """The published model: ``1000 * randint(1, 10000) * choice((1, 10, 100))`` dollars."""
    return 1000 * rng.integers(1, 10001, n) * np.array([1, 10, 100])[rng.integers(0, 3, n)]


def tx_block(plan: Plan, block: int) -> dict[str, Any]:
    """Background transactions of one block: party indices, amount, cents flag, seconds."""
    opts = plan.options
    lo = block * BLOCK
    n = min(BLOCK, plan.background_transactions - lo)
    rng = rng_for(opts.seed, STREAM_TX, block)
    orig = rng.integers(0, opts.parties, n)
    benef = (orig + rng.integers(1, opts.parties, n)) % opts.parties  # never the originator
    if opts.amounts == "published":
        units, frac = published_dollars(rng, n), None
    else:
        cents = mixed_cents(rng, n)
        units, frac = cents // 100, cents % 100
    secs = opts.start_seconds + rng.integers(0, opts.days * 86400, n)
    return {"orig": orig, "benef": benef, "units": units, "frac": frac, "secs": secs}


def _render_tx(plan: Plan, index: np.ndarray, cols: dict[str, Any]) -> list[np.ndarray]:
    """Transactions with global indices ``index`` (their ids) and drawn columns ``cols``."""
    out = []
    n = len(cols["orig"])
    for s in range(0, n, RENDER_ROWS):
        e = min(n, s + RENDER_ROWS)
        units, nd = right_aligned_digits(cols["units"][s:e], 12)
        frac = cols["frac"]
        fm = np.empty((e - s, 3), dtype=np.uint8)
        fm[:, 0] = ord(".")
        if frac is None:
            flen = np.zeros(e - s, dtype=np.int64)
        else:
            fm[:, 1:] = two_digits(frac[s:e])
            flen = np.full(e - s, 3, dtype=np.int64)
        fixed = {
            _TX: hex_digits(plan.tx_ids(index[s:e])),
            "orig": hex_digits(plan.party_ids(cols["orig"][s:e])),
            "benef": hex_digits(plan.party_ids(cols["benef"][s:e])),
            "date": datetime_digits(cols["secs"][s:e]),
        }
        out.append(TX_TEMPLATE.render(e - s, fixed, {"units": (units, nd), "frac": (fm, flen)}))
    return out


def _tx_columns(plan: Plan, lo: int, hi: int) -> dict[str, Any]:
    """The drawn columns of transactions ``lo..hi-1`` (one block, or the planted segment)."""
    base = plan.background_transactions
    if lo >= base:
        p = plan.planted
        assert p is not None
        sl = slice(lo - base, hi - base)
        return {
            "orig": p.originator[sl],
            "benef": p.beneficiary[sl],
            "units": p.cents[sl] // 100,
            "frac": p.cents[sl] % 100,
            "secs": p.seconds[sl],
        }
    block = lo // BLOCK
    assert (hi - 1) // BLOCK == block and hi <= base, "a unit never spans blocks"
    cols = tx_block(plan, block)
    off = block * BLOCK
    return {k: None if v is None else v[lo - off : hi - off] for k, v in cols.items()}


def render_transactions(plan: Plan, lo: int, hi: int) -> list[np.ndarray]:
    """Transactions ``lo..hi-1`` (within one block, or within the planted segment)."""
    return _render_tx(plan, np.arange(lo, hi), _tx_columns(plan, lo, hi))


def render_transactions_by_day(
    plan: Plan, lo: int, hi: int, gzip: bool = False
) -> list[tuple[int, int, list]]:
    """Transactions ``lo..hi-1`` cut by calendar day of their date: ``(day, rows, buffers)``
    per day present, days ascending (day = POSIX seconds // 86400, the naive time as UTC).

    Each transaction's lines are exactly those :func:`render_transactions` writes for it.
    """
    cols = _tx_columns(plan, lo, hi)
    days = np.asarray(cols["secs"]) // 86400
    index = np.arange(lo, hi)
    out = []
    for day in np.unique(days):
        sel = days == day
        part = {k: None if v is None else np.asarray(v)[sel] for k, v in cols.items()}
        pieces = _render_tx(plan, index[sel], part)
        out.append((int(day), int(sel.sum()), _gzipped(pieces) if gzip else pieces))
    return out


def render_parties(plan: Plan, lo: int, hi: int) -> list[np.ndarray]:
    """Parties ``lo..hi-1`` within one block."""
    block = lo // BLOCK
    assert (hi - 1) // BLOCK == block
    off = block * BLOCK
    n = min(BLOCK, plan.options.parties - off)
    rng = rng_for(plan.options.seed, STREAM_PARTY, block)
    internal = rng.random(n) < P_INTERNAL
    exited = rng.random(n) < P_EXITED
    names = plan.names
    locale = rng.choice(len(names.weights), n, p=names.weights)
    ua, ub = rng.random(n), rng.random(n)
    suspicious = plan.suspicious_mask(lo, hi)
    sl = slice(lo - off, hi - off)
    tmpl = party_template(names.a_matrix.shape[1], names.b_matrix.shape[1])
    out = []
    for s in range(0, hi - lo, RENDER_ROWS):
        e = min(hi - lo, s + RENDER_ROWS)
        rows = slice(sl.start + s, sl.start + e)
        a, b, sep = names.combine(locale[rows], ua[rows], ub[rows])
        var = {"a": a, "b": b, "sep": sep}
        for prop, flag in (
            ("isInternal", internal[rows]),
            ("isExited", exited[rows]),
            ("isSuspicious", suspicious[s:e]),
        ):
            idx = flag.astype(np.int64)
            var[prop] = (_BOOL[idx], _BOOL_LEN[idx])
        ids = {"party": hex_digits(plan.party_ids(np.arange(lo + s, lo + e)))}
        out.append(tmpl.render(e - s, ids, var))
    return out


def _gzipped(pieces: list) -> list[bytes]:
    """The buffers as one gzip member."""
    z = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    return [
        b"".join(
            [z.compress(p.data if isinstance(p, np.ndarray) else p) for p in pieces] + [z.flush()]
        )
    ]


def render_unit(
    plan: Plan, kind: str, lo: int, hi: int, gzip: bool = False
) -> list[np.ndarray] | list[bytes]:
    """The bytes of one unit, as a list of buffers (one gzip member if ``gzip``)."""
    pieces = (render_parties if kind == "parties" else render_transactions)(plan, lo, hi)
    return _gzipped(pieces) if gzip else pieces
