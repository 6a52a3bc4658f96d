"""Final files and folders are put in place whole, so that a reader never sees half of one.

One policy for every file newsbench keeps (run folders, reports, datasets, the feature
cache): write a temporary file in the target's folder, flush and fsync it, ``os.replace`` it
onto the target, then fsync the folder so that the rename itself survives a power cut. The
file gets the permissions a plain ``open`` would give it (``0o666`` less the umask), not the
private ``0o600`` of a temporary file.

A folder is built under a temporary name (``temp_folder``: the permissions of a plain
``mkdir``, not the private ``0o700`` of ``mkdtemp``) and swapped in by ``swap_folder``: a
previous folder is moved aside first, put back if the swap fails, and removed after it
succeeds.

Every temporary name carries the pid of its maker (``.<name>.<pid>.<random>.tmp``, and
``.<name>.old-<pid>-<hex>`` for a folder moved aside), so that ``owner_pid`` can tell the
debris of a killed process from the work of a live one (``bench ls --clean``).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["fsync_folder", "owner_pid", "swap_folder", "temp_folder", "write_atomic", "write_bytes", "write_text"]

_TEMP_NAME = re.compile(r"^\..+\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp$")
_ASIDE_NAME = re.compile(r"^\..+\.old-(?P<pid>\d+)-[0-9a-f]+$")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def owner_pid(name: str) -> int | None:
    """The pid in a temporary or moved-aside name made here; ``None`` for any other name."""
    found = _TEMP_NAME.match(name) or _ASIDE_NAME.match(name)
    return int(found["pid"]) if found else None


def temp_folder(parent: Path, name: str) -> Path:
    """A new empty folder ``parent/.<name>.<pid>.<random>.tmp`` with the umask's permissions."""
    Path(parent).mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=parent, prefix=f".{name}.{os.getpid()}.", suffix=".tmp"))
    os.chmod(tmp, 0o777 & ~_umask())
    return tmp


def fsync_folder(folder: Path) -> None:
    """Make a rename inside ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Create ``path`` whole: ``write`` fills a temporary file in the same folder, which replaces it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.",
                                suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)


def write_bytes(path: Path, data: bytes) -> None:
    """``data`` as the whole content of ``path``, written atomically."""
    write_atomic(path, lambda handle: handle.write(data))


def write_text(path: Path, text: str) -> None:
    """``text`` as UTF-8, written atomically (newlines as given)."""
    write_bytes(path, text.encode("utf-8"))


def swap_folder(tmp: Path, final: Path) -> None:
    """Put the complete folder ``tmp`` at ``final``, replacing any previous ``final``."""
    tmp, final = Path(tmp), Path(final)
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        os.replace(final, old)
    try:
        os.replace(tmp, final)
    except OSError:
        if old is not None and not final.exists():
            os.replace(old, final)
        raise
    fsync_folder(final.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def remove_path(path: Path) -> bool:
    """Remove a file, link or folder; ``False`` when it cannot be (a read-only folder: left as it is).

    For debris of killed processes, which is better left in place than allowed to fail a command.
    """
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        return not path.exists()
    return True
