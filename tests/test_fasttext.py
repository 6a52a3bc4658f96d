"""fastText supervised as a built-in text-in model (``estimator: fasttext``, bench/learn/fasttext_model.py).

The model tests need the optional extra and skip without it; the missing-extra message is
tested either way (the import is made to fail).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.cli import main
from bench.core.errors import BenchError, MissingExtraError
from bench.learn.fasttext_model import PAIR_SEPARATOR, FastTextClassifier, clean_item
from tests.tiny_news import write_multilabel, write_stance, write_topic

needs_fasttext = pytest.mark.skipif(importlib.util.find_spec("fasttext") is None,
                                    reason='fastText is the optional extra: pip install -e ".[fasttext]"')

WORDS = ("market shares profit bank trade", "match goal team player league", "software chip phone cloud data")
SHARED = "the a of and in today said officials city week".split()


def _toy(rng: np.random.Generator, n: int) -> tuple[list[str], np.ndarray]:
    """Three topics: 3 words of the item's topic among 7 shared ones, in random order."""
    y = rng.integers(0, 3, size=n)
    texts = [" ".join(rng.permutation(list(rng.choice(WORDS[k].split(), 3)) + list(rng.choice(SHARED, 7))))
             for k in y]
    return texts, y


@needs_fasttext
def test_it_learns_a_toy_problem_and_scores_are_probabilities(rng: np.random.Generator, seed: int) -> None:
    X_train, y_train = _toy(rng, 300)
    X_test, y_test = _toy(rng, 100)
    model = FastTextClassifier(epoch=25, lr=0.5, random_state=seed).fit(X_train, y_train)
    proba = model.predict_proba(X_test)
    assert proba.shape == (100, 3) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-3)
    assert np.array_equal(model.predict(X_test), proba.argmax(axis=1))
    assert np.mean(model.predict(X_test) == y_test) >= 0.9  # chance is 1/3


@needs_fasttext
def test_one_thread_and_a_seed_give_the_same_model_bit_for_bit(rng: np.random.Generator, seed: int) -> None:
    X, y = _toy(rng, 200)
    runs = [FastTextClassifier(epoch=5, random_state=s).fit(X, y).predict_proba(X) for s in (seed, seed, seed + 1)]
    assert runs[0].tobytes() == runs[1].tobytes()
    assert not np.array_equal(runs[0], runs[2])  # the seed reaches fastText (and the shuffle)


def test_items_become_one_line_and_text_cannot_pose_as_a_label() -> None:
    assert clean_item("Headline\n\nbody\twith\r\nbreaks\0 and  spaces ") == "Headline body with breaks and spaces"
    assert clean_item("see __label__2 here") == "see ___label__2 here"
    assert clean_item(("the target", "a\ntweet")) == f"the target{PAIR_SEPARATOR}a tweet"


@needs_fasttext
def test_stance_pairs_reach_the_model_with_their_target(rng: np.random.Generator, seed: int) -> None:
    """The label depends on the target alone: only a model that reads the target half can learn it."""
    targets = ("nuclear energy", "climate policy", "gun control")
    y = rng.integers(0, 3, size=300)
    X = [(targets[k], " ".join(rng.choice(SHARED, 8))) for k in y]
    model = FastTextClassifier(epoch=20, lr=0.5, random_state=seed).fit(X[:200], y[:200])
    assert np.mean(model.predict(X[200:]) == y[200:]) == 1.0


@needs_fasttext
def test_multi_label_trains_one_ova_model_and_softmax_is_refused(rng: np.random.Generator, seed: int) -> None:
    X, single = _toy(rng, 300)
    second = (single + 1) % 3
    y = np.zeros((300, 3), dtype=np.int64)
    y[np.arange(300), single] = 1
    y[np.arange(0, 300, 2), second[::2]] = 1  # every other item has a second topic
    X = [f"{text} {' '.join(rng.choice(WORDS[k].split(), 3))}" if i % 2 == 0 else text
         for i, (text, k) in enumerate(zip(X, second, strict=True))]
    model = FastTextClassifier(epoch=25, lr=0.5, random_state=seed).fit(X[:200], y[:200])
    pred = model.predict(X[200:])
    assert pred.shape == (100, 3) and set(np.unique(pred)) <= {0, 1}
    assert np.mean(pred == y[200:]) >= 0.9
    assert np.array_equal(pred, (model.predict_proba(X[200:]) >= 0.5).astype(int))
    with pytest.raises(BenchError, match=r"^estimator fasttext: multi-label data needs loss: ova .*got loss: "
                                         r"softmax; set params.loss: ova or remove it$"):
        FastTextClassifier(loss="softmax").fit(X, y)


