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
import os
import shutil
import tempfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from graphcrime.errors import DataError

#: the largest piece: files (uncompressed size, gzip counted at 4x) above the piece size
#: (:func:`piece_bytes`; this, where no size is given) are loaded piece by piece
PIECE_BYTES = 512 << 20
#: the share of the memory budget a piece may have (a piece's lines, split into strings and
#: hashed, take about three times its size while it is encoded: a 1M load peaks at 1.5 GB
#: with 512 MB pieces, 1.1 GB with 256 MB, which cost 40% more CPU)
PIECE_SHARE = 1 / 8


def piece_bytes(budget: int) -> int:
    """The piece size for a memory ``budget`` (bytes): 1/8 of it, at most ``PIECE_BYTES``.

    Fewer pieces are faster (each is matched against the whole dictionary); smaller ones keep
    a small job's load within its memory.

    >>> piece_bytes(19 << 30) >> 20, piece_bytes(4 << 30) >> 20, piece_bytes(2 << 30) >> 20
    (512, 512, 256)
    """
    return min(PIECE_BYTES, max(int(budget * PIECE_SHARE), 1))


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
    work = Path(tempfile.mkdtemp(prefix="gc-pieces-", dir=tmp))
    stem = path.name.removesuffix(".gz").removesuffix(".GZ")
    before = 0
    try:
        gz = path.name.lower().endswith(".gz")
        blocks = _gzip_blocks(path, size) if gz else _plain_blocks(path, size)
        for n, write in enumerate(blocks):
            piece = work / f"{stem}.{n}.nt"
            lines = write(piece)
            yield piece, before, lines
            piece.unlink()
            before += lines
    finally:
        shutil.rmtree(work, ignore_errors=True)


Writer = Callable[[Path], int]  # writes one piece, returns its line count


def _plain_blocks(path: Path, size: int) -> Iterator[Writer]:
    """Pieces of a plain file, copied by the kernel where it can (``copy_file_range``, Linux):
    the bytes do not pass through Python; only the line ends are looked for and counted (by
    numpy, see :func:`newlines`). Reads go through a small buffer, not a memory map, whose
    pages would count as the process's memory."""
    total = path.stat().st_size
    with open(path, "rb") as src:
        start = 0
        while start < total:
            end = _line_end(src, min(start + size, total) - 1, total)

            def write(piece: Path, start: int = start, end: int = end) -> int:
                with open(piece, "wb") as dst:
                    if not _copy_range(src, dst, start, end):
                        raise DataError("the file got shorter while it was read", file=str(path),
                                        hint="load files that are no longer being written")
                return count_lines(src, start, end)

            yield write
            start = end


def _line_end(src: BinaryIO, pos: int, total: int) -> int:
    """The offset just after the first newline at or after ``pos`` (``total`` if none)."""
    src.seek(pos)
    while pos < total:
        window = src.read(1 << 16)
        if not window:
            break
        nl = window.find(b"\n")
        if nl >= 0:
            return pos + nl + 1
        pos += len(window)
    return total


def count_lines(src: BinaryIO, start: int, end: int) -> int:
    """Lines in bytes ``[start, end)`` of ``src`` (a last line without a newline counts)."""
    if end <= start:
        return 0
    src.seek(end - 1)
    unended = src.read(1) != b"\n"
    return newlines(src, start, end) + unended


def newlines(src: BinaryIO | bytes, start: int = 0, end: int | None = None) -> int:
    """The number of ``\\n`` bytes in ``src[start:end]``, where ``src`` is bytes or a binary
    file (read 16 MB at a time into one buffer); numpy counts them (several GB/s).

    >>> import io
    >>> newlines(b"a\\nb\\n\\nc"), newlines(b"a\\nb\\n", 2), newlines(io.BytesIO(b"a\\n\\n"))
    (3, 1, 2)
    """
    step = 1 << 24
    if isinstance(src, bytes):
        end = len(src) if end is None else end
        data = np.frombuffer(src, dtype=np.uint8)
        return sum(int(np.count_nonzero(data[i:min(i + step, end)] == 10))
                   for i in range(start, end, step))
    end = src.seek(0, os.SEEK_END) if end is None else end
    raw = bytearray(min(step, max(end - start, 1)))
    buf = np.frombuffer(raw, dtype=np.uint8)  # a view: readinto(raw) fills it
    n = 0
    src.seek(start)
    while start < end:
        got = src.readinto(memoryview(raw)[:min(len(raw), end - start)])  # type: ignore[attr-defined]
        if not got:
            break
        n += int(np.count_nonzero(buf[:got] == 10))
        start += got
    return n


def _copy_range(src: BinaryIO, dst: BinaryIO, start: int, end: int) -> bool:
    """Copy bytes ``[start, end)`` of ``src`` to ``dst``; False when ``src`` ends first."""
    copy = getattr(os, "copy_file_range", None)
    src.seek(start)
    while start < end:
        done = 0
        if copy is not None:
            try:
                done = copy(src.fileno(), dst.fileno(), end - start, start)
            except OSError:  # another kind of file system: copy through a buffer
                copy = None
        if copy is None:
            src.seek(start)
            done = dst.write(src.read(min(end - start, 1 << 24)))
        if done <= 0:
            return False
        start += done
    return True


def _gzip_blocks(path: Path, size: int) -> Iterator[Writer]:
    """Pieces of a gzip file: about ``size`` uncompressed bytes each, cut after a newline."""
    with gzip.open(path, "rb") as src:
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

            def write(piece: Path, block: bytes = block) -> int:
                piece.write_bytes(block)
                return newlines(block) + (not block.endswith(b"\n"))

            yield write


def at_original(err: DataError, piece: Path, path: Path, before: int) -> DataError:
    """``err`` (raised for ``piece``) re-pointed at the original file and line."""
    if err.file == str(piece):
        err.file = str(path)
        if err.line is not None:
            err.line += before
    err.message = err.message.replace(str(piece), str(path))
    err.args = (err.message,)
    return err
