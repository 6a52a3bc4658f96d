"""Metric rows: the one builder that ``bench run``, ``bench rescore`` and ``bench import`` share.

A sample (the pooled test predictions, or one CV fold) gives one row per metric with
``target: null``, and, when targets are given, one row per metric and target value. A
temporal-drift sample (``bench.results.windows``) also gives one row per metric and window,
with ``window`` set (``window: null`` on its other rows); a window with fewer than
``min_items`` items gets rows with ``value: null``. A leave-one-target-out fold's rows name
the target it held out in ``held_out_target``. Other runs' rows have neither key. The
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

    from bench.config.spec import BootstrapSpec, DriftSpec
    from bench.results.windows import Windows

__all__ = ["RowKey", "metric_rows", "prediction_labels", "score_frame"]


@dataclass(frozen=True, kw_only=True)
class RowKey:
    """What every metric row of one job repeats: the system, the seed and the scored split."""

    dataset: str
    features: str
    model: str
    seed: int
    split: str
    train_dataset: str | None = None  # a transfer job's train dataset; rows omit the field when None
    probe: str | None = None  # a robustness probe's label (bench.results.probe_rows); rows omit it when None


def metric_rows(key: RowKey, *, y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray | None,
                labels: Sequence[str], metrics: Sequence[str], bootstrap: BootstrapSpec | None,
                fold: int | None, targets: np.ndarray | None = None, where: str | None = None,
                windows: Windows | None = None, held_out_target: str | None = None) -> list[dict[str, Any]]:
    """Metric rows of one sample, overall and (with ``targets``) per target value.

    Args:
        bootstrap: CIs for these rows, or ``None`` for none.
        targets: the target of each item, or ``None`` for overall rows only.
        windows: drift windows: then also rows per window (``window``), after the others.
        held_out_target: the target a leave-one-target-out fold held out, on every row.
        where: the predictions file; a metric that cannot be computed is then a ``ResultsError``
            naming it (otherwise its ``ValueError`` propagates).
    """
    slices: list[tuple[str | None, Any]] = [(None, slice(None))]
    if targets is not None:
        slices += [(t, targets == t) for t in sorted(set(targets.tolist()))]
    base: dict[str, Any] = {"dataset": key.dataset,
                            **({"train_dataset": key.train_dataset} if key.train_dataset is not None else {}),
                            "features": key.features, "model": key.model, "seed": key.seed,
                            "split": key.split, "fold": fold, **({"probe": key.probe} if key.probe is not None else {})}
    if held_out_target is not None:
        base["held_out_target"] = held_out_target
    if windows is not None:
        base["window"] = None
    rows: list[dict[str, Any]] = []
    for target, mask in slices:
        rows += _slice_rows(base | {"target": target}, key.seed, y_true, y_pred, scores, mask, labels, metrics,
                            bootstrap, where)
    names = [r["metric"] for r in rows if r["target"] is None]
    for window in () if windows is None else windows.names:
        mask = windows.of_item == window
        if int(mask.sum()) < windows.min_items:  # too few items for a number worth reading: say so, no value
            rows += [{**base, "window": window, "target": None, "metric": name, "value": None, "ci_low": None,
                      "ci_high": None, "n": int(mask.sum())} for name in names]
        else:
            rows += _slice_rows(base | {"window": window, "target": None}, key.seed, y_true, y_pred, scores, mask,
                                labels, metrics, bootstrap, where)
    return rows


def _slice_rows(base: dict[str, Any], seed: int, y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray | None,
                mask: Any, labels: Sequence[str], metrics: Sequence[str], bootstrap: BootstrapSpec | None,
                where: str | None) -> list[dict[str, Any]]:
    """The rows of one slice (``mask``) of a sample, each starting with ``base``."""
    from bench.metrics import score_metrics

    try:
        values = score_metrics(list(metrics), y_true=y_true[mask], y_pred=y_pred[mask], labels=list(labels),
                               scores=None if scores is None else scores[mask], bootstrap=bootstrap, seed=seed)
    except ValueError as exc:
        if where is None:
            raise
        raise ResultsError(f"{where}: {exc}") from None
    return [{**base, "metric": v.metric, "value": v.value, "ci_low": v.ci_low, "ci_high": v.ci_high, "n": v.n,
             **({"undefined": v.undefined} if v.undefined else {})} for v in values]


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
                where: str = "predictions", drift: DriftSpec | None = None,
                held_out: np.ndarray | None = None) -> list[dict[str, Any]]:
    """Metric rows of one job's predictions frame (``id, gold, pred, score:<label>..., fold, window``).

    The pooled rows come first, then each CV fold's rows (folds in order).

    Args:
        drift: a drift run's spec: the pooled sample then also gets rows per ``window``.
        held_out: each item's target in a leave-one-target-out run: each fold's rows then
            name the target it held out.
    """
    from bench.results.windows import Windows, window_names

    labels = tuple(labels)
    y_true = prediction_labels(frame["gold"].tolist(), labels, multilabel, where)
    y_pred = prediction_labels(frame["pred"].tolist(), labels, multilabel, where)
    columns = [f"{SCORE_PREFIX}{label}" for label in labels]
    scores = frame[columns].to_numpy(np.float64) if all(c in frame.columns for c in columns) else None

    windows = None
    if drift is not None:
        if "window" not in frame.columns:
            raise ResultsError(f"{where}: no window column, but the run has evaluation.drift; the run is damaged")
        of_item = frame["window"].astype(str).to_numpy()
        try:
            names = window_names(drift, sorted(set(of_item.tolist())))
        except ValueError as exc:
            raise ResultsError(f"{where}: {exc}; the predictions do not match the manifest") from None
        windows = Windows(of_item=of_item, names=names, min_items=drift.min_items)

    def sample(index: Any, fold: int | None, ci: BootstrapSpec | None, **extra: Any) -> list[dict[str, Any]]:
        return metric_rows(key, y_true=y_true[index], y_pred=y_pred[index],
                           scores=None if scores is None else scores[index], labels=labels, metrics=metrics,
                           bootstrap=ci, fold=fold, targets=None if targets is None else targets[index],
                           where=where, **extra)

    rows = sample(slice(None), None, bootstrap, windows=windows)
    if "fold" in frame.columns:
        folds = frame["fold"].to_numpy()
        for fold in sorted(set(folds.tolist())):
            extra = {} if held_out is None else {"held_out_target": str(held_out[folds == fold][0])}
            rows += sample(folds == fold, int(fold), None, **extra)
    return rows
