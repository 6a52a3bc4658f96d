"""``bench run`` end to end on tiny datasets: files on disk, determinism, --jobs, resume, signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.cli import main
from bench.results.store import RunDir
from tests.conftest import REPO
from tests.slow_classifier import slow_config
from tests.tiny_news import write_stance, write_topic

CONFIG = """\
name: tiny
datasets: [{topic}, {stance}]
features:
  - {{name: word, kind: tfidf, params: {{ngram_range: [1, 2], sublinear_tf: true}}}}
  - {{name: char, kind: tfidf, params: {{analyzer: char_wb, ngram_range: [2, 4]}}}}
models:
  - {{name: majority, estimator: majority}}
  - {{name: logreg, estimator: logistic_regression, params: {{C: 5.0}}}}
  - {{name: sgd, estimator: sgd}}
seeds: [0, 1]
evaluation:
  metrics: [accuracy, f1_macro, f1_per_class]
  bootstrap: {{samples: 200}}
"""

@pytest.fixture
def project(tmp_path: Path) -> dict[str, Path]:
    topic, stance = write_topic(tmp_path / "src" / "topic"), write_stance(tmp_path / "src" / "stance")
    config = tmp_path / "tiny.yaml"
    config.write_text(CONFIG.format(topic=topic, stance=stance))
    return {"root": tmp_path, "config": config, "topic": topic, "data": tmp_path / "data",
            "results": tmp_path / "results"}


def bench_run(project: dict[str, Path], *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, Path, str]:
    code = main(["run", str(project["config"]), "--data", str(project["data"]), "--results",
                 str(project["results"]), "--quiet", *args])
    out = capsys.readouterr().out
    return code, Path(out.strip().splitlines()[-1]), out


def test_run_writes_every_results_file(project: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, run_dir, out = bench_run(project, "--set", "seeds=[3]", capsys=capsys)
    assert code == 0 and run_dir.parent == project["results"] and not run_dir.name.startswith(".")
    assert "tiny_topic" in out and "f1[business]" in out
    names = sorted(p.name for p in run_dir.iterdir())
    assert names == ["config.yaml", "jobs", "manifest.json", "metrics.csv", "metrics.json", "predictions"]
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["seeds"] == [3]
    assert manifest["run_id"] == run_dir.name and run_dir.name.split("-")[1] == "tiny"
    assert set(manifest["datasets"]) == {"tiny_topic", "tiny_stance"}
    assert len(manifest["datasets"]["tiny_topic"]["fingerprint"]) == 64
    assert {"python", "numpy", "sklearn", "pandas", "pyarrow", "datasets", "scipy"} <= set(manifest["versions"])
    assert set(manifest["git"]) == {"commit", "dirty"} and manifest["evaluation"]["bootstrap"]["samples"] == 200
    jobs = manifest["jobs"]
    assert len(jobs) == 2 * 2 * 3 and all(j["status"] == "done" and j["fit_seconds"] >= 0 for j in jobs.values())
    assert "seeds:\n- 3\n" in (run_dir / "config.yaml").read_text()  # --set is in the snapshot
    run = RunDir.open(run_dir)
    for job_id in jobs:
        preds = run.predictions(job_id)
        assert list(preds.columns[:3]) == ["id", "gold", "pred"]
        assert run.job(job_id)["confusion"]
    rows = run.metrics
    assert len(rows) == 12 * (2 + 3)  # 12 jobs x (accuracy, f1_macro, f1 per class of 3)
    assert rows["n"].eq(15).all()


def test_ls_and_show_read_the_run(project: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _, run_dir, _ = bench_run(project, capsys=capsys)
    assert main(["ls", "--results", str(project["results"]), "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["run_id"], r["status"], r["jobs_done"], r["jobs"]) for r in listed] == [
        (run_dir.name, "complete", 24, 24)]
    assert main(["show", str(run_dir), "--format", "csv"]) == 0
    csv_lines = capsys.readouterr().out.splitlines()
    assert csv_lines[0].startswith("dataset,features,model,split,target,metric,mean,std,ci_low,ci_high,n_seeds")
    assert len(csv_lines) == 1 + 2 * 2 * 3 * 5
    assert main(["show", run_dir.name[:15], "--results", str(project["results"]), "--format", "md"]) == 0
    md = capsys.readouterr().out
    assert "| dataset | features | model | accuracy | f1_macro | f1[business] |" in md
    assert main(["show", str(run_dir), "--format", "latex"]) == 0
    assert r"\begin{tabular}" in capsys.readouterr().out


@pytest.mark.slow
def test_same_config_gives_identical_metrics_for_any_jobs(project: dict[str, Path],
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    dirs = []
    for i, jobs in enumerate(("1", "1", "2")):
        code = main(["run", str(project["config"]), "--data", str(project["data"]), "--results",
                     str(project["root"] / f"results{i}"), "--quiet", "--jobs", jobs,
                     "--set", "features=[{name: word, kind: tfidf, params: {ngram_range: [1, 2]}}]"])
        assert code == 0
        dirs.append(Path(capsys.readouterr().out.strip().splitlines()[-1]))
    first, second, parallel = dirs
    data = (first / "metrics.json").read_bytes()
    assert len(json.loads(data)["rows"]) == 2 * 3 * 2 * 5
    assert data == (second / "metrics.json").read_bytes() == (parallel / "metrics.json").read_bytes()
    assert (first / "metrics.csv").read_bytes() == (parallel / "metrics.csv").read_bytes()


def test_cv_run_keeps_per_fold_rows(project: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, run_dir, _ = bench_run(project, "--set", "evaluation.cv={folds: 3, by: group}", "--set",
                                 "models=[{name: lr, estimator: logistic_regression}]", capsys=capsys)
    assert code == 0
    rows = RunDir.open(run_dir).metrics
    assert sorted(rows["fold"].dropna().unique().tolist()) == [0, 1, 2]
    assert set(rows["split"]) == {"train"}


def test_a_user_error_in_a_worker_process_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_topic(tmp_path / "src", name="no_groups", group=False)
    config = tmp_path / "c.yaml"
    config.write_text(f"""name: c
