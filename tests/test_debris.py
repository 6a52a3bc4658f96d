"""What killed processes leave is removed by the next command of the same target and by
``bench ls --clean``, never what a live process is working on; folders and files follow the
umask, so a team can share results."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bench.cli import main
from bench.core.files import owner_pid, temp_folder, write_text
from bench.core.locks import lock_file
from bench.results.journal import COMMITTED, STAGING
from bench.results.store import RunDir
from tests.run_factory import gold_labels, simulated_job, write_run

RUN_ID = "20260101T000000-demo-00000000"


@pytest.fixture
def tiny_run(tiny_benchmark_run: Path, tmp_path: Path) -> Path:
    """A copy of the session's real tiny run (rescore needs its dataset, which stays where it is)."""
    return shutil.copytree(tiny_benchmark_run, tmp_path / tiny_benchmark_run.name)


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    return int(proc.stdout)


def test_temporary_names_carry_their_owner() -> None:
    assert owner_pid(".metrics.json.4242.a1b_2c3d.tmp") == 4242
    assert owner_pid(".20260101T000000-x-abcd1234.old-77-0f0f0f0f") == 77
    assert owner_pid("metrics.json") is None and owner_pid(".x.partial") is None and owner_pid(".x.tmp") is None


def test_ls_clean_removes_the_debris_of_dead_processes_only(tmp_path: Path, rng,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    results, data = tmp_path / "results", tmp_path / "data"
    run = write_run(results, "demo", [simulated_job(rng, dataset="toy", model="m", seed=0, gold=gold_labels(rng, 20),
                                                     accuracy=0.7)])
    gone, alive = dead_pid(), os.getpid()
    debris = [results / f".{RUN_ID}.{gone}.abc123.tmp", results / f".{RUN_ID}.old-{gone}-0a0b0c0d",
              run / "jobs" / f".x.json.{gone}.zz9.tmp", run / STAGING / "jobs" / "x.json",
              results / ".cache" / "features" / f".k.npz.{gone}.q1.tmp",
              data / ".news.partial-0a1b2c3d", data / f".news.build-{gone}-0a1b2c3d", data / f".news.old-{gone}-0a0b0c0d",
              data / ".other.lock"]
    kept = [results / f".{RUN_ID}.{alive}.abc123.tmp", results / ".cache" / "features" / f".k.npz.{alive}.q1.tmp",
            data / ".busy.partial-0a1b2c3d", data / f".news.build-{alive}-0a1b2c3d", data / "news" / "stats.json",
            run / "metrics.json"]
    for path in debris + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.mkdir() if path.name.endswith(("0a0b0c0d", "0a1b2c3d", "abc123.tmp")) else path.write_text("x")
    before = (run / "metrics.json").read_bytes()
    with lock_file(data / ".busy.lock"):  # a build of "busy" is running
        assert main(["ls", "--clean", "--results", str(results), "--data", str(data), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert [r["run_id"] for r in json.loads(out)] == [RunDir.open(run).run_id]
    assert not [p for p in debris if p.exists()]
    assert [p for p in kept if p.exists()] == kept and (run / "metrics.json").read_bytes() == before
    removed = {line.removeprefix("removed ") for line in err.splitlines() if line.startswith("removed ")}
    assert {str(p) for p in debris if STAGING not in p.parts} | {str(run / STAGING)} == removed
    assert err.splitlines()[-1] == f"cleaned: {len(removed)} leftovers of killed processes removed"


def test_a_committed_rescore_left_by_a_kill_is_completed_by_the_next_reader(tmp_path: Path, rng) -> None:
    run = write_run(tmp_path, "demo", [simulated_job(rng, dataset="toy", model="m", seed=0, gold=gold_labels(rng, 20),
                                                      accuracy=0.7)])
    write_text(run / STAGING / "metrics.csv", "new\n")
    write_text(run / STAGING / COMMITTED, json.dumps(["metrics.csv"]))
    RunDir.open(run)
    assert (run / "metrics.csv").read_text() == "new\n" and not (run / STAGING).exists()
    write_text(run / STAGING / "metrics.csv", "uncommitted\n")  # staged, never committed: thrown away
    RunDir.open(run)
    assert (run / "metrics.csv").read_text() == "new\n" and not (run / STAGING).exists()


def _create(root: str) -> str:
    manifest = {"schema_version": 1, "run_id": RUN_ID, "name": "demo", "status": "running", "jobs": {}}
    return RunDir.create(Path(root), RUN_ID, config_yaml="name: demo\n", manifest=manifest).path.name


def test_runs_claiming_one_id_at_once_each_get_their_own_folder(tmp_path: Path) -> None:
    with multiprocessing.get_context("fork").Pool(4) as pool:
        names = pool.map(_create, [str(tmp_path)] * 8)
    assert sorted(names) == sorted([f".{RUN_ID}.partial"] + [f".{RUN_ID}-{k}.partial" for k in range(2, 9)])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_run_folders_and_files_follow_the_umask(tmp_path: Path, rng, umask: int) -> None:
    old = os.umask(umask)
    try:
        run = write_run(tmp_path / "results", "demo", [simulated_job(rng, dataset="toy", model="m", seed=0,
                                                                      gold=gold_labels(rng, 20), accuracy=0.7)])
        folder = temp_folder(tmp_path, "x")
        out = tmp_path / "table.md"
        assert main(["compare", str(run), "-o", str(out)]) == 0
    finally:
        os.umask(old)
    modes = {p.relative_to(tmp_path): stat.S_IMODE(p.stat().st_mode) for p in [run, *run.rglob("*"), folder, out]}
    expected_dir, expected_file = 0o777 & ~umask, 0o666 & ~umask
    assert {k: v for k, v in modes.items() if v != (expected_dir if (tmp_path / k).is_dir() else expected_file)} == {}


def test_a_journal_whose_rescore_is_alive_is_left_to_it_and_rescores_wait_for_each_other(tiny_run: Path) -> None:
    import threading

    from bench.core.locks import folder_lock
    from bench.results.journal import recover

    write_text(tiny_run / STAGING / "metrics.csv", "being written\n")
    with folder_lock(tiny_run):  # a live rescore of this run
        assert recover(tiny_run) is None and (tiny_run / STAGING / "metrics.csv").is_file()
        done: list[int] = []
        waiting = threading.Thread(target=lambda: done.append(main(["rescore", str(tiny_run)])))
        waiting.start()
        waiting.join(0.5)
        assert waiting.is_alive() and not done  # the second rescore waits for the lock
    waiting.join(60)
    assert done == [0] and not (tiny_run / STAGING).exists()
