"""Open a job folder with what a picture or an explanation needs, saying where it came from.

A chain needs only the job folder (``results/chain-transactions.nt`` holds its transactions
and parties); the inputs recorded in ``inputs.json`` are loaded only when the folder lacks
them (a job folder written before that file existed). A party's neighbourhood wants every
transfer, so it loads the recorded inputs, and falls back to the folder's chain
transactions (with a note) once the inputs are gone.

>>> from graphcrime.results import DETAILS
>>> DETAILS
('originator', 'beneficiary', 'amount', 'date')
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphcrime.errors import DataError
from graphcrime.results import DETAILS, JobResults


def open_for_chain(job_dir: str | Path, chain: str) -> tuple[JobResults, list[str]]:
    """The job's results (plus its inputs only if needed) and notes on where details came from.

    Raises :class:`~graphcrime.errors.DataError` when the chain's transactions have no
    details in the folder and the inputs cannot supply them (naming both places).
    """
    res = JobResults(job_dir)
    txs = res.transactions(chain)
    if not any(any(t[k] is None for k in DETAILS) for t in txs):
        return res, []
    res.close()
    try:
        res = JobResults(job_dir, with_inputs=True)
    except DataError as e:
        with JobResults(job_dir) as folder_only:
            try:
                folder_only.transactions(chain, complete=True)
            except DataError as missing:
                raise DataError(f"{missing.message}; the inputs cannot help: {e.message}",
                                file=missing.file, hint=missing.hint) from None
        raise  # pragma: no cover - complete=True raised above
    res.transactions(chain, complete=True)
    return res, ["transaction details from the job's recorded inputs (the folder lacks "
                 "results/chain-transactions.nt)"]


def open_with_inputs(job_dir: str | Path) -> tuple[JobResults, list[str]]:
    """The job's results and recorded inputs; the folder alone (with a note) when they are gone."""
    try:
        return JobResults(job_dir, with_inputs=True), []
    except DataError as e:
        res = JobResults(job_dir)
        return res, [f"inputs not loaded ({e.message}); transfers from the job folder's "
                     "chain transactions only"]


def chain_transactions(job_dir: str | Path, chain: str) -> list[dict[str, Any]]:
    """A chain's transactions in date order as dicts (transaction, originator, beneficiary,
    amount, date), every detail present or a :class:`DataError` saying what is missing."""
    res, _ = open_for_chain(job_dir, chain)
    with res:
        return res.transactions(chain, complete=True)
