"""Import public AML datasets into the data model: IBM AMLworld and IBM AMLSim CSVs.

Accounts become ``type:Party`` nodes (``:party_<hex>``, hashed from the account key), rows
become ``type:Transaction`` nodes with originator, beneficiary, ``xsd:decimal`` amount and
``xsd:dateTime`` date. Rows are streamed; only parties and the laundering rows are kept in
memory. Laundering labels are written as ``ground-truth.csv`` in the generator's format,
so ``graphcrime evaluate`` scores a job over the import:

- AMLworld (Kaggle "IBM Transactions for Anti Money Laundering", ``HI-Small_Trans.csv``):
  ``Timestamp,From Bank,Account,To Bank,Account,Amount Received,Receiving Currency,
  Amount Paid,Payment Currency,Payment Format,Is Laundering``. The amount is *Amount Paid*
  (currencies are not converted); an account is keyed by (bank, account). One ground-truth
  instance per connected group of laundering transactions.
- AMLSim (``IBM/AMLSim`` output folder): ``transactions.csv`` (or ``tx_log.csv``) with
  ``tran_id, orig_acct, bene_acct, base_amt, tran_timestamp, is_sar|is_fraud, alert_id``
  (the upper-case Kaggle names ``TX_ID, SENDER_ACCOUNT_ID, ...`` are accepted too); optional
  ``accounts.csv`` (``acct_id, dsply_nm, prior_sar_count, is_sar``) and
  ``alert_transactions.csv`` (``alert_id, alert_type``). One instance per alert.

Self-transfers (originator = beneficiary, common in real data) are transactions like any
other: the rules decide whether they make a chain. ``skip_self_transfers`` drops them, and the
summary counts them and the laundering labels dropped with them. With
``suspicious="labels"`` every account in a laundering transaction (and, for AMLSim, every
account flagged SAR or with a prior SAR) is ``prop:isSuspicious true``: the labels then
seed the rules, so an evaluation measures chain reconstruction, not detection.

>>> parse_time("2022/09/01 00:20", "x", 2), parse_time("3", "x", 2)
('2022-09-01T00:20:00', '2017-01-04T00:00:00')
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path

from generator.ntformat import escape_literal
from graphcrime.errors import DataError, UsageError
from graphcrime.vocab import ENT, PROP, RDF_TYPE, RDFS, TYPE, XSD

MAX_CHAIN_LENGTH = 30
THRESHOLD = Decimal(100)
AMLWORLD_HEADER = ["timestamp", "from bank", "account", "to bank", "account", "amount received",
                   "receiving currency", "amount paid", "payment currency", "payment format",
                   "is laundering"]
AMLSIM_TX = {"id": ("tran_id", "tx_id"), "orig": ("orig_acct", "sender_account_id"),
             "bene": ("bene_acct", "receiver_account_id"), "amount": ("base_amt", "tx_amount"),
             "time": ("tran_timestamp", "timestamp"),
             "label": ("is_sar", "is_fraud"), "alert": ("alert_id",)}
AMLSIM_ACCT = {"id": ("acct_id", "account_id"), "name": ("dsply_nm",),
               "prior": ("prior_sar_count",), "label": ("is_sar", "is_fraud")}
TRUE = {"1", "true", "t", "yes", "y"}


@dataclass
class Tx:
    iri: str
    orig: str
    bene: str
    amount: Decimal
    date: str
    line: int
    group: str | None = None


@dataclass
class ImportReport:
    """What an import wrote; every laundering label read is either in ``laundering`` (and the
    ground truth) or counted in ``skipped_laundering``."""

    transactions: int = 0
    self_transfers: int = 0  # written (the default)
    self_laundering: int = 0  # ... of them labelled laundering
    skipped_self: int = 0  # dropped (skip_self_transfers)
    skipped_laundering: int = 0  # ... of them labelled laundering: not in the ground truth
    parties: int = 0
    suspicious: int = 0
    laundering: int = 0
    instances: int = 0
    files: list[str] = field(default_factory=list)

    def summary(self, out_dir: str | Path) -> str:
        """One line for the CLI.

        >>> ImportReport(9, 2, 1, laundering=4, instances=2).summary("out")[-76:]
        'ground-truth instances; 2 self-transfers kept as transactions (1 laundering)'
        """
        if self.skipped_self:
            selfs = (f"skipped {self.skipped_self:,} self-transfers ({self.skipped_laundering:,}"
                     f" labelled laundering: not in the ground truth)")
        else:
            selfs = (f"{self.self_transfers:,} self-transfers kept as transactions "
                     f"({self.self_laundering:,} laundering)")
        return (f"wrote {self.transactions:,} transactions, {self.parties:,} parties "
                f"({self.suspicious:,} suspicious) to {out_dir}; {self.laundering:,} laundering "
                f"transactions in {self.instances:,} ground-truth instances; {selfs}")


def party_iri(key: str) -> str:
    return f"{ENT}party_{hashlib.md5(key.encode()).hexdigest()[:16]}"


def tx_iri(key: str) -> str:
    return f"{ENT}transaction_{hashlib.md5(key.encode()).hexdigest()[:16]}"


def parse_time(text: str, file: str, line: int, base: date = date(2017, 1, 1)) -> str:
    """A timestamp as ``YYYY-MM-DDTHH:MM:SS``: ``2022/09/01 00:20``, ISO 8601 (UTC if zoned),
    ``YYYYMMDD`` or an AMLSim step number (days after ``base``)."""
    t = text.strip()
    try:
        if t.isdigit() and not (len(t) == 8 and t[:2] in ("19", "20")):
            d = datetime.combine(base, datetime.min.time()) + timedelta(days=int(t))
        elif t.isdigit():
            d = datetime.strptime(t, "%Y%m%d")
        elif "/" in t:
            d = datetime.strptime(t, "%Y/%m/%d %H:%M" if t.count(":") == 1 else
                                  "%Y/%m/%d %H:%M:%S")
        else:
            d = datetime.fromisoformat(t.replace("Z", "+00:00"))
            if d.tzinfo is not None:
                d = d.astimezone(timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise DataError(f"not a timestamp: {text[:40]!r}", file=file, line=line,
                        hint="expected e.g. 2022/09/01 00:20, 2017-01-01T00:00:00 or a "
                             "step number") from None
    return d.strftime("%Y-%m-%dT%H:%M:%S")


def parse_amount(text: str, file: str, line: int) -> Decimal:
    try:
        d = Decimal(text.strip())
    except InvalidOperation:
        d = Decimal("NaN")
    if not d.is_finite() or d < 0:
        raise DataError(f"not an amount: {text[:40]!r}", file=file, line=line,
                        hint="amounts are non-negative decimal numbers, e.g. 1234.50")
    return d


def _lit(value: str, dt: str) -> str:
    return f'"{value}"^^<{XSD}{dt}>'


class Converter:
    """Streams transactions to ``transactions.nt``; parties and ground truth at :meth:`close`."""

    def __init__(self, out_dir: str | Path, force: bool, skip_self: bool = False) -> None:
        self.out = Path(out_dir)
        self.skip_self = skip_self
        if self.out.exists() and any(self.out.iterdir()) and not force:
            raise UsageError(f"{self.out} is not empty", file=str(self.out),
                             hint="pass an empty or new folder, or --force")
        self.out.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.out / "transactions.nt", "w", encoding="utf-8")  # noqa: SIM115
        self.buf: list[str] = []
        self.parties: dict[str, str] = {}  # iri -> label, written to parties.nt
        self.labels: dict[str, str] = {}  # labels of accounts not (yet) used
        self.flagged: set[str] = set()
        self.laundering: list[Tx] = []
        self.report = ImportReport()

    def party(self, key: str, label: str, keep: bool = False) -> str:
        """The IRI of account ``key``; kept as a party once a transaction uses it (or ``keep``)."""
        iri = party_iri(key)
        if keep:
            self.parties.setdefault(iri, label)
        elif iri not in self.parties:
            self.labels.setdefault(iri, label)
        return iri

    def add(self, tx: Tx, laundering: bool) -> None:
        if tx.orig == tx.bene:
            if self.skip_self:
                self.report.skipped_self += 1
                self.report.skipped_laundering += laundering
                return
            self.report.self_transfers += 1
            self.report.self_laundering += laundering
        for p in (tx.orig, tx.bene):
            if p not in self.parties:
                self.parties[p] = self.labels.pop(p, p)
        s = f"<{tx.iri}>"
        self.buf.append(
            f"{s} <{RDF_TYPE}> <{TYPE}Transaction> .\n{s} <{PROP}hasOriginator> <{tx.orig}> .\n"
            f"{s} <{PROP}hasBeneficiary> <{tx.bene}> .\n"
            f"{s} <{PROP}hasAmount> {_lit(format(tx.amount, 'f'), 'decimal')} .\n"
            f"{s} <{PROP}hasDate> {_lit(tx.date, 'dateTime')} .\n")
        self.report.transactions += 1
        if laundering:
            self.laundering.append(tx)
        if len(self.buf) >= 20_000:
            self.fh.write("".join(self.buf))
            self.buf.clear()

    def close(self, suspicious: str, typologies: dict[str, str]) -> ImportReport:
        if not self.fh.closed:
            self.fh.write("".join(self.buf))
            self.fh.close()
        sus = set()
        if suspicious == "labels":
            sus = self.flagged | {p for t in self.laundering for p in (t.orig, t.bene)}
        with open(self.out / "parties.nt", "w", encoding="utf-8") as fh:
            for iri, label in self.parties.items():
                lab = f'"{escape_literal(label)}"'
                flag = _lit("true" if iri in sus else "false", "boolean")
                fh.write(f"<{iri}> <{RDF_TYPE}> <{TYPE}Party> .\n<{iri}> <{PROP}isSuspicious> "
                         f"{flag} .\n<{iri}> <{RDFS}label> {lab} .\n<{iri}> "
                         f"<{PROP}hasFullName> {lab} .\n")
        r = self.report
        r.parties, r.suspicious, r.laundering = len(self.parties), len(sus), len(self.laundering)
        r.instances = write_ground_truth(self.out / "ground-truth.csv", self.laundering, sus,
                                         typologies)
        r.files = ["parties.nt", "transactions.nt", "ground-truth.csv"]
        return r


def groups(txs: list[Tx]) -> list[list[Tx]]:
    """Transactions grouped by ``group`` where set, else by connected parties (union-find)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for t in txs:
        if t.group is None:
            parent[find(t.orig)] = find(t.bene)
    out: dict[str, list[Tx]] = {}
    for t in txs:
        out.setdefault(f"g:{t.group}" if t.group is not None else f"p:{find(t.orig)}",
                       []).append(t)
    return [sorted(g, key=lambda t: (t.date, t.line)) for g in out.values()]


