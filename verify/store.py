r"""A resumable Parquet results store for sweeps.

Layout of a store directory::

    DIR/
      sweep.json                 one entry per sweep run into this store (spec, version, git revision, time)
      summary.json               claim-level outcomes and scaling fits of the last run (written atomically)
      parts/<key>.parquet        the rows of one finished unit of work (cell, seed)
      parts/<key>.failed.parquet one row recording the error of a unit that raised (retried on resume)
      quarantine/                parts that could not be read, moved aside by the next sweep (their units re-run)

A *unit* is one (claim, cell, seed); its ``key`` is a content hash of the claim (id and statement), the
experiment, the completed instance parameters and the seed, so the same command always produces the same keys
and a re-run skips every unit whose part file exists.  Part files are written to a temporary name and renamed
(``os.replace``), so an interrupted sweep leaves only whole files behind and loses at most the units in flight.
``merge`` copies part files between stores; keys make it idempotent (no row is ever duplicated).

The store repairs itself: a part that cannot be read (truncated by a crash or a full disk, damaged by a copy)
is skipped by readers with a one-line :class:`CorruptPartWarning`, and a writer (a sweep resuming into the
store) moves it to ``quarantine/`` so that its unit is run again.  Temporary files are named with the host and
process id that write them (``.tmp-HOST-PID-*``); a sweep removes only those of processes that are no longer
alive, so two sweeps may write into one store at once.  An unreadable ``sweep.json`` is kept aside as
``sweep.json.corrupt`` and the run log restarted from its backup ``sweep.json.bak``; ``merge`` reads every
source part before it writes anything and refuses a source with an unreadable part.

Every part holds one row per evidence grid point with the columns of :data:`COLUMNS` plus one typed column
``param_<name>`` per instance parameter.  :func:`load` reads a store back as a :class:`pandas.DataFrame`.

pyarrow and pandas are imported lazily (extra ``[dask]``): ``import ratecheck`` does not need them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from .errors import UsageError
from .outputs import MARKER, claim_dir, mark, pid_alive, writable

__all__ = [
    "Store",
    "COLUMNS",
    "PARAM_PREFIX",
    "unit_key",
    "rows_table",
    "failure_table",
    "load",
    "merge",
    "git_revision",
    "write_json_atomic",
    "CorruptPartWarning",
    "STALE_TEMPORARY_AGE",
]


class CorruptPartWarning(UserWarning):
    """A part of a results store could not be read (its message is one line)."""


#: Age (seconds) after which a temporary file of another machine, or of an older version (no process id in its
#: name), is stale: writing one part takes milliseconds.
STALE_TEMPORARY_AGE = 3600.0
_HOST = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]
_TMP = ".tmp-"
_TMP_NAME = re.compile(r"^\.tmp-([0-9a-f]{8})-(\d+)-")
_MAGIC = b"PAR1"

PARAM_PREFIX = "param_"
#: fixed columns of every part (name -> meaning); parameters add ``param_<name>`` columns
COLUMNS = {
    "key": "content hash of (claim, experiment, parameters, seed): the unit of work",
    "claim": "claim id",
    "experiment": "experiment name",
    "kind": "upper | lower | scaling | identity",
    "measure": "the measured quantity",
    "seed": "seed of the unit (derived from the cell's content)",
    "replicate": "replicate index r of cell_seed(cell, r)",
    "grid_name": "name of the evidence grid (T, t, sample...)",
    "grid": "grid point",
    "measured": "measured value at the grid point",
    "bound": "bound at the grid point",
    "stderr": "Monte Carlo standard error (NaN if exact)",
    "method": "deterministic | exact-expectation | monte-carlo | ...",
    "verdict": "verdict of the unit: holds | violated | inconclusive | pending (scaling, judged by the fit) | error",
    "expected": "expected verdict",
    "tightness": "max measured/bound of the unit (NaN if none)",
    "detail": "the verdict's explanation",
    "params": "JSON of the completed instance parameters",
    "constants": "JSON of the scalar constants of the instance",
    "wall_time": "seconds spent in the unit",
    "finished_at": "UTC time the unit finished",
    "version": "verify.__version__",
    "git_rev": "git revision or null",
    "host": "machine that ran the unit",
    "error": "error message (failed units) or null",
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
    blob = json.dumps(
        {"claim": claim_fingerprint, "experiment": experiment, "params": params, "seed": int(seed)},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


@contextlib.contextmanager
def _atomic_path(path: Path):
    """Yield a temporary path next to ``path``; rename it onto ``path`` when the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{_TMP}{_HOST}-{os.getpid()}-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _stale_temporary(path: Path, now: float) -> bool:
    """A temporary file whose writer is gone: a dead process of this host, else (another host, or an older
    version's name without a process id) older than :data:`STALE_TEMPORARY_AGE`."""
    m = _TMP_NAME.match(path.name)
    if m and m.group(1) == _HOST:
        return not pid_alive(int(m.group(2)))
    try:
        return now - path.stat().st_mtime > STALE_TEMPORARY_AGE
    except OSError:
        return False


