"""Items and seeds: the uncertainty of a seed mean (or of a difference of seed means).

A score averaged over ``S`` seeds on one test set moves for two reasons: which test items
were drawn (the item bootstrap measures it) and which seeds were trained (the seed-to-seed
spread measures it). Bouthillier et al. (2021, "Accounting for variance in machine learning
benchmarks", MLSys) show that leaving the second out makes differences look real that a
rerun with other seeds does not reproduce; Dror et al. (2019, ACL) make the same point
with score distributions over seeds.

The model: seed ``s`` scores ``m_s = mu + u_s + e_s`` with ``u_s`` the training effect
(variance ``sigma_u^2``) and ``e_s`` the test-set error. The spread of the ``m_s`` across
seeds holds ``sigma_u^2`` *plus* the part of the test-set error that differs between
seeds (seeds err on different items), which the item bootstrap already counts. So
``sigma_u^2`` is estimated by the method of moments: the sample variance of the seeds'
scores minus the mean variance across seeds of their bootstrap deviations (clipped at 0).
A seed mean then has seed variance ``sigma_u^2 / S``; a difference adds both sides'.

With 3 to 5 seeds a bootstrap over seeds badly under-covers (a resample of 3 values never
leaves their range). So each item draw gets a normal seed part ``sqrt(v_seed) * z``, and the
whole deviation from the point is scaled by ``sqrt(df / chi2_df)`` (one draw each: the sum
is Student's t on ``df`` degrees of freedom when the item part is normal). ``df`` is the
Welch-Satterthwaite degrees of freedom of the total variance ``v_item + v_seed``: the item
part counts as known, a seed part varies like the seeds' sample variance on ``S_i - 1``
degrees of freedom, so the tails are heavy when seeds dominate. The percentile interval and
the p-value come from these draws exactly as from item draws (``bench.stats.bootstrap``);
``benchmarks/ci_coverage.py`` measures the coverage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SeedAware:
    """Draws over items and seeds of ``sum_i w_i * seed mean_i``.

    Attributes:
        point: the statistic on the observed items and seeds.
        draws: ``(B,)`` item draws plus the seed part (NaN where the metric was undefined).
        item_draws: ``(B,)`` the item draws alone.
        item_var: variance of the item draws.
        seed_var: variance added by the seeds (0 with one seed per system, or seeds that agree).
        df: degrees of freedom of the seed part (``inf`` without one).
        seed_share: ``seed_var / (seed_var + item_var)``, the share of the variance due to seeds.
        undefined: item draws where the metric was undefined (NaN), left out of the interval.
        one_seed: systems with a single seed (their seed variance is unknown, counted as 0).
    """

    point: float
    draws: np.ndarray
    item_draws: np.ndarray
    item_var: float
    seed_var: float
    df: float
    seed_share: float
    undefined: int
    one_seed: tuple[int, ...]


def seed_variance(points: np.ndarray, deviations: np.ndarray) -> float:
    """Method-of-moments training variance ``sigma_u^2`` of one system (0 with one seed).

    Args:
        points: ``(S,)`` each seed's score on the observed items.
        deviations: ``(B, S)`` each seed's bootstrap score minus its observed score.
    """
    if len(points) < 2:
        return 0.0
    total = float(np.var(points, ddof=1))
    within = float(np.nanmean(np.var(deviations, axis=1, ddof=1)))
    return max(0.0, total - within) if np.isfinite(within) else total


def seed_aware(points: Sequence[np.ndarray], per_seed: Sequence[np.ndarray], weights: np.ndarray,
               rng: np.random.Generator) -> SeedAware:
    """Combine item draws and seed variance of ``sum_i weights[i] * mean_s(score_{i,s})``.

    Args:
        points: per system, ``(S_i,)`` each seed's score on the observed items.
        per_seed: per system, ``(B, S_i)`` each seed's score under the same ``B`` item resamples.
        weights: one per system, e.g. ``[1]`` for a cell or ``[-1, 1]`` for a delta.
        rng: draws the seed part, after the item draws (so it leaves them unchanged).
    """
    used = [i for i, w in enumerate(weights) if w != 0]
    point = float(sum(weights[i] * np.mean(points[i]) for i in used))
    item = np.sum([weights[i] * per_seed[i].mean(axis=1) for i in used], axis=0)
    parts, spreads, dfs = [], [], []
    for w, p, d in zip(weights, points, per_seed):
        if len(p) > 1 and w != 0:
            parts.append(w * w * seed_variance(p, d - p[None, :]) / len(p))
            spreads.append(w * w * float(np.var(p, ddof=1)) / len(p))
            dfs.append(len(p) - 1)
    seed_var = float(sum(parts))
    valid = item[~np.isnan(item)]
    item_var = float(np.var(valid, ddof=1)) if valid.size > 1 else 0.0
    one_seed = tuple(i for i, p in enumerate(points) if len(p) == 1 and weights[i] != 0)
    if seed_var <= 0.0:
        return SeedAware(point, item, item, item_var, 0.0, float("inf"), 0.0, int(item.size - valid.size), one_seed)
    # Welch-Satterthwaite: the degrees of freedom of the total variance. The item part counts as
    # known (df = inf); each seed part is a sample variance s^2 / S (S - 1 df) minus a known amount,
    # so its estimate varies like s^2 / S, not like what is left after the subtraction.
    df = (seed_var + item_var) ** 2 / sum(v * v / k for v, k in zip(spreads, dfs) if v > 0)
    # The spreads hold the item noise that differs between seeds, which the estimate subtracts;
    # with little seed variance left they would drive df towards 0 and the t scale to infinity.
    # Satterthwaite's df is never below the smallest seed df when each part is an estimated
    # variance, so it is held there.
    df = max(df, float(min(dfs)))
    # One random scale per draw for the whole deviation (a multivariate t): the uncertainty of the
    # estimated seed variance widens the total, not the seed part alone.
    scale = np.sqrt(df / rng.chisquare(df, size=item.size))
    draws = point + scale * ((item - point) + np.sqrt(seed_var) * rng.standard_normal(item.size))
    share = seed_var / (seed_var + item_var) if seed_var + item_var > 0 else 0.0
    return SeedAware(point, draws, item, item_var, seed_var, float(df), float(share), int(item.size - valid.size),
                     one_seed)
