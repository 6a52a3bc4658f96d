"""Statistical power: the smallest accuracy difference a test set can reveal."""

from __future__ import annotations

import math


def mcnemar_min_detectable_difference(n: int, discordance_rate: float, alpha: float = 0.05,
                                      power: float = 0.8) -> float:
    """Smallest accuracy difference McNemar's test detects on ``n`` paired items.

    Connor (1987, Biometrics 43:207) gives the sample size of McNemar's test (normal
    approximation) for a discordance rate ``psi = P(A right, B wrong) + P(A wrong, B right)``
    and a difference ``delta = P(A right, B wrong) - P(A wrong, B right)`` (the accuracy
    difference): ``n = (z_a sqrt(psi) + z_b sqrt(psi - delta^2))^2 / delta^2`` with
    ``z_a = Phi^-1(1 - alpha/2)``, ``z_b = Phi^-1(power)``. Solved for delta:
    ``delta = sqrt(psi) (z_a sqrt(n) + z_b sqrt(n - z_a^2 + z_b^2)) / (n + z_b^2)``.

    Returns:
        The difference (a fraction of items), or ``math.inf`` when no achievable difference
        (at most ``psi``) is detectable, e.g. with no discordant items.

    Raises:
        ValueError: ``n < 1`` or a rate, alpha or power outside its range.
    """
    from statistics import NormalDist  # Wichura's AS241: scipy's accuracy without importing scipy.stats

    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}; pass the number of test items")
    if not 0.0 <= discordance_rate <= 1.0:
        raise ValueError(f"discordance_rate must be between 0 and 1, got {discordance_rate}; "
                         "pass the share of items where exactly one system is right")
    if not (0.0 < alpha < 1.0 and 0.0 < power < 1.0):
        raise ValueError(f"alpha and power must be between 0 and 1, got {alpha} and {power}")
    if discordance_rate == 0.0:
        return math.inf
    z_a, z_b = NormalDist().inv_cdf(1.0 - alpha / 2.0), NormalDist().inv_cdf(power)
    inside = n - z_a**2 + z_b**2
    if inside < 0:
        return math.inf
    delta = math.sqrt(discordance_rate) * (z_a * math.sqrt(n) + z_b * math.sqrt(inside)) / (n + z_b**2)
    return float(delta) if delta <= discordance_rate else math.inf
