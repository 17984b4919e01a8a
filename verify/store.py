r"""A resumable Parquet results store for sweeps.

Layout of a store directory::

    DIR/
      sweep.json                 one entry per sweep run into this store (spec, version, git revision, time)
      summary.json               claim-level outcomes and scaling fits of the last run (written atomically)
      parts/<key>.parquet        the rows of one finished unit of work (cell, seed)
      parts/<key>.failed.parquet one row recording the error of a unit that raised (retried on resume)

A *unit* is one (claim, cell, seed); its ``key`` is a content hash of the claim (id and statement), the
experiment, the completed instance parameters and the seed, so the same command always produces the same keys
and a re-run skips every unit whose part file exists.  Part files are written to a temporary name and renamed
(``os.replace``), so an interrupted sweep leaves only whole files behind and loses at most the units in flight.
``merge`` copies part files between stores; keys make it idempotent (no row is ever duplicated).

Every part holds one row per evidence grid point with the columns of :data:`COLUMNS` plus one typed column
``param_<name>`` per instance parameter.  :func:`load` reads a store back as a :class:`pandas.DataFrame`.

pyarrow and pandas are imported lazily (extra ``[dask]``): ``import verify`` does not need them.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from .errors import UsageError
from .outputs import MARKER, claim_dir, mark

__all__ = ["Store", "COLUMNS", "PARAM_PREFIX", "unit_key", "rows_table", "failure_table", "load", "merge",
           "git_revision", "write_json_atomic"]

PARAM_PREFIX = "param_"
#: fixed columns of every part (name -> meaning); parameters add ``param_<name>`` columns
COLUMNS = {
    "key": "content hash of (claim, experiment, parameters, seed): the unit of work",
    "claim": "claim id", "experiment": "experiment name", "kind": "upper | lower | scaling | identity",
    "measure": "the measured quantity", "seed": "seed of the unit (derived from the cell's content)",
    "replicate": "replicate index r of cell_seed(cell, r)",
    "grid_name": "name of the evidence grid (T, t, sample...)", "grid": "grid point",
    "measured": "measured value at the grid point", "bound": "bound at the grid point",
    "stderr": "Monte Carlo standard error (NaN if exact)", "method": "deterministic | exact-expectation | monte-carlo | ...",
    "verdict": "verdict of the unit: holds | violated | inconclusive | pending (scaling, judged by the fit) | error",
    "expected": "expected verdict", "tightness": "max measured/bound of the unit (NaN if none)",
    "detail": "the verdict's explanation", "params": "JSON of the completed instance parameters",
    "constants": "JSON of the scalar constants of the instance", "wall_time": "seconds spent in the unit",
    "finished_at": "UTC time the unit finished", "version": "verify.__version__", "git_rev": "git revision or null",
    "host": "machine that ran the unit", "error": "error message (failed units) or null",
}
_FLOAT = {"grid", "measured", "bound", "stderr", "tightness", "wall_time"}
_INT = {"seed", "replicate"}


def _pa():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise UsageError("the results store needs pyarrow (pip install 'ratecheck[dask]')") from e
    return pa, pq


def _json(x: Any) -> str:
    from .verdict import _jsonable

    return json.dumps(_jsonable(x), sort_keys=True)


def unit_key(claim_fingerprint: str, experiment: str, params: dict, seed: int) -> str:
    """Content hash naming one unit of work (hex, 24 characters)."""
    blob = json.dumps({"claim": claim_fingerprint, "experiment": experiment, "params": params, "seed": int(seed)},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


@contextlib.contextmanager
def _atomic_path(path: Path):
    """Yield a temporary path next to ``path``; rename it onto ``path`` when the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_json_atomic(path, obj) -> None:
    path = Path(path)
    with _atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str))


def git_revision(path: str | os.PathLike | None = None) -> str | None:
    """The git revision (``HEAD``, with ``-dirty`` if the tree has changes) of the package, if any."""
    import subprocess

    where = Path(path) if path else Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=where,
                               capture_output=True, text=True, timeout=5)
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


# --------------------------------------------------------------------------- building tables
def _const_column(pa, value, n: int, kind: str):
    """A length-``n`` column repeating one value (strings dictionary-encoded: O(1) Python objects)."""
    if kind == "float":
        return pa.array(np.full(n, np.nan if value is None else float(value)), pa.float64())
    if kind == "int":
        return pa.array(np.full(n, int(value), dtype=np.int64), pa.int64())
    if kind == "bool":
        return pa.array(np.full(n, bool(value)), pa.bool_())
    if kind == "time":
        return pa.array(np.full(n, np.datetime64(int(value * 1e6), "us")), pa.timestamp("us", tz="UTC"))
    if value is None:
        return pa.DictionaryArray.from_arrays(pa.nulls(n, pa.int32()), pa.array([], pa.string()))
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([str(value)]))


