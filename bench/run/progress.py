"""Progress of a run on stderr: a live ``rich`` display on a terminal, plain lines otherwise.

Plain lines (logs, CI, pipes) look like
``bench: [3/12] fnc1__word__logreg__s0 done in 2.3 s; ETA 0:00:21``. The ETA is the mean
time per item finished in this session times the items left, divided by the workers.
"""

from __future__ import annotations

import sys
import time
from typing import Protocol, TextIO


def format_seconds(seconds: float) -> str:
    """``h:mm:ss``."""
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class Progress(Protocol):
    """What the runner reports; the display decides how to show it."""

    def start(self, phase: str, total: int, done: int = 0, workers: int = 1) -> None: ...
    def advance(self, name: str, seconds: float) -> None: ...
    def note(self, text: str) -> None: ...
    def close(self) -> None: ...


class PlainProgress:
    """One line per finished item."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.phase, self.total, self.done, self.workers = "", 0, 0, 1
        self._session_done, self._started = 0, time.perf_counter()

    def start(self, phase: str, total: int, done: int = 0, workers: int = 1) -> None:
        self.phase, self.total, self.done, self.workers = phase, total, done, max(1, workers)
        self._session_done, self._started = 0, time.perf_counter()
        skipped = f" ({done} already done)" if done else ""
        self.note(f"{phase}: {total - done} to run{skipped} on {self.workers} worker(s)")

    def advance(self, name: str, seconds: float) -> None:
        self.done += 1
        self._session_done += 1
        elapsed = time.perf_counter() - self._started
        left = self.total - self.done
        eta = elapsed / self._session_done * left
        self.note(f"[{self.done}/{self.total}] {name} done in {seconds:.1f} s; ETA {format_seconds(eta)}")

    def note(self, text: str) -> None:
        print(f"bench: {text}", file=self.stream, flush=True)

    def close(self) -> None:
        """Nothing to tear down for plain lines."""


class RichProgress:
    """A live bar per phase: done/total, the last finished item, elapsed and ETA."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        self.console = Console(file=stream)
        self._bar = Progress(TextColumn("[bold]{task.fields[phase]}"), BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                             TextColumn("{task.description}"), console=self.console, transient=False)
        self._task: int | None = None
        self._bar.start()

    def start(self, phase: str, total: int, done: int = 0, workers: int = 1) -> None:
        if self._task is not None:
            self._bar.stop_task(self._task)
        skipped = f"{done} done before; " if done else ""
        self._task = self._bar.add_task(f"{skipped}{workers} worker(s)", total=total, completed=done, phase=phase)

    def advance(self, name: str, seconds: float) -> None:
        if self._task is not None:
            self._bar.update(self._task, advance=1, description=f"{name} ({seconds:.1f} s)")

    def note(self, text: str) -> None:
        self.console.print(f"bench: {text}", highlight=False)

    def close(self) -> None:
        self._bar.stop()


class NoProgress:
    """Silence (``--quiet``)."""

    def start(self, phase: str, total: int, done: int = 0, workers: int = 1) -> None:
        """Nothing shown."""

    def advance(self, name: str, seconds: float) -> None:
        """Nothing shown."""

    def note(self, text: str) -> None:
        """Nothing shown."""

    def close(self) -> None:
        """Nothing shown."""


def make_progress(stream: TextIO | None = None, *, quiet: bool = False) -> Progress:
    """``RichProgress`` on a terminal, ``PlainProgress`` otherwise, ``NoProgress`` when quiet."""
    stream = stream or sys.stderr
    if quiet:
        return NoProgress()
    if stream.isatty():
        return RichProgress(stream)
    return PlainProgress(stream)
