"""Errors a user can fix.

Every ``BenchError`` is printed by the CLI as one line and exits with status 2; any other
exception is a bug and keeps its traceback. Messages follow one shape,
``<file>:<line>: <key>: <problem>; <fix>``, so that a user can jump to the place.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType


class BenchError(Exception):
    """An error caused by input the user can change (config, data, results, arguments)."""


class LocatedError(BenchError):
    """An error at a place in a file: ``file:line: key: problem``.

    Args:
        file: the file (or a pseudo-file such as ``--set``) the problem is in.
        line: 1-based line, when known.
        key: the key path or row that is wrong (``models[0].params``, ``row 12``).
        problem: what is wrong and, after ``; ``, how to fix it.
    """

    def __init__(self, file: str | Path, line: int | None, key: str, problem: str) -> None:
        self.file, self.line, self.key, self.problem = str(file), line, key, problem
        where = f"{file}:{line}" if line else f"{file}"
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")

    def __reduce__(self) -> tuple:
        # rebuilt from the constructor's arguments, so that worker processes can send it back
        return (type(self), (self.file, self.line, self.key, self.problem))


class ConfigError(LocatedError):
    """A YAML config or dataset spec is wrong."""


class DataError(LocatedError):
    """Input data is wrong: undecodable bytes, empty text, unknown label, bad split."""


class ResultsError(BenchError):
    """A run folder or predictions file cannot be read or does not match what is asked."""


class MissingExtraError(BenchError):
    """An optional dependency group (``pip install -e ".[extra]"``) is needed for what was asked."""


def import_extra(module: str, *, needed_by: str, package: str, extra: str) -> ModuleType:
    """Import an optional module, or raise one line saying what needs it and how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(f"{needed_by} needs the optional package {package}; install it with: "
                                f'pip install -e ".[{extra}]"') from None


class RegistryError(BenchError):
    """A registry is misused (a name registered twice); raised at import time."""


class UnknownNameError(BenchError):
    """A name that is not in a registry, with the closest registered names."""

    def __init__(self, kind: str, name: str, suggestions: Sequence[str] = ()) -> None:
        self.kind, self.name, self.suggestions = kind, name, tuple(suggestions)
        hint = f"; did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        super().__init__(f"unknown {kind} {name!r}{hint}")

    def __reduce__(self) -> tuple:
        return (type(self), (self.kind, self.name, self.suggestions))