def write_json_atomic(path, obj) -> None:
    path = Path(path)
    with _atomic_path(path) as tmp:
        with open(tmp, "w") as f:
            f.write(json.dumps(obj, indent=2, sort_keys=True, default=str))
            f.flush()
            os.fsync(f.fileno())


def _part_problem(path: Path) -> str | None:
    """Why a part file cannot be a whole Parquet file (size, magic bytes), or None; cheap (no decoding)."""
    try:
        size = path.stat().st_size
        if size < 12:
            return f"{size} bytes: truncated"
        with open(path, "rb") as f:
            head = f.read(4)
            f.seek(-4, os.SEEK_END)
            tail = f.read(4)
    except FileNotFoundError:
        return None  # replaced meanwhile (a failure record superseded by a success)
    except OSError as e:
        return e.strerror or type(e).__name__
    if head != _MAGIC or tail != _MAGIC:
        return "truncated or not a Parquet file (no PAR1 footer)"
    return None


def _one_line(e: BaseException) -> str:
    return " ".join(f"{type(e).__name__}: {e}".split())[:300]


def _read_part(pq, path: Path):
    """Read one part fully; return (table, None) or (None, reason)."""
    problem = _part_problem(path)
    if problem is not None:
        return None, problem
    try:
        return pq.read_table(path), None
    except FileNotFoundError:
        return None, None
    except Exception as e:  # noqa: BLE001 - pyarrow raises ArrowInvalid, OSError, ... for damaged files
        return None, _one_line(e)


