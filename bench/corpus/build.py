"""Source tables -> cleaned, label-checked, deduplicated, split rows, with every check counted.

``make_dataset`` is the pipeline. The order is fixed: row filter (``where``), fields from
columns, text cleaning (Unicode NFC, whitespace), language, labels (``label_map``, unknown
labels), empty texts -- these per batch of source rows, whose cleaned rows are spilled to
disk (``bench.corpus.batches``) -- then, over the slim rows of the whole corpus, duplicate
ids, duplicates within a split, made splits, and the train/other-split overlap audit. Each
policy outcome is recorded in ``Audit`` (and so in ``stats.json`` and the card): a row is
never dropped silently.

Rows carry their origin (file and row) until the end so that any error names it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.corpus.cleaning import as_text, clean_texts
from bench.corpus.sources import ORIGIN_FILE, ORIGIN_ROW, SourceTable
from bench.corpus.spec import ColumnRef, DatasetSpec, LoadedSpec
from bench.core.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

OPTIONAL_FIELDS = ("target", "title", "source", "date", "language", "group")


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


# --- fields -------------------------------------------------------------------------------

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


# --- the pipeline -------------------------------------------------------------------------

def make_dataset(loaded: LoadedSpec, work: Path, workers: int | None = None) -> Prepared:
    """Read, clean, check and split the rows of a spec, spilling cleaned rows under ``work``.

    ``DataError``/``ConfigError`` on a problem. Row-level stages run per batch (see
    ``bench.corpus.batches``); the checks that need every row run on the slim rows.
    """
    from bench.corpus.audit import audit_overlap
    from bench.corpus.batches import BATCH_ROWS, SPILL, prepare_batches
    from bench.corpus.sources import iter_source
    from bench.corpus.splitting import make_splits

    spec = loaded.spec
    audit = Audit()
    files: list[str] = []
    parts: dict[str, list[pd.DataFrame]] = {}
    found: dict[str, set[str]] = {}
    passed: dict[str, int] = {}
    spills: list[SpillFile] = []
    signatures: list[np.ndarray] = []
    digests: list[np.ndarray] = []
    shared: dict[Any, Any] = {}
    total = 0
    for done in prepare_batches(loaded, iter_source(loaded, BATCH_ROWS), work, files, workers):
        audit.add(done.audit)
        found.setdefault(done.split, set()).update(done.labels_found)
        passed[done.split] = passed.get(done.split, 0) + done.passed_filter
        rows = done.rows
        rows[SPILL] = np.arange(total, total + len(rows), dtype=np.int64)
        if done.spill is not None:
            spills.append(SpillFile(path=done.spill, first=total, stop=total + len(rows)))
        if done.signatures is not None:
            signatures.append(done.signatures)
        digests.append(done.digests)
        _share_values(rows, shared)
        total += len(rows)
        parts.setdefault(done.split, []).append(rows)
    for split, count in passed.items():
        if spec.where and count == 0:
            raise loaded.doc.error(("where",), f"no row of split {split!r} passes the filter; check the values")
    labels = _label_set(loaded, found)
    splits = {split: _concat(parts.pop(split)) for split in list(parts)}  # pop: one split's copy at a time
    rows = Rows(files)
    _check_ids(splits, rows)
    for split in list(splits):
        splits[split] = _check_duplicates(loaded, split, splits[split], rows, audit)
    splits = make_splits(loaded, splits, rows, audit)
    all_signatures = np.concatenate(signatures) if signatures else None
    del signatures
    splits = audit_overlap(loaded, splits, rows, audit, all_signatures)
    for split, frame in splits.items():
        if len(frame) == 0:
            raise loaded.doc.error(("splits",), f"split {split!r} has no rows left after the checks; "
                                   "see the policies (on_*) and the split sizes")
    return Prepared(splits=splits, labels=labels, audit=audit, spills=tuple(spills),
                    digests=np.concatenate(digests) if digests else np.zeros((0, 32), np.uint8))


def _share_values(rows: pd.DataFrame, shared: dict[Any, Any]) -> None:
    """Make equal values of the repetitive columns one object (rows sent back by a worker process
    arrive with a copy of each), which keeps a million slim rows small."""
    for name in ("label", "language", "target", "group", "date"):
        if name in rows.columns and rows[name].dtype == object:
            values = rows[name].to_numpy(dtype=object)
            if len(values) and isinstance(values[0], list):
                continue
            rows[name] = np.asarray([shared.setdefault(v, v) for v in values.tolist()], dtype=object)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    import pandas as pd

    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _label_set(loaded: LoadedSpec, found: dict[str, set[str]]) -> tuple[str, ...]:
    """The dataset's labels: ``labels:`` if given, else those found, the same in every predefined split."""
    if loaded.spec.labels is not None:
        return loaded.spec.labels
    names = list(found)
    for other in names[1:]:
        if found[other] != found[names[0]]:
            extra = sorted(found[other] ^ found[names[0]])
            raise loaded.doc.error(("source",), f"the label set differs between predefined splits "
                                   f"{names[0]!r} and {other!r} (only in one: {', '.join(map(repr, extra[:5]))}); "
                                   "list every label in `labels:` (and map variants with label_map)")
    return tuple(sorted(set().union(*found.values())))


