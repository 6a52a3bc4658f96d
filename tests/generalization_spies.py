"""Spies for the cross-target and drift tests: each model fit records the item ids it was fitted on.

``spy_fit_features`` wraps ``bench.learn.features.fit_features`` (patched into
``bench.learn.cache``) and appends one column holding a number per item id
(``tests.tuning_spies.with_ids``), so that ``SpyLogistic`` (import path
``tests.generalization_spies.SpyLogistic``) can read back which items reached its ``fit``; it drops the column before fitting and in
``decision_function``, which ``predict`` and ``predict_proba`` go through.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sklearn.linear_model import LogisticRegression

from tests.tuning_spies import ids_of, matrices_with_ids

FITS: list[frozenset[str]] = []


def spy_fit_features(real: Callable[..., Any]) -> Callable[..., Any]:
    def fit(spec: Any, blocks: Any, train: Any, test: Any, **kwargs: Any) -> Any:
        return matrices_with_ids(real(spec, blocks, train, test, **kwargs), train, test)

    return fit


class SpyLogistic(LogisticRegression):
    """Logistic regression that records the ids of the items it is fitted on."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SpyLogistic:
        FITS.append(ids_of(X))
        return super().fit(X[:, :-1], y, sample_weight)

    def decision_function(self, X: Any) -> Any:
        return super().decision_function(X[:, :-1])
