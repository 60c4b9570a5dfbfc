"""``python -m generator OUT_DIR [options]``: the same command as ``graphcrime generate``.

Example: ``python -m generator data/ --transactions 1000000 --typologies all --seed 7``
"""

from __future__ import annotations

import sys

import typer


def main(argv: list[str] | None = None) -> None:
    """Run the ``generate`` command with ``argv`` (default: the command line)."""
    from graphcrime.cli import generate  # the one definition of the options

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(generate)
    app(list(sys.argv[1:] if argv is None else argv), prog_name="python -m generator")


if __name__ == "__main__":
    main()
