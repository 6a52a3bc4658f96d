"""Scoring predictions: metric values with bootstrap confidence intervals over test items.

Confusion-count metrics share one multinomial draw of the observed (true, pred) cells per
resample (exactly an item bootstrap, see ``bench.stats.bootstrap``); the other metrics
(scores, multi-label) share one set of item weights.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from bench.metrics.catalog import METRICS, MetricSpec, check_metric
from bench.stats import bootstrap as bs


@dataclass(frozen=True)
class MetricValue:
    """One metric value with its bootstrap interval (``None`` without bootstrap) and ``n`` items."""

    metric: str
    value: float
    ci_low: float | None
    ci_high: float | None
    n: int


@dataclass(frozen=True, kw_only=True)
class BootstrapSpec:
    """How to bootstrap confidence intervals (the ``evaluation.bootstrap`` config block)."""

    samples: int = 1000
    confidence: float = 0.95
    method: Literal["percentile", "bca"] = "percentile"

    def __post_init__(self) -> None:
        if self.samples < 1:
            raise ValueError(f"samples: must be at least 1, got {self.samples}; 1000 is usual")
        if not 0.0 < self.confidence < 1.0:
            raise ValueError(f"confidence: must be between 0 and 1, got {self.confidence}; e.g. 0.95")
        if self.method not in bs.METHODS:
            raise ValueError(f"method: unknown {self.method!r}; use one of {', '.join(bs.METHODS)}")


def check_inputs(y_true: np.ndarray, y_pred: np.ndarray, labels: tuple[str, ...],
                 scores: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate and normalise prediction arrays (int64 labels, float64 scores).

    Raises:
        ValueError: ``"<problem>; <fix>"`` for wrong shapes, types or out-of-range values.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    k = len(labels)
    if y_true.shape != y_pred.shape or y_true.ndim not in (1, 2) or len(y_true) == 0:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} must have the same non-empty "
                         "shape (n,) or (n, n_labels); pass one prediction per test item")
    if y_true.ndim == 2 and y_true.shape[1] != k:
        raise ValueError(f"indicator arrays have {y_true.shape[1]} columns for {k} labels; pass one per label")
    high = 2 if y_true.ndim == 2 else k
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if not np.issubdtype(y.dtype, np.integer) and not np.issubdtype(y.dtype, np.bool_):
            raise ValueError(f"{name} must hold integers, got {y.dtype}; encode labels as indices")
        if y.min() < 0 or y.max() >= high:
            raise ValueError(f"{name} has values outside 0..{high - 1}; encode labels as indices into labels")
    if scores is not None:
        scores = np.asarray(scores, dtype=np.float64)
        if scores.shape != (len(y_true), k) or not np.isfinite(scores).all():
            raise ValueError(f"scores must be finite with shape ({len(y_true)}, {k}), got {scores.shape}; "
                             "pass one score per item and label")
    return y_true.astype(np.int64), y_pred.astype(np.int64), scores


def check_usable(specs: Sequence[MetricSpec], *, multilabel: bool, labels: tuple[str, ...],
                 scores: np.ndarray | None) -> None:
    """``check_metric`` for each spec, plus: log loss needs probabilities, not decision values."""
    for spec in specs:
        check_metric(spec.name, task=None, multilabel=multilabel, labels=labels, has_scores=scores is not None)
        if spec.name == "log_loss" and not ((scores >= 0).all() and np.allclose(scores.sum(axis=1), 1.0,
                                                                               atol=1e-6)):
            raise ValueError("log_loss needs class probabilities but the scores are not (rows must be >= 0 "
                             "and sum to 1); drop log_loss for this model or use roc_auc")


def weight_function(spec: MetricSpec, *, y_true: np.ndarray, y_pred: np.ndarray, labels: tuple[str, ...],
                    scores: np.ndarray | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """The metric as a function of item weights ``(c, n)`` -> ``(c,)`` or ``(c, K)``.

    Weights are multiplicities (an index resample) or 0/1 (a jackknife); all ones gives the
    plain value. Works for every metric; confusion metrics are faster through their cells.
    """
    if y_true.ndim == 2:
        sums = indicator_sums(y_true, y_pred)
        return lambda w: spec.from_indicators(w @ sums)
    if spec.from_scores is not None:
        return spec.from_scores(y_true, scores)
    k = len(labels)
    cell = y_true * k + y_pred
    order = np.argsort(cell, kind="stable")
    starts = np.flatnonzero(np.r_[True, cell[order][1:] != cell[order][:-1]])
    present = cell[order][starts]

    def weighted(w: np.ndarray) -> np.ndarray:
        counts = np.zeros((len(w), k * k))
        counts[:, present] = np.add.reduceat(w[:, order], starts, axis=1)
        return spec.from_confusion(counts.reshape(-1, k, k), labels)

    return weighted


def indicator_sums(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Per-item multi-label statistics ``(n, 3L+2)``: tp, fp, fn per label, exact match, 1."""
    t, p = y_true.astype(bool), y_pred.astype(bool)
    return np.hstack([t & p, ~t & p, t & ~p, (t == p).all(axis=1, keepdims=True),
                      np.ones((len(t), 1), dtype=bool)]).astype(np.float64)


