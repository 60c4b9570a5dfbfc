"""A spec's ``"store"`` and ``"retract"``: resolved under --store-root, confined like every path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from runner_helpers import write_spec

from graphcrime.errors import SpecError
from graphcrime.runner.pipeline import run_job
from graphcrime.runner.spec import load_spec


def refused(spec: Path, store_root: Path | None) -> SpecError:
    with pytest.raises(SpecError) as e:
        load_spec(spec, store_root=store_root)
    return e.value


@pytest.fixture
def stores(tmp_path: Path) -> Path:
    root = tmp_path / "stores"
    root.mkdir()
    return root


def test_store_resolves_under_the_store_root(served: Path, stores: Path) -> None:
    spec = load_spec(write_spec(served / "s.json", store="daily/aml",
                                retract=["data/day.nt"]), store_root=stores)
    assert spec.store == stores / "daily" / "aml" and spec.store_name == "daily/aml"
    assert spec.retract == [served / "data" / "day.nt"]
    assert not (stores / "daily").exists()  # validating creates nothing


@pytest.mark.parametrize("name", ["/tmp/x", "../x", "daily/../../x", "a/..", "..", ".",
                                  "", "  "])
def test_store_names_that_leave_the_root_are_refused(served: Path, stores: Path,
                                                     name: str) -> None:
    e = refused(write_spec(served / "s.json", store=name), stores)
    assert e.json_path == "store"
    assert e.hint and ("daily/aml" in e.hint or "--store-root" in e.hint)


@pytest.mark.parametrize("value", [3, None, ["a"], {"a": 1}, True])
def test_store_must_be_a_string(served: Path, stores: Path, value: object) -> None:
    assert refused(write_spec(served / "s.json", store=value), stores).json_path == "store"


def test_symlink_out_of_the_store_root_is_refused(served: Path, stores: Path,
                                                  tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    os.symlink(outside, stores / "daily")
    e = refused(write_spec(served / "s.json", store="daily/aml"), stores)
    assert e.json_path == "store" and "outside the store root" in e.message
    os.symlink(outside / "aml", stores / "direct")  # a dangling link out: refused too
    assert refused(write_spec(served / "s.json", store="direct"), stores).json_path == "store"


def test_symlink_inside_the_store_root_is_followed(served: Path, stores: Path) -> None:
    (stores / "real").mkdir()
    os.symlink(stores / "real", stores / "alias")
    spec = load_spec(write_spec(served / "s.json", store="alias/aml"), store_root=stores)
    assert spec.store == stores / "real" / "aml"


def test_a_store_root_reached_through_a_symlink(served: Path, stores: Path,
                                                tmp_path: Path) -> None:
    os.symlink(stores, tmp_path / "link")
    spec = load_spec(write_spec(served / "s.json", store="aml"), store_root=tmp_path / "link")
    assert spec.store == stores / "aml"


def test_retract_is_confined_and_needs_a_store(served: Path, stores: Path,
                                               tmp_path: Path) -> None:
    (tmp_path / "evil.nt").write_text("")
    e = refused(write_spec(served / "s.json", store="aml", retract=["../evil.nt"]), stores)
    assert e.json_path == "retract[0]" and "outside the served folder" in e.message
    e = refused(write_spec(served / "s.json", store="aml", retract=["data/*.gz"]), stores)
    assert e.json_path == "retract[0]" and "matches no file" in e.message
    e = refused(write_spec(served / "s.json", retract=["data/day.nt"]), stores)
    assert e.json_path == "retract" and "store" in e.hint


def test_a_store_job_may_add_nothing_a_plain_job_may_not(served: Path, stores: Path) -> None:
    spec = load_spec(write_spec(served / "s.json", store="aml", data=[], queries=[]),
                     store_root=stores)
    assert spec.data == [] and spec.queries == []
    assert refused(write_spec(served / "p.json", data=[]), stores).json_path == "data"


def test_store_jobs_run_on_the_embedded_engine(served: Path, stores: Path) -> None:
    e = refused(write_spec(served / "s.json", store="aml", engine={"name": "spark"}), stores)
    assert e.json_path == "store"


def test_without_a_store_root_the_job_fails_saying_so(served: Path, tmp_path: Path) -> None:
    spec = write_spec(served / "s.json", store="daily/aml")
    assert load_spec(spec).store is None  # a reader of the spec need not know the root
    out = run_job(spec, tmp_path / "out")
    assert out.exit_code == 2
    err = out.status["error"]
    assert err["json_path"] == "store" and "--store-root" in err["hint"]
