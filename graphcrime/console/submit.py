"""Rerun a job with changed parameters: a new spec dropped into the inbox (``--allow-submit``).

The new spec is the job's own spec document with its ``parameters`` changed and its relative
``data``/``rules``/``queries`` paths re-based on the inbox (the watcher reads relative paths
from there); it is written as ``<name>.json.part`` and renamed into place, so the watcher
never reads half of it. Submissions carry a CSRF token (:class:`Csrf`).

>>> coerce("250"), coerce("true"), coerce("2.5"), coerce("abc")
(250, True, 2.5, 'abc')
"""

from __future__ import annotations

import datetime as _dt
import hmac
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any

from graphcrime.errors import SpecError, UsageError

PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
MAX_VALUE = 1000


class Csrf:
    """One random token per console process, embedded in its pages' forms."""

    def __init__(self) -> None:
        self.token = secrets.token_urlsafe(32)

    def valid(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token), self.token)


def coerce(text: str) -> Any:
    """A form value as a spec parameter: booleans, integers, numbers, else the string."""
    t = text.strip()
    if t in ("true", "false"):
        return t == "true"
    for kind in (int, float):
        try:
            return kind(t)
        except ValueError:
            pass
    return t


def find_spec(status: dict[str, Any], inbox: Path | None) -> tuple[Path, Path]:
    """(spec file, folder its relative paths start from) of a job's ``status.json``."""
    spec = Path(str(status.get("spec") or ""))
    candidates = [spec]
    watched = inbox is not None and spec.parent == inbox / "running"
    if watched and inbox is not None:
        candidates += [inbox / "done" / spec.name, inbox / "failed" / spec.name]
    for c in candidates:
        if c.is_file():
            return c, (inbox if watched and inbox is not None else spec.parent)
    raise UsageError(f"the job's spec {str(spec)!r} is gone; cannot rerun it",
                     hint="drop a spec into the inbox by hand")


def rerun_spec(job_dir: Path, inbox: Path, changes: dict[str, str]) -> Path:
    """Write the rerun spec into ``inbox``; returns its path. ``changes``: name -> text."""
    status = json.loads((job_dir / "status.json").read_text(encoding="utf-8"))
    source, base = find_spec(status, inbox)
    try:
        doc = json.loads(source.read_text(encoding="utf-8"))
    except ValueError as e:
        raise SpecError(f"the job's spec is not valid JSON: {e}", file=str(source)) from None
    if not isinstance(doc, dict):
        raise SpecError("the job's spec is not a JSON object", file=str(source))
    for key in ("data", "rules", "queries"):
        items = doc.get(key)
        if isinstance(items, list):
            doc[key] = [os.path.relpath(os.path.join(base, p), inbox)
                        if isinstance(p, str) and not os.path.isabs(p) else p for p in items]
    params = dict(doc.get("parameters") or {})
    for name, text in changes.items():
        if not PARAM_NAME.match(name):
            raise UsageError(f"bad parameter name {name!r}",
                             hint="letters, digits and _ . - (starting with a letter or _)")
        if len(text) > MAX_VALUE:
            raise UsageError(f"the value of {name} is longer than {MAX_VALUE} characters")
        if text.strip() == "":
            params.pop(name, None)
        else:
            params[name] = coerce(text)
    doc["parameters"] = params
    name = str(doc.get("name") or source.stem)
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    target = inbox / f"{name}-rerun-{stamp}-{secrets.token_hex(2)}.json"
    part = target.with_name(target.name + ".part")
    inbox.mkdir(parents=True, exist_ok=True)
    part.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    os.replace(part, target)
    return target
