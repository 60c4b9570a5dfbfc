"""The vectorised formatters agree with Python's own formatting and pyoxigraph's parser."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyoxigraph as ox
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.ntformat import (
    Template,
    datetime_digits,
    escape_literal,
    hex_digits,
    mix64,
    padded_strings,
    right_aligned_digits,
)

EPOCH = dt.datetime(1970, 1, 1)
MAX_SECONDS = int((dt.datetime(9999, 12, 31, 23, 59, 59) - EPOCH).total_seconds())
SECONDS = st.integers(int((dt.datetime(1000, 1, 1) - EPOCH).total_seconds()), MAX_SECONDS)


@settings(max_examples=50, deadline=None)
@given(SECONDS, st.lists(st.integers(0, 400 * 86400), min_size=1, max_size=20))
def test_datetime_digits(base, offsets):
    secs = [min(base + o, MAX_SECONDS) for o in offsets]
    got = [bytes(r).decode() for r in datetime_digits(np.array(secs))]
    assert got == [(EPOCH + dt.timedelta(seconds=s)).isoformat() for s in secs]


@given(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=50))
def test_hex_digits(values):
    got = [bytes(r).decode() for r in hex_digits(np.array(values, dtype=np.uint64))]
    assert got == [format(v, "016x") for v in values]


@given(st.lists(st.integers(0, 10**12 - 1), min_size=1, max_size=50))
def test_right_aligned_digits(values):
    m, n = right_aligned_digits(np.array(values), 12)
    assert [bytes(r[12 - k :]).decode() for r, k in zip(m, n, strict=True)] == [
        str(v) for v in values
    ]


def test_mix64_is_a_bijection_on_a_range():
    x = np.arange(200_000, dtype=np.uint64)
    assert len(np.unique(mix64(x, 12345))) == len(x)
    assert not np.array_equal(mix64(x, 1), mix64(x, 2))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=8), st.data())
def test_template_with_escaped_variable_slots_parses_back(names, data):
    encoded = [escape_literal(s).encode() for s in names]
    pool, lengths = padded_strings(encoded)
    idx = np.array(data.draw(st.lists(st.integers(0, len(names) - 1), min_size=1, max_size=10)))
    ids = np.arange(len(idx), dtype=np.uint64)
    t = Template(
        [b"<http://e/", ("id", 16), b'> <http://p> "', ("v", pool.shape[1], True), b'" .\n']
    )
    text = t.render(len(idx), {"id": hex_digits(ids)}, {"v": (pool[idx], lengths[idx])}).tobytes()
    parsed = [
        (q.subject.value, q.object.value) for q in ox.parse(text, format=ox.RdfFormat.N_TRIPLES)
    ]
    assert parsed == [(f"http://e/{i:016x}", names[k]) for i, k in enumerate(idx)]
