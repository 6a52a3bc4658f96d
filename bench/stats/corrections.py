"""Multiple-comparison corrections of the p-values in one results table."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CORRECTIONS = ("holm", "bh")


def adjust_pvalues(p_values: Sequence[float] | np.ndarray, method: str = "holm") -> np.ndarray:
    """Adjust p-values for the number of tests in one table.

    ``holm``: Holm's step-down, controls the family-wise error rate (the default, as it
    assumes nothing about dependence). ``bh``: Benjamini-Hochberg, controls the false
    discovery rate (``scipy.stats.false_discovery_control``). NaN entries (no test) stay
    NaN and do not count as tests.

    Raises:
        ValueError: an unknown method or a p-value outside [0, 1].
    """
    p = np.asarray(p_values, dtype=np.float64)
    if method not in CORRECTIONS:
        raise ValueError(f"unknown correction {method!r}; use one of {', '.join(CORRECTIONS)}")
    tested = ~np.isnan(p)
    if ((p[tested] < 0) | (p[tested] > 1)).any():
        raise ValueError("p-values must be between 0 and 1; pass raw p-values")
    out = np.full(p.shape, np.nan)
    values = p[tested]
    if values.size == 0:
        return out
    if method == "bh":
        from scipy import stats

        out[tested] = stats.false_discovery_control(values, method="bh")
        return out
    m = values.size
    order = np.argsort(values, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * values[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    out[tested] = adjusted
    return out
