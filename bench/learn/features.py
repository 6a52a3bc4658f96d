"""Feature blocks: vectorizers by name, stance interaction features, checked and fitted.

A feature block (``FeatureSpec``) names a kind from ``FEATURES`` and keyword parameters that
go straight to the scikit-learn vectorizer, checked against its signature before anything
runs. Every matrix handed to a model is CSR with sorted indices: liblinear fails on the
read-only memory maps that joblib makes of unsorted matrices, and sorted fits are faster.

Stance tasks featurize ``text`` and ``target`` with ONE vectorizer fitted on the training
texts and targets together, so that both live in the same vector space: the columns are
``[text | target | interaction]``, where the interaction (``interaction: cosine``) is the
cosine of the two vectors, that cosine one-hot in ``COSINE_BINS`` bins (a linear model can
then learn a non-monotone effect, e.g. "very similar" is *agree*/*discuss*, "somewhat" is
*disagree*), and, for term features, the share of target terms found in the text;
``interaction: cosine_only`` makes the block that cosine alone (UCLMR's similarity column). A
union's own ``interaction`` has no effect: each member brings what its own setting gives;
topic tasks have no target, so there ``interaction`` has no effect either. For
stance the vectorizer is fitted on the *distinct* train texts and targets: FNC-1 pairs each
body with ~30 headlines, and counting a body 30 times would skew idf and ``min_df`` by how
many headlines it got (and each body is vectorized once instead of once per headline).

Heavy modules (scipy, scikit-learn, pandas) are imported inside functions, so that
``bench --help`` and ``bench validate`` do not pay for them until a feature is checked.
Caching is not this module's business: ``bench.learn.cache`` wraps ``fit_features`` (and
passes itself in as ``member`` for unions), so fitting never depends on how results are kept.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench.core.errors import DataError, MissingExtraError
from bench.core.plugins import summary
from bench.core.registry import Registry
from bench.learn.feature_types import FeatureMatrices, FeatureParamError
from bench.learn.import_path import split_import_path

if TYPE_CHECKING:
    import pandas as pd
    from scipy import sparse

    from bench.config.spec import FeatureSpec

COSINE_BINS = 10

__all__ = ["COSINE_BINS", "FEATURES", "FeatureKind", "FeatureMatrices", "FeatureParamError", "check_feature_params",
           "features_nonnegative", "fit_features", "interaction_features", "pair_cosine"]


@dataclass(frozen=True, kw_only=True)
class FeatureKind:
    """A kind of feature block.

    Attributes:
        name: the ``kind`` in configs.
        vectorizer: import path of the scikit-learn style class (``None`` for ``union``).
        description: one line for ``bench validate`` and the docs.
        terms: whether columns are terms (sparse counts/weights), which enables the
            target-coverage interaction feature.
        extra: the optional dependency group the vectorizer needs, if any.
    """

    name: str
    vectorizer: str | None
    description: str
    terms: bool = True
    extra: str | None = None


def _adapt_plugin(name: str, obj: Any, path: str) -> FeatureKind:
    """A ``newsbench.features`` entry point: a ``FeatureKind``, or a transformer class at ``path``."""
    if isinstance(obj, FeatureKind):
        return FeatureKind(name=name, vectorizer=obj.vectorizer, description=obj.description, terms=obj.terms,
                           extra=obj.extra)
    if not isinstance(obj, type):
        raise TypeError(f"{path} is neither a FeatureKind nor a class")
    return FeatureKind(name=name, vectorizer=path, description=summary(obj, path), terms=False)


# common names for registered feature kinds: used for suggestions only, never to resolve a config
FEATURE_ALIASES = {"tf_idf": ["tfidf"], "bow": ["count", "tfidf"], "bag_of_words": ["count", "tfidf"],
                   "counts": ["count"], "hash": ["hashing"], "embeddings": ["embedding"], "use": ["embedding"],
                   "concat": ["union"], "stack": ["union"]}
FEATURES: Registry[FeatureKind] = Registry("feature kind", FEATURE_ALIASES, adapt=_adapt_plugin)
for _kind in (
    FeatureKind(name="tfidf", vectorizer="sklearn.feature_extraction.text.TfidfVectorizer",
                description="tf-idf of word or character n-grams (analyzer: word | char | char_wb)"),
    FeatureKind(name="count", vectorizer="sklearn.feature_extraction.text.CountVectorizer",
                description="n-gram counts"),
    FeatureKind(name="hashing", vectorizer="sklearn.feature_extraction.text.HashingVectorizer",
                description="hashed n-grams: no vocabulary, constant memory, for large corpora"),
    FeatureKind(name="embedding", vectorizer="bench.learn.embeddings.SentenceEmbedder", terms=False,
                extra="embeddings",
                description="multilingual sentence embeddings (USE v3, 512 dims, weights in the package)"),
    FeatureKind(name="union", vectorizer=None, description="the blocks named in `of`, side by side"),
):
    FEATURES.add(_kind.name, _kind)


def feature_kind(name: str) -> FeatureKind:
    """A registered kind, or a custom one by import path (a class with ``fit``/``transform`` on texts).

    A custom kind's columns are not known to be terms, so a stance block gets the cosine
    interaction but not the share of target terms (see the module doc).
    """
    if "." in name:
        return FeatureKind(name=name, vectorizer=name, description=f"custom block {name}", terms=False)
    return FEATURES.get(name)


def _closest(name: str, choices: list[str]) -> list[str]:
    """The choice equal to ``name`` but for case, else the closest one (``c`` -> ``C``)."""
    same = [c for c in choices if c.lower() == name.lower()]
    return same or difflib.get_close_matches(name, choices, n=1)


def _import(path: str) -> Any:
    """The class at a feature kind's import path, its shape checked before the import runs any code."""
    try:
        module, name = split_import_path(path)
    except ValueError as exc:
        raise FeatureParamError("kind", f"vectorizer {path!r} cannot be used: {exc}") from None
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise FeatureParamError("kind", f"vectorizer {path!r} cannot be used: it cannot be imported ({exc}); "
                                "check the import path, e.g. sklearn.feature_extraction.text.TfidfVectorizer") from None
    missing = [m for m in ("fit", "transform") if not callable(getattr(cls, m, None))]
    if not isinstance(cls, type) or missing:
        raise FeatureParamError("kind", f"{path} is not a class with fit and transform; a feature block is a "
                                "class whose fit(texts) learns and transform(texts) returns a matrix")
    return cls


