"""graphcrime import amlworld / amlsim: small CSVs written here in those schemas; the output
triples read back with rdflib, ground truth checked against hand-worked instances, and
`graphcrime run` + `evaluate` over the import end to end."""

from __future__ import annotations

import csv
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import RDF, RDFS, XSD
from typer.testing import CliRunner

from graphcrime.cli import app
from graphcrime.errors import DataError, UsageError
from graphcrime.investigate.importers import import_amlsim, import_amlworld

REPO = Path(__file__).resolve().parents[2]
PROP = rdflib.Namespace("http://oxfordsemantic.tech/transactions/properties#")
TYPE = rdflib.Namespace("http://oxfordsemantic.tech/transactions/classes#")
HEADER = ("Timestamp,From Bank,Account,To Bank,Account,Amount Received,Receiving Currency,"
          "Amount Paid,Payment Currency,Payment Format,Is Laundering")
# (time, from bank, from account, to bank, to account, amount paid, laundering)
AMLWORLD = [
    ("2022/09/01 00:20", "010", "8000EBD30", "010", "8000EBD30", "3697.34", 0),  # self-transfer
    ("2022/09/01 00:05", "001", "A1", "002", "B2", "5000.00", 1),   # chain A1 -> B2 -> C3 -> D4
    ("2022/09/01 03:10", "002", "B2", "003", "C3", "4900.50", 1),
    ("2022/09/02 11:00", "003", "C3", "004", "D4", "4800", 1),
    ("2022/09/01 08:00", "005", "E5", "006", "F6", "250.00", 1),    # fan-out E5 -> F6, G7
    ("2022/09/01 08:30", "005", "E5", "007", "G7", "260.00", 1),
    ("2022/09/03 09:00", "008", "H8", "009", "I9", "60.00", 1),     # small chain H8 -> I9 -> J10
    ("2022/09/03 10:00", "009", "I9", "010", "J10", "55.00", 1),
    ("2022/09/01 12:00", "002", "B2", "005", "E5", "75.25", 0),     # background
    ("2022/09/02 12:00", "011", "K11", "001", "A1", "1200.00", 0),
    ("2022/09/04 12:00", "004", "D4", "011", "K11", "10.00", 0),
]


