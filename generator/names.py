"""Pools of personal names from faker, drawn once per seed and combined by index (no faker per row).

A full name is ``A + sep + B``: given name, space, family name for most locales; family name
then given name without a space for Chinese, Japanese and Korean. A few given names carry a
quoted nickname (``Katherine "Kat"``) so that string escaping is exercised. Pools hold the
*escaped* N-Triples bytes, right-aligned in a matrix, ready for :class:`ntformat.Template`.

>>> p = NamePools.draw(seed=1)
>>> (m, n), _, _ = p.combine(np.array([0]), np.array([0.0]), np.array([0.0]))
>>> bytes(m[0, m.shape[1] - n[0] :]).decode() == p.given_names(0)[0]
True
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

import numpy as np

from generator.ntformat import escape_literal, padded_strings

#: (locale, weight, family name first) - Latin with accents, Cyrillic, Greek, CJK, Arabic,
#: Devanagari, Hebrew; Irish and Hebrew family names bring apostrophes.
LOCALES = (
    ("en_US", 0.25, False),
    ("en_IE", 0.06, False),
    ("de_DE", 0.06, False),
    ("fr_FR", 0.06, False),
    ("es_ES", 0.06, False),
    ("pl_PL", 0.05, False),
    ("tr_TR", 0.05, False),
    ("ru_RU", 0.06, False),
    ("el_GR", 0.05, False),
    ("ja_JP", 0.05, True),
    ("zh_CN", 0.07, True),
    ("ar_AA", 0.05, False),
    ("hi_IN", 0.05, False),
    ("ko_KR", 0.04, True),
    ("he_IL", 0.04, False),
)
POOL_DRAWS = 400  # faker calls per locale and name part; duplicates are dropped
NICKNAME_RATE = 0.03


@dataclass
class NamePools:
    """Escaped name parts of all locales, concatenated; ``*_start``/``*_count`` index by locale."""

    a_matrix: np.ndarray
    a_len: np.ndarray
    a_start: np.ndarray
    a_count: np.ndarray
    b_matrix: np.ndarray
    b_len: np.ndarray
    b_start: np.ndarray
    b_count: np.ndarray
    spaced: np.ndarray  # per locale: a space between A and B
    weights: np.ndarray
    a_text: list[str]

    @classmethod
    def draw(cls, seed: int) -> NamePools:
        """Draw the pools with faker, seeded by ``seed`` (cached: faker takes ~0.5 s)."""
        return _draw(seed)

    @classmethod
    def _draw(cls, seed: int) -> NamePools:
        from faker import Faker

        a_parts: list[str] = []
        b_parts: list[str] = []
        a_start, a_count, b_start, b_count, spaced, weights = [], [], [], [], [], []
        rnd = random.Random(seed)
        for i, (locale, weight, family_first) in enumerate(LOCALES):
            fk = Faker(locale)
            fk.seed_instance(seed * 1000 + i)
            given = list(dict.fromkeys(fk.first_name() for _ in range(POOL_DRAWS)))
            family = list(dict.fromkeys(fk.last_name() for _ in range(POOL_DRAWS)))
            if not family_first:
                given += [
                    f'{g} "{g[:3]}"' for g in given if len(g) > 4 and rnd.random() < NICKNAME_RATE
                ]
            first, second = (family, given) if family_first else (given, family)
            a_start.append(len(a_parts))
            a_count.append(len(first))
            a_parts += first
            b_start.append(len(b_parts))
            b_count.append(len(second))
            b_parts += second
            spaced.append(not family_first)
            weights.append(weight)
        a_matrix, a_len = padded_strings([escape_literal(s).encode() for s in a_parts])
        b_matrix, b_len = padded_strings([escape_literal(s).encode() for s in b_parts])
        w = np.array(weights, dtype=np.float64)
        return cls(
            a_matrix,
            a_len,
            np.array(a_start),
            np.array(a_count),
            b_matrix,
            b_len,
            np.array(b_start),
            np.array(b_count),
            np.array(spaced),
            w / w.sum(),
            a_parts,
        )

    def given_names(self, locale: int) -> list[str]:
        """The unescaped first-part names of one locale (for tests)."""
        s = int(self.a_start[locale])
        return self.a_text[s : s + int(self.a_count[locale])]

    def combine(
        self, locale: np.ndarray, ua: np.ndarray, ub: np.ndarray
    ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], tuple]:
        """Rows of names from a locale index and two uniform [0, 1) draws per row.

        Returns ``(a, b, sep)``, each a (right-aligned matrix, lengths) pair for a variable slot.
        """
        ia = self.a_start[locale] + (ua * self.a_count[locale]).astype(np.int64)
        ib = self.b_start[locale] + (ub * self.b_count[locale]).astype(np.int64)
        sep_len = self.spaced[locale].astype(np.int64)
        sep = np.full((len(locale), 1), ord(" "), dtype=np.uint8)
        return (
            (self.a_matrix[ia], self.a_len[ia]),
            (self.b_matrix[ib], self.b_len[ib]),
            (
                sep,
                sep_len,
            ),
        )


@functools.lru_cache(maxsize=4)
def _draw(seed: int) -> NamePools:
    return NamePools._draw(seed)
