"""The PyTorch MLP (bench/learn/neural.py, extra ``neural``) and the UCLMR feature blocks.

Tests that train need torch and skip without it; the missing-extra test runs either way
(it hides torch). The UCLMR block test needs only scikit-learn.
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from bench.cli import main
from bench.config.spec import FeatureSpec, ModelSpec
from bench.core.errors import MissingExtraError
from bench.learn.features import fit_features
from bench.learn.models import ModelParamError, build_estimator, check_model_params
from bench.learn.neural import TorchMLP, _torch_settings, import_torch
from tests.tiny_news import write_stance, write_topic

needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                                 reason="PyTorch is not installed: pip install -e '.[neural]'")


def blobs(rng: np.random.Generator, n: int, n_labels: int = 3, width: int = 40) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Sparse rows where label k fires its own 4 columns plus noise columns: separable, not trivially."""
    y = rng.integers(0, n_labels, size=n)
    X = (rng.random((n, width)) < 0.1) * rng.random((n, width))
    for row, label in enumerate(y):
        X[row, 4 * label: 4 * label + 4] += rng.random(4) + 0.5
    return sparse.csr_matrix(X), y


SMALL = {"epochs": 15, "batch_size": 32, "learning_rate": 0.01}


@needs_torch
def test_learns_a_separable_problem_from_sparse_and_dense_rows(rng: np.random.Generator, seed: int) -> None:
    X, y = blobs(rng, 300)
    X_test, y_test = blobs(rng, 200)
    for rows in (X, X.toarray()):
        model = TorchMLP(**SMALL, random_state=seed).fit(rows, y)
        proba = model.predict_proba(X_test)
        assert proba.shape == (200, 3)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        assert (model.predict(X_test) == y_test).mean() >= 0.95
        assert model.loss_curve_[-1] < model.loss_curve_[0] / 1.5


@needs_torch
def test_the_sparse_layer_computes_what_the_dense_one_does(rng: np.random.Generator, seed: int) -> None:
    """Forward and backward of the scipy sparse product against torch's dense matmul."""
    X, y = blobs(rng, 120)
    on_sparse = TorchMLP(**{**SMALL, "epochs": 3}, random_state=seed).fit(X, y)
    on_dense = TorchMLP(**{**SMALL, "epochs": 3}, random_state=seed).fit(X.toarray(), y)
    for a, b in zip(on_sparse.weights_, on_dense.weights_, strict=True):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(on_sparse.predict_proba(X), on_sparse.predict_proba(X.toarray()), rtol=1e-5)


@needs_torch
def test_one_seed_gives_the_same_bits_and_another_seed_does_not(rng: np.random.Generator, seed: int) -> None:
    X, y = blobs(rng, 250)
    fits = [TorchMLP(**SMALL, random_state=s).fit(X, y) for s in (seed, seed, seed + 1)]
    for a, b in zip(fits[0].weights_ + fits[0].biases_, fits[1].weights_ + fits[1].biases_, strict=True):
        assert a.detach().numpy().tobytes() == b.detach().numpy().tobytes()
    assert fits[0].predict_proba(X).tobytes() == fits[1].predict_proba(X).tobytes()
    assert fits[0].weights_[0].detach().numpy().tobytes() != fits[2].weights_[0].detach().numpy().tobytes()


@needs_torch
def test_fitting_leaves_torch_global_state_alone(rng: np.random.Generator) -> None:
    torch = import_torch()
    X, y = blobs(rng, 60)
    threads, deterministic, state = (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled(),
                                     torch.random.get_rng_state())
    TorchMLP(**SMALL, threads=1, random_state=0).fit(X, y).predict(X)
    assert torch.get_num_threads() == threads
    assert torch.are_deterministic_algorithms_enabled() == deterministic
    assert torch.equal(torch.random.get_rng_state(), state)  # dropout and weights use their own generator
    assert float(torch.tensor([1e-39]) * 1.0) != 0.0  # subnormals are numbers again outside the fit


@needs_torch
def test_fitting_flushes_subnormals_in_torch_and_in_scipys_products() -> None:
    """Subnormal weights made UCLMR's jobs five to eight times slower; inside the settings they are zeros."""
    torch = import_torch()
    tiny = np.float32(1e-39)  # below float32's smallest normal number (1.18e-38)
    with _torch_settings(torch, 1):
        assert float(torch.tensor([tiny]) * 1.0) == 0.0
        assert (sparse.csr_matrix([[tiny]]) @ np.ones((1, 1), np.float32))[0, 0] == 0.0
    assert float(torch.tensor([tiny]) * 1.0) != 0.0


