"""Scoring predictions: metric values with bootstrap confidence intervals over test items.

Items are grouped into cells of identical outcome: the (true, pred) pairs of a single-label
task, the distinct (true set, predicted set) patterns of a multi-label one. Every metric
except log loss and ROC AUC depends on the items only through the cell counts, so an item
bootstrap is a multinomial draw of those counts (exact in distribution, see
``bench.stats.bootstrap``), evaluated with vectorised formulas. Log loss and ROC AUC are
computed under item weights (index resampling, in bounded-memory chunks).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bench.config.spec import BootstrapSpec
from bench.metrics.catalog import METRICS, MetricSpec, check_metric
from bench.stats import bootstrap as bs


@dataclass(frozen=True)
class MetricValue:
    """One metric value with its bootstrap interval (``None`` without bootstrap) and ``n`` items.

    ``undefined`` counts the resamples where the metric had no value (NaN, e.g. ROC AUC with
    a class absent); they are left out of the interval, and the count says how many.
    """

    metric: str
    value: float
    ci_low: float | None
    ci_high: float | None
    n: int
    undefined: int = 0


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


def indicator_sums(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Per-item multi-label statistics ``(n, 3L+2)``: tp, fp, fn per label, exact match, 1."""
    t, p = y_true.astype(bool), y_pred.astype(bool)
    return np.hstack([t & p, ~t & p, t & ~p, (t == p).all(axis=1, keepdims=True),
                      np.ones((len(t), 1), dtype=bool)]).astype(np.float64)


MAX_CELLS = 1024  # above this many cells (multi-label patterns), resampling items beats a multinomial


@dataclass(frozen=True)
class Cells:
    """Test items grouped into cells of identical outcome, and the metric as a function of cell counts.

    Single-label: the observed (true, pred) pairs. Multi-label: the distinct (true set,
    predicted set) patterns. Any metric of these kinds depends on the items only through
    the cell counts, so a bootstrap may draw the counts instead of the items.
    """

    counts: np.ndarray     # (m,) items per cell
    member: np.ndarray     # (n,) the cell of each item
    evaluate: Callable[[MetricSpec, np.ndarray], np.ndarray]  # (spec, counts (c, m)) -> (c,) or (c, K)


def cells_of(y_true: np.ndarray, y_pred: np.ndarray, labels: tuple[str, ...]) -> Cells:
    """Group items by outcome (see ``Cells``); inputs as returned by ``check_inputs``."""
    k = len(labels)
    if y_true.ndim == 1:
        present, member, counts = np.unique(y_true * k + y_pred, return_inverse=True, return_counts=True)

        def confusion(spec: MetricSpec, rows: np.ndarray) -> np.ndarray:
            full = np.zeros((len(rows), k * k))
            full[:, present] = rows
            return spec.from_confusion(full.reshape(-1, k, k), labels)

        return Cells(counts, member.ravel(), confusion)
    patterns, member, counts = np.unique(np.hstack([y_true, y_pred]), axis=0, return_inverse=True,
                                         return_counts=True)
    sums = indicator_sums(patterns[:, :k], patterns[:, k:])
    # einsum, not ``@``: multi-threaded BLAS on this tall shape is erratic on a busy machine
    return Cells(counts, member.ravel(), lambda spec, rows: spec.from_indicators(np.einsum("cm,md->cd", rows, sums)))


def weight_function(spec: MetricSpec, *, y_true: np.ndarray, y_pred: np.ndarray, labels: tuple[str, ...],
                    scores: np.ndarray | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """The metric as a function of item weights ``(c, n)`` -> ``(c,)`` or ``(c, K)``.

    Weights are multiplicities (an index resample) or 0/1 (a jackknife); all ones gives the
    plain value. Works for every metric; weights are summed per cell where there are cells.
    """
    if spec.from_scores is not None and y_true.ndim == 1:
        return spec.from_scores(y_true, scores)
    cells = cells_of(y_true, y_pred, labels)
    order = np.argsort(cells.member, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(cells.member[order]) != 0])
    return lambda w: cells.evaluate(spec, np.add.reduceat(w[:, order], starts, axis=1))


@dataclass(frozen=True)
class _Estimate:
    point: np.ndarray
    interval: bs.Interval | None
    undefined: np.ndarray | None = None  # NaN draws per value


