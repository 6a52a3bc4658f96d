"""What the build stages pass to each other: the audit counts, the slim rows' column names,
the spill files and the prepared result.

Every stage (``batches``, ``splitting``, ``audit``, ``writer``, ``card``) and the pipeline
that runs them (``build``) import these from here, so that no stage imports the pipeline.

A batch's cleaned rows are written to a *spill* file; the slim rows that the global checks
see keep, instead of the texts, a 64-bit key of the model input (``KEY``: text, and target
for stance), a key of the text alone (``TEXT_KEY``), the text's length in characters and
words (``CHARS``, ``WORDS``) and the row's number across the spill files (``SPILL``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.core.errors import DataError
from bench.corpus.table import ORIGIN_FILE, ORIGIN_ROW

if TYPE_CHECKING:
    import pandas as pd

KEY, TEXT_KEY, CHARS, WORDS, SPILL = "__key__", "__text_key__", "__chars__", "__words__", "__spill__"


@dataclass
class Audit:
    """What the checks found and did, per problem (becomes ``stats.json["audit"]``)."""

    filtered_out: int = 0
    empty: dict[str, int] = field(default_factory=dict)
    unknown_labels: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    conflicting_duplicates: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    overlap: dict[str, dict[str, int]] = field(default_factory=dict)
    near_duplicates: dict[str, Any] = field(default_factory=dict)
    splits_made: dict[str, dict[str, Any]] = field(default_factory=dict)

    def drop(self, problem: str, count: int) -> None:
        if count:
            self.dropped[problem] = self.dropped.get(problem, 0) + count

    def add(self, batch: Audit) -> None:
        """Add the counts of one batch's row-level checks (filter, unknown labels, empty texts)."""
        self.filtered_out += batch.filtered_out
        for mine, theirs in ((self.empty, batch.empty), (self.unknown_labels, batch.unknown_labels),
                             (self.dropped, batch.dropped)):
            for key, count in theirs.items():
                mine[key] = mine.get(key, 0) + count


@dataclass(frozen=True)
class SpillFile:
    """An Arrow file of cleaned rows: rows ``first`` to ``stop - 1`` (the ``__spill__`` numbers)."""

    path: Path
    first: int
    stop: int


@dataclass(frozen=True)
class Prepared:
    """The slim rows of every split (source order), the labels, what the checks found, and
    the spill files holding the full rows (``__spill__`` numbers point into them and ``digests``)."""

    splits: dict[str, pd.DataFrame]
    labels: tuple[str, ...]
    audit: Audit
    spills: tuple[SpillFile, ...]
    digests: np.ndarray  # (rows, 32) sha256 of each spilled row, by ``__spill__`` number


class Rows:
    """Names the file and row of a row by its origin columns (for error messages)."""

    def __init__(self, files: list[str]) -> None:
        self.files = files

    def where(self, frame: pd.DataFrame, position: int) -> tuple[str, str]:
        return (self.files[int(frame[ORIGIN_FILE].iat[position])],
                f"row {int(frame[ORIGIN_ROW].iat[position])}")

    def error(self, frame: pd.DataFrame, position: int, problem: str) -> DataError:
        file, row = self.where(frame, position)
        return DataError(file, None, row, problem)


def input_keys(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit key per slim row of its model input (text, and target for stance), computed with
    the texts in each batch (``bench.corpus.batches``), since the slim rows no longer hold them."""
    return frame[KEY].to_numpy(dtype=np.uint64)
