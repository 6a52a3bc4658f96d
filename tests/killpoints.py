"""SIGKILL a bench command at an exact file-system step: the harness of ``tests/test_kills.py``.

``python -m tests.killpoints TASKS.json`` imports newsbench once, then runs each task in a
forked child: the child counts the file-system changes newsbench makes (``os.replace``,
``os.rename``, ``os.unlink``, ``os.rmdir``, ``os.mkdir``, ``shutil.rmtree``) whose paths
contain the task's ``pattern`` and sends itself SIGKILL just before change number
``kill_at`` (``0``: never; the child then reports how many changes it made). A kill at step
``n`` for every ``n`` up to the count is a kill at every point where the files on disk can
differ, and the same ``n`` always stops at the same place: deterministic, and each child
skips the import time.

Each task: ``{"argv": [...], "kill_at": n, "pattern": "", "cwd": "..."}``; the results
(``{"killed": bool, "code": int | None, "steps": int | None}``, one per task) are written
as JSON to ``TASKS.json.out``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
from pathlib import Path

HOOKED_OS = ("replace", "rename", "unlink", "rmdir", "mkdir")


def _install(kill_at: int, pattern: str, counter: list[int]) -> None:
    def hook(original, name: str):
        def wrapper(*args, **kwargs):
            paths = " ".join(str(a) for a in args[:2] if isinstance(a, (str, os.PathLike)))
            if pattern in paths:
                counter[0] += 1
                if counter[0] == kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)
            return original(*args, **kwargs)
        wrapper.__name__ = name
        return wrapper

    for name in HOOKED_OS:
        setattr(os, name, hook(getattr(os, name), name))
    rmtree = shutil.rmtree
    shutil.rmtree = hook(rmtree, "rmtree")
    shutil.rmtree.avoids_symlink_attacks = rmtree.avoids_symlink_attacks  # type: ignore[attr-defined]


def _child(task: dict, steps_file: Path) -> None:
    from bench.cli import main

    counter = [0]
    os.chdir(task.get("cwd") or os.getcwd())
    _install(int(task["kill_at"]), str(task.get("pattern", "")), counter)
    code = 3
    try:
        with open(os.devnull, "w") as quiet:
            sys.stdout = sys.stderr = quiet
            code = main(list(task["argv"]))
    finally:
        steps_file.write_text(str(counter[0]))
        os._exit(code if isinstance(code, int) else 3)


def main(tasks_path: str) -> None:
    import importlib

    for module in ("bench.cli", "bench.corpus", "bench.metrics", "bench.results.rescore", "bench.run.benchmark",
                   "pandas", "pyarrow.dataset", "pyarrow.parquet", "sklearn.linear_model"):  # imported once, shared by every child
        importlib.import_module(module)

    tasks = json.loads(Path(tasks_path).read_text())
    results = []
    for i, task in enumerate(tasks):
        steps_file = Path(f"{tasks_path}.steps{i}")
        steps_file.unlink(missing_ok=True)
        pid = os.fork()
        if pid == 0:
            _child(task, steps_file)
        _, status = os.waitpid(pid, 0)
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        results.append({"killed": killed, "code": None if killed else os.WEXITSTATUS(status),
                        "steps": int(steps_file.read_text()) if steps_file.is_file() else None})
    Path(f"{tasks_path}.out").write_text(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1])
