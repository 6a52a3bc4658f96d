"""The files of a run folder: their names, formats, and readers that name a damaged file.

``bench.results.store.RunDir`` is the one place that decides *when* these files are written;
this module says *what* they hold (docs/results.md documents both for users). Readers raise a
one-line ``ResultsError`` naming the file for anything they cannot use: a missing, truncated,
non-UTF-8 or wrongly shaped file, or a folder or FIFO where a file should be.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.core.errors import ResultsError
from bench.core.files import write_text

SCHEMA_VERSION = 1
ROW_KEYS = ("dataset", "features", "model", "seed", "split", "fold", "target",
            "metric", "value", "ci_low", "ci_high", "n")
# row keys of some evaluations only: leave-one-target-out folds, drift windows, robustness probes
# (docs/results.md): CSV columns only when a row has them, so other runs' files are unchanged
OPTIONAL_ROW_KEYS = ("held_out_target", "window", "probe", "n_changed", "delta", "delta_ci_low",
                     "delta_ci_high")
STATUSES = ("running", "complete", "interrupted", "failed")
PARTIAL_SUFFIX = ".partial"
MANIFEST = "manifest.json"
CONFIG = "config.yaml"
METRICS_JSON = "metrics.json"
METRICS_CSV = "metrics.csv"
PREDICTIONS = "predictions"
JOBS = "jobs"
CHECKPOINTS = "checkpoints"  # checkpoints/<job_id>/: a running job's model states (removed when it is saved)
SCORE_PREFIX = "score:"  # predictions columns ``score:<label>``
PROBES_SUFFIX = ".probes.parquet"  # predictions/<job>.probes.parquet: the robustness probes' predictions


def json_safe(value: Any) -> Any:
    """JSON-safe data: NaN and infinities become null (JSON has no NaN), tuples lists, dates ISO text."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.date):  # evaluation.drift.train_before in the manifest
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return json_safe(value.item())
    return value


def json_text(data: Any) -> str:
    """Pretty, stable JSON (keys in insertion order, UTF-8, NaN as null), with a final newline."""
    return json.dumps(json_safe(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_json_atomic(path: Path, data: Any) -> None:
    """``json_text(data)`` written atomically."""
    write_text(path, json_text(data))


def row_columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The columns of these metric rows: ``ROW_KEYS``, with the ``OPTIONAL_ROW_KEYS`` some row has
    after ``fold`` and a transfer run's ``train_dataset`` after ``dataset`` (CSV and DataFrame alike)."""
    optional = [k for k in OPTIONAL_ROW_KEYS if any(k in row for row in rows)]
    at = ROW_KEYS.index("fold") + 1
    keys = [*ROW_KEYS[:at], *optional, *ROW_KEYS[at:]]
    if any("train_dataset" in row for row in rows):
        keys.insert(keys.index("dataset") + 1, "train_dataset")
    return keys


def rows_to_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """Metric rows as CSV text with the ``ROW_KEYS`` columns (empty cell for null).

    The keys only some runs' rows have (``OPTIONAL_ROW_KEYS``) become columns when a row has
    them, after ``fold``, so that other runs' CSV files stay as they were.
    A transfer run's rows also get ``train_dataset`` after ``dataset``: without it, two
    systems that differ only in their train dataset would read as one.
    """
    rows = list(rows)
    keys = row_columns(rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=keys, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in keys})
    return out.getvalue()


def is_run_folder(path: Path) -> bool:
    """Whether ``path`` holds a run's manifest (complete or not)."""
    return (Path(path) / MANIFEST).is_file()


def read_json(path: Path) -> Any:
    if path.exists() and not path.is_file():  # a folder or a FIFO in its place: reading would fail or hang
        raise ResultsError(f"{path}: not a file; the run folder is damaged (restore the file or rerun)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{path}: missing; is this a run folder written by `bench run`?") from None
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}); the file is damaged") from None
    except UnicodeDecodeError:
        raise ResultsError(f"{path}: not UTF-8 text; the file is damaged (restore it or rerun)") from None


def read_object(path: Path, shape: Mapping[str, type]) -> dict[str, Any]:
    """A JSON object whose keys in ``shape``, when present, have those types; else one line."""
    data = read_json(path)
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: expected a JSON object, found {type(data).__name__}; the file is damaged "
                           "(restore it or rerun)")
    for key, kind in shape.items():
        if key in data and not isinstance(data[key], kind):
            raise ResultsError(f"{path}: {key}: expected {kind.__name__}, found {type(data[key]).__name__}; "
                               "the file is damaged (restore it or rerun)")
    return data


def read_rows_file(path: Path) -> dict[str, Any]:
    """A ``metrics.json`` or ``jobs/<id>.json``: an object whose ``rows`` (``[]`` if absent) are objects."""
    data = read_object(path, {"rows": list})
    data["rows"] = data.get("rows", [])
    if not all(isinstance(row, dict) for row in data["rows"]):
        raise ResultsError(f"{path}: rows: expected a list of objects; the file is damaged (restore it or rerun)")
    return data


MANIFEST_SHAPE = {"jobs": dict, "datasets": dict, "evaluation": dict, "run_id": str, "name": str, "status": str}
PREDICTION_COLUMNS = ("id", "gold", "pred")


def metrics_texts(rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """``{"metrics.json": ..., "metrics.csv": ...}``: the texts of a run's metric files."""
    return {METRICS_JSON: json_text({"schema_version": SCHEMA_VERSION, "rows": list(rows)}),
            METRICS_CSV: rows_to_csv(json_safe(list(rows)))}