# --- checking ------------------------------------------------------------------------------

_FIXED = {"input": "newsbench passes the texts themselves"}  # vectorizer params we own
_TUPLE_PARAMS = ("ngram_range",)


def _normalize_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """YAML values -> what scikit-learn expects (lists -> tuples, dtype names -> types)."""
    out = dict(params)
    for key in _TUPLE_PARAMS:
        if isinstance(out.get(key), list):
            out[key] = tuple(out[key])
    if isinstance(out.get("dtype"), str):
        import numpy as np

        try:
            out["dtype"] = np.dtype(out["dtype"]).type
        except TypeError:
            raise FeatureParamError("params.dtype", f"unknown dtype {params['dtype']!r}; "
                                    "use float32 or float64") from None
    return out


def check_feature_params(spec: FeatureSpec, blocks: Mapping[str, FeatureSpec] | None = None) -> None:
    """Check a block's kind, parameters and (for ``union``) members before anything runs.

    Args:
        spec: the block.
        blocks: all blocks of the config by name; when given, ``union`` members are checked.

    Raises:
        FeatureParamError: a ``ValueError`` whose message is ``"<key>: <problem>; <fix>"``.
        UnknownNameError: ``kind`` is not registered (with suggestions).
    """
    kind = feature_kind(spec.kind)
    if kind.vectorizer is None:
        _check_union(spec, blocks)
        return
    if spec.of:
        raise FeatureParamError("of", f"only kind 'union' takes 'of' (this block is {spec.kind!r}); "
                                "remove it or make a union block")
    if kind.extra == "embeddings":
        from bench.learn.embeddings import import_embeddings

        try:
            import_embeddings()
        except MissingExtraError as exc:
            raise FeatureParamError("kind", str(exc)) from None
    cls = _import(kind.vectorizer)
    signature = inspect.signature(cls).parameters.values()
    allowed = [p.name for p in signature if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    any_key = any(p.kind is p.VAR_KEYWORD for p in signature)
    for key in spec.params:
        if key in _FIXED:
            raise FeatureParamError(f"params.{key}", f"cannot be set: {_FIXED[key]}; remove it")
        if key not in allowed and not any_key:
            hint = _closest(str(key), allowed)
            raise FeatureParamError(f"params.{key}", f"unknown parameter {key!r} of {cls.__name__}; "
                                    + (f"did you mean {hint[0]!r}?" if hint
                                       else f"expected one of {', '.join(allowed)}"))
    params = _normalize_params(spec.params)
    ngram = params.get("ngram_range")
    if ngram is not None and not (isinstance(ngram, tuple) and len(ngram) == 2
                                  and all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in ngram)
                                  and ngram[0] <= ngram[1]):
        raise FeatureParamError("params.ngram_range", f"expected [min_n, max_n] with 1 <= min_n <= max_n, "
                                f"got {spec.params['ngram_range']!r}; e.g. [1, 2]")
    vectorizer = cls(**params)
    check = getattr(vectorizer, "check", None)
    if check is not None:  # newsbench's own vectorizers (SentenceEmbedder) check their parameters
        check()
    validate = getattr(vectorizer, "_validate_params", None)
    if validate is not None:  # scikit-learn's own checks (types, ranges, choices), run before fit
        from sklearn.utils._param_validation import InvalidParameterError

        try:
            validate()
        except InvalidParameterError as exc:
            raise FeatureParamError(_param_in(str(exc), "params"), f"{str(exc).rstrip('.')}; fix the value") from None


