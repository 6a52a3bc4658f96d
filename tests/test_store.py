"""The results store: .partial folders, atomic files, finalize, reading runs back."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from bench.core.errors import ResultsError
from bench.results.store import RunDir, list_runs
from bench.results.layout import ROW_KEYS, rows_to_csv, write_json_atomic

RUN_ID = "20260101T000000-demo-0123abcd"


def row(job: str, metric: str, value: float, ci: tuple[float | None, float | None] = (None, None)) -> dict:
    return {"dataset": "d", "features": "f", "model": job, "seed": 0, "split": "test", "fold": None,
            "target": None, "metric": metric, "value": value, "ci_low": ci[0], "ci_high": ci[1], "n": 10}


def new_run(root: Path, jobs: tuple[str, ...] = ("a", "b"), run_id: str = RUN_ID, created: str = "1") -> RunDir:
    manifest = {"schema_version": 1, "run_id": run_id, "name": "demo", "status": "running", "created": created,
                "jobs": {j: {"status": "pending"} for j in jobs}}
    return RunDir.create(root, run_id, config_yaml="name: demo\n", manifest=manifest)


def finish(run: RunDir, job: str, value: float = 0.5) -> None:
    preds = pd.DataFrame({"id": ["1", "2"], "gold": ["x", "y"], "pred": ["x", "x"], "score:x": [0.9, 0.6]})
    run.write_job(job, {"job_id": job, "rows": [row(job, "accuracy", value, (0.1, 0.9))]}, preds)


def test_a_new_run_is_partial_until_every_job_is_saved(tmp_path: Path) -> None:
    run = new_run(tmp_path)
    assert run.path.name == f".{RUN_ID}.partial" and run.is_partial
    assert sorted(p.name for p in run.path.iterdir()) == ["config.yaml", "jobs", "manifest.json", "predictions"]
    finish(run, "a")
    assert run.finished_jobs() == {"a"}
    with pytest.raises(ResultsError, match=r"1 jobs not finished \(first b\); resume with `bench run --resume"):
        run.finalize()
    assert not (tmp_path / RUN_ID).exists()


def test_finalize_writes_metrics_in_plan_order_and_renames(tmp_path: Path) -> None:
    run = new_run(tmp_path)
    finish(run, "b", 0.25)
    finish(run, "a", 0.75)
    done = run.finalize()
    assert done.path == tmp_path / RUN_ID and not done.is_partial
    assert not list(tmp_path.glob(".*partial"))
    data = json.loads((done.path / "metrics.json").read_text())
    assert data["schema_version"] == 1
    assert [(r["model"], r["value"]) for r in data["rows"]] == [("a", 0.75), ("b", 0.25)]
    assert all(tuple(r) == ROW_KEYS for r in data["rows"])
    assert (done.path / "metrics.csv").read_text() == rows_to_csv(data["rows"])
    again = RunDir.open(done.path)
    assert again.manifest["status"] == "complete"
    assert again.metrics["value"].tolist() == [0.75, 0.25]
    assert again.predictions("a")["pred"].tolist() == ["x", "x"]
    assert again.job_ids() == ["a", "b"] and again.job("b")["rows"][0]["value"] == 0.25


def test_rows_of_a_partial_run_come_from_its_finished_jobs(tmp_path: Path) -> None:
    run = new_run(tmp_path, jobs=("a", "b", "c"))
    finish(run, "c")
    finish(run, "a")
    assert [r["model"] for r in run.rows()] == ["a", "c"]


def test_json_has_no_nan(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    write_json_atomic(path, {"v": math.nan, "w": [math.inf, 1.0]})
    assert json.loads(path.read_text()) == {"v": None, "w": [None, 1.0]}
    assert not list(tmp_path.glob("*.tmp"))


def test_open_rejects_what_is_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match=r"no such run folder; see `bench ls`"):
        RunDir.open(tmp_path / "nope")
    with pytest.raises(ResultsError, match=r"no manifest\.json; not a run folder"):
        RunDir.open(tmp_path)
    (tmp_path / "manifest.json").write_text('{"schema_version": 99}')
    with pytest.raises(ResultsError, match=r"schema_version 99, this newsbench reads 1"):
        RunDir.open(tmp_path)
    (tmp_path / "manifest.json").write_text('{"schema_version": 1,')
    with pytest.raises(ResultsError, match=r"manifest\.json:1: not valid JSON"):
        RunDir.open(tmp_path)


def test_predictions_of_an_unknown_job(tmp_path: Path) -> None:
    run = new_run(tmp_path)
    with pytest.raises(ResultsError, match=r"no predictions for job 'zz'; jobs: a, b"):
        run.predictions("zz")


def test_a_taken_run_id_gets_the_next_free_suffix(tmp_path: Path) -> None:
    first = new_run(tmp_path)
    second, third = new_run(tmp_path), new_run(tmp_path)
    assert [r.path.name for r in (first, second, third)] == [f".{first.run_id}.partial", f".{first.run_id}-2.partial",
                                                             f".{first.run_id}-3.partial"]
    assert [RunDir.open(r.path).run_id for r in (second, third)] == [f"{first.run_id}-2", f"{first.run_id}-3"]
    assert not list(tmp_path.glob("*.tmp"))


def test_list_runs_oldest_first_with_partial_ones(tmp_path: Path) -> None:
    late = new_run(tmp_path, jobs=("a",), run_id="20260102T000000-demo-00000002", created="2026-01-02")
    finish(late, "a")
    late.finalize()
    new_run(tmp_path, run_id="20260101T000000-demo-00000001", created="2026-01-01")
    (tmp_path / ".cache").mkdir()
    runs = list_runs(tmp_path)
    assert [r.run_id for r in runs] == ["20260101T000000-demo-00000001", "20260102T000000-demo-00000002"]
    assert [r.is_partial for r in runs] == [True, False]
    assert list_runs(tmp_path / "missing") == []
    other = tmp_path / "other"
    other.mkdir()
    (other / "manifest.json").write_text('{"schema_version": 2}')
    problems: list[str] = []
    assert len(list_runs(tmp_path, problems)) == 2
    assert len(problems) == 1 and "schema_version 2" in problems[0]


def test_update_manifest_keeps_other_keys(tmp_path: Path) -> None:
    run = new_run(tmp_path)
    run.set_job("a", status="done", fit_seconds=1.5)
    run.update_manifest(status="interrupted")
    manifest = RunDir.open(run.path).manifest
    assert manifest["status"] == "interrupted" and manifest["name"] == "demo"
    assert manifest["jobs"]["a"] == {"status": "done", "fit_seconds": 1.5}
