"""Any text: the parser returns errors with positions, never crashes with anything else."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from graphcrime.compile.checks import check_text

PIECES = ["[", "]", "(", ")", ",", ".", ":-", "?x", "?y", ":a", "p:b", "<http://e/>", "<rel>",
          '"s"', "'t'", "@en", "^^", "xsd:int", "1", "-2.5", "3e4", "true", "a", "NOT",
          "EXISTS", "IN", "BIND", "AS", "FILTER", "AGGREGATE", "ON", "MIN", "COUNT", "*",
          "DISTINCT", "+", "-", "/", "=", "<", ">=", "&&", "||", "!", "IRI", "STR", "@prefix",
          "PREFIX", "BASE", "p:", "_:b", "#c\n", "\n", " ", ";", '"open', "T", "$z"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30).map(" ".join))
def test_token_soup_never_crashes(text: str) -> None:
    _, errors = check_text("@prefix : <http://e/> .\n" + text, "f.dlog")
    for e in errors:
        assert e.file == "f.dlog" and e.line is not None and e.line >= 1 and e.hint


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_never_crashes(text: str) -> None:
    _, errors = check_text(text, "f.dlog")
    assert all(e.line is not None for e in errors)