def _read_runs(path: Path) -> list:
    """The runs logged in a ``sweep.json``; ValueError (one line) if it cannot be read."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{str(path)!r} cannot be read ({_one_line(e)})") from None
    runs = data.get("runs") if isinstance(data, dict) else None
    if not isinstance(runs, list) or not all(isinstance(r, dict) for r in runs):
        raise ValueError(f'{str(path)!r} is not a run log (it must hold {{"runs": [...]}})')
    return runs


def git_revision(path: str | os.PathLike | None = None) -> str | None:
    """The git revision (``HEAD``, with ``-dirty`` if the tree has changes) of the package, if any."""
    import subprocess

    where = Path(path) if path else Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=5,
        )
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
        self.quarantine = self.path / "quarantine"
        self.write_access = write
        self.unreadable: dict[str, str] = {}  # part file name -> why it could not be read (skipped)
        self._warned: set = set()
        if not write:
            if not self.parts.is_dir():
                raise UsageError(f"{str(self.path)!r} is not a results store (no parts/ directory)")
            return
        # a store this package wrote (marker, or the layout of a store written before markers existed)
        ours = (self.path / MARKER).is_file() or (self.parts.is_dir() and (self.path / "sweep.json").is_file())
        if not ours:
            claim_dir(self.path)  # never write into a folder the package did not create
        self.parts.mkdir(parents=True, exist_ok=True)
        writable(self.parts, f"results store {str(self.path)!r}")
        if not (self.path / MARKER).is_file():
            mark(self.path, "results store")

    # ---------------------------------------------------------------- keys
    def _scan(self) -> tuple[set, set]:
        done, failed, bad = set(), set(), {}
        for name in os.listdir(self.parts):
            if name.startswith(".") or not name.endswith(".parquet"):
                continue
            problem = _part_problem(self.parts / name)
            if problem is not None:
                bad[name] = problem
            elif name.endswith(".failed.parquet"):
                failed.add(name[: -len(".failed.parquet")])
            else:
                done.add(name[: -len(".parquet")])
        self._unreadable(bad)
        return done, failed - done

    def _unreadable(self, bad: dict) -> None:
        """Skip unreadable parts: a writer moves them to ``quarantine/`` (their units run again); warn once."""
        if not bad:
            return
        self.unreadable.update(bad)
        moved = False
        if self.write_access:
            for name in bad:
                moved = self._move_aside(name) or moved
        new = [n for n in sorted(bad) if n not in self._warned]
        self._warned.update(new)
        if new:
            names = ", ".join(new[:3]) + (f" and {len(new) - 3} more" if len(new) > 3 else "")
            where = f"moved to {str(self.quarantine)!r}" if moved else "skipped"
            warnings.warn(
                CorruptPartWarning(
                    f"results store {str(self.path)!r}: {len(new)} unreadable part{'s' if len(new) > 1 else ''} {where} "
                    f"(the next sweep runs {'their units' if len(new) > 1 else 'its unit'} again): {names} "
                    f"({bad[new[0]]})"
                ),
                stacklevel=3,
            )

    def _move_aside(self, name: str) -> bool:
        try:
            self.quarantine.mkdir(exist_ok=True)
            dest = self.quarantine / name
            if dest.exists():
                dest = self.quarantine / f"{name}.{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
            os.replace(self.parts / name, dest)
            return True
        except FileNotFoundError:  # moved meanwhile by another writer
            return True
        except OSError:
            return False

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

    def runs(self) -> list:
        """The runs logged in ``sweep.json``.

        A log that cannot be read is kept as ``sweep.json.corrupt`` (by a writer) and replaced by its backup
        ``sweep.json.bak`` (the log before the last run), else by an empty log, with a one-line warning; the
        parts are not touched."""
        f = self.path / "sweep.json"
        if not f.exists():
            return []
        try:
            return _read_runs(f)
        except ValueError as e:
            problem = str(e)
        try:
            runs = _read_runs(self.path / "sweep.json.bak")
            kept = "restored from sweep.json.bak"
        except ValueError:
            runs, kept = [], "restarted empty"
        if self.write_access:
            with contextlib.suppress(OSError):
                os.replace(f, _free_name(self.path / "sweep.json.corrupt"))
            kept += "; the damaged file is kept as sweep.json.corrupt"
        warnings.warn(CorruptPartWarning(f"results store {str(self.path)!r}: {problem}; run log {kept}"), stacklevel=2)
        return runs

    def log_run(self, entry: dict) -> None:
        """Append a run description to ``sweep.json`` (atomically rewritten, the previous log kept as
        ``sweep.json.bak``; serialized between processes by a lock file on systems that have ``fcntl``)."""
        f = self.path / "sweep.json"
        with _locked(self.path / ".lock"):
            runs = self.runs()
            if f.exists():
                with contextlib.suppress(OSError):
                    write_json_atomic(self.path / "sweep.json.bak", {"runs": runs})
            runs.append(
                dict(entry, host=socket.gethostname(), started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            )
            write_json_atomic(f, {"runs": runs})

    def clean_temporary(self) -> int:
        """Remove temporary files whose writer is gone (a dead process of this host; another host's, or an
        older version's, when older than :data:`STALE_TEMPORARY_AGE`); returns how many.  Temporaries of
        live writers (another sweep into the same store) are left alone."""
        n, now = 0, time.time()
        for folder in (self.parts, self.path):
            for name in os.listdir(folder):
                if name.startswith(_TMP) and _stale_temporary(folder / name, now):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(folder / name)
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
        tables, bad = [], {}
        for f in self.files(keys, failed):
            t, problem = _read_part(pq, f)
            if t is not None:
                tables.append(t)
            elif problem is not None:
                bad[f.name] = problem
        self._unreadable(bad)
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


def _free_name(path: Path) -> Path:
    """``path``, or ``path.N`` for the first N that does not exist."""
    if not path.exists():
        return path
    n = 1
    while Path(f"{path}.{n}").exists():
        n += 1
    return Path(f"{path}.{n}")


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive lock on ``path`` (created if needed) for the block; no lock where fcntl is missing."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


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
    failure record.  Every source part (and run log) is read in full before anything is written: a source
    with an unreadable part is refused with a one-line :class:`UsageError` and ``dest`` is not touched.
    Returns counts ``{"copied", "skipped", "failed_copied"}``.
    """
    if not sources:
        raise UsageError("merge needs at least one source store")
    _, pq = _pa()
    plans = []
    for src in sources:
        s = Store(src)  # an existing store, or a one-line error before anything is written
        if Path(src).resolve() == Path(dest).resolve():
            raise UsageError(f"cannot merge the store {str(src)!r} into itself")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CorruptPartWarning)
            done, failed = s._scan()
        if s.unreadable:
            name, why = sorted(s.unreadable.items())[0]
            raise UsageError(
                f"merge: source store {str(src)!r} has an unreadable part parts/{name} ({why}); nothing "
                "was merged (a sweep into that store moves it aside and runs its unit again)"
            )
        for f in [s._file(k) for k in sorted(done)] + [s._file(k, True) for k in sorted(failed)]:
            t, why = _read_part(pq, f)
            if t is None and why is not None:
                raise UsageError(
                    f"merge: source store {str(src)!r} has an unreadable part parts/{f.name} ({why}); "
                    "nothing was merged (a sweep into that store moves it aside and runs its unit again)"
                )
        log = Path(src, "sweep.json")
        try:
            runs = _read_runs(log) if log.exists() else []
        except ValueError as e:
            raise UsageError(f"merge: source store {str(src)!r}: {e}; nothing was merged") from None
        plans.append((src, s, done, failed, runs))
    out = Store(dest, write=True)
    counts = {"copied": 0, "skipped": 0, "failed_copied": 0}
    runs = []
    for src, s, done, failed, src_runs in plans:
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
        runs += [dict(r, merged_from=str(src)) for r in src_runs]
    if runs:
        f = out.path / "sweep.json"
        with _locked(out.path / ".lock"):
            old = out.runs()
            if f.exists():
                with contextlib.suppress(OSError):
                    write_json_atomic(out.path / "sweep.json.bak", {"runs": old})
            write_json_atomic(f, {"runs": old + runs})
    return counts
