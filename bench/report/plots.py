"""The report's figures: forest plots, per-class F1, confusion matrices, score against time,
learning curves and the critical-difference diagram, each drawn into PNG bytes.

Fonts, sizes and deterministic PNG output come from ``bench.report.figure``; the same data
draws the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from bench.report.collect import (
    DatasetView,
    ReportData,
    SystemView,
    best_systems,
    cell_of,
    confusion,
    per_class_f1,
    short_labels,
)
from bench.report.drift_plot import drift_curve
from bench.report.figure import Plot, new_figure, safe_name, set_margins, style, text_inches, to_png

if TYPE_CHECKING:

    from bench.compare import Cell, Ranking

MAX_MATRICES = 9
MAX_BARS = 6
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
BASELINE_COLOR, BETTER_COLOR, WORSE_COLOR, SAME_COLOR = "#222222", "#1a7f37", "#c62828", "#4f6d9a"


def _err(cell: Cell) -> list[list[float]]:
    """Error-bar lengths below and above a cell's value (0 where the CI is undefined)."""
    below, above = cell.value - cell.ci_low, cell.ci_high - cell.value
    return [[max(0.0, below) if math.isfinite(below) else 0.0], [max(0.0, above) if math.isfinite(above) else 0.0]]


def _pick(data: ReportData, ds: DatasetView, limit: int) -> tuple[list[SystemView], str]:
    """The systems a per-system figure draws: no majority baseline (unless it is all there is), and
    the ``limit`` best by the report's metric when there are more; with a caption note saying so."""
    systems = [s for s in ds.systems if not s.is_majority] or list(ds.systems)
    notes = []
    if len(systems) < len(ds.systems):
        notes.append("Majority-class baselines are left out (see the forest plot).")
    if len(systems) > limit:
        notes.append(f"Only the {limit} best of {len(systems)} systems by {data.metric} are drawn.")
        systems = best_systems(data, systems, limit)
    return systems, (" " + " ".join(notes)) if notes else ""


def _direction(data: ReportData, system: SystemView) -> str:
    """``baseline``, or the delta's direction (better/worse/none) against the baseline run."""
    comparison = data.comparison
    if system.run_index == comparison.baseline:
        return "baseline"
    for row in comparison.rows:
        if row.dataset == system.key.dataset and (row.features, row.model) == (system.key.features, system.key.model):
            delta = row.deltas[system.run_index]
            return "none" if delta is None else delta.direction
    return "none"


def forest(data: ReportData, ds: DatasetView) -> Plot | None:
    """Each system's score with its CI; the baseline run black, significant changes coloured."""
    systems = [s for s in ds.systems if cell_of(data, s) is not None]
    if not systems:
        return None
    labels = short_labels(systems)
    colors = {"baseline": BASELINE_COLOR, "better": BETTER_COLOR, "worse": WORSE_COLOR, "none": SAME_COLOR}
    label_in = text_inches([f"{label}  (baseline)" for label in labels]) + 0.25
    fig = new_figure(5.5 + label_in, 1.1 + 0.32 * len(systems))
    set_margins(fig, label_in, 0.2, 0.55, 0.35)
    ax = fig.subplots()
    for y, system in enumerate(systems):
        cell = cell_of(data, system)
        kind = _direction(data, system)
        ax.errorbar([cell.value], [y], xerr=_err(cell),
                    fmt="s" if kind == "baseline" else "o", color=colors[kind], capsize=3, markersize=5)
        if kind == "baseline" and len(data.runs) > 1:
            labels[y] += "  (baseline)"
    floor = next((r for r in data.comparison.rows if r.dataset == ds.name), None)
    if floor is not None and floor.floor is not None:
        ax.axvline(floor.floor, color="#888888", linestyle="--", linewidth=1)
        ax.annotate("floor", (floor.floor, 1.0), xycoords=("data", "axes fraction"), xytext=(2, -2),
                    textcoords="offset points", fontsize=7, color="#666666", va="top")
    ax.set_yticks(range(len(systems)), labels)
    ax.invert_yaxis()
    ax.set_xlabel(f"{data.metric} ({data.options.confidence:.0%} bootstrap CI over test items)")
    ax.set_title(f"{ds.name}: {data.metric} by system")
    ax.grid(axis="x", alpha=0.3)
    return Plot(name=f"forest-{safe_name(ds.name)}", title=f"{ds.name}: scores with confidence intervals",
                caption="Each system's score (mean over seeds) with its bootstrap CI over test items. Black squares: "
                "the baseline run; green/red: significantly better/worse than the baseline after correction; "
                f"blue: no significant difference. Dashed: the floor ({floor.floor_source if floor else 'n/a'}).",
                png=to_png(fig))


