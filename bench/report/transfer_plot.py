"""The transfer heatmap: train dataset x test dataset, one figure per system of a transfer run.

A cell is the comparison's cell of the system trained on the row's dataset and tested on the
column's (``fnc1→arc``; the diagonal is the in-domain system, named by its dataset alone):
the seed-mean value of the report's metric with its bootstrap CI printed in the cell, so the
static PNG needs no hover. Colours follow the value (darker is better for a
greater-is-better metric); a pair the run did not evaluate is left blank.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench.report.collect import ReportData, SystemView, cell_of
from bench.report.figure import Plot, new_figure, safe_name, set_margins, style, text_inches, to_png
from bench.results.transfer import ARROW, dataset_parts

MAX_HEATMAPS = 6


@dataclass(frozen=True)
class TransferCell:
    """One cell: the metric's seed mean and its CI (NaN bounds when the run has none)."""

    value: float
    low: float
    high: float


def transfer_grid(data: ReportData, run_index: int, features: str, model: str
                  ) -> tuple[list[str], list[str], dict[tuple[str, str], TransferCell]]:
    """Train datasets, test datasets and the cells of one system of one run."""
    cells: dict[tuple[str, str], TransferCell] = {}
    for ds in data.datasets:
        for system in ds.systems:
            key = system.key
            if (system.run_index, key.features, key.model) != (run_index, features, model):
                continue
            cell = cell_of(data, system)
            if cell is not None:
                cells[dataset_parts(key.dataset)] = TransferCell(cell.value, cell.ci_low, cell.ci_high)
    trains = sorted({train for train, _ in cells})
    tests = sorted({test for _, test in cells})
    return trains, tests, cells


def _transfer_systems(data: ReportData) -> list[SystemView]:
    """One system view per (run, features, model) that has at least one cross-dataset pair."""
    seen: dict[tuple[int, str, str], SystemView] = {}
    for ds in data.datasets:
        if ARROW not in ds.name:
            continue
        for system in ds.systems:
            if not system.is_majority:
                seen.setdefault((system.run_index, system.key.features, system.key.model), system)
    return list(seen.values())[:MAX_HEATMAPS]


def _text(cell: TransferCell) -> str:
    bounds = math.isfinite(cell.low) and math.isfinite(cell.high)
    return f"{cell.value:.3f}" + (f"\n[{cell.low:.3f}, {cell.high:.3f}]" if bounds else "")


def heatmap(data: ReportData, system: SystemView) -> Plot:
    """The train x test heatmap of ``system``'s (run, features, model)."""
    import numpy as np

    key = system.key
    trains, tests, cells = transfer_grid(data, system.run_index, key.features, key.model)
    values = np.full((len(trains), len(tests)), np.nan)
    for (train, test), cell in cells.items():
        values[trains.index(train), tests.index(test)] = cell.value
    left = text_inches(trains) + 0.6
    fig = new_figure(max(3.5, left + 1.45 * len(tests) + 0.3), 0.9 + 0.75 * len(trains) + 0.6)
    set_margins(fig, left, 0.3, 0.9, 0.6)
    ax = fig.add_subplot()
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    cmap = "Blues" if data.comparison.greater_is_better else "Blues_r"
    ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=low - 0.25 * (high - low or 1), vmax=high, aspect="auto")
    for (train, test), cell in cells.items():
        i, j = trains.index(train), tests.index(test)
        strong = (cell.value - low) > 0.6 * (high - low) if data.comparison.greater_is_better else \
            (high - cell.value) > 0.6 * (high - low)
        ax.text(j, i, _text(cell), ha="center", va="center", fontsize=8, color="white" if strong else "black")
    ax.set_xticks(range(len(tests)), tests)
    ax.set_yticks(range(len(trains)), trains)
    ax.set_xlabel("test dataset")
    ax.set_ylabel("train dataset")
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    run = data.run_labels[system.run_index]
    ax.set_title(f"{key.features}/{key.model}: {data.metric}")
    return Plot(name=safe_name(f"transfer-{run}-{key.features}-{key.model}"),
                title=f"Transfer: {key.features}/{key.model} ({run})",
                caption=(f"{data.metric} of the model trained on each row's dataset and tested on each column's, "
                         "mean over seeds with its bootstrap CI in brackets (the comparison table's cells); the "
                         "diagonal is in-domain. Test labels are mapped into the train dataset's labels "
                         "(docs/generalization.md). Blank: pair not run."),
                png=to_png(fig))


def transfer_plots(data: ReportData) -> list[Plot]:
    """A heatmap per transfer system (at most ``MAX_HEATMAPS``); none when no run has a cross-dataset pair."""
    with style():
        return [heatmap(data, system) for system in _transfer_systems(data)]
