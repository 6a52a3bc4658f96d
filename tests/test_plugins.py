"""Plugins (docs/models.md): an installed package adds a model, a feature kind and a metric by entry points.

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
"""A tiny newsbench plugin: a text-in model, a feature block and a metric."""
import numpy as np
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
