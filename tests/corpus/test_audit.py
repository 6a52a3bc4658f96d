"""MinHash near-duplicates: estimates track Jaccard, edited copies are found, hashes are process-stable."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from bench.corpus.audit import (NearDuplicates, cluster_near_duplicates, minhash_signatures, near_duplicate_pairs,
                                text_keys)

WORDS = ("council river bridge budget school market court police storm harvest museum train station "
         "festival hospital teacher farmer election minister vote plan road port factory").split()


def random_text(rng: np.random.Generator, n_words: int = 120) -> str:
    return " ".join(rng.choice(WORDS, size=n_words)) + f" {rng.integers(10**9)}"


def find_near_duplicates(texts: list[str], *, shingle: int, permutations: int, bands: int,
                         threshold: float) -> NearDuplicates:
    """Clusters of ``texts`` as the builder finds them: signatures of the distinct texts, then clustering."""
    keys = text_keys(texts)
    _, first = np.unique(keys, return_index=True)
    signatures = minhash_signatures([texts[i] for i in first], shingle=shingle, permutations=permutations)
    return cluster_near_duplicates(keys, signatures, bands=bands, threshold=threshold)


def shingles(text: str, k: int) -> set[tuple[str, ...]]:
    words = text.lower().split()
    return {tuple(words[i:i + k]) for i in range(len(words) - k + 1)}


def test_signature_agreement_estimates_jaccard(rng: np.random.Generator) -> None:
    base = [f"w{i}" for i in rng.permutation(400)]
    for keep in (300, 380):
        other = base[:keep] + [f"x{i}" for i in range(400 - keep)]
        a, b = " ".join(base), " ".join(other)
        sa, sb = shingles(a, 3), shingles(b, 3)
        true = len(sa & sb) / len(sa | sb)
        sig = minhash_signatures([a, b], shingle=3, permutations=256)
        assert abs(np.mean(sig[0] == sig[1]) - true) < 0.1


def test_edited_copy_is_a_near_duplicate_and_unrelated_texts_are_not(rng: np.random.Generator) -> None:
    texts = [random_text(rng) for _ in range(200)]
    words = texts[7].split()
    words[60] = "CHANGED"
    texts.append(" ".join(words) + " (Reuters)")
    found = find_near_duplicates(texts, shingle=5, permutations=64, bands=16, threshold=0.8)
    assert found.cluster[200] == found.cluster[7]
    assert len(set(found.cluster.tolist())) == 200


def test_exact_copies_share_a_key_and_a_cluster() -> None:
    texts = ["same words here", "other words", "same words here"]
    keys = text_keys(texts)
    assert keys[0] == keys[2] != keys[1]
    found = find_near_duplicates(texts, shingle=2, permutations=16, bands=8, threshold=0.8)
    assert found.cluster[0] == found.cluster[2] != found.cluster[1]


def test_short_and_empty_texts_get_signatures() -> None:
    sig = minhash_signatures(["one", "two words", "", "one"], shingle=5, permutations=8)
    assert (sig[2] == np.iinfo(np.uint32).max).all()
    assert (sig[0] == sig[3]).all() and not (sig[0] == sig[1]).all()
    assert len(near_duplicate_pairs(sig, bands=4, threshold=0.8)) == 1


@pytest.mark.parametrize("hash_seed", ["1", "2"])
def test_signatures_do_not_depend_on_python_hash_seed(hash_seed: str) -> None:
    code = ("from bench.corpus.audit import minhash_signatures, text_keys;"
            "print(int(minhash_signatures(['le port de Vinh reçoit un navire', 'a b c d e f'], shingle=2,"
            " permutations=8).astype('int64').sum()), int(text_keys(['x'])[0]))")
    env = {"PYTHONHASHSEED": hash_seed, "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    local = minhash_signatures(["le port de Vinh reçoit un navire", "a b c d e f"], shingle=2, permutations=8)
    assert out.split() == [str(int(local.astype("int64").sum())), str(int(text_keys(["x"])[0]))]
