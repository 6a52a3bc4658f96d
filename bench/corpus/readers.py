"""Reading one source file: its format, a decode check that names the line of a bad byte, and
the readers, whole (``read_table``) or as batches of raw rows (Parquet row groups, CSV/TSV
through pyarrow's streaming reader, JSON Lines a line at a time).

Every value comes back as it was written: CSV cells as strings (ids such as ``007`` stay as
written), JSON values as parsed. Gzipped files are recognised by their first bytes.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from bench.core.errors import DataError
from bench.core.jsonlines import json_lines, json_objects, json_records

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from bench.corpus.spec import LoadedSpec

_CHECK_BYTES = 1 << 23  # read at a time when checking that a CSV decodes
# pyarrow's CSV block: one field (one cell) must fit in it. NEWSBENCH_CSV_BLOCK_MB raises it
# for corpora with huge cells; it changes memory use only, never the rows read.
BLOCK_MB_VARIABLE = "NEWSBENCH_CSV_BLOCK_MB"
DEFAULT_BLOCK_MB = 16


def csv_block_bytes() -> int:
    """The CSV reader's block size in bytes (``NEWSBENCH_CSV_BLOCK_MB``, default 16 MB)."""
    value = os.environ.get(BLOCK_MB_VARIABLE, "").strip()
    if not value:
        return DEFAULT_BLOCK_MB << 20
    try:
        megabytes = float(value)
    except ValueError:
        megabytes = -1.0
    if not 0 < megabytes <= 4096:
        raise DataError(BLOCK_MB_VARIABLE, None, "", f"{value!r} is not a size in MB between 0 and 4096; "
                        f"unset it (default {DEFAULT_BLOCK_MB}) or give e.g. 64")
    return max(1, int(megabytes * (1 << 20)))
SUFFIX_FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json",
                   ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True)
class ReadOptions:
    format: str | None
    encoding: str
    delimiter: str | None
    quoting: str
    header: bool


def delimited_batches(path: Path, fmt: str, options: ReadOptions, loaded: LoadedSpec | None,
                      batch_rows: int) -> Iterator[pd.DataFrame]:
    """CSV/TSV streamed: every byte checked to decode (a pass that names the line of a bad one),
    then pyarrow's streaming reader, every cell a string (ids such as ``007`` stay as written),
    ``batch_rows`` rows at a time; a header without rows is one empty batch."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    head = check_decodable(path, options.encoding, loaded)
    names, parse = _delimited_layout(head, path, fmt, options)
    block = csv_block_bytes()
    pending: list[pa.RecordBatch] = []
    count, yielded = 0, False
    try:
        with pa.input_stream(str(path), compression="gzip" if _is_gzip(path) else None) as stream:
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(column_names=names, skip_rows=1 if options.header else 0,
                                               encoding=options.encoding, block_size=block),
                parse_options=parse,
                convert_options=pacsv.ConvertOptions(column_types={n: pa.large_string() for n in names},
                                                     strings_can_be_null=False, quoted_strings_can_be_null=False))
            for batch in reader:
                pending.append(batch)
                count += batch.num_rows
                while count >= batch_rows:
                    table = pa.Table.from_batches(pending)
                    yield _delimited_frame(table.slice(0, batch_rows), options)
                    yielded = True
                    rest = table.slice(batch_rows)
                    pending, count = rest.to_batches(), rest.num_rows
            if count or not yielded:
                yield _delimited_frame(pa.Table.from_batches(pending, schema=reader.schema), options)
    except pa.ArrowInvalid as exc:
        message = str(exc).strip().splitlines()[0][:160]
        if "straddling" in message or "block size" in message:
            size = f"{block / (1 << 20):.3g} MB"
            raise DataError(path, None, "", f"a field is larger than the CSV reader's block size of {size}; "
                            f"if a cell really is that large, raise the limit with {BLOCK_MB_VARIABLE}=<MB> "
                            "(e.g. 64); if not, an unclosed quote runs on (set source.quoting: none)") from None
        raise DataError(path, None, "", f"cannot parse as {fmt} ({message}); check source.delimiter, "
                        "source.quoting (none for text with stray quotes) and source.header") from None


def _delimited_frame(table: pa.Table, options: ReadOptions) -> pd.DataFrame:
    frame = table.to_pandas()
    if not options.header:
        frame.columns = list(range(table.num_columns))
    return frame


def check_decodable(path: Path, encoding: str, loaded: LoadedSpec | None) -> str:
    """Check that every byte of ``path`` decodes, 8 MB at a time; returns the first MB decoded.

    ``loaded`` (the spec that names the encoding) may be ``None`` when the encoding is a known one.
    """
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


def jsonl_batches(path: Path, encoding: str, batch_rows: int, referenced: set[str],
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


def parquet_batches(path: Path, batch_rows: int) -> Iterator[pd.DataFrame]:
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


def data_suffix(path: Path) -> str:
    """The suffix that names the format (``.csv`` of ``x.csv.gz``), lowercase; ``""`` when none."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def format_of(path: Path, given: str | None, loaded: LoadedSpec, key: tuple[str | int, ...]) -> str:
    if given is not None:
        return given
    fmt = SUFFIX_FORMATS.get(data_suffix(path))
    if fmt is None:
        raise loaded.doc.error(key, f"cannot tell the format of {path.name} from its suffix; "
                               "add source.format: csv|tsv|jsonl|json|parquet")
    return fmt