def _estimate(point: np.ndarray, draws: np.ndarray, bootstrap: BootstrapSpec,
              jackknife: tuple[np.ndarray, np.ndarray] | None) -> _Estimate:
    undefined = np.isnan(draws.reshape(len(draws), -1)).sum(axis=0)
    return _Estimate(point, bs.interval(draws, point, bootstrap.confidence, bootstrap.method, jackknife), undefined)


def score_metrics(names: Sequence[str], *, y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[str],
                  scores: np.ndarray | None = None, bootstrap: BootstrapSpec | None = None,
                  seed: int = 0) -> list[MetricValue]:
    """Compute metrics and, with ``bootstrap``, their confidence intervals over test items.

    Metrics of cell counts share one draw of the counts per resample; log loss and ROC AUC
    share one set of item weights. Each group has its own stream derived from ``seed``, so
    a metric's interval does not change when other metrics are added. With
    ``method="bca"``, the acceleration comes from a one-cell-out jackknife (exact
    leave-one-out) or, for weighted metrics, a 200-group jackknife.

    Raises:
        UnknownNameError: a name that is not registered.
        ValueError: bad arrays, or a metric that does not fit (see ``check_metric``).
    """
    labels = tuple(labels)
    y_true, y_pred, scores = check_inputs(y_true, y_pred, labels, scores)
    multilabel = y_true.ndim == 2
    specs = [METRICS.get(name) for name in names]
    check_usable(specs, multilabel=multilabel, labels=labels, scores=scores)
    cells = cells_of(y_true, y_pred, labels)
    by_cells = [s for s in specs if s.from_scores is None or multilabel]
    weighted = {s.name: weight_function(s, y_true=y_true, y_pred=y_pred, labels=labels, scores=scores)
                for s in specs if s not in by_cells}
    estimates = {**_cell_estimates(by_cells, cells, bootstrap, seed),
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
            undefined = 0 if est.undefined is None else int(est.undefined[j])
            out.append(MetricValue(name, value, low, high, len(y_true), undefined))
    return out


def _cell_estimates(specs: list[MetricSpec], cells: Cells, bootstrap: BootstrapSpec | None,
                    seed: int) -> dict[str, _Estimate]:
    if not specs:
        return {}
    observed = cells.counts[None, :].astype(np.float64)
    points = {s.name: cells.evaluate(s, observed)[0] for s in specs}
    if bootstrap is None:
        return {name: _Estimate(p, None) for name, p in points.items()}
    draws: dict[str, list[np.ndarray]] = {s.name: [] for s in specs}
    rng = np.random.default_rng([seed, 0])
    m = len(cells.counts)
    chunks = (bs.cell_count_draws(cells.counts, bootstrap.samples, rng, width=4 * m) if m <= MAX_CELLS
              else bs.cell_count_draws_by_index(cells.member, m, bootstrap.samples, rng))
    for chunk in chunks:
        for s in specs:
            draws[s.name].append(cells.evaluate(s, chunk))
    jack = _cell_jackknife(specs, cells) if bootstrap.method == "bca" else dict.fromkeys(points)
    return {s.name: _estimate(points[s.name], np.concatenate(draws[s.name]), bootstrap, jack[s.name]) for s in specs}


def _cell_jackknife(specs: list[MetricSpec], cells: Cells) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Jackknife values for BCa, and how many items each stands for.

    With few cells, one-cell-out (exact leave-one-out: removing any item of a cell gives the
    same counts); with many, leave-one-group-out over 200 groups of items (by position).
    """
    m, observed = len(cells.counts), cells.counts.astype(np.float64)
    if m <= MAX_CELLS:
        removed, weights = np.eye(m), observed
    else:
        group = np.arange(len(cells.member)) % 200
        removed = np.zeros((200, m))
        np.add.at(removed, (group, cells.member), 1.0)
        weights = np.bincount(group, minlength=200).astype(np.float64)
    parts: dict[str, list[np.ndarray]] = {s.name: [] for s in specs}
    for start in range(0, len(removed), 256):
        rows = observed[None, :] - removed[start:start + 256]
        for s in specs:
            parts[s.name].append(cells.evaluate(s, rows))
    return {name: (np.concatenate(values), weights) for name, values in parts.items()}


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
    return {name: _estimate(points[name], np.concatenate(draws[name]), bootstrap, jack[name]) for name in functions}
