"""Paired metric tests against references: the exact permutation distribution and scipy's bootstrap.

The paired bootstrap tested here is the one engine ``bench compare`` runs
(``bench.metrics.joint.JointSample``), called the way ``bench.compare.table`` calls it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pytest
from scipy import stats as sps

from bench.metrics import FNC1_LABELS, METRICS
from bench.metrics.joint import JointSample, resolve_metric
from bench.metrics.paired import approximate_randomization
from bench.stats import bootstrap as bs
from bench.stats import mcnemar

LABELS = ("business", "politics", "sport", "tech")


def _system(rng: np.random.Generator, y_true: np.ndarray, skill: float, k: int = 4) -> np.ndarray:
    return np.where(rng.random(len(y_true)) < skill, y_true, rng.integers(0, k, len(y_true)))


@dataclass(frozen=True)
class _Seeds:
    """One system's predictions, one row per seed, as ``bench compare`` loads them."""

    labels: tuple[str, ...]
    gold: np.ndarray
    preds: np.ndarray
    scores: np.ndarray | None = None

    @property
    def multilabel(self) -> bool:
        return self.gold.ndim == 2

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(range(len(self.preds)))

    @property
    def n_items(self) -> int:
        return len(self.gold)


@dataclass(frozen=True)
class _Paired:
    value_a: float
    value_b: float
    delta: float
    ci_low: float
    ci_high: float
    p_value: float


def paired_bootstrap(metric: str, y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray, labels: tuple,
                     samples: int, confidence: float = 0.95, rng: np.random.Generator | None = None, *,
                     scores_a: np.ndarray | None = None, scores_b: np.ndarray | None = None) -> _Paired:
    """The Δ of ``bench compare`` for two one-seed systems: JointSample, seed-aware draws, percentile CI, p."""
    a = _Seeds(tuple(labels), y_true, pred_a[None], None if scores_a is None else scores_a[None])
    b = _Seeds(tuple(labels), y_true, pred_b[None], None if scores_b is None else scores_b[None])
    joint = JointSample([a, b], resolve_metric(metric))
    value_a, value_b = joint.points()
    aware = joint.seed_aware(samples, rng, [-1.0, 1.0])
    ci = bs.interval(aware.draws, np.asarray(aware.point), confidence)
    return _Paired(float(value_a), float(value_b), aware.point, float(ci.low), float(ci.high),
                   bs.two_sided_p_value(aware.draws, aware.point))


# ---- approximate randomization --------------------------------------------------------------

def _exact_permutation_p(metric, y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray) -> float:
    """Enumerate all 2^n swaps of the two systems' outputs."""
    observed = abs(metric(y_true, pred_b) - metric(y_true, pred_a))
    hits = total = 0
    for swap in itertools.product((False, True), repeat=len(y_true)):
        s = np.array(swap)
        a, b = np.where(s, pred_b, pred_a), np.where(s, pred_a, pred_b)
        hits += abs(metric(y_true, b) - metric(y_true, a)) >= observed - 1e-12
        total += 1
    return hits / total


def _accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(y_true == y_pred))


