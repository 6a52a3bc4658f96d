"""Leave-one-target-out (``evaluation.cv.by: target``): no fit sees the held-out target, rows name it."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pandas as pd
import pytest

from bench.cli import main
from bench.core.errors import ConfigError
from bench.run.validate import load_config
from tests import generalization_spies
from tests.tiny_news import write_topic

REPO = Path(__file__).resolve().parents[1]
TARGETS = ["ai_regulation", "economic_sanctions", "nuclear_arms_control"]  # the demo corpus's, sorted
SPY = "tests.generalization_spies.SpyLogistic"


def _bench(argv: list[str], out: Path) -> int:
    """``bench`` from the repository root (config paths are relative to it), stdout to ``out``."""
    with out.open("w") as fh, contextlib.redirect_stdout(fh), contextlib.chdir(REPO):
        return main(argv)


@pytest.fixture
def spied(monkeypatch: pytest.MonkeyPatch) -> list[frozenset[str]]:
    from bench.learn import cache

    generalization_spies.FITS.clear()
    monkeypatch.setattr(cache, "fit_features", generalization_spies.spy_fit_features(cache.fit_features))
    return generalization_spies.FITS


@pytest.fixture(scope="module")
def seeds_labels() -> pd.DataFrame:
    return pd.read_csv(REPO / "seeds" / "labels.csv", dtype=str, keep_default_na=False).set_index("file")


def _run(tmp_path: Path, *sets: str) -> Path:
    out = tmp_path / "out.txt"
    argv = ["run", "configs/demo_cross_target.yaml", "--data", str(tmp_path / "data"),
            "--results", str(tmp_path / "results"), "--quiet"]
    for item in sets:
        argv += ["--set", item]
    assert _bench(argv, out) == 0
    return Path(out.read_text().strip().splitlines()[-1])


def test_no_fit_ever_sees_the_held_out_target(tmp_path: Path, spied: list, seeds_labels: pd.DataFrame) -> None:
    """A spy model records the items that reach each fit: none is of the target its fold tests on."""
    run = _run(tmp_path, f"models=[{{name: spy, estimator: {SPY}}}]")
    pred = pd.read_parquet(next((run / "predictions").glob("*.parquet")))
    target_of = seeds_labels["target"]
    tested = {int(fold): set(target_of[g["id"]]) for fold, g in pred.groupby("fold")}
    assert tested == {i: {t} for i, t in enumerate(TARGETS)}  # fold i tests on the i-th target only
    assert pred["id"].is_unique and len(pred) == 115  # every item of the train split, once
    assert len(spied) == 3
    for fold, ids in enumerate(spied):
        seen = set(target_of[sorted(ids)])
        assert seen == set(TARGETS) - {TARGETS[fold]}
        # the fit got every train-split item of the other targets, not a subset
        assert ids == set(pred.loc[pred["fold"] != fold, "id"])


def test_rows_name_the_held_out_target_and_rescore_reproduces_them(tmp_path: Path) -> None:
    run = _run(tmp_path)
    rows = json.loads((run / "metrics.json").read_text())["rows"]
    folds = [r for r in rows if r["fold"] is not None]
    pooled = [r for r in rows if r["fold"] is None]
    assert all("held_out_target" not in r for r in pooled)
    assert {(r["fold"], r["held_out_target"]) for r in folds} == set(enumerate(TARGETS))
    # by_target rows on the pooled predictions are the per-held-out-target scores, now with a CI
    for fold in (r for r in folds if r["target"] is None):
        (same,) = [r for r in pooled if r["target"] == fold["held_out_target"] and r["model"] == fold["model"]
                   and r["metric"] == fold["metric"]]
        assert same["value"] == fold["value"] and same["n"] == fold["n"]
        assert same["ci_low"] <= same["value"] <= same["ci_high"]
    assert "held_out_target" in (run / "metrics.csv").read_text().splitlines()[0].split(",")
    before = (run / "metrics.json").read_bytes()
    assert _bench(["rescore", str(run), "--data", str(tmp_path / "data")], tmp_path / "o.txt") == 0
    assert (run / "metrics.json").read_bytes() == before


def test_a_per_target_model_is_refused_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = tmp_path / "c.yaml"
    text = (REPO / "configs/demo_cross_target.yaml").read_text().replace(
        "estimator: majority}", "estimator: majority, per_target: true}")
    config.write_text(text.replace("configs/datasets/", str(REPO / "configs/datasets") + "/"))
    with pytest.raises(ConfigError, match=r"c\.yaml:13: models\[0\]\.per_target: a per-target model has no "):
        load_config(config)
    assert main(["validate", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "set per_target: false" in err


def test_a_topic_dataset_has_no_targets_to_leave_out(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    spec = write_topic(tmp_path / "src")
    config = tmp_path / "c.yaml"
    config.write_text(f"""name: loto
datasets: [{spec}]
features: [{{name: word, kind: tfidf}}]
models: [{{name: lr, estimator: logistic_regression}}]
evaluation: {{cv: {{by: target}}}}
""")
    assert main(["run", str(config), "--data", str(tmp_path / "data"), "--results", str(tmp_path / "r"),
                 "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "evaluation.cv.by: dataset 'tiny_topic' is a topic task" in err[0]


def test_compare_pairs_cross_target_with_in_target_on_the_same_items(tmp_path: Path) -> None:
    """The in-target reference (stratified folds) covers the same items, so compare pairs them one to one."""
    cross = _run(tmp_path)
    within = _run(tmp_path, "evaluation.cv.by=label", "evaluation.cv.folds=3")
    out = tmp_path / "compare.csv"
    assert _bench(["compare", str(within), str(cross), "--metric", "accuracy", "--format", "csv"], out) == 0
    table = pd.read_csv(out)
    assert sorted(table["model"]) == sorted(["majority", "logreg", "linear_svm"] * 2)  # one row per system and run
    rows = json.loads((cross / "metrics.json").read_text())["rows"]
    pooled = {r["model"]: r["value"] for r in rows if r["fold"] is None and r["target"] is None
              and r["metric"] == "accuracy"}
    for rec in table[~table["baseline"]].to_dict("records"):
        assert rec["value"] == pytest.approx(pooled[rec["model"]], abs=1e-12)
