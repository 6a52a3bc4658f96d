"""Labels in and out of models, and one model fit per job (per target, multi-label).

Models see labels as indices into the dataset's ordered ``labels`` (single-label, a 1-D
int array) or as a 0/1 indicator matrix (multi-label, one column per label), the shapes
``bench.metrics`` scores. ``fit_predict`` trains a fresh estimator and predicts, or, with
``per_target``, one estimator per target value (the SemEval-2016 baseline protocol), each
test row predicted by the model of its own target.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench.core.errors import BenchError, DataError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from bench.config.spec import ModelSpec

__all__ = ["LabelError", "Prediction", "dataset_labels", "decode_labels", "encode_labels", "fit_predict"]


@dataclass(frozen=True, kw_only=True, eq=False)
class Prediction:
    """What one model predicted for the test rows.

    Attributes:
        pred: label indices (n,) or a 0/1 indicator matrix (n, n_labels) when multi-label.
        scores: (n, n_labels) probabilities or decision values, or None.
        fit_seconds, predict_seconds: wall time, summed over per-target models.
    """

    pred: np.ndarray
    scores: np.ndarray | None
    fit_seconds: float
    predict_seconds: float


class LabelError(ValueError):
    """A value that is not in the label set, at position ``row``; callers name the file or item."""

    def __init__(self, row: int, label: Any, problem: str, *, not_a_list: bool = False) -> None:
        super().__init__(f"row {row}: {problem}")
        self.row, self.label, self.problem, self.not_a_list = row, label, problem, not_a_list


def encode_labels(values: Sequence[Any], labels: Sequence[str], multilabel: bool) -> np.ndarray:
    """Labels as indices into ``labels`` (n,), or a 0/1 indicator matrix (n, len(labels)) when multi-label.

    The one encoder of gold labels and predictions: models, the run's metric rows, rescoring
    and comparisons all see the same indices.

    Raises:
        LabelError: a label not in ``labels`` (or, multi-label, a string where a list belongs).
    """
    import numpy as np

    index = {label: i for i, label in enumerate(labels)}

    def lookup(label: Any, row: int) -> int:
        try:
            return index[label]
        except (KeyError, TypeError):
            raise LabelError(row, label, f"label {label!r} is not one of {list(labels)}") from None

    values = list(values)
    if not multilabel:
        return np.fromiter((lookup(v, r) for r, v in enumerate(values)), dtype=np.int64, count=len(values))
    out = np.zeros((len(values), len(labels)), dtype=np.int64)
    for row, value in enumerate(values):
        if isinstance(value, str):
            raise LabelError(row, value, f"multi-label row has a string label {value!r}, expected a list of labels",
                             not_a_list=True)
        for label in value:
            out[row, lookup(label, row)] = 1
    return out


def dataset_labels(df: pd.DataFrame, labels: Sequence[str], multilabel: bool, *,
                   source: str = "dataset") -> np.ndarray:
    """The ``label`` column of a split, encoded for the models.

    Raises:
        DataError: a row's label is not in ``labels`` (named by its ``id``).
    """
    try:
        return encode_labels(df["label"].tolist(), labels, multilabel)
    except LabelError as exc:
        item = df["id"].iloc[exc.row] if "id" in df.columns else exc.row
        fix = "rebuild the dataset with multilabel: true" if exc.not_a_list else "fix the label or the dataset's labels"
        raise DataError(source, None, f"id {item}", f"{exc.problem}; {fix}") from None


def decode_labels(y: np.ndarray, labels: Sequence[str], multilabel: bool) -> list[str] | list[list[str]]:
    """The inverse of ``encode_labels``: label names per row (lists when multi-label)."""
    import numpy as np

    y = np.asarray(y)
    if multilabel:
        return [[labels[j] for j in np.flatnonzero(row)] for row in y]
    return [labels[int(i)] for i in y]


def _targets(values: Sequence[str] | None, n: int, which: str) -> np.ndarray:
    import numpy as np

    if values is None:
        raise DataError("dataset", None, "target", f"per_target needs the {which} rows' targets, and the dataset "
                        "has no target column; set per_target: false or use a stance dataset")
    out = np.asarray(list(values), dtype=object)
    if len(out) != n:
        raise ValueError(f"{which}_targets has {len(out)} values for {n} rows")
    return out


def _min_value(X: Any) -> float:
    import numpy as np

    data = X.data if hasattr(X, "data") and hasattr(X, "indptr") else np.asarray(X)
    return float(data.min()) if data.size else 0.0


def _n_rows(X: Any) -> int:
    """Rows of a feature matrix, or items of a text-in model's list of texts or pairs."""
    return X.shape[0] if hasattr(X, "shape") else len(X)


