"""One job's predictions as a table and its per-class report (``predictions/`` and ``jobs/`` files).

Predictions frames have ``id``, ``gold``, ``pred`` (label strings; lists of strings for
multi-label), one ``score:<label>`` float column per label when the model gives scores (the
model's probabilities, or its decision values when it has no probabilities), ``fold``
for CV runs and ``window`` for drift runs. The per-class report is computed from the
confusion matrix with numpy, with
``zero_division=0`` like scikit-learn's defaults, so that it needs no scikit-learn import.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bench.results.layout import SCORE_PREFIX

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


def prediction_frame(test: pd.DataFrame, y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray | None,
                     labels: Sequence[str], multilabel: bool) -> pd.DataFrame:
    """The predictions table of one job (rows in the order of ``test``)."""
    import numpy as np
    import pandas as pd

    from bench.learn.tasks import decode_labels

    columns: dict[str, Any] = {"id": test["id"].astype(str).to_list(),
                               "gold": decode_labels(y_true, labels, multilabel),
                               "pred": decode_labels(y_pred, labels, multilabel)}
    if scores is not None:
        for j, label in enumerate(labels):
            columns[f"{SCORE_PREFIX}{label}"] = np.asarray(scores[:, j], dtype=np.float64)
    if "fold" in test.columns:
        columns["fold"] = test["fold"].astype("int64").to_numpy()
    if "window" in test.columns:  # a drift run's test windows (bench.run.drift), for bench rescore
        columns["window"] = test["window"].astype(str).to_numpy()
    return pd.DataFrame(columns)


def _prf(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import numpy as np

    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1), 0.0)
        recall = np.where(tp + fn > 0, tp / np.maximum(tp + fn, 1), 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-300), 0.0)
    return precision, recall, f1


def class_report(y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[str], multilabel: bool) -> dict[str, Any]:
    """Per-class precision, recall, F1 and support, and the confusion matrix.

    Single-label: ``confusion`` is K x K, rows gold and columns predicted, in ``labels``
    order. Multi-label: one ``[[tn, fp], [fn, tp]]`` matrix per label.
    """
    import numpy as np

    k = len(labels)
    if multilabel:
        t, p = np.asarray(y_true, dtype=bool), np.asarray(y_pred, dtype=bool)
        tp, fp = (t & p).sum(0), (~t & p).sum(0)
        fn, tn = (t & ~p).sum(0), (~t & ~p).sum(0)
        confusion: Any = {label: [[int(tn[j]), int(fp[j])], [int(fn[j]), int(tp[j])]] for j, label in enumerate(labels)}
        support = t.sum(0)
    else:
        matrix = np.bincount(np.asarray(y_true, dtype=np.int64) * k + np.asarray(y_pred, dtype=np.int64),
                             minlength=k * k).reshape(k, k)
        tp = np.diag(matrix)
        fp, fn = matrix.sum(0) - tp, matrix.sum(1) - tp
        confusion = matrix.astype(int).tolist()
        support = matrix.sum(1)
    precision, recall, f1 = _prf(tp, fp, fn)
    per_class = {label: {"precision": float(precision[j]), "recall": float(recall[j]), "f1": float(f1[j]),
                         "support": int(support[j])} for j, label in enumerate(labels)}
    return {"labels": list(labels), "per_class": per_class, "confusion": confusion}
