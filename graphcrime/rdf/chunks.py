"""Big N-Triples files in pieces, so a load holds one piece's raw lines at a time.

The fast loader keeps every line of the files it is given as strings until they are encoded;
for a file of several hundred megabytes that is the peak of a whole run. :func:`pieces` cuts
a plain or gzipped ``.nt`` file at line boundaries into temporary files of about
``size`` bytes each and says how many lines came before each piece, so an error found in a
piece is reported at the original file and line (:func:`at_original`).

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> f = d / "a.nt"
>>> _ = f.write_text("".join(f"<http://e/{i}> <http://e/p> <http://e/o> .\\n" for i in range(5)))
>>> [(p.read_text().count("\\n"), before, lines) for p, before, lines in pieces(f, d, size=80)]
[(2, 0, 2), (2, 2, 2), (1, 4, 1)]
"""

from __future__ import annotations

import gzip
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from graphcrime.errors import DataError

#: files (uncompressed size, gzip counted at 4x) above this are loaded piece by piece
PIECE_BYTES = 256 << 20


def is_big(path: Path, size: int | None = None) -> bool:
    """Whether ``path`` is an N-Triples file worth loading in pieces."""
    size = size or PIECE_BYTES
    name = path.name.lower()
    if not (name.endswith(".nt") or name.endswith(".nt.gz")):
        return False
    factor = 4 if name.endswith(".gz") else 1
    return path.stat().st_size * factor > size


def pieces(path: Path, tmp: Path, size: int | None = None) -> Iterator[tuple[Path, int, int]]:
    """Yield ``(piece file, lines before it, lines in it)`` for ``path``; each piece is
    deleted when the next one is asked for. A gzip file that is cut short raises
    :class:`DataError`."""
    size = size or PIECE_BYTES
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    work = Path(tempfile.mkdtemp(prefix="gc-pieces-", dir=tmp))
    before = 0
    try:
        with opener(path, "rb") as src:
            n = 0
            while True:
                try:
                    block = src.read(size)
                    if not block:
                        return
                    if not block.endswith(b"\n"):
                        block += src.readline()
                except (EOFError, OSError, zlib.error) as e:
                    raise DataError(f"cannot read the compressed file: {e}", file=str(path),
                                    hint="the gzip file is damaged or cut short") from None
                piece = work / f"{path.name.removesuffix('.gz')}.{n}.nt"
                piece.write_bytes(block)
                lines = block.count(b"\n") + (not block.endswith(b"\n"))
                yield piece, before, lines
                piece.unlink()
                before += lines
                n += 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


def at_original(err: DataError, piece: Path, path: Path, before: int) -> DataError:
    """``err`` (raised for ``piece``) re-pointed at the original file and line."""
    if err.file == str(piece):
        err.file = str(path)
        if err.line is not None:
            err.line += before
    err.message = err.message.replace(str(piece), str(path))
    err.args = (err.message,)
    return err
