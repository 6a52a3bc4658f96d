"""Texts counted once per process give the matrices scikit-learn's vectorizers give, bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfVectorizer

from bench.learn.analysis import fit_transform_texts, remember_analysis
from bench.learn.features import _to_csr

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
VECTORIZERS = [
    (TfidfVectorizer, {"ngram_range": (1, 2), "sublinear_tf": True, "min_df": 2}),
    (TfidfVectorizer, {"analyzer": "char_wb", "ngram_range": (2, 4), "min_df": 2, "max_df": 0.9}),
    (TfidfVectorizer, {"dtype": np.float32, "norm": "l1", "smooth_idf": False, "lowercase": False}),
    (TfidfVectorizer, {"stop_words": "english", "max_df": 20, "use_idf": False}),
    (CountVectorizer, {"binary": True, "min_df": 0.05}),
    (CountVectorizer, {}),
]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """The bundled English and French articles, with one repeated (duplicates must count twice)."""
    docs = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))[:120]]
    return docs + docs[:1]


def _same(x, y) -> None:  # noqa: ANN001
    assert x.shape == y.shape and x.dtype == y.dtype
    assert np.array_equal(x.indptr, y.indptr) and np.array_equal(x.indices, y.indices)
    assert np.array_equal(x.data, y.data)  # exact: the same floats, not close ones


@pytest.mark.parametrize(("cls", "params"), VECTORIZERS, ids=lambda v: getattr(v, "__name__", str(v)))
def test_counted_folds_equal_sklearn_bit_for_bit(texts: list[str], cls: type, params: dict, seed: int) -> None:
    """Every fold of a shuffled 5-fold split, fitted twice in a row (the second from the kept counts)."""
    fold = np.random.default_rng(seed).integers(0, 5, len(texts))
    for k in [*range(5), 0]:
        train = [t for t, f in zip(texts, fold) if f != k]
        test = [t for t, f in zip(texts, fold) if f == k]
        plain = cls(**params)
        a = _to_csr(plain.fit_transform(train))
        b = _to_csr(plain.transform(test), a.dtype)
        counted = fit_transform_texts(cls(**params), train, test)
        assert counted is not None
        _same(a, _to_csr(counted[0]))
        _same(b, _to_csr(counted[1], a.dtype))


def test_what_it_cannot_reproduce_is_left_to_sklearn(texts: list[str]) -> None:
    """A fixed vocabulary, ``max_features``, a callable tokenizer or a subclass: ``None``, sklearn fits."""
    for vectorizer in (TfidfVectorizer(vocabulary=["the", "a"]), TfidfVectorizer(max_features=10),
                       TfidfVectorizer(tokenizer=str.split, token_pattern=None), HashingVectorizer(),
                       type("Custom", (TfidfVectorizer,), {})()):
        assert fit_transform_texts(vectorizer, texts[:20], texts[20:30]) is None


@pytest.mark.parametrize("params", [{"analyzer": "char", "ngram_range": (1, 3)}, {"ngram_range": (1, 2)}])
def test_remembered_analysis_gives_the_same_matrices(texts: list[str], params: dict) -> None:
    """A hashing vectorizer (never counted) analyzes each text once and transforms it as before."""
    for _ in range(2):
        remembered = remember_analysis(HashingVectorizer(**params)).transform(texts)
        _same(_to_csr(HashingVectorizer(**params).transform(texts)), _to_csr(remembered))


def test_counts_kept_stay_bounded(texts: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ``MAX_TEXTS`` a fit goes to sklearn, and a new corpus drops the old one's counts."""
    from bench.learn import analysis

    monkeypatch.setattr(analysis, "MAX_TEXTS", 40)
    assert fit_transform_texts(TfidfVectorizer(), texts[:40], texts[40:45]) is None
    for start in (0, 30):  # 30 + 30 texts kept > 40: the first corpus's counts are dropped
        counted = fit_transform_texts(TfidfVectorizer(), texts[start:start + 25], texts[start + 25:start + 30])
        assert counted is not None
        _same(_to_csr(TfidfVectorizer().fit_transform(texts[start:start + 25])), _to_csr(counted[0]))
        assert sum(len(c.rows) for c in analysis._counts.values()) <= 40
