"""Estimators: every registered one trains and predicts, seeds, import paths, parameter checks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from bench.config.spec import ModelSpec
from bench.learn.models import (
    ESTIMATORS,
    ModelParamError,
    build_estimator,
    check_model_params,
    needs_nonnegative,
    predict_with_scores,
    score_kind,
)

N_LABELS = 3


def tiny(rng: np.random.Generator, n: int = 30) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Nonnegative sparse features where label k mostly fires columns 3k..3k+2."""
    y = np.arange(n) % N_LABELS
    X = rng.random((n, 3 * N_LABELS)) * 0.2
    for row, label in enumerate(y):
        X[row, 3 * label: 3 * label + 3] += 1.0
    return sparse.csr_matrix(X), y


# the registered models fitted on feature matrices; text-in ones have their own tests (tests/test_fasttext.py)
FEATURE_MODELS = [n for n in ESTIMATORS.names() if ESTIMATORS.get(n).input == "features"]


def model(estimator: str, **params) -> ModelSpec:
    return ModelSpec(name="m", estimator=estimator, params=params)


def registered(name: str) -> ModelSpec:
    """A registered model's spec; skipped when it needs an optional extra that is not installed."""
    spec = model(name)
    try:
        check_model_params(spec)
    except ModelParamError as exc:
        if "pip install" not in str(exc):
            raise
        pytest.skip(str(exc))
    return spec


@pytest.mark.parametrize("name", FEATURE_MODELS)
def test_every_estimator_trains_and_predicts(name: str, rng: np.random.Generator, seed: int) -> None:
    X, y = tiny(rng)
    spec = registered(name)
    estimator = build_estimator(spec, seed=seed, multilabel=False).fit(X, y)
    pred, scores = predict_with_scores(estimator, X, n_labels=N_LABELS)
    assert pred.shape == (len(y),) and set(pred) <= set(range(N_LABELS))
    kind = score_kind(spec)
    assert kind is not None and scores is not None  # every registered estimator gives per-class scores
    if scores is not None:
        assert scores.shape == (len(y), N_LABELS) and np.isfinite(scores).all()
    if kind == "proba":
        np.testing.assert_allclose(scores.sum(axis=1), 1.0)
    # The task is easy: a real learner gets it. (mlp's early stopping holds out 3 of these 30
    # rows and may stop before it learns; test_mlp_learns checks it without early stopping.)
    if name not in ("majority", "dummy", "stratified", "mlp"):
        assert (pred == y).mean() >= 0.9


def test_mlp_learns(rng: np.random.Generator, seed: int) -> None:
    X, y = tiny(rng)
    est = build_estimator(model("mlp", early_stopping=False, max_iter=500), seed=seed, multilabel=False)
    assert (est.fit(X, y).predict(X) == y).mean() >= 0.9


@pytest.mark.parametrize("name", FEATURE_MODELS)
def test_every_estimator_handles_multilabel(name: str, rng: np.random.Generator, seed: int) -> None:
    X, y = tiny(rng)
    Y = np.zeros((len(y), N_LABELS), dtype=np.int64)
    Y[np.arange(len(y)), y] = 1
    Y[::4, 0] = 1                                      # some rows carry two labels
    estimator = build_estimator(registered(name), seed=seed, multilabel=True).fit(X, Y)
    pred, scores = predict_with_scores(estimator, X, n_labels=N_LABELS)
    assert pred.shape == Y.shape and set(np.unique(pred)) <= {0, 1}
    assert scores is None or scores.shape == Y.shape


@pytest.mark.parametrize("name", FEATURE_MODELS)
def test_same_seed_same_predictions(name: str, rng: np.random.Generator, seed: int) -> None:
    X, y = tiny(rng)
    runs = []
    for _ in range(2):
        est = build_estimator(registered(name), seed=seed, multilabel=False).fit(X, y)
        runs.append(predict_with_scores(est, X, n_labels=N_LABELS))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


def test_seed_reaches_every_random_state_and_estimators_are_fresh(seed: int) -> None:
    for multilabel in (False, True):
        first = build_estimator(model("sgd"), seed=seed, multilabel=multilabel)
        states = {k: v for k, v in first.get_params(deep=True).items() if k.endswith("random_state")}
        assert states and set(states.values()) == {seed}
        assert build_estimator(model("sgd"), seed=seed, multilabel=multilabel) is not first


