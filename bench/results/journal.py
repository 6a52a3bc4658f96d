"""All-or-nothing rewrites of a complete run's files: ``bench rescore`` stages, commits, applies.

A rescore rewrites many files (every ``jobs/<id>.json``, ``metrics.json``, ``metrics.csv``,
``manifest.json``); each is written whole, but a kill between two of them would leave a run
with two metric sets. So the new files go through a journal inside the run folder:

1. **stage**: every new file is written (atomically, fsynced) under ``<run>/.rescore/``, at
   its relative path; the live files are not touched. A kill here leaves the run fully old:
   a staging folder without a commit marker is thrown away by the next reader.
2. **commit**: ``<run>/.rescore/COMMITTED`` (the list of staged paths) is written
   atomically. That rename is the one instant at which the run changes from old to new.
3. **apply**: each staged file is renamed onto its live path (``os.replace``, the manifest
   last), then the marker and the staging folder are removed. A kill here leaves a committed
   journal, which the next reader (``RunDir.open``, hence ``bench ls``, ``show``, ``compare``,
   ``report``, ``rescore``) completes before it reads anything: the run is fully new.

So after a SIGKILL at any point, every read of the run sees it fully old or fully new.
Completing is idempotent (an already moved file is skipped), so a kill during recovery is
recovered the same way. The writer holds an exclusive ``flock`` on the run folder from
staging to the end of applying; a reader that finds the lock held leaves the journal to its
live owner: before the commit it reads the old files, untouched until then; after it, it
waits for the owner to finish applying. (A reader that opened the run before a live
rescore committed can still read some files before and some after: the guarantee is
against kills, not against reading while another process rescores.)
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from bench.core.errors import ResultsError
from bench.core.files import fsync_folder, write_bytes, write_text
from bench.core.locks import folder_lock

__all__ = ["COMMITTED", "STAGING", "commit_files", "recover", "recover_held"]

STAGING = ".rescore"
COMMITTED = "COMMITTED"
LAST = "manifest.json"  # applied last: the manifest says which metrics the files hold


def _staged_paths(staging: Path) -> list[str]:
    try:
        paths = json.loads((staging / COMMITTED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        paths = None
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise ResultsError(f"{staging / COMMITTED}: damaged rescore journal; delete {staging} and run "
                           "`bench rescore` again")
    return paths


def _apply(run: Path) -> None:
    """Move every staged file onto its live path (skipping those already moved), then clean up."""
    staging = run / STAGING
    paths = _staged_paths(staging)
    folders = set()
    for rel in sorted(paths, key=lambda p: p == LAST):
        source, target = staging / rel, run / rel
        if ".." in Path(rel).parts or Path(rel).is_absolute():
            raise ResultsError(f"{staging / COMMITTED}: {rel!r} is outside the run; delete {staging}")
        if source.is_file():
            os.replace(source, target)
            folders.add(target.parent)
    for folder in folders:
        fsync_folder(folder)
    (staging / COMMITTED).unlink(missing_ok=True)
    fsync_folder(staging)
    shutil.rmtree(staging, ignore_errors=True)


def recover(run: Path) -> str | None:
    """Finish or undo a rescore a killed process left in ``run``.

    Returns ``"completed"`` (a committed journal applied), ``"rolled back"`` (an uncommitted
    staging folder removed) or ``None`` (nothing to do, or a live rescore owns the journal).

    Raises:
        ResultsError: the journal cannot be completed here (read-only folder, damaged marker).
    """
    run = Path(run)
    if not (run / STAGING).is_dir():
        return None
    with folder_lock(run, blocking=False) as held:
        if held:
            return recover_held(run)
    if (run / STAGING / COMMITTED).is_file():  # its live owner is applying: a few renames, wait for them
        with folder_lock(run):
            return recover_held(run)
    return None


def recover_held(run: Path) -> str | None:
    """``recover`` for a caller that already holds ``folder_lock(run)``."""
    staging = Path(run) / STAGING
    if not staging.is_dir():
        return None
    try:
        if (staging / COMMITTED).is_file():
            _apply(Path(run))
            return "completed"
        shutil.rmtree(staging)
        return "rolled back"
    except OSError as exc:
        raise ResultsError(f"{run}: an interrupted `bench rescore` cannot be finished here "
                           f"({exc.strerror or exc}); run `bench rescore {run}` where the folder "
                           "is writable") from None


def commit_files(run: Path, files: Mapping[str, bytes]) -> None:
    """Replace the run's files ``{relative path: content}`` all together (see the module doc).

    The caller holds ``folder_lock(run)`` and has finished any earlier journal (``recover_held``).
    """
    run = Path(run)
    staging = run / STAGING
    staging.mkdir()
    for rel, data in files.items():
        write_bytes(staging / rel, data)
    write_text(staging / COMMITTED, json.dumps(sorted(files), indent=1) + "\n")  # the commit point
    _apply(run)