def _param_in(message: str, prefix: str) -> str:
    """``"The 'C' parameter of X must be ..."`` -> ``"params.C"``."""
    match = re.search(r"The '([^']+)' parameter", message)
    return f"{prefix}.{match.group(1)}" if match else prefix


def _check_union(spec: FeatureSpec, blocks: Mapping[str, FeatureSpec] | None) -> None:
    if spec.params:
        raise FeatureParamError("params", "a union takes no params; set them on its member blocks")
    if not spec.of:
        raise FeatureParamError("of", "a union needs the names of the blocks to join; e.g. of: [word, char]")
    if len(set(spec.of)) != len(spec.of):
        raise FeatureParamError("of", f"a block is named twice in {list(spec.of)}; name each once")
    if blocks is None:
        return
    for name in spec.of:
        if name not in blocks:
            hint = difflib.get_close_matches(name, list(blocks), n=1)
            raise FeatureParamError("of", f"no feature block named {name!r}"
                                    + (f"; did you mean {hint[0]!r}?" if hint else "; define it under features"))
    _union_members(spec, blocks)  # raises on cycles


def _union_members(spec: FeatureSpec, blocks: Mapping[str, FeatureSpec],
                   trail: tuple[str, ...] = ()) -> list[FeatureSpec]:
    """The base (non-union) blocks of ``spec`` in column order."""
    if spec.kind != "union":
        return [spec]
    if spec.name in trail:
        raise FeatureParamError("of", f"unions refer to each other in a cycle ({' -> '.join((*trail, spec.name))}); "
                                "break the cycle")
    out: list[FeatureSpec] = []
    for name in spec.of:
        out += _union_members(blocks[name], blocks, (*trail, spec.name))
    return out


def features_nonnegative(spec: FeatureSpec, blocks: Mapping[str, FeatureSpec]) -> bool:
    """Whether every value of the block is >= 0 (naive Bayes models need that)."""
    for member in _union_members(spec, blocks):
        if "." in member.kind:  # unknown until fitted: fit_predict refuses negative values then
            continue
        if member.kind == "embedding":
            return False
        if member.kind == "hashing" and member.params.get("alternate_sign", True):
            return False
    return True


# --- fitting -------------------------------------------------------------------------------

def _texts(frame: pd.DataFrame, column: str) -> list[str]:
    if column not in frame.columns:
        raise DataError("dataset", None, column, f"stance features need a {column!r} column, and the split has "
                        f"only {list(frame.columns)}; build the dataset with a {column!r} column")
    return frame[column].tolist()


def _to_csr(matrix: Any, dtype: Any = None) -> sparse.csr_matrix:
    from scipy import sparse

    X = sparse.csr_matrix(matrix, dtype=dtype)
    X.sort_indices()
    return X


def _distinct(texts: list[str]) -> tuple[Any, list[str]]:
    """Codes into the distinct texts (first-seen order) and the distinct texts."""
    import pandas as pd

    codes, uniques = pd.factorize(pd.Series(texts, dtype=object), sort=False)
    return codes, list(uniques)


def pair_cosine(A: sparse.csr_matrix, B: sparse.csr_matrix) -> Any:
    """The cosine of each row of ``A`` with the same row of ``B`` (0 where either is all zeros)."""
    import numpy as np

    dot = np.asarray(A.multiply(B).sum(axis=1)).ravel()
    norm_a = np.sqrt(np.asarray(A.multiply(A).sum(axis=1)).ravel())
    denom = norm_a * np.sqrt(np.asarray(B.multiply(B).sum(axis=1)).ravel())
    return np.clip(np.divide(dot, denom, out=np.zeros_like(dot), where=denom > 0), -1.0, 1.0)


