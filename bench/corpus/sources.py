"""A spec's source as batches of raw rows per split: files (+ join), raw articles, the hub, or disk.

Parquet, CSV/TSV and JSON Lines files are read as their batches are consumed
(``bench.corpus.readers``), so a corpus larger than memory streams through the builder;
JSON arrays, article folders and Hugging Face sources are read whole and then handed on in
batches. Every batch carries two bookkeeping columns, ``ORIGIN_FILE`` (an index into the
split's files) and ``ORIGIN_ROW`` (the 1-based data row in that file), so that a later
check can name the file and row of a bad value. Nothing here cleans or drops rows: that is
``build``'s job.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.core.errors import DataError
from bench.corpus.readers import (ReadOptions, delimited_batches, format_of, jsonl_batches, parquet_batches,
                                  read_table)
from bench.corpus.spec import ArticlesSpec, JoinSpec, LoadedSpec, PluginSourceSpec
from bench.corpus.table import ORIGIN_FILE, ORIGIN_ROW, SourceSplit, SourceTable

if TYPE_CHECKING:
    import pandas as pd


def _read_whole(loaded: LoadedSpec) -> dict[str, SourceTable]:
    """The splits of a source that is read whole: raw articles, a plugin, the hub, or a saved dataset."""
    source = loaded.spec.source
    if source.articles is not None:
        return _read_articles(loaded, source.articles)
    if source.plugin is not None:
        return _read_plugin(loaded, source.plugin)
    from bench.corpus.hub import read_disk, read_hub  # imports `datasets`: only when asked

    if source.hub is not None:
        return read_hub(loaded, source.hub)
    return read_disk(loaded, source.disk or Path("."))


def iter_source(loaded: LoadedSpec, batch_rows: int) -> Iterator[SourceSplit]:
    """The source's splits in order, each as batches of at most ``batch_rows`` raw rows.

    Parquet (row groups), CSV/TSV (after a pass that checks every byte decodes) and JSON
    Lines (lines) are read as the batches are consumed, so a corpus larger than memory
    passes through; the other sources are read whole and then handed on in batches.
    """
    source = loaded.spec.source
    if source.files is None:
        for split, table in _read_whole(loaded).items():
            yield SourceSplit(split, table.files, _slices(table.frame, batch_rows))
        return
    options = ReadOptions(source.format, source.encoding, source.delimiter, source.quoting, source.header)
    join = _JoinTable.read(source.join, options, loaded) if source.join is not None else None
    for split, value in source.files.items():
        paths = value if isinstance(value, tuple) else (value,)
        keys = [("source", "files", split) + ((i,) if isinstance(value, tuple) else ()) for i in range(len(paths))]
        existing = [_existing(loaded, raw, key) for raw, key in zip(paths, keys)]
        files = tuple(str(path) for path in existing)
        yield SourceSplit(split, files, _file_batches(loaded, split, existing, keys, files, options, join, batch_rows))


def _slices(frame: pd.DataFrame, batch_rows: int) -> Iterator[pd.DataFrame]:
    for begin in range(0, max(len(frame), 1), batch_rows):
        yield frame.iloc[begin: begin + batch_rows].reset_index(drop=True)


def _file_batches(loaded: LoadedSpec, split: str, paths: list[Path], keys: list[tuple[str | int, ...]],
                  files: tuple[str, ...], options: ReadOptions, join: _JoinTable | None,
                  batch_rows: int) -> Iterator[pd.DataFrame]:
    referenced = referenced_columns(loaded)
    first_columns: list[Any] | None = None
    for number, (path, key) in enumerate(zip(paths, keys)):
        fmt = format_of(path, options.format, loaded, key)
        if fmt == "parquet":
            pieces = parquet_batches(path, batch_rows)
        elif fmt == "jsonl":
            pieces = jsonl_batches(path, options.encoding, batch_rows, referenced, loaded)
        elif fmt in ("csv", "tsv"):
            pieces = delimited_batches(path, fmt, options, loaded, batch_rows)
        else:
            pieces = _slices(read_table(path, options, loaded, key), batch_rows)
        row = 1
        for piece in pieces:
            columns = list(piece.columns)
            if first_columns is None:
                first_columns = columns
            elif row == 1 and fmt not in ("json", "jsonl") and columns != first_columns:
                differing = sorted(set(map(str, first_columns)) ^ set(map(str, columns)))
                raise loaded.doc.error(("source", "files", split), f"{path} has different columns from "
                                       f"{files[0]} (differing: {', '.join(differing) or 'order'}); "
                                       "give files of one layout")
            piece[ORIGIN_FILE] = number
            piece[ORIGIN_ROW] = range(row, row + len(piece))
            row += len(piece)
            table = SourceTable(frame=piece, files=files)
            yield join.apply(table) if join is not None else piece


def referenced_columns(loaded: LoadedSpec) -> set[str]:
    """The source columns a spec reads (fields, ``where``, language column, join key)."""
    spec = loaded.spec
    columns = spec.columns
    refs: list[Any] = list(columns.text) if isinstance(columns.text, tuple) else [columns.text]
    refs += [columns.label, columns.id, *columns.optional_fields().values(), *spec.where]
    if spec.language is not None:
        refs.append(spec.language.column)
    if spec.source.join is not None:
        refs.append(spec.source.join.on)
    return {str(ref) for ref in refs if ref is not None}


def source_paths(loaded: LoadedSpec) -> list[Path]:
    """Every local file the source reads (for rebuild checks); hub sources are pinned by revision."""
    source = loaded.spec.source
    paths: list[Path] = []
    if source.files is not None:
        for value in source.files.values():
            paths.extend(loaded.resolve(p) for p in (value if isinstance(value, tuple) else (value,)))
        if source.join is not None:
            paths.append(loaded.resolve(source.join.file))
    elif source.articles is not None:
        from bench.corpus.folder import article_files

        folder = loaded.resolve(source.articles.path)
        paths.extend(path for _, path in article_files(folder, source.articles.include)) if folder.is_dir() \
            else paths.append(folder)
        if source.articles.labels is not None:
            paths.append(loaded.resolve(source.articles.labels))
    elif source.disk is not None or (source.plugin is not None and source.plugin.path is not None):
        folder = loaded.resolve(source.disk or source.plugin.path)  # type: ignore[union-attr]
        paths.extend(sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else [folder])
    for split in loaded.spec.splits.values():
        if split.ids is not None:
            paths.append(loaded.resolve(split.ids))
    return paths


# --- files --------------------------------------------------------------------------------

def _existing(loaded: LoadedSpec, raw: Path, key: tuple[str | int, ...]) -> Path:
    path = loaded.resolve(raw)
    if not path.exists():
        raise loaded.doc.error(key, f"file not found: {path}; check the path (and NEWSBENCH_DATA if used)")
    if path.is_dir():
        raise loaded.doc.error(key, f"{path} is a folder; name a file (or use source.articles for a folder)")
    if not path.is_file():  # a FIFO would block the build, /dev/zero never end
        raise loaded.doc.error(key, f"{path} is not a regular file (a FIFO, device or socket); name a data file")
    return path


class _JoinTable:
    """The right side of ``source.join``, read once and indexed by key, applied to each batch."""

    def __init__(self, frame: pd.DataFrame, keys: pd.Series, path: Path, join: JoinSpec, loaded: LoadedSpec) -> None:
        self.frame, self.path, self.join, self.loaded = frame, path, join, loaded
        self.lookup = dict(zip(keys, range(len(keys))))

    @classmethod
    def read(cls, join: JoinSpec, base: ReadOptions, loaded: LoadedSpec) -> _JoinTable:
        key_path = ("source", "join", "file")
        path = _existing(loaded, join.file, key_path)
        options = ReadOptions(
            format=join.format, encoding=join.encoding or base.encoding,
            delimiter=join.delimiter if join.delimiter is not None else base.delimiter,
            quoting=join.quoting or base.quoting, header=base.header if join.header is None else join.header)
        right = read_table(path, options, loaded, key_path)
        _need_key(right, join.on, str(path), loaded)
        keys = right[join.on].astype(str).str.strip()
        repeated = keys[keys.duplicated()]
        if len(repeated):
            row = int(repeated.index[0]) + 1
            raise DataError(path, None, f"row {row}", f"join key {join.on}={repeated.iloc[0]!r} appears more "
                            "than once; a join table needs one row per key")
        return cls(right.drop(columns=[join.on]).reset_index(drop=True), keys.reset_index(drop=True), path,
                   join, loaded)

    def apply(self, table: SourceTable) -> pd.DataFrame:
        """The batch with the join table's columns attached; every key must match exactly one row."""
        import pandas as pd

        left, on = table.frame, self.join.on
        _need_key(left, on, table.files[0], self.loaded)
        left_keys = left[on].astype(str).str.strip()
        indices = left_keys.map(self.lookup)
        missing = indices.isna()
        if missing.any():
            first = int(missing.to_numpy().nonzero()[0][0])
            file, row = table.where(first)
            raise DataError(file, None, row, f"join key {on}={left_keys.iat[first]!r} has no row in {self.path} "
                            f"({int(missing.sum())} rows lack a match); fix the key or the join file")
        # Taking from object arrays copies pointers, not the (often repeated) body texts.
        take = indices.astype("int64").to_numpy()
        frame = left.copy()
        for column in self.frame.columns:
            name = f"join.{column}" if column in left.columns else column
            frame[name] = pd.Series(self.frame[column].to_numpy(dtype=object)[take], index=left.index, dtype=object)
        return frame


