"""The reference chain rules against an independent enumeration of chronological paths.

Small seeded random transaction graphs; the oracle walks paths in plain Python; the engine
and the naive evaluator each run rules/*.dlog; pyoxigraph answers the two-step chains in SPARQL.
"""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest

from graphcrime.lang.parser import parse_files
from graphcrime.oracle.naive import evaluate as naive_evaluate
from graphcrime.testing import engine_evaluate
from graphcrime.vocab import ENT, PROP, RDF_TYPE, TYPE, XSD

ROOT = Path(__file__).resolve().parents[2]
RULES = [ROOT / "rules" / "suspicious-chains.dlog", ROOT / "rules" / "high-value-chains.dlog"]
PUBLISHED = Path(__file__).parent / "golden" / "published-style" / "rules.dlog"


def _lit(lex: str, dt: str) -> str:
    return f'"{lex}"^^<{XSD}{dt}>'


@pytest.fixture(params=["engine", "naive"])
def evaluate(request):
    """The rules' evaluator under test: the DuckDB engine or the naive oracle."""
    return engine_evaluate if request.param == "engine" else naive_evaluate


def random_graph(seed: int, parties: int = 6, transactions: int = 14):
    """N-Triples facts plus the plain-Python view of the same graph."""
    rng = random.Random(seed)
    suspicious = {p for p in range(parties) if rng.random() < 0.4} or {0}
    facts = set()
    for p in range(parties):
        iri = f"<{ENT}party_{p}>"
        facts.add((iri, f"<{RDF_TYPE}>", f"<{TYPE}Party>"))
        flag = "true" if p in suspicious else "false"
        facts.add((iri, f"<{PROP}isSuspicious>", _lit(flag, "boolean")))
    txs = []
    for i in range(transactions):
        a, b = rng.sample(range(parties), 2)
        day = rng.randint(1, 6)  # ties on purpose: the order must be strict
        amount = Decimal(rng.choice([50, 99, 100, 101, 250, 1000])) + Decimal(rng.choice([0, 5]))
        t = f"<{ENT}transaction_{i}>"
        txs.append((t, a, b, day, amount))
        facts |= {
            (t, f"<{RDF_TYPE}>", f"<{TYPE}Transaction>"),
            (t, f"<{PROP}hasOriginator>", f"<{ENT}party_{a}>"),
            (t, f"<{PROP}hasBeneficiary>", f"<{ENT}party_{b}>"),
            (t, f"<{PROP}hasAmount>", _lit(str(amount), "decimal")),
            (t, f"<{PROP}hasDate>", _lit(f"2021-07-0{day}T10:00:00Z", "dateTime")),
        }
    return facts, txs, suspicious


def enumerate_chains(txs, suspicious, max_len: int, two_step_only: bool = False):
    """Every chronological path from a suspicious originator: (orig, ben, txs, min amount)."""
    out = set()
    frontier = [(t,) for t in txs if t[1] in suspicious]
    while frontier:
        nxt = []
        for path in frontier:
            out.add((path[0][1], path[-1][2], tuple(t[0] for t in path), min(t[4] for t in path)))
            limit = 2 if two_step_only else max_len
            if len(path) < limit:
                nxt += [path + (t,) for t in txs if t[1] == path[-1][2] and t[3] > path[-1][3]]
        frontier = nxt
    return out


def derived_chains(triples, txs, cls: str):
    """(orig, ben, transactions by date, min amount) of every chain of class ``cls``."""
    by_iri = {t[0]: t for t in txs}
    props: dict[str, dict[str, set[str]]] = {}
    for s, p, o in triples:
        props.setdefault(s, {}).setdefault(p, set()).add(o)
    out = set()
    for ps in props.values():
        if f"<{TYPE}{cls}>" not in ps.get(f"<{RDF_TYPE}>", ()):
            continue
        seq = sorted((by_iri[t] for t in ps[f"<{PROP}containsTransaction>"]), key=lambda t: t[3])
        (orig,) = ps[f"<{PROP}hasOriginator>"]
        (ben,) = ps[f"<{PROP}hasBeneficiary>"]
        (length,) = ps[f"<{PROP}hasLength>"]
        assert length == _lit(str(len(seq)), "integer")
        if f"<{PROP}hasEndDate>" in ps:  # the published style omits it on extensions
            assert ps[f"<{PROP}hasEndDate>"] == {_lit(f"2021-07-0{seq[-1][3]}T10:00:00Z",
                                                      "dateTime")}
        assert ps[f"<{PROP}hasStartingAmount>"] == {_lit(str(seq[0][4]), "decimal")}
        assert ps[f"<{PROP}hasFinalAmount>"] == {_lit(str(seq[-1][4]), "decimal")}
        out.add((int(orig.split("_")[-1][:-1]), int(ben.split("_")[-1][:-1]),
                 tuple(t[0] for t in seq), min(t[4] for t in seq)))
    return out


@pytest.mark.parametrize("seed", range(4))
def test_reference_rules_match_path_enumeration(seed: int, evaluate) -> None:
    facts, txs, susp = random_graph(seed)
    triples, _ = evaluate(parse_files(RULES), facts)
    paths = enumerate_chains(txs, susp, 30)
    assert derived_chains(triples, txs, "PartialChain") == paths
    assert derived_chains(triples, txs, "SuspiciousChain") == {c for c in paths if c[1] in susp}
    assert derived_chains(triples, txs, "HighValueChain") == {
        c for c in paths if c[1] in susp and c[3] > 100}


