"""Where jobs run: one small interface, so that an engine for many machines plugs in beside these.

An ``Executor`` maps a picklable function over items and yields ``(index, result)`` pairs
as they complete, in any order: the caller saves each result as it comes and puts rows
back in plan order itself, so results never depend on the executor or on ``--jobs``. A
Dask or Ray executor is one more class with a ``map_unordered`` method (and one line in
``make_executor``); the runner does not change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Runs ``fn`` over ``items``; yields ``(index of the item, result)`` in completion order.

    An exception raised by ``fn`` propagates out of the iterator. Closing the iterator early
    (e.g. on Ctrl-C) stops the work that has not started.
    """

    n_workers: int

    def map_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[int, R]]: ...


class SerialExecutor:
    """Runs items one after the other in this process (``--jobs 1``: easiest to debug)."""

    n_workers = 1

    def map_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[int, R]]:
        for i, item in enumerate(items):
            yield i, fn(item)


def _call(fn: Callable[[T], R], index: int, item: T) -> tuple[int, R]:
    return index, fn(item)


class JoblibExecutor:
    """Runs items in ``n_workers`` worker processes with joblib's loky backend.

    Workers are reused between calls to ``map_unordered`` within a run, so that what a worker
    has loaded (a dataset split) stays loaded for the next job.
    """

    def __init__(self, n_workers: int) -> None:
        self.n_workers = n_workers

    def map_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[int, R]]:
        from joblib import Parallel, delayed

        if not items:
            return
        # pre_dispatch = n_workers: a job is sent only when a worker is free, so that an
        # interrupted run has not queued (and lost) work beyond what was running.
        parallel = Parallel(n_jobs=min(self.n_workers, len(items)), backend="loky",
                            return_as="generator_unordered", pre_dispatch="n_jobs", batch_size=1)
        yield from parallel(delayed(_call)(fn, i, item) for i, item in enumerate(items))


def make_executor(n_jobs: int) -> Executor:
    """The executor for ``--jobs N`` (``N <= 1``: serial; else loky processes)."""
    if n_jobs <= 1:
        return SerialExecutor()
    return JoblibExecutor(n_jobs)
