"""``python -m generator OUT_DIR [options]``: the same as ``graphcrime generate``.

Example: ``python -m generator data/ --transactions 1000000 --typologies all --seed 7``
"""

from __future__ import annotations

import sys

from graphcrime.cli import app


def main(argv: list[str] | None = None) -> None:
    """Run ``graphcrime generate`` with ``argv`` (default: the command line)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        app(["generate", *args], prog_name="python -m generator")
    except SystemExit as done:
        if done.code:
            raise


if __name__ == "__main__":
    main()