@needs_torch
def test_penalty_counts_per_example_and_clipping_scales_the_global_norm() -> None:
    """UCLMR's loss: sum over the batch of (cross-entropy + l2 * sum(w^2) / 2), then clip_by_global_norm."""
    torch = import_torch()
    model = TorchMLP(weight_decay=0.1, loss_reduction="sum", clip_norm=None)
    model.weights_ = [torch.full((2, 2), 2.0, requires_grad=True)]
    model.biases_ = [torch.zeros(2, requires_grad=True)]
    params = model.weights_ + model.biases_
    for p in params:
        p.grad = torch.ones_like(p)
    model._penalize_and_clip(torch, params, n_rows=10)
    assert model.weights_[0].grad.tolist() == [[3.0, 3.0], [3.0, 3.0]]   # 1 + 10 rows * 0.1 * 2.0
    assert model.biases_[0].grad.tolist() == [1.0, 1.0]                  # biases are not penalised
    model.clip_norm = 2.0                                                  # global norm: sqrt(4*9 + 2) > 2
    model._penalize_and_clip(torch, params, n_rows=0)
    norm = math.sqrt(sum(float((p.grad ** 2).sum()) for p in params))
    assert norm == pytest.approx(2.0, rel=1e-6)
    assert float(model.weights_[0].grad[0, 0] / model.biases_[0].grad[0]) == pytest.approx(3.0)


def test_uclmr_blocks_are_headline_and_body_tf_and_their_tfidf_cosine() -> None:
    """The recipe's columns on hand-written texts: [body tf | headline tf | tf-idf cosine]."""
    train = pd.DataFrame({"text": ["cats chase dogs", "dogs bark loudly"], "target": ["dogs", "birds sing"]})
    test = pd.DataFrame({"text": ["cats cats dogs", "birds sing", "nothing shared"],
                         "target": ["dogs", "birds sing", "cats"]})
    blocks = {"tf": FeatureSpec(name="tf", kind="tfidf", params={"use_idf": False}, interaction="none"),
              "cos": FeatureSpec(name="cos", kind="tfidf", interaction="cosine_only"),
              "uclmr": FeatureSpec(name="uclmr", kind="union", of=("tf", "cos"))}
    mats = fit_features(blocks["uclmr"], blocks, train, test, stance=True, seed=0)
    vocab = sorted({"cats", "chase", "dogs", "bark", "loudly", "birds", "sing"})  # distinct training texts
    assert mats.n_features == 2 * len(vocab) + 1
    X = mats.X_test.toarray()
    body, head, cos = X[:, :len(vocab)], X[:, len(vocab):2 * len(vocab)], X[:, -1]
    at = vocab.index
    # term frequencies, L2-normalised: "cats cats dogs" -> (2, 1) / sqrt(5)
    assert body[0, at("cats")] == pytest.approx(2 / math.sqrt(5)) and body[0, at("dogs")] == pytest.approx(1 / math.sqrt(5))
    assert head[0, at("dogs")] == pytest.approx(1.0) and head[0].sum() == pytest.approx(1.0)
    # tf-idf cosine, idf = ln((1 + n) / (1 + df)) + 1 over the 4 distinct training texts and targets
    idf = {w: math.log(5 / (1 + df)) + 1 for w, df in {"cats": 1, "dogs": 3}.items()}
    assert cos[0] == pytest.approx(idf["dogs"] / math.sqrt((2 * idf["cats"]) ** 2 + idf["dogs"] ** 2))
    assert cos[1] == pytest.approx(1.0)      # headline equal to the body
    assert cos[2] == 0.0                     # no word in common (the body's words are unknown)