def is_chain(txs: list[Tx], sus: set[str]) -> bool:
    """Would SPEC.md's rules derive a SuspiciousChain of exactly these transactions?"""
    linked = all(a.bene == b.orig and a.date < b.date for a, b in zip(txs, txs[1:], strict=False))
    return (linked and len(txs) <= MAX_CHAIN_LENGTH and txs[0].orig in sus
            and txs[-1].bene in sus)


def write_ground_truth(path: Path, laundering: list[Tx], sus: set[str],
                       typologies: dict[str, str]) -> int:
    """``ground-truth.csv`` (the generator's columns) from the laundering transactions."""
    from generator.typologies import COLUMNS

    insts = sorted(groups(laundering), key=lambda g: (g[0].date, g[0].line))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(COLUMNS)
        for i, g in enumerate(insts, 1):
            typ = typologies.get(g[0].group or "", "laundering")
            parties = list(dict.fromkeys(p for t in g for p in (t.orig, t.bene)))
            chain = is_chain(g, sus)
            low = min(t.amount for t in g)
            w.writerow([f"{typ}-{g[0].group}" if g[0].group else f"{typ}-{i:05d}", typ,
                        " ".join(parties), " ".join(t.iri for t in g), str(chain).lower(),
                        str(chain and low > THRESHOLD).lower(), format(low, "f"), g[0].date,
                        g[-1].date])
    return len(insts)


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line, fields) of a CSV file after its header, which is yielded first as line 1."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        for row in reader:
            if row:
                yield reader.line_num, row


