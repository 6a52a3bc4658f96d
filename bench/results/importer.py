"""Predictions made elsewhere -> a run folder that ``bench compare`` treats like any other.

A researcher who fine-tuned a model outside newsbench exports one row per test item: ``id``,
the predicted ``label`` (or ``pred``), and optionally ``score:<label>`` columns. The file is
checked against the built dataset's test split before anything is written: every test id
exactly once, no unknown id, labels in the label set, finite scores for every label. Each
problem is one ``DataError`` naming the file and the row (the line for CSV/JSONL).

The run gets the dataset's fingerprint, the metrics and bootstrap CIs computed exactly as
``bench run`` computes them, and a job ``<dataset>__imported__<name>__s<seed>``, so it is
paired item by item with the baselines of the same dataset.
"""

from __future__ import annotations

import datetime as dt
import difflib
import gzip
import hashlib
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.core.errors import DataError
from bench.core.jsonlines import json_objects, json_records
from bench.results.manifest import dataset_entry, new_manifest
from bench.results.naming import make_job_id, make_run_id, safe_part
from bench.results.rows import RowKey, score_frame
from bench.results.store import RunDir
from bench.results.layout import SCORE_PREFIX

if TYPE_CHECKING:
    import pandas as pd

    from bench.config.spec import BootstrapSpec
    from bench.corpus import BuiltDataset

FEATURES_NAME = "imported"


@dataclass(frozen=True, kw_only=True)
class Table:
    """A predictions file read as text columns, with where each row came from.

    Attributes:
        path: the file.
        frame: its rows (ids and labels as read, scores still raw).
        lines: the 1-based line of each row in a text file, ``None`` for parquet/json.
    """

    path: Path
    frame: pd.DataFrame
    lines: tuple[int, ...] | None

    def error(self, row: int, key: str, problem: str) -> DataError:
        """A ``DataError`` at row ``row`` (0-based) of the file."""
        if self.lines is not None:
            return DataError(self.path, self.lines[row], key, problem)
        return DataError(self.path, None, f"row {row + 1}: {key}", problem)


