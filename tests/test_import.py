"""``bench import``: outside predictions checked against the test split, then a run like any other."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.cli import main
from bench.compare import CompareOptions, compare_runs
from bench.core.errors import DataError
from bench.results.importer import check_predictions, read_table
from bench.results.store import RunDir
from tests.run_factory import run_tiny_benchmark

LABELS = ("AGAINST", "FAVOR", "NONE")
JOB = "tiny_stance__word__logreg__s0"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real run on a tiny stance dataset; its data root is ``run/../../data``."""
    root = tmp_path_factory.mktemp("import")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_DATASETS_OFFLINE", "1")
        mp.setenv("HF_HUB_OFFLINE", "1")
        return run_tiny_benchmark(root, by_target=False)


def _write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_parquet(path, index=False)
    return path


def _import(run: Path, predictions: Path, results: Path, name: str = "again") -> int:
    return main(["import", str(predictions), "--dataset", "tiny_stance", "--name", name,
                 "--data", str(run.parents[1] / "data"), "--results", str(results),
                 "--samples", "200", "--metrics", "accuracy", "f1_macro", "f_avg"])


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_importing_a_runs_own_predictions_gives_identical_metrics(tiny_run: Path, tmp_path: Path, suffix: str,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    frame = RunDir.open(tiny_run).predictions(JOB)
    shuffled = frame.drop(columns=["gold"]).sample(frac=1.0, random_state=3)  # order must not matter
    path = _write(shuffled.rename(columns={"pred": "label"}), tmp_path / f"preds{suffix}")
    assert _import(tiny_run, path, tmp_path / "results") == 0
    imported = Path(capsys.readouterr().out.strip().splitlines()[-1])
    new = RunDir.open(imported)
    original = [r for r in RunDir.open(tiny_run).rows() if r["model"] == "logreg" and r["seed"] == 0]
    strip = ("features", "model")
    assert [{k: v for k, v in r.items() if k not in strip} for r in new.rows()] == \
        [{k: v for k, v in r.items() if k not in strip} for r in original]
    manifest = new.manifest
    assert manifest["status"] == "complete" and manifest["command"][0] == "bench"
    assert manifest["datasets"]["tiny_stance"]["fingerprint"] == \
        RunDir.open(tiny_run).manifest["datasets"]["tiny_stance"]["fingerprint"]
    saved = new.predictions(new.job_ids()[0])
    pd.testing.assert_frame_equal(saved.reset_index(drop=True), frame.reset_index(drop=True), check_dtype=False)


def test_imported_model_is_compared_with_each_baseline(tiny_run: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    frame = RunDir.open(tiny_run).predictions(JOB)
    path = _write(frame[["id", "pred"]], tmp_path / "preds.csv")
    assert _import(tiny_run, path, tmp_path / "results", name="mine") == 0
    imported = Path(capsys.readouterr().out.strip().splitlines()[-1])
    comparison = compare_runs([RunDir.open(tiny_run), RunDir.open(imported)], CompareOptions(samples=500))
    rows = {row.model: row for row in comparison.rows}
    assert set(rows) == {"logreg", "majority"}
    logreg = rows["logreg"]
    # the imported model is logreg's seed 0; the baseline cell is the mean of seeds 0 and 1
    assert logreg.cells[1].value == logreg.cells[0].seed_values[0]
    assert logreg.deltas[1].delta == pytest.approx(logreg.cells[1].value - logreg.cells[0].value)
    assert rows["majority"].deltas[1].delta > 0 and rows["majority"].cells[1] == logreg.cells[1]


def _test_split() -> pd.DataFrame:
    return pd.DataFrame({"id": ["a", "b", "c", "d"], "label": ["FAVOR", "AGAINST", "NONE", "FAVOR"]})


def _check(path: Path) -> pd.DataFrame:
    return check_predictions(read_table(path), _test_split(), LABELS, False, "test")


def test_checked_predictions_follow_the_test_order(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("id,label,score:AGAINST,score:FAVOR,score:NONE\n"
                    "d,FAVOR,0.1,0.8,0.1\nc,NONE,0.2,0.2,0.6\nb,AGAINST,0.5,0.3,0.2\na,FAVOR,0.3,0.4,0.3\n")
    out = _check(path)
    assert out["id"].tolist() == ["a", "b", "c", "d"]
    assert out["gold"].tolist() == ["FAVOR", "AGAINST", "NONE", "FAVOR"]
    assert out["pred"].tolist() == ["FAVOR", "AGAINST", "NONE", "FAVOR"]
    assert out["score:FAVOR"].tolist() == [0.4, 0.3, 0.2, 0.8]


@pytest.mark.parametrize(("body", "message"), [
    ("id,label\na,FAVOR\nb,AGAINST\na,NONE\nc,NONE\nd,FAVOR\n", r"p\.csv:4: id: id 'a' appears twice \(first at row 1\)"),
    ("id,label\na,FAVOR\nb,AGAINST\nzz,NONE\n", r"p\.csv:4: id: id 'zz' is not in the 'test' split"),
    ("id,label\na,FAVOR\nb,AGAINST\n", r"p\.csv: id: 2 of 4 'test' items have no prediction \(e\.g\. 'c'\)"),
    ("id,label\na,FAVOR\nb,AGAINTS\n", r"p\.csv:3: label: label 'AGAINTS' is not in the label set; did you mean 'AGAINST'\?"),
    ("id,label\na,FAVOR\n,AGAINST\n", r"p\.csv:3: id: empty item id"),
    ("id,label\na,FAVOR\nb,\n", r"p\.csv:3: label: no usable prediction"),
    ("item,label\na,FAVOR\n", r"p\.csv:1: id: no 'id' column \(columns: item, label\)"),
    ("id,guess\na,FAVOR\n", r"p\.csv:1: label: no 'label' or 'pred' column"),
    ("id,label,score:FAVOR\na,FAVOR,0.5\nb,AGAINST,0.2\nc,NONE,0.1\nd,FAVOR,0.9\n",
     r"scores are given for some labels but not for AGAINST, NONE"),
    ("id,label,score:AGAINST,score:FAVOR,score:NONE\na,FAVOR,0.1,0.8,0.1\nb,AGAINST,x,0.3,0.2\nc,NONE,0,0,1\n"
     "d,FAVOR,0,1,0\n", r"p\.csv:3: score:AGAINST: score 'x' is not a finite number"),
])
def test_bad_csv_rows_are_named_by_line(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "p.csv"
    path.write_text(body)
    with pytest.raises(DataError, match=message):
        _check(path)


def test_jsonl_lines_and_parquet_rows_are_named(tmp_path: Path) -> None:
    jsonl = tmp_path / "p.jsonl"
    jsonl.write_text('{"id": "a", "pred": "FAVOR"}\n\n{"id": "b", "pred": "nope"}\n')
    with pytest.raises(DataError, match=r"p\.jsonl:3: pred: label 'nope' is not in the label set"):
        _check(jsonl)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "a", "pred": "FAVOR"}\n{"id": "b",\n')
    with pytest.raises(DataError, match=r"broken\.jsonl:2: json: .*; write one JSON object per line"):
        _check(broken)
    parquet = _write(pd.DataFrame({"id": ["a", "b", "b"], "label": ["FAVOR", "NONE", "NONE"]}), tmp_path / "p.parquet")
    with pytest.raises(DataError, match=r"p\.parquet: row 3: id: id 'b' appears twice \(first at row 2\)"):
        _check(parquet)


def test_multilabel_predictions_accept_lists_and_pipes(tmp_path: Path) -> None:
    test = pd.DataFrame({"id": ["a", "b"], "label": [["x"], ["x", "y"]]})
    path = tmp_path / "p.csv"
    path.write_text("id,label\na,x\nb,y|x\n")
    out = check_predictions(read_table(path), test, ("x", "y"), True, "test")
    assert out["pred"].tolist() == [["x"], ["y", "x"]]
    path.write_text("id,label\na,x\nb,y|z\n")
    with pytest.raises(DataError, match=r"p\.csv:3: label: label 'z' is not in the label set"):
        check_predictions(read_table(path), test, ("x", "y"), True, "test")


def test_cli_errors_are_one_line_and_write_nothing(tiny_run: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.csv"
    path.write_text("id,label\nd1000,FAVOR\n")
    results = tmp_path / "results"
    assert _import(tiny_run, path, results) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"bench: error: {path}: id: 23 of 24 'test' items")
    assert not results.exists() or not any(results.iterdir())
    assert _import(tiny_run, tmp_path / "missing.csv", results) == 2
    assert "missing.csv: file: no such file" in capsys.readouterr().err
    assert _import(tiny_run, tmp_path / "p.txt", results) == 2
    assert "unknown file type '.txt'" in capsys.readouterr().err


def test_json_records_are_read(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps([{"id": i, "label": lab} for i, lab in zip("abcd", ["FAVOR", "AGAINST", "NONE", "NONE"])]))
    out = _check(path)
    assert out["pred"].tolist() == ["FAVOR", "AGAINST", "NONE", "NONE"]
    assert np.array_equal(out["id"].to_numpy(), np.array(["a", "b", "c", "d"], dtype=object))
