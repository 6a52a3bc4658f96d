"""``bench export --mlflow`` and ``bench run --mlflow``, read back with MLflow's own client from a local store.

The store is a folder (``file:`` store): the one local store that ``mlflow-skinny`` writes.
MLflow 3 opens it only with ``MLFLOW_ALLOW_FILE_STORE=true``, which the fixture sets.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bench.cli import main
from bench.core.errors import ResultsError
from bench.results.mlflow_fields import MetricPoint, metric_key, metric_points
from bench.results.store import RunDir

needs_mlflow = pytest.mark.skipif(importlib.util.find_spec("mlflow") is None,
                                  reason="mlflow is not installed: pip install -e \".[mlflow]\"")


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty local MLflow store; no tracking server or variable of the user's leaks in."""
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return tmp_path / "mlruns"


def client(store: Path) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=str(store))


def runs_by_job(store: Path, experiment: str) -> dict[str, Any]:
    """The active MLflow runs of ``experiment`` by newsbench job id (one each)."""
    found = client(store).get_experiment_by_name(experiment)
    assert found is not None, f"no experiment {experiment!r}"
    runs = client(store).search_runs([found.experiment_id], max_results=1000)
    by_job = {r.data.tags["newsbench.job_id"]: r for r in runs}
    assert len(by_job) == len(runs), "two MLflow runs for one job"
    return by_job


def deleted(store: Path, experiment: str) -> list[str]:
    from mlflow.entities import ViewType

    found = client(store).get_experiment_by_name(experiment)
    return [r.info.run_id for r in client(store).search_runs([found.experiment_id], run_view_type=ViewType.DELETED_ONLY)]


def export(run: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["export", str(run), "--mlflow", "--tracking-uri", str(store)]) == 0
    return capsys.readouterr().out


# --- the mapping of rows to MLflow keys (no mlflow needed) ---------------------------------------------------


def test_row_keys_name_metric_class_target_and_fold() -> None:
    row = {"metric": "f1_macro", "value": 0.5, "ci_low": 0.4, "ci_high": 0.6, "fold": None, "target": None}
    assert metric_key(row) == "f1_macro"
    assert metric_key({**row, "metric": "f1[agree]"}) == "f1.agree"
    assert metric_key({**row, "target": "Atheism/God: yes?"}) == "f1_macro.target.Atheism_God_ yes_"
    assert metric_key({**row, "fold": 2, "target": "climate"}) == "f1_macro.target.climate.fold"
    assert metric_key({**row, "probe": "drift"}) == "f1_macro.probe.drift"
    points = metric_points([row, {**row, "fold": 1, "value": 0.7, "ci_low": None, "ci_high": None},
                            {**row, "metric": "accuracy", "value": float("nan"), "ci_low": None, "ci_high": None}], "jobs/x.json")
    assert points == (MetricPoint(key="f1_macro", value=0.5), MetricPoint(key="f1_macro.ci_low", value=0.4),
                      MetricPoint(key="f1_macro.ci_high", value=0.6),
                      MetricPoint(key="f1_macro.fold", value=0.7, step=1))


def test_two_rows_with_one_key_are_an_error_not_a_hidden_number() -> None:
    row = {"metric": "accuracy", "value": 0.5, "fold": None}
    with pytest.raises(ResultsError, match=r"jobs/x.json: rows accuracy \(target a\+b.*both map to the MLflow "
                                           r"metric 'accuracy.target.a_b'"):
        metric_points([{**row, "target": "a+b"}, {**row, "target": "a_b"}], "jobs/x.json")


# --- bench export --mlflow ---------------------------------------------------------------------------------


