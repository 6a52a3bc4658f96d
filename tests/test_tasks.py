"""Labels in and out, per-target models, multi-label fit/predict."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from bench.config.spec import ModelSpec
from bench.core.errors import DataError
from bench.learn.models import build_estimator
from bench.learn.tasks import dataset_labels, decode_labels, fit_predict

LABELS = ("AGAINST", "FAVOR", "NONE")


def test_labels_round_trip_single_and_multi() -> None:
    df = pd.DataFrame({"id": ["a", "b", "c"], "label": ["FAVOR", "NONE", "AGAINST"]})
    y = dataset_labels(df, LABELS, False)
    assert y.tolist() == [1, 2, 0] and decode_labels(y, LABELS, False) == df["label"].tolist()
    multi = pd.DataFrame({"id": ["a", "b"], "label": [["sport", "politics"], []]})
    Y = dataset_labels(multi, ("politics", "sport"), True)
    assert Y.tolist() == [[1, 1], [0, 0]]
    assert decode_labels(Y, ("politics", "sport"), True) == [["politics", "sport"], []]


def test_unknown_label_names_the_row() -> None:
    df = pd.DataFrame({"id": ["a", "b"], "label": ["FAVOR", "favour"]})
    with pytest.raises(DataError, match=r"id b: label 'favour' is not one of \['AGAINST', 'FAVOR', 'NONE'\]"):
        dataset_labels(df, LABELS, False)
    with pytest.raises(DataError, match=r"id a: multi-label row has a string label 'FAVOR'"):
        dataset_labels(df, LABELS, True)


def opposed_targets(n_per_target: int = 8) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """Two targets where the same word means opposite stances: only per-target models can learn it."""
    rows, y, targets = [], [], []
    for target, flip in (("guns", False), ("abortion", True)):
        for i in range(n_per_target):
            pro = i % 2 == 0
            rows.append([1.0, 0.0] if pro else [0.0, 1.0])
            y.append(int(pro != flip))          # guns: word0 -> FAVOR; abortion: word0 -> AGAINST
            targets.append(target)
    return sparse.csr_matrix(np.array(rows)), np.array(y), np.array(targets, dtype=object)


def test_per_target_trains_one_model_per_target(seed: int) -> None:
    X, y, targets = opposed_targets()
    spec = ModelSpec(name="svm", estimator="linear_svc", per_target=True)
    out = fit_predict(spec, X, y, X, seed=seed, multilabel=False, n_labels=3,
                      train_targets=targets, test_targets=targets)
    np.testing.assert_array_equal(out.pred, y)
    assert out.scores.shape == (len(y), 3) and out.fit_seconds > 0
    pooled = fit_predict(ModelSpec(name="svm", estimator="linear_svc"), X, y, X, seed=seed, multilabel=False,
                         n_labels=3)
    assert (pooled.pred == y).mean() <= 0.5     # one model cannot separate them


def test_per_target_matches_models_trained_separately(seed: int) -> None:
    X, y, targets = opposed_targets()
    spec = ModelSpec(name="lr", estimator="logistic_regression", per_target=True)
    out = fit_predict(spec, X, y, X, seed=seed, multilabel=False, n_labels=3,
                      train_targets=targets, test_targets=targets)
    for target in ("guns", "abortion"):
        rows = np.flatnonzero(targets == target)
        alone = build_estimator(spec, seed=seed, multilabel=False).fit(X[rows], y[rows])
        np.testing.assert_allclose(out.scores[rows][:, :2], alone.predict_proba(X[rows]))
        assert (out.scores[rows][:, 2] == 0).all()   # NONE never seen in training: probability 0


def test_per_target_errors_are_data_errors() -> None:
    X, y, targets = opposed_targets()
    spec = ModelSpec(name="svm", estimator="linear_svc", per_target=True)
    test_targets = targets.copy()
    test_targets[0] = "climate"
    with pytest.raises(DataError, match=r"test targets \['climate'\] have no training rows"):
        fit_predict(spec, X, y, X, seed=0, multilabel=False, train_targets=targets, test_targets=test_targets)
    y_one = y.copy()
    y_one[targets == "guns"] = 1
    with pytest.raises(DataError, match=r"the training rows of target 'guns' all have one label"):
        fit_predict(spec, X, y_one, X, seed=0, multilabel=False, train_targets=targets, test_targets=targets)
    with pytest.raises(DataError, match=r"per_target needs the train rows' targets"):
        fit_predict(spec, X, y, X, seed=0, multilabel=False)


def test_multilabel_fit_predict_gives_indicator_and_scores(rng: np.random.Generator, seed: int) -> None:
    n = 24
    Y = np.zeros((n, 3), dtype=np.int64)
    Y[np.arange(n), np.arange(n) % 3] = 1
    Y[::3, 1] = 1
    X = sparse.csr_matrix(Y + rng.random(Y.shape) * 0.1)
    out = fit_predict(ModelSpec(name="lr", estimator="logistic_regression"), X, Y, X, seed=seed, multilabel=True)
    assert out.pred.shape == Y.shape and out.scores.shape == Y.shape
    assert (out.pred == Y).mean() >= 0.9


def test_fit_predict_is_deterministic_for_a_seed(rng: np.random.Generator, seed: int) -> None:
    X = sparse.csr_matrix(rng.random((30, 6)))
    y = rng.integers(0, 3, 30)
    spec = ModelSpec(name="sgd", estimator="sgd")
    a, b = (fit_predict(spec, X, y, X, seed=seed, multilabel=False, n_labels=3) for _ in range(2))
    np.testing.assert_array_equal(a.pred, b.pred)
    np.testing.assert_array_equal(a.scores, b.scores)


def test_naive_bayes_on_negative_features_is_a_user_error() -> None:
    from bench.core.errors import BenchError

    X = sparse.csr_matrix(np.array([[1.0, -0.5], [0.2, 0.3], [0.0, 1.0], [1.0, 0.0]]))
    y = np.array([0, 1, 1, 0])
    with pytest.raises(BenchError, match=r"model 'nb' \(complement_nb\) needs features >= 0.*alternate_sign: false"):
        fit_predict(ModelSpec(name="nb", estimator="complement_nb"), X, y, X, seed=0, multilabel=False)
