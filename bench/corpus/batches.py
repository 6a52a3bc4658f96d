"""One batch of source rows -> cleaned rows spilled to disk, and the slim rows the global checks need.

The builder reads a source in batches. Each batch goes through the row-level stages
(``bench.corpus.stages``: row filter, fields and cleaning, language, label mapping and
checks, empty texts); its cleaned
rows are written to an Arrow file (a *spill* file) and only a slim frame comes back: ids,
labels, targets, groups, dates, languages, origins, 64-bit text keys, text lengths, plus
the MinHash signatures of the texts. The global checks (ids, duplicates, splits, overlap)
run on those, and the writer copies the kept rows out of the spill files. Memory thus holds
the texts of a few batches, not of the corpus.

Large sources are prepared in worker processes, batches in flight at once bounded, results
taken in source order: the rows, errors and numbers do not depend on the number of workers.
"""

from __future__ import annotations

import functools
import itertools
import multiprocessing
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bench.core.errors import BenchError
from bench.core.parallel import in_order, usable_workers
from bench.corpus.audit import minhash_signatures, text_keys
from bench.corpus.rows import CHARS, KEY, TEXT_KEY, WORDS, Audit, Rows
from bench.corpus.stages import apply_filter, check_empty, check_labels, fields, map_labels, object_array
from bench.corpus.table import SourceSplit, SourceTable

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from bench.corpus.spec import LoadedSpec

BATCH_ROWS = 50_000
# Sources up to this many rows are prepared in this process: starting worker processes
# (each imports pandas and pyarrow) costs more than it saves on a small corpus.
POOL_AFTER_ROWS = 100_000
FIELDS = ("id", "text", "label", "target", "title", "source", "date", "language", "group")
HEAVY = ("text", "title", "source")  # kept only in the spill files


@dataclass(frozen=True)
class Batch:
    """Raw rows of one split; ``files`` is every file read so far (``ORIGIN_FILE`` + offset indexes it)."""

    split: str
    frame: pd.DataFrame
    split_files: tuple[str, ...]
    files: tuple[str, ...]
    file_offset: int
    spill: Path


@dataclass(frozen=True)
class BatchRows:
    """What a prepared batch sends back (its texts stay in ``spill``)."""

    split: str
    rows: pd.DataFrame
    signatures: np.ndarray | None
    digests: np.ndarray
    spill: Path | None
    audit: Audit
    labels_found: set[str]  # before the label checks, for the label-set comparison between splits
    passed_filter: int      # rows that passed the ``where`` filter


def prepare_batch(loaded: LoadedSpec, batch: Batch, *, hash_threads: int | None = None) -> BatchRows:
    """Row-level stages of one batch; ``DataError``/``ConfigError`` naming the file and row of a problem."""
    spec, split, audit = loaded.spec, batch.split, Audit()
    rows = Rows(list(batch.files))
    table = apply_filter(loaded, split, SourceTable(frame=batch.frame, files=batch.split_files), audit)
    passed = len(table.frame)
    frame = fields(loaded, split, table, batch.file_offset)
    del table
    if spec.language is not None and spec.language.detect:
        from bench.corpus.language import detect_languages

        frame["language"] = np.asarray(detect_languages(frame["text"].tolist()), dtype=object)
    elif spec.language is not None and spec.language.code is not None:
        frame["language"] = spec.language.code
    frame["label"] = object_array(map_labels(spec, frame["label"].to_numpy(dtype=object)))
    frame, found = check_labels(loaded, split, frame, rows, audit)
    frame = check_empty(loaded, split, frame, rows, audit)
    return _finish(loaded, batch, frame, audit, found, passed, hash_threads)


