"""The row-level stages one batch of source rows goes through, in order: the row filter
(``where``), the dataset fields from the columns (with text cleaning), label mapping, the
label checks and empty texts.

Each stage counts what it drops or finds in the batch's ``Audit``; an error names the file
and row. ``bench.corpus.batches`` runs them on every batch (in a worker process for large
sources), so they depend only on the spec and the rows, never on the pipeline.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.corpus.cleaning import as_text, clean_texts
from bench.corpus.rows import Audit, Rows
from bench.corpus.spec import ColumnRef, DatasetSpec, LoadedSpec
from bench.corpus.table import ORIGIN_FILE, ORIGIN_ROW, SourceTable

if TYPE_CHECKING:
    import pandas as pd


# --- filter and fields --------------------------------------------------------------------

def _column(loaded: LoadedSpec, frame: pd.DataFrame, ref: ColumnRef, key: tuple[str | int, ...],
            file: str) -> pd.Series:
    names = list(frame.columns)
    if ref in names:
        return frame[ref]
    shown = [str(n) for n in names if n not in (ORIGIN_FILE, ORIGIN_ROW)]
    if isinstance(ref, int) and loaded.spec.source.header and loaded.spec.source.files is not None:
        raise loaded.doc.error(key, f"{ref} is a position, but {file} has a header; name the column "
                               f"(one of {', '.join(shown[:12])})")
    hint = difflib.get_close_matches(str(ref), shown, n=1)
    raise loaded.doc.error(key, f"column {ref!r} is not in {file}"
                           + (f"; did you mean {hint[0]!r}?" if hint else f"; columns are {', '.join(shown[:20])}"))


def fields(loaded: LoadedSpec, split: str, table: SourceTable, file_offset: int) -> pd.DataFrame:
    """The dataset fields of one source split, plus origin columns."""
    import pandas as pd

    spec, columns = loaded.spec, loaded.spec.columns
    frame, file = table.frame, table.files[0]
    out: dict[str, Any] = {}
    if columns.id is not None:
        out["id"] = [str(v).strip() for v in as_text(_column(loaded, frame, columns.id, ("columns", "id"), file))]
    elif spec.source.articles is not None and "file" in frame.columns:
        out["id"] = as_text(frame["file"])
    else:
        # <split>-<row> (and the file's number when a split has several files): stable under
        # a `where` filter and traceable to the source row.
        rows, file_of = frame[ORIGIN_ROW].to_numpy(), frame[ORIGIN_FILE].to_numpy()
        out["id"] = ([f"{split}-{r}" for r in rows] if len(table.files) == 1
                     else [f"{split}-{f + 1}-{r}" for f, r in zip(file_of, rows)])
    refs = columns.text if isinstance(columns.text, tuple) else (columns.text,)
    parts = [as_text(_column(loaded, frame, ref, ("columns", "text") + ((i,) if len(refs) > 1 else ()), file))
             for i, ref in enumerate(refs)]
    joined = parts[0] if len(parts) == 1 else np.asarray(
        ["\n".join(p for p in row if isinstance(p, str) and p.strip()) for row in zip(*parts)], dtype=object)
    out["text"] = clean_texts(joined)
    out["label"] = as_text(_column(loaded, frame, columns.label, ("columns", "label"), file))
    for name, ref in columns.optional_fields().items():
        values = as_text(_column(loaded, frame, ref, ("columns", name), file))
        out[name] = clean_texts(values) if name in ("target", "title", "source") else \
            np.asarray([v.strip() if isinstance(v, str) else str(v) for v in values], dtype=object)
    if spec.language is not None and spec.language.column is not None:
        values = as_text(_column(loaded, frame, spec.language.column, ("language", "column"), file))
        out["language"] = np.asarray([v.strip() for v in values], dtype=object)
    result = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in out.items()})
    result[ORIGIN_FILE] = frame[ORIGIN_FILE].to_numpy() + file_offset
    result[ORIGIN_ROW] = frame[ORIGIN_ROW].to_numpy()
    return result


def apply_filter(loaded: LoadedSpec, split: str, table: SourceTable, audit: Audit) -> SourceTable:
    """The rows whose ``where`` columns hold one of the wanted values (the others are counted)."""
    if not loaded.spec.where:
        return table
    frame = table.frame
    keep = np.ones(len(frame), dtype=bool)
    for column, wanted in loaded.spec.where.items():
        values = as_text(_column(loaded, frame, column, ("where", column), table.files[0]))
        allowed = {_scalar_text(w) for w in (wanted if isinstance(wanted, tuple) else (wanted,))}
        keep &= np.fromiter((v in allowed for v in values), dtype=bool, count=len(values))
    audit.filtered_out += int((~keep).sum())
    return SourceTable(frame=frame[keep].reset_index(drop=True), files=table.files)


def _scalar_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- labels -------------------------------------------------------------------------------

def map_labels(spec: DatasetSpec, values: np.ndarray) -> list[Any]:
    """Each raw label through ``label_map`` (multi-label: split, stripped, mapped, first-seen order)."""
    mapping = {_scalar_text(k): v for k, v in spec.label_map.items()}
    out: list[Any] = []
    for value in values:
        if spec.multilabel:
            items = value if isinstance(value, list) else [p for p in str(value).split(spec.label_separator)]
            items = [mapping.get(s, s) for s in (str(i).strip() for i in items) if s]
            out.append(sorted(set(items), key=items.index))
        else:
            text = value.strip() if isinstance(value, str) else str(value)
            out.append(mapping.get(text, text))
    return out


def object_array(values: list[Any]) -> np.ndarray:
    """A 1-D object array that keeps list items as lists (``np.asarray`` would make 2-D)."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        out[i] = value
    return out


