"""An on-disk store: one folder holding a DuckDB database and a marker file.

::

    STORE/graphcrime-store.json   {"format": "graphcrime-store", "version": 1}
    STORE/store.duckdb            facts, dictionary, input-fact tables, program, parameters
    STORE/lock                    fcntl lock of the one writer
    STORE/tmp/                    DuckDB's spill files
    STORE/subjects/               the subject index, written after each update (.subjects)

Everything that changes in an update is in the database. An update works on a copy,
``STORE/store.duckdb.next``, checkpointed, synced and renamed over ``store.duckdb`` when done
(all or nothing, even after ``kill -9``: the rename is atomic, and a writer removes a copy
left by an interrupted update when it opens the store); when the disk has no room for the
copy, or the file is bigger than ``GC_STORE_COPY_LIMIT`` (:func:`on_copy`), the update runs
in one DuckDB transaction instead (its write-ahead log makes the commit atomic) and is
checkpointed after the commit. One writer at a time: a writer holds an
exclusive ``flock`` on ``lock`` (released by the kernel when the process dies); readers open
the database read-only, which DuckDB allows while no process has it open for writing - a
writer has it so only while it opens the store and during an update in one transaction.

>>> import tempfile, pathlib
>>> from graphcrime.lang.parser import parse_program
>>> d = pathlib.Path(tempfile.mkdtemp()) / "s"
>>> st = DiskStore.create(d, parse_program("@prefix : <http://e/> . :B[?x] :- :A[?x] ."))
>>> sorted(p.name for p in d.iterdir())
['graphcrime-store.json', 'lock', 'store.duckdb', 'tmp']
>>> st.close()
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from graphcrime.db import scalar
from graphcrime.engine.store import FactStore
from graphcrime.errors import StoreError, StoreLocked
from graphcrime.lang.ast import Program
from graphcrime.lang.parser import parse_program
from graphcrime.lang.printer import format_program
from graphcrime.rdf.dictionary import q

MARKER = "graphcrime-store.json"
DATABASE = "store.duckdb"
LOCK = "lock"
FORMAT = 1
T = TypeVar("T")


#: the copy an update works on (see DiskStore.transaction)
NEXT = "store.duckdb.next"
#: seconds a writer waits to attach the updated file while readers hold it
REATTACH_SECONDS = 60


def on_copy(folder: Path) -> bool:
    """Whether an update of the store in ``folder`` works on a copy of its database file:
    when the disk has room for the copy and the file is at most ``GC_STORE_COPY_LIMIT``
    bytes (no limit unless set); otherwise in one transaction, which needs no second copy."""
    size = (folder / DATABASE).stat().st_size
    limit = os.environ.get("GC_STORE_COPY_LIMIT")
    if limit is not None and size > int(limit):
        return False
    return shutil.disk_usage(folder).free > size + size // 10 + (64 << 20)


def _copy_file(src: Path, dst: Path) -> None:
    """Copy a file in the kernel (``copy_file_range``: a reflink where the filesystem can)."""
    with open(src, "rb") as a, open(dst, "wb") as b:
        left = os.fstat(a.fileno()).st_size
        while left > 0:
            try:
                n = os.copy_file_range(a.fileno(), b.fileno(), min(left, 1 << 30))
            except OSError:  # not supported here: a plain copy of the rest
                shutil.copyfileobj(a, b, 16 << 20)
                return
            if n == 0:
                break
            left -= n


def fsync(path: Path) -> None:
    """``fsync`` a file or folder (Linux allows both through a read-only descriptor)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_copy(folder: Path) -> None:
    """Remove what an interrupted update left (its copy and the copy's write-ahead log)."""
    for name in (NEXT, NEXT + ".wal"):
        with contextlib.suppress(FileNotFoundError):
            (folder / name).unlink()


