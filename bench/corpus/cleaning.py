"""Raw cell values -> text: values as str, then Unicode NFC and tidy whitespace.

Cleaning keeps paragraphs (one ``\\n`` between non-blank lines) and removes control and
zero-width characters, so that equal texts compare equal whatever their source's habits.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


def as_text(series: pd.Series) -> np.ndarray:
    """Values as an object array of str: missing -> '', booleans lower-case, lists kept."""
    import pandas as pd

    if pd.api.types.is_string_dtype(series.dtype) and not pd.api.types.is_object_dtype(series.dtype):
        return series.fillna("").to_numpy(dtype=object)
    values = series.to_numpy(dtype=object)
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        if value is None or (isinstance(value, float) and value != value):
            out[i] = ""
        elif isinstance(value, bool):
            out[i] = "true" if value else "false"
        elif isinstance(value, (list, tuple, np.ndarray)):
            out[i] = list(value)
        else:
            out[i] = str(value)
    return out


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\u200b\ufeff]")


def clean_text(text: str) -> str:
    """Unicode NFC; no control characters; each line's whitespace runs (incl. no-break space)
    as one space; blank lines and surrounding space removed (paragraphs stay ``\\n``)."""
    text = unicodedata.normalize("NFC", text)
    lines = [line for line in text.split("\n") if line]
    # Fast path for the usual tidy text: a printable line holds no whitespace but ' ' (tabs,
    # no-break spaces, \r and other breaks are not printable), so only doubled or edge spaces
    # would need the word-by-word rebuild below.
    if all(line.isprintable() and "  " not in line and line[0] != " " and line[-1] != " " for line in lines):
        return "\n".join(lines)
    if _CONTROL.search(text):
        text = _CONTROL.sub("", text)
    return "\n".join(" ".join(words) for words in (line.split() for line in text.splitlines()) if words)


def clean_texts(values: np.ndarray) -> np.ndarray:
    """``clean_text`` over an array, each distinct value cleaned once (stance corpora repeat bodies)."""
    cache: dict[str, str] = {}
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        if not isinstance(value, str):
            value = ""
        cleaned = cache.get(value)
        if cleaned is None:
            cleaned = cache[value] = clean_text(value)
        out[i] = cleaned
    return out
