"""Metric rows from saved predictions: ``bench rescore`` and ``bench import`` use it.

The rows come from the builder ``bench run`` uses (``bench.results.rows``): the pooled
predictions give rows with ``fold: null`` and bootstrap CIs seeded by the job's seed; each
CV fold gives rows without CIs; with ``evaluation.by_target`` every target value gets its
own rows. So rescoring an untouched run reproduces its metrics bit for bit,
and adding a metric needs no retraining.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bench.core.errors import ResultsError
from bench.results.rows import RowKey, score_frame
from bench.results.store import write_json_atomic

if TYPE_CHECKING:
    from bench.config.spec import BootstrapSpec
    from bench.results.store import RunDir


def _bootstrap(evaluation: Mapping[str, Any]) -> BootstrapSpec | None:
    from bench.config.spec import BootstrapSpec

    spec = evaluation.get("bootstrap", {})
    if spec is None:
        return None
    try:
        return BootstrapSpec(**spec)
    except (TypeError, ValueError) as exc:
        raise ResultsError(f"manifest evaluation.bootstrap {spec!r} is not valid ({exc}); the run is damaged") from None


def _targets(info: Mapping[str, Any], split: str) -> dict[str, str]:
    """Item id -> target of a stance dataset split (the predictions files do not keep targets)."""
    from bench.corpus import load_split, open_dataset

    ds = open_dataset(info["path"])
    frame = load_split(ds, split)
    return dict(zip(frame["id"].astype(str), frame["target"].astype(str)))


def rescore_run(run: RunDir, metrics: Sequence[str] | None = None,
                command: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Recompute every job's metric rows from its predictions and rewrite the run's metric files.

    Args:
        run: a complete run.
        metrics: metric names; ``None`` keeps the run's own list.
        command: recorded in the manifest under ``rescored``.

    Returns:
        The new metric rows, in job order.
    """
    from bench.metrics import check_metric

    if run.is_partial:
        raise ResultsError(f"{run.path}: the run is not complete; finish it with `bench run --resume {run.path}`")
    manifest = run.manifest
    evaluation = dict(manifest.get("evaluation") or {})
    names = list(metrics or evaluation.get("metrics") or [])
    if not names:
        raise ResultsError(f"{run.path}: the manifest lists no metrics; pass --metrics NAME...")
    bootstrap = _bootstrap(evaluation)
    targets_cache: dict[tuple[str, str], dict[str, str]] = {}
    records: dict[str, dict[str, Any]] = {}
    all_rows: list[dict[str, Any]] = []
    for job_id in run.job_ids():
        record = run.job(job_id)
        first = (record.get("rows") or [{}])[0]
        dataset = str(record.get("dataset", first.get("dataset")))
        info = manifest.get("datasets", {}).get(dataset)
        if info is None:
            raise ResultsError(f"{run.manifest_path}: datasets: no entry for {dataset!r}; the run is damaged")
        for name in names:
            try:
                check_metric(name, task=info.get("task"), multilabel=bool(info.get("multilabel")),
                             labels=info["labels"], has_scores=True)
            except ValueError as exc:
                raise ResultsError(f"--metrics: {name}: {exc}") from None
        frame = run.predictions(job_id)
        split = str(record.get("split", first.get("split") or evaluation.get("test") or "test"))
        targets = None
        if evaluation.get("by_target"):
            key = (dataset, split)
            if key not in targets_cache:
                targets_cache[key] = _targets(info, split)
            targets = frame["id"].astype(str).map(targets_cache[key]).to_numpy()
        key = RowKey(dataset=dataset, features=str(record.get("features", first.get("features"))),
                     model=str(record.get("model", first.get("model"))),
                     seed=int(record.get("seed", first.get("seed", 0))), split=split)
        rows = score_frame(frame, key, labels=info["labels"], multilabel=bool(info.get("multilabel")),
                           metrics=names, bootstrap=bootstrap, targets=targets,
                           where=str(run.predictions_path(job_id)))
        records[job_id] = {**record, "rows": rows}
        all_rows += rows
    for job_id, record in records.items():
        write_json_atomic(run.job_path(job_id), record)
    run.write_metrics(all_rows)
    evaluation["metrics"] = names
    history = list(manifest.get("rescored", []))
    history.append({"created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    "command": list(command or ["bench", *sys.argv[1:]]), "metrics": names})
    run.update_manifest(evaluation=evaluation, rescored=history)
    return all_rows
