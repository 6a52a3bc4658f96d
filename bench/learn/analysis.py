"""Analyzed texts remembered within a process: cross-validation reads every text k times.

scikit-learn's text vectorizers (``CountVectorizer``, ``TfidfVectorizer``, ``HashingVectorizer``)
turn each text into its tokens or n-grams with the function ``build_analyzer()`` returns, in
``fit`` and again in ``transform``. Each fold of a k-fold CV fits on k-1 parts and transforms
the last, so every text is analyzed k times, and this analysis is most of a tf-idf fit (measured
on BBC News: regex tokenizing and n-gram joining were over half of ``_count_vocab``).

The analyzer is a pure function of the vectorizer's parameters and the text, so its output is
kept per parameter set and given back as is: the vectorizer sees the same tokens in the same
order and builds the same matrices bit for bit. For plain ``CountVectorizer``/``TfidfVectorizer``
the count of each term in each text is kept too, and a fold's matrices are cut from them
(``fit_transform_texts``). Only vectorizers whose parameters are plain values are served (a
callable tokenizer or preprocessor is not compared by value); ``MAX_TOKENS`` and ``MAX_TEXTS``
bound what is kept, so memory stays bounded on large corpora.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MAX_TOKENS = 5_000_000  # about 40 MB of pointers, plus the distinct tokens
# Texts counted and kept at most (their term lists too: some hundreds of MB for news with bigrams);
# a larger fit goes to scikit-learn's own path, with analyses kept up to MAX_TOKENS.
MAX_TEXTS = 20_000

_kept: dict[str, tuple[dict[str, tuple[str, ...]], dict[str, str]]] = {}
_n_tokens = 0


def _key(vectorizer: Any) -> str | None:
    """The parameters that decide the analysis, or ``None`` when they cannot be compared by value."""
    from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer

    if not isinstance(vectorizer, CountVectorizer | HashingVectorizer) or vectorizer.input != "content":
        return None
    params = vectorizer.get_params()
    if any(callable(params.get(name)) for name in ("analyzer", "tokenizer", "preprocessor")):
        return None
    return f"{type(vectorizer).__module__}.{type(vectorizer).__qualname__}{sorted(params.items())!r}"


def remember_analysis(vectorizer: Any) -> Any:
    """``vectorizer`` with an analyzer that serves texts analyzed before (same tokens, same order)."""
    key = _key(vectorizer)
    if key is None:
        return vectorizer
    build = vectorizer.build_analyzer

    def build_remembering() -> Callable[[str], Any]:
        analyze = build()  # the vectorizer's own checks of its parameters run here, as before
        seen, pool = _kept.setdefault(key, ({}, {}))

        def analyze_remembered(doc: Any) -> Any:
            global _n_tokens
            if not isinstance(doc, str):
                return analyze(doc)
            tokens = seen.get(doc)
            if tokens is None:
                tokens = analyze(doc)
                if _n_tokens + len(tokens) <= MAX_TOKENS:
                    tokens = tuple([pool.setdefault(t, t) for t in tokens])
                    seen[doc] = tokens
                    _n_tokens += len(tokens)
            return tokens

        return analyze_remembered

    vectorizer.build_analyzer = build_remembering
    return vectorizer


class _Counts:
    """Each text's distinct terms (ids into one growing term list, first occurrence first) and counts."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.terms: list[str] = []
        self.rows: dict[str, tuple[Any, Any]] = {}

    def row(self, doc: str, analyze: Callable[[str], Any]) -> tuple[Any, Any]:
        import numpy as np

        found = self.rows.get(doc)
        if found is not None:
            return found
        counter: dict[int, int] = {}
        for token in analyze(doc):
            i = self.ids.get(token)
            if i is None:
                i = self.ids[token] = len(self.terms)
                self.terms.append(token)
            counter[i] = counter.get(i, 0) + 1
        found = (np.fromiter(counter.keys(), dtype=np.int64, count=len(counter)),
                 np.fromiter(counter.values(), dtype=np.int64, count=len(counter)))
        self.rows[doc] = found
        return found


_counts: dict[str, _Counts] = {}