def test_stratified_dummy_depends_on_the_seed(rng: np.random.Generator) -> None:
    X, y = tiny(rng, 30)
    preds = [build_estimator(model("stratified"), seed=s, multilabel=False).fit(X, y).predict(X) for s in (1, 2)]
    assert not np.array_equal(*preds)


def test_import_path_builds_that_class_with_params() -> None:
    spec = model("sklearn.svm.LinearSVC", C=0.5)
    check_model_params(spec)
    est = build_estimator(spec, seed=3, multilabel=False)
    assert type(est).__name__ == "LinearSVC" and est.C == 0.5 and est.random_state == 3
    assert score_kind(spec) == "decision"


def test_scores_follow_params() -> None:
    assert score_kind(model("sgd")) == "decision"
    assert score_kind(model("sgd", loss="log_loss")) == "proba"
    assert score_kind(model("logistic_regression")) == "proba"


def test_yaml_lists_become_tuples_for_mlp() -> None:
    spec = model("mlp", hidden_layer_sizes=[8, 4])
    check_model_params(spec)
    assert build_estimator(spec, seed=0, multilabel=False).hidden_layer_sizes == (8, 4)


def test_naive_bayes_needs_nonnegative_features() -> None:
    assert needs_nonnegative(model("complement_nb")) and needs_nonnegative(model("sklearn.naive_bayes.MultinomialNB"))
    assert not needs_nonnegative(model("linear_svc")) and not needs_nonnegative(model("sklearn.svm.LinearSVC"))


@pytest.mark.parametrize(("spec", "message"), [
    (model("linear_svc", c=1.0), r"^params\.c: unknown parameter 'c' of LinearSVC; did you mean 'C'\?$"),
    (model("logistic_regression", max_iters=10), r"params\.max_iters: .*did you mean 'max_iter'\?"),
    (model("linear_svc", C=-1), r"^params\.C: The 'C' parameter of LinearSVC must be a float .* Got -1 instead; fix"),
    (model("sgd", loss="hingee"), r"^params\.loss: The 'loss' parameter of SGDClassifier"),
    (model("linear_svc", random_state=1), r"^params\.random_state: is set from the run's seeds"),
    (model("linear_svc", class_weight={"agree": 2}), r"^params\.class_weight: a mapping cannot be used"),
    (model("linear_sv"), r"^estimator: unknown estimator 'linear_sv'; did you mean 'linear_svc'\?"),
    (model("svm"), r"^estimator: unknown estimator 'svm'"),
    (model("sklearn.svm.LinearSVR"), r"^estimator: sklearn\.svm\.LinearSVR is not a scikit-learn classifier"),
    (model("sklearn.preprocessing.StandardScaler"), r"is not a scikit-learn classifier"),
    (model("sklearn.svm.LinearSVCC"), r"^estimator: module 'sklearn\.svm' has no 'LinearSVCC'; "
                                      r"did you mean sklearn\.svm\.LinearSVC\?"),
    (model("nosuchpackage.Model"), r"^estimator: cannot import module 'nosuchpackage'"),
])
def test_bad_model_params_name_the_key_and_the_fix(spec: ModelSpec, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_model_params(spec)


def test_scores_get_a_column_for_classes_unseen_in_training(rng: np.random.Generator) -> None:
    X, y = tiny(rng)
    keep = y != 1
    for name, floor_is_lowest in (("logistic_regression", False), ("linear_svc", True)):
        est = build_estimator(model(name), seed=0, multilabel=False).fit(X[keep], y[keep])
        pred, scores = predict_with_scores(est, X, n_labels=N_LABELS)
        assert scores.shape == (len(y), N_LABELS) and 1 not in set(pred)
        if floor_is_lowest:
            assert (scores[:, 1] < scores[:, [0, 2]].min(axis=1)).all()
        else:
            assert (scores[:, 1] == 0).all()


def test_binary_decision_values_become_two_columns(rng: np.random.Generator) -> None:
    X, y = tiny(rng)
    keep = y < 2
    est = build_estimator(model("linear_svc"), seed=0, multilabel=False).fit(X[keep], y[keep])
    pred, scores = predict_with_scores(est, X[keep], n_labels=2)
    assert scores.shape == (keep.sum(), 2)
    np.testing.assert_array_equal(scores.argmax(axis=1), pred)