def read_table(path: Path) -> Table:
    """Read CSV/TSV/JSONL/JSON/Parquet (``.gz`` for text) into a ``Table``; unreadable -> ``DataError``."""
    import pandas as pd

    from bench.corpus.readers import SUFFIX_FORMATS, data_suffix

    suffix = data_suffix(path)
    kind = SUFFIX_FORMATS.get(suffix)
    if kind is None:
        raise DataError(path, None, "format", f"unknown file type {suffix or '(none)'!r}; "
                        f"use one of {', '.join(SUFFIX_FORMATS)} (optionally .gz)")
    if not path.is_file():
        raise DataError(path, None, "file", "no such file; check the path")
    if kind in ("csv", "tsv"):
        frame = _read_delimited(path, kind)
        # Line of data row i, assuming one line per record (no newlines inside quotes).
        return Table(path=path, frame=frame, lines=tuple(range(2, len(frame) + 2)))
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    try:
        if kind == "parquet":
            return Table(path=path, frame=pd.read_parquet(path), lines=None)
        with opener(path, "rt", encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError as exc:
        raise DataError(path, None, "encoding", f"not UTF-8 ({exc.reason}); save the file as UTF-8") from None
    except (ValueError, OSError) as exc:
        raise DataError(path, None, "file", f"cannot read it ({exc}); check the format") from None
    if kind == "json":
        records = json_records(text, path, "json")
        return Table(path=path, frame=pd.DataFrame.from_records(records), lines=None)
    pairs = list(json_objects(text, path, "json"))
    records, lines = [record for _, record in pairs], [number for number, _ in pairs]
    return Table(path=path, frame=pd.DataFrame.from_records(records), lines=tuple(lines))


def _read_delimited(path: Path, fmt: str) -> pd.DataFrame:
    """A CSV/TSV through the dataset builder's reader: every byte checked to decode, cells as strings."""
    from bench.corpus.readers import ReadOptions, delimited_batches

    options = ReadOptions(format=fmt, encoding="utf-8", delimiter=None, quoting="minimal", header=True)
    try:
        (frame,) = delimited_batches(path, fmt, options, None, batch_rows=sys.maxsize)
    except DataError as exc:
        if exc.key.startswith("byte 0x"):  # the reader names the line and byte that do not decode
            raise DataError(path, exc.line, "encoding", f"not UTF-8 ({exc.key} cannot be decoded); "
                            "save the file as UTF-8") from None
        raise DataError(path, None, "file", f"cannot read it ({exc.problem}); check the format") from None
    return frame


def _as_labels(value: Any, multilabel: bool) -> list[str] | str | None:
    """A cell -> a label (single-label) or a list of labels (``a|b`` or a JSON list)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if multilabel:
        if isinstance(value, str):
            return [] if not value.strip() else [part.strip() for part in value.split("|")]
        if hasattr(value, "tolist"):
            value = value.tolist()
        return [str(v) for v in value] if isinstance(value, (list, tuple)) else None
    if isinstance(value, (list, tuple, dict)) or (hasattr(value, "tolist") and not isinstance(value, str)):
        return None
    text = str(value).strip()
    return text or None


def check_predictions(table: Table, test: pd.DataFrame, labels: Sequence[str], multilabel: bool,
                      split: str) -> pd.DataFrame:
    """Check ``table`` against the test split; return ``id, gold, pred[, score:<label>]`` in test order.

    The prediction is the ``pred`` column, else ``label``; with both, ``label`` is not read
    (exports often carry the gold label there).

    Raises:
        DataError: naming the file and the row of the first problem.
    """
    import numpy as np
    import pandas as pd

    frame = table.frame
    header = 1 if table.lines else None  # column problems point at the header line of text files
    if "id" not in frame.columns:
        raise DataError(table.path, header, "id",
                        f"no 'id' column (columns: {', '.join(map(str, frame.columns))}); "
                        "name the item id column 'id'")
    pred_col = "pred" if "pred" in frame.columns else "label" if "label" in frame.columns else None
    if pred_col is None:
        raise DataError(table.path, header, "label",
                        "no 'label' or 'pred' column; name the predicted label column 'label'")
    test_ids = test["id"].astype(str).tolist()
    position = {item: i for i, item in enumerate(test_ids)}
    label_set = list(labels)
    known = set(label_set)
    seen: dict[str, int] = {}
    order = np.empty(len(frame), dtype=np.int64)
    preds: list[Any] = []
    for row, (raw_id, raw_pred) in enumerate(zip(frame["id"].tolist(), frame[pred_col].tolist())):
        item = "" if raw_id is None or (isinstance(raw_id, float) and math.isnan(raw_id)) else str(raw_id).strip()
        if not item:
            raise table.error(row, "id", "empty item id; every row needs the id of a test item")
        if item in seen:
            raise table.error(row, "id", f"id {item!r} appears twice (first at row {seen[item] + 1}); "
                              "give one prediction per test item")
        seen[item] = row
        if item not in position:
            raise table.error(row, "id", f"id {item!r} is not in the {split!r} split of the dataset; "
                              "predict the items of that split only")
        order[row] = position[item]
        pred = _as_labels(raw_pred, multilabel)
        if pred is None:
            expected = "a list of labels or 'a|b'" if multilabel else "one label"
            raise table.error(row, pred_col, f"no usable prediction {raw_pred!r}; expected {expected}")
        for label in pred if multilabel else [pred]:
            if label not in known:
                close = difflib.get_close_matches(str(label), label_set, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"use one of {', '.join(label_set)}"
                raise table.error(row, pred_col, f"label {label!r} is not in the label set; {hint}")
        preds.append(pred)
    if len(seen) < len(test_ids):
        missing = [item for item in test_ids if item not in seen]
        raise DataError(table.path, None, "id", f"{len(missing)} of {len(test_ids)} {split!r} items have no "
                        f"prediction (e.g. {missing[0]!r}); predict every test item exactly once")
    score_cols = [c for c in frame.columns if str(c).startswith(SCORE_PREFIX)]
    out = pd.DataFrame({"id": test_ids, "gold": test["label"].tolist(), "pred": [None] * len(test_ids)})
    out["pred"] = pd.Series([preds[r] for r in np.argsort(order)], dtype=object)
    if score_cols:
        _check_score_columns(table, score_cols, label_set)
        for label in label_set:
            column = f"{SCORE_PREFIX}{label}"
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy(np.float64)
            bad = np.flatnonzero(~np.isfinite(values))
            if bad.size:
                raise table.error(int(bad[0]), column, f"score {frame[column].iloc[bad[0]]!r} is not a finite "
                                  "number; write a number for every label")
            scores = np.empty(len(test_ids))
            scores[order] = values
            out[column] = scores
    return out


def _check_score_columns(table: Table, score_cols: Sequence[str], labels: Sequence[str]) -> None:
    names = [c[len(SCORE_PREFIX):] for c in score_cols]
    for name in names:
        if name not in labels:
            raise DataError(table.path, 1 if table.lines else None, f"{SCORE_PREFIX}{name}",
                            f"score column for unknown label {name!r}; name score columns "
                            f"{', '.join(SCORE_PREFIX + label for label in labels)}")
    missing = [label for label in labels if label not in names]
    if missing:
        raise DataError(table.path, 1 if table.lines else None, f"{SCORE_PREFIX}{missing[0]}",
                        f"scores are given for some labels but not for {', '.join(missing)}; "
                        "give a score column for every label or none")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_metrics(dataset: BuiltDataset) -> tuple[str, ...]:
    """Accuracy and macro-F1 (subset accuracy and micro-F1 when multi-label), plus the
    dataset's own headline metric (``fnc1_score``, ``f_avg``) when its labels allow it."""
    from bench.metrics import check_metric

    if dataset.multilabel:
        return ("subset_accuracy", "f1_micro", "f1_macro")
    out = ["accuracy", "f1_macro"]
    for name in ("fnc1_score", "f_avg"):
        try:
            check_metric(name, task=dataset.task, multilabel=False, labels=dataset.labels, has_scores=False)
        except ValueError:
            continue
        out.append(name)
    return tuple(out)


def import_predictions(path: Path, dataset: BuiltDataset, *, name: str, results_root: Path,
                       split: str = "test", metrics: Sequence[str] = ("accuracy", "f1_macro"),
                       seed: int = 0, bootstrap: BootstrapSpec | None = None,
                       command: Sequence[str] | None = None) -> Path:
    """Check ``path`` against ``dataset``'s ``split`` and write a complete run; return its folder.

    Args:
        bootstrap: CIs of the metric rows (default ``BootstrapSpec()``); with the samples and
            seed of another run, re-importing that run's predictions reproduces its rows.
    """
    import yaml

    from bench.config.spec import BootstrapSpec
    from bench.corpus import load_split

    if split not in dataset.splits:
        raise DataError(dataset.path, None, "split", f"the dataset has no {split!r} split "
                        f"(splits: {', '.join(dataset.splits)}); pass --split with one of them")
    table = read_table(path)
    test = load_split(dataset, split)
    frame = check_predictions(table, test, dataset.labels, dataset.multilabel, split)
    digest = _sha256(path)
    now = dt.datetime.now(dt.timezone.utc)
    run_id = make_run_id(now, safe_part(name), hashlib.sha256((digest + dataset.fingerprint).encode()).hexdigest())
    job_id = make_job_id(dataset.name, FEATURES_NAME, name, seed)
    bootstrap = bootstrap or BootstrapSpec()
    key = RowKey(dataset=dataset.name, features=FEATURES_NAME, model=name, seed=seed, split=split)
    rows = score_frame(frame, key, labels=dataset.labels, multilabel=dataset.multilabel, metrics=metrics,
                       bootstrap=bootstrap)
    evaluation = {"train": None, "test": split, "cv": None, "metrics": list(metrics),
                  "bootstrap": {"samples": bootstrap.samples, "confidence": bootstrap.confidence,
                                "method": bootstrap.method}}
    config = {"name": name, "datasets": [dataset.name],
              "features": [{"name": FEATURES_NAME, "kind": FEATURES_NAME}],
              "models": [{"name": name, "estimator": FEATURES_NAME}],
              "seeds": [seed], "evaluation": evaluation,
              "imported": {"file": str(path), "sha256": digest}}
    manifest = new_manifest(
        run_id=run_id, name=name, command=command or ["bench", *sys.argv[1:]],
        created=now.isoformat(timespec="seconds"), datasets={dataset.name: dataset_entry(dataset, splits=False)},
        seeds=[seed], jobs={job_id: {"status": "done"}}, evaluation=evaluation,
        extra={"imported": {"file": str(path), "sha256": digest, "rows": len(frame)}})
    run = RunDir.create(results_root, run_id, config_yaml=yaml.safe_dump(config, sort_keys=False),
                        manifest=manifest)
    record = {"job_id": job_id, "status": "done", "dataset": dataset.name, "features": FEATURES_NAME,
              "model": name, "seed": seed, "split": split, "n_test": len(frame), "rows": rows}
    run.write_job(job_id, record, frame)
    return run.finalize().path
