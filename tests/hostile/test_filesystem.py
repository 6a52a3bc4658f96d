"""Filesystem faults: a full disk (an injected ``OSError(ENOSPC)`` part way through a write),
read-only and unwritable folders (injected ``EROFS``/``EACCES``: the tests may run as root,
for whom permission bits do not stop a write), files where folders belong and folders where
files belong, symlink loops, damaged built datasets.

After each fault the command exits 2 with one line, and every file that existed before is
unchanged: writes are atomic (``bench.core.files``), so a failed write leaves the old file
and no temporary file behind.
"""

from __future__ import annotations

import errno
import fnmatch
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

import bench.core.files as files
import bench.learn.cache as cache
from tests.hostile.conftest import run_folder
from tests.hostile.harness import bench, check, files_of


def _fail_writes(monkeypatch: pytest.MonkeyPatch, pattern: str, code: int = errno.ENOSPC) -> None:
    """Every atomic write of a file named like ``pattern`` writes a few bytes, then fails with ``code``."""
    real = files.write_atomic

    def faulty(path: Path, write: Callable) -> None:
        if fnmatch.fnmatch(Path(path).name, pattern):
            def half(handle: object) -> None:
                handle.write(b"\0" * 64)  # type: ignore[attr-defined]
                raise OSError(code, os.strerror(code), str(path))
            return real(path, half)
        return real(path, write)

    monkeypatch.setattr(files, "write_atomic", faulty)
    monkeypatch.setattr(cache, "write_atomic", faulty)


def _fail_mkdir(monkeypatch: pytest.MonkeyPatch, under: Path, code: int) -> None:
    """Creating anything under ``under`` fails with ``code`` (a read-only or unwritable folder)."""
    real_mkdir, real_mkstemp, real_mkdtemp = Path.mkdir, files.tempfile.mkstemp, files.tempfile.mkdtemp

    def refuse(target: object) -> None:
        if str(Path(str(target)).absolute()).startswith(str(under.absolute())):
            raise OSError(code, os.strerror(code), str(target))

    def mkdir(self: Path, *args: object, **kwargs: object) -> None:
        if not self.exists():
            refuse(self)
        return real_mkdir(self, *args, **kwargs)

    def mkstemp(*args: object, dir: object = None, **kwargs: object) -> tuple[int, str]:
        refuse(dir or ".")
        return real_mkstemp(*args, dir=dir, **kwargs)

    def mkdtemp(*args: object, dir: object = None, **kwargs: object) -> str:
        refuse(dir or ".")
        return real_mkdtemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    monkeypatch.setattr(files.tempfile, "mkstemp", mkstemp)
    monkeypatch.setattr(files.tempfile, "mkdtemp", mkdtemp)


def _settle(project: Path) -> None:
    """Build the copied dataset in place, so that a run uses it as it is (the copy moved its sources)."""
    assert bench(["data", "build", "src/tiny_topic.yaml", "--data", "data"], cwd=project).code == 0


def _run(project: Path, *extra: object, settle: bool = True) -> list[object]:
    if settle:
        _settle(project)
    return ["run", project / "victim.yaml", "--data", project / "data", "--results", project / "results", "--quiet",
            "--set", "seeds=[5]", *extra]


FULL_DISK = {  # (command, the file that cannot be written)
    "run: predictions": ("run", "*.parquet"),
    "run: job record": ("run", "*__s5.json"),
    "run: manifest": ("run", "manifest.json"),
    "run: metrics.json": ("run", "metrics.json"),
    "run: feature cache": ("run-fit", "*.npz"),
    "run --resume: manifest": ("resume", "manifest.json"),
    "rescore: metrics.json": ("rescore", "metrics.json"),
    "rescore: a job record": ("rescore", "*.json"),
    "rescore: metrics.csv": ("rescore", "metrics.csv"),
    "compare -o: the table": ("compare", "*.md"),
    "report: a plot": ("report", "*.png"),
    "data build: stats.json": ("build", "stats.json"),
    "data build: card.md": ("build", "card.md"),
    "import: predictions": ("import", "*.parquet"),
}


