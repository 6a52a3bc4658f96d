"""Metric registry and scoring: every registered metric against scikit-learn, invariances,
bootstrap intervals against scipy, and the misuse errors users see."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning

import bench.metrics
import bench.metrics.scoring
import bench.stats.bootstrap
from bench.core.errors import UnknownNameError
from bench.config.spec import BootstrapSpec
from bench.metrics import (FNC1_LABELS, METRICS, MetricValue, check_metric,
                           score_metrics)
from bench.metrics.scoring import weight_function

STANCE = ("AGAINST", "FAVOR", "NONE")


def _fnc1_reference(y_true: np.ndarray, y_pred: np.ndarray, labels: tuple[str, ...]) -> float:
    """The FNC-1 scorer item by item, as its README states it."""
    names = [labels[i].lower() for i in range(len(labels))]
    score = best = 0.0
    for t, p in zip(y_true, y_pred):
        gold, pred = names[t], names[p]
        if (gold == "unrelated") == (pred == "unrelated"):
            score += 0.25
        if gold != "unrelated" and gold == pred:
            score += 0.75
        best += 0.25 if gold == "unrelated" else 1.0
    return score / best


def _f_avg_reference(y_true: np.ndarray, y_pred: np.ndarray, labels: tuple[str, ...]) -> float:
    lower = [label.lower() for label in labels]
    wanted = [lower.index("favor"), lower.index("against")]
    return float(np.mean(skm.f1_score(y_true, y_pred, labels=wanted, average=None, zero_division=0)))


def _kappa_reference(y_true: np.ndarray, y_pred: np.ndarray, labels: tuple[str, ...]) -> float:
    """scikit-learn's kappa, 0 where it is undefined. scikit-learn 1.8 (the floor) returns nan there and has no
    ``replace_undefined_by``; 1.9 returns nan by default too, with an UndefinedMetricWarning."""
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        kappa = skm.cohen_kappa_score(y_true, y_pred, labels=list(range(len(labels))))
    return 0.0 if np.isnan(kappa) else float(kappa)


def _single(fn, **kw):
    return lambda yt, yp, sc, labels: fn(yt, yp, labels=list(range(len(labels))), zero_division=0, **kw)


def _per_class(fn):
    return lambda yt, yp, sc, labels: fn(yt, yp, labels=list(range(len(labels))), average=None, zero_division=0)


def _multi(fn, **kw):
    return lambda yt, yp: fn(yt, yp, zero_division=0, **kw)


# name -> (single-label reference (y_true, y_pred, scores, labels), multi-label reference (Y_true, Y_pred))
REFERENCES = {
    "accuracy": (lambda yt, yp, sc, labels: skm.accuracy_score(yt, yp), None),
    "balanced_accuracy": (lambda yt, yp, sc, labels: skm.balanced_accuracy_score(yt, yp), None),
    "mcc": (lambda yt, yp, sc, labels: skm.matthews_corrcoef(yt, yp), None),
    "cohen_kappa": (lambda yt, yp, sc, labels: _kappa_reference(yt, yp, labels), None),
    "log_loss": (lambda yt, yp, sc, labels: skm.log_loss(yt, sc, labels=list(range(len(labels)))), None),
    "roc_auc": (lambda yt, yp, sc, labels: skm.roc_auc_score(yt, sc, multi_class="ovr", average="macro",
                                                            labels=list(range(len(labels)))), None),
    "fnc1_score": (lambda yt, yp, sc, labels: _fnc1_reference(yt, yp, labels), None),
    "f_avg": (lambda yt, yp, sc, labels: _f_avg_reference(yt, yp, labels), None),
    "hamming_loss": (None, lambda yt, yp: skm.hamming_loss(yt, yp)),
    "subset_accuracy": (None, lambda yt, yp: skm.accuracy_score(yt, yp)),
}
for _kind, _fn in (("precision", skm.precision_score), ("recall", skm.recall_score), ("f1", skm.f1_score)):
    for _average in ("macro", "micro", "weighted"):
        REFERENCES[f"{_kind}_{_average}"] = (_single(_fn, average=_average), _multi(_fn, average=_average))
    REFERENCES[f"{_kind}_per_class"] = (_per_class(_fn), _multi(_fn, average=None))


def _labels_for(name: str) -> tuple[str, ...]:
    return {"fnc1_score": FNC1_LABELS, "f_avg": STANCE}.get(name, ("business", "politics", "sport", "tech"))


def _single_label_data(rng: np.random.Generator, n: int, k: int, skill: float = 0.6):
    y_true = rng.integers(0, k, n)
    y_pred = np.where(rng.random(n) < skill, y_true, rng.integers(0, k, n))
    scores = rng.dirichlet(np.ones(k), n)
    scores[np.arange(n), y_true] += rng.random(n)  # informative but imperfect scores
    return y_true, y_pred, scores / scores.sum(axis=1, keepdims=True)


def _multi_label_data(rng: np.random.Generator, n: int, k: int):
    y_true = (rng.random((n, k)) < 0.4).astype(int)
    flip = rng.random((n, k)) < 0.25
    return y_true, np.where(flip, 1 - y_true, y_true)


def _values(results: list[MetricValue]) -> dict[str, float]:
    return {r.metric: r.value for r in results}


def test_public_api_is_sorted_and_complete() -> None:
    assert bench.metrics.__all__ == sorted(bench.metrics.__all__)
    assert all(hasattr(bench.metrics, name) for name in bench.metrics.__all__)


def test_every_metric_has_a_reference() -> None:
    """A new metric must come with its scikit-learn (or official scorer) reference here."""
    assert sorted(REFERENCES) == METRICS.names()


@pytest.mark.parametrize("name", METRICS.names())
def test_metric_matches_reference(name: str, rng: np.random.Generator) -> None:
    spec = METRICS.get(name)
    single_ref, multi_ref = REFERENCES[name]
    labels = _labels_for(name)
    if spec.multilabel is not True:
        y_true, y_pred, scores = _single_label_data(rng, 200, len(labels))
        got = [v.value for v in score_metrics([name], y_true=y_true, y_pred=y_pred, labels=labels, scores=scores)]
        assert got == pytest.approx(np.ravel(single_ref(y_true, y_pred, scores, labels)), abs=1e-12)
    if spec.multilabel is not False:
        y_true, y_pred = _multi_label_data(rng, 200, len(labels))
        got = [v.value for v in score_metrics([name], y_true=y_true, y_pred=y_pred, labels=labels)]
        assert got == pytest.approx(np.ravel(multi_ref(y_true, y_pred)), abs=1e-12)


@pytest.mark.parametrize("name", [n for n in METRICS.names() if METRICS.get(n).from_confusion is not None])
def test_vectorised_confusion_formula_matches_reference(name: str, rng: np.random.Generator) -> None:
    """Many confusion matrices in one call, including absent and never-predicted classes."""
    spec = METRICS.get(name)
    labels = _labels_for(name)
    k = len(labels)
    stack, expected = [], []
    for case in range(30):
        n = int(rng.integers(5, 60))
        y_true, y_pred, scores = _single_label_data(rng, n, k, skill=rng.random())
        if case % 3 == 0:  # a class absent from the gold labels, as in a bootstrap resample
            y_true = np.where(y_true == case % k, (case + 1) % k, y_true)
        if case % 5 == 0:  # a class never predicted
            y_pred = np.where(y_pred == (case + 2) % k, (case + 3) % k, y_pred)
        stack.append(np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k))
        expected.append(np.ravel(REFERENCES[name][0](y_true, y_pred, scores, labels)))
    got = spec.from_confusion(np.array(stack, dtype=np.float64), labels)
    np.testing.assert_allclose(got.reshape(len(stack), -1), np.array(expected), atol=1e-12)


@pytest.mark.parametrize("name", METRICS.names())
def test_weighted_form_equals_metric_of_the_resample(name: str, rng: np.random.Generator) -> None:
    """Item multiplicities (the index bootstrap) give the metric of the materialised resample."""
    spec = METRICS.get(name)
    labels = _labels_for(name)
    if spec.multilabel:
        y_true, y_pred = _multi_label_data(rng, 80, len(labels))
        scores = None
    else:
        y_true, y_pred, scores = _single_label_data(rng, 80, len(labels))
    index = rng.integers(0, len(y_true), (3, len(y_true)))
    weights = np.array([np.bincount(row, minlength=len(y_true)) for row in index], dtype=np.float64)
    f = weight_function(spec, y_true=y_true, y_pred=y_pred, labels=labels, scores=scores)
    got = f(weights).reshape(3, -1)
    for row, idx in enumerate(index):
        expected = score_metrics([name], y_true=y_true[idx], y_pred=y_pred[idx], labels=labels,
                                 scores=None if scores is None else scores[idx])
        np.testing.assert_allclose(got[row], [v.value for v in expected], atol=1e-12)


@pytest.mark.parametrize("name", METRICS.names())
def test_metric_ignores_sample_order(name: str, rng: np.random.Generator) -> None:
    labels = _labels_for(name)
    if METRICS.get(name).multilabel:
        y_true, y_pred = _multi_label_data(rng, 120, len(labels))
        scores = None
    else:
        y_true, y_pred, scores = _single_label_data(rng, 120, len(labels))
    order = rng.permutation(len(y_true))
    before = score_metrics([name], y_true=y_true, y_pred=y_pred, labels=labels, scores=scores)
    after = score_metrics([name], y_true=y_true[order], y_pred=y_pred[order], labels=labels,
                          scores=None if scores is None else scores[order])
    assert _values(after) == pytest.approx(_values(before), abs=1e-12)


@pytest.mark.parametrize("name", METRICS.names())
def test_metric_ignores_label_order(name: str, rng: np.random.Generator) -> None:
    """Renumbering the labels (and reordering the label tuple and score columns) changes nothing."""
    labels = _labels_for(name)
    k = len(labels)
    perm = rng.permutation(k)  # new index of old label i is perm[i]
    new_labels = tuple(np.array(labels)[np.argsort(perm)])
    if METRICS.get(name).multilabel:
        y_true, y_pred = _multi_label_data(rng, 120, k)
        before = score_metrics([name], y_true=y_true, y_pred=y_pred, labels=labels)
        inv = np.argsort(perm)
        after = score_metrics([name], y_true=y_true[:, inv], y_pred=y_pred[:, inv], labels=new_labels)
    else:
        y_true, y_pred, scores = _single_label_data(rng, 120, k)
        before = score_metrics([name], y_true=y_true, y_pred=y_pred, labels=labels, scores=scores)
        after = score_metrics([name], y_true=perm[y_true], y_pred=perm[y_pred], labels=new_labels,
                              scores=scores[:, np.argsort(perm)])
    assert _values(after) == pytest.approx(_values(before), abs=1e-12)


def test_fnc1_score_on_the_baseline_hold_out_counts() -> None:
    """The hold-out split of the FNC-1 baseline: maximum 4448.5 points (dataset README)."""
    counts = {"agree": 762, "disagree": 162, "discuss": 1800, "unrelated": 6898}
    y_true = np.repeat(np.arange(4), [counts[label] for label in FNC1_LABELS])
    perfect = score_metrics(["fnc1_score"], y_true=y_true, y_pred=y_true, labels=FNC1_LABELS)
    all_unrelated = score_metrics(["fnc1_score"], y_true=y_true, y_pred=np.full_like(y_true, 3),
                                  labels=FNC1_LABELS)
    all_discuss = score_metrics(["fnc1_score"], y_true=y_true, y_pred=np.full_like(y_true, 2), labels=FNC1_LABELS)
    assert perfect[0].value == 1.0
    assert all_unrelated[0].value == pytest.approx(0.25 * 6898 / 4448.5)
    assert all_discuss[0].value == pytest.approx((0.25 * (762 + 162) + 1800) / 4448.5)


def test_undefined_values_count_as_zero() -> None:
    """One class everywhere: kappa and MCC are undefined and reported as 0, like zero_division=0."""
    same = np.zeros(5, dtype=int)
    values = _values(score_metrics(["cohen_kappa", "mcc", "f1_macro", "accuracy"], y_true=same, y_pred=same,
                                   labels=("a", "b")))
    assert values == {"cohen_kappa": 0.0, "mcc": 0.0, "f1_macro": 0.5, "accuracy": 1.0}


def test_per_class_values_are_named_by_label(rng: np.random.Generator) -> None:
    y_true, y_pred, _ = _single_label_data(rng, 50, 3)
    names = [v.metric for v in score_metrics(["f1_per_class", "recall_per_class"], y_true=y_true,
                                             y_pred=y_pred, labels=STANCE)]
    assert names == ["f1[AGAINST]", "f1[FAVOR]", "f1[NONE]", "recall[AGAINST]", "recall[FAVOR]", "recall[NONE]"]


def test_every_spec_states_its_direction_and_task_kind() -> None:
    for name in METRICS.names():
        spec = METRICS.get(name)
        assert spec.name == name
        assert isinstance(spec.greater_is_better, bool)
    assert not METRICS.get("log_loss").greater_is_better and METRICS.get("log_loss").needs_scores
    # only log_loss needs probabilities: rankings (ROC AUC) accept decision values
    assert [n for n in METRICS.names() if METRICS.get(n).needs_probabilities] == ["log_loss"]
    assert not METRICS.get("hamming_loss").greater_is_better and METRICS.get("hamming_loss").multilabel


@pytest.mark.parametrize(("name", "kwargs", "message"), [
    ("f_avg", {"task": "topic", "multilabel": False, "labels": ("sport", "tech"), "has_scores": False},
     r"f_avg is a stance metric but the task is topic; use f1_macro"),
    ("f_avg", {"task": "stance", "multilabel": False, "labels": ("pro", "con"), "has_scores": False},
     r"f_avg needs at least the labels favor, against \(any case\) but the dataset has pro, con"),
    ("fnc1_score", {"task": "stance", "multilabel": False, "labels": ("agree", "disagree", "discuss"),
                    "has_scores": False}, r"fnc1_score needs exactly the labels agree, disagree, discuss, unrelated"),
    ("log_loss", {"task": "topic", "multilabel": False, "labels": ("a", "b"), "has_scores": False},
     r"log_loss needs per-class scores but the model gives none; drop it"),
    ("accuracy", {"task": "topic", "multilabel": True, "labels": ("a", "b"), "has_scores": False},
     r"accuracy needs single-label predictions but the dataset is multi-label; use subset_accuracy"),
    ("hamming_loss", {"task": "topic", "multilabel": False, "labels": ("a", "b"), "has_scores": False},
     r"hamming_loss is a multi-label metric but the dataset is single-label"),
])
def test_check_metric_refuses_misuse(name: str, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_metric(name, **kwargs)


def test_check_metric_accepts_fitting_uses() -> None:
    check_metric("f_avg", task="stance", multilabel=False, labels=STANCE, has_scores=False)
    check_metric("fnc1_score", task="stance", multilabel=False, labels=tuple(x.upper() for x in FNC1_LABELS),
                 has_scores=False)
    check_metric("f1_macro", task="topic", multilabel=True, labels=("a", "b"), has_scores=False)


def test_unknown_metric_suggests_a_name() -> None:
    with pytest.raises(UnknownNameError, match=r"unknown metric 'f1_makro'; did you mean 'f1_macro'"):
        check_metric("f1_makro", task="topic", multilabel=False, labels=("a", "b"), has_scores=False)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"y_pred": np.array([0, 1])}, r"must have the same non-empty shape"),
    ({"y_pred": np.array([0, 1, 5])}, r"y_pred has values outside 0\.\.2"),
    ({"y_pred": np.array([0.0, 1.0, 2.0])}, r"y_pred must hold integers, got float64"),
    ({"scores": np.ones((3, 2))}, r"scores must be finite with shape \(3, 3\)"),
])
def test_score_metrics_refuses_bad_arrays(kwargs: dict, message: str) -> None:
    args = {"y_true": np.array([0, 1, 2]), "y_pred": np.array([0, 1, 1]), "labels": ("a", "b", "c"), **kwargs}
    with pytest.raises(ValueError, match=message):
        score_metrics(["accuracy"], **args)


def test_log_loss_refuses_decision_values() -> None:
    with pytest.raises(ValueError, match=r"log_loss needs class probabilities but the scores are not"):
        score_metrics(["log_loss"], y_true=np.array([0, 1]), y_pred=np.array([0, 1]), labels=("a", "b"),
                      scores=np.array([[2.0, -2.0], [-1.0, 1.0]]))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"samples": 0}, r"samples: must be at least 1"),
    ({"confidence": 1.5}, r"confidence: must be between 0 and 1"),
    ({"method": "studentized"}, r"method: unknown 'studentized'; use one of percentile, bca"),
])
def test_bootstrap_spec_validates(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BootstrapSpec(**kwargs)


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_intervals_are_deterministic_and_independent_of_other_metrics(method: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    y_true, y_pred, scores = _single_label_data(rng, 150, 4)
    spec = BootstrapSpec(samples=300, method=method)
    kw = {"y_true": y_true, "y_pred": y_pred, "labels": _labels_for("accuracy"), "bootstrap": spec, "seed": seed}
    alone = score_metrics(["f1_macro", "roc_auc"], scores=scores, **kw)
    again = score_metrics(["f1_macro", "roc_auc"], scores=scores, **kw)
    more = score_metrics(["accuracy", "f1_macro", "log_loss", "roc_auc"], scores=scores, **kw)
    assert alone == again
    assert [v for v in more if v.metric in ("f1_macro", "roc_auc")] == alone
    for v in more:
        assert v.ci_low <= v.value <= v.ci_high or v.metric == "log_loss" and v.ci_low <= v.ci_high
        assert v.n == 150


def test_no_bootstrap_gives_no_interval(rng: np.random.Generator) -> None:
    y_true, y_pred, _ = _single_label_data(rng, 30, 3)
    (value,) = score_metrics(["accuracy"], y_true=y_true, y_pred=y_pred, labels=STANCE, bootstrap=None)
    assert value.ci_low is None and value.ci_high is None


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_accuracy_interval_matches_scipy_bootstrap_on_a_mean(method: str, seed: int) -> None:
    """Accuracy is the mean of per-item correctness: scipy's bootstrap of that mean must agree."""
    rng = np.random.default_rng(seed)
    y_true, y_pred, _ = _single_label_data(rng, 400, 4, skill=0.5)
    (ours,) = score_metrics(["accuracy"], y_true=y_true, y_pred=y_pred, labels=_labels_for("accuracy"),
                            bootstrap=BootstrapSpec(samples=20_000, method=method), seed=seed)
    ref = stats.bootstrap(((y_true == y_pred).astype(float),), np.mean, n_resamples=20_000,
                          method="BCa" if method == "bca" else "percentile", rng=np.random.default_rng(seed + 1))
    # Monte Carlo error of a 2.5% quantile with 20k resamples is about 0.002 here
    assert ours.ci_low == pytest.approx(ref.confidence_interval.low, abs=0.006)
    assert ours.ci_high == pytest.approx(ref.confidence_interval.high, abs=0.006)


