"""Dataset sources from installed packages: the ``newsbench.sources`` entry point group.

A plugin source reads a format or a store newsbench does not know (an XML dump, a database,
fastText-style ``__label__`` lines) into raw rows, one ``pandas.DataFrame`` per split; a
dataset spec names it under ``source.plugin`` and maps its columns as for any other source
(docs/datasets.md). The entry point loads a reader, called as ``reader(path, **params)``:
``path`` is ``source.plugin.path`` resolved against the spec's folder (or ``None``), and
``params`` are checked against the reader's signature when the spec is read. Everything
after the read (cleaning, label checks, splits, audit) is the builder's, as for files.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.core.plugins import summary
from bench.core.registry import Registry

__all__ = ["SOURCES", "SourceReader", "check_params", "read_frames"]


@dataclass(frozen=True, kw_only=True)
class SourceReader:
    """A registered dataset source: ``read(path, **params)`` -> ``{split: DataFrame}``."""

    name: str
    read: Callable[..., Mapping[str, Any]]
    description: str = ""


def _adapt_plugin(name: str, obj: Any, path: str) -> SourceReader:
    """A ``newsbench.sources`` entry point: a ``SourceReader``, or the reader function itself."""
    if isinstance(obj, SourceReader):
        return SourceReader(name=name, read=obj.read, description=obj.description)
    if not callable(obj):
        raise TypeError(f"{path} is neither a SourceReader nor a function reader(path, **params)")
    return SourceReader(name=name, read=obj, description=summary(obj, path))


# newsbench's own sources are the keys files, articles, hub and disk; this registry holds plugins only
SOURCES: Registry[SourceReader] = Registry("dataset source", adapt=_adapt_plugin)


def check_params(reader: SourceReader, params: Mapping[str, Any]) -> None:
    """Raise ``ValueError("params.<key>: ...")`` for a parameter the reader does not take."""
    try:
        signature = inspect.signature(reader.read)
    except (TypeError, ValueError):  # a builtin without a signature: the call will tell
        return
    values = list(signature.parameters.values())[1:]  # the first one receives the path
    if any(p.kind is p.VAR_KEYWORD for p in values):
        return
    allowed = [p.name for p in values if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    for key in params:
        if key not in allowed:
            raise ValueError(f"params.{key}: unknown parameter {key!r} of dataset source {reader.name!r}; "
                             + (f"expected one of {', '.join(allowed)}" if allowed else "it takes none"))


def read_frames(reader: SourceReader, path: Path | None, params: Mapping[str, Any]) -> dict[str, Any]:
    """The reader's ``{split: DataFrame}``, checked; ``ValueError`` says what it returned instead."""
    import pandas as pd

    out = reader.read(path, **params)
    if not isinstance(out, Mapping) or not out:
        raise ValueError(f"returned {type(out).__name__}, expected a non-empty mapping of split name -> "
                         "pandas.DataFrame")
    for split, frame in out.items():
        if not isinstance(split, str) or not isinstance(frame, pd.DataFrame):
            raise ValueError(f"returned {split!r}: {type(frame).__name__}, expected split name (str) -> "
                             "pandas.DataFrame")
    return {split: frame.reset_index(drop=True) for split, frame in out.items()}
