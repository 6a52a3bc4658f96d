"""A Dask executor: the runner's jobs as Dask tasks, on a local cluster or an existing one.

``DaskExecutor`` implements ``bench.run.executors.Executor`` with ``dask.distributed.Client``:
``bench run CONFIG --executor dask --scheduler tcp://HOST:8786`` sends the jobs to a running
scheduler, ``--executor dask --workers N`` starts a ``LocalCluster`` of N worker processes
for the run. The runner does not change: it saves each result as it comes and puts rows
back in plan order, so metrics are the same as with the local executors.

A lost worker (killed, out of memory, a machine gone) does not lose a row: the scheduler
sends the job it was running to another worker, up to ``retries`` times per job (Dask's
``distributed.scheduler.allowed-failures``, set on the clusters that newsbench starts; an
existing scheduler keeps its own setting). A job that raises is not a lost worker: a
user error (``BenchError``) comes back as itself, once, and is not retried.

Feature blocks are fitted by the runner's first wave of tasks into the on-disk feature
cache, which every worker reads: the workers must see the data and results folders at the
same paths (one machine, or a shared filesystem; see docs/scale.md).

Dask is an optional extra; without it ``--executor dask`` fails with one line that says
how to install it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from bench.core.errors import BenchError, import_extra

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_RETRIES = 3

__all__ = ["DaskExecutor", "import_distributed"]


def import_distributed() -> Any:
    """The ``distributed`` module, or a one-line error that says how to install it."""
    return import_extra("distributed", needed_by="--executor dask", package="dask[distributed]", extra="dask")


@dataclass(frozen=True)
class _UserError:
    """A ``BenchError`` raised on a worker, sent back as text (its subclasses need their own args to unpickle)."""

    message: str


def _call(fn: Callable[[T], R], index: int, item: T) -> tuple[int, R | _UserError]:
    try:
        return index, fn(item)
    except BenchError as exc:  # the user's to fix: report it, do not retry it
        return index, _UserError(str(exc))


class DaskExecutor:
    """Runs items as Dask tasks; yields ``(index, result)`` as tasks finish.

    Use ``DaskExecutor.start`` (it owns the client and, for a local cluster, the cluster)
    as a context manager, or wrap an existing ``Client``.

    Args:
        client: a connected ``distributed.Client``.
        retries: extra attempts of a task that raised something other than a
            ``BenchError`` (e.g. a worker's file system hiccup). Lost workers are the
            scheduler's ``allowed-failures``, see ``start``.
        cluster: a cluster to close with the executor (one that ``start`` made).
    """

    def __init__(self, client: Any, *, retries: int = DEFAULT_RETRIES, cluster: Any = None) -> None:
        self.client = client
        self.retries = retries
        self._cluster = cluster

    @classmethod
    def start(cls, *, scheduler: str | None = None, workers: int | None = None, retries: int = DEFAULT_RETRIES,
              processes: bool = True, timeout: float = 30.0) -> DaskExecutor:
        """Connect to ``scheduler``, or start a local cluster of ``workers`` single-threaded workers.

        Args:
            scheduler: address of a running scheduler (``tcp://HOST:8786``); None for a local cluster.
            workers: local cluster size (default: the number of CPUs); not allowed with ``scheduler``.
            retries: how often a job may be restarted because its worker died (and how
                often a task that raised a non-user error is retried).
            processes: local workers as processes (isolated, the default) or threads.
            timeout: seconds to wait for the scheduler.

        Raises:
            MissingExtraError: dask[distributed] is not installed.
            BenchError: the scheduler cannot be reached, or bad arguments.
        """
        distributed = import_distributed()
        import dask

        if retries < 0:
            raise BenchError(f"--retries: expected 0 or more, got {retries}; e.g. --retries {DEFAULT_RETRIES}")
        if scheduler is not None:
            if workers is not None:
                raise BenchError("--workers: the workers of an existing scheduler are its own; drop --workers "
                                 "or --scheduler")
            try:
                client = distributed.Client(scheduler, timeout=timeout, set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise BenchError(f"--scheduler: cannot reach the Dask scheduler at {scheduler} ({exc}); start it "
                                 "with `dask scheduler` and check the address (see docs/scale.md)") from None
            return cls(client, retries=retries)
        n = workers if workers is not None else (os.cpu_count() or 1)
        if n < 1:
            raise BenchError(f"--workers: expected a positive number of workers, got {n}; use --workers 2")
        # allowed-failures is read by the scheduler when it starts: set it for the one we start;
        # ":0" puts its HTTP endpoints on a free port (8787 may belong to another cluster)
        with dask.config.set({"distributed.scheduler.allowed-failures": retries}):
            cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=processes,
                                               dashboard_address=":0", silence_logs=40)
        client = distributed.Client(cluster, set_as_default=False)
        return cls(client, retries=retries, cluster=cluster)

    @property
    def n_workers(self) -> int:
        """Workers connected now (at least 1, so that progress estimates stay defined)."""
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def map_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[int, R]]:
        """Submit every item at once; yield results as they finish; cancel the rest if closed early."""
        distributed = import_distributed()

        if not items:
            return
        run = uuid.uuid4().hex[:12]
        name = getattr(fn, "__name__", "task")
        futures = [self.client.submit(_call, fn, i, item, key=f"bench-{name}-{run}-{i}", pure=False,
                                      retries=self.retries) for i, item in enumerate(items)]
        try:
            for future in distributed.as_completed(futures, loop=self.client.loop):
                try:
                    index, result = future.result()
                except distributed.KilledWorker as exc:
                    raise BenchError(f"dask: a {name} task lost its worker more than {self.retries} times "
                                     f"({exc}); the workers may run out of memory: give them more memory "
                                     "or raise --retries") from None
                if isinstance(result, _UserError):
                    raise BenchError(result.message)
                yield index, result
        finally:
            pending = [f for f in futures if not f.done()]
            if pending:
                self.client.cancel(pending)

    def close(self) -> None:
        """Close the client and the cluster this executor started."""
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
