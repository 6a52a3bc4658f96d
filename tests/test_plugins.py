"""Plugins (docs/models.md): an installed package adds a model, a feature kind, a metric and a dataset source
by entry points.

The package is written to a temporary folder as an installed distribution would be (the
module and a ``.dist-info`` with ``entry_points.txt``) and put on ``PYTHONPATH`` of the real
CLI in a subprocess, so the test's own interpreter never sees it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.tiny_news import write_topic

MODULE = '''\
"""A tiny newsbench plugin: a text-in model, a feature block, a metric and a dataset source."""
import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from bench.metrics import MetricSpec
from bench.metrics import formulas as fm


class WordSVC:
    """tf-idf words and a linear SVM, reading texts."""

    newsbench_input = "text"

    def __init__(self, C=1.0, random_state=None):
        self.C, self.random_state = C, random_state

    def fit(self, X, y):
        self.pipe_ = Pipeline([("tfidf", TfidfVectorizer()),
                               ("svc", LinearSVC(C=self.C, random_state=self.random_state))]).fit(X, y)
        return self

    def predict(self, X):
        return self.pipe_.predict(X)


class Words:
    """tf-idf of words, as a plugin block."""

    def __init__(self, sublinear_tf=False):
        self.sublinear_tf = sublinear_tf

    def fit(self, texts):
        self.vec_ = TfidfVectorizer(sublinear_tf=self.sublinear_tf).fit(texts)
        return self

    def transform(self, texts):
        return self.vec_.transform(texts)


ERROR_RATE = MetricSpec(name="error_rate", greater_is_better=False, multilabel=False,
                        from_confusion=lambda c, labels: 1.0 - fm.accuracy(c, labels),
                        description="share of items predicted wrongly")


def label_lines(path, lowercase=False):
    """fastText-style lines, '__label__<label> <text>', one file per split (<split>.txt) in a folder."""
    frames = {}
    for file in sorted(path.glob("*.txt")):
        rows = [line.split(" ", 1) for line in file.read_text(encoding="utf-8").splitlines()]
        frames[file.stem] = pd.DataFrame({"label": [label.removeprefix("__label__") for label, _ in rows],
                                          "text": [text.lower() if lowercase else text for _, text in rows]})
    return frames


def broken_reader(path):
    """Fails as a reader of a missing database would."""
    raise ConnectionError("cannot reach news.db:5432\\nretrying")
'''


def install(root: Path, entry_points: str, name: str = "tinyplug") -> Path:
    """Write package ``tinyplug`` 0.1 with ``entry_points`` into ``root`` as pip would; returns ``root``."""
    (root / "tinyplug").mkdir(parents=True, exist_ok=True)
    (root / "tinyplug" / "__init__.py").write_text(MODULE)
    info = root / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)
    return root


GOOD = """\
[newsbench.models]
word_svc = tinyplug:WordSVC

[newsbench.features]
plug_words = tinyplug:Words

[newsbench.metrics]
error_rate = tinyplug:ERROR_RATE
"""


def bench(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(site)])}
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    topic = write_topic(tmp_path / "src" / "topic", n_train=60, n_test=30)
    path = tmp_path / "plug.yaml"
    path.write_text(f"""name: plug
datasets: [{topic}]
features:
  - {{name: words, kind: plug_words, params: {{sublinear_tf: true}}}}
  - {{name: word, kind: tfidf, params: {{sublinear_tf: true}}}}
models:
  - {{name: svc, estimator: linear_svc}}
  - {{name: plugged, estimator: word_svc}}
