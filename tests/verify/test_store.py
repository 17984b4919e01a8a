"""The Parquet results store: rows, atomic parts, failures, merge, reading back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

from ratecheck.verify import UsageError
from ratecheck.verify.store import (
    _HOST,
    COLUMNS,
    PARAM_PREFIX,
    STALE_TEMPORARY_AGE,
    CorruptPartWarning,
    Store,
    failure_table,
    load,
    merge,
    rows_table,
    unit_key,
)

pytest.importorskip("pyarrow")


def _unit(store, i, n=5, **params):
    params = {"n": 10 + i, "spread": 1.5, "profile": "outlier", **params}
    key = unit_key("claim:abc", "exp", params, i)
    meta = dict(
        key=key,
        claim="c",
        experiment="exp",
        kind="upper",
        measure="m",
        seed=i,
        replicate=0,
        grid_name="T",
        method="deterministic",
        verdict="holds",
        expected="holds",
        tightness=0.5,
        params=json.dumps(params),
        constants="{}",
        wall_time=0.01,
        version="0.1.0",
    )
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
    _unit(s, 0, spread=2)  # int in one part
    _unit(s, 1, spread=2.5)  # float in another
    _unit(s, 2, extra="x")  # a parameter only some parts have
    df = s.load()
    assert df.param_spread.dtype == np.float64 and sorted(df.param_spread.unique()) == [1.5, 2.0, 2.5]
    assert df.param_extra.isna().sum() == 10
    _unit(s, 3, spread="wide")  # a string where others are numbers: everything as text
    assert set(s.load().param_spread.astype(str)) >= {"wide", "2.5"}


def test_stale_temporary_files_ignored_and_cleaned(tmp_path):
    s = Store(tmp_path / "s", write=True)
    _unit(s, 0)
    legacy = s.parts / ".tmp-abc.parquet"  # an older version's name: no process id
    legacy.write_bytes(b"half a file")
    assert len(s.done_keys()) == 1 and len(s.load()) == 5
    assert s.clean_temporary() == 0 and legacy.exists()  # could be in flight: left alone while recent
    old = time.time() - STALE_TEMPORARY_AGE - 60
    os.utime(legacy, (old, old))
    assert s.clean_temporary() == 1 and not legacy.exists()


def test_temporaries_of_live_writers_are_not_removed(tmp_path):
    """Two sweeps into one store: one's start-up cleanup must not delete the other's in-flight temporaries."""
    s = Store(tmp_path / "s", write=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        host = _HOST
        mine = s.parts / f".tmp-{host}-{os.getpid()}-x.parquet"
        other = s.parts / f".tmp-{host}-{live.pid}-y.parquet"
        gone = s.parts / f".tmp-{host}-{dead.stdout.strip()}-z.parquet"
        root_gone = s.path / f".tmp-{host}-{dead.stdout.strip()}-w.json"
        elsewhere = s.parts / f".tmp-{'0' * 8}-{dead.stdout.strip()}-v.parquet"  # another machine's: by age
        for f in (mine, other, gone, root_gone, elsewhere):
            f.write_bytes(b"in flight")
        assert s.clean_temporary() == 2
        assert mine.exists() and other.exists() and elsewhere.exists()
        assert not gone.exists() and not root_gone.exists()
    finally:
        live.kill()
        live.wait()
    # the store's own temporaries carry this host and process id
    seen = []
    real = os.replace

    def spy(a, b):
        seen.append(Path(a).name)
        return real(a, b)

    with mock.patch("os.replace", spy):
        _unit(s, 7)
    assert seen and seen[0].startswith(f".tmp-{_HOST}-{os.getpid()}-")


def _truncate(path, keep=100):
    data = path.read_bytes()
    path.write_bytes(data[:keep])


def test_truncated_part_skipped_by_readers_and_moved_aside_by_writers(tmp_path):
    s = Store(tmp_path / "s", write=True)
    keys = [_unit(s, i)[0] for i in range(3)]
    _truncate(s.parts / f"{keys[1]}.parquet")
    with pytest.warns(CorruptPartWarning) as w:
        df = load(tmp_path / "s")
    assert set(df.key) == {keys[0], keys[2]} and len(df) == 10
    msg = str(w[0].message)
    assert "\n" not in msg and f"{keys[1]}.parquet" in msg and "skipped" in msg
    assert (s.parts / f"{keys[1]}.parquet").exists()  # a reader never changes the store
    with pytest.warns(CorruptPartWarning, match="moved to"):
        done = Store(tmp_path / "s", write=True).done_keys()
    assert done == {keys[0], keys[2]}  # not counted as finished: a resumed sweep runs it again
    assert not (s.parts / f"{keys[1]}.parquet").exists()
    assert (tmp_path / "s" / "quarantine" / f"{keys[1]}.parquet").is_file()
    _unit(s, 1)  # the unit recomputed
    assert Store(tmp_path / "s").done_keys() == set(keys) and len(load(tmp_path / "s")) == 15


def test_damaged_part_inside_is_skipped_with_one_line(tmp_path):
    s = Store(tmp_path / "s", write=True)
    keys = [_unit(s, i)[0] for i in range(2)]
    f = s.parts / f"{keys[0]}.parquet"
    data = bytearray(f.read_bytes())
    data[4:-8] = b"\xff" * (len(data) - 12)  # magic bytes intact, everything else garbage
    f.write_bytes(bytes(data))
    with pytest.warns(CorruptPartWarning) as w:
        df = s.load()
    assert set(df.key) == {keys[1]} and "\n" not in str(w[0].message)


def test_corrupt_run_log_recovered_without_losing_parts(tmp_path):
    s = Store(tmp_path / "s", write=True)
    keys = {_unit(s, i)[0] for i in range(2)}
    s.log_run({"target": "first"})
    s.log_run({"target": "second"})
    (tmp_path / "s" / "sweep.json").write_text('{"runs": [{"target": "fi')  # torn write
    with pytest.warns(CorruptPartWarning, match="restored from sweep.json.bak") as w:
        s.log_run({"target": "third"})
    assert "\n" not in str(w[0].message)
    runs = json.loads((tmp_path / "s" / "sweep.json").read_text())["runs"]
    assert [r["target"] for r in runs] == ["first", "third"]  # the backup held the log before "second"
    assert (tmp_path / "s" / "sweep.json.corrupt").read_text().startswith('{"runs"')
    assert Store(tmp_path / "s").done_keys() == keys
    # no backup either: the log restarts, still no traceback
    (tmp_path / "s" / "sweep.json").write_text("[1, 2")
    (tmp_path / "s" / "sweep.json.bak").write_text("{}")
    with pytest.warns(CorruptPartWarning, match="restarted empty"):
        s.log_run({"target": "fourth"})
    assert [r["target"] for r in json.loads((tmp_path / "s" / "sweep.json").read_text())["runs"]] == ["fourth"]


def test_merge_refuses_corrupt_sources_before_writing(tmp_path):
    a, b = Store(tmp_path / "a", write=True), Store(tmp_path / "b", write=True)
    _unit(a, 0)
    kb = _unit(b, 1)[0]
    _truncate(b.parts / f"{kb}.parquet")
    before = sorted(p.name for p in b.parts.iterdir())
    with pytest.raises(UsageError, match=f"unreadable part parts/{kb}.parquet") as e:
        merge(tmp_path / "m", tmp_path / "a", tmp_path / "b")
    assert "\n" not in str(e.value) and "nothing was merged" in str(e.value)
    assert not (tmp_path / "m").exists()
    assert sorted(p.name for p in b.parts.iterdir()) == before  # the source is not repaired behind its back
    # an existing destination is left exactly as it was
    merge(tmp_path / "m", tmp_path / "a")
    snap = sorted(p.name for p in (tmp_path / "m" / "parts").iterdir())
    with pytest.raises(UsageError, match="unreadable part"):
        merge(tmp_path / "m", tmp_path / "b")
    assert sorted(p.name for p in (tmp_path / "m" / "parts").iterdir()) == snap
    # damaged inside (magic bytes intact) is refused too
    c = Store(tmp_path / "c", write=True)
    f = c.parts / f"{_unit(c, 2)[0]}.parquet"
    data = bytearray(f.read_bytes())
    data[4:-8] = b"\x00" * (len(data) - 12)
    f.write_bytes(bytes(data))
    with pytest.raises(UsageError, match="unreadable part"):
        merge(tmp_path / "m2", tmp_path / "c")
    assert not (tmp_path / "m2").exists()
    # a source whose run log is unreadable
    (tmp_path / "a" / "sweep.json").write_text("{not json")
    with pytest.raises(UsageError, match="sweep.json.*cannot be read"):
        merge(tmp_path / "m3", tmp_path / "a")
    assert not (tmp_path / "m3").exists()


def test_load_errors(tmp_path):
    with pytest.raises(UsageError, match="not a results store"):
        load(tmp_path / "nothing")
    (tmp_path / "f").write_text("x")
    with pytest.raises(UsageError, match="not a directory"):
        Store(tmp_path / "f")
    assert len(Store(tmp_path / "empty", write=True).load()) == 0