def test_compressed_every_round_gives_the_same_chains(monkeypatch: pytest.MonkeyPatch) -> None:
    """FactStore.pack compresses tables between rounds once they are big enough; forced
    after every round, the rules still find exactly the enumerated paths."""
    from graphcrime.engine import store as store_module

    monkeypatch.setattr(store_module, "PACK_SHARE", 0)
    monkeypatch.setattr(store_module, "PACK_FLOOR", 0)
    facts, txs, susp = random_graph(3, parties=8, transactions=24)
    triples, _ = engine_evaluate(parse_files(RULES), facts)
    paths = enumerate_chains(txs, susp, 30)
    assert len(paths) > 20
    assert derived_chains(triples, txs, "PartialChain") == paths
    assert derived_chains(triples, txs, "HighValueChain") == {
        c for c in paths if c[1] in susp and c[3] > 100}


def test_compressed_after_the_load_gives_the_same_chains(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A finished load compresses what it added (``FactStore.pack(settled=True)``; forced
    here for a small load): reasoning over the compressed input finds the enumerated paths."""
    from graphcrime.api import Store
    from graphcrime.engine import store as store_module

    monkeypatch.setattr(store_module, "SETTLED_BYTES", 0)
    facts, txs, susp = random_graph(3, parties=8, transactions=24)
    data = tmp_path / "g.nt"
    data.write_text("".join(f"{s} {p} {o} .\n" for s, p, o in sorted(facts)))
    st = Store()
    st.load(data)
    assert st.facts._packed_bytes > 0  # it did compress
    st.reason([str(r) for r in RULES])
    st.dump(tmp_path / "all.nt")
    triples = {(str(t.subject), str(t.predicate), str(t.object))
               for t in ox.parse(path=str(tmp_path / "all.nt"), format=ox.RdfFormat.N_TRIPLES)}
    paths = enumerate_chains(txs, susp, 30)
    assert derived_chains(triples, txs, "PartialChain") == paths


@pytest.mark.parametrize("seed", range(2))
def test_params_replace_defaults(seed: int, evaluate) -> None:
    facts, txs, susp = random_graph(seed + 10)
    triples, _ = evaluate(parse_files(RULES), facts,
                          params={"min_amount": "250", "max_chain_length": 2})
    paths = enumerate_chains(txs, susp, 2)
    assert derived_chains(triples, txs, "PartialChain") == paths
    assert derived_chains(triples, txs, "HighValueChain") == {
        c for c in paths if c[1] in susp and c[3] > 250}


def test_published_style_stops_at_two_transactions(evaluate) -> None:
    facts, txs, susp = random_graph(3, transactions=16)
    triples, _ = evaluate(parse_files([PUBLISHED]), facts)
    expected = enumerate_chains(txs, susp, 30, two_step_only=True)
    assert any(len(c[2]) == 2 for c in expected)
    assert derived_chains(triples, txs, "PartialChain") == expected


def test_two_step_chains_match_sparql(evaluate) -> None:
    facts, txs, susp = random_graph(5, transactions=18)
    store = ox.Store()
    nt = "".join(f"{s} {p} {o} .\n" for s, p, o in facts)
    store.load(nt.encode(), ox.RdfFormat.N_TRIPLES)
    query = f"""PREFIX prop: <{PROP}>
    SELECT ?t1 ?t2 WHERE {{
      ?t1 prop:hasOriginator ?a ; prop:hasBeneficiary ?b ; prop:hasDate ?d1 .
      ?a prop:isSuspicious true .
      ?t2 prop:hasOriginator ?b ; prop:hasBeneficiary ?c ; prop:hasDate ?d2 .
      FILTER(?d2 > ?d1) }}"""
    sparql = {(str(r["t1"]), str(r["t2"])) for r in store.query(query)}
    triples, _ = evaluate(parse_files(RULES), facts)
    derived = {c[2] for c in derived_chains(triples, txs, "PartialChain") if len(c[2]) == 2}
    assert derived == sparql


def _chains_by_txs(triples, cls: str) -> set[frozenset[str]]:
    members: dict[str, set[str]] = {}
    typed = set()
    for s, p, o in triples:
        if p == f"<{PROP}containsTransaction>":
            members.setdefault(s, set()).add(o)
        elif p == f"<{RDF_TYPE}>" and o == f"<{TYPE}{cls}>":
            typed.add(s)
    return {frozenset(members[c]) for c in typed}


def test_planted_typologies_are_found(tmp_path: Path, evaluate) -> None:
    from generator import generate, read_ground_truth

    m = generate(tmp_path / "data", transactions=60, parties=60,
                 typologies="layering=2,cycle=1", seed=3)
    facts = set()
    for path in sorted((tmp_path / "data").glob("*.nt")):
        facts |= {(str(t.subject), str(t.predicate), str(t.object))
                  for t in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES)}
    truth = read_ground_truth(m.out_dir / m.ground_truth)
    assert any(g.expect_suspicious_chain for g in truth)
    triples, _ = evaluate(parse_files(RULES), facts)
    suspicious = _chains_by_txs(triples, "SuspiciousChain")
    high = _chains_by_txs(triples, "HighValueChain")
    for g in truth:
        txs = frozenset(f"<{t}>" for t in g.transactions)
        assert (txs in suspicious) == g.expect_suspicious_chain, g.instance_id
        assert (txs in high) == g.expect_high_value_chain, g.instance_id
