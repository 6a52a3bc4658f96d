"""Temporal drift: one model trained on the rows dated before ``train_before``, scored on later windows.

The training rows are the rows of the ``train`` split dated before
``evaluation.drift.train_before``; the test rows are the rows of the ``test`` split dated on
or after it, each labelled with its window (``bench.results.windows``). The dataset's splits
are kept, because they may encode what a test must not share with training (outlets in a
media split); rows of ``train`` dated later and rows of ``test`` dated earlier are unused.
Naming one split as both ``train`` and ``test`` partitions that split in time (the demo
corpus's random split is not temporal, so its drift config does that).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.core.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

    from bench.config.spec import DriftSpec
    from bench.corpus import BuiltDataset

WINDOW_COLUMN = "window"


def item_dates(frame: pd.DataFrame, ds: BuiltDataset, spec: DriftSpec) -> pd.Series:
    """The date of every row (``NaT`` for an undated row under ``undated: skip``).

    Raises:
        DataError: no such column, or (``undated: error``) a row without a readable date.
    """
    import pandas as pd

    if spec.column not in frame.columns:
        raise DataError(ds.path, None, "evaluation.drift.column", f"dataset {ds.name!r} has no column "
                        f"{spec.column!r}; set columns.date in its spec, or name the date column")
    # naive dates are read as UTC, so that naive and zoned values compare; the day is what counts
    parsed = pd.to_datetime(frame[spec.column], errors="coerce", format="mixed", utc=True)
    parsed = parsed.dt.tz_localize(None).dt.normalize()
    bad = parsed.isna().to_numpy()
    if bad.any() and spec.undated == "error":
        row = int(bad.argmax())
        raise DataError(ds.path, None, "evaluation.drift.column", f"dataset {ds.name!r}: {int(bad.sum())} of "
                        f"{len(frame)} rows have no readable {spec.column!r}, e.g. id {frame['id'].iloc[row]!r}; "
                        "give every row an ISO date, or set undated: skip to leave them out")
    return parsed.reset_index(drop=True)


def drift_frames(train: pd.DataFrame, test: pd.DataFrame, ds: BuiltDataset,
                 spec: DriftSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The training rows (dated before ``train_before``) and the test rows, in time order, with their ``window``.

    ``train`` and ``test`` are the two splits (the same frame when one split is partitioned).
    """
    import pandas as pd

    from bench.results.windows import window_label

    cut = pd.Timestamp(spec.train_before)
    train_dates, test_dates = item_dates(train, ds, spec), item_dates(test, ds, spec)
    before = train.reset_index(drop=True)[(train_dates < cut).to_numpy()].reset_index(drop=True)
    later = (test_dates >= cut).to_numpy()
    order = test_dates[later].sort_values(kind="stable").index  # test rows in time order
    after = test.reset_index(drop=True).iloc[order].reset_index(drop=True)
    if before.empty or after.empty:
        dated = pd.concat([train_dates, test_dates]).dropna()
        side = "before" if before.empty else "on or after"
        raise DataError(ds.path, None, "evaluation.drift.train_before", f"dataset {ds.name!r} has no row dated "
                        f"{side} {spec.train_before} (its dates run {dated.min().date()} to "
                        f"{dated.max().date()}); pick a date inside that range")
    windows = [window_label(day.date(), spec) for day in test_dates[order]]
    return before, after.assign(**{WINDOW_COLUMN: windows})
