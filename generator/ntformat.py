"""Vectorised N-Triples formatting: whole blocks of records become bytes without a Python loop.

A :class:`Template` is a record (one or more N-Triples lines) made of constant bytes and
fixed-width slots. Formatting fills a ``(rows, width)`` uint8 matrix from the constant template,
writes each slot's column block at once, and compacts the rows with a boolean mask so that
variable-width values (amounts, booleans, names) leave no padding behind.

>>> t = Template([b"<x", ("id", 4), b"> <p> ", ("v", 3, True), b" .\\n"])
>>> vals = np.array([[ord(c) for c in "  7"], [ord(c) for c in " 42"]], dtype=np.uint8)
>>> t.render(2, {"id": hex_digits(np.array([1, 255], dtype=np.uint64), 4)},
...          {"v": (vals, np.array([1, 2]))}).tobytes()
b'<x0001> <p> 7 .\\n<x00ff> <p> 42 .\\n'
"""

from __future__ import annotations

import datetime as _dt
import threading

import numpy as np

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_ZERO = ord("0")
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def mix64(x: np.ndarray, key: int) -> np.ndarray:
    """A keyed bijection on 64-bit integers (splitmix64's finaliser), for unique random-looking ids.

    >>> a = mix64(np.arange(1000, dtype=np.uint64), 7)
    >>> len(np.unique(a))
    1000
    """
    z = np.asarray(x, dtype=np.uint64) ^ np.uint64(key & 0xFFFFFFFFFFFFFFFF)
    z = z + np.uint64(0x9E3779B97F4A7C15)  # arrays wrap silently; scalars would warn
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def hex_digits(x: np.ndarray, width: int = 16) -> np.ndarray:
    """Lower-case, zero-padded hex digits of unsigned integers as a ``(n, width)`` uint8 matrix."""
    shifts = np.arange(4 * (width - 1), -1, -4, dtype=np.uint64)
    nibbles = (np.asarray(x, dtype=np.uint64)[:, None] >> shifts) & np.uint64(15)
    return _HEX[nibbles]


def right_aligned_digits(x: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Decimal digits of non-negative integers, right-aligned in ``width`` columns.

    Returns the ``(n, width)`` matrix and the number of significant digits per row (at least 1).

    >>> m, n = right_aligned_digits(np.array([0, 905]), 4)
    >>> [bytes(r[-k:]) for r, k in zip(m, n)]
    [b'0', b'905']
    """
    x = np.asarray(x, dtype=np.int64).copy()
    out = np.empty((len(x), width), dtype=np.uint8)
    ndig = np.ones(len(x), dtype=np.int64)
    for col in range(width - 1, -1, -1):
        out[:, col] = x % 10 + _ZERO
        x //= 10
        if col > 0:
            ndig += x > 0
    return out, ndig


def two_digits(x: np.ndarray) -> np.ndarray:
    """Zero-padded two-digit decimal (0..99) as a ``(n, 2)`` uint8 matrix."""
    x = np.asarray(x, dtype=np.int64)
    return np.stack([x // 10 + _ZERO, x % 10 + _ZERO], axis=1).astype(np.uint8)


def datetime_digits(seconds: np.ndarray) -> np.ndarray:
    """Fixed-width ``YYYY-MM-DDTHH:MM:SS`` of POSIX seconds (UTC, no zone) as ``(n, 19)`` uint8.

    >>> bytes(datetime_digits(np.array([1627513509]))[0])
    b'2021-07-28T23:05:09'
    """
    seconds = np.asarray(seconds, dtype=np.int64)
    out = np.empty((len(seconds), 19), dtype=np.uint8)
    if len(seconds) == 0:
        return out
    days = seconds // 86400
    first, last = int(days.min()), int(days.max())
    epoch = _dt.date(1970, 1, 1)
    table = np.frombuffer(
        b"".join(
            (epoch + _dt.timedelta(days=d)).isoformat().encode() for d in range(first, last + 1)
        ),
        dtype=np.uint8,
    ).reshape(-1, 10)
    out[:, :10] = table[days - first]
    tod = seconds - days * 86400
    out[:, 10] = ord("T")
    out[:, 11:13] = two_digits(tod // 3600)
    out[:, 13] = ord(":")
    out[:, 14:16] = two_digits(tod // 60 % 60)
    out[:, 16] = ord(":")
    out[:, 17:19] = two_digits(tod % 60)
    return out


def escape_literal(text: str) -> str:
    r"""The body of an N-Triples string literal, escaped as pyoxigraph writes it.

    >>> escape_literal('Ann "Nan" O\'Neil\\')
    'Ann \\"Nan\\" O\'Neil\\\\'
    """
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")


def padded_strings(values: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """A pool of byte strings as a right-aligned ``(k, maxlen)`` matrix plus their lengths."""
    width = max((len(v) for v in values), default=1) or 1
    lengths = np.array([len(v) for v in values], dtype=np.int64)
    buf = b"".join(v.rjust(width, b" ") for v in values)
    return np.frombuffer(buf, dtype=np.uint8).reshape(-1, width).copy(), lengths


class Template:
    """A record layout: constant byte strings and named slots ``(name, width[, variable])``.

    A fixed slot must be filled with exactly ``width`` bytes per row; a variable slot takes a
    right-aligned matrix and a length per row, and only the last ``length`` bytes are kept.
    The same slot name may appear several times (the subject of every line of a record).
    """

    def __init__(self, parts: list[bytes | tuple]) -> None:
        chunks: list[bytes] = []
        self.slots: list[tuple[str, int, int, bool]] = []  # name, start, width, variable
        pos = 0
        for part in parts:
            if isinstance(part, bytes):
                chunks.append(part)
                pos += len(part)
            else:
                name, width = part[0], int(part[1])
                variable = bool(part[2]) if len(part) > 2 else False
                self.slots.append((name, pos, width, variable))
                chunks.append(b"\0" * width)
                pos += width
        self.width = pos
        self.template = np.frombuffer(b"".join(chunks), dtype=np.uint8)
        self._local = threading.local()  # working matrices, one set per thread

    def render(
        self,
        rows: int,
        fixed: dict[str, np.ndarray],
        variable: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> np.ndarray:
        """Format ``rows`` records; ``fixed`` maps slot -> (rows, width) uint8 matrices.

        Returns a uint8 array of the N-Triples bytes. The working matrices are kept between
        calls (constants are written once), so call it with chunks of similar size.
        """
        variable = variable or {}
        local = self._local
        if getattr(local, "rows", 0) < rows:
            local.mat = np.empty((rows, self.width), dtype=np.uint8)
            local.mat[:] = self.template
            local.mask = np.ones((rows, self.width), dtype=bool)
            local.rows = rows
        mat = local.mat[:rows]
        mask = local.mask[:rows]
        has_var = False
        for name, start, width, is_var in self.slots:
            if not is_var:
                mat[:, start : start + width] = fixed[name]
                continue
            has_var = True
            values, lengths = variable[name]
            mat[:, start : start + width] = values
            mask[:, start : start + width] = np.arange(width) >= (width - lengths)[:, None]
        if not has_var:
            return mat.reshape(-1).copy()
        return mat[mask]
