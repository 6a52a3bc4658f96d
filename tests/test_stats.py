"""Statistics against references: scipy's binomial test, published tables (Demsar 2006),
statsmodels and scikit-posthocs when present. The paired metric tests are in test_paired.py."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

import bench.stats
from bench.stats import adjust_pvalues, friedman_nemenyi, mcnemar, mcnemar_min_detectable_difference


def test_public_api_is_sorted_and_complete() -> None:
    assert bench.stats.__all__ == sorted(bench.stats.__all__)
    assert all(hasattr(bench.stats, name) for name in bench.stats.__all__)


# ---- McNemar ------------------------------------------------------------------------------

@pytest.mark.parametrize(("n01", "n10"), [(0, 1), (3, 9), (12, 12), (2, 20), (0, 24), (7, 1)])
def test_exact_mcnemar_equals_scipy_binomtest(n01: int, n10: int) -> None:
    a = np.array([0] * n01 + [1] * n10 + [1] * 30 + [0] * 5)
    b = np.array([1] * n01 + [0] * n10 + [1] * 30 + [0] * 5)
    result = mcnemar(a, b)
    assert (result.n01, result.n10, result.method) == (n01, n10, "exact")
    assert result.p_value == pytest.approx(sps.binomtest(n10, n01 + n10, 0.5).pvalue, rel=1e-12)


def test_large_discordance_uses_chi_square_with_continuity_correction() -> None:
    a = np.array([0] * 40 + [1] * 20 + [1] * 100)
    b = np.array([1] * 40 + [0] * 20 + [1] * 100)
    result = mcnemar(a, b)
    assert result.method == "chi2"
    assert result.statistic == pytest.approx((abs(40 - 20) - 1) ** 2 / 60)
    assert result.p_value == pytest.approx(sps.chi2.sf((abs(40 - 20) - 1) ** 2 / 60, 1))
    contingency = pytest.importorskip("statsmodels.stats.contingency_tables")
    ref = contingency.mcnemar([[100, 20], [40, 0]], exact=False, correction=True)
    assert result.p_value == pytest.approx(ref.pvalue)


def test_mcnemar_without_disagreement_is_not_significant() -> None:
    result = mcnemar(np.array([1, 0, 1]), np.array([1, 0, 1]))
    assert (result.p_value, result.n01, result.n10) == (1.0, 0, 0)


def test_mcnemar_refuses_unpaired_arrays() -> None:
    with pytest.raises(ValueError, match=r"must be 1-D 0/1 arrays of the same length"):
        mcnemar(np.array([1, 0, 1]), np.array([1, 0]))


# ---- corrections ----------------------------------------------------------------------------

def test_holm_and_bh_known_values() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    np.testing.assert_allclose(adjust_pvalues(p, "holm"), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(adjust_pvalues(p, "bh"), [0.02, 0.04, 0.04, 0.02])
    np.testing.assert_allclose(adjust_pvalues([0.5, 0.9], "holm"), [1.0, 1.0])


def test_corrections_match_statsmodels(rng: np.random.Generator) -> None:
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    p = rng.random(25) ** 3
    np.testing.assert_allclose(adjust_pvalues(p, "holm"), multitest.multipletests(p, method="holm")[1])
    np.testing.assert_allclose(adjust_pvalues(p, "bh"), multitest.multipletests(p, method="fdr_bh")[1])


def test_missing_pvalues_are_not_counted() -> None:
    out = adjust_pvalues([0.01, np.nan, 0.02], "holm")
    assert np.isnan(out[1])
    np.testing.assert_allclose(out[[0, 2]], [0.02, 0.02])


@pytest.mark.parametrize(("p", "method", "message"), [
    ([0.1], "bonferroni", r"unknown correction 'bonferroni'; use one of holm, bh"),
    ([1.5], "holm", r"p-values must be between 0 and 1"),
])
def test_adjust_pvalues_refuses_bad_input(p: list, method: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        adjust_pvalues(p, method)


# ---- Friedman / Nemenyi ---------------------------------------------------------------------

@pytest.mark.parametrize(("k", "q"), [(3, 2.343), (4, 2.569), (5, 2.728), (6, 2.850), (10, 3.164)])
def test_nemenyi_q_alpha_matches_demsar_table(k: int, q: float, rng: np.random.Generator) -> None:
    table = pd.DataFrame(rng.random((5, k)), columns=[f"m{i}" for i in range(k)])
    assert friedman_nemenyi(table).q_alpha == pytest.approx(q, abs=1e-3)


def test_friedman_ranks_and_statistics(rng: np.random.Generator) -> None:
    n, k = 14, 4
    values = rng.random((n, k)) + np.array([0.0, 0.1, 0.2, 0.6])
    table = pd.DataFrame(values, columns=["majority", "nb", "svm", "lr"],
                         index=[f"d{i}" for i in range(n)])
    result = friedman_nemenyi(table, greater_is_better=True)
    ranks = sps.rankdata(-values, axis=1).mean(axis=0)
    chi2 = 12 * n / (k * (k + 1)) * (np.sum(ranks**2) - k * (k + 1) ** 2 / 4)  # Demsar eq. (no ties)
    assert result.average_ranks == pytest.approx(tuple(ranks))
    assert result.friedman_statistic == pytest.approx(chi2)
    assert result.friedman_p == pytest.approx(sps.friedmanchisquare(*values.T).pvalue)
    f_id = (n - 1) * chi2 / (n * (k - 1) - chi2)
    assert result.iman_davenport_f == pytest.approx(f_id)
    assert result.iman_davenport_p == pytest.approx(sps.f.sf(f_id, k - 1, (k - 1) * (n - 1)))
    assert result.critical_difference == pytest.approx(2.569 * math.sqrt(k * (k + 1) / (6 * n)), abs=1e-3)
    assert result.best == "lr"
    assert "majority" not in result.tied_with_best and "lr" in result.tied_with_best
    lower = friedman_nemenyi(-table, greater_is_better=False)
    assert lower.average_ranks == pytest.approx(result.average_ranks)


def test_nemenyi_pairwise_matches_scikit_posthocs(rng: np.random.Generator) -> None:
    posthocs = pytest.importorskip("scikit_posthocs")
    values = rng.random((10, 5)) + np.linspace(0, 0.5, 5)
    result = friedman_nemenyi(pd.DataFrame(values, columns=list("abcde")))
    np.testing.assert_allclose(np.array(result.nemenyi_p), posthocs.posthoc_nemenyi_friedman(values).to_numpy(),
                               atol=1e-6)


@pytest.mark.parametrize(("shape", "message"), [
    ((5, 2), r"needs at least 3 models on at least 3 datasets, got 2 models on 5 datasets"),
    ((2, 4), r"needs at least 3 models on at least 3 datasets, got 4 models on 2 datasets"),
])
def test_friedman_refuses_small_tables(shape: tuple[int, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        friedman_nemenyi(pd.DataFrame(np.ones(shape)))


def test_friedman_refuses_missing_scores() -> None:
    table = pd.DataFrame(np.ones((3, 3)), columns=["a", "b", "c"], index=["x", "y", "z"])
    table.loc["y", "b"] = np.nan
    with pytest.raises(ValueError, match=r"no score for model 'b' on dataset 'y'; run every model"):
        friedman_nemenyi(table)


# ---- power ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("n", "psi"), [(200, 0.1), (1000, 0.2), (9622, 0.15), (50, 0.5)])
def test_min_detectable_difference_solves_connor_sample_size(n: int, psi: float) -> None:
    delta = mcnemar_min_detectable_difference(n, psi)
    z_a, z_b = sps.norm.ppf(0.975), sps.norm.ppf(0.8)
    connor_n = (z_a * math.sqrt(psi) + z_b * math.sqrt(psi - delta**2)) ** 2 / delta**2
    assert connor_n == pytest.approx(n, rel=1e-9)


def test_min_detectable_difference_has_the_stated_power(rng: np.random.Generator) -> None:
    """Simulated McNemar tests at that difference reject about 80% of the time."""
    n, psi = 2000, 0.12
    delta = mcnemar_min_detectable_difference(n, psi)
    discordant = rng.binomial(n, psi, 20_000)
    n10 = rng.binomial(discordant, (psi + delta) / (2 * psi))
    n01 = discordant - n10
    chi2 = (np.abs(n01 - n10) - 1.0) ** 2 / discordant
    assert np.mean(sps.chi2.sf(chi2, 1) < 0.05) == pytest.approx(0.8, abs=0.03)


def test_min_detectable_difference_edge_cases() -> None:
    assert mcnemar_min_detectable_difference(100, 0.0) == math.inf
    assert mcnemar_min_detectable_difference(5, 0.01) == math.inf
    assert mcnemar_min_detectable_difference(10_000, 0.1) < mcnemar_min_detectable_difference(1000, 0.1)
    with pytest.raises(ValueError, match=r"discordance_rate must be between 0 and 1"):
        mcnemar_min_detectable_difference(100, 1.5)
    with pytest.raises(ValueError, match=r"n must be at least 1"):
        mcnemar_min_detectable_difference(0, 0.1)


def test_cell_draws_in_several_chunks_do_not_depend_on_threads_and_one_chunk_is_the_plain_stream() -> None:
    from bench.stats.bootstrap import cell_count_draws

    counts = np.arange(1, 5001)  # 5,000 cells: 2**21 // 5000 = 419 rows per chunk, 24 chunks
    one = np.concatenate(list(cell_count_draws(counts, 10_000, np.random.default_rng(3), threads=1)))
    two = np.concatenate(list(cell_count_draws(counts, 10_000, np.random.default_rng(3), threads=2)))
    assert one.shape == (10_000, 5000) and np.array_equal(one, two)
    assert (one.sum(axis=1) == counts.sum()).all()
    assert abs(one.mean(axis=0) - counts).max() < 5  # about 7 standard errors of the largest cell
    small = np.array([5, 3, 2])
    (drawn,) = cell_count_draws(small, 200, np.random.default_rng(4))
    assert np.array_equal(drawn, np.random.default_rng(4).multinomial(10, small / 10, size=200))
