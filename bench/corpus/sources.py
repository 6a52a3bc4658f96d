"""Read a spec's source as batches of raw rows per split: files (+ join), raw articles, the hub, or disk.

Parquet, CSV/TSV and JSON Lines files are read as their batches are consumed, so a corpus
larger than memory streams through the builder; JSON arrays, article folders and Hugging
Face sources are read whole and then handed on in batches. Every value comes back as it was written (CSV cells as strings,
JSON values as parsed), plus two bookkeeping columns, ``ORIGIN_FILE`` (an index into
``SourceTable.files``) and ``ORIGIN_ROW`` (the 1-based data row in that file), so that a
later check can name the file and row of a bad value. Nothing here cleans or drops rows: that is ``build``'s job.
"""

from __future__ import annotations

import csv
import difflib
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from bench.corpus.spec import ArticlesSpec, JoinSpec, LoadedSpec
from bench.errors import DataError
from bench.jsonlines import json_lines, json_objects

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

_CHECK_BYTES = 1 << 23  # read at a time when checking that a CSV decodes
ORIGIN_FILE = "__file__"
ORIGIN_ROW = "__row__"
_SUFFIX_FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json",
                   ".parquet": "parquet", ".pq": "parquet"}


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


@dataclass(frozen=True)
class _ReadOptions:
    format: str | None
    encoding: str
    delimiter: str | None
    quoting: str
    header: bool


def _read_whole(loaded: LoadedSpec) -> dict[str, SourceTable]:
    """The splits of a source that is read whole: raw articles, the hub, or a saved dataset."""
    source = loaded.spec.source
    if source.articles is not None:
        return _read_articles(loaded, source.articles)
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
    options = _ReadOptions(source.format, source.encoding, source.delimiter, source.quoting, source.header)
    join = _JoinTable.read(source.join, options, loaded) if source.join is not None else None
    for split, value in source.files.items():
        paths = value if isinstance(value, tuple) else (value,)
        keys = [("source", "files", split) + ((i,) if isinstance(value, tuple) else ()) for i in range(len(paths))]
        existing = [_existing(loaded, raw, key) for raw, key in zip(paths, keys)]
        files = tuple(str(path) for path in existing)
        yield SourceSplit(split, files, _file_batches(loaded, split, existing, keys, options, join, batch_rows))


def _slices(frame: pd.DataFrame, batch_rows: int) -> Iterator[pd.DataFrame]:
    for begin in range(0, max(len(frame), 1), batch_rows):
        yield frame.iloc[begin: begin + batch_rows].reset_index(drop=True)


def _file_batches(loaded: LoadedSpec, split: str, paths: list[Path], keys: list[tuple[str | int, ...]],
                  options: _ReadOptions, join: _JoinTable | None, batch_rows: int) -> Iterator[pd.DataFrame]:
    files = tuple(str(path) for path in paths)
    first_columns: list[Any] | None = None
    for number, (path, key) in enumerate(zip(paths, keys)):
        fmt = _format_of(path, options.format, loaded, key)
        if fmt == "parquet":
            pieces = _parquet_batches(path, batch_rows)
        elif fmt == "jsonl":
            pieces = _jsonl_batches(path, options.encoding, batch_rows, referenced_columns(loaded), loaded)
        elif fmt in ("csv", "tsv"):
            pieces = _delimited_batches(path, fmt, options, loaded, batch_rows)
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


