"""``graphcrime reason`` end to end: output file, summary, exit codes."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from typer.testing import CliRunner

from graphcrime.cli import app

GOLDEN = Path(__file__).parent / "golden"


def _triples(path: Path) -> set[str]:
    return {str(t) for t in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES)}


def test_reason_writes_the_derived_triples(tmp_path: Path) -> None:
    case = GOLDEN / "recursion"
    out = tmp_path / "derived.nt"
    res = CliRunner().invoke(app, ["reason", "--data", str(case / "data.nt"),
                                   "--rules", str(case / "rules.dlog"), "--output", str(out)])
    assert res.exit_code == 0, res.output
    assert _triples(out) == _triples(case / "expected.nt")
    assert "input facts: 3" in res.output and "derived facts: 6" in res.output


def test_reason_params_and_gzip(tmp_path: Path) -> None:
    case = GOLDEN / "params"
    out = tmp_path / "derived.nt.gz"
    import json
    params = json.loads((case / "params.json").read_text())
    args = ["reason", "--data", str(case / "data.nt"), "--rules", str(case / "rules.dlog"),
            "--output", str(out)]
    for k, v in params.items():
        args += ["--param", f"{k}={v}"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    import gzip
    (tmp_path / "plain.nt").write_bytes(gzip.decompress(out.read_bytes()))
    assert _triples(tmp_path / "plain.nt") == _triples(case / "expected.nt")


def test_bad_rule_exits_2_with_position(tmp_path: Path) -> None:
    rules = tmp_path / "bad.dlog"
    rules.write_text("@prefix : <http://e/> .\n:q[?x] :- :p[?x, ?y], FILTER(?z > 1) .\n")
    res = CliRunner().invoke(app, ["reason", "--data", str(GOLDEN / "recursion" / "data.nt"),
                                   "--rules", str(rules)])
    assert res.exit_code == 2
    assert f"{rules}:2:" in res.output


def test_runaway_rules_stop_at_the_limit_with_exit_3(tmp_path: Path) -> None:
    rules = tmp_path / "runaway.dlog"
    rules.write_text('@prefix : <http://e/> .\n'
                     ':n[?x, ?m] :- :n[?x, ?k], BIND(?k + 1 AS ?m) .\n')
    data = tmp_path / "d.nt"
    data.write_text('<http://e/a> <http://e/n> '
                    '"0"^^<http://www.w3.org/2001/XMLSchema#integer> .\n')
    res = CliRunner().invoke(app, ["reason", "--data", str(data), "--rules", str(rules),
                                   "--max-derived-facts", "50"])
    assert res.exit_code == 3, res.output
    assert "max_derived_facts" in res.output


def test_missing_data_exits_2(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["reason", "--data", str(tmp_path / "none.nt"),
                                   "--rules", str(GOLDEN / "recursion" / "rules.dlog")])
    assert res.exit_code == 2
    assert "no such file" in res.output


def _split_case(tmp_path: Path) -> Path:
    """The recursion case as two rule files and three data files (one rule, one fact each)."""
    case, d = GOLDEN / "recursion", tmp_path / "split"
    (d / "rules").mkdir(parents=True)
    (d / "data").mkdir()
    head, *rules = [ln for ln in (case / "rules.dlog").read_text().splitlines()
                    if ln and not ln.startswith("#")]
    prefixes = "\n".join(ln for ln in [head, *rules] if ln.startswith("@prefix")) + "\n"
    body = [ln for ln in rules if not ln.startswith("@prefix")]
    for i, rule in enumerate(body):
        (d / "rules" / f"{i}.dlog").write_text(prefixes + rule + "\n")
    for i, fact in enumerate((case / "data.nt").read_text().splitlines()):
        (d / "data" / f"{i}.nt").write_text(fact + "\n")
    assert len(body) == 2 and len(list((d / "data").iterdir())) == 3
    return d


def test_several_files_after_one_option(tmp_path: Path) -> None:
    """``--rules a.dlog b.dlog --data x.nt y.nt`` (what the shell makes of globs), mixed with
    the repeated form; the same derived triples as the one-file case."""
    d = _split_case(tmp_path)
    rules = [str(p) for p in sorted((d / "rules").iterdir())]
    data = [str(p) for p in sorted((d / "data").iterdir())]
    expected = _triples(GOLDEN / "recursion" / "expected.nt")
    for i, args in enumerate([["--rules", *rules, "--data", *data],
                              ["--data", data[0], "--rules", *rules, "--data", *data[1:]],
                              ["--rules", rules[0], "--rules", rules[1], "--data", *data]]):
        out = tmp_path / f"derived{i}.nt"
        res = CliRunner().invoke(app, ["reason", *args, "--output", str(out)])
        assert res.exit_code == 0, res.output
        assert _triples(out) == expected
        assert "input facts: 3" in res.output


def test_shell_globs_after_rules_and_data(tmp_path: Path) -> None:
    """The user's command line through a real shell: ``--rules rules/*.dlog``, unquoted."""
    import os
    import subprocess
    import sys

    d = _split_case(tmp_path)
    cmd = (f"{sys.executable} -m graphcrime reason --rules rules/*.dlog --data data/*.nt "
           "--output derived.nt")
    res = subprocess.run(["bash", "-c", cmd], cwd=d, capture_output=True, text=True,
                         env=os.environ, timeout=120)
    assert res.returncode == 0, res.stderr
    assert _triples(d / "derived.nt") == _triples(GOLDEN / "recursion" / "expected.nt")
