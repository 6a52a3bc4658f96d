"""The raw rows a source hands to the builder, and the two columns that say where each came from.

Kept apart from the readers (``bench.corpus.sources``, ``bench.corpus.hub``) so that every
reader, and the builder's row checks, can use these types without importing one another.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

ORIGIN_FILE = "__file__"
ORIGIN_ROW = "__row__"


@dataclass(frozen=True)
class SourceTable:
    """The raw rows of one split and the files (or pseudo-files) they came from."""

    frame: pd.DataFrame
    files: tuple[str, ...]

    def where(self, position: int) -> tuple[str, str]:
        """``(file, "row N")`` for the row at ``position`` of ``frame``."""
        file_index = int(self.frame[ORIGIN_FILE].iat[position])
        return self.files[file_index], f"row {int(self.frame[ORIGIN_ROW].iat[position])}"


@dataclass(frozen=True)
class SourceSplit:
    """One split's raw rows as batches (``ORIGIN_FILE`` indexes ``files``), read as they are consumed."""

    name: str
    files: tuple[str, ...]
    batches: Iterator[pd.DataFrame]