def class_f1(data: ReportData, ds: DatasetView) -> Plot | None:
    """Per-class F1 bars, one bar per system, with CI whiskers."""
    if not ds.systems:
        return None
    systems, more = _pick(data, ds, MAX_BARS)
    labels = short_labels(systems)
    k = len(ds.labels)
    width = 0.8 / len(systems)
    legend_in = text_inches(labels, 7) + 0.5
    rotate = k > 5
    bottom_in = 0.5 + (0.7 * text_inches(ds.labels) if rotate else 0.0)
    fig = new_figure(min(12.0, 2.5 + 0.3 * k * len(systems) + 0.5 * k) + legend_in, 3.3 + bottom_in)
    set_margins(fig, 0.6, legend_in, bottom_in, 0.35)
    ax = fig.subplots()
    cmap = _colors(len(systems))
    for j, system in enumerate(systems):
        value, low, high = per_class_f1(system, data.options)
        x = np.arange(k) + (j - (len(systems) - 1) / 2) * width
        err = np.vstack([np.clip(value - low, 0, None), np.clip(high - value, 0, None)])
        ax.bar(x, value, width=width * 0.95, color=cmap[j], label=labels[j], yerr=np.nan_to_num(err),
               error_kw={"elinewidth": 0.8, "capsize": 1.5, "ecolor": "#333333"})
    ax.set_xticks(range(k), list(ds.labels), rotation=30 if rotate else 0, ha="right" if rotate else "center")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("F1 (mean over seeds)")
    ax.set_title(f"{ds.name}: F1 per class")
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return Plot(name=f"class_f1-{safe_name(ds.name)}", title=f"{ds.name}: F1 per class",
                caption="F1 of each class for each system (mean over seeds), whiskers the "
                f"{data.options.confidence:.0%} bootstrap CI over test items.{more}", png=to_png(fig))


