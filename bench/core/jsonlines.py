"""JSON Lines and JSON arrays of records, read one way everywhere (dataset sources, label sidecars,
imported predictions).

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


def json_records(text: str, path: str | Path, key: str = "") -> list[dict[str, Any]]:
    """The objects of a JSON file that holds one list of objects (a ``.json`` source or predictions file).

    Raises:
        DataError: invalid or too deeply nested JSON, or anything but a list of objects.
    """
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(path, exc.lineno, key, f"invalid JSON ({exc.msg}); fix the syntax") from None
    except RecursionError:
        raise DataError(path, None, key, "JSON nested too deeply to read; write a flat list of objects") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise DataError(path, None, key, "expected a JSON list of objects; for one object per line use a .jsonl "
                        "file (source.format: jsonl for a dataset)")
    return records
