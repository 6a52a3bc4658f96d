"""Bring your own model (docs/models.md): text-in models and feature blocks by import path, from a config.

The text-in ``Pipeline(TfidfVectorizer, LinearSVC)`` and the custom ``TfidfBlock`` compute the
same thing as the built-in ``tfidf`` block with ``linear_svc``, so their metrics must be
equal to the last digit: any difference would be the harness treating them differently.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench.cli import main
from bench.results.store import RunDir
from tests.test_cli_run import _spawn, _wait_for_jobs
from tests.tiny_news import write_stance, write_topic

PLUGINS = "tests.plugins.textmodels"
CONFIG = f"""\
name: byo
datasets: [{{dataset}}]
features:
  - {{{{name: word, kind: tfidf, params: {{{{ngram_range: [1, 2], sublinear_tf: true}}}}}}}}
  - {{{{name: mine, kind: {PLUGINS}.TfidfBlock, params: {{{{ngram_range: [1, 2], sublinear_tf: true}}}}}}}}
models:
  - {{{{name: svc, estimator: linear_svc, params: {{{{C: 0.5}}}}}}}}
  - {{{{name: pipe, estimator: {PLUGINS}.tfidf_linear_svc, input: text,
      params: {{{{ngram_range: [1, 2], sublinear_tf: true, C: 0.5}}}}}}}}
seeds: [0, 1]
evaluation:
  metrics: [accuracy, f1_macro, roc_auc]
  bootstrap: {{{{samples: 50}}}}
"""


def _run(config: Path, root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["run", str(config), "--data", str(root / "data"), "--results", str(root / "results"), "--quiet",
                 *args])
    out, err = capsys.readouterr()
    return code, out, err


def _values(run: Path) -> dict[tuple[str, str, int, str], float]:
    rows = json.loads((run / "metrics.json").read_text())
    rows = rows["rows"] if isinstance(rows, dict) else rows
    return {(r["features"], r["model"], r["seed"], r["metric"]): r["value"] for r in rows if r.get("fold") is None}


@pytest.fixture
def topic(tmp_path: Path) -> Path:
    return write_topic(tmp_path / "src" / "topic", n_train=60, n_test=30)


def test_a_text_in_pipeline_and_a_custom_block_equal_the_built_in_blocks(topic: Path, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "byo.yaml"
    config.write_text(CONFIG.format(dataset=topic))
    code, out, err = _run(config, tmp_path, capsys)
    assert code == 0, err
    run = Path(out.strip().splitlines()[-1])
    jobs = sorted(p.stem for p in (run / "jobs").glob("*.json"))
    # the text-in model runs once per dataset and seed, under the pseudo block `text`, not once per block
    assert jobs == sorted(f"tiny_topic__{f}__{m}__s{s}" for f, m in (("word", "svc"), ("mine", "svc"), ("text", "pipe"))
                          for s in (0, 1))
    values = _values(run)
    for seed in (0, 1):
        for metric in ("accuracy", "f1_macro", "roc_auc"):
            built_in = values[("word", "svc", seed, metric)]
            assert values[("mine", "svc", seed, metric)] == built_in
            assert values[("text", "pipe", seed, metric)] == built_in
    assert 0.5 < values[("word", "svc", 0, "accuracy")] < 1.0  # a real, imperfect model: equality means something
    predictions = {p.name for p in (run / "predictions").iterdir()}
    assert any("__text__pipe__" in name for name in predictions)


def test_a_text_in_stance_model_gets_target_text_pairs_and_cv_works(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    stance = write_stance(tmp_path / "src" / "stance", n_train=60, n_test=30)
    config = tmp_path / "stance.yaml"
    config.write_text(f"""name: pairs
datasets: [{stance}]
features: []
models:
  - {{name: pairs, estimator: {PLUGINS}.PairTfidfSVC, input: text}}
seeds: [0]
evaluation:
  train: train
  cv: {{folds: 3}}
  metrics: [accuracy]
  bootstrap: null
""")
    code, out, err = _run(config, tmp_path, capsys)
    assert code == 0, err
    run = Path(out.strip().splitlines()[-1])
    rows = json.loads((run / "metrics.json").read_text())
    rows = rows["rows"] if isinstance(rows, dict) else rows
    assert {r["fold"] for r in rows} == {None, 0, 1, 2}
    assert all(r["features"] == "text" and 0.0 <= r["value"] <= 1.0 for r in rows)


@pytest.mark.parametrize(("model", "message"), [
    (f"{{name: np, estimator: {PLUGINS}.NoPredict, input: text}}",
     (r"^bench: error: .*byo\.yaml:\d+: models\[1\]\.estimator: .*NoPredict without predict; a model implements "
      r"fit\(X, y\) and predict\(X\)\n$")),
    ("{name: bad, estimator: 'tests.plugins..Nope', input: text}",
     r"^bench: error: .*byo\.yaml:\d+: models\[1\]\.estimator: .*has an empty part.*\n$"),
    (f"{{name: gone, estimator: {PLUGINS}.Missing, input: text}}",
     r"^bench: error: .*models\[1\]\.estimator: module 'tests\.plugins\.textmodels' has no 'Missing'.*\n$"),
    ("{name: svc2, estimator: linear_svc, input: text}",
     (r"^bench: error: .*models\[1\]\.input: model 'svc2' has input: text but linear_svc reads features; "
      r"it is fitted on feature blocks.*\n$")),
])
def test_text_in_model_errors_are_one_line(topic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           model: str, message: str) -> None:
    config = tmp_path / "byo.yaml"
    config.write_text(f"""name: byo
