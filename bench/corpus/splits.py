"""Splits of rows (made splits, nested training subsets), deterministic for a seed.

Every function works on plain arrays (labels, groups, ids, dates) and returns a boolean
mask or index arrays, so the dataset builder and the runner share one implementation.
Randomness comes only from ``np.random.default_rng(seed)``. A request that cannot be met
(a class too small to stratify, more rows than there are) raises ``SplitError``, a
``ValueError`` whose message is ``problem; fix``: callers add the file and key.

Rows that share a *unit* (a group id, or an identical text) always land on the same side:
stratified and random splits take an optional ``units`` array for that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

import numpy as np

__all__ = ["SplitError", "ids_split", "nested_subset", "random_split", "stratified_split", "temporal_split"]


class SplitError(ValueError):
    """A split request the data cannot satisfy; the message says how to fix it."""


def _target_rows(size: float | int, n_rows: int) -> int:
    if isinstance(size, float):
        return int(round(size * n_rows))
    if size >= n_rows:
        raise SplitError(f"size {size} is not smaller than the {n_rows} rows available; use a smaller size")
    return int(size)


def _units(n_rows: int, units: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Unit code of each row (0..n_units-1, in first-appearance order) and the first row of each unit."""
    if units is None:
        rows = np.arange(n_rows)
        return rows, rows
    _, first, codes = np.unique(np.asarray(units), return_index=True, return_inverse=True)
    # np.unique sorts values; renumber by first appearance so codes do not depend on value order.
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[codes.ravel()], first[order]


def stratified_split(labels: Sequence[object] | np.ndarray, size: float | int, seed: int,
                     units: np.ndarray | None = None) -> np.ndarray:
    """A test mask holding about ``size`` of the rows with each label's share preserved.

    Args:
        labels: one label per row (any hashable values).
        size: a fraction in (0, 1) or a number of rows.
        seed: the only source of randomness.
        units: optional unit per row (group or duplicate cluster); a unit is never split and
            takes the label of its first row.

    Raises:
        SplitError: a class with fewer than 2 units cannot be on both sides.
    """
    labels = np.asarray(labels, dtype=object)
    n_rows = len(labels)
    codes, first = _units(n_rows, units)
    unit_labels = labels[first]
    target = _target_rows(size, n_rows)
    classes, class_of_unit = np.unique(unit_labels.astype(str), return_inverse=True)
    class_units = np.bincount(class_of_unit, minlength=len(classes))
    small = [(c, n) for c, n in zip(classes, class_units) if n < 2]
    if small:
        name, count = str(small[0][0]), int(small[0][1])
        raise SplitError(f"class {name!r} has {count} row{'s' if count != 1 else ''} "
                         f"(as units); stratifying needs at least 2 per class; merge it with label_map, "
                         "drop it, or split with by: random")
    # Largest-remainder allocation of the test rows over classes, in units.
    fraction = target / n_rows
    wanted = class_units * fraction
    take = np.floor(wanted).astype(int)
    remainder = int(round(fraction * len(first))) - int(take.sum())
    if remainder > 0:
        order = np.lexsort((np.arange(len(classes)), -(wanted - take)))
        take[order[:remainder]] += 1
    take = np.minimum(take, class_units - 1)
    rng = np.random.default_rng(seed)
    test_units = np.zeros(len(first), dtype=bool)
    for k in range(len(classes)):
        members = np.flatnonzero(class_of_unit == k)
        chosen = rng.permutation(members)[: take[k]]
        test_units[chosen] = True
    if not test_units.any():
        raise SplitError(f"size {size} gives no test row for {n_rows} rows; use a larger size")
    return test_units[codes]


def nested_subset(labels: Sequence[object] | np.ndarray, size: float | int, seed: int) -> np.ndarray:
    """Sorted positions of a stratified subset of ``size`` rows; a smaller size gives a subset of it.

    For learning curves: with one seed, the rows kept at 10% are among those kept at 25%,
    so a curve measures more data, not other data. Rows are ranked once: within each label
    in an order drawn from ``seed``, a row ``i`` of ``n`` gets the key ``(i + u) / n`` (``u``
    uniform), so that any prefix of the ranking holds each label's share to within a row;
    the first row of every label comes first, so that every label is kept whatever the size.

    Args:
        labels: one label per row (multi-label rows: pass their first label).
        size: a fraction in (0, 1] or a number of rows (at least the number of labels).
        seed: the only source of randomness.
    """
    labels = np.asarray(labels, dtype=object).astype(str)
    n_rows = len(labels)
    count = int(round(size * n_rows)) if isinstance(size, float) else int(size)
    classes, class_of = np.unique(labels, return_inverse=True)
    if count > n_rows:
        raise SplitError(f"size {size} is more than the {n_rows} training rows; use a smaller size")
    count = max(count, len(classes))
    rng = np.random.default_rng(seed)
    keys = np.empty(n_rows, dtype=np.float64)
    leaders = np.zeros(n_rows, dtype=bool)
    for k in range(len(classes)):
        members = rng.permutation(np.flatnonzero(class_of == k))
        keys[members] = (np.arange(len(members)) + rng.random(len(members))) / len(members)
        leaders[members[0]] = True
    order = np.lexsort((keys, ~leaders))  # leaders first, then by key
    return np.sort(order[:count])


def random_split(n_rows: int, size: float | int, seed: int, units: np.ndarray | None = None) -> np.ndarray:
    """A test mask of about ``size`` rows made of whole units taken in a random order.

    Units are added in a seeded random order until the row count is as close as it gets to
    the target; with ``units`` = group ids this is the grouped split (a group never straddles).
    """
    codes, first = _units(n_rows, units)
    unit_sizes = np.bincount(codes, minlength=len(first))
    target = _target_rows(size, n_rows)
    if len(first) < 2:
        raise SplitError(f"only {len(first)} group; a split needs at least 2 groups")
    order = np.random.default_rng(seed).permutation(len(first))
    cumulative = np.cumsum(unit_sizes[order])
    cut = int(np.searchsorted(cumulative, target))
    if cut < len(order) and cut > 0 and abs(cumulative[cut - 1] - target) <= abs(cumulative[cut] - target):
        cut -= 1
    cut = min(max(cut, 0), len(order) - 2)
    test_units = np.zeros(len(first), dtype=bool)
    test_units[order[: cut + 1]] = True
    return test_units[codes]


def ids_split(values: Sequence[object] | np.ndarray, wanted: Collection[str]) -> tuple[np.ndarray, list[str]]:
    """A test mask of the rows whose value (id or group) is in ``wanted``, and the wanted values not found."""
    values = np.asarray(values, dtype=object).astype(str)
    wanted_set = set(wanted)
    mask = np.fromiter((v in wanted_set for v in values), dtype=bool, count=len(values))
    missing = sorted(wanted_set.difference(values[mask].tolist()))
    return mask, missing


def temporal_split(dates: np.ndarray, after: dt.date) -> np.ndarray:
    """A test mask of the rows dated on or after ``after`` (``dates`` is datetime64)."""
    return np.asarray(dates) >= np.datetime64(after, "D")
