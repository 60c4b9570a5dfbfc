from graphcrime.errors import RuleError, SpecError


def test_rule_error_names_position_and_hint():
    e = RuleError("unknown prefix 'foo:'", file="r.dlog", line=3, col=7, hint="declare it")
    assert str(e) == "r.dlog:3:7: unknown prefix 'foo:'\n  hint: declare it"
    assert e.to_dict()["line"] == 3


def test_spec_error_names_json_path():
    e = SpecError('expected a size like "8Gi"', json_path="resources.memory")
    assert str(e) == 'resources.memory: expected a size like "8Gi"'
