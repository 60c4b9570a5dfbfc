"""Jobs on a persistent store, on the real engine: first use creates it, later jobs add and
retract, the results are those of a from-scratch job over the same facts, two jobs on one
store never interleave.

The oracle is a plain (in-memory, from-scratch) job over the files the store holds.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from store_helpers import (
    PARAMS,
    PARTIES,
    RULES,
    day,
    lines,
    result_lines,
    served,
    spec,
    stats,
    store_triples,
)

from graphcrime.runner import storejob
from graphcrime.runner.pipeline import run_job
from graphcrime.runner.watch import Watcher


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return served(tmp_path / "served")


def scratch(root: Path, out: Path, data: list[str], **doc: object) -> dict[str, set[str]]:
    """The result lines of a plain job over ``data``."""
    job = run_job(spec(root, "scratch", data=data, **doc), out)
    assert job.exit_code == 0, job.status
    return result_lines(job.folder)


def test_store_jobs_add_retract_and_answer_like_from_scratch(root: Path, tmp_path: Path) -> None:
    stores, out = tmp_path / "stores", tmp_path / "out"
    first = run_job(spec(root, "first", store="daily/aml", data=[PARTIES, day(0), day(1)]),
                    out, store_root=stores)
    assert first.exit_code == 0, first.status
    up = stats(first.folder)["update"]
    assert up["created"] and not up["rules_changed"] and up["store"] == "daily/aml"
    assert up["added"] == lines(root, PARTIES, day(0), day(1)) and up["retracted"] == 0
    assert up["derived"] > 0 and up["facts"] == up["input_facts"] + up["derived_facts"]
    assert result_lines(first.folder) == scratch(root, out, [PARTIES, day(0), day(1)])

    second = run_job(spec(root, "second", store="daily/aml", data=[day(2)], retract=[day(0)]),
                     out, store_root=stores)
    assert second.exit_code == 0, second.status
    up = stats(second.folder)["update"]
    assert not up["created"] and not up["rules_changed"]
    assert up["added"] == lines(root, day(2)) and up["retracted"] == lines(root, day(0))
    assert up["derived"] > 0 and up["removed"] > 0
    counts = second.status["counts"]
    assert {k: counts[k] for k in ("added", "retracted", "derived", "removed")} == \
        {k: up[k] for k in ("added", "retracted", "derived", "removed")}
    expected = scratch(root, out, [PARTIES, day(1), day(2)])
    assert result_lines(second.folder) == expected and any(expected.values())

    # only queries: nothing changes
    third = run_job(spec(root, "third", store="daily/aml", data=[]), out, store_root=stores)
    assert third.exit_code == 0, third.status
    up3 = stats(third.folder)["update"]
    assert (up3["added"], up3["retracted"], up3["derived"], up3["removed"]) == (0, 0, 0, 0)
    assert up3["facts"] == up["facts"] and result_lines(third.folder) == expected


def test_a_job_with_other_parameters_changes_the_stores(root: Path, tmp_path: Path) -> None:
    stores, out = tmp_path / "stores", tmp_path / "out"
    data = [PARTIES, day(1), day(2)]
    assert run_job(spec(root, "a", store="aml", data=data), out, store_root=stores
                   ).exit_code == 0
    short = {**PARAMS, "max_chain_length": 2, "min_amount": 5000}
    job = run_job(spec(root, "b", store="aml", data=[], parameters=short), out,
                  store_root=stores)
    assert job.exit_code == 0, job.status
    up = stats(job.folder)["update"]
    assert up["rules_changed"] and up["removed"] > 0
    assert result_lines(job.folder) == scratch(root, out, data, parameters=short)
    again = run_job(spec(root, "c", store="aml", data=[], parameters=short), out,
                    store_root=stores)
    assert not stats(again.folder)["update"]["rules_changed"]


def test_parameters_from_a_command_line_equal_the_specs(root: Path, tmp_path: Path) -> None:
    import graphcrime as gc

    stores = tmp_path / "stores"
    as_text = {k: str(v) for k, v in PARAMS.items()}  # store create --param k=v gives text
    gc.Store.create(stores / "aml", rules=[root / r for r in RULES], params=as_text).close()
    job = run_job(spec(root, "j", store="aml", data=[PARTIES]), tmp_path / "out",
                  store_root=stores)
    assert job.exit_code == 0 and not stats(job.folder)["update"]["rules_changed"]


def test_a_store_folder_that_is_no_store_is_refused(root: Path, tmp_path: Path) -> None:
    stores = tmp_path / "stores"
    (stores / "aml").mkdir(parents=True)
    (stores / "aml" / "notes.txt").write_text("someone else's folder\n")
    job = run_job(spec(root, "j", store="aml", data=[PARTIES]), tmp_path / "out",
                  store_root=stores)
    assert job.exit_code == 2 and "not a graphcrime store" in job.status["error"]["message"]
    assert sorted(p.name for p in (stores / "aml").iterdir()) == ["notes.txt"]


@pytest.mark.reliability("a store's first job killed while creating it (the folder has the "
                         "database and lock but not yet the marker written last)", "the next "
                         "job on that store creates it afresh; a folder with anything else "
                         "in it is refused as not a store")
def test_a_store_whose_creation_was_killed_is_created_again(root: Path,
                                                            tmp_path: Path) -> None:
    from graphcrime.engine import disk

    stores = tmp_path / "stores"
    first = run_job(spec(root, "a", store="aml", data=[PARTIES]), tmp_path / "out",
                    store_root=stores)
    assert first.exit_code == 0
    (stores / "aml" / disk.MARKER).unlink()  # as if killed before the marker was written
    again = run_job(spec(root, "b", store="aml", data=[day(0)]), tmp_path / "out",
                    store_root=stores)
    assert again.exit_code == 0, again.status
    up = stats(again.folder)["update"]
    assert up["created"] and up["added"] == lines(root, day(0))
    assert not any("#isSuspicious>" in t for t in store_triples(stores / "aml"))  # afresh
    (stores / "aml" / disk.MARKER).unlink()
    (stores / "aml" / "mine.txt").write_text("not the engine's\n")
    refused = run_job(spec(root, "c", store="aml", data=[day(0)]), tmp_path / "out",
                      store_root=stores)
    assert refused.exit_code == 2 and (stores / "aml" / "mine.txt").exists()


def test_a_busy_store_makes_the_job_wait_then_fail(root: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import graphcrime as gc

    stores, out = tmp_path / "stores", tmp_path / "out"
    assert run_job(spec(root, "a", store="aml", data=[PARTIES]), out, store_root=stores
                   ).exit_code == 0
    monkeypatch.setattr(storejob, "STORE_WAIT_SECONDS", 0.5)
    with gc.Store.open(stores / "aml"):  # another writer holds it
        job = run_job(spec(root, "b", store="aml", data=[day(0)]), out, store_root=stores)
        timed = run_job(spec(root, "c", store="aml", data=[day(0)],
                             limits={"timeout_seconds": 0.5}), out, store_root=stores)
    for j in (job, timed):
        assert j.exit_code == 1 and j.status["error"]["type"] == "StoreLocked"
        assert "waited" in j.status["error"]["message"] and "another job holds it" in \
            j.status["error"]["hint"]
        assert "is busy" in (j.folder / "job.log").read_text()
    after = run_job(spec(root, "d", store="aml", data=[day(0)]), out, store_root=stores)
    assert after.exit_code == 0 and stats(after.folder)["update"]["added"] == \
        lines(root, day(0))


def _span(job_dir: Path) -> tuple[dt.datetime, dt.datetime]:
    stamps = [dt.datetime.fromisoformat(line.split(" ", 1)[0])
              for line in (job_dir / "job.log").read_text().splitlines()]
    return stamps[0], stamps[-1]


@pytest.mark.slow
def test_a_watcher_runs_two_jobs_on_one_store_one_after_the_other(root: Path,
                                                                  tmp_path: Path) -> None:
    inbox, stores, out = root, tmp_path / "stores", tmp_path / "out"
    spec(inbox, "a", store="aml", data=[PARTIES, day(0), day(1)])
    spec(inbox, "b", store="aml", data=[day(2)], retract=[day(0)])
    spec(inbox, "other", store="other", data=[PARTIES, day(2)])
    log: list[str] = []
    w = Watcher(inbox, out, workers=3, cores=3, poll_interval=0.05, settle=0, log=log.append,
                store_root=stores)
    assert w.run(once=True) == 3
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["a.json", "b.json",
                                                                  "other.json"], log
    jobs = {json.loads((p / "status.json").read_text())["spec"].rsplit("/", 1)[1]: p
            for p in out.iterdir() if not p.name.startswith(".")}
    a, b = _span(jobs["a.json"]), _span(jobs["b.json"])
    assert a[1] <= b[0] or b[1] <= a[0], (a, b)  # never interleaved
    assert a[1] <= b[0]  # and in inbox order
    assert result_lines(jobs["b.json"]) == scratch(root, tmp_path / "o2",
                                                   [PARTIES, day(1), day(2)])
