"""Repository-wide pytest settings for the datalog-conformance cases (tests/test_conformance.py).

Plain ``pytest`` runs them with graphcrime's adapter; the defeasible and KLM cases are out of
scope and deselected (pytest reports the count); cases we believe are wrong are strict xfails.
"""

import pytest

EVALUATOR = "graphcrime.testing.ConformanceEvaluator"
OUT_OF_SCOPE = ("defeasible/",)
DISPUTED = {
    "errors/review_v2_unsafe_negation::unsafe_negation_variable_only_in_negative_literal": (
        "contradicts the suite's own Nemo cases (negation/nemo_negation::nemo_negation_projected*"
        ", e.g. 'projectedXY(X, Y) :- main(X, Y, Z), not s3(X, 5, P).' expects answers), which "
        "read a variable occurring only under 'not' as existential; the adapter follows them"
    ),
}


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--datalog-evaluator", default=None) is None:
        config.option.datalog_evaluator = EVALUATOR


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    keep, drop = [], []
    for item in items:
        case = item.nodeid.partition("[")[2].rstrip("]")
        if item.nodeid.startswith("tests/test_conformance.py") and case.startswith(OUT_OF_SCOPE):
            drop.append(item)
            continue
        if case in DISPUTED:
            item.add_marker(pytest.mark.xfail(strict=True, reason=DISPUTED[case]))
        keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