@dataclass(frozen=True)
class _Estimate:
    point: np.ndarray
    interval: bs.Interval | None


def score_metrics(names: Sequence[str], *, y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[str],
                  scores: np.ndarray | None = None, bootstrap: BootstrapSpec | None = None,
                  seed: int = 0) -> list[MetricValue]:
    """Compute metrics and, with ``bootstrap``, their confidence intervals over test items.

    Confusion-count metrics share one multinomial draw per resample; the other metrics
    share one set of item weights. Each group has its own stream derived from ``seed``,
    so a metric's interval does not change when other metrics are added.

    Raises:
        UnknownNameError: a name that is not registered.
        ValueError: bad arrays, or a metric that does not fit (see ``check_metric``).
    """
    labels = tuple(labels)
    y_true, y_pred, scores = check_inputs(y_true, y_pred, labels, scores)
    multilabel = y_true.ndim == 2
    specs = [METRICS.get(name) for name in names]
    check_usable(specs, multilabel=multilabel, labels=labels, scores=scores)
    confusion = [s for s in specs if not multilabel and s.from_confusion is not None]
    weighted = {s.name: weight_function(s, y_true=y_true, y_pred=y_pred, labels=labels, scores=scores)
                for s in specs if s not in confusion}
    estimates = {**_confusion_estimates(confusion, y_true, y_pred, labels, bootstrap, seed),
                 **_weighted_estimates(weighted, len(y_true), bootstrap, seed)}
    out = []
    for spec in specs:
        est = estimates[spec.name]
        for j, name in enumerate(spec.value_names(labels)):
            value = float(np.ravel(est.point)[j])
            low = high = None
            if est.interval is not None:
                lo, hi = float(np.ravel(est.interval.low)[j]), float(np.ravel(est.interval.high)[j])
                low, high = (None, None) if np.isnan(lo) else (lo, hi)
            out.append(MetricValue(name, value, low, high, len(y_true)))
    return out


def _confusion_estimates(specs: list[MetricSpec], y_true: np.ndarray, y_pred: np.ndarray,
                         labels: tuple[str, ...], bootstrap: BootstrapSpec | None,
                         seed: int) -> dict[str, _Estimate]:
    if not specs:
        return {}
    k = len(labels)
    cells = np.bincount(y_true * k + y_pred, minlength=k * k)
    points = {s.name: s.from_confusion(cells.reshape(k, k).astype(np.float64), labels) for s in specs}
    if bootstrap is None:
        return {name: _Estimate(p, None) for name, p in points.items()}
    nonzero = np.flatnonzero(cells)
    draws: dict[str, list[np.ndarray]] = {s.name: [] for s in specs}
    rng = np.random.default_rng([seed, 0])
    for chunk in bs.cell_count_draws(cells[nonzero], bootstrap.samples, rng, width=k * k):
        full = np.zeros((len(chunk), k * k))
        full[:, nonzero] = chunk
        for s in specs:
            draws[s.name].append(s.from_confusion(full.reshape(-1, k, k), labels))
    # one-cell-out jackknife: removing any one item of a cell gives the same confusion matrix
    jack_counts = np.repeat(cells[None, :].astype(np.float64), len(nonzero), axis=0)
    jack_counts[np.arange(len(nonzero)), nonzero] -= 1
    out = {}
    for s in specs:
        jack = (s.from_confusion(jack_counts.reshape(-1, k, k), labels), cells[nonzero])
        out[s.name] = _Estimate(points[s.name], bs.interval(
            np.concatenate(draws[s.name]), points[s.name], bootstrap.confidence, bootstrap.method, jack))
    return out


def _weighted_estimates(functions: dict[str, Callable[[np.ndarray], np.ndarray]], n: int,
                        bootstrap: BootstrapSpec | None, seed: int) -> dict[str, _Estimate]:
    points = {name: f(np.ones((1, n)))[0] for name, f in functions.items()}
    if bootstrap is None or not functions:
        return {name: _Estimate(p, None) for name, p in points.items()}
    draws: dict[str, list[np.ndarray]] = {name: [] for name in functions}
    rng = np.random.default_rng([seed, 1])
    for w in bs.item_weight_draws(n, bootstrap.samples, rng):
        for name, f in functions.items():
            draws[name].append(f(w))
    jack: dict[str, tuple[np.ndarray, np.ndarray] | None] = dict.fromkeys(functions)
    if bootstrap.method == "bca":
        chunks, sizes = bs.jackknife_weight_draws(n)
        parts: dict[str, list[np.ndarray]] = {name: [] for name in functions}
        for w in chunks:
            for name, f in functions.items():
                parts[name].append(f(w))
        jack = {name: (np.concatenate(values), sizes) for name, values in parts.items()}
    return {name: _Estimate(points[name], bs.interval(np.concatenate(draws[name]), points[name],
                                                      bootstrap.confidence, bootstrap.method, jack[name]))
            for name in functions}
