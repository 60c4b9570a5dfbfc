"""docs/reliability.md is the output of the tests: its generated table equals the tests
marked ``@pytest.mark.reliability``, and every test any of its tables names exists."""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability_table import (
    DOC,
    TESTS,
    Row,
    collect,
    functions_in,
    generated_part,
    referenced_tests,
    render,
)


def test_generated_table_matches_the_marked_tests() -> None:
    rows = collect()
    assert len(rows) >= 10  # none collected would make an empty table "match"
    assert generated_part(DOC.read_text(encoding="utf-8")) == render(rows), (
        "docs/reliability.md is stale: run python tests/runner/reliability_table.py --write")


def test_every_test_named_in_the_document_exists() -> None:
    refs = referenced_tests(DOC.read_text(encoding="utf-8"))
    assert len(refs) >= 60
    missing = []
    for file, name in refs:
        path = TESTS / file
        if not path.is_file() or (name is not None and name not in functions_in(path)):
            missing.append(f"{file}::{name}" if name else file)
    assert missing == []


def test_reference_parsing_and_rendering(tmp_path: Path) -> None:
    doc = ("| a | b | x/test_a.py::test_one, ::test_two (3 examples) |\n|---|---|---|\n"
           "| c | d | y/test_b.py (all) |\n")
    assert referenced_tests(doc) == [("x/test_a.py", "test_one"), ("x/test_a.py", "test_two"),
                                     ("y/test_b.py", None)]
    table = render([Row("pipe | in\n  it", "ok", "x/test_a.py::test_one")])
    assert "| pipe \\| in it | ok | x/test_a.py::test_one |" in table


def test_marker_needs_two_literal_strings(tmp_path: Path) -> None:
    (tmp_path / "test_bad.py").write_text(
        "import pytest\n\n@pytest.mark.reliability('only a fault')\ndef test_x():\n    pass\n")
    with pytest.raises(ValueError, match="test_bad.py:4"):
        collect(tmp_path)
