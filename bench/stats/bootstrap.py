"""Bootstrap resampling engine: fast, exact draws and percentile / BCa intervals.

Why it is fast: for a metric that depends only on the confusion matrix, resampling the
``n`` test items with replacement is *the same distribution* as drawing the counts of the
observed (true, pred) cells from ``Multinomial(n, cell_frequencies)``. Drawing ``B``
vectors of at most ``K*K`` counts replaces ``B`` passes over ``n`` items. Paired draws use
the (true, pred_a, pred_b) cells. Metrics that are not functions of counts (log loss,
ROC AUC, multi-label) get item weights: the number of times each item is drawn.

Every draw comes from an explicit ``np.random.Generator``; results are produced in chunks
of bounded memory, and the chunk size depends only on the problem size, so the same seed
gives the same numbers. No scipy at import time: this module is imported by the run-config
dataclasses (``bench.config.spec``, for ``METHODS``) and by ``bench.metrics``.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np


def named_rng(seed: int, *names: object) -> np.random.Generator:
    """A stream named by what it resamples, so that a number does not depend on what else is resampled."""
    digest = hashlib.sha256("\0".join(map(str, names)).encode()).digest()
    return np.random.default_rng([seed, int.from_bytes(digest[:8], "little")])

METHODS = ("percentile", "bca")
_CHUNK_ELEMENTS = 1 << 21  # about 16 MB of float64 per chunk of draws


def cell_count_draws(counts: np.ndarray, samples: int, rng: np.random.Generator,
                     *, width: int = 1, threads: int | None = None) -> Iterator[np.ndarray]:
    """Yield resampled cell counts, shape ``(chunk, len(counts))``, ``samples`` rows in total.

    A multinomial over many cells (the joint prediction patterns of many seeds) costs
    ``samples x cells`` binomial draws: when the draws take several chunks, each chunk gets a
    generator seeded from ``rng`` and ``threads`` of them are drawn at once (numpy releases
    the GIL). The chunking depends only on the sizes, so the numbers do not depend on
    ``threads``; a single chunk is drawn from ``rng`` itself.

    Args:
        counts: observed count of items per cell (only non-zero cells need be passed).
        samples: number of bootstrap resamples.
        rng: the random generator (consumed in order, so chunks do not change results).
        width: elements the caller builds per row (e.g. ``K*K``), used to bound memory.
        threads: threads drawing chunks (default: up to 2 CPUs).
    """
    counts = np.asarray(counts, dtype=np.int64)
    n = int(counts.sum())
    pvals = counts / n
    chunk = max(1, min(samples, _CHUNK_ELEMENTS // max(width, counts.size, 1)))
    sizes = [min(chunk, samples - start) for start in range(0, samples, chunk)]
    if len(sizes) == 1:
        yield rng.multinomial(n, pvals, size=sizes[0]).astype(np.float64)
        return
    seeds = rng.integers(0, 2**63 - 1, size=len(sizes), dtype=np.int64)

    def draw(k: int) -> np.ndarray:
        return np.random.default_rng(int(seeds[k])).multinomial(n, pvals, size=sizes[k]).astype(np.float64)

    yield from _in_threads(draw, len(sizes), threads or min(2, os.cpu_count() or 1))


def _in_threads(work: Callable[[int], np.ndarray], count: int, threads: int) -> Iterator[np.ndarray]:
    """``work(0), work(1), ...`` in order, ``threads`` at a time."""
    if threads <= 1:
        yield from (work(k) for k in range(count))
        return
    from concurrent.futures import ThreadPoolExecutor

    from bench.core.parallel import in_order

    with ThreadPoolExecutor(max_workers=threads) as pool:
        yield from in_order(pool, (functools.partial(work, k) for k in range(count)), ahead=threads)


def item_weight_draws(n: int, samples: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Yield item multiplicities of index resamples, shape ``(chunk, n)``, float64.

    Row ``b`` counts how often each item appears in resample ``b`` (a classic
    index bootstrap), so a weighted statistic equals the statistic of the resample.
    """
    chunk = max(1, min(samples, _CHUNK_ELEMENTS // max(n, 1)))
    for start in range(0, samples, chunk):
        size = min(chunk, samples - start)
        idx = rng.integers(0, n, size=(size, n))
        idx += (np.arange(size) * n)[:, None]
        yield np.bincount(idx.ravel(), minlength=size * n).reshape(size, n).astype(np.float64)


def cell_count_draws_by_index(member: np.ndarray, n_cells: int, samples: int,
                              rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Like ``cell_count_draws``, by resampling items: for many cells, where a multinomial is slow.

    Args:
        member: the cell of each item, ints in ``[0, n_cells)``.
        n_cells: number of cells.
        samples: number of bootstrap resamples.
        rng: the random generator.
    """
    n = len(member)
    chunk = max(1, min(samples, _CHUNK_ELEMENTS // max(n, n_cells, 1)))
    for start in range(0, samples, chunk):
        size = min(chunk, samples - start)
        cells = member[rng.integers(0, n, size=(size, n))] + (np.arange(size) * n_cells)[:, None]
        yield np.bincount(cells.ravel(), minlength=size * n_cells).reshape(size, n_cells).astype(np.float64)


def jackknife_weight_draws(n: int, groups: int = 200) -> tuple[Iterator[np.ndarray], np.ndarray]:
    """Leave-one-group-out item weights for the BCa acceleration, in bounded-memory chunks.

    Items go to ``min(n, groups)`` groups by position (``i % groups``); row ``g`` of the
    weights drops group ``g``. With ``n <= groups`` this is the ordinary leave-one-out
    jackknife; above it, a grouped jackknife, which estimates the acceleration well enough
    for BCa at a fraction of the cost of ``n`` recomputations.

    Returns:
        The chunks, shape ``(chunk, n)``, and the size of each group (the jackknife weights).
    """
    g = min(n, groups)
    member = np.arange(n) % g
    chunk = max(1, min(g, _CHUNK_ELEMENTS // max(n, 1)))

    def chunks() -> Iterator[np.ndarray]:
        for start in range(0, g, chunk):
            rows = np.arange(start, min(g, start + chunk))
            yield (member[None, :] != rows[:, None]).astype(np.float64)

    return chunks(), np.bincount(member, minlength=g).astype(np.float64)


@dataclass(frozen=True)
class Interval:
    """A confidence interval; ``low``/``high`` are arrays for per-class metrics."""

    low: np.ndarray
    high: np.ndarray


def interval(draws: np.ndarray, point: np.ndarray, confidence: float, method: str = "percentile",
             jackknife: tuple[np.ndarray, np.ndarray] | None = None) -> Interval:
    """Confidence interval from bootstrap draws.

    Args:
        draws: bootstrap statistics, shape ``(B,)`` or ``(B, K)``; NaN draws (an undefined
            resample, e.g. AUC with a class absent) are ignored.
        point: the statistic on the original sample, shape ``()`` or ``(K,)``.
        confidence: e.g. 0.95.
        method: ``"percentile"`` or ``"bca"`` (bias-corrected and accelerated, Efron 1987).
        jackknife: for BCa, ``(values, weights)``: leave-one-out (or one-cell-out /
            one-group-out) statistics, shape ``(m,)`` or ``(m, K)``, and how many items each
            row stands for.
    """
    alpha = (1.0 - confidence) / 2.0
    draws = np.asarray(draws, dtype=np.float64)
    point = np.asarray(point, dtype=np.float64)
    if method == "percentile":
        levels = np.broadcast_to(np.array([alpha, 1.0 - alpha])[:, None], (2, draws[0].size))
    elif method == "bca":
        if jackknife is None:
            raise ValueError("method 'bca' needs jackknife values; pass jackknife=(values, weights)")
        levels = _bca_levels(draws.reshape(len(draws), -1), point.reshape(-1), alpha,
                             jackknife[0].reshape(len(jackknife[0]), -1), jackknife[1])
    else:
        raise ValueError(f"unknown interval method {method!r}; use one of {', '.join(METHODS)}")
    flat = draws.reshape(len(draws), -1)
    low, high = np.empty(flat.shape[1]), np.empty(flat.shape[1])
    for j in range(flat.shape[1]):
        column = flat[:, j][~np.isnan(flat[:, j])]
        if column.size == 0 or np.isnan(levels[:, j]).any():
            low[j] = high[j] = np.nan
        else:
            low[j], high[j] = np.quantile(column, levels[:, j])
    return Interval(low.reshape(point.shape), high.reshape(point.shape))


def _bca_levels(draws: np.ndarray, point: np.ndarray, alpha: float,
                jack: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Adjusted quantile levels ``(2, K)`` of the BCa interval."""
    from scipy.special import ndtr, ndtri

    valid = ~np.isnan(draws)
    n_valid = valid.sum(axis=0)
    below = np.where(valid, draws < point, False).sum(axis=0)
    ties = np.where(valid, draws == point, False).sum(axis=0)
    # Half of the ties count as below, so a discrete statistic (accuracy of a small test set)
    # is not pushed to one side; clipping keeps z0 finite when all draws lie on one side.
    prop = (below + 0.5 * ties) / np.maximum(n_valid, 1)
    prop = np.clip(prop, 0.5 / np.maximum(n_valid, 1), 1.0 - 0.5 / np.maximum(n_valid, 1))
    z0 = ndtri(prop)
    w = np.asarray(weights, dtype=np.float64)[:, None]
    mean = (w * jack).sum(axis=0) / w.sum()
    diff = mean - jack
    num = (w * diff**3).sum(axis=0)
    den = 6.0 * ((w * diff**2).sum(axis=0)) ** 1.5
    accel = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    levels = []
    for z_alpha in (ndtri(alpha), ndtri(1.0 - alpha)):
        shifted = z0 + z_alpha
        levels.append(ndtr(z0 + shifted / (1.0 - accel * shifted)))
    out = np.vstack(levels)
    out[:, n_valid == 0] = np.nan
    return out


def two_sided_p_value(draws: np.ndarray, observed: float) -> float:
    """Bootstrap test of "no difference", by shifting the bootstrap distribution to the null.

    ``p = (1 + #{b : |d*_b - d| >= |d|}) / (B + 1)``, where ``d`` is the observed
    difference and ``d*_b`` the resampled ones (Efron & Tibshirani 1993, section 16.4;
    the +1 keeps p > 0 with a finite number of resamples). ``d == 0`` gives p = 1.
    """
    draws = np.asarray(draws, dtype=np.float64)
    draws = draws[~np.isnan(draws)]
    # the tolerance absorbs float noise when |d*_b - d| and |d| are equal in exact arithmetic
    hits = np.count_nonzero(np.abs(draws - observed) >= abs(observed) - 1e-12)
    return float((1 + hits) / (draws.size + 1))


def collect(chunks: Iterator[np.ndarray], statistic: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Apply ``statistic`` to each chunk of draws and stack the results along axis 0."""
    return np.concatenate([np.asarray(statistic(chunk)) for chunk in chunks], axis=0)
