"""Coverage of newsbench's bootstrap confidence intervals on simulated classifiers.

A classifier is a known joint distribution of (gold, predicted) labels (an infinitely large
population): its true accuracy, macro-F1 and FNC-1 score are the metrics of that
distribution. We draw ``--reps`` test sets of ``--n`` items, compute 95% intervals with
``bench.metrics.score_metrics`` (percentile and BCa), and count how often they contain the
truth. A well-calibrated 95% interval covers 93-97% of the time (the Monte Carlo standard
error of a coverage estimate over 1,000 test sets is about 0.7 points).

The second part is the interval of a *seed mean* (``bench show``, ``bench compare``): a
training recipe whose seed ``s`` has true accuracy ``base + u_s``, ``u_s ~ N(0, sd^2)``,
is trained with ``S`` seeds and scored on one test set; the target is the recipe's
expected accuracy ``base``. Seeds share most of their errors (a share ``--shared`` of the
items is equally hard for all of them), as real seeds do. We compare the seed-mean
interval of ``bench.metrics.joint`` (items and seeds) with the bracket ``bench show``
printed before it (the mean of the seeds' own item CIs).

    python benchmarks/ci_coverage.py [--reps 1000] [--n 500] [--samples 2000] [--part items|seeds|both]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

from bench.config.spec import BootstrapSpec
from bench.metrics import FNC1_LABELS, METRICS, score_metrics
from bench.metrics.joint import JointSample, resolve_metric
from bench.stats import bootstrap as bs

METRIC_NAMES = ("accuracy", "f1_macro", "fnc1_score")


@dataclass(frozen=True)
class Scenario:
    """A population: class shares and, per gold class, the distribution of predictions."""

    name: str
    priors: tuple[float, ...]
    rows: tuple[tuple[float, ...], ...]

    def joint(self) -> np.ndarray:
        """Joint probabilities of (gold, predicted), shape ``(K, K)``."""
        rows = np.array(self.rows)
        return np.array(self.priors)[:, None] * rows / rows.sum(axis=1, keepdims=True)


SCENARIOS = (
    # FNC-1-like: imbalanced, a rare and hard class (disagree, 5%), unrelated easy
    Scenario("fnc1-like, imbalanced", (0.15, 0.05, 0.22, 0.58),
             ((0.55, 0.05, 0.30, 0.10), (0.25, 0.30, 0.35, 0.10), (0.10, 0.02, 0.75, 0.13),
              (0.01, 0.00, 0.04, 0.95))),
    # four balanced classes, a middling classifier
    Scenario("balanced, 70% accurate", (0.25, 0.25, 0.25, 0.25),
             ((0.70, 0.10, 0.10, 0.10), (0.15, 0.65, 0.10, 0.10), (0.05, 0.10, 0.75, 0.10),
              (0.10, 0.10, 0.10, 0.70))),
)


def true_values(scenario: Scenario) -> dict[str, float]:
    """Population metrics: the formulas applied to the joint probabilities."""
    joint = scenario.joint()
    return {name: float(METRICS.get(name).from_confusion(joint, FNC1_LABELS)) for name in METRIC_NAMES}


def simulate(scenario: Scenario, reps: int, n: int, samples: int, method: str, seed: int) -> dict[str, dict]:
    """Coverage, mean width and mean point estimate of each metric over ``reps`` test sets."""
    rng = np.random.default_rng(seed)
    truth = true_values(scenario)
    k = len(scenario.priors)
    flat = scenario.joint().ravel()
    hits = {name: 0 for name in METRIC_NAMES}
    widths = {name: 0.0 for name in METRIC_NAMES}
    points = {name: 0.0 for name in METRIC_NAMES}
    spec = BootstrapSpec(samples=samples, confidence=0.95, method=method)
    for rep in range(reps):
        cells = rng.choice(k * k, size=n, p=flat)  # n items drawn from the population
        values = score_metrics(METRIC_NAMES, y_true=cells // k, y_pred=cells % k, labels=FNC1_LABELS,
                               bootstrap=spec, seed=rep)
        for v in values:
            hits[v.metric] += v.ci_low <= truth[v.metric] <= v.ci_high
            widths[v.metric] += v.ci_high - v.ci_low
            points[v.metric] += v.value
    return {name: {"truth": truth[name], "coverage": hits[name] / reps, "width": widths[name] / reps,
                   "bias": points[name] / reps - truth[name]} for name in METRIC_NAMES}


@dataclass(frozen=True)
class Seeds:
    """One recipe's seeds on one test set, shaped as ``bench.metrics.joint`` reads them."""

    gold: np.ndarray
    preds: np.ndarray
    labels: tuple[str, ...] = FNC1_LABELS
    multilabel: bool = False
    scores: None = None

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(range(len(self.preds)))

    @property
    def n_items(self) -> int:
        return len(self.gold)