@needs_mlflow
def test_export_logs_every_job_with_params_metrics_artifacts_and_tags(
        tiny_benchmark_run: Path, store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = export(tiny_benchmark_run, store, capsys)
    run = RunDir.open(tiny_benchmark_run)
    assert f"{run.run_id}: 4 logged, 0 replaced, 0 unchanged in experiment 'tiny'" in out
    logged = runs_by_job(store, "tiny")
    assert sorted(logged) == sorted(run.job_ids())
    fingerprint = run.manifest["datasets"]["tiny_stance"]["fingerprint"]
    for job_id, mlrun in logged.items():
        job = run.job(job_id)
        params, metrics, tags = mlrun.data.params, mlrun.data.metrics, mlrun.data.tags
        assert mlrun.info.run_name == job_id and mlrun.info.status == "FINISHED"
        assert {k: params[k] for k in ("dataset", "dataset.fingerprint", "features", "features.kind", "model",
                                       "seed", "split")} == {
            "dataset": "tiny_stance", "dataset.fingerprint": fingerprint, "features": "word", "features.kind": "tfidf",
            "model": job["model"], "seed": str(job["seed"]), "split": "test"}
        assert params["model.estimator"] == {"majority": "majority", "logreg": "logistic_regression"}[job["model"]]
        assert params["evaluation.bootstrap.samples"] == "200"
        pooled = [r for r in job["rows"] if r["target"] is None]
        by_target = [r for r in job["rows"] if r["target"] is not None]
        assert pooled and by_target
        for row in pooled:  # every value and its CI, exactly as in the run folder
            name = row["metric"]
            assert (metrics[name], metrics[f"{name}.ci_low"], metrics[f"{name}.ci_high"]) == (
                row["value"], row["ci_low"], row["ci_high"])
        for row in by_target:
            assert metrics[f"{row['metric']}.target.{row['target']}"] == row["value"]
        assert tags["newsbench.run_id"] == run.run_id and tags["newsbench.job_id"] == job_id
        assert tags["newsbench.config_hash"] == run.manifest["config_hash"]
        assert tags["newsbench.run_dir"] == str(tiny_benchmark_run.resolve())
        assert tags["newsbench.version"] == run.manifest["versions"]["newsbench"]
    # the artifacts are the run's own files
    job_id = run.job_ids()[-1]
    mlrun_id = logged[job_id].info.run_id
    got = Path(client(store).download_artifacts(mlrun_id, "", str(tmp_path)))
    assert (got / "config.yaml").read_bytes() == (tiny_benchmark_run / "config.yaml").read_bytes()
    assert json.loads((got / "jobs" / f"{job_id}.json").read_text(encoding="utf-8")) == run.job(job_id)
    pd.testing.assert_frame_equal(pd.read_parquet(got / "predictions" / f"{job_id}.parquet"), run.predictions(job_id))


@needs_mlflow
def test_exporting_twice_logs_nothing_new(tiny_benchmark_run: Path, store: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    export(tiny_benchmark_run, store, capsys)
    first = {job: (r.info.run_id, r.data.metrics) for job, r in runs_by_job(store, "tiny").items()}
    assert "0 logged, 0 replaced, 4 unchanged" in export(tiny_benchmark_run, store, capsys)
    again = runs_by_job(store, "tiny")
    assert {job: (r.info.run_id, r.data.metrics) for job, r in again.items()} == first
    assert deleted(store, "tiny") == []
    mlrun = next(iter(again.values()))
    assert len(client(store).get_metric_history(mlrun.info.run_id, "accuracy")) == 1


@needs_mlflow
def test_a_changed_job_is_replaced_and_a_moved_run_is_pointed_at(
        tiny_benchmark_run: Path, store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "results" / tiny_benchmark_run.name
    shutil.copytree(tiny_benchmark_run, copy)
    export(copy, store, capsys)
    before = runs_by_job(store, "tiny")
    job_id = RunDir(copy).job_ids()[0]
    job = json.loads(RunDir(copy).job_path(job_id).read_text(encoding="utf-8"))
    job["rows"][0]["value"] = 0.125  # what a rescore with another metric definition would do
    RunDir(copy).job_path(job_id).write_text(json.dumps(job), encoding="utf-8")
    assert "0 logged, 1 replaced, 3 unchanged" in export(copy, store, capsys)
    after = runs_by_job(store, "tiny")
    assert len(after) == 4 and after[job_id].info.run_id != before[job_id].info.run_id
    assert after[job_id].data.metrics[job["rows"][0]["metric"]] == 0.125
    assert deleted(store, "tiny") == [before[job_id].info.run_id]  # the old one is deleted, not left beside it
    moved = tmp_path / "elsewhere" / copy.name
    shutil.move(copy, moved)
    assert "0 logged, 0 replaced, 4 unchanged" in export(moved, store, capsys)
    assert {r.data.tags["newsbench.run_dir"] for r in runs_by_job(store, "tiny").values()} == {str(moved.resolve())}


@needs_mlflow
def test_a_bad_tracking_uri_is_one_line(tiny_benchmark_run: Path, store: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(tiny_benchmark_run), "--mlflow", "--tracking-uri", "nosuch://host"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bench: error: MLflow tracking URI 'nosuch://host': ") and err.count("\n") == 1
    with socket.socket() as sock:  # a local port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    uri = f"http://127.0.0.1:{port}"
    assert main(["export", str(tiny_benchmark_run), "--mlflow", "--tracking-uri", uri]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"bench: error: MLflow tracking URI '{uri}': ") and err.count("\n") == 1
    assert "that the tracking server is up" in err
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE")
    if _refuses_folder_stores():  # recent MLflow opens a folder store only when asked to
        assert main(["export", str(tiny_benchmark_run), "--mlflow", "--tracking-uri", str(store)]) == 2
        assert "MLFLOW_ALLOW_FILE_STORE=true" in capsys.readouterr().err


def _refuses_folder_stores() -> bool:
    import mlflow.environment_variables

    return hasattr(mlflow.environment_variables, "MLFLOW_ALLOW_FILE_STORE")


def test_without_the_extra_both_commands_say_how_to_install_it(
        tiny_benchmark_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow now raises ImportError
    assert main(["export", str(tiny_benchmark_run), "--mlflow"]) == 2
    assert capsys.readouterr().err == ("bench: error: --mlflow needs the optional package mlflow-skinny; install it "
                                       "with: pip install -e \".[mlflow]\"\n")
    results = tmp_path / "results"
    config = tiny_benchmark_run.parent.parent / "tiny.yaml"
    assert main(["run", str(config), "--data", str(tiny_benchmark_run.parent.parent / "data"),
                 "--results", str(results), "--quiet", "--mlflow"]) == 2
    assert "pip install -e \".[mlflow]\"" in capsys.readouterr().err
    assert not results.exists()  # refused before anything ran


def test_the_help_does_not_import_mlflow() -> None:
    code = ("import sys, contextlib, io\nfrom bench.cli import main\nwith contextlib.redirect_stdout(io.StringIO()):\n"
            "    for args in (['--help'], ['export', '--help'], ['run', '--help']):\n"
            "        try:\n            main(args)\n        except SystemExit:\n            pass\n"
            "print('mlflow' in sys.modules)")
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True,
                          env={"PYTHONPATH": str(root), "PATH": ""})
    assert done.stdout.strip() == "False"


# --- bench run --mlflow ------------------------------------------------------------------------------------


def _cv_config(folder: Path) -> Path:
    from tests.tiny_news import write_stance

    spec = write_stance(folder / "src", n_train=36, n_test=12)
    config = folder / "cv.yaml"
    config.write_text(f"""name: tiny_cv
datasets: [{spec}]
features:
  - {{name: word, kind: tfidf}}
models:
  - {{name: logreg, estimator: logistic_regression}}
  - {{name: nb, estimator: multinomial_nb}}
seeds: [0]
evaluation:
  test: null
  cv: {{folds: 3}}
  metrics: [accuracy, f1_macro]
  bootstrap: {{samples: 100}}
""", encoding="utf-8")
    return config


def _run(config: Path, *args: str) -> tuple[int, Path]:
    results = config.parent / "results"
    code = main(["run", str(config), "--data", str(config.parent / "data"), "--results", str(results), "--quiet",
                 *args])
    (run,) = [p for p in results.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return code, run


@needs_mlflow
def test_run_logs_each_job_as_it_finishes_with_folds_as_steps(
        tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, run_path = _run(_cv_config(tmp_path), "--mlflow", "--tracking-uri", str(store))
    assert code == 0 and "warning" not in capsys.readouterr().err
    run = RunDir.open(run_path)
    logged = runs_by_job(store, "tiny_cv")
    assert sorted(logged) == sorted(run.job_ids())
    for job_id, mlrun in logged.items():
        assert mlrun.data.tags["newsbench.run_dir"] == str(run_path.resolve())  # the final folder, not .partial
        folds = sorted((r["fold"], r["value"]) for r in run.job(job_id)["rows"]
                       if r["metric"] == "f1_macro" and r["fold"] is not None)
        history = client(store).get_metric_history(mlrun.info.run_id, "f1_macro.fold")
        assert sorted((m.step, m.value) for m in history) == folds and len(folds) == 3
        assert mlrun.data.params["evaluation.cv.folds"] == "3" and mlrun.data.params["split"] == "train"
    # what the run logged is what an export logs: nothing to add
    assert "0 logged, 0 replaced, 2 unchanged" in export(run_path, store, capsys)


@needs_mlflow
def test_a_resumed_run_logs_the_rest_and_points_every_job_at_the_final_folder(
        tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.test_integrity import as_interrupted

    config = _cv_config(tmp_path)
    code, run_path = _run(config)
    partial = as_interrupted(run_path, drop=1)
    first, last = RunDir(partial).job_ids()
    assert main(["export", str(partial), "--mlflow", "--tracking-uri", str(store)]) == 0
    out, err = capsys.readouterr()
    assert "1 logged, 0 replaced, 0 unchanged" in out
    assert f"{partial} is not complete (interrupted); its finished jobs are exported" in err
    assert main(["run", "--resume", str(partial), "--data", str(tmp_path / "data"), "--quiet", "--mlflow",
                 "--tracking-uri", str(store)]) == 0
    logged = runs_by_job(store, "tiny_cv")
    assert sorted(logged) == sorted([first, last])
    assert {r.data.tags["newsbench.run_dir"] for r in logged.values()} == {str(run_path.resolve())}
    assert deleted(store, "tiny_cv") == []


@needs_mlflow
def test_a_failing_tracker_never_fails_the_run(tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    config = _cv_config(tmp_path)
    code, unlogged = _run(config, "--mlflow", "--tracking-uri", "nosuch://host")
    err = capsys.readouterr().err
    assert code == 0 and RunDir.open(unlogged).status == "complete"
    assert len(err.splitlines()) == 1 and err.startswith("bench: warning: --mlflow: MLflow tracking URI 'nosuch://host'")
    assert "`bench export RUN --mlflow`" in err
    shutil.rmtree(unlogged)

    from bench.results.mlflow_export import Tracker

    calls: list[str] = []
    real = Tracker.export_job

    def flaky(self: Tracker, run: RunDir, job_id: str, *args: Any) -> str:
        calls.append(job_id)
        if len(calls) == 2:
            raise ConnectionResetError("the tracking server went away")
        return real(self, run, job_id, *args)

    monkeypatch.setattr(Tracker, "export_job", flaky)
    code, run_path = _run(config, "--mlflow", "--tracking-uri", str(store))
    err = capsys.readouterr().err
    assert code == 0 and len(calls) == 2  # after the failure, no more attempts
    assert err.count("bench: warning: --mlflow: the tracking server went away; the run goes on") == 1
    run = RunDir.open(run_path)
    assert run.status == "complete" and sorted(run.finished_jobs()) == sorted(run.job_ids())
    assert list(runs_by_job(store, "tiny_cv")) == [calls[0]]
