"""The runner: job planning, one job's rows and predictions, CV folds, per-target rows, feature reuse."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from bench.config.spec import BootstrapSpec, CVSpec, EvaluationSpec, FeatureSpec, ModelSpec, RunConfig
from bench.core.errors import DataError
from bench.corpus import ensure_built
from bench.results.naming import make_job_id
from bench.results.layout import ROW_KEYS
from bench.run.runner import plan, plan_features, run_job
from bench.run.units import cv_test_indices, feature_cache, make_units
from tests.tiny_news import write_multilabel, write_stance, write_topic

WORD = FeatureSpec(name="word", kind="tfidf", params={"ngram_range": [1, 2]})
CHAR = FeatureSpec(name="char", kind="tfidf", params={"analyzer": "char_wb", "ngram_range": [2, 3]})
BOTH = FeatureSpec(name="both", kind="union", of=("word", "char"))
LOGREG = ModelSpec(name="logreg", estimator="logistic_regression", params={"C": 5.0})
SVM = ModelSpec(name="svm", estimator="linear_svc")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("runner")
    data = root / "data"
    return {"topic": ensure_built(write_topic(root / "topic"), data),
            "stance": ensure_built(write_stance(root / "stance"), data),
            "multi": ensure_built(write_multilabel(root / "multi"), data), "root": root}


def config(datasets: tuple[str, ...], **evaluation: object) -> RunConfig:
    ev = EvaluationSpec(metrics=("accuracy", "f1_macro"), bootstrap=BootstrapSpec(samples=100), **evaluation)
    return RunConfig(name="t", datasets=datasets, features=(WORD, CHAR, BOTH), models=(LOGREG, SVM),
                     seeds=(0, 1), evaluation=ev)


def test_plan_is_the_grid_in_a_stable_order(built: dict, tmp_path: Path) -> None:
    jobs = plan(config(("a",)), {"a": built["topic"]}, tmp_path)
    assert len(jobs) == 3 * 2 * 2
    assert [j.job_id for j in jobs[:3]] == ["tiny_topic__word__logreg__s0", "tiny_topic__word__logreg__s1",
                                            "tiny_topic__word__svm__s0"]
    assert make_job_id("a b/c", "x", "y", 3) == "a-b-c__x__y__s3"


def test_feature_tasks_come_once_per_block_and_unit_with_unions_last(built: dict, tmp_path: Path) -> None:
    jobs = plan(config(("a",), cv=CVSpec(folds=3), test=None), {"a": built["topic"]}, tmp_path)
    waves = plan_features(jobs)
    assert [t.task_id for t in waves[0]] == [f"tiny_topic__{b}__f{i}" for b in ("word", "char") for i in range(3)]
    assert [t.task_id for t in waves[1]] == [f"tiny_topic__both__f{i}" for i in range(3)]


def test_run_job_gives_rows_and_predictions(built: dict, tmp_path: Path) -> None:
    job = plan(config(("a",)), {"a": built["topic"]}, tmp_path)[0]
    result = run_job(job)
    assert [r["metric"] for r in result.rows] == ["accuracy", "f1_macro"]
    for row in result.rows:
        assert tuple(row) == ROW_KEYS
        assert (row["split"], row["fold"], row["target"], row["n"]) == ("test", None, None, 15)
        assert row["ci_low"] <= row["value"] <= row["ci_high"]
    preds = result.predictions
    assert list(preds.columns) == ["id", "gold", "pred", "score:business", "score:sport", "score:tech"]
    assert len(preds) == 15 and set(preds["gold"]) == {"business", "sport", "tech"}
    accuracy = float((preds["gold"] == preds["pred"]).mean())
    assert result.rows[0]["value"] == pytest.approx(accuracy)
    assert sum(c["support"] for c in result.report["per_class"].values()) == 15
    assert np.trace(np.array(result.report["confusion"])) == round(accuracy * 15)


def test_run_job_is_deterministic(built: dict, tmp_path: Path) -> None:
    job = plan(config(("a",)), {"a": built["stance"]}, tmp_path)[1]
    first, second = run_job(job), run_job(job)
    assert first.rows == second.rows
    assert first.predictions.equals(second.predictions)


def test_cv_rows_per_fold_and_pooled(built: dict, tmp_path: Path) -> None:
    job = plan(config(("a",), cv=CVSpec(folds=3), test=None), {"a": built["topic"]}, tmp_path)[0]
    result = run_job(job)
    folds = [r["fold"] for r in result.rows if r["metric"] == "accuracy"]
    assert folds == [None, 0, 1, 2]
    pooled = [r for r in result.rows if r["fold"] is None]
    assert all(r["n"] == 30 and r["split"] == "train" and r["ci_low"] is not None for r in pooled)
    assert all(r["ci_low"] is None for r in result.rows if r["fold"] is not None)
    preds = result.predictions
    assert sorted(preds["id"]) == sorted(make_units(built["topic"], job.evaluation)[0].train["id"].tolist()
                                         + make_units(built["topic"], job.evaluation)[0].test["id"].tolist())
    assert sorted(set(preds["fold"])) == [0, 1, 2]


@pytest.mark.parametrize("by", ["label", "group"])
def test_cv_folds_partition_the_train_split(built: dict, by: str, seed: int) -> None:
    ev = EvaluationSpec(test=None, cv=CVSpec(folds=3, by=by, seed=seed))
    units = make_units(built["topic"], ev)
    tests = [set(u.test["id"]) for u in units]
    assert sum(map(len, tests)) == 30 and len(set.union(*tests)) == 30
    for unit in units:
        assert not set(unit.train["id"]) & set(unit.test["id"])
        if by == "group":
            assert not set(unit.train["group"]) & set(unit.test["group"])
        else:
            assert unit.test["label"].value_counts().min() >= 3
    frame = units[0].train
    assert cv_test_indices(frame, built["topic"], ev)[0].tolist() == cv_test_indices(frame, built["topic"], ev)[0].tolist()


def test_too_many_folds_is_a_data_error(built: dict) -> None:
    ev = EvaluationSpec(test=None, cv=CVSpec(folds=40))
    with pytest.raises(DataError, match=r"40 folds for 30 rows of split 'train'; use fewer folds"):
        make_units(built["topic"], ev)


def test_by_target_rows_and_per_target_model(built: dict, tmp_path: Path) -> None:
    cfg = config(("a",), by_target=True)
    cfg = dataclasses.replace(cfg, models=(dataclasses.replace(LOGREG, per_target=True),))
    result = run_job(plan(cfg, {"a": built["stance"]}, tmp_path)[0])
    targets = [r["target"] for r in result.rows if r["metric"] == "accuracy"]
    assert targets == [None, "climate policy", "nuclear energy"]
    n = {r["target"]: r["n"] for r in result.rows if r["metric"] == "accuracy"}
    assert n[None] == n["climate policy"] + n["nuclear energy"] == 15


def test_feature_blocks_are_fitted_once_and_reused(built: dict, tmp_path: Path) -> None:
    jobs = plan(config(("a",)), {"a": built["topic"]}, tmp_path / "cache")
    run_job(jobs[0])
    cache = feature_cache(tmp_path / "cache")
    misses = cache.misses
    for job in jobs[1:4]:  # same block ("word"), other seeds and models
        run_job(job)
    assert cache.misses == misses and cache.hits >= 3


def test_multilabel_job_predicts_label_sets(built: dict, tmp_path: Path) -> None:
    cfg = dataclasses.replace(config(("a",)), evaluation=EvaluationSpec(
        metrics=("f1_micro", "f1_macro", "hamming_loss", "subset_accuracy"), bootstrap=BootstrapSpec(samples=50)))
    result = run_job(plan(cfg, {"a": built["multi"]}, tmp_path)[2])  # word x svm
    preds = result.predictions
    assert all(isinstance(g, np.ndarray | list) for g in preds["gold"])
    assert {len(g) for g in preds["gold"]} == {1, 2}
    exact = float(np.mean([sorted(g) == sorted(p) for g, p in zip(preds["gold"], preds["pred"])]))
    rows = {r["metric"]: r["value"] for r in result.rows}
    assert rows["subset_accuracy"] == pytest.approx(exact)
    assert set(result.report["confusion"]) == {"business", "sport", "tech"}