def _need_key(frame: pd.DataFrame, on: str, name: str, loaded: LoadedSpec) -> None:
    if on not in frame.columns:
        hint = difflib.get_close_matches(on, [str(c) for c in frame.columns], n=1)
        raise loaded.doc.error(("source", "join", "on"), f"key column {on!r} is not in {name}"
                               + (f"; did you mean {hint[0]!r}?" if hint else
                                  f"; columns are {', '.join(map(str, frame.columns))}"))


# --- articles ------------------------------------------------------------------------------

def _read_articles(loaded: LoadedSpec, spec: ArticlesSpec) -> dict[str, SourceTable]:
    from bench.corpus.articles import read_articles

    folder = loaded.resolve(spec.path)
    if not folder.is_dir():
        raise loaded.doc.error(("source", "articles", "path"), f"folder not found: {folder}; check the path")
    labels = None
    if spec.labels is not None:
        labels = _existing(loaded, spec.labels, ("source", "articles", "labels"))
    frame = read_articles(folder, labels, spec.include)
    frame[ORIGIN_FILE] = 0
    frame[ORIGIN_ROW] = range(1, len(frame) + 1)
    return {spec.split: SourceTable(frame=frame.reset_index(drop=True), files=(str(folder),))}


# --- plugins -------------------------------------------------------------------------------

def _read_plugin(loaded: LoadedSpec, spec: PluginSourceSpec) -> dict[str, SourceTable]:
    """A ``newsbench.sources`` reader's splits; whatever it raises is one line naming it and its package."""
    from bench.corpus.plugins import SOURCES, read_frames

    path = loaded.resolve(spec.path) if spec.path is not None else None
    origin = SOURCES.origins.get(spec.name, "")
    try:
        frames = read_frames(SOURCES.get(spec.name), path, spec.params)
    except Exception as exc:  # noqa: BLE001 - a plugin can raise anything; name it once
        first = (str(exc).splitlines() or [""])[0]
        raise loaded.doc.error(("source", "plugin"), f"dataset source {spec.name!r} ({origin}) failed: "
                               f"{type(exc).__name__}: {first}; check source.plugin.path and params, or the "
                               "plugin") from None
    tables = {}
    for split, frame in frames.items():
        frame[ORIGIN_FILE] = 0
        frame[ORIGIN_ROW] = range(1, len(frame) + 1)
        tables[split] = SourceTable(frame=frame, files=(f"{spec.name}:{path or ''}[{split}]",))
    return tables
