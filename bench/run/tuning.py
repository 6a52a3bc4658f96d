"""Tuning a model's parameters by inner cross-validation on the training rows only.

``search`` receives the training rows of one unit (the train split, or the training part of
one outer CV fold) and nothing else: the rows it scores candidates on are inner folds of those
rows, so the outer test rows cannot reach the choice. Inner folds are grouped when the rows
carry a ``group`` (no group on both sides), stratified by label otherwise, and depend only on
the fold seed, so every model seed shares them and their feature blocks come from the feature
cache once per inner fold. Each candidate is scored by the metric registry on the pooled
inner out-of-fold predictions; the best wins, ties going to the first in candidate order, and
the caller refits on all the training rows with the chosen parameters.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench.core.errors import DataError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from bench.config.spec import ModelSpec, TuneSpec
    from bench.learn.feature_types import FeatureMatrices

RANGES = ("uniform", "log_uniform")

FeaturesFor = Callable[["pd.DataFrame", "pd.DataFrame"], "FeatureMatrices"]


def range_of(value: Any) -> tuple[str, float, float] | None:
    """``("log_uniform", a, b)`` for a range value ``{log_uniform: [a, b]}``, ``None`` for a grid list."""
    if isinstance(value, dict) and len(value) == 1:
        (kind, bounds), = value.items()
        if kind in RANGES and isinstance(bounds, (list, tuple)) and len(bounds) == 2:
            return kind, float(bounds[0]), float(bounds[1])
    return None


def n_candidates(tune: TuneSpec) -> int:
    """How many parameter sets the search tries."""
    if tune.n_iter is not None:
        return tune.n_iter
    return math.prod(len(values) for values in tune.params.values())


def candidates(tune: TuneSpec, seed: int) -> list[dict[str, Any]]:
    """The parameter sets to try, in a fixed order: the grid as written, or ``n_iter`` draws.

    Draws come from ``numpy.random.default_rng(tune.seed or seed)``: one value per parameter,
    in the order the parameters are written (a grid list is drawn uniformly among its values).
    """
    names = list(tune.params)
    if tune.n_iter is None:
        return [dict(zip(names, combo)) for combo in itertools.product(*(tune.params[n] for n in names))]
    import numpy as np

    rng = np.random.default_rng(tune.seed if tune.seed is not None else seed)
    out = []
    for _ in range(tune.n_iter):
        chosen: dict[str, Any] = {}
        for name in names:
            span = range_of(tune.params[name])
            if span is None:
                values = tune.params[name]
                chosen[name] = values[int(rng.integers(len(values)))]
            elif span[0] == "uniform":
                chosen[name] = float(rng.uniform(span[1], span[2]))
            else:
                chosen[name] = float(math.exp(rng.uniform(math.log(span[1]), math.log(span[2]))))
        out.append(chosen)
    return out


def inner_folds(train: pd.DataFrame, folds: int, seed: int, multilabel: bool) -> list[np.ndarray]:
    """Sorted row positions of each inner fold's test part: grouped by ``group`` when the rows have one.

    A row without a group is a group of its own.
    """
    import numpy as np
    from sklearn.model_selection import KFold, StratifiedGroupKFold, StratifiedKFold

    n = len(train)
    X = np.zeros((n, 1))
    strata = np.zeros(n, dtype=int) if multilabel else train["label"].astype(str).to_numpy()
    try:
        if "group" in train.columns and train["group"].notna().any():
            groups = np.where(train["group"].notna(), "g:" + train["group"].astype(str),
                              "id:" + train["id"].astype(str))
            split = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed).split(X, strata, groups)
        elif multilabel:
            split = KFold(n_splits=folds, shuffle=True, random_state=seed).split(X)
        else:
            split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(X, strata)
        return [np.sort(test) for _, test in split]
    except ValueError as exc:
        raise DataError("dataset", None, "tune.folds", f"cannot make {folds} inner folds of {n} training rows: "
                        f"{exc}; use fewer tune folds") from None


@dataclass(frozen=True, kw_only=True)
class TuneResult:
    """The search of one unit: every candidate with its inner CV score, and the one chosen."""

    params: dict[str, Any]
    candidates: tuple[dict[str, Any], ...]
    metric: str
    folds: int

    def record(self, fold: int | None) -> dict[str, Any]:
        """The ``tuning`` entry of ``jobs/<job_id>.json`` for one unit."""
        return {"fold": fold, "metric": self.metric, "folds": self.folds, "params": self.params,
                "candidates": list(self.candidates)}


def with_params(model: ModelSpec, params: Mapping[str, Any]) -> ModelSpec:
    """The model with ``params`` set over its own and no search space: what is fitted."""
    return dataclasses.replace(model, params={**model.params, **params}, tune=None)


def search(model: ModelSpec, train: pd.DataFrame, *, labels: Sequence[str], multilabel: bool,
           features_for: FeaturesFor, fold_seed: int, seed: int) -> TuneResult:
    """Choose ``model.tune``'s best candidate by inner CV on ``train`` (the training rows only).

    Args:
        model: a model with a ``tune`` search space.
        train: the training rows of one unit; nothing else is read.
        labels, multilabel: the dataset's label set.
        features_for: ``(inner_train, inner_test) -> FeatureMatrices`` (through the feature
            cache; its key includes the inner split's ids).
        fold_seed: the inner fold assignment's seed (the features' seed, shared by model seeds).
        seed: the job's seed (estimators' ``random_state``; random search unless ``tune.seed``).
    """
    import numpy as np

    from bench.learn.tasks import dataset_labels, fit_predict
    from bench.metrics import METRICS, score_metrics

    tune = model.tune
    if tune is None:
        raise ValueError(f"model {model.name!r} has no tune")
    spec = METRICS.get(tune.metric)
    tried = candidates(tune, seed)
    parts = []
    for test_idx in inner_folds(train, tune.folds, fold_seed, multilabel):
        mask = np.ones(len(train), dtype=bool)
        mask[test_idx] = False
        inner_train = train.iloc[np.flatnonzero(mask)].reset_index(drop=True)
        inner_test = train.iloc[test_idx].reset_index(drop=True)
        parts.append((inner_train, inner_test, features_for(inner_train, inner_test)))
    y_true = np.concatenate([dataset_labels(te, labels, multilabel) for _, te, _ in parts])
    scored: list[dict[str, Any]] = []
    for params in tried:
        fitted = with_params(model, params)
        preds, scores = [], []
        for inner_train, inner_test, mats in parts:
            targets = {}
            if model.per_target:
                targets = {"train_targets": inner_train["target"].astype(str).to_numpy(),
                           "test_targets": inner_test["target"].astype(str).to_numpy()}
            out = fit_predict(fitted, mats.X_train, dataset_labels(inner_train, labels, multilabel), mats.X_test,
                              seed=seed, multilabel=multilabel, n_labels=len(labels), **targets)
            preds.append(out.pred)
            scores.append(out.scores)
        pooled_scores = None if any(s is None for s in scores) else np.concatenate(scores)
        value = score_metrics([tune.metric], y_true=y_true, y_pred=np.concatenate(preds), labels=labels,
                              scores=pooled_scores)[0].value
        scored.append({"params": params, "score": value})
    best = _best([c["score"] for c in scored], spec.greater_is_better)
    return TuneResult(params=dict(tried[best]), candidates=tuple(scored), metric=tune.metric, folds=tune.folds)


def _best(values: Sequence[float], greater_is_better: bool) -> int:
    """Index of the best value; the first on ties; an undefined (NaN) value never wins over a defined one."""
    best = 0
    for i, value in enumerate(values):
        here, there = value, values[best]
        if math.isnan(here):
            continue
        if math.isnan(there) or (here > there if greater_is_better else here < there):
            best = i
    return best

