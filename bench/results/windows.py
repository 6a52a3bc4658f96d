"""Drift windows: the time slices a temporal-drift run is scored on (``evaluation.drift``).

A window is a calendar ``month`` (label ``2024-03``), ``quarter`` (``2024-Q1``), ``year``
(``2024``), or a run of N days counted from ``train_before`` (labelled by its first day,
``2024-01-31``). Labels sort in time order as text. The windows of a run are every window
from the one holding ``train_before`` to the one holding the last test item, empty ones
included, so that a gap in the data shows as a window with ``n: 0`` instead of vanishing.

This module is pure (dates in, labels out): ``bench run`` labels the test items with it and
``bench rescore`` rebuilds the window list from the labels saved with the predictions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from bench.config.spec import DriftSpec

__all__ = ["Windows", "window_label", "window_names", "window_start"]

_MONTHS = {"month": 1, "quarter": 3, "year": 12}
_MAX_WINDOWS = 100_000  # a guard against a label that never comes (a damaged predictions file)


@dataclass(frozen=True)
class Windows:
    """The windows of one drift sample: each item's window, every window in order, and ``min_items``."""

    of_item: np.ndarray
    names: tuple[str, ...]
    min_items: int


def window_start(day: dt.date, spec: DriftSpec) -> dt.date:
    """The first day of the window that holds ``day``."""
    if isinstance(spec.window, int):
        return spec.train_before + dt.timedelta(days=(day - spec.train_before).days // spec.window * spec.window)
    months = _MONTHS[spec.window]
    return dt.date(day.year, (day.month - 1) // months * months + 1, 1)


def _next_start(start: dt.date, spec: DriftSpec) -> dt.date:
    if isinstance(spec.window, int):
        return start + dt.timedelta(days=spec.window)
    month = start.month - 1 + _MONTHS[spec.window]
    return dt.date(start.year + month // 12, month % 12 + 1, 1)


def window_label(day: dt.date, spec: DriftSpec) -> str:
    """The label of the window that holds ``day``."""
    start = window_start(day, spec)
    if spec.window == "month":
        return f"{start.year:04d}-{start.month:02d}"
    if spec.window == "quarter":
        return f"{start.year:04d}-Q{(start.month - 1) // 3 + 1}"
    if spec.window == "year":
        return f"{start.year:04d}"
    return start.isoformat()


def window_names(spec: DriftSpec, present: Sequence[str]) -> tuple[str, ...]:
    """Every window from ``train_before``'s to the latest in ``present``, in time order.

    Raises:
        ValueError: a label in ``present`` that is not a window of ``spec`` (the predictions
            and the manifest disagree).
    """
    if not len(present):
        return ()
    last, wanted = max(present), set(present)
    names: list[str] = []
    start = window_start(spec.train_before, spec)
    while len(names) < _MAX_WINDOWS:
        names.append(window_label(start, spec))
        if names[-1] >= last:
            break
        start = _next_start(start, spec)
    unknown = sorted(wanted - set(names))
    if unknown:
        raise ValueError(f"window {unknown[0]!r} is not a {spec.window} window after {spec.train_before}")
    return tuple(names)
