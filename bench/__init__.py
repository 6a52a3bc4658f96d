"""newsbench: news stance and topic classification benchmarks with honest statistics.

The public API, for notebooks and scripts (the CLI ``bench`` is built on it)::

    import bench
    ds = bench.build_dataset("configs/datasets/demo-topic.yaml").dataset
    train = bench.load_split(ds, "train")                 # a pandas DataFrame
    run = bench.load_run("results/<run_id>")               # run.metrics is a DataFrame
    table = bench.compare([run_a, run_b], baseline=run_a)  # deltas with paired tests

Names are imported on first use, so ``import bench`` stays cheap for the CLI.
"""

from __future__ import annotations

import importlib
from typing import Any

from bench.core.version import __version__ as __version__

_EXPORTS = {
    "BenchError": "bench.core.errors",
    "BootstrapSpec": "bench.config.spec",
    "BuiltDataset": "bench.corpus",
    "ConfigError": "bench.core.errors",
    "DataError": "bench.core.errors",
    "METRICS": "bench.metrics",
    "MetricSpec": "bench.metrics",
    "Registry": "bench.core.registry",
    "ResultsError": "bench.core.errors",
    "Run": "bench.api",
    "RunConfig": "bench.config.spec",
    "RunDir": "bench.results.store",
    "build_dataset": "bench.corpus",
    "compare": "bench.api",
    "comparison": "bench.api",
    "load_config": "bench.run.validate",
    "load_run": "bench.api",
    "load_runs": "bench.api",
    "load_split": "bench.corpus",
    "open_dataset": "bench.corpus",
    "score_metrics": "bench.metrics",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'bench' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
