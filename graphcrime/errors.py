"""One base error for everything a user can get wrong, always with a position and a hint.

Every user-facing error carries *where* (``file:line:col`` for text input, a JSON path for
job specs) and, when we know one, a *hint* saying how to fix it.

>>> e = RuleError("unknown prefix 'foo:'", file="r.dlog", line=3, col=7,
...               hint="add @prefix foo: <...> .")
>>> str(e)
"r.dlog:3:7: unknown prefix 'foo:'\\n  hint: add @prefix foo: <...> ."
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Position:
    """A place in a text file: 1-based line and column."""

    file: str | None = None
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        parts = [self.file or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)


class GraphcrimeError(Exception):
    """Base of every error meant for a user. ``exit_code`` is what the CLI exits with."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        col: int | None = None,
        json_path: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.col = col
        self.json_path = json_path
        self.hint = hint

    @property
    def position(self) -> Position:
        return Position(self.file, self.line, self.col)

    def __str__(self) -> str:
        if self.json_path is not None:
            where = f"{self.file}: {self.json_path}" if self.file else self.json_path
            text = f"{where}: {self.message}"
        elif self.file is not None or self.line is not None:
            text = f"{self.position}: {self.message}"
        else:
            text = self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form, as written to ``status.json``."""
        d: dict[str, object] = {"type": type(self).__name__, "message": self.message}
        for key in ("file", "line", "col", "json_path", "hint"):
            value = getattr(self, key)
            if value is not None:
                d[key] = value
        return d


class DataError(GraphcrimeError):
    """Malformed or missing input data (N-Triples, CSV, ...)."""


class RuleError(GraphcrimeError):
    """A .dlog file that does not parse or does not pass the checks."""


class QueryError(GraphcrimeError):
    """A SPARQL query that does not parse, is refused (SERVICE, LOAD) or fails."""


class SpecError(GraphcrimeError):
    """A job spec that is not valid; ``json_path`` names the offending member."""


class LimitExceeded(GraphcrimeError):
    """A run went past a limit (derived facts, time, memory) and was stopped."""

    exit_code = 3


class UsageError(GraphcrimeError):
    """Bad command-line arguments or options (generator counts, output folders, ...)."""


class StoreError(GraphcrimeError):
    """A folder given as a store that is not one (foreign, corrupt, newer format)."""


class StoreLocked(GraphcrimeError):
    """Another process is updating the store (its lock was not free within the timeout)."""

    exit_code = 1
