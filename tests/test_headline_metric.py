"""Each dataset's headline metric: the spec key, its task-based default, and compare's default metric."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench.compare.table import default_metric
from bench.core.errors import ConfigError
from bench.corpus import build_dataset
from bench.corpus.spec import load_spec
from bench.metrics.catalog import default_headline
from tests.tiny_news import write_stance, write_topic


def test_task_defaults() -> None:
    assert default_headline(task="stance", multilabel=False, labels=["agree", "disagree", "discuss", "unrelated"]) \
        == "fnc1_score"
    assert default_headline(task="stance", multilabel=False, labels=["FAVOR", "AGAINST", "NONE"]) == "f_avg"
    assert default_headline(task="topic", multilabel=False, labels=["a", "b"]) == "f1_macro"


def test_the_spec_key_is_checked_recorded_and_keeps_old_hashes(tmp_path: Path) -> None:
    spec = write_topic(tmp_path / "src")
    before = load_spec(spec).spec_hash
    stats = json.loads((build_dataset(spec, tmp_path / "data").dataset.path / "stats.json").read_text())
    assert stats["headline_metric"] == "f1_macro"  # the task's default, recorded
    spec.write_text(spec.read_text(encoding="utf-8") + "headline_metric: accuracy\n", encoding="utf-8")
    assert load_spec(spec).spec.headline_metric == "accuracy" and load_spec(spec).spec_hash != before
    spec.write_text(spec.read_text(encoding="utf-8").replace("accuracy\n", "f1\n"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"headline_metric: unknown metric 'f1'; did you mean 'f1_macro'"):
        load_spec(spec)


def _run(datasets: dict, metrics: list[str]) -> SimpleNamespace:
    return SimpleNamespace(manifest={"datasets": datasets, "evaluation": {"metrics": metrics}})


FNC = {"task": "stance", "labels": ["agree", "disagree", "discuss", "unrelated"], "multilabel": False}


def test_compare_defaults_to_the_headline(tmp_path: Path) -> None:
    assert default_metric(_run({"fnc1": FNC}, ["accuracy", "f1_macro", "fnc1_score"])) == "fnc1_score"
    recorded = {"topic": {"task": "topic", "labels": ["a", "b"], "headline_metric": "accuracy"}}
    assert default_metric(_run(recorded, ["f1_macro", "accuracy"])) == "accuracy"
    topic = {"task": "topic", "labels": ["a", "b"], "multilabel": False}
    assert default_metric(_run({"fnc1": FNC, "t": topic}, ["accuracy", "f1_macro", "fnc1_score"])) == "f1_macro"
    assert default_metric(_run({"fnc1": FNC}, ["accuracy", "f1_per_class"])) == "accuracy"  # not evaluated


def test_a_run_records_the_headline(tmp_path: Path) -> None:
    from bench.cli import main

    spec = write_stance(tmp_path / "src")
    config = tmp_path / "c.yaml"
    config.write_text(f"name: h\ndatasets: [{spec}]\nfeatures: [{{name: w, kind: tfidf}}]\n"
                      "models: [{name: m, estimator: majority}]\nevaluation: {bootstrap: {samples: 50}}\n",
                      encoding="utf-8")
    assert main(["run", str(config), "--data", str(tmp_path / "data"), "--results", str(tmp_path / "r"),
                 "--quiet"]) == 0
    (run,) = [p for p in (tmp_path / "r").iterdir() if p.is_dir() and not p.name.startswith(".")]
    entry = json.loads((run / "manifest.json").read_text())["datasets"]["tiny_stance"]
    stats = json.loads((tmp_path / "data" / "tiny_stance" / "stats.json").read_text())
    assert entry["headline_metric"] == stats["headline_metric"]
