"""Parallel work whose results are taken in order: the numbers never depend on how many run.

Used by the batched dataset build (processes), the streaming run's featurizing helpers
(processes) and the multinomial bootstrap draws (threads).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from typing import TypeVar

T = TypeVar("T")


def in_order(pool: Executor, calls: Iterable[Callable[[], T]], ahead: int) -> Iterator[T]:
    """Each call's result, in the order given, with at most ``ahead`` calls running and one waiting.

    The bound keeps memory to a few results however long ``calls`` is; for a process pool,
    each call must pickle (a module-level function, or a ``functools.partial`` of one).
    """
    pending: deque[Future[T]] = deque()
    for call in calls:
        pending.append(pool.submit(call))
        if len(pending) > ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def usable_workers(wanted: int) -> int:
    """``wanted``, or 1 inside a daemon process (a Dask worker), which may not start children."""
    import multiprocessing

    return 1 if wanted <= 1 or multiprocessing.current_process().daemon else wanted
