"""Units: the train/test pairs a job is evaluated on, and the feature matrices of each.

A unit is the dataset's train and test splits, one CV fold of the train split, or (drift)
the rows before a date and the rows after it (``bench.run.drift``). With ``cv.by: target`` the
folds are the targets, in sorted order: leave one target out. The fold
assignment depends only on ``cv.seed``, so every job of a dataset sees the same folds, and
feature blocks (which depend on neither the model nor its seed) are read from the on-disk
``FeatureCache``, keyed by the unit's train and test ids.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench.config.spec import EvaluationSpec, FeatureSpec
from bench.core.errors import DataError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from bench.corpus import BuiltDataset
    from bench.learn.cache import FeatureCache
    from bench.learn.feature_types import FeatureMatrices
    from bench.run.transfer import Pair


@functools.lru_cache(maxsize=8)
def _split_frame(path: Path, split: str, fingerprint: str) -> pd.DataFrame:
    """One split as a frame, read once per process (the fingerprint keys the cache)."""
    from bench.corpus import load_split, open_dataset

    del fingerprint
    return load_split(open_dataset(path), split)


@dataclass(frozen=True)
class Unit:
    """One train/test pair: the dataset splits, or one CV fold of the train split."""

    fold: int | None
    split: str
    train: pd.DataFrame
    test: pd.DataFrame
    held_out_target: str | None = None  # the target a leave-one-target-out fold tests on


def _frame(ds: BuiltDataset, split: str) -> pd.DataFrame:
    if split not in ds.splits:
        raise DataError(ds.path, None, "split", f"dataset {ds.name!r} has no split {split!r}; "
                        f"its splits: {', '.join(ds.splits)}")
    return _split_frame(ds.path, split, ds.fingerprint)


def cv_test_indices(frame: pd.DataFrame, ds: BuiltDataset, evaluation: EvaluationSpec) -> list[np.ndarray]:
    """Row positions of each CV fold's test part, from ``cv.seed`` only (same for every job)."""
    import numpy as np
    from sklearn.model_selection import KFold, StratifiedGroupKFold, StratifiedKFold

    cv = evaluation.cv
    if cv is None:
        raise ValueError("cv_test_indices needs an evaluation with cv")
    if cv.by == "target":  # leave one target out: the folds are fixed by the data, not drawn
        names = held_out_targets(frame, ds)
        targets = frame["target"].astype(str).to_numpy()
        return [np.flatnonzero(targets == t) for t in names]
    n = len(frame)
    if n < cv.folds:
        raise DataError(ds.path, None, "evaluation.cv.folds", f"{cv.folds} folds for {n} rows of split "
                        f"{evaluation.train!r}; use fewer folds")
    strata = (np.zeros(n, dtype=int) if ds.multilabel
              else frame["label"].astype(str).to_numpy())
    X = np.zeros((n, 1))
    try:
        if cv.by == "group":
            if "group" not in frame.columns or frame["group"].isna().any():
                raise DataError(ds.path, None, "evaluation.cv.by", f"dataset {ds.name!r} has no `group` for every "
                                "row; set columns.group in its spec or use by: label")
            splitter = StratifiedGroupKFold(n_splits=cv.folds, shuffle=True, random_state=cv.seed)
            folds = splitter.split(X, strata, groups=frame["group"].astype(str).to_numpy())
        elif ds.multilabel:
            folds = KFold(n_splits=cv.folds, shuffle=True, random_state=cv.seed).split(X)
        else:
            folds = StratifiedKFold(n_splits=cv.folds, shuffle=True, random_state=cv.seed).split(X, strata)
        return [np.sort(test) for _, test in folds]
    except ValueError as exc:
        raise DataError(ds.path, None, "evaluation.cv", f"cannot make {cv.folds} folds: {exc}; "
                        "use fewer folds or by: label") from None


def held_out_targets(frame: pd.DataFrame, ds: BuiltDataset) -> list[str]:
    """The folds of leave-one-target-out, in order: the dataset's target values, sorted."""
    if "target" not in frame.columns or frame["target"].isna().any():
        raise DataError(ds.path, None, "evaluation.cv.by", f"dataset {ds.name!r} has no `target` for every row; "
                        "by: target needs a stance dataset")
    values = sorted(set(frame["target"].astype(str)))
    if len(values) < 2:
        raise DataError(ds.path, None, "evaluation.cv.by", f"dataset {ds.name!r} has one target ({values[0]!r}); "
                        "leaving it out leaves nothing to train on: use by: label")
    return values