def interaction_features(A: sparse.csr_matrix, B: sparse.csr_matrix, *, terms: bool) -> Any:
    """Columns that relate text rows ``A`` to target rows ``B`` (same vector space).

    Returns a dense float64 array: the cosine of each pair, its one-hot bin of
    ``COSINE_BINS`` equal bins over [0, 1] (a negative cosine falls in the first), and for
    term features the share of the target's terms that occur in the text.
    """
    import numpy as np

    cos = pair_cosine(A, B)
    bins = np.zeros((len(cos), COSINE_BINS))
    bins[np.arange(len(cos)), np.clip((cos * COSINE_BINS).astype(int), 0, COSINE_BINS - 1)] = 1.0
    columns = [cos[:, None], bins]
    if terms:
        a_on, b_on = A.astype(bool).astype(np.float64), B.astype(bool).astype(np.float64)
        shared = np.asarray(a_on.multiply(b_on).sum(axis=1)).ravel()
        n_target = np.asarray(b_on.sum(axis=1)).ravel()
        columns.append(np.divide(shared, n_target, out=np.zeros_like(shared), where=n_target > 0)[:, None])
    return np.hstack(columns)


def _fit_base(spec: FeatureSpec, train: pd.DataFrame, test: pd.DataFrame, *, stance: bool) -> tuple[Any, Any]:
    from scipy import sparse

    from bench.learn.analysis import fit_transform_texts, remember_analysis

    kind = feature_kind(spec.kind)
    vectorizer = _import(kind.vectorizer)(**_normalize_params(spec.params))
    # CV folds re-read the same texts: each is counted (or analyzed) once per process, and the matrices
    # are the same bit for bit (bench.learn.analysis)
    if not stance:
        texts = _texts(train, "text")
        if (counted := fit_transform_texts(vectorizer, texts, _texts(test, "text"))) is not None:
            X_train = _to_csr(counted[0])
            return X_train, _to_csr(counted[1], X_train.dtype)
    vectorizer = remember_analysis(vectorizer)
    if not stance:
        fitted = (vectorizer.fit_transform(texts) if hasattr(vectorizer, "fit_transform")
                  else vectorizer.fit(texts).transform(texts))  # a custom block may have fit and transform only
        X_train = _to_csr(fitted)
        return X_train, _to_csr(vectorizer.transform(_texts(test, "text")), X_train.dtype)
    train_text, train_target = _texts(train, "text"), _texts(train, "target")
    _, fit_docs = _distinct(train_text + train_target)
    vectorizer.fit(fit_docs)
    out = []
    for text, target in ((train_text, train_target), (_texts(test, "text"), _texts(test, "target"))):
        codes, distinct = _distinct(text + target)
        V = _to_csr(vectorizer.transform(distinct))
        A, B = V[codes[:len(text)]], V[codes[len(text):]]
        blocks = [A, B]
        if spec.interaction == "cosine":
            blocks.append(sparse.csr_matrix(interaction_features(A, B, terms=kind.terms).astype(V.dtype)))
        elif spec.interaction == "cosine_only":  # UCLMR's tf-idf similarity: one column, no vectors
            blocks = [sparse.csr_matrix(pair_cosine(A, B).astype(V.dtype)[:, None])]
        out.append(_to_csr(sparse.hstack(blocks, format="csr"), V.dtype))
    return out[0], out[1]


def fit_features(spec: FeatureSpec, blocks: Mapping[str, FeatureSpec], train: pd.DataFrame, test: pd.DataFrame,
                 *, stance: bool, seed: int,
                 member: Callable[[FeatureSpec], FeatureMatrices] | None = None) -> FeatureMatrices:
    """Fit a block on ``train`` and transform ``train`` and ``test``.

    Args:
        spec: the block; a ``union`` is its members' matrices side by side.
        blocks: every block of the config by name (to resolve ``union`` members).
        train, test: frames with ``text`` (and ``target`` when ``stance``).
        stance: featurize text and target and their interaction (see the module doc).
        seed: for kinds with randomness (none of the built-in kinds has any; the argument
            keeps the contract for those that will).
        member: how to get a union member's matrices (e.g. from a ``FeatureCache``);
            by default members are fitted here.

    Returns:
        The fitted matrices, CSR with sorted indices.
    """
    from scipy import sparse

    start = time.perf_counter()
    if spec.kind == "union":
        get = member or (lambda s: fit_features(s, blocks, train, test, stance=stance, seed=seed))
        parts = [get(blocks[name]) for name in spec.of]
        dtype = max((p.X_train.dtype for p in parts), key=lambda d: d.itemsize)
        X_train = _to_csr(sparse.hstack([p.X_train for p in parts], format="csr"), dtype)
        X_test = _to_csr(sparse.hstack([p.X_test for p in parts], format="csr"), dtype)
    else:
        X_train, X_test = _fit_base(spec, train, test, stance=stance)
    return FeatureMatrices(X_train=X_train, X_test=X_test, n_features=X_train.shape[1],
                           fit_seconds=time.perf_counter() - start)
