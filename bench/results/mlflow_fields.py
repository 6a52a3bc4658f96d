"""What one job of a run folder becomes in MLflow: parameters, metrics and tags (docs/tracking.md).

Pure data, no ``mlflow`` import: ``bench.results.mlflow_export`` sends these to a tracker.
MLflow names may hold letters, digits, ``_ - . /``, spaces (and ``:`` off Windows); every
other character of a metric, label, target or parameter name becomes ``_``. A metric row
becomes a key by its metric and what slices it:

    f1_macro                  pooled test sample (or pooled out-of-fold predictions with CV)
    f1_macro.ci_low/.ci_high  its bootstrap interval
    f1.agree                  the per-class metric ``f1[agree]``
    f1_macro.target.<t>       the rows of one target (``evaluation.by_target``), with .ci_low/.ci_high
    f1_macro.fold             one value per CV fold, the fold number as the MLflow step
    f1_macro.<field>.<value>  a row field that slices further (anything beyond docs/results.md's)

Two rows that would share a key are an error rather than one number hiding the other.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.core.errors import ResultsError
from bench.results.layout import ROW_KEYS

TAG_PREFIX = "newsbench."
RUN_ID_TAG, JOB_ID_TAG = "newsbench.run_id", "newsbench.job_id"
RUN_DIR_TAG, DIGEST_TAG = "newsbench.run_dir", "newsbench.digest"
FIELDS_VERSION = 1  # raise when what a job logs changes: every job is then exported afresh
MAX_PARAM_CHARS = 500  # MLflow's limit before 2.x raised it; longer values are cut (config.yaml has them whole)
TIMINGS = ("fit_seconds", "predict_seconds", "feature_seconds", "seconds")
_UNSAFE = re.compile(r"[^\w.\- /]")
_PER_CLASS = re.compile(r"^(?P<metric>[^\[]+)\[(?P<label>.*)\]$")
_ROW_FIELDS = set(ROW_KEYS) | {"undefined"}  # fields that identify a row or are its numbers


@dataclass(frozen=True, kw_only=True, slots=True)
class MetricPoint:
    """One MLflow metric value: ``key`` at ``step`` (0 unless a CV fold)."""

    key: str
    value: float
    step: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class JobFields:
    """Everything one job logs: ``params`` and ``tags`` (strings) and ``metrics``."""

    run_name: str
    params: dict[str, str]
    metrics: tuple[MetricPoint, ...]
    tags: dict[str, str]


def safe_name(name: str) -> str:
    """``name`` with every character MLflow refuses in a key replaced by ``_`` (and no slashes, which
    MLflow reads as folders)."""
    return _UNSAFE.sub("_", str(name)).replace("/", "_").strip() or "_"


def param_text(value: Any) -> str:
    """A parameter value as MLflow stores it: strings as they are, anything else as JSON."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= MAX_PARAM_CHARS else text[:MAX_PARAM_CHARS - 3] + "..."


def job_digest(job: Mapping[str, Any], config_hash: str) -> str:
    """sha256 of a job's record, its config and ``FIELDS_VERSION``: an MLflow run with this digest needs
    no new export."""
    text = json.dumps(job, sort_keys=True, ensure_ascii=False, default=str) + config_hash + str(FIELDS_VERSION)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def metric_key(row: Mapping[str, Any]) -> str:
    """The MLflow key of a metric row's value (module docstring)."""
    metric = str(row["metric"])
    match = _PER_CLASS.match(metric)
    parts = [safe_name(match["metric"]), safe_name(match["label"])] if match else [safe_name(metric)]
    if row.get("target") is not None:
        parts += ["target", safe_name(row["target"])]
    for field, value in row.items():  # slices a later newsbench adds to the rows
        if field not in _ROW_FIELDS and value is not None and not isinstance(value, (dict, list)):
            parts += [safe_name(field), safe_name(value)]
    if row.get("fold") is not None:
        parts.append("fold")
    return ".".join(parts)


