"""Repository-wide pytest settings for the datalog-conformance cases (tests/test_conformance.py).

Plain ``pytest`` runs them with graphcrime's adapter; the defeasible and KLM cases are out of
scope and not collected; cases we believe are wrong are strict xfails.
"""

from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from datalog_conformance import plugin

EVALUATOR = "graphcrime.testing.ConformanceEvaluator"
OUT_OF_SCOPE = ("defeasible",)  # folders of the suite
DISPUTED = {
    "errors/review_v2_unsafe_negation::unsafe_negation_variable_only_in_negative_literal": (
        "contradicts the suite's own Nemo cases (negation/nemo_negation::nemo_negation_projected*"
        ", e.g. 'projectedXY(X, Y) :- main(X, Y, Z), not s3(X, 5, P).' expects answers), which "
        "read a variable occurring only under 'not' as existential; the adapter follows them"
    ),
}


_discover = plugin.discover_yaml_tests


def _in_scope_cases(test_dir: Path | None = None) -> list:
    """The plugin's discovery without the out-of-scope folders, parsed by libyaml: the suite is
    42 MB of YAML, which the plugin's pure-Python ``yaml.safe_load`` took 1-2 minutes to read
    (half of it the out-of-scope defeasible cases) before any test ran."""
    root = test_dir or plugin.get_tests_dir()
    return [case for sub in sorted(root.iterdir())
            if sub.is_dir() and sub.name not in OUT_OF_SCOPE for case in _discover(sub)]


if getattr(yaml, "CSafeLoader", None) is not None:  # libyaml (PyYAML's wheels have it)
    plugin.yaml = SimpleNamespace(safe_load=lambda text: yaml.load(text, Loader=yaml.CSafeLoader))
plugin.discover_yaml_tests = _in_scope_cases


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--datalog-evaluator", default=None) is None:
        config.option.datalog_evaluator = EVALUATOR


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        case = item.nodeid.partition("[")[2].rstrip("]")
        if case in DISPUTED:
            item.add_marker(pytest.mark.xfail(strict=True, reason=DISPUTED[case]))
