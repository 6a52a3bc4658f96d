"""The approximate randomization (paired permutation) test of a metric between two systems.

The paired bootstrap is not here: ``bench.metrics.joint.JointSample`` is the one engine,
for ``bench compare`` and for everything else.

``delta`` is always ``metric(B) - metric(A)``: with A the baseline, a positive delta is an
improvement for metrics where greater is better. Every function takes an explicit
``rng: np.random.Generator``.

For confusion-count metrics, a random swap of the two systems' outputs moves a
Binomial(m, 1/2) share of each (true, pred_a, pred_b) cell to its mirror cell: exact in
distribution, at no cost per item. Other metrics (scores, multi-label) swap items one by
one. It lives with the metrics because each round re-scores a metric; McNemar's test,
which knows no metric, is in ``bench.stats``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bench.metrics import scoring
from bench.metrics.catalog import METRICS, MetricSpec


@dataclass(frozen=True)
class RandomizationResult:
    """Approximate randomization test of ``metric(B) - metric(A)``."""

    metric: str
    delta: float
    p_value: float
    samples: int
    n: int


@dataclass(frozen=True)
class _Pair:
    """Two systems' outputs on the same items, validated, with the metric to compare."""

    spec: MetricSpec
    labels: tuple[str, ...]
    y_true: np.ndarray
    pred_a: np.ndarray
    pred_b: np.ndarray
    scores_a: np.ndarray | None
    scores_b: np.ndarray | None

    @property
    def by_cells(self) -> bool:
        return self.y_true.ndim == 1 and self.spec.from_confusion is not None

    def cells(self) -> np.ndarray:
        """Counts of the (true, pred_a, pred_b) cells, flat ``K**3``."""
        k = len(self.labels)
        return np.bincount((self.y_true * k + self.pred_a) * k + self.pred_b, minlength=k**3)

    def delta_of_cells(self, counts: np.ndarray, present: np.ndarray) -> np.ndarray:
        """``metric(B) - metric(A)`` for rows of counts over the ``present`` cells."""
        k = len(self.labels)
        t, a, b = present // (k * k), (present // k) % k, present % k
        to_a, to_b = np.zeros((len(present), k * k)), np.zeros((len(present), k * k))
        to_a[np.arange(len(present)), t * k + a] = 1.0
        to_b[np.arange(len(present)), t * k + b] = 1.0
        f = self.spec.from_confusion
        return f((counts @ to_b).reshape(-1, k, k), self.labels) - f((counts @ to_a).reshape(-1, k, k), self.labels)

    def weight_functions(self, pred_a: np.ndarray | None = None, pred_b: np.ndarray | None = None,
                         scores_a: np.ndarray | None = None,
                         scores_b: np.ndarray | None = None) -> tuple[Callable, Callable]:
        """The metric of A and of B as functions of item weights (see ``weight_function``)."""
        def make(pred: np.ndarray, scores: np.ndarray | None) -> Callable[[np.ndarray], np.ndarray]:
            return scoring.weight_function(self.spec, y_true=self.y_true, y_pred=pred, labels=self.labels,
                                           scores=scores)
        return (make(self.pred_a if pred_a is None else pred_a, self.scores_a if scores_a is None else scores_a),
                make(self.pred_b if pred_b is None else pred_b, self.scores_b if scores_b is None else scores_b))


def _pair(metric: str | MetricSpec, y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray,
          labels: tuple[str, ...] | list[str], scores_a: np.ndarray | None, scores_b: np.ndarray | None,
          rng: np.random.Generator | None, samples: int, confidence: float = 0.95) -> _Pair:
    if rng is None:
        raise ValueError("rng is required; pass np.random.default_rng(seed)")
    if samples < 1 or not 0.0 < confidence < 1.0:
        raise ValueError(f"samples must be >= 1 and confidence between 0 and 1, got {samples} and {confidence}; "
                         "e.g. 10000 and 0.95")
    spec = METRICS.get(metric) if isinstance(metric, str) else metric
    if spec.per_class:
        raise ValueError(f"{spec.name} gives one value per class; compare a single-value metric such as f1_macro")
    labels = tuple(labels)
    y_true, pred_a, scores_a = scoring.check_inputs(y_true, pred_a, labels, scores_a)
    _, pred_b, scores_b = scoring.check_inputs(y_true, pred_b, labels, scores_b)
    for scores in (scores_a, scores_b):
        scoring.check_usable([spec], multilabel=y_true.ndim == 2, labels=labels, scores=scores)
    return _Pair(spec, labels, y_true, pred_a, pred_b, scores_a, scores_b)


