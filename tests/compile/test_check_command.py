"""`graphcrime check`: every error as file:line:col + hint, exit codes, per-file summary."""

from __future__ import annotations

from typer.testing import CliRunner

from graphcrime.cli import app

GOOD = """@prefix : <http://e/> .
:A[?x] :- :B[?x] .
:B[?x] :- :B[?y], :p[?y, ?x] .
:B[:a] .
"""
BAD = """@prefix : <http://e/> .
:A[?y] :- :B[?x] .
:B[?x] :- :S[?x], NOT :A[?x], gc:param("min", ?m) .
:C[?x] :- q:D[?x] .
"""


def run(*args: str):
    return CliRunner().invoke(app, ["check", *args])


def test_good_file_prints_summary_and_exits_0(tmp_path) -> None:
    f = tmp_path / "good.dlog"
    f.write_text(GOOD)
    r = run(str(f))
    assert r.exit_code == 0, r.output
    # 2 rules + 1 fact; strata: the fact, the recursive :B rule, the :A rule
    assert r.stdout.strip() == f"{f}: ok, 2 rules, 1 facts, 3 strata (1 recursive)"


def test_bad_file_lists_every_error_and_exits_2(tmp_path) -> None:
    good, bad = tmp_path / "good.dlog", tmp_path / "bad.dlog"
    good.write_text(GOOD)
    bad.write_text(BAD)
    r = run(str(good), str(bad))
    assert r.exit_code == 2
    lines = [ln for ln in r.stderr.splitlines() if not ln.startswith("  hint:")]
    assert lines == [
        f"{bad}:2:4: unsafe head variable ?y: it appears in no positive body atom, BIND or "
        "AGGREGATE",
        f"{bad}:3:19: :B -> :A -> :B through NOT at {bad}:3:19",
        f"{bad}:3:31: job parameter 'min' has no value",
        f"{bad}:4:11: unknown prefix 'q:'",
        f"{bad}: 4 error(s)",
    ]
    assert r.stderr.count("  hint: ") == 4
    assert f"{good}: ok" in r.stdout


def test_params_satisfy_parameter_reads(tmp_path) -> None:
    f = tmp_path / "p.dlog"
    f.write_text('@prefix : <http://e/> .\n:A[?x] :- :B[?x], gc:param("min", ?m) .\n')
    assert run(str(f)).exit_code == 2
    assert run(str(f), "--param", "min=5").exit_code == 0
    d = tmp_path / "defaults.dlog"
    d.write_text('gc:param("min", 100) .\n')
    assert run(str(f), str(d)).exit_code == 0  # a default in another file counts
    r = run(str(f), "--param", "min")
    assert r.exit_code == 2 and "write --param NAME=VALUE" in r.stderr


def test_missing_file(tmp_path) -> None:
    r = run(str(tmp_path / "nope.dlog"))
    assert r.exit_code == 2 and "cannot read rule file" in r.stderr
