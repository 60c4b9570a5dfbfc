"""Synthetic AML transaction data in the published data model (see SPEC.md).

Fast and deterministic: numpy draws per block of rows, vectorised N-Triples formatting,
worker processes, files moved into place atomically. Optional planted typologies come with
a ``ground-truth.csv``.

>>> import tempfile
>>> from generator import generate, read_ground_truth
>>> m = generate(tempfile.mkdtemp() + "/d", transactions=2000, typologies="layering=3")
>>> [g.expect_suspicious_chain for g in read_ground_truth(m.out_dir / m.ground_truth)]
[True, True, True]
"""

from generator.manifest import FileEntry, Manifest
from generator.options import TYPOLOGIES, Options
from generator.output import generate
from generator.typologies import GroundTruth, read_ground_truth

__all__ = [
    "TYPOLOGIES",
    "FileEntry",
    "GroundTruth",
    "Manifest",
    "Options",
    "generate",
    "read_ground_truth",
]