def test_cell_bootstrap_has_the_distribution_of_the_index_bootstrap(seed: int) -> None:
    """Multinomial draws of confusion cells vs a naive index resampling loop (two-sample KS test)."""
    rng = np.random.default_rng(seed)
    labels = _labels_for("f1_macro")
    y_true, y_pred, _ = _single_label_data(rng, 300, 4)
    spec = METRICS.get("f1_macro")
    k = len(labels)
    cells = np.bincount(y_true * k + y_pred, minlength=k * k)
    fast = np.concatenate([spec.from_confusion(c.reshape(-1, k, k), labels) for c in
                           bench.stats.bootstrap.cell_count_draws(cells, 3000, rng)])
    naive = []
    for _ in range(3000):
        idx = rng.integers(0, len(y_true), len(y_true))
        naive.append(spec.from_confusion(np.bincount(y_true[idx] * k + y_pred[idx], minlength=k * k)
                                         .reshape(k, k).astype(float), labels))
    assert stats.ks_2samp(fast, naive).pvalue > 0.001
    assert np.mean(fast) == pytest.approx(np.mean(naive), abs=0.003)
    assert np.std(fast) == pytest.approx(np.std(naive), rel=0.08)


def test_multilabel_scoring_gives_intervals(rng: np.random.Generator) -> None:
    labels = ("economy", "health", "sport")
    y_true, y_pred = _multi_label_data(rng, 120, 3)
    values = score_metrics(["f1_micro", "hamming_loss", "subset_accuracy"], y_true=y_true, y_pred=y_pred,
                           labels=labels, bootstrap=BootstrapSpec(samples=200, method="bca"), seed=3)
    for v in values:
        assert v.ci_low < v.value < v.ci_high


