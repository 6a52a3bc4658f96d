"""The Dask executor: same metrics as the local executor, a lost worker's job is retried, clear errors."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from bench.cli import main
from bench.run.validate import load_config
from bench.core.errors import BenchError, DataError
from bench.results.store import RunDir
from tests.slow_classifier import slow_config
from tests.tiny_news import write_stance, write_topic

try:
    import distributed
except ImportError:
    distributed = None

needs_dask = pytest.mark.skipif(distributed is None,
                                reason='dask[distributed] is not installed: pip install -e ".[dask]"')

GRID = """\
name: grid
datasets: [{topic}, {stance}]
features:
  - {{name: word, kind: tfidf, params: {{ngram_range: [1, 2]}}}}
models:
  - {{name: logreg, estimator: logistic_regression, params: {{C: 5.0}}}}
  - {{name: sgd, estimator: sgd}}
seeds: [0, 1]
evaluation:
  metrics: [accuracy, f1_macro, f1_per_class]
  bootstrap: {{samples: 200}}
"""

@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("dask")
    topic, stance = write_topic(root / "src" / "topic"), write_stance(root / "src" / "stance")
    grid, slow, fast = root / "grid.yaml", root / "slow.yaml", root / "fast.yaml"
    grid.write_text(GRID.format(topic=topic, stance=stance))
    slow.write_text(slow_config(topic, delay=3.0, seeds=4, metrics="accuracy, f1_macro", samples=100))
    fast.write_text(slow_config(topic, delay=0.0, seeds=4, metrics="accuracy, f1_macro", samples=100))
    return {"root": root, "grid": grid, "slow": slow, "fast": fast, "data": root / "data"}


@pytest.fixture(scope="module")
def cluster() -> object:
    """A local cluster of 2 worker processes, shared by the tests that need processes."""
    if distributed is None:
        pytest.skip('dask[distributed] is not installed: pip install -e ".[dask]"')
    from bench.run.dask_executor import DaskExecutor

    executor = DaskExecutor.start(workers=2, retries=3)
    yield executor
    executor.close()


def _run(project: dict[str, Path], config: str, results: Path, *args: str) -> Path:
    code = main(["run", str(project[config]), "--data", str(project["data"]), "--results", str(results),
                 "--quiet", *args])
    assert code == 0
    (run,) = [p for p in results.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return run


@pytest.fixture(scope="module")
def local_grid(project: dict[str, Path]) -> Path:
    """The grid run with the local (serial) executor: the reference."""
    return _run(project, "grid", project["root"] / "local")


def _same_results(a: Path, b: Path) -> None:
    """Metrics byte for byte, predictions and job reports equal; only timings may differ."""
    assert (a / "metrics.json").read_bytes() == (b / "metrics.json").read_bytes()
    assert (a / "metrics.csv").read_bytes() == (b / "metrics.csv").read_bytes()
    run_a, run_b = RunDir.open(a), RunDir.open(b)
    assert run_a.job_ids() == run_b.job_ids() and len(run_a.job_ids()) > 0
    timing = ("fit_seconds", "predict_seconds", "feature_seconds", "seconds")
    for job_id in run_a.job_ids():
        assert run_a.predictions(job_id).equals(run_b.predictions(job_id))
        ja, jb = ({k: v for k, v in run.job(job_id).items() if k not in timing} for run in (run_a, run_b))
        assert ja == jb
    assert run_b.manifest["status"] == "complete"


@needs_dask
def test_thread_cluster_gives_the_metrics_of_the_local_executor(project: dict[str, Path], local_grid: Path) -> None:
    from bench.run.benchmark import run_benchmark
    from bench.run.dask_executor import DaskExecutor
    from bench.run.progress import make_progress

    results = project["root"] / "threads"
    with DaskExecutor.start(workers=2, processes=False) as executor:
        assert executor.n_workers == 2
        run = run_benchmark(load_config(project["grid"]), data_root=project["data"], results_root=results,
                            n_jobs=1, progress=make_progress(quiet=True), executor=executor)
    _same_results(local_grid, run.path)
    # the feature block of each dataset was fitted once, into the shared on-disk cache
    assert len(list((results / ".cache" / "features").glob("*.npz"))) == 2


@needs_dask
def test_cli_on_a_running_scheduler_gives_the_metrics_of_the_local_executor(
        project: dict[str, Path], local_grid: Path, cluster: object) -> None:
    address = cluster.client.scheduler.address
    run = _run(project, "grid", project["root"] / "scheduler", "--executor", "dask", "--scheduler", address)
    _same_results(local_grid, run)


@needs_dask
def test_a_killed_worker_costs_a_retry_not_a_row(project: dict[str, Path], cluster: object) -> None:
    """SIGKILL the worker running a slow job: the job runs again elsewhere and every row is right."""
    from bench.run.benchmark import run_benchmark
    from bench.run.progress import make_progress

    client = cluster.client
    before = client.run(os.getpid)
    killed: dict[str, int] = {}

    def kill_first_busy_worker() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            for address, keys in client.processing().items():
                if any("feature" not in str(key) for key in keys):  # a model job, not a feature task
                    time.sleep(0.5)  # inside SlowClassifier.fit (3 s)
                    killed[address] = before[address]
                    os.kill(before[address], signal.SIGKILL)
                    return
            time.sleep(0.1)

    killer = threading.Thread(target=kill_first_busy_worker, daemon=True)
    killer.start()
    run = run_benchmark(load_config(project["slow"]), data_root=project["data"],
                        results_root=project["root"] / "killed", n_jobs=1, progress=make_progress(quiet=True),
                        executor=cluster)
    killer.join(timeout=5)
    assert killed, "no worker was killed: the test did not test anything"
    ((address, pid),) = killed.items()
    assert pid not in client.run(os.getpid).values()  # that process is gone (its nanny started a new one)
    reference = _run(project, "fast", project["root"] / "fast")  # same jobs without the delay, serially
    _same_results(reference, run.path)
    assert all(job["status"] == "done" for job in run.manifest["jobs"].values())


@needs_dask
def test_a_user_error_on_a_worker_comes_back_as_one_line(cluster: object) -> None:
    with pytest.raises(BenchError, match=r"^data\.csv:3: label: unknown label 'x'; fix it$"):
        list(cluster.map_unordered(_raise_data_error, [1, 2]))


def _raise_data_error(item: int) -> int:
    if item == 2:
        raise DataError("data.csv", 3, "label", "unknown label 'x'; fix it")
    return item


@needs_dask
def test_unreachable_scheduler_and_flag_misuse_are_user_errors(project: dict[str, Path],
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    base = ["run", str(project["grid"]), "--data", str(project["data"]), "--results", str(project["root"] / "x")]
    assert main([*base, "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert "--scheduler: only used with --executor dask" in capsys.readouterr().err
    assert main([*base, "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9", "--jobs", "2"]) == 2
    assert "--jobs: the workers of a running scheduler are its own" in capsys.readouterr().err
    from bench.run.dask_executor import DaskExecutor

    with pytest.raises(BenchError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"):
        DaskExecutor.start(scheduler="tcp://127.0.0.1:9", timeout=2)


def test_without_dask_the_error_says_how_to_install_it(project: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    code = main(["run", str(project["grid"]), "--data", str(project["data"]), "--results",
                 str(project["root"] / "none"), "--executor", "dask"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert 'install it with: pip install -e ".[dask]"' in err



@needs_dask
def test_a_job_that_keeps_losing_workers_stops_the_run_with_one_line() -> None:
    """With retries 0, the first lost worker ends the run with a user-readable error, not a hang."""
    from bench.run.dask_executor import DaskExecutor

    with DaskExecutor.start(workers=1, retries=0) as executor:
        with pytest.raises(BenchError, match=r"^dask: a _die task lost its worker more than 0 times .*raise --retries$"):
            list(executor.map_unordered(_die, [0]))


def _die(item: int) -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return item
