"""Spies for the cross-target and drift tests: each model fit records the item ids it was fitted on.

``spy_fit_features`` wraps ``bench.learn.features.fit_features`` (patched into
``bench.learn.cache``) and appends one column holding a number per item id (from
``NUMBERS``), so that ``SpyLogistic`` (import path ``tests.generalization_spies.SpyLogistic``)
can read back which items reached its ``fit``; it drops the column before fitting and in
``decision_function``, which ``predict`` and ``predict_proba`` go through.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from sklearn.linear_model import LogisticRegression

FITS: list[frozenset[str]] = []
NUMBERS: dict[str, int] = {}


def _number(item: str) -> int:
    return NUMBERS.setdefault(str(item), len(NUMBERS) + 1)


def _with_ids(X: Any, ids: Any) -> Any:
    import numpy as np
    from scipy import sparse

    column = sparse.csr_matrix(np.asarray([_number(i) for i in ids], dtype=X.dtype).reshape(-1, 1))
    return sparse.hstack([X, column], format="csr")


def spy_fit_features(real: Callable[..., Any]) -> Callable[..., Any]:
    def fit(spec: Any, blocks: Any, train: Any, test: Any, **kwargs: Any) -> Any:
        mats = real(spec, blocks, train, test, **kwargs)
        return dataclasses.replace(mats, X_train=_with_ids(mats.X_train, train["id"]),
                                   X_test=_with_ids(mats.X_test, test["id"]), n_features=mats.n_features + 1)

    return fit


class SpyLogistic(LogisticRegression):
    """Logistic regression that records the ids of the items it is fitted on."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SpyLogistic:
        names = {number: item for item, number in NUMBERS.items()}
        FITS.append(frozenset(names[round(v)] for v in X[:, -1].toarray().ravel()))
        return super().fit(X[:, :-1], y, sample_weight)

    def decision_function(self, X: Any) -> Any:
        return super().decision_function(X[:, :-1])
