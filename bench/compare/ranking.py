"""Many datasets: average ranks and Friedman/Nemenyi (Demsar 2006); power notes per test set.

A *system* for ranking is counted once, whatever the rows it is shown in: a run with one
system per dataset (an imported model, a single-model run) is one system named by the run,
which a comparison table repeats beside every baseline row of its dataset; any other system
is ``run:features/model`` of its own predictions. Only systems scored on every ranked
dataset enter the Friedman test (it needs a complete block); the others are listed as left
out. The critical-difference diagram itself belongs to ``bench report``;
this module exposes its numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from bench.compare.result import PowerNote, Ranking, Row

MIN_SYSTEMS = 3
MIN_DATASETS = 3
# Demsar (2006), section 3.2.2: the chi-square approximation of the Friedman statistic needs
# "N > 10 and k > 5"; below that the Iman-Davenport F (or exact tables) should be used.
RELIABLE_DATASETS = 10


def rank_systems(entries: Mapping[tuple[str, str], float], greater_is_better: bool) -> Ranking | None:
    """Average ranks and the Friedman/Nemenyi test, or ``None`` below 3 systems on 3 datasets.

    Args:
        entries: ``(system, dataset) -> score``, each system once per dataset.
        greater_is_better: the metric's direction.
    """
    import pandas as pd

    scores: dict[str, dict[str, float]] = {}
    for (system, dataset), value in entries.items():
        scores.setdefault(system, {})[dataset] = value
    frame = pd.DataFrame(scores)  # datasets x systems
    if frame.shape[0] < MIN_DATASETS or frame.shape[1] < MIN_SYSTEMS:
        return None
    # The Friedman test needs a complete block: systems missing a dataset are left out.
    complete_rows = frame.dropna(axis=1, how="any")
    if complete_rows.shape[1] < MIN_SYSTEMS:
        return None
    left_out = tuple(sorted(set(frame.columns) - set(complete_rows.columns)))
    from bench.stats.ranking import friedman_nemenyi

    result = friedman_nemenyi(complete_rows, greater_is_better=greater_is_better)
    order = np.argsort(result.average_ranks, kind="stable")
    return Ranking(
        systems=tuple(result.models[i] for i in order), datasets=tuple(map(str, complete_rows.index)),
        average_ranks=tuple(float(result.average_ranks[i]) for i in order),
        friedman_statistic=float(result.friedman_statistic), friedman_p=float(result.friedman_p),
        iman_davenport_f=float(result.iman_davenport_f), iman_davenport_p=float(result.iman_davenport_p),
        critical_difference=float(result.critical_difference),
        tied_with_best=tuple(result.tied_with_best), left_out=left_out,
        small_sample=complete_rows.shape[0] < RELIABLE_DATASETS, min_reliable_datasets=RELIABLE_DATASETS,
    )


def power_notes(rows: Sequence[Row]) -> tuple[PowerNote, ...]:
    """Per test set: the McNemar minimum detectable accuracy difference at the mean discordance
    of the compared pairs that differ (a pair with identical predictions, such as two majority
    baselines, says nothing about power and would pull the mean towards "nothing detectable")."""
    from bench.stats.power import mcnemar_min_detectable_difference

    by_dataset: dict[str, list[float]] = {}
    sizes: dict[str, int] = {}
    for row in rows:
        for cell, delta in zip(row.cells, row.deltas):
            if delta is not None and cell is not None:
                by_dataset.setdefault(row.dataset, []).append(delta.discordance)
                sizes[row.dataset] = cell.n_items
    notes = []
    for dataset, rates in sorted(by_dataset.items()):
        differing = [r for r in rates if r > 0]
        rate = float(np.mean(differing)) if differing else 0.0
        notes.append(PowerNote(dataset=dataset, n_items=sizes[dataset], discordance=rate,
                               min_detectable=float(mcnemar_min_detectable_difference(sizes[dataset], rate)),
                               n_pairs=len(differing), n_identical=len(rates) - len(differing)))
    return tuple(notes)
