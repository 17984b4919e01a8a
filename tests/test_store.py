"""The Parquet results store: rows, atomic parts, failures, merge, reading back."""
from __future__ import annotations

import json

import numpy as np
import pytest

from verify import UsageError
from verify.store import COLUMNS, PARAM_PREFIX, Store, failure_table, load, merge, rows_table, unit_key

pytest.importorskip("pyarrow")


def _unit(store, i, n=5, **params):
    params = {"n": 10 + i, "spread": 1.5, "profile": "outlier", **params}
    key = unit_key("claim:abc", "exp", params, i)
    meta = dict(key=key, claim="c", experiment="exp", kind="upper", measure="m", seed=i, replicate=0,
                grid_name="T", method="deterministic", verdict="holds", expected="holds", tightness=0.5,
                params=json.dumps(params), constants="{}", wall_time=0.01, version="0.1.0")
    g = np.arange(1.0, n + 1)
    store.write(key, rows_table(meta, dict(grid=g, measured=g / 2, bound=g, stderr=None), params))
    return key, params, meta


def test_rows_round_trip(tmp_path):
    s = Store(tmp_path / "s", write=True)
    key, params, _ = _unit(s, 0)
    df = s.load()
    assert len(df) == 5 and set(COLUMNS) <= set(df.columns)
    assert {PARAM_PREFIX + k for k in params} <= set(df.columns)
    assert df.param_n.dtype == np.int64 and df.param_spread.dtype == np.float64
    assert list(df.measured) == [0.5, 1.0, 1.5, 2.0, 2.5] and df.stderr.isna().all()
    assert (df.key == key).all() and df.error.isna().all() and df.git_rev.isna().all()
    assert str(df.finished_at.dtype).startswith("datetime64")
    assert [p.name for p in (tmp_path / "s" / "parts").iterdir()] == [f"{key}.parquet"]  # no temporary left


def test_failure_record_replaced_by_success(tmp_path):
    s = Store(tmp_path / "s", write=True)
    key, params, meta = _unit(s, 1)
    (tmp_path / "s" / "parts" / f"{key}.parquet").unlink()
    s.write(key, failure_table(meta, params, "RuntimeError: boom"), failed=True)
    assert s.failed_keys() == {key} and s.done_keys() == set()
    df = s.load()
    assert len(df) == 1 and df.verdict.iloc[0] == "error" and df.error.iloc[0] == "RuntimeError: boom"
    _unit(s, 1)
    assert s.failed_keys() == set() and s.done_keys() == {key}
    assert len(s.load()) == 5


def test_merge_combines_without_duplicates(tmp_path):
    a, b = Store(tmp_path / "a", write=True), Store(tmp_path / "b", write=True)
    ka = {_unit(a, i)[0] for i in range(3)}
    kb = {_unit(b, i)[0] for i in range(2, 5)}  # unit 2 made on both machines
    a.log_run({"target": "x"})
    counts = merge(tmp_path / "m", tmp_path / "a", tmp_path / "b")
    assert counts == {"copied": 5, "skipped": 1, "failed_copied": 0}
    df = load(tmp_path / "m")
    assert set(df.key) == ka | kb and not df.duplicated(["key", "grid"]).any() and len(df) == 25
    assert json.loads((tmp_path / "m" / "sweep.json").read_text())["runs"][0]["merged_from"] == str(tmp_path / "a")
    assert merge(tmp_path / "m", tmp_path / "b")["skipped"] == 3  # idempotent
    with pytest.raises(UsageError, match="into itself"):
        merge(tmp_path / "m", tmp_path / "m")
    with pytest.raises(UsageError, match="not a results store"):
        merge(tmp_path / "m", tmp_path / "nowhere")


def test_parameter_types_unified_across_parts(tmp_path):
    s = Store(tmp_path / "s", write=True)
    _unit(s, 0, spread=2)            # int in one part
    _unit(s, 1, spread=2.5)          # float in another
    _unit(s, 2, extra="x")           # a parameter only some parts have
    df = s.load()
    assert df.param_spread.dtype == np.float64 and sorted(df.param_spread.unique()) == [1.5, 2.0, 2.5]
    assert df.param_extra.isna().sum() == 10
    _unit(s, 3, spread="wide")       # a string where others are numbers: everything as text
    assert set(s.load().param_spread.astype(str)) >= {"wide", "2.5"}


def test_stale_temporary_files_ignored_and_cleaned(tmp_path):
    s = Store(tmp_path / "s", write=True)
    _unit(s, 0)
    (s.parts / ".tmp-abc.parquet").write_bytes(b"half a file")
    assert len(s.done_keys()) == 1 and len(s.load()) == 5
    assert s.clean_temporary() == 1


def test_load_errors(tmp_path):
    with pytest.raises(UsageError, match="not a results store"):
        load(tmp_path / "nothing")
    (tmp_path / "f").write_text("x")
    with pytest.raises(UsageError, match="not a directory"):
        Store(tmp_path / "f")
    assert len(Store(tmp_path / "empty", write=True).load()) == 0
