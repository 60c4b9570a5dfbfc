"""Checks: every error at once, exact line:col, hints; hand-worked cases."""

from __future__ import annotations

import pytest

from graphcrime.compile.checks import check_program, check_text
from graphcrime.compile.stratify import stratify
from graphcrime.errors import RuleError
from graphcrime.lang.parser import parse_program

P = "@prefix : <http://e/> .\n"


def errs(body: str, params=None) -> list[tuple[int, int, str]]:
    out = check_program(parse_program(P + body, "r.dlog"), params)
    assert all(e.hint and e.file == "r.dlog" for e in out)
    return [(e.line, e.col, e.message) for e in out]


def test_clean_program_has_no_errors() -> None:
    text = (":H[?x], :v[?x, ?n] :- :A[?x], :p[?x, ?y], BIND(?y + 1 AS ?n), FILTER(?n > 2), "
            "NOT :B[?y], NOT EXISTS ?z IN :q[?x, ?z],\n"
            "  AGGREGATE(:p[?x, ?w], :q[?w, ?a] ON ?x BIND SUM(?a) AS ?s), FILTER(?s > 0) .\n"
            ":A[:a] . T(1, 2) . :U[?x] :- T(?x, ?y) .")
    assert errs(text) == []


def test_unsafe_head_variables() -> None:
    assert errs(":A[?y] :- :B[?x] .\n:C[?x] .") == [
        (2, 4, "unsafe head variable ?y: it appears in no positive body atom, BIND or AGGREGATE"),
        (3, 4, "unsafe head variable ?x: a fact cannot have variables"),
    ]


def test_head_variable_only_under_not_or_filter_is_unsafe() -> None:
    out = errs(":A[?x] :- :B[?y], NOT :C[?x] .")
    assert (2, 4, "unsafe head variable ?x: it appears in no positive body atom, BIND or "
                  "AGGREGATE") in out
    assert (2, 26, "variable ?x under NOT is bound nowhere outside it") in out


def test_bind_and_filter_left_to_right() -> None:
    assert errs(":A[?x] :- FILTER(?x > 1), :B[?x], BIND(?z * 2 AS ?w), BIND(1 AS ?x) .") == [
        (2, 18, "variable ?x in FILTER is not bound by the body before it"),
        (2, 40, "variable ?z in BIND is not bound by the body before it"),
        (2, 65, "BIND to ?x, which is already bound"),
    ]


def test_bind_binds_for_later_literals_and_head() -> None:
    assert errs(":A[?y] :- :B[?x], BIND(?x AS ?y), FILTER(?y = ?x) .") == []


def test_negation_exists_variables_are_local() -> None:
    assert errs(":A[?x] :- :B[?x], NOT EXISTS ?y IN (:p[?x, ?y], :q[?y, ?z]) .") == [
        (2, 56, "variable ?z under NOT is bound nowhere outside it"),
    ]


def test_aggregate_variables() -> None:
    out = errs(":A[?m] :- AGGREGATE(:p[?x, ?y] ON ?g BIND MAX(?w) AS ?m) .\n"
               ":B[?x] :- :C[?x], :D[?m], AGGREGATE(:p[?x, ?y] ON ?x BIND MIN(?y) AS ?m) .")
    assert out == [
        (2, 35, "group variable ?g is not bound in the AGGREGATE's body"),
        (2, 47, "aggregated variable ?w is not bound in the AGGREGATE's body"),
        (3, 70, "AGGREGATE binds ?m, which is already bound"),
    ]


def test_arity_clash_names_first_use() -> None:
    assert errs("T(1, 2) .\n:A[?x] :- T(?x) .") == [
        (3, 11, "tuple table T used with 1 arguments, but with 2 at r.dlog:2:1"),
    ]


def test_blank_node_in_rule() -> None:
    assert errs(":A[_:b] :- :B[?x] .") == [(2, 4, "blank node _:b in a rule")]


def test_parameters_need_a_value_or_default() -> None:
    text = 'gc:param("k", 3) .\n:A[?x] :- :p[?x, ?v], gc:param("min", ?m), gc:param("k", ?k) .'
    assert errs(text) == []  # no params given: not checked
    assert errs(text, {}) == [(3, 23, "job parameter 'min' has no value")]
    assert errs(text, {"min": "5"}) == []


def test_all_errors_of_a_file_in_one_run() -> None:
    text = (P + "[?x, a, q:C] :- :B[?x] .\n"          # unknown prefix, line 2
            ":A[?x] :- :B[?x], NOT :C[?y] .\n"        # unbound negation, line 3
            ":B[?x] :- :S[?x], NOT :A[?x] .\n"        # not stratifiable, line 4
            ":A[?x] :- :B[?x .\n"                     # syntax, line 5
            ":A[?z] :- :B[?x] .\n")                   # unsafe, line 6
    _, out = check_text(text, "r.dlog")
    assert [(e.line, e.col) for e in out] == [(2, 9), (3, 26), (4, 19), (5, 17), (6, 4)]
    assert "through NOT at r.dlog:4:19" in out[2].message


def test_stratify_raises_first_with_count() -> None:
    prog = parse_program(P + ":A[?y] :- :B[?x] .\n:A[?z] :- :B[?x] .", "r.dlog")
    with pytest.raises(RuleError) as info:
        stratify(prog)
    assert (info.value.line, info.value.col) == (2, 4)
    assert "(and 1 more errors)" in info.value.message


def test_exists_variable_bound_outside() -> None:
    assert errs(":A[?x] :- :B[?x], NOT EXISTS ?x IN :p[?x, ?x] .") == [
        (2, 30, "?x is listed in NOT EXISTS but also bound outside it"),
    ]


def test_unknown_function_is_named_with_position() -> None:
    assert errs(':A[?y] :- :B[?x], BIND(CONCAT(STRR(?x), "a") AS ?y), '
                'FILTER(xsd:integer(?x) > 1) .') == [(2, 31, "unknown function STRR")]