def check_folder(folder: Path) -> None:
    """Refuse a folder that is not a graphcrime store of a format this version reads."""
    if not folder.is_dir():
        raise StoreError(f"{folder} is not a store: no such folder",
                         hint="create one with `graphcrime store create` / Store.create")
    marker = folder / MARKER
    try:
        meta = json.loads(marker.read_text())
    except FileNotFoundError:
        raise StoreError(f"{folder} is not a graphcrime store (no {MARKER})",
                         hint="give the folder made by `graphcrime store create`") from None
    except (OSError, ValueError) as e:
        raise StoreError(f"{marker} is corrupt: {e}", file=str(marker)) from None
    if not isinstance(meta, dict) or meta.get("format") != "graphcrime-store":
        raise StoreError(f"{marker} does not describe a graphcrime store", file=str(marker))
    if meta.get("version") != FORMAT:
        raise StoreError(f"store format {meta.get('version')!r}; this graphcrime reads "
                         f"format {FORMAT}", file=str(marker),
                         hint="open it with the graphcrime version that wrote it")
    if not (folder / DATABASE).is_file():
        raise StoreError(f"{folder} has no {DATABASE}: the store is incomplete",
                         hint="restore the folder from a backup or create it again")


def _acquire(fd: int, folder: Path, timeout: float) -> None:
    deadline = time.monotonic() + max(timeout, 0)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise StoreLocked(f"store {folder} is being updated by another process",
                                  hint="wait for it to finish, or pass a timeout "
                                       "(--lock-timeout) to wait for it") from None
            time.sleep(0.05)


def _connect(folder: Path, read_only: bool, timeout: float,
             options: Mapping[str, Any]) -> FactStore:
    deadline = time.monotonic() + max(timeout, 0)
    temp = options.get("temp_dir") or folder / "tmp"
    Path(temp).mkdir(exist_ok=True)
    while True:
        try:
            return FactStore(path=folder / DATABASE, read_only=read_only,
                             memory_limit=options.get("memory_limit"),
                             threads=options.get("threads"), temp_dir=temp)
        except duckdb.IOException as e:
            if "lock" not in str(e).lower():
                raise StoreError(f"{folder / DATABASE} cannot be opened: {e}",
                                 file=str(folder / DATABASE)) from None
            if time.monotonic() >= deadline:
                raise StoreLocked(f"store {folder} is open for writing in another process",
                                  hint="readers can open it once the writer is done; pass a "
                                       "timeout to wait") from None
            time.sleep(0.1)
        except duckdb.Error as e:
            raise StoreError(f"{folder / DATABASE} is not a readable DuckDB database: {e}",
                             file=str(folder / DATABASE),
                             hint="the store is corrupt; restore it from a backup") from None


