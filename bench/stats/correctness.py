"""McNemar's test: do two systems differ in which items they get right?

It counts per-item correctness only, so it knows nothing of metrics; the metric-aware
paired tests (bootstrap, approximate randomization) are in ``bench.metrics.paired``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EXACT_MCNEMAR_BELOW = 25


@dataclass(frozen=True)
class McNemarResult:
    """McNemar's test; ``n01``: A wrong and B right, ``n10``: A right and B wrong."""

    statistic: float
    p_value: float
    n01: int
    n10: int
    method: str  # "exact" (binomial) or "chi2" (with continuity correction)


def mcnemar(a_correct: np.ndarray, b_correct: np.ndarray) -> McNemarResult:
    """McNemar's test on per-item correctness of two systems.

    Exact two-sided binomial test (``scipy.stats.binomtest``) when fewer than 25 items are
    discordant; otherwise chi-square with continuity correction,
    ``(|n01 - n10| - 1)^2 / (n01 + n10)`` on 1 degree of freedom. No discordant item: p = 1.

    Raises:
        ValueError: arrays of different length or not boolean-like.
    """
    from scipy import stats

    a, b = np.asarray(a_correct), np.asarray(b_correct)
    if a.shape != b.shape or a.ndim != 1 or not all(np.isin(x, (0, 1)).all() for x in (a, b)):
        raise ValueError(f"a_correct {a.shape} and b_correct {b.shape} must be 1-D 0/1 arrays of the same "
                         "length; pass per-item correctness of each system on the same items")
    a, b = a.astype(bool), b.astype(bool)
    n01, n10 = int(np.count_nonzero(~a & b)), int(np.count_nonzero(a & ~b))
    discordant = n01 + n10
    if discordant == 0:
        return McNemarResult(0.0, 1.0, n01, n10, "exact")
    if discordant < EXACT_MCNEMAR_BELOW:
        p = stats.binomtest(n10, discordant, 0.5).pvalue
        return McNemarResult(float(min(n01, n10)), float(p), n01, n10, "exact")
    statistic = (abs(n01 - n10) - 1.0) ** 2 / discordant
    return McNemarResult(statistic, float(stats.chi2.sf(statistic, 1)), n01, n10, "chi2")