def _columns(header: list[str], wanted: dict[str, tuple[str, ...]], path: Path,
             required: tuple[str, ...]) -> dict[str, int]:
    names = [h.strip().lower() for h in header]
    cols = {k: next((names.index(a) for a in aliases if a in names), -1)
            for k, aliases in wanted.items()}
    missing = [wanted[k][0] for k in required if cols[k] < 0]
    if missing:
        like = ", ".join(a[0] for a in wanted.values())
        raise DataError(f"no column {', '.join(missing)} in the header", file=str(path), line=1,
                        hint=f"expected AMLSim columns like {like}")
    return cols


def _check_suspicious(value: str) -> None:
    if value not in ("labels", "none"):
        raise UsageError(f"--suspicious must be labels or none, not {value!r}",
                         hint="labels marks the accounts of laundering transactions")


def _check_width(row: list[str], n: int, path: Path, line: int) -> None:
    if len(row) != n:
        raise DataError(f"expected {n} fields, found {len(row)}", file=str(path), line=line,
                        hint="every row needs as many comma-separated fields as the header")


def import_amlworld(file: str | Path, out_dir: str | Path, *, suspicious: str = "labels",
                    force: bool = False, fast: bool = True,
                    skip_self_transfers: bool = False) -> ImportReport:
    """Convert an AMLworld transactions CSV (e.g. ``HI-Small_Trans.csv``); ``fast`` tries the
    vectorised reader first (:mod:`graphcrime.investigate.amlworld_fast`)."""
    path = Path(file)
    if not path.is_file():
        raise DataError(f"no such file: {path}", file=str(path), hint="pass the *_Trans.csv file")
    rows = _rows(path)
    header = next(rows, (1, []))[1]
    if [h.strip().lower() for h in header] != AMLWORLD_HEADER:
        raise DataError(f"not an AMLworld header: {','.join(header)[:120]!r}", file=str(path),
                        line=1, hint="expected " + ",".join(AMLWORLD_HEADER))
    _check_suspicious(suspicious)
    conv = Converter(out_dir, force, skip_self_transfers)
    if fast:
        from graphcrime.investigate.amlworld_fast import fast_amlworld

        if fast_amlworld(path, conv):
            return conv.close(suspicious, {})
        conv.fh.close()
        conv = Converter(out_dir, True, skip_self_transfers)  # start again, row by row
    name = path.name
    try:
        for rec, (line, r) in enumerate(rows, 1):
            _check_width(r, 11, path, line)
            o = conv.party(f"{r[1]}/{r[2]}", f"{r[1]}/{r[2]}")
            b = conv.party(f"{r[3]}/{r[4]}", f"{r[3]}/{r[4]}")
            if r[10].strip() not in ("0", "1"):
                raise DataError(f"Is Laundering must be 0 or 1, not {r[10][:20]!r}",
                                file=str(path), line=line, hint="the last column is the label")
            tx = Tx(tx_iri(f"{name}:{rec}"), o, b, parse_amount(r[7], str(path), line),
                    parse_time(r[0], str(path), line), rec)
            conv.add(tx, r[10].strip() == "1")
    except BaseException:
        conv.fh.close()
        raise
    return conv.close(suspicious, {})


