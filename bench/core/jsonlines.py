"""JSON Lines, read one way everywhere (dataset sources, label sidecars, imported predictions).

Blank lines are skipped; a line that is not a JSON object is a ``DataError`` naming the
file and line, so every reader reports the same problem the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from bench.core.errors import DataError


def json_objects(text: str, path: str | Path, key: str = "") -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line of ``text`` read from ``path``.

    Args:
        text: the decoded file.
        path: the file, for messages.
        key: what the caller calls this file in messages (``json``, or empty).

    Raises:
        DataError: a line that is not valid JSON or not an object.
    """
    return json_lines(text.split("\n"), path, key)


def json_lines(lines: Iterable[str], path: str | Path, key: str = "") -> Iterator[tuple[int, dict[str, Any]]]:
    """``json_objects`` over lines given one at a time (a file read as it is consumed)."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(path, number, key, f"invalid JSON ({exc.msg}); write one JSON object per line") from None
        except RecursionError:
            raise DataError(path, number, key, "JSON nested too deeply to read; write one flat JSON object "
                            "per line") from None
        if not isinstance(record, dict):
            raise DataError(path, number, key, f"expected a JSON object, got {type(record).__name__}; "
                            "write one JSON object per line")
        yield number, record