def _argv(project: Path, command: str) -> list[object]:
    victim = run_folder(project, "victim")
    if command == "run":
        return _run(project)
    if command == "run-fit":  # no cache entry to reuse: the run fits and writes one
        shutil.rmtree(project / "results" / ".cache")
        return _run(project)
    if command == "resume":
        _settle(project)
        partial = project / "results" / f".{victim.name}.partial"
        shutil.copytree(victim, partial)
        manifest = json.loads((partial / "manifest.json").read_text())
        (partial / "manifest.json").write_text(json.dumps({**manifest, "status": "interrupted"}))
        for name in ("metrics.json", "metrics.csv"):
            (partial / name).unlink()
        return ["run", "--resume", partial, "--data", project / "data", "--results", project / "results", "--quiet"]
    if command == "rescore":
        return ["rescore", victim, "--metrics", "accuracy", "f1_macro", "precision_macro"]
    if command == "compare":
        return ["compare", run_folder(project, "bystander"), victim, "--samples", "100", "--format", "md",
                "-o", project / "out" / "table.md"]
    if command == "report":
        return ["report", victim, "-o", project / "out" / "report.html", "--samples", "100", "--slice-samples", "100"]
    if command == "build":
        return ["data", "build", project / "src" / "tiny_topic.yaml", "--data", project / "data", "--force"]
    preds = project / "outside.csv"
    frame = __import__("pandas").read_parquet(next((victim / "predictions").glob("*.parquet")))
    frame[["id", "pred"]].to_csv(preds, index=False)
    return ["import", preds, "--dataset", "tiny_topic", "--name", "outside", "--data", project / "data",
            "--results", project / "results"]