def recipe(rng: np.random.Generator, n: int, n_seeds: int, seed_sd: float, base: float, shared: float) -> Seeds:
    """``n_seeds`` seeds of a recipe on ``n`` fresh items; seed ``s`` is right with probability ``base + u_s``."""
    gold = rng.integers(0, 4, n)
    difficulty, is_shared = rng.random(n), rng.random(n) < shared
    preds = []
    for _ in range(n_seeds):
        accuracy = base + seed_sd * rng.standard_normal()
        right = np.where(is_shared, difficulty, rng.random(n)) < accuracy
        preds.append(np.where(right, gold, (gold + rng.integers(1, 4, n)) % 4))
    return Seeds(gold, np.stack(preds))


def simulate_seed_mean(reps: int, n: int, samples: int, n_seeds: int, seed_sd: float, seed: int,
                       base: float = 0.7, shared: float = 0.7) -> dict[str, float]:
    """Coverage of the seed-mean interval (items and seeds) and of the old bracket (mean of per-seed CIs)."""
    rng = np.random.default_rng([seed, n_seeds, int(seed_sd * 1e4)])
    ref, spec = resolve_metric("accuracy"), BootstrapSpec(samples=samples, confidence=0.95)
    hits = old_hits = 0
    width = old_width = share = 0.0
    for rep in range(reps):
        system = recipe(rng, n, n_seeds, seed_sd, base, shared)
        aware = JointSample([system], ref).seed_aware(samples, np.random.default_rng(rep), [1.0])
        ci = bs.interval(aware.draws, np.asarray(aware.point), 0.95)
        hits += float(ci.low) <= base <= float(ci.high)
        width += float(ci.high - ci.low)
        share += aware.seed_share
        bounds = np.array([[v.ci_low, v.ci_high] for s, pred in enumerate(system.preds) for v in
                           score_metrics(["accuracy"], y_true=system.gold, y_pred=pred, labels=FNC1_LABELS,
                                         bootstrap=spec, seed=rep * 100 + s)]).mean(axis=0)
        old_hits += bounds[0] <= base <= bounds[1]
        old_width += bounds[1] - bounds[0]
    return {"coverage": hits / reps, "width": width / reps, "old_coverage": old_hits / reps,
            "old_width": old_width / reps, "seed_share": share / reps}


def seed_mean_part(args: argparse.Namespace) -> None:
    print(f"\nseed means: {args.reps} test sets of {args.n} items per row, 4 balanced labels, accuracy 0.70, "
          f"{args.shared:.0%} of items shared by all seeds, {args.samples} resamples, nominal 95%\n")
    print(f"{'seeds':>5} {'seed sd':>8} {'seed share':>11} {'items+seeds':>12} {'width':>7} "
          f"{'old bracket':>12} {'width':>7}")
    for n_seeds in (3, 5, 10):
        for seed_sd in (0.0, 0.01, 0.02, 0.04):
            start = time.perf_counter()
            r = simulate_seed_mean(args.reps, args.n, args.samples, n_seeds, seed_sd, args.seed, shared=args.shared)
            flag = "" if 0.93 <= r["coverage"] <= 0.97 else "  <- outside 93-97%"
            print(f"{n_seeds:>5} {seed_sd:8.2f} {100 * r['seed_share']:10.0f}% {100 * r['coverage']:11.1f}% "
                  f"{r['width']:7.4f} {100 * r['old_coverage']:11.1f}% {r['old_width']:7.4f}{flag}"
                  f"   ({time.perf_counter() - start:.0f} s)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000, help="simulated test sets per scenario and method")
    parser.add_argument("--n", type=int, default=500, help="items per test set")
    parser.add_argument("--samples", type=int, default=2000, help="bootstrap resamples per interval")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--part", choices=("items", "seeds", "both"), default="both",
                        help="one-seed intervals of three metrics, seed-mean intervals, or both")
    parser.add_argument("--shared", type=float, default=0.7, help="share of items equally hard for every seed")
    args = parser.parse_args()
    if args.part != "items":
        seed_mean_part(args)
    if args.part == "seeds":
        return
    se = 100 * np.sqrt(0.95 * 0.05 / args.reps)
    print(f"{args.reps} test sets of {args.n} items per row, {args.samples} bootstrap resamples, "
          f"nominal 95% (Monte Carlo s.e. of coverage ~{se:.1f} points)\n")
    print(f"{'scenario':<24} {'method':<10} {'metric':<11} {'truth':>7} {'coverage':>9} {'width':>7} {'bias':>8}")
    for scenario in SCENARIOS:
        for method in ("percentile", "bca"):
            start = time.perf_counter()
            result = simulate(scenario, args.reps, args.n, args.samples, method, args.seed)
            seconds = time.perf_counter() - start
            for name, r in result.items():
                flag = "" if 0.93 <= r["coverage"] <= 0.97 else "  <- outside 93-97%"
                print(f"{scenario.name:<24} {method:<10} {name:<11} {r['truth']:7.4f} {100 * r['coverage']:8.1f}% "
                      f"{r['width']:7.4f} {r['bias']:+8.4f}{flag}")
            print(f"{'':<24} {method:<10} ({seconds:.1f} s for {args.reps} test sets)")


if __name__ == "__main__":
    main()