def _f1_macro(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Macro-F1 from the registry's confusion formula (checked against scikit-learn in test_metrics)."""
    counts = np.bincount(y_true * 4 + y_pred, minlength=16).reshape(4, 4).astype(float)
    return float(METRICS.get("f1_macro").from_confusion(counts, LABELS))


@pytest.mark.parametrize(("name", "reference", "n"), [("accuracy", _accuracy, 12), ("f1_macro", _f1_macro, 10)])
def test_approximate_randomization_matches_exact_permutation(name, reference, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 4, n)
    pred_a, pred_b = _system(rng, y_true, 0.3), _system(rng, y_true, 0.8)
    exact = _exact_permutation_p(reference, y_true, pred_a, pred_b)
    result = approximate_randomization(name, y_true, pred_a, pred_b, LABELS, samples=20_000, rng=rng)
    assert result.delta == pytest.approx(reference(y_true, pred_b) - reference(y_true, pred_a))
    # Monte Carlo standard error is at most 0.0036 with 20,000 rounds
    assert result.p_value == pytest.approx(exact, abs=0.015)


def test_approximate_randomization_with_scores_matches_exact_permutation(seed: int) -> None:
    """roc_auc swaps whole score rows item by item (the generic path)."""
    rng = np.random.default_rng(seed)
    n, labels = 8, ("no", "yes")
    y_true = np.array([0, 1] * (n // 2))
    scores_a = rng.dirichlet([1, 1], n)
    scores_b = rng.dirichlet([1, 1], n)
    scores_b[np.arange(n), y_true] += 0.5
    scores_b /= scores_b.sum(axis=1, keepdims=True)

    def auc(s: np.ndarray) -> float:  # the definition: P(score of a positive > score of a negative)
        pos, neg = s[y_true == 1, 1][:, None], s[y_true == 0, 1][None, :]
        return float(np.mean((pos > neg) + 0.5 * (pos == neg)))

    observed = abs(auc(scores_b) - auc(scores_a))
    hits = 0
    for swap in itertools.product((False, True), repeat=n):
        s = np.array(swap)[:, None]
        hits += abs(auc(np.where(s, scores_a, scores_b)) - auc(np.where(s, scores_b, scores_a))) >= observed - 1e-12
    result = approximate_randomization("roc_auc", y_true, scores_a.argmax(1), scores_b.argmax(1), labels,
                                       samples=2000, rng=rng, scores_a=scores_a, scores_b=scores_b)
    assert result.p_value == pytest.approx(hits / 2**n, abs=0.05)  # standard error <= 0.011


# ---- paired bootstrap -----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["accuracy", "f1_macro", "mcc"])
def test_planted_better_model_is_significant(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 4, 2000)
    weak, strong = _system(rng, y_true, 0.55), _system(rng, y_true, 0.70)
    boot = paired_bootstrap(name, y_true, weak, strong, LABELS, samples=2000, rng=rng)
    ar = approximate_randomization(name, y_true, weak, strong, LABELS, samples=2000, rng=rng)
    assert boot.delta > 0 and boot.ci_low > 0 and boot.p_value < 0.01
    assert ar.p_value < 0.01
    assert mcnemar(weak == y_true, strong == y_true).p_value < 0.01


def test_equal_models_are_rarely_significant() -> None:
    """Two draws of the same model: p < 0.05 in about 5% of seeds, never systematically."""
    significant = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        y_true = rng.integers(0, 4, 500)
        a, b = _system(rng, y_true, 0.6), _system(rng, y_true, 0.6)
        significant += paired_bootstrap("f1_macro", y_true, a, b, LABELS, samples=1000, rng=rng).p_value < 0.05
    assert significant <= 6


def test_paired_interval_matches_scipy_bootstrap_of_mean_difference(seed: int) -> None:
    """The accuracy difference is the mean of per-item correctness differences."""
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 4, 600)
    a, b = _system(rng, y_true, 0.5), _system(rng, y_true, 0.6)
    ours = paired_bootstrap("accuracy", y_true, a, b, LABELS, samples=20_000, confidence=0.9, rng=rng)
    diff = (b == y_true).astype(float) - (a == y_true).astype(float)
    ref = sps.bootstrap((diff,), np.mean, n_resamples=20_000, confidence_level=0.9, method="percentile",
                        rng=np.random.default_rng(seed + 1)).confidence_interval
    assert ours.delta == pytest.approx(diff.mean())
    assert ours.ci_low == pytest.approx(ref.low, abs=0.005)
    assert ours.ci_high == pytest.approx(ref.high, abs=0.005)


def test_cell_paired_bootstrap_agrees_with_item_weights(seed: int) -> None:
    """The K^3-cell multinomial gives the interval of an index bootstrap (item weights)."""
    from bench.metrics.scoring import weight_function

    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 4, 800)
    a, b = _system(rng, y_true, 0.5), _system(rng, y_true, 0.58)
    spec = METRICS.get("fnc1_score")
    by_cells = paired_bootstrap("fnc1_score", y_true, a, b, FNC1_LABELS, samples=4000, rng=rng)
    fa = weight_function(spec, y_true=y_true, y_pred=a, labels=FNC1_LABELS)
    fb = weight_function(spec, y_true=y_true, y_pred=b, labels=FNC1_LABELS)
    draws = np.concatenate([fb(w) - fa(w) for w in bs.item_weight_draws(800, 4000, rng)])
    low, high = np.quantile(draws, [0.025, 0.975])
    assert by_cells.ci_low == pytest.approx(low, abs=0.006)
    assert by_cells.ci_high == pytest.approx(high, abs=0.006)


def test_paired_bootstrap_with_scores(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 3, 400)
    noisy = rng.dirichlet(np.ones(3), 400)
    sharp = noisy.copy()
    sharp[np.arange(400), y_true] += 1.0
    sharp /= sharp.sum(axis=1, keepdims=True)
    result = paired_bootstrap("roc_auc", y_true, noisy.argmax(1), sharp.argmax(1), ("a", "b", "c"), samples=500,
                              rng=rng, scores_a=noisy, scores_b=sharp)
    assert result.value_b > result.value_a
    assert result.ci_low < result.delta < result.ci_high
    assert result.p_value < 0.01


def test_paired_bootstrap_multilabel(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y_true = (rng.random((300, 3)) < 0.4).astype(int)
    a = np.where(rng.random((300, 3)) < 0.3, 1 - y_true, y_true)
    b = np.where(rng.random((300, 3)) < 0.1, 1 - y_true, y_true)
    result = paired_bootstrap("f1_micro", y_true, a, b, ("x", "y", "z"), samples=500, rng=rng)
    assert result.delta > 0 and result.ci_low > 0 and result.p_value < 0.01


def test_paired_tests_are_deterministic_for_a_seed(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 4, 300)
    a, b = _system(rng, y_true, 0.5), _system(rng, y_true, 0.55)
    first = paired_bootstrap("f1_macro", y_true, a, b, LABELS, samples=300, rng=np.random.default_rng(seed))
    second = paired_bootstrap("f1_macro", y_true, a, b, LABELS, samples=300, rng=np.random.default_rng(seed))
    assert first == second


def test_seed_mean_item_draws_match_scipy_bootstrap_over_items(seed: int) -> None:
    """With three seeds, the item part of the seed-mean accuracy is a bootstrap of per-item mean correctness."""
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 4, 500)
    preds = np.stack([_system(rng, y_true, 0.6) for _ in range(3)])
    joint = JointSample([_Seeds(LABELS, y_true, preds)], resolve_metric("accuracy"))
    aware = joint.seed_aware(20_000, np.random.default_rng(seed), [1.0])
    ours = bs.interval(aware.item_draws, np.asarray(aware.point), 0.9)
    per_item = (preds == y_true[None]).mean(axis=0)
    ref = sps.bootstrap((per_item,), np.mean, n_resamples=20_000, confidence_level=0.9, method="percentile",
                        rng=np.random.default_rng(seed + 1)).confidence_interval
    assert aware.point == pytest.approx(per_item.mean())
    assert float(ours.low) == pytest.approx(ref.low, abs=0.004)
    assert float(ours.high) == pytest.approx(ref.high, abs=0.004)


def test_one_seed_per_system_adds_no_seed_part(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 4, 300)
    a, b = _Seeds(LABELS, y_true, _system(rng, y_true, 0.5)[None]), _Seeds(LABELS, y_true, _system(rng, y_true, 0.6)[None])
    joint = JointSample([a, b], resolve_metric("f1_macro"))
    aware = joint.seed_aware(500, np.random.default_rng(1), [-1.0, 1.0])
    plain = joint.draws(500, np.random.default_rng(1))
    assert aware.seed_var == 0.0 and aware.seed_share == 0.0
    assert np.array_equal(aware.draws, plain[:, 1] - plain[:, 0])


def test_undefined_resamples_are_counted(seed: int) -> None:
    """Binary ROC AUC on 30 items with a 2-item class: a resample without that class has no AUC."""
    rng = np.random.default_rng(seed)
    y_true = np.array([0] * 28 + [1] * 2)
    scores = rng.dirichlet(np.ones(2), 30)
    system = _Seeds(("a", "b"), y_true, scores.argmax(1)[None], scores[None])
    aware = JointSample([system], resolve_metric("roc_auc")).seed_aware(2000, np.random.default_rng(0), [1.0])
    expected = 2000 * (28 / 30) ** 30  # P(no item of the 2-item class in a resample of 30 items)
    assert aware.undefined == int(np.isnan(aware.item_draws).sum())
    assert 0.7 * expected < aware.undefined < 1.3 * expected


def test_score_metrics_counts_undefined_resamples(seed: int) -> None:
    """The one-system CI of a metric row: resamples without the rare class are counted, not silently dropped."""
    from bench.config.spec import BootstrapSpec
    from bench.metrics import score_metrics

    rng = np.random.default_rng(seed)
    y_true = np.array([0] * 28 + [1] * 2)
    scores = rng.dirichlet(np.ones(2), 30)
    auc, acc = score_metrics(["roc_auc", "accuracy"], y_true=y_true, y_pred=scores.argmax(1), labels=["a", "b"],
                             scores=scores, bootstrap=BootstrapSpec(samples=2000), seed=seed)
    expected = 2000 * (28 / 30) ** 30
    assert 0.7 * expected < auc.undefined < 1.3 * expected
    assert acc.undefined == 0


def test_a_seed_part_hidden_in_item_noise_never_makes_the_interval_explode() -> None:
    """Seed spreads made of item noise leave a tiny seed part: the t scale must stay bounded.

    Before the bound on Satterthwaite's df, such a case gave df near 0 and intervals of
    1e100 and beyond (seen on the demo with 1,000 resamples).
    """
    from bench.stats.seeds import seed_aware

    rng = np.random.default_rng(3)
    seeds = np.array([0.70, 0.71, 0.69])  # seed variance 1e-4
    # each seed's bootstrap deviations almost as wide as the seeds' spread (little seed variance
    # left), and the same in both systems (paired items), so the delta's item part is tiny
    shared = rng.normal(0.0, 0.00995, size=(1000, 3))
    points = [seeds, seeds + 0.001]
    per_seed = [seeds + shared, seeds + 0.001 + shared + rng.normal(0, 1e-6, size=(1000, 3))]
    aware = seed_aware(points, per_seed, np.array([-1.0, 1.0]), np.random.default_rng(0))
    assert aware.df >= 2.0
    low, high = np.nanpercentile(aware.draws, [2.5, 97.5])
    assert np.isfinite([low, high]).all() and high - low < 1.0


def test_identical_systems_under_several_seeds_differ_by_exactly_zero(tmp_path, rng) -> None:
    """Identical predictions have a delta of 0 in every resample: no seed part, no p-value."""
    from bench.compare import CompareOptions, compare_runs
    from bench.results.store import RunDir
    from tests.run_factory import gold_labels, simulated_job, write_run

    gold = gold_labels(rng, 150)
    jobs = [simulated_job(rng, dataset="toy", model="logreg", seed=s, gold=gold, accuracy=0.6 + 0.05 * s)
            for s in range(3)]
    a, b = write_run(tmp_path, "a", jobs), write_run(tmp_path, "b", jobs)
    for samples in (200, 1000):
        comparison = compare_runs([RunDir.open(a), RunDir.open(b)], CompareOptions(samples=samples, metric="f1_macro"))
        delta = comparison.rows[0].deltas[1]
        assert delta is not None and delta.identical
        assert (delta.delta, delta.ci_low, delta.ci_high, delta.seed_share) == (0.0, 0.0, 0.0, 0.0)
