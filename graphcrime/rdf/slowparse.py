"""The strict path: pyoxigraph parses what the fast SQL path does not take, and reports errors.

Used for lines with ``\\u``/``\\\\`` escapes or unusual IRIs, for whole files DuckDB cannot
read (invalid UTF-8, cut-short gzip, lone CR line ends), for Turtle and N-Quads, and to find
the exact line and column of an error. Terms come out as canonical nt strings.

>>> cols = parse_text('<http://e/s> <http://e/p> "a\\\\u0041\\\\tb"@EN .\\n', "x.nt")
>>> cols
(['<http://e/s>'], ['<http://e/p>'], ['"aA\\tb"@en'])
"""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from graphcrime.errors import DataError
from graphcrime.rdf.dictionary import literal_nt

Columns = tuple[list[str], list[str], list[str]]
_CHUNK = 200_000


def rdf_format(path: Path) -> ox.RdfFormat:
    """The format a file name says (``.nt``, ``.nq``, ``.ttl``, each optionally ``.gz``)."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".nq"):
        return ox.RdfFormat.N_QUADS
    if name.endswith(".ttl"):
        return ox.RdfFormat.TURTLE
    return ox.RdfFormat.N_TRIPLES


def term_nt(t: object) -> str:
    """Canonical nt of a pyoxigraph term."""
    if isinstance(t, ox.NamedNode):
        return f"<{t.value}>"
    if isinstance(t, ox.BlankNode):
        return f"_:{t.value}"
    if isinstance(t, ox.Literal):
        return literal_nt(t.value, t.datatype.value, t.language)
    raise DataError(f"unsupported term {t!r} (RDF-star triple terms are not supported)",
                    hint="use plain triples; quoted triples cannot be stored")


def _hint(msg: str) -> str:
    m = msg.lower()
    if "utf-8" in m:
        return "the file must be UTF-8 encoded (re-encode it, e.g. iconv -f latin1 -t utf-8)"
    if "escape" in m:
        return ("inside strings only \\t \\b \\n \\r \\f \\\" \\' \\\\ \\uXXXX \\UXXXXXXXX are "
                "allowed; IRIs allow only \\uXXXX and \\UXXXXXXXX")
    if "iri" in m or "scheme" in m:
        return ("IRIs must be absolute (scheme:...) and may not contain spaces or <>\"{}|^`\\ "
                "(percent-encode them)")
    if "language" in m or "subtag" in m:
        return "language tags look like en, en-gb, zh-Hant-TW (BCP 47)"
    if "end of file" in m or "'.'" in m or "expected" in m:
        return "every triple ends with ' .' on its own line; strings and IRIs must be closed"
    return "N-Triples lines are `<subject> <predicate> <object> .` (https://www.w3.org/TR/n-triples/)"


def syntax_error(e: SyntaxError, file: str, line_offset: int = 0) -> DataError:
    """A DataError with file, line and column from pyoxigraph's SyntaxError."""
    msg = re.sub(r"^Parser error (at|between) .*?: ", "", e.msg or str(e))
    msg = re.sub(r" \(line \d+\)$", "", msg)
    line = e.lineno + line_offset if e.lineno else None
    return DataError(msg, file=file, line=line, col=e.offset, hint=_hint(msg))


class _Counting(io.RawIOBase):
    """A binary reader that counts the newlines it hands out (to place gzip errors)."""

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner, self.newlines = inner, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        data = self.inner.read(len(b))
        n = len(data)
        b[:n] = data
        self.newlines += data.count(b"\n")
        return n


def _open(path: Path) -> IO[bytes]:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _parsed(path: Path) -> Iterator:
    """pyoxigraph triples (or quads) of a whole file; DataError with line/col on the first error."""
    fmt = rdf_format(path)
    base = path.absolute().as_uri() if fmt == ox.RdfFormat.TURTLE else None
    with _open(path) as raw:
        counted = _Counting(raw)
        try:
            yield from ox.parse(io.BufferedReader(counted, 1 << 20), fmt, base_iri=base)
        except SyntaxError as e:
            raise syntax_error(e, str(path)) from None
        except (EOFError, OSError, gzip.BadGzipFile) as e:
            raise DataError(f"cannot read the file: {e}", file=str(path),
                            line=counted.newlines + 1,
                            hint="the gzip file is cut short or damaged; copy or compress it again"
                            ) from None


def iter_file(path: Path, chunk: int = _CHUNK) -> Iterator[Columns]:
    """Parse a whole file strictly, yielding canonical nt columns in chunks.

    Raises DataError with file, line and column on the first error.
    """
    return _columns(_parsed(path), chunk)


def _columns(triples: Iterator, chunk: int) -> Iterator[Columns]:
    s: list[str] = []
    p: list[str] = []
    o: list[str] = []
    for t in triples:
        s.append(term_nt(t.subject))
        p.append(term_nt(t.predicate))
        o.append(term_nt(t.object))
        if len(s) >= chunk:
            yield s, p, o
            s, p, o = [], [], []
    if s:
        yield s, p, o


def parse_text(text: str, file: str, locate: Callable[[], None] | None = None) -> Columns:
    """Parse N-Triples text (lines gathered from ``file``) into canonical nt columns.

    On an error, ``locate()`` is called first (it should raise the error with the real line
    number by parsing the whole file); if it returns, the error is raised without a line.
    """
    try:
        s: list[str] = []
        p: list[str] = []
        o: list[str] = []
        for cs, cp, co in _columns(ox.parse(text, ox.RdfFormat.N_TRIPLES), _CHUNK):
            s += cs
            p += cp
            o += co
        return s, p, o
    except SyntaxError as e:
        if locate is not None:
            locate()
        err = syntax_error(e, file)
        raise DataError(err.message, file=file, hint=err.hint) from None


def locate_error(path: Path) -> None:
    """Parse ``path`` strictly to its first error and raise it (returns if there is none).

    pyoxigraph reads across line ends, so a triple missing its dot is reported on the next
    line; for N-Triples the error is moved back to the line that fails on its own.
    """
    try:
        for _ in _parsed(path):
            pass
    except DataError as e:
        if e.line is None or e.line < 2 or rdf_format(path) != ox.RdfFormat.N_TRIPLES:
            raise
        raise _own_line(path, e) from None


def _own_line(path: Path, e: DataError) -> DataError:
    """The first line, of pyoxigraph's and the triple line before it, that fails on its own."""
    assert e.line is not None
    with _open(path) as f:
        lines = [f.readline().strip(b"\r\n") for _ in range(e.line)]
    prev = next((n for n in range(e.line - 1, 0, -1) if lines[n - 1].strip(b" \t")
                 and not lines[n - 1].lstrip(b" \t").startswith(b"#")), None)
    for n in (prev, e.line):
        if n is None:
            continue
        try:
            list(ox.parse(lines[n - 1], ox.RdfFormat.N_TRIPLES))
        except SyntaxError as own:
            return syntax_error(own, str(path), n - 1)
    return e
