"""One tiny real job shared by the investigate tests (generated data with planted typologies)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_results import make_job  # noqa: E402


@pytest.fixture(scope="session")
def inv_job(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A job folder over 400 transactions: layering, cycle, fan-out and structuring planted."""
    return make_job(tmp_path_factory.mktemp("inv"), transactions=400, parties=250, seed=11,
                    typologies="layering=4,cycle=4,fan-out=2,structuring=2")
