"""``bench ls --clean``: remove what killed processes left under a results folder, never a run.

What counts as debris, and why removing it is safe:

- a temporary file or folder (``.<name>.<pid>.<random>.tmp``) or a folder moved aside
  (``.<name>.old-<pid>-<hex>``) whose maker, named by the pid in its name, is gone;
- inside a complete run, any temporary file, and a rescore journal nobody holds (a
  committed one is completed, an uncommitted one removed: ``bench.results.journal``). A
  complete run is written only by ``bench rescore``, which holds the run folder's lock, so a
  run whose lock is free has no live writer.

A ``.partial`` run is never removed (``bench run --resume`` finishes it); only the temporary
files of dead processes inside it are.
"""

from __future__ import annotations

from pathlib import Path

from bench.core.errors import ResultsError
from bench.core.files import owner_pid, remove_path
from bench.core.locks import folder_lock, pid_alive
from bench.results.journal import STAGING, recover_held
from bench.results.store import remove_temporaries
from bench.results.layout import PARTIAL_SUFFIX, is_run_folder

__all__ = ["clean_results"]


def _dead_owner(path: Path) -> bool:
    pid = owner_pid(path.name)
    return pid is not None and not pid_alive(pid)


def _clean_complete_run(run: Path) -> list[Path]:
    with folder_lock(run, blocking=False) as held:
        if not held:
            return []
        staging = run / STAGING
        removed = [staging] if staging.is_dir() else []
        recover_held(run)
        return removed + remove_temporaries(run)


def clean_results(root: Path) -> list[Path]:
    """Remove the debris of killed processes under ``root`` (see the module doc); returns what was removed."""
    root = Path(root)
    if not root.is_dir():
        return []
    removed: list[Path] = []
    for path in sorted(root.iterdir()):
        if _dead_owner(path):
            removed += [path] if remove_path(path) else []
        elif path.is_dir() and is_run_folder(path) and not path.name.endswith(PARTIAL_SUFFIX):
            try:
                removed += _clean_complete_run(path)
            except (OSError, ResultsError):  # a run that cannot be written here: left as it is
                continue
        elif path.is_dir():  # a .partial run, the feature cache: only files of dead processes
            removed += [inner for inner in sorted(path.rglob(".*.tmp")) if _dead_owner(inner) and remove_path(inner)]
    return removed
