"""A run's saved predictions grouped by system: every seed of one system on the same sorted items.

``bench.compare`` (paired tests across runs) and ``bench.results.seedmean`` (the seed-mean
interval of one run's table) both resample a system's seeds together, so both read them here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bench.core.errors import ResultsError
from bench.results.layout import SCORE_PREFIX
from bench.results.rows import prediction_labels
from bench.results.transfer import system_dataset

if TYPE_CHECKING:
    from bench.results.store import RunDir

System = tuple[str, str, str]  # (dataset, features, model); a transfer system's dataset is ``train→test``


@dataclass(frozen=True, kw_only=True, eq=False)  # arrays: equality would be ambiguous
class SeedPredictions:
    """One system's seeds on the same sorted test items (what ``bench.metrics.joint`` resamples).

    Attributes:
        labels: the ordered label set.
        multilabel: whether gold and predictions are label sets.
        ids: item ids, sorted.
        gold: label indices ``(n,)``, or a 0/1 indicator ``(n, L)`` when multi-label.
        seeds: the seeds, sorted.
        preds: per seed, like ``gold``: ``(S, n)`` or ``(S, n, L)``.
        scores: per seed ``(S, n, L)`` when every seed has scores, else ``None``.
    """

    labels: tuple[str, ...]
    multilabel: bool
    ids: np.ndarray
    gold: np.ndarray
    seeds: tuple[int, ...]
    preds: np.ndarray
    scores: np.ndarray | None

    @property
    def n_items(self) -> int:
        return len(self.ids)


def jobs_by_system(run: RunDir) -> dict[System, list[tuple[int, str]]]:
    """``(seed, job_id)`` of every finished job, grouped by system and sorted by seed.

    The system and seed come from the job's record: job ids are sanitised names, not parsed.
    """
    finished = run.finished_jobs()
    out: dict[System, list[tuple[int, str]]] = {}
    for job_id in run.job_ids():
        if job_id not in finished:
            continue
        record = run.job(job_id)
        row = {**((record.get("rows") or [{}])[0]), **record}
        if all(k in row for k in ("dataset", "features", "model", "seed")):
            key = (system_dataset(row), str(row["features"]), str(row["model"]))
            out.setdefault(key, []).append((int(row["seed"]), job_id))
    return {key: sorted(jobs) for key, jobs in out.items()}


def load_seed_predictions(run: RunDir, jobs: list[tuple[int, str]], labels: tuple[str, ...],
                          multilabel: bool) -> SeedPredictions:
    """Every seed's predictions of one system (``jobs`` sorted by seed), items sorted by id.

    Raises:
        ResultsError: an item id twice in a file, or seeds scored on different items.
    """
    ids: np.ndarray | None = None
    gold = np.empty(0, dtype=np.int64)
    preds, scores = [], []
    for seed, job_id in jobs:
        frame = run.predictions(job_id).sort_values("id", kind="stable")
        where = str(run.predictions_path(job_id))
        job_ids = frame["id"].astype(str).to_numpy()
        if len(np.unique(job_ids)) != len(job_ids):
            raise ResultsError(f"{where}: id: an item id appears twice; the predictions file is damaged")
        if ids is None:
            ids = job_ids
            gold = prediction_labels(frame["gold"].tolist(), labels, multilabel, where)
        elif not np.array_equal(ids, job_ids):
            raise ResultsError(f"{where}: id: seed {seed} was scored on other items than seed {jobs[0][0]}; "
                               "every seed of a system must predict the same test items")
        preds.append(prediction_labels(frame["pred"].tolist(), labels, multilabel, where))
        columns = [f"{SCORE_PREFIX}{label}" for label in labels]
        scores.append(frame[columns].to_numpy(np.float64) if all(c in frame for c in columns) else None)
    return SeedPredictions(labels=labels, multilabel=multilabel, ids=np.asarray(ids), gold=gold,
                           seeds=tuple(seed for seed, _ in jobs), preds=np.stack(preds),
                           scores=None if any(s is None for s in scores) else np.stack(scores))