datasets: [{topic}]
features: [{{name: word, kind: tfidf}}]
models:
  - {{name: svc, estimator: linear_svc}}
  - {model}
""")
    code, _, err = _run(config, tmp_path, capsys)
    assert code == 2
    assert re.match(message, err), err


def test_a_block_named_text_beside_a_text_in_model_is_refused(topic: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "byo.yaml"
    config.write_text(f"""name: byo
datasets: [{topic}]
features: [{{name: text, kind: tfidf}}]
models: [{{name: pipe, estimator: {PLUGINS}.tfidf_linear_svc, input: text}}]
""")
    code, _, err = _run(config, tmp_path, capsys)
    assert code == 2 and err.count("\n") == 1
    assert "features[0].name: 'text' is the feature name of text-in models' jobs; rename this block" in err


def test_text_in_with_streaming_is_refused(topic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "byo.yaml"
    config.write_text(f"""name: byo
datasets: [{topic}]
features: [{{name: h, kind: hashing}}]
models: [{{name: pipe, estimator: {PLUGINS}.tfidf_linear_svc, input: text}}]
evaluation: {{streaming: true}}
""")
    code, _, err = _run(config, tmp_path, capsys)
    assert code == 2 and err.count("\n") == 1
    assert "evaluation.streaming: model 'pipe' reads texts (input: text)" in err and "set streaming: false" in err


def test_a_custom_block_that_is_no_transformer_is_one_line(topic: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "byo.yaml"
    config.write_text(f"""name: byo
datasets: [{topic}]
features: [{{name: mine, kind: {PLUGINS}.NoPredict}}]
models: [{{name: svc, estimator: linear_svc}}]
""")
    code, _, err = _run(config, tmp_path, capsys)
    assert code == 2 and err.count("\n") == 1
    assert "features[0].kind: tests.plugins.textmodels.NoPredict is not a class with fit and transform" in err


@pytest.mark.slow
def test_a_killed_text_in_run_resumes_to_the_uninterrupted_metrics(topic: Path, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "slow.yaml"
    config.write_text(f"""name: slow
datasets: [{topic}]
features: []
models: [{{name: slow, estimator: {PLUGINS}.SlowTextModel, input: text, params: {{delay: 0.4}}}}]
seeds: [0, 1, 2, 3, 4, 5]
evaluation: {{metrics: [accuracy], bootstrap: {{samples: 50}}}}
""")
    project = {"data": tmp_path / "data", "results": tmp_path / "results"}
    proc = _spawn(project, str(config))
    partial = _wait_for_jobs(project, 2, proc)
    proc.kill()
    proc.wait(timeout=30)
    done = len(list((partial / "jobs").glob("*.json")))
    assert 2 <= done < 6
    code = main(["run", "--resume", str(partial), "--data", str(project["data"])])
    out, err = capsys.readouterr()
    assert code == 0 and f"{done} already done" in err
    resumed = Path(out.strip().splitlines()[-1])
    assert RunDir.open(resumed).manifest["status"] == "complete"
    code, out, _ = _run(config, tmp_path / "fresh", capsys)
    assert code == 0
    assert (resumed / "metrics.json").read_bytes() == (Path(out.strip().splitlines()[-1]) / "metrics.json").read_bytes()


def test_editing_a_custom_block_module_changes_its_cache_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.config.spec import FeatureSpec
    from bench.learn.cache import key_material

    module = tmp_path / "myblock_for_cache.py"
    module.write_text("class Block:\n    def fit(self, texts):\n        return self\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = FeatureSpec(name="mine", kind="myblock_for_cache.Block")
    before = key_material("f" * 64, "s", spec, {"mine": spec})
    module.write_text("class Block:\n    def fit(self, texts):\n        return self  # edited\n")
    after = key_material("f" * 64, "s", spec, {"mine": spec})
    assert before != after and '"code":' in before
    built_in = FeatureSpec(name="word", kind="tfidf")
    assert '"code":' not in key_material("f" * 64, "s", built_in, {"word": built_in})  # built-in keys unchanged
