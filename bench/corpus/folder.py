"""Which files of an articles folder are read: only regular files inside it, of a bounded size.

A dataset must hold what its folder holds, and a build must end: a matching name that is a
symbolic link resolving outside the folder (to ``/etc/passwd``, ``/dev/zero``), a broken or
looping link, or anything but a regular file (a FIFO, a device, a socket) is refused with one
line, as is a file larger than ``MAX_ARTICLE_BYTES``; nothing is skipped silently. Links
that stay inside the folder are read; linked sub-folders are not descended into
(``os.walk`` does not follow them), and hidden files and folders are skipped.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path

from bench.core.errors import DataError

DEFAULT_INCLUDE = ("*.txt", "*.md")
# The largest article file read (bytes): a news article is a few kB; a bigger file is a
# mistake (a whole dump in one file, a disk image) that would otherwise fill memory.
MAX_ARTICLE_BYTES = 10_000_000


def regular_file(path: Path, folder: Path) -> os.stat_result:
    """The status of ``path`` if it is a regular file inside ``folder`` (links followed), else one line."""
    if path.is_symlink():
        target = Path(os.path.realpath(path))
        if not target.is_relative_to(Path(os.path.realpath(folder))):
            raise DataError(path, None, "articles", f"a symbolic link to {target}, outside the articles folder; "
                            "copy the file into the folder or remove the link")
    try:
        status = path.stat()
    except OSError as exc:
        raise DataError(path, None, "articles", f"cannot be read ({exc.strerror}: a broken or looping link?); "
                        "fix or remove it") from None
    if not stat.S_ISREG(status.st_mode):
        raise DataError(path, None, "articles", "not a regular file (a FIFO, device or socket); "
                        "remove it from the articles folder or leave it out with source.articles.include")
    if status.st_size > MAX_ARTICLE_BYTES:
        raise DataError(path, None, "articles", f"{status.st_size:,} bytes, over the limit of "
                        f"{MAX_ARTICLE_BYTES:,} per article file; give one article per file (split the file)")
    return status


def article_files(folder: Path, include: Sequence[str] = DEFAULT_INCLUDE) -> list[tuple[str, Path]]:
    """(relative posix name, path) of every file whose name matches ``include``, sorted; hidden ones skipped.

    Raises:
        DataError: a matching name that is not a regular file inside ``folder`` (see the module
            docstring) or is over ``MAX_ARTICLE_BYTES``.
    """
    patterns = [re.compile(fnmatch.translate(pat.lower())) for pat in include]
    found = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        base = Path(root)
        prefix = base.relative_to(folder).as_posix()
        for name in names:
            if not name.startswith(".") and any(p.match(name.lower()) for p in patterns):
                regular_file(base / name, folder)
                found.append((name if prefix == "." else f"{prefix}/{name}", base / name))
    return sorted(found)
