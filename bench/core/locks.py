"""Advisory locks (``fcntl.flock``) and the liveness of the process that owns a file.

A lock is held on an open file, so the kernel drops it when its process dies, even by
SIGKILL: a lock can never be left behind by a killed build or rescore. Where ``fcntl`` is
missing (Windows) the lock is a no-op: concurrent work is then wasted, never wrong, because
every final file is still swapped in whole (``bench.core.files``).

Temporary files and folders carry the pid of the process that made them in their names
(``bench.core.files``), so that a cleaner can tell the debris of a killed process from the
work of a live one (``pid_alive``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["folder_lock", "lock_file", "pid_alive"]


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (a process of another user counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _flock(fd: int, blocking: bool) -> bool:
    try:
        import fcntl
    except ImportError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def lock_file(path: Path, *, blocking: bool = True) -> Iterator[bool]:
    """Hold an exclusive lock on ``path`` (created if missing) for the ``with`` block.

    Yields whether the lock is held: always ``True`` when ``blocking`` (it waits), ``False``
    without waiting when another process holds it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        yield _flock(fd, blocking)
    finally:
        os.close(fd)


@contextlib.contextmanager
def folder_lock(folder: Path, *, blocking: bool = True) -> Iterator[bool]:
    """Like ``lock_file``, on a folder itself (no lock file is left inside it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # a platform where folders cannot be opened: no lock
        yield True
        return
    try:
        yield _flock(fd, blocking)
    finally:
        os.close(fd)