def _values(pair: _Pair) -> tuple[float, float]:
    fa, fb = pair.weight_functions()
    ones = np.ones((1, len(pair.y_true)))
    return float(fa(ones)[0]), float(fb(ones)[0])


def approximate_randomization(metric: str | MetricSpec, y_true: np.ndarray, pred_a: np.ndarray,
                              pred_b: np.ndarray, labels: tuple[str, ...] | list[str], samples: int = 10_000,
                              rng: np.random.Generator | None = None, *, scores_a: np.ndarray | None = None,
                              scores_b: np.ndarray | None = None) -> RandomizationResult:
    """Approximate randomization (paired permutation) test of the metric difference.

    Each round swaps the two systems' outputs on each item with probability 1/2 and
    recomputes ``|metric(B) - metric(A)|``; ``p = (1 + #{|d_r| >= |d|}) / (R + 1)``
    (Noreen 1989; the +1 counts the observed assignment, so p is never 0).

    Raises:
        ValueError: mismatched arrays or a metric that does not fit.
    """
    pair = _pair(metric, y_true, pred_a, pred_b, labels, scores_a, scores_b, rng, samples)
    n = len(pair.y_true)
    if pair.by_cells:
        draws = _randomized_cell_deltas(pair, samples, rng)
    else:
        draws = np.array([_swapped_delta(pair, rng.random(n) < 0.5) for _ in range(samples)])
    value_a, value_b = _values(pair)
    observed = value_b - value_a
    hits = np.count_nonzero(np.abs(draws) >= abs(observed) - 1e-12)
    return RandomizationResult(pair.spec.name, observed, float((1 + hits) / (samples + 1)), samples, n)


def _randomized_cell_deltas(pair: _Pair, samples: int, rng: np.random.Generator) -> np.ndarray:
    """Deltas under random swaps, drawn per cell: Binomial(m, 1/2) of a cell's items move to its mirror."""
    k = len(pair.labels)
    cells = pair.cells()
    present = np.flatnonzero(cells)
    t, a, b = present // (k * k), (present // k) % k, present % k
    mirror = (t * k + b) * k + a
    columns = np.union1d(present, mirror)
    at_cell, at_mirror = np.searchsorted(columns, present), np.searchsorted(columns, mirror)
    m = cells[present].astype(np.float64)
    chunk = max(1, min(samples, (1 << 21) // max(2 * k * k, len(columns))))
    out = []
    for start in range(0, samples, chunk):
        size = min(chunk, samples - start)
        swapped = rng.binomial(cells[present][None, :], 0.5, size=(size, len(present))).astype(np.float64)
        counts = np.zeros((size, len(columns)))
        counts[:, at_cell] += m - swapped
        counts[:, at_mirror] += swapped  # mirroring is one-to-one, so no index repeats
        out.append(pair.delta_of_cells(counts, columns))
    return np.concatenate(out)


def _swapped_delta(pair: _Pair, swap: np.ndarray) -> float:
    def mixed(x: np.ndarray | None, y: np.ndarray | None) -> np.ndarray | None:
        if x is None:
            return None
        shape = (-1,) + (1,) * (x.ndim - 1)
        return np.where(swap.reshape(shape), y, x)

    fa, fb = pair.weight_functions(mixed(pair.pred_a, pair.pred_b), mixed(pair.pred_b, pair.pred_a),
                                   mixed(pair.scores_a, pair.scores_b), mixed(pair.scores_b, pair.scores_a))
    ones = np.ones((1, len(pair.y_true)))
    return float(fb(ones)[0] - fa(ones)[0])
