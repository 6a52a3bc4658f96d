"""Run configs: binding, --set overrides, the snapshot round trip, and golden bad configs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.run.benchmark import check_only
from bench.cli import main
from bench.config.spec import CVSpec, EvaluationSpec, FeatureSpec, ModelSpec
from bench.run.validate import load_config
from bench.core.errors import ConfigError
from bench.config.snapshot import config_hash, dump_config

HERE = Path(__file__).parent
BUILT = HERE / "data" / "built"
BAD = sorted((HERE / "configs" / "bad").glob("*.yaml"))

GOOD = """\
name: tiny
datasets: [topic_tiny]
features:
  - {name: word, kind: tfidf, params: {ngram_range: [1, 2], sublinear_tf: true}}
  - {name: char, kind: tfidf, params: {analyzer: char_wb, ngram_range: [2, 4]}}
  - {name: both, kind: union, of: [word, char]}
models:
  - {name: majority, estimator: majority}
  - {name: logreg, estimator: logistic_regression, params: {C: 2.0}}
  - {name: svm, estimator: sklearn.svm.LinearSVC}
seeds: [0, 1]
evaluation:
  metrics: [accuracy, f1_macro]
  bootstrap: {samples: 200, confidence: 0.9}
"""


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    return path


def test_good_config_binds_to_typed_specs(good: Path) -> None:
    config = load_config(good).config
    assert config.features[0] == FeatureSpec(name="word", kind="tfidf",
                                             params={"ngram_range": [1, 2], "sublinear_tf": True})
    assert config.features[2].of == ("word", "char")
    assert config.models[1] == ModelSpec(name="logreg", estimator="logistic_regression", params={"C": 2.0})
    assert config.seeds == (0, 1) and config.n_jobs == 1 * 3 * 3 * 2
    ev = config.evaluation
    assert (ev.train, ev.test, ev.cv) == ("train", "test", None)
    assert (ev.bootstrap.samples, ev.bootstrap.confidence) == (200, 0.9)


def test_bootstrap_defaults_on_and_null_turns_it_off(good: Path) -> None:
    assert load_config(good, ["evaluation.bootstrap={}"]).config.evaluation.bootstrap.samples == 1000
    assert load_config(good, ["evaluation.bootstrap=null"]).config.evaluation.bootstrap is None


def test_cv_replaces_the_test_split(good: Path) -> None:
    ev = load_config(good, ["evaluation.cv={folds: 3, by: label}"]).config.evaluation
    assert ev.cv == CVSpec(folds=3, by="label", seed=0) and ev.test is None


def test_overrides_are_validated_like_the_file(good: Path) -> None:
    config = load_config(good, ["seeds=[7, 8, 9]", "models.1.params.C=0.5"]).config
    assert config.seeds == (7, 8, 9) and config.models[1].params == {"C": 0.5}
    with pytest.raises(ConfigError, match=r"^--set: seeds\[0\]: expected an integer, got 'x'$"):
        load_config(good, ["seeds=[x]"])
    with pytest.raises(ConfigError, match=r"^--set: models\[1\]\.params\.Cee: unknown parameter 'Cee'"):
        load_config(good, ["models.1.params.Cee=1"])
    with pytest.raises(ConfigError, match=r"^--set: models\[9\]: no item 9 in a list of 3"):
        load_config(good, ["models.9.name=x"])


def test_snapshot_reloads_to_the_same_config(good: Path, tmp_path: Path) -> None:
    for overrides in ([], ["evaluation.cv={folds: 4}"], ["evaluation.bootstrap=null", "seeds=[3]"]):
        config = load_config(good, overrides).config
        snapshot = tmp_path / "snapshot.yaml"
        snapshot.write_text(dump_config(config))
        again = load_config(snapshot).config
        assert again == config and config_hash(again) == config_hash(config)


def test_config_hash_changes_with_any_setting(good: Path) -> None:
    base = config_hash(load_config(good).config)
    assert base == config_hash(load_config(good).config)
    assert base != config_hash(load_config(good, ["models.1.params.C=2.5"]).config)
    assert base != config_hash(load_config(good, ["evaluation.bootstrap.samples=300"]).config)


def test_evaluation_spec_defaults() -> None:
    ev = EvaluationSpec()
    assert ev.metrics == ("accuracy", "f1_macro") and ev.bootstrap is not None and not ev.by_target


def test_validate_accepts_the_good_config(good: Path) -> None:
    infos = check_only(load_config(good), BUILT)
    assert infos["topic_tiny"].labels == ("business", "sport", "tech")


def test_bad_config_corpus_is_large_enough() -> None:
    assert len(BAD) >= 15


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_config_fails_with_documented_message(path: Path) -> None:
    """Each golden bad config fails before anything runs, at the file, line and key it names."""
    expected = path.read_text().splitlines()[0].removeprefix("# error: ")
    with pytest.raises(ConfigError, match=expected) as info:
        check_only(load_config(path), BUILT)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


@pytest.mark.parametrize("name", ["unknown_model", "f_avg_on_topic", "missing_split"])
def test_bench_validate_exits_2_with_one_line(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = HERE / "configs" / "bad" / f"{name}.yaml"
    assert main(["validate", str(path), "--data", str(BUILT)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"bench: error: {path}:")


def test_bench_validate_lists_jobs(good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(good), "--data", str(BUILT), "--set", "seeds=[5]"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["topic_tiny__word__majority__s5", "topic_tiny__word__logreg__s5"]
    assert len(out) == 10 and "ok: 9 jobs" in out[-1]


BENCHMARKS = ["fnc1", "fnc1_tuning", "semeval2016", "bbc", "masakhanews", "sib200", "x_stance", "arc", "article_bias"]


@pytest.mark.parametrize("name", BENCHMARKS)
def test_benchmark_configs_validate(name: str, data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """The shipped configs pass `bench validate` (datasets unbuilt: specs are read, not built)."""
    monkeypatch.chdir(HERE.parent)  # configs name dataset specs relative to the repository root
    config = Path("configs") / f"{name}.yaml"
    assert main(["validate", str(config), "--data", str(tmp_path / "data")]) == 0
    out = capsys.readouterr().out
    assert f"{config}: ok: " in out


@pytest.mark.parametrize(("value", "expected"), [("4", 4), ("0.25", 0.25), ("1.0", 1.0)])
def test_train_subset_size_is_a_count_or_a_fraction(good: Path, value: str, expected: float) -> None:
    size = load_config(good, [f"evaluation.train_subset.size={value}"]).config.evaluation.train_subset.size
    assert size == expected and type(size) is type(expected)
