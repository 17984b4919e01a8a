"""Output folders the package owns: it never replaces, deletes or writes into a folder it did not create.

Every folder ratecheck writes (a report, a directory of counterexample records, a sweep store)
carries a marker file, :data:`MARKER`.  :func:`claim_dir` is the rule every ``--out`` goes through
before any work is done: a path that is a file, the current directory or one of its parents, or an
existing non-empty folder without the marker is refused with a one-line :class:`UsageError`, and
nothing is touched.  :func:`replace_dir` writes a whole folder atomically (scratch folder, then one
rename); scratch folders of interrupted runs are removed by the next run.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from .errors import UsageError

__all__ = ["MARKER", "claim_dir", "mark", "replace_dir"]

#: File that marks a folder as written by ratecheck (it holds one line naming what wrote it).
MARKER = ".ratecheck"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's process
        return True
    return True


def _scratch_prefix(out: Path, kind: str) -> str:
    return f".{out.name}.{kind}-"


def _clean_stale(out: Path) -> None:
    """Remove scratch folders next to ``out`` left by runs that are no longer alive (``.NAME.tmp-PID-*``)."""
    parent = out.parent
    for kind in ("tmp", "old"):
        for p in parent.glob(_scratch_prefix(out, kind) + "*"):
            pid = p.name[len(_scratch_prefix(out, kind)):].split("-", 1)[0]
            if p.is_dir() and pid.isdigit() and not _pid_alive(int(pid)):
                shutil.rmtree(p, ignore_errors=True)


def claim_dir(out, option: str = "--out") -> Path:
    """Check that ``out`` may be written by ratecheck; return it as a :class:`Path`.

    Refused (``UsageError``, nothing touched): a path that exists and is not a folder; the current
    directory or one of its parents; an existing folder that is not empty and has no :data:`MARKER`
    (a folder the package did not write); a parent that does not exist or is not writable.
    """
    p = Path(out)
    if str(out).strip() == "":
        raise UsageError(f"{option} must name a folder, got an empty path")
    if p.exists() and not p.is_dir():
        raise UsageError(f"{option} {str(p)!r} exists and is not a folder")
    resolved = p.resolve()
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        raise UsageError(f"{option} {str(p)!r} is the current directory or one of its parents; name a new folder "
                         "(e.g. ratecheck-report)")
    if p.is_dir() and not (p / MARKER).is_file() and any(p.iterdir()):
        raise UsageError(f"{option} {str(p)!r} is a folder that ratecheck did not write (it is not empty and has no "
                         f"{MARKER} marker); name a new or empty folder")
    parent = resolved.parent
    if not parent.is_dir():
        raise UsageError(f"{option}: parent folder {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK) or (p.is_dir() and not os.access(p, os.W_OK)):
        raise UsageError(f"{option}: cannot write in {str(parent if not p.is_dir() else p)!r}")
    return p


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