def _matrix(rows: list[tuple[Any, Any]], column: Any, order: Any, dtype: Any, n_columns: int) -> Any:
    """CSR of ``rows`` on the columns ``column[id] >= 0``, each row's entries sorted by ``order[id]``."""
    import numpy as np
    from scipy import sparse

    ids = np.concatenate([r[0] for r in rows]) if rows else np.zeros(0, dtype=np.int64)
    counts = np.concatenate([r[1] for r in rows]) if rows else np.zeros(0, dtype=np.int64)
    row_of = np.repeat(np.arange(len(rows)), [len(r[0]) for r in rows])
    keep = column[ids] >= 0
    ids, counts, row_of = ids[keep], counts[keep], row_of[keep]
    sort = np.lexsort((order[ids], row_of))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(row_of, minlength=len(rows)))])
    return sparse.csr_matrix((counts[sort].astype(dtype), column[ids[sort]].astype(np.int32),
                              indptr.astype(np.int32)), shape=(len(rows), n_columns))


def fit_transform_texts(vectorizer: Any, train: list[str], test: list[str]) -> tuple[Any, Any] | None:
    """What ``vectorizer.fit_transform(train)`` and ``.transform(test)`` return, with each text counted
    once per process, or ``None`` when this vectorizer is not one this knows to reproduce exactly.

    A plain ``CountVectorizer``/``TfidfVectorizer`` (no fixed vocabulary, no ``max_features``):
    the vocabulary is the terms of ``train`` whose document frequency is within ``min_df``/``max_df``,
    sorted; a train row's entries are in the order scikit-learn leaves them (its terms' first
    occurrence in ``train``), a test row's sorted by column, so that the tf-idf weights and row norms
    are summed in the same order and come out the same bit for bit.
    """
    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer

    key = _key(vectorizer)
    if (key is None or type(vectorizer) not in (CountVectorizer, TfidfVectorizer) or vectorizer.vocabulary is not None
            or vectorizer.max_features is not None or not train or not all(isinstance(t, str) for t in train + test)):
        return None
    n_doc = len(train)
    high = vectorizer.max_df if isinstance(vectorizer.max_df, int) else vectorizer.max_df * n_doc
    low = vectorizer.min_df if isinstance(vectorizer.min_df, int) else vectorizer.min_df * n_doc
    if high < low:
        return None  # scikit-learn's own error says it
    if len(train) + len(test) > MAX_TEXTS:
        return None
    if sum(len(c.rows) for c in _counts.values()) + len(train) + len(test) > MAX_TEXTS:
        _counts.clear()  # a new corpus: the term lists of the old one go
    analyze = vectorizer.build_analyzer()
    counts = _counts.setdefault(key, _Counts())
    train_rows = [counts.row(doc, analyze) for doc in train]
    test_rows = [counts.row(doc, analyze) for doc in test]
    n_terms = len(counts.terms)
    all_ids = np.concatenate([r[0] for r in train_rows])
    df = np.bincount(all_ids, minlength=n_terms)
    kept = np.flatnonzero((df > 0) & (df <= high) & (df >= low))
    if not len(kept):
        return None
    column = np.full(n_terms, -1, dtype=np.int64)
    column[sorted(kept.tolist(), key=counts.terms.__getitem__)] = np.arange(len(kept))
    first = np.zeros(n_terms, dtype=np.int64)
    seen, at = np.unique(all_ids, return_index=True)
    first[seen] = at  # where each term occurs first in train: the order scikit-learn numbers them in
    X_train = _matrix(train_rows, column, first, vectorizer.dtype, len(kept))
    X_test = _matrix(test_rows, column, column, vectorizer.dtype, len(kept))
    if vectorizer.binary:
        X_train.data.fill(1)
        X_test.data.fill(1)
    if type(vectorizer) is CountVectorizer:
        return X_train, X_test
    tfidf = TfidfTransformer(norm=vectorizer.norm, use_idf=vectorizer.use_idf, smooth_idf=vectorizer.smooth_idf,
                             sublinear_tf=vectorizer.sublinear_tf).fit(X_train)
    return tfidf.transform(X_train, copy=False), tfidf.transform(X_test, copy=False)
