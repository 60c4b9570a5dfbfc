"""Loading big files piece by piece: same triples as pyoxigraph, errors at the original line,
nothing loaded when any piece fails."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyoxigraph as ox
import pytest

from generator import generate
from graphcrime.api import Store
from graphcrime.engine import store as store_module
from graphcrime.errors import DataError
from graphcrime.rdf import chunks


@pytest.fixture
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunks, "PIECE_BYTES", 20_000)


def _triples(path: Path) -> set[ox.Triple]:
    data = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
    return set(ox.parse(data, format=ox.RdfFormat.N_TRIPLES))


def test_pieces_load_the_same_triples(tmp_path: Path, small_pieces: None):
    m = generate(tmp_path / "d", transactions=400, parties=200, seed=4, gzip=True, files=1)
    files = sorted((tmp_path / "d").glob("*.nt*"))
    assert any(chunks.is_big(f) for f in files) and m
    st = Store(temp_dir=tmp_path)
    st.load(*files)
    st.dump(tmp_path / "out.nt")
    expected: set[ox.Triple] = set()
    for f in files:
        expected |= _triples(f)
    assert _triples(tmp_path / "out.nt") == expected
    assert len(st) == len(expected)
    assert not list(tmp_path.glob("gc-pieces-*"))  # the pieces are gone


@pytest.mark.parametrize("pack_share", [1 / 8, 0])  # 0: compressed after every piece
def test_error_in_a_later_piece_names_the_original_line(tmp_path: Path, small_pieces: None,
                                                        pack_share: float,
                                                        monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(store_module, "PACK_SHARE", pack_share)
    monkeypatch.setattr(store_module, "PACK_FLOOR", pack_share)
    good = "".join(f"<http://e/s{i}> <http://e/p> \"{i}\" .\n" for i in range(2000))
    path = tmp_path / "big.nt"
    path.write_text(good + "<http://e/s> <http://e/p> .\n" + good)
    st = Store(temp_dir=tmp_path)
    st.load(_small(tmp_path))
    before = len(st)
    with pytest.raises(DataError) as err:
        st.load(path)
    assert err.value.file == str(path) and err.value.line == 2001
    assert len(st) == before  # nothing of the good pieces stayed
    st.load(_small(tmp_path, "again.nt"))  # and the store still works
    assert len(st) == before + 1


def test_gzip_cut_short_in_pieces(tmp_path: Path, small_pieces: None):
    data = gzip.compress("".join(f"<http://e/s> <http://e/p> \"{i}\" .\n"
                                 for i in range(20000)).encode())
    path = tmp_path / "cut.nt.gz"
    path.write_bytes(data[: len(data) // 2])
    st = Store(temp_dir=tmp_path)
    with pytest.raises(DataError) as err:
        st.load(path)
    assert err.value.file == str(path)
    assert len(st) == 0


def _small(tmp: Path, name: str = "small.nt") -> Path:
    p = tmp / name
    p.write_text(f"<http://e/{name}> <http://e/p> <http://e/o> .\n")
    return p


def test_piece_size_follows_the_memory_budget(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A store with a small memory limit loads a file in pieces of 1/16 of it."""
    generate(tmp_path / "d", transactions=3000, parties=300, seed=5, files=1)
    files = sorted((tmp_path / "d").glob("*.nt"))
    sizes: list[int | None] = []
    real = chunks.pieces

    def spy(path: Path, tmp: Path, size: int | None = None):
        sizes.append(size)
        return real(path, tmp, size)

    monkeypatch.setattr(chunks, "pieces", spy)
    monkeypatch.setattr(chunks, "PIECE_SHARE", 1 / 256)  # 64 MiB -> 256 KiB pieces
    st = Store(temp_dir=tmp_path, memory_limit="64MiB")
    st.load(*files)
    assert sizes and all(s == (64 << 20) // 256 for s in sizes)
    expected: set[ox.Triple] = set()
    for f in files:
        expected |= _triples(f)
    st.dump(tmp_path / "out.nt")
    assert _triples(tmp_path / "out.nt") == expected


@pytest.mark.parametrize("gz", [False, True])
def test_pieces_are_whole_and_cleaned_up(tmp_path: Path, gz: bool):
    """While the caller holds a piece the next one is cut beside it (plain files); each piece
    is whole until the caller moves on, the lines add up, and stopping early leaves nothing."""
    lines = [f"<http://e/s{i}> <http://e/p> \"{i}\" .\n" for i in range(2000)]
    data = "".join(lines).encode()
    src = tmp_path / ("a.nt.gz" if gz else "a.nt")
    src.write_bytes(gzip.compress(data) if gz else data)
    work = tmp_path / "work"
    work.mkdir()
    got = b""
    for piece, before, n in chunks.pieces(src, work, size=5_000):
        text = piece.read_bytes()
        assert before == got.count(b"\n") and n == text.count(b"\n") and text.endswith(b"\n")
        got += text
    assert got == data
    for i, _ in enumerate(chunks.pieces(src, work, size=5_000)):
        if i == 2:
            break
    assert not any(work.iterdir())  # the pieces and their folder are gone


def test_bad_small_file_beside_a_big_one_leaves_no_pieces(tmp_path: Path, small_pieces: None):
    """When a small file fails, nothing of the big one is loaded or left in temp space."""
    big = tmp_path / "big.nt"
    big.write_text("".join(f"<http://e/s{i}> <http://e/p> \"{i}\" .\n" for i in range(2000)))
    bad = tmp_path / "bad.nt"
    bad.write_text("<http://e/s> <http://e/p> .\n")
    work = tmp_path / "work"
    work.mkdir()
    st = Store(temp_dir=work)
    with pytest.raises(DataError) as err:
        st.load(bad, big)
    assert err.value.file == str(bad) and len(st) == 0
    assert not list(work.glob("gc-pieces-*"))
    st.load(big)
    assert len(st) == 2000 and not list(work.glob("gc-pieces-*"))
