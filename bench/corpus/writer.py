"""Write a built dataset from the spill files: one Arrow file per split, its fingerprint, the folder.

The kept rows of each split are copied out of the spill files (``bench.corpus.batches``),
each read once, so memory holds one batch, and the split is then memory-mapped, never
loaded, to save the ``datasets.DatasetDict``.

The fingerprint is a sha256 over the ordered label list and, per split, the sha256 of each
``(id, text, label, target)`` row in id order (the row hashes are computed with the batches,
in parallel): it changes when any text or label changes, and not when rows are only
reordered or the build is repeated.

The dataset folder is written under a hidden temporary name next to its destination and
renamed when complete, so ``data/<name>/`` is either the previous build or the new one,
never half of one.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.core.errors import DataError
from bench.core.files import swap_folder, write_text
from bench.corpus.rows import SPILL

if TYPE_CHECKING:
    import pyarrow as pa

    from bench.corpus.rows import Prepared


VERIFICATION = "verification"  # the stats.json block that bench.corpus.verify checks at each open
DATA_FILES = "data-*.arrow"  # a split's data files in a saved dataset


def split_files(folder: Path, split: str) -> list[Path]:
    """The data files of one split of a built dataset, in read order."""
    return sorted((Path(folder) / split).glob(DATA_FILES))


def file_stamps(folder: Path, splits: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """``{split: [{name, size, mtime_ns}, ...]}`` for the data files of each split."""
    out = {}
    for split in splits:
        stamps = []
        for path in split_files(folder, split):
            st = path.stat()
            stamps.append({"name": path.name, "size": st.st_size, "mtime_ns": st.st_mtime_ns})
        out[split] = stamps
    return out


def write_splits(prepared: Prepared, folder: Path, multilabel: bool) -> dict[str, Path]:
    """One Arrow stream file per split under ``folder`` (rows in split order, labels as codes),
    reading each spill file once."""
    import pyarrow as pa

    folder.mkdir(parents=True, exist_ok=True)
    codes = pa.array(list(prepared.labels), type=pa.string())
    wanted = {split: frame[SPILL].to_numpy(dtype=np.int64) for split, frame in prepared.splits.items()}
    for split, rows in wanted.items():
        if len(rows) > 1 and not (np.diff(rows) > 0).all():
            raise AssertionError(f"rows of {split} are not in spill order")  # the pipeline keeps source order
    out = {split: folder / f"{split}.arrow" for split in wanted}
    writers: dict[str, Any] = {}
    try:
        for spill in prepared.spills:
            spilled = None
            for split, rows in wanted.items():
                lo, hi = np.searchsorted(rows, [spill.first, spill.stop])
                if lo == hi:
                    continue
                spilled = _read(spill.path) if spilled is None else spilled
                table = _with_codes(spilled.take(pa.array(rows[lo:hi] - spill.first)), codes, multilabel)
                if split not in writers:
                    writers[split] = pa.ipc.new_stream(str(out[split]), table.schema)
                writers[split].write_table(table)
    finally:
        for writer in writers.values():
            writer.close()
    return out


def _read(path: Path) -> pa.Table:
    """An Arrow stream file, memory-mapped (the table's buffers point into the file)."""
    import pyarrow as pa

    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_stream(source).read_all()


def _with_codes(table: pa.Table, codes: pa.Array, multilabel: bool) -> pa.Table:
    """``table`` with its label names (or lists of names) replaced by their positions in ``codes``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    labels = table.column("label").combine_chunks()
    if multilabel:
        flat = pc.index_in(pc.list_flatten(labels), value_set=codes).cast(pa.int64())
        lengths = pc.list_value_length(labels).to_numpy(zero_copy_only=False).astype(np.int32)
        offsets = pa.array(np.concatenate(([0], np.cumsum(lengths))).astype(np.int32))
        coded = pa.ListArray.from_arrays(offsets, flat)
    else:
        coded = pc.index_in(labels, value_set=codes).cast(pa.int64())
    return table.set_column(table.schema.get_field_index("label"), "label", coded)


def fingerprint(prepared: Prepared) -> str:
    """sha256 hex of the content: the label order, then per split (sorted) its size and the
    sha256 of each ``(id, text, label, target)`` row in id order."""
    return prepared_hashes(prepared)[0]


def prepared_hashes(prepared: Prepared) -> tuple[str, dict[str, str]]:
    """``content_hashes`` of the prepared rows: the fingerprint and each split's hash."""
    return content_hashes(prepared.labels, {split: (frame["id"].tolist(), prepared.digests[
        frame[SPILL].to_numpy(dtype=np.int64)]) for split, frame in prepared.splits.items()})


def content_hashes(labels: tuple[str, ...] | list[str],
                   splits: dict[str, tuple[list[str], np.ndarray]]) -> tuple[str, dict[str, str]]:
    """The dataset fingerprint and each split's own content hash, from each split's row ids and
    row digests (``bench.corpus.batches.row_digests``, any row order).

    The fingerprint is what ``fingerprint`` documents; a split's hash is the sha256 of the same
    split part alone, so that a check can name the split whose content changed.
    """
    digest = hashlib.sha256()
    digest.update(json.dumps(list(labels)).encode("utf-8"))
    per_split = {}
    for split in sorted(splits):
        ids, rows = splits[split]
        order = np.asarray(sorted(range(len(ids)), key=ids.__getitem__), dtype=np.int64)
        part = f"{split}\x1f{len(ids)}\x1e".encode() + np.asarray(rows, dtype=np.uint8)[order].tobytes()
        digest.update(part)
        per_split[split] = hashlib.sha256(part).hexdigest()
    return digest.hexdigest(), per_split


def to_datasetdict(files: dict[str, Path], labels: tuple[str, ...], multilabel: bool, digest: str) -> Any:
    """The split files as a ``datasets.DatasetDict`` (memory-mapped) with ``ClassLabel`` labels."""
    from bench.core.hf import import_datasets

    datasets = import_datasets()
    class_label = datasets.ClassLabel(names=list(labels))
    out = {}
    for split, path in files.items():
        table = _read(path)  # columns in FIELDS order, as the batches spilled them
        features = datasets.Features({name: (datasets.Sequence(class_label) if multilabel else class_label)
                                      if name == "label" else datasets.Value("string")
                                      for name in table.column_names})
        # Our own content fingerprint spares datasets from hashing the whole table.
        out[split] = datasets.Dataset(table, info=datasets.DatasetInfo(features=features),
                                      fingerprint=f"{digest[:16]}-{split}")
    return datasets.DatasetDict(out)


def write_dataset(target: Path, files: dict[str, Path], labels: tuple[str, ...], stats: dict[str, Any],
                  card: str) -> None:
    """Write ``target`` (DatasetDict + stats.json + card.md) via a temporary folder and a rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.partial-{uuid.uuid4().hex[:8]}")
    try:
        dataset = to_datasetdict(files, labels, bool(stats["multilabel"]), stats["fingerprint"])
        dataset.save_to_disk(str(tmp))
        del dataset
        stats = record_files(tmp, stats)
        write_text(tmp / "stats.json", json.dumps(stats, indent=2, ensure_ascii=False) + "\n")
        write_text(tmp / "card.md", card)
        replace_folder(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def record_files(folder: Path, stats: dict[str, Any]) -> dict[str, Any]:
    """``stats`` with the size and modification time of each split's data files under ``folder``
    added to its ``verification`` block (``bench.corpus.verify`` checks them at each open)."""
    block = dict(stats.get(VERIFICATION) or {})
    block["files"] = file_stamps(folder, list(stats["splits"]))
    return {**stats, VERIFICATION: block}


def replace_folder(tmp: Path, target: Path) -> None:
    """Put the complete folder ``tmp`` at ``target``, replacing a previous build (and nothing else)."""
    if target.exists() and not (target / "stats.json").is_file():
        raise DataError(target, None, "", "exists and is not a newsbench dataset; move it away or "
                        "choose another name")
    swap_folder(tmp, target)
