"""Edited or damaged run folders through ls, show, compare, rescore and report.

Each damage is applied to one run (``victim``) of a results folder that also holds a healthy
one (``bystander``): every command exits 0 or 2 with at most one line on stderr, files that
existed are kept (a successful rescore may rewrite the victim's metric files), and ``bench ls``
still lists the healthy run, with the victim marked ``damaged`` when its manifest is unreadable.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from tests.hostile.conftest import run_folder
from tests.hostile.harness import bench, check, files_of


def _job(run: Path) -> Path:
    (job,) = sorted((run / "jobs").glob("*.json"))
    return job


def _prediction(run: Path) -> Path:
    (path,) = sorted((run / "predictions").glob("*.parquet"))
    return path


def _write(name: str, content: bytes | str) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        path = _resolve(run, name)
        data = content.encode() if isinstance(content, str) else content
        path.write_bytes(data)
    return damage


def _resolve(run: Path, name: str) -> Path:
    return {"@job": _job, "@pred": _prediction}.get(name, lambda r: r / name)(run)


def _truncate(name: str) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        path = _resolve(run, name)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return damage


def _delete(name: str) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        path = _resolve(run, name)
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return damage


def _to_folder(name: str) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        path = _resolve(run, name)
        shutil.rmtree(path) if path.is_dir() else path.unlink()
        (path / "inside").mkdir(parents=True)
    return damage


def _to_file(name: str) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        path = _resolve(run, name)
        shutil.rmtree(path)
        path.write_text("not a folder\n")
    return damage


def _to_fifo(name: str) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        path = _resolve(run, name)
        path.unlink()
        os.mkfifo(path)
    return damage


def _loop(name: str) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        path = _resolve(run, name)
        shutil.rmtree(path) if path.is_dir() else path.unlink()
        path.symlink_to(path.name)
    return damage


def _manifest(**changes: object) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        path = run / "manifest.json"
        manifest = json.loads(path.read_text())
        manifest.update(changes)
        path.write_text(json.dumps(manifest))
    return damage


def _predictions_frame(edit: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        path = _prediction(run)
        edit(pd.read_parquet(path)).to_parquet(path, index=False)
    return damage


DAMAGES: dict[str, Callable[[Path], None]] = {
    "manifest missing": _delete("manifest.json"),
    "manifest [1,2,3]": _write("manifest.json", "[1, 2, 3]"),
    "manifest a string": _write("manifest.json", '"run"'),
    "manifest null": _write("manifest.json", "null"),
    "manifest truncated": _truncate("manifest.json"),
    "manifest empty": _write("manifest.json", ""),
    "manifest not UTF-8": _write("manifest.json", b"\xff\xfe\x00garbage"),
    "manifest a folder": _to_folder("manifest.json"),
    "manifest a FIFO": _to_fifo("manifest.json"),
    "manifest jobs a list": _manifest(jobs=[1, 2]),
    "manifest datasets a string": _manifest(datasets="tiny_topic"),
    "manifest schema 99": _manifest(schema_version=99),
    "manifest evaluation a string": _manifest(evaluation="none"),
    "manifest dataset path moved": lambda run: _manifest(datasets={name: {**info, "path": "/nonexistent/x"}
                                                                   for name, info in json.loads(
                                                                       (run / "manifest.json").read_text())
                                                                   ["datasets"].items()})(run),
    "metrics.json truncated": _truncate("metrics.json"),
    "metrics.json [1,2,3]": _write("metrics.json", "[1, 2, 3]"),
    "metrics.json rows of numbers": _write("metrics.json", '{"schema_version": 1, "rows": [1, 2]}'),
    "metrics.json a folder": _to_folder("metrics.json"),
    "metrics.json missing": _delete("metrics.json"),
    "metrics.csv missing": _delete("metrics.csv"),
    "predictions garbage": _write("@pred", b"garbage, not parquet\n"),
    "predictions empty file": _write("@pred", b""),
    "predictions truncated": _truncate("@pred"),
    "predictions a folder": _to_folder("@pred"),
    "predictions a FIFO": _to_fifo("@pred"),
    "predictions a symlink loop": _loop("@pred"),
    "predictions other columns": _predictions_frame(lambda f: pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})),
    "predictions half the rows": _predictions_frame(lambda f: f.iloc[: len(f) // 2]),
    "predictions unknown labels": _predictions_frame(lambda f: f.assign(pred="no-such-label")),
    "predictions folder is a file": _to_file("predictions"),
    "job json truncated": _truncate("@job"),
    "job json [1,2,3]": _write("@job", "[1, 2, 3]"),
    "job json without rows": _write("@job", "{}"),
    "jobs folder is a file": _to_file("jobs"),
    "config.yaml deleted": _delete("config.yaml"),
    "config.yaml garbage": _write("config.yaml", "{{{: ["),
    "config.yaml a list": _write("config.yaml", "- 1\n- 2\n"),
}
COMMANDS: dict[str, Callable[[Path, Path], list[str]]] = {
    "ls": lambda project, run: ["ls", "--results", project / "results", "--format", "csv"],
    "show": lambda project, run: ["show", run, "--results", project / "results"],
    "compare": lambda project, run: ["compare", run_folder(project, "bystander"), run, "--samples", "100"],
    "rescore": lambda project, run: ["rescore", run],
}
# The report is slower (about 2 s when it succeeds); it runs on damages that reach different parts of it.
REPORT_DAMAGES = ("manifest [1,2,3]", "manifest jobs a list", "metrics.json missing", "predictions garbage",
                  "predictions other columns", "predictions a FIFO", "job json truncated")
CASES = [(damage, command) for damage in DAMAGES for command in COMMANDS]
CASES += [(damage, "report") for damage in REPORT_DAMAGES]


@pytest.mark.parametrize(("damage", "command"), CASES, ids=[f"{c}: {d}" for d, c in CASES])
def test_a_damaged_run(project: Path, damage: str, command: str) -> None:
    victim = run_folder(project, "victim")
    DAMAGES[damage](victim)
    before = files_of(project)
    if command == "report":
        argv = ["report", run_folder(project, "bystander"), victim, "-o", project / "out" / "report.html",
                "--samples", "100", "--slice-samples", "100"]
    else:
        argv = COMMANDS[command](project, victim)
    outcome = bench(argv, cwd=project)  # the runs name their dataset by a path relative to the project
    check(outcome, before, project, may_change=("results/",) if command == "rescore" and outcome.code == 0 else ())
    if command == "ls":
        assert outcome.code == 0
        assert run_folder(project, "bystander").name in outcome.out  # one damaged run never hides the others
        if damage.startswith("manifest") and damage not in ("manifest dataset path moved", "manifest schema 99"):
            assert ",damaged," in outcome.out, outcome.out


def test_ls_lists_every_healthy_run_beside_damaged_ones(project: Path) -> None:
    for name, label in (("manifest.json", "copym"), ("metrics.json", "copyme")):
        copy = project / "results" / f"20260101T000000-{label}-00000000"
        shutil.copytree(run_folder(project, "victim"), copy)
        (copy / name).write_text("[1, 2, 3]")
    outcome = bench(["ls", "--results", project / "results", "--format", "json"])
    rows = {Path(row["path"]).name.split("-")[1]: row for row in json.loads(outcome.out)}
    assert outcome.code == 0 and outcome.err == ""
    assert rows["victim"]["status"] == rows["bystander"]["status"] == "complete"
    assert rows["copym"]["status"] == "damaged" and "expected a JSON object, found list" in rows["copym"]["problem"]
    assert rows["copyme"]["status"] == "complete"  # a damaged metrics.json does not hide the run either