def test_missing_torch_is_one_line_naming_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)   # `import torch` now raises ImportError
    with pytest.raises(MissingExtraError, match=r"pip install 'newsbench\[neural\]'"):
        import_torch()
    with pytest.raises(ModelParamError, match=r"^estimator: estimator torch_mlp needs PyTorch"):
        check_model_params(ModelSpec(name="m", estimator="torch_mlp"))
    with pytest.raises(MissingExtraError, match="needs PyTorch"):
        TorchMLP().fit(np.eye(2), [0, 1])
    config = tmp_path / "c.yaml"
    config.write_text(f"name: c\ndatasets: [{write_topic(tmp_path / 'src')}]\nfeatures: [{{name: w, kind: tfidf}}]\n"
                      "models:\n  - {name: mlp, estimator: torch_mlp}\n")
    assert main(["validate", str(config), "--data", str(tmp_path / "data")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"bench: error: {config}:5: models[0]")
    assert "pip install 'newsbench[neural]'" in err[-1] and "Traceback" not in "".join(err)


def test_bad_values_and_blocks_fail_at_their_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_topic(tmp_path / "src")
    cases = {
        "  - {name: mlp, estimator: torch_mlp, params: {dropout: 1.0}}": r"models\[0\]\.params\.dropout: .*range",
        "  - {name: mlp, estimator: torch_mlp, params: {hidden_units: [100, 0]}}": r"params\.hidden_units: .*int >= 1",
        "  - {name: mlp, estimator: torch_mlp, blocks: [wrod]}": r"models\[0\]\.blocks\[0\]: .*did you mean 'word'",
    }
    for line, message in cases.items():
        config = tmp_path / "c.yaml"
        config.write_text(f"name: c\ndatasets: [{spec}]\nfeatures: [{{name: word, kind: tfidf}}]\nmodels:\n{line}\n")
        assert main(["validate", str(config), "--data", str(tmp_path / "data")]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and re.search(message, err), err


def test_cosine_only_needs_a_stance_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f"name: c\ndatasets: [{write_topic(tmp_path / 'src')}]\n"
                      "features: [{name: cos, kind: tfidf, interaction: cosine_only}]\n"
                      "models: [{name: svm, estimator: linear_svc}]\n")
    assert main(["run", str(config), "--data", str(tmp_path / "data"), "--results", str(tmp_path / "results"),
                 "--quiet"]) == 2
    assert "features[0].interaction: cosine_only is the cosine of a text and its target" in capsys.readouterr().err


UCLMR_LIKE = """\
name: uclmr-tiny
datasets: [{dataset}]
features:
  - {{name: tf, kind: tfidf, params: {{use_idf: false, max_features: 50}}, interaction: none}}
  - {{name: cos, kind: tfidf, params: {{max_features: 50}}, interaction: cosine_only}}
  - {{name: uclmr, kind: union, of: [tf, cos]}}
models:
  - name: mlp
    estimator: torch_mlp
    blocks: [uclmr]
    params: {{hidden_units: 16, epochs: 20, batch_size: 16}}
  - {{name: majority, estimator: majority, blocks: [uclmr]}}
seeds: [0, 1]
evaluation:
  metrics: [accuracy, f1_macro]
  bootstrap: {{samples: 20}}
"""


@needs_torch
@pytest.mark.slow
def test_a_config_runs_through_the_cli_and_repeats_bit_for_bit(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "uclmr.yaml"
    config.write_text(UCLMR_LIKE.format(dataset=write_stance(tmp_path / "src", n_train=90, n_test=45)))
    rows = []
    for attempt in ("a", "b"):
        code = main(["run", str(config), "--data", str(tmp_path / "data"), "--results", str(tmp_path / attempt),
                     "--quiet"])
        out, err = capsys.readouterr()
        assert code == 0, err
        run = Path(out.strip().splitlines()[-1])
        assert sorted(p.stem for p in (run / "jobs").glob("*.json")) == [
            f"tiny_stance__uclmr__{m}__s{s}" for m in ("majority", "mlp") for s in (0, 1)]  # the union only
        rows.append(json.loads((run / "metrics.json").read_text())["rows"])
    assert rows[0] == rows[1]
    value = {(r["model"], r["seed"], r["metric"]): r["value"] for r in rows[0]}
    for s in (0, 1):
        assert value[("mlp", s, "accuracy")] >= value[("majority", s, "accuracy")] + 0.2


@needs_torch
def test_multilabel_is_one_binary_network_per_label(rng: np.random.Generator, seed: int) -> None:
    X, y = blobs(rng, 240)
    Y = np.zeros((len(y), 3), dtype=np.int64)
    Y[np.arange(len(y)), y] = 1
    Y[y == 0, 1] = 1                                   # label 0 always comes with label 1
    model = build_estimator(ModelSpec(name="m", estimator="torch_mlp", params=SMALL), seed=seed, multilabel=True)
    pred = model.fit(X, Y).predict(X)
    assert pred.shape == Y.shape and (pred == Y).mean() >= 0.95
    assert all(isinstance(e, TorchMLP) and e.random_state == seed for e in model.estimators_)


@needs_torch
def test_the_uclmr_config_validates_to_five_seeds_of_the_union(data_root: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[1])  # the config names its dataset spec from the root
    assert main(["validate", "configs/fnc1_uclmr.yaml", "--data", str(tmp_path / "data")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:5] == [f"fnc1__uclmr__mlp__s{s}" for s in range(5)]
    assert "ok: 5 jobs" in out[5] and "5 model fits" in out[5]
