"""One build of a dataset at a time, and the debris of killed builds removed.

``bench data build`` holds an exclusive ``flock`` on ``data/.<name>.lock`` from the
up-to-date check to the final rename (and removes the file when done: a failed build
leaves nothing in ``data/``). Builds of one dataset started together (a job array,
several runs that build on demand) therefore wait for each other, and all but the first find
the finished build up to date and reuse it: one build, one fingerprint. The kernel releases
the lock of a killed process, so a kill never blocks later builds.

A build killed part way leaves hidden folders beside the dataset: ``.<name>.build-*``
(prepared rows), ``.<name>.partial-*`` (the dataset being saved) and ``.<name>.old-*`` (a
previous build being replaced). Whoever holds the lock knows no other build of that name is
running, so the next build removes them (``remove_debris``); ``bench ls --clean`` removes
those of every dataset whose lock is free (``clean_data``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

from bench.core.files import remove_path
from bench.core.locks import lock_file, pid_alive

__all__ = ["build_lock", "clean_data", "debris_of", "remove_debris"]

_LOCK = re.compile(r"^\.(?P<name>.+)\.lock$")  # a build's lock file, left by a killed build
_DEBRIS = re.compile(r"^\.(?P<name>.+)\.(?:(?:build|partial)-.+|old-\d+-[0-9a-f]+|\d+\.[A-Za-z0-9_]+\.tmp)$")


def _lock_path(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.lock")


def debris_of(folder: Path) -> list[Path]:
    """The leftovers of killed builds of the dataset ``folder`` (it need not exist)."""
    parent = Path(folder).parent
    if not parent.is_dir():
        return []
    return sorted(path for path in parent.glob(f".{folder.name}.*")
                  if (found := _DEBRIS.match(path.name)) and found["name"] == folder.name)


def _owner(path: Path, name: str) -> int | None:
    """The pid a leftover's name records (``.<name>.build-<pid>-*``, ``.<name>.old-<pid>-*``...)."""
    rest = path.name[len(name) + 2:]
    found = re.match(r"^(?:build-|old-)?(\d+)[-.]", rest)
    return int(found[1]) if found and not rest.startswith("partial-") else None


def remove_debris(folder: Path) -> list[Path]:
    """Remove the leftovers of killed builds of ``folder``; the caller holds ``build_lock(folder)``.

    Holding the lock means no other build of this dataset runs; a leftover whose name still
    names a live process is kept all the same (a build by a version without the lock).
    """
    removed = []
    for path in debris_of(folder):
        pid = _owner(path, Path(folder).name)
        if (pid is None or not pid_alive(pid)) and remove_path(path):
            removed.append(path)
    return removed


@contextlib.contextmanager
def build_lock(folder: Path) -> Iterator[None]:
    """Wait for any other build of the dataset ``folder``, then hold the lock and clear its debris."""
    folder = Path(folder)
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(lock_file(_lock_path(folder), remove=True))
        except OSError:  # a folder we cannot write to: nothing is built or removed there, reading needs no lock
            yield
            return
        remove_debris(folder)
        yield


def clean_data(root: Path) -> list[Path]:
    """Remove the debris of killed builds under the data folder ``root`` (those of a dataset
    being built now are left alone); returns what was removed."""
    root = Path(root)
    if not root.is_dir():
        return []
    names = sorted({found["name"] for path in root.iterdir()
                    if (found := _DEBRIS.match(path.name) or _LOCK.match(path.name))})
    removed: list[Path] = []
    for name in names:
        lock = _lock_path(root / name)
        existed = lock.exists()
        try:
            with lock_file(lock, blocking=False, remove=True) as held:
                if held:
                    removed += remove_debris(root / name) + ([lock] if existed else [])
        except OSError:  # a folder that cannot be written here: left as it is
            continue
    return removed
