"""Dataset specs: the YAML that says where labeled news is and what it means (keys documented in docs/datasets.md).

A spec is bound strictly (unknown keys, wrong types and bad values are ``file:line: key``
errors) into frozen dataclasses. Every key, with its default:

```yaml
name: fnc1                     # required; letters, digits, '-', '_', '.'; becomes data/<name>/
task: stance                   # required; stance | topic
language: en                   # null (default) | a code such as fr | detect | {column: lang}
description: ""                # free text for card.md
license: ""                    # license note for card.md
citation: ""                   # how to cite, for card.md
source:                        # exactly one of files, articles, hub, disk, plugin
  files:                       # split -> a file or a list of files (concatenated in order)
    train: ${NEWSBENCH_DATA}/fnc1/train_stances.csv
  format: null                 # csv | tsv | jsonl | json | parquet; default from the suffix (.gz is looked through)
  encoding: utf-8              # e.g. latin-1; csv/tsv/jsonl/json only
  delimiter: null              # csv/tsv: default ',' for csv and TAB for tsv
  quoting: minimal             # csv/tsv: minimal (standard double quotes) | none (quotes are text)
  header: true                 # csv/tsv: false -> columns are named by position 0, 1, 2...
  join:                        # optional: attach the columns of another table (every key must match)
    file: ${NEWSBENCH_DATA}/fnc1/train_bodies.csv
    on: Body ID                # key column, present in both tables
    format: null               # default: from the suffix; encoding/delimiter/quoting/header as above
  articles: {path: DIR, labels: FILE, split: train, include: ['*.txt', '*.md']}   # raw article files
  hub: {path: ORG/NAME, name: null, revision: SHA}     # Hugging Face hub; revision is required
  disk: DIR                    # a saved DatasetDict (or Dataset -> split train)
  plugin: {name: NAME, path: null, params: {}}   # a reader installed under newsbench.sources
where: {}                      # optional row filter: column -> value or list of values to keep
columns:                       # dataset field <- source column (a name, or a position when header: false)
  id: null                     # default: <source split>-<row number>, or the file name for articles
  text: articleBody            # required; a list of columns is joined with a newline (title + body)
  target: Headline             # required for stance; not allowed for topic
  label: Stance                # required
  title: null                  # optional str fields: title, source, date, language, group
  source: null
  date: null                   # ISO dates; needed by `after:` splits
  language: null
  group: Body ID               # rows sharing a group never straddle made splits
labels: null                   # ordered label list; default: the sorted labels found in the data
label_map: {}                  # source value -> label (applied before the label check)
multilabel: false              # labels are lists, or strings split on label_separator
label_separator: "|"
splits:                        # splits the source lacks, made in the order written
  test: {from: train, size: 0.2, by: label, seed: 13}     # size: fraction (0-1) or a row count
  # test: {from: train, ids: FILE, by: group}            # ids (one per line) of rows (by: id) or groups
  # test: {from: train, after: 2024-01-01}               # rows dated on or after the date
on_empty: error                # empty text after cleaning: error | drop
on_unknown_label: error        # label not in `labels`: error | drop
on_duplicate: keep             # same text (and target) twice within a split: keep | drop (keep first) | error
on_overlap: keep               # same text in train and another split: keep | drop (from the other split) | error
on_near_overlap: keep          # near-duplicate (MinHash) of a train text in another split: keep | drop | error
near_duplicates: {threshold: 0.8, shingle: 5, permutations: 64, bands: 16, enabled: true}
headline_metric: f_avg         # the metric compare and report show by default (default: by task and labels)
```

Paths may use ``${VAR}`` / ``${VAR:-default}``; relative paths are relative to the spec
file's folder. ``by`` is ``label`` (stratified, the default for ``size``), ``group`` (needs
``columns.group``) or ``random``; for ``ids`` it is ``id`` (default) or ``group``. Every
policy outcome is counted in ``stats.json`` and the card: nothing is dropped silently.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from bench.core.errors import ConfigError
from bench.core.loader import Doc, KeyPath, bind, format_path, load_yaml

ColumnRef = str | int
Policy = Literal["keep", "drop", "error"]
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
FORMATS = ("csv", "tsv", "jsonl", "json", "parquet")


@dataclass(frozen=True, kw_only=True)
class JoinSpec:
    """Another table whose columns are attached by a key (FNC-1 bodies on ``Body ID``)."""

    file: Path
    on: str
    format: Literal["csv", "tsv", "jsonl", "json", "parquet"] | None = None
    encoding: str | None = None
    delimiter: str | None = None
    quoting: Literal["minimal", "none"] | None = None
    header: bool | None = None


@dataclass(frozen=True, kw_only=True)
class ArticlesSpec:
    """A folder of raw article files (``.txt``/``.md``), labels in front matter or a sidecar."""

    path: Path
    labels: Path | None = None
    split: str = "train"
    include: tuple[str, ...] = ("*.txt", "*.md")    # file-name patterns (a README.md can sit beside)


@dataclass(frozen=True, kw_only=True)
class HubSpec:
    """A Hugging Face hub dataset, pinned to a revision so that a rebuild gets the same data."""

    path: str
    revision: str
    name: str | None = None


@dataclass(frozen=True, kw_only=True)
class PluginSourceSpec:
    """A source read by an installed plugin (entry point group ``newsbench.sources``, docs/datasets.md)."""

    name: str
    path: Path | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from bench.corpus.plugins import SOURCES, check_params

        if self.name not in SOURCES:
            close = SOURCES.suggest(self.name)
            installed = ", ".join(SOURCES.names())
            raise ValueError(f"name: unknown dataset source {self.name!r}; "
                             + (f"did you mean {' or '.join(repr(c) for c in close)}?" if close else
                                f"installed: {installed}" if installed else
                                "no package that provides dataset sources (newsbench.sources) is installed"))
        check_params(SOURCES.get(self.name), self.params)


@dataclass(frozen=True, kw_only=True)
class SourceSpec:
    """Where the rows come from: exactly one of ``files``, ``articles``, ``hub``, ``disk``, ``plugin``."""

    files: dict[str, Path | tuple[Path, ...]] | None = None
    articles: ArticlesSpec | None = None
    hub: HubSpec | None = None
    disk: Path | None = None
    plugin: PluginSourceSpec | None = None
    format: Literal["csv", "tsv", "jsonl", "json", "parquet"] | None = None
    encoding: str = "utf-8"
    delimiter: str | None = None
    quoting: Literal["minimal", "none"] = "minimal"
    header: bool = True
    join: JoinSpec | None = None

    def __post_init__(self) -> None:
        given = [k for k in ("files", "articles", "hub", "disk", "plugin") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("expected exactly one of files, articles, hub, disk, plugin, got "
                             + (", ".join(given) if given else "none") + "; keep one")
        if self.files is not None and not self.files:
            raise ValueError("files: no split given; write e.g. files: {train: data.csv}")
        if self.join is not None and self.files is None:
            raise ValueError("join: only works with source.files; remove it or use files")
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise ValueError(f"delimiter: expected one character, got {self.delimiter!r}; write '\\t' for TAB")


@dataclass(frozen=True, kw_only=True)
class LanguageSpec:
    """``language:`` one code for every row (``en``), ``detect``, or ``{column: lang}``."""

    code: str | None = None
    column: ColumnRef | None = None
    detect: bool = False

    @classmethod
    def from_yaml(cls, value: Any, doc: Doc, path: KeyPath) -> LanguageSpec:
        """Bind ``en`` | ``detect`` | ``{column: NAME}``."""
        if value == "detect":
            return cls(detect=True)
        if isinstance(value, str):
            if not re.fullmatch(r"[a-z]{2,3}([-_][A-Za-z0-9]+)*", value):
                raise doc.error(path, f"expected a language code such as 'en' or 'fr', got {value!r}; "
                                "or write detect, or {column: NAME}")
            return cls(code=value)
        if isinstance(value, dict):
            if list(value) != ["column"]:
                extra = next((k for k in value if k != "column"), None)
                hint = "; did you mean 'column'?" if extra is not None and difflib.get_close_matches(
                    str(extra), ["column"], n=1) else ""
                raise doc.error(path, f"expected {{column: NAME}}, got key {extra!r}{hint}"
                                if extra is not None else "expected {column: NAME}")
            return cls(column=bind(ColumnRef, value["column"], doc, (*path, "column")))
        raise doc.error(path, "expected a language code (en), detect, or {column: NAME}")


@dataclass(frozen=True, kw_only=True)
class ColumnsSpec:
    """Dataset field <- source column."""

    text: ColumnRef | tuple[ColumnRef, ...]
    label: ColumnRef
    id: ColumnRef | None = None
    target: ColumnRef | None = None
    title: ColumnRef | None = None
    source: ColumnRef | None = None
    date: ColumnRef | None = None
    language: ColumnRef | None = None
    group: ColumnRef | None = None

    def __post_init__(self) -> None:
        if isinstance(self.text, tuple) and not self.text:
            raise ValueError("text: empty list; name at least one column")

    def optional_fields(self) -> dict[str, ColumnRef]:
        """The optional str fields that are mapped, in output order."""
        names = ("target", "title", "source", "date", "language", "group")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


@dataclass(frozen=True, kw_only=True)
class SplitSpec:
    """A split made from another one: random (stratified or grouped), from a file of ids, or temporal."""

    from_split: str
    size: float | int | None = None
    ids: Path | None = None
    after: dt.date | None = None
    by: Literal["label", "group", "random", "id"] | None = None
    seed: int = 0

    @classmethod
    def from_yaml(cls, value: Any, doc: Doc, path: KeyPath) -> SplitSpec:
        """Bind ``{from: ..., size|ids|after: ..., by, seed}`` (``from`` is a Python keyword)."""
        if not isinstance(value, dict):
            raise doc.error(path, "expected a mapping such as {from: train, size: 0.2}")
        for key in value:
            if key not in _SPLIT_TYPES:
                hint = difflib.get_close_matches(str(key), list(_SPLIT_TYPES), n=1)
                file, line = doc.where((*path, key))
                raise ConfigError(file, line, format_path(path), f"unknown key {key!r}; " + (
                    f"did you mean {hint[0]!r}?" if hint else f"expected one of {', '.join(_SPLIT_TYPES)}"))
        if "from" not in value:
            raise doc.error(path, "missing required key 'from'; add e.g. from: train")
        kw = {k: bind(_SPLIT_TYPES[k], v, doc, (*path, k)) for k, v in value.items()}
        modes = [k for k in ("size", "ids", "after") if kw.get(k) is not None]
        if len(modes) != 1:
            raise doc.error(path, "expected exactly one of size, ids, after, got "
                            + (", ".join(modes) if modes else "none") + "; keep one")
        size, by = kw.get("size"), kw.get("by")
        if size is not None:
            if isinstance(size, float) and not 0.0 < size < 1.0:
                raise doc.error((*path, "size"), f"a fraction must be between 0 and 1, got {size}; "
                                "write e.g. 0.2, or a row count such as 500")
            if isinstance(size, int) and size < 1:
                raise doc.error((*path, "size"), f"a row count must be at least 1, got {size}")
            if by == "id":
                raise doc.error((*path, "by"), "'id' only goes with ids:; use label, group or random")
        elif kw.get("ids") is not None:
            if by not in (None, "id", "group"):
                raise doc.error((*path, "by"), f"with ids: expected 'id' or 'group', got {by!r}")
        elif by is not None:
            raise doc.error((*path, "by"), "after: splits by date only; remove by")
        return cls(from_split=kw.pop("from"), **kw)


_SPLIT_TYPES: dict[str, Any] = {"from": str, "size": int | float, "ids": Path, "after": dt.date,
                                "by": Literal["label", "group", "random", "id"], "seed": int}


@dataclass(frozen=True, kw_only=True)
class NearDuplicateSpec:
    """MinHash/LSH settings for near-duplicate detection (Jaccard over word shingles)."""

    enabled: bool = True
    threshold: float = 0.8
    shingle: int = 5
    permutations: int = 64
    bands: int = 16

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold: expected a Jaccard similarity in (0, 1], got {self.threshold}")
        if self.shingle < 1:
            raise ValueError(f"shingle: expected at least 1 word, got {self.shingle}")
        if self.bands < 1 or self.permutations % self.bands:
            raise ValueError(f"bands: must divide permutations ({self.permutations}), got {self.bands}")


@dataclass(frozen=True, kw_only=True)
class DatasetSpec:
    """A dataset spec (see the module docstring for every key)."""

    name: str
    task: Literal["stance", "topic"]
    source: SourceSpec
    columns: ColumnsSpec
    language: LanguageSpec | None = None
    description: str = ""
    license: str = ""
    citation: str = ""
    where: dict[str, str | int | bool | tuple[str | int | bool, ...]] = field(default_factory=dict)
    labels: tuple[str, ...] | None = None
    label_map: dict[str | int | bool, str] = field(default_factory=dict)
    multilabel: bool = False
    label_separator: str = "|"
    splits: dict[str, SplitSpec] = field(default_factory=dict)
    on_empty: Literal["error", "drop"] = "error"
    on_unknown_label: Literal["error", "drop"] = "error"
    on_duplicate: Policy = "keep"
    on_overlap: Policy = "keep"
    on_near_overlap: Policy = "keep"
    near_duplicates: NearDuplicateSpec = field(default_factory=NearDuplicateSpec)
    headline_metric: str | None = None

    def __post_init__(self) -> None:
        if self.headline_metric is not None:
            from bench.metrics.catalog import METRICS

            if self.headline_metric not in METRICS:
                close = METRICS.suggest(self.headline_metric)
                raise ValueError(f"headline_metric: unknown metric {self.headline_metric!r}; "
                                 + (f"did you mean {' or '.join(repr(c) for c in close)}?" if close
                                    else "name a registered metric such as f1_macro, f_avg or fnc1_score"))
        if not NAME_PATTERN.match(self.name) or ".." in self.name:
            raise ValueError(f"name: {self.name!r} is not a safe folder name; use letters, digits, "
                             "'-', '_' and '.', with no '/' or '..'")
        if self.task == "stance" and self.columns.target is None:
            raise ValueError("columns: a stance dataset needs columns.target (headline, claim, question)")
        if self.task == "topic" and self.columns.target is not None:
            raise ValueError("columns.target: only stance datasets have a target; remove it or use task: stance")
        if self.labels is not None:
            if not self.labels:
                raise ValueError("labels: empty list; list the labels or remove the key")
            seen = [x for i, x in enumerate(self.labels) if x in self.labels[:i]]
            if seen:
                raise ValueError(f"labels: {seen[0]!r} is listed twice; list each label once")
        if self.multilabel and self.task != "topic":
            raise ValueError("multilabel: only topic datasets can be multi-label")
        for split_name, split in self.splits.items():
            if split.by == "group" and self.columns.group is None:
                raise ValueError(f"splits: split {split_name!r} is by group but columns.group is not set; "
                                 "name the group column")
            if split.after is not None and self.columns.date is None:
                raise ValueError(f"splits: split {split_name!r} uses after: but columns.date is not set; "
                                 "name the date column")


@dataclass(frozen=True)
class LoadedSpec:
    """A bound spec with the document it came from (for located errors) and its file."""

    spec: DatasetSpec
    doc: Doc
    path: Path

    def resolve(self, value: Path) -> Path:
        """A path from the spec, relative to the spec file's folder unless absolute."""
        return value if value.is_absolute() else (self.path.parent / value)

    @property
    def spec_hash(self) -> str:
        """sha256 of the bound spec (after ``${VAR}`` expansion): changes when any setting does."""
        bound = asdict(self.spec)
        if bound["headline_metric"] is None:  # a spec without the key keeps the hash it had before the key existed
            del bound["headline_metric"]
        payload = json.dumps(bound, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def load_spec(path: str | Path) -> LoadedSpec:
    """Read and bind a dataset spec; every problem is a ``ConfigError`` naming file, line and key."""
    path = Path(path)
    doc = load_yaml(path)
    if doc.data is None:
        raise doc.error((), "the spec is empty; start from the example in `bench data build --help`")
    return LoadedSpec(spec=bind(DatasetSpec, doc.data, doc), doc=doc, path=path)
