"""Vectorised metric formulas.

Single-label formulas take confusion counts ``(..., K, K)`` (rows true, columns predicted)
and the label tuple, and return ``(...)`` or ``(..., K)``: the bootstrap evaluates
thousands of resampled confusion matrices in one call. Undefined ratios (a class never
predicted, or absent from a resample) count as 0, like scikit-learn's ``zero_division=0``;
balanced accuracy averages over the classes present, like scikit-learn. Multi-label
formulas take item sums ``(..., 3L+2)`` (tp, fp, fn per label, exact matches, items).
Score-based ones return a function of item weights ``(c, n)``. All are checked against
scikit-learn in ``tests/test_metrics.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

STANCE_FAVOR_AGAINST = ("favor", "against")


def safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with 0 where ``den == 0`` (scikit-learn's ``zero_division=0``)."""
    num, den = np.broadcast_arrays(np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64))
    return np.divide(num, den, out=np.zeros(num.shape), where=den != 0)


def tp_fp_fn(c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True positives, false positives and false negatives per class, each ``(..., K)``."""
    tp = np.diagonal(c, axis1=-2, axis2=-1)
    return tp, c.sum(axis=-2) - tp, c.sum(axis=-1) - tp


def indicator_parts(s: np.ndarray) -> tuple[np.ndarray, ...]:
    """Split multi-label sums ``(..., 3L+2)`` into tp, fp, fn ``(..., L)``, exact, n."""
    n_labels = (s.shape[-1] - 2) // 3
    tp, fp, fn = (s[..., i * n_labels:(i + 1) * n_labels] for i in range(3))
    return tp, fp, fn, s[..., -2], s[..., -1]


def prf(kind: str, average: str | None) -> Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """Precision, recall or F1 from per-class tp/fp/fn, averaged like scikit-learn."""

    def metric(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
        num, den = {"precision": (tp, tp + fp), "recall": (tp, tp + fn), "f1": (2 * tp, 2 * tp + fp + fn)}[kind]
        if average == "micro":
            return safe_div(num.sum(axis=-1), den.sum(axis=-1))
        per_class = safe_div(num, den)
        if average is None:
            return per_class
        if average == "macro":
            return per_class.mean(axis=-1)
        support = tp + fn
        return safe_div((per_class * support).sum(axis=-1), support.sum(axis=-1))

    return metric


def accuracy(c: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """Share of counts on the diagonal."""
    return safe_div(np.trace(c, axis1=-2, axis2=-1), c.sum(axis=(-2, -1)))


def balanced_accuracy(c: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """Mean recall over the classes present in the gold labels (scikit-learn's definition)."""
    tp, _, fn = tp_fp_fn(c)
    support = tp + fn
    return safe_div((safe_div(tp, support)).sum(axis=-1), (support > 0).sum(axis=-1))


def mcc(c: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """Multi-class Matthews correlation (Gorodkin 2004), 0 when undefined, as in scikit-learn."""
    t, p = c.sum(axis=-1), c.sum(axis=-2)
    n, correct = c.sum(axis=(-2, -1)), np.trace(c, axis1=-2, axis2=-1)
    cov_tp = correct * n - (t * p).sum(axis=-1)
    cov_pp = n**2 - (p * p).sum(axis=-1)
    cov_tt = n**2 - (t * t).sum(axis=-1)
    return safe_div(cov_tp, np.sqrt(cov_tt * cov_pp))


def cohen_kappa(c: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """Cohen's kappa; 0 when undefined (one class everywhere), like ``replace_undefined_by=0``."""
    n = c.sum(axis=(-2, -1))
    observed = safe_div(np.trace(c, axis1=-2, axis2=-1), n)
    expected = safe_div((c.sum(axis=-1) * c.sum(axis=-2)).sum(axis=-1), n**2)
    return safe_div(observed - expected, 1.0 - expected)


def label_index(labels: tuple[str, ...], wanted: tuple[str, ...]) -> list[int]:
    """Positions of ``wanted`` (lower-case) names in ``labels``, matched case-insensitively."""
    lower = [label.lower() for label in labels]
    return [lower.index(w) for w in wanted]


def fnc1(c: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """FNC-1 relative score: official points / points of a perfect prediction."""
    unrelated = label_index(labels, ("unrelated",))[0]
    related = np.ones(len(labels), dtype=bool)
    related[unrelated] = False
    # 0.25 for a correct related/unrelated decision, +0.75 for the exact related class
    points = 0.25 * (related[:, None] == related[None, :]) + 0.75 * (np.eye(len(labels)) * related[:, None])
    best = np.where(related, 1.0, 0.25)
    return safe_div((c * points).sum(axis=(-2, -1)), (c.sum(axis=-1) * best).sum(axis=-1))


def f_avg(c: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """SemEval-2016 F_avg: mean of F1(FAVOR) and F1(AGAINST), pooled over all items."""
    f1 = prf("f1", None)(*tp_fp_fn(c))
    return f1[..., label_index(labels, STANCE_FAVOR_AGAINST)].mean(axis=-1)


def log_loss(y_true: np.ndarray, scores: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Mean negative log-probability of the gold class, as a function of item weights."""
    eps = np.finfo(np.float64).eps  # scikit-learn clips probabilities the same way
    losses = -np.log(np.clip(scores[np.arange(len(y_true)), y_true], eps, 1 - eps))
    # einsum, not ``@``: multi-threaded BLAS on this tall shape is erratic on a busy machine
    return lambda w: safe_div(np.einsum("cn,n->c", w, losses), w.sum(axis=1))


def roc_auc_ovr(y_true: np.ndarray, scores: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """One-vs-rest macro ROC AUC under item weights (Mann-Whitney with tied scores as 1/2).

    Per class, the negatives are sorted once; a positive's credit is the weight of the
    negatives scored below it (a cumulative sum), plus half of those tied with it. Classes
    absent from a (resampled) test set are left out of the mean; NaN if none is left.
    """
    prepared = []
    for k in range(scores.shape[1]):
        positive, negative = np.flatnonzero(y_true == k), np.flatnonzero(y_true != k)
        negative = negative[np.argsort(scores[negative, k], kind="stable")]
        ranked = scores[negative, k]
        below = np.searchsorted(ranked, scores[positive, k], side="left")
        upto = np.searchsorted(ranked, scores[positive, k], side="right")
        prepared.append((positive, negative, below, upto))

    def weighted(w: np.ndarray) -> np.ndarray:
        total, count = np.zeros(len(w)), np.zeros(len(w))
        for positive, negative, below, upto in prepared:
            cum = np.zeros((len(w), len(negative) + 1))
            np.cumsum(w[:, negative], axis=1, out=cum[:, 1:])
            lower, tied = cum[:, below], cum[:, upto] - cum[:, below]
            w_pos = w[:, positive]
            den = w_pos.sum(axis=1) * cum[:, -1]
            ok = den > 0
            total += np.where(ok, safe_div(np.einsum("cp,cp->c", w_pos, lower + 0.5 * tied), den), 0.0)
            count += ok
        return np.where(count > 0, safe_div(total, count), np.nan)

    return weighted


def hamming(s: np.ndarray) -> np.ndarray:
    """Share of wrong (item, label) decisions."""
    tp, fp, fn, _, n = indicator_parts(s)
    return safe_div((fp + fn).sum(axis=-1), n * tp.shape[-1])


def subset_accuracy(s: np.ndarray) -> np.ndarray:
    """Share of items whose predicted label set is exactly the gold one."""
    _, _, _, exact, n = indicator_parts(s)
    return safe_div(exact, n)