def _colors(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def confusion_matrices(data: ReportData, ds: DatasetView) -> Plot | None:
    """Row-normalised confusion matrices (recall on the diagonal), one panel per system."""
    if ds.multilabel or not ds.systems:
        return None
    systems, more = _pick(data, ds, MAX_MATRICES)
    labels = short_labels(systems)
    k = len(ds.labels)
    cols = min(3, len(systems))
    rows = math.ceil(len(systems) / cols)
    ticks = list(ds.labels) if k <= 20 else []
    # Margins by hand from the longest class name: constrained layout would measure every text twice.
    label_in = 0.3 + 0.075 * max((len(t) for t in ticks), default=0)
    side = max(2.2, 0.4 * k + 0.9)
    width, height = label_in + cols * (side + 0.25) + 1.2, label_in * 0.75 + rows * (side + 0.45) + 0.2
    fig = new_figure(width, height)
    fig.subplots_adjust(left=label_in / width, right=1 - 1.2 / width, bottom=label_in * 0.75 / height,
                        top=1 - 0.35 / height, wspace=0.25 / side, hspace=0.45 / side)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False))
    image = None
    for n, (system, label) in enumerate(zip(systems, labels)):
        ax = axes[n // cols, n % cols]
        counts = confusion(system).astype(np.float64)
        norm = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        image = ax.imshow(norm, vmin=0, vmax=1, cmap="Blues")
        if k <= 8:
            for (i, j), v in np.ndenumerate(norm):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if v > 0.6 else "#222222")
        bottom = n + cols >= len(systems)
        ax.set_xticks(range(k) if ticks else [], ticks if bottom else [], rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(k) if ticks else [], ticks if n % cols == 0 else [], fontsize=7)
        ax.set_title(label, fontsize=8)
    for n in range(len(systems), rows * cols):
        axes[n // cols, n % cols].set_visible(False)
    fig.supxlabel("predicted", fontsize=8)
    fig.supylabel("gold", fontsize=8)
    if image is not None:
        bottom_frac, top_frac = label_in * 0.75 / height, 1 - 0.35 / height
        cax = fig.add_axes((1 - 0.8 / width, bottom_frac + 0.1 * (top_frac - bottom_frac), 0.15 / width,
                            0.8 * (top_frac - bottom_frac)))
        fig.colorbar(image, cax=cax, label="share of the gold class")
    return Plot(name=f"confusion-{safe_name(ds.name)}", title=f"{ds.name}: normalised confusion matrices",
                caption="Rows are gold classes, columns predictions, summed over seeds and divided by the row total: "
                f"the diagonal is each class's recall.{more}", png=to_png(fig))


def score_vs_time(data: ReportData, ds: DatasetView) -> Plot | None:
    """Score against fit time and predict time (log scale): what a point of score costs."""
    systems = [s for s in ds.systems if cell_of(data, s) is not None
               and (s.fit_seconds or 0) > 0 and (s.predict_seconds or 0) > 0]
    if not systems:
        return None
    from matplotlib.lines import Line2D
    from matplotlib.ticker import NullFormatter

    # colour: features/model; marker: run (so the same model in three runs reads as one colour)
    kinds = list(dict.fromkeys(f"{s.key.features}/{s.key.model}" for s in systems))
    runs = list(dict.fromkeys(s.run for s in systems))
    colors = dict(zip(kinds, _colors(len(kinds))))
    markers = {run: MARKERS[i % len(MARKERS)] for i, run in enumerate(runs)}
    handles = [Line2D([], [], color=colors[k], marker="o", linestyle="", label=k) for k in kinds]
    if len(runs) > 1:
        handles += [Line2D([], [], color="#555555", marker=markers[r], linestyle="", label=f"run {r}") for r in runs]
    ncols = min(4, len(handles))
    legend_in = 0.2 * math.ceil(len(handles) / ncols) + 0.1
    fig = new_figure(10.0, 3.6 + legend_in)
    set_margins(fig, 0.65, 0.2, 0.55 + legend_in, 0.4)
    fig.subplots_adjust(wspace=0.08)
    axes = fig.subplots(1, 2, sharey=True)
    for ax, attr, name in zip(axes, ("fit_seconds", "predict_seconds"), ("fit", "predict")):
        for system in systems:
            cell = cell_of(data, system)
            ax.errorbar([getattr(system, attr)], [cell.value], yerr=_err(cell),
                        fmt=markers[system.run], color=colors[f"{system.key.features}/{system.key.model}"],
                        capsize=2, markersize=5)
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(f"{name} seconds per job (mean over seeds, log scale)")
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel(data.metric)
    fig.suptitle(f"{ds.name}: {data.metric} against time", fontsize=10)
    fig.legend(handles=handles, fontsize=7, frameon=False, loc="lower center", ncols=ncols)
    left_out = len(ds.systems) - len(systems)
    note = (f" {left_out} system{'s' if left_out > 1 else ''} without timings (e.g. imported predictions) "
            f"{'are' if left_out > 1 else 'is'} left out." if left_out else "")
    return Plot(name=f"time-{safe_name(ds.name)}", title=f"{ds.name}: score against fit and predict time",
                caption="Each system's score with its CI against the seconds spent fitting (left) and predicting "
                f"(right) on this machine, featurisation excluded.{note}", png=to_png(fig))


def learning_curves(data: ReportData, ds: DatasetView) -> Plot | None:
    """Score against training-set size, for systems that ran at two or more sizes."""
    curves: dict[tuple[str, str], list[tuple[int, float, float, float]]] = {}
    for system in ds.systems:
        cell = cell_of(data, system)
        if cell is not None and system.n_train:
            curves.setdefault((system.key.features, system.key.model), []).append(
                (system.n_train, cell.value, cell.ci_low, cell.ci_high))
    curves = {k: sorted(v) for k, v in curves.items() if len({p[0] for p in v}) >= 2}
    if not curves:
        return None
    legend_in = text_inches([f"{f}/{m}" for f, m in curves], 7) + 0.5
    fig = new_figure(6.0 + legend_in, 3.8)
    set_margins(fig, 0.65, legend_in, 0.55, 0.35)
    ax = fig.subplots()
    for color, ((features, model), points) in zip(_colors(len(curves)), sorted(curves.items())):
        x, y, lo, hi = (np.array(c, dtype=np.float64) for c in zip(*points))
        ax.plot(x, y, "o-", color=color, label=f"{features}/{model}")
        ax.fill_between(x, lo, hi, color=color, alpha=0.15)
    ax.set_xscale("log")
    from matplotlib.ticker import FuncFormatter

    # 20, 50, 100 rather than 2x10^1: plain numbers, minor ticks labelled at 2 and 5 only
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:g}"[0] in "25" else ""))
    ax.set_xlabel("training items (log scale)")
    ax.set_ylabel(data.metric)
    ax.set_title(f"{ds.name}: learning curve")
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(alpha=0.3, which="both")
    return Plot(name=f"learning_curve-{safe_name(ds.name)}", title=f"{ds.name}: learning curve",
                caption="Score against the number of training items, for each system that the given runs trained "
                "at two or more sizes; bands are the bootstrap CIs.", png=to_png(fig))


def _cliques(ranks: Sequence[float], cd: float) -> list[tuple[int, int]]:
    """Maximal runs of systems (in rank order) whose ranks differ by less than the CD."""
    out: list[tuple[int, int]] = []
    for i in range(len(ranks)):
        j = max(m for m in range(i, len(ranks)) if ranks[m] - ranks[i] < cd)
        if j > i and (not out or j > out[-1][1]):
            out.append((i, j))
    return out


