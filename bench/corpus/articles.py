"""Raw news article files -> one clean record per file (title, outlet, date, language, text, labels).

The raw format is the one news scrapers produce (see docs/datasets.md)::

    Title of the article
    (Outlet) - First paragraph, the lead ...
    ![]() |
    Caption of the picture, Name Surname. Photo : AP |
    Body paragraph, one per line ...

Line 1 is the title; a leading ``(Outlet) - `` on the next line gives the outlet and is cut
from the text. Picture residue is removed: markdown images (``![]() |``, ``![alt](url)``),
the caption line that follows an image, caption lines that end with a credit
(``... Photo : AP |``, ``... Photo: Reuters``), standalone credit lines (``Photo : X``,
``Crédit photo ...``) and inline credits (``(Photo: X)``). A line is only taken for a caption
when it follows an image and ends with the table-cell ``|``, or carries a photo credit (a
bare ``Crédit :`` only with the ``|`` or in parentheses, since "Crédit : 5 Md€" is news): an
ordinary sentence that merely mentions a photo stays. A ``|`` ending a line with no picture
around is dropped and the words are kept.

Text is NFC-normalised; any run of white space (no-break spaces included) becomes one space;
zero-width and control characters go; CRLF, CR and a UTF-8 BOM are accepted; each non-blank
line is a paragraph and paragraphs are joined by ``\\n``. The title is not part of ``text``.

An optional YAML front matter block (``---`` ... ``---``) may give ``title``, ``source``,
``date`` and ``language``; every other key is a label column (a list stays a list, for
multi-label topics). With a front-matter ``title`` the body has no title line (a first line
equal to that title is dropped). Labels may instead (or also) come from a sidecar CSV or
JSONL with a ``file`` column naming each article relative to the folder; a value given in both
places must agree. Empty sidecar cells are missing values (``None``).

Policy is the builder's: this module returns every file as a record and raises
``DataError`` (file, line, fix) only for what cannot be a record: an empty, non-UTF-8 or
title-less file, bad front matter, a sidecar row naming no file, a file with no sidecar row.

Which files are read, and what is refused (links out of the folder, FIFOs, devices, files
over ``MAX_ARTICLE_BYTES``), is ``bench.corpus.folder``'s.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.core.errors import ConfigError, DataError
from bench.core.jsonlines import json_objects
from bench.core.safe_yaml import parse_yaml
from bench.corpus.folder import DEFAULT_INCLUDE, MAX_ARTICLE_BYTES, article_files

if TYPE_CHECKING:
    import pandas

META_FIELDS = ("title", "source", "date", "language")
BASE_COLUMNS = ("file", "title", "source", "date", "language", "text")

_LEAD = re.compile(r"^\((?P<outlet>[^()\n]{1,80})\)\s*[-–—]+\s*")
_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)")
_PHOTO_WORD = r"(?:photos?|crédits?\s+photos?|photo\s+credits?|image\s+credits?|illustration|source\s+photo)"
# a bare "Credit:" only counts inside parentheses or before the caption bar: "Crédit : 5 Md€" is news
_CREDIT_WORD = rf"(?:{_PHOTO_WORD}|credits?|crédits?)"
_INLINE_CREDIT = re.compile(rf"\s*\(\s*{_CREDIT_WORD}\s*:[^()\n]{{0,80}}\)", re.IGNORECASE)
# "... Lavrov. Photo : AP |" / "... at a briefing. Photo: Reuters": a credit closes the line
_PIPED_CREDIT = re.compile(rf"(?:^|[\s.!?»\"”)])\s*{_CREDIT_WORD}\s*:\s*[^|\n]{{1,60}}\|\s*$", re.IGNORECASE)
_TRAILING_CREDIT = re.compile(rf"(?:^|[\s.!?»\"”)])\s*{_PHOTO_WORD}\s*:\s*[^.!?:\n]{{1,60}}$", re.IGNORECASE)
# a line that is nothing but a credit: "Photo : AP", "Crédit photo Jean Dupont", "Photo credit: X"
_CREDIT_LINE = re.compile(
    r"^(?:(?:photos?|illustration|image)\s*:|crédits?\s+photos?\b|photo\s+credits?\b|image\s+credits?\b)"
    r"[^\n]{0,80}$", re.IGNORECASE)
_CREDIT_HINT = re.compile(r"photo|cr[ée]dit|illustration|image", re.IGNORECASE)
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_HEADING = re.compile(r"^#{1,6}(?:\s+|$)")


@dataclass(frozen=True, kw_only=True)
class Article:
    """One parsed article file.

    Attributes:
        file: the file name relative to the articles folder (the record's natural id).
        title: the title (front matter ``title`` or the first line).
        source: the outlet from the ``(Outlet) - `` lead or front matter, else None.
        date: front matter ``date`` as text (ISO for a YAML date), else None.
        language: front matter ``language``, else None (detection is the builder's choice).
        text: the body, paragraphs joined by ``\\n``, without title, lead marker or residue.
        labels: the other front-matter keys, as text (or a list of text).
    """

    file: str
    title: str
    source: str | None
    date: str | None
    language: str | None
    text: str
    labels: Mapping[str, Any] = field(default_factory=dict)


def _normalise(text: str) -> str:
    """NFC, without zero-width and control characters (line breaks stay)."""
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return _INVISIBLE.sub("", text)


def _clean_line(line: str) -> str:
    """A normalised line with every run of white space (no-break spaces too) as one space."""
    return " ".join(line.split())


def _label_value(value: Any, file: str, line: int, key: str) -> Any:
    """A front-matter label as text: scalars become strings, lists lists of strings."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, dt.date)):
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    if isinstance(value, list) and all(v is not None and not isinstance(v, (list, dict)) for v in value):
        return [_label_value(v, file, line, key) for v in value]
    raise DataError(file, line, key, "expected text or a list of text in the front matter, got "
                    f"{type(value).__name__}; flatten the value")


def _front_matter(lines: list[str], file: str) -> tuple[dict[str, Any], int]:
    """The front matter mapping and the index of the first body line (0 when there is none)."""
    if not lines or lines[0].strip() != "---":
        return {}, 0
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        raise DataError(file, 1, "front matter", "opened with '---' but never closed; "
                        "add a '---' line after the last key")
    try:  # the strict loader: no anchors/aliases, tags or deep nesting; no ${VAR} in data
        data = parse_yaml("\n".join(lines[1:end]), file, first_line=2, expand_vars=False).data
    except ConfigError as exc:
        raise DataError(file, exc.line, exc.key or "front matter", exc.problem) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise DataError(file, 2, "front matter", "expected 'key: value' lines; write e.g. 'topic: economy'")
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = str(key)
        if name in ("file", "text"):
            raise DataError(file, 2, name, f"'{name}' is set by the parser, not the front matter; "
                            "rename the key")
        out[name] = _label_value(value, file, 2, name)
    return out, end + 1


def _strip_residue(lines: list[str]) -> list[str]:
    """Body lines without picture residue (see the module docstring)."""
    out: list[str] = []
    after_image = False
    any_hint = any(_CREDIT_HINT.search(line) for line in lines)
    for line in lines:
        had_image = "![" in line and _IMAGE.search(line) is not None
        if had_image:
            line = _IMAGE.sub("", line)
        hinted = any_hint and _CREDIT_HINT.search(line) is not None  # the credit patterns are slow
        if hinted and "(" in line:
            line = _INLINE_CREDIT.sub("", line)
        line = line.strip()
        if not line.strip("| "):  # "![]() |", or a credit alone in parentheses
            after_image = after_image or had_image
            continue
        piped = line.endswith("|")
        caption = (piped and (after_image or had_image)) or (hinted and bool(
            (piped and _PIPED_CREDIT.search(line)) or _TRAILING_CREDIT.search(line) or _CREDIT_LINE.match(line)))
        after_image = False
        if not caption:
            # a table-cell bar with no picture around it: keep the words, drop the bar
            out.append(line.rstrip("| ") if piped else line)
    return out


def parse_article(text: str, file: str) -> Article:
    """Parse the decoded content of one article file.

    Args:
        text: the whole file as text (a BOM and CRLF/CR line ends are accepted).
        file: the file's name, used in the record and in error messages.

    Raises:
        DataError: empty content, bad front matter, or no title.
    """
    text = _normalise(text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n"))
    lines = text.split("\n")
    meta, start = _front_matter(lines, file)
    if not text.strip():
        raise DataError(file, 1, "", "the file is empty; remove it or write a title line and the text")
    body = [(i + 1, _clean_line(line)) for i, line in enumerate(lines) if i >= start]
    body = [(n, line) for n, line in body if line]
    title = meta.pop("title", None)
    fields = {k: meta.pop(k, None) for k in ("source", "date", "language")}
    if title is None or not str(title).strip():
        if not body:
            raise DataError(file, start + 1, "title", "no title: the file has no text after the front "
                            "matter; write the title on the first line or as 'title:' in the front matter")
        title = _HEADING.sub("", body.pop(0)[1])
        if not title:
            raise DataError(file, start + 1, "title", "the title line is empty; write the title on the first line")
    else:
        title = _clean_line(_normalise(str(title)))
        if body and _HEADING.sub("", body[0][1]) == title:
            body.pop(0)
    paragraphs = [line for _, line in body]
    source = fields["source"]
    if paragraphs and (lead := _LEAD.match(paragraphs[0])):
        paragraphs[0] = paragraphs[0][lead.end():]
        source = source if source is not None else _clean_line(lead.group("outlet"))
    return Article(
        file=file,
        title=title,
        source=None if source is None else _clean_line(_normalise(str(source))),
        date=None if fields["date"] is None else str(fields["date"]).strip(),
        language=None if fields["language"] is None else str(fields["language"]).strip(),
        text="\n".join(_strip_residue(paragraphs)),
        labels=meta,
    )


def read_article(path: Path, name: str) -> Article:
    """Read and parse one file; non-UTF-8 bytes are a ``DataError`` with the line."""
    with path.open("rb") as handle:  # at most the limit (and a byte), whatever the file grew to
        raw = handle.read(MAX_ARTICLE_BYTES + 1)
    if len(raw) > MAX_ARTICLE_BYTES:
        raise DataError(path, None, "articles", f"over the limit of {MAX_ARTICLE_BYTES:,} bytes per article "
                        "file; give one article per file (split the file)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(path, line, "", f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}); re-save the file "
                        "as UTF-8, e.g. iconv -f latin1 -t utf-8") from None
    try:
        return parse_article(text, name)
    except DataError as exc:  # name the path the user can open, not only the relative name
        raise DataError(path, exc.line, exc.key, exc.problem) from None


def _read_sidecar(path: Path) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """Columns and (line, row) pairs of a CSV/TSV or JSONL labels file keyed by ``file``."""
    if not path.is_file():
        raise DataError(path, None, "labels", "labels file not found (or not a regular file); check the path")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(path, None, "labels", "not valid UTF-8; re-save the labels file as UTF-8") from None
    rows: list[tuple[int, dict[str, Any]]] = []
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        columns: list[str] = []
        for n, row in json_objects(text, path):
            columns += [str(k) for k in row if str(k) not in columns]
            rows.append((n, {str(k): _label_value(v, str(path), n, str(k)) for k, v in row.items()}))
    elif path.suffix.lower() in (".csv", ".tsv"):
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        reader = csv.reader(text.splitlines(), delimiter=delimiter)
        header = next(reader, None)
        if not header:
            raise DataError(path, 1, "", "no header; the first line must name the columns, including 'file'")
        columns = [h.strip() for h in header]
        for values in reader:
            n = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(columns):
                raise DataError(path, n, "", f"{len(values)} fields, the header has {len(columns)}; "
                                "quote fields that contain the delimiter")
            rows.append((n, {c: (v.strip() or None) for c, v in zip(columns, values)}))
    else:
        raise DataError(path, None, "labels", f"unsupported labels file type {path.suffix!r}; "
                        "use .csv, .tsv or .jsonl")
    if "file" not in columns:
        raise DataError(path, 1, "file", "the labels file needs a 'file' column naming each article")
    for reserved in ("text",):
        if reserved in columns:
            raise DataError(path, 1, reserved, f"'{reserved}' comes from the article files; rename the column")
    return [c for c in columns if c != "file"], rows


def _merge(record: dict[str, Any], key: str, value: Any, where: Path, line: int | None) -> None:
    """Put a sidecar value in a record; a different non-missing value already there is an error."""
    current = record.get(key)
    if value is None:
        record.setdefault(key, None)
    elif current is None:
        record[key] = value
    elif current != value:
        raise DataError(where, line, key, f"{record['file']}: the labels file says {value!r} but the article "
                        f"says {current!r}; make them agree or remove one")


def read_articles(folder: Path, labels: Path | Sequence[Path] | None = None,
                  include: Sequence[str] = DEFAULT_INCLUDE) -> pandas.DataFrame:
    """Read every article file under ``folder`` (``*.txt`` and ``*.md`` by default), one row per file.

    Args:
        folder: the articles folder (searched recursively; hidden files skipped).
        include: file-name patterns of the articles (a folder may also hold a README.md).
        labels: optional sidecar labels file(s), CSV/TSV or JSONL, keyed by a ``file`` column
            (the path relative to ``folder``); several files are read as one.

    Returns:
        A DataFrame (object columns: text, ``None`` or lists) sorted by ``file``, with columns
        ``file, title, source, date, language, text`` and then every label column.

    Raises:
        DataError: a missing folder, no article files, a bad file, or a sidecar that does not
            match the files one to one.
    """
    import pandas as pd

    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(folder, None, "articles", "not a folder; point source.articles.path at the folder of articles")
    files = article_files(folder, include)
    if not files:
        raise DataError(folder, None, "articles", f"no {' or '.join(include)} files in the folder; "
                        "check the path or the file extensions")
    records: dict[str, dict[str, Any]] = {}
    label_columns: list[str] = []
    for name, path in files:
        art = read_article(path, name)
        records[name] = {"file": name, "title": art.title, "source": art.source, "date": art.date,
                         "language": art.language, "text": art.text, **art.labels}
        label_columns += [k for k in art.labels if k not in label_columns]
    sidecars = [] if labels is None else [Path(labels)] if isinstance(labels, (str, Path)) else list(labels)
    seen: dict[str, tuple[Path, int]] = {}
    for sidecar in sidecars:
        columns, rows = _read_sidecar(sidecar)
        label_columns += [c for c in columns if c not in label_columns and c not in META_FIELDS]
        for line, row in rows:
            name = row.get("file")
            if not name:
                raise DataError(sidecar, line, "file", "empty file name; name the article file")
            if name in seen:
                first = seen[name]
                raise DataError(sidecar, line, "file", f"{name!r} already has a row ({first[0].name} line "
                                f"{first[1]}); keep one row per article")
            if name not in records:
                hint = difflib.get_close_matches(name, list(records), n=1)
                raise DataError(sidecar, line, "file", f"{name!r} is not an article file in {folder}; "
                                + (f"did you mean {hint[0]!r}?" if hint else "remove the row or add the file"))
            seen[name] = (sidecar, line)
            for key, value in row.items():
                if key != "file":
                    _merge(records[name], key, value, sidecar, line)
    if sidecars:
        missing = [name for name in records if name not in seen]
        if missing:
            more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
            raise DataError(folder / missing[0], None, "labels", f"no row in the labels file for {missing[0]!r}"
                            f"{more}; add a row per article or remove the file")
    columns = [*BASE_COLUMNS, *label_columns]
    rows_out = [[rec.get(c) for c in columns] for rec in records.values()]
    return pd.DataFrame(rows_out, columns=columns, dtype=object)
