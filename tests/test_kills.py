"""SIGKILL at exact steps (``tests.killpoints``): a killed build, run or rescore never leaves
half a result, and the next command completes or clears what the killed one left.

- ``bench rescore``: killed before each of its file-system changes, the run reads fully old
  or fully new, and ``bench rescore`` again gives the same files as an uninterrupted one.
- ``bench run``: killed while saving a job, mid-run and while finishing, ``--resume`` gives a
  byte-identical ``metrics.json`` and no temporary file is left in the complete run.
- ``bench data build``: killed while saving, the next build leaves no debris and has the
  fingerprint of an uninterrupted build.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.cli import main
from bench.corpus import open_dataset
from bench.results.journal import STAGING
from bench.results.store import RunDir
from tests.conftest import REPO

NEW_METRICS = ["accuracy", "mcc"]
RUN_FILES = ("metrics.json", "metrics.csv")


def killpoints(tasks: list[dict], folder: Path) -> list[dict]:
    """Run ``tasks`` through the harness (one forked child each); returns their outcomes."""
    path = folder / "tasks.json"
    path.write_text(json.dumps(tasks))
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "tests.killpoints", str(path)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(Path(f"{path}.out").read_text())


def state(run: Path) -> dict[str, bytes]:
    """The files a rescore rewrites (the manifest by its metric list: it also records the time)."""
    out = {name: (run / name).read_bytes() for name in RUN_FILES}
    out.update({f"jobs/{p.name}": p.read_bytes() for p in sorted((run / "jobs").glob("*.json"))})
    out["manifest metrics"] = json.dumps(json.loads((run / "manifest.json").read_text())["evaluation"]["metrics"]).encode()
    return out


@pytest.fixture
def tiny(tiny_benchmark_run: Path) -> Path:
    """The session's real tiny run (its dataset under ``<folder>/data``); tests change copies only."""
    return tiny_benchmark_run


def test_a_rescore_killed_at_any_step_leaves_the_run_fully_old_or_fully_new(tiny: Path, tmp_path: Path) -> None:
    old = state(tiny)
    reference = shutil.copytree(tiny, tmp_path / "reference" / tiny.name)
    assert main(["rescore", str(reference), "--metrics", *NEW_METRICS]) == 0
    new = state(reference)
    assert new != old
    def argv(run: Path) -> list[str]:
        return ["rescore", str(run), "--metrics", *NEW_METRICS]

    count = shutil.copytree(tiny, tmp_path / "count" / tiny.name)
    (counted,) = killpoints([{"argv": argv(count), "kill_at": 0}], tmp_path)
    assert counted["code"] == 0 and state(count) == new
    steps = counted["steps"]
    assert steps >= 15  # staging, commit, applying, cleanup: each file-system change is a kill point
    copies = [shutil.copytree(tiny, tmp_path / f"k{n}" / tiny.name) for n in range(1, steps + 1)]
    outcomes = killpoints([{"argv": argv(run), "kill_at": n} for n, run in enumerate(copies, start=1)], tmp_path)
    assert all(o["killed"] for o in outcomes)
    seen = {"old": 0, "new": 0}
    for n, run in enumerate(copies, start=1):
        committed = (run / STAGING / "COMMITTED").is_file()
        if not committed:  # before the commit the live files are untouched; after applying, all new
            assert state(run) in (old, new), f"killed at step {n}"
        RunDir.open(run)  # what any reader does first: finish or undo the journal
        after = state(run)
        assert after in (old, new), f"killed at step {n}: a mix of old and new files"
        seen["old" if after == old else "new"] += 1
        assert not (run / STAGING).exists()
        assert main(argv(run)) == 0
        assert state(run) == new and not list(run.rglob("*.tmp")), f"killed at step {n}"
    assert seen["old"] > 0 and seen["new"] > 0, seen


def _partial(results: Path) -> Path | None:
    found = list(results.glob(".*.partial")) if results.is_dir() else []
    return found[0] if found else None


def test_a_run_killed_while_saving_resumes_to_identical_metrics(tiny: Path, tmp_path: Path) -> None:
    config, data = tiny.parents[1] / "tiny.yaml", tiny.parents[1] / "data"
    def argv(results: Path) -> list[str]:
        return ["run", str(config), "--data", str(data), "--results", str(results), "--quiet"]

    (counted,) = killpoints([{"argv": argv(tmp_path / "count"), "kill_at": 0}], tmp_path)
    assert counted["code"] == 0
    points = [{"pattern": "/jobs/", "kill_at": 1},                  # the first job record, its temporary file written
              {"pattern": "", "kill_at": counted["steps"] // 2},    # mid-run
              {"pattern": "metrics.json", "kill_at": 1}]            # finishing
    tasks = [{"argv": argv(tmp_path / f"k{i}"), **point} for i, point in enumerate(points)]
    outcomes = killpoints(tasks, tmp_path)
    assert [o["killed"] for o in outcomes] == [True] * len(points)
    expected = (tiny / "metrics.json").read_bytes()
    assert list((tmp_path / "k0").rglob("jobs/.*.tmp")), "a kill while saving a job leaves its temporary file"
    for i in range(len(points)):
        results = tmp_path / f"k{i}"
        partial = _partial(results)
        assert partial is not None, f"kill point {points[i]}"
        assert main(["run", "--resume", str(partial), "--data", str(data), "--results", str(results), "--quiet"]) == 0
        (run,) = [p for p in results.iterdir() if p.is_dir() and not p.name.startswith(".")]
        assert (run / "metrics.json").read_bytes() == expected, f"kill point {points[i]}"
        assert not list(run.rglob("*.tmp")), f"kill point {points[i]}"


def test_a_build_killed_while_saving_leaves_no_debris_after_the_next_build(tiny: Path, tmp_path: Path) -> None:
    spec = tiny.parents[1] / "src" / "tiny_stance.yaml"
    fingerprint = open_dataset(tiny.parents[1] / "data" / "tiny_stance").fingerprint
    def argv(data: Path) -> list[str]:
        return ["data", "build", str(spec), "--data", str(data)]

    (counted,) = killpoints([{"argv": argv(tmp_path / "count"), "kill_at": 0, "pattern": ".partial-"}], tmp_path)
    assert counted["code"] == 0 and counted["steps"] >= 3
    points = sorted({2, counted["steps"] // 2, counted["steps"]})  # 1 is the mkdir of the folder being saved
    tasks = [{"argv": argv(tmp_path / f"k{n}"), "kill_at": n, "pattern": ".partial-"} for n in points]
    outcomes = killpoints(tasks, tmp_path)
    assert all(o["killed"] for o in outcomes)
    for n in points:
        data = tmp_path / f"k{n}"
        assert list(data.glob(".tiny_stance.partial-*")), f"step {n}: the kill left a half-saved dataset"
        assert list(data.glob(".tiny_stance.build-*")), f"step {n}: and the build's prepared rows"
        assert main(argv(data)) == 0
        assert sorted(p.name for p in data.iterdir()) == ["tiny_stance"], f"step {n}"
        assert open_dataset(data / "tiny_stance").fingerprint == fingerprint