def write_amlworld(path: Path, rows: list[tuple] = AMLWORLD) -> Path:
    lines = [HEADER] + [f"{t},{fb},{fa},{tb},{ta},{amt},US Dollar,{amt},US Dollar,ACH,{lab}"
                        for t, fb, fa, tb, ta, amt, lab in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def graph(folder: Path) -> rdflib.Graph:
    g = rdflib.Graph()
    for f in ("parties.nt", "transactions.nt"):
        g.parse(folder / f, format="nt")
    return g


def tx_table(g: rdflib.Graph) -> dict[str, tuple[str, str, Decimal, str]]:
    """transaction IRI -> (originator label, beneficiary label, amount, date)."""
    out = {}
    for t in g.subjects(RDF.type, TYPE.Transaction):
        o, b = g.value(t, PROP.hasOriginator), g.value(t, PROP.hasBeneficiary)
        amount, date = g.value(t, PROP.hasAmount), g.value(t, PROP.hasDate)
        assert amount.datatype == XSD.decimal and date.datatype == XSD.dateTime
        out[str(t)] = (str(g.value(o, RDFS.label)), str(g.value(b, RDFS.label)),
                       Decimal(str(amount)), str(date))
    return out


def gt(folder: Path) -> list[dict[str, str]]:
    with open(folder / "ground-truth.csv", newline="") as fh:
        return list(csv.DictReader(fh))



def reference_job(tmp_path: Path) -> Path:
    """Run the reference rules and queries over ``tmp_path/data`` (imported); its job folder."""
    for sub in ("rules", "queries"):
        shutil.copytree(REPO / sub, tmp_path / sub)
    (tmp_path / "job.json").write_text(json.dumps({
        "name": "aml", "data": ["data/*.nt"],
        "rules": ["rules/suspicious-chains.dlog", "rules/high-value-chains.dlog"],
        "queries": ["queries/suspicious-chains.rq", "queries/high-value-chains.rq"]}))
    r = CliRunner().invoke(app, ["run", str(tmp_path / "job.json"), "--output-root",
                            str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    return next((tmp_path / "out").iterdir())

def test_amlworld_triples_and_ground_truth(tmp_path: Path) -> None:
    rep = import_amlworld(write_amlworld(tmp_path / "HI-Small_Trans.csv"), tmp_path / "out")
    g = graph(tmp_path / "out")
    txs = tx_table(g)
    kept = AMLWORLD  # self-transfers too
    assert rep.transactions == len(txs) == len(kept)
    assert (rep.self_transfers, rep.self_laundering, rep.skipped_self) == (1, 0, 0)
    want = {(f"{fb}/{fa}", f"{tb}/{ta}", Decimal(amt),
             t.replace("/", "-").replace(" ", "T") + ":00") for t, fb, fa, tb, ta, amt, _ in kept}
    assert set(txs.values()) == want
    parties = set(g.subjects(RDF.type, TYPE.Party))
    assert len(parties) == len({(r[1], r[2]) for r in kept} | {(r[3], r[4]) for r in kept})
    sus = {str(g.value(p, RDFS.label)) for p in parties
           if g.value(p, PROP.isSuspicious).toPython() is True}
    assert sus == {f"{r[1]}/{r[2]}" for r in kept if r[6]} | {f"{r[3]}/{r[4]}" for r in kept
                                                               if r[6]}
    # hand-worked instances: the 3-hop chain (high value), the fan-out, the small chain
    rows = gt(tmp_path / "out")
    by_parties = {tuple(txs[t][:2] for t in r["transactions"].split()): r for r in rows}
    chain = by_parties[(("001/A1", "002/B2"), ("002/B2", "003/C3"), ("003/C3", "004/D4"))]
    assert (chain["expect_suspicious_chain"], chain["expect_high_value_chain"]) == ("true", "true")
    assert chain["min_amount"] == "4800" and chain["first_date"] == "2022-09-01T00:05:00"
    fan = by_parties[(("005/E5", "006/F6"), ("005/E5", "007/G7"))]
    assert fan["expect_suspicious_chain"] == "false"
    small = by_parties[(("008/H8", "009/I9"), ("009/I9", "010/J10"))]
    assert (small["expect_suspicious_chain"], small["expect_high_value_chain"]) == ("true",
                                                                                  "false")
    assert len(rows) == rep.instances == 3


def test_amlworld_bad_rows(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    for i, (row, msg) in enumerate([
        ("2022/09/01 00:05,001,A1,002,B2,5,US Dollar,5,US Dollar,ACH", "expected 11 fields"),
        ("2022/09/01 00:05,001,A1,002,B2,5,US Dollar,five,US Dollar,ACH,0", "not an amount"),
        ("yesterday,001,A1,002,B2,5,US Dollar,5,US Dollar,ACH,0", "not a timestamp"),
        ("2022/09/01 00:05,001,A1,002,B2,5,US Dollar,5,US Dollar,ACH,maybe", "Is Laundering"),
    ]):
        bad.write_text(f"{HEADER}\n2022/09/01 00:01,001,A1,002,B2,5,US Dollar,5,US Dollar,ACH,0"
                       f"\n{row}\n")
        with pytest.raises(DataError, match=msg) as e:
            import_amlworld(bad, tmp_path / f"o{i}")
        assert e.value.line == 3 and e.value.file == str(bad) and e.value.hint
    bad.write_text("Timestamp,From,To\n")
    with pytest.raises(DataError, match="not an AMLworld header") as e:
        import_amlworld(bad, tmp_path / "o9")
    assert e.value.line == 1
    with pytest.raises(UsageError, match="not empty"):
        import_amlworld(write_amlworld(tmp_path / "ok.csv"), tmp_path)


def write_amlsim(folder: Path) -> Path:
    folder.mkdir()
    (folder / "accounts.csv").write_text(
        "acct_id,dsply_nm,type,acct_stat,acct_rptng_crncy,branch_id,open_dt,close_dt,"
        "prior_sar_count,initial_deposit\n"
        + "".join(f"{i},C_{i},SAV,A,USD,1,0,1000000,{'true' if i == 9 else 'false'},50000\n"
                  for i in range(1, 10)))
    tx = [  # tran_id, orig, bene, amount, timestamp, is_sar, alert_id
        (1, 1, 2, "500.00", "2017-01-02T00:00:00Z", "true", 7),   # cycle 1 -> 2 -> 3 -> 1
        (2, 2, 3, "480.00", "2017-01-03T00:00:00Z", "true", 7),
        (3, 3, 1, "450.00", "2017-01-04T00:00:00Z", "true", 7),
        (4, 4, 6, "90.00", "2017-01-02T00:00:00Z", "true", 8),    # fan-in 4, 5 -> 6
        (5, 5, 6, "95.00", "2017-01-02T06:00:00Z", "true", 8),
        (6, 6, 7, "1000.00", "2017-01-05T00:00:00Z", "false", -1),
        (7, 7, 8, "20.00", "2017-01-06T00:00:00Z", "false", -1),
        (8, 9, 8, "30.00", "2017-01-06T00:00:00Z", "false", -1),
    ]
    (folder / "transactions.csv").write_text(
        "tran_id,orig_acct,bene_acct,tx_type,base_amt,tran_timestamp,is_sar,alert_id\n"
        + "".join(f"{t},{o},{b},TRANSFER,{a},{ts},{s},{al}\n" for t, o, b, a, ts, s, al in tx))
    (folder / "alert_transactions.csv").write_text(
        "alert_id,alert_type,is_sar,tran_id,orig_acct,bene_acct,tx_type,base_amt,"
        "tran_timestamp\n7,cycle,true,1,1,2,TRANSFER,500.00,2017-01-02T00:00:00Z\n"
        "8,fan_in,true,4,4,6,TRANSFER,90.00,2017-01-02T00:00:00Z\n")
    return folder


def test_amlsim(tmp_path: Path) -> None:
    rep = import_amlsim(write_amlsim(tmp_path / "sim"), tmp_path / "out")
    g = graph(tmp_path / "out")
    txs = tx_table(g)
    assert rep.transactions == len(txs) == 8
    assert ("C_1", "C_2", Decimal("500.00"), "2017-01-02T00:00:00") in txs.values()
    sus = {str(g.value(p, RDFS.label)) for p in g.subjects(RDF.type, TYPE.Party)
           if g.value(p, PROP.isSuspicious).toPython() is True}
    assert sus == {"C_1", "C_2", "C_3", "C_4", "C_5", "C_6", "C_9"}  # SAR members + prior SAR
    rows = {r["typology"]: r for r in gt(tmp_path / "out")}
    assert set(rows) == {"cycle", "fan-in"} and rows["cycle"]["instance_id"] == "cycle-7"
    assert [txs[t][:2] for t in rows["cycle"]["transactions"].split()] == [
        ("C_1", "C_2"), ("C_2", "C_3"), ("C_3", "C_1")]
    assert rows["cycle"]["expect_high_value_chain"] == "true"
    assert rows["fan-in"]["expect_suspicious_chain"] == "false"


def test_amlsim_kaggle_names_and_steps(tmp_path: Path) -> None:
    d = tmp_path / "k"
    d.mkdir()
    (d / "transactions.csv").write_text(
        "TX_ID,SENDER_ACCOUNT_ID,RECEIVER_ACCOUNT_ID,TX_TYPE,TX_AMOUNT,TIMESTAMP,IS_FRAUD,"
        "ALERT_ID\n1,10,11,TRANSFER,120.5,0,True,3\n2,11,12,TRANSFER,110,2,True,3\n"
        "3,12,13,TRANSFER,7,2,False,-1\n4,13,14,TRANSFER,x,2,False,-1\n")
    with pytest.raises(DataError, match="not an amount") as e:
        import_amlsim(d, tmp_path / "o1", base_date="2020-01-01")
    assert e.value.line == 5
    (d / "transactions.csv").write_text(
        (d / "transactions.csv").read_text().replace(",x,", ",8,"))
    rep = import_amlsim(d, tmp_path / "o2", base_date="2020-01-01")
    dates = sorted(v[3] for v in tx_table(graph(tmp_path / "o2")).values())
    assert dates[0] == "2020-01-01T00:00:00" and dates[-1] == "2020-01-03T00:00:00"
    assert rep.instances == 1 and gt(tmp_path / "o2")[0]["expect_suspicious_chain"] == "true"


def test_run_and_evaluate_over_import(tmp_path: Path) -> None:
    """graphcrime import, run, evaluate end to end: the planted chains are found."""
    runner = CliRunner()
    write_amlworld(tmp_path / "trans.csv")
    r = runner.invoke(app, ["import", "amlworld", str(tmp_path / "trans.csv"),
                            str(tmp_path / "data")])
    assert r.exit_code == 0 and "11 transactions" in r.output, r.output
    assert "1 self-transfers kept as transactions (0 laundering)" in r.output
    job = reference_job(tmp_path)
    r = runner.invoke(app, ["evaluate", str(job), "--ground-truth",
                            str(tmp_path / "data" / "ground-truth.csv"), "--json"])
    assert r.exit_code == 0, r.output
    o = json.loads(r.output)["overall"]
    # two chain instances expected suspicious (both found), one of them high-value
    assert (o["suspicious"]["tp"], o["suspicious"]["fp"], o["suspicious"]["fn"]) == (2, 0, 0)
    assert (o["high_value"]["tp"], o["high_value"]["fp"], o["high_value"]["fn"]) == (1, 0, 0)


@pytest.mark.parametrize("extra", [[], [("2022/09/05 01:02:03", "001", "A1", "003", "C3",
                                         "1E+3", 0)]])
def test_amlworld_fast_and_strict_paths_agree(tmp_path: Path, extra: list[tuple],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The vectorised reader (here in chunks of 3 rows) and the row-by-row one write the same
    bytes; a row the fast path does not take (an exponent amount) sends the whole file down
    the strict path."""
    from graphcrime.investigate import amlworld_fast

    monkeypatch.setattr(amlworld_fast, "CHUNK", 3)
    monkeypatch.setattr(amlworld_fast, "BLOCK", 200)
    src = write_amlworld(tmp_path / "t.csv", AMLWORLD + extra)
    fast = import_amlworld(src, tmp_path / "fast")
    strict = import_amlworld(src, tmp_path / "strict", fast=False)
    assert fast == strict
    for name in ("parties.nt", "transactions.nt", "ground-truth.csv"):
        assert (tmp_path / "fast" / name).read_bytes() == (tmp_path / "strict" / name).read_bytes()
    if extra:
        assert ("001/A1", "003/C3", Decimal(1000), "2022-09-05T01:02:03") in tx_table(
            graph(tmp_path / "fast")).values()
    from graphcrime.investigate.amlworld_fast import fast_amlworld
    from graphcrime.investigate.importers import Converter

    assert fast_amlworld(src, Converter(tmp_path / "probe", force=False)) == (not extra)


# laundering self-transfers: one alone (P12 -> P12), one inside a chain M13 -> N14 -> N14 -> O15
SELF = [
    ("2022/09/05 09:00", "012", "P12", "012", "P12", "700.00", 1),
    ("2022/09/06 09:00", "013", "M13", "014", "N14", "900.00", 1),
    ("2022/09/06 10:00", "014", "N14", "014", "N14", "880.00", 1),
    ("2022/09/06 11:00", "014", "N14", "015", "O15", "860.00", 1),
]


def _instances(folder: Path) -> dict[tuple, dict[str, str]]:
    txs = tx_table(graph(folder))
    return {tuple(txs[t][:2] for t in r["transactions"].split()): r for r in gt(folder)}


@pytest.mark.parametrize("fast", [True, False])
def test_laundering_self_transfers_are_kept_in_data_and_ground_truth(tmp_path: Path,
                                                                     fast: bool) -> None:
    rep = import_amlworld(write_amlworld(tmp_path / "t.csv", AMLWORLD + SELF), tmp_path / "o",
                          fast=fast)
    assert rep.transactions == len(AMLWORLD + SELF) == len(tx_table(graph(tmp_path / "o")))
    assert (rep.self_transfers, rep.self_laundering, rep.skipped_self) == (3, 2, 0)
    assert rep.laundering == sum(r[6] for r in AMLWORLD + SELF)  # every label is in
    inst = _instances(tmp_path / "o")
    alone = inst[(("012/P12", "012/P12"),)]
    assert (alone["expect_suspicious_chain"], alone["expect_high_value_chain"]) == ("true", "true")
    chain = inst[(("013/M13", "014/N14"), ("014/N14", "014/N14"), ("014/N14", "015/O15"))]
    assert chain["expect_suspicious_chain"] == "true" and chain["min_amount"] == "860.00"
    assert len(inst) == rep.instances == 5


@pytest.mark.parametrize("fast", [True, False])
def test_skip_self_transfers_counts_the_labels_it_drops(tmp_path: Path, fast: bool) -> None:
    rep = import_amlworld(write_amlworld(tmp_path / "t.csv", AMLWORLD + SELF), tmp_path / "o",
                          fast=fast, skip_self_transfers=True)
    assert (rep.skipped_self, rep.skipped_laundering, rep.self_transfers) == (3, 2, 0)
    assert rep.transactions == len(AMLWORLD + SELF) - 3
    assert rep.laundering + rep.skipped_laundering == sum(r[6] for r in AMLWORLD + SELF)
    assert "skipped 3 self-transfers (2 labelled laundering: not in the ground truth)" in \
        rep.summary("o")
    inst = _instances(tmp_path / "o")
    assert (("012/P12", "012/P12"),) not in inst
    assert (("013/M13", "014/N14"), ("014/N14", "015/O15")) in inst


def test_amlsim_self_transfer_kept_or_skipped(tmp_path: Path) -> None:
    sim = write_amlsim(tmp_path / "sim")
    with open(sim / "transactions.csv", "a") as fh:  # account 9 pays itself, in an alert
        fh.write("9,9,9,TRANSFER,300.00,2017-01-07T00:00:00Z,true,9\n")
    with open(sim / "alert_transactions.csv", "a") as fh:
        fh.write("9,self_transfer,true,9,9,9,TRANSFER,300.00,2017-01-07T00:00:00Z\n")
    rep = import_amlsim(sim, tmp_path / "keep")
    assert (rep.transactions, rep.self_transfers, rep.self_laundering) == (9, 1, 1)
    rows = {r["typology"]: r for r in gt(tmp_path / "keep")}
    assert rows["self-transfer"]["expect_suspicious_chain"] == "true"
    rep = import_amlsim(sim, tmp_path / "skip", skip_self_transfers=True)
    assert (rep.transactions, rep.skipped_self, rep.skipped_laundering) == (8, 1, 1)
    assert "self-transfer" not in {r["typology"] for r in gt(tmp_path / "skip")}


def test_rules_find_chains_through_self_transfers(tmp_path: Path) -> None:
    """Imported with its self-transfers, a job finds the lone one and the chain through one
    (both expected by the ground truth), and evaluate counts them found."""
    runner = CliRunner()
    write_amlworld(tmp_path / "trans.csv", AMLWORLD + SELF)
    r = runner.invoke(app, ["import", "amlworld", str(tmp_path / "trans.csv"),
                            str(tmp_path / "data")])
    assert r.exit_code == 0 and "3 self-transfers kept as transactions (2 laundering)" in \
        r.output, r.output
    job = reference_job(tmp_path)
    chains = rdflib.Graph().parse(job / "results" / "suspicious-chains.nt", format="nt")
    data = graph(tmp_path / "data")
    label = {str(p): str(data.value(p, RDFS.label)) for p in data.subjects(RDF.type, TYPE.Party)}
    ends = {(label[str(chains.value(c, PROP.hasOriginator))],
             label[str(chains.value(c, PROP.hasBeneficiary))], int(chains.value(c, PROP.hasLength)))
            for c in chains.subjects(RDF.type, TYPE.SuspiciousChain)}
    assert ("012/P12", "012/P12", 1) in ends  # the lone self-transfer
    assert ("013/M13", "015/O15", 3) in ends  # through N14 -> N14
    r = runner.invoke(app, ["evaluate", str(job), "--ground-truth",
                            str(tmp_path / "data" / "ground-truth.csv"), "--json"])
    assert r.exit_code == 0, r.output
    o = json.loads(r.output)["overall"]
    assert (o["suspicious"]["tp"], o["suspicious"]["fn"]) == (4, 0)
