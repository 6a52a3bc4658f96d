"""End to end on the bundled corpus: `bench run configs/demo.yaml`, then `bench compare`."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from bench.cli import main

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo with one seed, and a variant whose SVM is starved by a tiny C."""
    root = tmp_path_factory.mktemp("demo")
    runs = []
    for extra in ([], ["--set", "models.3.params.C=0.001"]):
        out = root / f"out{len(runs)}.txt"
        code = _run_cli(["run", str(REPO / "configs/demo.yaml"), "--set", "seeds=[0]", *extra,
                         "--data", str(root / "data"), "--results", str(root / "results"), "--quiet"], out)
        assert code == 0
        runs.append(Path(out.read_text().strip().splitlines()[-1]))
    return runs[0], runs[1]


def _run_cli(argv: list[str], out: Path) -> int:
    """Run ``bench`` from the repository root (config paths are relative to it), stdout to ``out``."""
    import contextlib

    with out.open("w") as fh, contextlib.redirect_stdout(fh), contextlib.chdir(REPO):
        return main(argv)


def test_demo_baselines_beat_the_majority_floor_without_saturating(demo_runs: tuple[Path, Path]) -> None:
    run = demo_runs[0]
    assert (run / "manifest.json").is_file() and not run.name.endswith(".partial")
    rows = pd.DataFrame(json.loads((run / "metrics.json").read_text())["rows"])
    f1 = rows[(rows.metric == "f1_macro") & rows.target.isna() & rows.fold.isna()]
    assert set(f1.dataset) == {"demo-topic", "demo-stance"}
    for dataset, group in f1.groupby("dataset"):
        best = group.loc[group.value.idxmax()]
        floor = group[group.model == "majority"].ci_high.max()
        assert best.model != "majority"
        assert best.value < 0.98, dataset
        assert best.ci_low > floor, f"{dataset}: best CI overlaps the majority floor"


def test_compare_shows_the_starved_model_as_a_significant_drop(demo_runs: tuple[Path, Path], tmp_path: Path) -> None:
    base, worse = demo_runs
    out = tmp_path / "table.json"
    code = main(["compare", str(base), str(worse), "--baseline", str(base), "--metric", "accuracy",
                 "--format", "json", "--output", str(out), "--fail-on-regression"])
    assert code == 1
    rows = pd.DataFrame(json.loads(out.read_text())["rows"])
    starved = rows[(rows.model == "linear_svm") & ~rows.baseline.astype(bool)]
    assert len(starved) == 4  # 2 datasets x 2 feature blocks
    topic = starved[starved.dataset == "demo-topic"]
    assert (topic.delta < 0).all() and topic.delta_significant.all()
    untouched = rows[(rows.model == "logreg") & ~rows.baseline.astype(bool)]
    assert (untouched.delta == 0).all() and not untouched.delta_significant.any()
