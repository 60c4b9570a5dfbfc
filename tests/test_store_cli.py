"""``graphcrime store ...`` end to end on hand-worked data (transitive closure: the derived
facts are known), on generated data split by day (prune), and its errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graphcrime.cli import app
from graphcrime.store_cli import spread

E = "http://e/"
CLOSURE = f"@prefix : <{E}> .\n:p[?x, ?z] :- :p[?x, ?y], :p[?y, ?z] .\n"
TYPES = f"@prefix : <{E}> .\n:Node[?x] :- :p[?x, ?y] .\n"


def gc(*args: str | Path) -> object:
    return CliRunner().invoke(app, [str(a) for a in args])


def nt(path: Path, *pairs: str) -> Path:
    path.write_text("".join(f"<{E}{a}> <{E}p> <{E}{b}> .\n" for a, b in pairs))
    return path


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "closure.dlog").write_text(CLOSURE)
    (tmp_path / "types.dlog").write_text(TYPES)
    nt(tmp_path / "1.nt", "ab")
    nt(tmp_path / "2.nt", "bc", "cd")
    (tmp_path / "q.rq").write_text(f"SELECT ?x ?y WHERE {{ ?x <{E}p> ?y }} ORDER BY ?x ?y")
    return tmp_path


def info(store: Path) -> dict:
    r = gc("store", "info", store, "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_create_add_query_dump_retract(files: Path) -> None:
    store = files / "s"
    r = gc("store", "create", store, "--rules", files / "closure.dlog", files / "types.dlog",
           "--param", "a=1", "b=2")
    assert r.exit_code == 0, r.output
    assert "2 rule(s)" in r.stdout and info(store)["parameters"] == {"a": "1", "b": "2"}
    r = gc("store", "add", store, files / "1.nt", files / "2.nt")
    assert r.exit_code == 0, r.output
    # closure of a->b->c->d: ac, ad, bd; Node: a, b, c
    assert "added 3 triple(s)" in r.stdout and "derived 6 fact(s)" in r.stdout
    doc = info(store)
    assert doc["derived_facts"] == 6 and doc["facts"] == doc["input_facts"] + 6
    assert doc["rules"] == 2 and doc["size_bytes"] > 0 and doc["rounds"] > 0
    r = gc("store", "query", store, files / "q.rq")
    assert r.exit_code == 0, r.output
    rows = r.stdout.splitlines()
    assert rows[0] == "x,y" and len(rows) == 1 + 6
    r = gc("store", "query", store, files / "q.rq", "--format", "json")
    assert len(json.loads(r.stdout)["results"]["bindings"]) == 6
    r = gc("store", "dump", store, files / "derived.nt", "--derived-only")
    assert r.exit_code == 0 and "wrote 6 triple(s)" in r.stdout
    lines = (files / "derived.nt").read_text().splitlines()
    assert f"<{E}a> <{E}p> <{E}d> ." in lines and len(lines) == 6

    r = gc("store", "retract", store, files / "1.nt")
    assert r.exit_code == 0, r.output
    assert "retracted 1" in r.stdout
    r = gc("store", "query", store, files / "q.rq", "-o", files / "after.csv")
    assert r.exit_code == 0
    assert (files / "after.csv").read_text().splitlines()[1:] == [
        f"{E}b,{E}c", f"{E}b,{E}d", f"{E}c,{E}d"]


def test_set_rules_recomputes(files: Path) -> None:
    store = files / "s"
    assert gc("store", "create", store, "--rules", files / "closure.dlog").exit_code == 0
    assert gc("store", "add", store, files / "1.nt", files / "2.nt").exit_code == 0
    assert info(store)["derived_facts"] == 3
    r = gc("store", "set-rules", store, "--rules", files / "types.dlog")
    assert r.exit_code == 0, r.output
    assert "removed 3" in r.stdout and info(store)["derived_facts"] == 3  # a, b, c typed


def test_prune_keeps_the_later_days(tmp_path: Path) -> None:
    from generator import generate

    m = generate(tmp_path / "d", transactions=600, parties=60, split_by="day")
    rule = tmp_path / "r.dlog"
    rule.write_text("@prefix type: <http://oxfordsemantic.tech/transactions/classes#> .\n"
                    "@prefix : <http://e/> .\n:Seen[?t] :- type:Transaction[?t] .\n")
    store = tmp_path / "s"
    assert gc("store", "create", store, "--rules", rule).exit_code == 0
    assert gc("store", "add", store, *m.paths()).exit_code == 0
    r = gc("store", "prune", store, "--before", "2021-07-28")
    assert r.exit_code == 0, r.output
    kept = sum(f.rows for f in m.files if f.path >= "transactions-2021-07-28")
    gone = sum(f.rows for f in m.files if f.path.startswith("transactions-2021-07-27"))
    assert f"retracted {5 * gone:,}" in r.stdout
    q = tmp_path / "q.rq"
    q.write_text("SELECT (COUNT(*) AS ?n) WHERE { ?t a <http://e/Seen> }")
    r = gc("store", "query", store, q)
    assert r.stdout.splitlines()[1] == str(kept)


def test_errors_and_exit_codes(files: Path, tmp_path: Path) -> None:
    store = files / "s"
    (files / "bad.dlog").write_text("@prefix : <http://e/> .\n:p[?x, ?y] :- :q[?x] .\n")
    r = gc("store", "create", store, "--rules", files / "bad.dlog")
    assert r.exit_code == 2 and "bad.dlog:2:" in r.output
    assert gc("store", "create", store, "--rules", files / "closure.dlog").exit_code == 0
    assert gc("store", "add", store, files / "1.nt").exit_code == 0
    (files / "broken.nt").write_text(f"<{E}x> <{E}p> <{E}y> .\n<{E}x> <{E}p> .\n")
    r = gc("store", "add", store, files / "2.nt", files / "broken.nt")
    assert r.exit_code == 2 and "broken.nt:2" in r.output
    assert info(store)["input_facts"] == 1  # neither file was added
    assert gc("store", "dump", store, files / "all.nt").exit_code == 0
    assert (files / "all.nt").read_text() == (files / "1.nt").read_text()
    r = gc("store", "add", tmp_path, files / "1.nt")
    assert r.exit_code == 2 and "not a graphcrime store" in r.output
    r = gc("store", "add", store, files / "missing.nt")
    assert r.exit_code == 2 and "missing.nt" in r.output
    r = gc("store", "prune", store, "--before", "yesterday")
    assert r.exit_code == 2 and "--before" in r.output
    r = gc("store", "query", store, files / "nope.rq")
    assert r.exit_code == 2 and "nope.rq" in r.output
    r = gc("store", "create", store, "--rules", files / "closure.dlog")
    assert r.exit_code == 2 and "not empty" in r.output


def test_a_store_being_updated_is_busy(files: Path) -> None:
    import graphcrime

    store = files / "s"
    assert gc("store", "create", store, "--rules", files / "closure.dlog").exit_code == 0
    with graphcrime.Store.open(store):
        r = gc("store", "add", store, files / "1.nt")
        assert r.exit_code == 1 and "another process" in r.output
        r = gc("store", "add", store, files / "1.nt", "--lock-timeout", "0.3")
        assert r.exit_code == 1
    assert gc("store", "add", store, files / "1.nt").exit_code == 0


def test_help_explains() -> None:
    r = gc("store", "--help")
    assert r.exit_code == 0
    for word in ("create", "add", "retract", "info", "query", "dump", "prune", "set-rules"):
        assert word in r.stdout
    r = gc("store", "add", "--help")
    assert r.exit_code == 0 and "glob" in r.stdout


def test_spread_leaves_other_arguments_alone() -> None:
    assert spread(["s", "--rules", "a", "b", "c"]) == ["s", "--rules", "a", "--rules", "b",
                                                         "--rules", "c"]
    assert spread(["s", "f1", "f2", "--memory", "1Gi"]) == ["s", "f1", "f2", "--memory", "1Gi"]
    assert spread(["--rules=a", "b"]) == ["--rules=a", "b"]
    assert spread(["--rules", "a", "--", "--rules"]) == ["--rules", "a", "--", "--rules"]
