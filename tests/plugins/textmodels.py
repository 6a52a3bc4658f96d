"""Models and a feature block brought by import path, as a researcher's own module would (docs/models.md)."""

from __future__ import annotations

import time

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC


def tfidf_linear_svc(ngram_range: tuple[int, int] = (1, 1), C: float = 1.0, sublinear_tf: bool = False) -> Pipeline:
    """A text-in model: tf-idf then a linear SVM, in one scikit-learn Pipeline."""
    return Pipeline([("tfidf", TfidfVectorizer(ngram_range=tuple(ngram_range), sublinear_tf=sublinear_tf)),
                     ("svc", LinearSVC(C=C))])


class PairTfidfSVC:
    """A text-in stance model on (target, text) pairs: both halves in one tf-idf space, side by side."""

    def __init__(self, C: float = 1.0, random_state: int | None = None) -> None:
        self.C, self.random_state = C, random_state

    def fit(self, X: list[tuple[str, str]], y: np.ndarray) -> PairTfidfSVC:
        targets, texts = zip(*X, strict=True)
        self.vectorizer_ = TfidfVectorizer().fit(list(texts) + list(targets))
        self.svc_ = LinearSVC(C=self.C, random_state=self.random_state).fit(self._matrix(X), y)
        self.classes_ = self.svc_.classes_
        return self

    def _matrix(self, X: list[tuple[str, str]]) -> object:
        from scipy import sparse

        targets, texts = zip(*X, strict=True)
        return sparse.hstack([self.vectorizer_.transform(texts), self.vectorizer_.transform(targets)], format="csr")

    def predict(self, X: list[tuple[str, str]]) -> np.ndarray:
        return self.svc_.predict(self._matrix(X))

    def decision_function(self, X: list[tuple[str, str]]) -> np.ndarray:
        return self.svc_.decision_function(self._matrix(X))


class SlowTextModel:
    """Predicts the most frequent training label after ``delay`` seconds (a run can be killed midway)."""

    def __init__(self, delay: float = 0.4) -> None:
        self.delay = delay

    def fit(self, X: list[str], y: np.ndarray) -> SlowTextModel:
        time.sleep(self.delay)
        values, counts = np.unique(y, return_counts=True)
        self.majority_ = values[np.argmax(counts)]
        return self

    def predict(self, X: list[str]) -> np.ndarray:
        return np.full(len(X), self.majority_)


class NoPredict:
    """Not a model: it can be fitted but predicts nothing."""

    def fit(self, X: list[str], y: np.ndarray) -> NoPredict:
        return self


class TfidfBlock:
    """A custom feature block: tf-idf of words, written as a researcher's own transformer."""

    def __init__(self, ngram_range: tuple[int, int] = (1, 1), sublinear_tf: bool = False) -> None:
        self.ngram_range, self.sublinear_tf = ngram_range, sublinear_tf

    def fit(self, texts: list[str]) -> TfidfBlock:
        self.vectorizer_ = TfidfVectorizer(ngram_range=tuple(self.ngram_range), sublinear_tf=self.sublinear_tf)
        self.vectorizer_.fit(texts)
        return self

    def transform(self, texts: list[str]) -> object:
        return self.vectorizer_.transform(texts)
