"""Gather what a report shows: runs, the comparison, and per dataset its systems and items.

Nothing here draws or writes. The comparison table, its CIs and tests come from
``bench.compare.compare_runs``; predictions from ``bench.compare.systems.load_outputs``
(items sorted by id, seeds stacked); item texts and attributes from the evaluated split of
the built dataset (``bench.compare.slices.load_items``). A dataset that cannot be found leaves its
plots intact and its snippets and slices out, with a warning in the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.compare.result import CompareOptions
from bench.core.errors import BenchError
from bench.results.transfer import system_dataset, test_dataset
from bench.report.probe_table import ProbeLine, probe_lines

if TYPE_CHECKING:
    import pandas as pd

    from bench.compare import Cell, Comparison
    from bench.compare.systems import Outputs, SystemKey
    from bench.results.store import RunDir


@dataclass(frozen=True, kw_only=True)
class ReportOptions:
    """How to build a report.

    Attributes:
        comparison: the comparison the report shows (metric, baseline, paired test,
            correction, alpha, resamples, confidence, seed), exactly as ``bench compare`` takes it.
        slice_samples: bootstrap resamples per slice and per class-F1 bar.
        data_root: where built datasets are looked up when a manifest's path is gone.
        top: rows of each error-analysis table.
    """

    comparison: CompareOptions = field(default_factory=CompareOptions)
    slice_samples: int = 1000
    data_root: Path | None = None
    top: int = 10

    @property
    def confidence(self) -> float:
        """The CI level of every interval in the report."""
        return self.comparison.confidence

    @property
    def seed(self) -> int:
        """The seed of every resampling in the report."""
        return self.comparison.seed


@dataclass(frozen=True, kw_only=True)
class SystemView:
    """One system of one run on one dataset, with seed-mean timings."""

    run_index: int
    run: str
    key: SystemKey
    outputs: Outputs
    fit_seconds: float | None
    predict_seconds: float | None
    n_train: int | None

    @property
    def label(self) -> str:
        """``run: features/model``; the run part is dropped by ``short_labels`` when there is one run."""
        return f"{self.run}: {self.key.features}/{self.key.model}"

    @property
    def is_majority(self) -> bool:
        return self.outputs.is_majority


@dataclass(frozen=True, kw_only=True)
class DatasetView:
    """A dataset as the report shows it.

    Attributes:
        name: the dataset.
        task: ``stance`` or ``topic``.
        labels: ordered label set.
        multilabel: whether items have label sets.
        split: the evaluated split.
        systems: every system of every run on it, in run order.
        items: the evaluated split indexed by id, ``None`` when the dataset was not found.
        card: the dataset's ``card.md``.
        fingerprint: content hash from the manifest.
    """

    name: str
    task: str
    labels: tuple[str, ...]
    multilabel: bool
    split: str
    systems: tuple[SystemView, ...]
    items: pd.DataFrame | None
    card: str | None
    fingerprint: str

    @property
    def n_items(self) -> int:
        return self.systems[0].outputs.n_items if self.systems else 0


@dataclass(frozen=True, kw_only=True)
class ReportData:
    """Everything the page and plots are made of."""

    runs: tuple[RunDir, ...]
    run_labels: tuple[str, ...]
    comparison: Comparison
    datasets: tuple[DatasetView, ...]
    options: ReportOptions
    warnings: tuple[str, ...] = field(default=())
    probes: tuple[ProbeLine, ...] = field(default=())  # robustness probes (bench.report.probe_table)

    @property
    def metric(self) -> str:
        return self.comparison.metric


def _timings(run: RunDir) -> dict[tuple[SystemKey, int], dict[str, Any]]:
    """Per (system, seed): fit/predict seconds and training size from the job records."""
    from bench.compare.systems import SystemKey

    out = {}
    jobs = run.manifest.get("jobs") or {}
    finished = run.finished_jobs()
    for job_id in run.job_ids():
        if job_id not in finished:
            continue
        record = run.job(job_id)
        first = (record.get("rows") or [{}])[0]
        merged = {**first, **record}
        if not all(k in merged for k in ("dataset", "features", "model", "seed")):
            continue
        key = SystemKey(system_dataset(merged), str(merged["features"]), str(merged["model"]))
        timing = {**jobs.get(job_id, {}), **record}
        out[(key, int(merged["seed"]))] = {k: timing.get(k) for k in ("fit_seconds", "predict_seconds", "n_train")}
    return out


def _mean(values: Sequence[Any]) -> float | None:
    numbers = [float(v) for v in values if isinstance(v, (int, float))]
    return float(np.mean(numbers)) if numbers and len(numbers) == len(values) else None


def _systems(runs: Sequence[RunDir], labels: Sequence[str]) -> dict[str, list[SystemView]]:
    from bench.compare.systems import load_outputs

    by_dataset: dict[str, list[SystemView]] = {}
    for i, (run, label) in enumerate(zip(runs, labels)):
        timings = _timings(run)
        for key, out in load_outputs(run).items():
            per_seed = [timings.get((key, s), {}) for s in out.seeds]
            n_train = _mean([t.get("n_train") for t in per_seed])
            by_dataset.setdefault(key.dataset, []).append(SystemView(
                run_index=i, run=label, key=key, outputs=out,
                fit_seconds=_mean([t.get("fit_seconds") for t in per_seed]),
                predict_seconds=_mean([t.get("predict_seconds") for t in per_seed]),
                n_train=None if n_train is None else int(round(n_train))))
    return by_dataset


def _dataset_view(name: str, systems: list[SystemView], runs: Sequence[RunDir], options: ReportOptions,
                  warnings: list[str]) -> DatasetView:
    from bench.compare.slices import evaluated_split, load_items
    from bench.results.recorded import dataset_folder

    run = runs[systems[0].run_index]
    scored = test_dataset(name)  # a transfer system's ``name`` is train→test: items and card are the test set's
    info = (run.manifest.get("datasets") or {}).get(scored) or {}
    items = card = None
    try:
        folder = dataset_folder(run, scored, options.data_root)
        items = load_items(run, scored, options.data_root)
        card_path = folder / "card.md"
        card = card_path.read_text(encoding="utf-8") if card_path.is_file() else None
    except BenchError as exc:
        warnings.append(f"{name}: no item texts, so no snippets and no slices: {exc}")
    first = systems[0].outputs
    if items is not None:
        missing = np.setdiff1d(first.ids, items.index.to_numpy(dtype=str))
        if len(missing):
            warnings.append(f"{name}: {len(missing)} predicted ids are not in the dataset's "
                            f"{evaluated_split(run, scored)} split (e.g. {missing[0]!r}); was it rebuilt since the run?")
    return DatasetView(name=name, task=str(info.get("task", "")), labels=first.labels, multilabel=first.multilabel,
                       split=evaluated_split(run, scored), systems=tuple(systems), items=items, card=card,
                       fingerprint=str(info.get("fingerprint", "")))


def _cached(run: RunDir) -> RunDir:
    """The same run, reading each predictions file and job record once.

    The comparison and the report both load every system's predictions; without the
    cache each parquet file would be read and decoded twice.
    """
    from bench.results.store import RunDir

    class CachedRun(RunDir):
        def __init__(self, path: Path) -> None:
            super().__init__(path)
            self._frames: dict[str, Any] = {}
            self._jobs: dict[str, dict[str, Any]] = {}

        def predictions(self, job_id: str) -> pd.DataFrame:
            if job_id not in self._frames:
                self._frames[job_id] = super().predictions(job_id)
            return self._frames[job_id].copy()

        def job(self, job_id: str) -> dict[str, Any]:
            if job_id not in self._jobs:
                self._jobs[job_id] = super().job(job_id)
            return self._jobs[job_id]

    cached = CachedRun(run.path)
    cached._manifest = run.manifest
    return cached


def collect(runs: Sequence[RunDir], options: ReportOptions) -> ReportData:
    """Compare the runs and gather their predictions and datasets.

    Raises:
        ResultsError: the runs cannot be compared (see ``bench.compare.compare_runs``).
    """
    from bench.compare import compare_runs
    from bench.compare.table import run_labels

    runs = [_cached(run) for run in runs]
    comparison = compare_runs(runs, options.comparison)
    labels = run_labels(runs)
    warnings: list[str] = []  # the comparison's own warnings are in its notes
    datasets = tuple(_dataset_view(name, systems, runs, options, warnings)
                     for name, systems in sorted(_systems(runs, labels).items()))
    probes, probe_warnings = probe_lines(runs, labels, comparison.metric, samples=options.comparison.samples,
                                         confidence=options.confidence, seed=options.seed)
    return ReportData(runs=tuple(runs), run_labels=labels, comparison=comparison, datasets=datasets,
                      options=options, warnings=tuple(warnings + probe_warnings), probes=tuple(probes))


def short_labels(systems: Sequence[SystemView]) -> list[str]:
    """System labels without the run part when every system comes from one run."""
    if len({s.run_index for s in systems}) == 1:
        return [f"{s.key.features}/{s.key.model}" for s in systems]
    return [s.label for s in systems]


def cell_of(data: ReportData, system: SystemView) -> Cell | None:
    """The comparison cell of a system (its seed-mean metric and bootstrap CI).

    A run compared dataset by dataset (``bench import``) appears in every baseline row of
    its dataset with the same cell, so the row is found by dataset when the key is not a row.
    """
    rows = [r for r in data.comparison.rows if r.dataset == system.key.dataset]
    for row in rows:
        if (row.features, row.model) == (system.key.features, system.key.model) and row.cells[system.run_index]:
            return row.cells[system.run_index]
    cells = [r.cells[system.run_index] for r in rows if r.cells[system.run_index] is not None]
    return cells[0] if cells else None


def best_systems(data: ReportData, systems: Sequence[SystemView], limit: int) -> list[SystemView]:
    """The ``limit`` best of ``systems`` by the report's metric, in their original order."""
    def score(system: SystemView) -> float:
        cell = cell_of(data, system)
        if cell is None or not np.isfinite(cell.value):
            return -np.inf
        return cell.value if data.comparison.greater_is_better else -cell.value

    best = {id(s) for s in sorted(systems, key=score, reverse=True)[:limit]}
    return [s for s in systems if id(s) in best]


def per_class_f1(system: SystemView, options: ReportOptions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per label: seed-mean F1 and its bootstrap CI over items (``(L,)`` arrays: value, low, high)."""
    from bench.compare.resample import joint_sample, resolve_metric
    from bench.stats import bootstrap as bs

    out = system.outputs
    values, lows, highs = [], [], []
    for label in out.labels:
        joint = joint_sample([out], resolve_metric(f"f1[{label}]"))
        point = float(joint.points()[0])
        draws = joint.draws(options.slice_samples, bs.named_rng(options.seed, "class-f1", out.stream_name, str(out.key), label))
        ci = bs.interval(draws[:, 0], np.asarray(point), options.confidence)
        values.append(point)
        lows.append(float(ci.low))
        highs.append(float(ci.high))
    return np.array(values), np.array(lows), np.array(highs)


def confusion(system: SystemView) -> np.ndarray:
    """Confusion counts ``(L, L)`` (rows gold, columns predicted), summed over seeds; single-label only."""
    out = system.outputs
    k = len(out.labels)
    counts = np.zeros(k * k, dtype=np.int64)
    for pred in out.preds:
        counts += np.bincount(out.gold * k + pred, minlength=k * k)
    return counts.reshape(k, k)
