"""Speed of the paired bootstrap: multinomial draws of confusion cells vs an index-resampling loop.

Two simulated systems on ``--n`` test items (the FNC-1 label shares), ``--samples``
bootstrap resamples. For accuracy and macro-F1 we time, side by side in this process:

* ``bench.metrics.joint.JointSample``, the engine of ``bench compare`` (counts of the K^3
  (gold, pred_a, pred_b) cells drawn from a multinomial; vectorised formulas over all
  resampled confusion matrices);
* a naive loop that resamples item indices and recomputes both systems' metric with numpy
  (``np.bincount`` confusion matrices; a fair, already-fast baseline);
* the same loop with scikit-learn's metric functions, on ``--sklearn-samples`` resamples and
  scaled linearly to ``--samples`` (labelled "extrapolated").

It prints seconds, the speed-up ratios, and both intervals (they must agree within Monte
Carlo error, as both are item bootstraps).

    python benchmarks/bootstrap_speed.py [--n 100000] [--samples 10000] [--naive-samples 10000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from bench.config.spec import BootstrapSpec
from bench.metrics import FNC1_LABELS, METRICS, score_metrics
from bench.metrics.joint import JointSample, resolve_metric
from bench.stats import bootstrap as bs

PRIORS = (0.0736, 0.0168, 0.1783, 0.7313)  # agree, disagree, discuss, unrelated (FNC-1 train shares)


class _System:
    """One seed of one system, shaped as ``bench compare`` loads it."""

    def __init__(self, gold: np.ndarray, pred: np.ndarray) -> None:
        self.labels, self.multilabel, self.gold, self.seeds = FNC1_LABELS, False, gold, (0,)
        self.preds, self.scores, self.n_items = pred[None], None, len(gold)


def paired_bootstrap(name: str, gold: np.ndarray, a: np.ndarray, b: np.ndarray, samples: int,
                     rng: np.random.Generator) -> tuple[float, float]:
    """The Δ CI of ``bench compare`` for two one-seed systems."""
    joint = JointSample([_System(gold, a), _System(gold, b)], resolve_metric(name))
    draws = joint.draws(samples, rng)
    points = joint.points()
    ci = bs.interval(draws[:, 1] - draws[:, 0], np.asarray(points[1] - points[0]), 0.95)
    return float(ci.low), float(ci.high)


def systems(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gold labels and two systems that are right 78% and 80% of the time."""
    rng = np.random.default_rng(seed)
    gold = rng.choice(4, size=n, p=PRIORS)

    def system(skill: float) -> np.ndarray:
        return np.where(rng.random(n) < skill, gold, rng.choice(4, size=n, p=PRIORS))

    return gold, system(0.78), system(0.80)


def numpy_metric(name: str) -> Callable[[np.ndarray, np.ndarray], float]:
    """The metric from a ``np.bincount`` confusion matrix (what a careful hand-written loop does)."""
    formula = METRICS.get(name).from_confusion

    def metric(gold: np.ndarray, pred: np.ndarray) -> float:
        counts = np.bincount(gold * 4 + pred, minlength=16).reshape(4, 4).astype(np.float64)
        return float(formula(counts, FNC1_LABELS))

    return metric


def sklearn_metric(name: str) -> Callable[[np.ndarray, np.ndarray], float]:
    from sklearn.metrics import accuracy_score, f1_score

    if name == "accuracy":
        return accuracy_score
    return lambda gold, pred: f1_score(gold, pred, labels=range(4), average="macro", zero_division=0)


def naive_paired(metric: Callable[[np.ndarray, np.ndarray], float], gold: np.ndarray, a: np.ndarray,
                 b: np.ndarray, samples: int, seed: int) -> tuple[float, float]:
    """Index-resampling paired bootstrap: the 95% percentile interval of metric(b) - metric(a)."""
    rng = np.random.default_rng(seed)
    deltas = np.empty(samples)
    for i in range(samples):
        idx = rng.integers(0, len(gold), len(gold))
        g = gold[idx]
        deltas[i] = metric(g, b[idx]) - metric(g, a[idx])
    low, high = np.quantile(deltas, [0.025, 0.975])
    return float(low), float(high)


def timed(fn: Callable[[], object], repeat: int = 1) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--naive-samples", type=int, default=10_000,
                        help="resamples actually run by the numpy loop (scaled to --samples if fewer)")
    parser.add_argument("--sklearn-samples", type=int, default=200,
                        help="resamples run by the scikit-learn loop, scaled to --samples")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    gold, a, b = systems(args.n, args.seed)
    print(f"n = {args.n:,} items, {args.samples:,} paired bootstrap resamples, 4 labels (FNC-1 shares)\n")
    print(f"{'metric':<10} {'JointSample':>17} {'numpy loop':>12} {'ratio':>8} {'sklearn loop':>14} {'ratio':>9}"
          f"   interval (fast | numpy loop)")
    for name in ("accuracy", "f1_macro"):
        fast_s, fast = timed(lambda: paired_bootstrap(name, gold, a, b, args.samples,
                                                      np.random.default_rng(args.seed)), repeat=3)
        loop_s, loop_ci = timed(lambda: naive_paired(numpy_metric(name), gold, a, b, args.naive_samples, args.seed))
        loop_s *= args.samples / args.naive_samples
        sk_s, _ = timed(lambda: naive_paired(sklearn_metric(name), gold, a, b, args.sklearn_samples, args.seed))
        sk_s *= args.samples / args.sklearn_samples
        scaled = "" if args.naive_samples == args.samples else "*"
        print(f"{name:<10} {fast_s:16.3f}s {loop_s:11.2f}s{scaled} {loop_s / fast_s:7.0f}x {sk_s:13.1f}s* "
              f"{sk_s / fast_s:8.0f}x   [{fast[0]:+.4f}, {fast[1]:+.4f}] | "
              f"[{loop_ci[0]:+.4f}, {loop_ci[1]:+.4f}]")
    print("\n* extrapolated linearly from fewer resamples")
    spec = BootstrapSpec(samples=args.samples)
    single_s, _ = timed(lambda: score_metrics(["accuracy", "f1_macro", "fnc1_score"], y_true=gold, y_pred=b,
                                              labels=FNC1_LABELS, bootstrap=spec, seed=args.seed), repeat=3)
    print(f"score_metrics(accuracy, f1_macro, fnc1_score) with {args.samples:,}-resample CIs, one system: "
          f"{single_s:.3f}s")


if __name__ == "__main__":
    main()