def n_units(ds: BuiltDataset, evaluation: EvaluationSpec) -> int:
    """How many units a job of ``ds`` has: 1, ``cv.folds``, or (``by: target``) the number of targets."""
    if evaluation.cv is None:
        return 1
    if evaluation.cv.by == "target":
        return len(held_out_targets(_frame(ds, evaluation.train), ds))
    return evaluation.cv.folds


def make_units(ds: BuiltDataset, evaluation: EvaluationSpec, folds: Sequence[int | None] | None = None) -> list[Unit]:
    """The units of a dataset under ``evaluation`` (only the folds asked, when given)."""
    import numpy as np

    train = _frame(ds, evaluation.train)
    if evaluation.drift is not None:
        from bench.run.drift import drift_frames

        before, after = drift_frames(train, _frame(ds, evaluation.test or evaluation.train), ds, evaluation.drift)
        return [Unit(fold=None, split=evaluation.test or evaluation.train, train=_subset(before, ds, evaluation),
                     test=after)]
    if evaluation.cv is None:
        test = _frame(ds, evaluation.test) if evaluation.test else train
        return [Unit(fold=None, split=evaluation.test or evaluation.train, train=_subset(train, ds, evaluation),
                     test=test)]
    units = []
    names = held_out_targets(train, ds) if evaluation.cv.by == "target" else None
    for i, test_idx in enumerate(cv_test_indices(train, ds, evaluation)):
        if folds is not None and i not in folds:
            continue
        mask = np.ones(len(train), dtype=bool)
        mask[test_idx] = False
        fold_train = train.iloc[np.flatnonzero(mask)].reset_index(drop=True)
        units.append(Unit(fold=i, split=evaluation.train, train=_subset(fold_train, ds, evaluation),
                          test=train.iloc[test_idx].reset_index(drop=True),
                          held_out_target=None if names is None else names[i]))
    return units


def transfer_unit(train_ds: BuiltDataset, test_ds: BuiltDataset, evaluation: EvaluationSpec, pair: Pair) -> Unit:
    """The unit of a transfer pair: ``train_ds``'s train rows, ``test_ds``'s test rows in the train label space."""
    from bench.run.transfer import map_test_frame

    if evaluation.test is None:
        raise ValueError("a transfer unit needs a test split")
    test = map_test_frame(_frame(test_ds, evaluation.test), pair, tuple(train_ds.labels))
    return Unit(fold=None, split=evaluation.test, train=_subset(_frame(train_ds, evaluation.train), train_ds, evaluation),
                test=test)


def _subset(train: pd.DataFrame, ds: BuiltDataset, evaluation: EvaluationSpec) -> pd.DataFrame:
    """The training rows, or the stratified nested subset that ``evaluation.train_subset`` asks for."""
    from bench.corpus.splits import SplitError, nested_subset

    subset = evaluation.train_subset
    if subset is None:
        return train
    first = [v[0] if isinstance(v, list) else v for v in train["label"]]
    try:
        keep = nested_subset(first, subset.size, subset.seed)
    except SplitError as exc:
        raise DataError(ds.path, None, "evaluation.train_subset.size", f"{exc} (dataset {ds.name!r})") from None
    return train.iloc[keep].reset_index(drop=True)


@functools.lru_cache(maxsize=4)
def feature_cache(cache_dir: Path) -> FeatureCache:
    """One cache object per folder and process, so that its in-memory entries are reused across jobs."""
    from bench.learn.cache import FeatureCache

    return FeatureCache(cache_dir)


def unit_features(ds: BuiltDataset, spec: FeatureSpec, blocks: Mapping[str, FeatureSpec], unit: Unit,
              cache_dir: Path, seed: int, fingerprint: str | None = None) -> FeatureMatrices:
    """The block's matrices on ``unit``; ``fingerprint`` (default: the dataset's) names the data in the cache key."""
    from bench.learn.cache import load_or_fit_features, split_hash

    return load_or_fit_features(feature_cache(cache_dir), spec, blocks, unit.train, unit.test,
                                stance=ds.task == "stance", seed=seed, fingerprint=fingerprint or ds.fingerprint,
                                train_ids_hash=split_hash(unit.train["id"].to_list(), unit.test["id"].to_list()))


def feature_seed(evaluation: EvaluationSpec) -> int:
    """Features are shared by every model seed, so their seed is the fold seed (or 0)."""
    return evaluation.cv.seed if evaluation.cv else 0
