"""Notebook API: runs and comparisons as pandas DataFrames.

    from bench.api import load_run, load_runs, compare
    run = load_run("results/20261128T101010-fnc1-baselines-1a2b3c4d")
    run.metrics                      # one row per dataset, features, model, seed, split, fold, target, metric
    run.summary()                    # mean and std over seeds, mean bootstrap CI
    runs = load_runs("results")      # every run under a results folder, oldest first
    compare(runs[-2:], baseline=runs[-2], metric="f1_macro")   # one row per (system, run)

``compare`` returns exactly the records of ``bench compare --format csv``; ``comparison``
returns the full ``bench.compare.Comparison`` (ranking, power notes, warnings).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from bench.core.errors import ResultsError

if TYPE_CHECKING:
    import pandas as pd

    from bench.compare import Comparison
    from bench.results.store import RunDir

__all__ = ["Run", "compare", "comparison", "load_run", "load_runs"]


@dataclass(frozen=True)
class Run:
    """One run folder, read once.

    Attributes:
        path: the run folder.
        run_id: ``<utc>-<name>-<hash8>``.
        name: the config name (or the model name of an imported run).
        status: ``complete``, ``running``, ``interrupted`` or ``failed``.
        manifest: ``manifest.json`` as a dict.
        metrics: every metric row as a DataFrame.
    """

    path: Path
    run_id: str
    name: str
    status: str
    manifest: dict[str, Any] = field(repr=False)
    metrics: pd.DataFrame = field(repr=False)

    @property
    def job_ids(self) -> list[str]:
        return list(self.manifest.get("jobs", {}))

    @property
    def config(self) -> dict[str, Any]:
        """The resolved config snapshot."""
        return self._dir().config

    def _dir(self) -> RunDir:
        from bench.results.store import RunDir

        return RunDir.open(self.path)

    def predictions(self, job_id: str) -> pd.DataFrame:
        """One job's predictions: ``id``, ``gold``, ``pred``, ``score:<label>``..., ``fold``."""
        return self._dir().predictions(job_id)

    def summary(self) -> pd.DataFrame:
        """Overall test rows (no fold, no target) averaged over seeds, one row per system and metric.

        Columns: ``mean``, ``std`` (across seeds, ddof=1), ``n_seeds``, and the mean of the
        per-seed bootstrap bounds ``ci_low``/``ci_high``.
        """
        rows = self.metrics[self.metrics["fold"].isna() & self.metrics["target"].isna()]
        grouped = rows.groupby(["dataset", "features", "model", "metric"], sort=False)
        out = grouped.agg(mean=("value", "mean"), std=("value", "std"), n_seeds=("seed", "nunique"),
                          ci_low=("ci_low", "mean"), ci_high=("ci_high", "mean"))
        return out.reset_index()


def load_run(path: str | Path) -> Run:
    """A run folder as a ``Run``; ``ResultsError`` when it is not one."""
    from bench.results.store import RunDir

    run = RunDir.open(path)
    return _from_dir(run)


def _from_dir(run: RunDir) -> Run:
    manifest = run.manifest
    return Run(path=run.path, run_id=run.run_id, name=str(manifest.get("name", run.path.name)),
               status=str(manifest.get("status")), manifest=manifest, metrics=run.metrics())


def load_runs(*paths: str | Path) -> list[Run]:
    """Runs from run folders and results folders (every run in them, oldest first), in argument order."""
    from bench.results.store import list_runs

    out: list[Run] = []
    for path in paths:
        path = Path(path)
        if (path / "manifest.json").is_file():
            out.append(load_run(path))
        elif path.is_dir():
            out += [_from_dir(run) for run in list_runs(path)]
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
    from bench.results.store import RunDir

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
