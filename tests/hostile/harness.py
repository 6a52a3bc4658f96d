"""Run one hostile case through the ``bench`` CLI and check the promise of docs/reliability.md.

Every case exits 0 or 2, writes at most one line on stderr, never a traceback, never hangs
(an alarm ends an in-process call, ``timeout=`` a subprocess), and leaves every file that
existed before it whole: unchanged after an error, still readable after a success.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.cli import main
from tests.conftest import REPO

_PLOTS_NOTE = re.compile(r"wrote \S+_plots/")
SECONDS = 20  # far above any case's time: reaching it means a hang


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        """stderr's lines, less ``bench report``'s note of the plots folder it wrote (not a message)."""
        return [line for line in self.err.splitlines() if line.strip() and not _PLOTS_NOTE.fullmatch(line)]


class Hang(Exception):
    """The alarm rang: the case ran past ``SECONDS``."""


@contextlib.contextmanager
def _alarm(seconds: int) -> Iterator[None]:
    def ring(signum: int, frame: object) -> None:
        raise Hang(f"no answer after {seconds} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def bench(argv: Sequence[str], *, cwd: Path | None = None) -> Outcome:
    """``bench ARGV`` in this process; an exception other than exit is a traceback and fails the case."""
    out, err = io.StringIO(), io.StringIO()
    here = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with _alarm(SECONDS), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in argv])
            except SystemExit as exc:  # argparse
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        os.chdir(here)
    return Outcome(int(code), out.getvalue(), err.getvalue())


def bench_process(argv: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> Outcome:
    """``bench ARGV`` in a subprocess under a timeout (for cases that could hang or kill the process)."""
    environ = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    done = subprocess.run([sys.executable, "-m", "bench", *map(str, argv)], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=SECONDS * 3, check=False)
    return Outcome(done.returncode, done.stdout, done.stderr)


def files_of(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every regular file under ``root`` (links and special files not followed)."""
    found: dict[str, str] = {}
    for base, _, names in os.walk(root):
        for name in names:
            path = Path(base) / name
            if path.is_symlink() or not path.is_file():
                continue
            try:
                found[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                continue
    return found


def check(outcome: Outcome, before: dict[str, str], root: Path, *, codes: Sequence[int] = (0, 2),
          may_change: Sequence[str] = (), may_replace: bool = False) -> None:
    """The catalogue's promise for one case (see the module docstring).

    ``may_change``: path prefixes (relative to ``root``) a command may rewrite, success or
    not; their files must still exist, unless ``may_replace`` (a damaged dataset that a run
    rebuilds from its spec: the damaged file gives way to a whole new build).
    """
    assert outcome.code in codes, f"exit {outcome.code}, expected one of {tuple(codes)}; stderr: {outcome.err[-2000:]}"
    assert "Traceback" not in outcome.err, outcome.err[-2000:]
    assert len(outcome.err_lines) <= 1, f"{len(outcome.err_lines)} lines on stderr: {outcome.err[-2000:]}"
    if outcome.code == 2:
        assert outcome.err_lines and outcome.err_lines[0].startswith("bench: error: "), outcome.err
    after = files_of(root)
    for name, digest in before.items():
        if any(name.startswith(prefix) for prefix in may_change):
            assert may_replace or name in after, f"{name} was lost"
            continue
        assert after.get(name) == digest, f"{name} was {'changed' if name in after else 'lost'} by a failed case"
    leftovers = [name for name in after if name not in before and name.endswith(".tmp")]
    assert not leftovers, f"temporary files left: {leftovers}"
