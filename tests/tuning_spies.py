"""Spies for the tuning tests: every feature fit and model fit records the row ids it saw.

``spy_fit_features`` wraps ``bench.learn.features.fit_features`` (patched into
``bench.learn.cache``) and appends one column holding a number per row id (``with_ids``), so that
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


NUMBERS: dict[str, int] = {}  # item id -> the number its row carries in the spy column


def _number(item: Any) -> int:
    return NUMBERS.setdefault(str(item), len(NUMBERS) + 1)


def with_ids(X: Any, ids: Any) -> Any:
    """``X`` with one more column: a number per item id, read back by ``ids_of``."""
    import numpy as np
    from scipy import sparse

    column = sparse.csr_matrix(np.asarray([_number(i) for i in ids], dtype=X.dtype).reshape(-1, 1))
    return sparse.hstack([X, column], format="csr")


def ids_of(X: Any) -> frozenset[str]:
    """The item ids of the rows of a matrix made by ``with_ids``."""
    names = {number: item for item, number in NUMBERS.items()}
    return frozenset(names[round(v)] for v in X[:, -1].toarray().ravel())


def matrices_with_ids(mats: Any, train: Any, test: Any) -> Any:
    """Feature matrices with the id column on both sides."""
    return dataclasses.replace(mats, X_train=with_ids(mats.X_train, train["id"]),
                               X_test=with_ids(mats.X_test, test["id"]), n_features=mats.n_features + 1)


def spy_fit_features(real: Callable[..., Any]) -> Callable[..., Any]:
    def fit(spec: Any, blocks: Any, train: Any, test: Any, **kwargs: Any) -> Any:
        FITS.append(("features", frozenset(train["id"].astype(str))))
        return matrices_with_ids(real(spec, blocks, train, test, **kwargs), train, test)

    return fit


class SpyLogistic(LogisticRegression):
    """Logistic regression that records the ids of the rows it is fitted on."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SpyLogistic:
        FITS.append(("model", ids_of(X)))
        return super().fit(X[:, :-1], y, sample_weight)

    def decision_function(self, X: Any) -> Any:
        return super().decision_function(X[:, :-1])
