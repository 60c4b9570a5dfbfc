"""The generated data match the arguments: counts, suspicious share, date window, model, names."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from decimal import Decimal

from gen_helpers import PLANTED, read_graph

from generator import Manifest, generate, read_ground_truth
from graphcrime.vocab import ENT, TYPE

DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")


def test_counts_and_suspicious_share(planted):
    manifest, g = planted
    n, m = PLANTED["transactions"], PLANTED["parties"]
    assert len(g.txs) == n and len(g.parties) == m
    assert sum(t == TYPE + "Party" for t in g.types.values()) == m
    assert g.triples == 5 * n + 6 * m == manifest.counts["triples"]
    assert all(len(p) == 5 for p in g.parties.values())  # 5 properties besides the type
    assert all(len(t) == 4 for t in g.txs.values())
    suspicious = {p for p, r in g.parties.items() if r["isSuspicious"]}
    # planted parties marked suspicious, known from the ground truth alone
    gt = read_ground_truth(manifest.out_dir / "ground-truth.csv")
    marked = {r.parties[0] for r in gt if r.typology == "layering"}
    marked |= {r.parties[-1] for r in gt if r.typology == "layering"}
    marked |= {r.parties[0] for r in gt if r.typology == "cycle" and r.expect_suspicious_chain}
    assert marked <= suspicious
    assert len(suspicious) == math.floor(m * PLANTED["suspicious_fraction"]) + len(marked)
    assert manifest.counts["suspicious_parties"] == len(suspicious)


def test_exact_suspicious_count_without_typologies(tmp_path):
    for m, f in ((1000, 0.001), (997, 0.29), (20_000, 0.0333), (40, 1.0), (40, 0.0)):
        out = tmp_path / f"d{m}-{f}"
        manifest = generate(out, transactions=200, parties=m, suspicious_fraction=f, seed=1)
        g = read_graph(manifest.paths("parties"))
        assert sum(bool(r["isSuspicious"]) for r in g.parties.values()) == math.floor(m * f)


def test_transactions_follow_the_model(planted):
    _, g = planted
    end = dt.datetime(2021, 7, 30)
    start = end - dt.timedelta(days=3)
    amounts = []
    for t in g.txs.values():
        assert t["hasOriginator"] != t["hasBeneficiary"]
        assert t["hasOriginator"] in g.parties and t["hasBeneficiary"] in g.parties
        assert DATE.match(t["hasDate"])
        assert start <= dt.datetime.fromisoformat(t["hasDate"]) < end
        amounts.append(t["hasAmount"])
    assert all(a > 0 and a == a.quantize(Decimal("0.01")) for a in amounts)
    assert sum(a < 100 for a in amounts) > 0.1 * len(amounts)  # small amounts exist
    assert sum(a >= 100_000 for a in amounts) > 0.05 * len(amounts)
    assert sum(a != a.to_integral_value() for a in amounts) > 0.9 * len(amounts)  # cents


def test_published_amount_model_and_custom_window(tmp_path):
    out = tmp_path / "pub"
    manifest = generate(
        out, transactions=3000, amounts="published", days=1, end="2020-02-29T12:00:00"
    )
    g = read_graph(manifest.paths())
    allowed_factor = {1000 * f for f in (1, 10, 100)}
    for t in g.txs.values():
        a = t["hasAmount"]
        assert a == a.to_integral_value() and any(a % f == 0 for f in allowed_factor)
        assert 1000 <= a <= 1000 * 10000 * 100
        assert "2020-02-28T12:00:00" <= t["hasDate"] < "2020-02-29T12:00:00"  # lexical order
    assert len({t["hasAmount"] for t in g.txs.values()}) > 1000


def test_names_cover_scripts_quotes_and_escaping(planted):
    _, g = planted
    names = [p["hasFullName"] for p in g.parties.values()]
    assert all(p["hasFullName"] == p["label"] and p["label"] for p in g.parties.values())
    assert any('"' in n for n in names), "quoted nicknames are escaped and read back"
    assert any("'" in n for n in names)
    assert any(re.search("[À-ɏ]", n) for n in names), "Latin accents"
    assert any(re.search("[Ѐ-ӿ]", n) for n in names), "Cyrillic"
    assert any(re.search("[一-鿿]", n) for n in names), "CJK"
    assert any(re.search("[؀-ۿ]", n) for n in names), "Arabic"
    assert len(set(names)) > 0.8 * len(names)


def test_ids_and_files(planted):
    manifest, g = planted
    assert all(re.fullmatch(ENT + "party_[0-9a-f]{16}", p) for p in g.parties)
    assert all(re.fullmatch(ENT + "transaction_[0-9a-f]{16}", t) for t in g.txs)
    folder = manifest.out_dir
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f.path for f in manifest.files] + ["manifest.json", "ground-truth.csv"]
    )
    on_disk = json.loads((folder / "manifest.json").read_text())
    assert Manifest.load(folder) == manifest
    assert on_disk["parameters"]["seed"] == PLANTED["seed"]
    for f in manifest.files:
        data = (folder / f.path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f.sha256 and len(data) == f.bytes
        assert data.count(b"\n") == f.triples
    assert [f.rows for f in manifest.files] == [1000, 1000, 10_000, 10_000]
