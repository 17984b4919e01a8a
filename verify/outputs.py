"""Output folders the package owns: it never replaces, deletes or writes into a folder it did not create.

Every folder ratecheck writes (a report, a directory of counterexample records, a sweep store)
carries a marker file, :data:`MARKER`.  :func:`claim_dir` is the rule every ``--out`` goes through
before any work is done: a path that is a file, the current directory or one of its parents, or an
existing non-empty folder without the marker is refused with a one-line :class:`UsageError`, and
nothing is touched.  :func:`replace_dir` writes a whole folder atomically (scratch folder, then one
rename); scratch folders of interrupted runs are removed by the next run: those named with the process id of
a run that is no longer alive, and scratch folders of older versions (named without a process id) once they
are :data:`LEGACY_SCRATCH_AGE` seconds old.  Scratch folders never block a run (each run makes its own).
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from .errors import UsageError

__all__ = ["MARKER", "claim_dir", "check_out", "mark", "replace_dir", "writable", "pid_alive", "LEGACY_SCRATCH_AGE"]

#: File that marks a folder as written by ratecheck (it holds one line naming what wrote it).
MARKER = ".ratecheck"
#: Age (seconds) after which a scratch folder named without a process id (written by an older version) is stale.
LEGACY_SCRATCH_AGE = 3600.0


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's process
        return True
    except OverflowError:  # not a possible process id
        return False
    return True


_pid_alive = pid_alive


def writable(folder, option: str = "--out") -> None:
    """Raise a one-line :class:`UsageError` unless a file can be created in ``folder`` (an existing folder).

    Tried, not guessed: ``os.access`` says yes to root on a read-only file system or a read-only mount,
    so a scratch file is created and removed at once.
    """
    folder = Path(folder)
    try:
        fd, probe = tempfile.mkstemp(prefix=".ratecheck-probe-", dir=folder)
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise UsageError(f"{option}: cannot write in {str(folder)!r} ({reason})") from None
    os.close(fd)
    os.unlink(probe)


def _scratch_prefix(out: Path, kind: str) -> str:
    return f".{out.name}.{kind}-"


def _clean_stale(out: Path) -> None:
    """Remove scratch folders next to ``out`` left by runs that are no longer alive (``.NAME.tmp-PID-*``),
    and those of older versions (``.NAME.tmp-XXXXXXXX``, no process id) older than :data:`LEGACY_SCRATCH_AGE`."""
    parent = out.parent
    now = time.time()
    for kind in ("tmp", "old"):
        prefix = _scratch_prefix(out, kind)
        for p in parent.glob(glob.escape(prefix) + "*"):
            rest = p.name[len(prefix) :]
            m = re.match(r"(\d+)-", rest)
            try:
                if not p.is_dir() or p.is_symlink():
                    continue
                stale = (not pid_alive(int(m.group(1)))) if m else now - p.stat().st_mtime > LEGACY_SCRATCH_AGE
            except OSError:  # removed meanwhile by another run
                continue
            if stale:
                shutil.rmtree(p, ignore_errors=True)


def claim_dir(out, option: str = "--out") -> Path:
    """Check that ``out`` may be written by ratecheck; return it as a :class:`Path`.

    Refused (``UsageError``, nothing touched): a path that exists and is not a folder; the current
    directory or one of its parents; an existing folder that is not empty and has no :data:`MARKER`
    (a folder the package did not write); a parent that does not exist or is not a folder, or a parent (or
    existing folder) in which no file can be created (tried, see :func:`writable`).
    """
    try:
        return _claim_dir(out, option)
    except OSError as e:  # e.g. a name too long for the file system
        raise UsageError(f"{option} {str(out)!r}: {e.strerror or type(e).__name__}") from None


def _claim_dir(out, option: str) -> Path:
    p = Path(out)
    if str(out).strip() == "":
        raise UsageError(f"{option} must name a folder, got an empty path")
    if p.exists() and not p.is_dir():
        raise UsageError(f"{option} {str(p)!r} exists and is not a folder")
    resolved = p.resolve()
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        raise UsageError(
            f"{option} {str(p)!r} is the current directory or one of its parents; name a new folder "
            "(e.g. ratecheck-report)"
        )
    if p.is_dir() and not (p / MARKER).is_file() and any(p.iterdir()):
        raise UsageError(
            f"{option} {str(p)!r} is a folder that ratecheck did not write (it is not empty and has no "
            f"{MARKER} marker); name a new or empty folder"
        )
    parent = resolved.parent
    if not parent.exists():
        raise UsageError(f"{option}: parent folder {str(parent)!r} does not exist")
    if not parent.is_dir():
        raise UsageError(f"{option}: {str(parent)!r} is a file, not a folder: {str(p)!r} cannot be created in it")
    writable(parent, option)  # the output appears by a rename in its parent
    if p.is_dir():
        writable(p, option)
    return p


def check_out(out, option: str = "--out") -> Path:
    """:func:`claim_dir` for a folder that is added to rather than replaced (counterexample records): one
    that already carries the :data:`MARKER` only needs to be writable."""
    p = Path(out)
    if p.is_dir() and (p / MARKER).is_file():
        writable(p, option)
        return p
    return claim_dir(out, option)


def mark(folder: Path, what: str) -> None:
    """Write the marker into ``folder`` (a folder this package created)."""
    (Path(folder) / MARKER).write_text(f"written by ratecheck: {what}\n")


@contextlib.contextmanager
def replace_dir(out, what: str, option: str = "--out"):
    """Yield a scratch folder; on success it replaces ``out`` in one rename (``out`` appears whole or
    not at all).  On any error or interrupt the scratch folder is removed and ``out`` is untouched."""
    out = claim_dir(out, option)
    _clean_stale(out)
    parent = out.resolve().parent
    tmp = Path(tempfile.mkdtemp(prefix=_scratch_prefix(out, "tmp") + f"{os.getpid()}-", dir=parent))
    try:
        mark(tmp, what)
        yield tmp
        claim_dir(out, option)  # still ours (nobody filled it meanwhile)
        backup = None
        if out.exists():
            backup = Path(tempfile.mkdtemp(prefix=_scratch_prefix(out, "old") + f"{os.getpid()}-", dir=parent))
            os.replace(out, backup / "old")
        os.replace(tmp, out)
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