def metric_points(rows: Sequence[Mapping[str, Any]], where: str) -> tuple[MetricPoint, ...]:
    """Every value and CI bound of ``rows`` (a null or non-finite one is left out)."""
    points: dict[tuple[str, int], MetricPoint] = {}
    source: dict[tuple[str, int], str] = {}
    for row in rows:
        key, step = metric_key(row), int(row["fold"]) if row.get("fold") is not None else 0
        for suffix, field in (("", "value"), (".ci_low", "ci_low"), (".ci_high", "ci_high")):
            value = row.get(field)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                continue
            name = (key + suffix, step)
            described = f"{row.get('metric')} (target {row.get('target')}, fold {row.get('fold')})"
            if name in points:
                raise ResultsError(f"{where}: rows {source[name]} and {described} both map to the MLflow metric "
                                   f"{name[0]!r}; rename a label or target so that they differ in letters or digits")
            points[name], source[name] = MetricPoint(key=name[0], value=float(value), step=step), described
    return tuple(points.values())


def _flat(prefix: str, value: Any) -> Iterator[tuple[str, Any]]:
    """``(dotted key, leaf)`` pairs of nested mappings; lists and scalars are leaves; nulls are left out."""
    if isinstance(value, Mapping):
        for key, sub in value.items():
            yield from _flat(f"{prefix}.{safe_name(key)}", sub)
    elif value is not None and value != [] and value != {}:
        yield prefix, value


def _entry(entries: Any, name: str) -> Mapping[str, Any]:
    """The config's ``features`` or ``models`` entry called ``name`` (empty for the text block)."""
    found = [e for e in entries or () if isinstance(e, Mapping) and e.get("name") == name]
    return found[0] if found else {}


def job_params(job: Mapping[str, Any], config: Mapping[str, Any], manifest: Mapping[str, Any]) -> dict[str, str]:
    """Dataset and fingerprint, features, model and their parameters, seed, split, evaluation, tuned choice."""
    dataset = str(job.get("dataset"))
    info = (manifest.get("datasets") or {}).get(dataset) or {}
    params: dict[str, Any] = {"dataset": dataset, "dataset.fingerprint": info.get("fingerprint"),
                              "dataset.task": info.get("task"), "features": job.get("features"),
                              "model": job.get("model"), "seed": job.get("seed"), "split": job.get("split")}
    features = dict(_entry(config.get("features"), str(job.get("features"))))
    model = dict(_entry(config.get("models"), str(job.get("model"))))
    for prefix, entry in (("features", features), ("model", model)):
        entry.pop("name", None)
        for key, value in entry.pop("params", {}).items():
            params[f"{prefix}.param.{safe_name(key)}"] = value
        params.update(_flat(prefix, entry))
    params.update(_flat("evaluation", manifest.get("evaluation") or {}))
    for field in ("n_train", "n_test", "n_features"):
        params[field] = job.get(field)
    chosen = [unit for unit in job.get("params") or () if isinstance(unit, Mapping)]
    for key in sorted({k for unit in chosen for k in unit}):
        values = [unit.get(key) for unit in chosen]
        params[f"tuned.{safe_name(key)}"] = values[0] if len(set(map(param_text, values))) == 1 else values
    return {safe_name(key): param_text(value) for key, value in params.items() if value is not None}


def job_fields(job: Mapping[str, Any], *, config: Mapping[str, Any], manifest: Mapping[str, Any],
               run_dir: str, newsbench_version: str, where: str) -> JobFields:
    """What the job ``job`` (a ``jobs/<id>.json``) of the run with ``manifest`` logs to MLflow."""
    job_id = str(job.get("job_id"))
    timings = tuple(MetricPoint(key=f"time.{name}", value=float(job[name])) for name in TIMINGS
                    if isinstance(job.get(name), (int, float)))
    git = manifest.get("git") or {}
    config_hash = str(manifest.get("config_hash") or "")
    tags = {RUN_ID_TAG: str(manifest.get("run_id")), JOB_ID_TAG: job_id, "newsbench.config_hash": config_hash,
            "newsbench.config_name": str(manifest.get("name")), RUN_DIR_TAG: run_dir,
            "newsbench.version": newsbench_version, "mlflow.source.name": run_dir, "mlflow.source.type": "LOCAL",
            "mlflow.note.content": f"newsbench job `{job_id}` of run `{manifest.get('run_id')}`; "
                                   f"its files are in `{run_dir}`"}
    if not config_hash:  # an imported run (bench import) has no config of its own to hash
        del tags["newsbench.config_hash"]
    if git.get("commit"):
        tags["mlflow.source.git.commit"] = str(git["commit"])
        tags["newsbench.git_dirty"] = str(bool(git.get("dirty"))).lower()
    return JobFields(run_name=job_id, params=job_params(job, config, manifest),
                     metrics=metric_points(job.get("rows") or [], where) + timings, tags=tags)
