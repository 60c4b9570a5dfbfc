"""The datalog-conformance suite through graphcrime.testing.ConformanceEvaluator."""


def test_conformance(runner, yaml_test_case):
    runner.run_test_case(yaml_test_case[1])
