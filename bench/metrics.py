"""Metric registry and scoring with bootstrap confidence intervals.

Conventions: ``labels`` is the ordered label tuple of the dataset; single-label ``y_true``
and ``y_pred`` are 1-D int arrays of indices into it; multi-label ones are 2-D 0/1
indicator arrays ``(n, n_labels)``; ``scores`` is ``(n, n_labels)`` or ``None``.

Every single-label metric except log loss and ROC AUC is written as a vectorised formula
of confusion counts ``(..., K, K)`` (rows true, columns predicted), so the bootstrap
evaluates thousands of resampled confusion matrices at once (see
``bench.stats.bootstrap``). Undefined ratios (a class never predicted or absent from a
resample) count as 0, like scikit-learn's ``zero_division=0``; balanced accuracy averages
over the classes present, like scikit-learn. Multi-label metrics are formulas of item
sums (true/false positives per label, exact matches) and are resampled with item weights.
The formulas are checked against scikit-learn in ``tests/test_metrics.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from bench.registry import Registry
from bench.stats import bootstrap as bs

FNC1_LABELS = ("agree", "disagree", "discuss", "unrelated")
STANCE_FAVOR_AGAINST = ("favor", "against")


@dataclass(frozen=True, kw_only=True)
class MetricSpec:
    """A metric and the facts needed to use it correctly.

    Exactly one way of computing is given per kind of task: ``from_confusion`` (single-label,
    counts ``(..., K, K)`` and labels -> values), ``from_scores`` (single-label, ``(y_true,
    scores)`` -> a function of item weights ``(c, n)``) and/or ``from_indicators``
    (multi-label, item sums ``(..., 3L+2)`` -> values).
    """

    name: str
    greater_is_better: bool
    needs_scores: bool = False
    multilabel: bool | None = None
    required_labels: tuple[str, ...] = ()
    exact_labels: bool = False          # labels must be exactly ``required_labels`` (any case, any order)
    task: str | None = None             # "stance": only meaningful for stance tasks
    per_class: bool = False             # one value per label, named ``<base>[<label>]``
    description: str = ""
    from_confusion: Callable[[np.ndarray, tuple[str, ...]], np.ndarray] | None = None
    from_scores: Callable[[np.ndarray, np.ndarray], Callable[[np.ndarray], np.ndarray]] | None = None
    from_indicators: Callable[[np.ndarray], np.ndarray] | None = None

    def __post_init__(self) -> None:
        single = self.from_confusion is not None or self.from_scores is not None
        multi = self.from_indicators is not None
        expected = None if single and multi else (True if multi else False)
        if expected != self.multilabel or self.needs_scores != (self.from_scores is not None):
            raise ValueError(f"metric {self.name!r}: multilabel/needs_scores do not match its formulas")

    def value_names(self, labels: Sequence[str]) -> list[str]:
        """Names of the values this metric produces (``f1[agree]``, ... for per-class ones)."""
        if not self.per_class:
            return [self.name]
        base = self.name.removesuffix("_per_class")
        return [f"{base}[{label}]" for label in labels]


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


# ---- formulas over confusion counts (..., K, K) and multi-label sums ---------------------

def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with 0 where ``den == 0`` (scikit-learn's ``zero_division=0``)."""
    num, den = np.broadcast_arrays(np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64))
    return np.divide(num, den, out=np.zeros(num.shape), where=den != 0)


