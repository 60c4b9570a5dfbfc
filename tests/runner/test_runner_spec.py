"""Job spec validation: JSON paths in errors, globs, sizes, confinement to the served folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from runner_helpers import write_spec

from graphcrime.errors import SpecError
from graphcrime.runner import spec as specmod
from graphcrime.runner.spec import load_spec, parse_size


def err(path: Path, root: Path | None = None) -> SpecError:
    with pytest.raises(SpecError) as e:
        load_spec(path, root)
    return e.value


def test_valid_spec_expands_globs_and_defaults(served: Path) -> None:
    s = load_spec(served / "job.json")
    assert s.name == "day"
    assert [p.name for p in s.queries] == ["ask.rq", "big.rq", "spo.rq"]  # sorted
    assert s.data == [(served / "data" / "day.nt").resolve()]
    assert s.resources.cores is None and s.resources.memory is None
    assert s.limits.max_derived_facts is None and s.engine == {"name": "embedded"}


def test_name_defaults_to_file_stem(served: Path) -> None:
    write_spec(served / "nightly.json")
    assert load_spec(served / "nightly.json").name == "nightly"


@pytest.mark.parametrize(("text", "expected"), [
    ("8Gi", 8 * 2**30), ("512Mi", 512 * 2**20), ("2G", 2 * 10**9), ("1.5Gi", 3 * 2**29),
    (4096, 4096),
])
def test_sizes(text: object, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize(("overrides", "json_path", "words"), [
    ({"resources": {"memory": "eight gigs"}}, "resources.memory", 'expected a size like "8Gi"'),
    ({"resources": {"memory": -1}}, "resources.memory", "size"),
    ({"resources": {"cores": 0}}, "resources.cores", "positive integer"),
    ({"resources": {"cores": True}}, "resources.cores", "positive integer"),
    ({"resources": {"gpus": 1}}, "resources.gpus", "unknown key"),
    ({"limits": {"timeout_seconds": "1h"}}, "limits.timeout_seconds", "seconds"),
    ({"limits": {"max_derived_facts": 1.5}}, "limits.max_derived_facts", "integer"),
    ({"limits": {"max_facts": 1}}, "limits.max_facts", "unknown key"),
    ({"colour": "red"}, "colour", "unknown key"),
    ({"data": []}, "data", "non-empty list"),
    ({"data": "data/*.nt"}, "data", "non-empty list"),
    ({"rules": ["rules/none-*.dlog"]}, "rules[0]", "matches no file"),
    ({"queries": ["queries/big.rq", "queries/missing.rq"]}, "queries[1]", "is not a file"),
    ({"queries": [3]}, "queries[0]", "path string"),
    ({"name": "a b/c"}, "name", "letters"),
    ({"parameters": {"min_amount": [1]}}, "parameters.min_amount", "number"),
    ({"parameters": [1]}, "parameters", "object"),
    ({"engine": {"name": "flink"}}, "engine.name", "embedded"),
    ({"engine": {"name": "spark", "master": "nowhere"}}, "engine.master", "Spark master URL"),
])
def test_errors_name_the_json_path(served: Path, overrides: dict, json_path: str,
                                   words: str) -> None:
    e = err(write_spec(served / "bad.json", **overrides))
    assert e.json_path == json_path
    assert words in e.message
    assert str(e).startswith(f"{served / 'bad.json'}: {json_path}: ")


def test_missing_required_key(served: Path) -> None:
    doc = {"data": ["data/*.nt"], "rules": ["rules/ok.dlog"]}
    (served / "bad.json").write_text(json.dumps(doc))
    e = err(served / "bad.json")
    assert e.json_path == "queries" and "required" in e.message


def test_invalid_json_has_line_and_column(served: Path) -> None:
    (served / "bad.json").write_text('{\n  "data": ["x"],\n  "rules" ["y"]\n}')
    e = err(served / "bad.json")
    assert (e.line, e.col) == (3, 11) and e.hint


def test_not_an_object(served: Path) -> None:
    (served / "bad.json").write_text("[1, 2]")
    assert err(served / "bad.json").json_path == "$"


def test_dotdot_escape_refused(served: Path, tmp_path: Path) -> None:
    (tmp_path / "outside.nt").write_text("")
    e = err(write_spec(served / "bad.json", data=["../outside.nt"]))
    assert e.json_path == "data[0]" and "outside the served folder" in e.message


def test_absolute_path_outside_refused(served: Path, tmp_path: Path) -> None:
    (tmp_path / "abs.nt").write_text("")
    e = err(write_spec(served / "bad.json", data=[str(tmp_path / "abs.nt")]))
    assert e.json_path == "data[0]"


def test_absolute_path_inside_allowed(served: Path) -> None:
    s = load_spec(write_spec(served / "ok.json", data=[str(served / "data" / "day.nt")]))
    assert len(s.data) == 1


def test_symlink_out_refused_even_through_glob(served: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.nt").write_text("")
    os.symlink(tmp_path / "secret.nt", served / "data" / "link.nt")
    e = err(write_spec(served / "bad.json"))
    assert e.json_path == "data[0]" and "outside the served folder" in e.message


def test_serve_root_wider_than_spec_folder(served: Path) -> None:
    sub = served / "specs"
    sub.mkdir()
    spec = write_spec(sub / "j.json", data=["../data/*.nt"], rules=["../rules/ok.dlog"],
                      queries=["../queries/big.rq"])
    assert err(spec).json_path == "data[0]"  # default root is the spec's folder
    assert len(load_spec(spec, served).data) == 1


def test_glob_cap(served: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(4):
        (served / "data" / f"more{i}.nt").write_text("")
    monkeypatch.setattr(specmod, "MAX_GLOB_MATCHES", 3)
    e = err(write_spec(served / "bad.json"))
    assert e.json_path == "data[0]" and "more than 3" in e.message


def test_recursive_glob(served: Path) -> None:
    (served / "data" / "deep").mkdir()
    (served / "data" / "deep" / "x.nt").write_text("")
    s = load_spec(write_spec(served / "ok.json", data=["data/**/*.nt"]))
    assert sorted(p.name for p in s.data) == ["day.nt", "x.nt"]