def check_labels(loaded: LoadedSpec, split: str, frame: pd.DataFrame, rows: Rows,
                 audit: Audit) -> tuple[pd.DataFrame, set[str]]:
    """The rows kept and the labels found: empty labels are an error, labels outside ``labels:``
    follow ``on_unknown_label``."""
    spec = loaded.spec
    labels = frame["label"].tolist()
    found = {x for v in labels for x in v} if spec.multilabel else set(labels)
    empty = [i for i, v in enumerate(labels) if (not v if spec.multilabel else v == "")]
    if empty:
        raise rows.error(frame, empty[0], f"empty label ({len(empty)} rows in {split}); "
                         "fill it in, or remove the rows with a where: filter")
    if spec.labels is None:
        return frame, found
    allowed = set(spec.labels)
    bad = np.asarray([bool(set(v) - allowed) if spec.multilabel else v not in allowed for v in labels], dtype=bool)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        audit.unknown_labels[split] = int(bad.sum())
        if spec.on_unknown_label == "error":
            value = labels[first]
            shown = sorted(set(value) - allowed)[0] if spec.multilabel else value
            hint = difflib.get_close_matches(str(shown), list(allowed), n=1)
            raise rows.error(frame, first, f"label {shown!r} is not in labels ({int(bad.sum())} rows in {split})"
                             + (f"; did you mean {hint[0]!r}? map it with label_map" if hint else
                                "; add it to labels, map it with label_map, or set on_unknown_label: drop"))
        frame = frame[~bad].reset_index(drop=True)
        audit.drop("unknown_label", int(bad.sum()))
    return frame, found


# --- empty texts --------------------------------------------------------------------------

def check_empty(loaded: LoadedSpec, split: str, frame: pd.DataFrame, rows: Rows, audit: Audit) -> pd.DataFrame:
    """The rows kept: texts (or stance targets) empty after cleaning follow ``on_empty``."""
    empty = frame["text"].to_numpy(dtype=object) == ""
    if "target" in frame.columns:
        empty |= frame["target"].to_numpy(dtype=object) == ""
    count = int(empty.sum())
    if not count:
        return frame
    audit.empty[split] = count
    if loaded.spec.on_empty == "error":
        first = int(np.flatnonzero(empty)[0])
        what = "text" if frame["text"].iat[first] == "" else "target"
        raise rows.error(frame, first, f"empty {what} after cleaning ({count} rows in {split}); "
                         "fix the data or set on_empty: drop")
    audit.drop("empty", count)
    return frame[~empty].reset_index(drop=True)
