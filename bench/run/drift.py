"""Temporal drift: one model trained on the rows dated before ``train_before``, scored on later windows.

A random train/test split says nothing about time, so a drift run re-splits by date: the
rows of the ``train`` and ``test`` splits (each id once: the two may name the same split)
dated before ``evaluation.drift.train_before`` are the training rows, the rest the test rows,
each labelled with its window (``bench.results.windows``). Training on the earlier rows of
both splits, rather than on the train split's only, keeps the test side as large as the
data allows; a user who wants one split only names it as both ``train`` and ``test``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from bench.core.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

    from bench.config.spec import DriftSpec
    from bench.corpus import BuiltDataset

WINDOW_COLUMN = "window"


def item_dates(frame: pd.DataFrame, ds: BuiltDataset, spec: DriftSpec) -> list[dt.date]:
    """The date of every row; a dataset without the column, or a row without a date, is a ``DataError``."""
    import pandas as pd

    where = f"evaluation.drift.column: dataset {ds.name!r}"
    if spec.column not in frame.columns:
        raise DataError(ds.path, None, "evaluation.drift.column", f"dataset {ds.name!r} has no column "
                        f"{spec.column!r}; set columns.date in its spec, or name the date column")
    parsed = pd.to_datetime(frame[spec.column], errors="coerce", format="mixed")
    bad = parsed.isna().to_numpy()
    if bad.any():
        row = int(bad.argmax())
        raise DataError(ds.path, None, "evaluation.drift.column", f"{where}: {int(bad.sum())} rows without a "
                        f"readable date, e.g. id {frame['id'].iloc[row]!r} ({frame[spec.column].iloc[row]!r}); "
                        "give every row an ISO date")
    return [d.date() for d in parsed]


def drift_frames(train: pd.DataFrame, test: pd.DataFrame, ds: BuiltDataset,
                 spec: DriftSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The training rows (dated before ``train_before``) and the test rows with their ``window``."""
    import numpy as np
    import pandas as pd

    from bench.results.windows import window_label

    rows = pd.concat([train, test[~test["id"].isin(train["id"])]], ignore_index=True)
    dates = item_dates(rows, ds, spec)
    before = np.array([d < spec.train_before for d in dates])
    order = np.argsort(np.array(dates, dtype="datetime64[D]"), kind="stable")  # test rows in time order
    later = [i for i in order if not before[i]]
    if not before.any() or not later:
        side = "before" if not before.any() else "on or after"
        raise DataError(ds.path, None, "evaluation.drift.train_before", f"dataset {ds.name!r} has no row dated "
                        f"{side} {spec.train_before} (its dates run {min(dates)} to {max(dates)}); pick a date "
                        "inside that range")
    test_rows = rows.iloc[later].reset_index(drop=True)
    windows = [window_label(dates[i], spec) for i in later]
    return (rows[before].reset_index(drop=True), test_rows.assign(**{WINDOW_COLUMN: windows}))