def _delimited_batches(path: Path, fmt: str, options: _ReadOptions, loaded: LoadedSpec,
                       batch_rows: int) -> Iterator[pd.DataFrame]:
    """CSV/TSV streamed: every byte checked to decode (a pass that names the line of a bad one),
    then pyarrow's streaming reader, every cell a string, ``batch_rows`` rows at a time."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    head = _check_decodable_stream(path, options.encoding, loaded)
    names, parse = _delimited_layout(head, path, fmt, options)
    pending: list[pa.RecordBatch] = []
    count, seen_rows = 0, False
    try:
        with pa.input_stream(str(path), compression="gzip" if _is_gzip(path) else None) as stream:
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(column_names=names, skip_rows=1 if options.header else 0,
                                               encoding=options.encoding, block_size=1 << 24),
                parse_options=parse,
                convert_options=pacsv.ConvertOptions(column_types={n: pa.large_string() for n in names},
                                                     strings_can_be_null=False, quoted_strings_can_be_null=False))
            for batch in reader:
                pending.append(batch)
                count += batch.num_rows
                seen_rows = seen_rows or batch.num_rows > 0
                while count >= batch_rows:
                    table = pa.Table.from_batches(pending)
                    yield _delimited_frame(table.slice(0, batch_rows), options)
                    rest = table.slice(batch_rows)
                    pending, count = rest.to_batches(), rest.num_rows
    except pa.ArrowInvalid as exc:
        message = str(exc).strip().splitlines()[0][:160]
        raise DataError(path, None, "", f"cannot parse as {fmt} ({message}); check source.delimiter, "
                        "source.quoting (none for text with stray quotes) and source.header") from None
    if count:
        yield _delimited_frame(pa.Table.from_batches(pending), options)
    elif not seen_rows:  # a header and no rows: an empty split, which the builder reports
        yield _delimited_frame(pa.table({n: pa.array([], type=pa.large_string()) for n in names}), options)


def _delimited_frame(table: pa.Table, options: _ReadOptions) -> pd.DataFrame:
    frame = table.to_pandas()
    if not options.header:
        frame.columns = list(range(table.num_columns))
    return frame


def _check_decodable_stream(path: Path, encoding: str, loaded: LoadedSpec) -> str:
    """Check that every byte of ``path`` decodes, 8 MB at a time; returns the first MB decoded."""
    import codecs

    try:
        decoder = codecs.getincrementaldecoder(encoding)()
    except LookupError:
        raise loaded.doc.error(("source", "encoding"), f"unknown encoding {encoding!r}; "
                               "use e.g. utf-8, latin-1, cp1252") from None
    head = b""
    lines = 0
    with _open_binary(path) as handle:
        while True:
            try:
                piece = handle.read(_CHECK_BYTES)
            except (OSError, EOFError) as exc:
                raise DataError(path, None, "", f"corrupt gzip data ({exc}); re-download the file") from None
            if len(head) < (1 << 20):
                head += piece[: (1 << 20) - len(head)]
            buffered = decoder.getstate()[0]  # the bytes of a character cut by the previous read
            try:
                decoder.decode(piece, final=not piece)
            except UnicodeDecodeError:
                data = buffered + piece
                try:
                    data.decode(encoding)
                except UnicodeDecodeError as exc:
                    _raise_undecodable(data, exc.start, path, encoding, lines_before=lines)
                raise
            if not piece:
                break
            lines += piece.count(b"\n")
    return head.decode(encoding, errors="ignore").removeprefix("\ufeff")


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


def _jsonl_batches(path: Path, encoding: str, batch_rows: int, referenced: set[str],
                   loaded: LoadedSpec) -> Iterator[pd.DataFrame]:
    """JSON Lines read a line at a time; a column the spec reads that a batch lacks is missing
    (None) in that batch, and one that no record has ends with the frame that names it missing."""
    import codecs

    try:
        codecs.lookup(encoding)
    except LookupError:
        raise loaded.doc.error(("source", "encoding"), f"unknown encoding {encoding!r}; "
                               "use e.g. utf-8, latin-1, cp1252") from None
    seen: set[str] = set()
    records: list[dict[str, Any]] = []
    with _open_binary(path) as handle:
        for _, record in json_lines(_decoded_lines(handle, path, encoding), path):
            records.append(record)
            seen.update(record)
            if len(records) == batch_rows:
                yield _records_frame(records, referenced)
                records = []
    if records:
        yield _records_frame(records, referenced)
    elif not seen:
        raise DataError(path, None, "", "the file has no records; give a file with rows")
    if referenced - seen:  # an empty frame of the columns there are: the builder names the missing one
        import pandas as pd

        yield pd.DataFrame({name: pd.Series([], dtype=object) for name in sorted(seen)})


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as probe:
        return probe.read(2) == b"\x1f\x8b"


def _open_binary(path: Path) -> Any:
    return gzip.open(path, "rb") if _is_gzip(path) else path.open("rb")


def _decoded_lines(handle: Any, path: Path, encoding: str) -> Iterator[str]:
    number = 0
    while True:
        try:
            raw = handle.readline()
        except (OSError, EOFError) as exc:
            raise DataError(path, None, "", f"corrupt gzip data ({exc}); re-download the file") from None
        if not raw:
            return
        number += 1
        try:
            line = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            hint = "latin-1 or cp1252" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else "utf-8"
            raise DataError(path, number, f"byte 0x{raw[exc.start: exc.start + 1].hex()}",
                            f"cannot be decoded as {encoding}; set source.encoding (e.g. {hint}) to the "
                            "file's encoding") from None
        yield line.removeprefix("\ufeff") if number == 1 else line


def _records_frame(records: list[dict[str, Any]], always: set[str]) -> pd.DataFrame:
    """Records as columns of raw values: every key of any record (None where a record lacks
    it), plus the ``always`` columns even when no record has them."""
    import pandas as pd

    columns: dict[str, list[Any]] = {name: [] for name in sorted(always)}
    for number, record in enumerate(records):
        for name in record:
            if name not in columns:
                columns[name] = [None] * number
        for name, values in columns.items():
            values.append(record.get(name))
    return pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in columns.items()})


def _parquet_batches(path: Path, batch_rows: int) -> Iterator[pd.DataFrame]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        reader = pq.ParquetFile(path)
        if reader.metadata.num_rows == 0:
            yield reader.schema_arrow.empty_table().to_pandas()
            return
        for batch in reader.iter_batches(batch_size=batch_rows):
            yield pa.Table.from_batches([batch]).to_pandas()
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise DataError(path, None, "", f"cannot read as parquet ({exc}); check the file") from None


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
        from bench.corpus.articles import article_files

        folder = loaded.resolve(source.articles.path)
        paths.extend(path for _, path in article_files(folder, source.articles.include)) if folder.is_dir() \
            else paths.append(folder)
        if source.articles.labels is not None:
            paths.append(loaded.resolve(source.articles.labels))
    elif source.disk is not None:
        folder = loaded.resolve(source.disk)
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
    return path


def _format_of(path: Path, given: str | None, loaded: LoadedSpec, key: tuple[str | int, ...]) -> str:
    if given is not None:
        return given
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    fmt = _SUFFIX_FORMATS.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        raise loaded.doc.error(key, f"cannot tell the format of {path.name} from its suffix; "
                               "add source.format: csv|tsv|jsonl|json|parquet")
    return fmt


def read_table(path: Path, options: _ReadOptions, loaded: LoadedSpec,
               key: tuple[str | int, ...]) -> pd.DataFrame:
    """One file as a DataFrame of raw values (CSV cells are strings; JSON values as parsed)."""
    fmt = _format_of(path, options.format, loaded, key)
    if fmt == "parquet":
        return _read_parquet(path)
    raw = _read_bytes(path)
    if fmt in ("csv", "tsv"):
        # Check every byte decodes (to name the line of a bad one) without keeping a second
        # copy of a large file as str; pyarrow then reads (and transcodes) the bytes.
        _check_decodable(raw, path, options.encoding, loaded)
        head = raw[: 1 << 20].decode(options.encoding, errors="ignore").removeprefix("\ufeff")
        return _read_delimited(head, raw.removeprefix(b"\xef\xbb\xbf"), path, fmt, options)
    return _read_json(_decode(raw, path, options.encoding, loaded, key), path, fmt)


def _check_decodable(raw: bytes, path: Path, encoding: str, loaded: LoadedSpec) -> None:
    import codecs

    try:
        decoder = codecs.getincrementaldecoder(encoding)()
    except LookupError:
        raise loaded.doc.error(("source", "encoding"), f"unknown encoding {encoding!r}; "
                               "use e.g. utf-8, latin-1, cp1252") from None
    step = 1 << 23
    for begin in range(0, len(raw), step):
        piece = raw[begin: begin + step]
        try:
            decoder.decode(piece, final=begin + step >= len(raw))
        except UnicodeDecodeError:
            try:  # the slow path only for a bad file: one full decode gives the exact offset
                raw.decode(encoding)
            except UnicodeDecodeError as exc:
                _raise_undecodable(raw, exc.start, path, encoding)


def _raise_undecodable(raw: bytes, position: int, path: Path, encoding: str, lines_before: int = 0) -> NoReturn:
    line = lines_before + raw[:position].count(b"\n") + 1
    byte = raw[position: position + 1].hex()
    hint = "latin-1 or cp1252" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else "utf-8"
    raise DataError(path, line, f"byte 0x{byte}", f"cannot be decoded as {encoding}; "
                    f"set source.encoding (e.g. {hint}) to the file's encoding")


def _read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise DataError(path, None, "", f"corrupt gzip data ({exc}); re-download the file") from None
    return data


def _decode(raw: bytes, path: Path, encoding: str, loaded: LoadedSpec, key: tuple[str | int, ...]) -> str:
    try:
        text = raw.decode(encoding)
    except LookupError:
        raise loaded.doc.error(("source", "encoding"), f"unknown encoding {encoding!r}; "
                               "use e.g. utf-8, latin-1, cp1252") from None
    except UnicodeDecodeError as exc:
        _raise_undecodable(raw, exc.start, path, encoding)
    return text.removeprefix("\ufeff")


def _delimited_layout(head: str, path: Path, fmt: str, options: _ReadOptions) -> tuple[list[str], Any]:
    """Column names (from the header line, or ``c0..``) and pyarrow parse options of a CSV/TSV."""
    import pyarrow.csv as pacsv

    delimiter = options.delimiter or ("\t" if fmt == "tsv" else ",")
    quoting = csv.QUOTE_NONE if options.quoting == "none" else csv.QUOTE_MINIMAL
    first = next(csv.reader(io.StringIO(head), delimiter=delimiter, quoting=quoting), None)
    if not first:
        raise DataError(path, None, "", "the file is empty; give a file with rows")
    names = [c.strip() for c in first] if options.header else [f"c{i}" for i in range(len(first))]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataError(path, 1, "header", f"column {repeated[0]!r} appears more than once; rename one")
    parse = pacsv.ParseOptions(delimiter=delimiter, quote_char='"' if quoting != csv.QUOTE_NONE else False,
                               newlines_in_values=True, ignore_empty_lines=True)
    return names, parse


def _read_delimited(head: str, data: bytes, path: Path, fmt: str, options: _ReadOptions) -> pd.DataFrame:
    """CSV/TSV with pyarrow's reader, every cell as a string (ids such as ``007`` stay as written)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names, parse = _delimited_layout(head, path, fmt, options)
    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1 if options.header else 0,
                                           encoding=options.encoding),
            parse_options=parse,
            convert_options=pacsv.ConvertOptions(column_types={n: pa.large_string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    except pa.ArrowInvalid as exc:
        message = str(exc).strip().splitlines()[0][:160]
        raise DataError(path, None, "", f"cannot parse as {fmt} ({message}); check source.delimiter, "
                        "source.quoting (none for text with stray quotes) and source.header") from None
    return _delimited_frame(table, options)


def _read_json(text: str, path: Path, fmt: str) -> pd.DataFrame:
    import pandas as pd

    records: list[Any]
    if fmt == "jsonl":
        records = [record for _, record in json_objects(text, path)]
    else:
        try:
            records = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(path, exc.lineno, "", f"invalid JSON ({exc.msg}); fix the syntax") from None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise DataError(path, None, "", "expected a JSON list of objects; for one object per line "
                            "use a .jsonl file or source.format: jsonl")
    if not records:
        raise DataError(path, None, "", "the file has no records; give a file with rows")
    return _records_frame(records, set())


def _read_parquet(path: Path) -> pd.DataFrame:
    import pandas as pd

    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise DataError(path, None, "", f"cannot read as parquet ({exc}); check the file") from None


class _JoinTable:
    """The right side of ``source.join``, read once and indexed by key, applied to each batch."""

    def __init__(self, frame: pd.DataFrame, keys: pd.Series, path: Path, join: JoinSpec, loaded: LoadedSpec) -> None:
        self.frame, self.path, self.join, self.loaded = frame, path, join, loaded
        self.lookup = dict(zip(keys, range(len(keys))))

    @classmethod
    def read(cls, join: JoinSpec, base: _ReadOptions, loaded: LoadedSpec) -> _JoinTable:
        key_path = ("source", "join", "file")
        path = _existing(loaded, join.file, key_path)
        options = _ReadOptions(
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