datasets: [{spec}]
features: [{{name: word, kind: tfidf}}]
models: [{{name: lr, estimator: logistic_regression}}, {{name: svm, estimator: linear_svc}}]
evaluation: {{cv: {{folds: 3, by: group}}, metrics: [accuracy]}}
""")
    code = main(["run", str(config), "--data", str(tmp_path / "data"), "--results", str(tmp_path / "r"), "--quiet",
                 "--jobs", "2"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("bench: error: ") and "evaluation.cv.by: dataset 'no_groups' has no `group`" in err


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def _spawn(project: dict[str, Path], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "bench", "run", *args, "--data", str(project["data"]),
                             "--results", str(project["results"])], cwd=REPO, env=_env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_jobs(project: dict[str, Path], n: int, proc: subprocess.Popen[str], timeout: float = 60) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for partial in project["results"].glob(".*.partial"):
            if len(list((partial / "jobs").glob("*.json"))) >= n:
                return partial
        if proc.poll() is not None:
            raise AssertionError(f"run ended early: {proc.communicate()}")
        time.sleep(0.05)
    raise AssertionError("no job finished in time")


@pytest.mark.slow
def test_sigkill_then_resume_gives_the_uninterrupted_metrics(project: dict[str, Path],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    slow = project["root"] / "slow.yaml"
    slow.write_text(slow_config(project["topic"], delay=0.4, seeds=6, metrics="accuracy", samples=50))
    proc = _spawn(project, str(slow))
    partial = _wait_for_jobs(project, 2, proc)
    proc.kill()
    proc.wait(timeout=30)
    done_before = {p.name: p.stat().st_mtime_ns for p in (partial / "jobs").glob("*.json")}
    assert 2 <= len(done_before) < 6 and partial.exists()
    assert not [p for p in project["results"].iterdir() if not p.name.startswith(".")]  # nothing looks complete

    code = main(["run", "--resume", str(partial), "--data", str(project["data"])])
    out, err = capsys.readouterr()
    assert code == 0 and f"{len(done_before)} already done" in err
    resumed = Path(out.strip().splitlines()[-1])
    for name, mtime in done_before.items():  # finished jobs were not recomputed
        assert (resumed / "jobs" / name).stat().st_mtime_ns == mtime
    assert RunDir.open(resumed).manifest["status"] == "complete"

    fresh = main(["run", str(slow), "--data", str(project["data"]), "--results", str(project["root"] / "fresh"),
                  "--quiet"])
    fresh_dir = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert fresh == 0
    assert (resumed / "metrics.json").read_bytes() == (fresh_dir / "metrics.json").read_bytes()


@pytest.mark.slow
def test_sigterm_marks_the_run_interrupted(project: dict[str, Path]) -> None:
    slow = project["root"] / "slow.yaml"
    slow.write_text(slow_config(project["topic"], delay=0.5, seeds=6, metrics="accuracy", samples=50))
    proc = _spawn(project, str(slow))
    partial = _wait_for_jobs(project, 1, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "bench run --resume" in err
    assert json.loads((partial / "manifest.json").read_text())["status"] == "interrupted"
    assert partial.name.endswith(".partial")


@pytest.mark.slow
def test_a_job_that_raises_marks_the_run_failed(project: dict[str, Path]) -> None:
    slow = project["root"] / "slow.yaml"
    # time.sleep(-1) raises ValueError
    slow.write_text(slow_config(project["topic"], delay=-1, seeds=6, metrics="accuracy", samples=50))
    proc = _spawn(project, str(slow), "--quiet")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "Traceback" in err and "ValueError" in err
    (partial,) = project["results"].glob(".*.partial")
    manifest = json.loads((partial / "manifest.json").read_text())
    assert manifest["status"] == "failed" and "ValueError" in manifest["error"]


def test_resume_refuses_a_complete_run(project: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _, run_dir, _ = bench_run(project, "--set", "seeds=[0]", capsys=capsys)
    assert main(["run", "--resume", str(run_dir), "--data", str(project["data"])]) == 2
    assert "the run is complete; nothing to resume" in capsys.readouterr().err
