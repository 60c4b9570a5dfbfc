"""The engine's entry point: a checked, stratified program or a RuleError.

>>> from graphcrime.lang.parser import parse_program
>>> strata = stratify(parse_program('@prefix : <http://e/> . :A[:a] . :B[?x] :- :A[?x] .'))
>>> [len(s.rules) for s in strata]
[1, 1]
"""

from __future__ import annotations

from collections.abc import Mapping

from graphcrime.compile.analysis import Stratum, analyse
from graphcrime.compile.checks import check_program
from graphcrime.errors import RuleError
from graphcrime.lang.ast import Program


def stratify(program: Program, params: Mapping[str, object] | None = None) -> tuple[Stratum, ...]:
    """Check ``program`` and return its strata in evaluation order.

    Raises the first RuleError (its message says how many more there are; ``errors`` on the
    exception holds all of them).
    """
    errors = check_program(program, params)
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
        err = RuleError(first.message + more, file=first.file, line=first.line, col=first.col,
                        hint=first.hint)
        err.errors = errors  # type: ignore[attr-defined]
        raise err
    return analyse(program).strata
