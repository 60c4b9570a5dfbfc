"""Job specs: strict validation of SPEC.md's JSON job spec, with errors naming the JSON path.

Paths are relative to the spec's folder, globs are expanded (sorted), and every resolved path
(symlinks followed) must stay inside the served root.

>>> import json, tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> for f in ("a.nt", "r.dlog", "q.rq"):
...     _ = (d / f).write_text("")
>>> _ = (d / "job.json").write_text(json.dumps({"data": ["*.nt"], "rules": ["r.dlog"],
...                                              "queries": ["q.rq"]}))
>>> spec = load_spec(d / "job.json")
>>> spec.name, [p.name for p in spec.data], spec.resources.cores
('job', ['a.nt'], None)
"""

from __future__ import annotations

import glob
import json
import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphcrime.errors import SpecError

MAX_GLOB_MATCHES = 100_000
MAX_PATH_CHARS = 4096  # PATH_MAX on Linux
MAX_SPEC_BYTES = 8 << 20  # specs are small (a megabyte parameter fits): refuse bigger unread
_TOP_KEYS = {"name", "data", "rules", "queries", "parameters", "resources", "limits", "engine",
             "store", "retract"}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|K|M|G|T|k)?B?\s*$")
_UNITS = {
    None: 1, "K": 10**3, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class Resources:
    """What a job declares it needs: cores and memory in bytes (``None``: not declared).

    ``cores`` caps the job's threads; undeclared, a job uses the cores it can have (all of
    them when run alone, the watcher's free ones) and the watcher's scheduling counts it as 1.
    """

    cores: int | None = None
    memory: int | None = None


@dataclass(frozen=True)
class Limits:
    max_derived_facts: int | None = None
    timeout_seconds: float | None = None


@dataclass(frozen=True)
class JobSpec:
    """A validated job spec with absolute, confined, glob-expanded paths."""

    name: str
    source: Path
    data: list[Path]
    rules: list[Path]
    queries: list[Path]
    parameters: dict[str, Any] = field(default_factory=dict)
    resources: Resources = Resources()
    limits: Limits = Limits()
    engine: dict[str, Any] = field(default_factory=lambda: {"name": "embedded"})
    #: ``"store"`` as written (``"daily/aml"``) and resolved under the runner's store root
    #: (``None`` when no root was given: :func:`~graphcrime.runner.pipeline.run_job` refuses)
    store_name: str | None = None
    store: Path | None = None
    retract: list[Path] = field(default_factory=list)


def parse_size(text: object, json_path: str = "resources.memory") -> int:
    """``"8Gi"`` -> 8589934592, ``"512Mi"``, ``"2G"``, or a plain number of bytes.

    >>> parse_size("512Mi"), parse_size("2G"), parse_size(1024)
    (536870912, 2000000000, 1024)
    """
    if isinstance(text, int) and not isinstance(text, bool) and text > 0:
        return text
    m = _SIZE.match(text) if isinstance(text, str) else None
    if not m or float(m.group(1)) <= 0:
        raise SpecError('expected a size like "8Gi"', json_path=json_path,
                        hint='use a number with Ki/Mi/Gi/Ti (powers of 2) or K/M/G/T, e.g. "512Mi"')
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def _short(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters, so a megabyte string never reaches status.json."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def _err(path: str, message: str, hint: str | None = None, file: Path | None = None) -> SpecError:
    return SpecError(message, json_path=path, hint=hint, file=str(file) if file else None)


def _check_keys(obj: dict, allowed: set[str], where: str, file: Path) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        at = _short(f"{where}.{unknown[0]}" if where else unknown[0])
        raise _err(at, f"unknown key(s) {', '.join(repr(_short(k)) for k in unknown)}",
                   f"allowed here: {', '.join(sorted(allowed))}", file)


def _positive_int(value: object, path: str, file: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _err(path, f"expected a positive integer, got {json.dumps(value)}", file=file)
    return value


def _confined(p: Path, root: Path, path: str, file: Path) -> Path:
    real = Path(os.path.realpath(p))
    if real != root and root not in real.parents:
        raise _err(path, f"{p} resolves outside the served folder {root}",
                   "keep data, rules and queries inside the served folder (no .., no "
                   "absolute paths elsewhere, no symlinks out)", file)
    return real


def _expand(value: object, key: str, base: Path, root: Path, file: Path,
            empty: bool = False) -> list[Path]:
    if isinstance(value, list) and not value and empty:
        return []
    if not isinstance(value, list) or not value:
        raise _err(key, "expected a non-empty list of paths or globs", f'e.g. ["{key}/*"]', file)
    out: list[Path] = []
    for i, item in enumerate(value):
        path = f"{key}[{i}]"
        if not isinstance(item, str) or not item.strip():
            raise _err(path, f"expected a path string, got {json.dumps(item)}", file=file)
        if len(item) > MAX_PATH_CHARS:  # no file has such a name; globbing it took seconds
            raise _err(path, f"{_short(item)!r} is longer than a path can be "
                       f"({MAX_PATH_CHARS:,} characters)", file=file)
        pattern = item if os.path.isabs(item) else str(base / item)
        if glob.has_magic(item):
            _confined(_literal_prefix(pattern), root, path, file)  # never walk outside root
            if "**" in item:
                _check_tree(_literal_prefix(pattern), path, file)
            matches: list[str] = []
            for m in glob.iglob(pattern, recursive=True):
                matches.append(m)
                if len(matches) > MAX_GLOB_MATCHES:
                    raise _err(path, f"{_short(item)!r} matches more than "
                               f"{MAX_GLOB_MATCHES:,} files",
                               "use a narrower pattern or merge files", file)
            files = sorted(m for m in matches if os.path.isfile(m))
            if not files:
                raise _err(path, f"{_short(item)!r} matches no file", f"looked in {base}", file)
        else:
            if not os.path.isfile(pattern):
                raise _err(path, f"{_short(item)!r} is not a file", f"looked in {base}", file)
            files = [pattern]
        out.extend(_confined(Path(f), root, path, file) for f in files)
    return list(dict.fromkeys(out))


def _check_tree(top: Path, path: str, file: Path) -> None:
    """Refuse a ``**`` walk that would loop through symlinks or visit too many entries."""
    seen: set[tuple[int, int]] = set()
    entries = 0
    for folder, dirs, files in os.walk(top, followlinks=True):
        st = os.stat(folder)
        if (st.st_dev, st.st_ino) in seen:
            raise _err(path, f"folder {folder} is reached twice through symlinks",
                       "remove the symlink loop or use a pattern without **", file)
        seen.add((st.st_dev, st.st_ino))
        entries += len(dirs) + len(files)
        if entries > 10 * MAX_GLOB_MATCHES:
            raise _err(path, f"** under {top} walks more than {10 * MAX_GLOB_MATCHES:,} entries",
                       "use a narrower pattern", file)


def _literal_prefix(pattern: str) -> Path:
    """The folder a glob starts walking from: its path up to the first magic part."""
    parts = Path(pattern).parts
    n = next((i for i, part in enumerate(parts) if glob.has_magic(part)), len(parts))
    return Path(*parts[:n]) if n else Path(".")


def store_path(name: object, store_root: Path | None, file: Path | None = None) -> Path | None:
    """The folder of a spec's ``"store"`` under ``store_root``, confined like every path:
    a relative path of plain names (no ``..``, not absolute) whose real path (symlinks
    followed) stays inside the root. ``None`` when there is no root to resolve against.

    >>> store_path("daily/aml", Path("/srv/stores"))
    PosixPath('/srv/stores/daily/aml')
    >>> store_path("../x", Path("/srv/stores"))
    Traceback (most recent call last):
    ...
    graphcrime.errors.SpecError: store: '../x' is not a store name inside the store root
      hint: write a relative folder name such as "daily/aml" (no .., no absolute path)
    """
    if not isinstance(name, str) or not name.strip():
        raise _err("store", f"expected a store name, got {_short(json.dumps(name))}",
                   'e.g. "daily/aml" (a folder under the runner\'s --store-root)', file)
    parts = Path(name).parts
    if os.path.isabs(name) or ".." in parts or "\0" in name or len(name) > 1000:
        raise _err("store", f"{_short(name)!r} is not a store name inside the store root",
                   'write a relative folder name such as "daily/aml" (no .., no absolute '
                   "path)", file)
    if store_root is None:
        return None
    root = Path(os.path.realpath(store_root))
    real = Path(os.path.realpath(root / name))
    if real == root:
        raise _err("store", f"{_short(name)!r} names the store root itself",
                   'name a folder inside it, e.g. "daily/aml"', file)
    if root not in real.parents:
        raise _err("store", f"{_short(name)!r} resolves outside the store root {root}",
                   "a store is a folder inside --store-root (no symlinks out of it)", file)
    return real


def validate_spec(doc: object, source: Path, serve_root: Path | None = None,
                  base: Path | None = None, store_root: Path | None = None) -> JobSpec:
    """Check a parsed spec document; raise :class:`SpecError` naming the first bad member.

    Relative paths resolve against ``base`` (default: the spec's folder; the watcher passes
    the inbox, as a claimed spec has moved to ``running/``); ``"store"`` resolves under
    ``store_root`` (see :func:`store_path`).
    """
    source = Path(source).absolute()
    base = Path(base).absolute() if base is not None else source.parent
    root = Path(os.path.realpath(serve_root if serve_root is not None else base))
    if not isinstance(doc, dict):
        raise _err("$", "a job spec must be a JSON object", '{"data": [...], "rules": [...], '
                   '"queries": [...]}', source)
    _check_keys(doc, _TOP_KEYS, "", source)
    for key in ("data", "rules", "queries"):
        if key not in doc:
            raise _err(key, "missing (data, rules and queries are required)", file=source)
    name = doc.get("name", source.stem)
    if not isinstance(name, str) or not _NAME.match(name):
        raise _err("name", f"expected a name of letters, digits, '.', '_' or '-', got "
                   f"{_short(json.dumps(name))}", 'e.g. "2021-07-30"', source)
    params = doc.get("parameters", {})
    if not isinstance(params, dict):
        raise _err("parameters", "expected an object of name: value", '{"min_amount": 100}', source)
    for k, v in params.items():
        if not isinstance(v, (str, int, float, bool)):
            raise _err(_short(f"parameters.{k}"), "expected a string, number or boolean",
                       file=source)
    res = doc.get("resources", {})
    if not isinstance(res, dict):
        raise _err("resources", "expected an object", '{"cores": 2, "memory": "8Gi"}', source)
    _check_keys(res, {"cores", "memory"}, "resources", source)
    resources = Resources(
        cores=_positive_int(res["cores"], "resources.cores", source) if "cores" in res else None,
        memory=_size(res["memory"], source) if "memory" in res else None,
    )
    lim = doc.get("limits", {})
    if not isinstance(lim, dict):
        raise _err("limits", "expected an object", '{"timeout_seconds": 7200}', source)
    _check_keys(lim, {"max_derived_facts", "timeout_seconds"}, "limits", source)
    timeout = lim.get("timeout_seconds")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or not math.isfinite(timeout) or timeout <= 0):
        raise _err("limits.timeout_seconds", "expected a positive, finite number of seconds",
                   file=source)
    limits = Limits(
        max_derived_facts=_positive_int(lim["max_derived_facts"], "limits.max_derived_facts",
                                        source) if "max_derived_facts" in lim else None,
        timeout_seconds=timeout,
    )
    engine = doc.get("engine", {"name": "embedded"})
    if not isinstance(engine, dict):
        raise _err("engine", "expected an object", '{"name": "embedded"}', source)
    _check_keys(engine, {"name", "master"}, "engine", source)
    if engine.get("name", "embedded") not in ("embedded", "spark"):
        raise _err("engine.name", 'expected "embedded" or "spark"', file=source)
    if "master" in engine:
        master = engine["master"]
        if engine.get("name", "embedded") != "spark":
            raise _err("engine.master", 'only the "spark" engine takes a master',
                       'set "name": "spark" or drop "master"', source)
        if not isinstance(master, str) or not re.fullmatch(
                r"(local(\[(\*|[1-9][0-9]*)(,[0-9]+)?\])?|(spark|k8s|mesos)://\S+|yarn)",
                master):
            raise _err("engine.master", "expected a Spark master URL",
                       'e.g. "local[2]", "spark://host:7077", "k8s://https://host:443", "yarn"',
                       source)
    has_store = "store" in doc
    store = store_path(doc["store"], store_root, source) if has_store else None
    if has_store and engine.get("name", "embedded") != "embedded":
        raise _err("store", "a store job runs on the embedded engine",
                   'drop "engine" or "store"', source)
    if "retract" in doc and not has_store:
        raise _err("retract", "only a job with a store can retract",
                   'name the store: "store": "daily/aml"', source)
    return JobSpec(
        name=name, source=source,
        data=_expand(doc["data"], "data", base, root, source, empty=has_store),
        rules=_expand(doc["rules"], "rules", base, root, source),
        queries=_expand(doc["queries"], "queries", base, root, source, empty=has_store),
        parameters=dict(params), resources=resources, limits=limits,
        engine={"name": "embedded", **engine},
        store_name=doc["store"] if has_store else None, store=store,
        retract=_expand(doc.get("retract", []), "retract", base, root, source, empty=True),
    )


def _size(value: object, source: Path) -> int:
    try:
        return parse_size(value)
    except SpecError as e:
        raise SpecError(e.message, json_path=e.json_path, hint=e.hint, file=str(source)) from None


def load_spec(path: str | Path, serve_root: str | Path | None = None,
              base: str | Path | None = None, store_root: str | Path | None = None) -> JobSpec:
    """Read and validate a spec file; JSON syntax errors come with line and column."""
    path = Path(path)
    text = read_spec_text(path)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise SpecError(f"not valid JSON: {e.msg}", file=str(path), line=e.lineno, col=e.colno,
                        hint="check commas and quotes near this position") from None
    except RecursionError:
        raise SpecError("JSON nested too deeply", file=str(path), json_path="$",
                        hint="a job spec is a flat object of lists and small objects") from None
    return validate_spec(doc, path, Path(serve_root) if serve_root is not None else None,
                         Path(base) if base is not None else None,
                         Path(store_root) if store_root is not None else None)


def read_spec_text(path: str | Path, limit: int = MAX_SPEC_BYTES) -> str:
    """A spec file's text, refusing non-regular files (``/dev/zero``, FIFOs, folders) and
    files over ``limit`` bytes without reading them whole.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block the open
    except OSError as e:
        raise SpecError(f"cannot read job spec: {e}", file=str(path), json_path="$") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise SpecError("cannot read job spec: not a regular file (a folder, device, FIFO "
                            "or socket)", file=str(path), json_path="$",
                            hint="a job spec is a small JSON file")
        chunks, size = [], 0
        while size <= limit and st.st_size <= limit and (block := os.read(fd, 1 << 16)):
            chunks.append(block)
            size += len(block)
        if st.st_size > limit or size > limit:
            raise SpecError(f"job spec is larger than {limit:,} bytes", file=str(path),
                            json_path="$", hint="a job spec lists paths and globs; keep the "
                            "data itself in files")
    finally:
        os.close(fd)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError(f"cannot read job spec: {e}", file=str(path), json_path="$") from None