def fit_predict(model_spec: ModelSpec, X_train: Any, y_train: np.ndarray, X_test: Any, *, seed: int,
                multilabel: bool, n_labels: int | None = None, train_targets: Sequence[str] | None = None,
                test_targets: Sequence[str] | None = None) -> Prediction:
    """Train a fresh estimator (or one per target) and predict the test rows.

    Args:
        model_spec: the model; ``per_target`` trains one estimator per target value.
        X_train, X_test: feature matrices, or a text-in model's texts / (target, text) pairs
            (``bench.learn.models.text_inputs``).
        y_train: from ``dataset_labels``.
        seed: reaches every ``random_state``.
        multilabel: one-vs-rest over the indicator columns.
        n_labels: the number of labels, so that scores have a column for each even when
            training saw fewer (single-label; multi-label takes it from ``y_train``).
        train_targets, test_targets: the ``target`` of each row (needed for ``per_target``).

    Raises:
        DataError: per_target with a test target absent from train, or a target whose
            training rows all have one label; training rows of one label for a model
            that needs two.
    """
    import numpy as np

    from bench.learn.models import build_estimator, needs_nonnegative, predict_with_scores

    if needs_nonnegative(model_spec) and _min_value(X_train) < 0:
        raise BenchError(f"model {model_spec.name!r} ({model_spec.estimator}) needs features >= 0, and this "
                         "feature block has negative values (signed hashing or embeddings); use hashing with "
                         "alternate_sign: false, tfidf or count, or another model")
    if multilabel:
        n_labels = y_train.shape[1]
    elif n_labels is None:
        n_labels = int(y_train.max()) + 1 if len(y_train) else 0
    if not model_spec.per_target:
        groups: list[tuple[Any, Any]] = [(None, None)]  # all rows, without copying the matrices
    else:
        train_t = _targets(train_targets, _n_rows(X_train), "train")
        test_t = _targets(test_targets, _n_rows(X_test), "test")
        missing = sorted(set(test_t) - set(train_t))
        if missing:
            raise DataError("dataset", None, "target", f"test targets {missing} have no training rows, so "
                            "per_target has no model for them; set per_target: false or add training rows")
        groups = [(np.flatnonzero(train_t == t), np.flatnonzero(test_t == t)) for t in sorted(set(train_t))]
    pred = np.zeros((_n_rows(X_test), n_labels) if multilabel else _n_rows(X_test), dtype=np.int64)
    scores: np.ndarray | None = None
    fit_seconds = predict_seconds = 0.0
    for train_rows, test_rows in groups:
        X_fit, X_pred = (X_train, X_test) if train_rows is None else (X_train[train_rows], X_test[test_rows])
        y = y_train if train_rows is None else y_train[train_rows]
        if model_spec.per_target and not multilabel and len(np.unique(y)) < 2:
            target = train_targets[int(train_rows[0])] if train_targets is not None else "?"
            raise DataError("dataset", None, "target", f"the training rows of target {target!r} all have one label "
                            f"({int(y[0])}), so a per-target model cannot be fitted; set per_target: false")
        estimator = build_estimator(model_spec, seed=seed, multilabel=multilabel)
        start = time.perf_counter()
        try:
            estimator.fit(X_fit, y)
        except ValueError:
            if not multilabel and len(np.unique(y)) < 2:  # most classifiers refuse a single class
                raise DataError("dataset", None, "labels", f"every training row has one label, and model "
                                f"{model_spec.name!r} ({model_spec.estimator}) cannot be fitted on one class; add "
                                "rows of other labels, or use the majority model to score this data") from None
            raise
        fit_seconds += time.perf_counter() - start
        if _n_rows(X_pred) == 0:
            continue
        start = time.perf_counter()
        group_pred, group_scores = predict_with_scores(estimator, X_pred, n_labels=n_labels)
        predict_seconds += time.perf_counter() - start
        if test_rows is None:
            test_rows = slice(None)
        pred[test_rows] = group_pred
        if group_scores is not None:
            if scores is None:
                scores = np.zeros((_n_rows(X_test), n_labels), dtype=np.float64)
            scores[test_rows] = group_scores
    return Prediction(pred=pred, scores=scores, fit_seconds=fit_seconds, predict_seconds=predict_seconds)
