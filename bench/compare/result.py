"""What a comparison computes: frozen, serialisable results that every renderer reads.

A ``Comparison`` is a table: rows are systems ``(dataset, features, model)``, columns are
runs. Each ``Cell`` holds the metric averaged over seeds with its bootstrap CI over test
items and, separately, the standard deviation across seeds: two different sources of
uncertainty, never merged. Each non-baseline ``Delta`` holds the difference to the
baseline run on the same items, its CI, the raw and corrected p-value and whether the
difference is significant after correction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Direction = Literal["better", "worse", "none"]


@dataclass(frozen=True, kw_only=True)
class CompareOptions:
    """How to compare: the metric, the test, the correction and the regression gate.

    Attributes:
        metric: metric name; ``None`` takes the baseline run's headline metric (``table.default_metric``).
        baseline: index of the baseline run in the list of runs.
        test: ``bootstrap`` (paired bootstrap of the metric difference, any metric),
            ``mcnemar`` (error rates) or ``permutation`` (approximate randomization).
        correction: ``holm`` (family-wise) or ``bh`` (false discovery rate), over every
            delta in the table.
        samples: bootstrap resamples (and permutation rounds).
        confidence: level of every CI.
        alpha: significance level after correction.
        min_effect: the gate fails only on drops larger than this (in metric units).
        seed: seed of every resampling, so that a comparison is reproducible.
        seed_variance: with several seeds, CIs, p-values and the gate cover training
            randomness as well as test items (``bench.stats.seeds``); ``False`` gives the
            item-only inference, conditional on the trained models (for comparison only:
            it trips the gate on seed noise, see benchmarks/gate_false_alarms.py).
    """

    metric: str | None = None
    baseline: int = 0
    test: Literal["bootstrap", "mcnemar", "permutation"] = "bootstrap"
    correction: Literal["holm", "bh"] = "holm"
    samples: int = 10_000
    confidence: float = 0.95
    alpha: float = 0.05
    min_effect: float = 0.0
    seed: int = 0
    seed_variance: bool = True


@dataclass(frozen=True, kw_only=True)
class Cell:
    """One system in one run.

    Attributes:
        value: the metric, mean over seeds.
        ci_low: lower end of the bootstrap CI over test items (of the seed mean).
        ci_high: upper end.
        seed_std: standard deviation across seeds (ddof=1), ``None`` with one seed.
        n_seeds: seeds averaged.
        n_items: test items.
        seed_values: the metric for each seed, in seed order.
        seed_share: share of the CI's variance due to seeds (0 with one seed; see
            ``bench.stats.seeds``).
    """

    value: float
    ci_low: float
    ci_high: float
    seed_std: float | None
    n_seeds: int
    n_items: int
    seed_values: tuple[float, ...]
    seed_share: float = 0.0


@dataclass(frozen=True, kw_only=True)
class Delta:
    """One run against the baseline run, for one system, on matched test items.

    Attributes:
        delta: metric(run) - metric(baseline), both seed means.
        ci_low: lower end of the paired bootstrap CI of ``delta``.
        ci_high: upper end.
        p_value: the test's raw two-sided p-value.
        p_adjusted: after the table-wide correction.
        significant: ``p_adjusted < alpha``.
        direction: ``better``/``worse`` when significant (in the metric's own sense),
            else ``none``.
        accuracy_delta: the accuracy difference on the same items (for the power check).
        discordance: share of items that exactly one of the two systems gets right.
        min_detectable: smallest accuracy difference McNemar detects here (alpha .05, power .8).
        seed_share: share of the delta's variance due to seeds (both sides'), 0 without seeds.
        identical: both runs make the same predictions (every seed, every item): no test
            (``p_value`` and ``p_adjusted`` are NaN) and not counted in the correction.
    """

    delta: float
    ci_low: float
    ci_high: float
    p_value: float
    p_adjusted: float
    significant: bool
    direction: Direction
    accuracy_delta: float
    discordance: float
    min_detectable: float
    seed_share: float = 0.0
    identical: bool = False


@dataclass(frozen=True, kw_only=True)
class Row:
    """One system ``(dataset, features, model)`` across the runs.

    Attributes:
        floor: the majority-class score on this test set, for context.
        floor_source: ``majority model`` when a run has a majority/dummy model on this
            dataset, else ``test majority class`` (computed from the gold labels, so an
            optimistic floor: a real majority baseline picks its class on train).
        cells: one per run, ``None`` where the run lacks the system.
        deltas: one per run, ``None`` for the baseline and where a side is missing.
    """

    dataset: str
    features: str
    model: str
    floor: float | None
    floor_source: str
    cells: tuple[Cell | None, ...]
    deltas: tuple[Delta | None, ...]


@dataclass(frozen=True, kw_only=True)
class Ranking:
    """Average ranks over datasets and the Friedman/Nemenyi test (Demsar 2006).

    Attributes:
        systems: system labels ``run:features/model``, in the order of ``average_ranks``.
        datasets: datasets every ranked system was scored on.
        average_ranks: rank 1 is best.
        friedman_statistic: Friedman chi-square.
        friedman_p: its p-value.
        iman_davenport_f: Iman-Davenport F (less conservative).
        iman_davenport_p: its p-value.
        critical_difference: Nemenyi CD at alpha 0.05; ranks closer than this are not
            distinguishable.
        tied_with_best: systems within the CD of the best average rank.
        left_out: systems left out because they miss a dataset.
        small_sample: fewer than ``min_reliable_datasets`` datasets: the chi-square
            approximation of the Friedman statistic is unreliable, so the Iman-Davenport F is
            the test to read (Demsar 2006, section 3.2.2).
        min_reliable_datasets: the number of datasets below which that holds.
    """

    systems: tuple[str, ...]
    datasets: tuple[str, ...]
    average_ranks: tuple[float, ...]
    friedman_statistic: float
    friedman_p: float
    iman_davenport_f: float
    iman_davenport_p: float
    critical_difference: float
    tied_with_best: tuple[str, ...]
    left_out: tuple[str, ...]
    small_sample: bool
    min_reliable_datasets: int


@dataclass(frozen=True, kw_only=True)
class PowerNote:
    """For one test set: the minimum detectable accuracy difference (McNemar, alpha .05, power .8).

    Attributes:
        dataset: the test set.
        n_items: its size.
        discordance: mean share of discordant items over the compared pairs that differ
            (0 when none does).
        min_detectable: the smallest accuracy difference detectable at that discordance.
        n_pairs: compared pairs that differ (the mean is over these).
        n_identical: compared pairs with identical predictions, left out of the mean.
    """

    dataset: str
    n_items: int
    discordance: float
    min_detectable: float
    n_pairs: int
    n_identical: int


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """A comparison table and everything shown around it.

    Attributes:
        metric: the metric compared.
        greater_is_better: its direction.
        runs: column labels, one per run.
        run_ids: run folder names, one per run.
        baseline: index of the baseline run.
        options: how the comparison was made.
        rows: one per system.
        ranking: set when >= 3 systems were scored on >= 3 datasets.
        power: one per test set.
        warnings: things the reader must know (claims below the detectable difference, ...).
        regressions: the deltas that fail the gate, described in one line each.
    """

    metric: str
    greater_is_better: bool
    runs: tuple[str, ...]
    run_ids: tuple[str, ...]
    baseline: int
    options: CompareOptions
    rows: tuple[Row, ...]
    ranking: Ranking | None
    power: tuple[PowerNote, ...]
    warnings: tuple[str, ...]
    regressions: tuple[str, ...]
    tuned: tuple[str, ...] = ()  # the parameters tuning chose, per run (bench.results.tuned)