def _finish(loaded: LoadedSpec, batch: Batch, frame: pd.DataFrame, audit: Audit, found: set[str],
            passed: int, hash_threads: int | None) -> BatchRows:
    """Keys, lengths and signatures of the texts; the full rows to the spill file; the slim rows back."""
    import pyarrow as pa
    import pyarrow.compute as pc

    near = loaded.spec.near_duplicates
    texts = frame["text"].tolist()
    text_key = text_keys(texts) if texts else np.zeros(0, np.uint64)
    key = text_key
    if "target" in frame.columns and len(frame):
        with np.errstate(over="ignore"):
            key = text_key * np.uint64(0x100000001B3) ^ text_keys(frame["target"].tolist())
    signatures = None
    if near.enabled:
        signatures = minhash_signatures(texts, shingle=near.shingle, permutations=near.permutations,
                                        workers=hash_threads)
    text_array = pa.array(texts, type=pa.string())
    del texts
    spill = _spill(frame, text_array, loaded.spec.multilabel, batch.spill) if len(frame) else None
    slim = frame.drop(columns=[c for c in HEAVY if c in frame.columns])
    slim[KEY] = key
    slim[TEXT_KEY] = text_key
    slim[CHARS] = pc.utf8_length(text_array).to_numpy(zero_copy_only=False).astype(np.int64)
    # Cleaned text has exactly one space or newline between words.
    gaps = pc.add(pc.count_substring(text_array, " "), pc.count_substring(text_array, "\n"))
    slim[WORDS] = gaps.to_numpy(zero_copy_only=False).astype(np.int64) + 1
    return BatchRows(split=batch.split, rows=slim, signatures=signatures,
                     digests=row_digests(frame, loaded.spec.multilabel), spill=spill, audit=audit,
                     labels_found=found, passed_filter=passed)


def _spill(frame: pd.DataFrame, text_array: pa.Array, multilabel: bool, path: Path) -> Path:
    """The batch's full rows (every dataset field, labels as names) as an Arrow stream file."""
    import pyarrow as pa

    label_type = pa.list_(pa.string()) if multilabel else pa.string()
    table = pa.table({name: text_array if name == "text" else
                      pa.array(frame[name].tolist(), type=label_type if name == "label" else pa.string())
                      for name in FIELDS if name in frame.columns})
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return path


def row_digests(frame: pd.DataFrame, multilabel: bool) -> np.ndarray:
    """``(rows, 32)`` sha256 digests of each row's ``id, text, label, target`` (the fingerprint's parts)."""
    import hashlib

    ids, texts = frame["id"].tolist(), frame["text"].tolist()
    gold = ["\x1d".join(v) for v in frame["label"].tolist()] if multilabel else frame["label"].tolist()
    targets = frame["target"].tolist() if "target" in frame.columns else [""] * len(ids)
    out = bytearray()
    for row in zip(ids, texts, gold, targets):
        out += hashlib.sha256("\x1f".join(row).encode("utf-8")).digest()
    return np.frombuffer(bytes(out), dtype=np.uint8).reshape(len(ids), 32)


def _batches(sources: Iterator[SourceSplit], work: Path, files: list[str]) -> Iterator[Batch]:
    number = 0
    for source in sources:
        offset = len(files)
        files.extend(source.files)
        for frame in source.batches:
            yield Batch(split=source.name, frame=frame, split_files=source.files, files=tuple(files),
                        file_offset=offset, spill=work / f"{number:06d}.arrow")
            number += 1


def prepare_batches(loaded: LoadedSpec, sources: Iterator[SourceSplit], work: Path, files: list[str],
                    workers: int | None = None) -> Iterator[BatchRows]:
    """Every batch prepared, in source order; ``files`` fills up with the files read.

    The first ``POOL_AFTER_ROWS`` rows are prepared here; the rest, if any, by ``workers``
    processes (default: up to 2 CPUs; none inside a daemon process, such as a Dask worker).
    """
    wanted = usable_workers(workers or min(2, os.cpu_count() or 1))
    batches = _batches(sources, work, files)
    seen = 0
    for batch in batches:
        if wanted > 1 and seen >= POOL_AFTER_ROWS:
            yield from _in_pool(loaded, batch, batches, wanted)
            return
        seen += len(batch.frame)
        yield prepare_batch(loaded, batch)


def _in_pool(loaded: LoadedSpec, first: Batch, rest: Iterator[Batch], workers: int) -> Iterator[BatchRows]:
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"))
    calls = (functools.partial(prepare_batch, loaded, batch, hash_threads=1)
             for batch in itertools.chain([first], rest))
    try:
        yield from in_order(pool, calls, ahead=workers)
    except BrokenProcessPool:
        raise BenchError("a process preparing the batches died (killed, or out of memory); nothing was "
                         "written: rerun with --workers 1, or free memory") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
