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


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (on_disk.st_dev, on_disk.st_ino)


@contextlib.contextmanager
def lock_file(path: Path, *, blocking: bool = True, remove: bool = False) -> Iterator[bool]:
    """Hold an exclusive lock on ``path`` (created if missing) for the ``with`` block.

    Yields whether the lock is held: always ``True`` when ``blocking`` (it waits), ``False``
    without waiting when another process holds it. With ``remove``, the holder deletes the
    lock file when it is done, so that no lock file stays behind; a waiter that then gets
    the lock on the deleted file sees that the path is gone (or is another file) and locks
    the path afresh, so two processes never both hold the lock of one path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            held = _flock(fd, blocking)
        except BaseException:
            os.close(fd)
            raise
        if held and remove and not _same_file(fd, path):
            os.close(fd)  # its previous holder removed it: lock the current file instead
            continue
        break
    try:
        yield held
    finally:
        if held and remove:
            path.unlink(missing_ok=True)  # while still holding it
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