def critical_difference(ranking: Ranking) -> Plot:
    """Demsar's critical-difference diagram from the Friedman/Nemenyi numbers of the comparison."""
    ranks, names, cd = list(ranking.average_ranks), list(ranking.systems), ranking.critical_difference
    k = len(ranks)
    half = (k + 1) // 2
    cliques = _cliques(ranks, cd)
    height = 1.6 + 0.28 * max(half, k - half) + 0.12 * len(cliques)
    fig = new_figure(9.0, height)
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.96))
    ax.set_axis_off()
    top = 0.0
    ax.set_xlim(0, 1)
    ax.set_ylim(-(0.6 + 0.28 * max(half, k - half) + 0.12 * len(cliques)), 1.0)
    lo, hi = 1, max(k, 2)

    def x_of(rank: float) -> float:
        return 0.25 + 0.5 * (rank - lo) / (hi - lo)

    ax.plot([x_of(lo), x_of(hi)], [top, top], color="black", linewidth=1)
    for r in range(lo, hi + 1):
        ax.plot([x_of(r)] * 2, [top, top + 0.08], color="black", linewidth=1)
        ax.text(x_of(r), top + 0.12, str(r), ha="center", va="bottom", fontsize=8)
    ax.plot([x_of(lo), x_of(min(hi, lo + cd))], [0.72, 0.72], color="black", linewidth=2)
    ax.text(x_of(lo), 0.8, f"CD = {cd:.2f}", ha="left", va="bottom", fontsize=8)
    for c, (i, j) in enumerate(cliques):
        y = -0.12 - 0.12 * c
        ax.plot([x_of(ranks[i]) - 0.005, x_of(ranks[j]) + 0.005], [y, y], color="#c62828", linewidth=3)
    base = -0.25 - 0.12 * len(cliques)
    for n, (rank, name) in enumerate(zip(ranks, names)):
        left = n < half
        y = base - 0.28 * (n if left else k - 1 - n)
        x_text = 0.22 if left else 0.78
        ax.plot([x_of(rank), x_of(rank), x_text], [top, y, y], color="#444444", linewidth=0.8)
        ax.text(x_text + (-0.01 if left else 0.01), y, f"{name} ({rank:.2f})", ha="right" if left else "left",
                va="center", fontsize=8)
    return Plot(name="critical_difference", title="Critical-difference diagram",
                caption=f"Average ranks over {len(ranking.datasets)} datasets (1 = best). Systems joined by a red bar "
                f"are not significantly different (Nemenyi, alpha 0.05, CD = {cd:.3f}); Friedman test p = "
                f"{ranking.iman_davenport_p:.3g} (Iman-Davenport F)"
                + (f"; with {len(ranking.datasets)} datasets the test is approximate, read the diagram as indicative"
                   if ranking.small_sample else "") + ".", png=to_png(fig))


PER_DATASET = (forest, class_f1, confusion_matrices, score_vs_time, learning_curves, drift_curve)
_SHARED: list[ReportData] = []  # the data of the report being drawn, inherited by forked workers


def _draw(task: tuple[int, int]) -> Plot | None:
    """One figure: ``(dataset index, figure index)``; ``(-1, 0)`` is the critical-difference diagram."""
    data = _SHARED[-1]
    with style():
        if task[0] < 0:
            return critical_difference(data.comparison.ranking)
        return PER_DATASET[task[1]](data, data.datasets[task[0]])


def all_plots(data: ReportData, workers: int = 2) -> dict[str, list[Plot]]:
    """Every plot, grouped by section: one group per dataset, then ``across datasets``.

    Figures are independent, so with ``workers > 1`` they are drawn in forked processes
    (which inherit the data; only PNG bytes come back): drawing is most of a report's time.
    Where ``fork`` does not exist they are drawn one after the other; the bytes are the same.
    """
    import multiprocessing

    tasks = [(d, f) for d in range(len(data.datasets)) for f in range(len(PER_DATASET))]
    if data.comparison.ranking is not None:
        tasks.append((-1, 0))
    _SHARED.append(data)
    try:
        if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
                drawn = list(pool.map(_draw, tasks))
        else:
            drawn = [_draw(task) for task in tasks]
    finally:
        _SHARED.pop()
    groups: dict[str, list[Plot]] = {ds.name: [] for ds in data.datasets}
    for (d, _), plot in zip(tasks, drawn):
        if plot is not None:
            groups.setdefault(data.datasets[d].name if d >= 0 else "across datasets", []).append(plot)
    from bench.report.transfer_plot import transfer_plots

    heatmaps = transfer_plots(data)  # a few figures, only for transfer runs: drawn here, not forked
    return {"transfer (train x test)": heatmaps, **groups} if heatmaps else groups
