"""Metric rows: the one builder that ``bench run``, ``bench rescore`` and ``bench import`` share.

A sample (the pooled test predictions, or one CV fold) gives one row per metric with
``target: null``, and, when targets are given, one row per metric and target value. The
pooled rows carry bootstrap CIs seeded by the job's seed; fold rows have none (a fold is a
slice of the pooled sample, not an independent test set). Because every command builds its
rows here, rescoring an untouched run reproduces its metrics bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.core.errors import ResultsError
from bench.results.layout import SCORE_PREFIX

if TYPE_CHECKING:
    import pandas as pd

    from bench.config.spec import BootstrapSpec

__all__ = ["RowKey", "metric_rows", "prediction_labels", "score_frame"]


@dataclass(frozen=True, kw_only=True)
class RowKey:
    """What every metric row of one job repeats: the system, the seed and the scored split."""

    dataset: str
    features: str
    model: str
    seed: int
    split: str
    probe: str | None = None  # a robustness probe's label (bench.results.probe_rows); rows omit it when None


def metric_rows(key: RowKey, *, y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray | None,
                labels: Sequence[str], metrics: Sequence[str], bootstrap: BootstrapSpec | None,
                fold: int | None, targets: np.ndarray | None = None, where: str | None = None) -> list[dict[str, Any]]:
    """Metric rows of one sample, overall and (with ``targets``) per target value.

    Args:
        bootstrap: CIs for these rows, or ``None`` for none.
        targets: the target of each item, or ``None`` for overall rows only.
        where: the predictions file; a metric that cannot be computed is then a ``ResultsError``
            naming it (otherwise its ``ValueError`` propagates).
    """
    from bench.metrics import score_metrics

    slices: list[tuple[str | None, Any]] = [(None, slice(None))]
    if targets is not None:
        slices += [(t, targets == t) for t in sorted(set(targets.tolist()))]
    base = {"dataset": key.dataset, "features": key.features, "model": key.model, "seed": key.seed,
            "split": key.split, "fold": fold, **({"probe": key.probe} if key.probe is not None else {})}
    rows = []
    for target, mask in slices:
        try:
            values = score_metrics(list(metrics), y_true=y_true[mask], y_pred=y_pred[mask], labels=list(labels),
                                   scores=None if scores is None else scores[mask], bootstrap=bootstrap,
                                   seed=key.seed)
        except ValueError as exc:
            if where is None:
                raise
            raise ResultsError(f"{where}: {exc}") from None
        rows += [{**base, "target": target, "metric": v.metric, "value": v.value, "ci_low": v.ci_low,
                  "ci_high": v.ci_high, "n": v.n, **({"undefined": v.undefined} if v.undefined else {})}
                 for v in values]
    return rows


def prediction_labels(values: Sequence[Any], labels: Sequence[str], multilabel: bool, where: str) -> np.ndarray:
    """``gold`` or ``pred`` of a predictions file as label indices; an unknown label is a ``ResultsError``."""
    from bench.learn.tasks import LabelError, encode_labels

    try:
        return encode_labels(values, labels, multilabel)
    except LabelError as exc:
        raise ResultsError(f"{where}: label {exc.label!r} is not in the run's label set {list(labels)}; "
                           "the predictions do not match the manifest") from None


def score_frame(frame: pd.DataFrame, key: RowKey, *, labels: Sequence[str], multilabel: bool,
                metrics: Sequence[str], bootstrap: BootstrapSpec | None, targets: np.ndarray | None = None,
                where: str = "predictions") -> list[dict[str, Any]]:
    """Metric rows of one job's predictions frame (``id, gold, pred, score:<label>..., fold``).

    The pooled rows come first, then each CV fold's rows (folds in order).
    """
    labels = tuple(labels)
    y_true = prediction_labels(frame["gold"].tolist(), labels, multilabel, where)
    y_pred = prediction_labels(frame["pred"].tolist(), labels, multilabel, where)
    columns = [f"{SCORE_PREFIX}{label}" for label in labels]
    scores = frame[columns].to_numpy(np.float64) if all(c in frame.columns for c in columns) else None

    def sample(index: Any, fold: int | None, ci: BootstrapSpec | None) -> list[dict[str, Any]]:
        return metric_rows(key, y_true=y_true[index], y_pred=y_pred[index],
                           scores=None if scores is None else scores[index], labels=labels, metrics=metrics,
                           bootstrap=ci, fold=fold, targets=None if targets is None else targets[index],
                           where=where)

    rows = sample(slice(None), None, bootstrap)
    if "fold" in frame.columns:
        folds = frame["fold"].to_numpy()
        for fold in sorted(set(folds.tolist())):
            rows += sample(folds == fold, int(fold), None)
    return rows