seeds: [0]
evaluation: {{metrics: [accuracy, error_rate], bootstrap: {{samples: 20}}}}
""")
    return path


def test_an_installed_plugin_is_listed_and_each_kind_runs_from_a_config(tmp_path: Path, config: Path) -> None:
    site = install(tmp_path / "site", GOOD)
    data, results = tmp_path / "data", tmp_path / "results"
    listed = bench(site, "validate", str(config), "--data", str(data))
    assert listed.returncode == 0, listed.stderr
    assert "plugin: word_svc (newsbench.models) from tinyplug 0.1" in listed.stdout
    assert "plugin: plug_words (newsbench.features) from tinyplug 0.1" in listed.stdout
    assert "plugin: error_rate (newsbench.metrics) from tinyplug 0.1" in listed.stdout
    assert "tiny_topic__text__plugged__s0" in listed.stdout  # a plugin model that reads texts forms text jobs

    ran = bench(site, "run", str(config), "--data", str(data), "--results", str(results), "--quiet")
    assert ran.returncode == 0, ran.stderr
    run = Path(ran.stdout.strip().splitlines()[-1])
    rows = json.loads((run / "metrics.json").read_text())
    rows = rows["rows"] if isinstance(rows, dict) else rows
    value = {(r["features"], r["model"], r["metric"]): r["value"] for r in rows}
    for key in (("words", "svc"), ("word", "svc"), ("text", "plugged")):
        assert value[(*key, "error_rate")] == pytest.approx(1.0 - value[(*key, "accuracy")], abs=1e-12)
    # the plugin block and the plugin model compute tf-idf + LinearSVC, as the built-in block does
    assert value[("words", "svc", "accuracy")] == value[("word", "svc", "accuracy")]
    assert value[("text", "plugged", "accuracy")] == value[("word", "svc", "accuracy")]


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    """A config that names no plugin: the registries still load every installed one."""
    topic = write_topic(tmp_path / "src" / "topic")
    path = tmp_path / "plain.yaml"
    path.write_text(f"name: plain\ndatasets: [{topic}]\nfeatures: [{{name: w, kind: tfidf}}]\n"
                    "models: [{name: svc, estimator: linear_svc}]\n")
    return path


def test_a_plugin_that_takes_a_built_in_name_is_one_line(tmp_path: Path, plain: Path) -> None:
    site = install(tmp_path / "site", "[newsbench.models]\nlinear_svc = tinyplug:WordSVC\n")
    done = bench(site, "validate", str(plain), "--data", str(tmp_path / "data"))
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith("bench: error: plugin 'linear_svc' (newsbench.models) from package tinyplug 0.1 "
                                  "takes the estimator name 'linear_svc', already registered by newsbench itself; ")


def test_a_broken_plugin_is_one_line_naming_it_and_its_package(tmp_path: Path, plain: Path) -> None:
    site = install(tmp_path / "site", "[newsbench.metrics]\nbroken = tinyplug.missing:THING\n")
    done = bench(site, "validate", str(plain), "--data", str(tmp_path / "data"))
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith("bench: error: plugin 'broken' (newsbench.metrics) from package tinyplug 0.1 "
                                  "cannot be loaded: ModuleNotFoundError: No module named 'tinyplug.missing'")


def test_help_does_not_load_plugins(tmp_path: Path) -> None:
    site = install(tmp_path / "site", "[newsbench.metrics]\nbroken = tinyplug.missing:THING\n")
    done = bench(site, "--help")
    assert done.returncode == 0 and "usage" in done.stdout


SOURCES = "[newsbench.sources]\nlabel_lines = tinyplug:label_lines\nbroken = tinyplug:broken_reader\n"


def _label_lines_copy(topic: Path, root: Path) -> Path:
    """The tiny topic dataset's CSV splits rewritten as label lines, with a spec that reads them by plugin."""
    import csv

    folder = root / "lines"
    folder.mkdir(parents=True)
    for split in ("train", "test"):
        with (topic.parent / f"{split}.csv").open(encoding="utf-8") as handle:
            lines = [f"__label__{row['label']} {row['text']}" for row in csv.DictReader(handle)]
        (folder / f"{split}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    spec = root / "tiny_lines.yaml"
    spec.write_text("name: tiny_lines\ntask: topic\nlanguage: en\n"
                    "source: {plugin: {name: label_lines, path: lines}}\n"
                    "columns: {text: text, label: label}\nlabels: [business, sport, tech]\n")
    return spec


@pytest.mark.slow
def test_a_dataset_source_plugin_builds_the_dataset_a_spec_names(tmp_path: Path) -> None:
    topic = write_topic(tmp_path / "src" / "topic", n_train=60, n_test=30)
    lines = _label_lines_copy(topic, tmp_path / "src")
    config = tmp_path / "sources.yaml"
    config.write_text(f"name: sources\ndatasets: [{topic}, {lines}]\nfeatures: [{{name: word, kind: tfidf}}]\n"
                      "models: [{name: svc, estimator: linear_svc}]\n"
                      "evaluation: {metrics: [accuracy, f1_macro], bootstrap: {samples: 20}}\n")
    site = install(tmp_path / "site", SOURCES)
    data, results = tmp_path / "data", tmp_path / "results"
    listed = bench(site, "validate", str(config), "--data", str(data))
    assert listed.returncode == 0, listed.stderr
    assert "plugin: label_lines (newsbench.sources) from tinyplug 0.1" in listed.stdout
    assert "tiny_lines__word__svc__s0" in listed.stdout

    ran = bench(site, "run", str(config), "--data", str(data), "--results", str(results), "--quiet")
    assert ran.returncode == 0, ran.stderr
    rows = json.loads((Path(ran.stdout.strip().splitlines()[-1]) / "metrics.json").read_text())
    rows = rows["rows"] if isinstance(rows, dict) else rows
    value = {(r["dataset"], r["metric"]): r["value"] for r in rows if r.get("target") is None}
    # the same rows read from CSV files and from label lines by the plugin: the same model, the same scores
    assert 0.5 < value[("tiny_topic", "accuracy")] < 1.0
    for metric in ("accuracy", "f1_macro"):
        assert value[("tiny_lines", metric)] == value[("tiny_topic", metric)]
    built = json.loads((data / "tiny_lines" / "stats.json").read_text())
    assert {split: s["n_rows"] for split, s in built["splits"].items()} == {"train": 60, "test": 30}


@pytest.mark.slow
def test_dataset_source_plugin_errors_are_one_line(tmp_path: Path) -> None:
    topic = write_topic(tmp_path / "src" / "topic")
    spec = _label_lines_copy(topic, tmp_path / "src")
    site = install(tmp_path / "site", SOURCES)
    data = str(tmp_path / "data")
    text = spec.read_text()
    cases = {
        "name: label_line}": ("unknown dataset source 'label_line'; did you mean 'label_lines'?", "label_line"),
        "params: {lowercase: true, upper: 1}}": ("params.upper: unknown parameter 'upper' of dataset source "
                                                 "'label_lines'; expected one of lowercase", "upper"),
        "name: broken, path: lines}": ("dataset source 'broken' (tinyplug 0.1) failed: ConnectionError: cannot reach "
                                       "news.db:5432; check source.plugin.path and params, or the plugin", "broken"),
    }
    for replacement, (message, _) in cases.items():
        if replacement.startswith("params"):
            spec.write_text(text.replace("path: lines}", "path: lines, " + replacement))
        else:
            spec.write_text(text.replace("name: label_lines, path: lines}", replacement))
        done = bench(site, "data", "build", str(spec), "--data", data, "--force")
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        assert message in done.stderr and str(spec) in done.stderr


def test_two_packages_with_one_source_name_are_one_line(tmp_path: Path) -> None:
    topic = write_topic(tmp_path / "src" / "topic")
    spec = _label_lines_copy(topic, tmp_path / "src")
    site = install(tmp_path / "site", SOURCES)
    install(site, "[newsbench.sources]\nlabel_lines = tinyplug:label_lines\n", name="otherplug")
    done = bench(site, "data", "build", str(spec), "--data", str(tmp_path / "data"))
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("bench: error: plugin 'label_lines' (newsbench.sources) from package ")
    assert "takes the dataset source name 'label_lines', already registered by " in done.stderr