@pytest.mark.parametrize("case", list(FULL_DISK))
def test_a_full_disk(project: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    command, pattern = FULL_DISK[case]
    argv = _argv(project, command)
    before = files_of(project)
    _fail_writes(monkeypatch, pattern)
    outcome = bench(argv, cwd=project)
    # rescore rewrites files one by one; that a killed or failed rescore is all-or-nothing is
    # the rescore tests' promise: here every file must still be whole
    check(outcome, before, project, codes=(2,), may_change=("results/",) if command == "rescore" else ())
    assert "No space left on device" in outcome.err and "free space" in outcome.err
    _all_whole(project)


UNWRITABLE = {  # (command, the folder that cannot be written, errno)
    "run: results read-only": ("run", "results", errno.EROFS),
    "run: results not writable": ("run", "results", errno.EACCES),
    "run: cache not writable": ("run-fit", "results/.cache", errno.EACCES),
    "rescore: run folder read-only": ("rescore", "results", errno.EROFS),
    "compare -o: folder not writable": ("compare", "out", errno.EACCES),
    "report: folder read-only": ("report", "out", errno.EROFS),
    "data build: data read-only": ("build", "data", errno.EROFS),
    "data build: data not writable": ("build", "data", errno.EACCES),
    "import: results read-only": ("import", "results", errno.EROFS),
}


@pytest.mark.parametrize("case", list(UNWRITABLE))
def test_an_unwritable_folder(project: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    command, folder, code = UNWRITABLE[case]
    argv = _argv(project, command)
    before = files_of(project)
    _fail_mkdir(monkeypatch, project / folder, code)
    outcome = bench(argv, cwd=project)
    check(outcome, before, project, codes=(2,))
    assert os.strerror(code) in outcome.err


def _file_at(name: str) -> Callable[[Path], list[object]]:
    def case(project: Path) -> list[object]:
        (project / "afile").write_text("a file, not a folder\n")
        victim = run_folder(project, "victim")
        return {
            "run --results": _run(project)[:4] + ["--results", project / "afile", "--quiet"],
            "run --data": ["run", project / "victim.yaml", "--data", project / "afile", "--results", project / "results"],
            "ls --results": ["ls", "--results", project / "afile"],
            "show --results": ["show", "victim", "--results", project / "afile"],
            "compare --results": ["compare", victim.name, "--results", project / "afile"],
            "rescore --results": ["rescore", victim.name, "--results", project / "afile"],
            "report --data": ["report", victim, "-o", project / "r.html", "--data", project / "afile"],
            "data build --data": ["data", "build", project / "src" / "tiny_topic.yaml", "--data", project / "afile"],
            "data show --data": ["data", "show", "tiny_topic", "--data", project / "afile"],
            "validate --data": ["validate", project / "victim.yaml", "--data", project / "afile"],
            "import --results": ["import", project / "afile", "--dataset", "tiny_topic", "--name", "x",
                                 "--results", project / "afile"],
            "run --results under a file": _run(project)[:4] + ["--results", project / "afile" / "sub", "--quiet"],
        }[name]
    return case


def _data_damage(damage: Callable[[Path], None], command: str = "run") -> Callable[[Path], list[object]]:
    def case(project: Path) -> list[object]:
        _settle(project)
        damage(project / "data" / "tiny_topic")
        if command == "show":
            return ["data", "show", "tiny_topic", "--data", project / "data"]
        if command == "report":
            return ["report", run_folder(project, "victim"), "-o", project / "out" / "r.html", "--data",
                    project / "data", "--samples", "100", "--slice-samples", "100"]
        return _run(project, settle=False)
    return case


def _truncate_arrow(folder: Path) -> None:
    for arrow in folder.rglob("*.arrow"):
        arrow.write_bytes(arrow.read_bytes()[: arrow.stat().st_size // 2])


def _arrow_garbage(folder: Path) -> None:
    for arrow in folder.rglob("*.arrow"):
        arrow.write_bytes(b"garbage")


def _stats(text: str) -> Callable[[Path], None]:
    return lambda folder: (folder / "stats.json").write_text(text)


def _results_loop(project: Path) -> list[object]:
    shutil.rmtree(project / "results")
    (project / "results").symlink_to("results")
    return _run(project)


def _cache_is_a_file(project: Path) -> list[object]:
    shutil.rmtree(project / "results" / ".cache")
    (project / "results" / ".cache").write_text("not a folder")
    return _run(project)


def _dataset_is_a_file(project: Path) -> list[object]:
    shutil.rmtree(project / "data" / "tiny_topic")
    (project / "data" / "tiny_topic").write_text("not a folder")
    return ["data", "build", project / "src" / "tiny_topic.yaml", "--data", project / "data"]


def _split_is_a_file(folder: Path) -> None:
    shutil.rmtree(folder / "test")
    (folder / "test").write_text("not a folder")


PLACES: dict[str, Callable[[Path], list[object]]] = {
    **{f"a file as {name}": _file_at(name) for name in (
        "run --results", "run --data", "ls --results", "show --results", "compare --results", "rescore --results",
        "report --data", "data build --data", "data show --data", "validate --data", "import --results",
        "run --results under a file")},
    "results a symlink loop": _results_loop,
    "ls of a results symlink loop": lambda p: (_results_loop(p), ["ls", "--results", p / "results"])[1],
    "the feature cache a file": _cache_is_a_file,
    "data/NAME a file": _dataset_is_a_file,
    "run: truncated .arrow": _data_damage(_truncate_arrow),
    "run: .arrow garbage": _data_damage(_arrow_garbage),
    "report: truncated .arrow": _data_damage(_truncate_arrow, "report"),
    "run: stats.json [1,2,3]": _data_damage(_stats("[1, 2, 3]")),
    "run: stats.json truncated": _data_damage(_stats('{"schema_version": 1, "na')),
    "data show: stats.json [1,2,3]": _data_damage(_stats("[1, 2, 3]"), "show"),
    "run: a split folder is a file": _data_damage(_split_is_a_file),
    "run: the split has no .arrow": _data_damage(lambda f: [a.unlink() for a in (f / "test").glob("*.arrow")]),
}


@pytest.mark.parametrize("case", list(PLACES))
def test_a_file_or_folder_in_the_wrong_place(project: Path, case: str) -> None:
    argv = PLACES[case](project)
    before = files_of(project)
    # a run may rebuild a dataset whose stats.json it cannot read: a whole new build, swapped in
    outcome = bench(argv, cwd=project)
    rebuilt = outcome.code == 0 and "rebuilding it" in outcome.err  # the run checks data against its fingerprint
    check(outcome, before, project, may_change=("data/",) if outcome.code == 0 else (), may_replace=rebuilt)
    _all_whole(project)


def _all_whole(project: Path) -> None:
    """Every JSON file of the run folders parses: none is half-written."""
    results = project / "results"
    for path in results.rglob("*.json") if results.is_dir() and not results.is_symlink() else ():
        if path.is_file() and not path.is_symlink():
            json.loads(path.read_text())


@pytest.mark.parametrize("options", ["size=24k", "ro"])
def test_a_real_small_or_read_only_disk(project: Path, tmp_path: Path, options: str) -> None:
    """The same promise on a real tmpfs, full or read-only (needs root and mount; skipped otherwise)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", disk],
                                           capture_output=True, check=False).returncode != 0:
        pytest.skip("mounting a tmpfs needs root and a mount command that works here")
    try:
        argv = _run(project)[:-5] + ["--results", disk / "results", "--quiet", "--set", "seeds=[5]"]
        outcome = bench(argv, cwd=project)
        assert outcome.code == 2 and len(outcome.err_lines) == 1, outcome.err
        said = "No space left on device" if options.startswith("size") else "Read-only file system"
        assert said in outcome.err and "Traceback" not in outcome.err
        for path in disk.rglob("*.json"):
            json.loads(path.read_text())  # whatever was written is whole
        assert not [p for p in disk.rglob("*.tmp")]
    finally:
        subprocess.run(["umount", disk], check=True)
