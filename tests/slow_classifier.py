"""A scikit-learn classifier that takes a set time to fit, so tests can interrupt a run midway."""

from __future__ import annotations

import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class SlowClassifier(ClassifierMixin, BaseEstimator):
    """Predicts the most frequent training label after sleeping ``delay`` seconds in ``fit``."""

    def __init__(self, delay: float = 0.5) -> None:
        self.delay = delay

    def fit(self, X, y):  # noqa: ANN001, ANN201 - scikit-learn signature
        time.sleep(self.delay)
        self.classes_, counts = np.unique(y, return_counts=True)
        self.majority_ = self.classes_[np.argmax(counts)]
        return self

    def predict(self, X):  # noqa: ANN001, ANN201
        return np.full(X.shape[0], self.majority_)

    def predict_proba(self, X):  # noqa: ANN001, ANN201
        proba = np.zeros((X.shape[0], len(self.classes_)))
        proba[:, int(np.flatnonzero(self.classes_ == self.majority_)[0])] = 1.0
        return proba


def slow_config(topic: str, *, delay: float, seeds: int, metrics: str, samples: int) -> str:
    """A run config whose one model is ``SlowClassifier``: ``seeds`` jobs of ``delay`` seconds each."""
    return f"""\
name: slow
datasets: [{topic}]
features:
  - {{name: word, kind: tfidf}}
models:
  - {{name: slow, estimator: tests.slow_classifier.SlowClassifier, params: {{delay: {delay}}}}}
seeds: {list(range(seeds))}
evaluation:
  metrics: [{metrics}]
  bootstrap: {{samples: {samples}}}
"""
