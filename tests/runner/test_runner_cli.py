"""The run, watch, load and demo commands through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from runner_helpers import write_spec
from typer.testing import CliRunner

from graphcrime.cli import app
from graphcrime.runner import pipeline


@pytest.fixture
def double(monkeypatch: pytest.MonkeyPatch, store_factory) -> None:
    monkeypatch.setattr(pipeline, "default_store_factory", store_factory)


def test_run_succeeds(served: Path, tmp_path: Path, double: None) -> None:
    r = CliRunner().invoke(app, ["run", str(served / "job.json"), "--output-root",
                                 str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    assert "succeeded (input_facts 18, derived_facts 0)" in r.stdout
    (folder,) = (tmp_path / "out").iterdir()
    assert f"results: {folder}" in r.stdout


@pytest.mark.parametrize(("rules", "code", "words"), [
    ("BROKEN\n", 2, "bad.dlog:1:1: syntax error"),
])
def test_run_failure_exit_codes(served: Path, tmp_path: Path, double: None, rules: str,
                                code: int, words: str) -> None:
    (served / "rules" / "bad.dlog").write_text(rules)
    write_spec(served / "job.json", rules=["rules/bad.dlog"])
    r = CliRunner().invoke(app, ["run", str(served / "job.json"), "--output-root",
                                 str(tmp_path / "out")])
    assert r.exit_code == code and words in r.output


def test_run_bad_spec_exit_2(served: Path, tmp_path: Path) -> None:
    write_spec(served / "job.json", resources={"memory": "lots"})
    r = CliRunner().invoke(app, ["run", str(served / "job.json"), "--output-root",
                                 str(tmp_path / "out")])
    assert r.exit_code == 2
    assert 'resources.memory: expected a size like "8Gi"' in r.output
    (folder,) = (tmp_path / "out").iterdir()
    assert json.loads((folder / "status.json").read_text())["status"] == "failed"


def test_run_limit_exit_3(served: Path, tmp_path: Path, double: None) -> None:
    (served / "rules" / "slow.dlog").write_text("% SLEEP 0.2\n")
    write_spec(served / "job.json", rules=["rules/slow.dlog"], limits={"timeout_seconds": 0.05})
    r = CliRunner().invoke(app, ["run", str(served / "job.json"), "--output-root",
                                 str(tmp_path / "out")])
    assert r.exit_code == 3


def test_run_rejects_half_smtp_options(served: Path, tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["run", str(served / "job.json"), "--output-root",
                                 str(tmp_path / "out"), "--smtp", "localhost:25"])
    assert r.exit_code == 2 and "--mail-to" in r.output
    assert not (tmp_path / "out").exists()


def test_watch_once_files_a_bad_spec(served: Path, tmp_path: Path) -> None:
    write_spec(served / "job.json", queries=["queries/nothing-*.rq"])
    r = CliRunner().invoke(app, ["watch", str(served), "--output-root", str(tmp_path / "out"),
                                 "--once", "--poll-interval", "0.05"])
    assert r.exit_code == 0 and "processed 1 job(s)" in r.stdout
    reason = (served / "failed" / "job.json.reason.txt").read_text()
    assert "queries[0]: 'queries/nothing-*.rq' matches no file" in reason


def test_watch_rejects_zero_workers(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["watch", str(tmp_path), "--output-root", str(tmp_path / "o"),
                                 "--workers", "0"])
    assert r.exit_code == 2 and "--workers" in r.output


def test_load_refuses_failed_job(served: Path, tmp_path: Path) -> None:
    write_spec(served / "job.json", data=["nope/*.nt"])
    CliRunner().invoke(app, ["run", str(served / "job.json"), "--output-root",
                             str(tmp_path / "out")])
    (folder,) = (tmp_path / "out").iterdir()
    r = CliRunner().invoke(app, ["load", str(folder), "--endpoint", "http://127.0.0.1:9/store"])
    assert r.exit_code == 2 and "did not succeed" in r.output
