"""Spies for the tuning tests: every feature fit and model fit records the row ids it saw.

``spy_fit_features`` wraps ``bench.learn.features.fit_features`` (patched into
``bench.learn.cache``) and appends one column holding each row's id number + 1, so that
``SpyLogistic`` (used by import path, ``tests.tuning_spies.SpyLogistic``) can tell which rows
a model was fitted on; it drops that column before fitting and in
``decision_function``, which ``predict`` and ``predict_proba`` go through.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from sklearn.linear_model import LogisticRegression

FITS: list[tuple[str, frozenset[str]]] = []


def _id_number(item: str) -> int:
    return int(str(item).lstrip("d")) + 1


def _with_ids(X: Any, ids: Any) -> Any:
    import numpy as np
    from scipy import sparse

    column = sparse.csr_matrix(np.asarray([_id_number(i) for i in ids], dtype=X.dtype).reshape(-1, 1))
    return sparse.hstack([X, column], format="csr")


def spy_fit_features(real: Callable[..., Any]) -> Callable[..., Any]:
    def fit(spec: Any, blocks: Any, train: Any, test: Any, **kwargs: Any) -> Any:
        FITS.append(("features", frozenset(train["id"].astype(str))))
        mats = real(spec, blocks, train, test, **kwargs)
        return dataclasses.replace(mats, X_train=_with_ids(mats.X_train, train["id"]),
                                   X_test=_with_ids(mats.X_test, test["id"]), n_features=mats.n_features + 1)

    return fit


class SpyLogistic(LogisticRegression):
    """Logistic regression that records the ids of the rows it is fitted on."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SpyLogistic:
        ids = X[:, -1].toarray().ravel()
        FITS.append(("model", frozenset(f"d{round(v) - 1}" for v in ids)))
        return super().fit(X[:, :-1], y, sample_weight)

    def decision_function(self, X: Any) -> Any:
        return super().decision_function(X[:, :-1])
