"""Commands started together: four identical ``bench run`` (a job array) each complete into
their own folder with identical metrics; four ``bench data build`` of one dataset build it once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.corpus import build_dataset
from tests.conftest import REPO
from tests.tiny_news import write_stance

CONFIG = """name: array
datasets: [tiny_stance]
features:
  - {name: word, kind: tfidf}
models:
  - {name: logreg, estimator: logistic_regression}
seeds: [0]
evaluation:
  metrics: [accuracy, f1_macro]
  bootstrap: {samples: 100}
"""


def start_together(argvs: list[list[str]]) -> list[subprocess.CompletedProcess]:
    """Start every command before waiting for any (each in its own ``python -m bench``)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-m", "bench", *argv], cwd=REPO, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for argv in argvs]
    done = []
    for argv, proc in zip(argvs, procs):
        out, err = proc.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(argv, proc.returncode, out, err))
    return done


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path]:
    spec = write_stance(tmp_path / "src")
    data = tmp_path / "data"
    build_dataset(spec, data)
    return spec, data


def test_four_identical_runs_started_together_all_complete_in_their_own_folders(built: tuple[Path, Path],
                                                                                 tmp_path: Path) -> None:
    _, data = built
    config = tmp_path / "array.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    results = tmp_path / "results"
    done = start_together([["run", str(config), "--data", str(data), "--results", str(results), "--quiet"]] * 4)
    assert [d.returncode for d in done] == [0] * 4, [d.stderr[-500:] for d in done]
    folders = [Path(d.stdout.strip().splitlines()[-1]) for d in done]
    assert len(set(folders)) == 4 and all(f.parent == results for f in folders)
    assert sorted(p.name for p in results.iterdir() if p.name != ".cache") == sorted(f.name for f in folders)
    metrics = {(f / "metrics.json").read_bytes() for f in folders}
    assert len(metrics) == 1
    by_second: dict[str, list[str]] = {}
    for name in sorted(f.name for f in folders):
        by_second.setdefault(name[:15], []).append(name)  # <UTC yyyymmddTHHMMSS>-...
    for names in by_second.values():  # the same second: <id>, <id>-2, <id>-3...
        base = min(names, key=len)
        assert sorted(names) == sorted([base] + [f"{base}-{k}" for k in range(2, len(names) + 1)])


def test_four_builds_of_one_dataset_started_together_build_it_once(tmp_path: Path) -> None:
    spec = write_stance(tmp_path / "src")
    data = tmp_path / "data"
    done = start_together([["data", "build", str(spec), "--data", str(data)]] * 4)
    assert [d.returncode for d in done] == [0] * 4, [d.stderr[-500:] for d in done]
    verbs = sorted("up to date" in d.stdout for d in done)
    assert verbs == [False, True, True, True], [d.stdout for d in done]
    assert {d.stdout.strip().splitlines()[-1] for d in done} == {str(data / "tiny_stance")}
    assert sorted(p.name for p in data.iterdir()) == ["tiny_stance"]
    again = build_dataset(spec, tmp_path / "alone").dataset
    assert build_dataset(spec, data).dataset.fingerprint == again.fingerprint
