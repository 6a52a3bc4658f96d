"""Source tables -> cleaned, label-checked, deduplicated, split rows, with every check counted.

``make_dataset`` is the pipeline. The order is fixed: row filter (``where``), fields from
columns, text cleaning (Unicode NFC, whitespace), language, labels (``label_map``, unknown
labels), empty texts -- these per batch of source rows, whose cleaned rows are spilled to
disk (``bench.corpus.batches``) -- then, over the slim rows of the whole corpus, duplicate
ids, duplicates within a split, made splits, and the train/other-split overlap audit. Each
policy outcome is recorded in ``Audit`` (and so in ``stats.json`` and the card): a row is
never dropped silently.

Rows carry their origin (file and row) until the end so that any error names it. The stages
share their types through ``bench.corpus.rows``; only the package's build entry imports this
module.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.core.errors import DataError
from bench.corpus import batches
from bench.corpus.audit import audit_overlap
from bench.corpus.rows import SPILL, Audit, Prepared, Rows, SpillFile, input_keys
from bench.corpus.sources import iter_source
from bench.corpus.spec import LoadedSpec
from bench.corpus.splitting import make_splits
from bench.corpus.table import ORIGIN_FILE, ORIGIN_ROW

if TYPE_CHECKING:
    import pandas as pd


# --- the pipeline -------------------------------------------------------------------------

def make_dataset(loaded: LoadedSpec, work: Path, workers: int | None = None) -> Prepared:
    """Read, clean, check and split the rows of a spec, spilling cleaned rows under ``work``.

    ``DataError``/``ConfigError`` on a problem. Row-level stages run per batch (see
    ``bench.corpus.batches``); the checks that need every row run on the slim rows.
    """
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
    for done in batches.prepare_batches(loaded, iter_source(loaded, batches.BATCH_ROWS), work, files, workers):
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