def read_table(path: Path, options: ReadOptions, loaded: LoadedSpec,
               key: tuple[str | int, ...]) -> pd.DataFrame:
    """One file as a DataFrame of raw values (CSV cells are strings; JSON values as parsed)."""
    fmt = format_of(path, options.format, loaded, key)
    if fmt == "parquet":
        return _read_parquet(path)
    if fmt in ("csv", "tsv"):
        (whole,) = delimited_batches(path, fmt, options, loaded, batch_rows=sys.maxsize)
        return whole
    raw = _read_bytes(path)
    return _read_json(_decode(raw, path, options.encoding, loaded, key), path, fmt)


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


def _delimited_layout(head: str, path: Path, fmt: str, options: ReadOptions) -> tuple[list[str], Any]:
    """Column names (from the header line, or ``c0..``) and pyarrow parse options of a CSV/TSV."""
    import pyarrow.csv as pacsv

    delimiter = options.delimiter or ("\t" if fmt == "tsv" else ",")
    quoting = csv.QUOTE_NONE if options.quoting == "none" else csv.QUOTE_MINIMAL
    try:  # newline=None: a file with CR line ends has lines too
        first = next(csv.reader(io.StringIO(head, newline=None), delimiter=delimiter, quoting=quoting), None)
    except csv.Error as exc:
        raise DataError(path, 1, "header", f"cannot read the header line ({exc}); check source.delimiter "
                        "and source.quoting") from None
    if not first:
        raise DataError(path, None, "", "the file is empty; give a file with rows")
    names = [c.strip() for c in first] if options.header else [f"c{i}" for i in range(len(first))]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataError(path, 1, "header", f"column {repeated[0]!r} appears more than once; rename one")
    parse = pacsv.ParseOptions(delimiter=delimiter, quote_char='"' if quoting != csv.QUOTE_NONE else False,
                               newlines_in_values=True, ignore_empty_lines=True)
    return names, parse


def _read_json(text: str, path: Path, fmt: str) -> pd.DataFrame:
    records: list[Any]
    if fmt == "jsonl":
        records = [record for _, record in json_objects(text, path)]
    else:
        records = json_records(text, path)
    if not records:
        raise DataError(path, None, "", "the file has no records; give a file with rows")
    return _records_frame(records, set())


def _read_parquet(path: Path) -> pd.DataFrame:
    import pandas as pd

    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise DataError(path, None, "", f"cannot read as parquet ({exc}); check the file") from None
