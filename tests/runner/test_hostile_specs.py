"""Hostile job specs through load_spec / run_job: every one refused or stopped, with a reason.

Complements test_runner_spec.py (which covers ``..`` and symlinked files in ``data``, absolute
paths, the glob cap, unknown top-level/resources/limits keys) with: escapes in ``rules`` and
``queries``, globs rooted outside the served folder, symlinked folders, FIFOs, deeply nested
JSON, megabyte strings, non-finite limits, SPARQL SERVICE/LOAD and a rule that derives
without bound -- the last ones on the real embedded engine.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from runner_helpers import write_spec

from graphcrime.errors import SpecError
from graphcrime.runner.pipeline import run_job
from graphcrime.runner.spec import load_spec


def refused(spec: Path, root: Path | None = None) -> SpecError:
    with pytest.raises(SpecError) as e:
        load_spec(spec, root)
    return e.value


def status(out) -> dict:
    return json.loads((out.folder / "status.json").read_text())


@pytest.mark.parametrize("key", ["rules", "queries"])
def test_dotdot_in_rules_and_queries_refused(served: Path, tmp_path: Path, key: str) -> None:
    (tmp_path / "evil.txt").write_text("")
    e = refused(write_spec(served / "bad.json", **{key: ["../evil.txt"]}))
    assert e.json_path == f"{key}[0]" and "outside the served folder" in e.message


@pytest.mark.parametrize("pattern", ["/**/*.nt", "../**/*.nt", "../../../*", "data/../../*"])
def test_glob_rooted_outside_is_refused_before_walking(served: Path, pattern: str) -> None:
    t = time.perf_counter()
    e = refused(write_spec(served / "bad.json", data=[pattern]))
    assert e.json_path == "data[0]" and "outside the served folder" in e.message
    assert time.perf_counter() - t < 5  # it never walked the file system


def test_symlinked_folder_out_refused_through_recursive_glob(served: Path,
                                                             tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.nt").write_text("")
    os.symlink(outside, served / "data" / "mounted")
    e = refused(write_spec(served / "bad.json", data=["data/**/*.nt"]))
    assert e.json_path == "data[0]" and "outside the served folder" in e.message


def test_symlinked_spec_folder_is_its_own_root(served: Path, tmp_path: Path) -> None:
    """A spec reached through a symlink is confined to where the link points."""
    link = tmp_path / "link"
    os.symlink(served, link)
    assert len(load_spec(link / "job.json").data) == 1


def test_fifo_is_not_a_file(served: Path) -> None:
    os.mkfifo(served / "data" / "pipe.nt")
    e = refused(write_spec(served / "bad.json", data=["data/pipe.nt"]))
    assert e.json_path == "data[0]" and "not a file" in e.message


def test_many_repeated_paths_load_once(served: Path) -> None:
    s = load_spec(write_spec(served / "ok.json", data=["data/day.nt"] * 20_000))
    assert len(s.data) == 1


@pytest.mark.parametrize("doc", [
    "[" * 100_000 + "]" * 100_000,
    '{"data": ["data/*.nt"], "rules": ["rules/ok.dlog"], "queries": ["queries/*.rq"], '
    '"parameters": {"x": ' + "[" * 100_000 + "]" * 100_000 + "}}",
])
def test_deeply_nested_json_fails_the_job_cleanly(served: Path, tmp_path: Path,
                                                  doc: str) -> None:
    (served / "deep.json").write_text(doc)
    out = run_job(served / "deep.json", tmp_path / "out")
    assert out.exit_code == 2
    err = status(out)["error"]
    assert err["type"] == "SpecError" and "nested too deeply" in err["message"]


MB = "x" * 2**20


@pytest.mark.parametrize(("overrides", "json_path"), [
    ({"name": MB}, "name"),
    ({"data": [MB]}, "data[0]"),
    ({"data": [MB + "*"]}, "data[0]"),
    ({MB: 1}, None),
    ({"engine": {MB: 1}}, None),
    ({"parameters": {MB: [1]}}, None),
])
def test_megabyte_strings_refused_with_short_errors(served: Path, tmp_path: Path,
                                                    overrides: dict, json_path: str | None
                                                    ) -> None:
    write_spec(served / "big.json", **overrides)
    out = run_job(served / "big.json", tmp_path / "out")
    assert out.exit_code == 2
    if json_path:
        assert status(out)["error"]["json_path"] == json_path
    assert (out.folder / "status.json").stat().st_size < 10_000  # not echoed in full


def test_megabyte_parameter_value_is_accepted(served: Path) -> None:
    s = load_spec(write_spec(served / "ok.json", parameters={"note": MB}))
    assert s.parameters["note"] == MB


@pytest.mark.parametrize(("overrides", "json_path"), [
    ({"engine": {"name": "embedded", "workers": 4}}, "engine.workers"),
    ({"resources": {"cores": 1, "Memory": "1Gi"}}, "resources.Memory"),
    ({"Data": ["data/*.nt"]}, "Data"),
])
def test_unknown_keys_are_named(served: Path, overrides: dict, json_path: str) -> None:
    e = refused(write_spec(served / "bad.json", **overrides))
    assert e.json_path == json_path and "unknown key" in e.message and e.hint


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_timeout_refused(served: Path, text: str) -> None:
    (served / "bad.json").write_text(
        '{"data": ["data/*.nt"], "rules": ["rules/ok.dlog"], "queries": ["queries/*.rq"], '
        f'"limits": {{"timeout_seconds": {text}}}}}')
    assert refused(served / "bad.json").json_path == "limits.timeout_seconds"


def test_unreadable_specs(served: Path, tmp_path: Path) -> None:
    (served / "latin1.json").write_bytes(b'{"name": "caf\xe9"}')
    assert "cannot read" in refused(served / "latin1.json").message
    (served / "dir.json").mkdir()
    assert refused(served / "dir.json").json_path == "$"
    out = run_job(served / "missing.json", tmp_path / "out")
    assert out.exit_code == 2 and status(out)["status"] == "failed"


# ---- the real embedded engine ---------------------------------------------------------------

@pytest.mark.parametrize(("query", "word"), [
    ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", "SERVICE"),
    ("LOAD <http://example.org/data.nt>", "LOAD"),
    ("INSERT DATA { <http://e/a> <http://e/b> <http://e/c> }", "INSERT"),
    ("SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }", "FROM"),
])
def test_network_and_update_queries_refused(served: Path, tmp_path: Path, query: str,
                                            word: str) -> None:
    (served / "queries" / "evil.rq").write_text("# hostile\n" + query)
    (served / "rules" / "none.dlog").write_text("# no rules\n")
    write_spec(served / "job.json", rules=["rules/none.dlog"], queries=["queries/evil.rq"])
    out = run_job(served / "job.json", tmp_path / "out")
    assert out.exit_code == 2
    err = status(out)["error"]
    assert err["type"] == "QueryError" and word in err["message"]
    assert err.get("line") == 2 and err.get("hint")


RUNAWAY = """@prefix : <http://e/> .
@prefix prop: <http://oxfordsemantic.tech/transactions/properties#> .
[?x, :next, ?y] :- prop:hasOriginator[?x, ?p] , BIND(IRI(CONCAT(STR(?x), "+")) AS ?y) .
[?y, :next, ?z] :- [?x, :next, ?y], BIND(IRI(CONCAT(STR(?y), "+")) AS ?z) .
"""


def test_runaway_rule_stopped_by_max_derived_facts(served: Path, tmp_path: Path) -> None:
    (served / "rules" / "runaway.dlog").write_text(RUNAWAY)
    write_spec(served / "job.json", rules=["rules/runaway.dlog"],
               limits={"max_derived_facts": 500, "timeout_seconds": 60})
    out = run_job(served / "job.json", tmp_path / "out")
    assert out.exit_code == 3
    err = status(out)["error"]
    assert err["type"] == "LimitExceeded" and err["json_path"] == "limits.max_derived_facts"
    assert "500" in err["message"] and err["hint"]
    assert status(out)["results"] == []  # no query ran on the partial result


def test_runaway_rule_stopped_by_timeout(served: Path, tmp_path: Path) -> None:
    (served / "rules" / "runaway.dlog").write_text(RUNAWAY)
    write_spec(served / "job.json", rules=["rules/runaway.dlog"],
               limits={"timeout_seconds": 1.5})
    t = time.perf_counter()
    out = run_job(served / "job.json", tmp_path / "out")
    assert out.exit_code == 3 and time.perf_counter() - t < 15
    assert status(out)["error"]["json_path"] == "limits.timeout_seconds"


def test_symlink_loop_under_recursive_glob_refused(served: Path) -> None:
    """Two links back to their own folder would make ``**`` walk 2**40 paths."""
    os.symlink(".", served / "data" / "a")
    os.symlink(".", served / "data" / "b")
    t = time.perf_counter()
    e = refused(write_spec(served / "bad.json", data=["data/**/*.xyz"]))
    assert e.json_path == "data[0]" and "symlink" in e.message
    assert time.perf_counter() - t < 5