def test_a_missing_extra_is_one_line_naming_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fasttext", None)  # import fasttext now raises ImportError
    with pytest.raises(MissingExtraError, match=r'^estimator fasttext needs the optional package fasttext-modern; '
                                                r'install it with: pip install -e "\.\[fasttext\]"$'):
        FastTextClassifier()


def _run(config: Path, root: Path, capsys: pytest.CaptureFixture[str], command: str = "run") -> tuple[int, str, str]:
    extra = ["--results", str(root / "results"), "--quiet"] if command == "run" else []
    code = main([command, str(config), "--data", str(root / "data"), *extra])
    out, err = capsys.readouterr()
    return code, out, err


def _values(run: Path) -> dict[tuple[str, str, str], float]:
    rows = json.loads((run / "metrics.json").read_text())
    rows = rows["rows"] if isinstance(rows, dict) else rows
    return {(r["dataset"], r["model"], r["metric"]): r["value"] for r in rows
            if r.get("fold") is None and r.get("target") is None}


@needs_fasttext
@pytest.mark.slow
def test_a_config_runs_fasttext_on_topic_stance_and_multi_label_data_reproducibly(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "src"
    datasets = [write_topic(src / "topic", n_train=90, n_test=45), write_stance(src / "stance", n_train=90, n_test=45),
                write_multilabel(src / "multi")]
    config = tmp_path / "ft.yaml"
    config.write_text(f"""name: ft
datasets: [{", ".join(map(str, datasets))}]
features: [{{name: w, kind: tfidf}}]
models:
  - {{name: majority, estimator: majority}}
  - {{name: ft, estimator: fasttext, params: {{epoch: 30, lr: 0.5, dim: 10}}}}
seeds: [3]
evaluation: {{metrics: [f1_macro, f1_micro], bootstrap: {{samples: 20}}}}
""")
    code, out, err = _run(config, tmp_path, capsys)
    assert code == 0, err
    first = _values(Path(out.strip().splitlines()[-1]))
    code, out, err = _run(config, tmp_path, capsys)
    assert code == 0, err
    assert _values(Path(out.strip().splitlines()[-1])) == first  # same config, data and seed: same metrics
    for name in ("tiny_topic", "tiny_stance"):
        assert first[(name, "ft", "f1_macro")] > first[(name, "majority", "f1_macro")] + 0.3
    assert first[("tiny_multi", "ft", "f1_macro")] > 0.5


@pytest.mark.parametrize(("model", "message"), [
    ("{name: ft, estimator: fasttext, params: {lr: -1}}",
     r"models\[0\]\.params\.lr: The 'lr' parameter of FastTextClassifier must be a float in the range \(0\.0, inf\)\. Got -1 instead; fix the value$"),
    ("{name: ft, estimator: fasttext, params: {wordNgrams: 2}}",
     r"models\[0\]\.params\.wordNgrams: unknown parameter 'wordNgrams' of FastTextClassifier; "
     r"did you mean 'word_ngrams'\?"),
    ("{name: ft, estimator: fasttext, params: {loss: hinge}}",
     r"models\[0\]\.params\.loss: The 'loss' parameter of FastTextClassifier must be a str among"),
    ("{name: ft, estimator: fasttext, input: features}",
     r"models\[0\]\.input: model 'ft' has input: features but fasttext reads text"),
])
def test_parameter_errors_are_one_line_before_anything_trains(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              model: str, message: str) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(f"name: bad\ndatasets: [{write_topic(tmp_path / 'src')}]\nfeatures: []\nmodels:\n  - {model}\n")
    code, _, err = _run(config, tmp_path, capsys, command="validate")
    assert code == 2 and err.count("\n") == 1, err
    assert re.search(message, err), err


@needs_fasttext
def test_the_embeddings_fasttext_leaves_uninitialised_are_zeros_in_a_used_process(rng: np.random.Generator,
                                                                                 seed: int) -> None:
    """fastText's one-thread start fills a tenth of the embeddings; the rest must not be leftover bytes.

    A small matrix comes from memory the process used before: without zero-filling, the
    leftover random bytes below give values like 1e20, "Encountered NaN" or another model.
    """
    import os

    X, y = _toy(rng, 200)
    first = FastTextClassifier(epoch=5, bucket=1000, random_state=seed).fit(X, y)
    junk = [bytearray(os.urandom(1 << 16)) for _ in range(2000)]  # freed blocks full of random bytes
    del junk
    second = FastTextClassifier(epoch=5, bucket=1000, random_state=seed).fit(X, y)
    matrix = second.model_.get_input_matrix()
    assert np.isfinite(matrix).all() and np.abs(matrix).max() < 10
    assert np.array_equal(first.model_.get_input_matrix(), matrix)
    assert first.predict_proba(X).tobytes() == second.predict_proba(X).tobytes()
