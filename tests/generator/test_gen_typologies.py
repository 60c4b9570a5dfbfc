"""Planted instances are in the data exactly as ground-truth.csv says, checked from the triples.

The chain check is SPEC.md's definition applied to the parsed data with plain Python: a chain
starts at a transaction whose originator is suspicious, each next transaction is sent by the
current beneficiary strictly later, at most 30 transactions; a SuspiciousChain ends at a
suspicious beneficiary; a HighValueChain's smallest amount is above $100.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import networkx as nx
import numpy as np
import pytest
from gen_helpers import read_graph

from generator import TYPOLOGIES, Options, generate, read_ground_truth
from generator.plan import Plan
from graphcrime.errors import UsageError

MAX_LENGTH, THRESHOLD = 30, Decimal(100)


def chain_flags(g, txs: tuple[str, ...]) -> tuple[bool, bool]:
    """(is a SuspiciousChain, is a HighValueChain) for transactions taken in this order."""
    rows = [g.txs[t] for t in txs]
    ok = 1 <= len(rows) <= MAX_LENGTH and g.parties[rows[0]["hasOriginator"]]["isSuspicious"]
    for prev, nxt in zip(rows, rows[1:], strict=False):
        ok = ok and nxt["hasOriginator"] == prev["hasBeneficiary"]
        ok = ok and dt.datetime.fromisoformat(nxt["hasDate"]) > dt.datetime.fromisoformat(
            prev["hasDate"]
        )
    suspicious = ok and bool(g.parties[rows[-1]["hasBeneficiary"]]["isSuspicious"])
    return suspicious, suspicious and min(r["hasAmount"] for r in rows) > THRESHOLD


def test_every_instance_is_present_as_recorded(planted):
    manifest, g = planted
    gt = read_ground_truth(manifest.out_dir / manifest.ground_truth)
    assert Counter(r.typology for r in gt) == {t: 10 for t in TYPOLOGIES}
    all_tx = [t for r in gt for t in r.transactions]
    assert len(all_tx) == len(set(all_tx)) == manifest.counts["planted_transactions"]
    all_parties = [p for r in gt for p in r.parties]
    assert len(all_parties) == len(set(all_parties)), "instances never share parties"
    for r in gt:
        rows = [g.txs[t] for t in r.transactions]  # KeyError = not in the data
        used = {x[k] for x in rows for k in ("hasOriginator", "hasBeneficiary")}
        assert used == set(r.parties), r.instance_id
        assert Decimal(r.min_amount) == min(x["hasAmount"] for x in rows)
        dates = sorted(x["hasDate"] for x in rows)
        assert (r.first_date, r.last_date) == (dates[0], dates[-1])


def test_chain_expectations_hold_in_the_data(planted):
    manifest, g = planted
    gt = read_ground_truth(manifest.out_dir / manifest.ground_truth)
    chains = [r for r in gt if r.typology in ("layering", "cycle")]
    for r in chains:
        assert chain_flags(g, r.transactions) == (
            r.expect_suspicious_chain,
            r.expect_high_value_chain,
        ), r.instance_id
        path = [g.txs[r.transactions[0]]["hasOriginator"]]
        path += [g.txs[t]["hasBeneficiary"] for t in r.transactions]
        assert path == list(r.parties) + ([r.parties[0]] if r.typology == "cycle" else [])
    layering = [r for r in gt if r.typology == "layering"]
    assert {r.expect_high_value_chain for r in layering if r.expect_suspicious_chain} == {
        True,
        False,
    }
    assert any(len(r.transactions) > MAX_LENGTH and not r.expect_suspicious_chain for r in layering)
    assert any(Decimal(r.min_amount) == THRESHOLD for r in layering), "boundary case planted"
    assert any(Decimal(r.min_amount) < THRESHOLD for r in layering)
    assert sum(r.expect_suspicious_chain for r in gt if r.typology == "cycle") == 5
    assert not any(r.expect_suspicious_chain for r in gt if r not in chains)


def test_other_shapes(planted):
    manifest, g = planted
    gt = read_ground_truth(manifest.out_dir / manifest.ground_truth)
    for r in gt:
        rows = [g.txs[t] for t in r.transactions]
        net = nx.MultiDiGraph()
        net.add_edges_from((x["hasOriginator"], x["hasBeneficiary"]) for x in rows)
        first = dt.datetime.fromisoformat(r.first_date)
        span = dt.datetime.fromisoformat(r.last_date) - first
        if r.typology == "cycle":
            assert nx.is_strongly_connected(net) and net.number_of_edges() == len(net)
        elif r.typology in ("fan-out", "fan-in"):
            hub = r.parties[0]
            degree = net.out_degree(hub) if r.typology == "fan-out" else net.in_degree(hub)
            assert degree == len(rows) == len(r.parties) - 1 >= 5
            assert span <= dt.timedelta(hours=6)
        elif r.typology == "scatter-gather":
            src, mules, dst = r.parties[0], r.parties[1:-1], r.parties[-1]
            for mule in mules:
                (into,) = [x for x in rows if x["hasBeneficiary"] == mule]
                (out,) = [x for x in rows if x["hasOriginator"] == mule]
                assert into["hasOriginator"] == src and out["hasBeneficiary"] == dst
                assert out["hasDate"] > into["hasDate"]
        elif r.typology == "structuring":
            assert {x["hasOriginator"] for x in rows} == {r.parties[0]}
            assert all(Decimal(9000) <= x["hasAmount"] < Decimal(10000) for x in rows)
            assert len(rows) >= 8 and span <= dt.timedelta(hours=48)


def test_typologies_must_fit(tmp_path):
    with pytest.raises(UsageError, match="need .* transactions"):
        generate(tmp_path / "a", transactions=20, typologies="layering=5")
    with pytest.raises(UsageError, match="non-suspicious parties"):
        generate(tmp_path / "b", transactions=500, parties=10, typologies="fan-out=3")
    with pytest.raises(UsageError, match="unknown typology"):
        generate(tmp_path / "c", transactions=500, typologies="smurfing")
    assert not any(tmp_path.iterdir())


def test_planted_parties_are_fresh_with_millions_of_parties():
    """Above 2M parties, planted parties are drawn by rejection instead of from a full mask."""
    opts = Options.build(
        transactions=3_000_000, parties=3_000_000, suspicious_fraction=0.5, typologies="all"
    )
    plan = Plan.build(opts)
    assert plan.planted is not None
    used = np.array([q for inst in plan.planted.instances for q in inst.parties])
    assert len(set(used.tolist())) == len(used) > 400
    lo, hi = int(used.min()), int(used.max()) + 1
    random_suspicious = plan.suspicious_mask(lo, hi, planted=False)
    assert not random_suspicious[used - lo].any()
    assert int(plan.block_suspicious.sum()) == 1_500_000


def test_naive_chain_evaluator_agrees_with_ground_truth(tmp_path):
    """Enumerate every chain of SPEC.md in a small graph, then look the planted ones up."""
    manifest = generate(
        tmp_path / "d",
        transactions=3000,
        parties=500,
        suspicious_fraction=0.004,
        typologies="layering=6,cycle=4",
        seed=2,
    )
    g = read_graph(manifest.paths())
    susp = {p for p, r in g.parties.items() if r["isSuspicious"]}
    out_tx: dict[str, list[str]] = {}
    for t, r in g.txs.items():
        out_tx.setdefault(r["hasOriginator"], []).append(t)
    suspicious_chains: dict[tuple[str, ...], Decimal] = {}
    stack = [((t,), g.txs[t]["hasAmount"]) for p in susp for t in out_tx.get(p, [])]
    while stack:
        chain, low = stack.pop()
        last = g.txs[chain[-1]]
        if last["hasBeneficiary"] in susp:
            suspicious_chains[chain] = low
        if len(chain) < MAX_LENGTH:
            for t in out_tx.get(last["hasBeneficiary"], []):
                if g.txs[t]["hasDate"] > last["hasDate"]:  # fixed width: lexical = time order
                    stack.append((chain + (t,), min(low, g.txs[t]["hasAmount"])))
    for r in read_ground_truth(manifest.out_dir / manifest.ground_truth):
        found = r.transactions in suspicious_chains
        assert found == r.expect_suspicious_chain, r.instance_id
        high = found and suspicious_chains[r.transactions] > THRESHOLD
        assert high == r.expect_high_value_chain, r.instance_id
