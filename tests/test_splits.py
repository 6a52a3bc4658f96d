"""Splits: sizes, strata, groups never straddling, nested subsets, determinism for a seed."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from bench.corpus.splits import SplitError, ids_split, nested_subset, random_split, stratified_split, temporal_split


@pytest.fixture
def labels(rng: np.random.Generator) -> np.ndarray:
    return rng.choice(np.array(["a", "b", "c"], dtype=object), size=300, p=[0.6, 0.3, 0.1])


def test_stratified_split_keeps_label_shares(labels: np.ndarray, seed: int) -> None:
    test = stratified_split(labels, 0.2, seed)
    assert abs(int(test.sum()) - 60) <= 1
    for label in ("a", "b", "c"):
        share_all = np.mean(labels == label)
        share_test = np.mean(labels[test] == label)
        assert abs(share_all - share_test) < 0.02


def test_stratified_split_is_deterministic_for_a_seed(labels: np.ndarray, seed: int) -> None:
    first = stratified_split(labels, 0.2, seed)
    assert np.array_equal(first, stratified_split(labels, 0.2, seed))
    assert not np.array_equal(first, stratified_split(labels, 0.2, seed + 1))


def test_stratified_split_takes_a_row_count(labels: np.ndarray, seed: int) -> None:
    assert abs(int(stratified_split(labels, 50, seed).sum()) - 50) <= 1


def test_stratified_split_keeps_units_together(seed: int) -> None:
    labels = np.array(["x", "x", "y", "y"] * 25, dtype=object)
    units = np.repeat(np.arange(50), 2)  # each unit = two rows with the same label
    test = stratified_split(labels, 0.3, seed, units=units)
    for unit in range(50):
        assert len(set(test[units == unit])) == 1


def test_class_too_small_to_stratify_says_how_to_fix() -> None:
    labels = np.array(["a"] * 10 + ["b"], dtype=object)
    with pytest.raises(SplitError, match=r"class 'b' has 1 row .*at least 2 per class; merge it with label_map"):
        stratified_split(labels, 0.2, 0)


def test_grouped_random_split_never_splits_a_group(rng: np.random.Generator, seed: int) -> None:
    groups = rng.integers(0, 40, size=500)
    test = random_split(500, 0.25, seed, units=groups)
    assert not set(groups[test]) & set(groups[~test])
    assert 0.15 < test.mean() < 0.35


def test_random_split_needs_two_groups() -> None:
    with pytest.raises(SplitError, match="only 1 group"):
        random_split(10, 0.2, 0, units=np.zeros(10))


def test_ids_split_reports_missing_ids() -> None:
    mask, missing = ids_split(["1", "2", "3", "2"], {"2", "9"})
    assert mask.tolist() == [False, True, False, True]
    assert missing == ["9"]


def test_temporal_split_is_on_or_after() -> None:
    dates = np.array(["2023-12-31", "2024-01-01", "2024-06-01"], dtype="datetime64[D]")
    assert temporal_split(dates, dt.date(2024, 1, 1)).tolist() == [False, True, True]


def test_nested_subsets_grow_by_adding_rows_and_keep_label_shares(labels: np.ndarray, seed: int) -> None:
    sizes = [0.05, 0.1, 0.25, 0.5, 1.0]
    subsets = [nested_subset(labels, size, seed) for size in sizes]
    for size, rows in zip(sizes, subsets):
        assert len(rows) == max(round(size * len(labels)), 3) and np.array_equal(rows, np.unique(rows))
        for label in ("a", "b", "c"):  # each label's count within one row of its share (and never 0)
            expected = size * np.sum(labels == label)
            assert abs(np.sum(labels[rows] == label) - expected) <= 1 + (expected < 1)
            assert np.sum(labels[rows] == label) >= 1
    for smaller, larger in zip(subsets, subsets[1:]):
        assert set(smaller) <= set(larger)
    assert np.array_equal(subsets[1], nested_subset(labels, 0.1, seed))
    assert not np.array_equal(subsets[1], nested_subset(labels, 0.1, seed + 1))
    assert np.array_equal(nested_subset(labels, 30, seed), subsets[1])  # a count is the same as its fraction


def test_nested_subset_keeps_every_label_and_refuses_more_rows_than_there_are(labels: np.ndarray) -> None:
    assert set(labels[nested_subset(labels, 1, 0)]) == {"a", "b", "c"}
    with pytest.raises(SplitError, match="size 301 is more than the 300 training rows"):
        nested_subset(labels, 301, 0)