def _tp_fp_fn(c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tp = np.diagonal(c, axis1=-2, axis2=-1)
    return tp, c.sum(axis=-2) - tp, c.sum(axis=-1) - tp


def _indicator_parts(s: np.ndarray) -> tuple[np.ndarray, ...]:
    """Split multi-label sums ``(..., 3L+2)`` into tp, fp, fn ``(..., L)``, exact, n."""
    n_labels = (s.shape[-1] - 2) // 3
    tp, fp, fn = (s[..., i * n_labels:(i + 1) * n_labels] for i in range(3))
    return tp, fp, fn, s[..., -2], s[..., -1]


def _prf(kind: str, average: str | None) -> Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """Precision, recall or F1 from per-class tp/fp/fn, averaged like scikit-learn."""

    def metric(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
        num, den = {"precision": (tp, tp + fp), "recall": (tp, tp + fn), "f1": (2 * tp, 2 * tp + fp + fn)}[kind]
        if average == "micro":
            return _div(num.sum(axis=-1), den.sum(axis=-1))
        per_class = _div(num, den)
        if average is None:
            return per_class
        if average == "macro":
            return per_class.mean(axis=-1)
        support = tp + fn
        return _div((per_class * support).sum(axis=-1), support.sum(axis=-1))

    return metric


def _accuracy(c: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    return _div(np.trace(c, axis1=-2, axis2=-1), c.sum(axis=(-2, -1)))


def _balanced_accuracy(c: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    tp, _, fn = _tp_fp_fn(c)
    support = tp + fn
    return _div((_div(tp, support)).sum(axis=-1), (support > 0).sum(axis=-1))


def _mcc(c: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    t, p = c.sum(axis=-1), c.sum(axis=-2)
    n, correct = c.sum(axis=(-2, -1)), np.trace(c, axis1=-2, axis2=-1)
    cov_tp = correct * n - (t * p).sum(axis=-1)
    cov_pp = n**2 - (p * p).sum(axis=-1)
    cov_tt = n**2 - (t * t).sum(axis=-1)
    return _div(cov_tp, np.sqrt(cov_tt * cov_pp))


def _cohen_kappa(c: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    n = c.sum(axis=(-2, -1))
    observed = _div(np.trace(c, axis1=-2, axis2=-1), n)
    expected = _div((c.sum(axis=-1) * c.sum(axis=-2)).sum(axis=-1), n**2)
    return _div(observed - expected, 1.0 - expected)


def _label_index(labels: tuple[str, ...], wanted: tuple[str, ...]) -> list[int]:
    lower = [label.lower() for label in labels]
    return [lower.index(w) for w in wanted]


def _fnc1(c: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """FNC-1 relative score: official points / points of a perfect prediction."""
    unrelated = _label_index(labels, ("unrelated",))[0]
    related = np.ones(len(labels), dtype=bool)
    related[unrelated] = False
    # 0.25 for a correct related/unrelated decision, +0.75 for the exact related class
    points = 0.25 * (related[:, None] == related[None, :]) + 0.75 * (np.eye(len(labels)) * related[:, None])
    best = np.where(related, 1.0, 0.25)
    return _div((c * points).sum(axis=(-2, -1)), (c.sum(axis=-1) * best).sum(axis=-1))


def _f_avg(c: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """SemEval-2016 F_avg: mean of F1(FAVOR) and F1(AGAINST), pooled over all items."""
    f1 = _prf("f1", None)(*_tp_fp_fn(c))
    return f1[..., _label_index(labels, STANCE_FAVOR_AGAINST)].mean(axis=-1)


def _log_loss(y_true: np.ndarray, scores: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    eps = np.finfo(np.float64).eps  # scikit-learn clips probabilities the same way
    losses = -np.log(np.clip(scores[np.arange(len(y_true)), y_true], eps, 1 - eps))
    return lambda w: _div(w @ losses, w.sum(axis=1))


def _roc_auc_ovr(y_true: np.ndarray, scores: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """One-vs-rest macro ROC AUC under item weights (Mann-Whitney with tied scores as 1/2).

    Classes absent from a (resampled) test set are left out of the mean; NaN if none is left.
    """
    prepared = []
    for k in range(scores.shape[1]):
        order = np.argsort(scores[:, k], kind="stable")
        ranked = scores[order, k]
        starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
        prepared.append((order, (y_true[order] == k).astype(np.float64), starts))

    def weighted(w: np.ndarray) -> np.ndarray:
        total, count = np.zeros(len(w)), np.zeros(len(w))
        for order, positive, starts in prepared:
            wo = w[:, order]
            pos = np.add.reduceat(wo * positive, starts, axis=1)
            neg = np.add.reduceat(wo * (1.0 - positive), starts, axis=1)
            below = np.cumsum(neg, axis=1) - neg
            den = pos.sum(axis=1) * neg.sum(axis=1)
            ok = den > 0
            total += np.where(ok, _div((pos * (below + 0.5 * neg)).sum(axis=1), den), 0.0)
            count += ok
        return np.where(count > 0, _div(total, count), np.nan)

    return weighted


def _hamming(s: np.ndarray) -> np.ndarray:
    tp, fp, fn, _, n = _indicator_parts(s)
    return _div((fp + fn).sum(axis=-1), n * tp.shape[-1])


def _subset_accuracy(s: np.ndarray) -> np.ndarray:
    _, _, _, exact, n = _indicator_parts(s)
    return _div(exact, n)


# ---- the registry ---------------------------------------------------------------------------

METRICS: Registry[MetricSpec] = Registry("metric")


def _add(spec: MetricSpec) -> MetricSpec:
    return METRICS.add(spec.name, spec)


_add(MetricSpec(name="accuracy", greater_is_better=True, multilabel=False, from_confusion=_accuracy,
                description="share of items predicted correctly"))
_add(MetricSpec(name="balanced_accuracy", greater_is_better=True, multilabel=False,
                from_confusion=_balanced_accuracy, description="mean recall over the classes present"))
_add(MetricSpec(name="mcc", greater_is_better=True, multilabel=False, from_confusion=_mcc,
                description="Matthews correlation coefficient (multi-class)"))
_add(MetricSpec(name="cohen_kappa", greater_is_better=True, multilabel=False, from_confusion=_cohen_kappa,
                description="Cohen's kappa between gold and predicted labels"))
_add(MetricSpec(name="fnc1_score", greater_is_better=True, multilabel=False, from_confusion=_fnc1,
                task="stance", required_labels=FNC1_LABELS, exact_labels=True,
                description="FNC-1 relative score (official scorer points / maximum)"))
_add(MetricSpec(name="f_avg", greater_is_better=True, multilabel=False, from_confusion=_f_avg,
                task="stance", required_labels=STANCE_FAVOR_AGAINST,
                description="SemEval-2016 F_avg: mean F1 of FAVOR and AGAINST"))
_add(MetricSpec(name="log_loss", greater_is_better=False, needs_scores=True, multilabel=False,
                from_scores=_log_loss, description="cross-entropy of the predicted probabilities"))
_add(MetricSpec(name="roc_auc", greater_is_better=True, needs_scores=True, multilabel=False,
                from_scores=_roc_auc_ovr, description="one-vs-rest macro ROC AUC"))
_add(MetricSpec(name="hamming_loss", greater_is_better=False, multilabel=True, from_indicators=_hamming,
                description="share of wrong label decisions"))
_add(MetricSpec(name="subset_accuracy", greater_is_better=True, multilabel=True,
                from_indicators=_subset_accuracy, description="share of items with exactly the gold label set"))

for _kind in ("precision", "recall", "f1"):
    for _average in ("macro", "micro", "weighted", None):
        _formula = _prf(_kind, _average)
        _add(MetricSpec(
            name=f"{_kind}_{_average or 'per_class'}", greater_is_better=True, per_class=_average is None,
            from_confusion=lambda c, labels, f=_formula: f(*_tp_fp_fn(c)),
            from_indicators=lambda s, f=_formula: f(*_indicator_parts(s)[:3]),
            description=f"{_kind} ({_average or 'one value per class'})"))


# ---- checking and scoring -------------------------------------------------------------------

def check_metric(name: str, *, task: str | None, multilabel: bool, labels: Sequence[str],
                 has_scores: bool) -> None:
    """Refuse a metric that cannot be computed or means nothing for this task.

    Raises:
        UnknownNameError: ``name`` is not registered (with suggestions).
        ValueError: ``"<problem>; <fix>"`` for misuse.
    """
    spec = METRICS.get(name)
    if spec.multilabel is True and not multilabel:
        raise ValueError(f"{name} is a multi-label metric but the dataset is single-label; "
                         "use accuracy or f1_macro")
    if spec.multilabel is False and multilabel:
        raise ValueError(f"{name} needs single-label predictions but the dataset is multi-label; "
                         "use subset_accuracy, hamming_loss, f1_micro or f1_macro")
    if spec.task is not None and task is not None and task != spec.task:
        raise ValueError(f"{name} is a {spec.task} metric but the task is {task}; use f1_macro or accuracy")
    lower = sorted(label.lower() for label in labels)
    missing = [r for r in spec.required_labels if r not in lower]
    if missing or (spec.exact_labels and lower != sorted(spec.required_labels)):
        need = "exactly" if spec.exact_labels else "at least"
        raise ValueError(f"{name} needs {need} the labels {', '.join(spec.required_labels)} (any case) "
                         f"but the dataset has {', '.join(labels)}; drop {name} for this dataset")
    if spec.needs_scores and not has_scores:
        raise ValueError(f"{name} needs per-class scores but the model gives none; "
                         "drop it or use a model with predict_proba or decision_function")


def _check_inputs(y_true: np.ndarray, y_pred: np.ndarray, labels: tuple[str, ...],
                  scores: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
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
        if y.size and (y.min() < 0 or y.max() >= high):
            raise ValueError(f"{name} has values outside 0..{high - 1}; encode labels as indices into labels")
    if scores is not None:
        scores = np.asarray(scores, dtype=np.float64)
        if scores.shape != (len(y_true), k) or not np.isfinite(scores).all():
            raise ValueError(f"scores must be finite with shape ({len(y_true)}, {k}), got {scores.shape}; "
                             "pass one score per item and label")
    return y_true.astype(np.int64), y_pred.astype(np.int64), scores


def _indicator_sums(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
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
        ValueError: bad arrays, or a metric that does not fit (see ``check_metric``).
    """
    labels = tuple(labels)
    y_true, y_pred, scores = _check_inputs(y_true, y_pred, labels, scores)
    multilabel = y_true.ndim == 2
    specs = [METRICS.get(name) for name in names]
    for spec in specs:
        check_metric(spec.name, task=None, multilabel=multilabel, labels=labels, has_scores=scores is not None)
    if any(s.name == "log_loss" for s in specs) and not (
            (scores >= 0).all() and np.allclose(scores.sum(axis=1), 1.0, atol=1e-6)):
        raise ValueError("log_loss needs class probabilities but the scores are not (rows must be >= 0 and "
                         "sum to 1); drop log_loss for this model or use roc_auc")
    confusion = [s for s in specs if not multilabel and s.from_confusion is not None]
    weighted = [s for s in specs if s not in confusion]
    estimates = {**_confusion_estimates(confusion, y_true, y_pred, labels, bootstrap, seed),
                 **_weighted_estimates(weighted, y_true, y_pred, scores, bootstrap, seed)}
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
    # one-cell-out jackknife: removing one item of a cell is the same for every item in it
    jack_counts = np.repeat(cells[None, :].astype(np.float64), len(nonzero), axis=0)
    jack_counts[np.arange(len(nonzero)), nonzero] -= 1
    out = {}
    for s in specs:
        jack = (s.from_confusion(jack_counts.reshape(-1, k, k), labels), cells[nonzero])
        out[s.name] = _Estimate(points[s.name], bs.interval(
            np.concatenate(draws[s.name]), points[s.name], bootstrap.confidence, bootstrap.method, jack))
    return out


def _weighted_estimates(specs: list[MetricSpec], y_true: np.ndarray, y_pred: np.ndarray,
                        scores: np.ndarray | None, bootstrap: BootstrapSpec | None,
                        seed: int) -> dict[str, _Estimate]:
    if not specs:
        return {}
    n = len(y_true)
    functions: dict[str, Callable[[np.ndarray], np.ndarray]] = {}
    if y_true.ndim == 2:
        sums = _indicator_sums(y_true, y_pred)
        for s in specs:
            functions[s.name] = lambda w, f=s.from_indicators: f(w @ sums)
    for s in specs:
        if s.from_scores is not None:
            functions[s.name] = s.from_scores(y_true, scores)
    points = {name: f(np.ones((1, n)))[0] for name, f in functions.items()}
    if bootstrap is None:
        return {name: _Estimate(p, None) for name, p in points.items()}
    draws: dict[str, list[np.ndarray]] = {name: [] for name in functions}
    rng = np.random.default_rng([seed, 1])
    for w in bs.item_weight_draws(n, bootstrap.samples, rng):
        for name, f in functions.items():
            draws[name].append(f(w))
    jack_chunks, sizes = bs.jackknife_weight_draws(n) if bootstrap.method == "bca" else (iter(()), None)
    jack: dict[str, list[np.ndarray]] = {name: [] for name in functions}
    for w in jack_chunks:
        for name, f in functions.items():
            jack[name].append(f(w))
    return {name: _Estimate(points[name], bs.interval(
        np.concatenate(draws[name]), points[name], bootstrap.confidence, bootstrap.method,
        (np.concatenate(jack[name]), sizes) if sizes is not None else None)) for name in functions}