def test_f1_macro_bca_interval_matches_scipy_bca(seed: int) -> None:
    """A ratio statistic: BCa through confusion cells vs scipy's item-level BCa (full jackknife)."""
    rng = np.random.default_rng(seed)
    labels = _labels_for("f1_macro")
    k = len(labels)
    y_true, y_pred, _ = _single_label_data(rng, 300, k, skill=0.5)
    formula = METRICS.get("f1_macro").from_confusion

    def f1_macro(t: np.ndarray, p: np.ndarray, axis: int = -1) -> np.ndarray:
        cells = (t * k + p)[..., None] == np.arange(k * k)
        counts = cells.sum(axis=-2).reshape(*t.shape[:-1], k, k).astype(np.float64)
        return formula(counts, labels)

    ref = stats.bootstrap((y_true, y_pred), f1_macro, paired=True, vectorized=True, n_resamples=10_000,
                          batch=500, method="BCa", rng=np.random.default_rng(seed + 1)).confidence_interval
    (ours,) = score_metrics(["f1_macro"], y_true=y_true, y_pred=y_pred, labels=labels,
                            bootstrap=BootstrapSpec(samples=10_000, method="bca"), seed=seed)
    assert ours.ci_low == pytest.approx(ref.low, abs=0.01)
    assert ours.ci_high == pytest.approx(ref.high, abs=0.01)


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_multinomial_and_item_resampling_of_cells_agree(method: str, seed: int,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Above MAX_CELLS distinct outcomes, resampled items replace the multinomial: same intervals."""
    rng = np.random.default_rng(seed)
    labels = ("economy", "health", "sport", "tech")
    y_true, y_pred = _multi_label_data(rng, 600, 4)
    spec = BootstrapSpec(samples=4000, method=method)
    names = ["f1_macro", "hamming_loss"]
    by_patterns = score_metrics(names, y_true=y_true, y_pred=y_pred, labels=labels, bootstrap=spec, seed=seed)
    monkeypatch.setattr(bench.metrics.scoring, "MAX_CELLS", 0)
    by_items = score_metrics(names, y_true=y_true, y_pred=y_pred, labels=labels, bootstrap=spec, seed=seed)
    for a, b in zip(by_patterns, by_items):
        assert a.value == b.value
        assert a.ci_low == pytest.approx(b.ci_low, abs=0.006)
        assert a.ci_high == pytest.approx(b.ci_high, abs=0.006)
