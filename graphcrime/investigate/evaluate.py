"""Precision and recall of a job's chains against the generator's ``ground-truth.csv``.

A planted instance is *found* as a SuspiciousChain (HighValueChain) when the results hold a
chain of that class whose contained transactions are exactly the instance's transactions.
Per typology: tp = expected and found, fp = found but not expected, fn = expected, not found.
Chains that match no planted instance (background traffic) are counted as ``unplanted``;
they are not errors, since the ground truth says nothing about them.

>>> score(3, 1, 1)
{'tp': 3, 'fp': 1, 'fn': 1, 'precision': 0.75, 'recall': 0.75}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphcrime.results import PREFIXES, JobResults

CLASSES = {"suspicious": "SuspiciousChain", "high_value": "HighValueChain"}


def score(tp: int, fp: int, fn: int) -> dict[str, Any]:
    """Counts with precision and recall (None when undefined)."""
    return {"tp": tp, "fp": fp, "fn": fn,
            "precision": round(tp / (tp + fp), 4) if tp + fp else None,
            "recall": round(tp / (tp + fn), 4) if tp + fn else None}


def found_instances(store: Any, ground_truth: list[Any], cls: str) -> dict[str, str]:
    """instance_id -> IRI of a chain of class ``cls`` with exactly the instance's transactions
    (``store``: a :class:`graphcrime.api.Store` holding the chains)."""
    con = store.con
    rel = store.query(PREFIXES + f"SELECT ?c ?t WHERE {{ ?c a type:{cls} ; "
                      "prop:containsTransaction ?t }")
    con.execute("CREATE OR REPLACE TEMP TABLE _gt (instance VARCHAR, t VARCHAR, n INTEGER)")
    rows = [(g.instance_id, f"<{t}>", len(set(g.transactions)))
            for g in ground_truth for t in set(g.transactions)]
    if rows:
        con.executemany("INSERT INTO _gt VALUES (?, ?, ?)", rows)
    hits = con.execute(f"""
        WITH ct AS (SELECT DISTINCT n0 AS c, n1 AS t FROM ({rel.sql}) x),
             size AS (SELECT c, count(*) AS k FROM ct GROUP BY c)
        SELECT g.instance, min(ct.c)
        FROM ct JOIN _gt g ON ct.t = g.t JOIN size ON size.c = ct.c
        GROUP BY g.instance, ct.c, g.n, size.k
        HAVING count(*) = g.n AND size.k = g.n
    """).fetchall()
    con.execute("DROP TABLE _gt")
    return {inst: chain.strip("<>") for inst, chain in hits}


def report(store: Any, gt: list[Any]) -> dict[str, Any]:
    """Scores of the chains in ``store`` against ground truth rows ``gt`` (see module doc)."""
    found = {key: found_instances(store, gt, cls) for key, cls in CLASSES.items()}
    totals = {key: int(store.query(PREFIXES + f"SELECT (COUNT(DISTINCT ?c) AS ?n) "
                                   f"WHERE {{ ?c a type:{cls} }}").rows()[0][0].value)
              for key, cls in CLASSES.items()}
    want = {"suspicious": [g.expect_suspicious_chain for g in gt],
            "high_value": [g.expect_high_value_chain for g in gt]}
    out: dict[str, Any] = {"typologies": {}, "overall": {}, "instances": []}
    for key in CLASSES:
        expect = want[key]
        hit = [g.instance_id in found[key] for g in gt]
        for typ in sorted({g.typology for g in gt}):
            idx = [i for i, g in enumerate(gt) if g.typology == typ]
            out["typologies"].setdefault(typ, {"instances": len(idx)})[key] = score(
                sum(expect[i] and hit[i] for i in idx), sum(hit[i] and not expect[i] for i in idx),
                sum(expect[i] and not hit[i] for i in idx))
        all_ = score(sum(e and h for e, h in zip(expect, hit, strict=True)),
                     sum(h and not e for e, h in zip(expect, hit, strict=True)),
                     sum(e and not h for e, h in zip(expect, hit, strict=True)))
        all_["unplanted"] = totals[key] - len(set(found[key].values()))
        out["overall"][key] = all_
    for i, g in enumerate(gt):
        out["instances"].append({"instance_id": g.instance_id, "typology": g.typology,
                                 "expect_suspicious": want["suspicious"][i],
                                 "expect_high_value": want["high_value"][i],
                                 "suspicious_chain": found["suspicious"].get(g.instance_id),
                                 "high_value_chain": found["high_value"].get(g.instance_id)})
    return out


def evaluate(job_dir: str | Path, ground_truth: str | Path) -> dict[str, Any]:
    """Per-typology and overall scores for SuspiciousChain and HighValueChain."""
    from generator import read_ground_truth

    gt = read_ground_truth(ground_truth)
    with JobResults(job_dir) as res:
        return report(res.store, gt)


def format_table(report: dict[str, Any]) -> str:
    """A plain-text table of :func:`evaluate`'s report."""
    def f(x: float | None) -> str:
        return "   -  " if x is None else f"{x:6.3f}"

    lines = [f"{'typology':<16}{'n':>4}  {'susp P':>6} {'susp R':>6}  {'high P':>6} {'high R':>6}"]
    rows = [*report["typologies"].items(), ("overall", {"instances": len(report["instances"]),
                                                        **report["overall"]})]
    for typ, r in rows:
        s, h = r["suspicious"], r["high_value"]
        lines.append(f"{typ:<16}{r['instances']:>4}  {f(s['precision'])} {f(s['recall'])}  "
                     f"{f(h['precision'])} {f(h['recall'])}")
    o = report["overall"]
    lines.append(f"chains matching no planted instance: {o['suspicious']['unplanted']} suspicious, "
                 f"{o['high_value']['unplanted']} high-value")
    return "\n".join(lines)