class DiskStore:
    """The folder, its database connection (``facts``), lock and metadata."""

    def __init__(self, folder: Path, facts: FactStore, lock_fd: int | None) -> None:
        self.folder, self.facts, self._lock_fd = folder, facts, lock_fd
        self.read_only = lock_fd is None

    # -- opening --------------------------------------------------------------------------
    @classmethod
    def create(cls, folder: str | Path, program: Program,
               params: Mapping[str, object] | None = None, *, timeout: float = 0,
               **options: Any) -> DiskStore:
        """A new store in ``folder`` (absent or empty) with ``program`` and ``params``."""
        from graphcrime.engine.incremental import create_program

        folder = Path(folder)
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise StoreError(f"{folder} exists and is not empty",
                             hint="give a new folder for the store")
        folder.mkdir(parents=True, exist_ok=True)
        store = cls._open_writer(folder, timeout, options)
        try:
            store.facts.con.execute("CREATE TABLE IF NOT EXISTS _gc_meta "
                                    "(key VARCHAR PRIMARY KEY, value VARCHAR)")
            def write() -> None:
                create_program(store.facts, program, params)
                store._write_meta(program, params)

            store.transaction(write)
            (folder / f"{MARKER}.tmp").write_text(json.dumps(
                {"format": "graphcrime-store", "version": FORMAT}) + "\n")
            os.replace(folder / f"{MARKER}.tmp", folder / MARKER)
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def open(cls, folder: str | Path, *, read_only: bool = False, timeout: float = 0,
             **options: Any) -> DiskStore:
        """Open an existing store (a writer takes the lock; ``timeout`` seconds to wait)."""
        folder = Path(folder)
        check_folder(folder)
        if read_only:
            store = cls(folder, _connect(folder, True, timeout, options), None)
        else:
            store = cls._open_writer(folder, timeout, options)
        try:
            got = store.meta("format")
        except duckdb.Error:
            got = None
        if got != FORMAT:
            store.close()
            raise StoreError(f"{folder / DATABASE} is not a graphcrime store database",
                             file=str(folder / DATABASE),
                             hint="the store is corrupt; restore it from a backup")
        store._open_subjects()
        return store

    def _open_subjects(self) -> None:
        """Use the subject index if it was made for the database's state (else: scans)."""
        from graphcrime.engine.subjects import SubjectIndex

        self.facts.subjects = SubjectIndex.open(self.folder, self.meta("generation"))

    @classmethod
    def _open_writer(cls, folder: Path, timeout: float, options: Mapping[str, Any]
                     ) -> DiskStore:
        t0 = time.monotonic()
        fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _acquire(fd, folder, timeout)
            _remove_copy(folder)  # an update killed before its rename
            facts = _connect(folder, False, max(timeout - (time.monotonic() - t0), 0), options)
        except BaseException:
            os.close(fd)
            raise
        return cls(folder, facts, fd)

    # -- metadata -------------------------------------------------------------------------
    def meta(self, key: str) -> Any:
        row = self.facts.con.execute(f"SELECT value FROM _gc_meta WHERE key = {q(key)}"
                                     ).fetchone()
        return None if row is None else json.loads(row[0])

    def _set_meta(self, key: str, value: object) -> None:
        self.facts.con.execute(f"INSERT OR REPLACE INTO _gc_meta VALUES ({q(key)}, "
                               f"{q(json.dumps(value))})")

    def _write_meta(self, program: Program, params: Mapping[str, object] | None) -> None:
        self._set_meta("format", FORMAT)
        self._set_meta("program", format_program(program))
        self._set_meta("params", {k: v for k, v in (params or {}).items()})

    @property
    def program(self) -> Program:
        return parse_program(self.meta("program") or "", "<store program>")

    @property
    def params(self) -> dict[str, object]:
        return dict(self.meta("params") or {})

    # -- updates --------------------------------------------------------------------------
    def transaction(self, work: Callable[[], T]) -> T:
        """Run ``work`` all or nothing: on a copy of the database file that replaces it when
        done, or (see :func:`on_copy`) in one DuckDB transaction."""
        if self.read_only:
            raise StoreError(f"store {self.folder} is open read-only",
                             hint="open it without read_only to change it")
        if on_copy(self.folder):
            return self._on_copy(work)
        return self._in_transaction(work)

    def _on_copy(self, work: Callable[[], T]) -> T:
        """``work`` on ``store.duckdb.next``, a copy of the file, in DuckDB's autocommit
        mode; then the copy is checkpointed, synced and renamed over the file (one atomic
        rename: a crash before it leaves the old file, which readers can also open meanwhile).
        In one transaction DuckDB keeps every table the work creates and replaces until the
        commit (the evaluator's per-round tables: GBs spilled at 10M transactions)."""
        live, copy = self.folder / DATABASE, self.folder / NEXT
        facts = self.facts
        preds, tuples = dict(facts.preds), dict(facts.tuple_tables)
        if not facts.read_only:
            facts.con.execute("CHECKPOINT gc")
        facts.reattach(None)
        try:
            _remove_copy(self.folder)
            _copy_file(live, copy)
            facts.reattach(copy)
            out = work()
            facts.con.execute("CHECKPOINT gc")
            facts.reattach(None)
            fsync(copy)
            os.replace(copy, live)
            fsync(self.folder)
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                facts.reattach(None)
            _remove_copy(self.folder)
            facts.preds, facts.tuple_tables = preds, tuples
            self._attach_live(read_only=True)
            raise
        # read-only until the next update, which works on a copy again: readers and the
        # writer never wait for each other
        self._attach_live(read_only=True)
        return out

    def _attach_live(self, read_only: bool) -> None:
        """Attach ``store.duckdb`` again (for writing: waiting while readers hold DuckDB's
        shared lock on it)."""
        deadline = time.monotonic() + REATTACH_SECONDS
        while True:
            try:
                self.facts.reattach(self.folder / DATABASE, read_only)
                return
            except duckdb.IOException as e:
                if "lock" not in str(e).lower() or time.monotonic() >= deadline:
                    raise StoreLocked(f"store {self.folder} is open in readers",
                                      hint="close the readers, then open the store again "
                                      "to change it") from None
                time.sleep(0.1)

    def _in_transaction(self, work: Callable[[], T]) -> T:
        """Run ``work`` in one DuckDB transaction, then checkpoint."""
        if self.facts.read_only:
            self._attach_live(read_only=False)
        con = self.facts.con
        preds, tuples = dict(self.facts.preds), dict(self.facts.tuple_tables)
        con.execute("BEGIN TRANSACTION")
        try:
            out = work()
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            self.facts.preds, self.facts.tuple_tables = preds, tuples
            raise
        con.execute("CHECKPOINT gc")
        return out

    def update(self, *, add: str | None = None, retract: str | None = None,
               program: Program | None = None, params: Mapping[str, object] | None = None,
               before: Callable[[], object] | None = None, **options: Any) -> dict[str, Any]:
        """One update in one transaction: ``before()`` (which may fill the relations ``add``
        and ``retract``), then their triples added/retracted and, when ``program`` is given,
        the program and parameters replaced; the materialisation is maintained."""
        from graphcrime.engine.incremental import update

        def work() -> dict[str, Any]:
            if before is not None:
                before()
            old_program, old_params = self.program, self.params
            new_program = old_program if program is None else program
            new_params = old_params if program is None and params is None else (params or {})
            out = update(self.facts, new_program, new_params, add=add, retract=retract,
                         old_program=None if program is None and params is None
                         else old_program, old_params=old_params, **options)
            if program is not None or params is not None:
                self._write_meta(new_program, new_params)
            self._set_meta("generation", uuid.uuid4().hex)
            return out

        base, self.facts.subjects = self.facts.subjects, None
        try:
            out = self.transaction(work)
        except BaseException:
            self.facts.subjects = base
            raise
        t0 = time.perf_counter()
        self._refresh_subjects(base)
        out["index_seconds"] = round(time.perf_counter() - t0, 3)
        return out

    def _refresh_subjects(self, base: Any) -> None:
        """The subject index of the state an update left (see :mod:`.subjects`)."""
        from graphcrime.engine.subjects import refresh

        tables = sorted(self.facts.preds.values())
        self.facts.subjects = refresh(self.folder, self.facts.con, tables,
                                      self.meta("generation"), base)

    # -- facts about the store ------------------------------------------------------------
    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file())

    def index_info(self) -> dict[str, Any]:
        """The subject index: whether it is the database's (else queries scan), how many
        tables it holds, its size on disk."""
        from graphcrime.engine.subjects import FOLDER

        index = self.facts.subjects
        folder = self.folder / FOLDER
        return {"current": index is not None, "tables": len(index.tables) if index else 0,
                "size_bytes": sum(p.stat().st_size for p in folder.iterdir())
                if folder.is_dir() else 0}

    def rounds(self) -> int:
        tables = list(self.facts.preds.values()) + list(self.facts.tuple_tables.values())
        if not tables:
            return 0
        return int(scalar(self.facts.con, "SELECT coalesce(max(r), 0) FROM (" + " UNION ALL ".join(
            f"SELECT max(r) AS r FROM {t}" for t in tables) + ")"))

    def close(self) -> None:
        with contextlib.suppress(duckdb.Error):
            self.facts.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None
