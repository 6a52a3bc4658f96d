"""Ranking many models over many datasets: Friedman test and Nemenyi post-hoc (Demsar 2006)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class FriedmanResult:
    """Average ranks (1 = best) and the tests that say whether they differ.

    ``nemenyi_p[i][j]`` is the Nemenyi p-value between ``models[i]`` and ``models[j]``;
    ``tied_with_best`` are the models whose average rank is within the critical difference
    of the best one (the best included), i.e. not shown to be worse.
    """

    models: tuple[str, ...]
    average_ranks: tuple[float, ...]
    n_datasets: int
    friedman_statistic: float
    friedman_p: float
    iman_davenport_f: float
    iman_davenport_p: float
    alpha: float
    q_alpha: float
    critical_difference: float
    best: str
    tied_with_best: tuple[str, ...]
    nemenyi_p: tuple[tuple[float, ...], ...]


def friedman_nemenyi(scores: Any, greater_is_better: bool = True, alpha: float = 0.05) -> FriedmanResult:
    """Friedman test over a datasets x models score table, Iman-Davenport F, Nemenyi CD.

    Ranks are taken within each dataset (ties get the average rank). The Friedman
    chi-square comes from ``scipy.stats.friedmanchisquare`` (tie-corrected); Iman and
    Davenport's ``F = (N-1) chi2 / (N(k-1) - chi2)`` on ``(k-1, (k-1)(N-1))`` degrees of
    freedom is less conservative. The critical difference is
    ``q_alpha * sqrt(k(k+1) / (6N))`` with ``q_alpha = studentized_range.ppf(1-alpha, k, inf) / sqrt(2)``.

    Args:
        scores: a pandas DataFrame, rows datasets, columns models, one score per cell.
        greater_is_better: the metric's direction (rank 1 goes to the best score).
        alpha: significance level of the critical difference.

    Raises:
        ValueError: fewer than 3 models or 3 datasets, or a missing score.
    """
    from scipy import stats

    values = np.asarray(scores.to_numpy(), dtype=np.float64)
    models = tuple(str(c) for c in scores.columns)
    n, k = values.shape
    if k < 3 or n < 3:
        raise ValueError(f"the Friedman test needs at least 3 models on at least 3 datasets, got {k} models on "
                         f"{n} datasets; compare two models with a paired test instead")
    if not np.isfinite(values).all():
        row, col = np.argwhere(~np.isfinite(values))[0]
        raise ValueError(f"no score for model {models[col]!r} on dataset {scores.index[row]!r}; "
                         "run every model on every dataset")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}; e.g. 0.05")
    ranks = stats.rankdata(-values if greater_is_better else values, axis=1)
    average = ranks.mean(axis=0)
    chi2, p = stats.friedmanchisquare(*values.T)
    denominator = n * (k - 1) - chi2
    f_id = (n - 1) * chi2 / denominator if denominator > 0 else math.inf
    p_id = float(stats.f.sf(f_id, k - 1, (k - 1) * (n - 1))) if math.isfinite(f_id) else 0.0
    q_alpha = float(stats.studentized_range.ppf(1.0 - alpha, k, np.inf) / math.sqrt(2.0))
    se = math.sqrt(k * (k + 1) / (6.0 * n))
    cd = q_alpha * se
    best = int(np.argmin(average))
    tied = tuple(m for m, r in zip(models, average) if r - average[best] < cd)
    z = np.abs(average[:, None] - average[None, :]) / se
    pairwise = np.minimum(1.0, stats.studentized_range.sf(z * math.sqrt(2.0), k, np.inf))
    return FriedmanResult(
        models=models, average_ranks=tuple(float(r) for r in average), n_datasets=n,
        friedman_statistic=float(chi2), friedman_p=float(p), iman_davenport_f=float(f_id),
        iman_davenport_p=p_id, alpha=alpha, q_alpha=q_alpha, critical_difference=cd, best=models[best],
        tied_with_best=tied, nemenyi_p=tuple(tuple(float(x) for x in row) for row in pairwise))
