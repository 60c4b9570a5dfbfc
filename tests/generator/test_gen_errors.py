"""Bad input: one-line UsageError, non-zero exit, nothing half-written."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

import generator.output
from generator import generate
from graphcrime.cli import app
from graphcrime.errors import UsageError


@pytest.mark.parametrize(
    ("options", "where"),
    [
        (dict(transactions=0), "--transactions"),
        (dict(transactions=-5), "--transactions"),
        (dict(parties=0), "--parties"),
        (dict(parties=1), "--parties"),
        (dict(days=0), "--days"),
        (dict(files=0), "--files"),
        (dict(files=11, transactions=10), "--files"),
        (dict(suspicious_fraction=-0.1), "--suspicious-fraction"),
        (dict(suspicious_fraction=1.01), "--suspicious-fraction"),
        (dict(suspicious_fraction=float("nan")), "--suspicious-fraction"),
        (dict(amounts="gaussian"), "--amounts"),
        (dict(typologies="layering=-1"), "--typologies"),
        (dict(end="2021-07-30T00:00:00Z"), "--end"),
        (dict(end="0999-01-01T00:00:00"), "--end"),
        (dict(seed=-1), "--seed"),
        (dict(workers=0), "--workers"),
    ],
)
def test_bad_options_are_refused_before_writing(tmp_path, options, where):
    out = tmp_path / "out"
    with pytest.raises(UsageError) as info:
        generate(out, **{"transactions": 100, **options})
    err = info.value
    assert err.json_path == where and err.hint
    assert str(err).startswith(f"{where}: ") and "\n" not in err.message
    assert not out.exists()


def test_non_empty_folder_needs_force(tmp_path):
    out = tmp_path / "out"
    first = generate(out, transactions=300, files=3)
    (out / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="not empty"):
        generate(out, transactions=300)
    second = generate(out, transactions=300, force=True)  # replaces generated files only
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([f.path for f in second.files] + ["manifest.json", "notes.txt"])
    assert len(first.files) == 6 and len(second.files) == 2


def test_unwritable_or_non_folder_target(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for out in (blocker, blocker / "sub"):
        with pytest.raises(UsageError, match="not a folder|cannot write"):
            generate(out, transactions=100)
    assert blocker.read_text() == "x"


def test_failure_midway_leaves_no_partial_files(tmp_path, monkeypatch):
    calls = []
    real = generator.output.render_unit

    def flaky(plan, kind, lo, hi, gzip=False):
        calls.append(kind)
        if len(calls) == 3:
            raise OSError("disk full (simulated)")
        return real(plan, kind, lo, hi, gzip=gzip)

    monkeypatch.setattr(generator.output, "render_unit", flaky)
    new = tmp_path / "new"
    with pytest.raises(OSError, match="simulated"):
        generate(new, transactions=60_000, workers=2)
    assert not new.exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    calls.clear()
    with pytest.raises(OSError, match="simulated"):
        generate(existing, transactions=60_000, workers=1)
    assert list(existing.iterdir()) == []


def test_cli_reports_one_error_and_exits_non_zero(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["generate", str(tmp_path / "x"), "--transactions", "0"])
    assert result.exit_code == 2
    assert result.output.startswith("error: --transactions: must be at least 1")
    assert "Traceback" not in result.output and not (tmp_path / "x").exists()
    ok = runner.invoke(app, ["generate", str(tmp_path / "y"), "-n", "5000", "--typologies", "all"])
    assert ok.exit_code == 0, ok.output
    assert "5,000 transactions" in ok.output and "ground-truth.csv" in ok.output


def test_python_dash_m_generator(tmp_path):
    bad = subprocess.run(
        [sys.executable, "-m", "generator", str(tmp_path / "z"), "--suspicious-fraction", "2"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("error: --suspicious-fraction")
    good = subprocess.run(
        [sys.executable, "-m", "generator", str(tmp_path / "z"), "-n", "100", "--seed", "3"],
        capture_output=True,
        text=True,
    )
    assert good.returncode == 0, good.stderr
    assert (tmp_path / "z" / "transactions-0.nt").stat().st_size > 0
