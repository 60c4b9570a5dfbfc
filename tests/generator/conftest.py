"""Shared fixtures: small generated folders, read back with pyoxigraph's strict parser."""

from __future__ import annotations

import pytest
from gen_helpers import PLANTED, read_graph

from generator import generate


@pytest.fixture(scope="session")
def planted(tmp_path_factory: pytest.TempPathFactory):
    """A 20k-transaction folder with every typology planted, and its parsed graph."""
    out = tmp_path_factory.mktemp("planted") / "data"
    manifest = generate(out, **PLANTED)
    return manifest, read_graph(manifest.paths())