def import_amlsim(folder: str | Path, out_dir: str | Path, *, suspicious: str = "labels",
                  base_date: str = "2017-01-01", force: bool = False,
                  skip_self_transfers: bool = False) -> ImportReport:
    """Convert an AMLSim output folder (transactions.csv or tx_log.csv, accounts.csv, ...)."""
    d = Path(folder)
    tx_file = next((d / n for n in ("transactions.csv", "tx_log.csv") if (d / n).is_file()), None)
    if tx_file is None:
        raise DataError(f"no transactions.csv or tx_log.csv in {d}", file=str(d),
                        hint="pass AMLSim's output folder (outputs/<simulation>/)")
    _check_suspicious(suspicious)
    try:
        base = date.fromisoformat(base_date)
    except ValueError:
        raise UsageError(f"bad --base-date {base_date!r}", hint="e.g. 2017-01-01") from None
    conv = Converter(out_dir, force, skip_self_transfers)
    names: dict[str, str] = {}
    acct = d / "accounts.csv"
    if acct.is_file():
        rows = _rows(acct)
        header = next(rows, (1, []))[1]
        c = _columns(header, AMLSIM_ACCT, acct, ("id",))
        for line, r in rows:
            _check_width(r, len(header), acct, line)
            key = r[c["id"]].strip()
            names[key] = r[c["name"]] if c["name"] >= 0 and r[c["name"]] else f"account {key}"
            prior = r[c["prior"]].strip().lower() if c["prior"] >= 0 else ""
            label = r[c["label"]].strip().lower() if c["label"] >= 0 else ""
            iri = conv.party(key, names[key], keep=True)
            if label in TRUE or prior in TRUE or (prior.isdigit() and int(prior) > 0):
                conv.flagged.add(iri)
    types: dict[str, str] = {}
    alerts = d / "alert_transactions.csv"
    if alerts.is_file():
        rows = _rows(alerts)
        header = next(rows, (1, []))[1]
        c = _columns(header, {"alert": ("alert_id",), "type": ("alert_type",)}, alerts,
                     ("alert", "type"))
        types = {}
        for line, r in rows:  # a short row would lose an alert's typology: refuse it
            _check_width(r, len(header), alerts, line)
            types[r[c["alert"]].strip()] = r[c["type"]].strip().replace("_", "-").lower()
    rows = _rows(tx_file)
    header = next(rows, (1, []))[1]
    c = _columns(header, AMLSIM_TX, tx_file, ("orig", "bene", "amount", "time"))
    try:
        for line, r in rows:
            _check_width(r, len(header), tx_file, line)
            o, b = r[c["orig"]].strip(), r[c["bene"]].strip()
            if not o or not b:
                raise DataError("empty account id", file=str(tx_file), line=line,
                                hint="orig_acct and bene_acct must be set")
            text = r[c["alert"]].strip() if c["alert"] >= 0 else ""
            alert = None if text in ("", "-1") else text
            sar = (r[c["label"]].strip().lower() in TRUE) if c["label"] >= 0 else alert is not None
            key = r[c["id"]].strip() if c["id"] >= 0 else f"line{line}"
            tx = Tx(tx_iri(f"amlsim:{key}"), conv.party(o, names.get(o, f"account {o}")),
                    conv.party(b, names.get(b, f"account {b}")),
                    parse_amount(r[c["amount"]], str(tx_file), line),
                    parse_time(r[c["time"]], str(tx_file), line, base), line,
                    alert if sar else None)
            conv.add(tx, sar)
    except BaseException:
        conv.fh.close()
        raise
    return conv.close(suspicious, types)