def _param_kind(v) -> tuple[str, Any]:
    if isinstance(v, (bool, np.bool_)):
        return "bool", bool(v)
    if isinstance(v, (int, np.integer)):
        return "int", int(v)
    if isinstance(v, (float, np.floating)):
        return "float", float(v)
    if isinstance(v, str):
        return "str", v
    return "str", _json(v)


def rows_table(meta: dict, series: dict, params: dict):
    """A pyarrow Table with one row per grid point.

    ``meta`` gives the per-unit scalars (the fixed columns that are not series), ``series`` the arrays
    ``grid``, ``measured``, ``bound`` and ``stderr`` (same length), ``params`` the completed parameters.
    """
    pa, _ = _pa()
    grid = np.asarray(series["grid"], dtype=float).ravel()
    n = grid.size
    cols = {}
    for name in COLUMNS:
        if name in series:
            arr = np.broadcast_to(np.asarray(series[name] if series[name] is not None else np.nan, dtype=float), (n,))
            cols[name] = pa.array(np.ascontiguousarray(arr), pa.float64())
        elif name == "finished_at":
            cols[name] = _const_column(pa, meta.get(name, time.time()), n, "time")
        else:
            kind = "float" if name in _FLOAT else ("int" if name in _INT else "str")
            cols[name] = _const_column(pa, meta.get(name), n, kind)
    for k in sorted(params):
        kind, v = _param_kind(params[k])
        cols[PARAM_PREFIX + k] = _const_column(pa, v, n, kind)
    return pa.table(cols)


def failure_table(meta: dict, params: dict, error: str):
    """One row recording a unit that raised."""
    meta = dict(meta, verdict="error", error=error)
    return rows_table(meta, {"grid": [np.nan], "measured": [np.nan], "bound": [np.nan], "stderr": [np.nan]}, params)


