"""``bench rescore``: metrics recomputed from saved predictions, identical to what ``bench run`` wrote."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from bench.cli import main
from bench.core.errors import ResultsError
from bench.metrics import score_metrics
from bench.results.rows import prediction_labels
from bench.results.store import RunDir
from tests.run_factory import gold_labels, run_tiny_benchmark, simulated_job, write_run


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real runs of a tiny stance benchmark: a train/test split (per-target rows) and 3-fold CV."""
    root = tmp_path_factory.mktemp("rescore")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_DATASETS_OFFLINE", "1")
        mp.setenv("HF_HUB_OFFLINE", "1")
        return {"split": run_tiny_benchmark(root / "split"), "cv": run_tiny_benchmark(root / "cv", cv=True)}


@pytest.mark.parametrize("kind", ["split", "cv"])
def test_rescore_reproduces_the_run_bit_for_bit(tiny_runs: dict[str, Path], tmp_path: Path, kind: str) -> None:
    run = shutil.copytree(tiny_runs[kind], tmp_path / tiny_runs[kind].name)
    before = {name: (run / name).read_bytes() for name in ("metrics.json", "metrics.csv")}
    jobs_before = {p.name: json.loads(p.read_text())["rows"] for p in (run / "jobs").glob("*.json")}
    data = json.loads(before["metrics.json"])
    data["rows"][0]["value"] = 0.123  # damage a number: rescoring must restore it
    (run / "metrics.json").write_text(json.dumps(data))
    assert main(["rescore", str(run)]) == 0
    assert {name: (run / name).read_bytes() for name in before} == before
    assert {p.name: json.loads(p.read_text())["rows"] for p in (run / "jobs").glob("*.json")} == jobs_before
    rows = data["rows"]
    assert any(r["target"] is not None for r in rows)
    if kind == "cv":
        assert {r["fold"] for r in rows} == {None, 0, 1, 2}


def test_rescore_adds_a_metric_without_retraining(tiny_runs: dict[str, Path], tmp_path: Path) -> None:
    run = shutil.copytree(tiny_runs["split"], tmp_path / "run")
    assert main(["rescore", str(run), "--metrics", "accuracy", "mcc"]) == 0
    opened = RunDir.open(run)
    rows = opened.metrics
    assert set(rows["metric"]) == {"accuracy", "mcc"}
    assert opened.manifest["evaluation"]["metrics"] == ["accuracy", "mcc"]
    assert opened.manifest["rescored"][-1]["metrics"] == ["accuracy", "mcc"]
    job_id = "tiny_stance__word__logreg__s0"
    frame = opened.predictions(job_id)
    labels = opened.manifest["datasets"]["tiny_stance"]["labels"]
    codes = {label: i for i, label in enumerate(labels)}
    expected = score_metrics(["mcc"], y_true=np.array([codes[g] for g in frame["gold"]]),
                             y_pred=np.array([codes[p] for p in frame["pred"]]), labels=labels)[0].value
    got = rows[(rows.model == "logreg") & (rows.seed == 0) & (rows.metric == "mcc") & rows.target.isna()]
    assert got["value"].tolist() == [expected]


def test_rescore_refuses_unknown_or_unfit_metrics(tmp_path: Path, rng: np.random.Generator,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    gold = gold_labels(rng, 30)
    run = write_run(tmp_path, "r", [simulated_job(rng, dataset="toy", model="m", seed=0, gold=gold, accuracy=0.7)])
    before = (run / "metrics.json").read_bytes()
    assert main(["rescore", str(run), "--metrics", "f1_macr"]) == 2
    assert "unknown metric 'f1_macr'; did you mean 'f1_macro'" in capsys.readouterr().err
    assert main(["rescore", str(run), "--metrics", "f_avg"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "f_avg needs at least the labels favor, against" in err
    assert (run / "metrics.json").read_bytes() == before


def test_rescore_refuses_an_unfinished_run(tmp_path: Path, rng: np.random.Generator,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    gold = gold_labels(rng, 30)
    run = write_run(tmp_path, "r", [simulated_job(rng, dataset="toy", model="m", seed=0, gold=gold, accuracy=0.7)])
    partial = run.with_name(f".{run.name}.partial")
    os.replace(run, partial)
    assert main(["rescore", str(partial)]) == 2
    assert "the run is not complete" in capsys.readouterr().err


def test_prediction_labels_use_the_one_encoder_and_name_the_file() -> None:
    labels = ("AGAINST", "FAVOR", "NONE")
    assert prediction_labels(["NONE", "AGAINST"], labels, False, "p.parquet").tolist() == [2, 0]
    assert prediction_labels([["FAVOR"], []], labels, True, "p.parquet").tolist() == [[0, 1, 0], [0, 0, 0]]
    with pytest.raises(ResultsError, match=r"p\.parquet: label 'favour' is not in the run's label set"):
        prediction_labels(["NONE", "favour"], labels, False, "p.parquet")
