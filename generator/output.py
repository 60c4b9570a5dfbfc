"""Write a generated data folder: split into files, render in threads, move in atomically.

Files are written into a hidden temporary folder inside ``OUT_DIR`` and moved into place only
when everything succeeded (``manifest.json`` last), so a failed or interrupted run leaves no
partial files behind.

>>> import tempfile
>>> m = generate(tempfile.mkdtemp() + "/d", transactions=1000, seed=3)
>>> m.counts["transactions"], [f.path for f in m.files]
(1000, ['parties-0.nt', 'transactions-0.nt'])
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zlib
from collections import deque
from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from generator.manifest import GROUND_TRUTH, MANIFEST, FileEntry, Manifest
from generator.ntformat import datetime_digits
from generator.options import Options
from generator.plan import BLOCK, Plan
from generator.render import render_transactions_by_day, render_unit
from graphcrime.errors import UsageError

TRIPLES_PER = {"parties": 6, "transactions": 5}
_OUR_FILES = ("parties-*.nt", "parties-*.nt.gz", "transactions-*.nt", "transactions-*.nt.gz")

Unit = tuple[str, int, int]


def file_units(plan: Plan) -> list[tuple[str, str, int, list[Unit]]]:
    """``(file name, kind, rows, units)`` per output file; units never cross a block."""
    opts = plan.options
    k = opts.files
    digits = len(str(k - 1))
    ext = ".nt.gz" if opts.gzip else ".nt"
    out = []
    for kind, total, cuts in (
        ("parties", opts.parties, ()),
        ("transactions", opts.transactions, (plan.background_transactions,)),
    ):
        for i in range(k):
            lo, hi = i * total // k, (i + 1) * total // k
            bounds = sorted({lo, hi, *range((lo // BLOCK + 1) * BLOCK, hi, BLOCK)} | set(cuts))
            bounds = [b for b in bounds if lo <= b <= hi]
            units = [(kind, a, b) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
            out.append((f"{kind}-{i:0{digits}d}{ext}", kind, hi - lo, units))
    return out


def _render(plan: Plan, kind: str, lo: int, hi: int) -> list:
    """One unit's buffers; with ``--split-by day`` a transactions unit gives
    ``(day, rows, buffers)`` per day instead."""
    gz = plan.options.gzip
    if plan.options.split_by == "day" and kind == "transactions":
        return render_transactions_by_day(plan, lo, hi, gzip=gz)
    return render_unit(plan, kind, lo, hi, gzip=gz)


def _results(plan: Plan, units: list[Unit], workers: int) -> Generator[list, None, None]:
    """Rendered units in order; at most ``workers + 2`` in flight so memory stays flat.

    Rendering runs in threads (numpy releases the GIL in its loops) while the caller writes
    and hashes the previous units (file writes and sha256 release it too).
    """
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="generate") as pool:
        pending: deque = deque()
        try:
            for u in units:
                pending.append(pool.submit(_render, plan, *u))
                if len(pending) > workers + 1:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()


def _check_out_dir(out: Path, force: bool) -> bool:
    """Refuse unusable folders; return True when ``out`` does not exist yet."""
    if out.exists() and not out.is_dir():
        raise UsageError(
            f"{out} exists and is not a folder", json_path="OUT_DIR", hint="choose another OUT_DIR"
        )
    if out.is_dir():
        if any(out.iterdir()) and not force:
            raise UsageError(
                f"{out} is not empty",
                json_path="OUT_DIR",
                hint="choose an empty or new folder, or pass --force to replace generated files",
            )
        if not os.access(out, os.W_OK | os.X_OK):
            raise UsageError(
                f"{out} is not writable", json_path="OUT_DIR", hint="check permissions"
            )
        return False
    return True


def generate(
    out_dir: str | Path,
    *,
    force: bool = False,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    **options,
) -> Manifest:
    """Generate a data folder; ``options`` are those of :meth:`Options.build`.

    ``workers`` is the number of rendering threads (default: CPU count - 1, at most 3, or the
    CPU count with gzip); it never changes the bytes written. ``progress(rows_done,
    rows_total)`` is called after every unit.
    """
    opts = Options.build(**options)
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise UsageError(f"must be at least 1, got {workers}", json_path="--workers", hint="e.g. 2")
    out = Path(out_dir)
    created = _check_out_dir(out, force)
    plan = Plan.build(opts)  # may refuse typologies that do not fit, before touching the disk
    if workers is None:  # rendering threads; the calling thread writes and hashes
        cpus = min(os.cpu_count() or 1, 4)
        workers = cpus if opts.gzip else max(1, cpus - 1)  # gzip moves work into the renderers
    try:
        out.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".generate-", dir=out))
    except OSError as err:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise UsageError(
            f"cannot write to {out}: {err.strerror or err}",
            json_path="OUT_DIR",
            hint="choose a folder you can write to",
        ) from None
    try:
        manifest = _write(plan, tmp, workers, progress)
        if force:
            for pattern in (*_OUR_FILES, MANIFEST, GROUND_TRUTH):
                for old in out.glob(pattern):
                    old.unlink()
        names = [f.path for f in manifest.files] + ([GROUND_TRUTH] if manifest.ground_truth else [])
        for name in [*names, MANIFEST]:
            os.replace(tmp / name, out / name)
        tmp.rmdir()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise
    manifest.out_dir = out
    return manifest


def _write(
    plan: Plan, tmp: Path, workers: int, progress: Callable[[int, int], None] | None
) -> Manifest:
    opts = plan.options
    layout = file_units(plan)
    by_day = [u for _, kind, _, units in layout if kind == "transactions" for u in units]
    if opts.split_by == "day":
        layout = [f for f in layout if f[1] != "transactions"]
    else:
        by_day = []
    results = _results(plan, [u for *_, units in layout for u in units] + by_day, workers)
    try:
        entries = _write_files(plan, tmp, layout, results, progress)
        if by_day:
            entries += _write_days(plan, tmp, by_day, results, progress)
    finally:
        results.close()  # stops the worker pool if writing failed
    gt = None
    if plan.planted is not None:
        from generator.typologies import write_ground_truth

        write_ground_truth(plan, tmp / GROUND_TRUTH)
        gt = GROUND_TRUTH
    manifest = Manifest(
        parameters=opts.to_json(),
        counts=_counts(plan),
        files=entries,
        date_window=_window(opts),
        ground_truth=gt,
    )
    (tmp / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def _write_files(
    plan: Plan,
    tmp: Path,
    layout: list,
    results: Generator[list, None, None],
    progress: Callable[[int, int], None] | None,
) -> list[FileEntry]:
    """Write every file from the ordered unit results; sha256 and size on the fly."""
    opts = plan.options
    total = opts.parties + opts.transactions
    done = 0
    entries = []
    for name, kind, rows, units in layout:
        sha = hashlib.sha256()
        size = 0
        with open(tmp / name, "wb") as fh:
            for u in units:
                for piece in next(results):
                    fh.write(piece)
                    sha.update(piece)
                    size += len(piece) if isinstance(piece, bytes) else piece.nbytes
                done += u[2] - u[1]
                if progress:
                    progress(done, total)
            if not units and opts.gzip:  # an empty file is still a valid gzip stream
                z = zlib.compressobj(1, zlib.DEFLATED, 31)
                empty = z.compress(b"") + z.flush()
                fh.write(empty)
                sha.update(empty)
                size += len(empty)
        entries.append(FileEntry(name, kind, rows, rows * TRIPLES_PER[kind], size, sha.hexdigest()))
    return entries


def _write_days(
    plan: Plan,
    tmp: Path,
    units: list[Unit],
    results: Generator[list, None, None],
    progress: Callable[[int, int], None] | None,
) -> list[FileEntry]:
    """``transactions-<YYYY-MM-DD>.nt`` per calendar day of the window (empty days too),
    from the per-day pieces of every transactions unit, in unit order."""
    import datetime as _dt

    opts = plan.options
    ext = ".nt.gz" if opts.gzip else ".nt"
    epoch = _dt.date(1970, 1, 1)
    name = {d: f"transactions-{epoch + _dt.timedelta(days=d)}{ext}"
            for d in range(opts.start_seconds // 86400, (opts.end_seconds - 1) // 86400 + 1)}
    sha = {d: hashlib.sha256() for d in name}
    size, rows = dict.fromkeys(name, 0), dict.fromkeys(name, 0)
    for n in name.values():
        (tmp / n).touch()
    done, total = opts.parties, opts.parties + opts.transactions
    for u in units:
        for day, n, pieces in next(results):
            with open(tmp / name[day], "ab") as fh:
                for piece in pieces:
                    fh.write(piece)
                    sha[day].update(piece)
                    size[day] += len(piece) if isinstance(piece, bytes) else piece.nbytes
            rows[day] += n
        done += u[2] - u[1]
        if progress:
            progress(done, total)
    if opts.gzip:  # an empty day's file is still a valid gzip stream
        for day in (d for d in name if not size[d]):
            z = zlib.compressobj(1, zlib.DEFLATED, 31)
            empty = z.compress(b"") + z.flush()
            (tmp / name[day]).write_bytes(empty)
            sha[day].update(empty)
            size[day] = len(empty)
    return [FileEntry(name[d], "transactions", rows[d], rows[d] * TRIPLES_PER["transactions"],
                      size[d], sha[d].hexdigest()) for d in sorted(name)]


def _counts(plan: Plan) -> dict:
    opts = plan.options
    instances: dict[str, int] = {}
    for inst in plan.planted.instances if plan.planted else []:
        instances[inst.typology] = instances.get(inst.typology, 0) + 1
    extra = len(plan.extra_suspicious)
    return {
        "parties": opts.parties,
        "suspicious_parties": opts.suspicious_parties + extra,
        "random_suspicious_parties": opts.suspicious_parties,
        "planted_suspicious_parties": extra,
        "transactions": opts.transactions,
        "planted_transactions": plan.planted_transactions,
        "triples": 6 * opts.parties + 5 * opts.transactions,
        "instances": instances,
    }


def _window(opts: Options) -> dict:
    d = datetime_digits(np.array([opts.start_seconds, opts.end_seconds]))
    return {"start": bytes(d[0]).decode(), "end": bytes(d[1]).decode(), "end_inclusive": False}
