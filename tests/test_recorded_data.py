"""Predictions and datasets are checked against what a run recorded before any number is
recomputed or any item is shown: edited gold labels and rebuilt datasets are refused
(``bench rescore``, ``bench show --by``) or left out with a warning (``bench report``)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from bench.cli import main
from bench.corpus import build_dataset
from bench.compare import CompareOptions
from bench.report.collect import ReportOptions, collect
from bench.results.store import RunDir

JOB = "tiny_stance__word__logreg__s0"


@pytest.fixture
def tiny(tiny_benchmark_run: Path) -> Path:
    """The folder of the session's real tiny run: ``src/`` (spec and CSVs), ``data/``, ``results/<run>``."""
    return tiny_benchmark_run.parents[1]


def moved(tiny: Path, dest: Path) -> tuple[Path, Path]:
    """A copy of the run with its own copy of the data (the manifest's path pointing at it)."""
    shutil.copytree(tiny, dest)
    (run,) = [p for p in (dest / "results").iterdir() if p.is_dir() and not p.name.startswith(".")]
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["datasets"]["tiny_stance"]["path"] = str(dest / "data" / "tiny_stance")
    (run / "manifest.json").write_text(json.dumps(manifest))
    return run, dest


def relabel_and_rebuild(dest: Path) -> None:
    """Change one test label in the source and rebuild the dataset in place (another fingerprint)."""
    path = dest / "src" / "test.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    rows[0]["label"] = "FAVOR" if rows[0]["label"] != "FAVOR" else "AGAINST"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    build_dataset(dest / "src" / "tiny_stance.yaml", dest / "data", force=True)


def one_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("bench: error: "), err
    return err


def test_rescore_refuses_predictions_whose_gold_labels_were_edited(tiny: Path, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    run, _ = moved(tiny, tmp_path / "copy")
    before = (run / "metrics.json").read_bytes()
    path = run / "predictions" / f"{JOB}.parquet"
    frame = pd.read_parquet(path)
    frame.loc[3, "gold"] = frame.loc[3, "pred"] if frame.loc[3, "gold"] != frame.loc[3, "pred"] else "NONE"
    frame.to_parquet(path, index=False)
    assert main(["rescore", str(run)]) == 2
    err = one_error(capsys)
    assert f"{JOB}.parquet: row 4: id {frame.loc[3, 'id']!r}: gold" in err and "the dataset says" in err
    assert "the predictions file was edited" in err
    assert (run / "metrics.json").read_bytes() == before and not (run / ".rescore").exists()


def test_rescore_refuses_predictions_of_items_not_in_the_dataset(tiny: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    run, _ = moved(tiny, tmp_path / "copy")
    path = run / "predictions" / f"{JOB}.parquet"
    frame = pd.read_parquet(path)
    frame.loc[0, "id"] = "not-an-item"
    frame.to_parquet(path, index=False)
    assert main(["rescore", str(run)]) == 2
    assert "row 1: id 'not-an-item' is not in the dataset's split" in one_error(capsys)


def test_a_dataset_rebuilt_since_the_run_is_refused_by_rescore_and_show_by(tiny: Path, tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    run, dest = moved(tiny, tmp_path / "copy")
    assert main(["rescore", str(run)]) == 0  # the same dataset: accepted
    capsys.readouterr()
    relabel_and_rebuild(dest)
    before = (run / "metrics.json").read_bytes()
    for argv in (["rescore", str(run)], ["show", str(run), "--by", "target"]):
        assert main(argv) == 2
        err = one_error(capsys)
        assert "datasets.tiny_stance.fingerprint: the run was scored on" in err, argv
        assert "(rebuilt since the run)" in err and "pass --data DIR holding it" in err
    assert (run / "metrics.json").read_bytes() == before


def test_the_report_leaves_out_the_items_of_a_rebuilt_dataset_and_says_why(tiny: Path, tmp_path: Path) -> None:
    run, dest = moved(tiny, tmp_path / "copy")
    options = ReportOptions(comparison=CompareOptions(samples=200), slice_samples=100)
    data = collect([RunDir.open(run)], options)
    assert data.datasets[0].items is not None and not data.warnings
    relabel_and_rebuild(dest)
    data = collect([RunDir.open(run)], options)
    assert data.datasets[0].items is None  # no slices, no snippets: the error analysis uses the saved gold only
    (warning,) = data.warnings
    assert warning.startswith("tiny_stance: no item texts, so no snippets and no slices:")
    assert "datasets.tiny_stance.fingerprint" in warning and "rebuilt since the run" in warning


def test_rescore_finds_a_moved_dataset_with_data(tiny: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    run, dest = moved(tiny, tmp_path / "copy")
    shutil.move(dest / "data", tmp_path / "elsewhere")
    assert main(["rescore", str(run)]) == 2
    assert "built dataset not found" in one_error(capsys)
    assert main(["rescore", str(run), "--data", str(tmp_path / "elsewhere")]) == 0
