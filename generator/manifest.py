"""``manifest.json``: what a generated folder holds, enough to check and to reproduce it.

It carries no timestamps or worker counts, so the same options give the same manifest.

>>> m = Manifest(parameters={"seed": 1}, counts={"transactions": 5}, files=[])
>>> Manifest.from_json(m.to_json()).counts["transactions"]
5
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from graphcrime import __version__
from graphcrime.errors import DataError

MANIFEST = "manifest.json"
GROUND_TRUTH = "ground-truth.csv"


@dataclass(frozen=True)
class FileEntry:
    """One data file: name relative to the folder, ``parties`` or ``transactions``, rows."""

    path: str
    kind: str
    rows: int
    triples: int
    bytes: int
    sha256: str


@dataclass
class Manifest:
    """Parameters, counts (parties, suspicious parties, transactions, triples), files.

    ``counts`` keys: ``parties``, ``suspicious_parties`` (all), ``random_suspicious_parties``
    (floor(parties x fraction)), ``planted_suspicious_parties``, ``transactions``,
    ``planted_transactions``, ``triples``, ``instances`` (per typology).
    """

    parameters: dict
    counts: dict
    files: list[FileEntry]
    date_window: dict = field(default_factory=dict)
    ground_truth: str | None = None
    generator: str = f"graphcrime.generator {__version__}"
    out_dir: Path | None = field(default=None, compare=False)

    def paths(self, kind: str | None = None) -> list[Path]:
        """Absolute paths of the data files (of one kind), in order."""
        base = self.out_dir or Path(".")
        return [base / f.path for f in self.files if kind is None or f.kind == kind]

    def to_json(self) -> str:
        d = asdict(self)
        d.pop("out_dir")
        return json.dumps(d, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str, out_dir: Path | None = None) -> Manifest:
        d = json.loads(text)
        d["files"] = [FileEntry(**f) for f in d.get("files", [])]
        return cls(**d, out_dir=out_dir)

    @classmethod
    def load(cls, folder: str | Path) -> Manifest:
        """Read ``folder/manifest.json``."""
        path = Path(folder) / MANIFEST
        try:
            return cls.from_json(path.read_text(encoding="utf-8"), out_dir=Path(folder))
        except (OSError, ValueError, TypeError) as err:
            raise DataError(
                f"cannot read the manifest: {err}",
                file=str(path),
                hint="generate the folder with `graphcrime generate OUT_DIR`",
            ) from None


def planted_proportion(counts: dict) -> str:
    """The generated world's mix: planted vs background transactions and suspicious parties
    (chains start at suspicious parties, so their mix is the chains' mix).

    >>> planted_proportion({"transactions": 1000, "planted_transactions": 50,
    ...                     "random_suspicious_parties": 6, "planted_suspicious_parties": 2})
    'proportion: 50 planted of 1,000 transactions (5.00%); suspicious parties (where chains \
start) 6 background + 2 planted (25% planted)'
    """
    tx, planted = counts["transactions"], counts["planted_transactions"]
    rnd, marked = counts["random_suspicious_parties"], counts["planted_suspicious_parties"]
    share = 100 * marked / max(rnd + marked, 1)
    return (f"proportion: {planted:,} planted of {tx:,} transactions ({100 * planted / tx:.2f}%); "
            f"suspicious parties (where chains start) {rnd:,} background + {marked:,} planted "
            f"({share:.0f}% planted)")
