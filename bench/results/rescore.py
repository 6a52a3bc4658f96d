"""Metric rows from saved predictions: ``bench rescore`` and ``bench import`` use it.

The rows come from the builder ``bench run`` uses (``bench.results.rows``): the pooled
predictions give rows with ``fold: null`` and bootstrap CIs seeded by the job's seed; each
CV fold gives rows without CIs; with ``evaluation.by_target`` every target value gets its
own rows; a drift run's rows per window come from the ``window`` column of its predictions,
and a leave-one-target-out fold's ``held_out_target`` from the dataset's targets. So
rescoring an untouched run reproduces its metrics bit for bit, and adding a metric needs
no retraining.

The rewrite is all or nothing (``bench.results.journal``: stage every new file inside the
run, commit with one rename, apply; a reader completes a committed journal a killed rescore
left), and the predictions are checked against the recorded dataset before any number is
computed (``bench.results.recorded``).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bench.core.errors import ResultsError
from bench.core.locks import folder_lock
from bench.results.journal import commit_files, recover_held
from bench.results.recorded import check_gold, open_recorded
from bench.results.probe_rows import score_probe_frame
from bench.results.rows import RowKey, score_frame
from bench.results.transfer import mapped_items, recorded_label_map
from bench.results.layout import JOBS, MANIFEST, json_text, metrics_texts

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from bench.config.spec import BootstrapSpec, DriftSpec
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


def _drift(evaluation: Mapping[str, Any]) -> DriftSpec | None:
    from bench.config.spec import DriftSpec

    spec = evaluation.get("drift")
    if spec is None:
        return None
    try:
        day = spec["train_before"]
        return DriftSpec(**{**spec, "train_before": day if isinstance(day, dt.date) else dt.date.fromisoformat(day)})
    except (TypeError, ValueError, KeyError) as exc:
        raise ResultsError(f"manifest evaluation.drift {spec!r} is not valid ({exc}); the run is damaged") from None


def rescore_run(run: RunDir, metrics: Sequence[str] | None = None,
                command: Sequence[str] | None = None, data_root: Path | None = None) -> list[dict[str, Any]]:
    """Recompute every job's metric rows from its predictions and rewrite the run's metric files.

    All or nothing: the new files are committed together through ``bench.results.journal``,
    so a kill leaves the run fully old or fully new. Each predictions file is checked against
    the dataset first (``bench.results.recorded``): same fingerprint as recorded, and gold
    labels equal to the dataset's.

    Args:
        run: a complete run.
        metrics: metric names; ``None`` keeps the run's own list.
        command: recorded in the manifest under ``rescored``.
        data_root: where to look for a dataset whose recorded path is gone.

    Returns:
        The new metric rows, in job order.
    """
    from bench.results.store import RunDir

    if run.is_partial:
        raise ResultsError(f"{run.path}: the run is not complete; finish it with `bench run --resume {run.path}`")
    with folder_lock(run.path):
        recover_held(run.path)
        run = RunDir.open(run.path)  # read again under the lock: another rescore may have finished
        records, all_rows, manifest = _rescored(run, metrics, command, data_root)
        files = {f"{JOBS}/{job_id}.json": json_text(record) for job_id, record in records.items()}
        files.update(metrics_texts(all_rows))
        files[MANIFEST] = json_text(manifest)
        commit_files(run.path, {name: text.encode("utf-8") for name, text in files.items()})
    return all_rows


def _rescored(run: RunDir, metrics: Sequence[str] | None, command: Sequence[str] | None,
              data_root: Path | None) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """The new job records, metric rows and manifest (nothing is written)."""
    from bench.corpus import load_split
    from bench.metrics import check_metric

    manifest = run.manifest
    evaluation = dict(manifest.get("evaluation") or {})
    names = list(metrics or evaluation.get("metrics") or [])
    if not names:
        raise ResultsError(f"{run.path}: the manifest lists no metrics; pass --metrics NAME...")
    bootstrap = _bootstrap(evaluation)
    drift = _drift(evaluation)
    by_target_cv = (evaluation.get("cv") or {}).get("by") == "target"
    items_cache: dict[tuple[str, str], pd.DataFrame] = {}
    records: dict[str, dict[str, Any]] = {}
    all_rows: list[dict[str, Any]] = []
    for job_id in run.job_ids():
        record = run.job(job_id)
        first = (record.get("rows") or [{}])[0]
        dataset = str(record.get("dataset", first.get("dataset")))
        train = record.get("train_dataset", first.get("train_dataset"))  # a transfer job's (bench.results.transfer)
        info = manifest.get("datasets", {}).get(str(train) if train else dataset)
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
        if (dataset, split) not in items_cache:
            items_cache[dataset, split] = load_split(open_recorded(run, dataset, data_root), split)
        items = items_cache[dataset, split]
        if train:  # gold is in the train dataset's label space: check it against the mapped test labels
            items = mapped_items(items, recorded_label_map(run.config, str(train), dataset))
        check_gold(frame, items, run.predictions_path(job_id))
        targets = held_out = None
        if evaluation.get("by_target") or by_target_cv:
            by_id = dict(zip(items["id"].astype(str), items["target"].astype(str)))
            item_targets = frame["id"].astype(str).map(by_id).to_numpy()
            targets = item_targets if evaluation.get("by_target") else None
            held_out = item_targets if by_target_cv else None
        key = RowKey(dataset=dataset, features=str(record.get("features", first.get("features"))),
                     model=str(record.get("model", first.get("model"))),
                     seed=int(record.get("seed", first.get("seed", 0))), split=split,
                     train_dataset=str(train) if train else None)
        rows = score_frame(frame, key, labels=info["labels"], multilabel=bool(info.get("multilabel")),
                           metrics=names, bootstrap=bootstrap, targets=targets,
                           where=str(run.predictions_path(job_id)), drift=drift, held_out=held_out)
        probes = run.probe_predictions(job_id)
        if probes is not None:  # robustness probes: their rows and deltas from the same builder as bench run
            rows += score_probe_frame(frame, probes, key, labels=info["labels"], multilabel=bool(info.get("multilabel")),
                                      metrics=names, bootstrap=bootstrap, where=str(run.probe_predictions_path(job_id)))
        records[job_id] = {**record, "rows": rows}
        all_rows += rows
    evaluation["metrics"] = names
    history = list(manifest.get("rescored", []))
    history.append({"created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    "command": list(command or ["bench", *sys.argv[1:]]), "metrics": names})
    return records, all_rows, {**manifest, "evaluation": evaluation, "rescored": history}
