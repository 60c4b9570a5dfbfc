from typer.testing import CliRunner

from graphcrime import __version__
from graphcrime.cli import app


def test_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == __version__
