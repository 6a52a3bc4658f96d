"""fastText supervised (Joulin et al. 2016) as a text-in model: ``estimator: fasttext``.

fastText learns from a file, one item per line with ``__label__<index>`` prefixes, so ``fit``
writes the training items into a temporary folder, trains, and deletes the folder; the
model then lives in memory. Items are cleaned for that format: every run of whitespace
(newlines included, which would end an item) and NUL becomes one space, and a word that
starts with the label prefix gets one more ``_`` so that it stays a word. A stance pair
``(target, text)`` becomes ``target ||| text`` (``PAIR_SEPARATOR``), one bag of words whose
target and text share the embeddings.

Multi-label data (an indicator matrix ``y``) trains one model with ``loss: ova`` (one
sigmoid per label, fastText's own multi-label loss); a label is predicted when its
probability reaches ``threshold``. Single-label data trains a softmax by default.

Determinism: with ``thread: 1`` (the default) and the run's seed as fastText's ``seed``,
two fits on the same data give the same model bit for bit. More threads train
asynchronously (Hogwild) and are faster but not reproducible. One thread has a catch:
fastText's single-thread initialisation fills only the first tenth of the embedding matrix
with random values and leaves the rest as the allocator returns it: zeros for a large matrix
in a fresh process, the bytes of earlier objects otherwise (seen here in a long test process:
values of 1e20 and "Encountered NaN"). ``_zeroed_memory`` makes glibc's allocator zero-fill
every block while fastText trains, so that rest is zeros every time, in any process.

The package is the ``fasttext`` extra (``fasttext-modern``, docs/models.md says why);
it is imported when a model is built, so that a missing extra is one line at
``bench validate``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import Interval, StrOptions

from bench.core.errors import BenchError, import_extra

LABEL_PREFIX = "__label__"
PAIR_SEPARATOR = " ||| "
LOSSES = ("softmax", "hs", "ns", "ova")

__all__ = ["LABEL_PREFIX", "PAIR_SEPARATOR", "FastTextClassifier", "clean_item"]


def clean_item(item: str | tuple[str, str]) -> str:
    """One text (or ``(target, text)`` pair) as one line of fastText input, without its label."""
    text = PAIR_SEPARATOR.join(item) if isinstance(item, tuple) else str(item)
    words = text.replace("\0", " ").split()
    return " ".join("_" + w if w.startswith(LABEL_PREFIX) else w for w in words)


class FastTextClassifier(ClassifierMixin, BaseEstimator):
    """fastText supervised: averaged word and word n-gram embeddings, then a linear softmax.

    Args:
        dim: size of the word vectors (Joulin et al. use 10).
        epoch: passes over the training items.
        lr: initial learning rate, decayed linearly to 0.
        word_ngrams: longest word n-gram (2: the paper's bigrams).
        min_count: words seen fewer times are dropped.
        minn, maxn: character n-gram lengths of subwords (0, 0: none, fastText's default
            for classification).
        bucket: hash buckets of word and character n-grams.
        loss: ``softmax``, ``hs`` (hierarchical softmax), ``ns`` (negative sampling) or
            ``ova`` (one-vs-all sigmoids); default softmax, and ova for multi-label data.
        threshold: multi-label only: a label is predicted when its probability reaches it.
        thread: training threads; 1 gives the same model for a seed every time.
        random_state: fastText's seed (set from the run's seeds).
    """

    newsbench_multilabel = True  # fits an indicator matrix itself (loss: ova): no one-vs-rest wrapper

    _parameter_constraints: dict[str, list[Any]] = {
        "dim": [Interval(Integral, 1, None, closed="left")],
        "epoch": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "word_ngrams": [Interval(Integral, 1, None, closed="left")],
        "min_count": [Interval(Integral, 1, None, closed="left")],
        "minn": [Interval(Integral, 0, None, closed="left")],
        "maxn": [Interval(Integral, 0, None, closed="left")],
        "bucket": [Interval(Integral, 0, None, closed="left")],
        "loss": [StrOptions(set(LOSSES)), None],
        "threshold": [Interval(Real, 0, 1, closed="both")],
        "thread": [Interval(Integral, 1, None, closed="left")],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
    }

    def __init__(self, *, dim: int = 10, epoch: int = 5, lr: float = 0.1, word_ngrams: int = 2,
                 min_count: int = 1, minn: int = 0, maxn: int = 0, bucket: int = 2_000_000,
                 loss: str | None = None, threshold: float = 0.5, thread: int = 1,
                 random_state: int | None = None) -> None:
        import_extra("fasttext", needed_by="estimator fasttext", package="fasttext-modern", extra="fasttext")
        self.dim, self.epoch, self.lr, self.word_ngrams = dim, epoch, lr, word_ngrams
        self.min_count, self.minn, self.maxn, self.bucket = min_count, minn, maxn, bucket
        self.loss, self.threshold, self.thread, self.random_state = loss, threshold, thread, random_state

    def fit(self, X: list[Any], y: np.ndarray) -> FastTextClassifier:
        """Write the items with their labels to a temporary file and train on it."""
        import fasttext

        self._validate_params()
        y = np.asarray(y)
        self.multilabel_ = y.ndim == 2
        loss = self.loss or ("ova" if self.multilabel_ else "softmax")
        if self.multilabel_ and loss != "ova":
            raise BenchError(f"estimator fasttext: multi-label data needs loss: ova (one sigmoid per label), got "
                             f"loss: {loss}; set params.loss: ova or remove it")
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} items but y has {len(y)} labels")
        n_classes = y.shape[1] if self.multilabel_ else int(y.max()) + 1 if len(y) else 0
        self.classes_ = np.arange(n_classes)
        # an item no word of which was seen in training gets no fastText output: it scores the label frequencies
        counts = y.sum(axis=0) if self.multilabel_ else np.bincount(y.astype(int), minlength=n_classes)
        self.prior_ = counts / max(len(y), 1)
        # fastText reads the file in order and decays its learning rate as it goes: items sorted by
        # label (as datasets often are) would end training on one label, so they are shuffled by the seed.
        order = np.random.default_rng(self.random_state).permutation(len(y))
        with tempfile.TemporaryDirectory(prefix="newsbench-fasttext-") as folder:
            path = os.path.join(folder, "train.txt")
            with open(path, "w", encoding="utf-8") as out:
                for i in order:
                    labels = np.flatnonzero(y[i]) if self.multilabel_ else [int(y[i])]
                    out.write(" ".join(f"{LABEL_PREFIX}{j}" for j in labels) + " " + clean_item(X[i]) + "\n")
            with _zeroed_memory():
                self.model_ = fasttext.train_supervised(
                    input=path, dim=self.dim, epoch=self.epoch, lr=self.lr, wordNgrams=self.word_ngrams,
                    minCount=self.min_count, minn=self.minn, maxn=self.maxn, bucket=self.bucket, loss=loss,
                    thread=self.thread, seed=(self.random_state or 0) % 2**31, verbose=0)
        return self

    def predict_proba(self, X: list[Any]) -> np.ndarray:
        """Per-label probabilities (softmax: rows sum to 1; ova: one sigmoid per label)."""
        labels, probs = self.model_.predict([clean_item(item) for item in X], k=-1, threshold=0.0)
        out = np.zeros((len(X), len(self.classes_)), dtype=np.float64)
        for row, (names, values) in enumerate(zip(labels, probs, strict=True)):
            if len(names) == 0:
                out[row] = self.prior_
                continue
            columns = [int(name[len(LABEL_PREFIX):]) for name in names]
            out[row, columns] = np.minimum(np.asarray(values, dtype=np.float64), 1.0)
        return out

    def predict(self, X: list[Any]) -> np.ndarray:
        """Label indices (single-label: the most probable) or a 0/1 matrix (multi-label: at or above ``threshold``)."""
        proba = self.predict_proba(X)
        if self.multilabel_:
            return (proba >= self.threshold).astype(np.int64)
        return self.classes_[np.argmax(proba, axis=1)] if len(X) else np.zeros(0, dtype=np.int64)


M_PERTURB = -6  # glibc mallopt: fill each new block with the complement of this byte (0xff: zeros)


@contextlib.contextmanager
def _zeroed_memory() -> Iterator[None]:
    """glibc's allocator hands out zero-filled blocks inside the block (see the module docstring)."""
    libc = None
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None)
            if libc.mallopt(M_PERTURB, 0xFF) != 1:
                libc = None
    if libc is None:
        warnings.warn("fastText: cannot make the allocator zero-fill memory on this platform; the part of "
                      "the embeddings fastText leaves uninitialised may differ between processes", stacklevel=3)
    try:
        yield
    finally:
        if libc is not None:
            libc.mallopt(M_PERTURB, 0)
