"""Notebook API: runs and comparisons as pandas DataFrames.

    from bench.api import load_run, load_runs, compare
    run = load_run("results/20261128T101010-fnc1-baselines-1a2b3c4d")
    run.metrics                      # one row per dataset, features, model, seed, split, fold, target, metric
    run.summary()                    # mean and std over seeds; the item CI with one seed
    runs = load_runs("results")      # every run under a results folder, oldest first
    compare(runs[-2:], baseline=runs[-2], metric="f1_macro")   # one row per (system, run)

A ``Run`` is a ``bench.results.store.RunDir``: the same object ``bench`` itself reads runs
with. ``compare`` returns exactly the records of ``bench compare --format csv``;
``comparison`` returns the full ``bench.compare.Comparison`` (ranking, power notes, warnings).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from bench.core.errors import ResultsError
from bench.results.store import RunDir, list_runs
from bench.results.layout import is_run_folder

if TYPE_CHECKING:
    import pandas as pd

    from bench.compare import Comparison

__all__ = ["Run", "compare", "comparison", "load_run", "load_runs"]


Run = RunDir  # the notebook name of a run folder: ``run.metrics``, ``run.summary()``, ``run.predictions(job)``


def load_run(path: str | Path) -> Run:
    """A run folder as a ``Run``; ``ResultsError`` when it is not one."""
    return RunDir.open(path)


def load_runs(*paths: str | Path) -> list[Run]:
    """Runs from run folders and results folders (every run in them, oldest first), in argument order."""
    out: list[Run] = []
    for path in paths:
        path = Path(path)
        if is_run_folder(path):
            out.append(load_run(path))
        elif path.is_dir():
            out += list_runs(path)
        else:
            raise ResultsError(f"{path}: neither a run folder nor a results folder; check the path")
    return out


def _paths(runs: Sequence[Run | str | Path]) -> list[Path]:
    return [run.path if isinstance(run, Run) else Path(run) for run in runs]


def comparison(runs: Sequence[Run | str | Path], baseline: Run | str | Path | int | None = None, *,
               metric: str | None = None, test: Literal["bootstrap", "mcnemar", "permutation"] = "bootstrap",
               correction: Literal["holm", "bh"] = "holm", samples: int = 10_000, confidence: float = 0.95,
               alpha: float = 0.05, min_effect: float = 0.0, seed: int = 0) -> Comparison:
    """The full comparison (what ``bench compare`` prints), as a ``bench.compare.Comparison``.

    Args:
        runs: runs or run folders, in column order.
        baseline: a run, its folder, its position in ``runs``, or its name; default the first.
            A baseline not among ``runs`` becomes the first column.
    """
    from bench.compare import CompareOptions, compare_runs

    paths = [p.resolve() for p in _paths(runs)]
    index = 0
    if isinstance(baseline, int):
        if not 0 <= baseline < len(paths):
            raise ResultsError(f"baseline={baseline}: no such position among {len(paths)} runs")
        index = baseline
    elif baseline is not None:
        names = [str(RunDir.open(p).manifest.get("name")) for p in paths]
        if isinstance(baseline, str) and baseline in names and not Path(baseline).exists():
            index = names.index(baseline)
        else:
            base = _paths([baseline])[0].resolve()
            if base not in paths:
                paths.insert(0, base)
            index = paths.index(base)
    options = CompareOptions(metric=metric, baseline=index, test=test, correction=correction, samples=samples,
                             confidence=confidence, alpha=alpha, min_effect=min_effect, seed=seed)
    return compare_runs([RunDir.open(p) for p in paths], options)


def compare(runs: Sequence[Run | str | Path], baseline: Run | str | Path | int | None = None,
            **options: Any) -> pd.DataFrame:
    """One row per (system, run): value, CI, seed std, delta to the baseline with CI and p-values.

    Takes the arguments of ``comparison``; the columns are those of ``bench compare --format csv``.
    """
    import pandas as pd

    from bench.compare import records

    return pd.DataFrame(records(comparison(runs, baseline, **options)))