# --------------------------------------------------------------------------- the store
class Store:
    """A results directory (see the module docstring).  Creating one makes the directory."""

    def __init__(self, path: str | os.PathLike, *, write: bool = False):
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise UsageError(f"results store {str(self.path)!r} exists and is not a directory")
        self.parts = self.path / "parts"
        if not write:
            if not self.parts.is_dir():
                raise UsageError(f"{str(self.path)!r} is not a results store (no parts/ directory)")
            return
        # a store this package wrote (marker, or the layout of a store written before markers existed)
        ours = (self.path / MARKER).is_file() or (self.parts.is_dir() and (self.path / "sweep.json").is_file())
        if not ours:
            claim_dir(self.path)  # never write into a folder the package did not create
        self.parts.mkdir(parents=True, exist_ok=True)
        if not (self.path / MARKER).is_file():
            mark(self.path, "results store")

    # ---------------------------------------------------------------- keys
    def _scan(self) -> tuple[set, set]:
        done, failed = set(), set()
        for name in os.listdir(self.parts):
            if name.startswith(".") or not name.endswith(".parquet"):
                continue
            if name.endswith(".failed.parquet"):
                failed.add(name[: -len(".failed.parquet")])
            else:
                done.add(name[: -len(".parquet")])
        return done, failed - done

    def done_keys(self) -> set:
        """Keys of units that finished (their rows are in the store)."""
        return self._scan()[0]

    def failed_keys(self) -> set:
        """Keys of units whose last attempt raised (and that have not succeeded since)."""
        return self._scan()[1]

    def _file(self, key: str, failed: bool = False) -> Path:
        return self.parts / (f"{key}.failed.parquet" if failed else f"{key}.parquet")

    # ---------------------------------------------------------------- writing
    def write(self, key: str, table, failed: bool = False) -> Path:
        """Write the rows of one unit atomically; a success replaces an earlier failure record."""
        _, pq = _pa()
        dest = self._file(key, failed)
        pa = _pa()[0]
        strings = [f.name for f in table.schema if pa.types.is_dictionary(f.type) or pa.types.is_string(f.type)]
        with _atomic_path(dest) as tmp:  # dictionary pages for strings only, no statistics: ~2 ms per part
            pq.write_table(table, tmp, compression="snappy", use_dictionary=strings, write_statistics=False)
        if not failed:
            with contextlib.suppress(FileNotFoundError):
                self._file(key, True).unlink()
        return dest

    def log_run(self, entry: dict) -> None:
        """Append a run description to ``sweep.json`` (atomically rewritten)."""
        f = self.path / "sweep.json"
        runs = json.loads(f.read_text())["runs"] if f.exists() else []
        runs.append(dict(entry, host=socket.gethostname(), started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))
        write_json_atomic(f, {"runs": runs})

    def clean_temporary(self) -> int:
        """Remove temporary files left by an interrupted writer; returns how many."""
        n = 0
        for name in os.listdir(self.parts):
            if name.startswith(".tmp-"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.parts / name)
                    n += 1
        return n

    # ---------------------------------------------------------------- reading
    def files(self, keys: Iterable[str] | None = None, failed: bool = True) -> list[Path]:
        done, bad = self._scan()
        want = None if keys is None else set(keys)
        out = [self._file(k) for k in sorted(done) if want is None or k in want]
        if failed:
            out += [self._file(k, True) for k in sorted(bad) if want is None or k in want]
        return out

    def table(self, keys: Iterable[str] | None = None, failed: bool = True):
        """All rows (of ``keys`` if given) as one pyarrow Table with unified schema.

        String columns stay dictionary-encoded (pandas categoricals): decoding a million repeated strings
        would dominate the load time.
        """
        pa, pq = _pa()
        tables = [pq.read_table(f) for f in self.files(keys, failed)]
        if not tables:
            return pa.table({c: pa.array([], _schema_type(pa, c)) for c in COLUMNS})
        try:
            return pa.concat_tables(tables, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # a parameter with different types in different parts
            tables = [_params_as_text(pa, t) for t in tables]
            return pa.concat_tables(tables, promote_options="permissive")

    def load(self, keys: Iterable[str] | None = None, failed: bool = True):
        """All rows as a :class:`pandas.DataFrame`."""
        return self.table(keys, failed).to_pandas()


def _schema_type(pa, name):
    if name in _FLOAT:
        return pa.float64()
    if name in _INT:
        return pa.int64()
    if name == "finished_at":
        return pa.timestamp("us", tz="UTC")
    return pa.string()


def _params_as_text(pa, t):
    for i, f in enumerate(t.schema):
        if f.name.startswith(PARAM_PREFIX) and not pa.types.is_dictionary(f.type):
            t = t.set_column(i, f.name, t.column(i).cast(pa.string()).dictionary_encode())
    return t


def load(path, keys: Iterable[str] | None = None, failed: bool = True):
    """Read a store as a pandas DataFrame (one row per unit and grid point)."""
    return Store(path).load(keys, failed)


def merge(dest, *sources) -> dict:
    """Copy every part of ``sources`` into the store ``dest`` (created if needed).

    Units already finished in ``dest`` are kept (same key = same content); a finished unit replaces a
    failure record.  Returns counts ``{"copied", "skipped", "failed_copied"}``.
    """
    if not sources:
        raise UsageError("merge needs at least one source store")
    for src in sources:
        Store(src)  # an existing store, or a one-line error before anything is written
        if Path(src).resolve() == Path(dest).resolve():
            raise UsageError(f"cannot merge the store {str(src)!r} into itself")
    out = Store(dest, write=True)
    counts = {"copied": 0, "skipped": 0, "failed_copied": 0}
    runs = []
    for src in sources:
        s = Store(src)
        done, failed = s._scan()
        have, have_failed = out._scan()
        for k in sorted(done):
            if k in have:
                counts["skipped"] += 1
                continue
            with _atomic_path(out._file(k)) as tmp:
                shutil.copyfile(s._file(k), tmp)
            with contextlib.suppress(FileNotFoundError):
                out._file(k, True).unlink()
            counts["copied"] += 1
        for k in sorted(failed):
            if k in have or k in done:
                continue
            with _atomic_path(out._file(k, True)) as tmp:
                shutil.copyfile(s._file(k, True), tmp)
            counts["failed_copied"] += 1
        f = Path(src, "sweep.json")
        if f.exists():
            runs += [dict(r, merged_from=str(src)) for r in json.loads(f.read_text()).get("runs", [])]
    if runs:
        f = out.path / "sweep.json"
        old = json.loads(f.read_text())["runs"] if f.exists() else []
        write_json_atomic(f, {"runs": old + runs})
    return counts