def object_array(values: list[Any]) -> np.ndarray:
    """A 1-D object array that keeps list items as lists (``np.asarray`` would make 2-D)."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        out[i] = value
    return out


def check_empty(loaded: LoadedSpec, split: str, frame: pd.DataFrame, rows: Rows, audit: Audit) -> pd.DataFrame:
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


def _check_ids(splits: dict[str, pd.DataFrame], rows: Rows) -> None:
    import pandas as pd

    frames = [f[["id", ORIGIN_FILE, ORIGIN_ROW]] for f in splits.values()]
    every = pd.concat(frames, ignore_index=True)
    repeated = every["id"].duplicated(keep=False).to_numpy()
    if repeated.any():
        positions = np.flatnonzero(repeated)
        value = every["id"].iat[positions[0]]
        same = positions[every["id"].to_numpy(dtype=object)[positions] == value]
        file, row = rows.where(every, int(same[1]))
        first_file, first_row = rows.where(every, int(same[0]))
        raise DataError(file, None, row, f"id {value!r} repeats {first_row} of {first_file} "
                        f"({int(repeated.sum())} rows share an id); ids must be unique: fix columns.id, "
                        "or remove it to number rows")


def input_keys(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit key per row of its model input (text, and target for stance), computed with the
    texts in each batch (``bench.corpus.batches``), since the slim rows no longer hold them."""
    from bench.corpus.batches import KEY

    return frame[KEY].to_numpy(dtype=np.uint64)


def _check_duplicates(loaded: LoadedSpec, split: str, frame: pd.DataFrame, rows: Rows,
                      audit: Audit) -> pd.DataFrame:
    import pandas as pd

    keys = pd.Series(input_keys(frame))
    repeated = keys.duplicated(keep="first").to_numpy()
    count = int(repeated.sum())
    if not count:
        return frame
    labels = pd.Series([("|".join(v) if isinstance(v, list) else v) for v in frame["label"]])
    distinct = pd.DataFrame({"k": keys, "l": labels}).groupby("k")["l"].nunique()
    audit.duplicates[split] = count
    conflicts = int((distinct > 1).sum())
    if conflicts:
        audit.conflicting_duplicates[split] = conflicts
    if loaded.spec.on_duplicate == "error":
        second = int(np.flatnonzero(repeated)[0])
        first = int(np.flatnonzero(keys.to_numpy() == keys.iat[second])[0])
        _, first_row = rows.where(frame, first)
        raise rows.error(frame, second, f"same text{' and target' if 'target' in frame else ''} as {first_row} "
                         f"({count} duplicate rows in {split}); set on_duplicate: drop or keep")
    if loaded.spec.on_duplicate == "drop":
        audit.drop("duplicate", count)
        return frame[~repeated].reset_index(drop=True)
    return frame
