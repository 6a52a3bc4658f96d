"""One tiny project per test session, copied into each case: a built dataset and two complete runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.hostile.harness import bench
from tests.tiny_news import write_topic

CONFIG = """\
name: {name}
datasets: [{spec}]
features:
  - {{name: word, kind: tfidf}}
models:
  - {{name: logreg, estimator: logistic_regression}}
seeds: [0]
evaluation:
  metrics: [accuracy, f1_macro]
  bootstrap: {{samples: 50}}
"""


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``src/`` (CSV + spec), ``data/tiny_topic``, ``config.yaml`` and two complete runs under ``results/``."""
    root = tmp_path_factory.mktemp("hostile-world")
    spec = write_topic(root / "src", n_train=24, n_test=12)
    for name in ("victim", "bystander"):
        (root / f"{name}.yaml").write_text(CONFIG.format(name=name, spec=spec.relative_to(root)), encoding="utf-8")
        outcome = bench(["run", f"{name}.yaml", "--data", "data", "--results", "results", "--quiet"], cwd=root)
        assert outcome.code == 0, outcome.err
    return root


@pytest.fixture
def project(world: Path, tmp_path: Path) -> Path:
    """A fresh copy of the world for one case."""
    copy = tmp_path / "p"
    shutil.copytree(world, copy, symlinks=True)
    return copy


def run_folder(project: Path, name: str) -> Path:
    """The complete run folder of config ``name`` (``victim`` or ``bystander``)."""
    (found,) = [p for p in (project / "results").iterdir() if p.name.split("-")[1:2] == [name]]
    return found
