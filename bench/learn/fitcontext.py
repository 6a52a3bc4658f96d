"""What the runner tells a model beyond ``X`` and ``y``, and what the model tells the job report.

A model that trains for minutes or hours (a fine-tuned transformer) needs a folder of its
own to checkpoint in, so that a killed job continues from its last epoch, and a way to say
which device ran it. Neither is a parameter: a parameter is part of the config and its
hash, while the checkpoint folder lives in one run folder and the device in one machine.
So the runner sets a ``FitContext`` around each fit (``fitting``), and a model that wants
one reads it with ``current_context``; a model that does not is untouched, and outside a
run the context is empty (no checkpoints, no progress lines).

The context is a ``contextvars`` variable, not an environment variable: it reaches only
the code called inside ``fitting`` in this thread, and a worker process gets it with the
job (``bench.run.runner.Job.fit_context``), not from its parent's environment.
"""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

__all__ = ["FitContext", "current_context", "fitting"]


@dataclass(frozen=True, kw_only=True)
class FitContext:
    """Where one fit may checkpoint, how it names itself, and what it reports.

    Attributes:
        checkpoints: a folder the fit owns (``None``: do not checkpoint). It survives a kill
            and is removed once the job is saved (``bench.results.store.RunDir.write_job``).
        label: names the fit in progress lines (the job id, and the CV fold).
        show_progress: print per-epoch lines on stderr (``bench run`` without ``--quiet``).
        report: filled by the model (``device``, per-epoch losses); the runner puts it in
            the job's JSON under ``training``.
    """

    checkpoints: Path | None = None
    label: str = ""
    show_progress: bool = False
    report: dict[str, Any] = field(default_factory=dict, compare=False)

    def for_unit(self, fold: int | None) -> FitContext:
        """The context of one unit of the job: its own subfolder and label, an empty report."""
        name = "test" if fold is None else f"fold{fold}"
        return replace(self, checkpoints=None if self.checkpoints is None else self.checkpoints / name,
                       label=self.label if fold is None else f"{self.label} fold {fold}", report={})

    def note(self, text: str) -> None:
        """One progress line on stderr, when progress is shown."""
        if self.show_progress:
            print(f"bench: {self.label}: {text}" if self.label else f"bench: {text}", file=sys.stderr, flush=True)


_CURRENT: contextvars.ContextVar[FitContext | None] = contextvars.ContextVar("newsbench_fit_context", default=None)


@contextmanager
def fitting(context: FitContext) -> Iterator[FitContext]:
    """Make ``context`` the current one for the code inside the ``with`` block."""
    token = _CURRENT.set(context)
    try:
        yield context
    finally:
        _CURRENT.reset(token)


def current_context() -> FitContext:
    """The context set by ``fitting``, or an empty one (no checkpoints, no progress)."""
    return _CURRENT.get() or FitContext()
